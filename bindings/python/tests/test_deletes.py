"""test_deletes.py — Writer.delete, delete_query and merge against the oracle:
after deletes, totals and BM25 scores are those of a brute-force index of the
remaining documents (statistics over live documents only); merging changes no
result; the ordering rules of delete and add within one commit; auto_merge."""

import math
import os
import random
import shutil
import tempfile
import unittest

import trawl
from oracle import Oracle, make_corpus


class DeleteTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trawl-py-")
        self.idx = os.path.join(self.dir, "idx")
        self.docs, self.vocab = make_corpus(seed=31, ndocs=400)
        self.rng = random.Random(31)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def queries(self):
        return [(" ".join(self.vocab[i:i + k]), op) for i in range(0, 80, 6) for k in (1, 2) for op in ("and", "or")]

    def check_against(self, ix, live):
        """ix holds exactly the documents live (in index order): count, get,
        and for every query the matching ids and the BM25 scores."""
        o = Oracle(live)
        pos = {d["id"]: i for i, d in enumerate(live)}
        self.assertEqual(len(ix), len(live))
        for q, op in self.queries():
            ws = q.split()
            want = o.match(lambda i: (all if op == "and" else any)(o.has(i, w) for w in ws))
            r = ix.search(q, op=op, limit=len(live) or 1)
            self.assertEqual(sorted(h.id for h in r.hits), sorted(want), q)
            for h in r.hits:
                self.assertTrue(math.isclose(h.score, o.bm25(pos[h.id], ws), rel_tol=1e-9), (q, h))

    def results(self, ix):
        return [[(h.id, h.score) for h in ix.search(q, op=op, limit=400)] for q, op in self.queries()]

    def test_delete_by_id_and_query_then_merge(self):
        with trawl.Writer(self.idx, lang="none", auto_merge=False) as w:
            w.add_many(self.docs[:200])
            w.commit()
            w.add_many(self.docs[200:])
        gone = set(self.rng.sample([d["id"] for d in self.docs], 60))
        word = self.vocab[25]
        o = Oracle(self.docs)
        matched = set(o.match(lambda i: o.has(i, word)))
        self.assertTrue(0 < len(matched) < 200)
        with trawl.Writer(self.idx) as w:
            for i in sorted(gone):
                w.delete(i)
            w.delete("no-such-id")  # a no-op
            w.delete("x\0y")  # no document has a NUL in its id
            self.assertEqual(w.delete_query(word), len(matched))
            # Not visible before the commit.
            with trawl.Index(self.idx) as ix:
                self.assertEqual(len(ix), 400)
        live = [d for d in self.docs if d["id"] not in gone | matched]
        with trawl.Index(self.idx) as ix:
            self.assertEqual(ix.stats()["segments"], 2)
            self.check_against(ix, live)
            for i in sorted(gone)[:10]:
                self.assertRaises(trawl.NotFoundError, ix.get, i)
            before = self.results(ix)
        with trawl.Writer(self.idx) as w:
            w.merge(1)
        with trawl.Index(self.idx) as ix:
            self.assertEqual(ix.stats()["segments"], 1)
            self.assertEqual(ix.stats()["deleted"], 0)
            self.assertEqual(self.results(ix), before)
            self.check_against(ix, live)
        self.assertEqual(trawl.check(self.idx), [])

    def test_order_of_delete_and_add_in_one_commit(self):
        with trawl.Writer(self.idx, lang="none") as w:
            w.add_many(self.docs[:10])
        a, b, c = (d["id"] for d in self.docs[:3])
        with trawl.Writer(self.idx, lang="none") as w:
            w.delete(a)
            w.add({"id": a, "body": "readded after delete"})  # kept
            w.add({"id": b, "body": "added then deleted"})
            w.delete(b)  # both copies of b go
            w.add({"id": "new", "body": "fresh"})
            self.assertEqual(w.delete_query("fresh"), 0)  # uncommitted adds are not matched
            self.assertEqual(w.delete_query(c), sum(1 for d in self.docs[:10] if c in d["title"] + d["body"]))
        with trawl.Index(self.idx) as ix:
            self.assertEqual(ix.get(a)["body"], "readded after delete")
            self.assertRaises(trawl.NotFoundError, ix.get, b)
            self.assertEqual(ix.get("new")["body"], "fresh")
            self.assertEqual(ix.search("readded").total, 1)

    def test_errors(self):
        with trawl.Writer(self.idx, lang="none") as w:
            w.add_many(self.docs[:20])
            w.commit()
            with self.assertRaises(trawl.InvalidArgumentError) as cm:
                w.delete("")
            self.assertTrue(cm.exception.message)
            with self.assertRaises(trawl.QuerySyntaxError) as cm:
                w.delete_query('"%s' % self.vocab[0])
            self.assertIn('"', cm.exception.message)
            self.assertRaises(trawl.LimitError, w.delete_query, "(" * 100 + "a" + ")" * 100)
            self.assertRaises(TypeError, w.delete, 3)
            self.assertRaises(TypeError, w.delete_query, None)
            self.assertRaises(ValueError, w.delete_query, "a\0")
            self.assertRaises(ValueError, w.merge, -1)
        with trawl.Index(self.idx) as ix:
            self.assertEqual(len(ix), 20)  # the refused deletes recorded nothing
        w = trawl.Writer(self.idx)
        w.close()
        for call in (lambda: w.delete("x"), lambda: w.delete_query("x"), w.merge):
            self.assertRaises(ValueError, call)
        with self.assertRaises(ValueError):
            w.auto_merge = False

    def test_auto_merge(self):
        def segments_after_commits(path, on):
            with trawl.Writer(path, lang="none", auto_merge=on) as w:
                self.assertIs(w.auto_merge, on)
                for i in range(12):
                    w.add_many(self.docs[i * 10:(i + 1) * 10])
                    w.commit()
            with trawl.Index(path) as ix:
                self.assertEqual(len(ix), 120)
                return ix.stats()["segments"]

        self.assertEqual(segments_after_commits(os.path.join(self.dir, "off"), False), 12)
        self.assertLess(segments_after_commits(os.path.join(self.dir, "on"), True), 12)


if __name__ == "__main__":
    unittest.main()
