/*
 * prox.h — the term-proximity bonus (ranking option "-prox"): for a query
 * whose root joins two or more distinct single-word terms, pairs of those
 * terms occurring close together in a field of a document add a saturated
 * bonus to its BM25 or BM25F score (formula in prox.c and the README).
 *
 * The bonus is bounded twice, so the pruning executors stay exact: a
 * constant per segment (tw_prox_bound: what any document can gain, added to
 * every score bound they compare with the heap's threshold), and per
 * document from the terms' frequencies alone (inside tw_prox_score: when even
 * that cannot lift the document over the threshold, no position is read).
 */
#ifndef TW_PROX_H
#define TW_PROX_H

#include <stddef.h>
#include <stdint.h>

#include "params.h"
#include "plan.h"

#define TW_PROX_MAX_TERMS 8u   /* the first distinct terms of the root that take part */
#define TW_PROX_MAX_WINDOW 64u /* largest window (positions) */

typedef struct tw_prox tw_prox;

/* The proximity scorer of plan node root in segment si of v for the
 * parameters p. Sets *out to NULL when p->prox is off or fewer than two of
 * the root's distinct term clauses (MUST or SHOULD, one word each) occur in
 * the segment. Returns 0, or TRAWL_ENOMEM (message in err). */
int tw_prox_open(const tw_view *v, uint32_t si, const pnode *root, const tw_params *p, tw_prox **out, char *err,
                 size_t errcap);

/* Upper bound of the bonus at any document of the segment (margin for
 * rounding included). */
double tw_prox_bound(const tw_prox *x);

/* The bit of term spec s among the scorer's terms (0: it takes no part), and
 * the bound of the bonus at a document whose present terms are among the
 * bits of mask (0 with fewer than two; margin included). A document holding
 * a single query term gains nothing. */
uint32_t tw_prox_bit(const tw_prox *x, const spec *s);
double tw_prox_bound_mask(const tw_prox *x, uint32_t mask);

/* The score base + bonus at doc (docs in increasing order for one scorer).
 * Returns 0 with *score set; 1 when base plus the document's bound from its
 * frequencies cannot exceed theta (nothing read, *score untouched; theta < 0
 * never skips); TRAWL_ECORRUPT for a malformed position stream, TRAWL_ENOMEM. */
int tw_prox_score(tw_prox *x, uint32_t doc, double base, double theta, double *score);

/* Appends the lines of the bonus at doc to out (nothing when it is 0). */
void tw_prox_explain(tw_prox *x, uint32_t doc, tw_buf *out);

void tw_prox_free(tw_prox *x);

#endif
