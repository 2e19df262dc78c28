/*
 * test_analytics_parts.c — trawl_options_set_analytics_complete: the parts a
 * partitioned collection sums. Random dated, tagged documents go into one
 * index and, by a fixed split, into three partition indexes (one of them
 * holding only documents far in the past, so the partitions' date spans are
 * disjoint in places). For random queries, each partition's complete keyword
 * facet (every value its matches have, n ignored) and its histogram (buckets
 * over the span of all its dated documents) are summed here, and the sum —
 * top n by count then bytes; buckets from the first to the last with a match —
 * must equal the single index's facet and histogram; each complete facet must
 * also list exactly the values a brute-force count finds, in the library's
 * order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trawl.h"

static int failures;
#include "testutil.h"

#define NDOCS 500
#define NTAGS 24
#define NPART 3
#define MAXV 64
#define MAXB 4096

static const char *const words[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"};

typedef struct doc {
    int w[3];     /* word indexes */
    int tags[3];  /* -1: none */
    int year, mo; /* year 0: no date */
    int part;
} doc;

static doc docs[NDOCS];

typedef struct vc {
    char v[16];
    uint64_t c;
} vc;

static int by_count(const void *a, const void *b) {
    const vc *x = a, *y = b;
    if (x->c != y->c) return x->c > y->c ? -1 : 1;
    return strcmp(x->v, y->v);
}

static void add_count(vc *t, size_t *n, const char *v, uint64_t c) {
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(t[i].v, v)) {
            t[i].c += c;
            return;
        }
    if (*n < MAXV) {
        snprintf(t[*n].v, sizeof t[*n].v, "%s", v);
        t[(*n)++].c = c;
    }
}

static trawl_index *build(const char *dir, int part) {
    char *err = NULL;
    trawl_writer *w = NULL;
    if (trawl_writer_open(dir, "english", &w, &err) != TRAWL_OK) {
        fprintf(stderr, "writer %s: %s\n", dir, err ? err : "?");
        exit(2);
    }
    for (int i = 0; i < NDOCS; i++) {
        const doc *d = &docs[i];
        if (part >= 0 && d->part != part) continue;
        char json[512], tags[128] = "", date[64] = "";
        size_t tl = 0;
        for (int k = 0; k < 3; k++)
            if (d->tags[k] >= 0)
                tl += (size_t)snprintf(tags + tl, sizeof tags - tl, "%s\"t%02d\"", tl ? "," : "", d->tags[k]);
        if (d->year) snprintf(date, sizeof date, ", \"date\": \"%04d-%02d-15\"", d->year, d->mo);
        snprintf(json, sizeof json, "{\"id\": \"d%d\", \"body\": \"%s %s %s\", \"tags\": [%s]%s}", i, words[d->w[0]],
                 words[d->w[1]], words[d->w[2]], tags, date);
        CHECK(trawl_writer_add_json(w, json, strlen(json)) == TRAWL_OK, "add %s", json);
    }
    CHECK(trawl_writer_commit(w) == TRAWL_OK, "commit");
    trawl_writer_close(w);
    trawl_free(err);
    trawl_index *idx = NULL;
    if (trawl_index_open(dir, &idx, &err) != TRAWL_OK) {
        fprintf(stderr, "open %s: %s\n", dir, err ? err : "?");
        exit(2);
    }
    return idx;
}

/* Does document d match the one-word query w? */
static int matches(const doc *d, int w) {
    return d->w[0] == w || d->w[1] == w || d->w[2] == w;
}

int main(void) {
    rng r = {20261129};
    for (int i = 0; i < NDOCS; i++) {
        doc *d = &docs[i];
        for (int k = 0; k < 3; k++) d->w[k] = (int)below(&r, 6);
        for (int k = 0; k < 3; k++) d->tags[k] = below(&r, 3) ? (int)below(&r, NTAGS) / (1 + (int)below(&r, 3)) : -1;
        if (d->tags[1] == d->tags[0]) d->tags[1] = -1;
        if (d->tags[2] == d->tags[0] || d->tags[2] == d->tags[1]) d->tags[2] = -1;
        d->part = (int)below(&r, NPART - 1);
        d->year = below(&r, 10) ? 2015 + (int)below(&r, 6) : 0;
        d->mo = 1 + (int)below(&r, 12);
        if (i % 25 == 0) d->part = NPART - 1, d->year = 1990 + (int)below(&r, 3); /* far in the past, alone */
    }
    char tmpl[] = "/tmp/trawl-parts-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir) return 2;
    char path[256];
    snprintf(path, sizeof path, "%s/single", dir);
    trawl_index *single = build(path, -1);
    trawl_index *part[NPART];
    for (int p = 0; p < NPART; p++) {
        snprintf(path, sizeof path, "%s/p%d", dir, p);
        part[p] = build(path, p);
    }
    static const char *const units[] = {"year", "quarter", "month"};
    int compared = 0, gaps = 0;
    for (int qi = 0; qi < 60; qi++) {
        int w = (int)below(&r, 6);
        size_t n = 1 + below(&r, 8);
        const char *unit = units[qi % 3];
        trawl_options *o = trawl_options_new();
        CHECK(o && trawl_options_add_facet(o, "tags", n) == TRAWL_OK, "options");
        CHECK(trawl_options_set_histogram(o, "date", unit, qi % 2 ? "+05:30" : NULL) == TRAWL_OK, "histogram");
        trawl_results *s = NULL;
        CHECK(trawl_search(single, words[w], o, &s) == TRAWL_OK, "single search");
        CHECK(trawl_options_set_analytics_complete(o, 1) == TRAWL_OK, "complete");
        vc sum[MAXV];
        size_t nsum = 0;
        struct {
            int64_t start;
            char label[24];
            uint64_t m, d;
        } hb[MAXB];
        size_t nhb = 0;
        for (int p = 0; p < NPART; p++) {
            trawl_results *pr = NULL;
            CHECK(trawl_search(part[p], words[w], o, &pr) == TRAWL_OK, "partition search");
            /* The complete facet: every value of the partition's matches, by brute force. */
            vc brute[MAXV];
            size_t nb = 0;
            for (int i = 0; i < NDOCS; i++)
                if (docs[i].part == p && matches(&docs[i], w))
                    for (int k = 0; k < 3; k++)
                        if (docs[i].tags[k] >= 0) {
                            char v[16];
                            snprintf(v, sizeof v, "t%02d", docs[i].tags[k]);
                            add_count(brute, &nb, v, 1);
                        }
            qsort(brute, nb, sizeof *brute, by_count);
            CHECK(trawl_results_facet_values(pr, 0) == nb, "partition %d complete facet: %zu values, brute %zu", p,
                  trawl_results_facet_values(pr, 0), nb);
            for (size_t i = 0; i < nb && i < trawl_results_facet_values(pr, 0); i++) {
                CHECK(!strcmp(trawl_results_facet_value(pr, 0, i), brute[i].v) &&
                          trawl_results_facet_value_count(pr, 0, i) == brute[i].c,
                      "partition %d value %zu", p, i);
                add_count(sum, &nsum, trawl_results_facet_value(pr, 0, i), trawl_results_facet_value_count(pr, 0, i));
            }
            for (size_t i = 0; i < trawl_results_histogram_count(pr); i++) {
                int64_t st = trawl_results_histogram_start(pr, i);
                size_t j = 0;
                while (j < nhb && hb[j].start != st) j++;
                if (j == nhb && nhb < MAXB) {
                    hb[nhb].start = st;
                    snprintf(hb[nhb].label, sizeof hb[nhb].label, "%s", trawl_results_histogram_label(pr, i));
                    hb[nhb].m = hb[nhb].d = 0;
                    nhb++;
                }
                if (j < MAXB) {
                    hb[j].m += trawl_results_histogram_matches(pr, i);
                    hb[j].d += trawl_results_histogram_docs(pr, i);
                }
            }
            trawl_results_free(pr);
        }
        qsort(sum, nsum, sizeof *sum, by_count);
        size_t want = nsum < n ? nsum : n;
        CHECK(trawl_results_facet_values(s, 0) == want, "q%d: %zu values, summed %zu", qi,
              trawl_results_facet_values(s, 0), want);
        for (size_t i = 0; i < want && i < trawl_results_facet_values(s, 0); i++)
            CHECK(!strcmp(trawl_results_facet_value(s, 0, i), sum[i].v) &&
                      trawl_results_facet_value_count(s, 0, i) == sum[i].c,
                  "q%d value %zu: %s %llu, summed %s %llu", qi, i, trawl_results_facet_value(s, 0, i),
                  (unsigned long long)trawl_results_facet_value_count(s, 0, i), sum[i].v, (unsigned long long)sum[i].c);
        /* Each single-index bucket: a summed one with the same start, label
         * and counts, or (a gap no partition spans) an empty one. */
        size_t first = SIZE_MAX, last = 0;
        for (size_t i = 0; i < trawl_results_histogram_count(s); i++) {
            int64_t st = trawl_results_histogram_start(s, i);
            size_t j = 0;
            while (j < nhb && hb[j].start != st) j++;
            uint64_t m = trawl_results_histogram_matches(s, i), d = trawl_results_histogram_docs(s, i);
            if (j == nhb) {
                CHECK(m == 0 && d == 0, "q%d bucket %s: no partition spans it but it counts %llu/%llu", qi,
                      trawl_results_histogram_label(s, i), (unsigned long long)m, (unsigned long long)d);
                gaps++;
                continue;
            }
            CHECK(!strcmp(hb[j].label, trawl_results_histogram_label(s, i)) && hb[j].m == m && hb[j].d == d,
                  "q%d bucket %s: single %llu/%llu, summed %llu/%llu", qi, hb[j].label, (unsigned long long)m,
                  (unsigned long long)d, (unsigned long long)hb[j].m, (unsigned long long)hb[j].d);
            if (m) {
                if (first == SIZE_MAX) first = i;
                last = i;
            }
        }
        /* The single index's buckets run from the first to the last with a match. */
        uint64_t summed_matches = 0, single_matches = 0;
        for (size_t j = 0; j < nhb; j++) summed_matches += hb[j].m;
        for (size_t i = 0; i < trawl_results_histogram_count(s); i++)
            single_matches += trawl_results_histogram_matches(s, i);
        CHECK(summed_matches == single_matches, "q%d: matches with a date %llu, summed %llu", qi,
              (unsigned long long)single_matches, (unsigned long long)summed_matches);
        CHECK(trawl_results_histogram_count(s) == 0 || (first == 0 && last + 1 == trawl_results_histogram_count(s)),
              "q%d: the histogram does not start and end with a match", qi);
        compared++;
        trawl_results_free(s);
        trawl_options_free(o);
    }
    CHECK(gaps > 0, "no bucket between the partitions' spans was put to the test");
    CHECK(trawl_options_set_analytics_complete(NULL, 1) == TRAWL_EINVAL, "NULL options");
    for (int p = 0; p < NPART; p++) trawl_index_close(part[p]);
    trawl_index_close(single);
    rm_rf(dir);
    printf("test_analytics_parts: %d queries, %d gap buckets, %d failures\n", compared, gaps, failures);
    return failures ? 1 : 0;
}
