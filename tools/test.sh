#!/bin/sh
# What CI runs (.ci/run). Installs the dependencies, then:
#   1. GCC, optimized (RelWithDebInfo): build and the whole ctest suite;
#   2. Clang, AddressSanitizer + UndefinedBehaviorSanitizer (Debug): build,
#      the whole ctest suite, and every libFuzzer target (tests/fuzz/) for
#      TRAWL_FUZZ_SECONDS (default 45) from its seed corpus with its
#      dictionary — any crash, leak or sanitizer report fails;
#   3. Clang, ThreadSanitizer (Debug): the tests labelled threads (the
#      writer's own threads, readers beside writers, trawl serve);
#   4. static analysis (tools/lint.sh: clang-tidy and cppcheck) on the
#      compilation database of build 2.
# Exits non-zero if anything fails. About 20 minutes on 2 cores.
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

echo "== clang: ThreadSanitizer, the multi-threaded tests =="
cmake -S . -B build-clang-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DTRAWL_TSAN=ON -DTRAWL_BUILD_BENCH=OFF >/dev/null
cmake --build build-clang-tsan -j"$jobs"
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-clang-tsan -L threads --output-on-failure -j"$jobs"

echo "== fuzzing: each libFuzzer target, bounded, from its seed corpus =="
sh tools/fuzz.sh --ci build-clang-asan "${TRAWL_FUZZ_SECONDS:-45}"

echo "== static analysis =="
sh tools/lint.sh build-clang-asan
echo "== all passed =="
