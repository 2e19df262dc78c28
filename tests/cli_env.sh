#!/bin/sh
# cli_env.sh — the environment variables of `trawl` (TRAWL_THREADS,
# TRAWL_RAM_MB, TRAWL_SIMD): bad values stop the command with exit 2 and a
# message naming the variable before anything is written; good values take
# effect. Oracles: the index written with no analysis thread (every byte of
# every file must be the same with 3 threads, the library's promise); the
# segment count of the manifest (a 1 MiB budget must cut several segments
# where the default makes one); the default run's search output (the same at
# every SIMD level).
. "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}/tests/shlib.sh"

python3 - "$T/docs.jsonl" <<'PYEOF'
import json, random, sys
r = random.Random(7)
words = ["w%d" % i for i in range(3000)]
with open(sys.argv[1], "w") as f:
    for i in range(6000):
        body = " ".join(r.choice(words[: r.choice([50, 3000])]) for _ in range(r.randint(5, 120)))
        f.write(json.dumps({"id": "d%d" % i, "title": r.choice(words), "body": body}) + "\n")
PYEOF

# Bad values: usage error, the variable named, no index directory made.
for bad in "TRAWL_THREADS=abc" "TRAWL_THREADS=-1" "TRAWL_THREADS=1025" "TRAWL_THREADS=99999999999999999999" \
    "TRAWL_THREADS=2x" "TRAWL_THREADS= 2" "TRAWL_RAM_MB=0" "TRAWL_RAM_MB=-5" "TRAWL_RAM_MB=1048577" \
    "TRAWL_RAM_MB=1.5" "TRAWL_SIMD=avx3" "TRAWL_SIMD=sse4" "TRAWL_SIMD=scalar,avx2"; do
    name=${bad%%=*}
    env "$bad" "$TRAWL_BIN" index -q -o "$T/bad" "$T/docs.jsonl" >"$T/out" 2>"$T/err"
    rc=$?
    [ "$rc" = 2 ] || fail "$bad trawl index: exit $rc, expected 2"
    grep -q "$name" "$T/err" || fail "$bad: the message does not name $name: $(cat "$T/err")"
    [ -e "$T/bad" ] && fail "$bad: trawl index created $T/bad before refusing"
    rm -rf "$T/bad"
done

# Reference: no analysis thread, 1 MiB budget.
TRAWL_THREADS=0 TRAWL_RAM_MB=1 "$TRAWL_BIN" index -q -o "$T/t0" "$T/docs.jsonl" || fail "index with TRAWL_THREADS=0"
TRAWL_THREADS=3 TRAWL_RAM_MB=1 "$TRAWL_BIN" index -q -o "$T/t3" "$T/docs.jsonl" || fail "index with TRAWL_THREADS=3"
TRAWL_THREADS= TRAWL_RAM_MB= "$TRAWL_BIN" index -q -o "$T/dflt" "$T/docs.jsonl" || fail "index with empty variables"
segs() { python3 -c 'import json,sys; print(len(json.loads(open(sys.argv[1]).readline())["segments"]))' "$1/MANIFEST"; }
n0=$(segs "$T/t0")
n3=$(segs "$T/t3")
nd=$(segs "$T/dflt")
[ "$nd" = 1 ] || fail "the default budget made $nd segments of a few MB"
[ "$n0" -gt 1 ] 2>/dev/null || fail "TRAWL_RAM_MB=1 made $n0 segments, expected several"
[ "$n0" = "$n3" ] || fail "TRAWL_THREADS=0 made $n0 segments, TRAWL_THREADS=3 $n3"
for f in "$T"/t0/seg-*.tws; do
    cmp -s "$f" "$T/t3/$(basename "$f")" || fail "$(basename "$f") differs between TRAWL_THREADS=0 and 3"
done

# SIMD levels: the same output as the default for a few queries.
strip='import json,sys; d=json.load(sys.stdin); d.pop("took_us"); print(json.dumps(d, sort_keys=True))'
for q in "w1 w2" "w3 OR w4 OR w5" "\"w1 w2\"" "w1 -w2"; do
    "$TRAWL_BIN" search --json -k 20 "$T/t0" "$q" | python3 -c "$strip" >"$T/want" || fail "search $q"
    grep -q '"total": [1-9]' "$T/want" || fail "'$q' matches nothing: the comparison would be empty"
    for level in scalar sse4.1 SSE41 avx2 avx512 auto ""; do
        env TRAWL_SIMD="$level" "$TRAWL_BIN" search --json -k 20 "$T/t0" "$q" | python3 -c "$strip" >"$T/got" ||
            fail "search TRAWL_SIMD=$level $q"
        cmp -s "$T/want" "$T/got" || fail "TRAWL_SIMD=$level: '$q' differs from the default"
    done
done
for args in "search $T/t0 w1" "get $T/t0 d1" "stats $T/t0"; do
    # shellcheck disable=SC2086
    env TRAWL_SIMD=bogus "$TRAWL_BIN" $args >/dev/null 2>"$T/err"
    rc=$?
    [ "$rc" = 2 ] && grep -q TRAWL_SIMD "$T/err" || fail "TRAWL_SIMD=bogus trawl $args: exit $rc, $(cat "$T/err")"
done

[ "$fails" = 0 ] && echo "ok"
exit "$fails"
