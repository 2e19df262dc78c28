/*
 * trends.h — emerging terms: for a foreground set of documents (a time
 * window, within a query's matches) and a background set, every term of the
 * index (any text field) in at least min_docs foreground documents, with its
 * document counts in both sets and its JLH and chi-square scores (signif.h).
 *
 * How: with a single segment, its dictionary is walked once: a term whose
 * dictionary df is below min_docs is skipped unread, the others' doc lists
 * are and-counted (SIMD kernels) with the foreground set, and those reaching
 * min_docs with the background sets. With several segments, a first walk
 * counts the foreground and merges the terms across segments by their bytes
 * in a hash table; a second walk counts the background (and the foreground
 * within the background) of the terms that reached min_docs only.
 */
#ifndef TW_TRENDS_H
#define TW_TRENDS_H

#include <stddef.h>
#include <stdint.h>

#include "docset.h"
#include "view.h"

typedef struct tw_trend_term {
    char *term; /* NUL-terminated, owned by the result */
    uint64_t fg_df, bg_df;
    uint64_t rest_df; /* background documents outside the foreground with the term */
    double jlh, chi2;
} tw_trend_term;

typedef struct tw_trend_sets {
    /* Per view segment (v->nsegs entries each): live foreground documents,
     * live background documents, and their intersection — or fgbg NULL
     * when the foreground lies inside the background. */
    const tw_docset *fg, *bg, *fgbg;
} tw_trend_sets;

/* Computes every term with fg_df >= min_docs (>= 1) and a positive JLH or
 * chi-square (the others are never listed) into *out (*n of them,
 * unordered; free with tw_trend_terms_free), with fg_size / bg_size the
 * totals of the sets. Returns 0, TRAWL_ENOMEM or TRAWL_ECORRUPT (message in err). */
int tw_trend_terms(const tw_view *v, const tw_trend_sets *sets, uint64_t min_docs, tw_trend_term **out, size_t *n,
                   uint64_t *fg_size, uint64_t *bg_size, char *err, size_t errcap);

/* Sorts by the chosen score (chi2 != 0: chi-square, else JLH) descending,
 * then fg_df descending, then term bytes. */
void tw_trend_terms_sort(tw_trend_term *t, size_t n, int chi2);

/* Moves the k best terms with a positive chosen score to t[0..*nsel), in the
 * order of tw_trend_terms_sort (a heap of k over one pass: no full sort);
 * the others follow in no order. Returns 0 or TRAWL_ENOMEM. */
int tw_trend_terms_select(tw_trend_term *t, size_t n, int chi2, size_t k, size_t *nsel);

void tw_trend_terms_free(tw_trend_term *t, size_t n);

#endif
