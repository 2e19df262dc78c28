#!/bin/sh
# What CI runs (.ci/run). Installs the dependencies, then:
#   1. GCC, optimized (RelWithDebInfo): build and the whole ctest suite;
#   2. Clang, AddressSanitizer + UndefinedBehaviorSanitizer (Debug): build
#      (with the libFuzzer targets) and the whole ctest suite.
# Exits non-zero if anything fails.
set -eu
cd "$(dirname "$0")/.."
sh tools/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "== gcc: build and tests (optimized) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== clang: build and tests (AddressSanitizer + UndefinedBehaviorSanitizer) =="
cmake -S . -B build-clang-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DTRAWL_SANITIZE=ON -DTRAWL_BUILD_BENCH=OFF -DTRAWL_BUILD_FUZZERS=ON >/dev/null
cmake --build build-clang-asan -j"$jobs"
ctest --test-dir build-clang-asan --output-on-failure -j"$jobs"
echo "== all passed =="
