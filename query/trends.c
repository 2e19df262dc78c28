/*
 * trends.c — emerging terms over the dictionaries (trends.h): a two-pass
 * walk with an open-addressing hash table of terms (XXH3 of the bytes).
 */
#include "trends.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "error.h"
#include "signif.h"

typedef struct entry {
    char *term; /* NULL: empty slot */
    uint32_t len;
    uint64_t hash;
    uint64_t fg, bg, fgbg;
} entry;

typedef struct table {
    entry *e;
    size_t cap, n; /* cap a power of two */
} table;

static entry *find(table *t, const char *term, size_t len, uint64_t h) {
    size_t i = (size_t)h & (t->cap - 1);
    while (t->e[i].term) {
        if (t->e[i].hash == h && t->e[i].len == len && !memcmp(t->e[i].term, term, len)) return &t->e[i];
        i = (i + 1) & (t->cap - 1);
    }
    return &t->e[i];
}

static int grow(table *t) {
    size_t nc = t->cap ? 2 * t->cap : 1024;
    entry *ne = calloc(nc, sizeof *ne);
    if (!ne) return TRAWL_ENOMEM;
    entry *old = t->e;
    size_t oc = t->cap;
    t->e = ne;
    t->cap = nc;
    for (size_t i = 0; i < oc; i++)
        if (old[i].term) *find(t, old[i].term, old[i].len, old[i].hash) = old[i];
    free(old);
    return 0;
}

static void table_free(table *t) {
    for (size_t i = 0; i < t->cap; i++) free(t->e[i].term);
    free(t->e);
    memset(t, 0, sizeof *t);
}

typedef struct walk {
    const tw_view *v;
    const tw_vseg *vs;
    const tw_docset *fg, *bg, *fgbg;
    table *t;
    uint64_t min_docs;
    int pass; /* 1, 2: the two passes of several segments; 0: one segment, one pass */
    int rc;
    uint64_t fgs, bgs, fgbgs; /* set sizes (pass 0 drops terms no score lists) */
    entry *direct;            /* pass 0: the terms kept, in dictionary order */
    size_t ndirect, capdirect;
    char *err;
    size_t errcap;
} walk;

/* Does either score list a term with these counts (a positive JLH or chi-square)? */
static int positive(uint64_t fg, uint64_t bg, uint64_t fgbg, uint64_t fgs, uint64_t bgs, uint64_t fgbgs) {
    return tw_sig_jlh(fg, fgs, bg, bgs) > 0 || tw_sig_chi2(fg, fgs, bg - fgbg, bgs - fgbgs) > 0;
}

/* One segment: the foreground count of every term with df >= min_docs,
 * then the background counts of those that reach min_docs, kept in order. */
static int on_term_direct(walk *w, const char *term, size_t len, const tw_term_ref *ref) {
    if (ref->df < w->min_docs) return 0;
    tw_doclist dl;
    int rc = tw_doclist_open(w->vs->seg, ref, &dl, w->err, w->errcap);
    if (rc) return w->rc = rc;
    uint64_t c = tw_doclist_count(w->v->kernels, &dl, w->fg);
    uint64_t bg = 0, fgbg = c;
    if (c >= w->min_docs) {
        bg = tw_doclist_count(w->v->kernels, &dl, w->bg);
        if (w->fgbg) fgbg = tw_doclist_count(w->v->kernels, &dl, w->fgbg);
    }
    if (c >= w->min_docs && positive(c, bg, fgbg, w->fgs, w->bgs, w->fgbgs)) {
        if (w->ndirect == w->capdirect) {
            size_t nc = w->capdirect ? 2 * w->capdirect : 1024;
            entry *ne = realloc(w->direct, nc * sizeof *ne);
            if (!ne) {
                tw_doclist_close(&dl);
                return w->rc = TRAWL_ENOMEM;
            }
            w->direct = ne;
            w->capdirect = nc;
        }
        entry *e = &w->direct[w->ndirect];
        memset(e, 0, sizeof *e);
        if (!(e->term = malloc(len + 1))) {
            tw_doclist_close(&dl);
            return w->rc = TRAWL_ENOMEM;
        }
        memcpy(e->term, term, len);
        e->term[len] = 0;
        e->len = (uint32_t)len;
        e->fg = c;
        e->bg = bg;
        e->fgbg = fgbg;
        w->ndirect++;
    }
    tw_doclist_close(&dl);
    return 0;
}

static int on_term(void *ctx, const char *term, size_t len, const tw_term_ref *ref) {
    walk *w = ctx;
    if (w->pass == 0) return on_term_direct(w, term, len, ref);
    uint64_t h = XXH3_64bits(term, len);
    entry *e = NULL;
    if (w->pass != 1) { /* pass 2 (pass 0 returned above) */
        e = find(w->t, term, len, h);
        if (!e->term) return 0;
    }
    tw_doclist dl;
    int rc = tw_doclist_open(w->vs->seg, ref, &dl, w->err, w->errcap);
    if (rc) return w->rc = rc;
    if (w->pass == 1) {
        uint64_t c = tw_doclist_count(w->v->kernels, &dl, w->fg);
        tw_doclist_close(&dl);
        if (!c) return 0;
        if ((w->t->n + 1) * 2 > w->t->cap && (rc = grow(w->t))) return w->rc = rc;
        e = find(w->t, term, len, h);
        if (!e->term) {
            if (!(e->term = malloc(len + 1))) return w->rc = TRAWL_ENOMEM;
            memcpy(e->term, term, len);
            e->term[len] = 0;
            e->len = (uint32_t)len;
            e->hash = h;
            w->t->n++;
        }
        e->fg += c;
        return 0;
    }
    e->bg += tw_doclist_count(w->v->kernels, &dl, w->bg);
    if (w->fgbg) e->fgbg += tw_doclist_count(w->v->kernels, &dl, w->fgbg);
    tw_doclist_close(&dl);
    return 0;
}

int tw_trend_terms(const tw_view *v, const tw_trend_sets *sets, uint64_t min_docs, tw_trend_term **out, size_t *n,
                   uint64_t *fg_size, uint64_t *bg_size, char *err, size_t errcap) {
    *out = NULL;
    *n = 0;
    if (min_docs < 1) min_docs = 1;
    uint64_t fgs = 0, bgs = 0, fgbgs = 0;
    for (uint32_t s = 0; s < v->nsegs; s++) {
        fgs += sets->fg[s].card;
        bgs += sets->bg[s].card;
        fgbgs += sets->fgbg ? sets->fgbg[s].card : sets->fg[s].card;
    }
    *fg_size = fgs;
    *bg_size = bgs;
    table t = {0};
    walk w = {.v = v, .t = &t, .min_docs = min_docs, .err = err, .errcap = errcap};
    int rc = 0;
    if (v->nsegs == 1) {
        /* One segment: no merging, one walk. */
        w.pass = 0;
        w.fgs = fgs;
        w.bgs = bgs;
        w.fgbgs = fgbgs;
        w.vs = &v->segs[0];
        w.fg = &sets->fg[0];
        w.bg = &sets->bg[0];
        w.fgbg = sets->fgbg ? &sets->fgbg[0] : NULL;
        if (sets->fg[0].card) rc = tw_segment_each_term(v->segs[0].seg, on_term, &w, err, errcap);
        if (w.rc) rc = w.rc;
        t.e = w.direct;
        t.cap = t.n = w.ndirect;
        if (rc) {
            table_free(&t);
            return rc == TRAWL_ENOMEM ? tw_err(err, errcap, rc, "out of memory") : rc;
        }
    }
    for (int pass = 1; pass <= 2 && !rc && v->nsegs != 1; pass++) {
        w.pass = pass;
        if (pass == 2) {
            /* Keep only the terms that reached min_docs. */
            table kept = {0};
            for (size_t i = 0; i < t.cap && !rc; i++) {
                if (!t.e[i].term) continue;
                if (t.e[i].fg < min_docs) continue;
                if ((kept.n + 1) * 2 > kept.cap && (rc = grow(&kept))) break;
                *find(&kept, t.e[i].term, t.e[i].len, t.e[i].hash) = t.e[i];
                kept.n++;
                t.e[i].term = NULL;
            }
            for (size_t i = 0; i < t.cap; i++) free(t.e[i].term);
            free(t.e);
            t = kept;
            if (rc || !t.n) break;
        }
        for (uint32_t s = 0; s < v->nsegs && !rc; s++) {
            if (pass == 1 && !sets->fg[s].card) continue;
            if (pass == 2 && !sets->bg[s].card) continue;
            w.vs = &v->segs[s];
            w.fg = &sets->fg[s];
            w.bg = &sets->bg[s];
            w.fgbg = sets->fgbg ? &sets->fgbg[s] : NULL;
            w.rc = 0;
            rc = tw_segment_each_term(v->segs[s].seg, on_term, &w, err, errcap);
            if (w.rc) rc = w.rc;
        }
    }
    if (rc) {
        table_free(&t);
        return rc;
    }
    tw_trend_term *r = calloc(t.n ? t.n : 1, sizeof *r);
    if (!r) {
        table_free(&t);
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < t.cap; i++) {
        entry *e = &t.e[i];
        if (!e->term) continue;
        uint64_t in_both0 = sets->fgbg ? e->fgbg : e->fg;
        if (!positive(e->fg, e->bg, in_both0, fgs, bgs, fgbgs)) continue;
        tw_trend_term *x = &r[k++];
        x->term = e->term;
        e->term = NULL;
        x->fg_df = e->fg;
        x->bg_df = e->bg;
        uint64_t in_both = sets->fgbg ? e->fgbg : e->fg;
        x->rest_df = e->bg - in_both;
        x->jlh = tw_sig_jlh(e->fg, fgs, e->bg, bgs);
        x->chi2 = tw_sig_chi2(e->fg, fgs, x->rest_df, bgs - fgbgs);
    }
    table_free(&t);
    *out = r;
    *n = k;
    return 0;
}

static int by_jlh(const void *a, const void *b) {
    const tw_trend_term *x = a, *y = b;
    if (x->jlh != y->jlh) return x->jlh > y->jlh ? -1 : 1;
    if (x->fg_df != y->fg_df) return x->fg_df > y->fg_df ? -1 : 1;
    return strcmp(x->term, y->term);
}

static int by_chi2(const void *a, const void *b) {
    const tw_trend_term *x = a, *y = b;
    if (x->chi2 != y->chi2) return x->chi2 > y->chi2 ? -1 : 1;
    if (x->fg_df != y->fg_df) return x->fg_df > y->fg_df ? -1 : 1;
    return strcmp(x->term, y->term);
}

void tw_trend_terms_sort(tw_trend_term *t, size_t n, int chi2) {
    if (n > 1) qsort(t, n, sizeof *t, chi2 ? by_chi2 : by_jlh);
}

typedef int (*cmp_fn)(const void *, const void *);

/* Sift-down of a heap of indexes into t whose root is the worst kept term. */
static void sift(const tw_trend_term *t, size_t *h, size_t n, size_t i, cmp_fn cmp) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && cmp(&t[h[l]], &t[h[w]]) > 0) w = l;
        if (r < n && cmp(&t[h[r]], &t[h[w]]) > 0) w = r;
        if (w == i) return;
        size_t x = h[i];
        h[i] = h[w];
        h[w] = x;
        i = w;
    }
}

int tw_trend_terms_select(tw_trend_term *t, size_t n, int chi2, size_t k, size_t *nsel) {
    cmp_fn cmp = chi2 ? by_chi2 : by_jlh;
    *nsel = 0;
    if (k > n) k = n;
    if (!k) return 0;
    size_t *h = malloc(k * sizeof *h), m = 0;
    tw_trend_term *out = malloc(n * sizeof *out);
    uint8_t *taken = calloc(n, 1);
    if (!h || !out || !taken) {
        free(h);
        free(out);
        free(taken);
        return TRAWL_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        double sc = chi2 ? t[i].chi2 : t[i].jlh;
        if (!(sc > 0)) continue;
        if (m < k) {
            /* Push, then restore the heap from the bottom. */
            h[m] = i;
            for (size_t c = m++; c > 0 && cmp(&t[h[(c - 1) / 2]], &t[h[c]]) < 0; c = (c - 1) / 2) {
                size_t x = h[c];
                h[c] = h[(c - 1) / 2];
                h[(c - 1) / 2] = x;
            }
        } else if (cmp(&t[i], &t[h[0]]) < 0) {
            h[0] = i;
            sift(t, h, m, 0, cmp);
        }
    }
    for (size_t i = 0; i < m; i++) {
        out[i] = t[h[i]];
        taken[h[i]] = 1;
    }
    qsort(out, m, sizeof *out, cmp);
    size_t at = m;
    for (size_t i = 0; i < n; i++)
        if (!taken[i]) out[at++] = t[i];
    memcpy(t, out, n * sizeof *t);
    free(h);
    free(out);
    free(taken);
    *nsel = m;
    return 0;
}

void tw_trend_terms_free(tw_trend_term *t, size_t n) {
    for (size_t i = 0; t && i < n; i++) free(t[i].term);
    free(t);
}
