#!/bin/sh
# cli_schema.sh — tests `trawl index --schema` and field types from the CLI:
# values that do not fit their type are reported as FILE:LINE and skipped (or
# fail the run with --strict), a bad or unreadable schema file is an error
# that creates nothing, an existing index keeps its schema (another one is an
# error, the same one is fine), the default schema applies without --schema,
# and `trawl stats` shows each field's types and the typed fields' counts and
# extremes — checked against what the input holds (python3 oracle).
. "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}/tests/shlib.sh"
expect_err_has() { grep -qF -- "$1" "$T/err" || fail "stderr lacks '$1': $(head -c 600 "$T/err")"; }

S="$T/schema.json"
printf '%s\n' '{"fields": {"tags": "keyword", "topic": "text+keyword", "when": "date", "score": "number",' \
    '"raw": "none"}, "default": "text"}' >"$S"
J="$T/docs.jsonl"
{
    printf '%s\n' '{"id":"a","title":"alpha","tags":["AI","rust"],"topic":"Vector Databases","when":"2024-02-29","score":3}' # 1
    printf '%s\n' '{"id":"b","title":"beta","tags":"AI","when":"2025-03-01T10:00:00+02:00","score":-1.5,"raw":"zzz"}'     # 2
    printf '%s\n' '{"id":"c","title":"gamma","when":"2024-13-01"}'                                                 # 3 bad month
    printf '%s\n' '{"id":"d","title":"delta","tags":[1,2]}'                                                      # 4 not strings
    printf '%s\n' '{"id":"e","title":"eps","score":"12"}'                                                        # 5 string number
    printf '%s\n' '{"id":"f","title":"phi","when":["2024"]}'                                                     # 6 array date
    printf '%s\n' '{"id":"g","title":"gee","when":1700000000,"topic":["x",7]}'                                  # 7 ok (text+keyword lenient)
} >"$J"

# Skipped with FILE:LINE reasons; the rest committed.
expect_rc 0 index -q -o "$T/ix" --schema "$S" "$J"
expect_err_has "docs.jsonl:3: field \"when\": \"2024-13-01\" is not a date"
expect_err_has "docs.jsonl:4: field \"tags\": a keyword value must be a string"
expect_err_has "docs.jsonl:5: field \"score\": a number field takes a JSON number"
expect_err_has "docs.jsonl:6: field \"when\": a date field holds one value, not an array"
run get "$T/ix" c
[ "$rc" = 1 ] || fail "document c (bad date) was indexed"
run get "$T/ix" g
[ "$rc" = 0 ] || fail "document g missing: $(cat "$T/err")"

# --strict: the first bad value fails the run, nothing committed.
expect_rc 1 index -q --strict -o "$T/strict" --schema "$S" "$J"
expect_err_has "docs.jsonl:3:"
run get "$T/strict" a
[ "$rc" != 0 ] || fail "--strict committed documents"

# count Q: the total of `trawl search --json -k 0` for Q in $T/ix, in $n.
count() {
    run search --json -k 0 "$T/ix" "$1"
    n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"])' "$T/out" 2>/dev/null)
}
# Keyword-only and date fields are not words; text+keyword and text are.
count alpha
[ "$n" = 1 ] || fail "alpha: $n"
count databases
[ "$n" = 1 ] || fail "text+keyword topic not searchable: $n"
count rust
[ "$n" = 0 ] || fail "keyword-only tags searchable as text: $n"
count zzz
[ "$n" = 0 ] || fail "a 'none' field was indexed: $n"

# stats: types and typed-field figures, against the input.
expect_rc 0 stats --json "$T/ix"
python3 - "$T/out" <<'EOF' || fail "stats"
import json, sys
st = json.load(open(sys.argv[1]))
tf = st["typed_fields"]
bad = []
def want(k, v, got):
    if got != v:
        bad.append("%s: %r, want %r" % (k, got, v))
want("schema.tags", "keyword", st["schema"]["fields"]["tags"])
want("schema.default", "text", st["schema"]["default"])
want("tags.documents", 2, tf["tags"]["documents"])
want("tags.distinct", 2, tf["tags"]["distinct_values"])           # AI, rust
want("topic.distinct", 2, tf["topic"]["distinct_values"])         # Vector Databases, x
want("when.min", "2023-11-14T22:13:20Z", tf["when"]["min"])        # 1700000000
want("when.max", "2025-03-01T08:00:00Z", tf["when"]["max"])
want("when.documents", 3, tf["when"]["documents"])
want("score.min", -1.5, tf["score"]["min"])
want("score.max", 3, tf["score"]["max"])
types = {f["name"]: f.get("types") for f in st["fields"]}
want("title types", "text", types.get("title"))
want("topic types", "text+keyword", types.get("topic"))
for b in bad:
    print("stats:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# The schema stays: another one is refused, the same one (or none) is fine.
printf '%s\n' '{"fields": {"tags": "text"}}' >"$T/other.json"
expect_rc 1 index -q -o "$T/ix" --schema "$T/other.json" "$J"
expect_err_has "another schema"
printf '%s\n' '{"id":"h","title":"eta","tags":"new"}' >"$T/more.jsonl"
expect_rc 0 index -q -o "$T/ix" --schema "$S" "$T/more.jsonl"
expect_rc 0 index -q -o "$T/ix" "$T/more.jsonl"

# A bad schema file: an error naming the problem, and no index directory.
printf '%s\n' '{"fields": {"tags": "tag"}}' >"$T/bad.json"
expect_rc 1 index -q -o "$T/bad" --schema "$T/bad.json" "$J"
expect_err_has 'schema field "tags"'
[ ! -e "$T/bad" ] || fail "a bad schema left $T/bad behind"
printf '%s\n' '{"fields": ' >"$T/trunc.json"
expect_rc 1 index -q -o "$T/bad" --schema "$T/trunc.json" "$J"
expect_err_has "invalid JSON"
expect_rc 1 index -q -o "$T/bad" --schema "$T/absent.json" "$J"
expect_err_has "cannot read the schema file"

# The default schema: date is a date, tags are text+keyword.
expect_rc 0 index -q -o "$T/def" "$TRAWL_SOURCE_DIR/sample/trends.jsonl"
expect_rc 0 stats --json "$T/def"
python3 - "$T/out" "$TRAWL_SOURCE_DIR/sample/trends.jsonl" <<'EOF' || fail "default schema stats"
import json, sys
st = json.load(open(sys.argv[1]))
docs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
tags = {t for d in docs for t in d.get("tags", [])}
srcs = {d["source"] for d in docs if "source" in d}
dates = sorted(d["date"] for d in docs if "date" in d)
tf = st["typed_fields"]
ok = (tf["tags"]["distinct_values"] == len(tags) and tf["source"]["distinct_values"] == len(srcs)
      and tf["date"]["min"] == dates[0] + "T00:00:00Z" and tf["date"]["max"] == dates[-1] + "T00:00:00Z"
      and st["schema"]["fields"]["date"] == "date")
if not ok:
    print("default schema stats:", json.dumps(tf), file=sys.stderr)
sys.exit(0 if ok else 1)
EOF

if [ "$fails" -ne 0 ]; then
    echo "cli_schema: $fails failure(s)" >&2
    exit 1
fi
echo "cli_schema: ok"
