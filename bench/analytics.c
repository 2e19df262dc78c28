/*
 * analytics.c — `trawl-bench analytics`: the issue-8 workloads (month
 * histogram, top-10 tag facets, date-range filter on AND queries, sort by date)
 * run side by side on trawl and its peers in one run, with a Markdown table of
 * p50/p99 and the ratios.
 *
 *   trawl-bench analytics CORPUS.jsonl QUERY_DIR
 *
 * CORPUS is a dated corpus (gen --dated); QUERY_DIR is genq's output for it:
 * half.txt (one-word queries matching ~half the corpus: histogram and facets)
 * and and.txt (2-4 word AND queries: and, and+filter, sort). For each engine in
 * turn the index is built, every workload run, the index dropped.
 *
 * Timing, as in `query`: the first min(20, n) queries of a workload run once
 * untimed, then every query is timed on its own (CLOCK_MONOTONIC around the
 * adapter call, which builds the engine's query, runs it and copies out every
 * number of the answer). Nearest-rank percentiles.
 *
 * Agreement: every engine's answers must be the same — totals of and and
 * and+filter; totals and every bucket, facet count or sorted date of the
 * others. A 64-bit FNV-1a hash over them per workload is compared with the
 * first engine's; a mismatch is reported (stderr, table) and makes the exit
 * status 1.
 *
 * Environment: BENCH_ENGINES (default trawl,xapian,fts5; those not compiled
 * in are skipped), BENCH_WORKDIR, BENCH_KEEP=1 and BENCH_REUSE=1 (use an
 * existing BENCH_WORKDIR/ENGINE index instead of building it), BENCH_K (10),
 * BENCH_FACET_N (10), BENCH_AN_AND (AND queries used, default 300),
 * BENCH_AN_ROUNDS (passes over half.txt, default 3), BENCH_AN_RANGE (the
 * filter, default 2022-01-01..2023-12-31, each end a date, inclusive of the
 * whole last day), DUMP=PREFIX (each timed answer to PREFIX.ENGINE.WORKLOAD, a
 * line per query: the total, then the items, tab-separated).
 */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AN_WARMUP 20
#define AN_MAX_ENGINES 3

static const char *const kind_names[BENCH_AN_NKINDS] = {"histogram", "facets", "and", "and+filter", "sort"};

const char *bench_an_kind_name(bench_an_kind k) {
    return (unsigned)k < BENCH_AN_NKINDS ? kind_names[k] : "?";
}

/* Figures of one engine on one workload. */
typedef struct an_stats {
    int done;
    size_t queries;
    double p50_us, p99_us, mean_us;
    uint64_t total_hits, hash;
} an_stats;

typedef struct an_engine {
    const bench_an_engine *e;
    int built;
    uint64_t docs, index_bytes;
    double index_seconds;
    an_stats w[BENCH_AN_NKINDS];
} an_engine;

static const bench_an_engine *an_find(const char *name) {
    if (strcmp(name, "trawl") == 0) return bench_an_trawl();
    if (strcmp(name, "fts5") == 0 || strcmp(name, "sqlite") == 0) return bench_an_fts5();
    if (strcmp(name, "xapian") == 0) return bench_an_xapian();
    return NULL;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211u;
    return h;
}

/* Hashes what must agree between engines: the total, and for every workload
 * but the BM25-ranked ones the items. */
static uint64_t hash_result(uint64_t h, bench_an_kind kind, const bench_result *r) {
    h = fnv(h, &r->total, sizeof r->total);
    if (kind == BENCH_AN_AND || kind == BENCH_AN_FILTER) return h;
    for (size_t i = 0; i < r->n; i++) {
        const char *s = bench_result_id(r, i);
        h = fnv(h, s, strlen(s) + 1);
    }
    return h;
}

/* Runs workload kind over qs[0..n) (query i is qs[i % nq]) on an open engine;
 * fills s and prints its JSON line; writes each timed answer to dump (if not
 * NULL) as a line: the total, then the items, tab-separated. Returns 0 or -1 (message on stderr). */
static int run_workload(const bench_an_engine *e, void *h, bench_an_kind kind, const bench_queries *qs, size_t n,
                        const bench_an_params *p, FILE *dump, an_stats *s) {
    char err[1024] = "";
    bench_result res;
    memset(&res, 0, sizeof res);
    uint64_t *lat = malloc((n ? n : 1) * sizeof *lat);
    if (!lat) {
        fputs("trawl-bench: out of memory\n", stderr);
        return -1;
    }
    int rc = 0;
    size_t warm = n < AN_WARMUP ? n : AN_WARMUP;
    for (size_t i = 0; i < warm && rc == 0; i++) {
        bench_result_reset(&res);
        rc = e->run(h, kind, &qs->q[i % qs->n], p, &res, err, sizeof err);
    }
    uint64_t total = 0, hash = 1469598103934665603u;
    for (size_t i = 0; i < n && rc == 0; i++) {
        bench_result_reset(&res);
        uint64_t t0 = bench_now_ns();
        rc = e->run(h, kind, &qs->q[i % qs->n], p, &res, err, sizeof err);
        lat[i] = bench_now_ns() - t0;
        total += res.total;
        hash = hash_result(hash, kind, &res);
        if (dump && rc == 0) {
            fprintf(dump, "%llu", (unsigned long long)res.total);
            for (size_t j = 0; j < res.n; j++) fprintf(dump, "\t%s", bench_result_id(&res, j));
            fputc('\n', dump);
        }
    }
    if (rc != 0) {
        fprintf(stderr, "trawl-bench: %s %s: %s\n", e->name, bench_an_kind_name(kind), err);
    } else {
        bench_latency l;
        bench_latency_summary(lat, n, &l);
        s->done = 1;
        s->queries = n;
        s->total_hits = total;
        s->hash = hash;
        s->p50_us = l.p50_us;
        s->p99_us = l.p99_us;
        s->mean_us = l.mean_us;
        printf("{\"engine\":\"%s\",\"workload\":\"%s\",\"queries\":%zu,\"p50_us\":%.1f,\"p99_us\":%.1f,"
               "\"mean_us\":%.1f,\"total_hits\":%llu,\"hash\":\"%016llx\"}\n",
               e->name, bench_an_kind_name(kind), n, s->p50_us, s->p99_us, s->mean_us, (unsigned long long)total,
               (unsigned long long)hash);
        fflush(stdout);
    }
    bench_result_free(&res);
    free(lat);
    return rc;
}

/* Reads a size_t from environment variable name (default dflt). Returns -1 when malformed. */
static int env_size(const char *name, size_t dflt, size_t *out) {
    const char *s = getenv(name);
    *out = dflt;
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || s[0] == '-') {
        fprintf(stderr, "trawl-bench: bad %s=%s\n", name, s);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* Parses "FROM..TO" (dates) into an inclusive [lo, hi] in epoch seconds: TO
 * covers its whole day. Returns 0 or -1. */
static int parse_range(const char *s, int64_t *lo, int64_t *hi) {
    const char *dots = strstr(s, "..");
    if (!dots) return -1;
    char a[64], b[64];
    size_t la = (size_t)(dots - s), lb = strlen(dots + 2);
    if (la >= sizeof a || lb >= sizeof b) return -1;
    memcpy(a, s, la);
    a[la] = '\0';
    memcpy(b, dots + 2, lb + 1);
    if (bench_parse_date(a, lo) != 0 || bench_parse_date(b, hi) != 0) return -1;
    if (strlen(b) == 10) *hi += 86399;
    return *lo <= *hi ? 0 : -1;
}

/* One table cell pair "p50 / p99" of s, or "—". */
static void cell(const an_stats *s) {
    if (!s->done)
        fputs(" | —", stdout);
    else
        printf(" | %.1f / %.1f", s->p50_us, s->p99_us);
}

static void print_table(const char *corpus, uint64_t docs, const bench_an_params *p, const char *range,
                        const an_engine *st, size_t n) {
    const an_engine *tr = NULL;
    for (size_t i = 0; i < n; i++)
        if (st[i].e == bench_an_trawl() && st[i].e) tr = &st[i];
    printf("\n### analytics — %s, %llu docs; K = %zu, facets top %zu, filter %s\n\n", corpus, (unsigned long long)docs,
           p->k, p->facet_n, range);
    printf("| workload (µs p50 / p99)");
    for (size_t i = 0; i < n; i++) printf(" | %s %s", st[i].e->name, st[i].e->version());
    if (tr)
        for (size_t i = 0; i < n; i++)
            if (&st[i] != tr) printf(" | %s ÷ trawl", st[i].e->name);
    printf(" |\n|---");
    for (size_t i = 0; i < n; i++) printf("|---:");
    if (tr)
        for (size_t i = 0; i + 1 < n; i++) printf("|---:");
    printf("|\n");
    for (int k = 0; k < BENCH_AN_NKINDS; k++) {
        printf("| %s", bench_an_kind_name((bench_an_kind)k));
        for (size_t i = 0; i < n; i++) cell(&st[i].w[k]);
        if (tr) {
            for (size_t i = 0; i < n; i++) {
                if (&st[i] == tr) continue;
                const an_stats *a = &st[i].w[k], *t = &tr->w[k];
                if (a->done && t->done && t->p50_us > 0 && t->p99_us > 0)
                    printf(" | %.1f× / %.1f×", a->p50_us / t->p50_us, a->p99_us / t->p99_us);
                else
                    fputs(" | —", stdout);
            }
        }
        fputs(" |\n", stdout);
    }
    printf("| filter cost (p50 and+filter ÷ and)");
    for (size_t i = 0; i < n; i++) {
        const an_stats *a = &st[i].w[BENCH_AN_AND], *f = &st[i].w[BENCH_AN_FILTER];
        if (a->done && f->done && a->p50_us > 0)
            printf(" | %.2f", f->p50_us / a->p50_us);
        else
            fputs(" | —", stdout);
    }
    if (tr)
        for (size_t i = 0; i + 1 < n; i++) fputs(" | ", stdout);
    printf(" |\n| answers agree with %s", st[0].e->name);
    for (size_t i = 0; i < n; i++) {
        int ok = 1;
        for (int k = 0; k < BENCH_AN_NKINDS; k++)
            if (st[i].w[k].done && st[0].w[k].done && st[i].w[k].hash != st[0].w[k].hash) ok = 0;
        fputs(ok ? " | yes" : " | NO", stdout);
    }
    if (tr)
        for (size_t i = 0; i + 1 < n; i++) fputs(" | ", stdout);
    printf(" |\n\nRatios are peer ÷ trawl (above 1: trawl that many times faster). ");
    printf("Index: seconds / MiB —");
    for (size_t i = 0; i < n; i++)
        printf(" %s %.1f s / %.1f MiB%s", st[i].e->name, st[i].index_seconds, (double)st[i].index_bytes / 1048576.0,
               i + 1 < n ? ";" : ".\n");
}

int bench_cmd_analytics(int argc, char **argv) {
    if (argc != 2) {
        fputs("usage: trawl-bench analytics CORPUS.jsonl QUERY_DIR\n", stderr);
        return 2;
    }
    const char *corpus = argv[0], *qdir = argv[1];
    bench_an_params p;
    size_t nand, rounds;
    memset(&p, 0, sizeof p);
    if (env_size("BENCH_K", 10, &p.k) || env_size("BENCH_FACET_N", 10, &p.facet_n) ||
        env_size("BENCH_AN_AND", 300, &nand) || env_size("BENCH_AN_ROUNDS", 3, &rounds))
        return 2;
    const char *range = getenv("BENCH_AN_RANGE");
    if (!range || !*range) range = "2022-01-01..2023-12-31";
    if (parse_range(range, &p.lo, &p.hi) != 0) {
        fprintf(stderr, "trawl-bench: bad BENCH_AN_RANGE %s (want YYYY-MM-DD..YYYY-MM-DD)\n", range);
        return 2;
    }

    an_engine st[AN_MAX_ENGINES];
    memset(st, 0, sizeof st);
    size_t n = 0;
    const char *list = getenv("BENCH_ENGINES");
    char names[256];
    snprintf(names, sizeof names, "%s", list && *list ? list : "trawl,xapian,fts5");
    for (char *save = NULL, *tok = strtok_r(names, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const bench_an_engine *e = an_find(tok);
        if (!e) {
            fprintf(stderr, "trawl-bench: note: analytics for %s not available (not compiled in%s); skipped\n", tok,
                    strcmp(tok, "trawl") == 0 ? ", or the library lacks the issue-8 API" : "");
            continue;
        }
        for (size_t i = 0; i < n; i++)
            if (st[i].e == e) e = NULL;
        if (e && n < AN_MAX_ENGINES) st[n++].e = e;
    }
    if (n == 0) {
        fputs("trawl-bench: no engine to run\n", stderr);
        return 1;
    }

    bench_queries half, andq;
    memset(&half, 0, sizeof half);
    memset(&andq, 0, sizeof andq);
    char err[1024], path[4096];
    int rc = 1;
    snprintf(path, sizeof path, "%s/half.txt", qdir);
    if (bench_queries_load(path, &half, err, sizeof err) != 0) goto fail_msg;
    snprintf(path, sizeof path, "%s/and.txt", qdir);
    if (bench_queries_load(path, &andq, err, sizeof err) != 0) goto fail_msg;
    if (half.n == 0 || andq.n == 0) {
        fprintf(stderr, "trawl-bench: %s: half.txt and and.txt must hold queries (run genq)\n", qdir);
        goto out;
    }
    size_t nhalf = half.n * (rounds ? rounds : 1);
    if (nand > andq.n) nand = andq.n;

    char workdir[4096];
    int made = 0;
    if (bench_workdir(workdir, sizeof workdir, &made) != 0) goto out;
    const char *keep = getenv("BENCH_KEEP"), *reuse = getenv("BENCH_REUSE");
    int keep_ix = keep && strcmp(keep, "1") == 0, reuse_ix = reuse && strcmp(reuse, "1") == 0;
    printf("{\"corpus\":");
    bench_json_str(stdout, corpus);
    printf(",\"half_queries\":%zu,\"and_queries\":%zu,\"k\":%zu,\"facet_n\":%zu,\"range\":", half.n, nand, p.k,
           p.facet_n);
    bench_json_str(stdout, range);
    printf("}\n");
    fflush(stdout);

    uint64_t docs = 0;
    int disagree = 0;
    for (size_t i = 0; i < n; i++) {
        const bench_an_engine *e = st[i].e;
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", workdir, e->name);
        struct stat sb;
        if (!(reuse_ix && stat(dir, &sb) == 0)) {
            bench_rmtree(dir);
            uint64_t t0 = bench_now_ns();
            if (e->build(corpus, dir, &st[i].docs, err, sizeof err) != 0) {
                fprintf(stderr, "trawl-bench: %s build: %s\n", e->name, err);
                goto out;
            }
            st[i].index_seconds = (double)(bench_now_ns() - t0) / 1e9;
            st[i].built = 1;
            docs = st[i].docs;
        }
        st[i].index_bytes = bench_path_bytes(dir);
        printf("{\"engine\":\"%s\",\"version\":\"%s\",\"docs\":%llu,\"index_seconds\":%.3f,\"index_bytes\":%llu}\n",
               e->name, e->version(), (unsigned long long)st[i].docs, st[i].index_seconds,
               (unsigned long long)st[i].index_bytes);
        fflush(stdout);
        void *h = NULL;
        if (e->open(dir, &h, err, sizeof err) != 0) {
            fprintf(stderr, "trawl-bench: %s\n", err);
            goto out;
        }
        int r = 0;
        for (int k = 0; k < BENCH_AN_NKINDS && r == 0; k++) {
            int on_half = k == BENCH_AN_HIST || k == BENCH_AN_FACET;
            FILE *dump = NULL;
            const char *dp = getenv("DUMP");
            if (dp && *dp) {
                char dpath[4200];
                snprintf(dpath, sizeof dpath, "%s.%s.%s", dp, e->name, bench_an_kind_name((bench_an_kind)k));
                if (!(dump = fopen(dpath, "w"))) {
                    fprintf(stderr, "trawl-bench: %s: %s\n", dpath, strerror(errno));
                    r = -1;
                    break;
                }
            }
            r = run_workload(e, h, (bench_an_kind)k, on_half ? &half : &andq, on_half ? nhalf : nand, &p, dump,
                             &st[i].w[k]);
            if (dump && fclose(dump) != 0) r = -1;
            if (r == 0 && i > 0 && st[0].w[k].done && st[i].w[k].hash != st[0].w[k].hash && ++disagree)
                fprintf(stderr, "trawl-bench: %s %s: answers differ from %s's\n", e->name,
                        bench_an_kind_name((bench_an_kind)k), st[0].e->name);
        }
        e->close(h);
        if (!keep_ix && !reuse_ix) bench_rmtree(dir);
        if (r != 0) goto out;
    }
    if (made && !keep_ix && !reuse_ix) rmdir(workdir);
    print_table(corpus, docs, &p, range, st, n);
    rc = disagree ? 1 : 0;
    goto out;
fail_msg:
    fprintf(stderr, "trawl-bench: %s\n", err);
out:
    bench_queries_free(&half);
    bench_queries_free(&andq);
    return rc;
}
