/*
 * phrase.c — phrase matching in two phases: the terms' doc-id lists are
 * intersected first (a conjunction led by the rarest term), and positions are
 * decoded only for the candidates that survive, rarest term first: each of its
 * positions is checked against the other terms' positions, which are decoded
 * lazily and only while candidates remain. The number of matching start
 * positions is the phrase frequency BM25 scores.
 */
#include <stdlib.h>
#include <string.h>

#include "cursor.h"

void tw_explain_bm25(tw_buf *out, const tw_bm25 *bm, uint32_t tf, uint32_t dl);

typedef struct pterm {
    tw_postings post;
    tw_piter it;
    uint32_t offset; /* position of the term within the phrase */
    uint32_t *pos;   /* decoded positions at the current doc */
    uint32_t npos, cap;
    tw_posreader reader;
} pterm;

typedef struct phrase_cursor {
    tw_cursor base;
    const tw_segment *seg;
    uint32_t field;
    size_t n;
    pterm *t;      /* ascending df: t[0] is the rarest */
    uint32_t freq; /* phrase frequency at the current doc */
    uint32_t *cand;
    uint32_t ncand, cand_cap;
    tw_bm25 bm;
    int *err_flag;
} phrase_cursor;

/* Reads the positions of t at its current doc into t->pos. 0, TRAWL_ENOMEM,
 * or TRAWL_ECORRUPT (no tf where the doc list has the doc, or a position
 * stream that does not decode). */
static int load_positions(phrase_cursor *p, pterm *t) {
    uint32_t tf = tw_postings_tf(&t->post, t->it.rank);
    if (tf == 0) return TRAWL_ECORRUPT;
    if (tf > t->cap) {
        uint32_t *np = realloc(t->pos, sizeof *np * tf);
        if (!np) return TRAWL_ENOMEM;
        t->pos = np;
        t->cap = tf;
    }
    int n = tw_posreader_get(&t->reader, t->it.rank, t->pos, t->cap);
    if (n < 0) return n;
    t->npos = (uint32_t)n;
    return 0;
}

/* Counts the phrase occurrences at the current doc (all terms are on it). */
static uint32_t verify(phrase_cursor *p) {
    pterm *r = &p->t[0];
    if (load_positions(p, r)) goto bad;
    /* Candidate start positions from the rarest term. */
    if (r->npos > p->cand_cap) {
        uint32_t *nc = realloc(p->cand, sizeof *nc * r->npos);
        if (!nc) goto bad;
        p->cand = nc;
        p->cand_cap = r->npos;
    }
    p->ncand = 0;
    for (uint32_t i = 0; i < r->npos; i++)
        if (r->pos[i] >= r->offset) p->cand[p->ncand++] = r->pos[i] - r->offset;
    for (size_t k = 1; k < p->n && p->ncand > 0; k++) {
        pterm *t = &p->t[k];
        if (load_positions(p, t)) goto bad;
        /* Keep candidates s with s + offset among t's positions (both sorted). */
        uint32_t keep = 0, j = 0;
        for (uint32_t i = 0; i < p->ncand; i++) {
            uint64_t want = (uint64_t)p->cand[i] + t->offset;
            while (j < t->npos && t->pos[j] < want) j++;
            if (j < t->npos && t->pos[j] == want) p->cand[keep++] = p->cand[i];
        }
        p->ncand = keep;
    }
    return p->ncand;
bad:
    *p->err_flag = 1;
    return 0;
}

/* From the conjunction's doc d onward, finds the next doc where the phrase occurs. */
static uint32_t align(phrase_cursor *p, uint32_t target) {
    for (;;) {
        if (target == TW_DOC_END) break;
        target = tw_piter_seek(&p->t[0].it, target);
        if (target == TW_DOC_END) break;
        size_t i = 1;
        for (; i < p->n; i++) {
            uint32_t d = tw_piter_seek(&p->t[i].it, target);
            if (d != target) {
                target = d;
                break;
            }
        }
        if (i < p->n) continue;
        if ((p->freq = verify(p)) > 0) return p->base.doc = target;
        if (*p->err_flag) break;
        target++;
    }
    p->freq = 0;
    return p->base.doc = TW_DOC_END;
}

static uint32_t phrase_next(tw_cursor *c) {
    phrase_cursor *p = (phrase_cursor *)c;
    if (c->doc == TW_DOC_END) return TW_DOC_END;
    return align(p, c->doc + 1);
}

static uint32_t phrase_seek(tw_cursor *c, uint32_t target) {
    return align((phrase_cursor *)c, target);
}

static double phrase_score(tw_cursor *c) {
    phrase_cursor *p = (phrase_cursor *)c;
    return tw_bm25_score(&p->bm, p->freq, tw_segment_doclen(p->seg, p->field, c->doc));
}

static void phrase_explain(tw_cursor *c, tw_buf *out) {
    phrase_cursor *p = (phrase_cursor *)c;
    tw_explain_bm25(out, &p->bm, p->freq, tw_segment_doclen(p->seg, p->field, c->doc));
}

static void phrase_free(tw_cursor *c) {
    phrase_cursor *p = (phrase_cursor *)c;
    for (size_t i = 0; i < p->n; i++) {
        tw_postings_close(&p->t[i].post);
        free(p->t[i].pos);
    }
    free(p->t);
    free(p->cand);
    free(p);
}

static const tw_cursor_ops phrase_ops = {phrase_next, phrase_seek, phrase_score, phrase_explain, phrase_free};

static int by_df(const void *x, const void *y) {
    const pterm *a = x, *b = y;
    uint32_t da = a->post.f[a->post.filter].df, db = b->post.f[b->post.filter].df;
    return da < db ? -1 : da > db;
}

tw_cursor *tw_phrase_cursor(const tw_segment *s, uint32_t field, size_t n, tw_postings *posts, const uint32_t *offsets,
                            const tw_bm25 *bm, int *err_flag) {
    phrase_cursor *p = calloc(1, sizeof *p);
    pterm *t = calloc(n ? n : 1, sizeof *t);
    if (!p || !t) {
        free(p);
        free(t);
        for (size_t i = 0; i < n; i++) tw_postings_close(&posts[i]);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        t[i].post = posts[i];
        t[i].offset = offsets[i];
    }
    qsort(t, n, sizeof *t, by_df);
    for (size_t i = 0; i < n; i++) {
        tw_piter_init(&t[i].it, &t[i].post);
        tw_posreader_init(&t[i].reader, &t[i].post.f[t[i].post.filter]);
    }
    p->base.ops = &phrase_ops;
    p->base.cost = n ? t[0].post.f[t[0].post.filter].df : 0;
    p->seg = s;
    p->field = field;
    p->n = n;
    p->t = t;
    p->bm = *bm;
    p->err_flag = err_flag;
    align(p, 0);
    return &p->base;
}
