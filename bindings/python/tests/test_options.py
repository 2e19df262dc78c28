"""test_options.py — the opening options: a writer's threads and memory
budget, an index's SIMD level. Each changes only how the work is done, so the
oracle is the invariance the header promises: byte-identical files whatever
the number of threads, the same documents and results whatever the memory
budget (more segments) or the SIMD level."""

import filecmp
import os
import shutil
import tempfile
import unittest

import trawl
from oracle import Oracle, make_corpus


class OptionsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.docs, cls.vocab = make_corpus(seed=21, ndocs=3000, nwords=300)
        cls.oracle = Oracle(cls.docs)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trawl-py-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def build(self, name, **kw):
        path = os.path.join(self.dir, name)
        with trawl.Writer(path, lang="none", **kw) as w:
            w.add_many(self.docs)
        return path

    def queries(self):
        return [(" ".join(self.vocab[i:i + k]), op) for i in range(0, 60, 7) for k in (1, 2, 3) for op in ("and", "or")]

    def results(self, path, simd=None):
        with trawl.Index(path, simd=simd) as ix:
            return [(r.total, [(h.id, h.score) for h in r.hits])
                    for r in (ix.search(q, op=op, limit=50) for q, op in self.queries())]

    def test_threads_write_the_same_bytes(self):
        paths = [self.build("t%d" % n, threads=n) for n in (0, 1, 3)] + [self.build("tdef", threads=-1)]
        names = sorted(os.listdir(paths[0]))
        self.assertIn("MANIFEST", names)
        for p in paths[1:]:
            self.assertEqual(sorted(os.listdir(p)), names)
            match, mismatch, errors = filecmp.cmpfiles(paths[0], p, names, shallow=False)
            self.assertEqual((mismatch, errors), ([], []), p)

    def test_small_memory_budget_flushes_segments(self):
        small = self.build("small", ram_mb=1)
        big = self.build("big")
        with trawl.Index(small) as s, trawl.Index(big) as b:
            self.assertGreater(s.stats()["segments"], 1)
            self.assertEqual(b.stats()["segments"], 1)
            self.assertEqual(len(s), len(self.docs))
            for d in self.docs[::97]:
                self.assertEqual(s.get(d["id"]), d)
            # The same matches, with the oracle's totals. (Scores are equal too:
            # BM25 statistics are over all live documents, not per segment.)
            o = self.oracle
            for q, op in self.queries():
                ws = q.split()
                want = len(o.match(lambda i: (all if op == "and" else any)(o.has(i, w) for w in ws)))
                rs, rb = s.search(q, op=op, limit=50), b.search(q, op=op, limit=50)
                self.assertEqual((rs.total, rb.total), (want, want), q)
                self.assertEqual(sorted(h.score for h in rs.hits), sorted(h.score for h in rb.hits), q)

    def test_simd_levels_give_the_same_results(self):
        path = self.build("idx")
        with trawl.Index(path, simd="scalar") as ix:
            self.assertEqual(ix.simd, "scalar")
        with trawl.Index(path) as ix:
            best = ix.simd
        self.assertIn(best, ("scalar", "sse41", "avx2", "avx512"))
        want = self.results(path, simd="scalar")
        for level in ("sse4.1", "SSE41", "avx2", "avx512", "auto"):
            with trawl.Index(path, simd=level) as ix:
                self.assertIn(ix.simd, ("scalar", "sse41", "avx2", "avx512"))
            self.assertEqual(self.results(path, simd=level), want, level)

    def test_bad_values(self):
        path = os.path.join(self.dir, "bad")
        for kw in ({"threads": -2}, {"ram_mb": 0}, {"ram_mb": 1048577}, {"ram_mb": -1}):
            with self.assertRaises(trawl.InvalidArgumentError, msg=kw) as cm:
                trawl.Writer(path, **kw)
            self.assertEqual(cm.exception.code, -2)
            self.assertIn(list(kw)[0], cm.exception.message)
        for kw in ({"threads": 1.0}, {"threads": True}, {"ram_mb": "1"}):
            self.assertRaises(TypeError, trawl.Writer, path, **kw)
        self.assertFalse(os.path.exists(path))  # nothing created on a refused option
        trawl.Writer(path, threads=10**12).close()  # more than 8 count as 8
        self.assertRaises(trawl.InvalidArgumentError, trawl.Index, path, simd="mmx")
        self.assertRaises(trawl.InvalidArgumentError, trawl.Index, path, simd="avx2\0")
        self.assertRaises(TypeError, trawl.Index, path, simd=2)


if __name__ == "__main__":
    unittest.main()
