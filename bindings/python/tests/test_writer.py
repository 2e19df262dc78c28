"""test_writer.py — trawl.Writer: documents round-trip through get() exactly as
added, ids replace, commits become visible only to indexes opened after them,
the context manager commits on success and discards on an exception."""

import os
import random
import shutil
import tempfile
import unittest

import trawl
from oracle import make_corpus


class WriterTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trawl-py-")
        self.idx = os.path.join(self.dir, "idx")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_get_round_trips(self):
        rng = random.Random(3)
        docs, _ = make_corpus(seed=3, ndocs=200)
        # Values of every JSON kind, non-ASCII ids and text, arrays.
        for i, d in enumerate(docs):
            d["n"] = rng.randint(-10**12, 10**12)
            d["x"] = rng.random()
            d["flag"] = bool(i % 2)
            d["none"] = None
            d["tags"] = ["t%d" % rng.randint(0, 9) for _ in range(rng.randint(0, 3))]
            d["nested"] = {"k": [1, {"z": "ü"}]}
        docs.append({"id": "ключ-日本-é", "title": "Ünïcödé", "body": "naïve café 🚀"})
        with trawl.Writer(self.idx) as w:
            self.assertEqual(w.add_many(d for d in docs), len(docs))
            self.assertEqual(w.pending, len(docs))
        with trawl.Index(self.idx) as ix:
            self.assertEqual(len(ix), len(docs))
            for d in docs:
                self.assertEqual(ix.get(d["id"]), d)
            self.assertEqual(ix.search("café").hits[0].id, "ключ-日本-é")

    def test_same_id_replaces(self):
        with trawl.Writer(self.idx) as w:
            w.add({"id": "a", "body": "first version"})
            w.add({"id": "b", "body": "other"})
        with trawl.Writer(self.idx) as w:
            w.add({"id": "a", "body": "second text"})
        with trawl.Index(self.idx) as ix:
            self.assertEqual(len(ix), 2)
            self.assertEqual(ix.get("a"), {"id": "a", "body": "second text"})
            self.assertEqual(ix.search("first").total, 0)
            self.assertEqual([h.id for h in ix.search("second")], ["a"])

    def test_commit_visibility(self):
        w = trawl.Writer(self.idx, lang="none")
        w.add({"id": "1", "body": "alpha"})
        w.commit()
        self.assertEqual(w.pending, 0)
        before = trawl.Index(self.idx)
        w.add({"id": "2", "body": "alpha beta"})
        self.assertEqual(w.pending, 1)
        w.commit()
        after = trawl.Index(self.idx)
        self.assertEqual((len(before), before.search("alpha").total), (1, 1))
        self.assertEqual((len(after), after.search("alpha").total), (2, 2))
        # Not committed: discarded by close.
        w.add({"id": "3", "body": "alpha"})
        w.close()
        with trawl.Index(self.idx) as ix:
            self.assertEqual(len(ix), 2)
        before.close()
        after.close()

    def test_context_manager_commits_or_discards(self):
        with trawl.Writer(self.idx) as w:
            w.add({"id": "kept"})
        self.assertTrue(w.closed)
        with self.assertRaises(KeyError):
            with trawl.Writer(self.idx) as w:
                w.add({"id": "dropped"})
                raise KeyError("boom")
        self.assertTrue(w.closed)
        with trawl.Index(self.idx) as ix:
            self.assertEqual(len(ix), 1)
            ix.get("kept")
            self.assertRaises(trawl.NotFoundError, ix.get, "dropped")

    def test_language(self):
        # english stems (the default), none does not.
        with trawl.Writer(os.path.join(self.dir, "en")) as w:
            w.add({"id": "1", "body": "running engines"})
        with trawl.Writer(os.path.join(self.dir, "none"), lang="none") as w:
            w.add({"id": "1", "body": "running engines"})
        with trawl.Index(os.path.join(self.dir, "en")) as en, trawl.Index(os.path.join(self.dir, "none")) as none:
            self.assertEqual((en.search("run engine").total, none.search("run engine").total), (1, 0))
            self.assertEqual(none.search("running engines").total, 1)
            self.assertEqual(en.stats()["language"], "english")
            self.assertEqual(none.stats()["language"], "none")

    def test_path_like(self):
        import pathlib
        with trawl.Writer(pathlib.Path(self.idx)) as w:
            w.add({"id": "p"})
        with trawl.Index(pathlib.Path(self.idx)) as ix:
            self.assertEqual(len(ix), 1)


if __name__ == "__main__":
    unittest.main()
