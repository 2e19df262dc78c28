"""dask_overhead.py — what the Dask path of trawl.dask costs on one machine
(issue 12, item 6): per corpus, the build time of a collection of P partitions
(trawl.dask.build on a LocalCluster) against `trawl index` of the same corpus,
and per query class the latency of Collection.search (statistics round +
search round + merge) against Index.search of the single index in this
process: p50/p99 of each path and of the per-query difference (the overhead).

    TRAWL_LIBRARY=build/libtrawl.so.0 PYTHONPATH=bindings/python /usr/bin/python3 \\
        bench/dask_overhead.py ~/.cache/trawl-corpora/debian.jsonl ~/.cache/trawl-corpora/mixed.jsonl \\
        --queries ~/.cache/trawl-corpora/queries [--partitions 2 4] [--workers 2] [-n 200]

Every corpus given is measured in turn on the same cluster. The queries
directory holds and.txt, or.txt, phrase.txt (one query a line, as
../shared/corpora/make_queries.py writes them); a directory among the
positional arguments is taken as it when --queries is not given (the older
form CORPUS QUERIES_DIR). The statistics cache is off (stats_cache=0) so every
search makes both rounds, as a first-seen query does; --cached measures with
the cache on instead (each query run once untimed first). Hits and totals of
both paths are compared on every query measured: totals, ids in order (ties
included), scores (1e-9 relative). The load average is printed at the start
and end of each corpus: figures taken with it above ~0.5 on this 2-core
machine are not measurements."""

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import trawl
import trawl.dask as td
from distributed import Client, LocalCluster


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(math.ceil(p / 100.0 * len(xs))) - 1)]


def load():
    return "load average %.2f / %.2f / %.2f" % os.getloadavg()


def measure(client, corpus, queries, a, tmp):
    """Builds and measures one corpus; prints its Markdown tables."""
    name = os.path.splitext(os.path.basename(corpus))[0]
    print("\n### %s (%s)\n" % (name, corpus))
    print("start: %s, %s" % (time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), load()))
    single = os.path.join(tmp, name + "-single")
    t0 = time.perf_counter()
    subprocess.run([a.trawl, "index", "-q", "-o", single, corpus], check=True)
    builds = [("`trawl index` (single index)", time.perf_counter() - t0)]
    # Untimed: a small build on every P first, so that the workers have
    # imported trawl and opened the library before the timed builds.
    warm = os.path.join(tmp, name + "-warm.jsonl")
    with open(corpus, "rb") as f, open(warm, "wb") as g:
        for _ in range(200):
            line = f.readline()
            if not line:
                break
            g.write(line)
    for p in a.partitions:
        td.build(client, [warm], os.path.join(tmp, "%s-warm-p%d" % (name, p)), partitions=p)
    colls = {}
    for p in a.partitions:
        out = os.path.join(tmp, "%s-p%d" % (name, p))
        t0 = time.perf_counter()
        td.build(client, [corpus], out, partitions=p)
        builds.append(("`trawl.dask.build` P = %d" % p, time.perf_counter() - t0))
        colls[p] = td.Collection(client, out, stats_cache=1024 if a.cached else 0)
    idx = trawl.Index(single)
    print("\n%d documents, LocalCluster of %d worker processes (1 thread each)\n" % (idx.doc_count, a.workers))
    print("| build | time (s) |\n|---|---:|")
    for what, secs in builds:
        print("| %s | %.2f |" % (what, secs))
    print("\n| class | P | single p50 (µs) | single p99 (µs) | dask p50 (µs) | dask p99 (µs) | "
          "overhead p50 (µs) | overhead p99 (µs) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for cls in ("and", "or", "phrase"):
        with open(os.path.join(queries, cls + ".txt"), encoding="utf-8") as f:
            qs = [line.strip() for line in f if line.strip()][:a.n]
        op = "or" if cls == "or" else "and"
        qs = ['"%s"' % q if cls == "phrase" else q for q in qs]
        for p, coll in colls.items():
            for q in qs[:5]:
                coll.search(q, op=op)  # warm the workers' caches of open partitions
            ts, tdk, over = [], [], []
            for q in qs:
                if a.cached:
                    coll.search(q, op=op)
                t0 = time.perf_counter()
                s = idx.search(q, op=op, snippets=None)
                t1 = time.perf_counter()
                r = coll.search(q, op=op)
                t2 = time.perf_counter()
                ts.append((t1 - t0) * 1e6)
                tdk.append((t2 - t1) * 1e6)
                over.append(tdk[-1] - ts[-1])
                assert r.total == s.total, q
                assert [h.id for h in r.hits] == [h.id for h in s.hits], q  # ties included
                assert all(math.isclose(x.score, y.score, rel_tol=1e-9) for x, y in zip(r.hits, s.hits)), q
            print("| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |" %
                  (cls, p, pct(ts, 50), pct(ts, 99), pct(tdk, 50), pct(tdk, 99), pct(over, 50), pct(over, 99)))
            sys.stdout.flush()
    idx.close()
    print("\nend: %s, %s" % (time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), load()))
    shutil.rmtree(single, ignore_errors=True)
    for p in colls:
        shutil.rmtree(os.path.join(tmp, "%s-p%d" % (name, p)), ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="Overhead of trawl.dask against one process (issue 12, item 6).")
    ap.add_argument("corpora", nargs="+", help="JSON Lines corpora (and, in the older form, the queries directory)")
    ap.add_argument("--queries", help="directory with and.txt, or.txt, phrase.txt")
    ap.add_argument("--partitions", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("-n", type=int, default=200, help="queries per class")
    ap.add_argument("--cached", action="store_true", help="statistics cache on (each query run once first)")
    lib = os.environ.get("TRAWL_LIBRARY", "")
    near = os.path.join(os.path.dirname(lib), "trawl") if lib else ""
    ap.add_argument("--trawl", default=near if near and os.path.exists(near) else "build/trawl",
                    help="the trawl CLI (default: next to TRAWL_LIBRARY, else build/trawl)")
    a = ap.parse_args()
    corpora = [c for c in a.corpora if not os.path.isdir(c)]
    dirs = [c for c in a.corpora if os.path.isdir(c)]
    queries = a.queries or (dirs[0] if len(dirs) == 1 else None)
    if not queries or len(dirs) > (0 if a.queries else 1) or not corpora:
        ap.error("give one or more corpora and one queries directory (--queries DIR)")
    for c in corpora:
        if not os.path.isfile(c):
            ap.error("no corpus %s" % c)
    tmp = tempfile.mkdtemp(prefix="trawl-dask-bench-")
    try:
        with LocalCluster(n_workers=a.workers, processes=True, threads_per_worker=1, dashboard_address=None,
                          host="127.0.0.1", silence_logs=40) as cluster, Client(cluster) as client:
            print("## trawl.dask overhead: partitions %s, %d workers, %d queries per class, statistics cache %s"
                  % (a.partitions, a.workers, a.n, "on" if a.cached else "off"))
            for c in corpora:
                measure(client, c, queries, a, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
