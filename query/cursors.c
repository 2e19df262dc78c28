/*
 * cursors.c — the basic cursors: a term's posting list with BM25 scoring
 * (and its score bounds from the block maxima), the Boolean operators (AND by leapfrogging from the cheapest child, OR by a
 * min-heap over children, required+optional, exclusion), all and empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"

/* ---- term ---- */

typedef struct term_cursor {
    tw_cursor base;
    const tw_segment *seg;
    tw_postings post;
    tw_piter it;
    size_t n;
    int have_ub;
    double ub; /* tw_term_bound, once asked for */
    tw_fscore fs[TW_MAX_SCORED_FIELDS];
} term_cursor;

double tw_term_fields_score(const tw_fscore *fs, size_t nfs, const uint32_t *tf, const uint32_t *dl) {
    double s = 0;
    if (nfs > 0 && fs[0].bm.bm25f) {
        for (size_t j = 0; j < nfs; j++)
            if (tf[j]) s += tw_bm25f_tf(&fs[j].bm, tf[j], dl[j]);
        return s > 0 ? tw_bm25f_sat(&fs[0].bm, s) : 0;
    }
    for (size_t j = 0; j < nfs; j++)
        if (tf[j]) s += tw_bm25_score(&fs[j].bm, tf[j], dl[j]);
    return s;
}

/* Each field's BM25 grows with tf and shrinks with dl, and so does each
 * field's BM25F frequency (whose saturation grows with their sum): the
 * block's largest tf and smallest length of every field bound the score. */
double tw_term_block_bound(const tw_segment *seg, const tw_postings *p, const tw_fscore *fs, size_t nfs, uint32_t b) {
    int f = nfs > 0 && fs[0].bm.bm25f;
    double s = 0;
    for (size_t j = 0; j < nfs; j++) {
        uint32_t maxtf, mindl;
        tw_pfield_block_bound(&p->f[fs[j].fi], b, seg->fields[fs[j].field].min_len, &maxtf, &mindl);
        if (maxtf) s += f ? tw_bm25f_tf(&fs[j].bm, maxtf, mindl) : tw_bm25_score(&fs[j].bm, maxtf, mindl);
    }
    double ub = f ? (s > 0 ? tw_bm25f_sat(&fs[0].bm, s) : 0) : s;
    /* Margin for rounding: sums taken in another order may differ by an ulp. */
    return ub * (1 + 1e-9) + 1e-12;
}

double tw_term_bound(const tw_segment *seg, const tw_postings *p, const tw_fscore *fs, size_t nfs) {
    uint32_t nblocks = (p->df + TW_BLOCK - 1) / TW_BLOCK;
    double ub = 0;
    for (uint32_t b = 0; b < nblocks; b++) {
        double x = tw_term_block_bound(seg, p, fs, nfs, b);
        if (x > ub) ub = x;
    }
    return ub;
}

static uint32_t term_next(tw_cursor *c) {
    term_cursor *t = (term_cursor *)c;
    return c->doc = tw_piter_next(&t->it);
}

static uint32_t term_seek(tw_cursor *c, uint32_t target) {
    term_cursor *t = (term_cursor *)c;
    return c->doc = tw_piter_seek(&t->it, target);
}

/* The term's frequency and length in each scored field at the current doc. */
static void term_freqs(term_cursor *t, uint32_t *tf, uint32_t *dl) {
    for (size_t i = 0; i < t->n; i++) {
        tf[i] = tw_pfield_tf(&t->post.f[t->fs[i].fi], t->it.rank);
        dl[i] = tf[i] ? tw_segment_doclen(t->seg, t->fs[i].field, t->base.doc) : 0;
    }
}

static double term_score(tw_cursor *c) {
    term_cursor *t = (term_cursor *)c;
    uint32_t tf[TW_MAX_SCORED_FIELDS], dl[TW_MAX_SCORED_FIELDS];
    term_freqs(t, tf, dl);
    return tw_term_fields_score(t->fs, t->n, tf, dl);
}

static double term_max_score(tw_cursor *c) {
    term_cursor *t = (term_cursor *)c;
    if (!t->have_ub) {
        t->ub = tw_term_bound(t->seg, &t->post, t->fs, t->n);
        t->have_ub = 1;
    }
    return t->ub;
}

static void explain_line(tw_buf *out, const tw_bm25 *bm, uint32_t tf, uint32_t dl) {
    char line[512];
    int n = snprintf(line, sizeof line,
                     "%.6f  %s  [weight %g × idf %.6f × tf %u·(k1+1) / (tf + k1·(1 − b + b·dl %u / avgdl %.4f))]\n",
                     tw_bm25_score(bm, tf, dl), bm->label, bm->field_weight, bm->idf, tf, dl, bm->avgdl);
    if (n > 0) tw_buf_put(out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* BM25F: a line for the term, then one per field it occurs in. */
static void explain_bm25f(tw_buf *out, const tw_fscore *fs, size_t n, const uint32_t *tf, const uint32_t *dl) {
    char line[512];
    double x = 0;
    for (size_t i = 0; i < n; i++)
        if (tf[i]) x += tw_bm25f_tf(&fs[i].bm, tf[i], dl[i]);
    const char *label = fs[0].bm.label ? strchr(fs[0].bm.label, ':') : NULL;
    int len = snprintf(line, sizeof line, "%.6f  BM25F %s  [idf %.6f × x·(k1+1) / (x + k1 %g), x = %.6f = Σ fields:]\n",
                       tw_term_fields_score(fs, n, tf, dl), label ? label + 1 : "", fs[0].bm.idf, fs[0].bm.k1, x);
    if (len > 0) tw_buf_put(out, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
    for (size_t i = 0; i < n; i++) {
        if (!tf[i]) continue;
        const tw_bm25 *bm = &fs[i].bm;
        len = snprintf(line, sizeof line, "    %.6f  %s  [weight %g × tf %u / (1 − b + b·dl %u / avgdl %.4f)]\n",
                       tw_bm25f_tf(bm, tf[i], dl[i]), bm->label, bm->field_weight, tf[i], dl[i], bm->avgdl);
        if (len > 0) tw_buf_put(out, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
    }
}

static void term_explain(tw_cursor *c, tw_buf *out) {
    term_cursor *t = (term_cursor *)c;
    uint32_t tf[TW_MAX_SCORED_FIELDS], dl[TW_MAX_SCORED_FIELDS];
    term_freqs(t, tf, dl);
    if (t->n > 0 && t->fs[0].bm.bm25f) {
        explain_bm25f(out, t->fs, t->n, tf, dl);
        return;
    }
    for (size_t i = 0; i < t->n; i++)
        if (tf[i]) explain_line(out, &t->fs[i].bm, tf[i], dl[i]);
}

static void term_free(tw_cursor *c) {
    free(c);
}

static const tw_cursor_ops term_ops = {term_next, term_seek, term_score, term_max_score, NULL, term_explain, term_free};

tw_cursor *tw_term_cursor(const tw_segment *s, tw_postings *post, const tw_fscore *fs, size_t n) {
    term_cursor *t = n <= TW_MAX_SCORED_FIELDS ? calloc(1, sizeof *t) : NULL;
    if (!t) return NULL;
    t->base.ops = &term_ops;
    t->seg = s;
    t->post = *post;
    t->n = n;
    memcpy(t->fs, fs, sizeof *fs * n);
    tw_piter_init(&t->it, &t->post);
    t->base.doc = t->it.doc;
    t->base.cost = post->filter >= 0 ? post->f[post->filter].df : post->df;
    return &t->base;
}

uint32_t tw_term_cursor_rank(const tw_cursor *c) {
    return ((const term_cursor *)c)->it.rank;
}

/* Shared by phrase.c. */
void tw_explain_bm25(tw_buf *out, const tw_bm25 *bm, uint32_t tf, uint32_t dl) {
    explain_line(out, bm, tf, dl);
}

/* ---- helpers for composite cursors ---- */

static void free_kids(tw_cursor **kids, size_t n) {
    for (size_t i = 0; i < n; i++) tw_cursor_free(kids[i]);
}

/* Sum of the children's bounds, in the order their scores are summed. */
static double sum_max(tw_cursor **kids, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += tw_max_score(kids[i]);
    return s;
}

/* The first failure among the children, or 0. */
static int kids_status(tw_cursor *const *kids, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int rc = tw_cursor_status(kids[i]);
        if (rc) return rc;
    }
    return 0;
}

/* ---- and ---- */

typedef struct and_cursor {
    tw_cursor base;
    size_t n;
    tw_cursor **kids;  /* ascending cost: the cheapest leads */
    tw_cursor **order; /* as given: scores are summed in this order */
} and_cursor;

/* Moves every child to the first doc >= target they all share. */
static uint32_t and_align(and_cursor *a, uint32_t target) {
    for (;;) {
        if (target == TW_DOC_END) return a->base.doc = TW_DOC_END;
        target = tw_seek(a->kids[0], target);
        if (target == TW_DOC_END) return a->base.doc = TW_DOC_END;
        size_t i = 1;
        for (; i < a->n; i++) {
            uint32_t d = tw_seek(a->kids[i], target);
            if (d != target) {
                target = d;
                break;
            }
        }
        if (i == a->n) return a->base.doc = target;
    }
}

static uint32_t and_next(tw_cursor *c) {
    and_cursor *a = (and_cursor *)c;
    if (c->doc == TW_DOC_END) return TW_DOC_END;
    return and_align(a, tw_next(a->kids[0]));
}

static uint32_t and_seek(tw_cursor *c, uint32_t target) {
    return and_align((and_cursor *)c, target);
}

static double and_score(tw_cursor *c) {
    and_cursor *a = (and_cursor *)c;
    double s = 0;
    for (size_t i = 0; i < a->n; i++) s += tw_score(a->order[i]);
    return s;
}

static double and_max_score(tw_cursor *c) {
    and_cursor *a = (and_cursor *)c;
    return sum_max(a->order, a->n);
}

static int and_status(const tw_cursor *c) {
    const and_cursor *a = (const and_cursor *)c;
    return kids_status(a->order, a->n);
}

static void and_explain(tw_cursor *c, tw_buf *out) {
    and_cursor *a = (and_cursor *)c;
    for (size_t i = 0; i < a->n; i++) a->order[i]->ops->explain(a->order[i], out);
}

static void and_free(tw_cursor *c) {
    and_cursor *a = (and_cursor *)c;
    free_kids(a->kids, a->n);
    free(a->kids);
    free(a->order);
    free(a);
}

static const tw_cursor_ops and_ops = {and_next, and_seek, and_score, and_max_score, and_status, and_explain, and_free};

static int by_cost(const void *x, const void *y) {
    const tw_cursor *a = *(tw_cursor *const *)x, *b = *(tw_cursor *const *)y;
    return a->cost < b->cost ? -1 : a->cost > b->cost;
}

tw_cursor *tw_and_cursor(tw_cursor **kids, size_t n) {
    if (n == 1) return kids[0];
    and_cursor *a = calloc(1, sizeof *a);
    tw_cursor **k = malloc(sizeof *k * n), **o = malloc(sizeof *o * n);
    if (!a || !k || !o) {
        free(a);
        free(k);
        free(o);
        free_kids(kids, n);
        return NULL;
    }
    memcpy(k, kids, sizeof *k * n);
    memcpy(o, kids, sizeof *o * n);
    a->order = o;
    qsort(k, n, sizeof *k, by_cost);
    a->base.ops = &and_ops;
    a->base.cost = k[0]->cost;
    a->n = n;
    a->kids = k;
    and_align(a, 0);
    return &a->base;
}

/* ---- or ---- */

typedef struct or_cursor {
    tw_cursor base;
    size_t n;     /* children still alive, heap-ordered by doc */
    size_t total; /* all children (explain/free walk every one) */
    tw_cursor **heap;
    tw_cursor **order; /* as given: scores are summed in this order */
} or_cursor;

static void sift_down(tw_cursor **h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l]->doc < h[m]->doc) m = l;
        if (r < n && h[r]->doc < h[m]->doc) m = r;
        if (m == i) return;
        tw_cursor *t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Drops exhausted children from the heap top and sets the current doc. */
static uint32_t or_settle(or_cursor *o) {
    while (o->n > 0 && o->heap[0]->doc == TW_DOC_END) {
        tw_cursor *t = o->heap[0];
        o->heap[0] = o->heap[o->n - 1];
        o->heap[o->n - 1] = t; /* parked beyond n, still owned */
        o->n--;
        sift_down(o->heap, o->n, 0);
    }
    return o->base.doc = o->n ? o->heap[0]->doc : TW_DOC_END;
}

static uint32_t or_next(tw_cursor *c) {
    or_cursor *o = (or_cursor *)c;
    uint32_t cur = c->doc;
    if (cur == TW_DOC_END) return cur;
    while (o->n > 0 && o->heap[0]->doc == cur) {
        tw_next(o->heap[0]);
        sift_down(o->heap, o->n, 0);
        or_settle(o);
    }
    return or_settle(o);
}

static uint32_t or_seek(tw_cursor *c, uint32_t target) {
    or_cursor *o = (or_cursor *)c;
    while (o->n > 0 && o->heap[0]->doc < target) {
        tw_seek(o->heap[0], target);
        sift_down(o->heap, o->n, 0);
        or_settle(o);
    }
    return or_settle(o);
}

/* Scores are summed over the children in the order given, so that every
 * executor adds the same numbers in the same order (bit-identical scores). */
static double or_score(tw_cursor *c) {
    or_cursor *o = (or_cursor *)c;
    double s = 0;
    for (size_t i = 0; i < o->total; i++)
        if (o->order[i]->doc == c->doc) s += tw_score(o->order[i]);
    return s;
}

static double or_max_score(tw_cursor *c) {
    or_cursor *o = (or_cursor *)c;
    return sum_max(o->order, o->total);
}

static int or_status(const tw_cursor *c) {
    const or_cursor *o = (const or_cursor *)c;
    return kids_status(o->order, o->total);
}

static void or_explain(tw_cursor *c, tw_buf *out) {
    or_cursor *o = (or_cursor *)c;
    for (size_t i = 0; i < o->total; i++)
        if (o->order[i]->doc == c->doc) o->order[i]->ops->explain(o->order[i], out);
}

static void or_free(tw_cursor *c) {
    or_cursor *o = (or_cursor *)c;
    free_kids(o->heap, o->total);
    free(o->heap);
    free(o->order);
    free(o);
}

static const tw_cursor_ops or_ops = {or_next, or_seek, or_score, or_max_score, or_status, or_explain, or_free};

tw_cursor *tw_or_cursor(tw_cursor **kids, size_t n) {
    if (n == 0) return tw_empty_cursor();
    if (n == 1) return kids[0];
    or_cursor *o = calloc(1, sizeof *o);
    tw_cursor **h = malloc(sizeof *h * n), **ord = malloc(sizeof *ord * n);
    if (!o || !h || !ord) {
        free(o);
        free(h);
        free(ord);
        free_kids(kids, n);
        return NULL;
    }
    memcpy(h, kids, sizeof *h * n);
    memcpy(ord, kids, sizeof *ord * n);
    o->order = ord;
    o->base.ops = &or_ops;
    o->n = o->total = n;
    o->heap = h;
    for (size_t i = 0; i < n; i++) o->base.cost += h[i]->cost;
    for (size_t i = n / 2 + 1; i-- > 0;) sift_down(h, n, i);
    or_settle(o);
    return &o->base;
}

/* ---- required + optional ---- */

typedef struct pair_cursor {
    tw_cursor base;
    tw_cursor *req, *other;
} pair_cursor;

static uint32_t reqopt_next(tw_cursor *c) {
    pair_cursor *p = (pair_cursor *)c;
    return c->doc = tw_next(p->req);
}

static uint32_t reqopt_seek(tw_cursor *c, uint32_t t) {
    pair_cursor *p = (pair_cursor *)c;
    return c->doc = tw_seek(p->req, t);
}

static double reqopt_score(tw_cursor *c) {
    pair_cursor *p = (pair_cursor *)c;
    double s = tw_score(p->req);
    if (tw_seek(p->other, c->doc) == c->doc) s += tw_score(p->other);
    return s;
}

static double reqopt_max_score(tw_cursor *c) {
    pair_cursor *p = (pair_cursor *)c;
    return tw_max_score(p->req) + tw_max_score(p->other);
}

static int pair_status(const tw_cursor *c) {
    const pair_cursor *p = (const pair_cursor *)c;
    int rc = tw_cursor_status(p->req);
    return rc ? rc : tw_cursor_status(p->other);
}

static void reqopt_explain(tw_cursor *c, tw_buf *out) {
    pair_cursor *p = (pair_cursor *)c;
    p->req->ops->explain(p->req, out);
    if (tw_seek(p->other, c->doc) == c->doc) p->other->ops->explain(p->other, out);
}

static void pair_free(tw_cursor *c) {
    pair_cursor *p = (pair_cursor *)c;
    tw_cursor_free(p->req);
    tw_cursor_free(p->other);
    free(p);
}

static const tw_cursor_ops reqopt_ops = {reqopt_next, reqopt_seek,    reqopt_score, reqopt_max_score,
                                         pair_status, reqopt_explain, pair_free};

static tw_cursor *make_pair(const tw_cursor_ops *ops, tw_cursor *req, tw_cursor *other) {
    pair_cursor *p = calloc(1, sizeof *p);
    if (!p || !req || !other) {
        free(p);
        tw_cursor_free(req);
        tw_cursor_free(other);
        return NULL;
    }
    p->base.ops = ops;
    p->req = req;
    p->other = other;
    p->base.cost = req->cost;
    p->base.doc = req->doc;
    return &p->base;
}

tw_cursor *tw_reqopt_cursor(tw_cursor *req, tw_cursor *opt) {
    return make_pair(&reqopt_ops, req, opt);
}

/* ---- exclusion ---- */

static uint32_t excl_skip(pair_cursor *p, uint32_t d) {
    while (d != TW_DOC_END && tw_seek(p->other, d) == d) d = tw_next(p->req);
    return p->base.doc = d;
}

static uint32_t excl_next(tw_cursor *c) {
    pair_cursor *p = (pair_cursor *)c;
    return excl_skip(p, tw_next(p->req));
}

static uint32_t excl_seek(tw_cursor *c, uint32_t t) {
    pair_cursor *p = (pair_cursor *)c;
    return excl_skip(p, tw_seek(p->req, t));
}

static double excl_score(tw_cursor *c) {
    return tw_score(((pair_cursor *)c)->req);
}

static double excl_max_score(tw_cursor *c) {
    return tw_max_score(((pair_cursor *)c)->req);
}

static void excl_explain(tw_cursor *c, tw_buf *out) {
    pair_cursor *p = (pair_cursor *)c;
    p->req->ops->explain(p->req, out);
}

static const tw_cursor_ops excl_ops = {excl_next,   excl_seek,    excl_score, excl_max_score,
                                       pair_status, excl_explain, pair_free};

tw_cursor *tw_excl_cursor(tw_cursor *req, tw_cursor *excl) {
    tw_cursor *c = make_pair(&excl_ops, req, excl);
    if (c) excl_skip((pair_cursor *)c, c->doc);
    return c;
}

/* ---- all / empty ---- */

typedef struct all_cursor {
    tw_cursor base;
    uint32_t ndocs;
} all_cursor;

static uint32_t all_next(tw_cursor *c) {
    all_cursor *a = (all_cursor *)c;
    if (c->doc == TW_DOC_END) return c->doc;
    return c->doc = c->doc + 1 < a->ndocs ? c->doc + 1 : TW_DOC_END;
}

static uint32_t all_seek(tw_cursor *c, uint32_t t) {
    all_cursor *a = (all_cursor *)c;
    return c->doc = t < a->ndocs ? t : TW_DOC_END;
}

static double zero_score(tw_cursor *c) {
    return 0;
}
static void no_explain(tw_cursor *c, tw_buf *out) {}
static void plain_free(tw_cursor *c) {
    free(c);
}

static const tw_cursor_ops all_ops = {all_next, all_seek, zero_score, zero_score, NULL, no_explain, plain_free};

tw_cursor *tw_all_cursor(uint32_t ndocs) {
    all_cursor *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->base.ops = &all_ops;
    a->ndocs = ndocs;
    a->base.cost = ndocs;
    a->base.doc = ndocs ? 0 : TW_DOC_END;
    return &a->base;
}

static uint32_t end_move(tw_cursor *c) {
    return c->doc = TW_DOC_END;
}
static uint32_t end_seek(tw_cursor *c, uint32_t t) {
    return c->doc = TW_DOC_END;
}
static const tw_cursor_ops empty_ops = {end_move, end_seek, zero_score, zero_score, NULL, no_explain, plain_free};

tw_cursor *tw_empty_cursor(void) {
    tw_cursor *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->ops = &empty_ops;
    c->doc = TW_DOC_END;
    return c;
}
