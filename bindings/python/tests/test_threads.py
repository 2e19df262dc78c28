"""test_threads.py — the binding under threads: the library runs without the
GIL during search and commit (another Python thread keeps running meanwhile),
concurrent searches of one Index give the sequential results, and close()
while other threads search is safe."""

import bisect
import ctypes
import ctypes.util
import os
import shutil
import tempfile
import threading
import time
import unittest

import trawl
from oracle import make_corpus


def gil_free_fraction(work, calls, clock=time.perf_counter):
    """Runs work(i) for i < calls in a second thread while this thread stamps
    clock() in a tight Python loop. work(i) makes one C call and returns a span
    (start, end) of clock() times known to lie within it. Returns the fraction
    of the calls during whose middle half this thread ran at least once: about
    1 if the call releases the GIL, 0 if it holds it. (The span cannot be timed
    from Python after the call: when the call returns, the GIL may pass to this
    thread before the worker reads the clock.)"""
    spans = []
    done = threading.Event()

    def worker():
        try:
            for i in range(calls):
                spans.append(work(i))
        finally:
            done.set()

    stamps = []
    t = threading.Thread(target=worker)
    t.start()
    while not done.is_set():
        stamps.append(clock())
    t.join()
    ran = 0
    for t0, t1 in spans:
        lo, hi = t0 + (t1 - t0) / 4, t1 - (t1 - t0) / 4
        k = bisect.bisect_left(stamps, lo)
        ran += k < len(stamps) and stamps[k] < hi
    return ran / calls


def timed_usleep(fn):
    """work for gil_free_fraction: fn(20000) is usleep, 20 ms from its start."""
    def work(i):
        t0 = time.perf_counter()
        fn(20000)
        return t0, t0 + 0.02
    return work


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

    def test_measure_tells_holding_from_releasing(self):
        # The control: ctypes.CDLL releases the GIL around a C call, PyDLL
        # keeps it. usleep(20 ms) through each.
        libc = ctypes.util.find_library("c")
        free = ctypes.CDLL(libc)
        held = ctypes.PyDLL(libc)
        self.assertGreaterEqual(gil_free_fraction(timed_usleep(free.usleep), 5), 0.3)
        self.assertEqual(gil_free_fraction(timed_usleep(held.usleep), 5), 0)

    def test_search_releases_the_gil(self):
        # An OR of 30 frequent words scores nearly every document: a C call of
        # milliseconds.
        q = " ".join(self.vocab[:30])
        with trawl.Index(self.idx) as ix:
            r = ix.search(q, op="or", limit=100)
            self.assertGreater(r.total, 4000)

            def work(i):
                # took_us is measured inside the C call, which starts after t0.
                t0 = time.perf_counter()
                return t0, t0 + ix.search(q, op="or", limit=100).took_us / 1e6

            frac = gil_free_fraction(work, 10)
        self.assertGreaterEqual(frac, 0.3)

    def test_commit_releases_the_gil(self):
        d = os.path.join(self.dir, "commits")
        w = trawl.Writer(d, lang="none")

        def work(i):
            # The commit's last act is renaming the new MANIFEST into place:
            # its modification time falls inside the C call.
            t0 = time.time()
            w.commit()
            return t0, os.stat(os.path.join(d, "MANIFEST")).st_mtime

        try:
            fracs = []
            for i in range(4):
                w.add_many(self.docs[i * 1200:(i + 1) * 1200])  # not measured
                fracs.append(gil_free_fraction(work, 1, clock=time.time))
        finally:
            w.close()
        # Holding the GIL gives exactly 0; a loaded machine may starve this
        # thread of a CPU during some calls, so one in four suffices.
        self.assertGreater(sum(fracs), 0, fracs)

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
