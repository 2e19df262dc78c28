/*
 * main.c — trawl-bench: the benchmark harness's command line, timing and report.
 *
 *   trawl-bench gen [--dated] N OUT.jsonl [SEED]  synthetic corpus (gen.c)
 *   trawl-bench topics                          the bursts planted by gen --dated
 *   trawl-bench genq CORPUS.jsonl|SEED OUT_DIR [N]   and/or/phrase.txt (gen.c)
 *   trawl-bench index [--engine E] CORPUS.jsonl INDEX_DIR
 *   trawl-bench query [--engine E] INDEX_DIR QUERIES.txt CLASS K
 *   trawl-bench compare CORPUS.jsonl QUERY_DIR
 *   trawl-bench kernels [SHAPE]                 kernel micro-benchmark (kernels_bench.c)
 *   trawl-bench relevance [SETS_DIR [SET...]]   ranking quality (relevance.c)
 *   trawl-bench analytics CORPUS.jsonl QUERY_DIR  issue-8 workloads side by side (analytics.c)
 *   trawl-bench reopen CORPUS.jsonl [ROUNDS [DOCS]]  open vs reopen of a live index (reopen.c)
 *
 * E is trawl (default), fts5 (alias sqlite) or xapian. Figures go to stdout as
 * one JSON object a line; compare ends with a Markdown table of trawl's ratio
 * to each peer. Errors go to stderr with exit status 1 (2 for usage).
 *
 * Query timing: the queries of a file are run once in order, untimed, for the
 * first min(100, n) of them (warm-up: page cache, lazily loaded structures),
 * then every query is timed on its own with CLOCK_MONOTONIC around the adapter
 * call: building the engine's query from the words, searching, reading the
 * exact total and copying out the top-K ids. Percentiles are nearest-rank over
 * the sorted latencies. With env DUMP=FILE, `query` writes one line per query:
 * the top-K ids separated by tabs (class count: the count); `compare` writes
 * FILE.ENGINE.CLASS files the same way (FILE.ENGINE-default.CLASS for a
 * peer's default mode).
 *
 * compare runs each peer twice on the same index (bench.h, bench_mode): exact
 * (made to return the exact total, as trawl does) and default (as its users
 * run it by default, with an estimated or no total); the table has a column
 * and a ratio for each.
 *
 * compare environment: BENCH_K (top K, default 10), BENCH_ENGINES (comma list,
 * default every engine compiled in), BENCH_WORKDIR (where indexes are built,
 * default a new /tmp/trawl-bench.XXXXXX), BENCH_KEEP=1 (keep the indexes).
 */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define WARMUP_QUERIES 100
#define MAX_ENGINES 5 /* trawl, and each peer in its two modes */

const bench_engine *bench_engine_find(const char *name) {
    if (strcmp(name, "trawl") == 0) return bench_engine_trawl();
    if (strcmp(name, "fts5") == 0 || strcmp(name, "sqlite") == 0) return bench_engine_fts5();
    if (strcmp(name, "xapian") == 0) return bench_engine_xapian();
    return NULL;
}

/* Figures of one engine on one class. */
typedef struct class_stats {
    int done;
    size_t queries;
    double p50_us, p90_us, p99_us, mean_us;
    uint64_t total_hits;
} class_stats;

/* Figures of one engine in one mode. */
typedef struct engine_stats {
    const bench_engine *e;
    bench_mode mode;
    int built;
    uint64_t docs, index_bytes;
    double index_seconds;
    class_stats cls[BENCH_NCLASSES];
} engine_stats;

static void usage(void) {
    fputs("usage: trawl-bench gen [--dated] N OUT.jsonl [SEED]\n"
          "       trawl-bench topics\n"
          "       trawl-bench genq CORPUS.jsonl|SEED OUT_DIR [N]\n"
          "       trawl-bench index [--engine trawl|fts5|xapian] CORPUS.jsonl INDEX_DIR\n"
          "       trawl-bench query [--engine trawl|fts5|xapian] INDEX_DIR QUERIES.txt and|or|phrase|count K\n"
          "       trawl-bench compare CORPUS.jsonl QUERY_DIR\n"
          "       trawl-bench kernels [sparse|dense|skewed|runs]\n"
          "       trawl-bench relevance [SETS_DIR [SET...]]\n"
          "       trawl-bench analytics CORPUS.jsonl QUERY_DIR\n"
          "       trawl-bench reopen CORPUS.jsonl [ROUNDS [DOCS]]\n"
          "       trawl-bench fixedcost INDEX_DIR WORDS.txt... [--rounds N] [--only FIGURE]\n",
          stderr);
}

/* Removes a leading or embedded "--engine NAME" / "--engine=NAME" from argv and
 * returns the engine name ("trawl" when absent, $BENCH_ENGINE if set); *argc is
 * updated. Returns NULL when --engine lacks its value. */
static const char *take_engine_opt(int *argc, char **argv) {
    const char *name = getenv("BENCH_ENGINE") ? getenv("BENCH_ENGINE") : "trawl";
    int out = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--engine") == 0 || strcmp(argv[i], "-e") == 0) {
            if (i + 1 >= *argc) return NULL;
            name = argv[++i];
        } else if (strncmp(argv[i], "--engine=", 9) == 0) {
            name = argv[i] + 9;
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    return name;
}

static const bench_engine *engine_or_die(const char *name) {
    const bench_engine *e = bench_engine_find(name);
    if (!e) fprintf(stderr, "trawl-bench: engine %s is unknown or was not compiled in\n", name);
    return e;
}

/* Is dir absent or an empty directory? */
static int dir_is_fresh(const char *dir) {
    struct stat st;
    if (stat(dir, &st) != 0) return errno == ENOENT;
    if (!S_ISDIR(st.st_mode)) return 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int empty = 1;
    struct dirent *e;
    while (empty && (e = readdir(d)) != NULL) empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* Creates the parent directories of path (like mkdir -p `dirname path`).
 * Returns 0 or -1 with errno set. */
static int make_parents(const char *path) {
    char buf[4096];
    size_t len = strlen(path);
    if (len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    while (len > 0 && buf[len - 1] == '/') buf[--len] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) return 0;
    *slash = '\0';
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* Builds e's index of corpus in dir and fills s. Prints the JSON line. */
static int do_index(const bench_engine *e, const char *corpus, const char *dir, engine_stats *s) {
    char err[1024] = "";
    if (!dir_is_fresh(dir)) {
        fprintf(stderr, "trawl-bench: %s exists and is not empty; give a new directory\n", dir);
        return -1;
    }
    if (make_parents(dir) != 0) {
        fprintf(stderr, "trawl-bench: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    uint64_t t0 = bench_now_ns();
    if (e->build(corpus, dir, &s->docs, err, sizeof err) != 0) {
        fprintf(stderr, "trawl-bench: %s index: %s\n", e->name, err);
        return -1;
    }
    s->index_seconds = (double)(bench_now_ns() - t0) / 1e9;
    s->index_bytes = bench_path_bytes(dir);
    s->built = 1;
    printf("{\"engine\":\"%s\",\"docs\":%llu,\"index_seconds\":%.3f,\"index_bytes\":%llu}\n", e->name,
           (unsigned long long)s->docs, s->index_seconds, (unsigned long long)s->index_bytes);
    fflush(stdout);
    return 0;
}

/* Writes one DUMP line for res. */
static void dump_line(FILE *f, bench_class cls, const bench_result *res) {
    if (cls == BENCH_COUNT) {
        fprintf(f, "%llu\n", (unsigned long long)res->total);
        return;
    }
    for (size_t i = 0; i < res->n; i++) fprintf(f, "%s%s", i ? "\t" : "", bench_result_id(res, i));
    fputc('\n', f);
}

/* Runs every query of qs of class cls through an open engine (in mode, for
 * the JSON line): warm-up, then each one timed. Fills s, prints the JSON line,
 * writes dump lines to dump (if not NULL). Returns 0 or -1 (a query failed;
 * message on stderr). */
static int run_class(const bench_engine *e, void *h, bench_mode mode, bench_class cls, const bench_queries *qs,
                     size_t k, FILE *dump, class_stats *s) {
    char err[1024] = "";
    bench_result res;
    memset(&res, 0, sizeof res);
    uint64_t *lat = malloc((qs->n ? qs->n : 1) * sizeof *lat);
    if (!lat) {
        fputs("trawl-bench: out of memory\n", stderr);
        return -1;
    }
    int rc = 0;
    size_t warm = qs->n < WARMUP_QUERIES ? qs->n : WARMUP_QUERIES;
    for (size_t i = 0; i < warm && rc == 0; i++) {
        bench_result_reset(&res);
        rc = e->run(h, cls, &qs->q[i], k, &res, err, sizeof err);
    }
    uint64_t total = 0;
    for (size_t i = 0; i < qs->n && rc == 0; i++) {
        bench_result_reset(&res);
        uint64_t t0 = bench_now_ns();
        rc = e->run(h, cls, &qs->q[i], k, &res, err, sizeof err);
        uint64_t t1 = bench_now_ns();
        lat[i] = t1 - t0;
        total += res.total;
        if (dump && rc == 0) dump_line(dump, cls, &res);
    }
    if (rc != 0) {
        fprintf(stderr, "trawl-bench: %s %s: %s\n", e->name, bench_class_name(cls), err);
    } else {
        bench_latency l;
        bench_latency_summary(lat, qs->n, &l);
        s->done = 1;
        s->queries = qs->n;
        s->total_hits = total;
        s->p50_us = l.p50_us;
        s->p90_us = l.p90_us;
        s->p99_us = l.p99_us;
        s->mean_us = l.mean_us;
        printf("{\"engine\":\"%s\",\"mode\":\"%s\",\"class\":\"%s\",\"queries\":%zu,\"p50_us\":%.1f,"
               "\"p90_us\":%.1f,\"p99_us\":%.1f,\"mean_us\":%.1f,\"total_hits\":%llu}\n",
               e->name, mode == BENCH_DEFAULT ? "default" : "exact", bench_class_name(cls), s->queries, s->p50_us,
               s->p90_us, s->p99_us, s->mean_us, (unsigned long long)s->total_hits);
        fflush(stdout);
    }
    bench_result_free(&res);
    free(lat);
    return rc;
}

/* index [--engine E] CORPUS INDEX_DIR: one JSON line; exit status 0, 1 or 2 (usage). */
static int cmd_index(int argc, char **argv) {
    const char *name = take_engine_opt(&argc, argv);
    if (!name || argc != 2) {
        usage();
        return 2;
    }
    const bench_engine *e = engine_or_die(name);
    if (!e) return 1;
    engine_stats s;
    memset(&s, 0, sizeof s);
    return do_index(e, argv[0], argv[1], &s) == 0 ? 0 : 1;
}

/* Parses a K or N argument: a decimal number in [lo, hi]. */
static int parse_size(const char *s, size_t lo, size_t hi, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi || s[0] == '-') return -1;
    *out = (size_t)v;
    return 0;
}

/* query [--engine E] INDEX_DIR QUERIES CLASS K: one JSON line (and DUMP);
 * exit status 0, 1 or 2 (usage). */
static int cmd_query(int argc, char **argv) {
    const char *name = take_engine_opt(&argc, argv);
    size_t k;
    int cls;
    if (!name || argc != 4 || (cls = bench_class_parse(argv[2])) < 0 || parse_size(argv[3], 0, 1000000, &k) != 0) {
        usage();
        return 2;
    }
    const bench_engine *e = engine_or_die(name);
    if (!e) return 1;
    char err[1024] = "";
    bench_queries qs;
    if (bench_queries_load(argv[1], &qs, err, sizeof err) != 0) {
        fprintf(stderr, "trawl-bench: %s\n", err);
        return 1;
    }
    void *h = NULL;
    if (e->open(argv[0], &h, err, sizeof err) != 0) {
        fprintf(stderr, "trawl-bench: %s\n", err);
        bench_queries_free(&qs);
        return 1;
    }
    FILE *dump = NULL;
    const char *dump_path = getenv("DUMP");
    if (dump_path && *dump_path && !(dump = fopen(dump_path, "w"))) {
        fprintf(stderr, "trawl-bench: %s: %s\n", dump_path, strerror(errno));
        e->close(h);
        bench_queries_free(&qs);
        return 1;
    }
    class_stats s;
    memset(&s, 0, sizeof s);
    int rc = run_class(e, h, BENCH_EXACT, (bench_class)cls, &qs, k, dump, &s);
    if (dump && fclose(dump) != 0) rc = -1;
    e->close(h);
    bench_queries_free(&qs);
    return rc == 0 ? 0 : 1;
}

/* ---- compare ------------------------------------------------------------ */

/* Counts the non-empty lines of path; -1 on error. */
static long long count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char buf[1 << 16];
    long long n = 0;
    int last = '\n';
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        for (size_t i = 0; i < got; i++) {
            if (buf[i] == '\n' && last != '\n') n++;
            last = (unsigned char)buf[i];
        }
    }
    if (last != '\n') n++;
    fclose(f);
    return n;
}

/* The first "model name" of /proc/cpuinfo into buf ("unknown" if none). */
static void cpu_model(char *buf, size_t cap) {
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ' || *p == '\t') p++;
                p[strcspn(p, "\n")] = '\0';
                snprintf(buf, cap, "%s", p);
            }
            break;
        }
    }
    fclose(f);
}

/* Appends a table cell "| v" formatted with fmt, or "| —" when !ok. */
static void cell(int ok, const char *fmt, double v) {
    if (!ok) {
        fputs(" | —", stdout);
        return;
    }
    fputs(" | ", stdout);
    printf(fmt, v);
}

/* Prints one row: figure name, then per engine the value and (for peers) the
 * ratio peer/trawl. get returns non-zero when the engine has the figure. */
typedef int (*figure_fn)(const engine_stats *s, int cls, double *v);

static void table_row(const char *label, const char *fmt, figure_fn get, int cls, const engine_stats *st, size_t n,
                      int ratio) {
    printf("| %s", label);
    double tv = 0;
    int tok = 0;
    for (size_t i = 0; i < n; i++)
        if (st[i].e == bench_engine_trawl()) tok = get(&st[i], cls, &tv);
    for (size_t i = 0; i < n; i++) {
        double v = 0;
        int ok = get(&st[i], cls, &v);
        cell(ok, fmt, v);
        if (st[i].e == bench_engine_trawl()) continue;
        if (ratio && ok && tok && tv > 0)
            printf(" | %.2f×", v / tv);
        else
            fputs(" | —", stdout);
    }
    fputs(" |\n", stdout);
}

static int fig_index_s(const engine_stats *s, int c, double *v) {
    *v = s->index_seconds;
    return s->built;
}
static int fig_index_mib(const engine_stats *s, int c, double *v) {
    *v = (double)s->index_bytes / 1048576.0;
    return s->built;
}
static int fig_p50(const engine_stats *s, int c, double *v) {
    *v = s->cls[c].p50_us;
    return s->cls[c].done;
}
static int fig_p90(const engine_stats *s, int c, double *v) {
    *v = s->cls[c].p90_us;
    return s->cls[c].done;
}
static int fig_p99(const engine_stats *s, int c, double *v) {
    *v = s->cls[c].p99_us;
    return s->cls[c].done;
}
static int fig_mean(const engine_stats *s, int c, double *v) {
    *v = s->cls[c].mean_us;
    return s->cls[c].done;
}
static int fig_hits(const engine_stats *s, int c, double *v) {
    *v = (double)s->cls[c].total_hits;
    return s->cls[c].done;
}

/* The Markdown table of every figure of st[0..n), with each peer's ratio to trawl. */
static void print_table(const char *corpus, long long docs, uint64_t bytes, size_t k, const char *date,
                        const char *machine, const char *cpu, const engine_stats *st, size_t n) {
    printf("\n### %s — %lld docs, %.1f MiB; K = %zu\n\n", corpus, docs, (double)bytes / 1048576.0, k);
    printf("%s; %s; %s\n\n", date, machine, cpu);
    printf("| figure");
    for (size_t i = 0; i < n; i++) {
        const char *m = st[i].e == bench_engine_trawl() ? "" : st[i].mode == BENCH_DEFAULT ? " (default)" : " (exact)";
        printf(" | %s %s%s", st[i].e->name, st[i].e->version(), m);
        if (st[i].e != bench_engine_trawl()) printf(" | %s%s ÷ trawl", st[i].e->name, m);
    }
    printf(" |\n|---");
    for (size_t i = 0; i < n; i++) printf(st[i].e == bench_engine_trawl() ? "|---:" : "|---:|---:");
    printf("|\n");
    table_row("index time (s)", "%.2f", fig_index_s, 0, st, n, 1);
    table_row("index size (MiB)", "%.1f", fig_index_mib, 0, st, n, 1);
    static const char *const what[4] = {"p50", "p90", "p99", "mean"};
    static const figure_fn fn[4] = {fig_p50, fig_p90, fig_p99, fig_mean};
    for (int c = 0; c < BENCH_NCLASSES; c++) {
        for (int j = 0; j < 4; j++) {
            char label[64];
            snprintf(label, sizeof label, "%s %s (µs)", bench_class_name((bench_class)c), what[j]);
            table_row(label, "%.1f", fn[j], c, st, n, 1);
        }
        char label[64];
        snprintf(label, sizeof label, "%s total hits", bench_class_name((bench_class)c));
        table_row(label, "%.0f", fig_hits, c, st, n, 0);
    }
    printf("\nRatios are peer ÷ trawl: above 1 means trawl is that many times faster (or smaller).\n");
}

/* Runs every class of qs[] on an open engine in slot s's mode, into s; with
 * dump_prefix, writes PREFIX.ENGINE[-default].CLASS answer files. 0 or -1. */
static int run_classes(const bench_engine *e, void *h, engine_stats *s, const bench_queries *qs, size_t k,
                       const char *dump_prefix) {
    for (int c = 0; c < BENCH_NCLASSES; c++) {
        FILE *dump = NULL;
        if (dump_prefix && *dump_prefix) {
            char dp[4200];
            snprintf(dp, sizeof dp, "%s.%s%s.%s", dump_prefix, e->name, s->mode == BENCH_DEFAULT ? "-default" : "",
                     bench_class_name((bench_class)c));
            if (!(dump = fopen(dp, "w"))) {
                fprintf(stderr, "trawl-bench: %s: %s\n", dp, strerror(errno));
                return -1;
            }
        }
        int r = run_class(e, h, s->mode, (bench_class)c, &qs[c], k, dump, &s->cls[c]);
        if (dump) fclose(dump);
        if (r != 0) return -1;
    }
    return 0;
}

/* compare CORPUS QUERY_DIR: for each engine, build, run every class, drop the
 * index; then the Markdown table. Exit status 0, 1 or 2 (usage). */
static int cmd_compare(int argc, char **argv) {
    if (argc != 2) {
        usage();
        return 2;
    }
    const char *corpus = argv[0], *qdir = argv[1];
    size_t k = 10;
    const char *ks = getenv("BENCH_K");
    if (ks && parse_size(ks, 0, 1000000, &k) != 0) {
        fprintf(stderr, "trawl-bench: bad BENCH_K %s\n", ks);
        return 2;
    }

    engine_stats st[MAX_ENGINES];
    memset(st, 0, sizeof st);
    size_t n = 0;
    const char *list = getenv("BENCH_ENGINES");
    char names[256];
    snprintf(names, sizeof names, "%s", list && *list ? list : "trawl,fts5,xapian");
    for (char *save = NULL, *tok = strtok_r(names, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const bench_engine *e = bench_engine_find(tok);
        if (!e) {
            if (list && *list) {
                fprintf(stderr, "trawl-bench: engine %s is unknown or was not compiled in\n", tok);
                return 1;
            }
            fprintf(stderr, "trawl-bench: note: engine %s not compiled in; skipped\n", tok);
            continue;
        }
        for (size_t i = 0; i < n; i++)
            if (st[i].e == e) e = NULL;
        if (!e || n + 2 > MAX_ENGINES) continue;
        st[n++].e = e; /* BENCH_EXACT; then, for a peer, its default mode on the same index */
        if (e->set_mode) st[n].e = e, st[n++].mode = BENCH_DEFAULT;
    }
    if (n == 0) {
        fputs("trawl-bench: no engine to run\n", stderr);
        return 1;
    }

    /* The query sets: and.txt serves both `and` and `count`. */
    static const char *const qfile[BENCH_NCLASSES] = {"and.txt", "or.txt", "phrase.txt", "and.txt"};
    bench_queries qs[BENCH_NCLASSES];
    memset(qs, 0, sizeof qs);
    char err[1024], path[4096];
    int rc = 1;
    for (int c = 0; c < BENCH_NCLASSES; c++) {
        snprintf(path, sizeof path, "%s/%s", qdir, qfile[c]);
        if (bench_queries_load(path, &qs[c], err, sizeof err) != 0) {
            fprintf(stderr, "trawl-bench: %s\n", err);
            goto out;
        }
    }

    long long docs = count_lines(corpus);
    if (docs < 0) {
        fprintf(stderr, "trawl-bench: %s: %s\n", corpus, strerror(errno));
        goto out;
    }
    uint64_t cbytes = bench_path_bytes(corpus);
    char date[64], machine[512], cpu[256];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(machine, sizeof machine, "%s %s %s", u.sysname, u.release, u.machine);
    else
        snprintf(machine, sizeof machine, "unknown");
    cpu_model(cpu, sizeof cpu);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("{\"corpus\":");
    bench_json_str(stdout, corpus);
    printf(",\"corpus_docs\":%lld,\"corpus_bytes\":%llu,\"k\":%zu,\"date\":\"%s\",\"machine\":", docs,
           (unsigned long long)cbytes, k, date);
    bench_json_str(stdout, machine);
    printf(",\"cpu\":");
    bench_json_str(stdout, cpu);
    printf(",\"cores\":%ld", cores);
    for (size_t i = 0; i < n; i++)
        if (st[i].mode == BENCH_EXACT) printf(",\"%s_version\":\"%s\"", st[i].e->name, st[i].e->version());
    printf("}\n");
    fflush(stdout);

    char workdir[4096];
    int made_workdir = 0;
    if (bench_workdir(workdir, sizeof workdir, &made_workdir) != 0) goto out;
    const char *keep = getenv("BENCH_KEEP");
    int keep_indexes = keep && strcmp(keep, "1") == 0;
    const char *dump_prefix = getenv("DUMP");

    for (size_t i = 0; i < n; i++) {
        const bench_engine *e = st[i].e;
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", workdir, e->name);
        bench_rmtree(dir);
        if (do_index(e, corpus, dir, &st[i]) != 0) goto out;
        void *h = NULL;
        if (e->open(dir, &h, err, sizeof err) != 0) {
            fprintf(stderr, "trawl-bench: %s\n", err);
            goto out;
        }
        int r = run_classes(e, h, &st[i], qs, k, dump_prefix);
        if (r == 0 && i + 1 < n && st[i + 1].e == e) { /* the peer's default mode: same index and handle */
            i++;
            e->set_mode(h, st[i].mode);
            r = run_classes(e, h, &st[i], qs, k, dump_prefix);
        }
        e->close(h);
        if (r != 0) goto out;
        if (!keep_indexes) bench_rmtree(dir);
    }
    if (made_workdir && !keep_indexes) rmdir(workdir);
    print_table(corpus, docs, cbytes, k, date, machine, cpu, st, n);
    rc = 0;
out:
    for (int c = 0; c < BENCH_NCLASSES; c++) bench_queries_free(&qs[c]);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage();
        return 2;
    }
    const char *cmd = argv[1];
    argc -= 2;
    argv += 2;
    if (strcmp(cmd, "gen") == 0) return bench_cmd_gen(argc, argv);
    if (strcmp(cmd, "genq") == 0) return bench_cmd_genq(argc, argv);
    if (strcmp(cmd, "topics") == 0) return bench_cmd_topics(argc, argv);
    if (strcmp(cmd, "index") == 0) return cmd_index(argc, argv);
    if (strcmp(cmd, "query") == 0) return cmd_query(argc, argv);
    if (strcmp(cmd, "compare") == 0) return cmd_compare(argc, argv);
    if (strcmp(cmd, "kernels") == 0) return bench_cmd_kernels(argc, argv);
    if (strcmp(cmd, "relevance") == 0) return bench_cmd_relevance(argc, argv);
    if (strcmp(cmd, "analytics") == 0) return bench_cmd_analytics(argc, argv);
    if (strcmp(cmd, "reopen") == 0) return bench_cmd_reopen(argc, argv);
    if (strcmp(cmd, "fixedcost") == 0) return bench_cmd_fixedcost(argc, argv);
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage();
        return 0;
    }
    usage();
    return 2;
}
