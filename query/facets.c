/*
 * facets.c — facets of a match set (facets.h) over the typed-field storage
 * (index/typed.h): keyword values counted per segment by bitmaps or by the
 * ordinal column, merged by value; min/max of date and number columns.
 */
#include "facets.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"
#include "colcache.h"
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

unsigned tw_view_schema_types(const tw_view *v, const char *field) {
    unsigned t = 0;
    for (uint32_t s = 0; s < v->nsegs; s++)
        if (v->segs[s].seg->schema) t |= tw_schema_types(v->segs[s].seg->schema, field, strlen(field));
    return t;
}

/* Appends (value, count) to *out. */
static int vc_push(vc **out, size_t *n, size_t *cap, const char *val, size_t len, uint64_t count) {
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 256;
        vc *nb = realloc(*out, nc * sizeof *nb);
        if (!nb) return TRAWL_ENOMEM;
        *out = nb;
        *cap = nc;
    }
    vc *e = &(*out)[(*n)++];
    e->v = val;
    e->len = len;
    e->count = count;
    return 0;
}

/* Ordinals: counts the values of keyword field f over the matches m of one
 * segment by a walk of the matching documents, appending (value, count > 0)
 * pairs to *out and the matches with a value to *docs. */
static int ordinal_segment(const tw_kwfield *f, const roaring_bitmap_t *m, vc **out, size_t *n, size_t *cap,
                           uint64_t *docs, char *err, size_t errcap) {
    if (!f->nvalues || roaring_bitmap_is_empty(m)) return 0;
    uint32_t *counts = calloc(f->nvalues, sizeof *counts);
    roaring_uint32_iterator_t *it = counts ? roaring_create_iterator(m) : NULL;
    if (!it) {
        free(counts);
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    uint32_t buf[CHUNK], k;
    while ((k = roaring_read_uint32_iterator(it, buf, CHUNK)) > 0)
        for (uint32_t i = 0; i < k; i++) {
            uint32_t nv = tw_kw_doc_nvalues(f, buf[i]);
            *docs += nv > 0;
            for (uint32_t j = 0; j < nv; j++) counts[tw_kw_doc_ord(f, buf[i], j)]++;
        }
    roaring_free_uint32_iterator(it);
    int rc = 0;
    for (uint32_t o = 0; o < f->nvalues && !rc; o++) {
        if (!counts[o]) continue;
        size_t len;
        const char *val = tw_kw_value(f, o, &len);
        rc = vc_push(out, n, cap, val, len, counts[o]);
    }
    free(counts);
    return rc ? tw_err(err, errcap, TRAWL_ENOMEM, "out of memory") : 0;
}

/* ---- pruned counting: values in decreasing order of document count ---- */

/* Cached per (segment, keyword field): the ordinals by decreasing document
 * count (ties by ordinal, i.e. value bytes), and the documents with a value
 * (NULL when every document has one). One block: struct then order[]. */
typedef struct fcache {
    roaring_bitmap_t *has;
    uint32_t order[];
} fcache;

static void fcache_free(void *p) {
    fcache *c = p;
    if (c && c->has) roaring_bitmap_free(c->has); /* (CRoaring 0.2 does not take NULL) */
    free(c);
}

static int u64_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* tw_ccache_build_fn for a const tw_kwfield. */
static int fcache_build(void *ctx, void **data, size_t *bytes, char *err, size_t errcap) {
    const tw_kwfield *f = ctx;
    fcache *c = malloc(sizeof *c + (size_t)f->nvalues * 4);
    uint64_t *keys = malloc(((size_t)f->nvalues + 1) * 8);
    if (!c || !keys) {
        free(c);
        free(keys);
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    c->has = NULL;
    /* (UINT32_MAX - count) << 32 | ordinal, ascending: count down, then ordinal up. */
    for (uint32_t o = 0; o < f->nvalues; o++) keys[o] = ((uint64_t)(UINT32_MAX - tw_kw_count(f, o)) << 32) | o;
    qsort(keys, f->nvalues, 8, u64_cmp);
    for (uint32_t o = 0; o < f->nvalues; o++) c->order[o] = (uint32_t)keys[o];
    free(keys);
    *bytes = sizeof *c + (size_t)f->nvalues * 4;
    if (f->ndocs_with < f->ndocs) {
        if (!(c->has = roaring_bitmap_create())) {
            fcache_free(c);
            return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        }
        uint32_t buf[CHUNK], k = 0;
        for (uint32_t d = 0; d < f->ndocs; d++) {
            if (tw_kw_doc_nvalues(f, d)) buf[k++] = d;
            if (k == CHUNK || (d + 1 == f->ndocs && k)) {
                roaring_bitmap_add_many(c->has, k, buf);
                k = 0;
            }
        }
        roaring_bitmap_run_optimize(c->has);
        *bytes += roaring_bitmap_size_in_bytes(c->has);
    }
    *data = c;
    return 0;
}

/* One segment in pruned counting. */
typedef struct pseg {
    const tw_kwfield *f; /* NULL: no such field here */
    tw_ccache_ref ref;   /* the fcache */
    uint64_t card;       /* matches here */
    uint8_t *bytes;      /* the match set serialized, and its view */
    tw_rview mv;
    int viewed;
    uint64_t *seen; /* one bit per ordinal: its value was counted */
    uint32_t pos;   /* order[pos] is the next value not counted */
    double unit;    /* estimated cost of one and-count against the match set */
} pseg;

static void psegs_free(pseg *ps, uint32_t n) {
    for (uint32_t s = 0; ps && s < n; s++) {
        tw_ccache_release(&ps[s].ref);
        if (ps[s].viewed) tw_rview_free(&ps[s].mv);
        free(ps[s].bytes);
        free(ps[s].seen);
    }
    free(ps);
}

/* Upper bound of the count of any value not counted yet in segment s: the
 * document count of its next value (advancing past counted ones), 0 when
 * none is left. */
static uint64_t next_bound(pseg *p) {
    if (!p->f || !p->card) return 0;
    const fcache *c = p->ref.data;
    while (p->pos < p->f->nvalues && (p->seen[c->order[p->pos] / 64] >> (c->order[p->pos] % 64) & 1)) p->pos++;
    return p->pos < p->f->nvalues ? tw_kw_count(p->f, c->order[p->pos]) : 0;
}

/* The n best (count descending, then value bytes) kept sorted in top[0..*nt). */
static void top_offer(vc *top, size_t *nt, size_t n, const vc *x) {
    if (*nt == n && vc_by_count(x, &top[n - 1]) >= 0) return;
    size_t lo = 0, hi = *nt;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (vc_by_count(&top[mid], x) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t keep = *nt < n ? *nt : n - 1;
    memmove(&top[lo + 1], &top[lo], (keep - lo) * sizeof *top);
    top[lo] = *x;
    if (*nt < n) (*nt)++;
}

/* Pruned counting over every segment (Fagin's threshold algorithm on the
 * segments' value orders): values are counted exactly (and-cardinality of the
 * match set with the value's bitmap, in every segment having the value) in
 * decreasing order of their document count in some segment; it stops once
 * the sum over segments of the next uncounted value's document count, which
 * bounds the count of every value not yet counted, is below the n-th best
 * count. Fills top[0..*nt) and *docs. Returns 0, a trawl_rc, or 1 when the
 * estimated cost went past budget (the caller then counts by ordinals). */
static int pruned(const tw_view *v, const roaring_bitmap_t *const *match, pseg *ps, size_t n, double budget, vc *top,
                  size_t *nt, uint64_t *docs, char *err, size_t errcap) {
    uint32_t ns = v->nsegs;
    for (uint32_t s = 0; s < ns; s++) {
        pseg *p = &ps[s];
        if (!p->f || !p->card) continue;
        /* Documents with a value. */
        const fcache *c = p->ref.data;
        *docs += c->has ? roaring_bitmap_and_cardinality(match[s], c->has) : p->card;
    }
    double spent = 0;
    for (;;) {
        uint64_t bound = 0, best = 0;
        uint32_t bs = 0;
        for (uint32_t s = 0; s < ns; s++) {
            uint64_t b = next_bound(&ps[s]);
            bound += b;
            if (b > best) best = b, bs = s;
        }
        if (!bound || (*nt == n && bound < top[n - 1].count)) return 0;
        if (spent > budget) return 1;
        const fcache *bc = ps[bs].ref.data;
        uint32_t o = bc->order[ps[bs].pos];
        vc x;
        x.v = tw_kw_value(ps[bs].f, o, &x.len);
        x.count = 0;
        for (uint32_t s = 0; s < ns; s++) {
            pseg *p = &ps[s];
            uint32_t so;
            if (!p->f) continue;
            if (s == bs)
                so = o;
            else if (!tw_kw_find(p->f, x.v, x.len, &so))
                continue;
            p->seen[so / 64] |= 1ULL << (so % 64);
            if (!p->card) continue;
            tw_rview vb;
            int rc = tw_kw_bitmap(p->f, so, &vb, err, errcap);
            if (rc) return rc;
            const tw_rview *in[2] = {&vb, &p->mv};
            uint64_t cnt = 0;
            rc = tw_and_count(v->kernels, in, 2, NULL, &cnt);
            tw_rview_free(&vb);
            if (rc) return tw_err(err, errcap, rc, "out of memory");
            x.count += cnt;
            double dc = tw_kw_count(p->f, so) / 4.0;
            spent += 8 + (dc < p->unit ? dc : p->unit);
        }
        if (x.count) top_offer(top, nt, n, &x);
    }
}

/* Prepares ps[s] for pruned counting: the cache entry, the match set's view,
 * the seen bits. */
static int pseg_init(const tw_view *v, uint32_t s, const roaring_bitmap_t *m, const char *field, pseg *p, char *err,
                     size_t errcap) {
    const tw_kwfield *f = tw_segment_keyword(v->segs[s].seg, field);
    if (!f || !f->nvalues) return 0;
    p->f = f;
    p->card = roaring_bitmap_get_cardinality(m);
    char key[1 + TW_SCHEMA_MAX_NAME];
    size_t fl = strlen(field);
    if (fl > TW_SCHEMA_MAX_NAME) fl = TW_SCHEMA_MAX_NAME; /* such a field cannot exist */
    key[0] = 'f';
    memcpy(key + 1, field, fl);
    int rc =
        tw_ccache_get(v->segs[s].seg->ccache, key, 1 + fl, fcache_build, fcache_free, (void *)f, &p->ref, err, errcap);
    if (rc) return rc;
    if (!(p->seen = calloc(((size_t)f->nvalues + 63) / 64, 8)))
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    if (!p->card) return 0;
    if ((rc = view_of(m, &p->bytes, &p->mv)))
        return tw_err(err, errcap, rc == TRAWL_ENOMEM ? rc : TRAWL_ECORRUPT, "cannot view the match set");
    p->viewed = 1;
    /* A value's bitmap against the match set: at most one container pair per
     * container of the match set (a full 8 KiB pair: ~32 document visits). */
    uint32_t containers = (roaring_bitmap_maximum(m) >> 16) - (roaring_bitmap_minimum(m) >> 16) + 1;
    p->unit = 32.0 * containers;
    return 0;
}

/* Copies the first m of all[] into out->values. */
static int emit(const vc *all, size_t m, tw_facet_result *out, char *err, size_t errcap) {
    if (!m) return 0;
    if (!(out->values = calloc(m, sizeof *out->values))) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    for (size_t i = 0; i < m; i++) {
        if (!(out->values[i].value = malloc(all[i].len + 1))) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        memcpy(out->values[i].value, all[i].v, all[i].len);
        out->values[i].value[all[i].len] = 0;
        out->values[i].len = all[i].len;
        out->values[i].count = all[i].count;
        out->nvalues++;
    }
    return 0;
}

/* Ordinals over every segment, merged by value, ranked. */
static int ordinal_facet(const tw_view *v, const roaring_bitmap_t *const *match, const char *field, size_t n,
                         tw_facet_result *out, char *err, size_t errcap) {
    vc *all = NULL;
    size_t na = 0, cap = 0;
    int rc = 0;
    for (uint32_t s = 0; s < v->nsegs && !rc; s++) {
        const tw_kwfield *f = tw_segment_keyword(v->segs[s].seg, field);
        if (f) rc = ordinal_segment(f, match[s], &all, &na, &cap, &out->docs, err, errcap);
    }
    if (rc) {
        free(all);
        return rc;
    }
    /* Merge equal values across segments, then rank. */
    if (na > 1 && v->nsegs > 1) qsort(all, na, sizeof *all, vc_by_value);
    size_t m = 0;
    for (size_t i = 0; i < na; i++) {
        if (m && !vc_by_value(&all[m - 1], &all[i]))
            all[m - 1].count += all[i].count;
        else
            all[m++] = all[i];
    }
    if (m > 1) qsort(all, m, sizeof *all, vc_by_count);
    rc = emit(all, m > n ? n : m, out, err, errcap);
    free(all);
    return rc;
}

/* How keyword facets were counted (tw_facet_method_counts). */
static _Atomic uint64_t method_runs[3];

void tw_facet_method_counts(uint64_t out[3]) {
    for (int i = 0; i < 3; i++) out[i] = atomic_load_explicit(&method_runs[i], memory_order_relaxed);
}

static int keyword_facet(const tw_view *v, const roaring_bitmap_t *const *match, const char *field, size_t n,
                         int method, tw_facet_result *out, char *err, size_t errcap) {
    /* The cost rule (in document visits): ordinals cost the matches times
     * (1 + values per document); pruning costs per counted value and
     * segment 8 + min(its document count / 4, 32 per container of the match
     * set). Pruning runs first (unless the ordinals cost less than counting n
     * values would), with the ordinals' cost as its budget: past it, the
     * ordinals finish the job. */
    double ord_cost = 0, min_pruned = 0;
    for (uint32_t s = 0; s < v->nsegs; s++) {
        const tw_kwfield *f = tw_segment_keyword(v->segs[s].seg, field);
        if (!f || !f->ndocs) continue;
        uint64_t card = roaring_bitmap_get_cardinality(match[s]);
        if (!card) continue;
        ord_cost += (double)card * (1.0 + (double)f->npairs / (double)f->ndocs);
        min_pruned += 8.0 * (double)n;
    }
    if (method == TW_FACET_ORDINALS || (method == TW_FACET_AUTO && ord_cost <= min_pruned)) {
        atomic_fetch_add_explicit(&method_runs[0], 1, memory_order_relaxed);
        return ordinal_facet(v, match, field, n, out, err, errcap);
    }
    pseg *ps = calloc(v->nsegs ? v->nsegs : 1, sizeof *ps);
    vc *top = calloc(n, sizeof *top);
    if (!ps || !top) {
        free(ps);
        free(top);
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    int rc = 0;
    for (uint32_t s = 0; s < v->nsegs && !rc; s++) rc = pseg_init(v, s, match[s], field, &ps[s], err, errcap);
    size_t nt = 0;
    uint64_t docs = 0;
    if (!rc)
        rc = pruned(v, match, ps, n, method == TW_FACET_PRUNED ? HUGE_VAL : ord_cost, top, &nt, &docs, err, errcap);
    if (rc == 1) {
        atomic_fetch_add_explicit(&method_runs[2], 1, memory_order_relaxed);
        rc = ordinal_facet(v, match, field, n, out, err, errcap);
    } else if (!rc) {
        atomic_fetch_add_explicit(&method_runs[1], 1, memory_order_relaxed);
        out->docs = docs;
        rc = emit(top, nt, out, err, errcap);
    }
    free(top);
    psegs_free(ps, v->nsegs);
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
    return tw_facet_compute_method(v, match, field, n, TW_FACET_AUTO, out, err, errcap);
}

int tw_facet_compute_method(const tw_view *v, const roaring_bitmap_t *const *match, const char *field, size_t n,
                            int method, tw_facet_result *out, char *err, size_t errcap) {
    memset(out, 0, sizeof *out);
    unsigned type = 0;
    for (uint32_t s = 0; s < v->nsegs && !type; s++) {
        const tw_colfield *c;
        if (tw_segment_keyword(v->segs[s].seg, field))
            type = TW_FT_KEYWORD;
        else if ((c = tw_segment_column(v->segs[s].seg, field)))
            type = c->type;
    }
    if (!type) {
        /* Declared in the schema, but no document has a value: an empty facet. */
        unsigned decl = tw_view_schema_types(v, field);
        type = decl & TW_FT_KEYWORD  ? TW_FT_KEYWORD
               : decl & TW_FT_DATE   ? TW_FT_DATE
               : decl & TW_FT_NUMBER ? TW_FT_NUMBER
                                     : 0;
    }
    if (!type) return tw_err(err, errcap, TRAWL_EINVAL, "no keyword, date or number field named '%s'", field);
    if (!(out->field = strdup(field))) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    out->type = type == TW_FT_KEYWORD ? "keyword" : type == TW_FT_DATE ? "date" : "number";
    if (n < 1) n = 1;
    int rc = type == TW_FT_KEYWORD ? keyword_facet(v, match, field, n, method, out, err, errcap)
                                   : column_facet(v, match, field, type, out, err, errcap);
    if (rc) tw_facet_result_free(out);
    return rc;
}
