"""similar.py — `trawl serve`'s GET /indexes/NAME/documents/ID/similar (more
like this) against `trawl similar --json` on sample/trends.jsonl (the CLI
calls the C API directly): for several documents, limits, offsets and term
counts the same ids in the same order, the same scores and titles, the same
total and query, a snippet per hit; an id holding '/' and one ending in
"/similar"; then 404 (unknown id, unknown index), the parameter errors, 405,
the search key, the route's entry in /openapi.json and /metrics."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from util import Server, build_index, check, check_error, finish, q, rmtree, scratch, trawl  # noqa

T = scratch()
sample = os.path.join(os.environ["TRAWL_SOURCE_DIR"], "sample", "trends.jsonl")
with open(sample, encoding="utf-8") as f:
    docs = [json.loads(line) for line in f if line.strip()]
idx = os.path.join(T, "trends")
rc, out, err = trawl("index", "-q", "-o", idx, sample)
check(rc == 0, "index the sample: %s" % err)
# Ids with '/' (the {id} of the route takes the path up to "/similar").
small = os.path.join(T, "small")
build_index(small, [{"id": "a/b", "title": "Rust borrow checker", "body": "rust borrow checker lifetimes rust"},
                    {"id": "c/similar", "title": "Rust lifetimes", "body": "lifetimes in rust and the checker"},
                    {"id": "d", "title": "Go channels", "body": "go channels and goroutines"},
                    {"id": "e", "title": "Python", "body": "python typing and the checker"}])

KEY = "search-key-0123"
srv = Server(["--quiet", "--search-key", KEY, "--admin-key", "admin-key-0123", "trends=" + idx, "small=" + small])
AUTH = {"Authorization": "Bearer " + KEY}


def compare(index_dir, name, doc_id, limit=None, offset=None, terms=None):
    """The route's answer against the CLI's for one document."""
    args, qs = ["similar", "--json"], []
    want = (offset or 0) + (limit or 10)
    args += ["-k", str(want)]
    if terms is not None:
        args += ["--terms", str(terms)]
        qs.append("terms=%d" % terms)
    if limit is not None:
        qs.append("limit=%d" % limit)
    if offset is not None:
        qs.append("offset=%d" % offset)
    rc, out, err = trawl(*(args + [index_dir, doc_id]))
    what = "similar %s %r limit=%s offset=%s terms=%s" % (name, doc_id, limit, offset, terms)
    if not check(rc == 0, "%s: CLI failed: %s" % (what, err)):
        return 0
    ref = json.loads(out)
    path = "/indexes/%s/documents/%s/similar" % (name, q(doc_id)) + ("?" + "&".join(qs) if qs else "")
    st, j, h = srv.json("GET", path, headers=AUTH)
    if not check(st == 200, "%s: status %s %r" % (what, st, j)):
        return 0
    exp = ref["hits"][offset or 0:]
    got_ids, exp_ids = [x["id"] for x in j["hits"]], [x["id"] for x in exp]
    check(got_ids == exp_ids, "%s: ids %s, CLI %s" % (what, got_ids, exp_ids))
    check([x["title"] for x in j["hits"]] == [x["title"] for x in exp], "%s: titles differ" % what)
    check(all(abs(a["score"] - b["score"]) <= 1e-9 * max(1.0, abs(b["score"])) for a, b in zip(j["hits"], exp)),
          "%s: scores differ" % what)
    check(j["total"] == ref["total"] and j["query"] == ref["query"] and j["id"] == doc_id,
          "%s: total/query/id %r vs %r" % (what, (j["total"], j["query"], j["id"]), (ref["total"], ref["query"])))
    check(j["limit"] == (limit or 10) and j["offset"] == (offset or 0) and isinstance(j["took_us"], int),
          "%s: limit/offset/took_us %r" % (what, {k: j.get(k) for k in ("limit", "offset", "took_us")}))
    check(all(isinstance(x["snippet"], str) for x in j["hits"]), "%s: snippets" % what)
    check(doc_id not in got_ids, "%s: the document itself is a hit" % what)
    return len(got_ids)


try:
    shown = 0
    for i, d in enumerate(docs[::7]):
        shown += compare(idx, "trends", d["id"], *[(None, None, None), (5, None, None), (4, 3, 10),
                                                   (20, 0, 100), (3, 6, 1)][i % 5])
    check(shown > 30, "few similar hits compared: %d" % shown)
    # A mark in some snippet: the query's words are highlighted.
    st, j, h = srv.json("GET", "/indexes/trends/documents/%s/similar" % q(docs[0]["id"]), headers=AUTH)
    check(st == 200 and any("<mark>" in x["snippet"] for x in j["hits"]), "no <mark> in the snippets")
    for doc_id in ("a/b", "c/similar", "d"):
        compare(small, "small", doc_id)
    # "c" has no document but "c/similar" has: the path names the document.
    st, j, h = srv.json("GET", "/indexes/small/documents/c/similar", headers=AUTH)
    check(st == 200 and j.get("id") == "c/similar" and "hits" not in j, "GET documents/c/similar: %s %r" % (st, j))

    one = "/indexes/trends/documents/%s/similar" % q(docs[0]["id"])
    for path, status, code in (("/indexes/trends/documents/no-such-doc/similar", 404, "document_not_found"),
                               ("/indexes/nope/documents/x/similar", 404, "index_not_found"),
                               (one + "?limit=0", 400, "bad_parameter"), (one + "?limit=1001", 400, "bad_parameter"),
                               (one + "?offset=-1", 400, "bad_parameter"), (one + "?terms=101", 400, "bad_parameter"),
                               (one + "?terms=x", 400, "bad_parameter"), (one + "?q=x", 400, "unknown_parameter")):
        st, j, h = srv.json("GET", path, headers=AUTH)
        check_error(st, j, h, status, code, "GET " + path)
    st, j, h = srv.json("POST", one, {}, headers=AUTH)
    check_error(st, j, h, 405, "method_not_allowed", "POST similar")
    check("GET" in (h.get("allow") or ""), "Allow header: %r" % h.get("allow"))
    st, j, h = srv.json("GET", one)
    check_error(st, j, h, 401, "unauthorized", "no key")
    st, j, h = srv.json("GET", one, headers={"Authorization": "Bearer wrong"})
    check_error(st, j, h, 403, "forbidden", "wrong key")

    st, j, h = srv.json("GET", "/openapi.json")
    op = j["paths"].get("/indexes/{name}/documents/{id}/similar", {}).get("get") if st == 200 else None
    check(op is not None and {p["name"] for p in op.get("parameters", [])} == {"name", "id", "limit", "offset",
                                                                               "terms"},
          "openapi similar: %r" % op)
    st, h, body = srv.request("GET", "/metrics", headers=AUTH)
    text = body.decode()
    check('route="similar",status="200"' in text and 'route="similar",status="404"' in text,
          "metrics lack the similar route")
finally:
    code = srv.stop()
    check(code == 0, "the server exited with %s: %s" % (code, srv.stderr()[-2000:]))
    srv.close()
    rmtree(T)
finish()
