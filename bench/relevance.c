/*
 * relevance.c — `trawl-bench relevance`: ranking quality on known-item query
 * sets, for trawl (in several variants) and, in the same run, SQLite FTS5 and
 * Xapian, from the same documents.
 *
 *   trawl-bench relevance [SETS_DIR [SET...]]
 *
 * SETS_DIR (default $CORPORA_DIR/relevance, else ~/.cache/trawl-corpora/relevance)
 * holds, per set NAME, NAME.jsonl (the documents) and NAME.tsv (one query a
 * line: split<TAB>answer id<TAB>words), as bench/relevance_sets.py writes them;
 * the sets default to linuxdoc, foldoc and changelogs. Each engine indexes
 * each set (its `build`), then every query runs as the `or` class (any of the
 * words, ranked, top 10). Per (set, engine or trawl variant, split): MRR@10
 * (mean of 1/rank of the answer, 0 beyond rank 10), success@1 and @10 (share of
 * queries whose answer is first / in the top 10) and nDCG@10 (one relevant
 * document: 1/log2(1 + rank)). One JSON object a line, then a Markdown table.
 *
 * Environment: BENCH_ENGINES (comma list, default trawl,fts5,xapian),
 * BENCH_TRAWL_VARIANTS ("NAME:SPEC;NAME:SPEC...", SPEC as
 * bench_trawl_configure takes it; default DEFAULT_VARIANTS), BENCH_SPLITS
 * (comma list of tune,test; default both), BENCH_WORKDIR (where indexes are
 * built; default a new /tmp/trawl-bench.XXXXXX), BENCH_KEEP=1 keeps the indexes.
 */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_VARIANTS "or:op=or;and:op=and;auto:op=auto"
#define K 10
#define MAX_ROWS 4096

/* A known-item query. */
typedef struct kquery {
    int test; /* held-out split */
    char *answer;
    bench_query q;
} kquery;

typedef struct kset {
    kquery *q;
    size_t n;
} kset;

/* One line of the final table. */
typedef struct row {
    char set[64], engine[96];
    int have[2];
    double mrr[2], s1[2], s10[2], ndcg[2];
    size_t n[2];
} row;

static void kset_free(kset *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->q[i].answer);
        bench_query_free(&s->q[i].q);
    }
    free(s->q);
    s->q = NULL;
    s->n = 0;
}

/* Reads path (split TAB id TAB words lines) into *s. Returns 0 or -1 with a
 * message in err. */
static int kset_load(const char *path, kset *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "r");
    if (!f) {
        bench_seterr(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t linecap = 0, cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        char *t1 = memchr(line, '\t', (size_t)len);
        char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(line + len - t1 - 1)) : NULL;
        if (!t2) {
            bench_seterr(err, errlen, "%s:%zu: expected split<TAB>id<TAB>words", path, lineno);
            rc = -1;
            break;
        }
        if (s->n == cap) {
            size_t nc = cap ? 2 * cap : 1024;
            kquery *nq = realloc(s->q, nc * sizeof *nq);
            if (!nq) {
                rc = -1;
                bench_seterr(err, errlen, "out of memory");
                break;
            }
            s->q = nq;
            cap = nc;
        }
        kquery *q = &s->q[s->n];
        memset(q, 0, sizeof *q);
        q->test = (size_t)(t1 - line) == 4 && memcmp(line, "test", 4) == 0;
        q->answer = strndup(t1 + 1, (size_t)(t2 - t1 - 1));
        int r = bench_query_split(t2 + 1, (size_t)(line + len - t2 - 1), &q->q);
        s->n++;
        if (!q->answer || r != 0) {
            rc = -1;
            bench_seterr(err, errlen, "out of memory");
        }
    }
    if (rc == 0 && ferror(f)) {
        bench_seterr(err, errlen, "%s: read error", path);
        rc = -1;
    }
    free(line);
    fclose(f);
    if (rc) kset_free(s);
    return rc;
}

/* Runs every query of s (of the splits wanted) through open engine e and adds
 * the figures to r (printing one JSON line per split). */
static int measure(const bench_engine *e, void *h, const kset *s, const int want[2], row *r) {
    double mrr[2] = {0}, s1[2] = {0}, s10[2] = {0}, ndcg[2] = {0};
    size_t n[2] = {0};
    bench_result res;
    memset(&res, 0, sizeof res);
    char err[1024] = "";
    int rc = 0;
    for (size_t i = 0; i < s->n && rc == 0; i++) {
        const kquery *q = &s->q[i];
        if (!want[q->test]) continue;
        bench_result_reset(&res);
        rc = e->run(h, BENCH_OR, &q->q, K, &res, err, sizeof err);
        if (rc) break;
        size_t rank = 0;
        for (size_t j = 0; j < res.n && j < K && !rank; j++)
            if (strcmp(bench_result_id(&res, j), q->answer) == 0) rank = j + 1;
        n[q->test]++;
        if (rank) {
            mrr[q->test] += 1.0 / (double)rank;
            s1[q->test] += rank == 1;
            s10[q->test] += 1;
            ndcg[q->test] += 1.0 / log2(1.0 + (double)rank);
        }
    }
    bench_result_free(&res);
    if (rc) {
        fprintf(stderr, "trawl-bench: %s: %s\n", r->engine, err);
        return -1;
    }
    for (int t = 0; t < 2; t++) {
        if (!want[t]) continue;
        double d = n[t] ? (double)n[t] : 1;
        r->have[t] = 1;
        r->n[t] = n[t];
        r->mrr[t] = mrr[t] / d;
        r->s1[t] = s1[t] / d;
        r->s10[t] = s10[t] / d;
        r->ndcg[t] = ndcg[t] / d;
        printf("{\"set\":\"%s\",\"engine\":\"%s\",\"split\":\"%s\",\"queries\":%zu,\"mrr10\":%.4f,\"s1\":%.4f,"
               "\"s10\":%.4f,\"ndcg10\":%.4f}\n",
               r->set, r->engine, t ? "test" : "tune", n[t], r->mrr[t], r->s1[t], r->s10[t], r->ndcg[t]);
    }
    fflush(stdout);
    return 0;
}

static void print_table(const row *rows, size_t n) {
    printf("\n| set | engine | tune MRR@10 | test MRR@10 | test S@1 | test S@10 | test nDCG@10 | test queries |\n"
           "|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        char tune[32] = "—";
        if (r->have[0]) snprintf(tune, sizeof tune, "%.4f", r->mrr[0]);
        if (r->have[1])
            printf("| %s | %s | %s | %.4f | %.4f | %.4f | %.4f | %zu |\n", r->set, r->engine, tune, r->mrr[1], r->s1[1],
                   r->s10[1], r->ndcg[1], r->n[1]);
        else
            printf("| %s | %s | %s | — | — | — | — | 0 |\n", r->set, r->engine, tune);
    }
}

int bench_cmd_relevance(int argc, char **argv) {
    char dflt[4096];
    const char *dir = argc > 0 ? argv[0] : NULL;
    if (!dir) {
        const char *cd = getenv("CORPORA_DIR");
        const char *home = getenv("HOME");
        if (cd && *cd)
            snprintf(dflt, sizeof dflt, "%s/relevance", cd);
        else
            snprintf(dflt, sizeof dflt, "%s/.cache/trawl-corpora/relevance", home ? home : ".");
        dir = dflt;
    }
    static const char *const default_sets[] = {"linuxdoc", "foldoc", "changelogs"};
    const char *const *sets = argc > 1 ? (const char *const *)argv + 1 : default_sets;
    size_t nsets = argc > 1 ? (size_t)argc - 1 : 3;

    int want[2] = {1, 1};
    const char *sp = getenv("BENCH_SPLITS");
    if (sp && *sp) {
        want[0] = strstr(sp, "tune") != NULL;
        want[1] = strstr(sp, "test") != NULL;
    }
    const char *variants = getenv("BENCH_TRAWL_VARIANTS");
    if (!variants || !*variants) variants = DEFAULT_VARIANTS;
    const char *list = getenv("BENCH_ENGINES");
    char names[256];
    snprintf(names, sizeof names, "%s", list && *list ? list : "trawl,fts5,xapian");

    char workdir[4096];
    int made_workdir = 0;
    if (bench_workdir(workdir, sizeof workdir, &made_workdir) != 0) return 1;
    const char *keep = getenv("BENCH_KEEP");
    int keep_indexes = keep && strcmp(keep, "1") == 0;

    row *rows = calloc(MAX_ROWS, sizeof *rows);
    size_t nrows = 0;
    int rc = rows ? 0 : 1;
    char err[1024], path[4200], idx[4300];
    for (size_t si = 0; si < nsets && rc == 0; si++) {
        kset ks;
        snprintf(path, sizeof path, "%s/%s.tsv", dir, sets[si]);
        if (kset_load(path, &ks, err, sizeof err) != 0) {
            fprintf(stderr, "trawl-bench: %s (make the sets with bench/relevance_sets.py)\n", err);
            rc = 1;
            break;
        }
        snprintf(path, sizeof path, "%s/%s.jsonl", dir, sets[si]);
        char ebuf[256];
        snprintf(ebuf, sizeof ebuf, "%s", names);
        for (char *save = NULL, *tok = strtok_r(ebuf, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
            const bench_engine *e = bench_engine_find(tok);
            if (!e) {
                fprintf(stderr, "trawl-bench: note: engine %s is unknown or not compiled in; skipped\n", tok);
                continue;
            }
            snprintf(idx, sizeof idx, "%s/%s.%s", workdir, sets[si], e->name);
            bench_rmtree(idx);
            uint64_t docs = 0;
            uint64_t t0 = bench_now_ns();
            if (e->build(path, idx, &docs, err, sizeof err) != 0) {
                fprintf(stderr, "trawl-bench: %s index: %s\n", e->name, err);
                rc = 1;
                break;
            }
            printf("{\"set\":\"%s\",\"engine\":\"%s\",\"docs\":%llu,\"index_seconds\":%.3f}\n", sets[si], e->name,
                   (unsigned long long)docs, (double)(bench_now_ns() - t0) / 1e9);
            void *h = NULL;
            if (e->open(idx, &h, err, sizeof err) != 0) {
                fprintf(stderr, "trawl-bench: %s\n", err);
                rc = 1;
                break;
            }
            int is_trawl = strcmp(e->name, "trawl") == 0;
            char *vbuf = strdup(is_trawl ? variants : "");
            if (!vbuf) {
                fputs("trawl-bench: out of memory\n", stderr);
                e->close(h);
                rc = 1;
                break;
            }
            char *vsave = NULL, *v = is_trawl ? strtok_r(vbuf, ";", &vsave) : NULL;
            do {
                if (nrows == MAX_ROWS) break;
                row *r = &rows[nrows];
                memset(r, 0, sizeof *r);
                snprintf(r->set, sizeof r->set, "%s", sets[si]);
                const char *spec = "";
                if (v) {
                    char *colon = strchr(v, ':');
                    if (colon) {
                        *colon = '\0';
                        spec = colon + 1;
                    }
                    snprintf(r->engine, sizeof r->engine, "trawl %s", v);
                    if (bench_trawl_configure(h, spec, err, sizeof err) != 0) {
                        fprintf(stderr, "trawl-bench: %s\n", err);
                        rc = 1;
                        break;
                    }
                } else {
                    snprintf(r->engine, sizeof r->engine, "%s", e->name);
                }
                if (measure(e, h, &ks, want, r) != 0) {
                    rc = 1;
                    break;
                }
                nrows++;
            } while (v && (v = strtok_r(NULL, ";", &vsave)) != NULL);
            free(vbuf);
            e->close(h);
            if (!keep_indexes) bench_rmtree(idx);
        }
        kset_free(&ks);
    }
    if (made_workdir && !keep_indexes) rmdir(workdir);
    if (rc == 0) print_table(rows, nrows);
    free(rows);
    return rc;
}
