"""dask.py — trawl.dask: a collection partitioned into P trawl indexes, built
and searched on Dask distributed, ranked exactly as one index would rank it.

Layout of a collection directory (on storage every worker can read):

    OUT/trawl-collection.json   {"format": "trawl-collection", "version": 2,
                                 "partitions": P, "hash": "blake2b-64", "lang": L,
                                 "next_order": K}
    OUT/part-000 ... part-P-1   one trawl index each

A document belongs to partition blake2b(id UTF-8, digest_size=8) read as a
big-endian unsigned 64-bit integer, modulo P (partition_of), so an update or a
delete of an id goes to the partition that holds it.

build() reads JSON Lines inputs in byte-range chunks as tasks, routes each line
by its id, and writes each partition with one writer task at a time (a chain
of tasks per partition), each task one atomic commit; a re-run task re-adds the
same documents, which replace themselves by id, so nothing is duplicated.

Order keys (the tie order): a single index ranks equal scores in index order,
the order documents were added (segment order, then document number; merges
keep it). build() gives every document its place in the collection's order as
the number "_trawl_order" (ORDER_FIELD, a reserved name: a value already there
is replaced): the byte position of its line in the concatenation of every
input ever added to the collection, in the order given. A build reserves its
range [next_order, next_order + the inputs' bytes) in the manifest before it
writes anything, so later builds (and re-runs of a build) come after it; a
failed build leaves a gap, never a repeated key. A JSON number is stored but
not indexed, so the key changes no statistic, match or score. Every partition
is written in that order (its writes are chained), so its own index order is
order-key order, and merging the partitions' top lists by (score, order key)
gives exactly the ranking, ties included, of one index to which the same
inputs were added in the same order. A document without a key (a partition
written otherwise) ranks after the keyed ones of its score, by partition then
rank.

Collection.search() runs a statistics round (each partition's
Index.query_stats, summed with trawl.sum_stats) and then searches every
partition with the summed statistics, so scores equal those of a single index
holding the whole collection; the partial top-k lists are merged by score then
order key, and totals are summed. A field-qualified query on a field that some
partitions lack matches nothing there (the statistics say that the collection
has it); on a field no partition has it fails as one index would. Every
partition's answer is required: a lost worker's task is re-run by Dask
elsewhere, and a search that cannot complete within its timeout raises
SearchError (never a partial result).

    python3 -m trawl.dask build --scheduler ADDR --partitions P OUT INPUT...
    python3 -m trawl.dask search --scheduler ADDR [-k N] [--or] OUT QUERY
"""

import argparse
import hashlib
import json
import operator
import os
import sys
import threading

from .errors import Error, InvalidArgumentError
from .index import Hit, Index, SearchResult, sum_stats
from .writer import Writer

MANIFEST = "trawl-collection.json"
ORDER_FIELD = "_trawl_order"
HASH = "blake2b-64"
CHUNK_BYTES = 8 << 20


class SearchError(Error):
    """A distributed search or build that could not complete: a partition's
    task failed for good (e.g. its workers kept dying) or the timeout passed."""

    def __init__(self, message):
        super().__init__(message)


def partition_of(doc_id, partitions):
    """The partition (0 .. partitions-1) of the document id doc_id (a str)."""
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions


def part_path(out_dir, i):
    """The directory of partition i of the collection in out_dir."""
    return os.path.join(out_dir, "part-%03d" % i)


def read_manifest(out_dir):
    """The collection manifest of out_dir as a dict (FileNotFoundError when
    there is none, ValueError when it is not one this module wrote)."""
    with open(os.path.join(out_dir, MANIFEST), encoding="utf-8") as f:
        m = json.load(f)
    if m.get("format") != "trawl-collection" or m.get("hash") != HASH or not isinstance(m.get("partitions"), int) \
            or m["partitions"] < 1:
        raise ValueError("%s: not a trawl collection manifest" % os.path.join(out_dir, MANIFEST))
    return m


def create(out_dir, partitions, lang=None):
    """Makes out_dir a collection of `partitions` partitions (or checks that it
    already is one with that many) and returns its manifest. The manifest is
    written atomically (temporary file, fsync, rename)."""
    try:
        m = read_manifest(out_dir)
    except FileNotFoundError:
        m = None
    if m is not None:
        if m["partitions"] != partitions:
            raise ValueError("%s has %d partitions, not %d" % (out_dir, m["partitions"], partitions))
        return m
    os.makedirs(out_dir, exist_ok=True)
    m = {"format": "trawl-collection", "version": 2, "partitions": partitions, "hash": HASH,
         "lang": lang or "english", "next_order": 0}
    _write_manifest(out_dir, m)
    return m


def _reserve_order(out_dir, nbytes):
    """Reserves the order keys [K, K + nbytes) of a build in the manifest of
    out_dir (K its next_order; a version 1 manifest starts at 0) and returns
    K. One build at a time per collection (not locked)."""
    m = read_manifest(out_dir)
    base = m.get("next_order", 0)
    m["next_order"] = base + nbytes
    m["version"] = 2
    _write_manifest(out_dir, m)
    return base


def _write_manifest(out_dir, m):
    """Replaces the manifest of out_dir by m, atomically and durably."""
    tmp = os.path.join(out_dir, MANIFEST + ".tmp.%d" % os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(m, f)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(out_dir, MANIFEST))
    dfd = os.open(out_dir, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


# ---------------------------------------------------------------------------
# Building

def _chunks(inputs, chunk_bytes):
    """(path, start, end, base) byte ranges covering every input, base being
    the bytes of the inputs before path; a line belongs to the range its first
    byte is in. Also returns the inputs' total bytes."""
    out = []
    base = 0
    for path in inputs:
        size = os.path.getsize(path)
        for start in range(0, max(size, 1), chunk_bytes):
            out.append((os.path.abspath(path), start, min(start + chunk_bytes, size), base))
        base += size
    return out, base


def _route(path, start, end, partitions, order_base=0):
    """Task: reads the lines starting in path[start, end) and returns, per
    partition, the list of the document dicts it holds, in input order, each
    given its order key (ORDER_FIELD): order_base + the line's byte offset in
    path. A line that is not a JSON object with a non-empty str id raises."""
    parts = [[] for _ in range(partitions)]
    with open(path, "rb") as f:
        if start > 0:
            f.seek(start - 1)
            if f.read(1) != b"\n":
                f.readline()  # the line under way belongs to the previous range
        pos = f.tell()
        n = 0
        while pos < end:
            line = f.readline()
            if not line:
                break
            pos += len(line)
            n += 1
            if not line.strip():
                continue
            doc = json.loads(line)
            if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or not doc["id"]:
                raise ValueError("%s: byte %d: a document needs a non-empty string id" % (path, pos - len(line)))
            doc[ORDER_FIELD] = order_base + pos - len(line)
            parts[partition_of(doc["id"], partitions)].append(doc)
    return parts


def _write(part_dir, lang, previous, *batches):
    """Task: adds the documents of batches (lists, in order) to the index in
    part_dir and commits them at once. previous (the partition's earlier
    write task) only orders the chain. Returns the number added."""
    n = 0
    with Writer(part_dir, lang=lang) as w:
        for batch in batches:
            n += w.add_many(batch)
    return n


def build(client, inputs, out_dir, partitions=4, lang=None, chunk_bytes=CHUNK_BYTES, chunks_per_commit=4,
          retries=3):
    """Adds the JSON Lines files inputs (paths every worker can read) to the
    collection in out_dir (created with `partitions` partitions if new) on the
    Dask client's cluster. Returns the number of documents added (an id seen
    again replaces its earlier document, as in trawl index). Each partition
    commits once per group of chunks_per_commit chunks; at most two groups are
    in flight, which bounds memory. A failed task is retried `retries` times
    (a commit re-run is harmless); a document error raises. Every document
    gets its order key (see the module comment); run one build at a time on
    a collection."""
    from distributed import wait

    m = create(out_dir, partitions, lang)
    lang = m["lang"]
    for i in range(partitions):
        os.makedirs(part_path(out_dir, i), exist_ok=True)
    chunks, nbytes = _chunks(inputs, chunk_bytes)
    order = _reserve_order(out_dir, nbytes)
    last = [None] * partitions
    pending = []
    total = 0
    for g in range(0, len(chunks), chunks_per_commit):
        routed = [client.submit(_route, p, s, e, partitions, order + b, pure=False, retries=retries)
                  for p, s, e, b in chunks[g:g + chunks_per_commit]]
        writes = []
        for i in range(partitions):
            slices = [client.submit(operator.getitem, r, i, pure=False, retries=retries) for r in routed]
            last[i] = client.submit(_write, part_path(out_dir, i), lang, last[i], *slices, pure=False,
                                    retries=retries)
            writes.append(last[i])
        pending.append(writes)
        if len(pending) > 2:  # bound what is in memory: wait for the group before last
            done = pending.pop(0)
            wait(done)
            total += sum(client.gather(done))
    for writes in pending:
        wait(writes)
        total += sum(client.gather(writes))
    return total


# ---------------------------------------------------------------------------
# Searching

_cache = {}
_cache_lock = threading.Lock()


def _open(part_dir):
    """The worker process's open Index of part_dir, reopened when the
    partition's MANIFEST changed (a new commit)."""
    st = os.stat(os.path.join(part_dir, "MANIFEST"))
    key = (st.st_ino, st.st_mtime_ns, st.st_size)
    with _cache_lock:
        entry = _cache.get(part_dir)
        if entry is not None and entry[0] == key:
            return entry[1]
        idx = Index(part_dir)
        if entry is not None:
            entry[1].close()
        _cache[part_dir] = (key, idx)
        return idx


def _part_stats(part_dir, query, op):
    """Task: the query's statistics in one partition."""
    return _open(part_dir).query_stats(query, op=op)


def _order_key(idx, doc_id):
    """The order key of the live document doc_id in idx, or None."""
    key = idx.get(doc_id).get(ORDER_FIELD)
    return key if isinstance(key, int) and not isinstance(key, bool) else None


_NO_FACET_FIELD = "no keyword, date or number field named '"
_NO_DATE_FIELD = "no date field named '"


def _part_search(part_dir, query, want, op, stats, snippets, filter=None, facets=None, histogram=None, tz=None):
    """Task: the top `want` hits of one partition scored with stats, as
    (total, [(id, score, title, snippet, order key or None), ...], facets,
    histogram), the facets and histogram complete parts to be summed
    (Index.search analytics_complete=True). A facet or histogram field this
    partition lacks is left out (its facet is absent from the list, the
    histogram None): the others may have it."""
    idx = _open(part_dir)
    facets = list(facets or ())
    while True:
        try:
            r = idx.search(query, limit=want, op=op, snippets=snippets, stats=stats, filter=filter,
                           facets=facets or None, histogram=histogram, tz=tz if histogram is not None else None,
                           analytics_complete=bool(facets) or histogram is not None)
            break
        except InvalidArgumentError as e:
            msg = str(e)
            if msg.startswith(_NO_FACET_FIELD) and facets:
                name = msg[len(_NO_FACET_FIELD):].rsplit("'", 1)[0]
                rest = [f for f in facets if _facet_spec(f)[0] != name]
                if len(rest) < len(facets):
                    facets = rest
                    continue
            if msg.startswith(_NO_DATE_FIELD) and histogram is not None \
                    and msg[len(_NO_DATE_FIELD):].rsplit("'", 1)[0] == _hist_spec(histogram)[0]:
                histogram = None
                continue
            raise
    hits = [tuple(h) + (_order_key(idx, h.id),) for h in r.hits]
    return r.total, hits, r.facets, r.histogram


def _facet_spec(f):
    """(field, n) of a facet spec "FIELD" or "FIELD:N" (as Index.search)."""
    if ":" in f:
        field, _, n = f.rpartition(":")
        return field, int(n) if n.isdigit() else 10
    return f, 10


def _hist_spec(h):
    """(field, unit) of a histogram spec "FIELD" or "FIELD:UNIT"."""
    if ":" in h:
        field, _, unit = h.rpartition(":")
        return field, unit
    return h, "month"


def merge_facets(specs, parts):
    """The facets of one index holding every partition, from the complete
    parts parts[i] (each partition's list of facet dicts, absent when it
    lacks the field): docs and keyword counts summed by value, the n most
    frequent kept with ties in value byte order (as trawl_options_add_facet
    ranks them), the smallest min and the largest max of date (ISO text,
    which sorts as it compares) and number facets. A field no partition has
    raises InvalidArgumentError with the single index's message."""
    out = []
    for spec in specs:
        field, n = _facet_spec(spec)
        mine = [f for facets in parts for f in (facets or ()) if f["field"] == field]
        if not mine:
            raise InvalidArgumentError("%s%s'" % (_NO_FACET_FIELD, field))
        kind = mine[0]["type"]
        d = {"field": field, "type": kind, "docs": sum(f["docs"] for f in mine), "values": []}
        if kind == "keyword":
            counts = {}
            for f in mine:
                for v in f["values"]:
                    counts[v["value"]] = counts.get(v["value"], 0) + v["count"]
            # str order is code point order, which is UTF-8 byte order
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
            d["values"] = [{"value": v, "count": c} for v, c in ranked]
        else:
            lows = [f["min"] for f in mine if f.get("min") is not None]
            highs = [f["max"] for f in mine if f.get("max") is not None]
            d["min"] = min(lows) if lows else None
            d["max"] = max(highs) if highs else None
        out.append(d)
    return out


def _label_date(label, unit):
    """The local first day (datetime.date) of the bucket with this label."""
    import datetime

    if unit == "year":
        return datetime.date(int(label), 1, 1)
    if unit == "quarter":
        y, q = label.split("-Q")
        return datetime.date(int(y), 3 * (int(q) - 1) + 1, 1)
    if unit == "month":
        y, m = label.split("-")
        return datetime.date(int(y), int(m), 1)
    if unit == "week":
        y, w = label.split("-W")
        return datetime.date.fromisocalendar(int(y), int(w), 1)
    y, m, dd = label.split("-")
    return datetime.date(int(y), int(m), int(dd))


def _next_bucket(day, unit):
    """The first day of the bucket after the one starting on day, and its label."""
    import datetime

    if unit == "year":
        nxt = datetime.date(day.year + 1, 1, 1)
    elif unit in ("quarter", "month"):
        m = day.month - 1 + (3 if unit == "quarter" else 1)
        nxt = datetime.date(day.year + m // 12, m % 12 + 1, 1)
    else:
        nxt = day + datetime.timedelta(days=7 if unit == "week" else 1)
    if unit == "year":
        label = "%04d" % nxt.year
    elif unit == "quarter":
        label = "%04d-Q%d" % (nxt.year, (nxt.month - 1) // 3 + 1)
    elif unit == "month":
        label = "%04d-%02d" % (nxt.year, nxt.month)
    elif unit == "week":
        iso = nxt.isocalendar()
        label = "%04d-W%02d" % (iso[0], iso[1])
    else:
        label = nxt.isoformat()
    return nxt, label


def merge_histogram(spec, parts):
    """The histogram of one index holding every partition, from the complete
    parts parts[i] (each partition's buckets over its span of dated
    documents, None when it lacks the field): matches and docs summed per
    bucket, kept from the first to the last bucket with a match, a bucket no
    partition spans (a gap between their spans) filled in empty. A field no
    partition has raises InvalidArgumentError with the single index's
    message."""
    import datetime

    field, unit = _hist_spec(spec)
    mine = [h for h in parts if h is not None]
    if not mine:
        raise InvalidArgumentError("%s%s'" % (_NO_DATE_FIELD, field))
    summed = {}
    for h in mine:
        for b in h:
            e = summed.get(b["start"])
            if e is None:
                summed[b["start"]] = dict(b)
            else:
                e["matches"] += b["matches"]
                e["docs"] += b["docs"]
    known = [summed[k] for k in sorted(summed)]
    with_match = [i for i, b in enumerate(known) if b["matches"]]
    if not with_match:
        return []
    known = known[with_match[0]:with_match[-1] + 1]
    out = [known[0]]
    epoch = datetime.date(1970, 1, 1)
    for b in known[1:]:
        prev = out[-1]
        day = _label_date(prev["bucket"], unit)
        # the offset from UTC the buckets are read at: local midnight - start
        tz = (day - epoch).days * 86400 - prev["start"]
        while True:
            day, label = _next_bucket(day, unit)
            start = (day - epoch).days * 86400 - tz
            if start >= b["start"]:
                break
            out.append({"bucket": label, "start": start, "matches": 0, "docs": 0})
        out.append(b)
    return out


def merge_hits(parts, offset, limit):
    """The hits ranked offset+1 .. offset+limit of the partitions' lists
    parts[i] = [(id, score, title, snippet, order key or None), ...] (each
    list in its partition's rank order): by score, then order key; hits
    without a key after the keyed ones of their score, by partition then
    rank. Returns Hit tuples."""
    merged = []
    for i, hits in enumerate(parts):
        for rank, h in enumerate(hits):
            key = (0, h[4], 0, 0) if h[4] is not None else (1, 0, i, rank)
            merged.append(((-h[1],) + key, h))
    merged.sort(key=lambda x: x[0])
    return [Hit(*h[:4]) for _, h in merged[offset:offset + limit]]


class Collection:
    """A partitioned collection in out_dir searched on the Dask client's
    cluster: Collection(client, out_dir). Partition i's tasks prefer one
    worker (so its open index is reused) but may run on any. The summed
    statistics of up to stats_cache recent (query, op) pairs are kept and
    reused while no partition has a new commit (the client stats every
    partition's MANIFEST, which a commit replaces), which saves the first
    round for a repeated query; 0 turns the cache off."""

    def __init__(self, client, out_dir, timeout=60.0, retries=2, stats_cache=1024):
        self.client = client
        self.stats_cache = stats_cache
        self._stats = {}
        self.dir = os.path.abspath(out_dir)
        self.manifest = read_manifest(self.dir)
        self.partitions = self.manifest["partitions"]
        self.timeout = timeout
        self.retries = retries

    def _home(self, i):
        workers = sorted(self.client.scheduler_info().get("workers", {}))
        return [workers[i % len(workers)]] if workers else None

    def _run(self, fn, args):
        """Runs fn(part_dir(i), *args) for every partition; every result or
        SearchError."""
        from distributed import wait

        futs = [self.client.submit(fn, part_path(self.dir, i), *args, pure=False, retries=self.retries,
                                   workers=self._home(i), allow_other_workers=True)
                for i in range(self.partitions)]
        try:
            wait(futs, timeout=self.timeout)
            return self.client.gather(futs)
        except Error:
            raise
        except Exception as e:  # TimeoutError, KilledWorker, CancelledError, ...
            raise SearchError("search of %s failed: %s: %s" % (self.dir, type(e).__name__, e)) from e
        finally:
            self.client.cancel([f for f in futs if not f.done()])

    def _generation(self):
        """What identifies every partition's current commit."""
        out = []
        for i in range(self.partitions):
            st = os.stat(os.path.join(part_path(self.dir, i), "MANIFEST"))
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        return tuple(out)

    def stats(self, query, op="and"):
        """The query's statistics summed over every partition."""
        gen = self._generation() if self.stats_cache else None
        hit = self._stats.get((query, op))
        if hit is not None and hit[0] == gen:
            return hit[1]
        summed = sum_stats(self._run(_part_stats, (query, op)))
        if self.stats_cache:
            if len(self._stats) >= self.stats_cache:
                self._stats.pop(next(iter(self._stats)))  # the oldest entry
            self._stats[(query, op)] = (gen, summed)
        return summed

    def search(self, query, limit=10, offset=0, op="and", snippets=None, filter=None, facets=None, histogram=None,
               tz=None):
        """Ranks the whole collection for query like Index.search on one index
        holding every document would: returns a SearchResult whose hits are
        ranks offset+1 .. offset+limit (ties in the collection's order, see
        the module comment), total the exact number of matches, took_us 0.
        snippets as for Index.search (None: ids and scores only, the
        fastest). filter, facets, histogram and tz as for Index.search: the
        facets and the histogram are exact, those of the single index
        (each partition sends its complete counts — every keyword value its
        matches have, every bucket of its dated documents — and they are
        summed; see merge_facets and merge_histogram)."""
        if op not in ("and", "or"):
            # "auto" ranks each partition's AND matches first, and a hit does
            # not say which part it is in: the lists could not be merged.
            raise ValueError('op must be "and" or "or" on a collection, not %r' % (op,))
        if facets is not None and (isinstance(facets, str) or not all(isinstance(f, str) for f in facets)):
            raise TypeError("facets must be a list of str (\"FIELD\" or \"FIELD:N\")")
        if histogram is None and tz is not None:
            raise ValueError("tz goes with histogram")
        stats = self.stats(query, op)
        want = offset + limit
        parts = self._run(_part_search, (query, max(want, 0), op, stats, snippets, filter, facets, histogram, tz))
        total = sum(p[0] for p in parts)
        hits = merge_hits([p[1] for p in parts], offset, limit) if limit else []
        result = SearchResult(total, 0, hits)
        if facets:
            result.facets = merge_facets(facets, [p[2] for p in parts])
        if histogram is not None:
            result.histogram = merge_histogram(histogram, [p[3] for p in parts])
        return result


# ---------------------------------------------------------------------------
# Command line

def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m trawl.dask",
                                 description="Partitioned trawl collections on Dask distributed.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="add JSON Lines inputs to a partitioned collection")
    b.add_argument("--scheduler", required=True, help="Dask scheduler address (tcp://host:8786)")
    b.add_argument("--partitions", type=int, default=4)
    b.add_argument("--lang", default=None)
    b.add_argument("--chunk-mb", type=int, default=CHUNK_BYTES >> 20)
    b.add_argument("out")
    b.add_argument("inputs", nargs="+")
    s = sub.add_parser("search", help="search a partitioned collection")
    s.add_argument("--scheduler", required=True)
    s.add_argument("-k", type=int, default=10)
    s.add_argument("--offset", type=int, default=0)
    s.add_argument("--or", dest="use_or", action="store_true")
    s.add_argument("out")
    s.add_argument("query")
    a = ap.parse_args(argv)
    from distributed import Client

    with Client(a.scheduler) as client:
        if a.cmd == "build":
            if a.partitions < 1:
                ap.error("--partitions must be at least 1")
            n = build(client, a.inputs, a.out, partitions=a.partitions, lang=a.lang, chunk_bytes=a.chunk_mb << 20)
            print("%d documents added to %s (%d partitions)" % (n, a.out, a.partitions))
        else:
            r = Collection(client, a.out).search(a.query, limit=a.k, offset=a.offset, op="or" if a.use_or else "and")
            print("%d matches" % r.total)
            for h in r.hits:
                print("%.6f\t%s" % (h.score, h.id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
