#!/bin/sh
# cli_seeds.sh — indexes the shared seed corpus (../shared/corpus/seeds, five
# real web pages saved as text) as a directory and checks that every file
# became one document with the title rule of `trawl index` (first Markdown
# heading, else first non-blank line), and that word searches find exactly the
# files a python3 scan of the raw text finds. Skips when the corpus is absent.
set -u
: "${TRAWL_BIN:?TRAWL_BIN must name the trawl program}"
: "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}"
SEEDS="$TRAWL_SOURCE_DIR/../shared/corpus/seeds"
if [ ! -d "$SEEDS" ]; then
    echo "SKIP: $SEEDS not found (the shared corpus is not mounted)" >&2
    exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is needed" >&2; exit 77; }
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM

if ! "$TRAWL_BIN" index --lang none -o "$T/idx" "$SEEDS" >"$T/out" 2>"$T/err"; then
    echo "FAIL: indexing $SEEDS: $(cat "$T/err")" >&2
    exit 1
fi
grep -q "indexed 5 documents" "$T/err" || { echo "FAIL: summary: $(cat "$T/err")" >&2; exit 1; }

python3 - "$TRAWL_BIN" "$T/idx" "$SEEDS" <<'PY'
import json, os, re, subprocess, sys, unicodedata
trawl, idx, seeds = sys.argv[1:4]
names = sorted(f for f in os.listdir(seeds) if f.endswith((".txt", ".md")) and not f.startswith("."))
bad = 0
def fail(msg):
    global bad
    bad += 1
    print("FAIL: " + msg)

def expected_title(text):
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    for line in lines:
        m = re.match(r"^ {0,3}#{1,6}(?:[ \t\r](.*))?$", line)
        if m and m.group(1):
            t = m.group(1).strip(" \t\r\f\v")
            t2 = re.sub(r"(^|[ \t])#+$", "", t).strip(" \t\r\f\v")
            if t2:
                return t2
    for line in lines:
        if line.strip(" \t\r\f\v"):
            return line.strip(" \t\r\f\v")
    return ""

def terms(text):
    out, cur = set(), []
    for ch in text + " ":
        c = unicodedata.category(ch)
        if c[0] in "LN" or c in ("Mn", "Mc", "Me"):
            cur.append(ch)
        elif cur:
            out.add(unicodedata.normalize("NFKC", "".join(cur)).casefold())
            cur = []
    return out

if len(names) != 5:
    fail("expected 5 seed files, found %d" % len(names))
doc_terms = {}
for n in names:
    text = open(os.path.join(seeds, n), encoding="utf-8").read()
    doc_terms[n] = terms(text)
    res = subprocess.run([trawl, "get", idx, n], capture_output=True)
    if res.returncode != 0:
        fail("get %s: exit %d %s" % (n, res.returncode, res.stderr.decode()))
        continue
    doc = json.loads(res.stdout)
    if doc.get("title") != expected_title(text):
        fail("%s: title %r, expected %r" % (n, doc.get("title"), expected_title(text)))
    if set(doc) != {"id", "title", "body"}:
        fail("%s: fields %s" % (n, sorted(doc)))

for word in ["backend", "development", "serverless", "kubernetes", "rust", "graphql", "database"]:
    want = {n for n in names if word in doc_terms[n]}
    res = subprocess.run([trawl, "search", "--json", "-k", "100", idx, word], capture_output=True)
    if res.returncode != 0:
        fail("search %s: exit %d" % (word, res.returncode))
        continue
    out = json.loads(res.stdout)
    got = {h["id"] for h in out["hits"]}
    if out["total"] != len(want) or got != want:
        fail("search %s: total %d ids %s, oracle %s" % (word, out["total"], sorted(got), sorted(want)))
    else:
        print("search %-12s %d of 5 documents, as the oracle says" % (word, len(want)))
sys.exit(1 if bad else 0)
PY
st=$?
[ "$st" = 0 ] || { echo "cli_seeds: failed" >&2; exit 1; }
echo "cli_seeds: ok"
