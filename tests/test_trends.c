/*
 * test_trends.c — emerging-term counting (query/trends.h) against brute
 * force: an index of random documents in several segments with deletions,
 * random live foreground and background sets per segment (inside or
 * overlapping each other), and for every term the counts found by walking
 * its full posting list document by document (tw_postings + tw_piter, not the
 * kernels), merged across segments by sorting; every term at or above
 * min_docs must come back with the same counts and scores, no other term.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "signif.h"
#include "trends.h"

static int failures;
#include "testutil.h"

static const char *const words[] = {"alpha", "beta",  "gamma", "delta",   "epsilon", "zeta", "eta",     "theta",
                                    "iota",  "kappa", "lamda", "mu",      "nu",      "xi",   "omikron", "pi",
                                    "rho",   "sigma", "tau",   "upsilon", "phi",     "chi",  "psi",     "omega"};
#define NWORDS (sizeof words / sizeof *words)

typedef struct rec {
    char term[64];
    uint64_t fg, bg, fgbg;
} rec;

static int rec_cmp(const void *a, const void *b) {
    return strcmp(((const rec *)a)->term, ((const rec *)b)->term);
}

typedef struct bf {
    const tw_vseg *vs;
    const roaring_bitmap_t *fg, *bg;
    rec *r;
    size_t n, cap;
} bf;

static int bf_term(void *ctx, const char *term, size_t len, const tw_term_ref *ref) {
    bf *b = ctx;
    tw_postings p;
    char err[256];
    if (tw_postings_open(b->vs->seg, ref, 1, &p, err, sizeof err)) {
        failures++;
        fprintf(stderr, "postings: %s\n", err);
        return 1;
    }
    tw_piter it;
    tw_piter_init(&it, &p);
    rec x = {{0}, 0, 0, 0};
    snprintf(x.term, sizeof x.term, "%.*s", (int)len, term);
    for (uint32_t d = it.doc; d != TW_DOC_END; d = tw_piter_next(&it)) {
        int f = roaring_bitmap_contains(b->fg, d), g = roaring_bitmap_contains(b->bg, d);
        x.fg += f;
        x.bg += g;
        x.fgbg += f && g;
    }
    tw_postings_close(&p);
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 256;
        b->r = realloc(b->r, b->cap * sizeof *b->r);
        if (!b->r) exit(2);
    }
    b->r[b->n++] = x;
    return 0;
}

static void run(const char *dir, uint64_t seed) {
    rng g = {seed};
    trawl_writer *w;
    CHECK(trawl_writer_open(dir, "english", &w, NULL) == 0, "writer");
    trawl_writer_set_auto_merge(w, 0);
    int ndocs = 300 + (int)below(&g, 300);
    for (int i = 0; i < ndocs; i++) {
        char doc[2048];
        int n = snprintf(doc, sizeof doc, "{\"id\":\"d%d\",\"title\":\"", i);
        int nw = 1 + (int)below(&g, 4);
        for (int k = 0; k < nw; k++) n += snprintf(doc + n, sizeof doc - (size_t)n, "%s ", words[below(&g, 6)]);
        n += snprintf(doc + n, sizeof doc - (size_t)n, "\",\"body\":\"");
        nw = (int)below(&g, 12);
        for (int k = 0; k < nw; k++) {
            /* Skewed: low indexes are frequent. */
            size_t wi = below(&g, NWORDS) * below(&g, NWORDS) / NWORDS;
            n += snprintf(doc + n, sizeof doc - (size_t)n, "%s%zu ", words[wi], below(&g, 40));
        }
        snprintf(doc + n, sizeof doc - (size_t)n, "\"}");
        CHECK(trawl_writer_add_json(w, doc, strlen(doc)) == 0, "add");
        if (seed % 3 && below(&g, 100) == 0) CHECK(trawl_writer_commit(w) == 0, "commit");
    }
    CHECK(trawl_writer_commit(w) == 0, "commit");
    for (int i = 0; i < 20; i++) {
        char id[32];
        snprintf(id, sizeof id, "d%zu", below(&g, (size_t)ndocs));
        trawl_writer_delete(w, id);
    }
    CHECK(trawl_writer_commit(w) == 0, "commit");
    trawl_writer_close(w);
    trawl_index *idx;
    CHECK(trawl_index_open(dir, &idx, NULL) == 0, "open");
    const tw_view *v = &idx->view;
    tw_docset *fg = calloc(v->nsegs, sizeof *fg), *bg = calloc(v->nsegs, sizeof *bg),
              *fgbg = calloc(v->nsegs, sizeof *fgbg);
    bf b = {0};
    int mode = (int)below(&g, 3); /* 0: fg inside bg, 1: bg = all live, 2: overlapping */
    for (uint32_t s = 0; s < v->nsegs; s++) {
        roaring_bitmap_t *f = roaring_bitmap_create(), *k = roaring_bitmap_create();
        for (uint32_t d = 0; d < v->segs[s].seg->ndocs; d++) {
            if (v->segs[s].deleted && roaring_bitmap_contains(v->segs[s].deleted, d)) continue;
            int inb = mode == 1 || below(&g, 3) != 0;
            int inf = below(&g, 4) == 0 && (mode == 2 || inb);
            if (inb) roaring_bitmap_add(k, d);
            if (inf) roaring_bitmap_add(f, d);
        }
        b.vs = &v->segs[s];
        b.fg = f;
        b.bg = k;
        char err[256];
        tw_segment_each_term(v->segs[s].seg, bf_term, &b, err, sizeof err);
        roaring_bitmap_t *both = roaring_bitmap_and(f, k);
        CHECK(tw_docset_init(&fg[s], f) == 0 && tw_docset_init(&bg[s], k) == 0 && tw_docset_init(&fgbg[s], both) == 0,
              "docsets");
    }
    /* Merge the brute-force records by term. */
    qsort(b.r, b.n, sizeof *b.r, rec_cmp);
    size_t m = 0;
    for (size_t i = 0; i < b.n; i++) {
        if (m && !strcmp(b.r[m - 1].term, b.r[i].term)) {
            b.r[m - 1].fg += b.r[i].fg;
            b.r[m - 1].bg += b.r[i].bg;
            b.r[m - 1].fgbg += b.r[i].fgbg;
        } else {
            b.r[m++] = b.r[i];
        }
    }
    uint64_t fgs = 0, bgs = 0, fgbgs = 0;
    for (uint32_t s = 0; s < v->nsegs; s++) fgs += fg[s].card, bgs += bg[s].card, fgbgs += fgbg[s].card;
    for (uint64_t min_docs = 1; min_docs <= 9; min_docs += 4) {
        tw_trend_sets sets = {fg, bg, mode == 2 ? fgbg : NULL};
        tw_trend_term *t;
        size_t n;
        uint64_t fs, bs;
        char err[256];
        CHECK(tw_trend_terms(v, &sets, min_docs, &t, &n, &fs, &bs, err, sizeof err) == 0, "trend terms: %s", err);
        CHECK(fs == fgs && bs == bgs, "sizes %llu %llu", (unsigned long long)fs, (unsigned long long)bs);
        /* The heap selection of the best 5 equals the head of the full sort. */
        int use_chi = (int)(min_docs & 1);
        size_t nsel;
        char sel[5][64];
        CHECK(tw_trend_terms_select(t, n, use_chi, 5, &nsel) == 0 && nsel <= 5, "select");
        for (size_t j = 0; j < nsel; j++) snprintf(sel[j], sizeof sel[j], "%s", t[j].term);
        tw_trend_terms_sort(t, n, use_chi);
        size_t npos = 0;
        while (npos < n && npos < 5 && (use_chi ? t[npos].chi2 : t[npos].jlh) > 0) npos++;
        CHECK(nsel == npos, "selected %zu, want %zu", nsel, npos);
        for (size_t j = 0; j < nsel && j < npos; j++) CHECK(!strcmp(sel[j], t[j].term), "selection %zu", j);
        size_t want = 0;
        for (size_t i = 0; i < m; i++) {
            if (b.r[i].fg < min_docs) continue;
            uint64_t rest0 = b.r[i].bg - b.r[i].fgbg;
            if (!(tw_sig_jlh(b.r[i].fg, fgs, b.r[i].bg, bgs) > 0 ||
                  tw_sig_chi2(b.r[i].fg, fgs, rest0, bgs - fgbgs) > 0))
                continue; /* listed by neither score */
            want++;
            size_t j = 0;
            while (j < n && strcmp(t[j].term, b.r[i].term)) j++;
            if (j == n) {
                CHECK(0, "seed %llu min %llu: term %s missing", (unsigned long long)seed, (unsigned long long)min_docs,
                      b.r[i].term);
                continue;
            }
            uint64_t rest = b.r[i].bg - b.r[i].fgbg;
            CHECK(t[j].fg_df == b.r[i].fg && t[j].bg_df == b.r[i].bg && t[j].rest_df == rest,
                  "%s: fg %llu/%llu bg %llu/%llu rest %llu/%llu", b.r[i].term, (unsigned long long)t[j].fg_df,
                  (unsigned long long)b.r[i].fg, (unsigned long long)t[j].bg_df, (unsigned long long)b.r[i].bg,
                  (unsigned long long)t[j].rest_df, (unsigned long long)rest);
            double jlh = tw_sig_jlh(b.r[i].fg, fgs, b.r[i].bg, bgs),
                   chi = tw_sig_chi2(b.r[i].fg, fgs, rest, bgs - fgbgs);
            CHECK(t[j].jlh == jlh && (t[j].chi2 == chi || (isinf(chi) && isinf(t[j].chi2))), "%s scores", b.r[i].term);
        }
        printf("seed %llu: %u segments, min_docs %llu: %zu terms\n", (unsigned long long)seed, v->nsegs,
               (unsigned long long)min_docs, n);
        CHECK(n == want, "seed %llu: %zu terms, want %zu", (unsigned long long)seed, n, want);
        for (size_t j = 1; j < n; j++) {
            double a = (min_docs & 1) ? t[j - 1].chi2 : t[j - 1].jlh, c = (min_docs & 1) ? t[j].chi2 : t[j].jlh;
            CHECK(a >= c, "order at %zu", j);
        }
        tw_trend_terms_free(t, n);
    }
    for (uint32_t s = 0; s < v->nsegs; s++) tw_docset_free(&fg[s]), tw_docset_free(&bg[s]), tw_docset_free(&fgbg[s]);
    free(fg);
    free(bg);
    free(fgbg);
    free(b.r);
    trawl_index_close(idx);
}

int main(void) {
    char tmpl[] = "/tmp/tw_trends_XXXXXX";
    char *base = mkdtemp(tmpl);
    if (!base) return 1;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/i%llu", base, (unsigned long long)seed);
        run(dir, seed);
    }
    rm_rf(base);
    if (failures) fprintf(stderr, "%d failures\n", failures);
    return failures != 0;
}
