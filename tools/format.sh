#!/bin/sh
# Rewrites every tracked C/C++ file in the style of .clang-format.
set -eu
cd "$(dirname "$0")/.."
# shellcheck disable=SC2046
clang-format -i $(git ls-files '*.c' '*.h' '*.cc')
