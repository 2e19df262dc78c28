#!/bin/sh
# cli_proximity.sh — `trawl search --ranking bm25f-prox|bm25-prox` and
# `--proximity W[:N]`: documents alike in every term frequency and length tie
# under BM25F (index order); with the proximity bonus the one whose query words
# are adjacent ranks first, the one whose words are W+1 or more positions
# apart gains nothing (its score stays the BM25F one), and the bonus of the
# adjacent pair is λ · idf · x(k1+1)/(x+k1) with x = 1/norm (checked here from
# the explained numbers). --explain shows the proximity line; bad values are
# refused. Sorted by a field, hits keep their ranked scores, bonus included.
. "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}/tests/shlib.sh"

fill="one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty twentyone twentytwo"
{
    echo "{\"id\": \"far\", \"title\": \"x\", \"body\": \"alpha $fill beta\"}"
    echo "{\"id\": \"near\", \"title\": \"x\", \"body\": \"alpha beta $fill\"}"
    echo "{\"id\": \"other\", \"title\": \"y\", \"body\": \"gamma $fill\"}"
} >"$T/docs.jsonl"
"$TRAWL_BIN" index -q -o "$T/idx" "$T/docs.jsonl" || fail "index"
for op in and or auto; do
    "$TRAWL_BIN" search --json --op "$op" "$T/idx" "alpha beta" >"$T/plain.json" || fail "$op plain"
    "$TRAWL_BIN" search --json --op "$op" --ranking bm25f-prox "$T/idx" "alpha beta" >"$T/prox.json" || fail "$op prox"
    python3 - "$T/plain.json" "$T/prox.json" <<'P' || fail "--op $op: proximity ranking"
import json, sys
p, x = (json.load(open(a)) for a in sys.argv[1:3])
ids = lambda r: [h["id"] for h in r["hits"]]
assert ids(p) == ["far", "near"], ids(p)
assert p["hits"][0]["score"] == p["hits"][1]["score"]
assert ids(x) == ["near", "far"], ids(x)
assert x["total"] == p["total"] == 2
# far: words 23 positions apart, beyond the window (20): no bonus
assert abs(x["hits"][1]["score"] - p["hits"][0]["score"]) < 1e-9, (x, p)
assert x["hits"][0]["score"] > p["hits"][0]["score"] + 1e-3
P
done
# The bonus from the formula, with the normalization read from the explanation.
"$TRAWL_BIN" search --explain -k 1 --ranking bm25f-prox --proximity 0.5:3 "$T/idx" "alpha beta" >"$T/ex.txt" || fail "explain"
grep -q "proximity" "$T/ex.txt" || fail "--explain lacks the proximity line: $(cat "$T/ex.txt")"
python3 - "$T/ex.txt" <<'P' || fail "explained bonus differs from the formula"
import re, sys, math
t = open(sys.argv[1]).read()
m = re.search(r"([0-9.]+)  proximity", t)
bonus = float(m.group(1))
idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))  # N = 3, df = 2 (alpha and beta alike)
dl, avgdl = 24, (24 + 24 + 23) / 3
x = 1.0 / (1 - 0.75 + 0.75 * dl / avgdl)  # tpi = 1/1², body weight 1
want = 0.5 * idf * x * 2.2 / (x + 1.2)
assert abs(bonus - want) < 1e-5, (bonus, want)
P
# The window: at 3 the far pair adds nothing, at 64 it does (23 apart).
"$TRAWL_BIN" search --json --ranking bm25f-prox --proximity 1:64 "$T/idx" "alpha beta" >"$T/w64.json" || fail "window 64"
"$TRAWL_BIN" search --json "$T/idx" "alpha beta" >"$T/plain.json" || fail "plain"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); \
s={h["id"]:h["score"] for h in a["hits"]}; t={h["id"]:h["score"] for h in b["hits"]}; assert s["far"] > t["far"] + 1e-6, (s, t)' \
    "$T/w64.json" "$T/plain.json" || fail "window 64: the far pair gains nothing"
# Sorted by a field, a hit's score is its ranked score, bonus included.
"$TRAWL_BIN" index -q -o "$T/tr" "$TRAWL_SOURCE_DIR/sample/trends.jsonl" || fail "index the sample"
for q in "open source" "ai rust cloud model"; do
    "$TRAWL_BIN" search --json -k 10000 --op or --ranking bm25f-prox "$T/tr" "$q" >"$T/r.json" || fail "'$q' ranked"
    "$TRAWL_BIN" search --json -k 10000 --op or --ranking bm25f-prox --sort date:desc "$T/tr" "$q" >"$T/s.json" ||
        fail "'$q' sorted"
    python3 - "$T/r.json" "$T/s.json" <<'P' || fail "'$q': sorted scores differ from ranked ones"
import json, sys
r, s = (json.load(open(a)) for a in sys.argv[1:3])
a = {h["id"]: h["score"] for h in r["hits"]}
b = {h["id"]: h["score"] for h in s["hits"]}
assert a == b and len(a) > 1, (len(a), len(b))
P
done
expect_rc 0 search --ranking bm25-prox "$T/idx" "alpha beta"
expect_rc 2 search --ranking bm25x "$T/idx" "alpha"
grep -q "bm25f-prox" "$T/err" || fail "--ranking bm25x: message $(cat "$T/err")"
expect_rc 2 search --proximity 0 "$T/idx" "alpha"
expect_rc 2 search --proximity 1:65 "$T/idx" "alpha"
[ "$fails" = 0 ] && echo "ok"
exit "$fails"
