# shlib.sh — what every CLI shell test starts with (sourced, not run): checks
# the environment ctest gives, makes a scratch directory $T removed on exit,
# and defines fail, run and expect_rc. The test ends by exiting non-zero when
# $fails is not 0.
set -u
: "${TRAWL_BIN:?TRAWL_BIN must name the trawl program}"
: "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is needed" >&2; exit 77; }
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
fails=0

# fail MESSAGE: records a failure and goes on.
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# run ARGS...: runs trawl; stdout in $T/out, stderr in $T/err, status in $rc.
run() { "$TRAWL_BIN" "$@" >"$T/out" 2>"$T/err"; rc=$?; }
# expect_rc CODE ARGS...: runs trawl and checks its exit status.
expect_rc() {
    want=$1; shift
    run "$@"
    [ "$rc" = "$want" ] || fail "trawl $*: exit $rc, expected $want; stderr: $(head -c 600 "$T/err")"
}
