/*
 * segwriter.c — turns an accumulator into one immutable segment file.
 *
 * Third stage of the pipeline (accumulator → segment writer → files). Builds
 * every section in memory (see docs/FORMAT.md), then writes header, sections,
 * section table and footer, each section checksummed with XXH3-64, and fsyncs
 * the file. The file only becomes part of the index when a manifest names it.
 *
 * Threads share the work when they can be started: a helper builds the
 * document sections (DOCLEN, IDS, STORE, with the LZ4 compression) while the
 * terms, cut into parts of about equal stream bytes, are turned into posting
 * records by one thread per part. Each part writes its POSTINGS and POSITIONS
 * as if it started the sections; the parts are then laid end to end, and the
 * position offsets in the records of later parts are re-encoded with their
 * true values (which may lengthen them), before DICT and DICTIDX are built
 * from the final record offsets. Finally two threads write the file with
 * pwrite. The bytes are the same whatever the number of threads. The
 * accumulator is only read.
 */
#include "segwriter.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <pthread.h>
#include <roaring/roaring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "accum.h"
#include "segment.h"
#include "error.h"
#include "varint.h"

/* One field of the term being written, decoded from its accumulator stream:
 * doc ids, tf, and the position varints of its docs back to back (they are
 * stored in POSITIONS exactly as the stream holds them), with the offset of
 * each doc's positions in that run. */
typedef struct fstream {
    uint32_t field, df;
    uint32_t *docs, *tfs, *posoff; /* posoff: df + 1 entries */
    size_t docs_cap;
    tw_buf pos;
} fstream;

#define MAX_PARTS 8u         /* term parts */
#define MAX_PIECES MAX_PARTS /* POSTINGS and POSITIONS: a piece per part; STORE: index, blocks, open block */

/* The sections being built. POSTINGS, POSITIONS and STORE come in pieces,
 * laid end to end in the file; the others have one. */
typedef struct wctx {
    tw_buf sec[TW_SEC_COUNT][MAX_PIECES];
    int store_borrowed; /* sec[TW_SEC_STORE][1] is the accumulator's memory */
} wctx;

/* One thread's share of the terms: groups [g0, g1) of the sorted terms (a
 * group is every field of one term), their records and positions, with
 * offsets relative to the part's own buffers. */
typedef struct part {
    const tw_accum *a;
    const uint32_t *order;  /* term ids sorted by (bytes, field) */
    const uint32_t *gstart; /* group g is order[gstart[g] .. gstart[g + 1]) */
    uint32_t g0, g1;
    tw_buf post, pos;
    uint32_t *udf;     /* per group: documents in any field */
    uint64_t *rec_end; /* per group: end of its record in post */
    size_t *fix;       /* where in post a positions offset varint starts */
    size_t nfix, fix_cap;
    uint64_t npostings;
    int rc;
    /* scratch */
    fstream fs[TW_MAX_FIELDS];
    uint32_t *udocs, *utf, *ufirst; /* union doc ids; one field's tf and doc index per union rank */
    size_t udocs_cap;
    tw_buf stream; /* one accumulator stream, copied out */
} part;

static size_t sec_len(const wctx *w, unsigned s) {
    size_t n = 0;
    for (unsigned k = 0; k < MAX_PIECES; k++) n += w->sec[s][k].len;
    return n;
}

/* XXH3-64 of section s (its pieces end to end), using the state st. */
static uint64_t sec_hash(const wctx *w, unsigned s, XXH3_state_t *st) {
    XXH3_64bits_reset(st);
    for (unsigned k = 0; k < MAX_PIECES; k++)
        if (w->sec[s][k].len) XXH3_64bits_update(st, w->sec[s][k].p, w->sec[s][k].len);
    return XXH3_64bits_digest(st);
}

static int reserve_u32(uint32_t **p, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 256;
    while (n < need) n *= 2;
    uint32_t *np = realloc(*p, n * sizeof *np);
    if (!np) return TRAWL_ENOMEM;
    *p = np;
    *cap = n;
    return 0;
}

static unsigned bits_for(uint32_t v) {
    return v ? 32u - (unsigned)__builtin_clz(v) : 0u;
}

/* Decodes varint *v at *pp (not past end). 0, or TRAWL_ECORRUPT when malformed. */
static inline int get_u32(const uint8_t **pp, const uint8_t *end, uint32_t *v) {
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) {
        *v = *p;
        *pp = p + 1;
        return 0;
    }
    return tw_get_varint32(pp, end, v) ? TRAWL_ECORRUPT : 0;
}

/* Decodes one (field, term) accumulator stream s[0..n) of df records into f.
 * 0, TRAWL_ENOMEM, or TRAWL_ECORRUPT when the stream is malformed (the
 * accumulator's memory was damaged). */
static int decode_stream(fstream *f, const uint8_t *s, size_t n, uint32_t df) {
    if (f->docs_cap < (size_t)df + 1) {
        size_t cap = f->docs_cap ? f->docs_cap : 256;
        while (cap < (size_t)df + 1) cap *= 2;
        uint32_t *nd = realloc(f->docs, cap * sizeof *nd);
        if (nd) f->docs = nd;
        uint32_t *nt = realloc(f->tfs, cap * sizeof *nt);
        if (nt) f->tfs = nt;
        uint32_t *no = realloc(f->posoff, cap * sizeof *no);
        if (no) f->posoff = no;
        if (!nd || !nt || !no) return TRAWL_ENOMEM;
        f->docs_cap = cap;
    }
    /* The positions are at most the stream's bytes. */
    f->pos.len = 0;
    if (tw_buf_reserve(&f->pos, n)) return TRAWL_ENOMEM;
    uint8_t *pos = f->pos.p;
    size_t np = 0;
    const uint8_t *p = s, *end = s + n;
    uint32_t next = 0;
    for (uint32_t i = 0; i < df; i++) {
        uint32_t gap, tf;
        if (get_u32(&p, end, &gap) || get_u32(&p, end, &tf)) return TRAWL_ECORRUPT;
        f->docs[i] = next + gap;
        next = f->docs[i] + 1;
        f->tfs[i] = tf;
        f->posoff[i] = (uint32_t)np;
        /* tf varints: tf bytes below 0x80 end them. */
        const uint8_t *q = p;
        for (uint32_t k = 0; k < tf; q++) {
            if (q >= end) return TRAWL_ECORRUPT;
            k += *q < 0x80;
        }
        memcpy(pos + np, p, (size_t)(q - p));
        np += (size_t)(q - p);
        p = q;
    }
    if (p != end) return TRAWL_ECORRUPT;
    if (np > UINT32_MAX) return TRAWL_ELIMIT;
    f->posoff[df] = (uint32_t)np;
    f->pos.len = np;
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
        for (uint32_t i = b * TW_BLOCK; i < n && i < (b + 1) * TW_BLOCK; i++) mx |= v[i];
        tw_buf_u8(pb, (uint8_t)bits_for(mx));
    }
    for (uint32_t b = 0; b < nblocks && !pb->oom; b++) {
        unsigned width = pb->p[widths_at + b];
        uint32_t cnt = n - b * TW_BLOCK < TW_BLOCK ? n - b * TW_BLOCK : TW_BLOCK;
        size_t bytes = ((size_t)cnt * width + 7) / 8;
        if (tw_buf_reserve(pb, bytes)) return;
        uint8_t *out = pb->p + pb->len;
        uint64_t acc = 0;
        unsigned have = 0;
        const uint32_t *x = v + (size_t)b * TW_BLOCK;
        for (uint32_t i = 0; i < cnt; i++) {
            acc |= (uint64_t)x[i] << have;
            have += width;
            while (have >= 8) {
                *out++ = (uint8_t)acc;
                acc >>= 8;
                have -= 8;
            }
        }
        if (have) *out++ = (uint8_t)acc;
        pb->len += bytes;
    }
    static const uint8_t pad[4] = {0};
    tw_buf_put(pb, pad, 4);
}

static inline void put_le32(uint8_t *t, uint32_t v) {
    t[0] = (uint8_t)v, t[1] = (uint8_t)(v >> 8), t[2] = (uint8_t)(v >> 16), t[3] = (uint8_t)(v >> 24);
}

/* Appends the posting record of one term present in fields fs[0..nf) to the
 * part's POSTINGS, and each field's positions to its POSITIONS. */
/* Block maxima of one field: per 128-doc block of the doc list, the largest
 * tf (255 standing for 255 or more) and the smallest length of the field among
 * the block's docs that have the term in it (65535 for none or longer), so a
 * reader can bound any BM25 score in the block. 128 is the tf/positions block:
 * the rank the intersection returns finds it, at 3 bytes per 128 postings. */
static void put_blockmax(tw_buf *pb, const uint32_t *docs, const uint32_t *tf, uint32_t df, const uint32_t *dl) {
    for (uint32_t b = 0; b * TW_BLOCK < df; b++) {
        uint32_t mx = 0, mn = 65535;
        for (uint32_t r = b * TW_BLOCK; r < df && r < (b + 1) * TW_BLOCK; r++) {
            if (!tf[r]) continue;
            if (tf[r] > mx) mx = tf[r];
            if (dl[docs[r]] < mn) mn = dl[docs[r]];
        }
        tw_buf_u8(pb, (uint8_t)(mx > 255 ? 255 : mx));
        tw_buf_u8(pb, (uint8_t)mn);
        tw_buf_u8(pb, (uint8_t)(mn >> 8));
    }
}

/* Appends the record of one term present in fields fs[0..nf) to the part's
 * POSTINGS and each field's positions to its POSITIONS; *df_out is the
 * number of documents with the term in any of the fields. 0, TRAWL_ENOMEM, or
 * TRAWL_ECORRUPT when the bitmap serializes to another size than announced. */
static int write_postings(part *w, fstream *fs, uint32_t nf, uint32_t *df_out) {
    tw_buf *pb = &w->post, *qb = &w->pos;
    const uint32_t *udocs;
    uint32_t df = 0;
    if (nf == 1) {
        udocs = fs[0].docs;
        df = fs[0].df;
    } else {
        /* Union of the fields' doc lists (each ascending). */
        size_t total = 0;
        for (uint32_t i = 0; i < nf; i++) total += fs[i].df;
        size_t cap = w->udocs_cap;
        if (reserve_u32(&w->udocs, &w->udocs_cap, total)) return TRAWL_ENOMEM;
        if (cap != w->udocs_cap || !w->utf) {
            uint32_t *nt = realloc(w->utf, w->udocs_cap * sizeof *nt);
            if (nt) w->utf = nt;
            uint32_t *nfi = realloc(w->ufirst, (w->udocs_cap / TW_BLOCK + 2) * sizeof *nfi);
            if (nfi) w->ufirst = nfi;
            if (!nt || !nfi) return TRAWL_ENOMEM;
        }
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
        udocs = w->udocs;
    }
    *df_out = df;
    uint32_t flags = df > TW_INLINE_MAX_DF ? TW_PF_BITMAP : 0;
    tw_buf_u8(pb, (uint8_t)flags);
    tw_buf_varint(pb, nf);
    if (flags & TW_PF_BITMAP) {
        roaring_bitmap_t *r = roaring_bitmap_of_ptr(df, udocs);
        if (!r) return TRAWL_ENOMEM;
        roaring_bitmap_run_optimize(r);
        size_t sz = roaring_bitmap_portable_size_in_bytes(r);
        tw_buf_varint(pb, sz);
        if (tw_buf_reserve(pb, sz)) {
            roaring_bitmap_free(r);
            return TRAWL_ENOMEM;
        }
        size_t got = roaring_bitmap_portable_serialize(r, (char *)pb->p + pb->len);
        roaring_bitmap_free(r);
        if (got != sz) return TRAWL_ECORRUPT;
        pb->len += sz;
    } else {
        uint32_t next = 0;
        tw_buf_varint(pb, df);
        for (uint32_t i = 0; i < df; i++) {
            tw_buf_varint(pb, udocs[i] - next);
            next = udocs[i] + 1;
        }
    }
    uint32_t nblocks = (df + TW_BLOCK - 1) / TW_BLOCK;
    for (uint32_t i = 0; i < nf; i++) {
        fstream *f = &fs[i];
        /* tf per union rank (0 where the field lacks the term), and for each
         * 128-doc block the index of the first doc of f at or after it. */
        const uint32_t *tf;
        uint32_t maxtf = 0;
        if (nf == 1) {
            tf = f->tfs;
            for (uint32_t r = 0; r < df; r++) maxtf |= tf[r];
        } else {
            uint32_t *utf = w->utf;
            for (uint32_t r = 0, k = 0; r < df; r++) {
                if (r % TW_BLOCK == 0) w->ufirst[r / TW_BLOCK] = k;
                if (k < f->df && f->docs[k] == udocs[r]) {
                    utf[r] = f->tfs[k++];
                    maxtf |= utf[r];
                } else {
                    utf[r] = 0;
                }
            }
            tf = utf;
        }
        uint32_t fflags = (f->df == df && maxtf == 1) ? TW_FF_TF_ONE : 0;
        /* Short (inline) lists are scored outright; longer ones get block maxima. */
        if (df > TW_INLINE_MAX_DF) fflags |= TW_FF_BLOCKMAX;
        tw_buf_varint(pb, f->field);
        tw_buf_varint(pb, f->df);
        tw_buf_u8(pb, (uint8_t)fflags);
        if (!(fflags & TW_FF_TF_ONE)) put_tf_blocks(pb, tf, df);
        if (fflags & TW_FF_BLOCKMAX) put_blockmax(pb, udocs, tf, df, tw_accum_doclens(w->a, f->field));
        /* Positions: per union block an offset (when more than one block), then
         * the position gaps of each doc that has the term in this field. */
        if (w->nfix == w->fix_cap) {
            size_t ncap = w->fix_cap ? w->fix_cap * 2 : 4096;
            size_t *nfx = realloc(w->fix, ncap * sizeof *nfx);
            if (!nfx) return TRAWL_ENOMEM;
            w->fix = nfx;
            w->fix_cap = ncap;
        }
        w->fix[w->nfix++] = pb->len;
        tw_buf_varint(pb, qb->len);
        size_t start = qb->len;
        if (nblocks > 1) {
            if (tw_buf_reserve(qb, (size_t)nblocks * 4)) return TRAWL_ENOMEM;
            for (uint32_t b = 0; b < nblocks; b++)
                put_le32(qb->p + qb->len + 4 * (size_t)b, f->posoff[nf == 1 ? b * TW_BLOCK : w->ufirst[b]]);
            qb->len += (size_t)nblocks * 4;
        }
        tw_buf_put(qb, f->pos.p, f->pos.len);
        tw_buf_varint(pb, qb->len - start);
    }
    return pb->oom || qb->oom ? TRAWL_ENOMEM : 0;
}

/* ------------------------------------------------------------------------ */
/* Tasks shared by the threads of one segment write                          */

#define MAX_TASKS (MAX_PARTS + 1)

typedef void (*task_fn)(void *);

typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    task_fn fn[MAX_TASKS];
    void *arg[MAX_TASKS];
    unsigned n, next;
    int closed; /* no task will be added */
} pool;

static void pool_add(pool *p, task_fn fn, void *arg) {
    pthread_mutex_lock(&p->mu);
    p->fn[p->n] = fn;
    p->arg[p->n++] = arg;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void pool_close(pool *p) {
    pthread_mutex_lock(&p->mu);
    p->closed = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Runs tasks until the pool is closed and none is left. */
static void pool_work(pool *p) {
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->next == p->n && !p->closed) pthread_cond_wait(&p->cv, &p->mu);
        if (p->next == p->n) break;
        unsigned t = p->next++;
        pthread_mutex_unlock(&p->mu);
        p->fn[t](p->arg[t]);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
}

static void *pool_thread(void *arg) {
    pool_work(arg);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Term sections                                                             */

/* Frees the part's scratch (decoded streams, union arrays): not its output. */
static void free_scratch(part *p) {
    for (uint32_t f = 0; f < TW_MAX_FIELDS; f++) {
        free(p->fs[f].docs);
        free(p->fs[f].tfs);
        free(p->fs[f].posoff);
        tw_buf_free(&p->fs[f].pos);
        memset(&p->fs[f], 0, sizeof p->fs[f]);
    }
    free(p->udocs);
    free(p->utf);
    free(p->ufirst);
    p->udocs = p->utf = p->ufirst = NULL;
    p->udocs_cap = 0;
    tw_buf_free(&p->stream);
}

/* Builds the records of the part's groups. Sets p->rc (0 or a trawl_rc). */
static void build_part(void *arg) {
    part *p = arg;
    const tw_accum *a = p->a;
    int rc = 0;
    uint32_t ng = p->g1 - p->g0;
    p->udf = malloc(sizeof *p->udf * (ng ? ng : 1));
    p->rec_end = malloc(sizeof *p->rec_end * (ng ? ng : 1));
    if (!p->udf || !p->rec_end) rc = TRAWL_ENOMEM;
    for (uint32_t g = p->g0; g < p->g1 && rc == 0; g++) {
        uint32_t nf = 0;
        for (uint32_t i = p->gstart[g]; i < p->gstart[g + 1]; i++) {
            uint32_t f2, df2;
            const char *t2;
            size_t l2, sl2;
            tw_accum_term(a, p->order[i], &f2, &t2, &l2, &df2, &sl2);
            p->stream.len = 0;
            if (tw_buf_reserve(&p->stream, sl2 ? sl2 : 1)) {
                rc = TRAWL_ENOMEM;
                break;
            }
            tw_accum_stream(a, p->order[i], p->stream.p);
            p->fs[nf].field = f2;
            if ((rc = decode_stream(&p->fs[nf], p->stream.p, sl2, df2)) != 0) break;
            p->npostings += df2;
            nf++;
        }
        if (rc) break;
        rc = write_postings(p, p->fs, nf, &p->udf[g - p->g0]);
        p->rec_end[g - p->g0] = p->post.len;
    }
    if (rc == 0 && (p->post.oom || p->pos.oom)) rc = TRAWL_ENOMEM;
    p->rc = rc;
    free_scratch(p); /* while other parts are still being built */
}

static void free_part(part *p) {
    if (!p) return;
    free_scratch(p);
    tw_buf_free(&p->post);
    tw_buf_free(&p->pos);
    free(p->udf);
    free(p->rec_end);
    free(p->fix);
    free(p);
}

/* Copies p->post to out with every positions offset raised by shift (the
 * bytes of POSITIONS before the part), and moves p->rec_end to the new
 * coordinates. 0, TRAWL_ENOMEM, or TRAWL_ECORRUPT (an offset that does not
 * decode). */
static int shift_part(part *p, uint64_t shift, tw_buf *out) {
    if (tw_buf_reserve(out, p->post.len + 4 * p->nfix + 1)) return TRAWL_ENOMEM;
    const uint8_t *src = p->post.p;
    size_t at = 0;
    uint32_t ng = p->g1 - p->g0, g = 0;
    int64_t delta = 0;
    for (size_t k = 0; k < p->nfix; k++) {
        size_t fo = p->fix[k];
        while (g < ng && p->rec_end[g] <= fo) p->rec_end[g++] += (uint64_t)delta;
        tw_buf_put(out, src + at, fo - at);
        const uint8_t *q = src + fo;
        uint64_t v;
        if (tw_get_varint(&q, src + p->post.len, &v)) return TRAWL_ECORRUPT;
        size_t before = out->len;
        tw_buf_varint(out, v + shift);
        delta += (int64_t)(out->len - before) - (int64_t)(q - (src + fo));
        at = (size_t)(q - src);
    }
    tw_buf_put(out, src + at, p->post.len - at);
    while (g < ng) p->rec_end[g++] += (uint64_t)delta;
    return out->oom ? TRAWL_ENOMEM : 0;
}

/* The term sections in the making: the sorted terms, their groups, the parts. */
typedef struct terms {
    const tw_accum *a;
    uint32_t n, ng, nparts;
    uint32_t *order, *gstart;
    part *parts[MAX_PARTS];
} terms;

static void free_terms(terms *t) {
    for (unsigned k = 0; k < MAX_PARTS; k++) free_part(t->parts[k]);
    free(t->order);
    free(t->gstart);
}

/* Sorts the terms, groups the fields of each term and cuts the groups into
 * at most nparts parts of about equal stream bytes. 0 or TRAWL_ENOMEM. */
static int terms_prepare(terms *t, const tw_accum *a, unsigned nparts) {
    memset(t, 0, sizeof *t);
    t->a = a;
    uint32_t n = t->n = tw_accum_nterms(a);
    t->order = tw_accum_sorted_terms(a);
    t->gstart = malloc(sizeof *t->gstart * ((size_t)n + 1));
    uint64_t *wsum = malloc(sizeof *wsum * ((size_t)n + 1));
    if (!t->order || !t->gstart || !wsum) {
        free(wsum);
        return TRAWL_ENOMEM;
    }
    /* Groups of equal term bytes, and the running weight (stream bytes) at
     * the end of each. */
    uint32_t ng = 0;
    uint64_t total = 0;
    const char *prev_t = NULL;
    size_t prev_l = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t f, df;
        const char *s;
        size_t l, sl;
        tw_accum_term(a, t->order[i], &f, &s, &l, &df, &sl);
        if (i == 0 || l != prev_l || memcmp(s, prev_t, l) != 0) t->gstart[ng++] = i;
        prev_t = s;
        prev_l = l;
        total += sl + 16;
        wsum[ng - 1] = total;
    }
    t->gstart[ng] = n;
    t->ng = ng;
    if (nparts < 1 || ng < 1024) nparts = 1;
    if (nparts > MAX_PARTS) nparts = MAX_PARTS;
    /* Cut the groups where the running weight passes k/nparts of the total. */
    uint32_t cut[MAX_PARTS + 1] = {0};
    unsigned k = 1;
    for (uint32_t g = 0; g < ng && k < nparts; g++)
        while (k < nparts && wsum[g] * nparts >= total * k) cut[k++] = g + 1;
    while (k <= nparts) cut[k++] = ng;
    free(wsum);
    t->nparts = nparts;
    for (k = 0; k < nparts; k++) {
        if (!(t->parts[k] = calloc(1, sizeof *t->parts[k]))) return TRAWL_ENOMEM;
        *t->parts[k] = (part){.a = a, .order = t->order, .gstart = t->gstart, .g0 = cut[k], .g1 = cut[k + 1]};
    }
    return 0;
}

/* Lays the built parts end to end into POSTINGS and POSITIONS (the offsets
 * in later parts' records shifted) and builds DICT and DICTIDX from the final
 * record offsets. 0 or the first part's failure (a trawl_rc). */
static int terms_finish(terms *t, wctx *w, uint64_t *npostings, uint64_t *nterms_out) {
    int rc = 0;
    for (unsigned k = 0; k < t->nparts && rc == 0; k++) rc = t->parts[k]->rc;
    uint64_t pos_before = 0, post_base[MAX_PARTS] = {0}, post_before = 0;
    for (unsigned k = 0; k < t->nparts && rc == 0; k++) {
        part *p = t->parts[k];
        if (k == 0) {
            w->sec[TW_SEC_POSTINGS][0] = p->post;
            memset(&p->post, 0, sizeof p->post);
        } else {
            rc = shift_part(p, pos_before, &w->sec[TW_SEC_POSTINGS][k]);
            tw_buf_free(&p->post); /* copied: not held twice while the next parts shift */
        }
        post_base[k] = post_before;
        post_before += w->sec[TW_SEC_POSTINGS][k].len;
        pos_before += p->pos.len;
        w->sec[TW_SEC_POSITIONS][k] = p->pos;
        memset(&p->pos, 0, sizeof p->pos);
        *npostings += p->npostings;
    }
    tw_buf *dict = &w->sec[TW_SEC_DICT][0], *idx = &w->sec[TW_SEC_DICTIDX][0];
    tw_buf keys = {0}, entries = {0};
    uint8_t prev[256];
    size_t prev_len = 0;
    uint64_t rec_prev = 0, nterms = 0;
    /* Block index entries are collected first: the block count is known at the end. */
    for (unsigned k = 0; k < t->nparts && rc == 0; k++) {
        const part *p = t->parts[k];
        for (uint32_t g = p->g0; g < p->g1; g++) {
            uint32_t field, df;
            const char *term;
            size_t len, slen;
            tw_accum_term(t->a, t->order[t->gstart[g]], &field, &term, &len, &df, &slen);
            uint64_t start = g == p->g0 ? 0 : p->rec_end[g - p->g0 - 1];
            uint64_t rec_off = post_base[k] + start, rec_len = p->rec_end[g - p->g0] - start;
            uint32_t udf = p->udf[g - p->g0];
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
    }
    tw_buf_le32(idx, (uint32_t)((nterms + TW_DICT_BLOCK - 1) / TW_DICT_BLOCK));
    tw_buf_put(idx, entries.p, entries.len);
    tw_buf_put(idx, keys.p, keys.len);
    if (keys.oom || entries.oom) rc = TRAWL_ENOMEM;
    tw_buf_free(&keys);
    tw_buf_free(&entries);
    *nterms_out = nterms;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Document sections                                                         */

typedef struct id_ent {
    uint64_t key; /* the first 8 id bytes, big-endian, zero-padded */
    uint32_t doc;
} id_ent;

static int cmp_ids(const void *x, const void *y, void *ctx) {
    const id_ent *p = x, *q = y;
    if (p->key != q->key) return p->key < q->key ? -1 : 1;
    const tw_accum *a = ctx;
    const char *s, *t;
    size_t sl, tl;
    tw_accum_doc(a, p->doc, &s, &sl);
    tw_accum_doc(a, q->doc, &t, &tl);
    int c = memcmp(s, t, sl < tl ? sl : tl);
    if (c) return c;
    if (sl != tl) return sl < tl ? -1 : 1;
    /* Equal ids: the later document sorts first, so lookups find the newest. */
    return p->doc > q->doc ? -1 : p->doc < q->doc;
}

/* DOCLEN and IDS (count, offsets, doc numbers sorted by id, pool). rc: 0,
 * TRAWL_ENOMEM, or TRAWL_ELIMIT when the ids pass 4 GiB. */
typedef struct ids_task {
    wctx *w;
    const tw_accum *a;
    int rc;
} ids_task;

static void build_ids(void *arg) {
    ids_task *x = arg;
    const tw_accum *a = x->a;
    uint32_t nd = tw_accum_docs(a), nf = tw_accum_nfields(a);
    tw_buf *dl = &x->w->sec[TW_SEC_DOCLEN][0], *ids = &x->w->sec[TW_SEC_IDS][0];
    for (uint32_t f = 0; f < nf; f++) tw_buf_put(dl, tw_accum_doclens(a, f), (size_t)nd * 4);
    tw_buf_le32(ids, nd);
    uint64_t off = 0;
    for (uint32_t d = 0; d < nd; d++) {
        const char *id;
        size_t il;
        tw_accum_doc(a, d, &id, &il);
        tw_buf_le32(ids, (uint32_t)off);
        off += il;
    }
    if (off > UINT32_MAX) {
        x->rc = TRAWL_ELIMIT;
        return;
    }
    tw_buf_le32(ids, (uint32_t)off);
    id_ent *sorted = malloc(sizeof *sorted * (nd ? nd : 1));
    if (!sorted || tw_buf_reserve(ids, (size_t)nd * 4)) {
        free(sorted);
        x->rc = TRAWL_ENOMEM;
        return;
    }
    for (uint32_t d = 0; d < nd; d++) {
        const char *id;
        size_t il;
        tw_accum_doc(a, d, &id, &il);
        uint64_t k = 0;
        for (unsigned j = 0; j < 8; j++) k = k << 8 | (j < il ? (uint8_t)id[j] : 0u);
        sorted[d] = (id_ent){k, d};
    }
    qsort_r(sorted, nd, sizeof *sorted, cmp_ids, (void *)a);
    for (uint32_t d = 0; d < nd; d++) put_le32(ids->p + ids->len + 4 * (size_t)d, sorted[d].doc);
    ids->len += (size_t)nd * 4;
    free(sorted);
    for (uint32_t d = 0; d < nd; d++) {
        const char *id;
        size_t il;
        tw_accum_doc(a, d, &id, &il);
        tw_buf_put(ids, id, il);
    }
}

/* STORE: block count, block index (first doc, clen, ulen, pad, u64 offset),
 * then the LZ4 blocks. The accumulator has compressed every block but the
 * open one; its data become a piece of the section as they are (borrowed:
 * *borrowed is set so that it is not freed), the open block is compressed
 * here into a piece of its own. 0, TRAWL_ENOMEM, or TRAWL_ELIMIT when the open
 * block cannot be compressed (more than LZ4 takes). */
static int build_store(wctx *w, const tw_accum *a, int *borrowed) {
    tw_accum_store st;
    tw_accum_get_store(a, &st);
    uint32_t nb = st.nblocks + (st.tail_len > 0);
    tw_buf *ix = &w->sec[TW_SEC_STORE][0], *last = &w->sec[TW_SEC_STORE][2];
    uint32_t tail_clen = 0;
    if (st.tail_len > 0) {
        if (st.tail_len > (size_t)LZ4_MAX_INPUT_SIZE) return TRAWL_ELIMIT;
        int bound = LZ4_compressBound((int)st.tail_len);
        if (tw_buf_reserve(last, (size_t)bound)) return TRAWL_ENOMEM;
        int c = LZ4_compress_default((const char *)st.tail, (char *)last->p, (int)st.tail_len, bound);
        if (c <= 0) return TRAWL_ELIMIT;
        last->len = (size_t)c;
        tail_clen = (uint32_t)c;
    }
    tw_buf_le32(ix, nb);
    tw_buf_le32(ix, 0);
    if (tw_buf_reserve(ix, (size_t)nb * 24)) return TRAWL_ENOMEM;
    uint64_t off = 0;
    for (uint32_t b = 0; b < nb; b++) {
        int open = b == st.nblocks;
        uint32_t clen = open ? tail_clen : st.clen[b];
        uint8_t *e = ix->p + ix->len + 24 * (size_t)b;
        put_le32(e, open ? st.tail_first : st.first[b]);
        put_le32(e + 4, clen);
        put_le32(e + 8, open ? (uint32_t)st.tail_len : st.ulen[b]);
        put_le32(e + 12, 0);
        put_le32(e + 16, (uint32_t)off);
        put_le32(e + 20, (uint32_t)(off >> 32));
        off += clen;
    }
    ix->len += (size_t)nb * 24;
    if (st.data_len) {
        w->sec[TW_SEC_STORE][1] = (tw_buf){(uint8_t *)st.data, st.data_len, st.data_len, 0};
        *borrowed = 1;
    }
    return 0;
}

static void build_meta(wctx *w, const tw_accum *a, const char *lang, const char *schema, uint64_t npostings,
                       uint64_t nterms) {
    tw_buf *m = &w->sec[TW_SEC_META][0];
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
    tw_buf_varint(m, strlen(schema));
    tw_buf_put(m, schema, strlen(schema));
}

/* Threads for a segment write: one per online CPU, at most MAX_PARTS. */
static unsigned cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > (long)MAX_PARTS ? MAX_PARTS : (unsigned)n;
}

/* Builds every section of a in w with the calling thread and helpers.
 * Returns 0 or a trawl_rc (TRAWL_ENOMEM, ELIMIT, ECORRUPT); fills the counts. */
static int build_all(wctx *w, const tw_accum *a, const tw_tacc *typed, const char *lang, const char *schema,
                     uint64_t *npostings, uint64_t *nterms) {
    unsigned ncpu = cpu_count(), nparts = 2 * ncpu > MAX_PARTS ? MAX_PARTS : 2 * ncpu;
    pool p;
    memset(&p, 0, sizeof p);
    if (pthread_mutex_init(&p.mu, NULL)) return TRAWL_ENOMEM;
    if (pthread_cond_init(&p.cv, NULL)) {
        pthread_mutex_destroy(&p.mu);
        return TRAWL_ENOMEM;
    }
    pthread_t th[MAX_PARTS];
    unsigned nth = 0;
    for (unsigned k = 1; k < ncpu; k++)
        if (pthread_create(&th[nth], NULL, pool_thread, &p) == 0) nth++;
    /* Document work first, so that a helper has it while this thread sorts
     * the terms. */
    ids_task ids = {w, a, 0};
    terms t;
    pool_add(&p, build_ids, &ids);
    int rc = terms_prepare(&t, a, nparts);
    for (unsigned k = 0; k < t.nparts && rc == 0; k++) pool_add(&p, build_part, t.parts[k]);
    pool_close(&p);
    if (rc == 0) rc = build_store(w, a, &w->store_borrowed);
    pool_work(&p);
    for (unsigned k = 0; k < nth; k++) pthread_join(th[k], NULL);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    if (rc == 0) rc = ids.rc;
    if (rc == 0) rc = terms_finish(&t, w, npostings, nterms);
    free_terms(&t);
    if (rc == 0) build_meta(w, a, lang, schema, *npostings, *nterms);
    if (rc == 0) rc = tw_typed_build(typed, tw_accum_docs(a), &w->sec[TW_SEC_KEYWORDS][0], &w->sec[TW_SEC_COLUMNS][0]);
    for (unsigned s = 1; s < TW_SEC_COUNT && rc == 0; s++)
        for (unsigned k = 0; k < MAX_PIECES; k++)
            if (w->sec[s][k].oom) rc = TRAWL_ENOMEM;
    return rc;
}

static void free_wctx(wctx *w) {
    if (w->store_borrowed) memset(&w->sec[TW_SEC_STORE][1], 0, sizeof(tw_buf));
    for (unsigned s = 0; s < TW_SEC_COUNT; s++)
        for (unsigned k = 0; k < MAX_PIECES; k++) tw_buf_free(&w->sec[s][k]);
    free(w);
}

/* ------------------------------------------------------------------------ */
/* The file                                                                  */

/* Writes p[0..n) at offset off of fd. 0, or TRAWL_EIO with errno set. */
static int pwrite_all(int fd, const void *p, size_t n, uint64_t off) {
    const uint8_t *q = p;
    while (n > 0) {
        ssize_t k = pwrite(fd, q, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR) continue;
            return TRAWL_EIO;
        }
        q += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* One pwrite of the file: len bytes at p to offset off. */
typedef struct wop {
    uint64_t off;
    const void *p;
    size_t len;
} wop;

#define MAX_WOPS (2 + 2 * (TW_SEC_COUNT + MAX_PIECES * TW_SEC_COUNT))

typedef struct writer_job {
    int fd;
    const wop *ops;
    size_t n;
    int rc, err;
} writer_job;

static void *write_ops(void *arg) {
    writer_job *j = arg;
    for (size_t i = 0; i < j->n && j->rc == 0; i++)
        if (pwrite_all(j->fd, j->ops[i].p, j->ops[i].len, j->ops[i].off)) {
            j->rc = TRAWL_EIO;
            j->err = errno;
        }
    return NULL;
}

int tw_segment_write(const tw_accum *a, const tw_tacc *typed, const char *lang, const char *schema, const char *path,
                     tw_seg_summary *sum, char *err, size_t errcap) {
    wctx *w = calloc(1, sizeof *w);
    if (!w) {
        return tw_err(err, errcap, TRAWL_ENOMEM, "%s: out of memory while building the segment", path);
    }
    uint64_t npostings = 0, nterms = 0;
    int rc = build_all(w, a, typed, lang, schema, &npostings, &nterms);
    XXH3_state_t *xs = rc ? NULL : XXH3_createState();
    if (rc || !xs) {
        if (!rc) rc = TRAWL_ENOMEM;
        tw_err(err, errcap, rc, "%s: %s while building the segment", path,
               rc == TRAWL_ELIMIT     ? "a limit was exceeded"
               : rc == TRAWL_ECORRUPT ? "inconsistent accumulated data"
                                      : tw_strerror(rc));
        free_wctx(w);
        return rc;
    }
    /* Layout: header, 8-byte-aligned sections, table, footer; and the list
     * of writes that make it. */
    static const uint8_t zeros[8] = {0};
    wop ops[MAX_WOPS];
    size_t nops = 0;
    tw_buf head = {0}, table = {0}, foot = {0};
    tw_buf_put(&head, TW_SEG_MAGIC, 8);
    tw_buf_le32(&head, TW_FORMAT_VERSION);
    tw_buf_le32(&head, TW_SEC_COUNT - 1);
    uint64_t off = TW_HEADER_SIZE;
    for (unsigned s = 1; s < TW_SEC_COUNT; s++) {
        size_t pad = (8 - off % 8) % 8;
        if (pad) ops[nops++] = (wop){off, zeros, pad};
        off += pad;
        tw_buf_le32(&table, s);
        tw_buf_le32(&table, 0);
        tw_buf_le64(&table, off);
        tw_buf_le64(&table, sec_len(w, s));
        tw_buf_le64(&table, sec_hash(w, s, xs));
        if (sum) sum->section_bytes[s] = sec_len(w, s);
        for (unsigned k = 0; k < MAX_PIECES; k++) {
            if (!w->sec[s][k].len) continue;
            ops[nops++] = (wop){off, w->sec[s][k].p, w->sec[s][k].len};
            off += w->sec[s][k].len;
        }
    }
    size_t pad = (8 - off % 8) % 8;
    if (pad) ops[nops++] = (wop){off, zeros, pad};
    uint64_t table_off = off + pad;
    /* Footer: table offset, section count, version, checksum of header + table, magic. */
    XXH3_64bits_reset(xs);
    XXH3_64bits_update(xs, head.p, head.len);
    XXH3_64bits_update(xs, table.p, table.len);
    uint64_t hsum = XXH3_64bits_digest(xs);
    XXH3_freeState(xs);
    tw_buf_le64(&foot, table_off);
    tw_buf_le32(&foot, TW_SEC_COUNT - 1);
    tw_buf_le32(&foot, TW_FORMAT_VERSION);
    tw_buf_le64(&foot, hsum);
    tw_buf_put(&foot, TW_SEG_END_MAGIC, 8);
    ops[nops++] = (wop){0, head.p, head.len};
    ops[nops++] = (wop){table_off, table.p, table.len};
    ops[nops++] = (wop){table_off + table.len, foot.p, foot.len};
    uint64_t file_bytes = table_off + table.len + foot.len;
    int io = (table.oom || foot.oom || head.oom) ? TRAWL_ENOMEM : 0, saved = 0;
    int fd = -1;
    if (io == 0) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            tw_err(err, errcap, TRAWL_EIO, "%s: cannot create: %s", path, strerror(errno));
            free_wctx(w);
            tw_buf_free(&head);
            tw_buf_free(&table);
            tw_buf_free(&foot);
            return TRAWL_EIO;
        }
        /* Two threads write about half of the bytes each. */
        size_t split = nops, half = 0;
        for (size_t i = 0; i < nops && split == nops; i++)
            if ((half += ops[i].len) * 2 >= file_bytes) split = i + 1;
        writer_job jobs[2] = {{fd, ops, split, 0, 0}, {fd, ops + split, nops - split, 0, 0}};
        pthread_t th;
        int threaded = jobs[1].n > 0 && pthread_create(&th, NULL, write_ops, &jobs[1]) == 0;
        write_ops(&jobs[0]);
        if (threaded)
            pthread_join(th, NULL);
        else
            write_ops(&jobs[1]);
        for (int k = 0; k < 2; k++)
            if (jobs[k].rc && io == 0) {
                io = TRAWL_EIO;
                saved = jobs[k].err;
            }
        if (io == 0 && fsync(fd) != 0) {
            io = TRAWL_EIO;
            saved = errno;
        }
        if (close(fd) != 0 && io == 0) {
            io = TRAWL_EIO;
            saved = errno;
        }
    }
    free_wctx(w);
    tw_buf_free(&head);
    tw_buf_free(&table);
    tw_buf_free(&foot);
    if (io) {
        if (fd >= 0) unlink(path);
        return tw_err(err, errcap, io, "%s: write failed: %s", path,
                      io == TRAWL_ENOMEM ? "out of memory" : strerror(saved));
    }
    if (sum) {
        sum->bytes = file_bytes;
        sum->docs = tw_accum_docs(a);
        sum->terms = nterms;
        sum->postings = npostings;
    }
    return 0;
}
