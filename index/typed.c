/*
 * typed.c — the reader of typed fields (contract in typed.h): keyword
 * dictionary lookups, deep validation of value bitmaps on first use, number
 * keys and value ranges. The structural validation done when a segment opens
 * is in typedopen.c.
 */
#include "typed.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "error.h"
#include "segment.h"

#define SIGN 0x8000000000000000ULL

const tw_kwfield *tw_segment_keyword(const tw_segment *s, const char *name) {
    for (uint32_t i = 0; i < s->nkw; i++)
        if (strcmp(s->kw[i].name, name) == 0) return &s->kw[i];
    return NULL;
}

const tw_colfield *tw_segment_column(const tw_segment *s, const char *name) {
    for (uint32_t i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].name, name) == 0) return &s->cols[i];
    return NULL;
}

/* Byte order of value ord against v[0..len). */
static int kw_cmp(const tw_kwfield *f, uint32_t ord, const char *v, size_t len) {
    size_t n;
    const char *x = tw_kw_value(f, ord, &n);
    size_t m = n < len ? n : len;
    int c = m ? memcmp(x, v, m) : 0;
    if (c) return c;
    return n < len ? -1 : n > len;
}

uint32_t tw_kw_lower_bound(const tw_kwfield *f, const char *v, size_t len) {
    uint32_t lo = 0, hi = f->nvalues;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (kw_cmp(f, mid, v, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int tw_kw_find(const tw_kwfield *f, const char *v, size_t len, uint32_t *ord) {
    uint32_t o = tw_kw_lower_bound(f, v, len);
    if (o < f->nvalues && kw_cmp(f, o, v, len) == 0) {
        *ord = o;
        return 1;
    }
    return 0;
}

int tw_kw_bitmap(const tw_kwfield *f, uint32_t ord, tw_rview *out, char *err, size_t errcap) {
    memset(out, 0, sizeof *out);
    const char *path = f->seg ? f->seg->path : "segment";
    if (ord >= f->nvalues)
        return tw_err_section(err, errcap, TRAWL_ECORRUPT, path, "keywords", "field %s: value %u out of range", f->name,
                              ord);
    _Atomic uint64_t *word = &f->checked[ord / 64];
    uint64_t bit = 1ULL << (ord % 64);
    int first = !(atomic_load_explicit(word, memory_order_acquire) & bit);
    uint64_t a = tw_ld64(f->boff + 8 * (size_t)ord), b = tw_ld64(f->boff + 8 * ((size_t)ord + 1));
    size_t used;
    const char *why = "";
    int rc = tw_rview_parse(f->bm + a, (size_t)(b - a), first, out, &used, &why);
    if (rc == TRAWL_ENOMEM) return tw_err_section(err, errcap, rc, path, "keywords", "out of memory");
    if (rc == 0 && (used != b - a || out->card != tw_kw_count(f, ord))) {
        rc = TRAWL_ECORRUPT;
        why = "its cardinality or size differs from the dictionary";
    }
    if (rc == 0 && first) {
        tw_riter it;
        tw_riter_init(&it, out);
        if (tw_riter_seek(&it, f->ndocs)) {
            rc = TRAWL_ECORRUPT;
            why = "it holds a doc id beyond the segment";
        }
    }
    if (rc) {
        tw_rview_free(out);
        return tw_err_section(err, errcap, TRAWL_ECORRUPT, path, "keywords", "field %s: bitmap of value %u: %s",
                              f->name, ord, why);
    }
    if (first) atomic_fetch_or_explicit(word, bit, memory_order_release);
    return 0;
}

int tw_col_has(const tw_colfield *c, uint32_t doc) {
    if (doc >= c->ndocs) return 0;
    if (c->all) return 1;
    if (c->npresent == 0) return 0;
    return tw_rview_contains(&c->present, doc);
}

/* --- numbers --- */

static uint64_t dkey(double d) {
    if (d == 0) d = 0.0; /* -0.0 is stored as +0.0 */
    uint64_t bits;
    memcpy(&bits, &d, 8);
    return (bits & SIGN) ? ~bits : bits ^ SIGN;
}

static double keyd(uint64_t k) {
    uint64_t bits = (k & SIGN) ? k ^ SIGN : ~k;
    double d;
    memcpy(&d, &bits, 8);
    return d;
}

void tw_col_num(const tw_colfield *c, uint64_t key, tw_num *out) {
    out->is_double = c->kind == TW_NUM_DOUBLE;
    if (out->is_double) {
        out->d = keyd(key);
        out->i = 0;
    } else {
        out->i = (int64_t)(key ^ SIGN);
        out->d = 0;
    }
}

/* int64 against double, exactly (d not NaN). */
static int cmp_id(int64_t i, double d) {
    if (d < -9223372036854775808.0) return 1;
    if (d >= 9223372036854775808.0) return -1;
    int64_t t = (int64_t)d; /* truncation toward zero, exact in range */
    if (i != t) return i < t ? -1 : 1;
    double frac = d - (double)t; /* exact: |t| <= 2^53 or d integral */
    return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

int tw_num_cmp(const tw_num *a, const tw_num *b) {
    if (!a->is_double && !b->is_double) return a->i < b->i ? -1 : a->i > b->i;
    if (a->is_double && b->is_double) return a->d < b->d ? -1 : a->d > b->d;
    if (!a->is_double) return cmp_id(a->i, b->d);
    return -cmp_id(b->i, a->d);
}

/* Smallest (up > 0) or largest (up < 0) key of kind whose value is >= v
 * (resp. <= v), or > v (resp. < v) when strict. Returns 1 and *k, or 0 when
 * no such key exists. */
static int bound_key(unsigned kind, const tw_num *v, int up, int strict, uint64_t *k) {
    if (kind == TW_NUM_INT) {
        int64_t c;
        if (!v->is_double) {
            c = v->i;
        } else {
            double d = v->d;
            if (isnan(d)) return 0;
            if (d >= 9223372036854775808.0) {
                if (up > 0) return 0;
                *k = UINT64_MAX;
                return 1;
            }
            if (d < -9223372036854775808.0) {
                if (up < 0) return 0;
                *k = 0;
                return 1;
            }
            double r = up > 0 ? ceil(d) : floor(d);
            if (r >= 9223372036854775808.0) {
                if (up > 0) return 0;
                *k = UINT64_MAX;
                return 1;
            }
            c = (int64_t)r;
            if (r != d) strict = 0; /* rounding already excluded v itself */
        }
        if (strict) {
            if (up > 0) {
                if (c == INT64_MAX) return 0;
                c++;
            } else {
                if (c == INT64_MIN) return 0;
                c--;
            }
        }
        *k = (uint64_t)c ^ SIGN;
        return 1;
    }
    double d;
    if (v->is_double) {
        d = v->d;
        if (isnan(d)) return 0;
        if (strict) d = nextafter(d, up > 0 ? INFINITY : -INFINITY);
    } else {
        d = (double)v->i;
        int c = cmp_id(v->i, d); /* v against d */
        if (up > 0 && (c > 0 || (c == 0 && strict))) d = nextafter(d, INFINITY);
        if (up < 0 && (c < 0 || (c == 0 && strict))) d = nextafter(d, -INFINITY);
    }
    if (isinf(d)) {
        if ((d > 0) == (up > 0)) return 0;
        d = d > 0 ? DBL_MAX : -DBL_MAX;
    }
    *k = dkey(d);
    return 1;
}

uint64_t tw_num_key(unsigned kind, const tw_num *v, int dir, int *exact) {
    uint64_t k = dir > 0 ? UINT64_MAX : 0;
    int ok = bound_key(kind, v, dir > 0 ? 1 : -1, 0, &k);
    if (exact) {
        tw_num back;
        tw_colfield c;
        memset(&c, 0, sizeof c);
        c.kind = kind;
        tw_col_num(&c, k, &back);
        *exact = ok && tw_num_cmp(&back, v) == 0;
    }
    return k;
}

int tw_col_range(const tw_colfield *c, const tw_num *lo, int lo_incl, const tw_num *hi, int hi_incl, uint64_t *klo,
                 uint64_t *khi) {
    uint64_t a = 0, b = UINT64_MAX;
    if (lo && !bound_key(c->kind, lo, 1, !lo_incl, &a)) return 0;
    if (hi && !bound_key(c->kind, hi, -1, !hi_incl, &b)) return 0;
    if (a > b) return 0;
    *klo = a;
    *khi = b;
    return 1;
}
