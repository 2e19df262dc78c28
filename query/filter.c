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

/* Adds to out the documents of view rv (in batches). 0 or TRAWL_ENOMEM. */
static void add_rview(roaring_bitmap_t *out, const tw_rview *rv) {
    tw_riter it;
    uint32_t buf[256];
    size_t n = 0;
    if (rv->card == 0) return;
    for (tw_riter_init(&it, rv); !it.end; tw_riter_next(&it)) {
        buf[n++] = it.value;
        if (n == 256) {
            roaring_bitmap_add_many(out, n, buf);
            n = 0;
        }
    }
    roaring_bitmap_add_many(out, n, buf);
}

/* The documents of column c whose key is in [klo, khi], into out. Blocks
 * whose bounds miss the range are skipped, blocks inside it taken whole;
 * then absent documents are removed. */
static int col_scan(const tw_colfield *c, uint64_t klo, uint64_t khi, roaring_bitmap_t *out) {
    uint32_t nb = (c->ndocs + TW_COL_BLOCK - 1) / TW_COL_BLOCK, buf[TW_COL_BLOCK];
    if (c->npresent == 0) return 0;
    for (uint32_t b = 0; b < nb; b++) {
        uint64_t lo, hi;
        tw_col_block_bounds(c, b, &lo, &hi);
        if (hi < klo || lo > khi) continue;
        uint32_t d0 = b * TW_COL_BLOCK, d1 = d0 + TW_COL_BLOCK < c->ndocs ? d0 + TW_COL_BLOCK : c->ndocs;
        if (lo >= klo && hi <= khi) {
            roaring_bitmap_add_range(out, d0, d1);
            continue;
        }
        size_t n = 0;
        for (uint32_t d = d0; d < d1; d++) {
            uint64_t k = tw_col_key(c, d);
            if (k >= klo && k <= khi) buf[n++] = d;
        }
        roaring_bitmap_add_many(out, n, buf);
    }
    if (!c->all) {
        roaring_bitmap_t *pres = roaring_bitmap_create();
        if (!pres) return TRAWL_ENOMEM;
        add_rview(pres, &c->present);
        roaring_bitmap_and_inplace(out, pres);
        roaring_bitmap_free(pres);
    }
    return 0;
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

int tw_filter_eval(const tw_view *v, const tw_node *n, roaring_bitmap_t ***out, char *err, size_t errcap) {
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
    roaring_bitmap_t **b = calloc(v->nsegs ? v->nsegs : 1, sizeof *b);
    if (!b) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    for (uint32_t s = 0; s < v->nsegs && rc == 0; s++) {
        const tw_segment *seg = v->segs[s].seg;
        if (!(b[s] = roaring_bitmap_create())) {
            rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
            break;
        }
        if (type == TW_FT_KEYWORD) {
            const tw_kwfield *f = tw_segment_keyword(seg, field);
            uint32_t lo, hi;
            if (!f) continue;
            kw_range(f, n, &lo, &hi);
            rc = kw_union(f, lo, hi, b[s], err, errcap);
        } else {
            const tw_colfield *c = tw_segment_column(seg, field);
            uint64_t klo, khi;
            if (!c || c->npresent == 0) continue;
            if (!tw_col_range(c, r.has_lo ? &r.lo : NULL, r.lo_incl, r.has_hi ? &r.hi : NULL, r.hi_incl, &klo, &khi))
                continue;
            if (col_scan(c, klo, khi, b[s])) rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        }
    }
    if (rc) {
        tw_filter_free(b, v->nsegs);
        return rc;
    }
    *out = b;
    return 0;
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
