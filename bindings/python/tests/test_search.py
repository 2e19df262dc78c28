"""test_search.py — Index.search against the brute-force oracle (oracle.py):
exact totals of AND, OR, phrase, field and exclusion queries, the complete
ranking with BM25 scores recomputed in Python, paging, counting, snippets."""

import math
import random
import re
import shutil
import tempfile
import unittest

import trawl
from oracle import FIELDS, Oracle, make_corpus


class SearchOracleTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="trawl-py-")
        cls.docs, cls.vocab = make_corpus(seed=6, ndocs=400)
        with trawl.Writer(cls.dir, lang="none") as w:
            cls.added = w.add_many(iter(cls.docs))
        cls.oracle = Oracle(cls.docs)
        cls.index = trawl.Index(cls.dir)
        cls.rng = random.Random(7)

    @classmethod
    def tearDownClass(cls):
        cls.index.close()
        shutil.rmtree(cls.dir)

    def words(self, k):
        """k distinct vocabulary words, frequent ones more often."""
        return self.rng.sample(self.vocab[:60], k) if self.rng.random() < 0.7 else self.rng.sample(self.vocab, k)

    def all_hits(self, query, **kw):
        r = self.index.search(query, limit=max(self.index.doc_count, 1), **kw)
        self.assertEqual(len(r.hits), r.total, query)
        return r

    def test_count(self):
        self.assertEqual(self.added, 400)
        self.assertEqual(len(self.index), 400)
        self.assertEqual(self.index.doc_count, 400)
        self.assertEqual(self.index.stats()["documents"], 400)

    def test_and_totals_and_bm25(self):
        o = self.oracle
        for _ in range(40):
            ws = self.words(self.rng.choice((1, 2, 3)))
            q = " ".join(ws)
            want = o.match(lambda i: all(o.has(i, w) for w in ws))
            r = self.all_hits(q)
            self.assertEqual(r.total, len(want), q)
            self.assertEqual(sorted(h.id for h in r.hits), sorted(want), q)
            self.check_ranking(r, ws, q)

    def test_or_totals_and_bm25(self):
        o = self.oracle
        for _ in range(30):
            ws = self.words(self.rng.choice((2, 3, 4)))
            q = " ".join(ws)
            want = o.match(lambda i: any(o.has(i, w) for w in ws))
            r = self.all_hits(q, op="or")
            self.assertEqual(r.total, len(want), q)
            self.assertEqual(sorted(h.id for h in r.hits), sorted(want), q)
            self.check_ranking(r, ws, q)
            # AND matches a subset of OR's.
            self.assertLessEqual(self.index.search(q, limit=0).total, r.total)

    def check_ranking(self, r, ws, q):
        """Every hit's score is the oracle's BM25; hits are best first."""
        pos = {d["id"]: i for i, d in enumerate(self.docs)}
        for h in r.hits:
            want = self.oracle.bm25(pos[h.id], ws)
            self.assertTrue(math.isclose(h.score, want, rel_tol=1e-9), (q, h, want))
        scores = [h.score for h in r.hits]
        self.assertEqual(scores, sorted(scores, reverse=True), q)

    def test_phrase_field_and_exclusion_totals(self):
        o = self.oracle
        # Phrases: two adjacent words taken from a document, in any field.
        for _ in range(20):
            d = self.oracle.toks[self.rng.randrange(len(self.docs))]["body"]
            p = self.rng.randrange(len(d) - 1)
            ph = d[p:p + 2]
            q = '"%s %s"' % tuple(ph)
            want = o.match(lambda i: any(o.phrase_count(i, ph, f) for f in FIELDS))
            self.assertGreaterEqual(len(want), 1)
            self.assertEqual(self.index.search(q, limit=0).total, len(want), q)
        for _ in range(20):
            w = self.words(1)[0]
            q = "title:" + w
            self.assertEqual(self.index.search(q, limit=0).total, len(o.match(lambda i: o.has(i, w, ("title",)))), q)
        for _ in range(20):
            a, b = self.words(2)
            q = "%s -%s" % (a, b)
            want = o.match(lambda i: o.has(i, a) and not o.has(i, b))
            self.assertEqual(sorted(h.id for h in self.all_hits(q).hits), sorted(want), q)

    def test_words_absent_match_nothing(self):
        r = self.index.search("zzzzqqq")
        self.assertEqual((r.total, r.hits), (0, []))
        self.assertEqual(self.index.search(self.vocab[0] + " zzzzqqq").total, 0)
        self.assertEqual(self.index.search(self.vocab[0] + " zzzzqqq", op="or").total,
                         self.index.search(self.vocab[0]).total)

    def test_paging_concatenates_to_the_full_ranking(self):
        q = " ".join(self.vocab[:3])
        full = self.all_hits(q, op="or")
        self.assertGreater(full.total, 50)
        pages = []
        for off in range(0, full.total + 7, 7):
            r = self.index.search(q, limit=7, offset=off, op="or")
            self.assertEqual(r.total, full.total)
            self.assertEqual(len(r.hits), max(0, min(7, full.total - off)))
            pages.extend(r.hits)
        self.assertEqual([(h.id, h.score) for h in pages], [(h.id, h.score) for h in full.hits])
        default = self.index.search(q, op="or")
        self.assertEqual(default.hits, full.hits[:10])
        self.assertEqual(len(default), 10)
        self.assertEqual(list(default), default.hits)

    def test_limit_zero_counts(self):
        q = self.vocab[1]
        r = self.index.search(q, limit=0)
        self.assertEqual(r.hits, [])
        self.assertEqual(r.total, len(self.oracle.match(lambda i: self.oracle.has(i, q))))
        self.assertEqual(self.index.search(q, limit=0, offset=5).total, r.total)
        self.assertIsInstance(r.took_us, int)

    def test_titles_and_snippets(self):
        q = "%s %s" % tuple(self.vocab[:2])
        byid = {d["id"]: d for d in self.docs}
        plain = self.index.search(q, limit=20, op="or")
        self.assertGreater(len(plain.hits), 0)
        for h in plain.hits:
            self.assertEqual(h.title, byid[h.id]["title"])
            words = h.snippet.replace("…", " ").split()
            self.assertTrue(words)
            self.assertIn(" ".join(words).rstrip(".,- "), byid[h.id]["body"], h)
        # In HTML, every marked word is a query term.
        for h in self.index.search(q, limit=20, op="or", snippets="html").hits:
            for m in re.findall(r"<mark>(.*?)</mark>", h.snippet):
                self.assertIn(m.lower(), self.vocab[:2], h)
        for h in self.index.search(q, limit=20, op="or", snippets=None).hits:
            self.assertEqual((h.title, h.snippet), (None, None))

    def test_argument_checks(self):
        for bad in ({"limit": -1}, {"offset": -2}, {"op": "xor"}, {"snippets": "pdf"}):
            with self.assertRaises(ValueError, msg=bad):
                self.index.search("x", **bad)
        for bad in ({"limit": 1.5}, {"limit": True}, {"offset": "1"}):
            with self.assertRaises(TypeError, msg=bad):
                self.index.search("x", **bad)
        with self.assertRaises(TypeError):
            self.index.search(b"bytes")
        with self.assertRaises(ValueError):
            self.index.search("a\0b")


if __name__ == "__main__":
    unittest.main()
