#!/bin/sh
# kill_loop.sh N — the crash test of ctest (tests/test_crash.c), N rounds
# instead of 50: `trawl index` killed with SIGKILL at random moments, the index
# checked against the model of committed batches after each kill.
#   sh tests/kill_loop.sh 1000            (from the source tree, build in ./build)
#   TRAWL_BUILD_DIR=/path/to/build sh tests/kill_loop.sh 1000
# TRAWL_CRASH_SEED=S reruns a seed. Exit status: the test's.
set -u
n=${1:?usage: kill_loop.sh ROUNDS}
here=$(cd "$(dirname "$0")/.." && pwd)
build=${TRAWL_BUILD_DIR:-$here/build}
[ -x "$build/tests/test_crash" ] && [ -x "$build/trawl" ] || {
    echo "kill_loop.sh: build first ($build/tests/test_crash and $build/trawl are needed)" >&2
    exit 2
}
TRAWL_CRASH_ROUNDS=$n TRAWL_BIN="$build/trawl" exec "$build/tests/test_crash"
