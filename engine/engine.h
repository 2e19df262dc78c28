/*
 * engine.h — private structures of the engine layer: the manifest (which
 * segments make up a commit), the open index snapshot (which holds the view
 * the query layer searches) and the search options. Not part of the public
 * API.
 */
#ifndef TW_ENGINE_H
#define TW_ENGINE_H

#include <pthread.h>
#include <roaring/roaring.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "facets.h"
#include "gstats.h"
#include "histogram.h"
#include "matchset.h"
#include "params.h"
#include "qctx.h"
#include "segment.h"
#include "trawl.h"
#include "view.h"

#define TW_MANIFEST "MANIFEST"
#define TW_CREATING "CREATING" /* marker of a new index before its first commit (indexdir.c) */

typedef struct tw_manifest_seg {
    char *name;    /* segment file name in the index directory */
    char *del;     /* deletion bitmap file name, or NULL */
    uint32_t docs; /* documents in the segment (live or not) */
} tw_manifest_seg;

typedef struct tw_manifest {
    uint64_t generation; /* 0 = no commit yet */
    char lang[TW_LANG_MAX];
    tw_schema *schema; /* field types (owned); NULL only before a writer sets it */
    size_t nsegs;
    tw_manifest_seg *segs;
} tw_manifest;

/* Reads dir/MANIFEST. A missing manifest gives an empty manifest (generation 0)
 * and returns TRAWL_ENOTFOUND. Other failures: TRAWL_ECORRUPT / EIO / ENOMEM with
 * a message in err. */
int tw_manifest_read(const char *dir, tw_manifest *m, char *err, size_t errcap);
/* Atomically replaces dir/MANIFEST with m: temp file, fsync, rename, fsync dir. */
int tw_manifest_write(const char *dir, const tw_manifest *m, char *err, size_t errcap);
/* Frees the segment list only (schema and lang stay). */
void tw_manifest_free_segs(tw_manifest *m);
void tw_manifest_free(tw_manifest *m);
int tw_manifest_add(tw_manifest *m, const char *name, const char *del, uint32_t docs);

/* For tests: background merges of every writer of this process wait ms
 * milliseconds between building their segments and publishing them (0: not
 * at all), so that a test can add, delete and commit while one is running. */
void tw_writer_test_merge_delay(unsigned ms);

/* Deletion bitmaps: a portable Roaring bitmap followed by its XXH3-64. */
int tw_deletes_read(const char *path, uint32_t ndocs, roaring_bitmap_t **out, char *err, size_t errcap);
int tw_deletes_write(const char *path, const roaring_bitmap_t *r, char *err, size_t errcap);

/* Writes a whole file durably (temp + fsync + rename); used for small files. */
int tw_write_file_durable(const char *dir, const char *name, const void *data, size_t len, char *err, size_t errcap);
/* fsyncs the directory dir. 0, or TRAWL_EIO with errno set. */
int tw_fsync_dir(const char *dir);
char *tw_path_join(const char *dir, const char *name);

/* Index directory ownership (indexdir.c). Is name one of the writer's own
 * exact file-name patterns (seg-G-N.tws, seg-G-N-G2.del, their .tmp, and
 * MANIFEST.tmp)? Only such names are ever removed. */
int tw_indexdir_is_ours(const char *name);
/* For a directory without MANIFEST: 0 when a writer may create an index there
 * (empty but for LOCK, or the leftover of an interrupted creation, which sets
 * *creating); TRAWL_EINVAL / ECORRUPT with a message when it holds anything
 * else (foreign files, or index files without the creation marker). */
int tw_indexdir_check_new(const char *dir, int *creating, char *err, size_t errcap);
/* Creates the marker durably / removes it (after the first commit). */
int tw_indexdir_mark_creating(const char *dir, char *err, size_t errcap);
void tw_indexdir_unmark_creating(const char *dir);

/* An open, immutable snapshot of one commit: the view the query layer
 * searches, plus what the engine keeps around it. */
struct trawl_index {
    char *dir;
    uint64_t generation;
    tw_view view;                  /* segments, deletions, global fields, kernels (trawl_open_options_set_simd) */
    char **seg_names, **del_names; /* per view segment: its file and deletion file (or NULL) names */
    uint32_t names_cap;            /* entries allocated in seg_names and del_names (NULL when unset) */
    /* Idle query contexts (a search takes one; they are costly to make). */
    pthread_mutex_t pool_lock;
    tw_qctx *pool[8];
    int npool;
};

/* A query context for the index's language, from the pool or new; NULL when
 * out of memory. Give it back with tw_index_qctx_release. Thread-safe. */
tw_qctx *tw_index_qctx_acquire(const struct trawl_index *idx);
void tw_index_qctx_release(const struct trawl_index *idx, tw_qctx *c);

/* The search options (opaque in the public API): the query layer's
 * parameters, which own their field-weight names. */
struct trawl_options {
    tw_params p;
    tw_gstats *stats; /* trawl_options_set_stats (p.gstats points to it), or NULL */
    char *filter;     /* trawl_options_set_filter (p.filter points to it), or NULL */
    char *sort_field; /* trawl_options_set_sort (p.sort_field points to it), or NULL */
};

/* An index over segments already open (e.g. with tw_segment_open_mem), with
 * no deletions and, instead of a manifest, the language lang and (unless docs
 * is NULL) docs[i] documents in segs[i], checked as trawl_index_open checks
 * the manifest's; name stands for the directory in messages; o as for
 * trawl_index_open_v2 (NULL: defaults). It takes the segments over (closing
 * them on failure too). Returns 0 and *out, or a trawl_rc with a message.
 * For tests and fuzzing. */
int tw_index_from_segments(tw_segment **segs, uint32_t n, const char *lang, const uint32_t *docs, const char *name,
                           const trawl_open_options *o, trawl_index **out, char *err, size_t errcap);
/* trawl_index_check's validation of every segment of an open index. Appends
 * one line per problem to *report (malloc'd, may stay NULL); returns 0 or the
 * first problem's trawl_rc. */
int tw_index_check_open(const trawl_index *idx, char **report);

/* ---- analytics (owned by analytics: engine/analytics.c, engine/similar.c) ---- */

/* What a search computed over its whole match set besides the hits. */
typedef struct tw_analytics_out {
    tw_facet_result *facets;
    size_t nfacets;
    tw_histogram hist; /* hist.n == 0 when none was asked for or nothing matched */
} tw_analytics_out;

/* Does p ask for facets or a histogram? */
int tw_analytics_wanted(const tw_params *p);
/* Computes p's facets and histogram over the match set ms of query (of the
 * view of idx; when ms is empty, the match set is built here with ctx) into
 * *out. Returns 0 or a trawl_rc with a message. */
int tw_analytics_run(const trawl_index *idx, const tw_params *p, tw_qctx *ctx, const char *query, const tw_matchset *ms,
                     tw_analytics_out *out, char *err, size_t errcap);
void tw_analytics_out_free(tw_analytics_out *o);
/* The analytics of a results object (search.c). */
const tw_analytics_out *tw_results_analytics(const trawl_results *r);
/* Per segment of idx's view, a new bitmap of the live documents query
 * matches under p (its default operator; every live document when query is
 * NULL or blank) in *out (free with tw_match_sets_free). Returns 0 or a
 * trawl_rc with a message. */
int tw_match_sets(const trawl_index *idx, const tw_params *p, tw_qctx *ctx, const char *query, roaring_bitmap_t ***out,
                  char *err, size_t errcap, long *erroff);
void tw_match_sets_free(roaring_bitmap_t **m, uint32_t n);
/* Frees the analytics part of search parameters (trawl_options_free). */
void tw_params_analytics_free(tw_params *p);

/* A document to leave out of a search's hits and total (trawl_similar), and
 * the page wanted once it is out. */
typedef struct tw_exclude {
    uint32_t seg, doc;
    size_t offset, limit;
} tw_exclude;

/* trawl_search with parameters instead of options, leaving out ex's document
 * when ex is not NULL (its offset/limit then replace p's). */
trawl_rc tw_search_params(const trawl_index *idx, const char *query, const tw_params *p, const tw_exclude *ex,
                          trawl_results **out);
/* A results object holding only the failure rc with message msg (NULL when
 * out of memory). */
trawl_results *tw_results_failed(int rc, const char *msg);
/* ---- end analytics ---- */

#endif
