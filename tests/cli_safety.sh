#!/bin/sh
# cli_safety.sh — data safety of `trawl index` and `trawl search`: the writer
# refuses a directory that holds files but no MANIFEST (foreign files, or an
# index whose MANIFEST was lost), removes only files of its own exact name
# patterns, reads inputs bounded (an oversized line or text file is skipped
# without being held: peak RSS measured), --strict fails on an unreadable
# input inside a directory, and a query's prefixes are bounded in total.
. "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}/tests/shlib.sh"
expect_err_has() { grep -qF -- "$1" "$T/err" || fail "stderr lacks '$1': $(head -c 600 "$T/err")"; }
# count_docs INDEX: documents in the index (from trawl stats).
count_docs() {
    "$TRAWL_BIN" stats --json "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"])'
}

printf '%s\n' '{"id":"a","body":"apple"}' '{"id":"b","body":"banana"}' >"$T/ab.jsonl"
printf '%s\n' '{"id":"c","body":"cherry"}' >"$T/c.jsonl"

# --- an index whose MANIFEST was lost is refused, every segment kept ---------
expect_rc 0 index -q -o "$T/lost" "$T/ab.jsonl"
rm "$T/lost/MANIFEST"
before=$(ls "$T/lost" | sort)
expect_rc 1 index -q -o "$T/lost" "$T/c.jsonl"
expect_err_has "no MANIFEST"
[ "$(ls "$T/lost" | sort)" = "$before" ] || fail "files of the MANIFEST-less index changed: $(ls "$T/lost")"

# --- a directory of foreign files is refused and left untouched --------------
mkdir "$T/foreign"
echo "my notes" >"$T/foreign/notes"
expect_rc 1 index -q -o "$T/foreign" "$T/c.jsonl"
expect_err_has "not a trawl index"
[ "$(ls -A "$T/foreign")" = "notes" ] || fail "foreign directory changed: $(ls -A "$T/foreign")"

# --- an empty directory is fine ----------------------------------------------
mkdir "$T/empty"
expect_rc 0 index -q -o "$T/empty" "$T/c.jsonl"
[ "$(count_docs "$T/empty")" = 1 ] || fail "empty directory: index not made"
[ ! -e "$T/empty/CREATING" ] || fail "CREATING marker left after the first commit"

# --- the leftover of an interrupted creation is taken over and cleaned --------
mkdir "$T/crashed"
: >"$T/crashed/LOCK"
: >"$T/crashed/CREATING"
cp "$T/empty"/seg-*.tws "$T/crashed/seg-000001-0000.tws"
expect_rc 0 index -q -o "$T/crashed" "$T/ab.jsonl"
[ "$(count_docs "$T/crashed")" = 2 ] || fail "interrupted creation: wrong document count"

# --- garbage collection removes only trawl's own unreferenced names ----------
G="$T/gc"
expect_rc 0 index -q -o "$G" "$T/ab.jsonl"
for f in seg-foo.tws notes.del seg-1-2.tws seg-000001-0000.tws.bak keep.tmp seg-x.tmp; do echo keep >"$G/$f"; done
echo junk >"$G/seg-000077-0000.tws"
echo junk >"$G/seg-000077-0000-000078.del"
echo junk >"$G/MANIFEST.tmp"
expect_rc 0 index -q -o "$G" "$T/c.jsonl"
for f in seg-foo.tws notes.del seg-1-2.tws seg-000001-0000.tws.bak keep.tmp seg-x.tmp; do
    [ -e "$G/$f" ] || fail "garbage collection removed a file it did not create: $f"
done
for f in seg-000077-0000.tws seg-000077-0000-000078.del MANIFEST.tmp; do
    [ ! -e "$G/$f" ] || fail "garbage collection left its own unreferenced file $f"
done
[ "$(count_docs "$G")" = 3 ] || fail "gc index: wrong document count"

# --- an oversized JSON line is skipped as it is read, not held ---------------
# 200 MiB on one line, between two good documents, through a pipe.
python3 -c '
import sys
o = sys.stdout.buffer
o.write(b"{\"id\":\"before\",\"body\":\"x\"}\n{\"id\":\"big\",\"body\":\"")
chunk = b"a" * (1 << 20)
for _ in range(200): o.write(chunk)
o.write(b"\"}\n{\"id\":\"after\",\"body\":\"y\"}\n")' >"$T/big.jsonl"
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M' -o "$T/rss" "$TRAWL_BIN" index -q -o "$T/big" - <"$T/big.jsonl" >"$T/out" 2>"$T/err"
    rc=$?
    kb=$(tail -n 1 "$T/rss")
    # The line limit is 64 MiB: what is held stays below it plus the program
    # (under AddressSanitizer, plus its shadow and quarantine; holding the
    # 200 MiB line would pass both limits).
    limit=120000
    grep -q "TRAWL_SANITIZE:BOOL=ON" "${TRAWL_BUILD_DIR:-.}/CMakeCache.txt" 2>/dev/null && limit=260000
    [ "$kb" -lt "$limit" ] || fail "oversized line: peak RSS $kb KiB, limit $limit (a 200 MiB line was held?)"
    echo "oversized line: peak RSS $kb KiB"
else
    run index -q -o "$T/big" - <"$T/big.jsonl"
fi
[ "$rc" = 0 ] || fail "oversized line: exit $rc: $(head -c 600 "$T/err")"
expect_err_has "<stdin>:2: line longer than"
[ "$(count_docs "$T/big")" = 2 ] || fail "oversized line: the documents around it were not both indexed"
expect_rc 1 index -q --strict -o "$T/bigstrict" - <"$T/big.jsonl"
rm -f "$T/big.jsonl"

# --- an oversized text file is skipped (sparse: nothing read) ----------------
mkdir "$T/texts"
echo "# Small" >"$T/texts/small.md"
truncate -s 70M "$T/texts/huge.txt"
expect_rc 0 index -q -o "$T/tx" "$T/texts"
expect_err_has "huge.txt: file larger than"
[ "$(count_docs "$T/tx")" = 1 ] || fail "oversized text file: wrong document count"
expect_rc 1 index -q --strict -o "$T/tx2" "$T/texts"
rm -f "$T/texts/huge.txt"

# --- --strict fails for an unreadable file inside a directory input ---------
ln -s "$T/texts/nowhere.txt" "$T/texts/dangling.txt"
expect_rc 0 index -q -o "$T/un1" "$T/texts"
expect_err_has "dangling.txt"
expect_rc 1 index -q --strict -o "$T/un2" "$T/texts"
[ ! -e "$T/un2/MANIFEST" ] || fail "--strict with an unreadable file committed"

# --- the prefixes of one query are bounded together --------------------------
# 3000 distinct words under each of p0..p4; each prefix alone is within its
# own limit of 1024 only for q-words, which have 1000 each.
python3 -c '
import json
for i in range(5):
    print(json.dumps({"id": "d%d" % i, "body": " ".join("q%dw%04d" % (i, k) for k in range(1000))}))' >"$T/many.jsonl"
expect_rc 0 index -q -o "$T/pre" "$T/many.jsonl"
expect_rc 0 search "$T/pre" "q0w*"
expect_rc 0 search "$T/pre" "q0w* OR q1w* OR q2w* OR q3w*"
expect_rc 1 search "$T/pre" "q0w* OR q1w* OR q2w* OR q3w* OR q4w*"
expect_err_has "limit 4096"

exit "$fails"
