"""dask_overhead.py — what the Dask path of trawl.dask costs on one machine:
build time of a collection of P partitions (trawl.dask.build on a LocalCluster)
against `trawl index` of the same corpus, and the per-query latency of
Collection.search (statistics round + search round + merge) against
Index.search of the single index in this process, p50/p99 per query class.

    TRAWL_LIBRARY=build/libtrawl.so.0 PYTHONPATH=bindings/python /usr/bin/python3 \\
        bench/dask_overhead.py CORPUS.jsonl QUERIES_DIR [--partitions 2 4] [--workers 2] [-n 200]

QUERIES_DIR holds and.txt, or.txt, phrase.txt (one query a line, as
../shared/corpora/make_queries.py writes them). Hits and totals of both paths
are compared on every query measured: totals, ids in order (ties included),
scores (1e-9 relative)."""

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("queries")
    ap.add_argument("--partitions", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--trawl", default="build/trawl")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="trawl-dask-bench-")
    try:
        single = os.path.join(tmp, "single")
        t0 = time.perf_counter()
        subprocess.run([a.trawl, "index", "-q", "-o", single, a.corpus], check=True)
        print("build trawl index: %.2f s" % (time.perf_counter() - t0))
        with LocalCluster(n_workers=a.workers, processes=True, threads_per_worker=1, dashboard_address=None,
                          host="127.0.0.1", silence_logs=40) as cluster, Client(cluster) as client:
            colls = {}
            for p in a.partitions:
                out = os.path.join(tmp, "p%d" % p)
                t0 = time.perf_counter()
                n = td.build(client, [a.corpus], out, partitions=p)
                print("build trawl.dask P=%d (%d workers): %.2f s, %d documents" %
                      (p, a.workers, time.perf_counter() - t0, n))
                colls[p] = td.Collection(client, out)
            idx = trawl.Index(single)
            print("| class | P | single p50 (µs) | single p99 (µs) | dask p50 (µs) | dask p99 (µs) |")
            print("|---|---:|---:|---:|---:|---:|")
            for cls in ("and", "or", "phrase"):
                with open(os.path.join(a.queries, cls + ".txt"), encoding="utf-8") as f:
                    qs = [line.strip() for line in f if line.strip()][:a.n]
                op = "or" if cls == "or" else "and"
                qs = ['"%s"' % q if cls == "phrase" else q for q in qs]
                for p, coll in colls.items():
                    for q in qs[:5]:
                        coll.search(q, op=op)  # warm the workers' caches
                    ts, td_ = [], []
                    for q in qs:
                        t0 = time.perf_counter()
                        s = idx.search(q, op=op, snippets=None)
                        t1 = time.perf_counter()
                        r = coll.search(q, op=op)
                        t2 = time.perf_counter()
                        ts.append((t1 - t0) * 1e6)
                        td_.append((t2 - t1) * 1e6)
                        assert r.total == s.total, q
                        assert [h.id for h in r.hits] == [h.id for h in s.hits], q  # ties included
                        assert all(math.isclose(x.score, y.score, rel_tol=1e-9) for x, y in zip(r.hits, s.hits)), q
                    print("| %s | %d | %.0f | %.0f | %.0f | %.0f |" %
                          (cls, p, pct(ts, 50), pct(ts, 99), pct(td_, 50), pct(td_, 99)))
                    sys.stdout.flush()
            idx.close()
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
