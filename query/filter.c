/*
 * filter.c — typed-field filters to per-segment bitmaps (contract and value
 * rules in filter.h), and the bitmap cursor.
 *
 * A filter's values are converted once per segment against the field's
 * column or dictionary there: keyword values become an ordinal range of the
 * segment's dictionary (the union of those values' bitmaps, deserialized
 * from the mapped segment); date and number values become a key range of the
 * segment's column (tw_col_range), scanned block by block.
 */
#include "filter.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"
#include "error.h"
#include "rview.h"
#include "segment.h"
#include "trawl.h"
#include "typed.h"

void tw_filter_free(roaring_bitmap_t **b, uint32_t nsegs) {
    if (!b) return;
    for (uint32_t i = 0; i < nsegs; i++)
        if (b[i]) roaring_bitmap_free(b[i]); /* CRoaring 0.2 does not take NULL */
    free(b);
}

unsigned tw_filter_field_type(const tw_view *v, const char *name) {
    for (uint32_t s = 0; s < v->nsegs; s++) {
        const tw_colfield *c;
        if (tw_segment_keyword(v->segs[s].seg, name)) return TW_FT_KEYWORD;
        if ((c = tw_segment_column(v->segs[s].seg, name)) != NULL) return c->type;
    }
    return 0;
}

/* Parses a number: an int64 when the whole text is an integer that fits,
 * else a finite double. 0 or TRAWL_EINVAL. */
static int parse_number(const char *s, size_t len, tw_num *out) {
    char buf[64], *end;
    if (len == 0 || len >= sizeof buf || memchr(s, 0, len)) return TRAWL_EINVAL;
    memcpy(buf, s, len);
    buf[len] = 0;
    memset(out, 0, sizeof *out);
    errno = 0;
    long long i = strtoll(buf, &end, 10);
    if (errno == 0 && *end == 0 && end != buf && buf[0] != ' ') {
        out->i = i;
        return 0;
    }
    errno = 0;
    double d = strtod(buf, &end);
    if (*end != 0 || end == buf || !isfinite(d) || buf[0] == ' ' || buf[0] == '\t') return TRAWL_EINVAL;
    out->is_double = 1;
    out->d = d == 0 ? 0.0 : d;
    return 0;
}

/* A value range in the number domain: lo..hi (has_lo/has_hi: bounded). */
typedef struct vrange {
    int has_lo, lo_incl, has_hi, hi_incl;
    tw_num lo, hi;
} vrange;

/* The value range of a date or number filter n. Returns 0, or
 * TRAWL_ESYNTAX with a message naming the bad value. */
static int value_range(const tw_node *n, unsigned type, vrange *r, char *err, size_t errcap) {
    const char *vals[2] = {n->text, n->fop == TW_F_RANGE ? n->hi : NULL};
    size_t lens[2] = {n->text_len, n->hi_len};
    int64_t start[2] = {0, 0}, end[2] = {0, 0};
    tw_num num[2];
    memset(r, 0, sizeof *r);
    memset(num, 0, sizeof num);
    for (int k = 0; k < 2; k++) {
        if (!vals[k]) continue;
        if (type == TW_FT_DATE) {
            const char *why = NULL;
            if (memchr(vals[k], 0, lens[k]) || tw_date_parse(vals[k], lens[k], &start[k], &end[k], NULL, &why))
                return tw_err(err, errcap, TRAWL_ESYNTAX, "'%.60s' is not a date for field '%.60s' (%s)", vals[k],
                              n->field, why ? why : "expected YYYY[-MM[-DD[Thh:mm[:ss]]]][Z|+hh:mm]");
        } else if (parse_number(vals[k], lens[k], &num[k])) {
            return tw_err(err, errcap, TRAWL_ESYNTAX, "'%.60s' is not a number for field '%.60s'", vals[k], n->field);
        }
    }
    if (type == TW_FT_DATE) {
        /* Spans: [start, end) of each value. */
        int64_t lo = 0, hi = 0;
        int has_lo = 0, has_hi = 0;
        switch (n->fop) {
            case TW_F_EQ:
            case TW_F_YEAR: lo = start[0], hi = end[0], has_lo = has_hi = 1; break;
            case TW_F_GE: lo = start[0], has_lo = 1; break;
            case TW_F_GT: lo = end[0], has_lo = 1; break;
            case TW_F_LT: hi = start[0], has_hi = 1; break;
            case TW_F_LE: hi = end[0], has_hi = 1; break;
            case TW_F_RANGE:
                if (vals[0]) lo = start[0], has_lo = 1;
                if (vals[1]) hi = end[1], has_hi = 1;
                break;
        }
        r->has_lo = has_lo;
        r->lo_incl = 1;
        r->lo.i = lo;
        r->has_hi = has_hi;
        r->hi_incl = 0;
        r->hi.i = hi;
        return 0;
    }
    switch (n->fop) {
        case TW_F_EQ: r->has_lo = r->has_hi = r->lo_incl = r->hi_incl = 1, r->lo = r->hi = num[0]; break;
        case TW_F_GE: r->has_lo = r->lo_incl = 1, r->lo = num[0]; break;
        case TW_F_GT: r->has_lo = 1, r->lo = num[0]; break;
        case TW_F_LT: r->has_hi = 1, r->hi = num[0]; break;
        case TW_F_LE: r->has_hi = r->hi_incl = 1, r->hi = num[0]; break;
        case TW_F_RANGE:
            r->has_lo = vals[0] != NULL, r->lo_incl = 1, r->lo = num[0];
            r->has_hi = vals[1] != NULL, r->hi_incl = 1, r->hi = num[1];
            break;
        default: break;
    }
    return 0;
}

/* Docs of a scan collected before one roaring_bitmap_add_many. */
#define SCAN_BUF 4096u

/* Is key k in [klo, klo + span]? (One unsigned compare.) */
static inline int key_in(uint64_t k, uint64_t klo, uint64_t span) {
    return k - klo <= span;
}

/* The documents of column c with a value whose key is in [klo, khi], added
 * to out. Blocks whose bounds miss the range are skipped; a block inside it
 * is taken whole when every document has a value; otherwise each document's
 * delta is compared with the range moved into the block's delta space
 * (branch-free when every document has a value; else a match is confirmed
 * by a forward seek in the presence bitmap). Documents are added in batches
 * of SCAN_BUF. */
static void col_scan(const tw_colfield *c, uint64_t klo, uint64_t khi, roaring_bitmap_t *out) {
    uint32_t nb = (c->ndocs + TW_COL_BLOCK - 1) / TW_COL_BLOCK, buf[SCAN_BUF];
    size_t n = 0;
    tw_riter it;
    memset(&it, 0, sizeof it);
    if (c->npresent == 0 || klo > khi) return;
    if (!c->all) tw_riter_init(&it, &c->present);
    for (uint32_t b = 0; b < nb; b++) {
        uint64_t lo, hi;
        tw_col_block_bounds(c, b, &lo, &hi);
        if (hi < klo || lo > khi) continue;
        uint32_t d0 = b * TW_COL_BLOCK, d1 = d0 + TW_COL_BLOCK < c->ndocs ? d0 + TW_COL_BLOCK : c->ndocs;
        if (c->all && lo >= klo && hi <= khi) {
            roaring_bitmap_add_range(out, d0, d1);
            continue;
        }
        const uint8_t *h = c->blocks + 16 * (size_t)b, *data = c->data + tw_ld32(h + 12);
        unsigned w = h[8];
        /* In delta space: base <= khi here (lo <= khi). */
        uint64_t dlo = klo > lo ? klo - lo : 0, span = khi - lo - dlo;
        if (n + TW_COL_BLOCK > SCAN_BUF) {
            roaring_bitmap_add_many(out, n, buf);
            n = 0;
        }
        if (c->all) {
            for (uint32_t j = 0; j < d1 - d0; j++) {
                buf[n] = d0 + j;
                n += key_in(tw_unpack(data, j, w), dlo, span);
            }
        } else { /* absent documents have delta 0: confirm presence */
            for (uint32_t j = 0; j < d1 - d0; j++)
                if (key_in(tw_unpack(data, j, w), dlo, span) && !it.end && tw_riter_seek(&it, d0 + j) &&
                    it.value == d0 + j)
                    buf[n++] = d0 + j;
        }
    }
    roaring_bitmap_add_many(out, n, buf);
}

int tw_colpred_and(const tw_colpred *p, roaring_bitmap_t *out) {
    roaring_bitmap_t *m = roaring_bitmap_create();
    if (!m) return TRAWL_ENOMEM;
    if (p->c) col_scan(p->c, p->klo, p->khi, m);
    if (p->neg)
        roaring_bitmap_andnot_inplace(out, m);
    else
        roaring_bitmap_and_inplace(out, m);
    roaring_bitmap_free(m);
    return 0;
}

/* Does predicate p allow doc? it: a forward iterator over p->c's presence
 * (its previous targets <= doc), used only when p->c->all is 0. */
static inline int pred_allows(const tw_colpred *p, tw_riter *it, uint32_t doc) {
    int in = 0;
    if (p->c && doc < p->c->ndocs) {
        uint64_t k = tw_col_key(p->c, doc);
        in = k >= p->klo && k <= p->khi;
        if (in && !p->c->all) in = !it->end && tw_riter_seek(it, doc) && it->value == doc;
    }
    return in != p->neg;
}

size_t tw_colpred_keep(const tw_colpred *p, size_t np, uint32_t *docs, uint32_t *const *with, size_t nwith, size_t n) {
    for (size_t i = 0; i < np && n > 0; i++) {
        const tw_colpred *q = &p[i];
        tw_riter it;
        size_t m = 0;
        memset(&it, 0, sizeof it);
        if (!q->c) {
            if (!q->neg) n = 0; /* nothing has a value in the range */
            continue;
        }
        if (!q->c->all) tw_riter_init(&it, &q->c->present);
        if (q->c->all && !q->neg && nwith == 0) { /* the common case: a tight loop */
            uint64_t span = q->khi - q->klo;
            if (q->klo > q->khi) {
                n = 0;
                continue;
            }
            for (size_t j = 0; j < n; j++) {
                docs[m] = docs[j];
                m += docs[j] < q->c->ndocs && key_in(tw_col_key(q->c, docs[j]), q->klo, span);
            }
        } else {
            for (size_t j = 0; j < n; j++)
                if (pred_allows(q, &it, docs[j])) {
                    for (size_t k = 0; k < nwith; k++) with[k][m] = with[k][j];
                    docs[m++] = docs[j];
                }
        }
        n = m;
    }
    return n;
}

/* Adds to out the documents of keyword ordinals [olo, ohi) of f. */
static int kw_union(const tw_kwfield *f, uint32_t olo, uint32_t ohi, roaring_bitmap_t *out, char *err, size_t errcap) {
    for (uint32_t o = olo; o < ohi; o++) {
        tw_rview rv;
        int rc = tw_kw_bitmap(f, o, &rv, err, errcap); /* validates the bitmap deeply once */
        if (rc) return rc;
        tw_rview_free(&rv);
        uint64_t a = tw_ld64(f->boff + 8 * (size_t)o), b = tw_ld64(f->boff + 8 * ((size_t)o + 1));
        roaring_bitmap_t *x = roaring_bitmap_portable_deserialize_safe((const char *)f->bm + a, (size_t)(b - a));
        if (!x) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        roaring_bitmap_or_inplace(out, x);
        roaring_bitmap_free(x);
    }
    return 0;
}

/* Is ordinal o of f the value v[0..len)? */
static int kw_is(const tw_kwfield *f, uint32_t o, const char *v, size_t len) {
    size_t n;
    const char *x;
    if (o >= f->nvalues) return 0;
    x = tw_kw_value(f, o, &n);
    return n == len && memcmp(x, v, len) == 0;
}

/* The ordinal range [*lo, *hi) of filter n in keyword field f. */
static void kw_range(const tw_kwfield *f, const tw_node *n, uint32_t *lo, uint32_t *hi) {
    uint32_t a;
    *lo = 0;
    *hi = f->nvalues;
    switch (n->fop) {
        case TW_F_EQ:
            if (tw_kw_find(f, n->text, n->text_len, &a))
                *lo = a, *hi = a + 1;
            else
                *lo = *hi = 0;
            break;
        case TW_F_GE: *lo = tw_kw_lower_bound(f, n->text, n->text_len); break;
        case TW_F_GT:
            a = tw_kw_lower_bound(f, n->text, n->text_len);
            *lo = a + (uint32_t)kw_is(f, a, n->text, n->text_len);
            break;
        case TW_F_LT: *hi = tw_kw_lower_bound(f, n->text, n->text_len); break;
        case TW_F_LE:
            a = tw_kw_lower_bound(f, n->text, n->text_len);
            *hi = a + (uint32_t)kw_is(f, a, n->text, n->text_len);
            break;
        case TW_F_RANGE:
            if (n->text) *lo = tw_kw_lower_bound(f, n->text, n->text_len);
            if (n->hi) {
                a = tw_kw_lower_bound(f, n->hi, n->hi_len);
                *hi = a + (uint32_t)kw_is(f, a, n->hi, n->hi_len);
            }
            break;
        default: *lo = *hi = 0; break;
    }
    if (*hi < *lo) *hi = *lo;
}

void tw_fprep_free(tw_fprep *f) {
    if (!f) return;
    tw_filter_free(f->bm, f->nsegs);
    free(f->pred);
    free(f);
}

int tw_filter_prepare(const tw_view *v, const tw_node *n, tw_fprep **out, char *err, size_t errcap) {
    const char *field = n->fop == TW_F_YEAR ? "date" : n->field;
    *out = NULL;
    unsigned type = tw_filter_field_type(v, field);
    if (n->fop == TW_F_YEAR && type != TW_FT_DATE) {
        if (tw_view_field(v, "year") >= 0) return TW_FILTER_NOT_TYPED;
        return tw_err(err, errcap, TRAWL_ESYNTAX, "year:%s needs a date field named 'date'", n->text);
    }
    if (type == 0) {
        if (tw_view_field(v, field) >= 0)
            return tw_err(err, errcap, TRAWL_ESYNTAX,
                          "field '%.60s' is text, not keyword, date or number: filters need a typed field", field);
        return tw_err(err, errcap, TRAWL_ESYNTAX,
                      "unknown field '%.60s' (no keyword, date or number field by that name)", field);
    }
    vrange r;
    int rc = 0;
    if (type != TW_FT_KEYWORD && (rc = value_range(n, type, &r, err, errcap)) != 0) return rc;
    tw_fprep *f = calloc(1, sizeof *f);
    if (!f) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    f->nsegs = v->nsegs;
    if (type == TW_FT_KEYWORD)
        f->bm = calloc(v->nsegs ? v->nsegs : 1, sizeof *f->bm);
    else
        f->pred = calloc(v->nsegs ? v->nsegs : 1, sizeof *f->pred);
    if (!f->bm && !f->pred) {
        free(f);
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    for (uint32_t s = 0; s < v->nsegs && rc == 0; s++) {
        const tw_segment *seg = v->segs[s].seg;
        if (type == TW_FT_KEYWORD) {
            if (!(f->bm[s] = roaring_bitmap_create())) {
                rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
                break;
            }
            const tw_kwfield *kf = tw_segment_keyword(seg, field);
            uint32_t lo, hi;
            if (!kf) continue;
            kw_range(kf, n, &lo, &hi);
            rc = kw_union(kf, lo, hi, f->bm[s], err, errcap);
        } else {
            const tw_colfield *c = tw_segment_column(seg, field);
            tw_colpred *p = &f->pred[s];
            if (!c || c->npresent == 0) continue;
            if (!tw_col_range(c, r.has_lo ? &r.lo : NULL, r.lo_incl, r.has_hi ? &r.hi : NULL, r.hi_incl, &p->klo,
                              &p->khi) ||
                p->klo > p->khi)
                continue;
            p->c = c;
        }
    }
    if (rc) {
        tw_fprep_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

roaring_bitmap_t *tw_fprep_bitmap(const tw_fprep *f, uint32_t si) {
    if (f->bm) return roaring_bitmap_copy(f->bm[si]);
    roaring_bitmap_t *b = roaring_bitmap_create();
    if (!b) return NULL;
    if (f->pred[si].c) col_scan(f->pred[si].c, f->pred[si].klo, f->pred[si].khi, b);
    return b;
}

/* ---- the predicate cursor ---- */

typedef struct pred_cursor {
    tw_cursor base;
    tw_cursor *in;
    const tw_colpred *p;
    size_t np;
    tw_riter *it; /* per predicate: over its column's presence */
} pred_cursor;

/* The first document >= inner's current one that every predicate allows. */
static uint32_t pc_settle(pred_cursor *c) {
    uint32_t d = c->in->doc;
    for (;;) {
        size_t i = 0;
        if (d == TW_DOC_END) break;
        while (i < c->np && pred_allows(&c->p[i], &c->it[i], d)) i++;
        if (i == c->np) break;
        d = tw_next(c->in);
    }
    return c->base.doc = d;
}
static uint32_t pc_next(tw_cursor *cur) {
    pred_cursor *c = (pred_cursor *)cur;
    if (cur->doc == TW_DOC_END) return TW_DOC_END;
    tw_next(c->in);
    return pc_settle(c);
}
static uint32_t pc_seek(tw_cursor *cur, uint32_t target) {
    pred_cursor *c = (pred_cursor *)cur;
    if (cur->doc == TW_DOC_END) return TW_DOC_END;
    tw_seek(c->in, target);
    return pc_settle(c);
}
static double pc_score(tw_cursor *cur) {
    return tw_score(((pred_cursor *)cur)->in);
}
static double pc_max(tw_cursor *cur) {
    return tw_max_score(((pred_cursor *)cur)->in);
}
static int pc_status(const tw_cursor *cur) {
    return tw_cursor_status(((const pred_cursor *)cur)->in);
}
static void pc_explain(tw_cursor *cur, tw_buf *out) {
    pred_cursor *c = (pred_cursor *)cur;
    c->in->ops->explain(c->in, out);
}
static void pc_free(tw_cursor *cur) {
    pred_cursor *c = (pred_cursor *)cur;
    tw_cursor_free(c->in);
    free(c->it);
    free(c);
}
static const tw_cursor_ops pc_ops = {pc_next, pc_seek, pc_score, pc_max, pc_status, pc_explain, pc_free};

tw_cursor *tw_colpred_cursor(tw_cursor *inner, const tw_colpred *p, size_t np) {
    pred_cursor *c = inner ? calloc(1, sizeof *c) : NULL;
    tw_riter *it = c ? calloc(np ? np : 1, sizeof *it) : NULL;
    if (!it) {
        free(c);
        tw_cursor_free(inner);
        return NULL;
    }
    for (size_t i = 0; i < np; i++)
        if (p[i].c && !p[i].c->all) tw_riter_init(&it[i], &p[i].c->present);
    c->base.ops = &pc_ops;
    c->base.cost = inner->cost;
    c->in = inner;
    c->p = p;
    c->np = np;
    c->it = it;
    pc_settle(c);
    return &c->base;
}

/* ---- the bitmap cursor ---- */

typedef struct bm_cursor {
    tw_cursor base;
    roaring_uint32_iterator_t it;
} bm_cursor;

static uint32_t bm_doc(const bm_cursor *c) {
    return c->it.has_value ? c->it.current_value : TW_DOC_END;
}
static uint32_t bm_next(tw_cursor *cur) {
    bm_cursor *c = (bm_cursor *)cur;
    if (cur->doc == TW_DOC_END) return TW_DOC_END;
    roaring_advance_uint32_iterator(&c->it);
    return cur->doc = bm_doc(c);
}
static uint32_t bm_seek(tw_cursor *cur, uint32_t target) {
    bm_cursor *c = (bm_cursor *)cur;
    if (cur->doc == TW_DOC_END) return TW_DOC_END;
    roaring_move_uint32_iterator_equalorlarger(&c->it, target);
    return cur->doc = bm_doc(c);
}
static double bm_score(tw_cursor *cur) {
    (void)cur;
    return 0.0;
}
static void bm_explain(tw_cursor *cur, tw_buf *out) {
    (void)cur;
    (void)out;
}
static void bm_free(tw_cursor *cur) {
    free(cur);
}
static const tw_cursor_ops bm_ops = {bm_next, bm_seek, bm_score, bm_score, NULL, bm_explain, bm_free};

tw_cursor *tw_bitmap_cursor(const roaring_bitmap_t *b) {
    bm_cursor *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->base.ops = &bm_ops;
    roaring_init_iterator(b, &c->it);
    c->base.doc = bm_doc(c);
    c->base.cost = roaring_bitmap_get_cardinality(b);
    return &c->base;
}
