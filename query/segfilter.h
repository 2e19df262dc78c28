/*
 * segfilter.h — the filter of a plan in one segment (what the root-level
 * filter clauses and the filter parameter allow), kept in two parts so that
 * a selective query pays for a date/number range per candidate instead of a
 * scan of the whole column:
 *   - a bitmap part (keyword filters, negated keyword filters, and whatever
 *     the filter parameter holds besides filters), NULL when it is every
 *     document;
 *   - a conjunction of column range predicates (filter.h tw_colpred,
 *     negated or not), checked per document in O(1).
 * A document passes when it is in the bitmap part and every predicate allows
 * it. Consumers either check the predicates on their candidates
 * (tw_segfilter_keep, tw_segfilter_cursor) or ask for the whole set as a
 * bitmap (tw_segfilter_full), built on first need by scanning the columns
 * and kept for the plan's later consumers.
 *
 * The cost rule (tw_segfilter_prefer_preds): check predicates when the
 * consumer's candidates are at most ndocs / TW_SEGFILTER_PRED_RATIO (a
 * predicate check costs about what scanning one document of the column
 * costs, and the scan also builds and intersects a bitmap), unless the full
 * bitmap is already built. Not thread-safe: one plan, one search.
 */
#ifndef TW_SEGFILTER_H
#define TW_SEGFILTER_H

#include <roaring/roaring.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"
#include "filter.h"
#include "rview.h"

#define TW_SEGFILTER_PRED_RATIO 4u

typedef struct tw_segfilter {
    uint32_t ndocs;       /* the segment's documents */
    roaring_bitmap_t *bm; /* the bitmap part (owned), NULL = every document */
    tw_colpred *pred;     /* the predicates (owned array; columns borrowed) */
    size_t npred, cap;
    /* Built on demand: */
    roaring_bitmap_t *full; /* bm ∩ predicates (owned; bm itself when there is no predicate) */
    uint8_t *full_bytes, *bm_bytes;
    tw_rview full_view, bm_view;
    int has_full_view, has_bm_view;
} tw_segfilter;

/* ANDs b (or, negate, ANDs NOT b) into the bitmap part. 0 or TRAWL_ENOMEM. */
int tw_segfilter_and(tw_segfilter *f, const roaring_bitmap_t *b, int negate);
/* Adds predicate p (negate flips it). 0 or TRAWL_ENOMEM. */
int tw_segfilter_add_pred(tw_segfilter *f, const tw_colpred *p, int negate);

/* The whole set as a bitmap (deleted documents included), built on first
 * call: NULL when out of memory. */
const roaring_bitmap_t *tw_segfilter_full(tw_segfilter *f);
/* The same as a view for the SIMD kernels: NULL when out of memory. */
const tw_rview *tw_segfilter_full_view(tw_segfilter *f);
/* The bitmap part as a view: 0 and *out (NULL when the part is every
 * document), or TRAWL_ENOMEM. */
int tw_segfilter_bm_view(tw_segfilter *f, const tw_rview **out);

/* The cost rule (see above): 1 when a consumer with at most `candidates`
 * documents to check should check predicates rather than intersect the
 * full bitmap. */
int tw_segfilter_prefer_preds(const tw_segfilter *f, uint64_t candidates);

/* For tests and measurements: TW_SEGFILTER_RULE (the default) lets the cost
 * rule decide; TW_SEGFILTER_PREDS always checks predicates (where a consumer
 * can), TW_SEGFILTER_BITMAP always builds the full bitmap. Process-wide; set
 * it only while no search runs. */
enum { TW_SEGFILTER_RULE = 0, TW_SEGFILTER_PREDS = 1, TW_SEGFILTER_BITMAP = 2 };
void tw_segfilter_set_mode(int mode);

/* Keeps of docs[0..n) (ascending) those the predicates allow (the bitmap
 * part is NOT checked: the caller intersected it), in place; returns how many. */
size_t tw_segfilter_keep(const tw_segfilter *f, uint32_t *docs, size_t n);

/* inner ANDed with the filter: the predicates checked per document when the
 * cost rule prefers it for inner's cost, else the full bitmap. Takes inner;
 * NULL when out of memory (inner freed). */
tw_cursor *tw_segfilter_cursor(tw_segfilter *f, tw_cursor *inner);

/* Frees what f owns; *f is then zeroed. */
void tw_segfilter_clear(tw_segfilter *f);

#endif
