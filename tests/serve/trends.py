"""trends.py — `trawl serve`'s /indexes/NAME/trends route against `trawl
trends --json` on sample/trends.jsonl (the CLI parses its own options and
calls the C API directly): emerging terms for windows, backgrounds, queries,
scores, limits and min_docs, and bursts at several units, offsets and
automaton parameters, each through GET (query string) and POST (JSON body,
windows as "FROM..TO" or {"from", "to"}) — the same JSON object as the CLI
prints, or, where the CLI refuses, a 400 with its message. Then the route's
parameter errors (400 with their codes), 404/405/414/415, the search key
(read route) and its entry in /openapi.json."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from util import Server, check, check_error, finish, q, rmtree, scratch, trawl  # noqa

T = scratch()
sample = os.path.join(os.environ["TRAWL_SOURCE_DIR"], "sample", "trends.jsonl")
idx = os.path.join(T, "trends")
rc, out, err = trawl("index", "-q", "-o", idx, sample)
check(rc == 0, "index the sample: %s" % err)

KEY = "search-key-0123"
srv = Server(["--quiet", "--max-query", "200", "--search-key", KEY, "--admin-key", "admin-key-0123", "trends=" + idx])
AUTH = {"Authorization": "Bearer " + KEY}
R = "/indexes/trends/trends"

# (query, window, background, limit, min_docs, score, field)
TRENDS = [(None, "2025-01..2025-06", None, None, None, None, None),
          (None, "2025..", "2020..2024", 10, 2, "chi2", None),
          ("kubernetes", "2024-06..2025-12", None, 5, 1, "jlh", None),
          ("database OR search", "2025-03-01..2026", None, 50, 2, "chi2", "date"),
          ("tags:=ai", "2025-07..2026-06", "2024..2025-06", 15, 1, None, None),
          (None, "..2024-12", None, 100, 4, None, None),
          (None, "2025..", None, None, None, None, "source"),  # not a date field: the CLI refuses
          ('"unclosed', "2025..", None, None, None, None, None),  # a syntax error
          ]
# (term, unit, tz, s, gamma)
BURSTS = [("kubernetes", None, None, None, None), ("database", "quarter", "+05:30", None, None),
          ("model", "week", "-08:00", 1.5, 0.5), ("rust", "year", None, 3, 0), ("search", "day", "+14:00", 2, 2),
          ("nosuchword", "month", None, None, None)]


def compare(what, args, get_args, body):
    rc, out, err = trawl(*(["trends", "--json"] + args))
    for form, (st, j, h) in (("GET", srv.json("GET", R + "?" + "&".join("%s=%s" % (k, q(str(v)))
                                                                        for k, v in get_args), headers=AUTH)),
                             ("POST", srv.json("POST", R, body, headers=AUTH))):
        if rc != 0:
            check(st == 400 and j["error"]["code"] in ("bad_query", "query_syntax") and j["error"]["message"] in err,
                  "%s %s: %s %r, CLI exit %d: %s" % (form, what, st, j, rc, err.strip()))
            continue
        check(st == 200 and j == json.loads(out), "%s %s: %s %r, CLI %s" % (form, what, st, j, out))
    return rc == 0 and json.loads(out)


try:
    listed = bursts = 0
    for i, (qq, window, background, limit, min_docs, score, field) in enumerate(TRENDS):
        args, get_args, body = ["--window", window], [("window", window)], {"window": window}
        if i % 2:  # the object form of the window in the body
            a, b = window.split("..")
            body["window"] = {"from": a or None, "to": b or None}
        for name, opt, v in (("background", "--background", background), ("limit", "-n", limit),
                             ("min_docs", "--min-docs", min_docs), ("score", "--score", score),
                             ("field", "--field", field)):
            if v is not None:
                args += [opt, str(v)]
                get_args.append((name, v))
                body[name] = v
        args.append(idx)
        if qq:
            args.append(qq)
            get_args.append(("q", qq))
            body["q"] = qq
        ref = compare("trends %r %r" % (qq, window), args, get_args, body)
        listed += len(ref["terms"]) if ref else 0
    check(listed > 40, "few terms listed: %d" % listed)
    for term, unit, tz, s, gamma in BURSTS:
        args, get_args, body = ["--bursts", term], [("bursts", term)], {"bursts": term}
        for name, v in (("unit", unit), ("tz", tz), ("s", s), ("gamma", gamma)):
            if v is not None:
                args += ["--" + name, str(v)]
                get_args.append((name, v))
                body[name] = v
        ref = compare("bursts %r" % term, args + [idx], get_args, body)
        bursts += len(ref["bursts"]) if ref else 0
    check(bursts > 0, "no burst found")

    # --- errors ----------------------------------------------------------------------
    cases = [
        ("GET", R, None, 400, "missing_parameter"),
        ("GET", R + "?q=data", None, 400, "missing_parameter"),
        ("GET", R + "?window=2025", None, 400, "bad_parameter"),
        ("GET", R + "?window=2026..2025", None, 400, "bad_query"),  # the library checks the dates
        ("GET", R + "?window=2025-13..", None, 400, "bad_query"),
        ("GET", R + "?window=2025..&limit=0", None, 400, "bad_parameter"),
        ("GET", R + "?window=2025..&limit=10001", None, 400, "bad_parameter"),
        ("GET", R + "?window=2025..&min_docs=0", None, 400, "bad_parameter"),
        ("GET", R + "?window=2025..&min_docs=99999999999999999999999", None, 400, "bad_parameter"),
        ("GET", R + "?window=2025..&score=idf", None, 400, "bad_parameter"),
        ("GET", R + "?window=2025..&unit=week", None, 400, "bad_parameter"),
        ("GET", R + "?window=2025..&bogus=1", None, 400, "unknown_parameter"),
        ("GET", R + "?bursts=kubernetes&window=2025..", None, 400, "bad_parameter"),
        ("GET", R + "?bursts=kubernetes&unit=decade", None, 400, "bad_parameter"),
        ("GET", R + "?bursts=kubernetes&tz=Mars/Olympus", None, 400, "bad_parameter"),
        ("GET", R + "?bursts=kubernetes&s=1", None, 400, "bad_parameter"),
        ("GET", R + "?bursts=kubernetes&s=abc", None, 400, "bad_parameter"),
        ("GET", R + "?bursts=kubernetes&gamma=-1", None, 400, "bad_parameter"),
        ("GET", R + "?bursts=kubernetes&field=source", None, 400, "bad_query"),
        ("GET", R + "?window=2025..&q=" + "a" * 201, None, 414, "query_too_long"),
        ("GET", R + "?bursts=%FF", None, 400, "bad_utf8"),
        ("GET", "/indexes/nope/trends?window=2025..", None, 404, "index_not_found"),
        ("DELETE", R, None, 405, "method_not_allowed"),
        ("POST", R, b'{"window": "2025..",', 400, "malformed_json"),
        ("POST", R, b'[1]', 400, "bad_request"),
        ("POST", R, b'{"window": 2025}', 400, "bad_parameter"),
        ("POST", R, b'{"window": {"from": 2025}}', 400, "bad_parameter"),
        ("POST", R, b'{"window": {"from": "2025", "until": "2026"}}', 400, "bad_parameter"),
        ("POST", R, b'{"window": "2025..", "limit": "10"}', 400, "bad_parameter"),
        ("POST", R, b'{"window": "2025..", "limit": 1.5}', 400, "bad_parameter"),
        ("POST", R, b'{"window": "2025..", "q": 5}', 400, "bad_parameter"),
        ("POST", R, b'{"window": "2025..", "nope": 5}', 400, "unknown_parameter"),
        ("POST", R, b'{"bursts": "kubernetes", "s": "2"}', 400, "bad_parameter"),
        ("POST", R, b'{"bursts": "kubernetes", "gamma": null}', 400, "bad_parameter"),
        ("POST", R, b'{"window": "2025..", "q": "a\\u0000b"}', 400, "malformed_json"),
    ]
    for method, path, body, status, code in cases:
        st, j, h = srv.json(method, path, body, headers=AUTH)
        check_error(st, j, h, status, code, "%s %s %r" % (method, path[:80], body))
    st, j, h = srv.json("POST", R, b'{"window": "2025.."}', headers=dict(AUTH, **{"Content-Type": "text/plain"}))
    check_error(st, j, h, 415, "unsupported_media_type", "POST text/plain")
    st, j, h = srv.json("GET", R + "?window=2025..")
    check_error(st, j, h, 401, "unauthorized", "no key")
    st, j, h = srv.json("GET", R + "?window=2025..", headers={"Authorization": "Bearer wrong-key-0123"})
    check_error(st, j, h, 403, "forbidden", "wrong key")
    st, j, h = srv.json("GET", R + "?window=2025..&limit=3", headers=AUTH)
    check(st == 200 and len(j["terms"]) <= 3, "search key may read trends: %s %r" % (st, j))
    st, j, h = srv.json("GET", "/openapi.json")
    ops = j["paths"].get("/indexes/{name}/trends", {}) if st == 200 else {}
    check(set(ops) == {"get", "post"} and "requestBody" in ops.get("post", {}) and
          {p["name"] for p in ops.get("get", {}).get("parameters", [])} >=
          {"name", "q", "window", "background", "limit", "min_docs", "score", "field", "bursts", "unit", "tz", "s",
           "gamma"}, "openapi trends: %r" % ops)
    st, h, body = srv.request("GET", "/metrics", headers=AUTH)
    check(st == 200 and b'route="trends"' in body, "metrics count the trends route")
finally:
    check(srv.stop() == 0, "SIGTERM exit code")
    srv.close()
rmtree(T)
finish()
