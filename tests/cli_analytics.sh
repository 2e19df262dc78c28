#!/bin/sh
# cli_analytics.sh — facets, date histograms, emerging terms, bursts and
# `trawl similar` on sample/trends.jsonl (default trend schema: date a date,
# tags and source text+keyword), every number checked against an independent
# computation in Python over the JSON lines: facet counts and date extremes
# over the search's own match set (its ids), month and ISO-week buckets with
# an offset (Python's datetime), JLH and chi-square of every term from terms
# given by `trawl analyze`, and Kleinberg's automaton by a separate Viterbi.
. "${TRAWL_SOURCE_DIR:?TRAWL_SOURCE_DIR must name the source tree}/tests/shlib.sh"

"$TRAWL_BIN" index -q -o "$T/idx" "$TRAWL_SOURCE_DIR/sample/trends.jsonl" || fail "index the sample"
run search "$T/idx" cloud --facet tags -k 1
if [ "$rc" != 0 ] && grep -q "no keyword, date or number field" "$T/err"; then
    echo "SKIP: this build stores no typed fields yet" >&2
    exit 77
fi
/usr/bin/python3 - "$TRAWL_BIN" "$T/idx" "$TRAWL_SOURCE_DIR/sample/trends.jsonl" <<'PYEOF' || fails=$((fails + 1))
import datetime, json, math, subprocess, sys
trawl, idx, sample = sys.argv[1:4]
docs = [json.loads(l) for l in open(sample, encoding="utf-8") if l.strip()]
byid = {d["id"]: d for d in docs}
bad = 0

def check(cond, msg):
    global bad
    if not cond:
        bad += 1
        print("FAIL:", msg, file=sys.stderr)

def tj(*args):
    out = subprocess.run([trawl, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit("trawl %s failed: %s" % (" ".join(args), out.stderr))
    return json.loads(out.stdout)

def day(d):
    return datetime.datetime.strptime(d["date"][:10], "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)

# ---- facets and histograms over each query's match set ----
for q in ["cloud", "ai OR rust", "data*", "source:=\"Query Plan Weekly\" OR kubernetes"]:
    try:
        r = tj("search", "--json", "-k", "1000", "--facet", "tags:5", "--facet", "source", "--facet", "date",
               "--histogram", "date:month", idx, q)
    except SystemExit as e:
        if "source:=" in q:
            continue  # filters not in this build
        raise
    ids = [h["id"] for h in r["hits"]]
    check(len(ids) == r["total"], "%s: %d hits, total %d" % (q, len(ids), r["total"]))
    m = [byid[i] for i in ids]
    facets = {f["field"]: f for f in r["facets"]}
    for field, n in (("tags", 5), ("source", 10)):
        counts = {}
        for d in m:
            vals = d.get(field, [])
            for v in set(vals if isinstance(vals, list) else [vals]):
                counts[v] = counts.get(v, 0) + 1
        want = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].encode()))[:n]
        got = [(v["value"], v["count"]) for v in facets[field]["values"]]
        check(got == want, "%s: facet %s %s, want %s" % (q, field, got, want))
        check(facets[field]["docs"] == sum(1 for d in m if d.get(field)), "%s: facet %s docs" % (q, field))
    dates = sorted(d["date"][:10] for d in m)
    f = facets["date"]
    check(f["type"] == "date" and f["min"] == dates[0] + "T00:00:00Z" and f["max"] == dates[-1] + "T00:00:00Z",
          "%s: date facet %s..%s, want %s..%s" % (q, f.get("min"), f.get("max"), dates[0], dates[-1]))
    # Month buckets from the first to the last match, all documents counted too.
    key = lambda d: d["date"][:7]
    months = []
    y, mo = map(int, dates[0][:7].split("-"))
    while "%04d-%02d" % (y, mo) <= dates[-1][:7]:
        months.append("%04d-%02d" % (y, mo))
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    want = [(b, sum(1 for d in m if key(d) == b), sum(1 for d in docs if key(d) == b)) for b in months]
    got = [(h["bucket"], h["matches"], h["docs"]) for h in r["histogram"]]
    check(got == want, "%s: month histogram %s, want %s" % (q, got, want))

# The auto operator matches what OR matches: the same facets and histogram.
a = tj("search", "--json", "-k", "1", "--op", "auto", "--facet", "tags", "--histogram", "date:year", idx, "ai rust")
o = tj("search", "--json", "-k", "1", "--op", "or", "--facet", "tags", "--histogram", "date:year", idx, "ai rust")
check(a["facets"] == o["facets"] and a["histogram"] == o["histogram"], "--op auto facets differ from --op or")

# ISO weeks read at -05:00: midnight UTC dates fall on the previous day.
r = tj("search", "--json", "-k", "1000", "--histogram", "date:week", "--tz", "-05:00", idx, "ai")
tz = datetime.timezone(datetime.timedelta(hours=-5))
def wk(d):
    c = day(d).astimezone(tz).isocalendar()
    return "%04d-W%02d" % (c[0], c[1])
m = [byid[h["id"]] for h in r["hits"]]
got = {h["bucket"]: (h["matches"], h["docs"]) for h in r["histogram"]}
for b, (mm, dd) in got.items():
    check(mm == sum(1 for d in m if wk(d) == b) and dd == sum(1 for d in docs if wk(d) == b), "week %s" % b)
check(sum(v[0] for v in got.values()) == len(m), "weeks cover every match")
check(r["histogram"][0]["bucket"] == min(wk(d) for d in m) and r["histogram"][-1]["bucket"] == max(wk(d) for d in m),
      "week range")

# ---- emerging terms ----
def terms(d):
    out = set()
    for f in ("title", "body", "tags", "source"):
        v = d.get(f)
        for text in (v if isinstance(v, list) else [v]) if v else []:
            out |= {t["term"] for t in tj("analyze", "--json", text)}
    return out
T = {d["id"]: terms(d) for d in docs}
def emerging(query_ids, wlo, whi, blo, bhi, mind, score, own=()):
    fg = [d for d in docs if wlo <= d["date"][:10] < whi and (query_ids is None or d["id"] in query_ids)]
    bg = [d for d in docs if blo <= d["date"][:10] < bhi]
    fgids = {d["id"] for d in fg}
    rest = [d for d in bg if d["id"] not in fgids]
    res = []
    for t in set().union(*(T[d["id"]] for d in fg)) if fg else []:
        a = sum(1 for d in fg if t in T[d["id"]])
        if a < mind: continue
        # The query's own terms (analyzed words; prefixes: every term they start) are not listed.
        if any(t == o or (o.endswith("*") and t.startswith(o[:-1])) for o in own): continue
        b = sum(1 for d in bg if t in T[d["id"]])
        c = sum(1 for d in rest if t in T[d["id"]])
        pf, pb = a / len(fg), (b / len(bg) if bg else 0)
        jlh = (pf - pb) * pf / pb if b and pf > pb else 0.0
        n11, n01, n10, n00 = a, len(fg) - a, c, len(rest) - c
        n = n11 + n01 + n10 + n00
        den = (n11 + n01) * (n11 + n10) * (n01 + n00) * (n10 + n00)
        chi = 0.0 if den == 0 or n11 / (n11 + n01) < n10 / (n10 + n00) else n * (n11 * n00 - n01 * n10) ** 2 / den
        s = chi if score == "chi2" else jlh
        if s > 0: res.append((t, a, b, jlh, chi, s))
    res.sort(key=lambda x: (-x[5], -x[1], x[0].encode()))
    return res, len(fg), len(bg)

for args, qids, w, bgr, mind, score in [
        ((), None, ("2025-01-01", "2025-07-01"), ("0000", "9999"), 3, "jlh"),
        (("--background", "2019..2024", "--score", "chi2", "--min-docs", "2"), None, ("2025-01-01", "2025-07-01"),
         ("2019-01-01", "2025-01-01"), 2, "chi2"),
        (("cloud",), "cloud", ("2024-01-01", "9999"), ("0000", "9999"), 2, "jlh"),
        (("Cloud costs",), "Cloud costs", ("2024-01-01", "9999"), ("0000", "9999"), 1, "jlh"),
        (("serverl*",), "serverl*", ("2024-01-01", "9999"), ("0000", "9999"), 1, "jlh")]:
    window = "2025-01..2025-06" if w[1] == "2025-07-01" else "2024.."
    qi = None
    if qids:
        qi = {h["id"] for h in tj("search", "--json", "-k", "1000", idx, qids)["hits"]}
    cli = ["trends", "--json", "-n", "15", "--window", window, "--min-docs", str(mind), idx]
    cli += [a for a in args if a != qids] + ([qids] if qids else [])
    r = tj(*cli)
    own = ()
    if qids:
        own = [t["term"] + ("*" if w.endswith("*") else "") for w in qids.split()
               for t in tj("analyze", "--json", *(["--lang", "none"] if w.endswith("*") else []), w.rstrip("*"))]
    want, nf, nb = emerging(qi, w[0], w[1], bgr[0], bgr[1], mind, score, own)
    check(r["window"]["docs"] == nf and r["background"]["docs"] == nb,
          "trends %s: sizes %d/%d, want %d/%d" % (args, r["window"]["docs"], r["background"]["docs"], nf, nb))
    got = r["terms"]
    check(len(got) == min(15, len(want)), "trends %s: %d terms, want %d" % (args, len(got), min(15, len(want))))
    for g, x in zip(got, want):
        ok = (g["term"], g["window_docs"], g["background_docs"]) == x[:3] and abs(g["jlh"] - x[3]) < 1e-9 * (1 + x[3]) \
            and abs(g["chi2"] - x[4]) < 1e-9 * (1 + x[4])
        check(ok, "trends %s: %s, want %s" % (args, g, x[:5]))

# ---- bursts: a separate Viterbi over the month histogram of every dated document ----
def bursts(term, s=2.0, gamma=1.0):
    months = sorted({d["date"][:7] for d in docs})
    y, mo = map(int, months[0].split("-"))
    allm = []
    while "%04d-%02d" % (y, mo) <= months[-1]:
        allm.append("%04d-%02d" % (y, mo))
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    dd = [sum(1 for d in docs if d["date"][:7] == b) for b in allm]
    rr = [sum(1 for d in docs if d["date"][:7] == b and term in T[d["id"]]) for b in allm]
    p0 = sum(rr) / sum(dd)
    p1 = min(s * p0, (1 + p0) / 2)
    cost = lambda p, r, d: -(r * math.log(p) + (d - r) * math.log(1 - p)) if d else 0.0
    n = len(allm)
    up = gamma * math.log(n)
    best = {0: (0.0, []), 1: (math.inf, [])}
    for t in range(n):
        nb = {}
        for q in (0, 1):
            cands = [(best[p][0] + (up if q == 1 and p == 0 else 0.0), best[p][1]) for p in (0, 1)]
            c, path = min(cands, key=lambda x: x[0])
            nb[q] = (c + cost(p1 if q else p0, rr[t], dd[t]), path + [q])
        best = nb
    path = min(best.values(), key=lambda x: x[0])[1]
    out, t = [], 0
    while t < n:
        if not path[t]:
            t += 1
            continue
        e, w = t, 0.0
        while e < n and path[e]:
            w += cost(p0, rr[e], dd[e]) - cost(p1, rr[e], dd[e])
            e += 1
        out.append((allm[t], allm[e - 1], w))
        t = e
    return out, list(zip(allm, dd, rr))

for word, term in (("kubernetes", "kubernet"), ("serverless", "serverless"), ("ai", "ai")):
    r = tj("trends", "--json", "--bursts", word, idx)
    want, hist = bursts(term)
    check([(h["bucket"], h["docs"], h["term_docs"]) for h in r["histogram"]] == hist, "bursts %s: histogram" % word)
    got = [(b["start"], b["end"], b["weight"]) for b in r["bursts"]]
    check(len(got) == len(want) and all(g[:2] == x[:2] and abs(g[2] - x[2]) < 1e-6 * (1 + x[2])
                                        for g, x in zip(got, want)), "bursts %s: %s, want %s" % (word, got, want))

# ---- similar: the document is never among its hits; hits share a query word ----
r = tj("similar", "--json", "-k", "50", idx, "http3-quic-2024")
check(r["total"] == len(r["hits"]) and all(h["id"] != "http3-quic-2024" for h in r["hits"]), "similar: self or total")
qterms = {t["term"] for t in tj("analyze", "--json", r["query"])}
want = {d["id"] for d in docs if d["id"] != "http3-quic-2024" and T[d["id"]] & qterms}
check({h["id"] for h in r["hits"]} == want, "similar: hits are the documents sharing a term")
sys.exit(1 if bad else 0)
PYEOF
expect_rc 2 trends "$T/idx"
expect_rc 2 trends "$T/idx" --window 2025
expect_rc 2 search "$T/idx" cloud --histogram date:fortnight
expect_rc 2 search "$T/idx" cloud --histogram date:month --tz Europe/Paris
expect_rc 1 search "$T/idx" cloud --facet body
expect_rc 1 trends "$T/idx" --window 2025-13..
expect_rc 1 trends "$T/idx" --bursts "two words"
expect_rc 1 similar "$T/idx" no-such-id
[ "$fails" = 0 ] && echo "ok"
exit "$fails"
