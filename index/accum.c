/*
 * accum.c — in-memory inverted index for the documents of one future segment
 * (contract in accum.h).
 *
 * Layout, chosen for the one thread that feeds it (every posting costs a hash
 * probe and a stream append, so cache misses are what count):
 *  - Terms are records in one arena (tmem, 8-byte units): the posting state
 *    followed by the term bytes, so that checking a candidate and updating it
 *    touch one record. An open-addressing table of 64-bit slots holds the upper
 *    half of the term's hash next to the record's offset, so probing past other
 *    terms touches only the table.
 *  - Streams are chains of blocks in a second arena (smem, 16-byte units):
 *    the n-th block of a term holds 16 << min(n, 8) bytes, the first 4 the
 *    offset of the next block. Appending never moves a stream; the segment
 *    writer copies a chain out in one pass (tw_accum_stream).
 *  - Ids are copied into 1 MiB chunks that never move. Stored texts are not
 *    kept: each joins the open block of the document store, which is LZ4-
 *    compressed as soon as it is full, so a segment's texts cost their
 *    compressed size and the segment writer has no store to compress.
 * Arena offsets are 32-bit units: 32 GiB of terms and 64 GiB of streams at
 * most, far past any memory budget.
 */
#include "accum.h"

#include <lz4.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "segment.h"
#include "shortkey.h"
#include "varint.h"

typedef struct term {
    uint32_t df;
    uint32_t next_doc; /* last doc with a record + 1 (gap base) */
    uint32_t head;     /* first stream block (smem unit), 0 = none */
    uint32_t tail;     /* last stream block */
    uint32_t slen;     /* stream bytes */
    uint16_t field;
    uint8_t len;
    uint8_t cls;   /* size class of the tail block */
    uint16_t room; /* free bytes in the tail block */
    char bytes[];  /* len term bytes */
} term;

#define TERM_UNIT 8u
#define STREAM_UNIT 16u
#define MAX_CLASS 8u
#define DOC_CHUNK ((size_t)1 << 20)
#define FIELD_MIX 0x9E3779B97F4A7C15ull

typedef struct field {
    char *name;
    size_t len;
    uint32_t *doclen; /* doc_cap entries */
} field;

typedef struct doc {
    const char *id;
    uint32_t idlen;
} doc;

typedef struct chunk {
    struct chunk *prev;
    size_t cap, used;
    char data[];
} chunk;

struct tw_accum {
    int rc;
    /* terms */
    uint8_t *tmem;
    size_t tmem_units, tmem_cap; /* in units */
    uint32_t *toff;              /* term id → tmem unit */
    uint32_t nterms, toff_cap;
    uint64_t *table; /* hash >> 32 << 32 | tmem unit; 0 = empty */
    size_t table_cap;
    /* streams */
    uint8_t *smem;
    size_t smem_units, smem_cap;
    /* fields and documents */
    field *fields;
    uint32_t nfields;
    doc *docs;
    uint32_t ndocs, doc_cap;
    chunk *chunks;
    /* document store */
    tw_buf raw; /* the open block */
    uint32_t raw_first;
    tw_buf cdata; /* closed blocks, compressed */
    uint32_t *bfirst, *bclen, *bulen;
    uint32_t nblocks, blocks_cap;
};

tw_accum *tw_accum_new(void) {
    tw_accum *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->table_cap = 1u << 14; /* 128 KiB: a small accumulator is small (it doubles as terms come) */
    a->table = calloc(a->table_cap, sizeof *a->table);
    a->tmem_cap = 1u << 16;
    a->tmem = malloc(a->tmem_cap * TERM_UNIT);
    a->smem_cap = 1u << 16;
    a->smem = malloc(a->smem_cap * STREAM_UNIT);
    if (!a->table || !a->tmem || !a->smem) {
        tw_accum_free(a);
        return NULL;
    }
    a->tmem_units = 1; /* unit 0 means "empty" in the table */
    a->smem_units = 1; /* block 0 means "none" */
    return a;
}

void tw_accum_free(tw_accum *a) {
    if (!a) return;
    free(a->tmem);
    free(a->toff);
    free(a->table);
    free(a->smem);
    for (uint32_t f = 0; f < a->nfields; f++) {
        free(a->fields[f].name);
        free(a->fields[f].doclen);
    }
    free(a->fields);
    free(a->docs);
    while (a->chunks) {
        chunk *c = a->chunks;
        a->chunks = c->prev;
        free(c);
    }
    tw_buf_free(&a->raw);
    tw_buf_free(&a->cdata);
    free(a->bfirst);
    free(a->bclen);
    free(a->bulen);
    free(a);
}

int tw_accum_field_lookup(const tw_accum *a, const char *name, size_t len) {
    for (uint32_t f = 0; f < a->nfields; f++)
        if (a->fields[f].len == len && tw_same_bytes(a->fields[f].name, name, len)) return (int)f;
    return TRAWL_ENOTFOUND;
}

int tw_accum_field_is(const tw_accum *a, uint32_t f, const char *name, size_t len) {
    return f < a->nfields && a->fields[f].len == len && tw_same_bytes(a->fields[f].name, name, len);
}

int tw_accum_field(tw_accum *a, const char *name, size_t len) {
    if (a->rc) return a->rc;
    int have = tw_accum_field_lookup(a, name, len);
    if (have >= 0) return have;
    if (a->nfields >= TW_MAX_FIELDS) return TRAWL_ELIMIT;
    field *nf = realloc(a->fields, sizeof *nf * (a->nfields + 1));
    if (!nf) return a->rc = TRAWL_ENOMEM;
    a->fields = nf;
    field *f = &a->fields[a->nfields];
    memset(f, 0, sizeof *f);
    f->name = malloc(len + 1);
    /* Earlier documents have length 0 in the new field. */
    f->doclen = calloc(a->doc_cap ? a->doc_cap : 1, sizeof *f->doclen);
    if (!f->name || !f->doclen) {
        free(f->name);
        free(f->doclen);
        return a->rc = TRAWL_ENOMEM;
    }
    memcpy(f->name, name, len);
    f->name[len] = 0;
    f->len = len;
    return (int)a->nfields++;
}

/* Copies n bytes into the document chunks; returns where, or NULL. */
static char *doc_space(tw_accum *a, size_t n) {
    chunk *c = a->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > DOC_CHUNK ? n : DOC_CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->prev = a->chunks;
        c->cap = cap;
        c->used = 0;
        a->chunks = c;
    }
    char *p = c->data + c->used;
    c->used += n;
    return p;
}

/* Room for one more document in docs and the doclen arrays. 0 or TRAWL_ENOMEM. */
static int doc_room(tw_accum *a) {
    if (a->ndocs < a->doc_cap) return 0;
    uint64_t cap = a->doc_cap ? (uint64_t)a->doc_cap * 2 : 1024;
    if (cap > UINT32_MAX) cap = UINT32_MAX;
    doc *nd = realloc(a->docs, sizeof *nd * cap);
    if (!nd) return TRAWL_ENOMEM;
    a->docs = nd;
    for (uint32_t f = 0; f < a->nfields; f++) {
        uint32_t *dl = realloc(a->fields[f].doclen, sizeof *dl * cap);
        if (!dl) return TRAWL_ENOMEM;
        memset(dl + a->doc_cap, 0, sizeof *dl * (cap - a->doc_cap));
        a->fields[f].doclen = dl;
    }
    a->doc_cap = (uint32_t)cap;
    return 0;
}

/* Compresses the open block of the store and closes it. 0, TRAWL_ENOMEM, or
 * TRAWL_ELIMIT (a block LZ4 cannot take). */
static int close_block(tw_accum *a) {
    if (a->nblocks == a->blocks_cap) {
        uint32_t cap = a->blocks_cap ? a->blocks_cap * 2 : 256;
        uint32_t *f = realloc(a->bfirst, sizeof *f * cap);
        if (f) a->bfirst = f;
        uint32_t *c = realloc(a->bclen, sizeof *c * cap);
        if (c) a->bclen = c;
        uint32_t *u = realloc(a->bulen, sizeof *u * cap);
        if (u) a->bulen = u;
        if (!f || !c || !u) return TRAWL_ENOMEM;
        a->blocks_cap = cap;
    }
    if (a->raw.len > (size_t)LZ4_MAX_INPUT_SIZE) return TRAWL_ELIMIT;
    int bound = LZ4_compressBound((int)a->raw.len);
    if (tw_buf_reserve(&a->cdata, (size_t)bound)) return TRAWL_ENOMEM;
    int c = LZ4_compress_default((const char *)a->raw.p, (char *)a->cdata.p + a->cdata.len, (int)a->raw.len, bound);
    if (c <= 0) return TRAWL_ELIMIT;
    a->cdata.len += (size_t)c;
    a->bfirst[a->nblocks] = a->raw_first;
    a->bclen[a->nblocks] = (uint32_t)c;
    a->bulen[a->nblocks++] = (uint32_t)a->raw.len;
    a->raw.len = 0;
    return 0;
}

int64_t tw_accum_begin_doc(tw_accum *a, const char *id, size_t idlen, const char *stored, size_t slen) {
    if (a->rc) return a->rc;
    if (a->ndocs >= TW_MAX_DOCS_PER_SEGMENT || idlen > UINT32_MAX || slen > UINT32_MAX) return TRAWL_ELIMIT;
    if (doc_room(a)) return a->rc = TRAWL_ENOMEM;
    char *p = doc_space(a, idlen ? idlen : 1);
    if (!p) return a->rc = TRAWL_ENOMEM;
    if (idlen) memcpy(p, id, idlen);
    /* The store: a block closes before the document that finds it full. */
    int rc;
    if (a->raw.len >= TW_STORE_BLOCK && (rc = close_block(a)) != 0) return a->rc = rc;
    if (a->raw.len == 0) a->raw_first = a->ndocs;
    tw_buf_varint(&a->raw, slen);
    tw_buf_put(&a->raw, stored, slen);
    if (a->raw.oom) return a->rc = TRAWL_ENOMEM;
    a->docs[a->ndocs] = (doc){p, (uint32_t)idlen};
    return a->ndocs;
}

uint64_t tw_accum_hash(const char *s, size_t len) {
    return tw_hash_bytes(s, len);
}

static int grow_table(tw_accum *a) {
    size_t ncap = a->table_cap * 2;
    uint64_t *nt = calloc(ncap, sizeof *nt);
    if (!nt) return TRAWL_ENOMEM;
    for (uint32_t i = 0; i < a->nterms; i++) {
        const term *t = (const term *)(a->tmem + (size_t)a->toff[i] * TERM_UNIT);
        uint64_t h = tw_accum_hash(t->bytes, t->len) ^ (t->field * FIELD_MIX);
        size_t j = h & (ncap - 1);
        while (nt[j]) j = (j + 1) & (ncap - 1);
        nt[j] = (h >> 32 << 32) | a->toff[i];
    }
    free(a->table);
    a->table = nt;
    a->table_cap = ncap;
    return 0;
}

/* Adds the term (field, s) whose table slot is i; returns its record or NULL. */
static term *new_term(tw_accum *a, size_t i, uint64_t h, uint32_t fieldno, const char *s, size_t len) {
    size_t units = (sizeof(term) + len + TERM_UNIT - 1) / TERM_UNIT;
    if (a->tmem_units + units > a->tmem_cap) {
        size_t ncap = a->tmem_cap * 2;
        if (ncap > UINT32_MAX) return NULL;
        uint8_t *nm = realloc(a->tmem, ncap * TERM_UNIT);
        if (!nm) return NULL;
        a->tmem = nm;
        a->tmem_cap = ncap;
    }
    if (a->nterms == a->toff_cap) {
        uint32_t ncap = a->toff_cap ? a->toff_cap * 2 : 4096;
        uint32_t *no = realloc(a->toff, sizeof *no * ncap);
        if (!no) return NULL;
        a->toff = no;
        a->toff_cap = ncap;
    }
    uint32_t at = (uint32_t)a->tmem_units;
    a->tmem_units += units;
    term *t = (term *)(a->tmem + (size_t)at * TERM_UNIT);
    memset(t, 0, sizeof *t);
    t->field = (uint16_t)fieldno;
    t->len = (uint8_t)len;
    memcpy(t->bytes, s, len);
    a->table[i] = (h >> 32 << 32) | at;
    a->toff[a->nterms++] = at;
    if ((size_t)a->nterms * 2 > a->table_cap) {
        if (grow_table(a)) return NULL;
        t = (term *)(a->tmem + (size_t)at * TERM_UNIT);
    }
    return t;
}

/* Appends n bytes to t's stream, starting a new block when the tail is full. */
static int stream_append(tw_accum *a, term *t, const uint8_t *src, size_t n) {
    while (n > 0) {
        if (t->room == 0) {
            unsigned cls = t->head ? (t->cls < MAX_CLASS ? t->cls + 1u : MAX_CLASS) : 0u;
            size_t units = (size_t)1 << cls; /* 16 << cls bytes */
            if (a->smem_units + units > a->smem_cap) {
                size_t ncap = a->smem_cap * 2;
                if (ncap > UINT32_MAX) return TRAWL_ELIMIT;
                uint8_t *nm = realloc(a->smem, ncap * STREAM_UNIT);
                if (!nm) return TRAWL_ENOMEM;
                a->smem = nm;
                a->smem_cap = ncap;
            }
            uint32_t blk = (uint32_t)a->smem_units;
            a->smem_units += units;
            memset(a->smem + (size_t)blk * STREAM_UNIT, 0, 4);
            if (t->head)
                memcpy(a->smem + (size_t)t->tail * STREAM_UNIT, &blk, 4);
            else
                t->head = blk;
            t->tail = blk;
            t->cls = (uint8_t)cls;
            t->room = (uint16_t)((STREAM_UNIT << cls) - 4);
        }
        size_t cap = (STREAM_UNIT << t->cls) - 4;
        size_t k = n < t->room ? n : t->room;
        memcpy(a->smem + (size_t)t->tail * STREAM_UNIT + 4 + (cap - t->room), src, k);
        t->room = (uint16_t)(t->room - k);
        src += k;
        n -= k;
    }
    return 0;
}

/* The record of (field, s) if it exists; else NULL with *slot the empty
 * slot where it goes. */
static inline term *find(const tw_accum *a, uint64_t h, uint32_t fieldno, const char *s, size_t len, size_t *slot) {
    uint64_t tag = h >> 32 << 32;
    size_t mask = a->table_cap - 1, i = h & mask;
    for (;;) {
        uint64_t e = a->table[i];
        if (!e) break;
        if ((e & 0xFFFFFFFF00000000ull) == tag) {
            term *c = (term *)(a->tmem + (size_t)(uint32_t)e * TERM_UNIT);
            if (c->field == fieldno && c->len == len && tw_same_bytes(c->bytes, s, len)) return c;
        }
        i = (i + 1) & mask;
    }
    *slot = i;
    return NULL;
}

static inline int add_one(tw_accum *a, uint32_t fieldno, uint64_t hash, const char *s, size_t len, const uint8_t *rec,
                          size_t reclen) {
    if (len == 0 || len > 255) return 0; /* the analyzer never makes such terms */
    uint64_t h = hash ^ (fieldno * FIELD_MIX);
    size_t slot = 0;
    term *t = find(a, h, fieldno, s, len, &slot);
    if (!t && !(t = new_term(a, slot, h, fieldno, s, len))) return a->rc = TRAWL_ENOMEM;
    uint32_t gap = a->ndocs - t->next_doc;
    size_t n = gap < 0x80 ? 1 : gap < 0x4000 ? 2 : gap < 0x200000 ? 3 : gap < 0x10000000 ? 4 : 5;
    if ((uint64_t)t->slen + n + reclen > UINT32_MAX) return a->rc = TRAWL_ELIMIT;
    if (n + reclen <= t->room) {
        /* Fast path: the record fits the tail block. */
        size_t cap = (STREAM_UNIT << t->cls) - 4;
        uint8_t *q = a->smem + (size_t)t->tail * STREAM_UNIT + 4 + (cap - t->room);
        while (gap >= 0x80) {
            *q++ = (uint8_t)(gap | 0x80);
            gap >>= 7;
        }
        *q++ = (uint8_t)gap;
        if (reclen <= 8) {
            for (size_t k = 0; k < reclen; k++) q[k] = rec[k];
        } else {
            memcpy(q, rec, reclen);
        }
        t->room = (uint16_t)(t->room - n - reclen);
    } else {
        uint8_t head[5];
        for (size_t k = 0; k < n; k++, gap >>= 7) head[k] = (uint8_t)(k + 1 < n ? gap | 0x80 : gap);
        int rc = stream_append(a, t, head, n);
        if (rc || (rc = stream_append(a, t, rec, reclen)) != 0) return a->rc = rc;
    }
    t->slen += (uint32_t)(n + reclen);
    t->df++;
    t->next_doc = a->ndocs + 1;
    return 0;
}

int tw_accum_add_posting(tw_accum *a, uint32_t fieldno, uint64_t hash, const char *s, size_t len, const uint8_t *rec,
                         size_t reclen) {
    if (a->rc) return a->rc;
    return add_one(a, fieldno, hash, s, len, rec, reclen);
}

/* Prefetch distances (in postings) of the three stages: table slot, term
 * record, stream tail. Each stage reads what the previous one fetched. */
#define AHEAD_SLOT 24u
#define AHEAD_TERM 16u
#define AHEAD_TAIL 8u

/* Stage 1: the table slot where the probe for p starts. */
static inline void fetch_slot(const tw_accum *a, const tw_posting *p) {
    uint64_t h = p->hash ^ (p->field * FIELD_MIX);
    __builtin_prefetch(&a->table[h & (a->table_cap - 1)]);
}

/* Stage 2: the first record whose tag matches (its unit offset becomes the hint). */
static inline void fetch_term(const tw_accum *a, tw_posting *p) {
    uint64_t h = p->hash ^ (p->field * FIELD_MIX), tag = h >> 32 << 32;
    size_t mask = a->table_cap - 1, i = h & mask;
    p->hint = 0;
    for (unsigned probes = 0; probes < 4; probes++, i = (i + 1) & mask) {
        uint64_t e = a->table[i];
        if (!e) return;
        if ((e & 0xFFFFFFFF00000000ull) == tag) {
            p->hint = (uint32_t)e;
            __builtin_prefetch(a->tmem + (size_t)p->hint * TERM_UNIT);
            return;
        }
    }
}

/* Stage 3: where the hinted term's next record goes. */
static inline void fetch_tail(const tw_accum *a, const tw_posting *p) {
    if (!p->hint || (size_t)p->hint + (sizeof(term) + TERM_UNIT - 1) / TERM_UNIT > a->tmem_units) return;
    const term *t = (const term *)(a->tmem + (size_t)p->hint * TERM_UNIT);
    if (t->tail == 0 || (size_t)t->tail + ((size_t)1 << t->cls) > a->smem_units || t->cls > MAX_CLASS) return;
    size_t cap = (STREAM_UNIT << t->cls) - 4, used = t->room <= cap ? cap - t->room : 0;
    __builtin_prefetch(a->smem + (size_t)t->tail * STREAM_UNIT + 4 + used);
}

int tw_accum_add_postings(tw_accum *a, uint32_t fieldno, tw_posting *p, size_t n, size_t m) {
    if (a->rc) return a->rc;
    for (size_t k = 0; k < n; k++) {
        if (k + AHEAD_SLOT < m) fetch_slot(a, &p[k + AHEAD_SLOT]);
        if (k + AHEAD_TERM < m) fetch_term(a, &p[k + AHEAD_TERM]);
        if (k + AHEAD_TAIL < m) fetch_tail(a, &p[k + AHEAD_TAIL]);
        if (add_one(a, fieldno, p[k].hash, p[k].term, p[k].len, p[k].rec, p[k].reclen)) return a->rc;
    }
    return 0;
}

int tw_accum_end_field(tw_accum *a, uint32_t fieldno, uint32_t ntoks) {
    if (a->rc) return a->rc;
    if (fieldno < a->nfields) a->fields[fieldno].doclen[a->ndocs] += ntoks;
    return 0;
}

int tw_accum_end_doc(tw_accum *a) {
    if (a->rc) return a->rc;
    a->ndocs++;
    return 0;
}

uint32_t tw_accum_docs(const tw_accum *a) {
    return a->ndocs;
}

size_t tw_accum_bytes(const tw_accum *a) {
    /* The arenas and the store's buffer count what is used (their tails are
     * untouched pages until written); the table is probed all over, but a
     * term touches at most one page of it. */
    uint64_t table = (uint64_t)a->table_cap * 8, touched = ((uint64_t)a->nterms + 1) * 4096;
    uint64_t b = (uint64_t)a->tmem_units * TERM_UNIT + (uint64_t)a->toff_cap * 4 + (table < touched ? table : touched) +
                 (uint64_t)a->smem_units * STREAM_UNIT +
                 (uint64_t)a->doc_cap * (sizeof(doc) + 4 * (uint64_t)a->nfields) + a->raw.cap + a->cdata.len +
                 (uint64_t)a->blocks_cap * 12 + sizeof *a + (uint64_t)a->nfields * sizeof(field);
    for (const chunk *c = a->chunks; c; c = c->prev) b += c->prev ? sizeof *c + c->cap : sizeof *c + c->used;
    return b > SIZE_MAX ? SIZE_MAX : (size_t)b;
}

uint32_t tw_accum_nfields(const tw_accum *a) {
    return a->nfields;
}
const char *tw_accum_field_name(const tw_accum *a, uint32_t f) {
    return a->fields[f].name;
}
const uint32_t *tw_accum_doclens(const tw_accum *a, uint32_t f) {
    return a->fields[f].doclen;
}
uint32_t tw_accum_nterms(const tw_accum *a) {
    return a->nterms;
}

static const term *get_term(const tw_accum *a, uint32_t tid) {
    return (const term *)(a->tmem + (size_t)a->toff[tid] * TERM_UNIT);
}

typedef struct sort_ent {
    uint64_t key; /* the first 8 term bytes, big-endian, zero-padded */
    uint32_t tid;
} sort_ent;

static int cmp_terms(const void *x, const void *y, void *ctx) {
    const sort_ent *p = x, *q = y;
    if (p->key != q->key) return p->key < q->key ? -1 : 1;
    const tw_accum *a = ctx;
    const term *s = get_term(a, p->tid), *t = get_term(a, q->tid);
    size_t n = s->len < t->len ? s->len : t->len;
    int c = memcmp(s->bytes, t->bytes, n);
    if (c) return c;
    if (s->len != t->len) return s->len < t->len ? -1 : 1;
    return s->field < t->field ? -1 : s->field > t->field;
}

uint32_t *tw_accum_sorted_terms(const tw_accum *a) {
    uint32_t *ids = malloc(sizeof *ids * (a->nterms ? a->nterms : 1));
    sort_ent *e = malloc(sizeof *e * (a->nterms ? a->nterms : 1));
    if (!ids || !e) {
        free(ids);
        free(e);
        return NULL;
    }
    for (uint32_t i = 0; i < a->nterms; i++) {
        const term *t = get_term(a, i);
        uint64_t k = 0;
        for (unsigned j = 0; j < 8; j++) k = k << 8 | (j < t->len ? (uint8_t)t->bytes[j] : 0u);
        e[i] = (sort_ent){k, i};
    }
    qsort_r(e, a->nterms, sizeof *e, cmp_terms, (void *)a);
    for (uint32_t i = 0; i < a->nterms; i++) ids[i] = e[i].tid;
    free(e);
    return ids;
}

void tw_accum_term(const tw_accum *a, uint32_t tid, uint32_t *fieldno, const char **s, size_t *len, uint32_t *df,
                   size_t *stream_len) {
    const term *t = get_term(a, tid);
    *fieldno = t->field;
    *s = t->bytes;
    *len = t->len;
    *df = t->df;
    *stream_len = t->slen;
}

void tw_accum_stream(const tw_accum *a, uint32_t tid, uint8_t *out) {
    const term *t = get_term(a, tid);
    size_t left = t->slen;
    uint32_t blk = t->head;
    for (unsigned cls = 0; left > 0; cls += cls < MAX_CLASS) {
        const uint8_t *b = a->smem + (size_t)blk * STREAM_UNIT;
        size_t cap = (STREAM_UNIT << cls) - 4, k = left < cap ? left : cap;
        memcpy(out, b + 4, k);
        out += k;
        left -= k;
        memcpy(&blk, b, 4);
    }
}

void tw_accum_doc(const tw_accum *a, uint32_t d, const char **id, size_t *idlen) {
    *id = a->docs[d].id;
    *idlen = a->docs[d].idlen;
}

void tw_accum_get_store(const tw_accum *a, tw_accum_store *st) {
    st->nblocks = a->nblocks;
    st->first = a->bfirst;
    st->clen = a->bclen;
    st->ulen = a->bulen;
    st->data = a->cdata.p;
    st->data_len = a->cdata.len;
    st->tail = a->raw.p;
    st->tail_len = a->raw.len;
    st->tail_first = a->raw_first;
}
