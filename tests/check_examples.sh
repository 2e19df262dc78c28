# check_examples.sh — runs every example program (examples/NAME.c, built as
# build/examples/NAME) and checks what it prints. An example without a check
# here fails the test, so none is only compiled.
set -u
: "${TRAWL_BIN:?}" "${TRAWL_SOURCE_DIR:?}" "${TRAWL_BUILD_DIR:?}"
command -v /usr/bin/python3 >/dev/null 2>&1 || { echo "SKIP: /usr/bin/python3 is needed" >&2; exit 77; }
. "$TRAWL_SOURCE_DIR/tests/examplelib.sh"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
fails=0

for src in "$TRAWL_SOURCE_DIR"/examples/*.c; do
    name=$(basename "$src" .c)
    bin="$TRAWL_BUILD_DIR/examples/$name"
    [ -x "$bin" ] || { echo "FAIL: example $name was not built ($bin)" >&2; fails=$((fails + 1)); continue; }
    case $name in
    embed)
        # Twice on the same directory: the second run replaces both documents
        # (same ids), so the index still holds two.
        for run in 1 2; do
            if ! "$bin" "$T/embed-index" "search engine" >"$T/embed.out" 2>"$T/embed.err"; then
                echo "FAIL: embed (run $run) exited non-zero: $(cat "$T/embed.err")" >&2; fails=$((fails + 1))
            elif [ -s "$T/embed.err" ]; then
                echo "FAIL: embed (run $run) wrote to stderr: $(cat "$T/embed.err")" >&2; fails=$((fails + 1))
            else
                check_embed_output "$T/embed.out" "$T/embed-index" "search engine" "embed run $run" || fails=$((fails + 1))
            fi
        done
        # A bad query must come back as an error message and exit status 1.
        "$bin" "$T/embed-index" '"unclosed' >"$T/bad.out" 2>"$T/bad.err"
        rc=$?
        [ "$rc" = 1 ] && grep -q '^search: ' "$T/bad.err" ||
            { echo "FAIL: embed with a bad query: exit $rc, stderr $(cat "$T/bad.err")" >&2; fails=$((fails + 1)); } ;;
    *)
        echo "FAIL: example $name has no check in tests/check_examples.sh" >&2; fails=$((fails + 1)) ;;
    esac
done
[ "$fails" = 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "examples: all ran and printed what the CLI finds"
