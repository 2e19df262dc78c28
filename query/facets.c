/*
 * facets.c — facets of a match set (facets.h). Until the typed-field storage
 * (index/typed.h) is in the tree no field is keyword, date or number, so
 * every facet is refused with that reason.
 */
#include "facets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "error.h"

void tw_facet_date_text(int64_t t, char *buf, size_t cap) {
    int64_t days = t / 86400, sec = t % 86400, y;
    if (sec < 0) sec += 86400, days--;
    unsigned m, d;
    tw_cal_civil_from_days(days, &y, &m, &d);
    snprintf(buf, cap, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d, (int)(sec / 3600), (int)(sec / 60 % 60),
             (int)(sec % 60));
}

int tw_facet_compute(const tw_view *v, const roaring_bitmap_t *const *match, const char *field, size_t n,
                     tw_facet_result *out, char *err, size_t errcap) {
    (void)v;
    (void)match;
    (void)n;
    memset(out, 0, sizeof *out);
    return tw_err(err, errcap, TRAWL_EINVAL, "no keyword, date or number field named '%s'", field);
}

void tw_facet_result_free(tw_facet_result *r) {
    free(r->field);
    for (size_t i = 0; i < r->nvalues; i++) free(r->values[i].value);
    free(r->values);
    free(r->min);
    free(r->max);
    memset(r, 0, sizeof *r);
}
