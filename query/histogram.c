/*
 * histogram.c — date histograms (histogram.h). Until the typed-field storage
 * (index/typed.h) is in the tree no field is a date field, so every
 * histogram is refused with that reason.
 */
#include "histogram.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

int tw_histogram_compute(const tw_view *v, const roaring_bitmap_t *const *sub, const char *field, tw_cal_unit u,
                         int32_t tz, tw_histogram *out, char *err, size_t errcap) {
    (void)v;
    (void)sub;
    memset(out, 0, sizeof *out);
    out->unit = u;
    out->tz = tz;
    return tw_err(err, errcap, TRAWL_EINVAL, "no date field named '%s'", field);
}

void tw_histogram_free(tw_histogram *h) {
    free(h->b);
    memset(h, 0, sizeof *h);
}

int tw_date_range_docs(const tw_view *v, const char *field, int64_t from, int64_t to, roaring_bitmap_t **out, char *err,
                       size_t errcap) {
    (void)v;
    (void)from;
    (void)to;
    (void)out;
    return tw_err(err, errcap, TRAWL_EINVAL, "no date field named '%s'", field);
}
