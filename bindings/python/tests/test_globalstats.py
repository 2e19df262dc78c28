"""test_globalstats.py — Index.query_stats, trawl.sum_stats and
Index.search(stats=...) without Dask: a corpus split into 3 indexes by
trawl.dask.partition_of, each searched with the summed statistics, merged by
score, against the whole corpus in one index (totals, scores 1e-9, each id's
own score)."""

import math
import random
import shutil
import tempfile
import unittest

import trawl
from trawl.dask import partition_of
from oracle import make_corpus


class GlobalStatsTest(unittest.TestCase):

    def test_partitions_score_like_one_index(self):
        tmp = tempfile.mkdtemp(prefix="trawl-gs-")
        try:
            docs, vocab = make_corpus(seed=12, ndocs=500)
            with trawl.Writer(tmp + "/single") as w:
                w.add_many(iter(docs))
            writers = [trawl.Writer("%s/p%d" % (tmp, i)) for i in range(3)]
            for d in docs:
                writers[partition_of(d["id"], 3)].add(d)
            for w in writers:
                w.commit()
                w.close()
            single = trawl.Index(tmp + "/single")
            parts = [trawl.Index("%s/p%d" % (tmp, i)) for i in range(3)]
            self.assertEqual(sum(p.doc_count for p in parts), single.doc_count)
            rng = random.Random(3)
            differ = 0
            for qi in range(60):
                a, b = rng.sample(vocab[:50], 2)
                query, op = [("%s %s" % (a, b), "and"), ("%s %s" % (a, b), "or"), ('"%s %s"' % (a, b), "or"),
                             ("%s* -%s" % (a[:2], b), "and"), ("title:%s OR %s" % (a, b), "and")][qi % 5]
                stats = trawl.sum_stats([p.query_stats(query, op=op) for p in parts])
                self.assertEqual(stats["documents"], single.doc_count)
                s = single.search(query, limit=1000, op=op, snippets=None)
                own = {h.id: h.score for h in s.hits}
                hits, total = [], 0
                for i, p in enumerate(parts):
                    r = p.search(query, op=op, snippets=None, stats=stats)
                    total += r.total
                    hits += [(-h.score, i, k, h) for k, h in enumerate(r.hits)]
                    plain = p.search(query, op=op, snippets=None)
                    differ += any(not math.isclose(h.score, own[h.id], rel_tol=1e-9) for h in plain.hits)
                merged = [h for *_, h in sorted(hits, key=lambda x: x[:3])][:10]
                self.assertEqual(total, s.total, query)
                self.assertEqual(len(merged), min(10, len(s.hits)), query)
                for k, h in enumerate(merged):
                    self.assertTrue(math.isclose(h.score, s.hits[k].score, rel_tol=1e-9), query)
                    self.assertTrue(math.isclose(own[h.id], h.score, rel_tol=1e-9), query)
            self.assertGreater(differ, 10)  # without the statistics, scores differ
            with self.assertRaises(trawl.InvalidArgumentError):
                parts[0].search("x", stats="{")
            with self.assertRaises(trawl.QuerySyntaxError):
                parts[0].query_stats('"open')
            for p in parts:
                p.close()
            single.close()
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
