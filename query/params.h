/*
 * params.h — what a search asks for, as the query layer reads it: how many
 * hits from where, the default operator, what to produce for each hit, and
 * the BM25 parameters. The engine fills one from the public trawl_options.
 */
#ifndef TW_PARAMS_H
#define TW_PARAMS_H

#include <stddef.h>
#include <stdint.h>

struct tw_gstats;

typedef struct tw_field_weight {
    char *field;
    double weight;
} tw_field_weight;

/* ---- analytics (owned by analytics) ---- */
typedef struct tw_facet_req {
    char *field;
    size_t n; /* values wanted (keyword fields) */
} tw_facet_req;
/* ---- end analytics ---- */

typedef struct tw_params {
    size_t limit, offset;     /* hits offset..offset+limit of the ranking */
    int use_or;               /* juxtaposed clauses are SHOULD (else MUST) */
    int auto_op;              /* `auto`: the AND ranking first, then the rest of the OR one (query.c) */
    int explain;              /* produce a score explanation per hit */
    int snippets;             /* produce title and snippets per hit */
    int count_only;           /* only the total: no hits */
    int exhaustive;           /* cursor executor only (no pruning, no bitmap paths) */
    double k1, b;             /* BM25 */
    int bm25f;                /* terms score their fields as BM25F instead of a sum of BM25s (planner.c) */
    int prox;                 /* add the term-proximity bonus (prox.h) */
    double prox_weight;       /* its weight λ (> 0) */
    uint32_t prox_window;     /* its window W in positions (1..64) */
    tw_field_weight *weights; /* per-field weights for unqualified terms */
    size_t nweights;
    /* Collection-wide statistics replacing the view's in BM25 (NULL: the
     * view's); entries they lack take the view's values. */
    const struct tw_gstats *gstats;
    /* When set, planning records there every (field, term) document frequency
     * BM25 would use (the view's, over live documents; only those > 0) and
     * plans a phrase's every word even when one is missing. */
    struct tw_gstats *collect;

    /* ---- filters, sort and the match set (owned by filters; filter.h, matchset.h) ---- */
    /* A filter expression in the query language (any query text: its filter
     * clauses restrict, its terms must match; no scoring) ANDed with the
     * query; NULL or "" for none. Errors in it are reported with offset -1. */
    const char *filter;
    /* Sort by the values of a date/number/keyword field (ascending unless
     * sort_desc), then score, then index order; NULL: by relevance. */
    const char *sort_field;
    int sort_desc;
    /* Also build the match set (tw_hits.matches) for facets and histograms. */
    int want_matches;
    /* ---- end of filters' block ---- */
    /* ---- analytics (owned by analytics: facets.h, histogram.h) ---- */
    tw_facet_req *facets; /* facets to compute over the whole match set */
    size_t nfacets;
    char *hist_field; /* date histogram of this field, or NULL */
    int hist_unit;    /* tw_cal_unit */
    int32_t hist_tz;  /* offset from UTC, seconds */
    /* Parts to be summed (trawl_options_set_analytics_complete): every
     * keyword value with its count, and histogram buckets over the span of
     * all live documents with a date. */
    int analytics_complete;
    /* ---- end analytics ---- */
} tw_params;

/* Fills *p with the defaults: limit 10, offset 0, AND, snippets on, explain,
 * count_only and exhaustive off, k1 1.2, b 0.75, BM25F, proximity off (weight 0.15,
 * window 20), no field weights. */
void tw_params_default(tw_params *p);

/* Weight of field for unqualified terms: the parameter if set, else 2 for
 * "title" and 1 for every other field. */
double tw_params_weight(const tw_params *p, const char *field);

#endif
