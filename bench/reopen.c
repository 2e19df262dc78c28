/*
 * reopen.c — trawl-bench reopen: what a reader pays to follow a live index.
 *
 *   trawl-bench reopen CORPUS.jsonl [ROUNDS [DOCS]]
 *
 * Indexes the corpus with trawl in a work directory (BENCH_WORKDIR, kept with
 * BENCH_KEEP=1; timed), then measures:
 *   open    a fresh trawl_index_open of the whole index (median of ROUNDS,
 *           default 9; page cache warm after the first);
 *   reopen  ROUNDS times: DOCS new documents (default 100, ids
 *           reopen-bench-R-I) are added and committed with the writer's
 *           default policy (which may merge), then trawl_index_reopen of the
 *           reader at the previous commit is timed — and a fresh open of the
 *           same commit beside it, for the ratio.
 * One JSON line per figure, then a summary line with the medians. Public API
 * only, like every trawl figure of the harness.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trawl.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n ? v[n / 2] : 0;
}

/* Times one fresh open of dir (ms); -1 on failure (message on stderr). */
static double time_open(const char *dir) {
    trawl_index *idx = NULL;
    char *msg = NULL;
    uint64_t t0 = bench_now_ns();
    if (trawl_index_open(dir, &idx, &msg) != TRAWL_OK) {
        fprintf(stderr, "trawl-bench: open %s: %s\n", dir, msg ? msg : "?");
        trawl_free(msg);
        return -1;
    }
    double ms = (double)(bench_now_ns() - t0) / 1e6;
    trawl_index_close(idx);
    return ms;
}

int bench_cmd_reopen(int argc, char **argv) {
    if (argc < 1 || argc > 3) {
        fputs("usage: trawl-bench reopen CORPUS.jsonl [ROUNDS [DOCS]]\n", stderr);
        return 2;
    }
    long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 9, docs = argc > 2 ? strtol(argv[2], NULL, 10) : 100;
    if (rounds < 1 || rounds > 1000 || docs < 1 || docs > 1000000) {
        fputs("trawl-bench: ROUNDS must be 1..1000 and DOCS 1..1000000\n", stderr);
        return 2;
    }
    char workdir[4096], dir[4200], err[1024] = "";
    int made = 0, rc = 1;
    if (bench_workdir(workdir, sizeof workdir, &made) != 0) return 1;
    snprintf(dir, sizeof dir, "%s/trawl-reopen", workdir);
    bench_rmtree(dir);
    const bench_engine *e = bench_engine_trawl();
    uint64_t ndocs = 0, t0 = bench_now_ns();
    if (e->build(argv[0], dir, &ndocs, err, sizeof err) != 0) {
        fprintf(stderr, "trawl-bench: index: %s\n", err);
        goto out;
    }
    printf("{\"docs\":%llu,\"index_seconds\":%.3f,\"index_bytes\":%llu}\n", (unsigned long long)ndocs,
           (double)(bench_now_ns() - t0) / 1e9, (unsigned long long)bench_path_bytes(dir));
    double *open_ms = calloc((size_t)rounds, sizeof *open_ms), *reopen_ms = calloc((size_t)rounds, sizeof *reopen_ms),
           *fresh_ms = calloc((size_t)rounds, sizeof *fresh_ms);
    trawl_index *reader = NULL;
    trawl_writer *w = NULL;
    char *msg = NULL;
    if (!open_ms || !reopen_ms || !fresh_ms) {
        fputs("trawl-bench: out of memory\n", stderr);
        goto done;
    }
    if (time_open(dir) < 0) goto done; /* warms the page cache */
    for (long r = 0; r < rounds; r++)
        if ((open_ms[r] = time_open(dir)) < 0) goto done;
    if (trawl_index_open(dir, &reader, &msg) != TRAWL_OK || trawl_writer_open(dir, NULL, &w, &msg) != TRAWL_OK) {
        fprintf(stderr, "trawl-bench: %s: %s\n", dir, msg ? msg : "?");
        goto done;
    }
    for (long r = 0; r < rounds; r++) {
        for (long i = 0; i < docs; i++) {
            char doc[256];
            int n = snprintf(doc, sizeof doc,
                             "{\"id\":\"reopen-bench-%ld-%ld\",\"title\":\"reopen round %ld\",\"body\":\"a new "
                             "document added while a reader follows the index\"}",
                             r, i, r);
            if (trawl_writer_add_json(w, doc, (size_t)n) != TRAWL_OK) {
                fprintf(stderr, "trawl-bench: add: %s\n", trawl_writer_errmsg(w));
                goto done;
            }
        }
        if (trawl_writer_commit(w) != TRAWL_OK) {
            fprintf(stderr, "trawl-bench: commit: %s\n", trawl_writer_errmsg(w));
            goto done;
        }
        trawl_index *newer = NULL;
        uint64_t t1 = bench_now_ns();
        if (trawl_index_reopen(reader, &newer) != TRAWL_OK || !newer) {
            fputs("trawl-bench: reopen gave no newer index\n", stderr);
            goto done;
        }
        reopen_ms[r] = (double)(bench_now_ns() - t1) / 1e6;
        if ((fresh_ms[r] = time_open(dir)) < 0) {
            trawl_index_close(newer);
            goto done;
        }
        printf("{\"round\":%ld,\"docs\":%llu,\"reopen_ms\":%.3f,\"open_ms\":%.3f}\n", r,
               (unsigned long long)trawl_index_doc_count(newer), reopen_ms[r], fresh_ms[r]);
        trawl_index_close(reader);
        reader = newer;
    }
    double mo = median(open_ms, (size_t)rounds), mr = median(reopen_ms, (size_t)rounds),
           mf = median(fresh_ms, (size_t)rounds);
    printf("{\"open_ms_median\":%.3f,\"reopen_ms_median\":%.3f,\"open_after_commit_ms_median\":%.3f,"
           "\"open_over_reopen\":%.1f}\n",
           mo, mr, mf, mr > 0 ? mf / mr : 0);
    rc = 0;
done:
    trawl_free(msg);
    if (w) trawl_writer_close(w);
    if (reader) trawl_index_close(reader);
    free(open_ms);
    free(reopen_ms);
    free(fresh_ms);
out:
    if (!getenv("BENCH_KEEP") || strcmp(getenv("BENCH_KEEP"), "1") != 0) {
        bench_rmtree(dir);
        if (made) bench_rmtree(workdir);
    }
    return rc;
}
