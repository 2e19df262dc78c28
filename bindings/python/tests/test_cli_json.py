"""test_cli_json.py — the binding's search options of issue 8's era against the
trawl command's --json output for the same index and queries (the CLI is the
independent path: its own option parsing, the C API directly): the operator
(and, or, auto), the ranking (bm25, bm25f), more like this (Index.similar and
similar_query against `trawl similar --json`), and the errors of filters and
sorts on a field that cannot serve (as the CLI reports them)."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import trawl

SOURCE = os.environ.get("TRAWL_SOURCE_DIR")
BIN = os.environ.get("TRAWL_BIN")
QUERIES = ["search engine", "vector database index", "kubernetes cost", "language model", "open source license",
           "rust", "data", "gpu scheduling nodes", "search -vector", '"search engine" OR database']


@unittest.skipUnless(SOURCE and BIN, "needs TRAWL_SOURCE_DIR and TRAWL_BIN (the trawl command)")
class CliJsonTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="trawl-py-")
        cls.sample = os.path.join(SOURCE, "sample", "trends.jsonl")
        cls.idx = os.path.join(cls.dir, "idx")
        subprocess.run([BIN, "index", "-q", "-o", cls.idx, cls.sample], check=True)
        with open(cls.sample, encoding="utf-8") as f:
            cls.ids = [json.loads(line)["id"] for line in f if line.strip()]
        cls.ix = trawl.Index(cls.idx)

    @classmethod
    def tearDownClass(cls):
        cls.ix.close()
        shutil.rmtree(cls.dir)

    def cli(self, *args):
        p = subprocess.run([BIN] + list(args), capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def assert_same(self, got, want, msg):
        self.assertEqual(got.total, want["total"], msg)
        self.assertEqual([h.id for h in got.hits], [h["id"] for h in want["hits"]], msg)
        for h, w in zip(got.hits, want["hits"]):
            self.assertEqual(h.score, w["score"], msg)  # the CLI prints scores exactly (%.17g)

    def test_operators_and_rankings(self):
        n = 0
        for q in QUERIES:
            for op in ("and", "or", "auto"):
                for ranking in ("bm25", "bm25f"):
                    want = self.cli("search", "--json", "-k", "20", "--op", op, "--ranking", ranking, self.idx, q)
                    got = self.ix.search(q, limit=20, op=op, ranking=ranking, snippets=None)
                    self.assert_same(got, want, (q, op, ranking))
                    n += want["total"] > 0
        self.assertGreater(n, 30)
        # auto puts the AND matches first: it differs from OR somewhere.
        diff = [q for q in QUERIES if [h.id for h in self.ix.search(q, op="auto", limit=20, snippets=None)]
                != [h.id for h in self.ix.search(q, op="or", limit=20, snippets=None)]]
        self.assertTrue(diff)

    def test_similar(self):
        for doc_id in self.ids[:12]:
            for nterms in (5, 25):
                want = self.cli("similar", "--json", "-k", "10", "--terms", str(nterms), self.idx, doc_id)
                got = self.ix.similar(doc_id, nterms=nterms, limit=10, snippets=None)
                self.assert_same(got, want, (doc_id, nterms))
                self.assertEqual(self.ix.similar_query(doc_id, nterms), want["query"])
                self.assertNotIn(doc_id, [h.id for h in got.hits])
        with self.assertRaises(trawl.NotFoundError):
            self.ix.similar("no such id")
        with self.assertRaises(trawl.NotFoundError):
            self.ix.similar_query("no such id")

    def test_sort_and_filter_errors_match_the_cli(self):
        # "title" is a text field: no sort by it, in the CLI or the binding.
        p = subprocess.run([BIN, "search", "--json", "--sort", "title", self.idx, "search"], capture_output=True,
                           text=True)
        self.assertNotEqual(p.returncode, 0)
        with self.assertRaises(trawl.Error):
            self.ix.search("search", sort="title")
        with self.assertRaises(trawl.Error):
            self.ix.search("search", sort="title:sideways")
        with self.assertRaises(ValueError):
            self.ix.search("search", op="xor")
        with self.assertRaises(ValueError):
            self.ix.search("search", ranking="tfidf")
        # A filter of plain terms: matches like an AND, never scores.
        want = self.cli("search", "--json", "-k", "20", "--filter", "engine", self.idx, "search")
        got = self.ix.search("search", limit=20, filter="engine", snippets=None)
        self.assert_same(got, want, "filter")
        plain = {h.id: h.score for h in self.ix.search("search", limit=1000, snippets=None).hits}
        for h in got.hits:
            self.assertEqual(h.score, plain[h.id])

    def test_facets_and_histograms(self):
        # The facets and histogram of Index.search against `trawl search --json` for the same
        # options: every field of every facet and bucket, and the hits beside them.
        cases = [("data", ["tags:5", "source", "date"], "date:year", None),
                 ("kubernetes OR gpu OR ai", ["tags:3", "source:1"], "date:month", "+05:30"),
                 ("the", ["tags"], "date:quarter", "-08:00"),
                 ("the", ["date", "source:2"], "date:week", None),
                 ("the", [], "date:day", None),
                 ("nothingmatches", ["tags", "date"], "date", None)]
        seen = 0
        for q, facets, hist, tz in cases:
            args = ["search", "--json", "-k", "3"]
            for f in facets:
                args += ["--facet", f]
            args += ["--histogram", hist] + (["--tz", tz] if tz else [])
            want = self.cli(*(args + [self.idx, q]))
            got = self.ix.search(q, limit=3, snippets=None, facets=facets, histogram=hist, tz=tz)
            msg = (q, facets, hist, tz)
            self.assert_same(got, want, msg)
            self.assertEqual(got.facets if facets else want.get("facets", []), want.get("facets", []), msg)
            self.assertEqual(got.histogram, want["histogram"], msg)
            seen += len(want["histogram"]) > 0 and any(f["values"] or f.get("min") for f in want.get("facets", []))
        self.assertGreaterEqual(seen, 3)  # the cases do produce facets and buckets
        plain = self.ix.search("data", snippets=None)
        self.assertIsNone(plain.facets)
        self.assertIsNone(plain.histogram)
        # Errors: a text field (the library's message, as the CLI prints it), malformed specs.
        p = subprocess.run([BIN, "search", "--json", "--facet", "title", self.idx, "data"], capture_output=True,
                           text=True)
        self.assertNotEqual(p.returncode, 0)
        with self.assertRaises(trawl.Error) as cm:
            self.ix.search("data", facets=["title"])
        self.assertIn(cm.exception.message, p.stderr)
        for bad in ({"facets": ["tags:0"]}, {"facets": ["tags:x"]}, {"facets": [":3"]},
                    {"histogram": "date:decade"}, {"histogram": "date", "tz": "Mars/Olympus"}, {"tz": "+01:00"}):
            with self.assertRaises(ValueError, msg=bad):
                self.ix.search("data", **bad)
        with self.assertRaises(TypeError):
            self.ix.search("data", facets="tags")


if __name__ == "__main__":
    unittest.main()
