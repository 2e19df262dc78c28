#!/bin/sh
# cli_trends_sample.sh — `trawl search` with filters, --sort, --facet and
# --histogram on sample/trends.jsonl, checked against a brute force: a Python
# scan of the same JSON Lines computes, for queries made only of filters on the
# typed fields of the default trend schema (date, tags, source, author), the
# exact total, the facet values and counts (count descending, then bytes), the
# date facet's min and max, the histogram buckets (matches and all documents,
# empty buckets between the first and last match included, at an offset from
# UTC) and the order of a sort by date or source; `trawl search --json` must
# report exactly that.
. "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}/tests/shlib.sh"

S="$TRAWL_SOURCE_DIR/sample/trends.jsonl"
[ -f "$S" ] || { echo "SKIP: no sample/trends.jsonl" >&2; exit 77; }
expect_rc 0 index -q -o "$T/ix" "$S"
# A build that does not write typed fields yet cannot run these: skip, saying so.
run search "$T/ix" 'date>=2020' -k 0
if [ "$rc" != 0 ] && grep -q "is text, not keyword" "$T/err"; then
    echo "SKIP: this build writes no typed fields: $(head -c 200 "$T/err")" >&2
    exit 77
fi

# Each case: query, extra options; the oracle reads them from the same file.
cat > "$T/cases" <<'CASES'
tags:=ai	--histogram date:year --facet tags:5 --facet source:3 --facet date
tags:=ai	--histogram date:month --tz +05:30 --sort date:desc -k 50
date>=2025-03	--histogram date:quarter --facet tags:10 --sort date:asc -k 7
date:[2024-06 TO 2025-02-15]	--facet source:20 --histogram date:week
year:2025 tags:=databases	--facet tags:3 --sort date:desc -k 50
date<2025	--histogram date:day --tz -08:00 --facet date
source:="The Cloud Bill"	--sort date:desc -k 50 --histogram date:month
tags:=kubernetes	--filter date>=2025 --facet tags:4 --sort source:asc -k 50
CASES

i=0
while IFS='	' read -r q opts; do
    i=$((i + 1))
    # shellcheck disable=SC2086
    run search "$T/ix" "$q" --json $opts
    if [ "$rc" != 0 ]; then
        fail "case $i [$q] $opts: exit $rc: $(head -c 400 "$T/err")"
        continue
    fi
    cp "$T/out" "$T/got.$i"
done < "$T/cases"

/usr/bin/python3 - "$S" "$T" <<'PY' || fail "brute force differs (see above)"
import datetime, json, re, sys
src, T = sys.argv[1], sys.argv[2]
docs = {}
for line in open(src, encoding="utf-8"):
    if line.strip():
        d = json.loads(line)
        docs[d["id"]] = d
docs = list(docs.values())

def when(d):
    s = d.get("date")
    if s is None: return None
    if isinstance(s, int): return datetime.datetime.fromtimestamp(s, datetime.timezone.utc)
    if len(s) == 10: return datetime.datetime.strptime(s, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(datetime.timezone.utc)

def span(text):
    # the [start, end) of a partial date
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 1: a = datetime.datetime(parts[0], 1, 1); b = datetime.datetime(parts[0] + 1, 1, 1)
    elif len(parts) == 2:
        a = datetime.datetime(parts[0], parts[1], 1)
        b = datetime.datetime(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
    else: a = datetime.datetime(*parts); b = a + datetime.timedelta(days=1)
    return a.replace(tzinfo=datetime.timezone.utc), b.replace(tzinfo=datetime.timezone.utc)

def kw(d, f):
    v = d.get(f)
    return [] if v is None else (v if isinstance(v, list) else [v])

def match_one(d, flt):
    m = re.fullmatch(r'(\w+):="?(.*?)"?', flt)
    if m: return m.group(2) in kw(d, m.group(1))
    t = when(d)
    if t is None: return False
    m = re.fullmatch(r"year:(\d{4})", flt)
    if m: a, b = span(m.group(1)); return a <= t < b
    m = re.fullmatch(r"date:\[(\S+) TO (\S+)\]", flt)
    if m: return span(m.group(1))[0] <= t < span(m.group(2))[1]
    m = re.fullmatch(r"date(>=|<)(\S+)", flt)
    if m: a, _ = span(m.group(2)); return t >= a if m.group(1) == ">=" else t < a
    raise SystemExit("oracle: unknown filter " + flt)

def split_filters(q):
    return re.findall(r'\w+:="[^"]*"|\w+:\[[^\]]*\]|\S+', q)

def bucket(t, unit, off):
    t = t + off
    if unit == "year": return t.strftime("%Y"), datetime.datetime(t.year, 1, 1)
    if unit == "quarter":
        q = (t.month - 1) // 3
        return "%04d-Q%d" % (t.year, q + 1), datetime.datetime(t.year, 3 * q + 1, 1)
    if unit == "month": return t.strftime("%Y-%m"), datetime.datetime(t.year, t.month, 1)
    if unit == "day": return t.strftime("%Y-%m-%d"), datetime.datetime(t.year, t.month, t.day)
    if unit == "week":
        y, w, _ = t.isocalendar()
        monday = datetime.datetime(t.year, t.month, t.day) - datetime.timedelta(days=t.weekday())
        return "%04d-W%02d" % (y, w), monday
    raise SystemExit("oracle: unit " + unit)

def next_start(start, unit):
    if unit == "year": return start.replace(year=start.year + 1)
    if unit == "quarter": return start.replace(year=start.year + (start.month == 10), month=(start.month + 2) % 12 + 1)
    if unit == "month": return start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    return start + datetime.timedelta(days=7 if unit == "week" else 1)

bad = 0
def check(cond, msg):
    global bad
    if not cond:
        bad += 1
        print("FAIL:", msg)

for i, line in enumerate(open(T + "/cases", encoding="utf-8"), 1):
    q, opts = line.rstrip("\n").split("\t")
    try: got = json.load(open("%s/got.%d" % (T, i), encoding="utf-8"))
    except FileNotFoundError: continue
    args = opts.split()
    flts = split_filters(q) + [args[j + 1] for j, a in enumerate(args) if a == "--filter"]
    m = [d for d in docs if all(match_one(d, f) for f in flts)]
    what = "case %d [%s] %s" % (i, q, opts)
    check(got["total"] == len(m), "%s: total %s, brute force %d" % (what, got["total"], len(m)))
    facets = [args[j + 1] for j, a in enumerate(args) if a == "--facet"]
    for k, spec in enumerate(facets):
        f, _, n = spec.partition(":")
        gf = got["facets"][k]
        if f == "date":
            ts = sorted(when(d) for d in m if when(d) is not None)
            want = (ts[0].strftime("%Y-%m-%dT%H:%M:%SZ"), ts[-1].strftime("%Y-%m-%dT%H:%M:%SZ")) if ts else (None, None)
            check((gf.get("min"), gf.get("max")) == want, "%s: date facet %s..%s, brute force %s..%s"
                  % (what, gf.get("min"), gf.get("max"), *want))
            check(gf["docs"] == len(ts), "%s: date facet docs %s, brute force %d" % (what, gf["docs"], len(ts)))
            continue
        counts = {}
        for d in m:
            for v in set(kw(d, f)): counts[v] = counts.get(v, 0) + 1
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].encode()))[: int(n or 10)]
        have = [(v["value"], v["count"]) for v in gf["values"]]
        check(have == top, "%s: facet %s %s, brute force %s" % (what, f, have, top))
        check(gf["docs"] == sum(1 for d in m if kw(d, f)), "%s: facet %s docs" % (what, f))
    if "--histogram" in args:
        unit = args[args.index("--histogram") + 1].split(":")[1]
        tz = args[args.index("--tz") + 1] if "--tz" in args else "+00:00"
        sign = -1 if tz[0] == "-" else 1
        off = sign * datetime.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
        mb = {}
        for d in m:
            if when(d) is not None:
                lab, st = bucket(when(d).replace(tzinfo=None), unit, off)
                mb[st] = mb.get(st, (lab, 0))[0], mb.get(st, (lab, 0))[1] + 1
        ab = {}
        for d in docs:
            if when(d) is not None:
                lab, st = bucket(when(d).replace(tzinfo=None), unit, off)
                ab[st] = ab.get(st, 0) + 1
        want = []
        if mb:
            st, last = min(mb), max(mb)
            while st <= last:
                lab = mb[st][0] if st in mb else bucket(st - off, unit, off)[0]
                want.append((lab, mb.get(st, ("", 0))[1], ab.get(st, 0)))
                st = next_start(st, unit)
        have = [(b["bucket"], b["matches"], b["docs"]) for b in got.get("histogram", [])]
        check(have == want, "%s: histogram\n  got   %s\n  brute %s" % (what, have, want))
    if "--sort" in args:
        f, _, order = args[args.index("--sort") + 1].partition(":")
        if f == "date": key = lambda d: when(d).strftime("%Y-%m-%dT%H:%M:%SZ") if when(d) else None
        else: key = lambda d: min(kw(d, f), key=lambda v: v.encode()) if kw(d, f) else None
        vals = [key(d) for d in m]
        withv = sorted([v for v in vals if v is not None], key=lambda v: v.encode(), reverse=(order == "desc"))
        want = withv + [None] * (len(vals) - len(withv))
        have = [h.get("sort_value") for h in got["hits"]]
        k = int(args[args.index("-k") + 1]) if "-k" in args else 10
        check(have == want[:k], "%s: sort values\n  got   %s\n  brute %s" % (what, have, want[:k]))
sys.exit(1 if bad else 0)
PY
[ "$fails" = 0 ] || exit 1
echo "ok: $i cases on sample/trends.jsonl"
