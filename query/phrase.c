/*
 * phrase.c — phrase matching in two phases: the terms' doc-id lists are
 * intersected first (a conjunction led by the rarest term), and positions are
 * decoded only for the candidates that survive, rarest term first: each of its
 * positions is checked against the other terms' positions, which are decoded
 * only while candidates remain. The number of matching start positions is the
 * phrase frequency BM25 scores. tw_phrase_freq (the verification) is shared
 * with the bitmap phrase executor (exec_phrase.c).
 */
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "trawl.h"

void tw_explain_bm25(tw_buf *out, const tw_bm25 *bm, uint32_t tf, uint32_t dl);

void tw_phrase_buf_free(tw_phrase_buf *b) {
    free(b->pos);
    free(b->cand);
    memset(b, 0, sizeof *b);
}

/* *buf with room for n entries (*cap grown as needed). 0 or TRAWL_ENOMEM. */
static int reserve(uint32_t **buf, uint32_t *cap, uint32_t n) {
    if (n <= *cap) return 0;
    uint32_t *nb = realloc(*buf, sizeof *nb * n);
    if (!nb) return TRAWL_ENOMEM;
    *buf = nb;
    *cap = n;
    return 0;
}

int tw_phrase_freq(size_t n, tw_posreader *const *rd, const uint32_t *rank, const uint32_t *tf, const uint32_t *off,
                   tw_phrase_buf *b) {
    for (size_t k = 0; k < n; k++)
        if (tf[k] == 0) return 0;
    uint32_t ncand = 0;
    for (size_t k = 0; k < n; k++) {
        if (reserve(&b->pos, &b->pos_cap, tf[k])) return TRAWL_ENOMEM;
        int got = tw_posreader_get(rd[k], rank[k], b->pos, b->pos_cap);
        if (got < 0) return TRAWL_ECORRUPT;
        const uint32_t *pos = b->pos;
        uint32_t npos = (uint32_t)got;
        if (k == 0) {
            /* Candidate start positions from the rarest term. */
            if (reserve(&b->cand, &b->cand_cap, npos ? npos : 1)) return TRAWL_ENOMEM;
            for (uint32_t i = 0; i < npos; i++)
                if (pos[i] >= off[0]) b->cand[ncand++] = pos[i] - off[0];
        } else {
            /* Keep candidates s with s + off[k] among the term's positions (both sorted). */
            uint32_t keep = 0, j = 0;
            for (uint32_t i = 0; i < ncand; i++) {
                uint64_t want = (uint64_t)b->cand[i] + off[k];
                while (j < npos && pos[j] < want) j++;
                if (j < npos && pos[j] == want) b->cand[keep++] = b->cand[i];
            }
            ncand = keep;
        }
        if (ncand == 0) break;
    }
    return (int)ncand;
}

typedef struct pterm {
    tw_postings post;
    tw_piter it;
    uint32_t offset; /* position of the term within the phrase */
    tw_posreader reader;
} pterm;

typedef struct phrase_cursor {
    tw_cursor base;
    const tw_segment *seg;
    uint32_t field;
    size_t n;
    pterm *t;      /* ascending df: t[0] is the rarest */
    uint32_t freq; /* phrase frequency at the current doc */
    tw_bm25 bm;
    tw_phrase_buf buf;
    /* per term, in t's order: what tw_phrase_freq reads */
    tw_posreader **rd;
    uint32_t *rank, *tf, *off;
} phrase_cursor;

/* Phrase frequency at the current doc (every term is on it), TRAWL_ENOMEM,
 * or TRAWL_ECORRUPT (no tf where the doc list has the doc, or a position
 * stream that does not decode). */
static int verify(phrase_cursor *p) {
    for (size_t k = 0; k < p->n; k++) {
        p->rank[k] = p->t[k].it.rank;
        p->tf[k] = tw_postings_tf(&p->t[k].post, p->rank[k]);
        if (p->tf[k] == 0) return TRAWL_ECORRUPT;
    }
    return tw_phrase_freq(p->n, p->rd, p->rank, p->tf, p->off, &p->buf);
}

/* From target onward, finds the next doc where the phrase occurs. */
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
        int f = verify(p);
        if (f > 0) {
            p->freq = (uint32_t)f;
            return p->base.doc = target;
        }
        if (f < 0) {
            p->base.rc = f;
            break;
        }
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

/* tf / (tf + k1·(…)) < 1 for any frequency: the weight bounds the score (with
 * a margin for rounding). */
static double phrase_max_score(tw_cursor *c) {
    phrase_cursor *p = (phrase_cursor *)c;
    return p->bm.weight * (1 + 1e-9) + 1e-12;
}

static void phrase_explain(tw_cursor *c, tw_buf *out) {
    phrase_cursor *p = (phrase_cursor *)c;
    tw_explain_bm25(out, &p->bm, p->freq, tw_segment_doclen(p->seg, p->field, c->doc));
}

static void phrase_free(tw_cursor *c) {
    phrase_cursor *p = (phrase_cursor *)c;
    for (size_t i = 0; i < p->n; i++) tw_postings_close(&p->t[i].post);
    free(p->t);
    free(p->rd);
    free(p->rank);
    tw_phrase_buf_free(&p->buf);
    free(p);
}

static const tw_cursor_ops phrase_ops = {phrase_next, phrase_seek,    phrase_score, phrase_max_score,
                                         NULL,        phrase_explain, phrase_free};

static int by_df(const void *x, const void *y) {
    const pterm *a = x, *b = y;
    uint32_t da = a->post.f[a->post.filter].df, db = b->post.f[b->post.filter].df;
    return da < db ? -1 : da > db;
}

tw_cursor *tw_phrase_cursor(const tw_segment *s, uint32_t field, size_t n, tw_postings *posts, const uint32_t *offsets,
                            const tw_bm25 *bm) {
    phrase_cursor *p = calloc(1, sizeof *p);
    pterm *t = calloc(n ? n : 1, sizeof *t);
    tw_posreader **rd = calloc(n ? n : 1, sizeof *rd);
    uint32_t *arr = calloc(3 * (n ? n : 1), sizeof *arr);
    if (!p || !t || !rd || !arr) {
        free(p);
        free(t);
        free(rd);
        free(arr);
        for (size_t i = 0; i < n; i++) tw_postings_close(&posts[i]);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        t[i].post = posts[i];
        t[i].offset = offsets[i];
    }
    qsort(t, n, sizeof *t, by_df);
    p->rank = arr;
    p->tf = arr + n;
    p->off = arr + 2 * n;
    for (size_t i = 0; i < n; i++) {
        tw_piter_init(&t[i].it, &t[i].post);
        tw_posreader_init(&t[i].reader, &t[i].post.f[t[i].post.filter]);
        rd[i] = &t[i].reader;
        p->off[i] = t[i].offset;
    }
    p->base.ops = &phrase_ops;
    p->base.cost = n ? t[0].post.f[t[0].post.filter].df : 0;
    p->seg = s;
    p->field = field;
    p->n = n;
    p->t = t;
    p->rd = rd;
    p->bm = *bm;
    align(p, 0);
    return &p->base;
}
