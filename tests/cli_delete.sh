#!/bin/sh
# cli_delete.sh — `trawl delete` by id and by query: the deleted documents
# leave search totals, get and stats at once (one commit), the count printed
# for --query equals the search total before, other documents stay, and a
# query error or a directory that is not an index changes nothing. Oracle: the
# totals `trawl search` gave before the deletion.
. "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}/tests/shlib.sh"
S="$TRAWL_SOURCE_DIR/sample/trends.jsonl"
I="$T/idx"
docs() { "$TRAWL_BIN" stats --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"])'; }
total() { "$TRAWL_BIN" search -k 0 --json "$1" "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }

expect_rc 0 index -q -o "$I" "$S"
n0=$(docs "$I")
first=$(head -n 1 "$S" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
second=$(sed -n 2p "$S" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# --- by id: two ids and one that does not exist ----------------------------
expect_rc 0 delete "$I" "$first" "$second" no-such-id
[ "$(docs "$I")" = $((n0 - 2)) ] || fail "delete by id: $(docs "$I") documents, expected $((n0 - 2))"
expect_rc 1 get "$I" "$first"
expect_rc 1 get "$I" "$second"
expect_rc 0 check "$I"

# --- by query: the count printed is the search total before -----------------
nvec=$(total "$I" "vector")
[ "$nvec" -gt 0 ] || fail "the sample has no 'vector' document: the test is too weak"
expect_rc 0 delete "$I" --query vector
[ "$(cat "$T/out")" = "$nvec" ] || fail "delete --query printed $(cat "$T/out"), search said $nvec"
[ "$(total "$I" vector)" = 0 ] || fail "'vector' still matches after its deletion"
[ "$(docs "$I")" = $((n0 - 2 - nvec)) ] || fail "delete --query: wrong document count"
expect_rc 0 check "$I"

# --- stats: deleted documents per segment add up; a merge drops them -------
segstats() { "$TRAWL_BIN" stats --json "$1" | python3 -c '
import json, sys
s = json.load(sys.stdin)
segs = s["segment_list"]
print(len(segs), sum(x["deleted"] for x in segs), s["deleted"], sum(x["documents"] - x["deleted"] for x in segs), s["documents"], s["merge"]["pending_merges"])'; }
set -- $(segstats "$I")
[ "$2" = "$3" ] && [ "$2" -gt 0 ] || fail "stats: per-segment deleted $2, total deleted $3"
[ "$4" = "$5" ] || fail "stats: per-segment live $4, documents $5"
expect_rc 0 merge "$I"
set -- $(segstats "$I")
[ "$2" = 0 ] && [ "$3" = 0 ] && [ "$6" = 0 ] || fail "after merge: deleted $2/$3, pending merges $6"
[ "$4" = "$5" ] && [ "$5" = $((n0 - 2 - nvec)) ] || fail "after merge: $5 documents"
expect_rc 0 check "$I"

# --- re-adding a deleted id brings it back ----------------------------------
head -n 1 "$S" >"$T/first.jsonl"
expect_rc 0 index -q -o "$I" "$T/first.jsonl"
expect_rc 0 get "$I" "$first"

# --- errors change nothing --------------------------------------------------
before=$(docs "$I")
expect_rc 1 delete "$I" --query '"unclosed'
[ "$(docs "$I")" = "$before" ] || fail "a failed delete --query changed the index"
mkdir "$T/notindex"
expect_rc 1 delete "$T/notindex" some-id
[ -z "$(ls -A "$T/notindex")" ] || fail "delete on a non-index directory created files"
expect_rc 2 delete "$I"
expect_rc 2 delete "$I" --query x some-id

exit "$fails"
