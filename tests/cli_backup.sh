#!/bin/sh
# cli_backup.sh — `trawl backup` while a writer keeps adding, replacing and
# merging in the background: every copy passes `trawl check`, holds one of the
# document counts the writer committed, and its documents equal the source's;
# files are hard links on the same file system; a non-empty destination is
# refused. Oracle: the counts the writer loop recorded after each commit.
. "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}/tests/shlib.sh"
S="$TRAWL_SOURCE_DIR/sample/trends.jsonl"
I="$T/idx"
docs() { "$TRAWL_BIN" stats --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"])'; }

expect_rc 0 index -q -o "$I" "$S"
docs "$I" >"$T/counts"
# Batches of new documents (and new versions of the sample's).
python3 -c '
import json, sys
for b in range(40):
    with open("%s/b%02d.jsonl" % (sys.argv[1], b), "w") as f:
        for i in range(30):
            f.write(json.dumps({"id": "n%02d-%02d" % (b, i), "body": "batch %d doc %d words" % (b, i)}) + "\n")
' "$T"
# The writer loop: commit a batch, record the count, now and then merge.
(
    for b in $(seq -w 0 39); do
        "$TRAWL_BIN" index -q -o "$I" "$T/b$b.jsonl" || echo "index failed" >>"$T/loop_err"
        docs "$I" >>"$T/counts"
        case $b in *5) "$TRAWL_BIN" merge "$I" --max-segments 2 || echo "merge failed" >>"$T/loop_err" ;; esac
    done
) &
loop=$!
n=0
while kill -0 "$loop" 2>/dev/null && [ "$n" -lt 30 ]; do
    n=$((n + 1))
    expect_rc 0 backup "$I" "$T/copy$n"
    expect_rc 0 check "$T/copy$n"
done
wait "$loop"
[ ! -e "$T/loop_err" ] || fail "the writer loop failed: $(cat "$T/loop_err")"
echo "$n backups taken while the writer worked"
[ "$n" -ge 3 ] || fail "only $n backups ran while the writer worked: the test is too weak"
for k in $(seq 1 "$n"); do
    c=$(docs "$T/copy$k")
    grep -qx "$c" "$T/counts" || fail "copy $k holds $c documents, which no commit had ($(tr '\n' ' ' <"$T/counts"))"
done
# After the writer stopped: a copy equals the source, document by document.
expect_rc 0 backup "$I" "$T/final"
expect_rc 0 check "$T/final"
[ "$(docs "$T/final")" = "$(docs "$I")" ] || fail "final copy: document count differs"
for id in $(python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in open(sys.argv[1])]' "$S" | head -n 10) n39-29 n00-00; do
    a=$("$TRAWL_BIN" get "$I" "$id")
    b=$("$TRAWL_BIN" get "$T/final" "$id")
    [ "$a" = "$b" ] || fail "document $id differs in the copy"
done
seg=$(ls "$T/final" | grep '\.tws$' | head -n 1)
[ "$(stat -c %h "$T/final/$seg")" -ge 2 ] || fail "$seg was copied, not hard-linked, on one file system"
# A non-empty destination is refused and left alone.
mkdir "$T/busy"
echo keep >"$T/busy/file"
expect_rc 1 backup "$I" "$T/busy"
[ "$(ls "$T/busy")" = "file" ] || fail "backup into a non-empty directory changed it"
expect_rc 1 backup "$T/nothing" "$T/copy-none"
exit "$fails"
