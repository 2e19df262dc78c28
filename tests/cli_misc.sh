#!/bin/sh
# cli_misc.sh — tests the inspection commands of `trawl` (analyze, get, stats,
# check) and the program-level ones (help, --version, exit codes).
# Oracles: a python3 re-implementation of the tokenizer rule in analyzer.h for
# `analyze`; the input JSON Lines, compared as parsed JSON, for `get`; a byte
# flipped in the index for `check`.
. "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}/tests/shlib.sh"

# --- analyze ------------------------------------------------------------------
# Oracle: tokens are maximal runs of Unicode letters, digits and marks, each
# NFKC-casefolded; with --lang none there is no stemming. Offsets are bytes.
cat >"$T/tok.py" <<'EOF'
import sys, unicodedata
text = sys.argv[1]
pos, cur, start, off = 0, "", 0, 0
for ch in text + " ":
    c = unicodedata.category(ch)
    if c[0] in "LN" or c in ("Mn", "Mc", "Me"):
        if not cur:
            start = off
        cur += ch
    elif cur:
        term = unicodedata.normalize("NFKC", cur).casefold()
        print("%d\t%d-%d\t%s\t%s" % (pos, start, off, cur, term))
        pos += 1
        cur = ""
    off += len(ch.encode())
EOF
combining=$(printf 'e\314\201clair  caf\303\251')   # e + U+0301, then a precomposed é
for text in "Hello, wörld! x2" "The QUICK brown fox's tail_end (2024-06-11)" \
    "Ünïcödé   Straße  ＦＵＬＬＷＩＤＴＨ  ﬁne" "$combining" "" "  ...  "; do
    expect_rc 0 analyze --lang none "$text"
    python3 "$T/tok.py" "$text" >"$T/want"
    cmp -s "$T/out" "$T/want" || fail "analyze --lang none '$text':
got:
$(cat "$T/out")
want:
$(cat "$T/want")"
done
# English stemming, for words whose Snowball stems are well known.
expect_rc 0 analyze "Running connections generously"
printf '0\t0-7\tRunning\trun\n1\t8-19\tconnections\tconnect\n2\t20-30\tgenerously\tgenerous\n' >"$T/want"
cmp -s "$T/out" "$T/want" || fail "analyze (english): $(cat "$T/out")"
# --json gives the same tokens; '-' reads stdin.
expect_rc 0 analyze --json --lang none "Hello, wörld! x2"
python3 - "$T/out" <<'EOF' || fail "analyze --json: $(cat "$T/out")"
import json, sys
want = [{"position": 0, "start": 0, "end": 5, "token": "Hello", "term": "hello"},
        {"position": 1, "start": 7, "end": 13, "token": "wörld", "term": "wörld"},
        {"position": 2, "start": 15, "end": 17, "token": "x2", "term": "x2"}]
got = json.load(open(sys.argv[1]))
if got != want:
    sys.exit("got %r" % got)
EOF
printf 'from stdin' | "$TRAWL_BIN" analyze --lang none - >"$T/out" 2>"$T/err" || fail "analyze -: $(cat "$T/err")"
printf '0\t0-4\tfrom\tfrom\n1\t5-10\tstdin\tstdin\n' >"$T/want"
cmp -s "$T/out" "$T/want" || fail "analyze - : $(cat "$T/out")"
expect_rc 2 analyze --lang klingon "text"
expect_rc 2 analyze
expect_rc 2 analyze a b

# --- get: the stored document is the input object ------------------------------------
python3 - "$T/docs.jsonl" <<'EOF'
import json, sys
docs = [
    {"id": "plain", "title": "A title", "body": "Some body text."},
    {"id": "unicode ✓", "title": "Ünïcödé «quotes» \"escaped\" \\ back", "body": "tab\there\nnewline"},
    {"id": "typed", "title": "t", "count": 42, "ratio": 0.5, "flag": True, "none": None,
     "tags": ["one", "two"], "nested": {"k": [1, {"x": "y"}]}},
    {"id": "-starts-with-dash", "body": "dash"},
    {"id": "only-id"},
]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for d in docs:
        f.write(json.dumps(d, ensure_ascii=False) + "\n")
EOF
if [ -f "$TRAWL_SOURCE_DIR/sample/trends.jsonl" ]; then
    cat "$TRAWL_SOURCE_DIR/sample/trends.jsonl" >>"$T/docs.jsonl"
fi
expect_rc 0 index -o "$T/idx" "$T/docs.jsonl"
python3 - "$TRAWL_BIN" "$T/idx" "$T/docs.jsonl" <<'EOF' || fail "get differs from the input"
import json, subprocess, sys
trawl, idx, path = sys.argv[1:4]
bad = 0
n = 0
for line in open(path, encoding="utf-8"):
    want = json.loads(line)
    res = subprocess.run([trawl, "get", idx, "--", want["id"]], capture_output=True)
    n += 1
    if res.returncode != 0:
        print("FAIL: get %r: exit %d %s" % (want["id"], res.returncode, res.stderr.decode()))
        bad += 1
        continue
    got = json.loads(res.stdout)
    if got != want:
        print("FAIL: get %r:\n  got  %s\n  want %s" % (want["id"], json.dumps(got)[:300], json.dumps(want)[:300]))
        bad += 1
print("get: %d documents compared, %d differ" % (n, bad))
sys.exit(1 if bad else 0)
EOF
expect_rc 1 get "$T/idx" "no such id"
grep -q "no such id" "$T/err" || fail "get: not-found message lacks the id: $(cat "$T/err")"
expect_rc 2 get "$T/idx"
expect_rc 2 get "$T/idx" a b
expect_rc 1 get "$T/nowhere" plain

# --- stats ------------------------------------------------------------------------------
expect_rc 0 stats --json "$T/idx"
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if isinstance(s, dict) and s else "not a JSON object: %r" % s)' "$T/out" ||
    fail "stats --json: $(cat "$T/out")"
cp "$T/out" "$T/stats.json"
expect_rc 0 stats "$T/idx"
# Every scalar of the JSON appears as a "key  value" row of the table.
python3 - "$T/stats.json" "$T/out" <<'EOF' || fail "stats table does not match the JSON"
import json, sys
s = json.load(open(sys.argv[1]))
rows = {}
for line in open(sys.argv[2]):
    k, _, v = line.rstrip("\n").partition(" ")
    rows[k] = v.strip()
def walk(prefix, v):
    if isinstance(v, dict):
        for k, c in v.items():
            yield from walk(prefix + "." + k if prefix else k, c)
    elif isinstance(v, list):
        for i, c in enumerate(v):
            yield from walk("%s[%d]" % (prefix, i), c)
    else:
        yield prefix, v
bad = 0
for k, v in walk("", s):
    if k not in rows:
        print("FAIL: stats row %r missing" % k); bad += 1
    elif isinstance(v, int) and not isinstance(v, bool) and rows[k] != str(v):
        print("FAIL: stats row %r = %r, JSON %r" % (k, rows[k], v)); bad += 1
sys.exit(1 if bad else 0)
EOF
expect_rc 1 stats "$T/nowhere"
expect_rc 2 stats
expect_rc 2 stats --table "$T/idx"

# --- check: sound, then corrupted ------------------------------------------------------
expect_rc 0 check "$T/idx"
grep -q '^ok: ' "$T/out" || fail "check prints no 'ok:' line: $(cat "$T/out")"
cp -r "$T/idx" "$T/bad"
python3 - "$T/bad" <<'EOF' || fail "could not corrupt the index"
import os, sys
files = [os.path.join(d, f) for d, _, fs in os.walk(sys.argv[1]) for f in fs]
big = max(files, key=os.path.getsize)
with open(big, "r+b") as f:
    f.seek(os.path.getsize(big) // 2)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0xFF]))
print("flipped a byte in the middle of", os.path.relpath(big, sys.argv[1]))
EOF
expect_rc 1 check "$T/bad"
[ -s "$T/out" ] || [ -s "$T/err" ] || fail "check of a corrupt index says nothing"
! grep -q '^ok: ' "$T/out" || fail "check says ok on a corrupt index"
expect_rc 1 check "$T/nowhere"
expect_rc 2 check
expect_rc 2 check "$T/idx" extra

# --- help, version, exit codes ------------------------------------------------------------
expect_rc 0 --version
grep -q '0\.1\.0' "$T/out" || fail "--version: $(cat "$T/out")"
expect_rc 0 help
for cmd in index search get stats check analyze; do
    grep -q "^  $cmd " "$T/out" || fail "help does not list $cmd"
done
expect_rc 0 --help
for cmd in index search get stats check analyze; do
    expect_rc 0 "$cmd" --help
    grep -q "^usage: trawl $cmd" "$T/out" || fail "$cmd --help: $(head -n 2 "$T/out")"
    cp "$T/out" "$T/help1"
    expect_rc 0 help "$cmd"
    cmp -s "$T/out" "$T/help1" || fail "trawl help $cmd differs from trawl $cmd --help"
    expect_rc 0 "$cmd" -h
    expect_rc 2 "$cmd" --no-such-option
    grep -q "^usage: trawl $cmd" "$T/err" || fail "$cmd: usage error prints no usage on stderr"
done
expect_rc 2
expect_rc 2 frobnicate
expect_rc 2 help frobnicate
expect_rc 2 --frobnicate

if [ "$fails" -ne 0 ]; then
    echo "cli_misc: $fails failure(s)" >&2
    exit 1
fi
echo "cli_misc: ok"
