#!/bin/sh
# cli_relevance.sh — trawl-bench relevance on a tiny hand-made known-item set
# whose ranks are plain to see: the metrics of every engine compiled in must
# be the values computed by hand below (an answer at rank 1, one at rank 2
# behind a document that repeats the word in a shorter text, one not found).
set -eu

. "$TRAWL_SOURCE_DIR/tests/benchlib.sh"

cat > "$T/tiny.jsonl" <<'J'
{"id":"a","title":"","body":"zebra crossing near the station"}
{"id":"b","title":"","body":"mango orchard in the valley"}
{"id":"c","title":"","body":"pear pear pear"}
{"id":"d","title":"","body":"a pear is a fruit and this text about it goes on for a good many more words"}
{"id":"e","title":"","body":"kiwi"}
J
printf 'test\tb\tmango orchard\ntest\te\tzebra crossing\ntune\td\tpear\n' > "$T/tiny.tsv"

BENCH_WORKDIR="$T/w" BENCH_TRAWL_VARIANTS="or:op=or;and:op=and" "$BENCH" relevance "$T" tiny > "$T/out" 2> "$T/err" ||
  fail "relevance failed: $(cat "$T/err")"
/usr/bin/python3 - "$T/out" <<'P' || fail "figures differ from the hand-computed ones"
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{") and '"split"' in l]
engines = {r["engine"] for r in rows}
assert "trawl or" in engines and "trawl and" in engines, engines
want = {"test": (0.5, 0.5, 0.5, 0.5), "tune": (0.5, 0.0, 1.0, 1 / math.log2(3))}
for r in rows:
    mrr, s1, s10, ndcg = want[r["split"]]
    got = (r["mrr10"], r["s1"], r["s10"], r["ndcg10"])
    ok = all(abs(a - b) < 1e-4 for a, b in zip(got, (mrr, s1, s10, ndcg)))
    print(r["engine"], r["split"], got, "ok" if ok else "WRONG")
    assert ok
assert r["queries"] in (1, 2)
P
grep -q '^| tiny | trawl or |' "$T/out" || fail "no table row for trawl or"
echo "ok"
