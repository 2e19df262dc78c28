/*
 * histogram.c — date histograms and date-range document sets over the date
 * columns of the segments (histogram.h, index/typed.h).
 */
#include "histogram.h"

#include <stdlib.h>
#include <string.h>

#include "colcache.h"
#include "error.h"
#include "facets.h"
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

/* ---- the per-segment bucket cache ---- */

/* Cached per (segment, date field, unit, offset): every document's bucket as
 * an ordinal (bucket number - base; nb for a document without a date), and
 * per ordinal the number of documents (deleted ones included). One block:
 * the struct, count[nb + 1], then ord[ndocs] (u16 when nb < 65535, else u32). */
typedef struct hcache {
    int64_t base; /* bucket number of ordinal 0 */
    uint32_t nb;  /* buckets; ordinal nb = no date */
    int wide;     /* ord is uint32_t (else uint16_t) */
    uint64_t *count;
    void *ord;
} hcache;

/* Largest day span turned into a day → ordinal table while building. */
#define MAX_DAY_TABLE (1u << 22)

typedef struct hbuild {
    const tw_colfield *c;
    tw_cal_unit u;
    int32_t tz;
} hbuild;

/* Is the cache worth it for column c (buckets between its extremes)? The
 * count array has one entry per bucket: allowed up to 65535 buckets, or up to
 * one per document. */
static int cacheable(const tw_colfield *c, tw_cal_unit u, int32_t tz, int64_t *bmin, uint64_t *nb) {
    *bmin = tw_cal_bucket(key_time(c->min), u, tz);
    int64_t bmax = tw_cal_bucket(key_time(c->max), u, tz);
    *nb = (uint64_t)(bmax - *bmin) + 1;
    return *nb < 65535u || *nb <= c->ndocs;
}

static void hcache_free(void *p) {
    free(p);
}

/* tw_ccache_build_fn: one pass over the column. */
static int hcache_build(void *ctx, void **data, size_t *bytes, char *err, size_t errcap) {
    const hbuild *hb = ctx;
    const tw_colfield *c = hb->c;
    int64_t base;
    uint64_t nb64;
    cacheable(c, hb->u, hb->tz, &base, &nb64);
    uint32_t nb = (uint32_t)nb64;
    int wide = nb >= 65535u;
    size_t head = (sizeof(hcache) + 7) & ~(size_t)7;
    size_t size = head + 8 * ((size_t)nb + 1) + (size_t)c->ndocs * (wide ? 4 : 2);
    hcache *h = malloc(size);
    if (!h) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    h->base = base;
    h->nb = nb;
    h->wide = wide;
    h->count = (uint64_t *)(void *)((char *)h + head);
    h->ord = h->count + nb + 1;
    memset(h->count, 0, 8 * ((size_t)nb + 1));
    /* Local days of the extremes, and the day → ordinal table when the span
     * is moderate (always, for dates of years 0000..9999 at most 3.7M days). */
    int64_t dmin = tw_cal_local_day(key_time(c->min), hb->tz), dmax = tw_cal_local_day(key_time(c->max), hb->tz);
    uint64_t span = (uint64_t)(dmax - dmin) + 1;
    uint32_t *table = NULL;
    if (span <= MAX_DAY_TABLE && (table = malloc(span * sizeof *table)) != NULL) {
        /* Buckets grow with the day: recompute one only past the next
         * bucket's first day (bucket starts at offset 0 are local days). */
        int64_t b = tw_cal_bucket_of_day(dmin, hb->u), next = tw_cal_bucket_start(b + 1, hb->u, 0) / 86400;
        for (uint64_t i = 0; i < span; i++) {
            int64_t day = dmin + (int64_t)i;
            if (day >= next) {
                b = tw_cal_bucket_of_day(day, hb->u);
                next = tw_cal_bucket_start(b + 1, hb->u, 0) / 86400;
            }
            table[i] = (uint32_t)(b - base);
        }
    }
    bucketer k = {hb->u, hb->tz, 1, 0, 0};
    for (uint32_t d = 0; d < c->ndocs; d++) {
        uint32_t o = nb;
        if (c->all || tw_col_has(c, d)) {
            int64_t t = key_time(tw_col_key(c, d));
            o = table ? table[tw_cal_local_day(t, hb->tz) - dmin] : (uint32_t)(bucket_of(&k, t) - base);
        }
        h->count[o]++;
        if (wide)
            ((uint32_t *)h->ord)[d] = o;
        else
            ((uint16_t *)h->ord)[d] = (uint16_t)o;
    }
    free(table);
    *data = h;
    *bytes = size;
    return 0;
}

/* One segment's part of a histogram. */
typedef struct segh {
    const tw_colfield *c; /* NULL: no dates here */
    tw_ccache_ref ref;    /* ref.data: the hcache, or NULL (uncached: bucket each date) */
    uint64_t *m, *d;      /* cached: per ordinal, matches and live documents */
} segh;

/* Counts, per ordinal, the docs of bm into m (nb + 1 entries). */
static int count_ords(const hcache *h, const roaring_bitmap_t *bm, uint64_t *m) {
    roaring_uint32_iterator_t *it = roaring_create_iterator(bm);
    if (!it) return TRAWL_ENOMEM;
    uint32_t buf[CHUNK], n;
    if (h->wide) {
        const uint32_t *ord = h->ord;
        while ((n = roaring_read_uint32_iterator(it, buf, CHUNK)) > 0)
            for (uint32_t i = 0; i < n; i++) m[ord[buf[i]]]++;
    } else {
        const uint16_t *ord = h->ord;
        while ((n = roaring_read_uint32_iterator(it, buf, CHUNK)) > 0)
            for (uint32_t i = 0; i < n; i++) m[ord[buf[i]]]++;
    }
    roaring_free_uint32_iterator(it);
    return 0;
}

static uint32_t ord_of(const hcache *h, uint32_t d) {
    return h->wide ? ((const uint32_t *)h->ord)[d] : ((const uint16_t *)h->ord)[d];
}

/* Fills sh for segment s of v: the cached buckets with the counts of sub (or
 * of nothing when sub is NULL) and of the live documents. */
static int segh_fill(const tw_view *v, uint32_t s, const roaring_bitmap_t *sub, const char *field, tw_cal_unit u,
                     int32_t tz, segh *sh, char *err, size_t errcap) {
    const tw_colfield *c = date_col(v->segs[s].seg, field);
    if (!c || !c->npresent) return 0;
    sh->c = c;
    int64_t base;
    uint64_t nb;
    if (!cacheable(c, u, tz, &base, &nb)) return 0;
    /* Key: kind, unit, offset, field name. */
    char key[2 + 4 + TW_SCHEMA_MAX_NAME + 1];
    size_t fl = strlen(field);
    if (fl > TW_SCHEMA_MAX_NAME) return 0;
    key[0] = 'h';
    key[1] = (char)u;
    memcpy(key + 2, &tz, 4);
    memcpy(key + 6, field, fl);
    hbuild hb = {c, u, tz};
    int rc = tw_ccache_get(v->segs[s].seg->ccache, key, 6 + fl, hcache_build, hcache_free, &hb, &sh->ref, err, errcap);
    if (rc) return rc;
    const hcache *h = sh->ref.data;
    if (!(sh->m = calloc(2 * ((size_t)h->nb + 1), sizeof *sh->m)))
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    sh->d = sh->m + h->nb + 1;
    if (sub && count_ords(h, sub, sh->m)) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    memcpy(sh->d, h->count, ((size_t)h->nb + 1) * sizeof *sh->d);
    const roaring_bitmap_t *del = v->segs[s].deleted;
    if (del) {
        /* Deleted documents leave the all-documents counts. */
        roaring_uint32_iterator_t *it = roaring_create_iterator(del);
        if (!it) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        uint32_t buf[CHUNK], n;
        while ((n = roaring_read_uint32_iterator(it, buf, CHUNK)) > 0)
            for (uint32_t i = 0; i < n; i++)
                if (buf[i] < c->ndocs) sh->d[ord_of(h, buf[i])]--;
        roaring_free_uint32_iterator(it);
    }
    return 0;
}

/* Widens [*tmin, *tmax] (instants) with the dates of an uncached segment:
 * of sub's documents, or of every live document when sub is NULL. */
static int uncached_extremes(const tw_view *v, uint32_t s, const tw_colfield *c, const roaring_bitmap_t *sub,
                             int64_t *tmin, int64_t *tmax) {
    if (!sub) {
        /* Every live document: the column's extremes may belong to deleted
         * documents, so scan unless nothing is deleted. */
        if (!v->segs[s].deleted) {
            if (key_time(c->min) < *tmin) *tmin = key_time(c->min);
            if (key_time(c->max) > *tmax) *tmax = key_time(c->max);
            return 0;
        }
        for (uint32_t d = 0; d < c->ndocs; d++) {
            if (roaring_bitmap_contains(v->segs[s].deleted, d) || !tw_col_has(c, d)) continue;
            int64_t t = key_time(tw_col_key(c, d));
            if (t < *tmin) *tmin = t;
            if (t > *tmax) *tmax = t;
        }
        return 0;
    }
    EACH_DOC(sub, d, {
        if (!tw_col_has(c, d)) continue;
        int64_t t = key_time(tw_col_key(c, d));
        if (t < *tmin) *tmin = t;
        if (t > *tmax) *tmax = t;
    });
    return 0;
}

/* Adds an uncached segment's counts to the buckets b (first .. first+n-1). */
static int uncached_counts(const tw_view *v, uint32_t s, const tw_colfield *c, const roaring_bitmap_t *sub, bucketer *k,
                           int64_t first, int64_t last, tw_hist_bucket *b) {
    const roaring_bitmap_t *del = v->segs[s].deleted;
    for (uint32_t d = 0; d < c->ndocs; d++) {
        if ((!c->all && !tw_col_has(c, d)) || (del && roaring_bitmap_contains(del, d))) continue;
        int64_t x = bucket_of(k, key_time(tw_col_key(c, d)));
        if (x >= first && x <= last) b[x - first].docs++;
    }
    EACH_DOC(sub, d, {
        if (!c->all && !tw_col_has(c, d)) continue;
        int64_t x = bucket_of(k, key_time(tw_col_key(c, d)));
        if (x >= first && x <= last) b[x - first].matches++;
    });
    return 0;
}

static void seghs_free(segh *sh, uint32_t n) {
    for (uint32_t s = 0; sh && s < n; s++) {
        tw_ccache_release(&sh[s].ref);
        free(sh[s].m);
    }
    free(sh);
}

int tw_histogram_compute(const tw_view *v, const roaring_bitmap_t *const *sub, const char *field, tw_cal_unit u,
                         int32_t tz, int range_all, tw_histogram *out, char *err, size_t errcap) {
    memset(out, 0, sizeof *out);
    out->unit = u;
    out->tz = tz;
    if (!has_date_field(v, field)) {
        if (tw_view_schema_types(v, field) & TW_FT_DATE) return 0; /* declared, but no document has one */
        return tw_err(err, errcap, TRAWL_EINVAL, "no date field named '%s'", field);
    }
    segh *sh = calloc(v->nsegs ? v->nsegs : 1, sizeof *sh);
    if (!sh) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    int rc = 0;
    bucketer k = {u, tz, 1, 0, 0};
    /* Pass 1: per segment the cached counts, and the bucket range. */
    int64_t first = INT64_MAX, last = INT64_MIN, tmin = INT64_MAX, tmax = INT64_MIN;
    for (uint32_t s = 0; s < v->nsegs && !rc; s++) {
        if ((rc = segh_fill(v, s, sub[s], field, u, tz, &sh[s], err, errcap)) || !sh[s].c) continue;
        const hcache *h = sh[s].ref.data;
        if (!h) {
            if (uncached_extremes(v, s, sh[s].c, range_all ? NULL : sub[s], &tmin, &tmax))
                rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
            continue;
        }
        const uint64_t *r = range_all ? sh[s].d : sh[s].m;
        for (uint32_t i = 0; i < h->nb; i++)
            if (r[i]) {
                if (h->base + (int64_t)i < first) first = h->base + (int64_t)i;
                break;
            }
        for (uint32_t i = h->nb; i-- > 0;)
            if (r[i]) {
                if (h->base + (int64_t)i > last) last = h->base + (int64_t)i;
                break;
            }
    }
    if (!rc && tmin <= tmax) {
        int64_t a = bucket_of(&k, tmin), z = bucket_of(&k, tmax);
        if (a < first) first = a;
        if (z > last) last = z;
    }
    if (rc || first > last) {
        seghs_free(sh, v->nsegs);
        return rc;
    }
    if ((uint64_t)(last - first) >= TW_HIST_MAX_BUCKETS) {
        seghs_free(sh, v->nsegs);
        return tw_err(err, errcap, TRAWL_ELIMIT, "the histogram would have more than %u %s buckets: use a coarser unit",
                      TW_HIST_MAX_BUCKETS, tw_cal_unit_name(u));
    }
    size_t n = (size_t)(last - first) + 1;
    tw_hist_bucket *b = calloc(n, sizeof *b);
    if (!b) {
        seghs_free(sh, v->nsegs);
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        b[i].start = tw_cal_bucket_start(first + (int64_t)i, u, tz);
        tw_cal_bucket_label(first + (int64_t)i, u, b[i].label, sizeof b[i].label);
    }
    /* Pass 2: the counts into the buckets. */
    for (uint32_t s = 0; s < v->nsegs && !rc; s++) {
        if (!sh[s].c) continue;
        const hcache *h = sh[s].ref.data;
        if (!h) {
            if (uncached_counts(v, s, sh[s].c, sub[s], &k, first, last, b))
                rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
            continue;
        }
        for (uint32_t i = 0; i < h->nb; i++) {
            int64_t x = h->base + (int64_t)i;
            if (x < first || x > last) continue;
            b[x - first].matches += sh[s].m[i];
            b[x - first].docs += sh[s].d[i];
        }
    }
    seghs_free(sh, v->nsegs);
    if (rc) {
        free(b);
        return rc;
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
