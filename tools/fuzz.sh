#!/bin/sh
# Runs the libFuzzer targets of tests/fuzz/ (clang, ASan + UBSan).
#
#   sh tools/fuzz.sh TARGET MINUTES      a long campaign on one target
#   sh tools/fuzz.sh --ci BUILD SECONDS  every target for SECONDS each (CI)
#
# TARGET is a name such as fuzz_segment (tests/fuzz/fuzz_segment.c). Every run
# starts from the committed seed corpus tests/fuzz/corpus/TARGET/ with the
# dictionary tests/fuzz/TARGET.dict and the libFuzzer flags of
# tests/fuzz/TARGET.options (lines not starting with #), when they exist.
#
# Campaign: builds the target in build-fuzz/ (clang, -O2, libFuzzer with
# ASan + UBSan), keeps its growing corpus and the crashing inputs in a work
# directory outside git — $TRAWL_FUZZ_WORK/TARGET (default
# ~/.cache/trawl-fuzz/TARGET), so a later campaign resumes from it — and
# restarts libFuzzer after a crash until the time is up. It prints the
# inputs run, inputs per second, the crashes (files under artifacts/; replay
# one with build-fuzz/tests/TARGET FILE, then commit it to the seed corpus
# with the fix) and libFuzzer's coverage counters (cov: = edges, ft: =
# features) at the start and at the end. Run it at low priority on a shared
# machine: nice -n 19 sh tools/fuzz.sh fuzz_query 30
#
# CI: runs every target built in BUILD (configured with
# -DTRAWL_BUILD_FUZZERS=ON) in a scratch corpus copy; the first crash, leak,
# timeout or sanitizer report fails the script.
set -eu
cd "$(dirname "$0")/.."
src=$PWD
usage() {
  echo "usage: sh tools/fuzz.sh TARGET MINUTES | sh tools/fuzz.sh --ci BUILD SECONDS" >&2
  exit 2
}

# libFuzzer options: a slow input (30 s) is a hang; 4 GiB is an OOM; then the
# target's dictionary, and the flags in tests/fuzz/TARGET.options if any.
fuzz_opts() { # $1 = target
  set -- "$1" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1
  if [ -f "$src/tests/fuzz/$1.dict" ]; then set -- "$@" "-dict=$src/tests/fuzz/$1.dict"; fi
  if [ -f "$src/tests/fuzz/$1.options" ]; then
    # shellcheck disable=SC2046
    set -- "$@" $(grep -v '^#' "$src/tests/fuzz/$1.options")
  fi
  shift
  echo "$@"
}

if [ "${1:-}" = "--ci" ]; then
  [ $# -eq 3 ] || usage
  build=$2 secs=$3
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT INT TERM
  for f in tests/fuzz/fuzz_*.c; do
    t=$(basename "$f" .c)
    bin=$build/tests/$t
    [ -x "$bin" ] || { echo "fuzz: $bin not built (configure with -DTRAWL_BUILD_FUZZERS=ON)" >&2; exit 1; }
    mkdir -p "$tmp/$t"
    seeds=tests/fuzz/corpus/$t
    if [ ! -d "$seeds" ]; then # every target should have one: run it anyway
      echo "fuzz: WARNING: no seed corpus $seeds" >&2
      seeds=$tmp/$t
    fi
    echo "-- $t: ${secs}s from $(ls "$seeds" | wc -l) seeds"
    # shellcheck disable=SC2046
    if ! "$bin" $(fuzz_opts "$t") -max_total_time="$secs" -artifact_prefix="$tmp/$t/" \
      "$tmp/$t" "$seeds" >"$tmp/$t.log" 2>&1; then
      tail -n 60 "$tmp/$t.log"
      echo "fuzz: $t FAILED; the input is in the log above (artifact_prefix $tmp/$t/)" >&2
      exit 1
    fi
    grep -E "^#[0-9]+ +(INITED|DONE)|stat::number_of_executed_units|stat::average_exec_per_sec" "$tmp/$t.log" |
      sed 's/^/   /'
  done
  exit 0
fi

[ $# -eq 2 ] || usage
target=$1 minutes=$2
[ -f "tests/fuzz/$target.c" ] || { echo "fuzz: no target tests/fuzz/$target.c" >&2; exit 2; }
work=${TRAWL_FUZZ_WORK:-$HOME/.cache/trawl-fuzz}/$target
mkdir -p "$work/corpus" "$work/artifacts"
if [ ! -x build-fuzz/tests/"$target" ] || [ -z "${TRAWL_FUZZ_NO_BUILD:-}" ]; then
  cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DTRAWL_BUILD_FUZZERS=ON -DTRAWL_BUILD_BENCH=OFF >/dev/null
  cmake --build build-fuzz --target "$target" -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
fi
bin=build-fuzz/tests/$target
log=$work/campaign-$(date -u +%Y%m%dT%H%M%SZ).log
end=$(($(date +%s) + minutes * 60))
echo "fuzz: $target for $minutes min; corpus $work/corpus; log $log"
# Findings: crash-, leak-, timeout- and oom- files (slow-unit- files are
# inputs that took over 10 s, often a stall of a loaded machine: listed apart).
findings() { ls "$work/artifacts" | grep -cE '^(crash|leak|timeout|oom)-' || true; }
crashes_before=$(findings)
while :; do
  left=$((end - $(date +%s)))
  [ "$left" -gt 5 ] || break
  # shellcheck disable=SC2046
  "$bin" $(fuzz_opts "$target") -max_total_time="$left" -artifact_prefix="$work/artifacts/" \
    "$work/corpus" tests/fuzz/corpus/"$target" >>"$log" 2>&1 || echo "fuzz: libFuzzer stopped (crash?), restarting" >>"$log"
done
# Summary from libFuzzer's own lines (cov: edges, ft: features, corp: corpus).
start=$(grep -m1 -E "^#[0-9]+[[:space:]]+INITED" "$log" | grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+" || true)
last=$(grep -E "^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)" "$log" | tail -n 1 |
  grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+" || true)
runs=$(grep "stat::number_of_executed_units" "$log" | awk '{s += $2} END {print s + 0}')
secs=$((minutes * 60))
crashes_after=$(findings)
slow=$(ls "$work/artifacts" | grep -c '^slow-unit-' || true)
echo "target:      $target"
echo "inputs run:  $runs in $minutes min ($((runs / secs)) per second)"
echo "crashes:     $((crashes_after - crashes_before)) new ($crashes_after in $work/artifacts; $slow slow inputs)"
echo "start:       ${start:-?}"
echo "end:         ${last:-?}"
echo "corpus:      $(ls "$work/corpus" | wc -l) inputs in $work/corpus"
