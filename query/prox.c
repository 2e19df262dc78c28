/*
 * prox.c — the term-proximity bonus (prox.h), after BM25TP (Rasolofo &
 * Savoy 2003) with BM25F's field normalization:
 *
 *   for each pair i < j of distinct query terms and each field f holding both
 *     tpi_f(i,j) = Σ 1/(p − q)²  over positions p of i, q of j in f, 1 ≤ |p − q| ≤ W
 *   x_ij  = Σ_f w_f · tpi_f(i,j) / (1 − b + b · dl_f / avgdl_f)
 *   bonus = λ · Σ_{i<j, x_ij > 0} min(idf_i, idf_j) · x_ij · (k1 + 1) / (x_ij + k1)
 *
 * with w_f the field weight, idf_t the term's idf (the largest over its
 * fields under per-field BM25), k1 and b the BM25 parameters, λ the
 * proximity weight and W the window. Since x/(x + k1) < 1 (or = 1 when k1 is
 * 0), a pair adds at most λ · min(idf) · (k1 + 1): their sum bounds the
 * segment. Each occurrence of i has at most two occurrences of j at each
 * distance d, and tf_j of them in all, so it adds at most S(tf_j), the sum of
 * the tf_j largest of 1, 1, 1/4, 1/4, 1/9, 1/9, ... (2W terms; all of them,
 * 2 Σ_{d ≤ W} 1/d², beyond): tpi_f ≤ min(tf_i · S(tf_j), tf_j · S(tf_i)),
 * which bounds a document from its frequencies before any position is read.
 */
#include "prox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "trawl.h"

/* A term of the scorer; the per-field arrays (nfs entries each) share one
 * allocation, mem. */
typedef struct xterm {
    const spec *s;
    tw_postings post;
    tw_piter it;
    size_t nfs;
    double idf;
    tw_fscore *fs;
    tw_posreader *rd;
    void *mem;
    /* at the current document */
    int here;
    uint32_t rank;
    uint32_t **pos; /* decoded positions (when read) */
    uint32_t *tf, *dl, *cap;
    int *read;
} xterm;

/* Gives t its per-field arrays for its fields fs[0..nfs). 0 or TRAWL_ENOMEM. */
static int xterm_alloc(xterm *t, const tw_fscore *fs, size_t nfs) {
    size_t one = sizeof *t->fs + sizeof *t->rd + sizeof *t->pos + 3 * sizeof(uint32_t) + sizeof(int);
    char *m = calloc(nfs, one);
    if (!m) return TRAWL_ENOMEM;
    t->mem = m;
    t->nfs = nfs;
    t->fs = (tw_fscore *)(void *)m;
    m += nfs * sizeof *t->fs;
    t->rd = (tw_posreader *)(void *)m;
    m += nfs * sizeof *t->rd;
    t->pos = (uint32_t **)(void *)m;
    m += nfs * sizeof *t->pos;
    t->tf = (uint32_t *)(void *)m;
    t->dl = t->tf + nfs;
    t->cap = t->dl + nfs;
    t->read = (int *)(void *)(t->cap + nfs);
    memcpy(t->fs, fs, nfs * sizeof *fs);
    return 0;
}

struct tw_prox {
    const tw_segment *seg;
    size_t n;
    xterm t[TW_PROX_MAX_TERMS];
    double lambda, k1, b, cw, bound;
    double mbound[1u << TW_PROX_MAX_TERMS]; /* per set of present terms (bit i: t[i]): the bound of their pairs */
    uint32_t window;
    double inv2[TW_PROX_MAX_WINDOW + 1];  /* 1/d² */
    double S[2 * TW_PROX_MAX_WINDOW + 1]; /* S(m), m ≤ 2W (see the head comment) */
};

/* Do two term specs score the same term the same way? */
static int same_term(const spec *a, const spec *b) {
    if (a->qualified != b->qualified || strcmp(a->terms[0].text, b->terms[0].text) != 0) return 0;
    return !a->qualified || a->fields[0].gfield == b->fields[0].gfield;
}

int tw_prox_open(const tw_view *v, uint32_t si, const pnode *root, const tw_params *p, tw_prox **out, char *err,
                 size_t errcap) {
    *out = NULL;
    if (!p->prox || !(p->prox_weight > 0) || !root || root->kind != P_BOOL) return 0;
    const spec *specs[TW_PROX_MAX_TERMS];
    size_t ns = 0;
    for (size_t i = 0; i < root->n && ns < TW_PROX_MAX_TERMS; i++) {
        const pnode *k = root->kids[i];
        if (root->occ[i] == TW_MUST_NOT || k->kind != P_LEAF || k->nspecs != 1 || k->specs[0].phrase) continue;
        if (k->specs[0].nterms != 1 || k->specs[0].nfields == 0) continue;
        int dup = 0;
        for (size_t j = 0; j < ns && !dup; j++) dup = same_term(specs[j], &k->specs[0]);
        if (!dup) specs[ns++] = &k->specs[0];
    }
    if (ns < 2) return 0;
    tw_prox *x = calloc(1, sizeof *x);
    if (!x) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    x->seg = v->segs[si].seg;
    x->lambda = p->prox_weight;
    x->k1 = p->k1;
    x->b = p->b;
    x->window = p->prox_window < 1 ? 1 : p->prox_window > TW_PROX_MAX_WINDOW ? TW_PROX_MAX_WINDOW : p->prox_window;
    x->inv2[0] = 0;
    x->cw = 0;
    for (uint32_t d = 1; d <= x->window; d++) {
        x->inv2[d] = 1.0 / ((double)d * (double)d);
        x->cw += 2 * x->inv2[d];
    }
    x->S[0] = 0;
    for (uint32_t m = 1; m <= 2 * x->window; m++) x->S[m] = x->S[m - 1] + x->inv2[(m + 1) / 2];
    for (size_t i = 0; i < ns; i++) {
        xterm *t = &x->t[x->n];
        tw_fscore fs[TW_MAX_SCORED_FIELDS];
        size_t nfs = 0;
        int r = tw_plan_open_term(v, si, specs[i], &t->post, fs, &nfs, err, errcap);
        if (r <= 0 || nfs == 0) continue; /* absent from the segment */
        if (xterm_alloc(t, fs, nfs)) {
            tw_prox_free(x);
            return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        }
        t->s = specs[i];
        t->idf = 0;
        for (size_t j = 0; j < specs[i]->nfields; j++)
            if (specs[i]->fields[j].bm.idf > t->idf) t->idf = specs[i]->fields[j].bm.idf;
        tw_piter_init(&t->it, &t->post);
        for (size_t j = 0; j < t->nfs; j++) tw_posreader_init(&t->rd[j], &t->post.f[t->fs[j].fi]);
        x->n++;
    }
    if (x->n < 2) {
        tw_prox_free(x);
        return 0;
    }
    for (uint32_t mask = 0; mask < (1u << x->n); mask++) {
        double s = 0;
        for (size_t i = 0; i < x->n; i++)
            for (size_t j = i + 1; j < x->n; j++) {
                if (!(mask >> i & 1) || !(mask >> j & 1)) continue;
                double m = x->t[i].idf < x->t[j].idf ? x->t[i].idf : x->t[j].idf;
                s += x->lambda * m * (x->k1 + 1);
            }
        x->mbound[mask] = s > 0 ? s * (1 + 1e-9) + 1e-12 : 0;
    }
    x->bound = x->mbound[(1u << x->n) - 1];
    *out = x;
    return 0;
}

double tw_prox_bound(const tw_prox *x) {
    return x->bound;
}

uint32_t tw_prox_bit(const tw_prox *x, const spec *s) {
    for (size_t i = 0; i < x->n; i++)
        if (x->t[i].s == s || same_term(x->t[i].s, s)) return 1u << i;
    return 0;
}

double tw_prox_bound_mask(const tw_prox *x, uint32_t mask) {
    return x->mbound[mask & ((1u << x->n) - 1)];
}

/* Index in t->fs of local field f where t occurs at the current doc, or -1. */
static int field_of(const xterm *t, uint32_t f) {
    for (size_t j = 0; j < t->nfs; j++)
        if (t->fs[j].field == f) return t->tf[j] ? (int)j : -1;
    return -1;
}

/* Moves every term to doc and reads their frequencies and field lengths
 * there; returns how many terms occur. */
static size_t visit(tw_prox *x, uint32_t doc) {
    size_t here = 0;
    for (size_t i = 0; i < x->n; i++) {
        xterm *t = &x->t[i];
        t->here = tw_piter_seek(&t->it, doc) == doc;
        if (!t->here) continue;
        t->rank = t->it.rank;
        int any = 0;
        for (size_t j = 0; j < t->nfs; j++) {
            t->tf[j] = tw_pfield_tf(&t->post.f[t->fs[j].fi], t->rank);
            t->dl[j] = t->tf[j] ? tw_segment_doclen(x->seg, t->fs[j].field, doc) : 0;
            t->read[j] = 0;
            any |= t->tf[j] != 0;
        }
        t->here = any;
        here += (size_t)any;
    }
    return here;
}

/* The field's length normalization 1 − b + b · dl / avgdl of term t's field j. */
static double norm(const tw_prox *x, const xterm *t, size_t j) {
    double avgdl = t->fs[j].bm.avgdl;
    return 1 - x->b + (avgdl > 0 ? x->b * (double)t->dl[j] / avgdl : 0);
}

/* Positions of term t in its field j at the current document (read once). */
static int positions(xterm *t, size_t j) {
    if (t->read[j]) return 0;
    if (t->cap[j] < t->tf[j]) {
        uint32_t *nb = realloc(t->pos[j], sizeof *nb * t->tf[j]);
        if (!nb) return TRAWL_ENOMEM;
        t->pos[j] = nb;
        t->cap[j] = t->tf[j];
    }
    int got = tw_posreader_get(&t->rd[j], t->rank, t->pos[j], t->cap[j]);
    if (got < 0) return TRAWL_ECORRUPT;
    t->tf[j] = (uint32_t)got;
    t->read[j] = 1;
    return 0;
}

/* tpi of two sorted position lists: Σ 1/d² over pairs at distance 1..W. */
static double tpi(const tw_prox *x, const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb) {
    double s = 0;
    uint32_t lo = 0, w = x->window;
    for (uint32_t i = 0; i < na; i++) {
        uint64_t p = a[i];
        while (lo < nb && (uint64_t)b[lo] + w < p) lo++;
        for (uint32_t k = lo; k < nb && b[k] <= p + w; k++) {
            uint64_t d = b[k] > p ? b[k] - p : p - b[k];
            s += x->inv2[d];
        }
    }
    return s;
}

/* Bound of tpi for frequencies ta and tb: min(ta · S(tb), tb · S(ta)). */
static double sbound(const tw_prox *x, uint32_t ta, uint32_t tb) {
    uint32_t top = 2 * x->window;
    double sa = ta < top ? x->S[ta] : x->cw, sb = tb < top ? x->S[tb] : x->cw;
    double u = (double)ta * sb, v = (double)tb * sa;
    return u < v ? u : v;
}

/* The pair's saturated part λ · min(idf) · x(k1 + 1)/(x + k1) of x > 0. */
static double pair_bonus(const tw_prox *x, const xterm *a, const xterm *b, double px) {
    double m = a->idf < b->idf ? a->idf : b->idf;
    return x->lambda * m * (px * (x->k1 + 1) / (px + x->k1));
}

/* x_ij of terms a and b at the current doc: exact (from positions) or, with
 * bound set, its bound from the frequencies. Also writes each field's tpi
 * into tp[] (exact only) when tp is not NULL. */
static int pair_x(tw_prox *x, xterm *a, xterm *b, int bound, double *out, double *tp) {
    double s = 0;
    for (size_t ja = 0; ja < a->nfs; ja++) {
        if (tp) tp[ja] = 0;
        if (!a->tf[ja]) continue;
        int jb = field_of(b, a->fs[ja].field);
        if (jb < 0) continue;
        double w = a->fs[ja].bm.field_weight, t;
        if (bound) {
            t = sbound(x, a->tf[ja], b->tf[jb]);
        } else {
            int rc = positions(a, ja);
            if (rc == 0) rc = positions(b, (size_t)jb);
            if (rc) return rc;
            t = tpi(x, a->pos[ja], a->tf[ja], b->pos[jb], b->tf[jb]);
            if (tp) tp[ja] = t;
        }
        if (t > 0) s += w * t / norm(x, a, ja);
    }
    *out = s;
    return 0;
}

int tw_prox_score(tw_prox *x, uint32_t doc, double base, double theta, double *score) {
    if (visit(x, doc) < 2) {
        *score = base;
        return 0;
    }
    /* Each pair's bound from the frequencies; the pairs not computed yet
     * keep bounding the rest, so a document stops as soon as it cannot make
     * it (pairs in order, the bonus summed in that order). */
    double pub[TW_PROX_MAX_TERMS * TW_PROX_MAX_TERMS / 2] = {0},
                                                       suf[TW_PROX_MAX_TERMS * TW_PROX_MAX_TERMS / 2 + 1] = {0};
    size_t np = 0;
    if (theta >= 0) {
        for (size_t i = 0; i < x->n; i++)
            for (size_t j = i + 1; j < x->n; j++) {
                double px = 0;
                if (x->t[i].here && x->t[j].here) pair_x(x, &x->t[i], &x->t[j], 1, &px, NULL);
                pub[np++] = px > 0 ? pair_bonus(x, &x->t[i], &x->t[j], px) : 0;
            }
        suf[np] = 0;
        for (size_t k = np; k-- > 0;) suf[k] = suf[k + 1] + pub[k];
        if (base + (suf[0] * (1 + 1e-9) + 1e-12) <= theta) return 1;
    }
    double bonus = 0;
    size_t k = 0;
    for (size_t i = 0; i < x->n; i++)
        for (size_t j = i + 1; j < x->n; j++, k++) {
            double px;
            if (!x->t[i].here || !x->t[j].here) continue;
            if (theta >= 0 && pub[k] == 0) continue; /* no field holds both */
            int rc = pair_x(x, &x->t[i], &x->t[j], 0, &px, NULL);
            if (rc) return rc;
            if (px > 0) bonus += pair_bonus(x, &x->t[i], &x->t[j], px);
            if (theta >= 0 && base + ((bonus + suf[k + 1]) * (1 + 1e-9) + 1e-12) <= theta) return 1;
        }
    *score = base + bonus;
    return 0;
}

void tw_prox_explain(tw_prox *x, uint32_t doc, tw_buf *out) {
    if (visit(x, doc) < 2) return;
    double bonus = 0, px[TW_PROX_MAX_TERMS][TW_PROX_MAX_TERMS];
    for (size_t i = 0; i < x->n; i++)
        for (size_t j = i + 1; j < x->n; j++) {
            px[i][j] = 0;
            if (!x->t[i].here || !x->t[j].here || pair_x(x, &x->t[i], &x->t[j], 0, &px[i][j], NULL)) continue;
            if (px[i][j] > 0) bonus += pair_bonus(x, &x->t[i], &x->t[j], px[i][j]);
        }
    if (!(bonus > 0)) return;
    char line[512];
    int len =
        snprintf(line, sizeof line, "%.6f  proximity  [λ %g × Σ pairs min(idf) × x·(k1+1) / (x + k1 %g), window %u:]\n",
                 bonus, x->lambda, x->k1, x->window);
    tw_buf_put(out, line, (size_t)len);
    for (size_t i = 0; i < x->n; i++)
        for (size_t j = i + 1; j < x->n; j++) {
            if (!(px[i][j] > 0)) continue;
            double tp[TW_MAX_SCORED_FIELDS] = {0};
            pair_x(x, &x->t[i], &x->t[j], 0, &px[i][j], tp);
            len = snprintf(line, sizeof line,
                           "  %.6f  \"%s\" ~ \"%s\"  [min idf %.6f, x = %.6f = Σ fields w·tpi/norm:]\n",
                           pair_bonus(x, &x->t[i], &x->t[j], px[i][j]), x->t[i].s->terms[0].text,
                           x->t[j].s->terms[0].text, x->t[i].idf < x->t[j].idf ? x->t[i].idf : x->t[j].idf, px[i][j]);
            tw_buf_put(out, line, (size_t)len);
            for (size_t a = 0; a < x->t[i].nfs; a++) {
                if (!(tp[a] > 0)) continue;
                const tw_bm25 *bm = &x->t[i].fs[a].bm;
                len = snprintf(line, sizeof line,
                               "    %.6f  %s  [weight %g × tpi %.6f / (1 − b + b·dl %u / avgdl %.4f)]\n",
                               bm->field_weight * tp[a] / norm(x, &x->t[i], a), bm->label, bm->field_weight, tp[a],
                               x->t[i].dl[a], bm->avgdl);
                tw_buf_put(out, line, (size_t)len);
            }
        }
}

void tw_prox_free(tw_prox *x) {
    if (!x) return;
    for (size_t i = 0; i < x->n; i++) {
        for (size_t j = 0; j < x->t[i].nfs; j++) free(x->t[i].pos[j]);
        free(x->t[i].mem);
    }
    free(x);
}
