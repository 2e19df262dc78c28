"""index.py — trawl.Index: an opened index (a read-only snapshot of its last
commit), searched with Index.search (and analysed with Index.trends,
Index.bursts, Index.similar), plus the result types Hit and
SearchResult, and trawl.check, the deep verification of an index directory."""

import json
import threading
from collections import namedtuple

from ._capi import ffi, lib
from ._conv import count, encode_path, open_options, take_string, text
from .errors import Error, QuerySyntaxError, make_error

Hit = namedtuple("Hit", "id score title snippet")
Hit.__doc__ = """One ranked hit: the document's id, its BM25 score, its "title"
field ("" if none) and a passage of its body around the matched terms (title
and snippet are None when the search asked for no snippets)."""

_SNIPPET_STYLES = {"plain": lib.TRAWL_SNIPPET_PLAIN, "html": lib.TRAWL_SNIPPET_HTML, "ansi": lib.TRAWL_SNIPPET_ANSI}


_OPS = {"and": lib.TRAWL_OP_AND, "or": lib.TRAWL_OP_OR, "auto": lib.TRAWL_OP_AUTO}
_RANKINGS = {
    "bm25": lib.TRAWL_RANKING_BM25,
    "bm25f": lib.TRAWL_RANKING_BM25F,
    "bm25-prox": lib.TRAWL_RANKING_BM25_PROX,
    "bm25f-prox": lib.TRAWL_RANKING_BM25F_PROX,
}


class SearchResult:
    """What Index.search returns: .total (the exact number of matching
    documents), .took_us (microseconds the search took in the library) and
    .hits (a list of Hit, best first). Iterating or len() goes over the hits.
    With a sort field, .sort_values holds each hit's value as text (None for
    a hit without one); otherwise it is None. With facets asked, .facets is
    a list of dicts in the shape of `trawl search --json`: {"field", "type"
    ("keyword", "date" or "number"), "docs" (matches with a value), "values"
    ([{"value", "count"}], most frequent first, keyword facets), "min", "max"
    (date and number facets only: a date as text, a number as int or float,
    None when no match has the field)}; with a histogram, .histogram is a
    list of {"bucket", "start" (epoch seconds), "matches", "docs"}, oldest
    first. Both are None when not asked."""

    __slots__ = ("total", "took_us", "hits", "sort_values", "facets", "histogram")

    def __init__(self, total, took_us, hits, sort_values=None, facets=None, histogram=None):
        self.total = total
        self.took_us = took_us
        self.hits = hits
        self.sort_values = sort_values
        self.facets = facets
        self.histogram = histogram

    def __iter__(self):
        return iter(self.hits)

    def __len__(self):
        return len(self.hits)

    def __repr__(self):
        return "SearchResult(total=%d, took_us=%d, hits=%r)" % (self.total, self.took_us, self.hits)



def _json_answer(rc, out, msg):
    """The JSON text a library call left in out[0] as a dict, or its error
    (the message in msg[0]) raised; frees both strings."""
    result, message = take_string(out[0]), take_string(msg[0])
    if rc == lib.TRAWL_ESYNTAX:
        raise QuerySyntaxError(message or "query syntax error", rc)
    if rc != lib.TRAWL_OK:
        raise make_error(rc, message)
    return json.loads(result)

class Index:
    """An index directory opened for searching: trawl.Index(path). It sees the
    commit that was current when it was opened; open a new Index to see later
    commits. Any number of threads may search one Index at once (the library
    runs without the GIL). close() it, or use it as a context manager; a
    search running in another thread when close() is called finishes first,
    the handle being freed by the last one out.

    simd chooses the instruction-set level of the intersection kernels:
    "scalar", "sse4.1", "avx2", "avx512" or "auto" (None: the best the CPU
    has; a level the CPU lacks falls back to the best below it; results are
    the same at every level). Index.simd says which level is used.

    Raises NotFoundError when path holds no index, CorruptError when a
    checksum fails, VersionError for a format this library does not read,
    InvalidArgumentError for an unknown simd level."""

    def __init__(self, path, simd=None):
        opts = open_options(simd=simd)
        out = ffi.new("trawl_index **")
        err = ffi.new("char **")
        rc = lib.trawl_index_open_v2(encode_path(path), opts, out, err)
        message = take_string(err[0])
        if rc != lib.TRAWL_OK:
            raise make_error(rc, message)
        self._handle = out[0]
        self._lock = threading.Lock()
        self._busy = 0  # calls into the library in flight
        self._closed = False

    # Every use of the handle goes through _enter/_leave so that close() in one
    # thread never frees it under a call running in another.
    def _enter(self):
        with self._lock:
            if self._closed:
                raise ValueError("the index is closed")
            self._busy += 1
            return self._handle

    def _leave(self):
        with self._lock:
            self._busy -= 1
            if self._closed and self._busy == 0 and self._handle is not None:
                lib.trawl_index_close(self._handle)
                self._handle = None

    def close(self):
        """Closes the index (again is a no-op)."""
        with self._lock:
            self._closed = True
            if self._busy == 0 and self._handle is not None:
                lib.trawl_index_close(self._handle)
                self._handle = None

    @property
    def closed(self):
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        # No call can be in flight: each holds a reference to self.
        if getattr(self, "_handle", None) is not None:
            lib.trawl_index_close(self._handle)
            self._handle = None

    @property
    def simd(self):
        """The instruction-set level the kernels use: "scalar", "sse41",
        "avx2" or "avx512"."""
        h = self._enter()
        try:
            return text(lib.trawl_index_simd(h))
        finally:
            self._leave()

    @property
    def doc_count(self):
        """The number of live documents."""
        h = self._enter()
        try:
            return lib.trawl_index_doc_count(h)
        finally:
            self._leave()

    def __len__(self):
        return self.doc_count

    def get(self, id):
        """The stored document with this id, as a dict (the JSON object it was
        added as). Raises NotFoundError when no live document has the id."""
        if not isinstance(id, str):
            raise TypeError("id must be a str, not %s" % type(id).__name__)
        if "\0" in id:  # no document has one; C would cut the id there
            raise make_error(lib.TRAWL_ENOTFOUND, "no document with id %r" % id)
        out = ffi.new("char **")
        h = self._enter()
        try:
            rc = lib.trawl_index_get(h, id.encode("utf-8"), out)
        finally:
            self._leave()
        text = take_string(out[0])
        if rc != lib.TRAWL_OK:
            raise make_error(rc, "no document with id %r" % id if rc == lib.TRAWL_ENOTFOUND else None)
        return json.loads(text)

    def stats(self):
        """Index statistics (documents, segments, terms, postings, bytes) as a dict."""
        out = ffi.new("char **")
        h = self._enter()
        try:
            rc = lib.trawl_index_stats(h, out)
        finally:
            self._leave()
        text = take_string(out[0])
        if rc != lib.TRAWL_OK:
            raise make_error(rc)
        return json.loads(text)

    def query_stats(self, query, op="and"):
        """The collection statistics of this index that query needs (with op
        as the default operator), as a dict: {"documents": N, "fields": {F:
        {"documents": D, "tokens": T}}, "terms": {F: {TERM: DF}}} over live
        documents (see trawl_index_query_stats in the README). Summed over
        the partitions of a collection (trawl.sum_stats) and handed to
        search(stats=...), they make each partition score as the whole
        collection in one index would. Raises QuerySyntaxError for a
        malformed query."""
        qbytes = _query_bytes(query)
        if op not in _OPS:
            raise ValueError('op must be "and", "or" or "auto", not %r' % (op,))
        opts = lib.trawl_options_new()
        if opts == ffi.NULL:
            raise make_error(lib.TRAWL_ENOMEM)
        out = ffi.new("char **")
        msg = ffi.new("char **")
        try:
            lib.trawl_options_set_op(opts, _OPS[op])
            h = self._enter()
            try:
                rc = lib.trawl_index_query_stats(h, qbytes, opts, out, msg)
            finally:
                self._leave()
        finally:
            lib.trawl_options_free(opts)
        return _json_answer(rc, out, msg)

    def search(self, query, limit=10, offset=0, op="and", snippets="plain", stats=None, ranking=None, filter=None,
               sort=None, facets=None, histogram=None, tz=None, analytics_complete=False):
        """Runs query (trawl's query language, see the README) and returns a
        SearchResult with the exact total and the hits ranked offset+1 ..
        offset+limit. op is "and", "or" or "auto" (AND matches first, then
        the other OR matches): the operator between terms that have none.
        limit=0 only counts. snippets is "plain", "html" (escaped, matches in
        <mark>), "ansi" (matches in bold) or None (no titles or snippets:
        faster). ranking is "bm25f", "bm25", "bm25f-prox" or "bm25-prox" (the
        latter two add a bonus for query words found close together; None: the
        library's default).
        filter is an expression ANDed with the query that matches but never
        scores (e.g. "date>=2024 tags:=ai"); sort is "field", "field:asc" or
        "field:desc" to rank by a keyword/date/number field's value (then
        score, then index order). Raises QuerySyntaxError (with .offset) for
        a malformed query, LimitError when offset + limit exceeds the
        library's limit. stats (a dict from query_stats / sum_stats, or its
        JSON text) replaces this index's own statistics in the scores.
        facets is a list of "FIELD" or "FIELD:N" (N, default 10, the most
        frequent values of a keyword field; the min and max of a date or
        number field), histogram "FIELD" or "FIELD:UNIT" (year, quarter,
        month - the default -, week or day) with tz a fixed UTC offset such
        as "+05:30": see SearchResult.facets and .histogram. ValueError for a
        malformed facet, unit or offset; InvalidArgumentError (the library's
        message) for a field that cannot serve. analytics_complete=True
        asks for parts to be summed across partitions
        (trawl_options_set_analytics_complete): every keyword value a match
        has, and histogram buckets over the span of all dated documents."""
        if not isinstance(query, str):
            raise TypeError("query must be a str, not %s" % type(query).__name__)
        count("limit", limit)
        count("offset", offset)
        if op not in _OPS:
            raise ValueError('op must be "and", "or" or "auto", not %r' % (op,))
        if ranking is not None and ranking not in _RANKINGS:
            raise ValueError('ranking must be "bm25f", "bm25", "bm25f-prox", "bm25-prox" or None, not %r' % (ranking,))
        if snippets is not None and snippets not in _SNIPPET_STYLES:
            raise ValueError('snippets must be "plain", "html", "ansi" or None, not %r' % (snippets,))
        qbytes = query.encode("utf-8")
        if b"\0" in qbytes:
            raise ValueError("query contains a NUL character")
        opts = lib.trawl_options_new()
        if opts == ffi.NULL:
            raise make_error(lib.TRAWL_ENOMEM)
        out = ffi.new("trawl_results **")
        try:
            if limit == 0:
                lib.trawl_options_set_count_only(opts, 1)
            else:
                lib.trawl_options_set_limit(opts, limit)
                lib.trawl_options_set_offset(opts, offset)
            _set_common(opts, op, ranking, filter, sort)
            _set_analytics(opts, facets, histogram, tz)
            if analytics_complete:
                lib.trawl_options_set_analytics_complete(opts, 1)
            lib.trawl_options_set_snippets(opts, 1 if snippets is not None else 0)
            if stats is not None:
                sbytes = (stats if isinstance(stats, str) else json.dumps(stats)).encode("utf-8")
                rc = lib.trawl_options_set_stats(opts, sbytes)
                if rc != lib.TRAWL_OK:
                    raise make_error(rc, "malformed statistics")
            h = self._enter()
            try:
                rc = lib.trawl_search(h, qbytes, opts, out)  # runs without the GIL
            finally:
                self._leave()
            result = self._collect(rc, out[0], qbytes, snippets, sort is not None)
            if facets:
                result.facets = _facets(out[0])
            if histogram is not None:
                result.histogram = _histogram(out[0])
            return result
        finally:
            lib.trawl_options_free(opts)
            lib.trawl_results_free(out[0])

    def similar(self, id, nterms=25, limit=10, offset=0, snippets="plain", ranking=None, filter=None):
        """More like this: the documents most like the live document `id`
        (its nterms, 1..100, most characteristic terms by tf-idf run as an OR
        query, the document itself left out of the hits and the total), as a
        SearchResult; the other arguments as for search. Raises
        NotFoundError when no live document has the id."""
        if not isinstance(id, str):
            raise TypeError("id must be a str, not %s" % type(id).__name__)
        count("limit", limit)
        count("offset", offset)
        idbytes = _query_bytes(id)
        opts = lib.trawl_options_new()
        if opts == ffi.NULL:
            raise make_error(lib.TRAWL_ENOMEM)
        out = ffi.new("trawl_results **")
        try:
            lib.trawl_options_set_limit(opts, limit)
            lib.trawl_options_set_offset(opts, offset)
            _set_common(opts, "or", ranking, filter, None)
            lib.trawl_options_set_snippets(opts, 1 if snippets is not None else 0)
            h = self._enter()
            try:
                rc = lib.trawl_similar(h, idbytes, nterms, opts, out)  # runs without the GIL
            finally:
                self._leave()
            return self._collect(rc, out[0], idbytes, snippets, False)
        finally:
            lib.trawl_options_free(opts)
            lib.trawl_results_free(out[0])

    def similar_query(self, id, nterms=25):
        """The OR query similar(id, nterms) runs, as a str."""
        idbytes = _query_bytes(id)
        out = ffi.new("char **")
        h = self._enter()
        try:
            rc = lib.trawl_similar_query(h, idbytes, nterms, out)
        finally:
            self._leave()
        result = take_string(out[0])
        if rc != lib.TRAWL_OK:
            raise make_error(rc, "no document with id %r" % id if rc == lib.TRAWL_ENOTFOUND else None)
        return result

    def trends(self, query=None, window=None, background=None, n=20, method="jlh", min_docs=3, field="date"):
        """Emerging terms (trawl trends): the terms most over-represented in
        the documents dated in window (those matching query, when given)
        against the background (every live document when None), as the dict
        of trawl_index_trends / `trawl trends --json`: {"field", "window":
        {"from", "to", "docs"}, "background": {...}, "score", "terms":
        [{"term", "window_docs", "background_docs", "jlh", "chi2"}, ...]}.
        window and background are "FROM..TO" (as --window) or a (from, to)
        pair; each end a date as the query language reads it (YYYY, YYYY-MM,
        YYYY-MM-DD, a date-time; a partial date covers its whole span) or
        None / "" (open). n terms (1..10000), ranked by method ("jlh" or
        "chi2"); min_docs the fewest window documents a listed term is in.
        Raises InvalidArgumentError without a window or for a field that is
        not a date field (the library's message), QuerySyntaxError for a bad
        query, ValueError/TypeError for malformed arguments."""
        if query is not None and not isinstance(query, str):
            raise TypeError("query must be a str or None, not %s" % type(query).__name__)
        if window is None:
            raise ValueError("trends needs a window (\"FROM..TO\" or a (from, to) pair)")
        qbytes = _query_bytes(query) if query else ffi.NULL
        t = _trends_request(field)
        try:
            _set_range(t, "window", window, lib.trawl_trends_set_window)
            if background is not None:
                _set_range(t, "background", background, lib.trawl_trends_set_background)
            count("n", n)
            if not 1 <= n <= 10000 or lib.trawl_trends_set_limit(t, n) != lib.TRAWL_OK:
                raise ValueError("n must be from 1 to 10000, not %r" % (n,))
            count("min_docs", min_docs)
            if min_docs < 1 or lib.trawl_trends_set_min_docs(t, min_docs) != lib.TRAWL_OK:
                raise ValueError("min_docs must be 1 or more, not %r" % (min_docs,))
            if not isinstance(method, str) or lib.trawl_trends_set_score(t, method.encode("utf-8")) != lib.TRAWL_OK:
                raise ValueError('method must be "jlh" or "chi2", not %r' % (method,))
            return self._trends_call(lib.trawl_index_trends, qbytes, t)
        finally:
            lib.trawl_trends_free(t)

    def bursts(self, term, unit="month", tz=None, s=2.0, gamma=1.0, field="date"):
        """Bursts of term over time (trawl trends --bursts): per calendar
        bucket (unit "year", "quarter", "month", "week" or "day", read at the
        fixed UTC offset tz) the live dated documents with the term and all of
        them, and Kleinberg's two-state automaton (state ratio s > 1,
        transition cost factor gamma >= 0) over them, as the dict of
        trawl_index_bursts / `trawl trends --bursts TERM --json`: {"term",
        "field", "unit", "s", "gamma", "histogram": [{"bucket", "start",
        "docs", "term_docs"}], "bursts": [{"start", "end", "from", "to",
        "weight", "term_docs", "docs"}]}. Errors as trends."""
        tbytes = _query_bytes(term)
        if tz is not None and not isinstance(tz, str):
            raise TypeError("tz must be a str or None, not %s" % type(tz).__name__)
        if not isinstance(unit, str):
            raise TypeError("unit must be a str, not %s" % type(unit).__name__)
        t = _trends_request(field)
        try:
            if lib.trawl_trends_set_unit(t, _query_bytes(unit), _query_bytes(tz) if tz is not None else ffi.NULL) \
                    != lib.TRAWL_OK:
                raise ValueError("bad unit %r / tz %r (year, quarter, month, week or day; tz such as +05:30)"
                                 % (unit, tz))
            try:
                ok = float(s) > 1 and float(gamma) >= 0 and \
                    lib.trawl_trends_set_burst_params(t, float(s), float(gamma)) == lib.TRAWL_OK
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValueError("s must be a number above 1 and gamma one of 0 or more, not %r, %r" % (s, gamma))
            return self._trends_call(lib.trawl_index_bursts, tbytes, t)
        finally:
            lib.trawl_trends_free(t)

    def _trends_call(self, fn, qbytes, t):
        """Runs fn (trawl_index_trends or _bursts) and returns its JSON as a
        dict, or raises the library's error."""
        out = ffi.new("char **")
        msg = ffi.new("char **")
        h = self._enter()
        try:
            rc = fn(h, qbytes, t, out, msg)  # runs without the GIL
        finally:
            self._leave()
        return _json_answer(rc, out, msg)

    @staticmethod
    def _collect(rc, r, qbytes, snippets, sorted_=False):
        """Turns a trawl_search outcome into a SearchResult or raises its error
        (r is freed by the caller)."""
        if rc != lib.TRAWL_OK:
            message = text(lib.trawl_results_errmsg(r)) if r != ffi.NULL else None
            if rc == lib.TRAWL_ESYNTAX:
                boff = lib.trawl_results_error_offset(r) if r != ffi.NULL else -1
                if boff < 0:
                    raise QuerySyntaxError(message or "query syntax error", rc)
                coff = len(qbytes[:boff].decode("utf-8", "ignore"))
                raise QuerySyntaxError(message, rc, byte_offset=boff, offset=coff)
            raise make_error(rc, message)
        if r == ffi.NULL:
            raise Error("trawl_search returned no results", lib.TRAWL_ENOMEM)
        style = _SNIPPET_STYLES.get(snippets, lib.TRAWL_SNIPPET_PLAIN)
        hits = []
        for i in range(lib.trawl_results_count(r)):
            title = snippet = None
            if snippets is not None:
                title = text(lib.trawl_results_title(r, i))
                snippet = text(lib.trawl_results_snippet(r, i, style))
            hits.append(Hit(text(lib.trawl_results_id(r, i)), lib.trawl_results_score(r, i), title, snippet))
        values = None
        if sorted_:
            values = [text(lib.trawl_results_sort_value(r, i)) if lib.trawl_results_sort_value(r, i) != ffi.NULL
                      else None for i in range(len(hits))]
        return SearchResult(lib.trawl_results_total(r), lib.trawl_results_took_us(r), hits, values)


def _set_common(opts, op, ranking, filter, sort):
    """Sets the operator, ranking, filter and sort of the options opts
    (ValueError/TypeError for bad arguments, before any library error)."""
    for name, v in (("filter", filter), ("sort", sort)):
        if v is not None and not isinstance(v, str):
            raise TypeError("%s must be a str or None, not %s" % (name, type(v).__name__))
    lib.trawl_options_set_op(opts, _OPS[op])
    if ranking is not None:
        lib.trawl_options_set_ranking(opts, _RANKINGS[ranking])
    if filter:
        rc = lib.trawl_options_set_filter(opts, _query_bytes(filter))
        if rc != lib.TRAWL_OK:
            raise make_error(rc)
    if sort:
        rc = lib.trawl_options_set_sort(opts, _query_bytes(sort))
        if rc != lib.TRAWL_OK:
            raise make_error(rc, "bad sort %r (field, field:asc or field:desc)" % sort)


def _set_analytics(opts, facets, histogram, tz):
    """Adds the facets ("FIELD[:N]" strings) and the histogram ("FIELD[:UNIT]",
    tz) to opts (TypeError/ValueError for bad arguments)."""
    if facets is not None and (isinstance(facets, str) or not all(isinstance(f, str) for f in facets)):
        raise TypeError("facets must be a list of str (\"FIELD\" or \"FIELD:N\")")
    for f in facets or ():
        field, _, n = f.rpartition(":") if ":" in f else (f, "", "10")
        if not n.isdigit() or not field:
            raise ValueError("a facet is FIELD or FIELD:N, not %r" % f)
        rc = lib.trawl_options_add_facet(opts, _query_bytes(field), int(n))
        if rc != lib.TRAWL_OK:
            raise ValueError("bad facet %r (N from 1 up, a non-empty field, not too many facets)" % f)
    if histogram is None:
        if tz is not None:
            raise ValueError("tz goes with histogram")
        return
    if not isinstance(histogram, str) or (tz is not None and not isinstance(tz, str)):
        raise TypeError("histogram must be a str (\"FIELD\" or \"FIELD:UNIT\") and tz a str or None")
    field, _, unit = histogram.rpartition(":") if ":" in histogram else (histogram, "", "month")
    rc = lib.trawl_options_set_histogram(opts, _query_bytes(field), _query_bytes(unit),
                                         _query_bytes(tz) if tz is not None else ffi.NULL)
    if rc != lib.TRAWL_OK or not field:
        raise ValueError("bad histogram %r / tz %r (FIELD[:year|quarter|month|week|day], tz such as +05:30)"
                         % (histogram, tz))


def _facets(r):
    """The facets of the results r as dicts (see SearchResult)."""
    out = []
    for f in range(lib.trawl_results_facet_count(r)):
        kind = text(lib.trawl_results_facet_type(r, f))
        d = {"field": text(lib.trawl_results_facet_field(r, f)), "type": kind,
             "docs": lib.trawl_results_facet_docs(r, f),
             "values": [{"value": text(lib.trawl_results_facet_value(r, f, i)),
                         "count": lib.trawl_results_facet_value_count(r, f, i)}
                        for i in range(lib.trawl_results_facet_values(r, f))]}
        if kind != "keyword":
            for key, fn in (("min", lib.trawl_results_facet_min), ("max", lib.trawl_results_facet_max)):
                p = fn(r, f)
                v = text(p) if p != ffi.NULL else None
                d[key] = json.loads(v) if v is not None and kind == "number" else v
        out.append(d)
    return out


def _histogram(r):
    """The histogram buckets of the results r as dicts (see SearchResult)."""
    return [{"bucket": text(lib.trawl_results_histogram_label(r, i)), "start": lib.trawl_results_histogram_start(r, i),
             "matches": lib.trawl_results_histogram_matches(r, i), "docs": lib.trawl_results_histogram_docs(r, i)}
            for i in range(lib.trawl_results_histogram_count(r))]


def _trends_request(field):
    """A new trawl_trends request on the date field `field` (the caller frees it)."""
    if not isinstance(field, str):
        raise TypeError("field must be a str, not %s" % type(field).__name__)
    fbytes = _query_bytes(field)
    t = lib.trawl_trends_new()
    if t == ffi.NULL:
        raise make_error(lib.TRAWL_ENOMEM)
    if not field or lib.trawl_trends_set_field(t, fbytes) != lib.TRAWL_OK:
        lib.trawl_trends_free(t)
        raise ValueError("field must be a non-empty field name, not %r" % (field,))
    return t


def _set_range(t, name, value, setter):
    """Applies the range value ("FROM..TO" or a (from, to) pair; None or ""
    ends are open) to the request t with setter."""
    if isinstance(value, str):
        if ".." not in value:
            raise ValueError("%s is FROM..TO (either may be empty) or a (from, to) pair, not %r" % (name, value))
        a, _, b = value.partition("..")
    else:
        try:
            a, b = value
        except (TypeError, ValueError):
            raise TypeError("%s must be \"FROM..TO\" or a (from, to) pair" % name) from None
    ends = []
    for x in (a, b):
        if x is not None and not isinstance(x, str):
            raise TypeError("%s ends must be str or None, not %s" % (name, type(x).__name__))
        ends.append(_query_bytes(x) if x else ffi.NULL)
    rc = setter(t, ends[0], ends[1])
    if rc == lib.TRAWL_ENOMEM:
        raise make_error(rc)
    if rc != lib.TRAWL_OK:
        raise ValueError("bad %s %r (dates such as 2024, 2024-05, 2024-05-03; from not after to)" % (name, value))


def _query_bytes(query):
    """query as NUL-free UTF-8 bytes (TypeError, ValueError otherwise)."""
    if not isinstance(query, str):
        raise TypeError("query must be a str, not %s" % type(query).__name__)
    qbytes = query.encode("utf-8")
    if b"\0" in qbytes:
        raise ValueError("query contains a NUL character")
    return qbytes


def sum_stats(stats):
    """The sum of several statistics dicts (Index.query_stats of each
    partition of a collection), computed by the library (trawl_stats_sum)."""
    texts = [ffi.new("char[]", json.dumps(s).encode("utf-8")) for s in stats]
    arr = ffi.new("const char *[]", texts) if texts else ffi.NULL
    out = ffi.new("char **")
    rc = lib.trawl_stats_sum(arr, len(texts), out)
    result = take_string(out[0])
    if rc != lib.TRAWL_OK:
        raise make_error(rc, "malformed statistics" if rc == lib.TRAWL_EINVAL else None)
    return json.loads(result)


def check(path):
    """Verifies every checksum and structure of the index in path, deeper than
    opening it (every posting list, dictionary block and stored block is
    decoded). Returns the problems found, one str each: [] when the index is
    sound. Raises NotFoundError when path holds no index, and the matching
    trawl.Error when the check itself cannot run (I/O, memory, version)."""
    report = ffi.new("char **")
    rc = lib.trawl_index_check(encode_path(path), report)  # runs without the GIL
    report_text = take_string(report[0]) or ""
    if rc == lib.TRAWL_OK:
        return []
    if rc == lib.TRAWL_ECORRUPT:
        return [line for line in report_text.splitlines() if line.strip()] or [make_error(rc).message]
    raise make_error(rc, report_text.strip() or None)
