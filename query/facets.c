/*
 * facets.c — facets of a match set (facets.h) over the typed-field storage
 * (index/typed.h): keyword values counted per segment by bitmaps or by the
 * ordinal column, merged by value; min/max of date and number columns.
 */
#include "facets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"
#include "error.h"
#include "kernels.h"
#include "schema.h"
#include "typed.h"

#define CHUNK 1024u

void tw_facet_date_text(int64_t t, char *buf, size_t cap) {
    tw_date_format(t, TW_DP_SECOND, buf, cap);
}

void tw_facet_result_free(tw_facet_result *r) {
    free(r->field);
    for (size_t i = 0; i < r->nvalues; i++) free(r->values[i].value);
    free(r->values);
    free(r->min);
    free(r->max);
    memset(r, 0, sizeof *r);
}

/* A (value, count) of one segment, pointing into the segment. */
typedef struct vc {
    const char *v;
    size_t len;
    uint64_t count;
} vc;

static int vc_by_value(const void *a, const void *b) {
    const vc *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->v, y->v, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int vc_by_count(const void *a, const void *b) {
    const vc *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return vc_by_value(a, b);
}

/* Serializes bm and views it (for the and-count kernels). */
static int view_of(const roaring_bitmap_t *bm, uint8_t **bytes, tw_rview *v) {
    size_t n = roaring_bitmap_portable_size_in_bytes(bm), used;
    if (!(*bytes = malloc(n))) return TRAWL_ENOMEM;
    roaring_bitmap_portable_serialize(bm, (char *)*bytes);
    int rc = tw_rview_parse(*bytes, n, 0, v, &used, NULL);
    if (rc) {
        free(*bytes);
        *bytes = NULL;
    }
    return rc;
}

/* Counts the values of keyword field f over the matches m of one segment,
 * appending (value, count > 0) pairs to *out. */
static int keyword_segment(const tw_view *v, const tw_kwfield *f, const roaring_bitmap_t *m, vc **out, size_t *n,
                           size_t *cap, uint64_t *docs, char *err, size_t errcap) {
    uint64_t card = roaring_bitmap_get_cardinality(m);
    if (!card || !f->nvalues) return 0;
    uint64_t *counts = calloc(f->nvalues, sizeof *counts);
    if (!counts) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    int rc = 0;
    /* Documents with a value: a walk of the matches (one or two loads each). */
    roaring_uint32_iterator_t *it = roaring_create_iterator(m);
    if (!it) {
        free(counts);
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    /* At most this many containers hold the matches. */
    uint32_t containers = (roaring_bitmap_maximum(m) >> 16) - (roaring_bitmap_minimum(m) >> 16) + 1;
    double pairs_per_doc = f->ndocs ? (double)f->npairs / (double)f->ndocs : 0;
    int use_bitmaps = (double)f->nvalues * (1.0 + containers) < (double)card * (1.0 + pairs_per_doc);
    uint32_t buf[CHUNK], k;
    while ((k = roaring_read_uint32_iterator(it, buf, CHUNK)) > 0)
        for (uint32_t i = 0; i < k; i++) {
            uint32_t nv = tw_kw_doc_nvalues(f, buf[i]);
            *docs += nv > 0;
            if (!use_bitmaps)
                for (uint32_t j = 0; j < nv; j++) counts[tw_kw_doc_ord(f, buf[i], j)]++;
        }
    roaring_free_uint32_iterator(it);
    if (use_bitmaps) {
        uint8_t *bytes;
        tw_rview mv;
        if ((rc = view_of(m, &bytes, &mv))) {
            free(counts);
            return tw_err(err, errcap, rc == TRAWL_ENOMEM ? rc : TRAWL_ECORRUPT, "cannot view the match set");
        }
        for (uint32_t o = 0; o < f->nvalues && !rc; o++) {
            tw_rview vb;
            if ((rc = tw_kw_bitmap(f, o, &vb, err, errcap))) break;
            const tw_rview *in[2] = {&vb, &mv};
            rc = tw_and_count(v->kernels, in, 2, NULL, &counts[o]);
            tw_rview_free(&vb);
        }
        tw_rview_free(&mv);
        free(bytes);
        if (rc) {
            free(counts);
            return rc == TRAWL_ENOMEM ? tw_err(err, errcap, rc, "out of memory") : rc;
        }
    }
    for (uint32_t o = 0; o < f->nvalues; o++) {
        if (!counts[o]) continue;
        if (*n == *cap) {
            size_t nc = *cap ? 2 * *cap : 256;
            vc *nb = realloc(*out, nc * sizeof *nb);
            if (!nb) {
                free(counts);
                return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
            }
            *out = nb;
            *cap = nc;
        }
        vc *e = &(*out)[(*n)++];
        e->v = tw_kw_value(f, o, &e->len);
        e->count = counts[o];
    }
    free(counts);
    return 0;
}

static int keyword_facet(const tw_view *v, const roaring_bitmap_t *const *match, const char *field, size_t n,
                         tw_facet_result *out, char *err, size_t errcap) {
    vc *all = NULL;
    size_t na = 0, cap = 0;
    int rc = 0;
    for (uint32_t s = 0; s < v->nsegs && !rc; s++) {
        const tw_kwfield *f = tw_segment_keyword(v->segs[s].seg, field);
        if (f) rc = keyword_segment(v, f, match[s], &all, &na, &cap, &out->docs, err, errcap);
    }
    if (rc) {
        free(all);
        return rc;
    }
    /* Merge equal values across segments, then rank. */
    if (na > 1) qsort(all, na, sizeof *all, vc_by_value);
    size_t m = 0;
    for (size_t i = 0; i < na; i++) {
        if (m && !vc_by_value(&all[m - 1], &all[i]))
            all[m - 1].count += all[i].count;
        else
            all[m++] = all[i];
    }
    if (m > 1) qsort(all, m, sizeof *all, vc_by_count);
    if (m > n) m = n;
    if (m && !(out->values = calloc(m, sizeof *out->values))) {
        rc = TRAWL_ENOMEM;
        tw_err(err, errcap, rc, "out of memory");
    }
    for (size_t i = 0; i < m && !rc && out->values; i++) {
        if (!(out->values[i].value = malloc(all[i].len + 1))) {
            rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
            break;
        }
        memcpy(out->values[i].value, all[i].v, all[i].len);
        out->values[i].value[all[i].len] = 0;
        out->values[i].len = all[i].len;
        out->values[i].count = all[i].count;
        out->nvalues++;
    }
    free(all);
    return rc;
}

/* Text of a number: an integer in decimal, a double as the shortest %.*g
 * text that reads back to the same value. */
static void num_text(const tw_num *x, char *buf, size_t cap) {
    if (!x->is_double) {
        snprintf(buf, cap, "%lld", (long long)x->i);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, x->d);
        if (strtod(buf, NULL) == x->d) return;
    }
}

static int column_facet(const tw_view *v, const roaring_bitmap_t *const *match, const char *field, unsigned type,
                        tw_facet_result *out, char *err, size_t errcap) {
    tw_num lo = {0, 0, 0}, hi = {0, 0, 0};
    int any = 0;
    for (uint32_t s = 0; s < v->nsegs; s++) {
        const tw_colfield *c = tw_segment_column(v->segs[s].seg, field);
        if (!c || c->type != type || !c->npresent) continue;
        uint64_t kmin = UINT64_MAX, kmax = 0;
        int seen = 0;
        roaring_uint32_iterator_t *it = roaring_create_iterator(match[s]);
        if (!it) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        uint32_t buf[CHUNK], k;
        while ((k = roaring_read_uint32_iterator(it, buf, CHUNK)) > 0)
            for (uint32_t i = 0; i < k; i++) {
                if (!c->all && !tw_col_has(c, buf[i])) continue;
                uint64_t key = tw_col_key(c, buf[i]);
                if (key < kmin) kmin = key;
                if (key > kmax) kmax = key;
                seen = 1;
                out->docs++;
            }
        roaring_free_uint32_iterator(it);
        if (!seen) continue;
        tw_num a, b;
        tw_col_num(c, kmin, &a);
        tw_col_num(c, kmax, &b);
        if (!any || tw_num_cmp(&a, &lo) < 0) lo = a;
        if (!any || tw_num_cmp(&b, &hi) > 0) hi = b;
        any = 1;
    }
    if (!any) return 0;
    char t1[64], t2[64];
    if (type == TW_FT_DATE) {
        tw_facet_date_text(lo.i, t1, sizeof t1);
        tw_facet_date_text(hi.i, t2, sizeof t2);
    } else {
        num_text(&lo, t1, sizeof t1);
        num_text(&hi, t2, sizeof t2);
    }
    if (!(out->min = strdup(t1)) || !(out->max = strdup(t2))) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    return 0;
}

int tw_facet_compute(const tw_view *v, const roaring_bitmap_t *const *match, const char *field, size_t n,
                     tw_facet_result *out, char *err, size_t errcap) {
    memset(out, 0, sizeof *out);
    unsigned type = 0;
    for (uint32_t s = 0; s < v->nsegs && !type; s++) {
        const tw_colfield *c;
        if (tw_segment_keyword(v->segs[s].seg, field))
            type = TW_FT_KEYWORD;
        else if ((c = tw_segment_column(v->segs[s].seg, field)))
            type = c->type;
    }
    if (!type) return tw_err(err, errcap, TRAWL_EINVAL, "no keyword, date or number field named '%s'", field);
    if (!(out->field = strdup(field))) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    out->type = type == TW_FT_KEYWORD ? "keyword" : type == TW_FT_DATE ? "date" : "number";
    int rc = type == TW_FT_KEYWORD ? keyword_facet(v, match, field, n, out, err, errcap)
                                   : column_facet(v, match, field, type, out, err, errcap);
    if (rc) tw_facet_result_free(out);
    return rc;
}
