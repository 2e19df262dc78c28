/*
 * segwriter.c — turns an accumulator into one immutable segment file.
 *
 * Third stage of the pipeline (accumulator → segment writer → files). Builds
 * every section in memory (see docs/FORMAT.md), then writes header, sections,
 * section table and footer, each section checksummed with XXH3-64, and fsyncs
 * the file. The file only becomes part of the index when a manifest names it.
 */
#include "segwriter.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <roaring/roaring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "accum.h"
#include "segment.h"
#include "trawl.h"
#include "varint.h"

typedef struct wctx {
    tw_buf sec[TW_SEC_COUNT];
    /* scratch for one term */
    uint32_t *docs, *tfs, *pos;
    size_t docs_cap, pos_cap;
    char *err;
    size_t errcap;
} wctx;

static int reserve_u32(uint32_t **p, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 256;
    while (n < need) n *= 2;
    uint32_t *np = realloc(*p, n * sizeof *np);
    if (!np) return -1;
    *p = np;
    *cap = n;
    return 0;
}

static unsigned bits_for(uint32_t v) { return v ? 32u - (unsigned)__builtin_clz(v) : 0u; }

/* Decodes one term's accumulator stream into w->docs / tfs / pos. */
static int decode_stream(wctx *w, const uint8_t *s, size_t n, uint32_t df, uint64_t *npos) {
    size_t docs_cap = w->docs_cap;
    if (reserve_u32(&w->docs, &w->docs_cap, df)) return -1;
    if (w->docs_cap != docs_cap || !w->tfs) {
        uint32_t *nt = realloc(w->tfs, w->docs_cap * sizeof *nt);
        if (!nt) return -1;
        w->tfs = nt;
    }
    const uint8_t *p = s, *end = s + n;
    uint32_t next = 0;
    size_t np = 0;
    for (uint32_t i = 0; i < df; i++) {
        uint32_t gap, tf;
        if (tw_get_varint32(&p, end, &gap) || tw_get_varint32(&p, end, &tf)) return -2;
        w->docs[i] = next + gap;
        next = w->docs[i] + 1;
        w->tfs[i] = tf;
        if (reserve_u32(&w->pos, &w->pos_cap, np + tf)) return -1;
        for (uint32_t k = 0; k < tf; k++)
            if (tw_get_varint32(&p, end, &w->pos[np++])) return -2; /* gaps, as stored */
    }
    *npos = np;
    return 0;
}

/* Appends the posting record of the current term to POSTINGS (and its
 * positions to POSITIONS). */
static int write_postings(wctx *w, uint32_t df, uint64_t npos) {
    tw_buf *pb = &w->sec[TW_SEC_POSTINGS], *qb = &w->sec[TW_SEC_POSITIONS];
    uint32_t flags = 0, maxtf = 0;
    for (uint32_t i = 0; i < df; i++)
        if (w->tfs[i] > maxtf) maxtf = w->tfs[i];
    if (df > TW_INLINE_MAX_DF) flags |= TW_PF_BITMAP;
    if (maxtf <= 1) flags |= TW_PF_TF_ONE;
    tw_buf_u8(pb, (uint8_t)flags);
    if (flags & TW_PF_BITMAP) {
        roaring_bitmap_t *r = roaring_bitmap_of_ptr(df, w->docs);
        if (!r) return -1;
        roaring_bitmap_run_optimize(r);
        size_t sz = roaring_bitmap_portable_size_in_bytes(r);
        tw_buf_varint(pb, sz);
        if (tw_buf_reserve(pb, sz)) {
            roaring_bitmap_free(r);
            return -1;
        }
        size_t got = roaring_bitmap_portable_serialize(r, (char *)pb->p + pb->len);
        roaring_bitmap_free(r);
        if (got != sz) return -2;
        pb->len += sz;
    } else {
        uint32_t next = 0;
        for (uint32_t i = 0; i < df; i++) {
            tw_buf_varint(pb, w->docs[i] - next);
            next = w->docs[i] + 1;
        }
    }
    uint32_t nblocks = (df + TW_BLOCK - 1) / TW_BLOCK;
    if (!(flags & TW_PF_TF_ONE)) {
        size_t widths_at = pb->len;
        for (uint32_t b = 0; b < nblocks; b++) {
            uint32_t mx = 0;
            for (uint32_t i = b * TW_BLOCK; i < df && i < (b + 1) * TW_BLOCK; i++)
                if (w->tfs[i] - 1 > mx) mx = w->tfs[i] - 1;
            tw_buf_u8(pb, (uint8_t)bits_for(mx));
        }
        for (uint32_t b = 0; b < nblocks && !pb->oom; b++) {
            unsigned width = pb->p[widths_at + b];
            uint32_t cnt = df - b * TW_BLOCK < TW_BLOCK ? df - b * TW_BLOCK : TW_BLOCK;
            size_t bytes = ((size_t)cnt * width + 7) / 8;
            if (tw_buf_reserve(pb, bytes)) return -1;
            uint8_t *out = pb->p + pb->len;
            memset(out, 0, bytes);
            uint64_t bit = 0;
            for (uint32_t i = 0; i < cnt; i++, bit += width) {
                uint64_t v = w->tfs[b * TW_BLOCK + i] - 1;
                for (unsigned k = 0; k < width; k++)
                    if (v >> k & 1) out[(bit + k) / 8] |= (uint8_t)(1u << ((bit + k) % 8));
            }
            pb->len += bytes;
        }
        /* Padding so that a 5-byte read at any tf never leaves the record. */
        static const uint8_t pad[4] = {0};
        tw_buf_put(pb, pad, 4);
    }
    /* Positions: a block offset table (when more than one block) then gaps. */
    tw_buf_varint(pb, qb->len);
    size_t start = qb->len;
    size_t table_at = qb->len;
    if (nblocks > 1)
        for (uint32_t b = 0; b < nblocks; b++) tw_buf_le32(qb, 0);
    size_t stream_at = qb->len;
    uint64_t k = 0;
    for (uint32_t i = 0; i < df && !qb->oom; i++) {
        if (nblocks > 1 && i % TW_BLOCK == 0) {
            uint32_t off = (uint32_t)(qb->len - stream_at);
            uint8_t *t = qb->p + table_at + 4 * (i / TW_BLOCK);
            t[0] = (uint8_t)off, t[1] = (uint8_t)(off >> 8), t[2] = (uint8_t)(off >> 16), t[3] = (uint8_t)(off >> 24);
        }
        for (uint32_t j = 0; j < w->tfs[i]; j++) tw_buf_varint(qb, w->pos[k++]);
    }
    (void)npos;
    tw_buf_varint(pb, qb->len - start);
    return pb->oom || qb->oom ? -1 : 0;
}

static void put_key(tw_buf *b, uint32_t field, const char *term, size_t len) {
    tw_buf_u8(b, (uint8_t)(field >> 8));
    tw_buf_u8(b, (uint8_t)field);
    tw_buf_put(b, term, len);
}

static int build_terms(wctx *w, const tw_accum *a, uint64_t *npostings) {
    uint32_t n = tw_accum_nterms(a);
    uint32_t *order = tw_accum_sorted_terms(a);
    if (!order) return -1;
    tw_buf *dict = &w->sec[TW_SEC_DICT], *idx = &w->sec[TW_SEC_DICTIDX], *post = &w->sec[TW_SEC_POSTINGS];
    tw_buf keys = {0};
    uint8_t prev[2 + 256];
    size_t prev_len = 0;
    uint64_t rec_prev = 0;
    uint32_t nblocks = (n + TW_DICT_BLOCK - 1) / TW_DICT_BLOCK;
    tw_buf_le32(idx, nblocks);
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        uint32_t field, df;
        const char *term;
        size_t len, slen;
        const uint8_t *stream;
        tw_accum_term(a, order[i], &field, &term, &len, &df, &stream, &slen);
        uint64_t np;
        rc = decode_stream(w, stream, slen, df, &np);
        if (rc) break;
        uint64_t rec_off = post->len;
        rc = write_postings(w, df, np);
        if (rc) break;
        uint64_t rec_len = post->len - rec_off;
        *npostings += df;
        uint8_t key[2 + 256];
        key[0] = (uint8_t)(field >> 8);
        key[1] = (uint8_t)field;
        memcpy(key + 2, term, len);
        size_t klen = len + 2;
        if (i % TW_DICT_BLOCK == 0) {
            /* New block: fixed index entry, full first key in the key pool. */
            uint32_t cnt = n - i < TW_DICT_BLOCK ? n - i : TW_DICT_BLOCK;
            tw_buf_le32(idx, (uint32_t)dict->len);
            tw_buf_le32(idx, cnt);
            tw_buf_le64(idx, rec_off);
            tw_buf_le32(idx, (uint32_t)keys.len);
            tw_buf_le32(idx, (uint32_t)klen);
            put_key(&keys, field, term, len);
            prev_len = 0;
            rec_prev = rec_off;
        }
        size_t shared = 0;
        while (shared < prev_len && shared < klen && prev[shared] == key[shared]) shared++;
        tw_buf_varint(dict, shared);
        tw_buf_varint(dict, klen - shared);
        tw_buf_put(dict, key + shared, klen - shared);
        tw_buf_varint(dict, df);
        tw_buf_varint(dict, rec_off - rec_prev);
        tw_buf_varint(dict, rec_len);
        rec_prev = rec_off;
        memcpy(prev, key, klen);
        prev_len = klen;
    }
    free(order);
    tw_buf_put(idx, keys.p, keys.len);
    if (keys.oom) rc = -1;
    tw_buf_free(&keys);
    return rc;
}

static int cmp_ids(const void *x, const void *y, void *ctx) {
    const tw_accum *a = ctx;
    const char *s, *t, *st;
    size_t sl, tl, sn;
    tw_accum_doc(a, *(const uint32_t *)x, &s, &sl, &st, &sn);
    tw_accum_doc(a, *(const uint32_t *)y, &t, &tl, &st, &sn);
    int c = memcmp(s, t, sl < tl ? sl : tl);
    if (c) return c;
    if (sl != tl) return sl < tl ? -1 : 1;
    /* Equal ids: the later document sorts first, so lookups find the newest. */
    uint32_t dx = *(const uint32_t *)x, dy = *(const uint32_t *)y;
    return dx > dy ? -1 : dx < dy;
}

static int build_docs(wctx *w, const tw_accum *a) {
    uint32_t nd = tw_accum_docs(a), nf = tw_accum_nfields(a);
    tw_buf *dl = &w->sec[TW_SEC_DOCLEN], *ids = &w->sec[TW_SEC_IDS], *st = &w->sec[TW_SEC_STORE];
    for (uint32_t f = 0; f < nf; f++) tw_buf_put(dl, tw_accum_doclens(a, f), (size_t)nd * 4);
    /* IDS: count, offsets, sorted doc numbers, pool. */
    tw_buf_le32(ids, nd);
    uint64_t off = 0;
    for (uint32_t d = 0; d < nd; d++) {
        const char *id, *s;
        size_t il, sl;
        tw_accum_doc(a, d, &id, &il, &s, &sl);
        tw_buf_le32(ids, (uint32_t)off);
        off += il;
    }
    if (off > UINT32_MAX) return -2;
    tw_buf_le32(ids, (uint32_t)off);
    uint32_t *sorted = malloc(sizeof *sorted * (nd ? nd : 1));
    if (!sorted) return -1;
    for (uint32_t d = 0; d < nd; d++) sorted[d] = d;
    qsort_r(sorted, nd, sizeof *sorted, cmp_ids, (void *)a);
    for (uint32_t d = 0; d < nd; d++) tw_buf_le32(ids, sorted[d]);
    free(sorted);
    for (uint32_t d = 0; d < nd; d++) {
        const char *id, *s;
        size_t il, sl;
        tw_accum_doc(a, d, &id, &il, &s, &sl);
        tw_buf_put(ids, id, il);
    }
    /* STORE: block count, block index (first doc, clen, ulen, pad, u64 offset), payloads. */
    tw_buf raw = {0}, data = {0}, index = {0};
    uint32_t nblocks = 0, first = 0;
    int rc = 0;
    for (uint32_t d = 0; d <= nd && rc == 0; d++) {
        if (d == nd || raw.len >= TW_STORE_BLOCK) {
            if (raw.len > 0) {
                if (raw.len > (size_t)LZ4_MAX_INPUT_SIZE) {
                    rc = -2;
                    break;
                }
                int bound = LZ4_compressBound((int)raw.len);
                if (tw_buf_reserve(&data, (size_t)bound)) {
                    rc = -1;
                    break;
                }
                int c = LZ4_compress_default((const char *)raw.p, (char *)data.p + data.len, (int)raw.len, bound);
                if (c <= 0) {
                    rc = -2;
                    break;
                }
                tw_buf_le32(&index, first);
                tw_buf_le32(&index, (uint32_t)c);
                tw_buf_le32(&index, (uint32_t)raw.len);
                tw_buf_le32(&index, 0);
                tw_buf_le64(&index, data.len);
                data.len += (size_t)c;
                nblocks++;
                raw.len = 0;
            }
            first = d;
            if (d == nd) break;
        }
        const char *id, *s;
        size_t il, sl;
        tw_accum_doc(a, d, &id, &il, &s, &sl);
        tw_buf_varint(&raw, sl);
        tw_buf_put(&raw, s, sl);
    }
    if (raw.oom || data.oom || index.oom) rc = -1;
    tw_buf_le32(st, nblocks);
    tw_buf_le32(st, 0);
    tw_buf_put(st, index.p, index.len);
    tw_buf_put(st, data.p, data.len);
    tw_buf_free(&raw);
    tw_buf_free(&data);
    tw_buf_free(&index);
    return rc;
}

static void build_meta(wctx *w, const tw_accum *a, const char *lang, uint64_t npostings) {
    tw_buf *m = &w->sec[TW_SEC_META];
    uint32_t nd = tw_accum_docs(a), nf = tw_accum_nfields(a);
    tw_buf_varint(m, nd);
    tw_buf_varint(m, nf);
    tw_buf_varint(m, tw_accum_nterms(a));
    tw_buf_varint(m, npostings);
    tw_buf_varint(m, strlen(lang));
    tw_buf_put(m, lang, strlen(lang));
    for (uint32_t f = 0; f < nf; f++) {
        const char *name = tw_accum_field_name(a, f);
        const uint32_t *dl = tw_accum_doclens(a, f);
        uint32_t docs = 0;
        uint64_t tokens = 0;
        for (uint32_t d = 0; d < nd; d++) {
            docs += dl[d] > 0;
            tokens += dl[d];
        }
        tw_buf_varint(m, strlen(name));
        tw_buf_put(m, name, strlen(name));
        tw_buf_varint(m, docs);
        tw_buf_varint(m, tokens);
    }
}

static int write_all(int fd, const void *p, size_t n) {
    const uint8_t *q = p;
    while (n > 0) {
        ssize_t k = write(fd, q, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        q += k;
        n -= (size_t)k;
    }
    return 0;
}

int tw_segment_write(const tw_accum *a, const char *lang, const char *path, tw_seg_summary *sum, char *err,
                     size_t errcap) {
    wctx w;
    memset(&w, 0, sizeof w);
    uint64_t npostings = 0;
    int rc = build_terms(&w, a, &npostings);
    if (rc == 0) rc = build_docs(&w, a);
    if (rc == 0) build_meta(&w, a, lang, npostings);
    for (unsigned s = 1; s < TW_SEC_COUNT && rc == 0; s++)
        if (w.sec[s].oom) rc = -1;
    free(w.docs);
    free(w.tfs);
    free(w.pos);
    if (rc) {
        snprintf(err, errcap, "%s: %s while building the segment", path,
                 rc == -1 ? "out of memory" : "a limit was exceeded");
        for (unsigned s = 0; s < TW_SEC_COUNT; s++) tw_buf_free(&w.sec[s]);
        return rc == -1 ? TRAWL_ENOMEM : TRAWL_ELIMIT;
    }
    /* Assemble: header, aligned sections, table, footer. */
    tw_buf head = {0}, table = {0};
    tw_buf_put(&head, TW_SEG_MAGIC, 8);
    tw_buf_le32(&head, TW_FORMAT_VERSION);
    tw_buf_le32(&head, TW_SEC_COUNT - 1);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errcap, "%s: cannot create: %s", path, strerror(errno));
        for (unsigned s = 0; s < TW_SEC_COUNT; s++) tw_buf_free(&w.sec[s]);
        tw_buf_free(&head);
        return TRAWL_EIO;
    }
    int io = write_all(fd, head.p, head.len);
    uint64_t off = head.len;
    static const uint8_t zeros[8] = {0};
    for (unsigned s = 1; s < TW_SEC_COUNT && io == 0; s++) {
        size_t pad = (8 - off % 8) % 8;
        if (pad) io = write_all(fd, zeros, pad);
        off += pad;
        tw_buf_le32(&table, s);
        tw_buf_le32(&table, 0);
        tw_buf_le64(&table, off);
        tw_buf_le64(&table, w.sec[s].len);
        tw_buf_le64(&table, XXH3_64bits(w.sec[s].p, w.sec[s].len));
        if (io == 0) io = write_all(fd, w.sec[s].p, w.sec[s].len);
        off += w.sec[s].len;
        if (sum) sum->section_bytes[s] = w.sec[s].len;
    }
    size_t pad = (8 - off % 8) % 8;
    if (io == 0 && pad) io = write_all(fd, zeros, pad);
    off += pad;
    uint64_t table_off = off;
    /* Footer: table offset, section count, version, checksum of header + table, magic. */
    XXH3_state_t *st = XXH3_createState();
    uint64_t hsum = 0;
    if (st) {
        XXH3_64bits_reset(st);
        XXH3_64bits_update(st, head.p, head.len);
        XXH3_64bits_update(st, table.p, table.len);
        hsum = XXH3_64bits_digest(st);
        XXH3_freeState(st);
    }
    tw_buf foot = {0};
    tw_buf_le64(&foot, table_off);
    tw_buf_le32(&foot, TW_SEC_COUNT - 1);
    tw_buf_le32(&foot, TW_FORMAT_VERSION);
    tw_buf_le64(&foot, hsum);
    tw_buf_put(&foot, TW_SEG_END_MAGIC, 8);
    if (!st || table.oom || foot.oom || head.oom) io = -2;
    if (io == 0) io = write_all(fd, table.p, table.len);
    if (io == 0) io = write_all(fd, foot.p, foot.len);
    if (io == 0 && fsync(fd) != 0) io = -1;
    int saved = errno;
    if (close(fd) != 0 && io == 0) io = -1;
    uint64_t file_bytes = table_off + table.len + foot.len;
    for (unsigned s = 0; s < TW_SEC_COUNT; s++) tw_buf_free(&w.sec[s]);
    tw_buf_free(&head);
    tw_buf_free(&table);
    tw_buf_free(&foot);
    if (io) {
        snprintf(err, errcap, "%s: write failed: %s", path, io == -2 ? "out of memory" : strerror(saved));
        unlink(path);
        return io == -2 ? TRAWL_ENOMEM : TRAWL_EIO;
    }
    if (sum) {
        sum->bytes = file_bytes;
        sum->docs = tw_accum_docs(a);
        sum->terms = tw_accum_nterms(a);
        sum->postings = npostings;
    }
    return 0;
}
