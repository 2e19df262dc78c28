#!/bin/sh
# Measures test coverage: builds trawl with gcc --coverage (no optimization)
# in build-coverage/, runs the whole ctest suite there (the fuzz smoke tests
# included, which replay the committed seed corpora tests/fuzz/corpus/), and
# prints line and branch coverage per folder of the library and the CLI
# (index/, query/, engine/, tools/), then the files with the most uncovered
# lines. Needs gcovr (tools/setup.sh installs it).
#
#   sh tools/coverage.sh            build, test, report
#   sh tools/coverage.sh --html     also write build-coverage/coverage/index.html
#
# Exits non-zero if the build or a test fails (the report still prints).
set -eu
cd "$(dirname "$0")/.."
command -v gcovr >/dev/null 2>&1 || { echo "coverage: gcovr not installed (sh tools/setup.sh)" >&2; exit 2; }
html=${1:-}
build=build-coverage
jobs=$(nproc 2>/dev/null || echo 2)
# -fprofile-update=atomic: the writer's threads would otherwise race on the
# counters (gcov then reports negative counts).
cov="--coverage -fprofile-update=atomic"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
  -DTRAWL_BUILD_BENCH=OFF -DCMAKE_C_FLAGS="$cov" -DCMAKE_CXX_FLAGS="$cov" \
  -DCMAKE_EXE_LINKER_FLAGS="--coverage" -DCMAKE_SHARED_LINKER_FLAGS="--coverage" >/dev/null
cmake --build "$build" -j"$jobs" >/dev/null
find "$build" -name '*.gcda' -delete
status=0
# check_install is left out: it checks the installed library's exported
# symbols, and an instrumented library also exports gcov's.
ctest --test-dir "$build" -j"$jobs" -E '^check_install$' --output-on-failure >"$build/ctest.log" 2>&1 || status=$?
tail -n 3 "$build/ctest.log"
# Library and CLI sources only: tests, bench, bindings and examples are the
# measuring instruments, not the measured.
set -- -r . "$build" --filter 'index/' --filter 'query/' --filter 'engine/' --filter 'tools/' \
  --exclude-unreachable-branches --json-summary "$build/coverage.json"
if [ "$html" = "--html" ]; then
  mkdir -p "$build/coverage"
  set -- "$@" --html-details "$build/coverage/index.html"
fi
gcovr "$@" >/dev/null
/usr/bin/python3 - "$build/coverage.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
folders = {}
for f in d["files"]:
    top = f["filename"].split("/")[0]
    a = folders.setdefault(top, [0, 0, 0, 0])
    a[0] += f["line_covered"]; a[1] += f["line_total"]
    a[2] += f["branch_covered"]; a[3] += f["branch_total"]
pct = lambda c, t: 100.0 * c / t if t else 100.0
print("%-8s %18s %20s" % ("folder", "lines", "branches"))
for top in ("index", "query", "engine", "tools"):
    c, t, bc, bt = folders.get(top, [0, 0, 0, 0])
    print("%-8s %6.1f%% %5d/%-5d %6.1f%% %6d/%-6d" % (top + "/", pct(c, t), c, t, pct(bc, bt), bc, bt))
c = sum(v[0] for v in folders.values()); t = sum(v[1] for v in folders.values())
bc = sum(v[2] for v in folders.values()); bt = sum(v[3] for v in folders.values())
print("%-8s %6.1f%% %5d/%-5d %6.1f%% %6d/%-6d" % ("total", pct(c, t), c, t, pct(bc, bt), bc, bt))
print("\nmost uncovered lines:")
worst = sorted(d["files"], key=lambda f: f["line_covered"] - f["line_total"])[:12]
for f in worst:
    print("  %-28s %4d of %4d lines not run (%.1f%% covered)" % (
        f["filename"], f["line_total"] - f["line_covered"], f["line_total"], pct(f["line_covered"], f["line_total"])))
EOF
exit "$status"
