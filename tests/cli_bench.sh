#!/bin/sh
# cli_bench.sh — trawl-bench end to end on a small generated corpus: gen, genq,
# index and query (every class) with trawl and with the SQLite FTS5 peer, checked
# against an independent brute-force oracle (Python, over the corpus text).
#
# Why the engines can be compared exactly here: `gen` spells every word from
# lowercase ASCII letters ending in k, p or b, and no suffix that Porter's
# stemmer (FTS5's tokenize='porter unicode61') or Snowball English (trawl's)
# removes ends in one of those letters, so both stemmers leave every word as it
# is and both engines index identical terms. The sets of documents containing
# all the words of a query must then be the same for trawl, FTS5 and a plain
# word-set scan of the JSON. (Top-K order is not compared: the engines' BM25
# variants differ in detail.)
set -eu

. "$TRAWL_SOURCE_DIR/tests/benchlib.sh"

# --- generator: deterministic, prefix-stable, phrases that occur ------------
"$BENCH" gen 2000 "$T/c.jsonl" 7
"$BENCH" gen 2000 "$T/c2.jsonl" 7
cmp -s "$T/c.jsonl" "$T/c2.jsonl" || fail "gen is not deterministic"
"$BENCH" gen 500 "$T/c500.jsonl" 7
head -n 500 "$T/c.jsonl" | cmp -s - "$T/c500.jsonl" || fail "gen 500 is not a prefix of gen 2000"
lines=$(wc -l < "$T/c.jsonl")
[ "$lines" -eq 2000 ] || fail "gen wrote $lines lines, expected 2000"
"$BENCH" genq "$T/c.jsonl" "$T/q" > /dev/null
"$BENCH" genq 7 "$T/qs" 2000 > /dev/null
for f in and or phrase; do
  n=$(wc -l < "$T/q/$f.txt")
  [ "$n" -eq 1000 ] || fail "genq wrote $n lines to $f.txt, expected 1000"
done

# --- index and query ---------------------------------------------------------
engines=trawl
if "$BENCH" index --engine fts5 "$T/c.jsonl" "$T/ix/fts5" > "$T/fts5.index.json" 2> "$T/err"; then
  engines="trawl fts5"
elif grep -q "not compiled in" "$T/err"; then
  echo "note: FTS5 peer not compiled in; checking trawl against the oracle only"
else
  cat "$T/err"; fail "fts5 index failed"
fi
"$BENCH" index "$T/c.jsonl" "$T/ix/trawl" > "$T/trawl.index.json"
grep -q '"docs":2000' "$T/trawl.index.json" || fail "trawl index line: $(cat "$T/trawl.index.json")"
for e in $engines; do
  for c in and or phrase count; do
    qf=$c; [ $c = count ] && qf=and
    DUMP="$T/$e.$c.dump" "$BENCH" query --engine $e "$T/ix/$e" "$T/q/$qf.txt" $c 10 > "$T/$e.$c.json"
    grep -q "\"engine\":\"$e\",\"mode\":\"exact\",\"class\":\"$c\",\"queries\":1000," "$T/$e.$c.json" ||
      fail "$e $c line: $(cat "$T/$e.$c.json")"
    n=$(wc -l < "$T/$e.$c.dump")
    [ "$n" -eq 1000 ] || fail "$e $c dump has $n lines, expected 1000"
  done
done

# compare: each peer in its exact and its default mode, on the same index; the
# default mode answers the same top K (as many ids per query) without a total.
if [ "$engines" = "trawl fts5" ]; then
  mkdir -p "$T/qc" &&
    for f in and or phrase; do head -n 200 "$T/q/$f.txt" > "$T/qc/$f.txt"; done
  DUMP="$T/cmp" BENCH_ENGINES=trawl,fts5 BENCH_WORKDIR="$T/cw" "$BENCH" compare "$T/c.jsonl" "$T/qc" > "$T/cmp.out"
  grep -q '^| figure | trawl [^|]* | fts5 [^|]* (exact) | fts5 (exact) ÷ trawl | fts5 [^|]* (default) | fts5 (default) ÷ trawl |$' \
    "$T/cmp.out" || fail "compare table header: $(grep '^| figure' "$T/cmp.out")"
  grep -q '"engine":"fts5","mode":"default","class":"and","queries":200,' "$T/cmp.out" || fail "no fts5 default line"
  for c in and or phrase; do
    awk -F'\t' '{print NF}' "$T/cmp.fts5.$c" > "$T/n.exact"
    awk -F'\t' '{print NF}' "$T/cmp.fts5-default.$c" > "$T/n.default"
    cmp -s "$T/n.exact" "$T/n.default" || fail "fts5 default mode $c: not the same number of hits as exact mode"
  done
fi

# reopen: each round commits DOCS new documents, and the reopened reader sees
# exactly the corpus plus every round's documents.
BENCH_WORKDIR="$T/rw" "$BENCH" reopen "$T/c.jsonl" 3 40 > "$T/reopen.out" || fail "reopen failed"
for r in 0 1 2; do
  grep -q "^{\"round\":$r,\"docs\":$((2000 + 40 * (r + 1))),\"reopen_ms\":" "$T/reopen.out" ||
    fail "reopen round $r: $(grep "\"round\":$r," "$T/reopen.out")"
done
grep -q '"reopen_ms_median":' "$T/reopen.out" || fail "reopen: no summary line"

# The FTS5 peer and trawl must give identical counts (same terms, see above).
if [ "$engines" = "trawl fts5" ]; then
  cmp -s "$T/trawl.count.dump" "$T/fts5.count.dump" ||
    fail "count differs between trawl and fts5: $(paste "$T/trawl.count.dump" "$T/fts5.count.dump" |
         awk '$1 != $2 {print "query " NR ": trawl " $1 ", fts5 " $2; exit}')"
fi

# --- brute-force oracle --------------------------------------------------------
if ! command -v python3 > /dev/null; then
  echo "note: python3 absent; brute-force oracle skipped"
  exit 0
fi
python3 - "$T" $engines <<'EOF'
import json, re, sys
T, engines = sys.argv[1], sys.argv[2:]
words_of = {}
for line in open(T + "/c.jsonl"):
    d = json.loads(line)
    words_of[d["id"]] = re.findall(r"[a-z0-9]+", (d["title"] + " " + d["body"]).lower())
sets = {i: set(w) for i, w in words_of.items()}
def qs(name):
    return [q.split() for q in open(T + "/q/" + name).read().splitlines()]
grams = {}  # every 1..3-word sequence -> the ids of the documents holding it
for i, w in words_of.items():
    for n in (1, 2, 3):
        for j in range(len(w) - n + 1):
            grams.setdefault(tuple(w[j:j + n]), set()).add(i)
def phrase_docs(p):
    if len(p) <= 3:
        return grams.get(tuple(p), set())
    return {i for i, w in words_of.items()
            if any(w[j:j + len(p)] == p for j in range(len(w) - len(p) + 1))}
def has_phrase(i, p):
    return i in phrase_docs(p)
def dump(e, c):
    return [l.split("\t") if l else [] for l in open("%s/%s.%s.dump" % (T, e, c)).read().split("\n")[:-1]]
bad = 0
def check(ok, msg):
    global bad
    if not ok:
        bad += 1
        if bad <= 5:
            print("FAIL:", msg)
and_q, or_q, ph_q = qs("and.txt"), qs("or.txt"), qs("phrase.txt")
and_n = [sum(1 for s in sets.values() if all(w in s for w in q)) for q in and_q]
or_n = [sum(1 for s in sets.values() if any(w in s for w in q)) for q in or_q]
ph_n = [len(phrase_docs(q)) for q in ph_q]
check(all(n > 0 for n in ph_n), "a generated phrase does not occur in the corpus")
# Phrases generated from the seed alone must occur too.
for q in [q.split() for q in open(T + "/qs/phrase.txt").read().splitlines()]:
    check(len(phrase_docs(q)) > 0, "seed phrase %r not in corpus" % " ".join(q))
for e in engines:
    counts = [int(l[0]) for l in dump(e, "count")]
    for i, (got, want) in enumerate(zip(counts, and_n)):
        check(got == want, "%s count query %d %r: engine %d, oracle %d" % (e, i, and_q[i], got, want))
    tot = json.load(open("%s/%s.count.json" % (T, e)))["total_hits"]
    check(tot == sum(and_n), "%s count total_hits %d, oracle %d" % (e, tot, sum(and_n)))
    for c, qq, nn, pred in (("and", and_q, and_n, lambda d, q: all(x in sets[d] for x in q)),
                            ("or", or_q, or_n, lambda d, q: any(x in sets[d] for x in q)),
                            ("phrase", ph_q, ph_n, has_phrase)):
        for i, ids in enumerate(dump(e, c)):
            check(len(ids) == min(10, nn[i]),
                  "%s %s query %d %r: %d hits, oracle says %d" % (e, c, i, qq[i], len(ids), min(10, nn[i])))
            check(len(set(ids)) == len(ids), "%s %s query %d: duplicate ids" % (e, c, i))
            for d in ids:
                check(d in sets and pred(d, qq[i]),
                      "%s %s query %d %r: hit %s does not match" % (e, c, i, qq[i], d))
        tot = json.load(open("%s/%s.%s.json" % (T, e, c)))["total_hits"]
        check(tot == sum(nn), "%s %s total_hits %d, oracle %d" % (e, c, tot, sum(nn)))
if bad:
    print("%d failed checks" % bad)
    sys.exit(1)
print("ok: %s agree with the oracle on %d and, %d or, %d phrase, %d count queries"
      % (" and ".join(engines), len(and_q), len(or_q), len(ph_q), len(and_q)))
EOF
