/*
 * facets.h — facets of a match set (the live documents a search matches, per
 * segment): for a keyword field the n most frequent values with their exact
 * counts, for a date or number field the smallest and largest value.
 *
 * Keyword counting, per segment, picks the cheaper of two exact methods:
 *   - bitmaps: the and-cardinality (SIMD kernels) of the match set with each
 *     value's doc bitmap — cost about nvalues × (containers of the match set);
 *   - ordinals: a walk of the matching documents, adding one to the count of
 *     each of their value ordinals — cost about matches × values per document.
 * The bitmaps are used when nvalues × (1 + containers) < matches × (1 +
 * pairs / documents), else the ordinals. Counts are merged across segments by
 * value bytes; ties in count are ordered by value bytes.
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

/* Writes a date (epoch seconds) as "YYYY-MM-DDThh:mm:ssZ" into buf (cap >=
 * 32; tw_date_format of index/datetime.h). */
void tw_facet_date_text(int64_t t, char *buf, size_t cap);

#endif
