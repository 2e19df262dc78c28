/*
 * test_docpipe.c — the analysis record of a document batch (docpipe.h).
 *
 * (a) Round trip: random fields of random terms with random record bytes are
 *     encoded with tw_arec_put_field / tw_arec_term_begin / tw_arec_term_end
 *     and read back with the reader; every value must come back, the reader
 *     must end exactly at the end, and every cut-short copy of the record
 *     must be refused with TRAWL_ECORRUPT without reading past its end.
 * (b) Analysis: documents go through a pipe (0 and 2 threads); the decoded
 *     record of each text field must equal an independent reference built
 *     from tw_analyze directly (distinct terms in first-seen order, their tf
 *     and positions, strings of an array 100 positions apart, tokens counted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accum.h"
#include "analyzer.h"
#include "docpipe.h"
#include "jsondoc.h"

static int failures;
#include "testutil.h"

/* ---- (a) round trip ---- */

typedef struct rterm {
    uint64_t hash;
    char term[255];
    uint8_t len;
    uint32_t tf, pos[40];
} rterm;

typedef struct rfield {
    uint32_t ntoks, nterms;
    rterm *t;
} rfield;

static uint8_t *put_varint(uint8_t *p, uint32_t v) {
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static int get_varint(const uint8_t **p, const uint8_t *end, uint32_t *v) {
    uint64_t x;
    if (tw_get_varint(p, end, &x) || x > UINT32_MAX) return -1;
    *v = (uint32_t)x;
    return 0;
}

/* Decodes rec (varint tf, then tf position gaps) into tf and pos. */
static int decode_rec(const uint8_t *rec, uint32_t reclen, uint32_t *tf, uint32_t *pos, uint32_t cap) {
    const uint8_t *p = rec, *end = rec + reclen;
    if (get_varint(&p, end, tf) || *tf > cap) return -1;
    uint32_t at = 0;
    for (uint32_t k = 0; k < *tf; k++) {
        uint32_t g;
        if (get_varint(&p, end, &g)) return -1;
        at += g;
        pos[k] = at;
    }
    return p == end ? 0 : -1;
}

static void test_round_trip(void) {
    rng r = {20261129};
    for (int round = 0; round < 200; round++) {
        uint32_t nf = (uint32_t)below(&r, 6);
        rfield *f = xmalloc(sizeof *f * (nf ? nf : 1));
        tw_buf out = {0};
        for (uint32_t i = 0; i < nf; i++) {
            f[i].ntoks = (uint32_t)rnd(&r);
            f[i].nterms = (uint32_t)below(&r, 30);
            f[i].t = xmalloc(sizeof *f[i].t * (f[i].nterms ? f[i].nterms : 1));
            tw_arec_put_field(&out, f[i].ntoks, f[i].nterms);
            for (uint32_t k = 0; k < f[i].nterms; k++) {
                rterm *t = &f[i].t[k];
                t->hash = rnd(&r);
                t->len = (uint8_t)(below(&r, 4) == 0 ? 255 : 1 + below(&r, 20));
                for (unsigned j = 0; j < t->len; j++) t->term[j] = (char)rnd(&r);
                t->tf = (uint32_t)(1 + below(&r, 40));
                uint32_t at = 0;
                for (uint32_t j = 0; j < t->tf; j++)
                    t->pos[j] = at += (uint32_t)(j == 0 ? below(&r, 1u << 30) : 1 + below(&r, 300));
                CHECK(tw_buf_reserve(&out, TW_AREC_TERM_MAX(t->len, t->tf)) == 0, "reserve");
                uint8_t *q = tw_arec_term_begin(&out, t->hash, t->term, t->len);
                q = put_varint(q, t->tf);
                uint32_t prev = 0;
                for (uint32_t j = 0; j < t->tf; j++) {
                    q = put_varint(q, t->pos[j] - prev);
                    prev = t->pos[j];
                }
                tw_arec_term_end(&out, q);
            }
        }
        CHECK(!out.oom, "encoding ran out of memory");
        /* Read back in an exact-size copy (ASan sees any read past it). */
        uint8_t *copy = xmalloc(out.len);
        if (out.len) memcpy(copy, out.p, out.len);
        tw_arec_reader rd;
        tw_arec_reader_init(&rd, copy, out.len);
        for (uint32_t i = 0; i < nf; i++) {
            uint32_t ntoks = 0, nterms = 0;
            CHECK(tw_arec_next_field(&rd, &ntoks, &nterms) == 0, "round %d field %u: header", round, i);
            CHECK(ntoks == f[i].ntoks && nterms == f[i].nterms, "round %d field %u: %u/%u tokens/terms, wrote %u/%u",
                  round, i, ntoks, nterms, f[i].ntoks, f[i].nterms);
            for (uint32_t k = 0; k < f[i].nterms; k++) {
                const rterm *t = &f[i].t[k];
                tw_posting q;
                memset(&q, 0, sizeof q);
                CHECK(tw_arec_next_term(&rd, &q) == 0, "round %d field %u term %u: does not decode", round, i, k);
                CHECK(q.hash == t->hash && q.len == t->len && memcmp(q.term, t->term, t->len) == 0,
                      "round %d field %u term %u: hash/bytes differ", round, i, k);
                uint32_t tf = 0, pos[40];
                CHECK(decode_rec(q.rec, q.reclen, &tf, pos, 40) == 0 && tf == t->tf &&
                          memcmp(pos, t->pos, sizeof *pos * tf) == 0,
                      "round %d field %u term %u: record differs (tf %u, wrote %u)", round, i, k, tf, t->tf);
            }
        }
        CHECK(tw_arec_done(&rd), "round %d: %zu bytes left after the last field", round, (size_t)(rd.end - rd.p));
        /* Every proper prefix must fail somewhere, never read past its end. */
        for (size_t cut = 0; cut < out.len; cut += 1 + below(&r, 7)) {
            uint8_t *part = xmalloc(cut);
            if (cut) memcpy(part, out.p, cut);
            tw_arec_reader_init(&rd, part, cut);
            int rc = 0;
            for (uint32_t i = 0; i < nf && rc == 0; i++) {
                uint32_t ntoks, nterms;
                rc = tw_arec_next_field(&rd, &ntoks, &nterms);
                for (uint32_t k = 0; k < nterms && rc == 0; k++) {
                    tw_posting q;
                    rc = tw_arec_next_term(&rd, &q);
                }
            }
            CHECK(rc == TRAWL_ECORRUPT, "round %d: a record cut to %zu of %zu bytes decoded (rc %d)", round, cut,
                  out.len, rc);
            free(part);
        }
        free(copy);
        tw_buf_free(&out);
        for (uint32_t i = 0; i < nf; i++) free(f[i].t);
        free(f);
    }
}

/* ---- (b) analysis against tw_analyze ---- */

typedef struct ref_term {
    char term[256];
    size_t len;
    uint32_t tf, pos[64];
} ref_term;

typedef struct ref_field {
    uint32_t ntoks, nterms;
    ref_term t[64];
} ref_field;

static int ref_token(void *ctx, const tw_token *tok) {
    ref_field *f = ctx;
    f->ntoks++;
    for (uint32_t k = 0; k < f->nterms; k++)
        if (f->t[k].len == tok->len && memcmp(f->t[k].term, tok->term, tok->len) == 0) {
            if (f->t[k].tf < 64) f->t[k].pos[f->t[k].tf] = tok->pos;
            f->t[k].tf++;
            return 0;
        }
    if (f->nterms == 64) return 0;
    ref_term *t = &f->t[f->nterms++];
    memcpy(t->term, tok->term, tok->len);
    t->len = tok->len;
    t->tf = 1;
    t->pos[0] = tok->pos;
    return 0;
}

/* The reference for one field: its strings analyzed one after the other, each
 * 100 positions after the end of the one before. */
static void reference(tw_analyzer *an, const char *const *strs, size_t n, ref_field *f) {
    memset(f, 0, sizeof *f);
    uint32_t base = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t used = 0;
        CHECK(tw_analyze(an, strs[i], strlen(strs[i]), base, 1, ref_token, f, &used) == 0, "reference analysis");
        base += used + 100;
    }
}

typedef struct tdoc {
    const char *json;
    size_t nfields;
    const char *names[3];
    const char *strs[3][3];
    size_t nstrs[3];
} tdoc;

static const tdoc docs[] = {
    {"{\"id\":\"a\",\"title\":\"Running runners run\",\"body\":\"the runner ran; running again\"}",
     2,
     {"title", "body"},
     {{"Running runners run"}, {"the runner ran; running again"}},
     {1, 1}},
    {"{\"id\":\"b\",\"n\":3,\"tags\":[\"cloud native\",\"native cloud\",\"Cloud\"],\"x\":\"\"}",
     2,
     {"tags", "x"},
     {{"cloud native", "native cloud", "Cloud"}, {""}},
     {3, 1}},
    {"{\"id\":\"c\",\"body\":\"caf\\u00e9 CAF\u00c9 na\\u00efve Stra\\u00dfe strasse \\\" x\"}",
     1,
     {"body"},
     {{"caf\xc3\xa9 CAF\xc3\x89 na\xc3\xafve Stra\xc3\x9f"
       "e strasse \" x"}},
     {1}},
    {"{\"id\":\"d\",\"a\":\"one two three two one\",\"b\":[\"x y\",\"y x\"],\"c\":\"repeat repeat repeat repeat\"}",
     3,
     {"a", "b", "c"},
     {{"one two three two one"}, {"x y", "y x"}, {"repeat repeat repeat repeat"}},
     {1, 2, 1}},
};
#define NDOCS (sizeof docs / sizeof docs[0])

static void test_analysis(unsigned nthreads) {
    tw_pipe *p = tw_pipe_new("english", nthreads);
    tw_analyzer *an = NULL;
    CHECK(p && tw_analyzer_new("english", &an) == 0, "pipe and analyzer");
    if (!p || !an) return;
    tw_jdoc jd;
    memset(&jd, 0, sizeof jd);
    /* Two batches: the documents, then the documents again. */
    for (int batch = 0; batch < 2; batch++) {
        tw_batch *b = tw_pipe_current(p);
        CHECK(b != NULL, "current batch");
        if (!b) break;
        for (size_t d = 0; d < NDOCS; d++) {
            const char *json = docs[d].json;
            CHECK(tw_jdoc_read(&jd, json, strlen(json)) == 0, "doc %zu: %s", d, jd.err);
            const tw_jkey *id = NULL;
            for (size_t k = 0; k < jd.nkeys; k++)
                if (jd.keys[k].name.len == 2 && memcmp(tw_jdoc_bytes(&jd, jd.keys[k].name), "id", 2) == 0)
                    id = &jd.keys[k];
            CHECK(id != NULL, "doc %zu has no id", d);
            if (!b->text.p) {
                b->text.p = xmalloc(1 << 16);
                b->text.cap = 1 << 16;
            }
            CHECK(tw_batch_add(b, &jd, id, NULL, NULL, 0) == 0, "doc %zu: batch_add", d);
        }
        CHECK(tw_pipe_submit(p) == 0, "submit");
    }
    for (int batch = 0; batch < 2; batch++) {
        tw_batch *b = tw_pipe_take(p, 1);
        CHECK(b != NULL && b->rc == 0, "batch %d: analyzed (rc %d)", batch, b ? b->rc : 0);
        if (!b) break;
        CHECK(b->ndocs == NDOCS, "batch %d: %u documents", batch, b->ndocs);
        tw_arec_reader rd;
        tw_arec_reader_init(&rd, b->out.p, b->out.len);
        for (uint32_t d = 0; d < b->ndocs && d < NDOCS; d++) {
            CHECK(b->docs[d].n == docs[d].nfields, "doc %u: %u text fields, want %zu", d, b->docs[d].n,
                  docs[d].nfields);
            for (uint32_t k = 0; k < b->docs[d].n && k < docs[d].nfields; k++) {
                const tw_bfield *bf = &b->fields[b->docs[d].first + k];
                CHECK(bf->name.len == strlen(docs[d].names[k]) &&
                          memcmp(tw_batch_ptr(b, bf->name), docs[d].names[k], bf->name.len) == 0,
                      "doc %u field %u: name %.*s, want %s", d, k, (int)bf->name.len, tw_batch_ptr(b, bf->name),
                      docs[d].names[k]);
                ref_field want;
                reference(an, docs[d].strs[k], docs[d].nstrs[k], &want);
                uint32_t ntoks = 0, nterms = 0;
                CHECK(tw_arec_next_field(&rd, &ntoks, &nterms) == 0, "doc %u field %u: header", d, k);
                CHECK(ntoks == want.ntoks && nterms == want.nterms,
                      "doc %u field %s: %u tokens %u terms, reference %u/%u", d, docs[d].names[k], ntoks, nterms,
                      want.ntoks, want.nterms);
                for (uint32_t t = 0; t < nterms && t < want.nterms; t++) {
                    tw_posting q;
                    memset(&q, 0, sizeof q);
                    if (tw_arec_next_term(&rd, &q) != 0) {
                        CHECK(0, "doc %u field %u term %u: does not decode", d, k, t);
                        break;
                    }
                    const ref_term *w = &want.t[t];
                    CHECK(q.len == w->len && memcmp(q.term, w->term, w->len) == 0,
                          "doc %u field %s term %u: '%.*s', reference '%s'", d, docs[d].names[k], t, (int)q.len, q.term,
                          w->term);
                    CHECK(q.hash == tw_accum_hash(w->term, w->len), "doc %u term %s: hash", d, w->term);
                    uint32_t tf = 0, pos[64];
                    CHECK(decode_rec(q.rec, q.reclen, &tf, pos, 64) == 0 && tf == w->tf &&
                              memcmp(pos, w->pos, sizeof *pos * tf) == 0,
                          "doc %u field %s term %s: tf %u, reference %u (or positions differ)", d, docs[d].names[k],
                          w->term, tf, w->tf);
                }
            }
        }
        CHECK(tw_arec_done(&rd), "batch %d: record longer than its fields", batch);
        tw_pipe_recycle(p, b);
    }
    tw_jdoc_free(&jd);
    tw_analyzer_free(an);
    tw_pipe_free(p);
}

int main(void) {
    test_round_trip();
    test_analysis(0);
    test_analysis(2);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
