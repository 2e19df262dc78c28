/*
 * test_bgmerge.c — adds, replacements, deletes and commits while background
 * merges run.
 *
 * Two writers get the same operations: rounds of added documents (ids drawn
 * from a pool, so many replace an earlier version), deletions by id and by
 * query, and a commit; one writer merges automatically in the background
 * (a small budget, so every commit makes a segment and the tiered policy
 * merges every ten; each merge waits a while before it publishes, so that
 * commits and deletions land while it runs), the other never merges. Oracles:
 *  - a model of the live documents (id -> exact JSON text): after commits,
 *    the merging index holds exactly the model (document count, every id's
 *    stored text, deleted and replaced versions absent), whether or not a
 *    merge has published meanwhile;
 *  - the non-merged index: 300 queries give the same ids, in the same order,
 *    with the same scores (merges keep document order and BM25 counts live
 *    documents only);
 *  - merges did happen: the merging index ends with fewer segments and a
 *    higher generation than the number of commits.
 */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "testutil.h"
#include "trawl.h"

static int failures;

#if defined(__SANITIZE_ADDRESS__)
#define SLOW 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOW 1
#endif
#endif
#ifndef SLOW
#define SLOW 0
#endif

#define POOL 1500
#define VOCAB 400

static char *model[POOL]; /* live version of each id, or NULL */
static unsigned version[POOL];

static void word(uint32_t k, char *out) {
    static const char *syl[] = {"ka", "lo", "mi", "nu", "pe", "ri", "so", "tu", "va", "ze"};
    snprintf(out, 16, "%s%s%s", syl[k % 10], syl[k / 10 % 10], syl[k / 100 % 10]);
}

/* A new version of document i (the text names the version). */
static char *make_doc(rng *r, int i) {
    char *d = xmalloc(4096);
    int n = snprintf(d, 4096, "{\"id\":\"doc%04d\",\"title\":\"everyone v%u\",\"body\":\"", i, ++version[i]);
    int words = 30 + (int)below(r, 120);
    for (int k = 0; k < words; k++) {
        char w[16];
        double u = (double)(rnd(r) >> 11) / (double)(1ull << 53);
        word((uint32_t)(u * u * VOCAB), w);
        n += snprintf(d + n, (size_t)(4096 - n), "%s%s", k ? " " : "", w);
    }
    snprintf(d + n, (size_t)(4096 - n), "\"}");
    return d;
}

static trawl_writer *open_writer(const char *dir, int merge) {
    trawl_open_options *o = trawl_open_options_new();
    trawl_open_options_set_ram_mb(o, 1);
    trawl_open_options_set_threads(o, 1);
    trawl_writer *w = NULL;
    char *msg = NULL;
    if (trawl_writer_open_v2(dir, "english", o, &w, &msg) != 0) {
        fprintf(stderr, "open %s: %s\n", dir, msg ? msg : "?");
        exit(1);
    }
    trawl_open_options_free(o);
    trawl_writer_set_auto_merge(w, merge);
    return w;
}

static void must(trawl_writer *w, trawl_rc rc, const char *what) {
    if (rc != TRAWL_OK) {
        fprintf(stderr, "%s: %s\n", what, trawl_writer_errmsg(w));
        exit(1);
    }
}

/* The merging index holds exactly the model. */
static void check_model(const char *dir, int round, rng *r) {
    trawl_index *idx;
    char *msg = NULL;
    if (trawl_index_open(dir, &idx, &msg) != 0) {
        CHECK(0, "round %d: open: %s", round, msg ? msg : "?");
        free(msg);
        return;
    }
    uint64_t live = 0;
    for (int i = 0; i < POOL; i++) live += model[i] != NULL;
    CHECK(trawl_index_doc_count(idx) == live, "round %d: %" PRIu64 " documents, the model has %" PRIu64, round,
          trawl_index_doc_count(idx), live);
    for (int k = 0; k < (SLOW ? 40 : 200); k++) {
        int i = k < 20 ? k : (int)below(r, POOL);
        char id[16];
        snprintf(id, sizeof id, "doc%04d", i);
        char *got = NULL;
        trawl_rc rc = trawl_index_get(idx, id, &got);
        if (model[i])
            CHECK(rc == TRAWL_OK && got && strcmp(got, model[i]) == 0, "round %d: %s is %s, want %s", round, id,
                  got ? got : "absent", model[i]);
        else
            CHECK(rc == TRAWL_ENOTFOUND, "round %d: %s deleted but present: %s", round, id, got ? got : "?");
        trawl_free(got);
    }
    trawl_index_close(idx);
}

static json_int_t generation(const char *dir) {
    char p[600];
    snprintf(p, sizeof p, "%s/MANIFEST", dir);
    json_error_t je;
    json_t *m = json_load_file(p, JSON_DISABLE_EOF_CHECK, &je);
    json_int_t g = m ? json_integer_value(json_object_get(m, "generation")) : -1;
    json_decref(m);
    return g;
}

static size_t segments(const char *dir) {
    size_t n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        n += strncmp(e->d_name, "seg-", 4) == 0 && strstr(e->d_name, ".tws") != NULL;
    if (d) closedir(d);
    return n;
}

/* The same query on both indexes gives the same page. */
static void compare(const trawl_index *a, const trawl_index *b, const char *q) {
    trawl_options *o = trawl_options_new();
    trawl_options_set_limit(o, 20);
    trawl_results *ra = NULL, *rb = NULL;
    trawl_rc ca = trawl_search(a, q, o, &ra), cb = trawl_search(b, q, o, &rb);
    CHECK(ca == cb, "%s: rc %d vs %d", q, ca, cb);
    if (ca == TRAWL_OK && cb == TRAWL_OK) {
        CHECK(trawl_results_total(ra) == trawl_results_total(rb), "%s: total %" PRIu64 " vs %" PRIu64, q,
              trawl_results_total(ra), trawl_results_total(rb));
        size_t n = trawl_results_count(ra);
        CHECK(n == trawl_results_count(rb), "%s: %zu hits vs %zu", q, n, trawl_results_count(rb));
        for (size_t i = 0; i < n && i < trawl_results_count(rb); i++) {
            CHECK(strcmp(trawl_results_id(ra, i), trawl_results_id(rb, i)) == 0, "%s: hit %zu is %s vs %s", q, i,
                  trawl_results_id(ra, i), trawl_results_id(rb, i));
            double sa = trawl_results_score(ra, i), sb = trawl_results_score(rb, i);
            CHECK(fabs(sa - sb) <= 1e-9 * fmax(1.0, fabs(sa)), "%s: hit %zu scores %.12g vs %.12g", q, i, sa, sb);
        }
    }
    trawl_results_free(ra);
    trawl_results_free(rb);
    trawl_options_free(o);
}

int main(void) {
    char tmpl[] = "/tmp/trawl-bgmerge-XXXXXX";
    char *base = mkdtemp(tmpl);
    if (!base) return 1;
    char dm[512], dc[512];
    snprintf(dm, sizeof dm, "%s/merging", base);
    snprintf(dc, sizeof dc, "%s/control", base);
    trawl_writer *wm = open_writer(dm, 1), *wc = open_writer(dc, 0);
    /* Each background merge holds its result a while before publishing it:
     * the rounds below add, delete and commit meanwhile. */
    tw_writer_test_merge_delay(SLOW ? 300 : 150);
    rng r = {20261129}, rc = {7};
    int rounds = SLOW ? 25 : 60, per = SLOW ? 30 : 60;
    for (int round = 1; round <= rounds; round++) {
        if (round % 7 == 0) { /* a deletion by query: every committed version 3 */
            uint64_t nm = 0, nc = 0;
            must(wm, trawl_writer_delete_query(wm, "title:v3", &nm), "delete_query (merging)");
            must(wc, trawl_writer_delete_query(wc, "title:v3", &nc), "delete_query (control)");
            CHECK(nm == nc, "round %d: delete by query matched %" PRIu64 " vs %" PRIu64, round, nm, nc);
            /* At the start of a round every document of the model is committed. */
            for (int i = 0; i < POOL; i++)
                if (model[i] && strstr(model[i], "\"everyone v3\"")) {
                    free(model[i]);
                    model[i] = NULL;
                }
        }
        for (int k = 0; k < per; k++) {
            int i = (int)below(&r, POOL);
            char *d = make_doc(&r, i);
            must(wm, trawl_writer_add_json(wm, d, strlen(d)), "add (merging)");
            must(wc, trawl_writer_add_json(wc, d, strlen(d)), "add (control)");
            free(model[i]);
            model[i] = d;
        }
        for (int k = 0; k < 4; k++) { /* deletions by id, some of documents merged meanwhile */
            int i = (int)below(&r, POOL);
            char id[16];
            snprintf(id, sizeof id, "doc%04d", i);
            must(wm, trawl_writer_delete(wm, id), "delete (merging)");
            must(wc, trawl_writer_delete(wc, id), "delete (control)");
            free(model[i]);
            model[i] = NULL;
        }
        must(wm, trawl_writer_commit(wm), "commit (merging)");
        must(wc, trawl_writer_commit(wc), "commit (control)");
        if (round % (SLOW ? 5 : 3) == 0) check_model(dm, round, &rc);
    }
    must(wm, trawl_writer_wait(wm), "wait");
    trawl_writer_close(wm);
    trawl_writer_close(wc);
    check_model(dm, rounds + 1, &rc);

    json_int_t gm = generation(dm), gc = generation(dc);
    size_t sm = segments(dm), sc = segments(dc);
    printf("%d commits: merging index at generation %lld with %zu segments, control at %lld with %zu\n", rounds,
           (long long)gm, sm, (long long)gc, sc);
    CHECK(gm > gc && sm < sc, "no background merge happened (generation %lld vs %lld, %zu vs %zu segments)",
          (long long)gm, (long long)gc, sm, sc);

    trawl_index *a, *b;
    char *msg = NULL;
    if (trawl_index_open(dm, &a, &msg) != 0 || trawl_index_open(dc, &b, &msg) != 0) {
        fprintf(stderr, "open: %s\n", msg ? msg : "?");
        return 1;
    }
    for (int q = 0; q < 300; q++) {
        char w1[16], w2[16], query[64];
        word((uint32_t)below(&r, VOCAB), w1);
        word((uint32_t)below(&r, VOCAB / 4), w2);
        switch (q % 4) {
            case 0: snprintf(query, sizeof query, "%s", w1); break;
            case 1: snprintf(query, sizeof query, "%s %s", w1, w2); break;
            case 2: snprintf(query, sizeof query, "%s OR %s", w1, w2); break;
            default: snprintf(query, sizeof query, "everyone -%s", w2); break;
        }
        compare(a, b, query);
    }
    trawl_index_close(a);
    trawl_index_close(b);
    for (int i = 0; i < POOL; i++) free(model[i]);
    rm_rf(base);
    if (failures) return 1;
    printf("test_bgmerge: ok\n");
    return 0;
}
