/*
 * fixedcost.c — trawl-bench fixedcost: the fixed cost of one query through
 * the public API (issue 10: a single-term count on a warm index).
 *
 *   trawl-bench fixedcost INDEX_DIR WORDS.txt... [--rounds N] [--only FIGURE]
 *
 * The distinct words of the files (split as query files are: every non-word
 * byte separates words) are the terms; each is searched alone, the way a user
 * would: trawl_search of the word with options made once (snippets off),
 * reading the exact total and every returned id, then trawl_results_free.
 * Every call is timed end to end (parse, analysis, dictionary look-up,
 * execution, results). Figures, one JSON line each:
 *   first    each term's first query after open, counting only (what a
 *            posting list's first use costs: validation, decoding);
 *   count    count only (trawl_options_set_count_only), warm, N rounds over
 *            every term (default 5);
 *   top10    top 10 by BM25 with the exact total, warm, N rounds;
 *   count2   two consecutive terms ANDed, counting only, warm, N rounds
 *            (a multi-term query's fixed cost).
 * --only FIGURE runs `first` and that warm figure alone (for profiling).
 * Each line holds p50, p90, p99 and the mean in microseconds and the sum of
 * the totals (to compare answers between builds).
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trawl.h"

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the words of every file in paths[0..n) to *words (distinct,
 * sorted). Returns 0, or -1 with a message on stderr. */
static int load_words(char **paths, int n, char ***words, size_t *nwords) {
    char **w = NULL;
    size_t nw = 0, cap = 0;
    for (int f = 0; f < n; f++) {
        bench_queries qs;
        char err[512];
        if (bench_queries_load(paths[f], &qs, err, sizeof err) != 0) {
            fprintf(stderr, "trawl-bench: %s\n", err);
            goto fail;
        }
        for (size_t i = 0; i < qs.n; i++)
            for (size_t j = 0; j < qs.q[i].nwords; j++) {
                if (nw == cap) {
                    size_t nc = cap ? cap * 2 : 1024;
                    char **nb = realloc(w, nc * sizeof *nb);
                    if (!nb) break;
                    w = nb;
                    cap = nc;
                }
                if (!(w[nw] = strdup(qs.q[i].words[j]))) break;
                nw++;
            }
        bench_queries_free(&qs);
    }
    if (nw) qsort(w, nw, sizeof *w, cmp_str);
    size_t out = 0;
    for (size_t i = 0; i < nw; i++) {
        if (out && strcmp(w[out - 1], w[i]) == 0) {
            free(w[i]);
            continue;
        }
        w[out++] = w[i];
    }
    *words = w;
    *nwords = out;
    return 0;
fail:
    for (size_t i = 0; i < nw; i++) free(w[i]);
    free(w);
    return -1;
}

/* Keeps the id reads from being optimized out. */
static volatile size_t id_sink;

/* Runs query q once with options o, reading the total and every id; adds
 * the elapsed nanoseconds to *lat and the total to *sum. Returns 0 or -1. */
static int one(trawl_index *idx, const char *q, const trawl_options *o, uint64_t *lat, uint64_t *sum) {
    uint64_t t0 = bench_now_ns();
    trawl_results *r = NULL;
    trawl_rc rc = trawl_search(idx, q, o, &r);
    if (rc != TRAWL_OK) {
        fprintf(stderr, "trawl-bench: %s: %s\n", q, r ? trawl_results_errmsg(r) : trawl_strerror(rc));
        trawl_results_free(r);
        return -1;
    }
    uint64_t total = trawl_results_total(r);
    size_t n = trawl_results_count(r), idbytes = 0;
    for (size_t i = 0; i < n; i++) idbytes += strlen(trawl_results_id(r, i));
    trawl_results_free(r);
    *lat = bench_now_ns() - t0;
    *sum += total;
    id_sink += idbytes;
    return 0;
}

static void report(const char *what, uint64_t *lat, size_t n, uint64_t sum) {
    bench_latency s;
    bench_latency_summary(lat, n, &s);
    printf("{\"figure\":\"%s\",\"queries\":%zu,\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"mean_us\":%.2f,"
           "\"total_sum\":%llu}\n",
           what, n, s.p50_us, s.p90_us, s.p99_us, s.mean_us, (unsigned long long)sum);
}

int bench_cmd_fixedcost(int argc, char **argv) {
    long rounds = 5;
    const char *only = NULL;
    int nf = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            rounds = strtol(argv[++i], NULL, 10);
            continue;
        }
        if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
            continue;
        }
        argv[nf++] = argv[i];
    }
    if (nf < 2 || rounds < 1 || rounds > 1000) {
        fputs("usage: trawl-bench fixedcost INDEX_DIR WORDS.txt... [--rounds N (1..1000)] [--only FIGURE]\n", stderr);
        return 2;
    }
    char **words = NULL;
    size_t nw = 0;
    if (load_words(argv + 1, nf - 1, &words, &nw) != 0) return 1;
    int ret = 1;
    trawl_index *idx = NULL;
    trawl_options *count = trawl_options_new(), *top = trawl_options_new();
    uint64_t *lat = malloc(sizeof *lat * (nw * (size_t)rounds + 1));
    char *q = NULL;
    size_t maxlen = 0;
    for (size_t i = 0; i < nw; i++)
        if (strlen(words[i]) > maxlen) maxlen = strlen(words[i]);
    q = malloc(2 * maxlen + 2);
    char *msg = NULL;
    if (!count || !top || !lat || !q) {
        fputs("trawl-bench: out of memory\n", stderr);
        goto done;
    }
    if (nw == 0) {
        fputs("trawl-bench: no words\n", stderr);
        goto done;
    }
    if (trawl_index_open(argv[0], &idx, &msg) != TRAWL_OK) {
        fprintf(stderr, "trawl-bench: open %s: %s\n", argv[0], msg ? msg : "?");
        trawl_free(msg);
        goto done;
    }
    trawl_options_set_snippets(count, 0);
    trawl_options_set_count_only(count, 1);
    trawl_options_set_snippets(top, 0);
    trawl_options_set_limit(top, 10);
    printf("{\"index\":\"%s\",\"terms\":%zu,\"rounds\":%ld,\"docs\":%llu}\n", argv[0], nw, rounds,
           (unsigned long long)trawl_index_doc_count(idx));
    uint64_t sum = 0;
    for (size_t i = 0; i < nw; i++)
        if (one(idx, words[i], count, &lat[i], &sum)) goto done;
    report("first", lat, nw, sum);
    const char *names[3] = {"count", "top10", "count2"};
    for (int fig = 0; fig < 3; fig++) {
        if (only && strcmp(only, names[fig]) != 0) continue;
        const trawl_options *o = fig == 1 ? top : count;
        size_t n = 0;
        sum = 0;
        for (long r = 0; r < rounds; r++)
            for (size_t i = 0; i < nw; i++) {
                if (fig == 2)
                    snprintf(q, 2 * maxlen + 2, "%s %s", words[i], words[(i + 1) % nw]);
                else
                    snprintf(q, 2 * maxlen + 2, "%s", words[i]);
                if (one(idx, q, o, &lat[n++], &sum)) goto done;
            }
        report(names[fig], lat, n, sum / (uint64_t)rounds);
    }
    ret = 0;
done:
    trawl_index_close(idx);
    trawl_options_free(count);
    trawl_options_free(top);
    free(lat);
    free(q);
    for (size_t i = 0; i < nw; i++) free(words[i]);
    free(words);
    return ret;
}
