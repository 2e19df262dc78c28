#!/bin/sh
# Fails when a tracked C/C++ file differs from what clang-format makes of it
# (style in .clang-format). Skips when clang-format or git is missing.
# Fix with: sh tools/format.sh
set -eu
cd "${TRAWL_SOURCE_DIR:?}"
command -v clang-format >/dev/null 2>&1 || { echo "SKIP: clang-format not installed"; exit 77; }
[ -e .git ] && command -v git >/dev/null 2>&1 || { echo "SKIP: not a git checkout"; exit 77; }
files=$(git ls-files '*.c' '*.h' '*.cc')
# shellcheck disable=SC2086
clang-format --dry-run -Werror $files
echo "ok: $(echo "$files" | wc -w) files formatted"
