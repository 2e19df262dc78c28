/*
 * typedwrite.c — builds the KEYWORDS and COLUMNS sections of a segment from
 * the typed accumulator (layout in docs/FORMAT.md, reader in typed.h and
 * typedopen.c): per keyword field the sorted value dictionary, a portable
 * Roaring bitmap per value and the per-document ordinal column; per
 * date/number field the frame-of-reference column, presence and min/max.
 */
#include <roaring/roaring.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "typedacc.h"
#include "varint.h"

/* Bits needed to hold v (0 for 0). */
static unsigned bits_for(uint64_t v) {
    unsigned w = 0;
    while (v) {
        w++;
        v >>= 1;
    }
    return w;
}

/* ORs v (width w <= 64) into dst as entry i, LSB first. */
static void pack(uint8_t *dst, uint64_t i, unsigned w, uint64_t v) {
    uint64_t bit = i * w;
    for (unsigned k = 0; k < w; k++, bit++)
        if ((v >> k) & 1) dst[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

static void put_padded(tw_buf *b, const void *p, size_t n) {
    tw_buf_put(b, p, n);
    tw_buf_align(b, 8);
}

/* qsort has no context argument in C11: the field being sorted. */
static _Thread_local const tw_tacc_kw *t_sort_kw;

static int cmp_value(const void *a, const void *b) {
    const tw_tacc_kw *k = t_sort_kw;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    size_t lx = k->off[x + 1] - k->off[x], ly = k->off[y + 1] - k->off[y];
    int c = memcmp(k->bytes + k->off[x], k->bytes + k->off[y], lx < ly ? lx : ly);
    if (c) return c;
    return lx < ly ? -1 : lx > ly;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* One keyword field's blob appended to out. */
static int build_keyword(const tw_tacc *t, uint32_t fi, uint32_t ndocs, tw_buf *out) {
    tw_tacc_kw k;
    tw_tacc_keyword(t, fi, &k);
    const char *name = tw_tacc_field_name(t, fi);
    uint32_t nv = k.nvalues;
    int rc = TRAWL_ENOMEM;
    uint32_t *order = malloc(((size_t)nv + 1) * sizeof *order), *ord_of = malloc(((size_t)nv + 1) * sizeof *ord_of);
    uint64_t *start = calloc((size_t)nv + 2, sizeof *start);
    uint32_t *bydoc = NULL, *doff = calloc((size_t)ndocs + 1, sizeof *doff), *ords = NULL;
    uint32_t *dcount = calloc((size_t)nv + 1, sizeof *dcount);
    uint8_t *packed = NULL;
    tw_buf bm = {0};
    uint64_t *boff = malloc(((size_t)nv + 1) * sizeof *boff);
    if (!order || !ord_of || !start || !doff || !dcount || !boff) goto out;
    for (uint32_t v = 0; v < nv; v++) order[v] = v;
    t_sort_kw = &k;
    qsort(order, nv, sizeof *order, cmp_value);
    t_sort_kw = NULL;
    for (uint32_t o = 0; o < nv; o++) ord_of[order[o]] = o;
    /* Per document, its ordinals sorted and distinct (pairs come doc by doc). */
    ords = malloc((k.npairs ? k.npairs : 1) * sizeof *ords);
    if (!ords) goto out;
    uint64_t np = 0;
    for (uint64_t i = 0; i < k.npairs;) {
        uint32_t d = k.pair_doc[i];
        uint64_t j = i, first = np;
        for (; j < k.npairs && k.pair_doc[j] == d; j++) ords[np++] = ord_of[k.pair_value[j]];
        qsort(ords + first, np - first, sizeof *ords, cmp_u32);
        uint64_t u = first;
        for (uint64_t q = first; q < np; q++)
            if (q == first || ords[q] != ords[u - 1]) ords[u++] = ords[q];
        np = u;
        doff[d + 1] = (uint32_t)(np - first);
        i = j;
    }
    uint32_t with = 0;
    int multi = 0;
    for (uint32_t d = 0; d < ndocs; d++) {
        with += doff[d + 1] > 0;
        multi |= doff[d + 1] > 1;
        doff[d + 1] += doff[d];
    }
    /* Docs per ordinal (counting sort; docs come out ascending). */
    for (uint64_t q = 0; q < np; q++) start[ords[q] + 1]++;
    for (uint32_t o = 0; o < nv; o++) {
        dcount[o] = (uint32_t)start[o + 1];
        start[o + 1] += start[o];
    }
    bydoc = malloc((np ? np : 1) * sizeof *bydoc);
    if (!bydoc) goto out;
    {
        uint64_t *fill = calloc((size_t)nv + 1, sizeof *fill);
        if (!fill) goto out;
        for (uint32_t d = 0; d < ndocs; d++)
            for (uint32_t q = doff[d]; q < doff[d + 1]; q++) bydoc[start[ords[q]] + fill[ords[q]]++] = d;
        free(fill);
    }
    for (uint32_t o = 0; o < nv; o++) {
        roaring_bitmap_t *r = roaring_bitmap_of_ptr(dcount[o], bydoc + start[o]);
        if (!r) goto out;
        roaring_bitmap_run_optimize(r);
        size_t n = roaring_bitmap_portable_size_in_bytes(r);
        boff[o] = bm.len;
        if (tw_buf_reserve(&bm, n)) {
            roaring_bitmap_free(r);
            goto out;
        }
        roaring_bitmap_portable_serialize(r, (char *)bm.p + bm.len);
        bm.len += n;
        roaring_bitmap_free(r);
    }
    boff[nv] = bm.len;
    /* The ordinal column. */
    unsigned w = multi ? bits_for(nv ? nv - 1 : 0) : bits_for(nv);
    if (w == 0) w = 1;
    uint64_t entries = multi ? np : ndocs;
    size_t plen = (size_t)((entries * w + 7) / 8) + 16;
    plen = (plen + 7) & ~(size_t)7;
    packed = calloc(plen, 1);
    if (!packed) goto out;
    if (multi)
        for (uint64_t q = 0; q < np; q++) pack(packed, q, w, ords[q]);
    else
        for (uint32_t d = 0; d < ndocs; d++) pack(packed, d, w, doff[d + 1] > doff[d] ? ords[doff[d]] : nv);
    /* Header, then the parts (docs/FORMAT.md). */
    size_t nlen = strlen(name);
    tw_buf_le32(out, (uint32_t)nlen);
    tw_buf_le32(out, nv);
    tw_buf_le32(out, ndocs);
    tw_buf_le32(out, with);
    tw_buf_le64(out, np);
    tw_buf_le32(out, (uint32_t)multi);
    tw_buf_le32(out, w);
    tw_buf_le64(out, nv ? k.off[nv] : 0);
    tw_buf_le64(out, bm.len);
    tw_buf_le64(out, plen);
    put_padded(out, name, nlen);
    /* voff in sorted order: the pool holds the values in ordinal order. */
    uint32_t pos = 0;
    for (uint32_t o = 0; o < nv; o++) {
        tw_buf_le32(out, pos);
        pos += k.off[order[o] + 1] - k.off[order[o]];
    }
    tw_buf_le32(out, pos);
    tw_buf_align(out, 8);
    for (uint32_t o = 0; o < nv; o++) tw_buf_le32(out, dcount[o]);
    tw_buf_align(out, 8);
    for (uint32_t o = 0; o <= nv; o++) tw_buf_le64(out, boff[o]);
    for (uint32_t o = 0; o < nv; o++) tw_buf_put(out, k.bytes + k.off[order[o]], k.off[order[o] + 1] - k.off[order[o]]);
    tw_buf_align(out, 8);
    if (multi) {
        for (uint32_t d = 0; d <= ndocs; d++) tw_buf_le32(out, doff[d]);
        tw_buf_align(out, 8);
    }
    tw_buf_put(out, packed, plen);
    put_padded(out, bm.p, bm.len);
    rc = out->oom ? TRAWL_ENOMEM : 0;
out:
    free(order);
    free(ord_of);
    free(start);
    free(bydoc);
    free(doff);
    free(ords);
    free(dcount);
    free(packed);
    free(boff);
    tw_buf_free(&bm);
    return rc;
}

/* Order-preserving key of a stored value (typed.h). */
static uint64_t key_of(unsigned kind, uint64_t bits, int isd) {
    const uint64_t sign = 0x8000000000000000ULL;
    if (kind == TW_NUM_INT) return bits ^ sign;
    double d;
    if (isd)
        memcpy(&d, &bits, 8);
    else
        d = (double)(int64_t)bits;
    if (d == 0) d = 0.0;
    uint64_t b;
    memcpy(&b, &d, 8);
    return (b & sign) ? ~b : b ^ sign;
}

/* One date/number field's blob appended to out. */
static int build_column(const tw_tacc *t, uint32_t fi, uint32_t ndocs, tw_buf *out) {
    tw_tacc_col c;
    tw_tacc_column(t, fi, &c);
    const char *name = tw_tacc_field_name(t, fi);
    unsigned type = tw_tacc_field_type(t, fi), kind = TW_NUM_INT;
    for (uint64_t i = 0; i < c.n && type == TW_FT_NUMBER; i++)
        if (c.is_double[i]) kind = TW_NUM_DOUBLE;
    uint32_t nblocks = (ndocs + TW_COL_BLOCK - 1) / TW_COL_BLOCK;
    uint64_t *keys = calloc((size_t)nblocks * TW_COL_BLOCK + 1, sizeof *keys);
    uint8_t *has = calloc((size_t)nblocks * TW_COL_BLOCK + 1, 1);
    tw_buf blocks = {0}, data = {0};
    roaring_bitmap_t *present = roaring_bitmap_create();
    int rc = TRAWL_ENOMEM;
    if (!keys || !has || !present) goto out;
    uint64_t mn = UINT64_MAX, mx = 0;
    for (uint64_t i = 0; i < c.n; i++) {
        uint64_t k = key_of(kind, c.bits[i], c.is_double[i]);
        keys[c.doc[i]] = k;
        has[c.doc[i]] = 1;
        roaring_bitmap_add(present, c.doc[i]);
        if (k < mn) mn = k;
        if (k > mx) mx = k;
    }
    if (c.n == 0) mn = mx = 0;
    for (uint32_t b = 0; b < nblocks; b++) {
        uint64_t base = UINT64_MAX, top = 0;
        for (uint32_t j = 0; j < TW_COL_BLOCK; j++) {
            uint32_t d = b * TW_COL_BLOCK + j;
            if (!has[d]) continue;
            if (keys[d] < base) base = keys[d];
            if (keys[d] > top) top = keys[d];
        }
        if (base == UINT64_MAX && top == 0) base = 0; /* no value in the block */
        unsigned w = top > base ? bits_for(top - base) : 0;
        tw_buf_le64(&blocks, base);
        tw_buf_u8(&blocks, (uint8_t)w);
        tw_buf_put(&blocks, "\0\0\0", 3);
        tw_buf_le32(&blocks, (uint32_t)data.len);
        size_t n = (size_t)16 * w;
        if (data.len + n > UINT32_MAX - 64) {
            rc = TRAWL_ELIMIT;
            goto out;
        }
        if (n) {
            if (tw_buf_reserve(&data, n)) goto out;
            memset(data.p + data.len, 0, n);
            for (uint32_t j = 0; j < TW_COL_BLOCK; j++) {
                uint32_t d = b * TW_COL_BLOCK + j;
                if (has[d]) pack(data.p + data.len, j, w, keys[d] - base);
            }
            data.len += n;
        }
    }
    static const uint8_t zeros[16] = {0};
    tw_buf_put(&data, zeros, 16); /* tw_unpack reads up to 9 bytes past an entry's first byte */
    tw_buf_align(&data, 8);
    int partial = c.n > 0 && c.n < ndocs;
    size_t plen = 0;
    char *pbytes = NULL;
    if (partial) {
        roaring_bitmap_run_optimize(present);
        plen = roaring_bitmap_portable_size_in_bytes(present);
        pbytes = malloc(plen);
        if (!pbytes) goto out;
        roaring_bitmap_portable_serialize(present, pbytes);
    }
    size_t nlen = strlen(name);
    tw_buf_le32(out, (uint32_t)nlen);
    tw_buf_u8(out, (uint8_t)type);
    tw_buf_u8(out, (uint8_t)kind);
    tw_buf_put(out, "\0", 2);
    tw_buf_le32(out, ndocs);
    tw_buf_le32(out, (uint32_t)c.n);
    tw_buf_le64(out, mn);
    tw_buf_le64(out, mx);
    tw_buf_le64(out, plen);
    tw_buf_le64(out, data.len);
    put_padded(out, name, nlen);
    tw_buf_put(out, blocks.p, blocks.len);
    if (plen) put_padded(out, pbytes, plen);
    tw_buf_put(out, data.p, data.len);
    free(pbytes);
    rc = out->oom || blocks.oom || data.oom ? TRAWL_ENOMEM : 0;
out:
    free(keys);
    free(has);
    tw_buf_free(&blocks);
    tw_buf_free(&data);
    roaring_bitmap_free(present);
    return rc;
}

/* Writes a section: u32 field count, u32 0, per field u64 offset and u64
 * length of its blob (from the section's start), then the blobs. */
static int build_section(const tw_tacc *t, uint32_t ndocs, int keywords, tw_buf *sec) {
    uint32_t n = 0;
    uint32_t nf = t ? tw_tacc_nfields(t) : 0;
    for (uint32_t f = 0; f < nf; f++) n += (tw_tacc_field_type(t, f) == TW_FT_KEYWORD) == keywords;
    tw_buf_le32(sec, n);
    tw_buf_le32(sec, 0);
    size_t table = sec->len;
    for (uint32_t i = 0; i < n; i++) {
        tw_buf_le64(sec, 0);
        tw_buf_le64(sec, 0);
    }
    uint32_t i = 0;
    for (uint32_t f = 0; f < nf; f++) {
        if ((tw_tacc_field_type(t, f) == TW_FT_KEYWORD) != keywords) continue;
        size_t at = sec->len;
        int rc = keywords ? build_keyword(t, f, ndocs, sec) : build_column(t, f, ndocs, sec);
        if (rc) return rc;
        if (sec->oom) return TRAWL_ENOMEM;
        uint64_t off = at, len = sec->len - at;
        for (int b = 0; b < 8; b++) {
            sec->p[table + 16 * (size_t)i + (size_t)b] = (uint8_t)(off >> (8 * b));
            sec->p[table + 16 * (size_t)i + 8 + (size_t)b] = (uint8_t)(len >> (8 * b));
        }
        i++;
    }
    return sec->oom ? TRAWL_ENOMEM : 0;
}

int tw_typed_build(const tw_tacc *t, uint32_t ndocs, tw_buf *kw, tw_buf *col) {
    int rc = build_section(t, ndocs, 1, kw);
    return rc ? rc : build_section(t, ndocs, 0, col);
}
