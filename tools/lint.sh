#!/bin/sh
# Static analysis of the library and the CLI (index/, query/, engine/,
# tools/): clang-tidy with .clang-tidy (bug patterns, CERT C, the clang static
# analyzer, portability) and cppcheck (warnings, portability, performance,
# with tools/cppcheck.supp). Any finding fails. Every exclusion carries its
# reason, in .clang-tidy, tools/cppcheck.supp or next to a NOLINT comment.
#
#   sh tools/lint.sh [BUILD]
#
# BUILD is a build directory configured with clang, whose
# compile_commands.json clang-tidy reads (default build-lint, configured here
# when missing). Skips a tool that is not installed (exit 77 when both are
# missing). A few minutes on 2 cores.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-lint}
jobs=$(nproc 2>/dev/null || echo 2)
files=$(ls index/*.c query/*.c engine/*.c tools/*.c)
ran=0 failed=0

if command -v clang-tidy >/dev/null 2>&1; then
  ran=1
  if [ ! -f "$build/compile_commands.json" ]; then
    cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DTRAWL_BUILD_BENCH=OFF >/dev/null
  fi
  out=$(mktemp)
  # One file per clang-tidy process, $jobs at a time; findings on stdout.
  # shellcheck disable=SC2086
  printf '%s\n' $files | xargs -P "$jobs" -n 1 clang-tidy -p "$build" --quiet >"$out" 2>/dev/null || true
  n=$(grep -c ': warning: \|: error: ' "$out" || true)
  if [ "$n" -gt 0 ]; then
    cat "$out"
    echo "lint: clang-tidy: $n finding(s)" >&2
    failed=1
  else
    echo "lint: clang-tidy: $(echo "$files" | wc -w) files clean"
  fi
  rm -f "$out"
else
  echo "lint: clang-tidy not installed, skipped"
fi

if command -v cppcheck >/dev/null 2>&1; then
  ran=1
  # shellcheck disable=SC2086
  if cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance --inline-suppr \
    --suppressions-list=tools/cppcheck.supp --std=c11 -D__GNUC__ -D__x86_64__ -D__linux__ \
    -I include -I index -I query -I engine -j "$jobs" $files; then
    echo "lint: cppcheck: clean"
  else
    echo "lint: cppcheck: findings above" >&2
    failed=1
  fi
else
  echo "lint: cppcheck not installed, skipped"
fi

[ "$ran" -eq 1 ] || exit 77
exit "$failed"
