/*
 * histogram.h — date histograms: per calendar bucket (calendar.h) of a date
 * field, the documents of a subset (a search's match set, or the documents of
 * a term) and all live documents whose date falls in the bucket. Buckets run
 * from the first to the last bucket holding a document of the subset, empty
 * ones included.
 *
 * Cost: per segment, date field, unit and offset from UTC, every document's
 * bucket is computed once (one pass over the column through a day → bucket
 * table) and cached with the number of documents per bucket (index/colcache.h;
 * 2 bytes per document, 4 when the column spans 65,535 buckets or more, plus 8
 * per bucket). A histogram then costs one pass over the subset (count[bucket
 * of doc]++) plus one pass over the deleted documents (subtracted from the
 * cached all-documents counts). A column spanning more buckets than both
 * 65,534 and its document count is not cached: each date is bucketed directly.
 */
#ifndef TW_HISTOGRAM_H
#define TW_HISTOGRAM_H

#include <roaring/roaring.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "view.h"

/* Most buckets a histogram may have (TRAWL_ELIMIT beyond: use a coarser unit). */
#define TW_HIST_MAX_BUCKETS 1000000u

typedef struct tw_hist_bucket {
    int64_t start;    /* first instant (UTC seconds) */
    uint64_t matches; /* documents of the subset */
    uint64_t docs;    /* all live documents */
    char label[24];   /* tw_cal_bucket_label */
} tw_hist_bucket;

typedef struct tw_histogram {
    tw_cal_unit unit;
    int32_t tz;
    size_t n;
    tw_hist_bucket *b;
} tw_histogram;

/* Computes the histogram of date field `field` over v for the subset
 * sub[0..v->nsegs) (live documents) into *out (free with tw_histogram_free).
 * The buckets run from the first to the last bucket of the subset's
 * documents, or with range_all of all live documents with a date. Returns 0;
 * TRAWL_EINVAL (message) when no segment has a date field by that name;
 * TRAWL_ELIMIT beyond TW_HIST_MAX_BUCKETS; TRAWL_ENOMEM. */
int tw_histogram_compute(const tw_view *v, const roaring_bitmap_t *const *sub, const char *field, tw_cal_unit u,
                         int32_t tz, int range_all, tw_histogram *out, char *err, size_t errcap);
void tw_histogram_free(tw_histogram *h);

/* Per segment of v, the live documents whose date in field lies in
 * [from, to) (INT64_MIN / INT64_MAX for open ends), as new bitmaps in
 * out[0..v->nsegs) (free each with roaring_bitmap_free). Returns 0,
 * TRAWL_EINVAL when no segment has a date field by that name, TRAWL_ENOMEM. */
int tw_date_range_docs(const tw_view *v, const char *field, int64_t from, int64_t to, roaring_bitmap_t **out, char *err,
                       size_t errcap);

#endif
