/*
 * test_globalstats.c — exact global ranking over partitions: the same
 * generated corpus is indexed once whole and once split by a hash of the id
 * into P = 1, 2, 3 and 7 indexes. For each query, every partition's
 * trawl_index_query_stats are summed (trawl_stats_sum) and every partition is
 * searched with the sum (trawl_options_set_stats); the merged top 10 must
 * equal the single index's: the same ids in the same order, the same scores
 * (bit for bit: a document's score does not depend on how the collection is
 * divided into indexes and segments, which here differs: partitions commit at
 * their own points, and documents name their fields in different orders) and
 * the summed totals equal the single total.
 *
 * Tie order: every document carries its global order key "_trawl_order" (a
 * JSON number: stored, not indexed), increasing in the order documents are
 * added to the collection (trawl.dask writes the byte position of the
 * document's line in its inputs; here a count). The partitions' lists are
 * merged by score, then order key. Each partition is written in the
 * collection's order, so within a partition index order is order-key order
 * and the merge reproduces the single index's tie order (segment order, then
 * document number). A quarter of the documents copy the text of an earlier
 * one, so many hits tie; the test counts the ties across partitions it saw.
 *
 * Queries of every class: AND, OR (option and operator), phrase, prefix,
 * field, exclusion, single frequent words (ties), every other one ranked
 * with BM25F, and on a field ("note")
 * that few documents have, so that most partitions lack it: there it matches
 * nothing instead of failing, and a field that no partition has fails as in
 * the single index. The corpus has several commits, updates of existing ids
 * and deletes, so statistics count live documents only. A control checks
 * that without the supplied statistics P = 7 does give different scores (the
 * test can fail).
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
#define NQUERIES 360
#define NCLASSES 9
#define NPOOL 64 /* recent texts that later documents copy */
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
    static char pool[NPOOL][3][2048];
    char title[2048], body[2048], tags[2048], note[128], doc[12000], id[32];
    uint64_t order = 0;
    unsigned added[MAXP] = {0};
    memset(pool, 0, sizeof pool); /* every build draws the same corpus */
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
            text(&r, title, 256, 2 + (int)below(&r, 5));
            text(&r, body, sizeof body, 5 + (int)below(&r, 80));
            text(&r, tags, 128, 1 + (int)below(&r, 3));
            if (below(&r, 3) != 0) tags[0] = 0;
            size_t slot = below(&r, NPOOL);
            if (order >= NPOOL && below(&r, 4) == 0) { /* a copy: it ties with its original */
                memcpy(title, pool[slot][0], sizeof title);
                memcpy(body, pool[slot][1], sizeof body);
                memcpy(tags, pool[slot][2], sizeof tags);
            } else {
                memcpy(pool[slot][0], title, sizeof title);
                memcpy(pool[slot][1], body, sizeof body);
                memcpy(pool[slot][2], tags, sizeof tags);
            }
            text(&r, note, sizeof note, 1 + (int)below(&r, 2));
            int has_note = below(&r, 700) == 0, tags_first = below(&r, 2) == 0;
            char notef[256] = "", tagsf[2100] = "";
            if (has_note) snprintf(notef, sizeof notef, "\"note\":\"%s\",", note);
            if (tags[0]) snprintf(tagsf, sizeof tagsf, "\"tags\":\"%s\",", tags);
            /* Tags first in some documents: indexes number their fields in
             * different orders. */
            snprintf(doc, sizeof doc, "{\"id\":\"%s\",\"_trawl_order\":%llu,%s%s\"title\":\"%s\",%s\"body\":\"%s\"}",
                     id, (unsigned long long)order++, tags_first ? tagsf : "", notef, title, tags_first ? "" : tagsf,
                     body);
            int rc = trawl_writer_add_json(w[t], doc, strlen(doc));
            CHECK(rc == TRAWL_OK, "add %s: %s", id, trawl_writer_errmsg(w[t]));
            /* Partitions also commit at their own points: other segments. */
            if (p && ++added[t] % (5 + 4 * t) == 0) CHECK(trawl_writer_commit(w[t]) == TRAWL_OK, "commit");
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

/* A random query of class c (0 .. NCLASSES-1); *use_or for the OR option. */
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
        case 6: snprintf(q, cap, "%s -%s", a, b); break;
        case 7: /* frequent: many ties; short prefixes: many terms summed */
            if (below(r, 2))
                snprintf(q, cap, "%s", words[below(r, 12)]);
            else
                snprintf(q, cap, "%.2s* %.2s*", a, b);
            break;
        default: {
            static const char *forms[] = {
                "note:%s",         "note:%s OR %s", "%s -note:%s", "note:(%s OR %s)", "note:\"%s %s\" OR note:%s",
                "note:%.3s* OR %s"};
            snprintf(q, cap, forms[below(r, 6)], a, b, d);
            break;
        }
    }
}

typedef struct hit {
    char id[32];
    double score;
    unsigned part;
    unsigned long long order; /* the document's "_trawl_order" */
} hit;

/* By score, then global order key (partitions hold disjoint documents, so
 * two hits never have the same key). */
static int cmp_hit(const void *x, const void *y) {
    const hit *a = x, *b = y;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* The control order: score, then partition (then the order key, which is
 * rank order within a partition). */
static int cmp_by_part(const void *x, const void *y) {
    const hit *a = x, *b = y;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->part != b->part) return a->part < b->part ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Merged lists whose top K would differ if ties went by partition. */
static size_t order_matters;

/* The order key of the stored document id in idx (failure counted). */
static unsigned long long order_of(const trawl_index *idx, const char *id) {
    char *json = NULL;
    int rc = trawl_index_get(idx, id, &json);
    CHECK(rc == TRAWL_OK, "get %s: %d", id, rc);
    const char *k = json ? strstr(json, "\"_trawl_order\":") : NULL;
    CHECK(k != NULL, "%s has no order key: %s", id, json ? json : "");
    unsigned long long v = k ? strtoull(k + strlen("\"_trawl_order\":"), NULL, 10) : 0;
    trawl_free(json);
    return v;
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
            all[na].order = order_of(parts[i], all[na].id);
            na++;
        }
        trawl_results_free(r);
    }
    trawl_options_free(o);
    hit alt[MAXP * K];
    memcpy(alt, all, sizeof *all * na);
    qsort(all, na, sizeof *all, cmp_hit);
    qsort(alt, na, sizeof *alt, cmp_by_part);
    *n = na < K ? na : K;
    int differ = 0;
    for (size_t k = 0; k < *n; k++) differ |= strcmp(all[k].id, alt[k].id) != 0;
    order_matters += stats && differ;
    memcpy(out, all, sizeof *out * *n);
    return total;
}

/* The score of id for query q in idx (NaN when not in the top 1000). */
static double score_of(trawl_index *idx, const char *q, const char *id) {
    trawl_options *o = trawl_options_new();
    trawl_options_set_snippets(o, 0);
    trawl_options_set_ranking(o, ranking);
    trawl_options_set_limit(o, 1000);
    trawl_results *r = NULL;
    double v = NAN;
    CHECK(trawl_search(idx, q, o, &r) == TRAWL_OK, "'%s': %s", q, trawl_results_errmsg(r));
    for (size_t i = 0; i < trawl_results_count(r); i++)
        if (strcmp(trawl_results_id(r, i), id) == 0) v = trawl_results_score(r, i);
    trawl_results_free(r);
    trawl_options_free(o);
    return v;
}

/* A document's score is the same bits however its index is divided: two
 * indexes of the same documents, one in a single commit, the other with a
 * first commit holding a document with only a few of the terms and the
 * fields in another order (so its view numbers fields and its first segment
 * yields prefix expansions in other orders). Returns the variants compared. */
static int same_bits_any_division(void) {
    rng r = {4242};
    int compared = 0;
    for (int round = 0; round < 30; round++) {
        char da[4200], db[4200];
        snprintf(da, sizeof da, "%s/div-a%d", root, round);
        snprintf(db, sizeof db, "%s/div-b%d", root, round);
        trawl_writer *a = wopen(da), *b = wopen(db);
        char first[512], second[8400], part[64];
        /* first: tags before title, a few expansions, late in byte order */
        snprintf(first, sizeof first, "{\"id\":\"f\",\"tags\":\"zq%02d zq%02d\",\"title\":\"zq%02d\",\"body\":\"x\"}",
                 20 + (int)below(&r, 10), 20 + (int)below(&r, 10), 20 + (int)below(&r, 10));
        char title[2048] = "", body[4096] = "", tags[2048] = "";
        for (int i = 0; i < 30; i++) {
            int n = 1 + (int)below(&r, 3);
            for (int k = 0; k < n; k++) {
                snprintf(part, sizeof part, "zq%02d ", i);
                strcat(below(&r, 3) == 0 ? title : below(&r, 2) ? body : tags, part);
            }
        }
        snprintf(second, sizeof second, "{\"id\":\"s\",\"title\":\"%s\",\"body\":\"%s x\",\"tags\":\"%s\"}", title,
                 body, tags);
        CHECK(trawl_writer_add_json(a, first, strlen(first)) == TRAWL_OK, "add");
        CHECK(trawl_writer_commit(a) == TRAWL_OK, "commit");
        CHECK(trawl_writer_add_json(a, second, strlen(second)) == TRAWL_OK, "add");
        CHECK(trawl_writer_commit(a) == TRAWL_OK, "commit");
        CHECK(trawl_writer_add_json(b, second, strlen(second)) == TRAWL_OK, "add");
        CHECK(trawl_writer_add_json(b, first, strlen(first)) == TRAWL_OK, "add");
        CHECK(trawl_writer_commit(b) == TRAWL_OK, "commit");
        trawl_writer_close(a);
        trawl_writer_close(b);
        trawl_index *ia = iopen(da), *ib = iopen(db);
        static const char *queries[] = {"zq*", "zq0* OR zq2*", "zq05 zq21 zq12", "title:zq* OR tags:zq1*"};
        for (size_t q = 0; q < 2 * sizeof queries / sizeof *queries; q++) {
            ranking = q % 2 ? TRAWL_RANKING_BM25F : TRAWL_RANKING_BM25;
            double x = score_of(ia, queries[q / 2], "s"), y = score_of(ib, queries[q / 2], "s");
            CHECK(x == y, "'%s' (%s): %.17g in one division, %.17g in the other", queries[q / 2],
                  q % 2 ? "bm25f" : "bm25", x, y);
            compared++;
        }
        trawl_index_close(ia);
        trawl_index_close(ib);
    }
    return compared;
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
    size_t compared = 0, nonempty = 0, differ_without = 0, ties = 0, cross_ties = 0, note_hits = 0;
    for (int qi = 0; qi < NQUERIES; qi++) {
        char q[256];
        int use_or, cls = qi % NCLASSES;
        make_query(&r, cls, q, sizeof q, &use_or);
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
        note_hits += cls == 8 && trawl_results_count(s) > 0;
        for (int pi = 0; pi < 4; pi++) {
            hit m[K];
            size_t n;
            uint64_t total = merged(parts[pi], ps[pi], q, use_or, 1, m, &n);
            compared++;
            CHECK(total == trawl_results_total(s), "P=%u '%s': total %llu, single %llu", ps[pi], q,
                  (unsigned long long)total, (unsigned long long)trawl_results_total(s));
            size_t want = trawl_results_count(s) < K ? trawl_results_count(s) : K;
            CHECK(n == want, "P=%u '%s': %zu hits, single %zu", ps[pi], q, n, want);
            for (size_t k = 0; k < n && k < want; k++) {
                /* The same bits: ties must be ties. */
                CHECK(m[k].score == trawl_results_score(s, k), "P=%u '%s' rank %zu: score %.17g, single %.17g", ps[pi],
                      q, k, m[k].score, trawl_results_score(s, k));
                CHECK(strcmp(m[k].id, trawl_results_id(s, k)) == 0, "P=%u '%s' rank %zu: %s (%.17g), single %s (%.17g)",
                      ps[pi], q, k, m[k].id, m[k].score, trawl_results_id(s, k), trawl_results_score(s, k));
                if (k > 0 && m[k].score == m[k - 1].score) {
                    ties++;
                    cross_ties += m[k].part != m[k - 1].part;
                }
            }
            if (ps[pi] == 7 && cls != 8) { /* a partition without "note" fails without the statistics */
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
    CHECK(order_matters >= NQUERIES / 10, "ties by partition would change only %zu merged lists", order_matters);
    CHECK(cross_ties >= 200, "only %zu ties between partitions in the merged lists", cross_ties);
    CHECK(note_hits >= 5, "only %zu queries on the rare field match", note_hits);
    /* The rare field: most partitions lack it, and alone they refuse it. */
    size_t lacking = 0;
    for (unsigned i = 0; i < 7; i++) {
        trawl_results *x = NULL;
        lacking += trawl_search(parts[3][i], "note:a", NULL, &x) == TRAWL_ESYNTAX;
        trawl_results_free(x);
    }
    CHECK(lacking >= 2, "only %zu of 7 partitions lack the field note", lacking);
    /* A field no partition has: the same error as the single index, from the
     * search with summed statistics (the statistics round succeeds). */
    {
        trawl_results *x = NULL;
        CHECK(trawl_search(single, "nofield:a", NULL, &x) == TRAWL_ESYNTAX, "single accepts an unknown field");
        trawl_results_free(x);
        char *js[MAXP], *sum = NULL;
        for (unsigned i = 0; i < 7; i++) {
            char *msg = NULL;
            CHECK(trawl_index_query_stats(parts[3][i], "nofield:a OR b", NULL, &js[i], &msg) == TRAWL_OK,
                  "query_stats of an unknown field: %s", msg ? msg : "");
            trawl_free(msg);
        }
        CHECK(trawl_stats_sum((const char *const *)js, 7, &sum) == TRAWL_OK, "stats_sum");
        CHECK(sum && !strstr(sum, "nofield"), "summed statistics name nofield: %s", sum ? sum : "");
        trawl_options *so = trawl_options_new();
        CHECK(trawl_options_set_stats(so, sum) == TRAWL_OK, "set_stats");
        for (unsigned i = 0; i < 7; i++) {
            x = NULL;
            CHECK(trawl_search(parts[3][i], "nofield:a OR b", so, &x) == TRAWL_ESYNTAX,
                  "partition %u accepts a field no partition has", i);
            CHECK(x && strstr(trawl_results_errmsg(x), "nofield") && trawl_results_error_offset(x) == 0, "message %s",
                  x ? trawl_results_errmsg(x) : "");
            trawl_results_free(x);
            trawl_free(js[i]);
        }
        trawl_options_free(so);
        trawl_free(sum);
    }
    trawl_options *o = trawl_options_new();
    CHECK(trawl_options_set_stats(o, "{\"documents\":1}") == TRAWL_EINVAL, "malformed statistics accepted");
    CHECK(trawl_options_set_stats(o, "not json") == TRAWL_EINVAL, "bad JSON accepted");
    CHECK(trawl_options_set_stats(o, NULL) == TRAWL_OK, "clearing");
    trawl_options_free(o);
    int divisions = same_bits_any_division();
    trawl_index_close(single);
    for (int pi = 0; pi < 4; pi++)
        for (unsigned i = 0; i < ps[pi]; i++) trawl_index_close(parts[pi][i]);
    rm_rf(root);
    printf("%zu comparisons of %d queries (%zu with hits, %zu on the rare field): %zu ties in merged lists, %zu "
           "between partitions (%zu lists ordered otherwise by partition); %zu differ at P=7 without statistics; %d "
           "failures; %d scores compared over two divisions of one index\n",
           compared, NQUERIES, nonempty, note_hits, ties, cross_ties, order_matters, differ_without, failures,
           divisions);
    return failures ? 1 : 0;
}
