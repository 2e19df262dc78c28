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

/* One field of the term being written: its decoded stream. */
typedef struct fstream {
    uint32_t field, df;
    uint32_t *docs, *tfs, *pos; /* pos: position gaps as stored, tf per doc */
    size_t docs_cap, pos_cap;
} fstream;

typedef struct wctx {
    tw_buf sec[TW_SEC_COUNT];
    fstream fs[TW_MAX_FIELDS];
    uint32_t *udocs, *utf; /* union doc ids; one field's tf aligned with them */
    size_t udocs_cap;
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

/* Decodes one (field, term) accumulator stream into f. */
static int decode_stream(fstream *f, const uint8_t *s, size_t n, uint32_t df) {
    size_t cap = f->docs_cap;
    if (reserve_u32(&f->docs, &f->docs_cap, df)) return -1;
    if (f->docs_cap != cap || !f->tfs) {
        uint32_t *nt = realloc(f->tfs, f->docs_cap * sizeof *nt);
        if (!nt) return -1;
        f->tfs = nt;
    }
    const uint8_t *p = s, *end = s + n;
    uint32_t next = 0;
    size_t np = 0;
    for (uint32_t i = 0; i < df; i++) {
        uint32_t gap, tf;
        if (tw_get_varint32(&p, end, &gap) || tw_get_varint32(&p, end, &tf)) return -2;
        f->docs[i] = next + gap;
        next = f->docs[i] + 1;
        f->tfs[i] = tf;
        if (reserve_u32(&f->pos, &f->pos_cap, np + tf)) return -1;
        for (uint32_t k = 0; k < tf; k++)
            if (tw_get_varint32(&p, end, &f->pos[np++])) return -2;
    }
    f->df = df;
    return 0;
}

/* Writes n values (tf per union rank) as 128-value blocks: widths, then the
 * bit-packed values LSB first, then 4 bytes of padding. */
static void put_tf_blocks(tw_buf *pb, const uint32_t *v, uint32_t n) {
    uint32_t nblocks = (n + TW_BLOCK - 1) / TW_BLOCK;
    size_t widths_at = pb->len;
    for (uint32_t b = 0; b < nblocks; b++) {
        uint32_t mx = 0;
        for (uint32_t i = b * TW_BLOCK; i < n && i < (b + 1) * TW_BLOCK; i++)
            if (v[i] > mx) mx = v[i];
        tw_buf_u8(pb, (uint8_t)bits_for(mx));
    }
    for (uint32_t b = 0; b < nblocks && !pb->oom; b++) {
        unsigned width = pb->p[widths_at + b];
        uint32_t cnt = n - b * TW_BLOCK < TW_BLOCK ? n - b * TW_BLOCK : TW_BLOCK;
        size_t bytes = ((size_t)cnt * width + 7) / 8;
        if (tw_buf_reserve(pb, bytes)) return;
        uint8_t *out = pb->p + pb->len;
        memset(out, 0, bytes);
        uint64_t bit = 0;
        for (uint32_t i = 0; i < cnt; i++, bit += width) {
            uint64_t x = v[b * TW_BLOCK + i];
            for (unsigned k = 0; k < width; k++)
                if (x >> k & 1) out[(bit + k) / 8] |= (uint8_t)(1u << ((bit + k) % 8));
        }
        pb->len += bytes;
    }
    static const uint8_t pad[4] = {0};
    tw_buf_put(pb, pad, 4);
}

/* Appends the posting record of one term present in fields fs[0..nf) to
 * POSTINGS, and each field's positions to POSITIONS. */
static int write_postings(wctx *w, fstream *fs, uint32_t nf, uint32_t *df_out) {
    tw_buf *pb = &w->sec[TW_SEC_POSTINGS], *qb = &w->sec[TW_SEC_POSITIONS];
    /* Union of the fields' doc lists (each ascending). */
    size_t total = 0;
    for (uint32_t i = 0; i < nf; i++) total += fs[i].df;
    if (reserve_u32(&w->udocs, &w->udocs_cap, total)) return -1;
    uint32_t *nt = realloc(w->utf, (w->udocs_cap ? w->udocs_cap : 1) * sizeof *nt);
    if (!nt) return -1;
    w->utf = nt;
    uint32_t df = 0;
    if (nf == 1) {
        memcpy(w->udocs, fs[0].docs, sizeof *w->udocs * fs[0].df);
        df = fs[0].df;
    } else {
        uint32_t at[TW_MAX_FIELDS] = {0};
        for (;;) {
            uint32_t m = UINT32_MAX;
            for (uint32_t i = 0; i < nf; i++)
                if (at[i] < fs[i].df && fs[i].docs[at[i]] < m) m = fs[i].docs[at[i]];
            if (m == UINT32_MAX) break;
            w->udocs[df++] = m;
            for (uint32_t i = 0; i < nf; i++)
                if (at[i] < fs[i].df && fs[i].docs[at[i]] == m) at[i]++;
        }
    }
    *df_out = df;
    uint32_t flags = df > TW_INLINE_MAX_DF ? TW_PF_BITMAP : 0;
    tw_buf_u8(pb, (uint8_t)flags);
    tw_buf_varint(pb, nf);
    if (flags & TW_PF_BITMAP) {
        roaring_bitmap_t *r = roaring_bitmap_of_ptr(df, w->udocs);
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
        tw_buf_varint(pb, df);
        for (uint32_t i = 0; i < df; i++) {
            tw_buf_varint(pb, w->udocs[i] - next);
            next = w->udocs[i] + 1;
        }
    }
    uint32_t nblocks = (df + TW_BLOCK - 1) / TW_BLOCK;
    for (uint32_t i = 0; i < nf; i++) {
        fstream *f = &fs[i];
        /* tf per union rank, 0 where the field lacks the term. */
        uint32_t maxtf = 0;
        for (uint32_t r = 0, k = 0; r < df; r++) {
            if (k < f->df && f->docs[k] == w->udocs[r]) {
                w->utf[r] = f->tfs[k++];
                if (w->utf[r] > maxtf) maxtf = w->utf[r];
            } else {
                w->utf[r] = 0;
            }
        }
        uint32_t fflags = (f->df == df && maxtf == 1) ? TW_FF_TF_ONE : 0;
        tw_buf_varint(pb, f->field);
        tw_buf_varint(pb, f->df);
        tw_buf_u8(pb, (uint8_t)fflags);
        if (!(fflags & TW_FF_TF_ONE)) put_tf_blocks(pb, w->utf, df);
        /* Positions: per union block an offset (when more than one block), then
         * the position gaps of each doc that has the term in this field. */
        tw_buf_varint(pb, qb->len);
        size_t start = qb->len, table_at = qb->len;
        if (nblocks > 1)
            for (uint32_t b = 0; b < nblocks; b++) tw_buf_le32(qb, 0);
        size_t stream_at = qb->len;
        uint64_t k = 0;
        for (uint32_t r = 0; r < df && !qb->oom; r++) {
            if (nblocks > 1 && r % TW_BLOCK == 0) {
                uint32_t off = (uint32_t)(qb->len - stream_at);
                uint8_t *t = qb->p + table_at + 4 * (r / TW_BLOCK);
                t[0] = (uint8_t)off, t[1] = (uint8_t)(off >> 8), t[2] = (uint8_t)(off >> 16), t[3] = (uint8_t)(off >> 24);
            }
            for (uint32_t j = 0; j < w->utf[r]; j++) tw_buf_varint(qb, f->pos[k++]);
        }
        tw_buf_varint(pb, qb->len - start);
    }
    return pb->oom || qb->oom ? -1 : 0;
}

static int build_terms(wctx *w, const tw_accum *a, uint64_t *npostings, uint64_t *nterms_out) {
    uint32_t n = tw_accum_nterms(a);
    uint32_t *order = tw_accum_sorted_terms(a);
    if (!order) return -1;
    tw_buf *dict = &w->sec[TW_SEC_DICT], *idx = &w->sec[TW_SEC_DICTIDX], *post = &w->sec[TW_SEC_POSTINGS];
    tw_buf keys = {0}, entries = {0};
    uint8_t prev[256];
    size_t prev_len = 0;
    uint64_t rec_prev = 0, nterms = 0;
    /* Block index entries are collected first: the block count is known at the end. */
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0;) {
        uint32_t field, df;
        const char *term;
        size_t len, slen;
        const uint8_t *stream;
        tw_accum_term(a, order[i], &field, &term, &len, &df, &stream, &slen);
        /* Gather every field of this term. */
        uint32_t nf = 0;
        for (; i < n; i++) {
            uint32_t f2, df2;
            const char *t2;
            size_t l2, sl2;
            const uint8_t *s2;
            tw_accum_term(a, order[i], &f2, &t2, &l2, &df2, &s2, &sl2);
            if (l2 != len || memcmp(t2, term, len) != 0) break;
            w->fs[nf].field = f2;
            if ((rc = decode_stream(&w->fs[nf], s2, sl2, df2)) != 0) break;
            *npostings += df2;
            nf++;
        }
        if (rc) break;
        uint64_t rec_off = post->len;
        uint32_t udf;
        if ((rc = write_postings(w, w->fs, nf, &udf)) != 0) break;
        uint64_t rec_len = post->len - rec_off;
        if (nterms % TW_DICT_BLOCK == 0) {
            tw_buf_le32(&entries, (uint32_t)dict->len);
            tw_buf_le32(&entries, 0); /* term count, patched below */
            tw_buf_le64(&entries, rec_off);
            tw_buf_le32(&entries, (uint32_t)keys.len);
            tw_buf_le32(&entries, (uint32_t)len);
            tw_buf_put(&keys, term, len);
            prev_len = 0;
            rec_prev = rec_off;
        }
        if (!entries.oom) {
            uint8_t *cnt = entries.p + entries.len - 20;
            uint32_t c = (uint32_t)(nterms % TW_DICT_BLOCK) + 1;
            cnt[0] = (uint8_t)c, cnt[1] = (uint8_t)(c >> 8), cnt[2] = 0, cnt[3] = 0;
        }
        size_t shared = 0;
        while (shared < prev_len && shared < len && prev[shared] == (uint8_t)term[shared]) shared++;
        tw_buf_varint(dict, shared);
        tw_buf_varint(dict, len - shared);
        tw_buf_put(dict, term + shared, len - shared);
        tw_buf_varint(dict, udf);
        tw_buf_varint(dict, rec_off - rec_prev);
        tw_buf_varint(dict, rec_len);
        rec_prev = rec_off;
        memcpy(prev, term, len);
        prev_len = len;
        nterms++;
    }
    free(order);
    tw_buf_le32(idx, (uint32_t)((nterms + TW_DICT_BLOCK - 1) / TW_DICT_BLOCK));
    tw_buf_put(idx, entries.p, entries.len);
    tw_buf_put(idx, keys.p, keys.len);
    if (keys.oom || entries.oom) rc = -1;
    tw_buf_free(&keys);
    tw_buf_free(&entries);
    *nterms_out = nterms;
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

static void build_meta(wctx *w, const tw_accum *a, const char *lang, uint64_t npostings, uint64_t nterms) {
    tw_buf *m = &w->sec[TW_SEC_META];
    uint32_t nd = tw_accum_docs(a), nf = tw_accum_nfields(a);
    tw_buf_varint(m, nd);
    tw_buf_varint(m, nf);
    tw_buf_varint(m, nterms);
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
    wctx *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errcap, "%s: out of memory while building the segment", path);
        return TRAWL_ENOMEM;
    }
    uint64_t npostings = 0, nterms = 0;
    int rc = build_terms(w, a, &npostings, &nterms);
    if (rc == 0) rc = build_docs(w, a);
    if (rc == 0) build_meta(w, a, lang, npostings, nterms);
    for (unsigned s = 1; s < TW_SEC_COUNT && rc == 0; s++)
        if (w->sec[s].oom) rc = -1;
    for (uint32_t f = 0; f < TW_MAX_FIELDS; f++) {
        free(w->fs[f].docs);
        free(w->fs[f].tfs);
        free(w->fs[f].pos);
    }
    free(w->udocs);
    free(w->utf);
    if (rc) {
        snprintf(err, errcap, "%s: %s while building the segment", path,
                 rc == -1 ? "out of memory" : "a limit was exceeded");
        for (unsigned s = 0; s < TW_SEC_COUNT; s++) tw_buf_free(&w->sec[s]);
        free(w);
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
        for (unsigned s = 0; s < TW_SEC_COUNT; s++) tw_buf_free(&w->sec[s]);
        free(w);
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
        tw_buf_le64(&table, w->sec[s].len);
        tw_buf_le64(&table, XXH3_64bits(w->sec[s].p, w->sec[s].len));
        if (io == 0) io = write_all(fd, w->sec[s].p, w->sec[s].len);
        off += w->sec[s].len;
        if (sum) sum->section_bytes[s] = w->sec[s].len;
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
    for (unsigned s = 0; s < TW_SEC_COUNT; s++) tw_buf_free(&w->sec[s]);
    free(w);
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
        sum->terms = nterms;
        sum->postings = npostings;
    }
    return 0;
}
