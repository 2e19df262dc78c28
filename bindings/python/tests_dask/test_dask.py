"""test_dask.py — trawl.dask on a LocalCluster of worker processes, against
the same corpus in one trawl index (the oracle): for collections of P = 1, 2,
3 and 7 partitions built by trawl.dask.build, random queries of every class
(AND, OR, phrase, prefix, field, exclusion, frequent single words, a field
that most partitions lack) give the single index's totals, top-10 ids in the
same order (ties included: a quarter of the documents copy an earlier one's
text, so many scores tie across partitions) and scores (1e-9 relative); a
re-run build does not duplicate documents; and a worker process killed
(SIGKILL) during a run of searches leaves every result complete and correct
(Dask re-runs the lost tasks elsewhere)."""

import json
import math
import os
import random
import signal
import tempfile
import threading
import time
import unittest

import dask_fixture
import trawl
import trawl.dask as td

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


NCLASSES = 8


def make_query(rng, cls):
    a, b, d = word(rng), word(rng), rng.choice(WORDS)
    note = rng.choice(["note:%s" % a, "note:%s OR %s" % (a, b), "%s -note:%s" % (a, b), "note:(%s OR %s)" % (a, d),
                       'note:"%s %s" OR note:%s' % (a, b, d), "note:%s* OR %s" % (a[:3], b)])
    return [("%s %s" % (a, b), "and"),
            ("%s %s %s" % (a, b, d), "or"),
            ('"%s %s" OR "%s %s"' % (a, b, b, a), "and"),
            ("%s* %s" % (d[:3], a if rng.random() < 0.5 else ""), "and"),
            ("title:%s OR tags:%s %s" % (a, b, d if rng.random() < 0.5 else ""), "and"),
            ("%s -%s" % (a, b), "and"),
            (WORDS[rng.randrange(12)], "and"),  # frequent: many ties
            (note, "and")][cls]


class DaskCollectionTest(unittest.TestCase):
    NDOCS = 1500

    @classmethod
    def setUpClass(cls):
        global WORDS
        rng = random.Random(2026)
        WORDS = make_words(rng)
        cls.tmp = tempfile.mkdtemp(prefix="trawl-dask-")
        cls.input = os.path.join(cls.tmp, "docs.jsonl")
        pool = []
        with open(cls.input, "w", encoding="utf-8") as f:
            for i in range(cls.NDOCS + 300):
                n = i if i < cls.NDOCS else rng.randrange(cls.NDOCS)  # the last 300 lines update earlier ids
                if pool and rng.random() < 0.25:  # a copy of a recent text: it ties with the original
                    doc = dict(rng.choice(pool), id="d%d" % n)
                else:
                    doc = {"id": "d%d" % n, "title": text(rng, 2, 6), "body": text(rng, 5, 70)}
                    if rng.random() < 0.3:
                        doc["tags"] = [word(rng) for _ in range(rng.randint(1, 3))]
                    pool = (pool + [doc])[-64:]
                if rng.random() < 1 / 600:  # a field that most partitions lack
                    doc = dict(doc, note=text(rng, 1, 2))
                f.write(json.dumps(doc) + "\n")
        dask_fixture.start(cls, chunk_bytes=48 << 10)

    @classmethod
    def tearDownClass(cls):
        dask_fixture.stop(cls)

    def assert_same(self, coll, query, op, limit=10, offset=0):
        """coll's answer to query equals the single index's (see the module
        comment); returns the number of adjacent hits of equal scores from
        different partitions."""
        r = coll.search(query, limit=limit, offset=offset, op=op)
        s = self.single.search(query, limit=limit, offset=offset, op=op, snippets=None)
        msg = "P=%d %r (%s)" % (coll.partitions, query, op)
        self.assertEqual(r.total, s.total, msg)
        self.assertEqual([h.id for h in r.hits], [h.id for h in s.hits], msg)
        for h, t in zip(r.hits, s.hits):
            self.assertTrue(math.isclose(h.score, t.score, rel_tol=1e-9, abs_tol=0), msg)
        return sum(1 for x, y in zip(r.hits, r.hits[1:]) if x.score == y.score
                   and td.partition_of(x.id, coll.partitions) != td.partition_of(y.id, coll.partitions))

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
        n = ties = note = 0
        for qi in range(320):
            query, op = make_query(rng, qi % NCLASSES)
            note += qi % NCLASSES == 7 and self.single.search(query, op=op, limit=0).total > 0
            for p in (1, 2, 3, 7):
                ties += self.assert_same(self.colls[p], query, op)
                n += 1
        self.assertGreaterEqual(n, 4 * 300)
        self.assertGreaterEqual(ties, 200)  # the tie order was put to the test
        self.assertGreaterEqual(note, 10)

    def test_field_missing_from_partitions(self):
        """A field only some partitions have matches nothing in the others;
        one that none has fails as in the single index."""
        coll = self.colls[7]
        lacking = 0
        for i in range(7):
            with trawl.Index(td.part_path(coll.dir, i)) as idx:
                try:
                    idx.search("note:%s" % WORDS[0])
                except trawl.QuerySyntaxError:
                    lacking += 1
        self.assertGreaterEqual(lacking, 2)
        with self.assertRaises(trawl.QuerySyntaxError) as single:
            self.single.search("nofield:%s" % WORDS[0])
        with self.assertRaises(trawl.QuerySyntaxError) as merged:
            coll.search("nofield:%s" % WORDS[0])
        self.assertEqual((merged.exception.offset, str(merged.exception)),
                         (single.exception.offset, str(single.exception)))

    def test_order_keys(self):
        """Every partition's index order is the order of its keys, and the
        keys are unique across partitions."""
        coll = self.colls[3]
        keys = []
        for i in range(3):
            with trawl.Index(td.part_path(coll.dir, i)) as idx:
                r = idx.search(WORDS[0], limit=1000, snippets=None)
                part = [(h.score, idx.get(h.id)[td.ORDER_FIELD]) for h in r.hits]
                keys += [k for _, k in part]
                for (s1, k1), (s2, k2) in zip(part, part[1:]):
                    self.assertTrue(s1 > s2 or (s1 == s2 and k1 < k2))
        self.assertEqual(len(keys), len(set(keys)))
        self.assertEqual(td.merge_hits([[("a", 1.0, None, None, 5), ("b", 1.0, None, None, None)],
                                        [("c", 1.0, None, None, 3), ("d", 2.0, None, None, None)]], 0, 4),
                         [("d", 2.0, None, None), ("c", 1.0, None, None), ("a", 1.0, None, None),
                          ("b", 1.0, None, None)])

    def test_paging(self):
        rng = random.Random(5)
        for qi in range(20):
            query, op = make_query(rng, (1, 6)[qi % 2])
            full = self.colls[3].search(query, limit=30, op=op)
            page = self.colls[3].search(query, limit=10, offset=10, op=op)
            self.assertEqual(page.hits, full.hits[10:20])
            self.assertEqual(page.total, full.total)
            self.assert_same(self.colls[3], query, op, offset=10)

    def test_rerun_build_does_not_duplicate(self):
        out = os.path.join(self.tmp, "rerun")
        td.build(self.client, [self.input], out, partitions=3, chunk_bytes=64 << 10)
        td.build(self.client, [self.input], out, partitions=3, chunk_bytes=64 << 10)
        coll = td.Collection(self.client, out)
        total = sum(trawl.Index(td.part_path(out, i)).doc_count for i in range(3))
        self.assertEqual(total, self.single.doc_count)
        rng = random.Random(11)
        for qi in range(32):
            self.assert_same(coll, *make_query(rng, qi % NCLASSES))
        with self.assertRaises(ValueError):
            td.build(self.client, [self.input], out, partitions=4)

    def test_add_to_collection_with_cached_statistics(self):
        """A second build into the same collection (new commits) is seen by
        a Collection whose statistics cache holds the first answers: equal to
        a single index of both inputs."""
        rng = random.Random(41)
        more = os.path.join(self.tmp, "more.jsonl")
        with open(more, "w", encoding="utf-8") as f:
            with open(self.input, encoding="utf-8") as g:
                earlier = [json.loads(line) for line in g]
            for i in range(400):
                n = self.NDOCS + i if i % 2 else rng.randrange(self.NDOCS)
                doc = {"id": "d%d" % n, "title": text(rng, 2, 6), "body": text(rng, 5, 70)}
                if i % 3 == 0:  # ties with a document of the first build
                    doc = dict(rng.choice(earlier), id=doc["id"])
                f.write(json.dumps(doc) + "\n")
        out = os.path.join(self.tmp, "grow")
        td.build(self.client, [self.input], out, partitions=2)
        coll = td.Collection(self.client, out)
        queries = [make_query(rng, i % NCLASSES) for i in range(24)]
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
        queries = [make_query(rng, i % NCLASSES) for i in range(64)]
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
            s = self.single.search(q, op=op, snippets=None)
            self.assertEqual(r.total, s.total, q)
            self.assertEqual([h.id for h in r.hits], [h.id for h in s.hits], q)
            for h, t in zip(r.hits, s.hits):
                self.assertTrue(math.isclose(t.score, h.score, rel_tol=1e-9), q)


if __name__ == "__main__":
    unittest.main()
