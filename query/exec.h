/*
 * exec.h — the one executor interface: run a plan's root on one segment,
 * count every live match into the total and offer the hits to the top-k heap.
 *
 * Executors, each in its own file, behind this interface:
 *   exec_and.c     a conjunction of terms (or a single term) on the bitmaps:
 *                  SIMD intersection, counting without materializing,
 *                  block-max pruning and batched scoring;
 *   exec_or.c      a disjunction of terms: exact count by bitmap union, top
 *                  hits by MaxScore over the cursors' max_score bounds;
 *   exec_phrase.c  a phrase: bitmap intersection, then the shared phrase
 *                  verification (tw_phrase_freq) for the candidates;
 *   exec.c         the cursor executor (any plan, through the cursor contract
 *                  of cursor.h) and the dispatch.
 * A specialized executor may decline a shape or a segment (TW_EXEC_DECLINE);
 * the cursor executor then runs it. Every executor adds the same numbers in
 * the same order as the cursor tree, so pruned results are identical to
 * exhaustive ones, ties included.
 */
#ifndef TW_EXEC_H
#define TW_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "plan.h"
#include "qctx.h"
#include "topk.h"

#define TW_EXEC_DECLINE 1     /* the shape or segment is not handled here: use the cursor executor */
#define TW_EXEC_MAX_TERMS 32u /* terms (or clauses) the bitmap executors take */

/* What an executor runs: plan node root on segment si of view v. */
typedef struct tw_exec {
    const tw_view *v;
    tw_qctx *ctx; /* scratch memory (one search at a time) */
    uint32_t si;
    const pnode *root;
    tw_topk *top;    /* hits are offered here (top->want == 0: count only) */
    uint64_t *total; /* live matches are added here */
    char *err;       /* message of a failure */
    size_t errcap;
    /* ---- filters (segfilter.h): NULL, or the plan's filter in this
     * segment; every executor ANDs it, checking its column predicates per
     * candidate or intersecting its full bitmap (built on first need) as
     * the cost rule says. match_all: the query is only a filter (root is
     * NULL): every allowed document matches, score 0. */
    struct tw_segfilter *filt;
    int match_all;
    /* NULL, or the term-proximity scorer of the root in this segment
     * (prox.h): every executor adds its bonus to the hits it offers, and its
     * bound to every score bound it prunes with. exhaustive: the cursor
     * executor computes the bonus of every match (no skipping). */
    struct tw_prox *prox;
    int exhaustive;
} tw_exec;

/* Every executor: returns 0 (matches added to *x->total, hits offered to
 * x->top), TW_EXEC_DECLINE (nothing added), or a negative trawl_rc with a
 * message in x->err. */
typedef int (*tw_exec_fn)(const tw_exec *x);

int tw_exec_and(const tw_exec *x);
int tw_exec_or(const tw_exec *x);
int tw_exec_phrase(const tw_exec *x);
/* The cursor executor: never declines. */
int tw_exec_cursor(const tw_exec *x);
/* A filter-only query (match_all): counts the allowed live documents and
 * offers them in index order, score 0. */
int tw_exec_all(const tw_exec *x);

/* Runs x on the executor fit for its shape (only the cursor executor when
 * exhaustive), falling back to the cursor executor when one declines. */
int tw_exec_segment(const tw_exec *x, int exhaustive);

/* Shared by the bitmap executors: how to AND the filter f (NULL: none) with
 * the intersection of lists[0..n) — by the cost rule of segfilter.h on the
 * intersection's size estimated as if the lists were independent (ndocs ×
 * the product of their densities, at most the smallest list). Sets *view to
 * the view to intersect with the lists (NULL: none) and *preds to 1 when
 * the intersection must then pass tw_exec_filter_keep. 0 or TRAWL_ENOMEM
 * (message in err). */
int tw_exec_filter_plan(struct tw_segfilter *f, const tw_rview *const *lists, size_t n, const tw_rview **view,
                        int *preds, char *err, size_t errcap);

/* Keeps of the intersection ids[0..n) those f's predicates allow, compacting
 * ranks[0..nr) alongside; returns how many remain. */
size_t tw_exec_filter_keep(const struct tw_segfilter *f, uint32_t *ids, uint32_t *const *ranks, size_t nr, size_t n);

/* Shared by the bitmap executors: the intersection of views[0..n) into the
 * context's buffer: the common ids in *ids[0..*nout), and their ranks in
 * views[i] in ranks[i][...]. Returns 0 or TRAWL_ENOMEM. */
int tw_exec_intersect(const tw_kernels *k, tw_qctx *ctx, const tw_rview *const *views, size_t n, uint32_t **ids,
                      uint32_t **ranks, size_t *nout);

#endif
