"""_capi.py — the C declarations the binding uses (a subset of include/trawl.h,
transcribed for cffi's ABI mode) and the loading of libtrawl.so.

The library is looked for, in order: the file named by the environment variable
TRAWL_LIBRARY (and only there when it is set), libtrawl.so.0 next to this
package, then libtrawl.so.0 through the system's dynamic loader.
tests/test_capi.py compiles these declarations against trawl.h, so a
transcription error fails a test instead of corrupting memory.
"""

import os

from cffi import FFI

# Types, as trawl.h defines them (checked against trawl.h by test_capi).
TYPES = """
typedef enum trawl_rc {
    TRAWL_OK = 0, TRAWL_ENOMEM = -1, TRAWL_EINVAL = -2, TRAWL_EIO = -3,
    TRAWL_ECORRUPT = -4, TRAWL_ESYNTAX = -5, TRAWL_ENOTFOUND = -6,
    TRAWL_EVERSION = -7, TRAWL_ELIMIT = -8, TRAWL_EDOC = -9, TRAWL_ELOCKED = -10
} trawl_rc;
typedef enum trawl_snippet_style {
    TRAWL_SNIPPET_PLAIN = 0, TRAWL_SNIPPET_ANSI = 1, TRAWL_SNIPPET_HTML = 2
} trawl_snippet_style;
typedef struct trawl_open_options trawl_open_options;
typedef struct trawl_writer trawl_writer;
typedef struct trawl_index trawl_index;
typedef struct trawl_options trawl_options;
typedef struct trawl_results trawl_results;
typedef struct trawl_trends trawl_trends;
typedef enum trawl_op { TRAWL_OP_AND = 0, TRAWL_OP_OR = 1, TRAWL_OP_AUTO = 2 } trawl_op;
typedef enum trawl_ranking { TRAWL_RANKING_BM25 = 0, TRAWL_RANKING_BM25F = 1, TRAWL_RANKING_BM25_PROX = 2, TRAWL_RANKING_BM25F_PROX = 3 } trawl_ranking;
"""

# Functions, each exactly as trawl.h declares it (without TRAWL_API).
FUNCTIONS = """
const char *trawl_version(void);
const char *trawl_strerror(int rc);
void trawl_free(void *p);

trawl_open_options *trawl_open_options_new(void);
void trawl_open_options_free(trawl_open_options *o);
trawl_rc trawl_open_options_set_threads(trawl_open_options *o, int n);
trawl_rc trawl_open_options_set_ram_mb(trawl_open_options *o, size_t mb);
trawl_rc trawl_open_options_set_simd(trawl_open_options *o, const char *level);

trawl_rc trawl_writer_open_v2(const char *dir, const char *lang, const trawl_open_options *options,
                              trawl_writer **out, char **errmsg);
trawl_rc trawl_writer_add_json(trawl_writer *w, const char *json, size_t len);
trawl_rc trawl_writer_commit(trawl_writer *w);
trawl_rc trawl_writer_delete(trawl_writer *w, const char *id);
trawl_rc trawl_writer_delete_query(trawl_writer *w, const char *query, uint64_t *count);
trawl_rc trawl_writer_merge(trawl_writer *w, size_t max_segments);
void trawl_writer_set_auto_merge(trawl_writer *w, int on);
uint64_t trawl_writer_pending(const trawl_writer *w);
void trawl_writer_close(trawl_writer *w);
const char *trawl_writer_errmsg(const trawl_writer *w);

trawl_rc trawl_index_open_v2(const char *dir, const trawl_open_options *options, trawl_index **out,
                             char **errmsg);
void trawl_index_close(trawl_index *idx);
const char *trawl_index_simd(const trawl_index *idx);
uint64_t trawl_index_doc_count(const trawl_index *idx);
trawl_rc trawl_index_get(const trawl_index *idx, const char *id, char **json);
trawl_rc trawl_index_stats(const trawl_index *idx, char **json);
trawl_rc trawl_index_check(const char *dir, char **report);
trawl_rc trawl_index_query_stats(const trawl_index *idx, const char *query, const trawl_options *options,
                                 char **json, char **errmsg);
trawl_rc trawl_stats_sum(const char *const *jsons, size_t n, char **out);

trawl_options *trawl_options_new(void);
void trawl_options_free(trawl_options *o);
void trawl_options_set_limit(trawl_options *o, size_t k);
void trawl_options_set_offset(trawl_options *o, size_t offset);
void trawl_options_set_or(trawl_options *o, int use_or);
void trawl_options_set_snippets(trawl_options *o, int on);
void trawl_options_set_count_only(trawl_options *o, int on);
trawl_rc trawl_options_set_stats(trawl_options *o, const char *json);
trawl_rc trawl_options_set_op(trawl_options *o, trawl_op op);
trawl_rc trawl_options_set_ranking(trawl_options *o, trawl_ranking r);
trawl_rc trawl_options_set_filter(trawl_options *o, const char *expr);
trawl_rc trawl_options_set_sort(trawl_options *o, const char *spec);

trawl_rc trawl_search(const trawl_index *idx, const char *query, const trawl_options *options, trawl_results **out);
void trawl_results_free(trawl_results *r);
const char *trawl_results_errmsg(const trawl_results *r);
long trawl_results_error_offset(const trawl_results *r);
uint64_t trawl_results_total(const trawl_results *r);
size_t trawl_results_count(const trawl_results *r);
uint64_t trawl_results_took_us(const trawl_results *r);
const char *trawl_results_id(const trawl_results *r, size_t i);
double trawl_results_score(const trawl_results *r, size_t i);
const char *trawl_results_title(const trawl_results *r, size_t i);
const char *trawl_results_snippet(const trawl_results *r, size_t i, trawl_snippet_style style);
const char *trawl_results_sort_value(const trawl_results *r, size_t i);
trawl_rc trawl_options_add_facet(trawl_options *o, const char *field, size_t n);
trawl_rc trawl_options_set_histogram(trawl_options *o, const char *field, const char *unit, const char *tz);
trawl_rc trawl_options_set_analytics_complete(trawl_options *o, int on);
size_t trawl_results_facet_count(const trawl_results *r);
const char *trawl_results_facet_field(const trawl_results *r, size_t f);
const char *trawl_results_facet_type(const trawl_results *r, size_t f);
uint64_t trawl_results_facet_docs(const trawl_results *r, size_t f);
size_t trawl_results_facet_values(const trawl_results *r, size_t f);
const char *trawl_results_facet_value(const trawl_results *r, size_t f, size_t i);
uint64_t trawl_results_facet_value_count(const trawl_results *r, size_t f, size_t i);
const char *trawl_results_facet_min(const trawl_results *r, size_t f);
const char *trawl_results_facet_max(const trawl_results *r, size_t f);
size_t trawl_results_histogram_count(const trawl_results *r);
const char *trawl_results_histogram_label(const trawl_results *r, size_t i);
int64_t trawl_results_histogram_start(const trawl_results *r, size_t i);
uint64_t trawl_results_histogram_matches(const trawl_results *r, size_t i);
uint64_t trawl_results_histogram_docs(const trawl_results *r, size_t i);
trawl_rc trawl_similar(const trawl_index *idx, const char *id, size_t nterms, const trawl_options *options,
                       trawl_results **out);
trawl_trends *trawl_trends_new(void);
void trawl_trends_free(trawl_trends *t);
trawl_rc trawl_trends_set_field(trawl_trends *t, const char *field);
trawl_rc trawl_trends_set_window(trawl_trends *t, const char *from, const char *to);
trawl_rc trawl_trends_set_background(trawl_trends *t, const char *from, const char *to);
trawl_rc trawl_trends_set_limit(trawl_trends *t, size_t n);
trawl_rc trawl_trends_set_min_docs(trawl_trends *t, uint64_t m);
trawl_rc trawl_trends_set_score(trawl_trends *t, const char *name);
trawl_rc trawl_trends_set_unit(trawl_trends *t, const char *unit, const char *tz);
trawl_rc trawl_trends_set_burst_params(trawl_trends *t, double s, double gamma);
trawl_rc trawl_index_trends(const trawl_index *idx, const char *query, const trawl_trends *t, char **json,
                            char **errmsg);
trawl_rc trawl_index_bursts(const trawl_index *idx, const char *term, const trawl_trends *t, char **json,
                            char **errmsg);
trawl_rc trawl_similar_query(const trawl_index *idx, const char *id, size_t nterms, char **query);
"""

# The ABI this binding was written for: libtrawl.so.<SOVERSION>.
SOVERSION = 0

ffi = FFI()
ffi.cdef(TYPES)
ffi.cdef(FUNCTIONS)


def _load():
    """Opens libtrawl (see the module comment for where it is looked for) and
    checks that its major version is the one this binding speaks. Raises
    ImportError naming every place tried when none works."""
    soname = "libtrawl.so.%d" % SOVERSION
    env = os.environ.get("TRAWL_LIBRARY")
    if env:
        places = [env]
    else:
        places = [os.path.join(os.path.dirname(os.path.abspath(__file__)), soname), soname]
    tried = []
    for place in places:
        # A bare soname goes to the system loader; a path must exist.
        if os.sep in place and not os.path.exists(place):
            tried.append("%s: no such file" % place)
            continue
        try:
            lib = ffi.dlopen(place)
        except OSError as e:
            tried.append("%s: %s" % (place, e))
            continue
        version = ffi.string(lib.trawl_version()).decode()
        if version.split(".")[0] != str(SOVERSION):
            tried.append("%s: version %s, this binding needs %d.x" % (place, version, SOVERSION))
            continue
        return lib
    raise ImportError("trawl: cannot load the trawl library (set TRAWL_LIBRARY to libtrawl.so): "
                      + "; ".join(tried))


lib = _load()
