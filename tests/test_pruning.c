/*
 * test_pruning.c — the fast executors (SIMD conjunctions, block-max pruning,
 * MaxScore, two-phase phrases, bitmap counts) against exhaustive scoring.
 *
 * Oracle: the same query with trawl_options_set_exhaustive, which scores every
 * match through the generic cursor tree with no pruning. Both must return the
 * same total and the very same hits — ids, order and bit-identical scores —
 * on a corpus built for ties: a tiny vocabulary, short fields and many
 * duplicate documents, over several segments with replaced documents.
 * Queries run with AND, OR and auto as the default operator, each with BM25
 * (per-field sum) or BM25F ranking, with or without the term-proximity bonus
 * (random weight and window): block-max bounds, plus the bonus's bounds,
 * must hold for all four.
 * Every dispatch level of the kernels is exercised by re-opening the index
 * with trawl_open_options_set_simd scalar, sse4.1, avx2 and avx512.
 * Documents carry a date (most of them; the default schema makes it a date
 * field), and every third query has a date filter (a range, an open range
 * or a negated one; in the query text or as the filter parameter), checked
 * in turn as the cost rule chooses, per candidate and by column scan
 * (segfilter.h): filtered conjunctions and phrases take the fast paths too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "segfilter.h"
#include "trawl.h"

static const char *const vocab[] = {"alpha", "beta",  "gamma",  "delta",   "epsilon", "zeta", "eta",     "theta",
                                    "iota",  "kappa", "lambda", "mu",      "nu",      "xi",   "omicron", "pi",
                                    "rho",   "sigma", "tau",    "upsilon", "phi",     "chi",  "psi",     "omega"};
#define NV (sizeof vocab / sizeof vocab[0])

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* Skewed word choice: low indexes are common. */
static const char *word(void) {
    uint32_t a = rnd(NV), b = rnd(NV);
    return vocab[a < b ? a : b];
}

static void words(char *out, size_t cap, int n) {
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < n; i++) len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? " " : "", word());
}

/* The date of document d (from its number, so the word stream is the same
 * with and without dates): none for one in 9, else a day of 2015..2024. */
static void doc_date(int d, char *out, size_t cap) {
    unsigned h = (unsigned)d * 2654435761u;
    if (h % 9 == 0)
        out[0] = 0;
    else
        snprintf(out, cap, ",\"date\":\"%04u-%02u-%02u\"", 2015 + (h >> 8) % 10, 1 + (h >> 12) % 12,
                 1 + (h >> 16) % 28);
}

static int add_docs(trawl_writer *w, int from, int count) {
    char title[256], body[4096], line[8192], date[64];
    for (int d = from; d < from + count; d++) {
        words(title, sizeof title, 1 + (int)rnd(3));
        words(body, sizeof body, 1 + (int)rnd(40));
        doc_date(d, date, sizeof date);
        int n =
            snprintf(line, sizeof line, "{\"id\":\"d%d\",\"title\":\"%s\",\"body\":\"%s\"%s}", d, title, body, date);
        int copies = rnd(5) == 0 ? 3 : 1; /* duplicates make exact ties */
        for (int c = 0; c < copies; c++) {
            char dup[8192];
            int m = c ? snprintf(dup, sizeof dup, "{\"id\":\"d%d-%d\",\"title\":\"%s\",\"body\":\"%s\"%s}", d, c, title,
                                 body, date)
                      : snprintf(dup, sizeof dup, "%s", line);
            if (trawl_writer_add_json(w, dup, (size_t)(c ? m : n)) != TRAWL_OK) {
                fprintf(stderr, "add: %s\n", trawl_writer_errmsg(w));
                return -1;
            }
        }
    }
    return trawl_writer_commit(w) == TRAWL_OK ? 0 : -1;
}

static void make_query(char *q, size_t cap, int *use_or) {
    int kind = (int)rnd(7), n = 1 + (int)rnd(4);
    *use_or = 0;
    size_t len = 0;
    switch (kind) {
        case 0: /* one word */ snprintf(q, cap, "%s", word()); break;
        case 1: /* AND */
        case 2: /* OR */
            for (int i = 0; i < n; i++) len += (size_t)snprintf(q + len, cap - len, "%s%s", i ? " " : "", word());
            *use_or = kind == 2 ? 1 : rnd(3) == 0 ? 2 : 0; /* 2: auto */
            break;
        case 3: /* phrase, maybe in a field */
            snprintf(q, cap, "%s\"%s %s\"", rnd(3) == 0 ? "body:" : "", word(), word());
            break;
        case 4: /* AND with exclusions */ snprintf(q, cap, "%s %s -%s", word(), word(), word()); break;
        case 5: /* a field */ snprintf(q, cap, "title:%s %s", word(), word()); break;
        default: /* three-word phrase */ snprintf(q, cap, "\"%s %s %s\"", word(), word(), word()); break;
    }
}

/* Ranking r: 0 BM25, 1 BM25F, 2 BM25 + proximity, 3 BM25F + proximity
 * (the trawl_ranking values). */
static const char *mode_name(int op, int r) {
    static const char *const names[4][3] = {{"", " (or)", " (auto)"},
                                            {" (bm25f)", " (or, bm25f)", " (auto, bm25f)"},
                                            {" (bm25-prox)", " (or, bm25-prox)", " (auto, bm25-prox)"},
                                            {" (bm25f-prox)", " (or, bm25f-prox)", " (auto, bm25f-prox)"}};
    return names[r & 3][op];
}

/* Proximity parameters of the current query. */
static double prox_weight = 1.0;
static unsigned prox_window = 5;

typedef struct out {
    uint64_t total;
    size_t n;
    char ids[64][32];
    double scores[64];
} out;

static int search(trawl_index *idx, const char *q, const char *filter, int use_or, int ranking, size_t k, size_t off,
                  int exhaustive, out *o) {
    trawl_options *opt = trawl_options_new();
    if (trawl_options_set_ranking(opt, (trawl_ranking)ranking) != TRAWL_OK ||
        trawl_options_set_proximity(opt, prox_weight, prox_window) != TRAWL_OK) {
        fprintf(stderr, "query '%s': ranking %d rejected\n", q, ranking);
        trawl_options_free(opt);
        return -1;
    }
    trawl_options_set_limit(opt, k);
    trawl_options_set_offset(opt, off);
    trawl_options_set_op(opt, (trawl_op)use_or);
    trawl_options_set_snippets(opt, 0);
    trawl_options_set_exhaustive(opt, exhaustive);
    trawl_options_set_filter(opt, filter);
    trawl_results *r;
    int rc = trawl_search(idx, q, opt, &r);
    trawl_options_free(opt);
    if (rc != TRAWL_OK) {
        fprintf(stderr, "query '%s': %s\n", q, trawl_results_errmsg(r));
        trawl_results_free(r);
        return -1;
    }
    o->total = trawl_results_total(r);
    o->n = trawl_results_count(r);
    for (size_t i = 0; i < o->n && i < 64; i++) {
        snprintf(o->ids[i], sizeof o->ids[i], "%s", trawl_results_id(r, i));
        o->scores[i] = trawl_results_score(r, i);
    }
    trawl_results_free(r);
    return 0;
}

static int run_queries(trawl_index *idx, const char *level, int nq) {
    static const size_t ks[] = {0, 1, 3, 10, 37};
    int bad = 0, ties = 0;
    for (int i = 0; i < nq && bad < 10; i++) {
        static const char *const filters[] = {"date:[2016-03 TO 2020-08-15]", "date>=2023", "-date:[2017 TO 2022]",
                                              "date<2016-06"};
        char q[512];
        const char *filter = NULL;
        int use_or;
        make_query(q, sizeof q, &use_or);
        static const double weights[] = {0.2, 1.0, 3.0};
        int bm25f = (int)rnd(4); /* a trawl_ranking: with proximity from 2 up */
        prox_weight = weights[rnd(3)];
        prox_window = 1 + (unsigned)rnd(8);
        size_t k = ks[rnd(5)], off = rnd(4) == 0 ? rnd(20) : 0;
        out fast, slow;
        tw_segfilter_set_mode(i / 3 % 3);
        if (i % 3 == 2) { /* a date filter: as the parameter, or in the text of a conjunction */
            filter = filters[i / 9 % 4];
            if (use_or == 0 && i / 3 % 2 == 0) {
                size_t len = strlen(q);
                snprintf(q + len, sizeof q - len, " %s", filter);
                filter = NULL;
            }
        }
        if (search(idx, q, filter, use_or, bm25f, k, off, 0, &fast) ||
            search(idx, q, filter, use_or, bm25f, k, off, 1, &slow))
            return -1;
        if (fast.total != slow.total || fast.n != slow.n) {
            fprintf(stderr, "[%s] '%s'%s filter '%s' k=%zu off=%zu: total %llu hits %zu, exhaustive %llu hits %zu\n",
                    level, q, mode_name(use_or, bm25f), filter ? filter : "", k, off, (unsigned long long)fast.total,
                    fast.n, (unsigned long long)slow.total, slow.n);
            bad++;
            continue;
        }
        for (size_t h = 0; h < fast.n; h++) {
            if (h > 0 && fast.scores[h] == fast.scores[h - 1]) ties++;
            if (strcmp(fast.ids[h], slow.ids[h]) != 0 || fast.scores[h] != slow.scores[h]) {
                fprintf(stderr, "[%s] '%s'%s filter '%s' k=%zu off=%zu hit %zu: %s %.17g, exhaustive %s %.17g\n", level,
                        q, mode_name(use_or, bm25f), filter ? filter : "", k, off, h, fast.ids[h], fast.scores[h],
                        slow.ids[h], slow.scores[h]);
                bad++;
                break;
            }
        }
    }
    printf("[%s] %d queries, %d tied neighbours among the hits, %d mismatches\n", level, nq, ties, bad);
    if (ties < 10) {
        fprintf(stderr, "[%s] too few ties to test tie-breaking (%d)\n", level, ties);
        return -1;
    }
    return bad;
}

int main(void) {
    char dir[] = "/tmp/trawl-pruning-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char *err = NULL;
    trawl_writer *w;
    if (trawl_writer_open(dir, NULL, &w, &err) != TRAWL_OK) {
        fprintf(stderr, "writer: %s\n", err);
        return 1;
    }
    /* Three segments; the last commit replaces some earlier documents. */
    if (add_docs(w, 0, 3000) || add_docs(w, 3000, 2500) || add_docs(w, 1000, 400)) return 1;
    trawl_writer_close(w);
    trawl_index *idx;
    if (trawl_index_open(dir, &idx, &err) != TRAWL_OK) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    int bad = run_queries(idx, "default", 600);
    trawl_index_close(idx);
    /* Each SIMD level (an unsupported level falls back to the best below it). */
    static const char *const levels[] = {"scalar", "sse4.1", "avx2", "avx512"};
    static const char *const names[] = {"scalar", "sse41", "avx2", "avx512"};
    int below = 1; /* the levels so far are all the CPU's */
    for (size_t l = 0; l < 4 && bad == 0; l++) {
        trawl_open_options *o = trawl_open_options_new();
        if (!o || trawl_open_options_set_simd(o, levels[l]) != TRAWL_OK) return 1;
        if (trawl_index_open_v2(dir, o, &idx, &err) != TRAWL_OK) return 1;
        trawl_open_options_free(o);
        /* The level asked for, or (the CPU lacks it) one below it. */
        const char *got = trawl_index_simd(idx);
        int same = strcmp(got, names[l]) == 0;
        if (below && !same) below = 0;
        if (!below && same) {
            fprintf(stderr, "simd %s: the index uses %s after a lower level was missing\n", levels[l], got);
            bad = 1;
        }
        if (l == 0 && !same) {
            fprintf(stderr, "simd scalar: the index uses %s\n", got);
            bad = 1;
        }
        printf("simd %s: kernels %s\n", levels[l], got);
        if (!bad) bad = run_queries(idx, levels[l], 150);
        trawl_index_close(idx);
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return bad ? 1 : 0;
}
