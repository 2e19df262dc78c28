/*
 * matchset.h — the match set of one search: per segment of the view, the
 * Roaring bitmap of the live documents the query matches after every filter
 * (the query's own filter clauses and the separate filter parameter). It is
 * what facets, histograms and emerging terms are computed over (facets.h,
 * histogram.h, trends.h): the whole result set, not the top k.
 *
 * Who builds it: tw_query_run, when the parameters ask for it (want_matches
 * in params.h), hands it out in tw_hits.matches; tw_query_matchset builds it
 * alone (no ranking), also for no query at all (every live document that
 * passes the filter parameter). Built from bitmaps where the plan allows
 * (single term, conjunction of terms, filter only: SIMD intersections of the
 * posting lists with the filter bitmaps, deletions removed), else from the
 * executor's walk of the cursor tree. Either way its cardinality equals the
 * search's exact total.
 *
 * Contract for readers: segs[si] is never NULL (an empty bitmap when nothing
 * matches there), holds only doc ids < that segment's ndocs, never a deleted
 * document; segment numbers are those of the view (tw_view.segs). The set is
 * read-only once built and may be read from several threads.
 */
#ifndef TW_MATCHSET_H
#define TW_MATCHSET_H

#include <roaring/roaring.h>
#include <stddef.h>
#include <stdint.h>

#include "params.h"
#include "qctx.h"
#include "view.h"

typedef struct tw_matchset {
    uint32_t nsegs;          /* = the view's nsegs */
    roaring_bitmap_t **segs; /* per segment: the live matching documents (owned) */
    uint64_t total;          /* sum of the cardinalities: the search's total */
} tw_matchset;

/* Frees every bitmap and the array; *m is then empty (nsegs 0). NULL is fine. */
void tw_matchset_free(tw_matchset *m);

/* Builds the match set of query text[0..len) (parsed with p->use_or; NULL or
 * only separators with len 0: every live document) restricted by p->filter,
 * over v with the analyzer and scratch of ctx. Ignores limit, offset, sort,
 * snippets. Returns 0 and fills *out (release with tw_matchset_free); or a
 * trawl_rc with a message in err and, for an error tied to a place in the
 * query text, its byte offset in *erroff (else -1; the filter parameter's
 * errors are reported with offset -1 and the message names the filter).
 * *out is empty on failure. Thread-safe for distinct contexts. */
int tw_query_matchset(const tw_view *v, const tw_params *p, tw_qctx *ctx, const char *text, size_t len,
                      tw_matchset *out, char *err, size_t errcap, long *erroff);

#endif
