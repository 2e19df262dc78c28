"""test_threads.py — the binding under threads: the library runs without the
GIL during search and commit, concurrent searches of one Index give the
sequential results, and close() while other threads search is safe.

Whether a call holds the GIL is observed, not timed: a child python3 runs with
the shim tests/gilprobe.c preloaded (TRAWL_GILPROBE names it; check_python.sh
sets it), which records, each time libtrawl calls clock_gettime (trawl_search
does) or fsync (a commit does), whether the calling thread held the GIL
(PyGILState_Check). Controls: the same C function called through
ctypes.PyDLL (which keeps the GIL) must be seen holding it, and through
ctypes.CDLL (which releases it) not."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import trawl
from oracle import make_corpus

PROBE = os.environ.get("TRAWL_GILPROBE")

# Run in the child: prints {case: [calls with the GIL held, calls without]}.
CHILD = r"""
import ctypes, json, os, sys
import trawl
idx_dir, commit_dir, query = sys.argv[1:4]
probe = ctypes.CDLL(os.environ["LD_PRELOAD"])  # the preloaded shim (already loaded)
probe.gilprobe_held.restype = probe.gilprobe_free.restype = ctypes.c_long
out = {}

def measure(name, fn):
    probe.gilprobe_reset()
    fn()
    out[name] = [probe.gilprobe_held(), probe.gilprobe_free()]

with trawl.Index(idx_dir) as ix:
    measure("binding search", lambda: ix.search(query, op="or", limit=10))
w = trawl.Writer(commit_dir, lang="none")
w.add({"id": "x", "body": "one two three"})
measure("binding commit", w.commit)
w.close()
for name, loader in (("PyDLL", ctypes.PyDLL), ("CDLL", ctypes.CDLL)):
    lib = loader(os.environ["TRAWL_LIBRARY"])
    idx, res, wr = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
    assert lib.trawl_index_open(idx_dir.encode(), ctypes.byref(idx), None) == 0
    measure(name + " search", lambda: lib.trawl_search(idx, query.encode(), None, ctypes.byref(res)))
    lib.trawl_results_free(res)
    lib.trawl_index_close(idx)
    assert lib.trawl_writer_open(commit_dir.encode(), None, ctypes.byref(wr), None) == 0
    doc = b'{"id": "y", "body": "four five"}'
    assert lib.trawl_writer_add_json(wr, doc, ctypes.c_size_t(len(doc))) == 0
    measure(name + " commit", lambda: lib.trawl_writer_commit(wr))
    lib.trawl_writer_close(wr)
print(json.dumps(out))
"""


class ThreadTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="trawl-py-")
        cls.idx = os.path.join(cls.dir, "idx")
        cls.docs, cls.vocab = make_corpus(seed=11, ndocs=5000, nwords=400)
        with trawl.Writer(cls.idx, lang="none") as w:
            w.add_many(cls.docs)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    @unittest.skipUnless(PROBE, "TRAWL_GILPROBE (the shim tests/gilprobe.c) is not set")
    def test_search_and_commit_release_the_gil(self):
        q = " ".join(self.vocab[:30])
        env = dict(os.environ, LD_PRELOAD=PROBE)
        commits = os.path.join(self.dir, "probe-commits")
        p = subprocess.run([sys.executable, "-c", CHILD, self.idx, commits, q], env=env, capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        seen = json.loads(p.stdout.strip().splitlines()[-1])
        for call in ("search", "commit"):
            # Controls: the probe sees the calling thread hold the GIL through
            # PyDLL, and not through CDLL.
            self.assertGreater(seen["PyDLL " + call][0], 0, seen)
            self.assertEqual(seen["CDLL " + call][0], 0, seen)
            self.assertGreater(seen["CDLL " + call][1], 0, seen)
            # The binding: never held, and the call was seen.
            self.assertEqual(seen["binding " + call][0], 0, seen)
            self.assertGreater(seen["binding " + call][1], 0, seen)

    def test_concurrent_searches_match_sequential(self):
        queries = [(" ".join(self.vocab[i:i + k]), op) for i in range(0, 40, 3) for k in (1, 2, 3)
                   for op in ("and", "or")]
        with trawl.Index(self.idx) as ix:
            want = [ix.search(q, op=op, limit=20) for q, op in queries]
            results = {}
            errors = []

            def run(tid):
                try:
                    for rep in range(3):
                        got = [ix.search(q, op=op, limit=20) for q, op in queries]
                        results[(tid, rep)] = got
                except Exception as e:  # reported below
                    errors.append(e)

            threads = [threading.Thread(target=run, args=(t,)) for t in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 12)
        for got in results.values():
            for g, w in zip(got, want):
                self.assertEqual((g.total, g.hits), (w.total, w.hits))

    def test_close_while_searching(self):
        ix = trawl.Index(self.idx)
        q = " ".join(self.vocab[:10])
        started = threading.Barrier(5)
        outcomes = []

        def run():
            started.wait()
            n = 0
            try:
                while True:
                    self.assertGreater(ix.search(q, op="or").total, 0)
                    n += 1
            except ValueError:  # closed
                outcomes.append(n)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        started.wait()
        time.sleep(0.05)
        ix.close()
        for t in threads:
            t.join()
        self.assertEqual(len(outcomes), 4)
        self.assertIsNone(ix._handle)  # freed by the last search out
        self.assertRaises(ValueError, ix.search, q)


if __name__ == "__main__":
    unittest.main()
