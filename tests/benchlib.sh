# benchlib.sh — what every trawl-bench shell test starts with (sourced, not
# run): $BENCH names the built trawl-bench (the test skips, exit 77, when it was
# not built), $T is a scratch directory removed on exit, and fail MESSAGE ends
# the test with a failure.
set -eu
BENCH="${TRAWL_BUILD_DIR:-}/bench/trawl-bench"
if [ -z "${TRAWL_BUILD_DIR:-}" ] || [ ! -x "$BENCH" ]; then
  echo "skip: trawl-bench not built (TRAWL_BUILD_DIR/bench/trawl-bench)"
  exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
