#!/bin/sh
# cli_index.sh — tests `trawl index`: JSON Lines files, stdin, text files and
# directories go in; `trawl get` shows what was stored. Malformed lines must be
# reported as FILE:LINE and skipped, --strict must commit nothing, and the exit
# codes must be 0 (ok), 1 (error), 2 (usage). Oracle: the documents we wrote,
# compared as parsed JSON by python3.
. "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}/tests/shlib.sh"
# expect_err_has TEXT: the stderr of the last run (other than get) contains
# TEXT, a fixed string; expect_err_lacks: it does not.
expect_err_has() { grep -qF -- "$1" "$T/err" || fail "stderr lacks '$1': $(head -c 600 "$T/err")"; }
expect_err_lacks() { ! grep -qF -- "$1" "$T/err" || fail "stderr has '$1': $(head -c 600 "$T/err")"; }
# get ID from INDEX; stdout in $T/got, stderr in $T/geterr, status in $grc.
get() { "$TRAWL_BIN" get "$@" >"$T/got" 2>"$T/geterr"; grc=$?; }
# expect_doc INDEX ID JSON: `trawl get` returns a document equal (as JSON) to JSON.
expect_doc() {
    get "$1" "$2"
    if [ "$grc" != 0 ]; then fail "get $2: exit $grc: $(cat "$T/geterr")"; return; fi
    printf '%s' "$3" >"$T/want.json"
    python3 -c '
import json, sys
got = json.load(open(sys.argv[1])); want = json.load(open(sys.argv[2]))
if got != want:
    print("document differs:\n  got  %s\n  want %s" % (json.dumps(got), json.dumps(want)))
    sys.exit(1)' "$T/got" "$T/want.json" >&2 || fail "get $2"
}
expect_missing() {
    get "$1" "$2"
    [ "$grc" = 1 ] || fail "get $2: exit $grc, expected 1 (not found); stdout: $(cat "$T/got")"
}

# --- malformed lines are reported with FILE:LINE and skipped ----------------
J="$T/mixed.jsonl"
{
    printf '%s\n' '{"id":"a","title":"Alpha","body":"apple banana"}'    # 1
    printf '\n'                                                         # 2 blank
    printf '%s\n' '{"id": "b", "title": '                               # 3 bad JSON
    printf '%s\n' '{"title":"no id here"}'                              # 4 no id
    printf '%s\n' '{"id": 5, "body": "numeric id"}'                     # 5 id not a string
    printf '{"id":"c","body":"bad \377 byte"}\n'                        # 6 invalid UTF-8
    printf '%s\n' '{"id":"","body":"empty id"}'                         # 7 empty id
    printf '%s\n' '{"id":"d","title":"Delta","tags":["x","y"],"n":3}'   # 8
    printf '   \t \n'                                                   # 9 blank
    printf '%s\n' '[1, 2, 3]'                                           # 10 not an object
    printf '%s' '{"id":"e","body":"no final newline"}'                  # 11
} >"$J"
expect_rc 0 index -o "$T/i1" "$J"
for n in 3 4 5 6 7 10; do expect_err_has "$J:$n:"; done
for n in 1 2 8 9 11; do expect_err_lacks "$J:$n:"; done
expect_err_has "indexed 3 documents"
expect_err_has "skipped 6"
expect_doc "$T/i1" a '{"id":"a","title":"Alpha","body":"apple banana"}'
expect_doc "$T/i1" d '{"id":"d","title":"Delta","tags":["x","y"],"n":3}'
expect_doc "$T/i1" e '{"id":"e","body":"no final newline"}'
expect_missing "$T/i1" b
expect_missing "$T/i1" c

# A second file: its errors carry its own name and line numbers.
printf '%s\n%s\n' '{"id":"f","body":"fine"}' '{"id":' >"$T/second.jsonl"
expect_rc 0 index -o "$T/i1" "$T/second.jsonl"
expect_err_has "$T/second.jsonl:2:"
expect_doc "$T/i1" f '{"id":"f","body":"fine"}'
expect_doc "$T/i1" a '{"id":"a","title":"Alpha","body":"apple banana"}'

# --- --strict: the first error fails the run and nothing is committed -------
printf '%s\n' '{"id":"g","body":"would be added"}' >"$T/strict.jsonl"
cat "$J" >>"$T/strict.jsonl"
expect_rc 1 index --strict -o "$T/i1" "$T/strict.jsonl"
expect_err_has "$T/strict.jsonl:4:"
expect_err_lacks "$T/strict.jsonl:5:"
expect_missing "$T/i1" g
expect_doc "$T/i1" f '{"id":"f","body":"fine"}'
# On a new directory, a strict failure leaves no committed document.
expect_rc 1 index -o "$T/i2" --strict "$T/strict.jsonl"
expect_missing "$T/i2" g
# A clean file passes --strict.
printf '%s\n' '{"id":"h","body":"clean"}' >"$T/clean.jsonl"
expect_rc 0 index --strict -o "$T/i1" "$T/clean.jsonl"
expect_doc "$T/i1" h '{"id":"h","body":"clean"}'

# --- a document whose id exists replaces it ---------------------------------
printf '%s\n' '{"id":"a","body":"replaced"}' >"$T/replace.jsonl"
expect_rc 0 index -o "$T/i1" "$T/replace.jsonl"
expect_doc "$T/i1" a '{"id":"a","body":"replaced"}'

# --- stdin ------------------------------------------------------------------
printf '%s\n%s\n' '{"id":"s1","body":"from stdin"}' 'not json' |
    "$TRAWL_BIN" index -o "$T/i3" - >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 0 ] || fail "index from stdin: exit $rc: $(cat "$T/err")"
expect_err_has "<stdin>:2:"
expect_doc "$T/i3" s1 '{"id":"s1","body":"from stdin"}'

# --- directories and text files ---------------------------------------------
D="$T/docs"
mkdir -p "$D/sub/deeper" "$D/.hidden"
printf '# Heading One\n\nbody text alpha\n' >"$D/a.md"
printf '\n  \nFirst line title  \nsecond line beta\n' >"$D/sub/b.txt"
printf 'intro before\n## Second Level ##\nafter heading\n' >"$D/sub/deeper/c.md"
printf '#hashtag is not a heading\nplain\n' >"$D/sub/d.txt"
printf '%s\n' '{"id":"ignored"}' >"$D/ignored.json"
printf '# Hidden\n' >"$D/.hidden/e.md"
printf '# Hidden file\n' >"$D/.f.md"
expect_rc 0 index -o "$T/i4" "$D"
expect_err_has "indexed 4 documents"
expect_doc "$T/i4" a.md '{"id":"a.md","title":"Heading One","body":"\nbody text alpha\n"}'
expect_doc "$T/i4" sub/b.txt '{"id":"sub/b.txt","title":"First line title","body":"second line beta\n"}'
expect_doc "$T/i4" sub/deeper/c.md \
    '{"id":"sub/deeper/c.md","title":"Second Level","body":"intro before\nafter heading\n"}'
expect_doc "$T/i4" sub/d.txt '{"id":"sub/d.txt","title":"#hashtag is not a heading","body":"plain\n"}'
expect_missing "$T/i4" ignored.json
expect_missing "$T/i4" ignored
expect_missing "$T/i4" .hidden/e.md
expect_missing "$T/i4" .f.md
# Given directly, a text file's id is its base name; other files are JSON Lines.
expect_rc 0 index -o "$T/i5" "$D/sub/deeper/c.md" "$D/ignored.json"
expect_doc "$T/i5" c.md '{"id":"c.md","title":"Second Level","body":"intro before\nafter heading\n"}'
expect_doc "$T/i5" ignored '{"id":"ignored"}'
# A text file with invalid UTF-8: the library either rejects it (then it is
# reported by name and skipped, and --strict fails) or stores it with each bad
# byte replaced by U+FFFD; both keep the index valid.
printf '# Bad\nbytes \377 here\n' >"$D/bad.md"
expect_rc 0 index -o "$T/i6" "$D"
cp "$T/err" "$T/bad.err"
expect_doc "$T/i6" a.md '{"id":"a.md","title":"Heading One","body":"\nbody text alpha\n"}'
get "$T/i6" bad.md
if [ "$grc" = 0 ]; then
    expect_doc "$T/i6" bad.md '{"id":"bad.md","title":"Bad","body":"bytes \ufffd here\n"}'
else
    grep -qF "bad.md" "$T/bad.err" || fail "rejected bad.md not reported: $(cat "$T/bad.err")"
    expect_rc 1 index --strict -o "$T/i7" "$D"
    expect_missing "$T/i7" a.md
fi
rm -f "$D/bad.md"
# An unreadable file inside a directory is skipped with a message (not as root,
# who reads everything).
if [ "$(id -u)" != 0 ]; then
    printf 'secret\n' >"$D/locked.txt"
    chmod 000 "$D/locked.txt"
    expect_rc 0 index -o "$T/i8" "$D"
    expect_err_has "locked.txt"
    expect_doc "$T/i8" a.md '{"id":"a.md","title":"Heading One","body":"\nbody text alpha\n"}'
    rm -f "$D/locked.txt"
fi

# --- long lines go through whole ---------------------------------------------
python3 -c '
import json
print(json.dumps({"id": "long", "body": "word " * 200000}))' >"$T/long.jsonl"
expect_rc 0 index -o "$T/i9" "$T/long.jsonl"
get "$T/i9" long
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["body"] == "word " * 200000 else 1)' "$T/got" || fail "long line not stored whole"

# --- the progress line: only on a terminal, erased before the summary ---------
expect_rc 0 index -o "$T/i14" "$T/clean.jsonl"
! grep -q "$(printf '\033')" "$T/err" || fail "escape codes on a stderr that is no terminal"
if command -v script >/dev/null 2>&1 && script -qec true /dev/null </dev/null >/dev/null 2>&1; then
    script -qec "'$TRAWL_BIN' index -o '$T/i15' '$T/clean.jsonl'" /dev/null </dev/null >"$T/tty.out" 2>&1 ||
        fail "index on a terminal failed: $(cat "$T/tty.out")"
    python3 - "$T/tty.out" <<'EOF' || fail "progress line on a terminal"
import sys
data = open(sys.argv[1], "rb").read()
if b"\r\x1b[K" not in data:
    sys.exit("no progress line drawn: %r" % data[:300])
last = data.rsplit(b"\r\x1b[K", 1)[1]
if not last.startswith(b"trawl: indexed 1 document,"):
    sys.exit("summary not on a cleared line: %r" % last[:200])
EOF
else
    echo "note: no usable script(1); progress line on a terminal not tested" >&2
fi

# --- usage and errors ---------------------------------------------------------
expect_rc 2 index "$J"                       # no -o
expect_rc 2 index -o "$T/i10"                # no input
expect_rc 2 index --bogus -o "$T/i10" "$J"   # unknown option
expect_rc 2 index -o "$T/i10" "$J" -x        # unknown short option after positionals
expect_rc 2 index --lang klingon -o "$T/i10" "$J"
expect_rc 2 index -o                         # option without its value
expect_rc 0 index --help
grep -q '^usage: trawl index' "$T/out" || fail "index --help prints no usage"
expect_rc 1 index -o "$T/i10" "$T/does-not-exist.jsonl"
expect_err_has "does-not-exist.jsonl"
# A failing input anywhere means nothing from the run is committed.
expect_rc 1 index -o "$T/i11" "$T/clean.jsonl" "$T/does-not-exist.jsonl"
expect_missing "$T/i11" h
# Options after the positionals, and "--" ending the options.
expect_rc 0 index "$T/clean.jsonl" -o "$T/i12" --lang none
expect_doc "$T/i12" h '{"id":"h","body":"clean"}'
cp "$T/clean.jsonl" "$T/-dash.jsonl"
( cd "$T" && "$TRAWL_BIN" index -o i13 -- -dash.jsonl ) >"$T/out" 2>"$T/err" ||
    fail "index -- -dash.jsonl: $(cat "$T/err")"
expect_doc "$T/i13" h '{"id":"h","body":"clean"}'
# Reopening an index with another language is refused.
expect_rc 1 index --lang english -o "$T/i12" "$T/clean.jsonl"

if [ "$fails" -ne 0 ]; then
    echo "cli_index: $fails failure(s)" >&2
    exit 1
fi
echo "cli_index: ok"
