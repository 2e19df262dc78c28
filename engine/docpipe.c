/*
 * docpipe.c — document batches and their analysis threads (contract in
 * docpipe.h).
 *
 * Submitted batches sit on two lists under one lock: `fly` in submission
 * order (taken back from its head only) and `todo`, those no thread has
 * started. Analysis threads take from todo; a caller waiting for the oldest
 * batch analyzes it itself when no thread has started it. Per field the
 * analysis folds repeated terms together in a small hash table local to the
 * thread, so the accumulator sees each (document, field, term) once, with its
 * hash already computed.
 */
#include "docpipe.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "shortkey.h"

#define ARRAY_POSITION_GAP 100u
#define KEEP_BATCH_BYTES ((size_t)16 << 20) /* larger batches are freed, not kept */
#define SMALL_TABLE 1024u                   /* slots of a thread's term table between fields */

/* ------------------------------------------------------------------------ */
/* Analysis of one batch                                                     */

typedef struct lterm {
    uint64_t hash;
    uint32_t off; /* term bytes in tbytes */
    uint32_t tf, head, tail, slot;
    uint8_t len;
} lterm;

typedef struct ltok {
    uint32_t pos, next;
} ltok;

/* One analysis thread's state (the analyzer is not thread-safe). */
typedef struct actx {
    struct tw_pipe *pipe; /* for the threads: the pipe they serve */
    tw_analyzer *an;
    uint32_t *slots; /* lterm index + 1; 0 = empty */
    size_t cap;
    lterm *terms;
    uint32_t nterms, terms_cap;
    ltok *toks;
    uint32_t ntoks, toks_cap;
    tw_buf tbytes;
    int oom;
} actx;

static void actx_free(actx *c) {
    tw_analyzer_free(c->an);
    free(c->slots);
    free(c->terms);
    free(c->toks);
    tw_buf_free(&c->tbytes);
    memset(c, 0, sizeof *c);
}

/* A thread's state for analyzing in lang. 0 or a trawl_rc (c is then empty). */
static int actx_init(actx *c, const char *lang) {
    memset(c, 0, sizeof *c);
    c->cap = SMALL_TABLE;
    c->slots = calloc(c->cap, sizeof *c->slots);
    int rc = c->slots ? tw_analyzer_new(lang, &c->an) : TRAWL_ENOMEM;
    if (rc) actx_free(c);
    return rc;
}

/* Doubles the term table. 0 or TRAWL_ENOMEM. */
static int rehash(actx *c) {
    size_t ncap = c->cap * 2;
    uint32_t *ns = calloc(ncap, sizeof *ns);
    if (!ns) return TRAWL_ENOMEM;
    for (uint32_t k = 0; k < c->nterms; k++) {
        size_t i = c->terms[k].hash & (ncap - 1);
        while (ns[i]) i = (i + 1) & (ncap - 1);
        ns[i] = k + 1;
        c->terms[k].slot = (uint32_t)i;
    }
    free(c->slots);
    c->slots = ns;
    c->cap = ncap;
    return 0;
}

static int on_token(void *ctx, const tw_token *t) {
    actx *c = ctx;
    size_t len = t->len;
    if (len == 0 || len > 255) return 0; /* never made by the analyzer; the accumulator's limit */
    if (c->ntoks == c->toks_cap) {
        uint32_t ncap = c->toks_cap ? c->toks_cap * 2 : 1024;
        ltok *nt = ncap > c->toks_cap ? realloc(c->toks, sizeof *nt * ncap) : NULL;
        if (!nt) return c->oom = 1;
        c->toks = nt;
        c->toks_cap = ncap;
    }
    uint32_t k = c->ntoks++;
    c->toks[k] = (ltok){t->pos, UINT32_MAX};
    uint64_t h = tw_hash_bytes(t->term, len);
    size_t mask = c->cap - 1, i = h & mask;
    for (uint32_t e; (e = c->slots[i]) != 0; i = (i + 1) & mask) {
        lterm *x = &c->terms[e - 1];
        if (x->hash == h && x->len == len && tw_same_bytes(c->tbytes.p + x->off, t->term, len)) {
            c->toks[x->tail].next = k;
            x->tail = k;
            x->tf++;
            return 0;
        }
    }
    if (c->nterms == c->terms_cap) {
        uint32_t ncap = c->terms_cap ? c->terms_cap * 2 : 256;
        lterm *nt = ncap > c->terms_cap ? realloc(c->terms, sizeof *nt * ncap) : NULL;
        if (!nt) return c->oom = 1;
        c->terms = nt;
        c->terms_cap = ncap;
    }
    if (c->tbytes.len > UINT32_MAX - len) return c->oom = 1;
    lterm *x = &c->terms[c->nterms];
    *x = (lterm){h, (uint32_t)c->tbytes.len, 1, k, k, (uint32_t)i, (uint8_t)len};
    tw_buf_put(&c->tbytes, t->term, len);
    if (c->tbytes.oom) return c->oom = 1;
    c->slots[i] = ++c->nterms;
    if ((size_t)c->nterms * 2 > c->cap && rehash(c)) return c->oom = 1;
    return 0;
}

/* Replaces the table with an empty one of SMALL_TABLE slots. 0 or
 * TRAWL_ENOMEM (the table is then kept, to be cleared). */
static int shrink_table(actx *c) {
    uint32_t *ns = calloc(SMALL_TABLE, sizeof *ns);
    if (!ns) return TRAWL_ENOMEM;
    free(c->slots);
    c->slots = ns;
    c->cap = SMALL_TABLE;
    return 0;
}

static inline uint8_t *put_varint(uint8_t *p, uint32_t v) {
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Appends the analyzed field (ntoks tokens, the terms in c) to the analysis
 * record out and forgets it. 0 or TRAWL_ENOMEM. */
static int emit_field(actx *c, tw_buf *out) {
    tw_arec_put_field(out, c->ntoks, c->nterms);
    for (uint32_t k = 0; k < c->nterms && !out->oom; k++) {
        lterm *x = &c->terms[k];
        if (tw_buf_reserve(out, TW_AREC_TERM_MAX(x->len, x->tf))) break;
        uint8_t *q = tw_arec_term_begin(out, x->hash, (const char *)c->tbytes.p + x->off, x->len);
        q = put_varint(q, x->tf);
        uint32_t prev = 0;
        for (uint32_t t = x->head; t != UINT32_MAX; t = c->toks[t].next) {
            q = put_varint(q, c->toks[t].pos - prev);
            prev = c->toks[t].pos;
        }
        tw_arec_term_end(out, q);
    }
    /* Forget the field: clear the used slots (all of them when that is
     * cheaper). A table grown by a field with many terms goes back to the
     * small size that stays in cache for the usual fields. */
    int fresh = c->cap > SMALL_TABLE && shrink_table(c) == 0;
    if (!fresh && (size_t)c->nterms * 8 > c->cap)
        memset(c->slots, 0, c->cap * sizeof *c->slots);
    else if (!fresh)
        for (uint32_t k = 0; k < c->nterms; k++) c->slots[c->terms[k].slot] = 0;
    c->nterms = 0;
    c->ntoks = 0;
    c->tbytes.len = 0;
    return out->oom ? TRAWL_ENOMEM : 0;
}

/* Analyzes every text field of b into b->out; sets b->rc (TRAWL_ENOMEM, or
 * TRAWL_ELIMIT for a field with more positions than 32 bits count). */
static void analyze_batch(actx *c, tw_batch *b) {
    b->out.len = 0;
    b->rc = 0;
    for (uint32_t fi = 0; fi < b->nfields && b->rc == 0; fi++) {
        const tw_bfield *f = &b->fields[fi];
        uint32_t base = 0;
        for (uint32_t s = 0; s < f->n; s++) {
            const tw_bspan *sp = &b->strs[f->first + s];
            uint32_t used = 0;
            int rc = tw_analyze(c->an, tw_batch_ptr(b, *sp), sp->len, base, 1, on_token, c, &used);
            if (rc < 0 || c->oom) {
                b->rc = TRAWL_ENOMEM;
                break;
            }
            if (used > UINT32_MAX - base - ARRAY_POSITION_GAP) {
                b->rc = TRAWL_ELIMIT;
                break;
            }
            base += used + ARRAY_POSITION_GAP;
        }
        if (b->rc == 0) b->rc = emit_field(c, &b->out);
    }
    if (b->rc) {
        /* Leave the thread's state clean for the next batch. */
        c->oom = 0;
        c->nterms = 0;
        c->ntoks = 0;
        c->tbytes.len = 0;
        memset(c->slots, 0, c->cap * sizeof *c->slots);
    }
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                   */

/* Room for need elements of elem bytes in *p (capacity *cap). 0, TRAWL_ENOMEM,
 * or TRAWL_ELIMIT past 2^32 elements. */
static int grow(void **p, uint32_t *cap, size_t elem, uint32_t need) {
    if (need <= *cap) return 0;
    uint64_t ncap = *cap ? *cap : 64;
    while (ncap < need) ncap *= 2;
    if (ncap > UINT32_MAX) return TRAWL_ELIMIT;
    void *np = realloc(*p, (size_t)ncap * elem);
    if (!np) return TRAWL_ENOMEM;
    *p = np;
    *cap = (uint32_t)ncap;
    return 0;
}

/* The span of s of d in b, where d's input was copied at text_off: in that
 * copy, or (a string from scratch) copied to b->bytes. 0, TRAWL_ENOMEM, or
 * TRAWL_ELIMIT when b->bytes would pass 4 GiB. */
static int put_str(tw_batch *b, const tw_jdoc *d, tw_jstr s, uint32_t text_off, tw_bspan *out) {
    if (!s.in_scratch) {
        *out = (tw_bspan){text_off + (uint32_t)s.off, (uint32_t)s.len, 1};
        return 0;
    }
    if (b->bytes.len > UINT32_MAX || s.len > UINT32_MAX - b->bytes.len) return TRAWL_ELIMIT;
    *out = (tw_bspan){(uint32_t)b->bytes.len, (uint32_t)s.len, 0};
    tw_buf_put(&b->bytes, tw_jdoc_bytes(d, s), s.len);
    return b->bytes.oom ? TRAWL_ENOMEM : 0;
}

int tw_jkey_is_text(const tw_jdoc *d, const tw_jkey *k, const tw_jkey *id, const tw_schema *schema) {
    if (k->kind == TW_JV_OTHER || k == id || k->name.len == 0) return 0;
    return !schema || (tw_schema_types(schema, tw_jdoc_bytes(d, k->name), k->name.len) & TW_FT_TEXT);
}

int tw_batch_add(tw_batch *b, const tw_jdoc *d, const tw_jkey *id, const tw_schema *schema, const void *typed,
                 size_t typed_len) {
    size_t text0 = b->text.len, bytes0 = b->bytes.len, typed0 = b->typed.len;
    uint32_t nf = 0, ns = 0;
    for (size_t k = 0; k < d->nkeys; k++) {
        const tw_jkey *key = &d->keys[k];
        if (!tw_jkey_is_text(d, key, id, schema)) continue;
        nf++;
        ns += (uint32_t)key->n;
    }
    int rc;
    if ((rc = grow((void **)&b->docs, &b->docs_cap, sizeof *b->docs, b->ndocs + 1)) != 0 ||
        (rc = grow((void **)&b->fields, &b->fields_cap, sizeof *b->fields, b->nfields + nf)) != 0 ||
        (rc = grow((void **)&b->strs, &b->strs_cap, sizeof *b->strs, b->nstrs + ns)) != 0)
        return rc;
    if (b->text.len > UINT32_MAX || d->input_len > UINT32_MAX - b->text.len) return TRAWL_ELIMIT;
    tw_bdoc *doc = &b->docs[b->ndocs];
    doc->text = (tw_bspan){(uint32_t)b->text.len, (uint32_t)d->input_len, 1};
    doc->first = b->nfields;
    doc->n = nf;
    doc->typed_off = b->typed.len;
    doc->typed_len = typed_len;
    tw_buf_put(&b->typed, typed, typed_len);
    if (b->typed.oom) {
        rc = TRAWL_ENOMEM;
        goto fail;
    }
    tw_buf_put(&b->text, d->input, d->input_len);
    rc = b->text.oom ? TRAWL_ENOMEM : put_str(b, d, d->strs[id->first], doc->text.off, &doc->id);
    if (rc) goto fail;
    uint32_t f = b->nfields, s = b->nstrs;
    for (size_t k = 0; k < d->nkeys; k++) {
        const tw_jkey *key = &d->keys[k];
        if (!tw_jkey_is_text(d, key, id, schema)) continue;
        tw_bfield *bf = &b->fields[f++];
        if ((rc = put_str(b, d, key->name, doc->text.off, &bf->name)) != 0) goto fail;
        bf->first = s;
        bf->n = (uint32_t)key->n;
        for (size_t j = 0; j < key->n; j++)
            if ((rc = put_str(b, d, d->strs[key->first + j], doc->text.off, &b->strs[s++])) != 0) goto fail;
    }
    b->ndocs++;
    b->nfields = f;
    b->nstrs = s;
    return 0;
fail:
    b->typed.len = typed0;
    b->typed.oom = 0;
    b->text.len = text0;
    b->text.oom = 0;
    b->bytes.len = bytes0;
    b->bytes.oom = 0;
    return rc;
}

static void batch_free(tw_batch *b) {
    if (!b) return;
    tw_buf_free(&b->text);
    tw_buf_free(&b->bytes);
    tw_buf_free(&b->typed);
    tw_buf_free(&b->out);
    free(b->docs);
    free(b->fields);
    free(b->strs);
    free(b);
}

/* ------------------------------------------------------------------------ */
/* The pipe                                                                  */

struct tw_pipe {
    char lang[64];
    unsigned nthreads, started;
    pthread_t *threads;
    actx *ctx; /* one per thread */
    actx self; /* the caller's own, made on first use */
    int self_ok;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    int stop;
    tw_batch *fly_head, *fly_tail; /* submitted, in order (link: next) */
    tw_batch **todo;               /* ring of submitted batches no thread has started */
    size_t todo_cap, todo_at, todo_n;
    size_t pending;
    tw_batch *cur;   /* being filled */
    tw_batch *spare; /* recycled (link: next) */
};

tw_pipe *tw_pipe_new(const char *lang, unsigned nthreads) {
    tw_pipe *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    snprintf(p->lang, sizeof p->lang, "%s", lang);
    p->nthreads = nthreads;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->work, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->done, NULL) != 0) {
        pthread_cond_destroy(&p->work);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    return p;
}

void tw_pipe_free(tw_pipe *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned t = 0; t < p->started; t++) {
        pthread_join(p->threads[t], NULL);
        actx_free(&p->ctx[t]);
    }
    free(p->threads);
    free(p->ctx);
    if (p->self_ok) actx_free(&p->self);
    while (p->fly_head) {
        tw_batch *b = p->fly_head;
        p->fly_head = b->next;
        batch_free(b);
    }
    while (p->spare) {
        tw_batch *b = p->spare;
        p->spare = b->next;
        batch_free(b);
    }
    batch_free(p->cur);
    free(p->todo);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

tw_batch *tw_pipe_current(tw_pipe *p) {
    if (p->cur) return p->cur;
    tw_batch *b = p->spare;
    if (b) {
        p->spare = b->next;
    } else if (!(b = calloc(1, sizeof *b))) {
        return NULL;
    }
    b->next = NULL;
    b->text.len = 0;
    b->bytes.len = 0;
    b->typed.len = 0;
    b->out.len = 0;
    b->ndocs = b->nfields = b->nstrs = 0;
    b->rc = 0;
    b->done = 0;
    return p->cur = b;
}

static void *worker(void *arg);

/* Starts the analysis threads (as many as can be made: fewer, even none,
 * means more analysis in the caller's thread). Called with the lock free. */
static void start_threads(tw_pipe *p) {
    p->threads = calloc(p->nthreads, sizeof *p->threads);
    p->ctx = calloc(p->nthreads, sizeof *p->ctx);
    if (!p->threads || !p->ctx) {
        p->nthreads = 0;
        return;
    }
    for (unsigned t = 0; t < p->nthreads; t++) {
        if (actx_init(&p->ctx[t], p->lang)) break;
        p->ctx[t].pipe = p;
        if (pthread_create(&p->threads[t], NULL, worker, &p->ctx[t]) != 0) {
            actx_free(&p->ctx[t]);
            break;
        }
        p->started++;
    }
    p->nthreads = p->started;
}

/* Analyzes b in the caller's thread. */
static void analyze_here(tw_pipe *p, tw_batch *b) {
    if (!p->self_ok) {
        if ((b->rc = actx_init(&p->self, p->lang)) != 0) return;
        p->self_ok = 1;
    }
    analyze_batch(&p->self, b);
}

/* Appends b to the ring of batches no thread has started. 0 or TRAWL_ENOMEM. */
static int todo_push(tw_pipe *p, tw_batch *b) {
    if (p->todo_n == p->todo_cap) {
        size_t ncap = p->todo_cap ? p->todo_cap * 2 : 16;
        tw_batch **nt = malloc(ncap * sizeof *nt);
        if (!nt) return TRAWL_ENOMEM;
        for (size_t i = 0; i < p->todo_n; i++) nt[i] = p->todo[(p->todo_at + i) % p->todo_cap];
        free(p->todo);
        p->todo = nt;
        p->todo_cap = ncap;
        p->todo_at = 0;
    }
    p->todo[(p->todo_at + p->todo_n++) % p->todo_cap] = b;
    return 0;
}

static tw_batch *todo_pop(tw_pipe *p) {
    if (!p->todo_n) return NULL;
    tw_batch *b = p->todo[p->todo_at];
    p->todo_at = (p->todo_at + 1) % p->todo_cap;
    p->todo_n--;
    return b;
}

int tw_pipe_submit(tw_pipe *p) {
    tw_batch *b = p->cur;
    if (!b || b->ndocs == 0) return 0;
    p->cur = NULL;
    if (p->nthreads && !p->started) start_threads(p);
    pthread_mutex_lock(&p->mu);
    b->next = NULL;
    if (p->fly_tail)
        p->fly_tail->next = b;
    else
        p->fly_head = b;
    p->fly_tail = b;
    p->pending++;
    int queued = p->nthreads && todo_push(p, b) == 0;
    if (queued) pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    if (!queued) {
        analyze_here(p, b);
        pthread_mutex_lock(&p->mu);
        b->done = 1;
        pthread_mutex_unlock(&p->mu);
        return b->rc == TRAWL_ENOMEM ? TRAWL_ENOMEM : 0;
    }
    return 0;
}

size_t tw_pipe_pending(const tw_pipe *p) {
    return p->pending;
}

/* An analysis thread: takes batches from todo until the pipe stops. */
static void *worker(void *arg) {
    actx *c = arg;
    tw_pipe *p = c->pipe;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && !p->todo_n) pthread_cond_wait(&p->work, &p->mu);
        if (p->stop) break;
        tw_batch *b = todo_pop(p);
        pthread_mutex_unlock(&p->mu);
        analyze_batch(c, b);
        pthread_mutex_lock(&p->mu);
        b->done = 1;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

tw_batch *tw_pipe_take(tw_pipe *p, int wait) {
    pthread_mutex_lock(&p->mu);
    tw_batch *b = p->fly_head;
    while (b && !b->done) {
        if (p->todo_n && p->todo[p->todo_at] == b) {
            /* No thread has started it: analyze it here rather than wait. */
            if (!wait) {
                b = NULL;
                break;
            }
            todo_pop(p);
            pthread_mutex_unlock(&p->mu);
            analyze_here(p, b);
            pthread_mutex_lock(&p->mu);
            b->done = 1;
            break;
        }
        if (!wait) {
            b = NULL;
            break;
        }
        pthread_cond_wait(&p->done, &p->mu);
    }
    if (b) {
        p->fly_head = b->next;
        if (!p->fly_head) p->fly_tail = NULL;
        p->pending--;
        b->next = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    return b;
}

void tw_pipe_recycle(tw_pipe *p, tw_batch *b) {
    if (!b) return;
    if (b->text.cap > KEEP_BATCH_BYTES || b->bytes.cap > KEEP_BATCH_BYTES || b->out.cap > KEEP_BATCH_BYTES) {
        batch_free(b);
        return;
    }
    b->next = p->spare;
    p->spare = b;
}
