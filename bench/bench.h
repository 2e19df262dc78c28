/*
 * bench.h — shared declarations of trawl-bench, the benchmark harness.
 *
 * trawl-bench measures trawl against two peers, SQLite FTS5 and Xapian, through
 * each engine's public API, in one process. Every engine sits behind the same
 * small adapter (bench_engine): build an index from a JSON Lines corpus, open
 * it, run one query of a class (and / or / phrase / count) given as a list of
 * plain words, close it. The harness times the adapter calls; the adapters do
 * nothing but translate the word list into the engine's own query and copy out
 * the top-K external ids and the exact total.
 *
 * Files: main.c (subcommands, timing, report), util.c (corpus and query file
 * reading, result buffers, small helpers), gen.c (synthetic corpus and query
 * generator), kernels_bench.c (the kernel micro-benchmark), engine_trawl.c,
 * engine_sqlite.c, engine_xapian.cc (the one C++ file; it exposes the same C
 * adapter). This header is also included by the C++ file.
 */
#ifndef TRAWL_BENCH_H
#define TRAWL_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Query classes. AND/OR/PHRASE are ranked top-K by BM25 with the exact total;
 * COUNT only counts the documents containing every word. */
typedef enum bench_class { BENCH_AND = 0, BENCH_OR, BENCH_PHRASE, BENCH_COUNT, BENCH_NCLASSES } bench_class;

/* "and", "or", "phrase", "count". */
const char *bench_class_name(bench_class c);
/* Parses a class name; returns -1 if unknown. */
int bench_class_parse(const char *s);

/* One query: its words, lowercased ASCII letters/digits and any non-ASCII
 * bytes; every other byte separates words (so no query-syntax characters and
 * no upper-case operators can reach an engine). */
typedef struct bench_query {
    char **words; /* nwords NUL-terminated words, owned by the query set */
    size_t nwords;
} bench_query;

typedef struct bench_queries {
    bench_query *q;
    size_t n;
} bench_queries;

/* Reads one query a line from path (blank lines and lines without any word are
 * skipped). Returns 0, or -1 with a message in err. Free with bench_queries_free. */
int bench_queries_load(const char *path, bench_queries *out, char *err, size_t errlen);
void bench_queries_free(bench_queries *qs);
/* Splits line[0..len) into q's words as bench_queries_load does (q->nwords
 * may be 0). Returns 0, or -1 when out of memory (q then holds what was split;
 * free it with bench_query_free either way). */
int bench_query_split(const char *line, size_t len, bench_query *q);
void bench_query_free(bench_query *q);

/* The answer to one query: the exact total and up to K external ids, best
 * first. Adapters append ids with bench_result_add; the buffers are reused
 * between queries (bench_result_reset) so that steady-state queries do not
 * allocate in the harness. */
typedef struct bench_result {
    uint64_t total;
    size_t n;  /* ids held */
    char *buf; /* ids, each NUL-terminated, back to back */
    size_t used, cap;
    size_t *off; /* n offsets into buf */
    size_t offcap;
} bench_result;

void bench_result_reset(bench_result *r);
/* Appends id[0..len) (need not be NUL-terminated). Returns 0, or -1 when out of memory. */
int bench_result_add(bench_result *r, const char *id, size_t len);
static inline const char *bench_result_id(const bench_result *r, size_t i) {
    return r->buf + r->off[i];
}
void bench_result_free(bench_result *r);

/* How a peer runs its queries; `compare` runs each peer both ways:
 *   BENCH_EXACT    made to return the exact total, as trawl always does
 *                  (Xapian: check_at_least = document count; FTS5: every match
 *                  read once, or a count statement);
 *   BENCH_DEFAULT  as its users run it by default: Xapian get_mset(0, K) with
 *                  its estimated total; FTS5 one ORDER BY bm25(...) LIMIT K
 *                  statement and no count (total reported as 0). The count
 *                  class has no cheaper default: it stays as in BENCH_EXACT
 *                  for FTS5 and takes the estimate for Xapian. */
typedef enum bench_mode { BENCH_EXACT = 0, BENCH_DEFAULT = 1 } bench_mode;

/* An engine adapter. Every function returns 0 on success or -1 with a
 * NUL-terminated message in err[0..errlen). */
typedef struct bench_engine {
    const char *name; /* "trawl", "fts5", "xapian" */
    /* The version of the engine library linked in (a static string). */
    const char *(*version)(void);
    /* Builds a new index in dir (which does not exist yet, or is empty) from the
     * JSON Lines corpus at path; *docs receives the number of documents indexed. */
    int (*build)(const char *corpus, const char *dir, uint64_t *docs, char *err, size_t errlen);
    /* Opens the index in dir for querying; *h is freed with close. */
    int (*open)(const char *dir, void **h, char *err, size_t errlen);
    /* Runs one query of class cls with top k; fills res (already reset). */
    int (*run)(void *h, bench_class cls, const bench_query *q, size_t k, bench_result *res, char *err, size_t errlen);
    void (*close)(void *h);
    /* Switches an open handle to mode (handles open in BENCH_EXACT). NULL for
     * an engine with one mode (trawl: always exact). */
    void (*set_mode)(void *h, bench_mode mode);
} bench_engine;

/* ---- analytics workloads (issue 8 item 12; analytics.c) ----------------
 *
 * On a dated corpus: a month histogram of a query (number of matching
 * documents per calendar month, UTC), the top-N values of the keyword field
 * "tags" over all matches, an AND query ranked top-K with the exact total (with
 * and without a date-range filter), and an AND query sorted by date, newest
 * first, top-K with the exact total. */
typedef enum bench_an_kind {
    BENCH_AN_HIST = 0, /* q's words ANDed; res: total, then "YYYY-MM COUNT" per non-empty month, ascending */
    BENCH_AN_FACET,    /* q's words ANDed; res: total, then "TAG COUNT" top facet_n, count desc then tag asc */
    BENCH_AN_AND,      /* q's words ANDed, BM25 top k; res: total, then ids */
    BENCH_AN_FILTER,   /* same, only documents with lo <= date <= hi */
    BENCH_AN_SORT,     /* q's words ANDed, by date descending, top k; res: total, then the dates (epoch seconds) */
    BENCH_AN_NKINDS
} bench_an_kind;

/* "histogram", "facets", "and", "and+filter", "sort". */
const char *bench_an_kind_name(bench_an_kind k);

typedef struct bench_an_params {
    size_t k;       /* top K of AND / FILTER / SORT */
    size_t facet_n; /* values of FACET */
    int64_t lo, hi; /* FILTER's inclusive date range, epoch seconds */
} bench_an_params;

/* An engine adapter for the analytics workloads; the same contract as
 * bench_engine. build indexes title and body as text (as bench_engine does)
 * and the dated fields as each engine's users would store them. */
typedef struct bench_an_engine {
    const char *name;
    const char *(*version)(void);
    int (*build)(const char *corpus, const char *dir, uint64_t *docs, char *err, size_t errlen);
    int (*open)(const char *dir, void **h, char *err, size_t errlen);
    int (*run)(void *h, bench_an_kind kind, const bench_query *q, const bench_an_params *p, bench_result *res,
               char *err, size_t errlen);
    void (*close)(void *h);
} bench_an_engine;

/* The analytics adapters compiled in; NULL when not available (trawl's until
 * the library has filters, sort, facets and histograms). */
const bench_an_engine *bench_an_trawl(void);
const bench_an_engine *bench_an_fts5(void);
const bench_an_engine *bench_an_xapian(void);

/* The adapters compiled in; NULL when the engine is not available. */
const bench_engine *bench_engine_trawl(void);
const bench_engine *bench_engine_fts5(void);
const bench_engine *bench_engine_xapian(void);
/* Finds an adapter by name ("trawl", "fts5" or its alias "sqlite", "xapian");
 * NULL if unknown or not compiled in. */
const bench_engine *bench_engine_find(const char *name);

/* One document of a corpus, as the peers need it. Strings are valid only during
 * the callback; missing fields are "" (title, body). line is the raw JSON text.
 * The fields of dated documents (gen --dated, sample/trends.jsonl): has_date is
 * 1 when "date" is an ISO 8601 string (YYYY-MM-DD, optionally Thh:mm[:ss[.f]]
 * and Z or +-hh:mm) or an integer (epoch seconds), date then holds it in epoch
 * seconds UTC; source and author are "" when missing; tags holds the strings
 * of a "tags" array (or the one string of a "tags" string). */
typedef struct bench_doc {
    const char *id, *title, *body;
    size_t id_len, title_len, body_len;
    const char *line;
    size_t line_len;
    int has_date;
    int64_t date;
    const char *source, *author;
    size_t source_len, author_len;
    const char *const *tags;
    const size_t *tag_len;
    size_t ntags;
} bench_doc;

/* Parses an ISO 8601 date or date-time s (as for bench_doc.date) into epoch
 * seconds. Returns 0, or -1 when s is not such a date. */
int bench_parse_date(const char *s, int64_t *out);
/* Formats epoch seconds t as "YYYY-MM" (UTC) into buf (at least 8 bytes). */
void bench_month(int64_t t, char *buf);
/* Formats epoch seconds t (years 0..9999) as "YYYY-MM-DDThh:mm:ssZ" into buf
 * (at least 32 bytes). */
void bench_iso(int64_t t, char *buf);

/* Calls fn for every line of the JSON Lines file at path, in order. Stops at the
 * first non-zero return of fn (returned, with fn's message left in err). Returns
 * 0, or -1 with a message in err (I/O error, malformed JSON, missing "id"). */
typedef int (*bench_doc_fn)(void *ctx, const bench_doc *d, char *err, size_t errlen);
int bench_corpus_each(const char *path, bench_doc_fn fn, void *ctx, char *err, size_t errlen);

/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);
/* Latency figures of a run, in microseconds. */
typedef struct bench_latency {
    double p50_us, p90_us, p99_us, mean_us;
} bench_latency;
/* Sorts lat[0..n) (nanoseconds) and fills out: nearest-rank percentiles and
 * the mean (all 0 when n == 0). */
void bench_latency_summary(uint64_t *lat, size_t n, bench_latency *out);
/* The directory indexes are built in: BENCH_WORKDIR (created when missing) or
 * a new /tmp/trawl-bench.XXXXXX (then *made = 1: the caller removes it).
 * Returns 0, or -1 with a message on stderr. */
int bench_workdir(char *buf, size_t cap, int *made);
/* Apparent size in bytes of a file, or the sum over a directory tree. */
uint64_t bench_path_bytes(const char *path);
/* Removes a directory tree (or a file). Returns 0 or -1. */
int bench_rmtree(const char *path);
/* Writes s as a JSON string literal (with quotes) to f. */
void bench_json_str(FILE *f, const char *s);
/* snprintf into err; always NUL-terminates. */
void bench_seterr(char *err, size_t errlen, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Subcommands in their own files. argc/argv start after the subcommand name. */
int bench_cmd_gen(int argc, char **argv);
int bench_cmd_genq(int argc, char **argv);
int bench_cmd_topics(int argc, char **argv);
int bench_cmd_kernels(int argc, char **argv);
int bench_cmd_relevance(int argc, char **argv);

/* Configures the trawl adapter's handle h (from its open) for the `or` class
 * with spec, a comma list of key=value: op=or|and|auto, ranking=bm25|bm25f,
 * k1=X, b=X, w.FIELD=X (field weight); "" restores the defaults (OR, BM25).
 * Returns 0, or -1 with a message in err. */
int bench_trawl_configure(void *h, const char *spec, char *err, size_t errlen);
int bench_cmd_analytics(int argc, char **argv);
/* reopen CORPUS.jsonl [ROUNDS [DOCS]]: open vs reopen times (reopen.c). */
int bench_cmd_reopen(int argc, char **argv);
/* fixedcost INDEX_DIR WORDS.txt... [--rounds N]: per-query fixed cost (fixedcost.c). */
int bench_cmd_fixedcost(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif /* TRAWL_BENCH_H */
