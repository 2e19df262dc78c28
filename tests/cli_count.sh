#!/bin/sh
# cli_count.sh — `trawl search -k 0` (count only) accepts any --offset and
# prints the exact total. Oracle: the total of the same query run with hits
# (-k 100, which scores every match through another path than the count).
. "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}/tests/shlib.sh"

"$TRAWL_BIN" index -q -o "$T/idx" "$TRAWL_SOURCE_DIR/sample/trends.jsonl" || fail "index the sample"
json_total() { python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
for q in "open source" "ai OR rust" "data*" "cloud -ai" "\"supply chain\""; do
    expected=$("$TRAWL_BIN" search --json -k 100 "$T/idx" "$q" | json_total)
    [ "${expected:-0}" -gt 0 ] 2>/dev/null || fail "'$q': total '$expected', want a positive number"
    for off in 0 5 1000 1000000; do
        expect_rc 0 search --json -k 0 --offset "$off" "$T/idx" "$q"
        got=$(json_total <"$T/out")
        [ "$got" = "$expected" ] || fail "'$q' -k 0 --offset $off: total $got, want $expected"
    done
done
[ "$fails" = 0 ] && echo "ok"
exit "$fails"
