# examplelib.sh — sourced by check_examples.sh and check_install.sh: how to
# judge what examples/embed.c printed. The oracle is the trawl CLI reading the
# index the example wrote (`trawl search --json`), plus the facts of the two
# documents embed.c adds (both contain "search" and "engine").

# check_embed_output OUT DIR QUERY LABEL: OUT holds embed's stdout after it ran on
# index directory DIR with QUERY. Prints a FAIL line and returns 1 on mismatch.
check_embed_output() {
    "$TRAWL_BIN" search --json "$2" "$3" >"$1.cli" 2>"$1.clierr" ||
        { echo "FAIL: $4: trawl search --json $2: $(cat "$1.clierr")" >&2; return 1; }
    /usr/bin/python3 - "$1" "$1.cli" "$4" <<'PY'
import html, json, re, sys
out, cli, label = open(sys.argv[1]).read().splitlines(), json.load(open(sys.argv[2])), sys.argv[3]
def fail(msg):
    sys.exit(f"FAIL: {label}: {msg}\n--- printed:\n" + "\n".join(out))
if not out or out[0] != f"{cli['total']} hits":
    fail(f"first line should be '{cli['total']} hits'")
if cli["total"] != 2 or sorted(h["id"] for h in cli["hits"]) != ["a", "b"]:
    fail(f"the index should hold documents a and b, both matching: {cli}")
if len(out) - 1 != len(cli["hits"]):
    fail(f"{len(out) - 1} hit lines, the CLI finds {len(cli['hits'])}")
for line, hit in zip(out[1:], cli["hits"]):
    m = re.fullmatch(r"(\d+\.\d{4}) (\S+)  (.*)", line)
    if not m:
        fail(f"hit line {line!r} is not 'SCORE ID  SNIPPET'")
    plain = html.unescape(re.sub(r"</?mark>", "", hit["snippet"]))
    if (float(m[1]), m[2], m[3]) != (round(hit["score"], 4), hit["id"], plain):
        fail(f"hit line {line!r}, the CLI has {hit}")
PY
}
