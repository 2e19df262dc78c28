#!/bin/sh
# cli_search.sh — tests `trawl search` against a brute-force oracle.
#
# A python3 oracle reads the same JSON Lines the index was built from, splits
# every text field into terms itself (for --lang none: runs of Unicode letters,
# digits and marks, NFKC-casefolded, as analyzer.h specifies) or with
# `trawl analyze` (for english stemming), and computes the exact set of
# matching documents for single words, AND, OR, NOT, field, phrase and prefix
# queries; `trawl search --json` must report that total and exactly those ids.
# Corpora: a generated one (always) and sample/trends.jsonl (when present).
# Also checked: the text output format, paging, the syntax-error caret and the
# exit codes.
. "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}/tests/shlib.sh"

# --- the generated corpus ----------------------------------------------------
python3 - "$T/gen.jsonl" <<'EOF'
import json, random, sys
rng = random.Random(20240611)
syll = ["ka", "lo", "mi", "ne", "ru", "ta", "si", "bo", "de", "fu", "ga", "hi", "po", "ze"]
vocab = sorted({"".join(rng.choice(syll) for _ in range(rng.randint(2, 3))) for _ in range(90)})
vocab += ["café", "Straße", "naïve", "x2", "2024", "or", "and", "not"]
weights = [1.0 / (i + 1) for i in range(len(vocab))]
rng.shuffle(weights)
def words(n):
    out = []
    for w in rng.choices(vocab, weights, k=n):
        r = rng.random()
        if r < 0.1: w = w.capitalize()
        elif r < 0.13: w = w.upper()
        out.append(w)
    seps = [" ", " ", " ", ", ", ". ", "-", "_", "'s ", " (", ") ", "\n", " — "]
    s = out[0]
    for w in out[1:]:
        s += rng.choice(seps) + w
    return s
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for i in range(300):
        d = {"id": "doc-%03d" % i, "title": words(rng.randint(2, 6)), "body": words(rng.randint(5, 60))}
        if rng.random() < 0.6:
            d["tags"] = [words(1) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.3:
            d["n"] = i
        f.write(json.dumps(d, ensure_ascii=rng.random() < 0.5) + "\n")
EOF

# --- the oracle ----------------------------------------------------------------
cat >"$T/oracle.py" <<'EOF'
# usage: oracle.py TRAWL INDEX JSONL LANG — exit 1 on any mismatch.
import json, subprocess, sys, unicodedata
trawl, index, jsonl, lang = sys.argv[1:5]

def is_token_char(ch):
    c = unicodedata.category(ch)
    return c[0] in "LN" or c in ("Mn", "Mc", "Me")

def oracle_terms(text):
    """Terms of text for --lang none: token runs, NFKC-casefolded."""
    out, cur = [], []
    for ch in text + " ":
        if is_token_char(ch):
            cur.append(ch)
        elif cur:
            out.append(unicodedata.normalize("NFKC", "".join(cur)).casefold())
            cur = []
    return out

def analyze_many(texts):
    """Terms of each text through `trawl analyze --lang LANG --json -`."""
    joined, bounds = "", []
    for t in texts:
        start = len(joined.encode())
        joined += t
        bounds.append((start, len(joined.encode())))
        joined += "\n"
    res = subprocess.run([trawl, "analyze", "--lang", lang, "--json", "-"], input=joined.encode(),
                         capture_output=True, check=True)
    toks = json.loads(res.stdout)
    out = [[] for _ in texts]
    i = 0
    for tok in toks:
        while i < len(bounds) and tok["start"] >= bounds[i][1]:
            i += 1
        out[i].append(tok["term"])
    return out

docs = [json.loads(line) for line in open(jsonl, encoding="utf-8") if line.strip()]
values = []  # (doc index, field, text)
for di, d in enumerate(docs):
    for k, v in d.items():
        if k in ("id", "date"):  # the default schema makes "date" a date field, not text
            continue
        for x in (v if isinstance(v, list) else [v]):
            if isinstance(x, str):
                values.append((di, k, x))
if lang == "none":
    value_terms = [oracle_terms(t) for _, _, t in values]
else:
    value_terms = analyze_many([t for _, _, t in values])
ids = [d["id"] for d in docs]
per_doc = [set() for _ in docs]
per_field = {}
raw_words = {}  # raw lower-case token -> None (candidates for queries)
for (di, k, text), terms in zip(values, value_terms):
    per_doc[di].update(terms)
    per_field.setdefault(k, [set() for _ in docs])[di].update(terms)
    for w in oracle_terms(text):
        raw_words[w] = None

def query_term(word):
    if lang == "none":
        t = oracle_terms(word)
    else:
        t = analyze_many([word])[0]
    assert len(t) == 1, (word, t)
    return t[0]

def docs_with(word, field=None):
    t = query_term(word)
    sets = per_field.get(field, []) if field else per_doc
    return {ids[i] for i, s in enumerate(sets) if t in s}

everything = set(ids)
failures = 0
checked = 0

def check(query, expected, *opts):
    global failures, checked
    checked += 1
    res = subprocess.run([trawl, "search", "--json", "-k", "10000", *opts, index, "--", query],
                         capture_output=True)
    if res.returncode != 0:
        print("FAIL: search %r: exit %d: %s" % (query, res.returncode, res.stderr.decode()[:300]))
        failures += 1
        return
    out = json.loads(res.stdout)
    got = [h["id"] for h in out["hits"]]
    scores = [h["score"] for h in out["hits"]]
    problems = []
    if out["total"] != len(expected):
        problems.append("total %d, oracle %d" % (out["total"], len(expected)))
    if set(got) != expected or len(got) != len(set(got)):
        problems.append("ids differ: extra %s missing %s" % (sorted(set(got) - expected)[:5],
                                                            sorted(expected - set(got))[:5]))
    if any(a < b for a, b in zip(scores, scores[1:])):
        problems.append("scores not in descending order")
    if out.get("query") != query or out.get("offset") != 0:
        problems.append("query/offset echoed wrong: %r %r" % (out.get("query"), out.get("offset")))
    if problems:
        failures += 1
        print("FAIL [%s] %r %s: %s" % (lang, query, " ".join(opts), "; ".join(problems)))

# Single words: an even spread over the document frequencies.
cands = sorted(raw_words, key=lambda w: (len(docs_with(w)), w))
step = max(1, len(cands) // 30)
sample = cands[::step][:30] + cands[-3:]
for w in sample:
    check(w, docs_with(w))
# Case does not matter (upper-case AND/OR/NOT are operators, so capitalize).
for w in sample[:5]:
    check(w.capitalize(), docs_with(w))
# Two words: AND by default, OR with --or or the OR operator, NOT with '-'.
pairs = [(sample[i], sample[-1 - i]) for i in range(6)] + [(sample[i], sample[i + 5]) for i in range(6)]
for a, b in pairs:
    check(a + " " + b, docs_with(a) & docs_with(b))
    check(a + " AND " + b, docs_with(a) & docs_with(b))
    check(a + " " + b, docs_with(a) | docs_with(b), "--or")
    check(a + " OR " + b, docs_with(a) | docs_with(b))
    check(a + " -" + b, docs_with(a) - docs_with(b))
    check("NOT " + b, everything - docs_with(b))
    check("(%s OR %s) %s" % (a, b, sample[len(sample) // 2]),
          (docs_with(a) | docs_with(b)) & docs_with(sample[len(sample) // 2]))
# Field-qualified words.
for field in ("title", "tags"):
    if field not in per_field:
        continue
    for w in sample[::3]:
        check("%s:%s" % (field, w), docs_with(w, field))
# Phrases: consecutive terms inside one value, from words absent from arrays.
in_arrays = set()
for (di, k, text), terms in zip(values, value_terms):
    if isinstance(docs[di][k], list):
        in_arrays.update(terms)
phrases = []
for (di, k, text), terms in zip(values, value_terms):
    if k != "body" or len(phrases) >= 12 or di % 7:
        continue
    raw = oracle_terms(text)
    if len(raw) == len(terms) and len(raw) > 3:
        j = len(raw) // 2
        if terms[j] not in in_arrays and terms[j + 1] not in in_arrays:
            phrases.append((raw[j], raw[j + 1]))
for a, b in phrases:
    ta, tb = query_term(a), query_term(b)
    expected = set()
    for (di, k, text), terms in zip(values, value_terms):
        if any(terms[i] == ta and terms[i + 1] == tb for i in range(len(terms) - 1)):
            expected.add(ids[di])
    check('"%s %s"' % (a, b), expected)
# Prefixes: unstemmed, matched against the indexed terms.
for w in sample[::4]:
    if len(w) >= 3 and w.isascii() and w.isalpha():
        p = w[:3]
        check(p + "*", {ids[i] for i, s in enumerate(per_doc) if any(t.startswith(p) for t in s)})

print("oracle [%s] %s: %d queries, %d failures" % (lang, jsonl.rsplit("/", 1)[-1], checked, failures))
sys.exit(1 if failures else 0)
EOF

corpora="$T/gen.jsonl"
if [ -f "$TRAWL_SOURCE_DIR/sample/trends.jsonl" ]; then
    corpora="$corpora $TRAWL_SOURCE_DIR/sample/trends.jsonl"
else
    echo "note: sample/trends.jsonl absent; only the generated corpus is used" >&2
fi
n=0
for c in $corpora; do
    for lang in none english; do
        n=$((n + 1))
        if ! "$TRAWL_BIN" index -q --lang "$lang" -o "$T/idx$n" "$c" 2>"$T/err"; then
            fail "indexing $c ($lang): $(cat "$T/err")"
            continue
        fi
        python3 "$T/oracle.py" "$TRAWL_BIN" "$T/idx$n" "$c" "$lang" || fail "oracle on $c ($lang)"
    done
done

# --- JSON shape, paging, explain ------------------------------------------------
I="$T/idx1"   # generated corpus, --lang none
W=$(python3 -c '
import json, sys
from collections import Counter
c = Counter()
for line in open(sys.argv[1]):
    c.update(set(json.loads(line)["body"].lower().split()))
print(max((n, w) for w, n in c.items() if w.isalpha() and w.isascii())[1])' "$T/gen.jsonl")
expect_rc 0 search --json -k 10 "$I" "$W"
cp "$T/out" "$T/page_all.json"
expect_rc 0 search "$I" "$W" --offset 3 -k 4 --json
cp "$T/out" "$T/page_part.json"
expect_rc 0 search --json --explain -k 3 "$I" "$W"
cp "$T/out" "$T/explain.json"
expect_rc 0 search --json -k 0 "$I" "$W"
cp "$T/out" "$T/count.json"
python3 - "$T" <<'EOF' || fail "JSON output checks"
import json, sys
t = sys.argv[1]
load = lambda name: json.load(open("%s/%s" % (t, name)))
full, part, expl, count = load("page_all.json"), load("page_part.json"), load("explain.json"), load("count.json")
ok = True
def expect(cond, what):
    global ok
    if not cond:
        ok = False
        print("FAIL: " + what)
expect(set(full) == {"query", "total", "took_us", "offset", "hits"}, "top-level keys %s" % sorted(full))
expect(len(full["hits"]) == min(10, full["total"]), "hit count %d for total %d" % (len(full["hits"]), full["total"]))
for h in full["hits"]:
    expect(set(h) == {"id", "score", "title", "snippet"}, "hit keys %s" % sorted(h))
    expect(isinstance(h["score"], float) and isinstance(h["snippet"], str), "hit value types")
expect(part["offset"] == 3, "offset echoed as %r" % part["offset"])
expect([h["id"] for h in part["hits"]] == [h["id"] for h in full["hits"]][3:7],
       "paging: %s vs %s" % ([h["id"] for h in part["hits"]], [h["id"] for h in full["hits"]][3:7]))
expect(part["total"] == full["total"], "total changes with paging")
expect(all(isinstance(h.get("explain"), str) and h["explain"] for h in expl["hits"]), "explain missing")
expect([h["id"] for h in expl["hits"]] == [h["id"] for h in full["hits"]][:3], "explain changes the ranking")
expect(count["hits"] == [] and count["total"] == full["total"], "-k 0: %r" % count)
sys.exit(0 if ok else 1)
EOF

# --- text output ------------------------------------------------------------------
expect_rc 0 search -k 5 "$I" "$W"
head -n 1 "$T/out" | grep -Eq '^5 hits \(total [0-9]+\) in [0-9]+\.[0-9]+ ms$' ||
    fail "header line: $(head -n 1 "$T/out")"
grep -Eq '^1\. [0-9]+\.[0-9]{4}  doc-[0-9]{3}' "$T/out" || fail "first hit line: $(sed -n 2p "$T/out")"
grep -Eq '^5\. [0-9]+\.[0-9]{4}  doc-[0-9]{3}' "$T/out" || fail "fifth hit line missing"
[ "$(grep -c '^[0-9]*\. ' "$T/out")" = 5 ] || fail "expected 5 hit lines: $(cat "$T/out")"
grep -q '^    ' "$T/out" || fail "no indented snippet lines"
! grep -q "$(printf '\033')" "$T/out" || fail "escape codes in output to a file"
expect_rc 0 search -k 2 --offset 1 "$I" "$W"
if ! grep -Eq '^2\. ' "$T/out" || ! grep -Eq '^3\. ' "$T/out" || grep -Eq '^1\. ' "$T/out"; then
    fail "ranks with --offset 1: $(cat "$T/out")"
fi
expect_rc 0 search --explain -k 1 "$I" "$W"
[ "$(grep -c '^    ' "$T/out")" -ge 2 ] || fail "explain text not shown: $(cat "$T/out")"
# Options that change scores but not the matches.
expect_rc 0 search --json --k1 0.5 --b 0 --weight title=0 --weight body=3 "$I" "$W"
python3 -c '
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
sys.exit(0 if a["total"] == b["total"] else 1)' "$T/out" "$T/page_all.json" || fail "BM25 options change the total"

# --- syntax errors ------------------------------------------------------------------
for q in "$W )" "($W" "title:" '"unclosed phrase'; do
    expect_rc 1 search "$I" "$q"
    python3 - "$T/err" "$q" <<'EOF' || fail "syntax error report for '$q': $(cat "$T/err")"
import re, sys
lines = open(sys.argv[1]).read().split("\n")
q = sys.argv[2]
m = re.match(r"trawl: syntax error at offset (\d+): .+", lines[0])
if not m:
    sys.exit("first line: %r" % lines[0])
off = int(m.group(1))
if not 0 <= off <= len(q.encode()):
    sys.exit("offset %d outside the query" % off)
if lines[1] != "  " + q:
    sys.exit("query line: %r" % lines[1])
if lines[2] != "  " + " " * off + "^":
    sys.exit("caret line %r for offset %d" % (lines[2], off))
EOF
done

# --- usage and errors -----------------------------------------------------------------
expect_rc 2 search "$I"
expect_rc 2 search "$I" a b
expect_rc 2 search -k 10001 "$I" "$W"
expect_rc 2 search -k -1 "$I" "$W"
expect_rc 2 search -k ten "$I" "$W"
expect_rc 2 search --offset x "$I" "$W"
expect_rc 2 search --b 1.5 "$I" "$W"
expect_rc 2 search --k1 -1 "$I" "$W"
expect_rc 2 search --k1 nan "$I" "$W"
expect_rc 2 search --weight title "$I" "$W"
expect_rc 2 search --weight =2 "$I" "$W"
expect_rc 2 search --weight title=-1 "$I" "$W"
expect_rc 2 search --frobnicate "$I" "$W"
expect_rc 2 search --json=yes "$I" "$W"
expect_rc 0 search -k 10000 "$I" "$W"
expect_rc 0 search --help
grep -q '^usage: trawl search' "$T/out" || fail "search --help prints no usage"
expect_rc 1 search "$T/no-such-index" "$W"
grep -q '^trawl: ' "$T/err" || fail "library error not reported as 'trawl: ...': $(cat "$T/err")"
# Options before, between and after the positionals give the same answer.
expect_rc 0 search --json -k 3 "$I" "$W"; a=$(sed 's/"took_us": *[0-9]*//' "$T/out")
expect_rc 0 search "$I" -k 3 "$W" --json; b=$(sed 's/"took_us": *[0-9]*//' "$T/out")
[ "$a" = "$b" ] || fail "option placement changes the output"

if [ "$fails" -ne 0 ]; then
    echo "cli_search: $fails failure(s)" >&2
    exit 1
fi
echo "cli_search: ok"
