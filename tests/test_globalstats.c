/*
 * test_globalstats.c — exact global ranking over partitions: the same
 * generated corpus is indexed once whole and once split by a hash of the id
 * into P = 1, 2, 3 and 7 indexes. For each query, every partition's
 * trawl_index_query_stats are summed (trawl_stats_sum) and every partition is
 * searched with the sum (trawl_options_set_stats); the merged top 10 (by
 * score, ties by partition then rank) must equal the single index's: the
 * same scores (1e-9 relative), each merged id's own score in the single
 * index equal to its merged score (ids equal up to the order of equal
 * scores), and the summed totals equal the single total. Queries of every
 * class: AND, OR (option and operator), phrase, prefix, field, exclusion,
 * every other one ranked with BM25F.
 * The corpus has several commits, updates of existing ids and deletes, so
 * statistics count live documents only. A control checks that without the
 * supplied statistics P = 7 does give different scores (the test can fail).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trawl.h"

static int failures;
static trawl_ranking ranking; /* every other query: BM25F (its df comes from the "*" entries) */
#include "testutil.h"

#define NDOCS 1600
#define NWORDS 240
#define NQUERIES 330
#define K 10
#define MAXP 7

static char words[NWORDS][16];
static char root[4096];

static void make_words(rng *r) {
    static const char *syl[] = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fu", "go"};
    for (int i = 0; i < NWORDS; i++) {
        char *w = words[i];
        w[0] = 0;
        int n = 2 + (int)below(r, 2);
        for (int j = 0; j < n; j++) strcat(w, syl[below(r, 12)]);
        char suf[8];
        snprintf(suf, sizeof suf, "%c", 'a' + i % 26); /* distinct words */
        strcat(w, suf);
        snprintf(w + strlen(w), 4, "%d", i / 26);
    }
}

/* A word drawn with a skewed (roughly Zipfian) distribution. */
static const char *word(rng *r) {
    size_t a = below(r, NWORDS), b = below(r, NWORDS);
    return words[a < b ? a : b];
}

static void text(rng *r, char *out, size_t cap, int n) {
    out[0] = 0;
    for (int i = 0; i < n && strlen(out) + 20 < cap; i++) {
        if (i) strcat(out, " ");
        strcat(out, word(r));
    }
}

static unsigned part_of(const char *id, unsigned p) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a: any fixed hash of the id */
    for (const char *c = id; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ull;
    return (unsigned)(h % p);
}

static trawl_writer *wopen(const char *dir) {
    trawl_writer *w = NULL;
    char *msg = NULL;
    int rc = trawl_writer_open(dir, "english", &w, &msg);
    if (rc) {
        fprintf(stderr, "writer_open %s: %s\n", dir, msg ? msg : "");
        exit(1);
    }
    trawl_free(msg);
    return w;
}

/* Writes the corpus into one index (p == 0) or into p partitions, all from
 * the same seed: 3 commits; the later ones update earlier ids and delete
 * some. */
static void build(const char *dir, unsigned p) {
    char path[4200];
    trawl_writer *w[MAXP];
    unsigned nw = p ? p : 1;
    for (unsigned i = 0; i < nw; i++) {
        if (p)
            snprintf(path, sizeof path, "%s/part-%03u", dir, i);
        else
            snprintf(path, sizeof path, "%s", dir);
        w[i] = wopen(path);
    }
    rng r = {12345};
    char title[256], body[2048], tags[128], doc[3000], id[32];
    for (int round = 0; round < 3; round++) {
        int n = round == 0 ? NDOCS : NDOCS / 5;
        for (int d = 0; d < n; d++) {
            int num = round == 0 ? d : (int)below(&r, NDOCS + NDOCS / 10);
            snprintf(id, sizeof id, "doc%d", num);
            unsigned t = p ? part_of(id, p) : 0;
            if (round > 0 && below(&r, 4) == 0) {
                int rc = trawl_writer_delete(w[t], id);
                CHECK(rc == TRAWL_OK, "delete %s", id);
                continue;
            }
            text(&r, title, sizeof title, 2 + (int)below(&r, 5));
            text(&r, body, sizeof body, 5 + (int)below(&r, 80));
            int has_tags = below(&r, 3) == 0;
            text(&r, tags, sizeof tags, 1 + (int)below(&r, 3));
            snprintf(doc, sizeof doc, "{\"id\":\"%s\",\"title\":\"%s\",\"body\":\"%s\"%s%s%s}", id, title, body,
                     has_tags ? ",\"tags\":\"" : "", has_tags ? tags : "", has_tags ? "\"" : "");
            int rc = trawl_writer_add_json(w[t], doc, strlen(doc));
            CHECK(rc == TRAWL_OK, "add %s: %s", id, trawl_writer_errmsg(w[t]));
        }
        for (unsigned i = 0; i < nw; i++) {
            int rc = trawl_writer_commit(w[i]);
            CHECK(rc == TRAWL_OK, "commit: %s", trawl_writer_errmsg(w[i]));
        }
    }
    for (unsigned i = 0; i < nw; i++) trawl_writer_close(w[i]);
}

static trawl_index *iopen(const char *dir) {
    trawl_index *idx = NULL;
    char *msg = NULL;
    if (trawl_index_open(dir, &idx, &msg)) {
        fprintf(stderr, "index_open %s: %s\n", dir, msg ? msg : "");
        exit(1);
    }
    trawl_free(msg);
    return idx;
}

/* A random query of class c (0..6); *use_or for the OR option. */
static void make_query(rng *r, int c, char *q, size_t cap, int *use_or) {
    *use_or = 0;
    const char *a = word(r), *b = word(r), *d = words[below(r, NWORDS)];
    switch (c) {
        case 0: snprintf(q, cap, "%s %s", a, b); break;
        case 1:
            snprintf(q, cap, "%s %s %s", a, b, d);
            *use_or = 1;
            break;
        case 2: snprintf(q, cap, "%s OR %s", a, d); break;
        case 3: snprintf(q, cap, "\"%s %s\" OR \"%s %s\"", a, b, b, a); break;
        case 4: snprintf(q, cap, "%.3s* %s", d, below(r, 2) ? a : ""); break;
        case 5: snprintf(q, cap, "title:%s OR tags:%s %s", a, b, below(r, 2) ? d : ""); break;
        default: snprintf(q, cap, "%s -%s", a, b); break;
    }
}

typedef struct hit {
    char id[32];
    double score;
    unsigned part;
    size_t rank;
} hit;

static int cmp_hit(const void *x, const void *y) {
    const hit *a = x, *b = y;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->part != b->part) return a->part < b->part ? -1 : 1;
    return a->rank < b->rank ? -1 : a->rank > b->rank;
}

static int close_enough(double a, double b) {
    return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

/* Searches the p partitions with (stats) or without their summed statistics
 * and merges the top K into out; returns the summed total, *n hits. */
static uint64_t merged(trawl_index **parts, unsigned p, const char *q, int use_or, int stats, hit *out, size_t *n) {
    trawl_options *o = trawl_options_new();
    trawl_options_set_snippets(o, 0);
    trawl_options_set_or(o, use_or);
    trawl_options_set_ranking(o, ranking);
    trawl_options_set_limit(o, K);
    if (stats) {
        char *js[MAXP], *sum = NULL;
        for (unsigned i = 0; i < p; i++) {
            char *msg = NULL;
            int rc = trawl_index_query_stats(parts[i], q, o, &js[i], &msg);
            CHECK(rc == TRAWL_OK, "query_stats '%s': %s", q, msg ? msg : "");
            trawl_free(msg);
        }
        CHECK(trawl_stats_sum((const char *const *)js, p, &sum) == TRAWL_OK, "stats_sum");
        CHECK(trawl_options_set_stats(o, sum) == TRAWL_OK, "set_stats %s", sum ? sum : "(null)");
        for (unsigned i = 0; i < p; i++) trawl_free(js[i]);
        trawl_free(sum);
    }
    hit all[MAXP * K];
    size_t na = 0;
    uint64_t total = 0;
    for (unsigned i = 0; i < p; i++) {
        trawl_results *r = NULL;
        int rc = trawl_search(parts[i], q, o, &r);
        CHECK(rc == TRAWL_OK, "search '%s': %s", q, trawl_results_errmsg(r));
        total += trawl_results_total(r);
        for (size_t k = 0; k < trawl_results_count(r); k++) {
            snprintf(all[na].id, sizeof all[na].id, "%s", trawl_results_id(r, k));
            all[na].score = trawl_results_score(r, k);
            all[na].part = i;
            all[na].rank = k;
            na++;
        }
        trawl_results_free(r);
    }
    trawl_options_free(o);
    qsort(all, na, sizeof *all, cmp_hit);
    *n = na < K ? na : K;
    memcpy(out, all, sizeof *out * *n);
    return total;
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/trawl_gstats_XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) return 2;
    rng r = {777};
    make_words(&r);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/single", root);
    build(dir, 0);
    trawl_index *single = iopen(dir);
    static const unsigned ps[] = {1, 2, 3, 7};
    trawl_index *parts[4][MAXP];
    for (int pi = 0; pi < 4; pi++) {
        snprintf(dir, sizeof dir, "%s/p%u", root, ps[pi]);
        mkdir(dir, 0755);
        build(dir, ps[pi]);
        for (unsigned i = 0; i < ps[pi]; i++) {
            char pd[4300];
            snprintf(pd, sizeof pd, "%s/part-%03u", dir, i);
            parts[pi][i] = iopen(pd);
        }
    }
    size_t compared = 0, nonempty = 0, same_order = 0, differ_without = 0;
    for (int qi = 0; qi < NQUERIES; qi++) {
        char q[256];
        int use_or;
        make_query(&r, qi % 7, q, sizeof q, &use_or);
        ranking = qi % 2 ? TRAWL_RANKING_BM25F : TRAWL_RANKING_BM25;
        trawl_options *o = trawl_options_new();
        trawl_options_set_snippets(o, 0);
        trawl_options_set_or(o, use_or);
        trawl_options_set_ranking(o, ranking);
        trawl_options_set_limit(o, 1000);
        trawl_results *s = NULL;
        int rc = trawl_search(single, q, o, &s);
        CHECK(rc == TRAWL_OK, "single '%s': %s", q, trawl_results_errmsg(s));
        nonempty += trawl_results_count(s) > 0;
        for (int pi = 0; pi < 4; pi++) {
            hit m[K];
            size_t n;
            uint64_t total = merged(parts[pi], ps[pi], q, use_or, 1, m, &n);
            compared++;
            CHECK(total == trawl_results_total(s), "P=%u '%s': total %llu, single %llu", ps[pi], q,
                  (unsigned long long)total, (unsigned long long)trawl_results_total(s));
            size_t want = trawl_results_count(s) < K ? trawl_results_count(s) : K;
            CHECK(n == want, "P=%u '%s': %zu hits, single %zu", ps[pi], q, n, want);
            int order = n == want;
            for (size_t k = 0; k < n && k < want; k++) {
                CHECK(close_enough(m[k].score, trawl_results_score(s, k)),
                      "P=%u '%s' rank %zu: score %.17g, single %.17g", ps[pi], q, k, m[k].score,
                      trawl_results_score(s, k));
                order &= strcmp(m[k].id, trawl_results_id(s, k)) == 0;
                double own = NAN;
                for (size_t j = 0; j < trawl_results_count(s); j++)
                    if (strcmp(trawl_results_id(s, j), m[k].id) == 0) own = trawl_results_score(s, j);
                CHECK(close_enough(own, m[k].score), "P=%u '%s': %s scores %.17g merged, %.17g single", ps[pi], q,
                      m[k].id, m[k].score, own);
                for (size_t j = 0; j < k; j++) CHECK(strcmp(m[j].id, m[k].id) != 0, "duplicate %s", m[k].id);
            }
            same_order += order;
            if (ps[pi] == 7) {
                hit u[K];
                size_t un;
                merged(parts[pi], ps[pi], q, use_or, 0, u, &un);
                int diff = 0;
                for (size_t k = 0; k < un && k < want; k++)
                    diff |= !close_enough(u[k].score, trawl_results_score(s, k));
                differ_without += diff;
            }
        }
        trawl_results_free(s);
        trawl_options_free(o);
    }
    CHECK(nonempty > NQUERIES * 3 / 4, "only %zu of %d queries match anything", nonempty, NQUERIES);
    CHECK(differ_without > NQUERIES / 4, "without statistics only %zu queries scored differently at P=7",
          differ_without);
    trawl_options *o = trawl_options_new();
    CHECK(trawl_options_set_stats(o, "{\"documents\":1}") == TRAWL_EINVAL, "malformed statistics accepted");
    CHECK(trawl_options_set_stats(o, "not json") == TRAWL_EINVAL, "bad JSON accepted");
    CHECK(trawl_options_set_stats(o, NULL) == TRAWL_OK, "clearing");
    trawl_options_free(o);
    trawl_index_close(single);
    for (int pi = 0; pi < 4; pi++)
        for (unsigned i = 0; i < ps[pi]; i++) trawl_index_close(parts[pi][i]);
    rm_rf(root);
    printf("%zu comparisons of %d queries (%zu with hits): %zu in identical id order, %zu differ at P=7 without "
           "statistics; %d failures\n",
           compared, NQUERIES, nonempty, same_order, differ_without, failures);
    return failures ? 1 : 0;
}
