/*
 * test_threads.c — one trawl_index searched from several threads at once.
 *
 * Oracle: the same queries run one after another on the same index. Every
 * thread must get, for every query, exactly the totals, ids and scores of the
 * sequential run (the index handle is shared; analyzers come from its pool).
 * Run under ThreadSanitizer by hand for data races; under ASan in CI.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trawl.h"

#define NTHREADS 6
#define ROUNDS 20

static const char *const queries[] = {
    "vector database",
    "\"cold start\" OR serverless",
    "title:postgres -vector",
    "supply chain security",
    "platform engineering",
    "open source",
    "ai OR rust OR wasm*",
    "kubernetes cost",
    "-ai",
    "data*",
    "\"open source\" licens*",
    "model +inference",
    "edge",
    "search engine ranking",
    "passkeys OR zero",
};
#define NQ (sizeof queries / sizeof queries[0])

typedef struct expect {
    uint64_t total;
    size_t n;
    char ids[10][128];
    double scores[10];
} expect;

static expect want[NQ];
static trawl_index *idx;

static int run(size_t qi, expect *out, int use_or) {
    trawl_options *o = trawl_options_new();
    trawl_options_set_or(o, use_or);
    trawl_results *r;
    int rc = trawl_search(idx, queries[qi], o, &r);
    trawl_options_free(o);
    if (rc != TRAWL_OK) {
        fprintf(stderr, "query '%s': %s\n", queries[qi], trawl_results_errmsg(r));
        trawl_results_free(r);
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->total = trawl_results_total(r);
    out->n = trawl_results_count(r);
    for (size_t i = 0; i < out->n && i < 10; i++) {
        snprintf(out->ids[i], sizeof out->ids[i], "%s", trawl_results_id(r, i));
        out->scores[i] = trawl_results_score(r, i);
    }
    trawl_results_free(r);
    return 0;
}

static void *worker(void *arg) {
    size_t seed = (size_t)arg, bad = 0;
    for (int round = 0; round < ROUNDS; round++)
        for (size_t k = 0; k < NQ; k++) {
            size_t qi = (k + seed * 7 + (size_t)round) % NQ;
            expect got;
            if (run(qi, &got, 0)) {
                bad++;
                continue;
            }
            if (got.total != want[qi].total || got.n != want[qi].n) {
                fprintf(stderr, "thread %zu query '%s': total %llu/%zu, sequential %llu/%zu\n", seed, queries[qi],
                        (unsigned long long)got.total, got.n, (unsigned long long)want[qi].total, want[qi].n);
                bad++;
                continue;
            }
            for (size_t i = 0; i < got.n; i++)
                if (strcmp(got.ids[i], want[qi].ids[i]) != 0 || got.scores[i] != want[qi].scores[i]) {
                    fprintf(stderr, "thread %zu query '%s' hit %zu: %s %.17g, sequential %s %.17g\n", seed, queries[qi],
                            i, got.ids[i], got.scores[i], want[qi].ids[i], want[qi].scores[i]);
                    bad++;
                }
        }
    return (void *)bad;
}

int main(void) {
    const char *src = getenv("TRAWL_SOURCE_DIR");
    char corpus[4096], dir[] = "/tmp/trawl-threads-XXXXXX";
    snprintf(corpus, sizeof corpus, "%s/sample/trends.jsonl", src ? src : ".");
    FILE *f = fopen(corpus, "r");
    if (!f) {
        fprintf(stderr, "cannot read %s\n", corpus);
        return 1;
    }
    if (!mkdtemp(dir)) return 1;
    char *err = NULL;
    trawl_writer *w;
    if (trawl_writer_open(dir, NULL, &w, &err) != TRAWL_OK) {
        fprintf(stderr, "writer: %s\n", err);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int half = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (trawl_writer_add_json(w, line, (size_t)len) != TRAWL_OK) {
            fprintf(stderr, "add: %s\n", trawl_writer_errmsg(w));
            return 1;
        }
        /* Two commits: two segments. */
        if (++half == 20 && trawl_writer_commit(w) != TRAWL_OK) return 1;
    }
    free(line);
    fclose(f);
    if (trawl_writer_commit(w) != TRAWL_OK) return 1;
    trawl_writer_close(w);
    if (trawl_index_open(dir, &idx, &err) != TRAWL_OK) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    size_t nonzero = 0;
    for (size_t q = 0; q < NQ; q++) {
        if (run(q, &want[q], 0)) return 1;
        nonzero += want[q].total > 0;
    }
    if (nonzero < NQ / 2) {
        fprintf(stderr, "only %zu of %zu queries match: the corpus is not the one expected\n", nonzero, NQ);
        return 1;
    }
    pthread_t th[NTHREADS];
    for (size_t i = 0; i < NTHREADS; i++) pthread_create(&th[i], NULL, worker, (void *)i);
    size_t bad = 0;
    for (size_t i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        bad += (size_t)r;
    }
    trawl_index_close(idx);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    printf("%d threads x %d rounds x %zu queries: %zu mismatches\n", NTHREADS, ROUNDS, NQ, bad);
    return bad ? 1 : 0;
}
