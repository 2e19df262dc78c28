#!/bin/sh
# cli_op_auto.sh — `trawl search --op auto`: the hits of --op and first, in
# their order, then the hits of --op or that --op and lacks, in their order;
# the total is the size of the union (oracle: the and/or runs of the same
# query with every hit, combined here in Python). Bad --op values are refused.
. "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}/tests/shlib.sh"

"$TRAWL_BIN" index -q -o "$T/idx" "$TRAWL_SOURCE_DIR/sample/trends.jsonl" || fail "index the sample"
for q in "open source" "open source nosuchwordzz" "ai rust cloud" "cloud -ai" "data* security"; do
    "$TRAWL_BIN" search --json -k 10000 --op and "$T/idx" "$q" >"$T/and.json" || fail "'$q' --op and"
    "$TRAWL_BIN" search --json -k 10000 --op or "$T/idx" "$q" >"$T/or.json" || fail "'$q' --op or"
    for k in 3 10000; do
        for off in 0 2; do
            expect_rc 0 search --json -k "$k" --offset "$off" --op auto "$T/idx" "$q"
            python3 - "$T/and.json" "$T/or.json" "$T/out" "$k" "$off" <<'P' || fail "'$q' -k $k --offset $off: auto differs"
import json, sys
a, o, g = (json.load(open(p)) for p in sys.argv[1:4])
k, off = int(sys.argv[4]), int(sys.argv[5])
ids = [h["id"] for h in a["hits"]]
ids += [h["id"] for h in o["hits"] if h["id"] not in set(ids)]
want = ids[off:off + k]
got = [h["id"] for h in g["hits"]]
assert got == want, (got, want)
assert g["total"] == len(ids), (g["total"], len(ids))
P
        done
    done
    expect_rc 0 search --json -k 0 --op auto "$T/idx" "$q"
    python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["total"]; a=json.load(open(sys.argv[2])); o=json.load(open(sys.argv[3])); \
ids={h["id"] for h in a["hits"]} | {h["id"] for h in o["hits"]}; assert t == len(ids), (t, len(ids))' "$T/out" "$T/and.json" "$T/or.json" ||
        fail "'$q' -k 0 --op auto: total differs"
done
n_and=$("$TRAWL_BIN" search --json -k 0 --op and "$T/idx" "open source nosuchwordzz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
n_auto=$("$TRAWL_BIN" search --json -k 0 --op auto "$T/idx" "open source nosuchwordzz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
[ "$n_and" = 0 ] && [ "$n_auto" -gt 0 ] || fail "a word no document has: and $n_and, auto $n_auto (want 0 and > 0)"
expect_rc 2 search --op maybe "$T/idx" "open"
grep -q "and, or or auto" "$T/err" || fail "--op maybe: message $(cat "$T/err")"
[ "$fails" = 0 ] && echo "ok"
exit "$fails"
