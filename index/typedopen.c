/*
 * typedopen.c — structural validation of a segment's KEYWORDS and COLUMNS
 * sections when it opens (layout in docs/FORMAT.md, reader in typed.h).
 * After tw_typed_open the inline accessors of typed.h read only bytes
 * checked here: dictionary and bitmap offsets, value order and lengths, every
 * ordinal-column entry, column block headers and the presence bitmap. Value
 * bitmaps are parsed deeply on first use (tw_kw_bitmap).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"
#include "error.h"
#include "segment.h"
#include "typed.h"

#define KW_HEADER 56u
#define COL_HEADER 48u

#define CORRUPT(s, sec, ...) (tw_err_section(err, errcap, TRAWL_ECORRUPT, (s)->path, sec, __VA_ARGS__), TRAWL_ECORRUPT)

/* A bounds-checked reader of one field's blob. */
typedef struct cur {
    const uint8_t *p;
    uint64_t left;
    int bad;
} cur;

/* The next n bytes (then padding to a multiple of 8 when pad), or NULL. */
static const uint8_t *take(cur *c, uint64_t n, int pad) {
    uint64_t m = pad ? (n + 7) / 8 * 8 : n;
    if (c->bad || n > c->left || m > c->left) {
        c->bad = 1;
        return NULL;
    }
    const uint8_t *q = c->p;
    c->p += m;
    c->left -= m;
    return q;
}

static unsigned bits_for(uint64_t v) {
    unsigned w = 0;
    while (v) w++, v >>= 1;
    return w;
}

void tw_typed_close(tw_segment *s) {
    for (uint32_t i = 0; i < s->nkw; i++) {
        free((void *)s->kw[i].name);
        free((void *)s->kw[i].checked);
    }
    free(s->kw);
    for (uint32_t i = 0; i < s->ncols; i++) {
        free((void *)s->cols[i].name);
        tw_rview_free(&s->cols[i].present);
    }
    free(s->cols);
    tw_schema_free(s->schema);
    s->kw = NULL;
    s->cols = NULL;
    s->schema = NULL;
    s->nkw = s->ncols = 0;
}

/* The field table of a section: n entries of (u64 offset, u64 length) after
 * an 8-byte head, blobs inside the section. Returns n or a negative rc. */
static int64_t table(const tw_segment *s, unsigned sec, const char *name, char *err, size_t errcap) {
    const uint8_t *p = s->sec[sec].p;
    size_t len = s->sec[sec].len;
    if (len < 8) return CORRUPT(s, name, "truncated");
    uint32_t n = tw_ld32(p);
    if (tw_ld32(p + 4) != 0 || n > TW_SCHEMA_MAX_FIELDS || (len - 8) / 16 < n)
        return CORRUPT(s, name, "field table invalid");
    uint64_t prev = 8 + 16 * (uint64_t)n;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t off = tw_ld64(p + 8 + 16 * (size_t)i), l = tw_ld64(p + 16 + 16 * (size_t)i);
        if (off != prev || off % 8 || l > len - off) return CORRUPT(s, name, "field %u location invalid", i);
        prev = off + l;
    }
    if (prev != len) return CORRUPT(s, name, "trailing bytes");
    return n;
}

/* A copy of a field name from a blob: 1..255 bytes, no NUL, not yet used by
 * another typed field of s. */
static char *field_name(const tw_segment *s, const uint8_t *p, uint32_t n) {
    if (n == 0 || n > TW_SCHEMA_MAX_NAME || memchr(p, 0, n)) return NULL;
    char *name = strndup((const char *)p, n);
    if (!name) return NULL;
    for (uint32_t i = 0; i < s->nkw; i++)
        if (s->kw[i].name && strcmp(s->kw[i].name, name) == 0) goto dup;
    for (uint32_t i = 0; i < s->ncols; i++)
        if (s->cols[i].name && strcmp(s->cols[i].name, name) == 0) goto dup;
    return name;
dup:
    free(name);
    return NULL;
}

static int open_keyword(tw_segment *s, uint32_t i, const uint8_t *blob, uint64_t len, char *err, size_t errcap) {
    tw_kwfield *f = &s->kw[i];
    f->seg = s;
    cur c = {blob, len, 0};
    const uint8_t *h = take(&c, KW_HEADER, 0);
    if (!h) return CORRUPT(s, "keywords", "field %u header truncated", i);
    uint32_t nlen = tw_ld32(h), nv = tw_ld32(h + 4), nd = tw_ld32(h + 8), with = tw_ld32(h + 12);
    uint64_t npairs = tw_ld64(h + 16);
    uint32_t multi = tw_ld32(h + 24), w = tw_ld32(h + 28);
    uint64_t pool_len = tw_ld64(h + 32), bm_len = tw_ld64(h + 40), ord_len = tw_ld64(h + 48);
    const uint8_t *np = take(&c, nlen, 1);
    if (!np || !(f->name = field_name(s, np, nlen)))
        return CORRUPT(s, "keywords", "field %u name invalid or repeated", i);
    s->nkw = i + 1; /* the name is owned now */
    uint64_t entries = multi ? npairs : nd;
    if (nd != s->ndocs || multi > 1 || w < 1 || w > 32 || with > nd || npairs > (uint64_t)nd * nv || nv > npairs ||
        with > npairs || (!multi && npairs != with) || (nv == 0) != (npairs == 0) ||
        w < bits_for(multi ? (nv ? nv - 1 : 0) : nv) || (entries * w + 7) / 8 + 9 > ord_len || pool_len > UINT32_MAX)
        return CORRUPT(s, "keywords", "field %s: header invalid", f->name);
    f->ndocs = nd;
    f->nvalues = nv;
    f->ndocs_with = with;
    f->npairs = npairs;
    f->multi = (int)multi;
    f->ord_width = w;
    f->voff = take(&c, 4 * ((uint64_t)nv + 1), 1);
    f->dcount = take(&c, 4 * (uint64_t)nv, 1);
    f->boff = take(&c, 8 * ((uint64_t)nv + 1), 0);
    f->pool = take(&c, pool_len, 1);
    f->doff = multi ? take(&c, 4 * ((uint64_t)nd + 1), 1) : NULL;
    f->ord_data = take(&c, ord_len, 0);
    f->bm = take(&c, bm_len, 1);
    if (c.bad || c.left != 0) return CORRUPT(s, "keywords", "field %s: parts do not fit the blob", f->name);
    /* Dictionary: values 1..255 bytes, strictly ascending; bitmaps in order. */
    if (tw_ld32(f->voff) != 0 || tw_ld32(f->voff + 4 * (size_t)nv) != pool_len || tw_ld64(f->boff) != 0 ||
        tw_ld64(f->boff + 8 * (size_t)nv) != bm_len)
        return CORRUPT(s, "keywords", "field %s: dictionary bounds invalid", f->name);
    uint64_t sum = 0;
    for (uint32_t o = 0; o < nv; o++) {
        uint32_t a = tw_ld32(f->voff + 4 * (size_t)o), b = tw_ld32(f->voff + 4 * ((size_t)o + 1));
        uint64_t ba = tw_ld64(f->boff + 8 * (size_t)o), bb = tw_ld64(f->boff + 8 * ((size_t)o + 1));
        uint32_t cnt = tw_ld32(f->dcount + 4 * (size_t)o);
        if (b <= a || b - a > TW_KW_MAX_VALUE || b > pool_len || bb < ba + 8 || bb > bm_len || cnt == 0 || cnt > nd)
            return CORRUPT(s, "keywords", "field %s: value %u invalid", f->name, o);
        if (o > 0) {
            uint32_t pa = tw_ld32(f->voff + 4 * ((size_t)o - 1));
            size_t pl = a - pa, l = b - a;
            int cmp = memcmp(f->pool + pa, f->pool + a, pl < l ? pl : l);
            if (cmp > 0 || (cmp == 0 && pl >= l))
                return CORRUPT(s, "keywords", "field %s: values out of order at %u", f->name, o);
        }
        sum += cnt;
    }
    if (sum != npairs) return CORRUPT(s, "keywords", "field %s: counts do not add up", f->name);
    /* The ordinal column agrees with the counts. */
    uint32_t *cnt = calloc((size_t)nv + 1, sizeof *cnt);
    if (!cnt) return tw_err_section(err, errcap, TRAWL_ENOMEM, s->path, "keywords", "out of memory");
    int bad = 0;
    uint32_t seen_with = 0;
    if (multi) {
        if (tw_ld32(f->doff) != 0 || tw_ld32(f->doff + 4 * (size_t)nd) != npairs) bad = 1;
        for (uint32_t d = 0; d < nd && !bad; d++) {
            uint32_t a = tw_ld32(f->doff + 4 * (size_t)d), b = tw_ld32(f->doff + 4 * ((size_t)d + 1));
            if (b < a || b > npairs) {
                bad = 1;
                break;
            }
            seen_with += b > a;
            uint64_t prev = 0;
            for (uint32_t q = a; q < b; q++) {
                uint64_t o = tw_unpack(f->ord_data, q, w);
                if (o >= nv || (q > a && o <= prev)) {
                    bad = 1;
                    break;
                }
                cnt[o]++;
                prev = o;
            }
        }
    } else {
        for (uint32_t d = 0; d < nd && !bad; d++) {
            uint64_t o = tw_unpack(f->ord_data, d, w);
            if (o > nv)
                bad = 1;
            else if (o < nv) {
                cnt[o]++;
                seen_with++;
            }
        }
    }
    for (uint32_t o = 0; o < nv && !bad; o++)
        if (cnt[o] != tw_ld32(f->dcount + 4 * (size_t)o)) bad = 1;
    free(cnt);
    if (bad || seen_with != with) return CORRUPT(s, "keywords", "field %s: ordinal column invalid", f->name);
    f->checked = calloc((size_t)nv / 64 + 1, sizeof *f->checked);
    if (!f->checked) return tw_err_section(err, errcap, TRAWL_ENOMEM, s->path, "keywords", "out of memory");
    return 0;
}

static int open_column(tw_segment *s, uint32_t i, const uint8_t *blob, uint64_t len, char *err, size_t errcap) {
    tw_colfield *f = &s->cols[i];
    cur c = {blob, len, 0};
    const uint8_t *h = take(&c, COL_HEADER, 0);
    if (!h) return CORRUPT(s, "columns", "field %u header truncated", i);
    uint32_t nlen = tw_ld32(h), nd = tw_ld32(h + 8), npresent = tw_ld32(h + 12);
    unsigned type = h[4], kind = h[5];
    uint64_t mn = tw_ld64(h + 16), mx = tw_ld64(h + 24), plen = tw_ld64(h + 32), dlen = tw_ld64(h + 40);
    const uint8_t *np = take(&c, nlen, 1);
    if (!np || !(f->name = field_name(s, np, nlen)))
        return CORRUPT(s, "columns", "field %u name invalid or repeated", i);
    s->ncols = i + 1;
    uint32_t nblocks = (nd + TW_COL_BLOCK - 1) / TW_COL_BLOCK;
    if ((type != TW_FT_DATE && type != TW_FT_NUMBER) || kind > TW_NUM_DOUBLE ||
        (type == TW_FT_DATE && kind != TW_NUM_INT) || h[6] || h[7] || nd != s->ndocs || npresent > nd ||
        (npresent > 0 && mn > mx) || (npresent == 0 && (mn || mx)) ||
        ((npresent == 0 || npresent == nd) != (plen == 0)))
        return CORRUPT(s, "columns", "field %s: header invalid", f->name);
    if (type == TW_FT_DATE && npresent > 0) {
        /* Keys of dates are v ^ 2^63 (typed.h); both ends must be dates. */
        int64_t lo = (int64_t)(mn ^ (1ULL << 63)), hi = (int64_t)(mx ^ (1ULL << 63));
        if (lo < TW_DATE_MIN || hi > TW_DATE_MAX) return CORRUPT(s, "columns", "field %s: dates out of range", f->name);
    }
    f->type = type;
    f->kind = kind;
    f->ndocs = nd;
    f->npresent = npresent;
    f->min = mn;
    f->max = mx;
    f->all = npresent == nd;
    f->blocks = take(&c, 16 * (uint64_t)nblocks, 0);
    const uint8_t *pb = plen ? take(&c, plen, 1) : NULL;
    f->data = take(&c, dlen, 0);
    f->data_len = (size_t)dlen;
    if (c.bad || c.left != 0) return CORRUPT(s, "columns", "field %s: parts do not fit the blob", f->name);
    for (uint32_t b = 0; b < nblocks; b++) {
        const uint8_t *e = f->blocks + 16 * (size_t)b;
        unsigned w = e[8];
        uint64_t off = tw_ld32(e + 12);
        if (w > 64 || e[9] || e[10] || e[11] || off + 16 * (uint64_t)w + 16 > dlen)
            return CORRUPT(s, "columns", "field %s: block %u header invalid", f->name, b);
    }
    if (plen) {
        size_t used;
        const char *why = "";
        int rc = tw_rview_parse(pb, (size_t)plen, 1, &f->present, &used, &why);
        if (rc == TRAWL_ENOMEM) return tw_err_section(err, errcap, rc, s->path, "columns", "out of memory");
        if (rc == 0) {
            tw_riter it;
            tw_riter_init(&it, &f->present);
            if (used != plen || f->present.card != npresent || tw_riter_seek(&it, nd)) {
                rc = TRAWL_ECORRUPT;
                why = "size, count or doc ids wrong";
            }
        }
        if (rc) return CORRUPT(s, "columns", "field %s: presence bitmap invalid: %s", f->name, why);
    }
    return 0;
}

int tw_typed_open(tw_segment *s, char *err, size_t errcap) {
    int64_t nk = table(s, TW_SEC_KEYWORDS, "keywords", err, errcap);
    if (nk < 0) return (int)nk;
    int64_t nc = table(s, TW_SEC_COLUMNS, "columns", err, errcap);
    if (nc < 0) return (int)nc;
    s->kw = calloc(nk ? (size_t)nk : 1, sizeof *s->kw);
    s->cols = calloc(nc ? (size_t)nc : 1, sizeof *s->cols);
    if (!s->kw || !s->cols) return tw_err_section(err, errcap, TRAWL_ENOMEM, s->path, "keywords", "out of memory");
    const uint8_t *kp = s->sec[TW_SEC_KEYWORDS].p, *cp = s->sec[TW_SEC_COLUMNS].p;
    for (uint32_t i = 0; i < (uint32_t)nk; i++) {
        int rc =
            open_keyword(s, i, kp + tw_ld64(kp + 8 + 16 * (size_t)i), tw_ld64(kp + 16 + 16 * (size_t)i), err, errcap);
        if (rc) return rc;
        if (!(tw_schema_types(s->schema, s->kw[i].name, strlen(s->kw[i].name)) & TW_FT_KEYWORD))
            return CORRUPT(s, "keywords", "field %s is no keyword field in the schema", s->kw[i].name);
    }
    for (uint32_t i = 0; i < (uint32_t)nc; i++) {
        int rc =
            open_column(s, i, cp + tw_ld64(cp + 8 + 16 * (size_t)i), tw_ld64(cp + 16 + 16 * (size_t)i), err, errcap);
        if (rc) return rc;
        if (tw_schema_types(s->schema, s->cols[i].name, strlen(s->cols[i].name)) != s->cols[i].type)
            return CORRUPT(s, "columns", "field %s has another type in the schema", s->cols[i].name);
    }
    return 0;
}

int tw_typed_check(const tw_segment *s, char *err, size_t errcap) {
    for (uint32_t i = 0; i < s->nkw; i++) {
        const tw_kwfield *f = &s->kw[i];
        for (uint32_t o = 0; o < f->nvalues; o++) {
            tw_rview v;
            int rc = tw_kw_bitmap(f, o, &v, err, errcap);
            if (rc) return rc;
            tw_riter it;
            tw_riter_init(&it, &v);
            int bad = 0;
            for (; !it.end && !bad; tw_riter_next(&it)) {
                uint32_t d = it.value, n = tw_kw_doc_nvalues(f, d), k = 0;
                while (k < n && tw_kw_doc_ord(f, d, k) != o) k++;
                bad = k == n;
            }
            tw_rview_free(&v);
            if (bad)
                return CORRUPT(s, "keywords", "field %s: bitmap of value %u and the ordinal column disagree", f->name,
                               o);
        }
    }
    for (uint32_t i = 0; i < s->ncols; i++) {
        const tw_colfield *c = &s->cols[i];
        uint64_t mn = UINT64_MAX, mx = 0;
        uint32_t n = 0;
        for (uint32_t d = 0; d < c->ndocs; d++) {
            if (!tw_col_has(c, d)) continue;
            uint64_t k = tw_col_key(c, d);
            tw_num v;
            tw_col_num(c, k, &v);
            if (v.is_double && !isfinite(v.d)) return CORRUPT(s, "columns", "field %s: doc %u not finite", c->name, d);
            if (c->type == TW_FT_DATE && (v.i < TW_DATE_MIN || v.i > TW_DATE_MAX))
                return CORRUPT(s, "columns", "field %s: doc %u: date out of range", c->name, d);
            mn = k < mn ? k : mn;
            mx = k > mx ? k : mx;
            n++;
        }
        if (n != c->npresent || (n && (mn != c->min || mx != c->max)))
            return CORRUPT(s, "columns", "field %s: values disagree with count, min or max", c->name);
    }
    return 0;
}
