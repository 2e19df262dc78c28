"""ingest.py — `trawl serve` ingestion: group commit, durability, reopen.

1. Concurrent POSTs of JSON Lines and JSON arrays while other threads search:
   every answer is {added, replaced, failed, generation} with the right counts
   (ids known to be new or repeated), searches never fail and their totals
   never go down, there are fewer commits than batches (group commit), and at
   the end every search gives exactly what `trawl search --json` gives on an
   index built by `trawl index` from the same documents (the oracle).
2. kill -9 during ingestion, then a restart: every acknowledged document is
   there, and `trawl check` passes.
3. SIGTERM while a batch waits for its commit: the batch is answered 200,
   /health says 503 on a kept-alive connection, the server exits 0, and the
   batch is in the index after a restart.
4. Commits by another process: seen within a couple of seconds without a
   signal, and at once after SIGHUP."""
import json
import os
import random
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from util import Server, build_index, check, fail, finish, oracle_search, q, rmtree, scratch, trawl  # noqa

T = scratch()
rng = random.Random(4242)
VOCAB = ["amber", "basil", "cedar", "dune", "ember", "fjord", "grove", "heath", "inlet", "jade", "knoll", "larch",
         "moss", "nettle", "orchid", "pine", "quartz", "reed", "sage", "thorn"]


def words(n):
    return " ".join(rng.choice(VOCAB) for _ in range(n))


def make_docs(prefix, n):
    return [{"id": "%s-%04d" % (prefix, i), "title": words(3), "body": words(rng.randint(5, 30))} for i in range(n)]


# --- 1. concurrent ingestion and searches, against the oracle ----------------------------------
live = os.path.join(T, "live")
build_index(live, [])
docs = make_docs("d", 1200)
# Batches of 40; a third of the batches repeat 5 ids of an earlier batch (replacements).
batches = []
for i in range(0, len(docs), 40):
    batches.append(docs[i:i + 40])
final = {d["id"]: d for d in docs}
replacements = []
for k in range(0, len(batches), 3):
    rep = [dict(d, body=d["body"] + " replaced") for d in batches[k][:5]]
    replacements.append(rep)
    for d in rep:
        final[d["id"]] = d
srv = Server(["--commit-delay", "30", "--quiet", "live=" + live])
try:
    stop = threading.Event()
    errors = []
    answers = []
    lock = threading.Lock()

    def searcher():
        last = 0
        while not stop.is_set():
            st, j, h = srv.json("GET", "/indexes/live/search?q=amber&limit=3")
            if st != 200:
                errors.append("search status %s %r" % (st, j))
                return
            if j["total"] < last:
                errors.append("total went down: %d after %d" % (j["total"], last))
            last = j["total"]

    def poster(mine, as_array):
        for b in mine:
            if as_array:
                st, j, h = srv.json("POST", "/indexes/live/documents", json.dumps(b).encode(),
                                    {"Content-Type": "application/json"})
            else:
                body = "".join(json.dumps(d) + "\n" for d in b)
                st, j, h = srv.json("POST", "/indexes/live/documents", body.encode(),
                                    {"Content-Type": "application/x-ndjson"})
            with lock:
                answers.append((st, j, len(b)))

    searchers = [threading.Thread(target=searcher) for _ in range(2)]
    for t in searchers:
        t.start()
    groups = [batches[i::6] for i in range(6)]
    posters = [threading.Thread(target=poster, args=(g, i % 2 == 0)) for i, g in enumerate(groups)]
    for t in posters:
        t.start()
    for t in posters:
        t.join()
    # The replacements, after their originals are acknowledged; with one bad line each.
    for rep in replacements:
        body = "".join(json.dumps(d) + "\n" for d in rep) + "{not json\n\n"
        st, j, h = srv.json("POST", "/indexes/live/documents", body.encode(), {"Content-Type": "application/x-ndjson"})
        check(st == 200 and j["added"] == 0 and j["replaced"] == 5 and len(j["failed"]) == 1 and
              j["failed"][0]["line"] == 6 and j["failed"][0]["error"], "replacement batch: %s %r" % (st, j))
    stop.set()
    for t in searchers:
        t.join()
    check(not errors, "searches during ingestion: %s" % errors[:3])
    gens = []
    for st, j, n in answers:
        if check(st == 200 and j["added"] == n and j["replaced"] == 0 and j["failed"] == [],
                 "batch answer: %s %r" % (st, j)):
            gens.append(j["generation"])
    st, h, body = srv.request("GET", "/metrics")
    m = re.search(r'trawl_index_commits_total\{index="live"\} (\d+)', body.decode())
    commits = int(m.group(1)) if m else -1
    nposts = len(batches) + len(replacements)
    check(0 < commits < len(batches), "group commit: %d commits for %d batches" % (commits, nposts))
    check(len(set(gens)) < len(gens), "no two batches shared a generation: %s" % sorted(gens))
    print("ingest: %d batches, %d commits" % (nposts, commits))
    oracle = os.path.join(T, "oracle")
    build_index(oracle, list(final.values()))
    st, j, h = srv.json("GET", "/indexes/live/stats")
    check(st == 200 and j["documents"] == len(final), "documents after ingestion: %r" % j.get("documents"))
    for qq in ["amber", "amber basil", "replaced", "title:cedar", "\"dune ember\"", "fjo*", "grove -heath"]:
        ref = oracle_search(oracle, qq, 1000)
        st, j, h = srv.json("POST", "/indexes/live/search", {"q": qq, "limit": 1000})
        if check(st == 200 and ref, "search %r: %s" % (qq, st)):
            got = sorted((x["id"], round(x["score"], 6)) for x in j["hits"])
            want = sorted((x["id"], round(x["score"], 6)) for x in ref["hits"])
            check(j["total"] == ref["total"] and got == want,
                  "search %r after ingestion: total %d, oracle %d; %d ids differ" %
                  (qq, j["total"], ref["total"], len(set(got) ^ set(want))))
    for d in rng.sample(list(final.values()), 20):
        st, j, h = srv.json("GET", "/indexes/live/documents/" + q(d["id"]))
        check(st == 200 and j == d, "document %s after ingestion: %r" % (d["id"], j))
    # Deletes by id and by query, concurrent with additions, against an oracle index of what remains.
    gone = rng.sample(sorted(final), 60)
    by_query = [x["id"] for x in oracle_search(oracle, "title:amber title:basil", 10000)["hits"]]
    extra = make_docs("late", 80)
    res = {}

    def late_adds():
        res["add"] = srv.json("POST", "/indexes/live/documents", json.dumps(extra).encode(),
                              {"Content-Type": "application/json"})
    t = threading.Thread(target=late_adds)
    t.start()
    st, j, h = srv.json("POST", "/indexes/live/documents/delete", {"ids": gone[:50]})
    check(st == 200 and j["deleted"] == 50, "delete 50 ids: %s %r" % (st, j))
    for did in gone[50:]:
        st, j, h = srv.json("DELETE", "/indexes/live/documents/" + q(did))
        check(st == 200 and j["deleted"] == 1, "DELETE %s: %s %r" % (did, st, j))
    st, j, h = srv.json("POST", "/indexes/live/documents/delete", {"query": "title:amber title:basil"})
    t.join()
    check(res["add"][0] == 200 and res["add"][1]["added"] == 80, "additions during deletes: %r" % (res["add"],))
    expect_q = len(set(by_query) - set(gone))
    check(st == 200 and j["deleted"] == expect_q, "delete by query: %s %r, expected %d" % (st, j, expect_q))
    for d in extra:
        final[d["id"]] = d
    for did in set(gone) | set(by_query):
        final.pop(did, None)
    oracle2 = os.path.join(T, "oracle2")
    build_index(oracle2, list(final.values()))
    st, j, h = srv.json("GET", "/indexes/live/stats")
    check(st == 200 and j["documents"] == len(final), "documents after deletes: %r, expected %d" %
          (j.get("documents"), len(final)))
    for qq in ["amber", "cedar dune", "title:amber", "basil OR moss"]:
        ref = oracle_search(oracle2, qq, 1000)
        st, j, h = srv.json("POST", "/indexes/live/search", {"q": qq, "limit": 1000})
        if check(st == 200 and ref, "search %r: %s" % (qq, st)):
            got = sorted((x["id"], round(x["score"], 6)) for x in j["hits"])
            want = sorted((x["id"], round(x["score"], 6)) for x in ref["hits"])
            check(j["total"] == ref["total"] and got == want, "search %r after deletes: total %d, oracle %d" %
                  (qq, j["total"], ref["total"]))
finally:
    check(srv.stop() == 0, "SIGTERM exit code")
    srv.close()

# --- 2. kill -9 during ingestion ----------------------------------------------------------------
crash = os.path.join(T, "crash")
build_index(crash, [])
srv = Server(["--quiet", "--commit-delay", "5", "crash=" + crash])
acked = []
try:
    stop = threading.Event()

    def writer(k):
        n = 0
        while not stop.is_set():
            b = make_docs("c%d-%d" % (k, n), 25)
            n += 1
            try:
                st, j, h = srv.json("POST", "/indexes/crash/documents",
                                    "".join(json.dumps(d) + "\n" for d in b).encode(), timeout=10)
            except OSError:
                return
            if st == 200:
                with lock:
                    acked.extend(d["id"] for d in b)
    ws = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in ws:
        t.start()
    time.sleep(1.5)
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    stop.set()
    for t in ws:
        t.join()
finally:
    srv.close()
check(len(acked) > 0, "nothing was acknowledged before kill -9")
rc, out, err = trawl("check", crash)
check(rc == 0, "trawl check after kill -9: %s %s" % (out, err))
srv = Server(["--quiet", "crash=" + crash])
try:
    missing = 0
    for did in acked:
        st, h, body = srv.request("GET", "/indexes/crash/documents/" + q(did))
        missing += st != 200
    check(missing == 0, "%d of %d acknowledged documents missing after kill -9" % (missing, len(acked)))
    print("kill -9: %d acknowledged documents, all present" % len(acked))
    # The restarted server can write again (the dead writer's lock is gone).
    st, j, h = srv.json("POST", "/indexes/crash/documents", b'{"id": "after", "body": "restart"}\n')
    check(st == 200 and j["added"] == 1, "ingestion after restart: %s %r" % (st, j))
finally:
    check(srv.stop() == 0, "SIGTERM exit code")
    srv.close()

# --- 3. SIGTERM with a batch waiting for its commit ------------------------------------------------
drain = os.path.join(T, "drain")
build_index(drain, [])
srv = Server(["--commit-delay", "3000", "drain=" + drain])
try:
    keep = srv.conn()
    st, j, h = srv.json("GET", "/health", conn=keep)
    check(st == 200 and j["status"] == "ok", "health before SIGTERM: %s %r" % (st, j))
    res = {}
    t = threading.Thread(target=lambda: res.setdefault("r", srv.json("POST", "/indexes/drain/documents",
                                                                        b'{"id": "last", "body": "drained"}\n')))
    t.start()
    time.sleep(1.0)  # the batch has arrived and waits for its commit
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    try:
        st, j, h = srv.json("GET", "/health", conn=keep)
        check(st == 503 and j["status"] == "draining", "health while draining: %s %r" % (st, j))
    except OSError as e:
        fail("health while draining: %s" % e)
    t.join()
    st, j, h = res["r"]
    check(st == 200 and j["added"] == 1, "batch in flight at SIGTERM: %s %r" % (st, j))
    rc = srv.proc.wait(30)
    check(rc == 0, "exit code after SIGTERM: %s" % rc)
    check("draining" in srv.stderr() and "stopped" in srv.stderr(), "drain messages: " + srv.stderr()[-300:])
finally:
    srv.close()
srv = Server(["--quiet", "drain=" + drain])
try:
    st, j, h = srv.json("GET", "/indexes/drain/documents/last")
    check(st == 200 and j == {"id": "last", "body": "drained"}, "drained batch after restart: %s %r" % (st, j))
finally:
    srv.stop()
    srv.close()

# --- 4. commits by another process -------------------------------------------------------------
ext = os.path.join(T, "ext")
build_index(ext, make_docs("e0", 10))
srv = Server(["--quiet", "ext=" + ext])
try:
    def total(word):
        st, j, h = srv.json("GET", "/indexes/ext/search?q=%s&limit=0" % word)
        return j["total"] if st == 200 else -1
    check(total("zzextra") == 0, "before the external commit")
    rc, out, err = trawl("index", "-q", "-o", ext, "-",
                         stdin=b'{"id": "x1", "body": "zzextra"}\n{"id": "x2", "body": "zzextra too"}\n')
    check(rc == 0, "external trawl index: " + err)
    end = time.time() + 10
    while time.time() < end and total("zzextra") != 2:
        time.sleep(0.1)
    check(total("zzextra") == 2, "external commit not seen within 10 s")
    rc, out, err = trawl("index", "-q", "-o", ext, "-", stdin=b'{"id": "x3", "body": "zzhup"}\n')
    srv.proc.send_signal(signal.SIGHUP)
    end = time.time() + 3
    while time.time() < end and total("zzhup") != 1:
        time.sleep(0.02)
    check(total("zzhup") == 1, "SIGHUP did not reopen within 3 s")
finally:
    check(srv.stop() == 0, "SIGTERM exit code")
    srv.close()
rmtree(T)
finish()
