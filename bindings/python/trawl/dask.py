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

from .errors import Error
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


def _part_search(part_dir, query, want, op, stats, snippets):
    """Task: the top `want` hits of one partition scored with stats, as
    (total, [(id, score, title, snippet, order key or None), ...])."""
    idx = _open(part_dir)
    r = idx.search(query, limit=want, op=op, snippets=snippets, stats=stats)
    return r.total, [tuple(h) + (_order_key(idx, h.id),) for h in r.hits]


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

    def search(self, query, limit=10, offset=0, op="and", snippets=None):
        """Ranks the whole collection for query like Index.search on one index
        holding every document would: returns a SearchResult whose hits are
        ranks offset+1 .. offset+limit (ties in the collection's order, see
        the module comment), total the exact number of matches, took_us 0.
        snippets as for Index.search (None: ids and scores only, the
        fastest)."""
        if op not in ("and", "or"):
            # "auto" ranks each partition's AND matches first, and a hit does
            # not say which part it is in: the lists could not be merged.
            raise ValueError('op must be "and" or "or" on a collection, not %r' % (op,))
        stats = self.stats(query, op)
        want = offset + limit
        parts = self._run(_part_search, (query, max(want, 0), op, stats, snippets))
        total = sum(t for t, _ in parts)
        hits = merge_hits([h for _, h in parts], offset, limit) if limit else []
        return SearchResult(total, 0, hits)


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
