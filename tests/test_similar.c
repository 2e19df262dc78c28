/*
 * test_similar.c — more like this (trawl_similar, trawl_similar_query)
 * against a brute-force model: random documents (some deleted, over several
 * segments) analyzed with trawl_analyze; per document the tf-idf of every
 * term, (1 + ln tf) * ln(N / df) over live documents, terms with 1 < df < N
 * and two bytes or more; the query's words must analyze to the best terms in
 * order, and the hits must be every other live document sharing one of them
 * (the total) with the document itself never among them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trawl.h"

static int failures;
#include "testutil.h"

#define NDOCS 160
#define MAXT 64

static const char *const vocab[] = {"river", "rivers", "stone", "stones", "cloud",  "clouds", "engine", "engines",
                                    "query", "index",  "bloom", "filter", "parser", "lexer",  "a",      "b",
                                    "the",   "of",     "graph", "tree",   "heap",   "stack",  "queue",  "cache"};
#define NV (sizeof vocab / sizeof *vocab)

typedef struct doc {
    char id[16];
    int live;
    char terms[MAXT][32]; /* analyzed terms, with repeats */
    int nterms;
} doc;

static doc docs[NDOCS];

static int on_tok(void *ctx, const char *term, size_t len, uint32_t pos, size_t s, size_t e) {
    (void)pos, (void)s, (void)e;
    doc *d = ctx;
    if (d->nterms < MAXT) snprintf(d->terms[d->nterms++], 32, "%.*s", (int)len, term);
    return 0;
}

static int has(const doc *d, const char *t) {
    for (int i = 0; i < d->nterms; i++)
        if (!strcmp(d->terms[i], t)) return 1;
    return 0;
}

typedef struct sc {
    const char *t;
    double s;
} sc;

static int sc_cmp(const void *a, const void *b) {
    const sc *x = a, *y = b;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    return strcmp(x->t, y->t);
}

static int one_tok(void *ctx, const char *term, size_t len, uint32_t pos, size_t s, size_t e) {
    (void)pos, (void)s, (void)e;
    char *out = ctx;
    snprintf(out, 32, "%.*s", (int)len, term);
    return 0;
}

int main(void) {
    char tmpl[] = "/tmp/tw_similar_XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir) return 1;
    rng g = {5};
    trawl_writer *w;
    CHECK(trawl_writer_open(dir, "english", &w, NULL) == 0, "writer");
    trawl_writer_set_auto_merge(w, 0);
    for (int i = 0; i < NDOCS; i++) {
        doc *d = &docs[i];
        snprintf(d->id, sizeof d->id, "d%d", i);
        d->live = 1;
        char title[256] = "", body[1024] = "";
        size_t nt = 1 + below(&g, 3), nb = below(&g, 20);
        for (size_t k = 0; k < nt; k++) strcat(strcat(title, vocab[below(&g, NV)]), " ");
        for (size_t k = 0; k < nb; k++) strcat(strcat(body, vocab[below(&g, NV) * below(&g, NV) / NV]), " ");
        char json[4096];
        if (snprintf(json, sizeof json, "{\"id\":\"%s\",\"title\":\"%s\",\"body\":\"%s\",\"n\":7}", d->id, title,
                     body) >= (int)sizeof json)
            return 1;
        CHECK(trawl_writer_add_json(w, json, strlen(json)) == 0, "add");
        trawl_analyze("english", title, strlen(title), on_tok, d);
        trawl_analyze("english", body, strlen(body), on_tok, d);
        if (i % 50 == 49) CHECK(trawl_writer_commit(w) == 0, "commit");
    }
    for (int i = 0; i < 15; i++) {
        int k = (int)below(&g, NDOCS);
        docs[k].live = 0;
        trawl_writer_delete(w, docs[k].id);
    }
    CHECK(trawl_writer_commit(w) == 0, "commit");
    trawl_writer_close(w);
    trawl_index *idx;
    CHECK(trawl_index_open(dir, &idx, NULL) == 0, "open");
    uint64_t N = 0;
    for (int i = 0; i < NDOCS; i++) N += docs[i].live;
    int checked = 0;
    for (int i = 0; i < NDOCS; i++) {
        const doc *d = &docs[i];
        char *q = NULL;
        trawl_rc rc = trawl_similar_query(idx, d->id, 5, &q);
        if (!d->live) {
            CHECK(rc == TRAWL_ENOTFOUND, "%s deleted: %d", d->id, rc);
            continue;
        }
        CHECK(rc == 0, "%s: %d", d->id, rc);
        /* The model's best terms. */
        sc s[MAXT];
        int ns = 0;
        for (int k = 0; k < d->nterms; k++) {
            const char *t = d->terms[k];
            int dup = 0;
            for (int j = 0; j < ns; j++) dup |= !strcmp(s[j].t, t);
            if (dup || strlen(t) < 2) continue;
            uint64_t df = 0, tf = 0;
            for (int j = 0; j < NDOCS; j++) df += docs[j].live && has(&docs[j], t);
            for (int j = 0; j < d->nterms; j++) tf += !strcmp(d->terms[j], t);
            if (df < 2 || df >= N) continue;
            s[ns].t = t;
            s[ns++].s = (1 + log((double)tf)) * log((double)N / (double)df);
        }
        qsort(s, (size_t)ns, sizeof *s, sc_cmp);
        if (ns > 5) ns = 5;
        /* The query's words analyze to them, in order. */
        int k = 0;
        for (const char *p = q; p && *p;) {
            const char *a = strchr(p, '"'), *b = a ? strchr(a + 1, '"') : NULL;
            if (!a || !b) break;
            char t[32] = "";
            trawl_analyze("english", a + 1, (size_t)(b - a - 1), one_tok, t);
            CHECK(k < ns && !strcmp(t, s[k].t), "%s: query term %d is %s, want %s", d->id, k, t, k < ns ? s[k].t : "-");
            k++;
            p = b + 1;
        }
        CHECK(k == ns, "%s: %d query terms, want %d (%s)", d->id, k, ns, q ? q : "");
        /* Hits: every other live document with one of the terms. */
        uint64_t want = 0;
        for (int j = 0; j < NDOCS; j++) {
            if (j == i || !docs[j].live) continue;
            int any = 0;
            for (int t = 0; t < ns; t++) any |= has(&docs[j], s[t].t);
            want += any;
        }
        trawl_options *o = trawl_options_new();
        trawl_options_set_limit(o, 1000);
        trawl_results *r;
        CHECK(trawl_similar(idx, d->id, 5, o, &r) == 0, "similar %s", d->id);
        CHECK(trawl_results_total(r) == want && trawl_results_count(r) == want, "%s: total %llu count %zu want %llu",
              d->id, (unsigned long long)trawl_results_total(r), trawl_results_count(r), (unsigned long long)want);
        for (size_t h = 0; h < trawl_results_count(r); h++)
            CHECK(strcmp(trawl_results_id(r, h), d->id), "%s is among its own hits", d->id);
        trawl_results_free(r);
        /* Paging: offset 2, limit 3 is a window of the full ranking. */
        trawl_options_set_offset(o, 2);
        trawl_options_set_limit(o, 3);
        trawl_results *full;
        trawl_options *fo = trawl_options_new();
        trawl_options_set_limit(fo, 1000);
        CHECK(trawl_similar(idx, d->id, 5, o, &r) == 0 && trawl_similar(idx, d->id, 5, fo, &full) == 0, "paged");
        for (size_t h = 0; h < trawl_results_count(r); h++)
            CHECK(h + 2 < trawl_results_count(full) && !strcmp(trawl_results_id(r, h), trawl_results_id(full, h + 2)),
                  "%s: page hit %zu", d->id, h);
        CHECK(trawl_results_count(r) == (want > 2 ? (want - 2 < 3 ? want - 2 : 3) : 0), "%s: page size %zu", d->id,
              trawl_results_count(r));
        trawl_results_free(r);
        trawl_results_free(full);
        trawl_options_free(fo);
        trawl_options_free(o);
        trawl_free(q);
        checked++;
    }
    trawl_results *r;
    CHECK(trawl_similar(idx, "nope", 5, NULL, &r) == TRAWL_ENOTFOUND && r && strstr(trawl_results_errmsg(r), "nope"),
          "unknown id");
    trawl_results_free(r);
    CHECK(trawl_similar(idx, "d1", 0, NULL, &r) == TRAWL_EINVAL, "0 terms");
    trawl_results_free(r);
    printf("%d documents checked\n", checked);
    trawl_index_close(idx);
    rm_rf(dir);
    if (failures) fprintf(stderr, "%d failures\n", failures);
    return failures != 0;
}
