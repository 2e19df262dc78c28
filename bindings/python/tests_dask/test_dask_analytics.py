"""test_dask_analytics.py — facets and date histograms of trawl.dask
collections against the same corpus in one trawl index (the oracle): for
P = 1, 2, 3 and 7 partitions on a LocalCluster of worker processes, random
queries with random filters, keyword facets (tags: many values of which many
tie in count; source: few values; author: a field most partitions lack),
date facets and histograms at every unit and several UTC offsets give the
single index's facets (values, counts, the cut among equal counts, docs,
min/max) and histograms (buckets, starts, matches, all-document counts)
exactly; a collection whose partitions' date spans are disjoint gets the gaps
between them filled as the single index fills them; a field no partition has
fails with the single index's message."""

import json
import os
import random
import tempfile
import unittest

import dask_fixture
import trawl
import trawl.dask as td

UNITS = ["year", "quarter", "month", "week", "day"]
OFFSETS = [None, "+05:30", "-08:00", "Z", "+14:00", "-12:00"]


def words(rng, n=60):
    syl = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo"]
    out = set()
    while len(out) < n:
        out.add("".join(rng.choice(syl) for _ in range(rng.randint(2, 3))))
    return sorted(out)


class DaskAnalyticsTest(unittest.TestCase):
    NDOCS = 1600

    @classmethod
    def setUpClass(cls):
        rng = random.Random(812)
        cls.words = words(rng)
        cls.tags = ["t%02d" % i for i in range(40)] + ["Zeta", "éclair", "ärger", "a b"]
        cls.sources = ["alpha", "beta", "gamma", "delta", "epsilon"]
        cls.tmp = tempfile.mkdtemp(prefix="trawl-dask-an-")
        cls.input = os.path.join(cls.tmp, "docs.jsonl")
        with open(cls.input, "w", encoding="utf-8") as f:
            for i in range(cls.NDOCS + 200):
                n = i if i < cls.NDOCS else rng.randrange(cls.NDOCS)  # updates of earlier ids
                doc = {"id": "d%d" % n, "title": cls.text(rng, 2, 5), "body": cls.text(rng, 5, 40)}
                if rng.random() < 0.9:
                    y = 2010 + min(rng.randrange(15), rng.randrange(15))
                    doc["date"] = "%04d-%02d-%02dT%02d:%02d:00Z" % (y, rng.randint(1, 12), rng.randint(1, 28),
                                                                  rng.randrange(24), rng.randrange(60))
                if rng.random() < 0.01:  # far from the rest: long, mostly empty histograms
                    doc["date"] = "%04d-06-30T23:30:00Z" % rng.choice([1987, 1999, 2031])
                if rng.random() < 0.7:
                    doc["tags"] = sorted({cls.tags[min(rng.randrange(len(cls.tags)), rng.randrange(len(cls.tags)))]
                                          for _ in range(rng.randint(1, 4))})
                if rng.random() < 0.8:
                    doc["source"] = rng.choice(cls.sources)
                if rng.random() < 0.004:
                    doc["author"] = rng.choice(["ann", "bob"])
                f.write(json.dumps(doc) + "\n")
        dask_fixture.start(cls, chunk_bytes=64 << 10)

    @classmethod
    def tearDownClass(cls):
        dask_fixture.stop(cls)

    @classmethod
    def text(cls, rng, lo, hi):
        return " ".join(cls.words[min(rng.randrange(len(cls.words)), rng.randrange(len(cls.words)))]
                        for _ in range(rng.randint(lo, hi)))

    def random_request(self, rng):
        w = self.words
        query = rng.choice([w[rng.randrange(8)], "%s %s" % (rng.choice(w), rng.choice(w)),
                            "%s OR %s" % (rng.choice(w), rng.choice(w)), rng.choice(w)])
        filt = rng.choice([None, None, "date>=%d" % rng.randint(2011, 2023),
                           "date:[%d TO %d-06]" % (rng.randint(2010, 2016), rng.randint(2016, 2024)),
                           "source:=%s" % rng.choice(self.sources), "tags:=%s" % rng.choice(self.tags[:10]),
                           "year:%d" % rng.randint(2010, 2024)])
        facets = rng.sample(["tags:%d" % rng.randint(1, 12), "source:%d" % rng.randint(1, 3), "date",
                             "author:%d" % rng.randint(1, 2), "tags:%d" % rng.randint(30, 60)], rng.randint(1, 3))
        # one facet per field, as the library keeps one per field
        seen, uniq = set(), []
        for f in facets:
            if f.split(":")[0] not in seen:
                seen.add(f.split(":")[0])
                uniq.append(f)
        hist = rng.choice([None, "date"] + ["date:" + u for u in UNITS])
        tz = rng.choice(OFFSETS) if hist else None
        return query, filt, uniq, hist, tz

    def test_equal_to_single_index(self):
        rng = random.Random(4711)
        n = ties = cut_ties = gaps = buckets = 0
        for qi in range(110):
            query, filt, facets, hist, tz = self.random_request(rng)
            s = self.single.search(query, limit=5, filter=filt, facets=facets, histogram=hist, tz=tz, snippets=None)
            for p in (1, 2, 3, 7):
                r = self.colls[p].search(query, limit=5, filter=filt, facets=facets, histogram=hist, tz=tz)
                msg = "P=%d %r filter=%r facets=%r histogram=%r tz=%r" % (p, query, filt, facets, hist, tz)
                self.assertEqual(r.total, s.total, msg)
                self.assertEqual([h.id for h in r.hits], [h.id for h in s.hits], msg)
                self.assertEqual(r.facets, s.facets, msg)
                self.assertEqual(r.histogram, s.histogram, msg)
                n += 1
            for f in s.facets:
                c = [v["count"] for v in f["values"]]
                ties += sum(1 for a, b in zip(c, c[1:]) if a == b)
                if f["type"] == "keyword":
                    field, want = f["field"], int(facets[[x.split(":")[0] for x in facets].index(f["field"])]
                                                  .split(":")[1])
                    more = self.single.search(query, limit=0, filter=filt, facets=["%s:%d" % (field, want + 1)])
                    mc = [v["count"] for v in more.facets[0]["values"]]
                    cut_ties += len(mc) > want and mc[want] == mc[want - 1]
            if s.histogram:
                buckets += len(s.histogram)
                gaps += sum(1 for b in s.histogram if not b["matches"])
        self.assertGreaterEqual(n, 4 * 100)
        self.assertGreaterEqual(ties, 100)  # equal counts put the value order to the test
        self.assertGreaterEqual(cut_ties, 10)  # the top-n cut fell among equal counts
        self.assertGreaterEqual(buckets, 1000)
        self.assertGreaterEqual(gaps, 100)  # empty buckets between matches

    def test_count_only_and_paging(self):
        rng = random.Random(5)
        for _ in range(10):
            query, filt, facets, hist, tz = self.random_request(rng)
            s = self.single.search(query, limit=0, filter=filt, facets=facets, histogram=hist, tz=tz)
            r = self.colls[3].search(query, limit=0, filter=filt, facets=facets, histogram=hist, tz=tz)
            self.assertEqual((r.total, r.facets, r.histogram), (s.total, s.facets, s.histogram))
            s = self.single.search(query, limit=4, offset=3, filter=filt, facets=facets, snippets=None)
            r = self.colls[7].search(query, limit=4, offset=3, filter=filt, facets=facets)
            self.assertEqual(([h.id for h in r.hits], r.facets), ([h.id for h in s.hits], s.facets))

    def test_missing_fields(self):
        """author is in a few partitions only; a field none has fails as in
        the single index."""
        last = {}
        with open(self.input, encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                last[d["id"]] = d
        having = {td.partition_of(i, 7) for i, d in last.items() if "author" in d}
        self.assertGreaterEqual(7 - len(having), 2)  # partitions that never saw an author
        self.assertGreaterEqual(len(having), 1)
        s = self.single.search(self.words[0], limit=0, facets=["author:5", "tags:3"])
        r = self.colls[7].search(self.words[0], limit=0, facets=["author:5", "tags:3"])
        self.assertEqual(r.facets, s.facets)
        for kw in ({"facets": ["nofield"]}, {"histogram": "nofield"}, {"histogram": "source"}):
            with self.assertRaises(trawl.InvalidArgumentError) as single:
                self.single.search(self.words[0], **kw)
            with self.assertRaises(trawl.InvalidArgumentError) as merged:
                self.colls[7].search(self.words[0], **kw)
            self.assertEqual(str(merged.exception), str(single.exception), kw)

    def test_disjoint_spans_are_filled(self):
        """Seven documents years apart in seven partitions: most partitions'
        spans are one bucket, and the buckets between them come from the
        coordinator's calendar — equal to the single index's at every unit
        and offset."""
        src = os.path.join(self.tmp, "sparse.jsonl")
        years = [1996, 1999, 2000, 2004, 2008, 2009, 2015]
        with open(src, "w", encoding="utf-8") as f:
            for i, y in enumerate(years):
                f.write(json.dumps({"id": "s%d" % i, "body": "common %s" % ("odd" if i % 2 else "even"),
                                    "date": "%d-%02d-%02dT%02d:00:00Z" % (y, 1 + 5 * (i % 3), 1 + 9 * (i % 4),
                                                                        (7 * i) % 24)}) + "\n")
        single_dir = os.path.join(self.tmp, "sparse-single")
        with trawl.Writer(single_dir) as w, open(src, encoding="utf-8") as f:
            w.add_many(json.loads(line) for line in f)
        out = os.path.join(self.tmp, "sparse-p7")
        td.build(self.client, [src], out, partitions=7)
        coll = td.Collection(self.client, out)
        spans = 0
        with trawl.Index(single_dir) as single:
            for unit in ("year", "quarter", "month", "week"):
                for tz in OFFSETS:
                    for q in ("common", "odd", "even"):
                        s = single.search(q, histogram="date:" + unit, tz=tz)
                        r = coll.search(q, histogram="date:" + unit, tz=tz)
                        self.assertEqual(r.histogram, s.histogram, (unit, tz, q))
                        spans += len(s.histogram)
        self.assertGreater(spans, 5000)


if __name__ == "__main__":
    unittest.main()
