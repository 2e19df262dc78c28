/*
 * plan.h — the query plan: a parsed query with every word analyzed, every
 * field resolved, every term looked up in every segment and its global BM25
 * statistics computed. Built once per search (planner.c); executed per
 * segment by an executor (exec.h): the bitmap executors, or the cursor tree
 * of tw_plan_cursor.
 */
#ifndef TW_PLAN_H
#define TW_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"
#include <roaring/roaring.h>

#include "ast.h"
#include "cursor.h"
#include "params.h"
#include "view.h"

#define TW_MAX_PREFIX_TERMS 1024u     /* expansions of one prefix */
#define TW_MAX_QUERY_EXPANSIONS 4096u /* expansions of all the prefixes of one query together */
#define TW_MAX_PHRASE_TERMS 64u

/* One analyzed term of a spec, resolved in every segment. */
typedef struct pterm_ref {
    char *text;
    size_t len;
    uint32_t offset;    /* position within a phrase */
    tw_term_ref *refs;  /* per segment: whole record (term spec) or narrowed (phrase); owns the one block holding
                           refs, posts, found and text */
    uint8_t *found;     /* per segment */
    tw_postings *posts; /* term spec: per segment where found, the open record (owned) */
} pterm_ref;

/* A field a spec scores, with its global statistics. */
typedef struct sfield {
    uint32_t gfield;
    uint64_t df; /* term spec: docs with the term in this field, over segments */
    tw_bm25 bm;
    char *label; /* "field:term" for explanations; NULL when the parameters ask for none */
} sfield;

/* A term scored in one or more fields, or a phrase in one field. */
typedef struct spec {
    int phrase;
    int qualified; /* a term spec limited to its single field */
    size_t nterms;
    pterm_ref *terms;
    size_t nfields;
    sfield *fields;
    uint32_t *fdf; /* term spec: per segment × field, the field's df there */
    uint32_t fdf_stride;
} spec;

enum { P_LEAF, P_BOOL, P_EMPTY, P_FILTER };

typedef struct pnode {
    int kind;
    /* P_FILTER: the prepared filter (owned), and, once evaluated for the
     * cursors (a filter left in the tree), per segment the documents it
     * allows (owned; NULL before). */
    struct tw_fprep *fprep;
    roaring_bitmap_t **fbm;
    spec *specs; /* P_LEAF: OR of these */
    size_t nspecs;
    struct pnode **kids; /* P_BOOL */
    tw_occur *occ;
    size_t n;
} pnode;

typedef struct highlight {
    char **terms;
    size_t nterms;
    char **prefixes;
    size_t nprefixes;
} highlight;

typedef struct tw_plan {
    pnode *root; /* NULL when the query analyzes to nothing: no match (unless match_all) */
    uint32_t nsegs;
    highlight hl;
    /* ---- filters (filter.h) ---- */
    /* The query alone matches every document (it was only filters, now in
     * filt, or empty); root is then NULL. */
    int match_all;
    /* NULL, or per segment the filter of the root-level filter clauses and
     * the filter parameter (deletions not removed), a bitmap part and column
     * predicates (segfilter.h): every executor ANDs it. Mutable through a
     * const plan (its full bitmaps are built on demand). */
    struct tw_segfilter *filt;
} tw_plan;

/* Builds the match set of a plan over v (matchset.h): every live document
 * that its root (or match_all) and its filter accept, with the scratch of
 * ctx (NULL: no bitmap fast path). Returns 0 and fills
 * *out (release with tw_matchset_free), or a trawl_rc with a message. */
struct tw_matchset;
struct tw_qctx;
int tw_matchset_build(const tw_view *v, const tw_plan *plan, struct tw_qctx *ctx, struct tw_matchset *out, char *err,
                      size_t errcap);

/* Plans the parsed query q (NULL: every document) against v with parameters prm. Returns 0 and *out (free with
 * tw_plan_free), or a trawl_rc with a message in err and, for errors tied to
 * a place in the query, its byte offset in *erroff (else -1). */
int tw_plan_build(const tw_view *v, const tw_params *prm, tw_analyzer *an, const tw_node *q, tw_plan **out, char *err,
                  size_t errcap, long *erroff);
void tw_plan_free(tw_plan *p);

/* The cursor tree of the plan node n for segment si. On failure returns NULL
 * and sets *rc (message in err). A failure met while walking it is the
 * tree's tw_cursor_status. */
tw_cursor *tw_plan_cursor(const tw_view *v, uint32_t si, const pnode *n, int *rc, char *err, size_t errcap);

/* The cursor of the whole plan for segment si: its root ANDed with its
 * filter (or the filter alone, or every document, for match_all). Same
 * failure contract as tw_plan_cursor. */
tw_cursor *tw_plan_seg_cursor(const tw_view *v, const tw_plan *plan, uint32_t si, int *rc, char *err, size_t errcap);

/* The posting list of a term spec in segment si (iterating only its field
 * when qualified), borrowed from the plan: *post is a copy that must not be
 * closed and must not outlive the plan. Fills the per-field scoring of the
 * fields the term has there. Returns 1, or 0 when the term is absent in the
 * segment. */
int tw_plan_open_term(const tw_view *v, uint32_t si, const spec *s, tw_postings *post, tw_fscore *fs, size_t *nfs,
                      char *err, size_t errcap);

#endif
