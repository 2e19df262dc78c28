"""test_dask.py — trawl.dask on a LocalCluster of worker processes, against
the same corpus in one trawl index (the oracle): for collections of P = 1, 2,
3 and 7 partitions built by trawl.dask.build, random queries of every class
(AND, OR, phrase, prefix, field, exclusion) give the single index's totals and
top-10 scores (1e-9 relative), each merged id's own score in the single index
equal to its merged score; a re-run build does not duplicate documents; and a
worker process killed (SIGKILL) during a run of searches leaves every result
complete and correct (Dask re-runs the lost tasks elsewhere)."""

import json
import math
import os
import random
import shutil
import signal
import tempfile
import threading
import time
import unittest

import trawl
import trawl.dask as td
from distributed import Client, LocalCluster

WORDS = None


def make_words(rng, n=200):
    syl = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fu", "go"]
    out = set()
    while len(out) < n:
        out.add("".join(rng.choice(syl) for _ in range(rng.randint(2, 3))))
    return sorted(out)


def word(rng):
    a, b = rng.randrange(len(WORDS)), rng.randrange(len(WORDS))
    return WORDS[min(a, b)]  # skewed towards the first words


def text(rng, lo, hi):
    return " ".join(word(rng) for _ in range(rng.randint(lo, hi)))


def make_query(rng, cls):
    a, b, d = word(rng), word(rng), rng.choice(WORDS)
    return [("%s %s" % (a, b), "and"),
            ("%s %s %s" % (a, b, d), "or"),
            ('"%s %s" OR "%s %s"' % (a, b, b, a), "and"),
            ("%s* %s" % (d[:3], a if rng.random() < 0.5 else ""), "and"),
            ("title:%s OR tags:%s %s" % (a, b, d if rng.random() < 0.5 else ""), "and"),
            ("%s -%s" % (a, b), "and")][cls]


class DaskCollectionTest(unittest.TestCase):
    NDOCS = 1500

    @classmethod
    def setUpClass(cls):
        global WORDS
        rng = random.Random(2026)
        WORDS = make_words(rng)
        cls.tmp = tempfile.mkdtemp(prefix="trawl-dask-")
        cls.input = os.path.join(cls.tmp, "docs.jsonl")
        with open(cls.input, "w", encoding="utf-8") as f:
            for i in range(cls.NDOCS + 300):
                n = i if i < cls.NDOCS else rng.randrange(cls.NDOCS)  # the last 300 lines update earlier ids
                doc = {"id": "d%d" % n, "title": text(rng, 2, 6), "body": text(rng, 5, 70)}
                if rng.random() < 0.3:
                    doc["tags"] = [word(rng) for _ in range(rng.randint(1, 3))]
                f.write(json.dumps(doc) + "\n")
        cls.single_dir = os.path.join(cls.tmp, "single")
        with trawl.Writer(cls.single_dir) as w, open(cls.input, encoding="utf-8") as f:
            w.add_many(json.loads(line) for line in f)
        cls.single = trawl.Index(cls.single_dir)
        cls.cluster = LocalCluster(n_workers=3, processes=True, threads_per_worker=1, dashboard_address=None,
                                   host="127.0.0.1", silence_logs=40)
        cls.client = Client(cls.cluster)
        cls.colls = {}
        for p in (1, 2, 3, 7):
            out = os.path.join(cls.tmp, "p%d" % p)
            td.build(cls.client, [cls.input], out, partitions=p, chunk_bytes=48 << 10, chunks_per_commit=2)
            cls.colls[p] = td.Collection(cls.client, out, timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.cluster.close()
        cls.single.close()
        shutil.rmtree(cls.tmp)

    def assert_same(self, coll, query, op, limit=10):
        """coll's answer to query equals the single index's (see the module
        comment); returns whether the ids came in the same order."""
        r = coll.search(query, limit=limit, op=op)
        s = self.single.search(query, limit=1000, op=op, snippets=None)
        own = {h.id: h.score for h in s.hits}
        msg = "P=%d %r (%s)" % (coll.partitions, query, op)
        self.assertEqual(r.total, s.total, msg)
        self.assertEqual(len(r.hits), min(limit, len(s.hits)), msg)
        self.assertEqual(len({h.id for h in r.hits}), len(r.hits), msg)
        for k, h in enumerate(r.hits):
            self.assertTrue(math.isclose(h.score, s.hits[k].score, rel_tol=1e-9, abs_tol=0), msg)
            self.assertIn(h.id, own, msg)
            self.assertTrue(math.isclose(own[h.id], h.score, rel_tol=1e-9, abs_tol=0), msg)
        return [h.id for h in r.hits] == [h.id for h in s.hits[:limit]]

    def test_layout(self):
        for p, coll in self.colls.items():
            m = td.read_manifest(coll.dir)
            self.assertEqual((m["partitions"], m["hash"]), (p, "blake2b-64"))
            count = 0
            for i in range(p):
                with trawl.Index(td.part_path(coll.dir, i)) as idx:
                    count += idx.doc_count
                    for h in idx.search("%s OR %s" % (WORDS[0], WORDS[1]), limit=50, snippets=None):
                        self.assertEqual(td.partition_of(h.id, p), i)
            self.assertEqual(count, self.single.doc_count)

    def test_equal_to_single_index(self):
        rng = random.Random(99)
        n = 0
        for qi in range(300):
            query, op = make_query(rng, qi % 6)
            for p in (1, 2, 3, 7):
                self.assert_same(self.colls[p], query, op)
                n += 1
        self.assertGreaterEqual(n, 4 * 300)

    def test_paging(self):
        rng = random.Random(5)
        for _ in range(20):
            query, op = make_query(rng, 1)
            full = self.colls[3].search(query, limit=30, op=op)
            page = self.colls[3].search(query, limit=10, offset=10, op=op)
            self.assertEqual([h.score for h in page.hits], [h.score for h in full.hits[10:20]])
            self.assertEqual(page.total, full.total)

    def test_rerun_build_does_not_duplicate(self):
        out = os.path.join(self.tmp, "rerun")
        td.build(self.client, [self.input], out, partitions=3, chunk_bytes=64 << 10)
        td.build(self.client, [self.input], out, partitions=3, chunk_bytes=64 << 10)
        coll = td.Collection(self.client, out)
        total = sum(trawl.Index(td.part_path(out, i)).doc_count for i in range(3))
        self.assertEqual(total, self.single.doc_count)
        rng = random.Random(11)
        for qi in range(30):
            self.assert_same(coll, *make_query(rng, qi % 6))
        with self.assertRaises(ValueError):
            td.build(self.client, [self.input], out, partitions=4)

    def test_add_to_collection_with_cached_statistics(self):
        """A second build into the same collection (new commits) is seen by
        a Collection whose statistics cache holds the first answers: equal to
        a single index of both inputs."""
        rng = random.Random(41)
        more = os.path.join(self.tmp, "more.jsonl")
        with open(more, "w", encoding="utf-8") as f:
            for i in range(400):
                n = self.NDOCS + i if i % 2 else rng.randrange(self.NDOCS)
                f.write(json.dumps({"id": "d%d" % n, "title": text(rng, 2, 6), "body": text(rng, 5, 70)}) + "\n")
        out = os.path.join(self.tmp, "grow")
        td.build(self.client, [self.input], out, partitions=2)
        coll = td.Collection(self.client, out)
        queries = [make_query(rng, i % 6) for i in range(24)]
        for q in queries:
            self.assert_same(coll, *q)
        td.build(self.client, [more], out, partitions=2)
        both = os.path.join(self.tmp, "both")
        with trawl.Writer(both) as w:
            for path in (self.input, more):
                with open(path, encoding="utf-8") as f:
                    w.add_many(json.loads(line) for line in f)
        saved, self.single = self.single, trawl.Index(both)
        try:
            for q in queries:
                self.assert_same(coll, *q)
        finally:
            self.single.close()
            self.single = saved

    def test_errors(self):
        with self.assertRaises(trawl.QuerySyntaxError):
            self.colls[2].search('"unclosed')
        with self.assertRaises(FileNotFoundError):
            td.Collection(self.client, os.path.join(self.tmp, "nothing"))

    def test_worker_killed_during_searches(self):
        coll = self.colls[7]
        rng = random.Random(31)
        queries = [make_query(rng, i % 6) for i in range(60)]
        pids = self.client.run(os.getpid)
        victim = sorted(pids.items())[0][1]
        results, errors = [], []

        def run():
            try:
                for q, op in queries:
                    results.append((q, op, coll.search(q, op=op)))
            except Exception as e:  # recorded, asserted below
                errors.append(e)

        t = threading.Thread(target=run)
        t.start()
        while len(results) < 5 and t.is_alive():
            time.sleep(0.01)
        os.kill(victim, signal.SIGKILL)
        t.join(120)
        self.assertFalse(t.is_alive())
        self.assertEqual(errors, [])
        self.assertEqual(len(results), len(queries))
        with self.assertRaises(ProcessLookupError):
            os.kill(victim, 0)
        for q, op, r in results:
            s = self.single.search(q, limit=1000, op=op, snippets=None)
            own = {h.id: h.score for h in s.hits}
            self.assertEqual(r.total, s.total, q)
            self.assertEqual([round(h.score, 9) for h in r.hits], [round(h.score, 9) for h in s.hits[:10]], q)
            for h in r.hits:
                self.assertTrue(math.isclose(own[h.id], h.score, rel_tol=1e-9), q)


if __name__ == "__main__":
    unittest.main()
