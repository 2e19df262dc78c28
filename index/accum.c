/*
 * accum.c — in-memory inverted index for the documents of one future segment
 * (contract in accum.h).
 *
 * Terms live in an open-addressing hash table keyed by (field, bytes). While a
 * field of a document is being added, its tokens are chained per term (a linked
 * list through the token array), so that on end_field each term appends one
 * (doc gap, tf, positions) record to its stream without sorting.
 */
#include "accum.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "segment.h"
#include "varint.h"

typedef struct term {
    uint64_t hash;
    uint32_t str_off;   /* term bytes in a->strs */
    uint16_t len;
    uint16_t field;
    uint32_t df;
    uint32_t next_doc;  /* last doc with a record + 1 (gap base) */
    uint32_t cur_head;  /* first token of the current field run, or UINT32_MAX */
    uint32_t cur_tail;
    uint32_t cur_tf;
    uint32_t stream_len, stream_cap;
    uint8_t *stream;
} term;

typedef struct field {
    char *name;
    uint32_t *doclen; /* per doc */
    uint32_t cap;
} field;

typedef struct tok {
    uint32_t tid, pos, next;
} tok;

struct tw_accum {
    int rc;
    term *terms;
    uint32_t nterms, terms_cap;
    uint32_t *table; /* term id + 1, 0 = empty */
    uint32_t table_cap;
    tw_buf strs;
    field *fields;
    uint32_t nfields;
    /* current field run */
    tok *toks;
    uint32_t ntoks, toks_cap;
    uint32_t *run_terms;
    uint32_t nrun, run_cap;
    /* documents */
    uint32_t ndocs;
    uint64_t *doc_off; /* offsets into docs: id, then stored */
    uint32_t *id_len;
    uint32_t doc_cap;
    tw_buf docs;
    int in_doc;
    size_t stream_bytes;
};

static int grow(void **p, uint32_t *cap, size_t elem, uint32_t need) {
    if (need <= *cap) return 0;
    uint64_t ncap = *cap ? *cap : 16;
    while (ncap < need) ncap *= 2;
    if (ncap > UINT32_MAX) return -2;
    void *np = realloc(*p, (size_t)ncap * elem);
    if (!np) return -2;
    *p = np;
    *cap = (uint32_t)ncap;
    return 0;
}

tw_accum *tw_accum_new(void) {
    tw_accum *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->table_cap = 1u << 16;
    a->table = calloc(a->table_cap, sizeof *a->table);
    if (!a->table) {
        free(a);
        return NULL;
    }
    return a;
}

void tw_accum_free(tw_accum *a) {
    if (!a) return;
    for (uint32_t i = 0; i < a->nterms; i++) free(a->terms[i].stream);
    free(a->terms);
    free(a->table);
    tw_buf_free(&a->strs);
    for (uint32_t f = 0; f < a->nfields; f++) {
        free(a->fields[f].name);
        free(a->fields[f].doclen);
    }
    free(a->fields);
    free(a->toks);
    free(a->run_terms);
    free(a->doc_off);
    free(a->id_len);
    tw_buf_free(&a->docs);
    free(a);
}

int tw_accum_field_lookup(const tw_accum *a, const char *name, size_t len) {
    for (uint32_t f = 0; f < a->nfields; f++)
        if (strlen(a->fields[f].name) == len && memcmp(a->fields[f].name, name, len) == 0) return (int)f;
    return -1;
}

int tw_accum_field(tw_accum *a, const char *name, size_t len) {
    if (a->rc) return a->rc;
    int have = tw_accum_field_lookup(a, name, len);
    if (have >= 0) return have;
    if (a->nfields >= TW_MAX_FIELDS) return -1;
    field *nf = realloc(a->fields, sizeof *nf * (a->nfields + 1));
    if (!nf) return a->rc = -2;
    a->fields = nf;
    field *f = &a->fields[a->nfields];
    memset(f, 0, sizeof *f);
    f->name = malloc(len + 1);
    if (!f->name) return a->rc = -2;
    memcpy(f->name, name, len);
    f->name[len] = 0;
    /* Earlier documents have length 0 in the new field. */
    if (grow((void **)&f->doclen, &f->cap, sizeof *f->doclen, a->doc_cap ? a->doc_cap : 1)) return a->rc = -2;
    memset(f->doclen, 0, sizeof *f->doclen * f->cap);
    return (int)a->nfields++;
}

int64_t tw_accum_begin_doc(tw_accum *a, const char *id, size_t idlen, const char *stored, size_t slen) {
    if (a->rc) return a->rc;
    if (a->ndocs >= TW_MAX_DOCS_PER_SEGMENT || idlen > UINT32_MAX) return -1;
    uint32_t need = a->ndocs + 1;
    if (need > a->doc_cap) {
        uint32_t cap = a->doc_cap;
        if (grow((void **)&a->id_len, &cap, sizeof *a->id_len, need)) return a->rc = -2;
        uint64_t *no = realloc(a->doc_off, sizeof *no * ((size_t)cap + 1));
        if (!no) return a->rc = -2;
        a->doc_off = no;
        for (uint32_t f = 0; f < a->nfields; f++) {
            field *fl = &a->fields[f];
            uint32_t old = fl->cap;
            if (grow((void **)&fl->doclen, &fl->cap, sizeof *fl->doclen, cap)) return a->rc = -2;
            memset(fl->doclen + old, 0, sizeof *fl->doclen * (fl->cap - old));
        }
        a->doc_cap = cap;
    }
    if (a->ndocs == 0) a->doc_off[0] = 0;
    tw_buf_put(&a->docs, id, idlen);
    tw_buf_put(&a->docs, stored, slen);
    if (a->docs.oom) return a->rc = -2;
    a->id_len[a->ndocs] = (uint32_t)idlen;
    a->doc_off[a->ndocs + 1] = a->docs.len;
    for (uint32_t f = 0; f < a->nfields; f++) a->fields[f].doclen[a->ndocs] = 0;
    a->in_doc = 1;
    return a->ndocs;
}

void tw_accum_abort_doc(tw_accum *a) {
    if (!a->in_doc) return;
    a->docs.len = a->doc_off[a->ndocs];
    a->ntoks = 0;
    for (uint32_t i = 0; i < a->nrun; i++) a->terms[a->run_terms[i]].cur_head = UINT32_MAX;
    a->nrun = 0;
    a->in_doc = 0;
}

static int rehash(tw_accum *a) {
    uint32_t ncap = a->table_cap * 2;
    uint32_t *nt = calloc(ncap, sizeof *nt);
    if (!nt) return -2;
    for (uint32_t i = 0; i < a->nterms; i++) {
        uint32_t h = (uint32_t)a->terms[i].hash & (ncap - 1);
        while (nt[h]) h = (h + 1) & (ncap - 1);
        nt[h] = i + 1;
    }
    free(a->table);
    a->table = nt;
    a->table_cap = ncap;
    return 0;
}

/* Finds or adds the term; returns its id or a negative code. */
static int64_t intern(tw_accum *a, uint32_t fieldno, const char *s, size_t len) {
    uint64_t h = XXH3_64bits_withSeed(s, len, fieldno);
    uint32_t mask = a->table_cap - 1, i = (uint32_t)h & mask;
    for (;;) {
        uint32_t e = a->table[i];
        if (!e) break;
        term *t = &a->terms[e - 1];
        if (t->hash == h && t->field == fieldno && t->len == len && memcmp(a->strs.p + t->str_off, s, len) == 0)
            return e - 1;
        i = (i + 1) & mask;
    }
    if (a->strs.len > UINT32_MAX - len) return -1;
    if (grow((void **)&a->terms, &a->terms_cap, sizeof *a->terms, a->nterms + 1)) return -2;
    term *t = &a->terms[a->nterms];
    memset(t, 0, sizeof *t);
    t->hash = h;
    t->str_off = (uint32_t)a->strs.len;
    t->len = (uint16_t)len;
    t->field = (uint16_t)fieldno;
    t->cur_head = UINT32_MAX;
    tw_buf_put(&a->strs, s, len);
    if (a->strs.oom) return -2;
    a->table[i] = ++a->nterms;
    if ((uint64_t)a->nterms * 4 > (uint64_t)a->table_cap * 3 && rehash(a)) return -2;
    return a->nterms - 1;
}

int tw_accum_token(tw_accum *a, uint32_t fieldno, const char *s, size_t len, uint32_t pos) {
    if (a->rc) return a->rc;
    if (len == 0 || len > 255) return 0; /* the analyzer never makes longer terms */
    int64_t tid = intern(a, fieldno, s, len);
    if (tid < 0) return a->rc = (int)tid == -1 ? -2 : (int)tid;
    if (grow((void **)&a->toks, &a->toks_cap, sizeof *a->toks, a->ntoks + 1)) return a->rc = -2;
    term *t = &a->terms[tid];
    uint32_t k = a->ntoks++;
    a->toks[k] = (tok){(uint32_t)tid, pos, UINT32_MAX};
    if (t->cur_head == UINT32_MAX) {
        if (grow((void **)&a->run_terms, &a->run_cap, sizeof *a->run_terms, a->nrun + 1)) return a->rc = -2;
        a->run_terms[a->nrun++] = (uint32_t)tid;
        t->cur_head = t->cur_tail = k;
        t->cur_tf = 1;
    } else {
        a->toks[t->cur_tail].next = k;
        t->cur_tail = k;
        t->cur_tf++;
    }
    return 0;
}

static int stream_put(tw_accum *a, term *t, const uint8_t *src, size_t n) {
    if ((size_t)t->stream_cap - t->stream_len < n) {
        uint64_t ncap = t->stream_cap ? t->stream_cap : 8;
        while (ncap - t->stream_len < n) ncap *= 2;
        if (ncap > UINT32_MAX) return -1;
        uint8_t *np = realloc(t->stream, ncap);
        if (!np) return -2;
        a->stream_bytes += ncap - t->stream_cap;
        t->stream = np;
        t->stream_cap = (uint32_t)ncap;
    }
    memcpy(t->stream + t->stream_len, src, n);
    t->stream_len += (uint32_t)n;
    return 0;
}

static size_t put_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

int tw_accum_end_field(tw_accum *a, uint32_t fieldno) {
    if (a->rc) return a->rc;
    uint32_t doc = a->ndocs;
    uint8_t tmp[64];
    for (uint32_t r = 0; r < a->nrun; r++) {
        term *t = &a->terms[a->run_terms[r]];
        size_t n = put_varint(tmp, doc - t->next_doc);
        n += put_varint(tmp + n, t->cur_tf);
        int rc = stream_put(a, t, tmp, n);
        uint32_t prev = 0;
        for (uint32_t k = t->cur_head; k != UINT32_MAX && rc == 0; k = a->toks[k].next) {
            uint32_t p = a->toks[k].pos;
            n = put_varint(tmp, p - prev);
            prev = p;
            rc = stream_put(a, t, tmp, n);
        }
        if (rc) return a->rc = rc == -1 ? -2 : rc;
        t->df++;
        t->next_doc = doc + 1;
        t->cur_head = UINT32_MAX;
    }
    if (fieldno < a->nfields) a->fields[fieldno].doclen[doc] += a->ntoks;
    a->nrun = 0;
    a->ntoks = 0;
    return 0;
}

int tw_accum_end_doc(tw_accum *a) {
    if (a->rc) return a->rc;
    a->ndocs++;
    a->in_doc = 0;
    return 0;
}

uint32_t tw_accum_docs(const tw_accum *a) { return a->ndocs; }

size_t tw_accum_bytes(const tw_accum *a) {
    return a->stream_bytes + a->strs.cap + (size_t)a->terms_cap * sizeof(term) + (size_t)a->table_cap * 4 +
           a->docs.cap + (size_t)a->doc_cap * (12 + 4 * a->nfields) + (size_t)a->toks_cap * sizeof(tok);
}

uint32_t tw_accum_nfields(const tw_accum *a) { return a->nfields; }
const char *tw_accum_field_name(const tw_accum *a, uint32_t f) { return a->fields[f].name; }
const uint32_t *tw_accum_doclens(const tw_accum *a, uint32_t f) { return a->fields[f].doclen; }
uint32_t tw_accum_nterms(const tw_accum *a) { return a->nterms; }

static int cmp_terms(const void *x, const void *y, void *ctx) {
    const tw_accum *a = ctx;
    const term *s = &a->terms[*(const uint32_t *)x], *t = &a->terms[*(const uint32_t *)y];
    size_t n = s->len < t->len ? s->len : t->len;
    int c = memcmp(a->strs.p + s->str_off, a->strs.p + t->str_off, n);
    if (c) return c;
    if (s->len != t->len) return s->len < t->len ? -1 : 1;
    return s->field < t->field ? -1 : s->field > t->field;
}

uint32_t *tw_accum_sorted_terms(const tw_accum *a) {
    uint32_t *ids = malloc(sizeof *ids * (a->nterms ? a->nterms : 1));
    if (!ids) return NULL;
    for (uint32_t i = 0; i < a->nterms; i++) ids[i] = i;
    qsort_r(ids, a->nterms, sizeof *ids, cmp_terms, (void *)a);
    return ids;
}

void tw_accum_term(const tw_accum *a, uint32_t tid, uint32_t *fieldno, const char **s, size_t *len,
                   uint32_t *df, const uint8_t **stream, size_t *stream_len) {
    const term *t = &a->terms[tid];
    *fieldno = t->field;
    *s = (const char *)a->strs.p + t->str_off;
    *len = t->len;
    *df = t->df;
    *stream = t->stream;
    *stream_len = t->stream_len;
}

void tw_accum_doc(const tw_accum *a, uint32_t doc, const char **id, size_t *idlen, const char **stored,
                  size_t *slen) {
    const char *base = (const char *)a->docs.p + a->doc_off[doc];
    *id = base;
    *idlen = a->id_len[doc];
    *stored = base + a->id_len[doc];
    *slen = (size_t)(a->doc_off[doc + 1] - a->doc_off[doc]) - a->id_len[doc];
}
