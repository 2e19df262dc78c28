/*
 * facets.h — facets of a match set (the live documents a search matches, per
 * segment): for a keyword field the n most frequent values with their exact
 * counts, for a date or number field the smallest and largest value.
 *
 * Keyword counting (top n, exact), one of two methods:
 *   - pruned: values are counted one at a time (and-cardinality of the match
 *     set with the value's doc bitmap, SIMD kernels) in decreasing order of
 *     their document count in the segment (an upper bound of their count in
 *     the match set; the order is computed once per segment and field and
 *     cached, index/colcache.h). Over several segments it is Fagin's
 *     threshold algorithm: every value is counted in every segment having it,
 *     and the sum over segments of the next uncounted value's document count
 *     bounds every value not counted yet; counting stops once that bound is
 *     below the n-th best count (equal bounds go on, so ties in count are
 *     resolved by value bytes exactly as a full count would). The number of
 *     matches with a value is the and-cardinality with the cached set of
 *     documents having one.
 *   - ordinals: a walk of the matching documents adding one to a flat count
 *     per value ordinal, then a merge of the values by bytes across segments.
 * Cost rule, in document visits: ordinals cost the matches times (1 + values
 * per document); pruning costs, per value counted and segment, 8 + min(the
 * value's document count / 4, 32 per 65,536-document container spanned by
 * the match set). The ordinals run at once when they cost no more than 8n per
 * segment with matches; otherwise pruning runs with the ordinals' cost as its
 * budget and hands over to the ordinals when it runs past it (at most about
 * twice the cheaper method's cost). Either way the result is the same: ties
 * in count are ordered by value bytes.
 */
#ifndef TW_FACETS_H
#define TW_FACETS_H

#include <roaring/roaring.h>
#include <stddef.h>
#include <stdint.h>

#include "view.h"

typedef struct tw_facet_value {
    char *value; /* NUL-terminated copy (values hold no NUL byte) */
    size_t len;
    uint64_t count;
} tw_facet_value;

typedef struct tw_facet_result {
    char *field;
    const char *type; /* "keyword", "date" or "number" (static) */
    uint64_t docs;    /* matching documents with a value */
    tw_facet_value *values;
    size_t nvalues;
    char *min, *max; /* date/number: the extreme values as text; NULL when docs == 0 */
} tw_facet_result;

/* Computes the facet of field over the match set match[0..v->nsegs) (live
 * documents only) with at most n values into *out (free with
 * tw_facet_result_free). The field's type is the first segment's that has it
 * as keyword, date or number. Returns 0; TRAWL_EINVAL (message in err) when
 * no segment has such a field by that name; TRAWL_ENOMEM; TRAWL_ECORRUPT. */
int tw_facet_compute(const tw_view *v, const roaring_bitmap_t *const *match, const char *field, size_t n,
                     tw_facet_result *out, char *err, size_t errcap);
void tw_facet_result_free(tw_facet_result *r);

/* Keyword counting methods: the cost rule, or one forced (for tests). */
enum { TW_FACET_AUTO = 0, TW_FACET_ORDINALS = 1, TW_FACET_PRUNED = 2 };
/* tw_facet_compute with the keyword counting method chosen (the results are
 * the same whatever the method). */
int tw_facet_compute_method(const tw_view *v, const roaring_bitmap_t *const *match, const char *field, size_t n,
                            int method, tw_facet_result *out, char *err, size_t errcap);

/* Since the process started, how many keyword facets were counted by the
 * ordinals at once (out[0]), by pruning (out[1]), by pruning handing over to
 * the ordinals past its budget (out[2]). For tests. */
void tw_facet_method_counts(uint64_t out[3]);

/* The types (TW_FT_* bits) the segments' schemas give field: a field can be
 * declared and yet have no value in any segment. */
unsigned tw_view_schema_types(const tw_view *v, const char *field);

/* Writes a date (epoch seconds) as "YYYY-MM-DDThh:mm:ssZ" into buf (cap >=
 * 32; tw_date_format of index/datetime.h). */
void tw_facet_date_text(int64_t t, char *buf, size_t cap);

#endif
