/*
 * histogram.c — date histograms and date-range document sets over the date
 * columns of the segments (histogram.h, index/typed.h).
 */
#include "histogram.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "schema.h"
#include "typed.h"

#define CHUNK 1024u

/* The date column `field` of segment s, or NULL. */
static const tw_colfield *date_col(const tw_segment *s, const char *field) {
    const tw_colfield *c = tw_segment_column(s, field);
    return c && c->type == TW_FT_DATE ? c : NULL;
}

/* Does any segment of v have a date field by that name? */
static int has_date_field(const tw_view *v, const char *field) {
    for (uint32_t s = 0; s < v->nsegs; s++)
        if (date_col(v->segs[s].seg, field)) return 1;
    return 0;
}

static int64_t key_time(uint64_t k) {
    return (int64_t)(k ^ (1ULL << 63));
}

/* Remembers the bucket of the last instant so that runs of documents in the
 * same bucket cost one comparison each. */
typedef struct bucketer {
    tw_cal_unit u;
    int32_t tz;
    int64_t lo, hi, b; /* [lo, hi): the instants of bucket b */
} bucketer;

static int64_t bucket_of(bucketer *k, int64_t t) {
    if (t >= k->lo && t < k->hi) return k->b;
    k->b = tw_cal_bucket(t, k->u, k->tz);
    k->lo = tw_cal_bucket_start(k->b, k->u, k->tz);
    k->hi = tw_cal_bucket_start(k->b + 1, k->u, k->tz);
    return k->b;
}

/* Calls fn(ctx, doc) for every doc of bm, in order. */
#define EACH_DOC(bm, d, body)                                                                                          \
    do {                                                                                                               \
        roaring_uint32_iterator_t *it_ = roaring_create_iterator(bm);                                                  \
        if (!it_) return TRAWL_ENOMEM;                                                                                 \
        uint32_t buf_[CHUNK], n_;                                                                                      \
        while ((n_ = roaring_read_uint32_iterator(it_, buf_, CHUNK)) > 0) {                                            \
            for (uint32_t i_ = 0; i_ < n_; i_++) {                                                                     \
                uint32_t d = buf_[i_];                                                                                 \
                body                                                                                                   \
            }                                                                                                          \
        }                                                                                                              \
        roaring_free_uint32_iterator(it_);                                                                             \
    } while (0)

/* First and last bucket of the subset's documents with a date (or of all live
 * documents when sub is NULL); *any = 0 when there is none. */
static int bucket_range(const tw_view *v, const roaring_bitmap_t *const *sub, const char *field, bucketer *k,
                        int64_t *first, int64_t *last, int *any) {
    *any = 0;
    int64_t tmin = INT64_MAX, tmax = INT64_MIN;
    for (uint32_t s = 0; s < v->nsegs; s++) {
        const tw_colfield *c = date_col(v->segs[s].seg, field);
        if (!c || !c->npresent) continue;
        if (!sub) {
            /* Every live document: the column's extremes may belong to deleted
             * documents, so scan unless nothing is deleted. */
            if (!v->segs[s].deleted) {
                if (key_time(c->min) < tmin) tmin = key_time(c->min);
                if (key_time(c->max) > tmax) tmax = key_time(c->max);
                continue;
            }
            for (uint32_t d = 0; d < c->ndocs; d++) {
                if (roaring_bitmap_contains(v->segs[s].deleted, d) || !tw_col_has(c, d)) continue;
                int64_t t = key_time(tw_col_key(c, d));
                if (t < tmin) tmin = t;
                if (t > tmax) tmax = t;
            }
            continue;
        }
        EACH_DOC(sub[s], d, {
            if (!tw_col_has(c, d)) continue;
            int64_t t = key_time(tw_col_key(c, d));
            if (t < tmin) tmin = t;
            if (t > tmax) tmax = t;
        });
    }
    if (tmin > tmax) return 0;
    *any = 1;
    *first = bucket_of(k, tmin);
    *last = bucket_of(k, tmax);
    return 0;
}

int tw_histogram_compute(const tw_view *v, const roaring_bitmap_t *const *sub, const char *field, tw_cal_unit u,
                         int32_t tz, int range_all, tw_histogram *out, char *err, size_t errcap) {
    memset(out, 0, sizeof *out);
    out->unit = u;
    out->tz = tz;
    if (!has_date_field(v, field)) return tw_err(err, errcap, TRAWL_EINVAL, "no date field named '%s'", field);
    bucketer k = {u, tz, 1, 0, 0};
    int64_t first, last;
    int any, rc = bucket_range(v, range_all ? NULL : sub, field, &k, &first, &last, &any);
    if (rc) return tw_err(err, errcap, rc, "out of memory");
    if (!any) return 0;
    if ((uint64_t)(last - first) >= TW_HIST_MAX_BUCKETS)
        return tw_err(err, errcap, TRAWL_ELIMIT, "the histogram would have more than %u %s buckets: use a coarser unit",
                      TW_HIST_MAX_BUCKETS, tw_cal_unit_name(u));
    size_t n = (size_t)(last - first) + 1;
    tw_hist_bucket *b = calloc(n, sizeof *b);
    if (!b) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        b[i].start = tw_cal_bucket_start(first + (int64_t)i, u, tz);
        tw_cal_bucket_label(first + (int64_t)i, u, b[i].label, sizeof b[i].label);
    }
    for (uint32_t s = 0; s < v->nsegs; s++) {
        const tw_colfield *c = date_col(v->segs[s].seg, field);
        if (!c || !c->npresent) continue;
        const roaring_bitmap_t *del = v->segs[s].deleted;
        for (uint32_t d = 0; d < c->ndocs; d++) {
            if ((!c->all && !tw_col_has(c, d)) || (del && roaring_bitmap_contains(del, d))) continue;
            int64_t x = bucket_of(&k, key_time(tw_col_key(c, d)));
            if (x >= first && x <= last) b[x - first].docs++;
        }
        int oom = 0;
        do {
            roaring_uint32_iterator_t *it = roaring_create_iterator(sub[s]);
            if (!it) {
                oom = 1;
                break;
            }
            uint32_t buf[CHUNK], m;
            while ((m = roaring_read_uint32_iterator(it, buf, CHUNK)) > 0)
                for (uint32_t i = 0; i < m; i++) {
                    if (!c->all && !tw_col_has(c, buf[i])) continue;
                    int64_t x = bucket_of(&k, key_time(tw_col_key(c, buf[i])));
                    if (x >= first && x <= last) b[x - first].matches++;
                }
            roaring_free_uint32_iterator(it);
        } while (0);
        if (oom) {
            free(b);
            return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        }
    }
    out->n = n;
    out->b = b;
    return 0;
}

void tw_histogram_free(tw_histogram *h) {
    free(h->b);
    memset(h, 0, sizeof *h);
}

int tw_date_range_docs(const tw_view *v, const char *field, int64_t from, int64_t to, roaring_bitmap_t **out, char *err,
                       size_t errcap) {
    for (uint32_t s = 0; s < v->nsegs; s++) out[s] = NULL;
    if (!has_date_field(v, field)) return tw_err(err, errcap, TRAWL_EINVAL, "no date field named '%s'", field);
    for (uint32_t s = 0; s < v->nsegs; s++) {
        if (!(out[s] = roaring_bitmap_create())) {
            for (uint32_t k = 0; k < s; k++) roaring_bitmap_free(out[k]), out[k] = NULL;
            return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        }
        const tw_colfield *c = date_col(v->segs[s].seg, field);
        if (!c || !c->npresent || from >= to) continue;
        const roaring_bitmap_t *del = v->segs[s].deleted;
        for (uint32_t blk = 0; (uint64_t)blk * TW_COL_BLOCK < c->ndocs; blk++) {
            uint64_t lo, hi;
            tw_col_block_bounds(c, blk, &lo, &hi);
            if (key_time(hi) < from || key_time(lo) >= to) continue; /* the whole block is outside */
            uint32_t end = (blk + 1) * TW_COL_BLOCK < c->ndocs ? (blk + 1) * TW_COL_BLOCK : c->ndocs;
            for (uint32_t d = blk * TW_COL_BLOCK; d < end; d++) {
                if (!c->all && !tw_col_has(c, d)) continue;
                int64_t t = key_time(tw_col_key(c, d));
                if (t >= from && t < to && !(del && roaring_bitmap_contains(del, d))) roaring_bitmap_add(out[s], d);
            }
        }
    }
    return 0;
}
