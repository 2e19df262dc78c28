#!/bin/sh
# cli_bench_dated.sh — trawl-bench's dated corpus and the issue-8 analytics
# workloads at a small scale: `gen --dated` is deterministic, prefix-stable and
# shares its titles and bodies with `gen`; its fields follow the documented law
# (checked by an independent Python scan of the JSON); the planted topics of
# `trawl-bench topics` really peak where the table says; and `analytics` gives
# the same answers on every engine it runs (trawl, once it writes typed fields) (it exits 1 when the totals, month
# buckets, facet counts or sorted dates of two engines differ), the month
# histogram and the facets also checked against the Python brute force.
set -eu

. "$TRAWL_SOURCE_DIR/tests/benchlib.sh"

"$BENCH" gen --dated 3000 "$T/d.jsonl" 5
"$BENCH" gen 3000 "$T/d2.jsonl" 5 --dated
cmp -s "$T/d.jsonl" "$T/d2.jsonl" || fail "gen --dated is not deterministic"
"$BENCH" gen --dated 1000 "$T/d1k.jsonl" 5
head -n 1000 "$T/d.jsonl" | cmp -s - "$T/d1k.jsonl" || fail "gen --dated 1000 is not a prefix of 3000"
"$BENCH" gen 3000 "$T/u.jsonl" 5
"$BENCH" topics > "$T/topics.jsonl"
"$BENCH" genq "$T/d.jsonl" "$T/q" > /dev/null
[ -s "$T/q/half.txt" ] || fail "genq wrote no half.txt queries"

/usr/bin/python3 - "$T" <<'PY' || fail "dated corpus check"
import json, sys, collections, datetime
T = sys.argv[1]
d = [json.loads(l) for l in open(T + "/d.jsonl")]
u = [json.loads(l) for l in open(T + "/u.jsonl")]
topics = [json.loads(l) for l in open(T + "/topics.jsonl")]
assert len(topics) == 12
for a, b in zip(d, u):
    assert a["id"] == b["id"]
    assert a["title"].startswith(b["title"]) and a["body"].startswith(b["body"]), a["id"]
    dt = datetime.datetime.strptime(a["date"], "%Y-%m-%dT%H:%M:%SZ")
    assert 2010 <= dt.year <= 2025
    assert a["source"].startswith("Source ") and 0 <= int(a["source"][7:]) < 300
    assert 0 <= int(a["author"][1:]) < 2000
    tags = a["tags"]
    assert 1 <= len(tags) <= 6 and len(set(tags)) == len(tags)
    assert all(t[0] == "t" and 0 <= int(t[1:]) < 10000 for t in tags)
    planted = [t for t in topics if t["tag"] in tags and t["words"][0] in a["title"].split()]
    if planted:
        assert a["title"].endswith(planted[0]["words"][0]), a["id"]
# later years hold more documents than earlier ones (density rises)
years = collections.Counter(x["date"][:4] for x in d)
assert years["2024"] + years["2025"] > years["2010"] + years["2011"], years
# every planted topic has documents, and most of them (a random date would be
# in about an eighth of the cases) lie within two sigmas of the topic's center
inside = total = 0
for t in topics:
    c = datetime.datetime.strptime(t["center"], "%Y-%m-%d")
    docs = [x for x in d if t["words"][0] in x["title"].split() and t["tag"] in x["tags"]]
    assert docs, t
    total += len(docs)
    inside += sum(1 for x in docs
                  if abs((datetime.datetime.strptime(x["date"], "%Y-%m-%dT%H:%M:%SZ") - c).days) <= 2 * t["sigma_days"])
assert inside >= 0.5 * total, (inside, total)
# brute-force answers of the first half.txt query, for the engines below
w = open(T + "/q/half.txt").readline().split()[0]
import re
m = [x for x in d if w in re.findall(r"[a-z0-9]+", (x["title"] + " " + x["body"]).lower())]
hist = collections.Counter(x["date"][:7] for x in m)
tags = collections.Counter(t for x in m for t in x["tags"])
top = sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
with open(T + "/expect.histogram", "w") as f:
    f.write("\t".join(["%d" % len(m)] + ["%s %d" % kv for kv in sorted(hist.items())]) + "\n")
with open(T + "/expect.facets", "w") as f:
    f.write("\t".join(["%d" % len(m)] + ["%s %d" % kv for kv in top]) + "\n")
PY

# One pass over one half.txt query, dumped; then the whole analytics run.
mkdir "$T/q1"
head -n 1 "$T/q/half.txt" > "$T/q1/half.txt"
head -n 30 "$T/q/and.txt" > "$T/q1/and.txt"
engines=""
for e in trawl xapian fts5; do
  if BENCH_ENGINES=$e BENCH_AN_AND=1 BENCH_AN_ROUNDS=1 DUMP="$T/dump" BENCH_WORKDIR="$T/w1" \
       "$BENCH" analytics "$T/d.jsonl" "$T/q1" > /dev/null 2> "$T/err.$e"; then
    engines="$engines $e"
  elif grep -q "skipped" "$T/err.$e"; then
    echo "note: $e not compiled in"
  elif [ $e = trawl ] && grep -qE "is text, not keyword|no date field named" "$T/err.$e"; then
    echo "note: this trawl writes no typed fields yet; trawl left out"
  else
    cat "$T/err.$e"; fail "analytics on $e failed"
  fi
done
[ -n "$engines" ] || { echo "skip: no analytics engine compiled in"; exit 77; }
for e in $engines; do
  for w in histogram facets; do
    cmp -s "$T/expect.$w" "$T/dump.$e.$w" || {
      diff "$T/expect.$w" "$T/dump.$e.$w" | head -c 2000; fail "$e $w differs from the brute force"; }
  done
done
list=$(echo $engines | tr ' ' ',')
BENCH_ENGINES=$list BENCH_AN_AND=60 BENCH_AN_ROUNDS=1 BENCH_WORKDIR="$T/w" "$BENCH" analytics "$T/d.jsonl" "$T/q" > "$T/an.out" 2> "$T/an.err" ||
  { cat "$T/an.err"; fail "analytics: engines disagree or failed"; }
grep -q '^| answers agree with' "$T/an.out" || fail "no table"
if grep '^| answers agree with' "$T/an.out" | grep -q NO; then fail "answers differ"; fi
for w in histogram facets and and+filter sort; do
  for e in $engines; do
    grep -q "\"engine\":\"$e\",\"workload\":\"$w\"" "$T/an.out" || fail "no $e $w line"
  done
done
echo "ok: dated corpus and analytics ($engines)"
