/*
 * trawl.h — the public C API of the trawl full-text search engine.
 *
 * This is the only header an embedding program includes. Every name carries the
 * trawl_ / TRAWL_ prefix; every handle is opaque. Conventions:
 *
 *  - Functions return a trawl_rc: TRAWL_OK (0) on success, a negative code on
 *    failure. trawl_strerror(rc) names a code. A writer and a results object
 *    carry the message of their last call (trawl_writer_errmsg,
 *    trawl_results_errmsg): why it failed, or "" when it succeeded; the string
 *    is owned by the handle and valid until its next call. A trawl_index is
 *    shared by threads and keeps no message: the open functions hand theirs
 *    back through a char **errmsg, the others return a code only.
 *  - Every _new or _open function has a matching _free or _close; passing NULL to a free
 *    function is a no-op. Strings returned through char** are malloc'd and freed
 *    by the caller with trawl_free().
 *  - The library never aborts or exits: allocation and I/O failures come back as
 *    codes.
 *
 * Threads: a trawl_index is immutable once opened and may be searched from any
 * number of threads at once. A trawl_writer, trawl_options or trawl_results is
 * used by one thread at a time. Readers and one writer may work on the same index
 * directory concurrently: a reader sees the commit that was current when it opened.
 */
#ifndef TRAWL_H
#define TRAWL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TRAWL_BUILDING) && defined(__GNUC__)
#define TRAWL_API __attribute__((visibility("default")))
#else
#define TRAWL_API
#endif

#define TRAWL_VERSION_MAJOR 0
#define TRAWL_VERSION_MINOR 1
#define TRAWL_VERSION_PATCH 0
#define TRAWL_VERSION_STRING "0.1.0"

/* Returns TRAWL_VERSION_STRING of the library actually linked. */
TRAWL_API const char *trawl_version(void);

/* Error codes: name, value, message. */
#define TRAWL_ERRORS(X)                                                                                                \
    X(OK, 0, "success")                                                                                                \
    X(ENOMEM, -1, "out of memory")                                                                                     \
    X(EINVAL, -2, "invalid argument")                                                                                  \
    X(EIO, -3, "input/output error")                                                                                   \
    X(ECORRUPT, -4, "index file is corrupt")                                                                           \
    X(ESYNTAX, -5, "query syntax error")                                                                               \
    X(ENOTFOUND, -6, "not found")                                                                                      \
    X(EVERSION, -7, "unsupported format version")                                                                      \
    X(ELIMIT, -8, "input exceeds a limit")                                                                             \
    X(EDOC, -9, "malformed document")                                                                                  \
    X(ELOCKED, -10, "index is locked by another writer")

typedef enum trawl_rc {
#define TRAWL_RC_ENUM_(name, value, msg) TRAWL_##name = (value),
    TRAWL_ERRORS(TRAWL_RC_ENUM_)
#undef TRAWL_RC_ENUM_
} trawl_rc;

/* A static string describing rc ("unknown error" for unknown codes). */
TRAWL_API const char *trawl_strerror(int rc);

/* Frees memory the library returned through a char** out-parameter. */
TRAWL_API void trawl_free(void *p);

/* ------------------------------------------------------------------------ */
/* Analysis                                                                  */

/* Called once per token: the analyzed (case-folded, stemmed) term, its
 * position (0-based token count) and the byte range [start, end) of the token
 * in the input. term is valid only during the call. Return non-zero to stop. */
typedef int (*trawl_token_fn)(void *ctx, const char *term, size_t term_len, uint32_t position, size_t start,
                              size_t end);

/* Analyzes text the way the indexer does with language lang ("english" when
 * NULL; "none" disables stemming). Returns TRAWL_EINVAL for an unknown language. */
TRAWL_API trawl_rc trawl_analyze(const char *lang, const char *text, size_t len, trawl_token_fn fn, void *ctx);

/* A NULL-terminated static array of the language names --lang accepts. */
TRAWL_API const char *const *trawl_languages(void);

/* ------------------------------------------------------------------------ */
/* Opening options                                                           */

/* Settings given when a writer or an index is opened, defaults in brackets.
 * The library reads no environment variable: a program that wants its users
 * to set these through the environment reads it itself (the trawl command
 * reads TRAWL_THREADS, TRAWL_RAM_MB and TRAWL_SIMD). Settings that do not
 * apply to what is opened are ignored. An options object may be shared by
 * threads once no one modifies it, and freed once the open returned. */
typedef struct trawl_open_options trawl_open_options;

/* A new options object with every default, or NULL when out of memory. */
TRAWL_API trawl_open_options *trawl_open_options_new(void);
TRAWL_API void trawl_open_options_free(trawl_open_options *o);

/* Writer: the number of threads analyzing documents. 0 analyzes everything in
 * the caller's thread; more than 8 are taken as 8; -1 restores the default
 * [one per online CPU when there are two or more, at most 8; none on one CPU].
 * TRAWL_EINVAL for n < -1. Documents, segments and every byte written are the
 * same whatever the number. */
TRAWL_API trawl_rc trawl_open_options_set_threads(trawl_open_options *o, int n);

/* Writer: the memory budget, in MiB, 1 to 1048576 [256]: the documents added
 * so far are written out as a segment file before the commit when they fill
 * their share of it, so that the writer's peak resident memory stays within
 * about 1.5 times the budget (README, "Memory bound"). TRAWL_EINVAL
 * otherwise. */
TRAWL_API trawl_rc trawl_open_options_set_ram_mb(trawl_open_options *o, size_t mb);

/* Index: the instruction-set level of the intersection kernels: "scalar",
 * "sse4.1" (or "sse41"), "avx2", "avx512", or "auto" [the best the CPU has],
 * in any ASCII case. A level the CPU lacks falls back to the best level below
 * it that it has. Results are the same at every level; only speed differs.
 * TRAWL_EINVAL for another name. */
TRAWL_API trawl_rc trawl_open_options_set_simd(trawl_open_options *o, const char *level);

/* Writer: the field types of a NEW index, as the text of a schema file (JSON,
 * format in README "Field types and schema"; copied; NULL: the default trend
 * schema). It is checked when the writer opens: an invalid schema fails
 * trawl_writer_open_v2 with TRAWL_EINVAL and a message, and so does a schema
 * that differs from the one an existing index was created with. TRAWL_EINVAL
 * when o is NULL, TRAWL_ENOMEM. */
TRAWL_API trawl_rc trawl_open_options_set_schema(trawl_open_options *o, const char *schema_json);

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */

typedef struct trawl_writer trawl_writer;

/* Opens (creating if needed) the index directory dir for adding documents.
 * lang is the analysis language; NULL means the index's own language, or
 * "english" for a new index. Opening an existing index with a different
 * language fails with TRAWL_EINVAL. Only one writer may be open on a directory
 * (TRAWL_ELOCKED otherwise). On failure *out is NULL and, if errmsg is not NULL,
 * *errmsg receives a message to free with trawl_free. */
TRAWL_API trawl_rc trawl_writer_open(const char *dir, const char *lang, trawl_writer **out, char **errmsg);

/* trawl_writer_open with the threads and memory budget of options (NULL: the
 * defaults, which is what trawl_writer_open uses). */
TRAWL_API trawl_rc trawl_writer_open_v2(const char *dir, const char *lang, const trawl_open_options *options,
                                        trawl_writer **out, char **errmsg);

/* Adds one document given as a JSON object: "id" (a non-empty string) is
 * required; every other field is indexed by its type in the index's schema
 * (text: its strings are analyzed; keyword: its strings are exact values;
 * date and number: one value each), and all fields are kept in the document
 * store. A value that does not fit its type (a date that is no ISO 8601
 * date, a keyword that is no string, ...) refuses the document with
 * TRAWL_EDOC. A document whose id is already in
 * the index replaces the earlier one when committed. On TRAWL_EDOC/ELIMIT the
 * document is not added, the writer stays usable and trawl_writer_errmsg says
 * why. json need not be NUL-terminated.
 *
 * Documents are checked here, in the caller's thread, and analyzed by worker
 * threads (trawl_open_options_set_threads), so a failure of the writer itself
 * (out of memory, a segment file that cannot be written) may be reported by a
 * later add or by trawl_writer_commit; from then on every call returns it and
 * the writer can only be closed. Once the documents held pass the memory
 * budget (trawl_open_options_set_ram_mb) they are written out as a segment
 * file before the commit. */
TRAWL_API trawl_rc trawl_writer_add_json(trawl_writer *w, const char *json, size_t len);

/* The largest document add_json takes, in bytes (TRAWL_ELIMIT beyond). */
#define TRAWL_MAX_DOC_BYTES (64u << 20)

/* Adds one document from parallel arrays of field names and UTF-8 values
 * (values[i] has lens[i] bytes). The id is given separately; the stored document
 * is the JSON object {"id": id, names[i]: values[i], ...}. The id and every
 * name must be non-empty, valid UTF-8 and the names other than "id"
 * (TRAWL_EDOC otherwise, and nothing is added); in values, invalid UTF-8
 * sequences and NUL bytes are stored and indexed as U+FFFD. A name given more
 * than once keeps all its values, in order, as a JSON array (every value is
 * indexed, like an array in trawl_writer_add_json). TRAWL_EINVAL when id,
 * names, values, lens, a name, or a value with lens[i] > 0 is NULL. */
TRAWL_API trawl_rc trawl_writer_add_fields(trawl_writer *w, const char *id, size_t nfields, const char *const *names,
                                           const char *const *values, const size_t *lens);

/* Makes every document added so far durable and visible to readers opened from
 * now on: new segment files are written and fsynced, then the manifest is
 * atomically replaced. A failed commit leaves the previous commit intact. */
TRAWL_API trawl_rc trawl_writer_commit(trawl_writer *w);

/* Deletes the document with external id `id` (a no-op if there is none):
 * at the next commit, every copy committed before and every copy added before
 * this call is gone; a copy added after it is kept. Like adds, nothing is
 * visible before the commit. TRAWL_EINVAL for an empty id. */
TRAWL_API trawl_rc trawl_writer_delete(trawl_writer *w, const char *id);

/* Deletes, at the next commit, every document of the last commit that query
 * (the search syntax, AND as the default operator) matches; documents added
 * since the last commit are not matched. *count (may be NULL) receives how many
 * documents matched. All or nothing: on a query error nothing is recorded
 * (TRAWL_ESYNTAX / ELIMIT, message in trawl_writer_errmsg). */
TRAWL_API trawl_rc trawl_writer_delete_query(trawl_writer *w, const char *query, uint64_t *count);

/* Merges segments: commits what was added or deleted (as trawl_writer_commit),
 * then rebuilds runs of adjacent segments chosen by the tiered merge policy
 * (segments of similar size, ten at a time) into new ones without their deleted
 * documents, as one more commit; every segment holding deleted documents is
 * rewritten; with max_segments > 0, adjacent segments are also joined until at
 * most max_segments remain (1: one segment). Documents keep their order (and so
 * their tie order). Crash-safe like any commit: on failure the previous commit
 * stays intact. Files of replaced segments are removed once no trawl_index of
 * this process maps them (readers of other processes keep working). Each
 * merged segment is built in memory whole: this takes about three times the
 * size of the segments it joins, beyond the writer's memory budget when they
 * are large. Waits for a background merge first (see below). */
TRAWL_API trawl_rc trawl_writer_merge(trawl_writer *w, size_t max_segments);

/* After each successful commit the writer merges per the tiered policy (at
 * most ten segments of one size tier; segments over 30% deleted rewritten) in
 * a background thread of its own [on]: the commit returns once its documents
 * are durable, and adds, deletes and commits go on while the merge runs. The
 * merge publishes its result as a commit of its own (merged segments in the
 * place of their inputs, with the deletions made meanwhile carried over). It
 * has half of the memory budget while it runs (the writer cuts its segments
 * at half its share meanwhile) and takes in at most an eighth of the budget,
 * so segments stop growing there. A failed background merge leaves the index
 * as it was; its failure is returned (once) by the next trawl_writer_commit,
 * trawl_writer_merge or trawl_writer_wait, which then does nothing else.
 * trawl_writer_close and trawl_writer_merge wait for a running merge. */
TRAWL_API void trawl_writer_set_auto_merge(trawl_writer *w, int on);

/* Waits until no background merge runs. Returns the failure of a background
 * merge not reported yet (with trawl_writer_errmsg), else TRAWL_OK. */
TRAWL_API trawl_rc trawl_writer_wait(trawl_writer *w);

/* Documents added since the last commit (0 after a commit). */
TRAWL_API uint64_t trawl_writer_pending(const trawl_writer *w);

/* Closes the writer; documents not committed are discarded. */
TRAWL_API void trawl_writer_close(trawl_writer *w);

/* Why the writer's last call failed, or "" when it succeeded (never NULL). */
TRAWL_API const char *trawl_writer_errmsg(const trawl_writer *w);

/* ------------------------------------------------------------------------ */
/* Reading                                                                   */

typedef struct trawl_index trawl_index;

/* Opens the current commit of the index in dir, validating the checksum of
 * every section of every segment. On failure *out is NULL and, if errmsg is not
 * NULL, *errmsg receives a message naming the file and section (trawl_free it). */
TRAWL_API trawl_rc trawl_index_open(const char *dir, trawl_index **out, char **errmsg);

/* trawl_index_open with the SIMD level of options (NULL: the defaults, which is
 * what trawl_index_open uses). */
TRAWL_API trawl_rc trawl_index_open_v2(const char *dir, const trawl_open_options *options, trawl_index **out,
                                       char **errmsg);
TRAWL_API void trawl_index_close(trawl_index *idx);

/* The instruction-set level the index's kernels use: "scalar", "sse41",
 * "avx2" or "avx512" (static string). */
TRAWL_API const char *trawl_index_simd(const trawl_index *idx);

/* Opens the latest commit of idx's directory into *newer, sharing with idx
 * every segment the two commits have in common (only new segments are opened
 * and validated; deletions are reread where they changed), so it is cheap.
 * When the commit is still idx's own, *newer is NULL and TRAWL_OK returned.
 * idx stays open and valid, at its own commit; close both independently.
 * Thread-safe with searches on idx. */
TRAWL_API trawl_rc trawl_index_reopen(const trawl_index *idx, trawl_index **newer);

/* Number of live documents. */
TRAWL_API uint64_t trawl_index_doc_count(const trawl_index *idx);

/* The stored document with external id `id`, as a JSON object text in *json
 * (trawl_free it). TRAWL_ENOTFOUND if no live document has that id. */
TRAWL_API trawl_rc trawl_index_get(const trawl_index *idx, const char *id, char **json);

/* Index statistics as a JSON object text (documents, segments, terms,
 * postings, bytes per section, bits per posting; "segment_list": per segment
 * its file name, documents, deleted documents and bytes; "merge": the merges
 * the default policy would run now) in *json (trawl_free it). */
TRAWL_API trawl_rc trawl_index_stats(const trawl_index *idx, char **json);

/* Copies the current commit of the index in dir into dest (a new or empty
 * directory), consistently even while a writer keeps committing or merging:
 * the files the commit's MANIFEST names are hard-linked where the file system
 * allows (committed files are never modified in place), copied and fsynced
 * otherwise, and the MANIFEST is written last, durably. The copy is an index
 * of its own (trawl_index_check passes on it). On failure *errmsg (if not
 * NULL) receives a message to trawl_free. */
TRAWL_API trawl_rc trawl_backup(const char *dir, const char *dest, char **errmsg);

/* Validates every checksum and structure of the index in dir, deeper than
 * trawl_index_open: every posting list, dictionary block and stored block is
 * decoded. Returns TRAWL_OK when sound; otherwise an error code and, in
 * *report (trawl_free it; may be NULL), one line per problem found. */
TRAWL_API trawl_rc trawl_index_check(const char *dir, char **report);

/* ------------------------------------------------------------------------ */
/* Searching                                                                 */

typedef struct trawl_options trawl_options;

/* Search options, defaults in brackets. An options object may be shared by
 * threads once no one modifies it. */
TRAWL_API trawl_options *trawl_options_new(void);
TRAWL_API void trawl_options_free(trawl_options *o);
/* Hits to return and hits to skip before them; offset + limit at most 1000000
 * (trawl_search gives TRAWL_ELIMIT beyond it, except when only counting). */
TRAWL_API void trawl_options_set_limit(trawl_options *o, size_t k);       /* [10] */
TRAWL_API void trawl_options_set_offset(trawl_options *o, size_t offset); /* [0] */
/* Default operator between terms: 0 = AND [default], 1 = OR. */
TRAWL_API void trawl_options_set_or(trawl_options *o, int use_or);
/* Default operator between terms, a superset of trawl_options_set_or (the
 * later of the two calls wins): TRAWL_OP_AND [default], TRAWL_OP_OR, or
 * TRAWL_OP_AUTO — the documents matching the query with AND first, ranked
 * among themselves, then the other documents matching it with OR, ranked among
 * themselves, so that a long query does not come back empty. With AUTO the
 * total counts every document of both parts (the OR total: the AND matches are
 * among the OR ones) and trawl_index_query_stats gives the statistics of the
 * OR query (a superset of the AND one's). TRAWL_EINVAL for another value. */
typedef enum trawl_op { TRAWL_OP_AND = 0, TRAWL_OP_OR = 1, TRAWL_OP_AUTO = 2 } trawl_op;
TRAWL_API trawl_rc trawl_options_set_op(trawl_options *o, trawl_op op);
/* Collect a per-hit score breakdown (trawl_results_explain). [0] */
TRAWL_API void trawl_options_set_explain(trawl_options *o, int on);
/* Load titles and build snippets for hits. [1] */
TRAWL_API void trawl_options_set_snippets(trawl_options *o, int on);
/* Only count matches; no hits are returned, and the limit and offset do not
 * matter (any offset is accepted). [0] */
TRAWL_API void trawl_options_set_count_only(trawl_options *o, int on);
/* Score every matching document through the generic cursor executor, with no
 * bitmap fast path and no dynamic pruning (for tests and benchmarks: results
 * are the same, only slower). [0] */
TRAWL_API void trawl_options_set_exhaustive(trawl_options *o, int on);
/* BM25 parameters: k1 >= 0 [1.2], 0 <= b <= 1 [0.75]. TRAWL_EINVAL otherwise. */
TRAWL_API trawl_rc trawl_options_set_bm25(trawl_options *o, double k1, double b);
/* How a term's fields combine into its score: TRAWL_RANKING_BM25F [default]
 * (Robertson, Zaragoza & Taylor 2004): the term's frequencies in its fields,
 * each weighted and length-normalized, summed and then saturated once with
 * one idf over all fields; or TRAWL_RANKING_BM25, the sum over fields of each
 * field's BM25 (own statistics, weight outside; the default before BM25F
 * was measured better) — formulas in the README.
 * Phrases score as BM25 either way. The _PROX variants add to either a
 * term-proximity bonus for queries joining two or more words: pairs of query
 * words close together in a field of the document (BM25TP, Rasolofo & Savoy
 * 2003; parameters: trawl_options_set_proximity; formula in the README).
 * Scores stay exact and pruning too. TRAWL_EINVAL for another value. */
typedef enum trawl_ranking {
    TRAWL_RANKING_BM25 = 0,
    TRAWL_RANKING_BM25F = 1,
    TRAWL_RANKING_BM25_PROX = 2,
    TRAWL_RANKING_BM25F_PROX = 3
} trawl_ranking;
TRAWL_API trawl_rc trawl_options_set_ranking(trawl_options *o, trawl_ranking r);
/* The proximity bonus's weight λ, 0 < weight <= 1000 [0.15], and window in
 * positions, 1 <= window <= 64 [20] (used by the _PROX rankings).
 * TRAWL_EINVAL otherwise. */
TRAWL_API trawl_rc trawl_options_set_proximity(trawl_options *o, double weight, unsigned window);
/* Weight of a field in unqualified terms (title 2, others 1 by default); w >= 0. */
TRAWL_API trawl_rc trawl_options_set_field_weight(trawl_options *o, const char *field, double w);
/* A filter ANDed with every query: an expression of the query language
 * (typically filters such as "date>=2024 tags:=ai"; terms in it must match
 * too but never score). Copied. NULL or "" removes it. Its errors make
 * trawl_search fail with a message starting "filter: " and no offset.
 * TRAWL_EINVAL without options, TRAWL_ENOMEM. [none] */
TRAWL_API trawl_rc trawl_options_set_filter(trawl_options *o, const char *expr);
/* Rank by the value of a keyword, date or number field instead of
 * relevance: "field", "field:asc" or "field:desc". Documents with a value
 * come first, by value (a keyword field: by its smallest value, bytewise),
 * then by score, then in index order; documents without a value last. NULL
 * or "" goes back to relevance. TRAWL_EINVAL for another form (a field the
 * index lacks or that is text only fails trawl_search with TRAWL_ESYNTAX).
 * [relevance] */
TRAWL_API trawl_rc trawl_options_set_sort(trawl_options *o, const char *spec);

/* Collection-wide statistics, so that an index holding one partition of a
 * collection scores like the whole collection in one index (BM25's document
 * counts, document frequencies and average field lengths). The statistics are
 * JSON: {"documents": N, "fields": {F: {"documents": D, "tokens": T}, ...},
 * "terms": {F: {TERM: DF, ...}, ...}}, counting live documents: D those with
 * field F, T their tokens in F, DF those with the analyzed TERM in F. */

/* *json (free with trawl_free) = the statistics of idx that query needs under
 * options (NULL: defaults; its default operator matters): every field, and
 * every (field, term) whose document frequency in idx is not zero. A field
 * the query names and idx lacks is no error here (another partition may have
 * it): it adds nothing. On failure returns a trawl_rc and, if errmsg, a
 * message in *errmsg (free with trawl_free). */
TRAWL_API trawl_rc trawl_index_query_stats(const trawl_index *idx, const char *query, const trawl_options *options,
                                           char **json, char **errmsg);
/* *out (free with trawl_free) = the sum of n statistics documents (e.g. one
 * per partition). TRAWL_EINVAL for a malformed one, TRAWL_ENOMEM. */
TRAWL_API trawl_rc trawl_stats_sum(const char *const *jsons, size_t n, char **out);
/* Scores searches with the statistics json (e.g. trawl_stats_sum of every
 * partition's trawl_index_query_stats for the same query) instead of the
 * index's own; a field or term they lack keeps the index's value. NULL goes
 * back to the index's own. TRAWL_EINVAL for malformed JSON (the options are
 * then unchanged). Matching, totals and the tie order are not affected,
 * except that a field the query names which the index lacks but the
 * statistics have matches nothing instead of failing (unknown field). */
TRAWL_API trawl_rc trawl_options_set_stats(trawl_options *o, const char *json);

typedef struct trawl_results trawl_results;

/* Runs query against idx (options may be NULL for defaults). On success *out
 * holds the results. On failure, *out (if the allocation succeeded) still holds
 * a results object whose trawl_results_errmsg describes the failure and, for
 * TRAWL_ESYNTAX, trawl_results_error_offset gives the byte offset in query.
 * Always trawl_results_free *out. */
TRAWL_API trawl_rc trawl_search(const trawl_index *idx, const char *query, const trawl_options *options,
                                trawl_results **out);

TRAWL_API void trawl_results_free(trawl_results *r);
/* Why the search failed, or "" when it succeeded. */
TRAWL_API const char *trawl_results_errmsg(const trawl_results *r);
/* Byte offset of a syntax error in the query, or -1. */
TRAWL_API long trawl_results_error_offset(const trawl_results *r);

/* Exact number of documents matching the query. */
TRAWL_API uint64_t trawl_results_total(const trawl_results *r);
/* Number of hits held (at most the limit). */
TRAWL_API size_t trawl_results_count(const trawl_results *r);
/* Microseconds the search took. */
TRAWL_API uint64_t trawl_results_took_us(const trawl_results *r);

/* Hit accessors, 0 <= i < trawl_results_count. Strings are owned by r and valid
 * until trawl_results_free; NULL for i out of range. */
TRAWL_API const char *trawl_results_id(const trawl_results *r, size_t i);
/* The hit's BM25 score; NaN (never a valid score) for i out of range. */
TRAWL_API double trawl_results_score(const trawl_results *r, size_t i);
/* The hit's "title" field ("" if none; NULL without snippets). */
TRAWL_API const char *trawl_results_title(const trawl_results *r, size_t i);
/* With a sort field (trawl_options_set_sort): the hit's value as text — a
 * date as 2024-03-05T10:20:30Z (UTC), a number as an integer or in %.17g, a
 * keyword value as is; NULL when the hit has no value or without a sort. */
TRAWL_API const char *trawl_results_sort_value(const trawl_results *r, size_t i);

typedef enum trawl_snippet_style {
    TRAWL_SNIPPET_PLAIN = 0, /* text only */
    TRAWL_SNIPPET_ANSI = 1,  /* matches in bold terminal escapes */
    TRAWL_SNIPPET_HTML = 2   /* HTML-escaped, matches in <mark>...</mark> */
} trawl_snippet_style;

/* A passage of the hit's body around the matched terms (NULL without snippets). */
TRAWL_API const char *trawl_results_snippet(const trawl_results *r, size_t i, trawl_snippet_style style);
/* Multi-line score breakdown (NULL unless explain was set). */
TRAWL_API const char *trawl_results_explain(const trawl_results *r, size_t i);

/* ------------------------------------------------------------------------ */
/* Analytics: facets, date histograms, emerging terms, bursts, more like this */

/* Facets: asks the search for the n (1..10000) most frequent values of
 * `field` over ALL matching documents (not only the hits returned), with
 * exact counts, when field is a keyword field; for a date or number field,
 * the smallest and largest value among the matching documents. Values with
 * equal counts come in byte order. Facets come back in the order they were
 * added; adding a field again changes its n. At most 64 facets. TRAWL_EINVAL
 * for a NULL or empty field, n out of range or too many facets. A field that
 * is not keyword, date or number in the index makes trawl_search fail with
 * TRAWL_EINVAL. */
TRAWL_API trawl_rc trawl_options_add_facet(trawl_options *o, const char *field, size_t n);
/* Removes every facet. */
TRAWL_API void trawl_options_clear_facets(trawl_options *o);

/* Date histogram: asks the search for, per calendar bucket of the date field
 * `field` (unit "year", "quarter", "month", "week" — ISO 8601, Monday first —
 * or "day"), the number of matching documents and of all live documents in
 * the bucket. Buckets are read at the fixed offset tz from UTC ("+05:30",
 * "-08:00", "+0200", "Z"; NULL or "" = UTC; named zones are not supported).
 * Buckets run from the first to the last bucket holding a matching document,
 * empty ones included; no matching document with the field, no buckets. A
 * NULL field switches the histogram off. TRAWL_EINVAL for an unknown unit or
 * a bad offset (the options are then unchanged). */
TRAWL_API trawl_rc trawl_options_set_histogram(trawl_options *o, const char *field, const char *unit, const char *tz);

/* Analytics meant to be summed across the partitions of a collection (each
 * partition an index searched alone): with on != 0, every keyword facet
 * lists ALL the values of its field that matching documents have, with
 * their counts (its n is ignored; same order), and the histogram's buckets
 * run from the first to the last bucket holding any live document with a
 * date (not only a matching one), empty ones included. Summing the value
 * counts and the per-bucket counts of every partition then gives exactly
 * the counts of one index holding them all; its top n, and its buckets
 * trimmed to those from the first to the last with a match (gaps between
 * partitions' spans filled with empty buckets), are that index's facets and
 * histogram. [0: off] TRAWL_EINVAL for a NULL o. */
TRAWL_API trawl_rc trawl_options_set_analytics_complete(trawl_options *o, int on);

/* Facet accessors, 0 <= f < trawl_results_facet_count (in the order added).
 * Strings are owned by r. */
TRAWL_API size_t trawl_results_facet_count(const trawl_results *r);
/* The facet's field name (NULL for f out of range). */
TRAWL_API const char *trawl_results_facet_field(const trawl_results *r, size_t f);
/* "keyword", "date" or "number" (NULL for f out of range). */
TRAWL_API const char *trawl_results_facet_type(const trawl_results *r, size_t f);
/* Matching documents that have at least one value of the field. */
TRAWL_API uint64_t trawl_results_facet_docs(const trawl_results *r, size_t f);
/* Keyword facets: the number of values held (at most the facet's n), and
 * value i (most frequent first) with its count of matching documents. */
TRAWL_API size_t trawl_results_facet_values(const trawl_results *r, size_t f);
TRAWL_API const char *trawl_results_facet_value(const trawl_results *r, size_t f, size_t i);
TRAWL_API uint64_t trawl_results_facet_value_count(const trawl_results *r, size_t f, size_t i);
/* Date and number facets: the smallest and largest value among the matching
 * documents as text — a date as "YYYY-MM-DDThh:mm:ssZ", an integer in
 * decimal, a double as the shortest text that reads back exactly — or NULL
 * when no matching document has the field (or the facet is a keyword one). */
TRAWL_API const char *trawl_results_facet_min(const trawl_results *r, size_t f);
TRAWL_API const char *trawl_results_facet_max(const trawl_results *r, size_t f);

/* Histogram accessors, 0 <= i < trawl_results_histogram_count, oldest first. */
TRAWL_API size_t trawl_results_histogram_count(const trawl_results *r);
/* The bucket's label: "2024", "2024-Q2", "2024-05", "2024-W07" (ISO
 * week-numbering year), "2024-05-03" (NULL out of range). */
TRAWL_API const char *trawl_results_histogram_label(const trawl_results *r, size_t i);
/* The bucket's first instant, seconds since 1970-01-01T00:00:00Z (0 out of range). */
TRAWL_API int64_t trawl_results_histogram_start(const trawl_results *r, size_t i);
/* Matching documents, and all live documents, whose date falls in the bucket. */
TRAWL_API uint64_t trawl_results_histogram_matches(const trawl_results *r, size_t i);
TRAWL_API uint64_t trawl_results_histogram_docs(const trawl_results *r, size_t i);

/* Emerging terms and bursts are asked for with a trends request. */
typedef struct trawl_trends trawl_trends;

/* A new request with the defaults in brackets, or NULL when out of memory. */
TRAWL_API trawl_trends *trawl_trends_new(void);
TRAWL_API void trawl_trends_free(trawl_trends *t);
/* The date field windows are read on ["date"]. */
TRAWL_API trawl_rc trawl_trends_set_field(trawl_trends *t, const char *field);
/* The window (required for emerging terms) and the background [every live
 * document]: from..to, each a date as the query language reads it (YYYY,
 * YYYY-MM, YYYY-MM-DD, a date-time); a partial date stands for its whole
 * span, so "2025-01".."2025-06" is from 2025-01-01T00:00:00Z to the end of
 * June. Either end may be NULL or "" (open). TRAWL_EINVAL for a bad date or
 * from after to. */
TRAWL_API trawl_rc trawl_trends_set_window(trawl_trends *t, const char *from, const char *to);
TRAWL_API trawl_rc trawl_trends_set_background(trawl_trends *t, const char *from, const char *to);
/* Terms to list, 1..10000 [20]. */
TRAWL_API trawl_rc trawl_trends_set_limit(trawl_trends *t, size_t n);
/* Fewest window documents a term must be in to be listed, >= 1 [3]. */
TRAWL_API trawl_rc trawl_trends_set_min_docs(trawl_trends *t, uint64_t m);
/* The score terms are ranked by: "jlh" [default] or "chi2" (both are
 * reported; formulas in the README). */
TRAWL_API trawl_rc trawl_trends_set_score(trawl_trends *t, const char *name);
/* Bursts: the calendar unit of the term's histogram ["month"], the offset
 * from UTC its buckets are read at [UTC], and the automaton's state ratio
 * s > 1 [2] and transition cost factor gamma >= 0 [1]. */
TRAWL_API trawl_rc trawl_trends_set_unit(trawl_trends *t, const char *unit, const char *tz);
TRAWL_API trawl_rc trawl_trends_set_burst_params(trawl_trends *t, double s, double gamma);

/* Emerging terms of idx: the terms (analyzed, any text field) most
 * over-represented in the window's documents — those of them that match
 * query, when query is neither NULL nor empty (AND as the default operator)
 * — against the background's documents, as a JSON object text in *json
 * (trawl_free it):
 *   {"field": F, "window": {"from": ISO|null, "to": ISO|null, "docs": N},
 *    "background": {"from": .., "to": .., "docs": N}, "score": "jlh"|"chi2",
 *    "terms": [{"term": T, "window_docs": a, "background_docs": b,
 *               "jlh": x, "chi2": y}, ...]}
 * ranked by the chosen score, then window_docs, then term bytes; only terms
 * with window_docs >= min_docs and a positive score. On failure returns a
 * trawl_rc and, if errmsg is not NULL, a message in *errmsg (trawl_free it):
 * TRAWL_EINVAL without a window or when the field is not a date field,
 * TRAWL_ESYNTAX for a bad query. */
TRAWL_API trawl_rc trawl_index_trends(const trawl_index *idx, const char *query, const trawl_trends *t, char **json,
                                      char **errmsg);

/* Bursts of term (analyzed like a query word; any text field) over time:
 * per calendar bucket of the field the live documents with the term and all
 * live documents, then Kleinberg's two-state automaton (README). *json:
 *   {"term": T, "field": F, "unit": U, "s": s, "gamma": g,
 *    "histogram": [{"bucket": LABEL, "start": ISO, "docs": d, "term_docs": r}, ...],
 *    "bursts": [{"start": LABEL, "end": LABEL, "from": ISO, "to": ISO,
 *                "weight": w, "term_docs": n, "docs": n}, ...]}
 * "to" is the first instant after the burst. Errors as trawl_index_trends
 * (the window and background are not used). */
TRAWL_API trawl_rc trawl_index_bursts(const trawl_index *idx, const char *term, const trawl_trends *t, char **json,
                                      char **errmsg);

/* More like this: the live document with external id `id`, its most
 * characteristic terms by tf-idf over its stored text fields — score
 * (1 + ln tf) * ln(N / df), tf the term's occurrences in the document, N the
 * live documents, df the live documents with the term in any field; only
 * terms of two bytes or more that some other document has and some document
 * lacks (1 < df < N); ties by term bytes — the nterms (1..100) best run as an
 * OR query, the document itself left out of the hits and the total. options as for trawl_search (its default
 * operator is ignored). Returns as trawl_search; TRAWL_ENOTFOUND (in the
 * results' message) when no live document has the id. */
TRAWL_API trawl_rc trawl_similar(const trawl_index *idx, const char *id, size_t nterms, const trawl_options *options,
                                 trawl_results **out);
/* The OR query trawl_similar runs for id (the terms' words as they appear in
 * the document, quoted, best first) in *query (trawl_free it). */
TRAWL_API trawl_rc trawl_similar_query(const trawl_index *idx, const char *id, size_t nterms, char **query);

#ifdef __cplusplus
}
#endif
#endif /* TRAWL_H */
