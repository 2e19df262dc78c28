"""dask_fixture.py — the set-up the trawl.dask tests share: one corpus indexed
as a single index and as collections of 1, 2, 3 and 7 partitions on a
LocalCluster of 3 worker processes, and the tear-down."""

import json
import os
import shutil

import trawl
import trawl.dask as td
from distributed import Client, LocalCluster


def start(cls, chunk_bytes):
    """Indexes cls.input (JSON Lines, under cls.tmp) into cls.single and
    cls.colls[P] (P = 1, 2, 3, 7), read chunk_bytes at a time."""
    cls.single_dir = os.path.join(cls.tmp, "single")
    with trawl.Writer(cls.single_dir) as w, open(cls.input, encoding="utf-8") as f:
        w.add_many(json.loads(line) for line in f)
    cls.single = trawl.Index(cls.single_dir)
    cls.cluster = LocalCluster(n_workers=3, processes=True, threads_per_worker=1, dashboard_address=None,
                               host="127.0.0.1", silence_logs=40)
    cls.client = Client(cls.cluster)
    cls.colls = {}
    for p in (1, 2, 3, 7):
        out = os.path.join(cls.tmp, "p%d" % p)
        td.build(cls.client, [cls.input], out, partitions=p, chunk_bytes=chunk_bytes, chunks_per_commit=2)
        cls.colls[p] = td.Collection(cls.client, out, timeout=60)


def stop(cls):
    """Undoes start and removes cls.tmp."""
    cls.client.close()
    cls.cluster.close()
    cls.single.close()
    shutil.rmtree(cls.tmp)
