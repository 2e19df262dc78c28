"""writer.py — trawl.Writer: adds and deletes documents in an index directory,
commits and merges."""

import json
import threading

from ._capi import ffi, lib
from ._conv import count, encode_path, open_options, take_string, text
from .errors import make_error


class Writer:
    """An index directory opened for adding documents: trawl.Writer(path,
    lang=None, threads=None, ram_mb=None) creates the index if needed. lang is
    the analysis language of a new index ("english" when None; "none" disables
    stemming) and must match an existing one (InvalidArgumentError otherwise).
    threads is the number of threads analyzing documents (0: all in the
    calling thread; None or -1: the library's default, one per CPU up to 8);
    the files written are the same whatever the number. ram_mb is the memory
    budget in MiB (1 to 1048576, None: 512) after which added documents are
    written out as a segment before the commit. auto_merge (default True):
    after each commit, merge segments per the library's tiered policy (see
    merge()); the attribute can be changed later. One writer per directory
    at a time (LockedError otherwise); readers may search meanwhile and see
    each commit once they reopen.

    As a context manager, leaving the block normally commits what was added
    and closes; leaving it by an exception discards the uncommitted documents.
    Calls are serialized: a Writer may be shared by threads, one call at a
    time runs; the library works without the GIL (commit included)."""

    def __init__(self, path, lang=None, threads=None, ram_mb=None, auto_merge=True):
        if lang is not None and not isinstance(lang, str):
            raise TypeError("lang must be a str or None, not %s" % type(lang).__name__)
        opts = open_options(threads=threads, ram_mb=ram_mb)
        out = ffi.new("trawl_writer **")
        err = ffi.new("char **")
        clang = ffi.NULL if lang is None else lang.encode("utf-8")
        rc = lib.trawl_writer_open_v2(encode_path(path), clang, opts, out, err)
        message = take_string(err[0])
        if rc != lib.TRAWL_OK:
            raise make_error(rc, message)
        self._handle = out[0]
        self._lock = threading.Lock()
        self._auto_merge = True
        self.auto_merge = auto_merge

    def _check(self):
        if self._handle is None:
            raise ValueError("the writer is closed")

    def _fail(self, rc):
        return make_error(rc, text(lib.trawl_writer_errmsg(self._handle)))

    def add(self, doc):
        """Adds one document, a dict with a non-empty str "id"; every other
        str field (or list of str) is indexed as text, and the whole dict is
        stored (Index.get returns it). A document whose id is already in the
        index replaces it at the commit. Raises DocumentError (the writer stays
        usable) when the library refuses the document, TypeError/ValueError
        when it is not a JSON-serializable dict."""
        if not isinstance(doc, dict):
            raise TypeError("a document is a dict, not %s" % type(doc).__name__)
        data = json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
        with self._lock:
            self._check()
            rc = lib.trawl_writer_add_json(self._handle, data, len(data))
            if rc != lib.TRAWL_OK:
                raise self._fail(rc)

    def add_many(self, docs):
        """Adds every document of an iterable (as add does) and returns how
        many were added. At the first refused document the error is raised;
        its .added attribute says how many were added before it."""
        n = 0
        for doc in docs:
            try:
                self.add(doc)
            except Exception as e:
                e.added = n
                raise
            n += 1
        return n

    def delete(self, id):
        """Deletes the document with this id at the next commit: every copy
        committed or added before this call; one added after it is kept. No
        error when there is none. InvalidArgumentError for an empty id."""
        if not isinstance(id, str):
            raise TypeError("id must be a str, not %s" % type(id).__name__)
        with self._lock:
            self._check()
            if "\0" in id:  # no document has one; C would cut the id there
                return
            rc = lib.trawl_writer_delete(self._handle, id.encode("utf-8"))
            if rc != lib.TRAWL_OK:
                raise self._fail(rc)

    def delete_query(self, query):
        """Deletes, at the next commit, every document of the last commit that
        query matches (search syntax, terms ANDed; documents added since the
        last commit are not matched) and returns how many it matched. Nothing
        is recorded when the query is refused (QuerySyntaxError, LimitError)."""
        if not isinstance(query, str):
            raise TypeError("query must be a str, not %s" % type(query).__name__)
        q = query.encode("utf-8")
        if b"\0" in q:
            raise ValueError("query contains a NUL character")
        n = ffi.new("uint64_t *")
        with self._lock:
            self._check()
            rc = lib.trawl_writer_delete_query(self._handle, q, n)  # runs without the GIL
            if rc != lib.TRAWL_OK:
                raise self._fail(rc)
        return n[0]

    def merge(self, max_segments=0):
        """Commits, then merges segments into fewer (per the tiered policy;
        with max_segments > 0, until at most that many remain), dropping
        deleted documents, as one more commit. Document order and results are
        unchanged."""
        count("max_segments", max_segments)
        with self._lock:
            self._check()
            rc = lib.trawl_writer_merge(self._handle, max_segments)  # runs without the GIL
            if rc != lib.TRAWL_OK:
                raise self._fail(rc)

    @property
    def auto_merge(self):
        """Whether each commit is followed by a merge per the tiered policy."""
        return self._auto_merge

    @auto_merge.setter
    def auto_merge(self, on):
        with self._lock:
            self._check()
            lib.trawl_writer_set_auto_merge(self._handle, 1 if on else 0)
            self._auto_merge = bool(on)

    @property
    def pending(self):
        """Documents added since the last commit."""
        with self._lock:
            self._check()
            return lib.trawl_writer_pending(self._handle)

    def commit(self):
        """Makes every document added so far durable and visible to indexes
        opened from now on. A failed commit leaves the previous one intact and
        the writer can then only be closed."""
        with self._lock:
            self._check()
            rc = lib.trawl_writer_commit(self._handle)  # runs without the GIL
            if rc != lib.TRAWL_OK:
                raise self._fail(rc)

    def close(self):
        """Closes the writer, discarding documents not committed (again is a
        no-op)."""
        with self._lock:
            if self._handle is not None:
                lib.trawl_writer_close(self._handle)
                self._handle = None

    @property
    def closed(self):
        return self._handle is None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None and self._handle is not None:
                self.commit()
        finally:
            self.close()

    def __del__(self):
        if getattr(self, "_handle", None) is not None:
            lib.trawl_writer_close(self._handle)
            self._handle = None
