"""test_trends.py — Index.trends and Index.bursts against `trawl trends --json`
and `trawl trends --bursts TERM --json` on sample/trends.jsonl (the CLI is the
independent path: its own option parsing over the C API), for windows,
backgrounds, queries, both scores, limits and min_docs, and bursts at every
unit, several offsets and automaton parameters; the window's and the
histogram's document counts are also checked against a scan of the JSON
Lines file; bad arguments raise before the library is called, a field that
is not a date field raises the library's error."""

import datetime
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import trawl

SOURCE = os.environ.get("TRAWL_SOURCE_DIR")
BIN = os.environ.get("TRAWL_BIN")

TRENDS = [  # (query, window, background, n, method, min_docs)
    (None, ("2025-01", "2025-06"), None, 20, "jlh", 3),
    (None, ("2025", None), ("2020", "2024"), 10, "chi2", 2),
    ("kubernetes", ("2024-06", "2025-12"), None, 5, "jlh", 1),
    ("database OR search", ("2025-03-01", "2026"), None, 50, "chi2", 2),
    (None, (None, "2024-12"), None, 100, "jlh", 4),
    ("tags:=ai", ("2025-07", "2026-06"), ("2024", "2025-06"), 15, "jlh", 1),
    (None, ("2026-02-01T00:00:00Z", "2026-05-31"), None, 20, "chi2", 1),
]
BURSTS = [  # (term, unit, tz, s, gamma)
    ("kubernetes", "month", None, 2.0, 1.0),
    ("database", "quarter", "+05:30", 2.0, 1.0),
    ("model", "week", "-08:00", 1.5, 0.5),
    ("rust", "year", None, 3.0, 0.0),
    ("search", "day", "+14:00", 2.0, 2.0),
    ("nosuchword", "month", None, 2.0, 1.0),
]


def parse_date(s):
    """A sample document's date (YYYY-MM-DD or a date-time) as an aware datetime."""
    if len(s) == 10:
        s += "T00:00:00+00:00"
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def span_end(s):
    """The first instant after the span a partial date names."""
    parts = s.split("-")
    if len(parts) == 1:
        return datetime.datetime(int(s) + 1, 1, 1, tzinfo=datetime.timezone.utc)
    if len(parts) == 2:
        y, m = int(parts[0]), int(parts[1])
        return datetime.datetime(y + m // 12, m % 12 + 1, 1, tzinfo=datetime.timezone.utc)
    d = parse_date(s)
    return d + datetime.timedelta(days=1) if len(s) == 10 else d + datetime.timedelta(seconds=1)


def span_start(s):
    parts = s.split("-")
    if len(parts) == 1:
        return datetime.datetime(int(s), 1, 1, tzinfo=datetime.timezone.utc)
    if len(parts) == 2:
        return datetime.datetime(int(parts[0]), int(parts[1]), 1, tzinfo=datetime.timezone.utc)
    return parse_date(s)


@unittest.skipUnless(SOURCE and BIN, "needs TRAWL_SOURCE_DIR and TRAWL_BIN (the trawl command)")
class TrendsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="trawl-py-trends-")
        cls.sample = os.path.join(SOURCE, "sample", "trends.jsonl")
        cls.idx = os.path.join(cls.dir, "idx")
        subprocess.run([BIN, "index", "-q", "-o", cls.idx, cls.sample], check=True)
        docs = {}
        with open(cls.sample, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    docs[d["id"]] = d
        cls.dates = [parse_date(d["date"]) for d in docs.values() if d.get("date")]
        cls.ix = trawl.Index(cls.idx)

    @classmethod
    def tearDownClass(cls):
        cls.ix.close()
        shutil.rmtree(cls.dir)

    def cli(self, *args):
        p = subprocess.run([BIN] + list(args), capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_trends_equal_cli(self):
        listed = 0
        for query, window, background, n, method, min_docs in TRENDS:
            args = ["trends", "--json", "--window", "%s..%s" % tuple(x or "" for x in window), "-n", str(n),
                    "--score", method, "--min-docs", str(min_docs)]
            if background:
                args += ["--background", "%s..%s" % tuple(x or "" for x in background)]
            want = self.cli(*(args + [self.idx] + ([query] if query else [])))
            got = self.ix.trends(query, window=window, background=background, n=n, method=method,
                                 min_docs=min_docs)
            self.assertEqual(got, want, (query, window))
            # the same with the "FROM..TO" form
            got2 = self.ix.trends(query, window="%s..%s" % tuple(x or "" for x in window),
                                  background=background and "%s..%s" % tuple(x or "" for x in background), n=n,
                                  method=method, min_docs=min_docs)
            self.assertEqual(got2, want)
            listed += len(got["terms"])
            self.assertLessEqual(len(got["terms"]), n)
            if query is None:  # the window's documents, counted from the file
                lo = span_start(window[0]) if window[0] else None
                hi = span_end(window[1]) if window[1] else None
                self.assertEqual(got["window"]["docs"],
                                 sum(1 for d in self.dates if (lo is None or d >= lo) and (hi is None or d < hi)))
        self.assertGreater(listed, 40)

    def test_bursts_equal_cli(self):
        found = 0
        for term, unit, tz, s, gamma in BURSTS:
            args = ["trends", "--json", "--bursts", term, "--unit", unit, "--s", repr(s), "--gamma", repr(gamma)]
            if tz:
                args += ["--tz", tz]
            want = self.cli(*(args + [self.idx]))
            got = self.ix.bursts(term, unit=unit, tz=tz, s=s, gamma=gamma)
            self.assertEqual(got, want, term)
            found += len(got["bursts"])
            if got["histogram"]:  # every dated document is in one bucket
                self.assertEqual(sum(b["docs"] for b in got["histogram"]), len(self.dates))
        self.assertGreater(found, 0)

    def test_defaults_and_errors(self):
        self.assertEqual(self.ix.trends(window="2025.."), self.cli("trends", "--json", "--window", "2025..", self.idx))
        self.assertEqual(self.ix.bursts("kubernetes"), self.cli("trends", "--json", "--bursts", "kubernetes", self.idx))
        for kw in ({}, {"window": "2025"}, {"window": "2025..", "n": 0}, {"window": "2025..", "min_docs": 0},
                   {"window": "2025..", "method": "idf"}, {"window": "2026..2025"}, {"window": "2025-13.."}):
            with self.assertRaises(ValueError, msg=kw):
                self.ix.trends(**kw)
        for kw in ({"window": 2025}, {"window": ("2025", 2026)}, {"window": "2025..", "query": 5}):
            with self.assertRaises(TypeError, msg=kw):
                self.ix.trends(**kw)
        for kw in ({"unit": "decade"}, {"tz": "Europe/Paris"}, {"s": 1.0}, {"gamma": -1}, {"s": "x"}):
            with self.assertRaises(ValueError, msg=kw):
                self.ix.bursts("kubernetes", **kw)
        p = subprocess.run([BIN, "trends", "--window", "2025..", "--field", "source", self.idx], capture_output=True,
                           text=True)
        self.assertNotEqual(p.returncode, 0)
        with self.assertRaises(trawl.InvalidArgumentError) as e:
            self.ix.trends(window="2025..", field="source")
        self.assertIn(str(e.exception), p.stderr)
        with self.assertRaises(trawl.QuerySyntaxError):
            self.ix.trends('"unclosed', window="2025..")


if __name__ == "__main__":
    unittest.main()
