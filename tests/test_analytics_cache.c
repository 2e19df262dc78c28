/*
 * test_analytics_cache.c — the fast analytics paths against a brute force
 * over the documents the test generated: keyword facets counted by both
 * methods (pruned by value counts, and ordinals) and by the automatic cost
 * rule, and date histograms from the per-segment bucket cache, on random
 * match sets (from a handful of documents to nearly all), over several
 * segments, after deletions, across trawl_index_reopen (which shares the
 * segments and so their caches) and new commits, at several offsets from UTC
 * and in every calendar unit. Also: a field the schema declares but no
 * document has answers an empty facet / histogram, an unknown field an error;
 * keyword values holding '"' and '\\' are found with escaped filter values;
 * threads that build the same cache entries at once get the same answers.
 *
 * Corpus: NDOCS documents "d<i>" with a date (1 in 12 missing; 1988..2031,
 * second precision), 0..3 distinct tags out of NTAGS drawn from a skewed
 * distribution (many equal counts among the rare ones: ties at the top-n
 * boundary), written in three commits with replacements and deletions.
 * Oracle: per segment document, its external id leads to the test's own
 * record; facets are counted and ranked (count descending, then bytes) by
 * brute force, histogram buckets computed with libc's gmtime_r / strftime
 * (%G-W%V for ISO weeks) on the shifted instant.
 */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "facets.h"
#include "histogram.h"
#include "testutil.h"
#include "trawl.h"

static int failures;

#define NDOCS 6000
#define NTAGS 300
#define MAXTAGS 3

typedef struct doc {
    int has_date;
    int64_t date;
    int ntags, tags[MAXTAGS];
} doc;

static doc docs[NDOCS], before[NDOCS];
static const doc *D = docs; /* the records the checked view holds */
static rng R = {8120261129ull};
static long tie_cases, facet_checks, buckets_seen, facet_values_seen;

static void make_doc(int i, char *line, size_t cap) {
    doc *d = &docs[i];
    d->has_date = below(&R, 12) != 0;
    d->date = (int64_t)567993600 + (int64_t)below(&R, (size_t)1400000000); /* 1988 .. 2032 */
    d->ntags = (int)below(&R, MAXTAGS + 1);
    for (int k = 0; k < d->ntags; k++) {
        int t, dup;
        do {
            /* Skewed: the minimum of three draws, squared toward 0. */
            size_t a = below(&R, NTAGS), b = below(&R, NTAGS), c = below(&R, NTAGS);
            size_t m = a < b ? a : b;
            t = (int)(m < c ? m : c);
            dup = 0;
            for (int j = 0; j < k; j++) dup |= d->tags[j] == t;
        } while (dup);
        d->tags[k] = t;
    }
    size_t n = (size_t)snprintf(line, cap, "{\"id\":\"d%d\",\"title\":\"w%d\"", i, (int)below(&R, 5));
    if (d->has_date) n += (size_t)snprintf(line + n, cap - n, ",\"date\":%lld", (long long)d->date);
    if (d->ntags) {
        n += (size_t)snprintf(line + n, cap - n, ",\"tags\":[");
        for (int k = 0; k < d->ntags; k++)
            n += (size_t)snprintf(line + n, cap - n, "%s\"t%03d\"", k ? "," : "", d->tags[k]);
        n += (size_t)snprintf(line + n, cap - n, "]");
    }
    snprintf(line + n, cap - n, "}");
}

/* ---- the view's documents mapped to the test's records ---- */

typedef struct vmap {
    uint32_t nsegs;
    int **rec; /* rec[s][d]: doc index, or -1 when deleted */
} vmap;

static void map_view(const tw_view *v, vmap *m) {
    m->nsegs = v->nsegs;
    m->rec = xmalloc((v->nsegs + 1) * sizeof *m->rec);
    for (uint32_t s = 0; s < v->nsegs; s++) {
        const tw_segment *seg = v->segs[s].seg;
        m->rec[s] = xmalloc(((size_t)seg->ndocs + 1) * sizeof **m->rec);
        for (uint32_t d = 0; d < seg->ndocs; d++) {
            size_t len;
            const char *id = tw_segment_id(seg, d, &len);
            char buf[32];
            snprintf(buf, sizeof buf, "%.*s", (int)len, id);
            int live = !(v->segs[s].deleted && roaring_bitmap_contains(v->segs[s].deleted, d));
            m->rec[s][d] = live ? atoi(buf + 1) : -1;
        }
    }
}

static void unmap_view(vmap *m) {
    for (uint32_t s = 0; s < m->nsegs; s++) free(m->rec[s]);
    free(m->rec);
}

/* Random match sets: per segment a random share of the live documents. */
static roaring_bitmap_t **random_match(const tw_view *v, const vmap *m) {
    static const double dens[] = {0.0005, 0.003, 0.02, 0.1, 0.4, 0.8, 1.0};
    double p = dens[below(&R, sizeof dens / sizeof *dens)];
    int by_tag = below(&R, 3) == 0; /* correlated: the docs having a tag below some rank */
    int cut = (int)below(&R, 40);
    roaring_bitmap_t **ms = xmalloc((v->nsegs + 1) * sizeof *ms);
    for (uint32_t s = 0; s < v->nsegs; s++) {
        ms[s] = roaring_bitmap_create();
        for (uint32_t d = 0; d < v->segs[s].seg->ndocs; d++) {
            int i = m->rec[s][d];
            if (i < 0 || (double)below(&R, 1000000) >= p * 1000000) continue;
            if (by_tag) {
                int ok = 0;
                for (int k = 0; k < D[i].ntags; k++) ok |= D[i].tags[k] < cut;
                if (!ok) continue;
            }
            roaring_bitmap_add(ms[s], d);
        }
    }
    return ms;
}

static void free_match(roaring_bitmap_t **ms, uint32_t n) {
    for (uint32_t s = 0; s < n; s++) roaring_bitmap_free(ms[s]);
    free(ms);
}

/* ---- facets ---- */

typedef struct tc {
    int tag;
    uint64_t count;
} tc;

static int cmp_tc(const void *a, const void *b) {
    const tc *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return (x->tag > y->tag) - (x->tag < y->tag); /* "t%03d": tag order is byte order */
}

static void check_facets(const tw_view *v, const vmap *m, roaring_bitmap_t **ms, const char *what) {
    static uint64_t counts[NTAGS];
    memset(counts, 0, sizeof counts);
    uint64_t with = 0;
    for (uint32_t s = 0; s < v->nsegs; s++) {
        roaring_uint32_iterator_t *it = roaring_create_iterator(ms[s]);
        while (it->has_value) {
            const doc *d = &D[m->rec[s][it->current_value]];
            with += d->ntags > 0;
            for (int k = 0; k < d->ntags; k++) counts[d->tags[k]]++;
            roaring_advance_uint32_iterator(it);
        }
        roaring_free_uint32_iterator(it);
    }
    tc all[NTAGS];
    size_t na = 0;
    for (int t = 0; t < NTAGS; t++)
        if (counts[t]) all[na++] = (tc){t, counts[t]};
    qsort(all, na, sizeof *all, cmp_tc);
    static const size_t ns[] = {1, 2, 3, 5, 10, 25, 400};
    size_t n = ns[below(&R, sizeof ns / sizeof *ns)];
    if (n < na && all[n - 1].count == all[n].count) tie_cases++;
    size_t want = na < n ? na : n;
    for (int method = TW_FACET_AUTO; method <= TW_FACET_PRUNED; method++) {
        tw_facet_result fr;
        char err[256] = "";
        int rc =
            tw_facet_compute_method(v, (const roaring_bitmap_t *const *)ms, "tags", n, method, &fr, err, sizeof err);
        CHECK(rc == 0, "%s: facet method %d: rc %d %s", what, method, rc, err);
        if (rc) continue;
        CHECK(fr.docs == with, "%s method %d n %zu: docs %llu, brute force %llu", what, method, n,
              (unsigned long long)fr.docs, (unsigned long long)with);
        CHECK(fr.nvalues == want, "%s method %d n %zu: %zu values, brute force %zu", what, method, n, fr.nvalues, want);
        for (size_t i = 0; i < fr.nvalues && i < want; i++) {
            char exp[16];
            snprintf(exp, sizeof exp, "t%03d", all[i].tag);
            CHECK(!strcmp(fr.values[i].value, exp) && fr.values[i].count == all[i].count,
                  "%s method %d n %zu value %zu: %s %llu, brute force %s %llu", what, method, n, i, fr.values[i].value,
                  (unsigned long long)fr.values[i].count, exp, (unsigned long long)all[i].count);
        }
        facet_values_seen += (long)fr.nvalues;
        tw_facet_result_free(&fr);
    }
    facet_checks++;
}

/* ---- histograms ---- */

/* The oracle's bucket of instant t at offset off: (bucket key, label). Keys
 * are comparable within a unit; the label is the library's format. */
static int64_t obucket(int64_t t, tw_cal_unit u, int32_t off, char *label, size_t cap) {
    time_t x = (time_t)(t + off);
    struct tm tm;
    gmtime_r(&x, &tm);
    int64_t y = tm.tm_year + 1900, day = (t + off) >= 0 ? (t + off) / 86400 : -((-(t + off) + 86399) / 86400);
    switch (u) {
        case TW_CAL_YEAR: snprintf(label, cap, "%04lld", (long long)y); return y;
        case TW_CAL_QUARTER:
            snprintf(label, cap, "%04lld-Q%d", (long long)y, tm.tm_mon / 3 + 1);
            return 4 * y + tm.tm_mon / 3;
        case TW_CAL_MONTH: snprintf(label, cap, "%04lld-%02d", (long long)y, tm.tm_mon + 1); return 12 * y + tm.tm_mon;
        case TW_CAL_WEEK: {
            strftime(label, cap, "%G-W%V", &tm);
            int64_t monday = day - (tm.tm_wday + 6) % 7; /* days since the epoch of the week's Monday */
            return monday / 7 + (monday % 7 != 0 && monday < 0 ? -1 : 0) + 1000000;
        }
        case TW_CAL_DAY: strftime(label, cap, "%Y-%m-%d", &tm); return day;
    }
    return 0;
}

#define MAXB 250000
static int force_day; /* check_histogram: always by day (the wide-span index) */
static uint64_t om[MAXB], od[MAXB];

static void check_histogram(const tw_view *v, const vmap *m, roaring_bitmap_t **ms, const char *what) {
    static const int32_t offs[] = {0, 0, 19800, -28800, 3600, -43200, 50400, 86340, -86340};
    tw_cal_unit u = (tw_cal_unit)below(&R, 5);
    int32_t off = offs[below(&R, sizeof offs / sizeof *offs)];
    int range_all = below(&R, 4) == 0;
    if (force_day)
        u = TW_CAL_DAY;
    else if ((u == TW_CAL_DAY || u == TW_CAL_WEEK) && range_all)
        u = TW_CAL_MONTH; /* keep the bucket count moderate: days or weeks of a subset only */
    /* Brute force: the key range, then counts. */
    int64_t first = INT64_MAX, last = INT64_MIN;
    char lab[64];
    for (uint32_t s = 0; s < v->nsegs; s++)
        for (uint32_t d = 0; d < v->segs[s].seg->ndocs; d++) {
            int i = m->rec[s][d];
            if (i < 0 || !D[i].has_date) continue;
            if (!range_all && !roaring_bitmap_contains(ms[s], d)) continue;
            int64_t b = obucket(D[i].date, u, off, lab, sizeof lab);
            if (b < first) first = b;
            if (b > last) last = b;
        }
    tw_histogram h;
    char err[256] = "";
    int rc =
        tw_histogram_compute(v, (const roaring_bitmap_t *const *)ms, "date", u, off, range_all, &h, err, sizeof err);
    if (first > last) {
        CHECK(rc == 0 && h.n == 0, "%s: histogram of nothing: rc %d, %zu buckets", what, rc, h.n);
        tw_histogram_free(&h);
        return;
    }
    if (last - first >= MAXB) {
        CHECK(rc == 0 || rc == TRAWL_ELIMIT, "%s: histogram rc %d %s", what, rc, err);
        tw_histogram_free(&h);
        return;
    }
    CHECK(rc == 0, "%s: histogram rc %d %s", what, rc, err);
    if (rc) return;
    size_t n = (size_t)(last - first) + 1;
    memset(om, 0, n * sizeof *om);
    memset(od, 0, n * sizeof *od);
    static char labels[MAXB][64];
    static int have[MAXB];
    memset(have, 0, n * sizeof *have);
    for (uint32_t s = 0; s < v->nsegs; s++)
        for (uint32_t d = 0; d < v->segs[s].seg->ndocs; d++) {
            int i = m->rec[s][d];
            if (i < 0 || !D[i].has_date) continue;
            int64_t b = obucket(D[i].date, u, off, lab, sizeof lab);
            if (b < first || b > last) continue;
            od[b - first]++;
            if (roaring_bitmap_contains(ms[s], d)) om[b - first]++;
            if (!have[b - first]) snprintf(labels[b - first], sizeof labels[0], "%s", lab), have[b - first] = 1;
        }
    CHECK(h.n == n, "%s unit %d off %d all %d: %zu buckets, brute force %zu", what, (int)u, (int)off, range_all, h.n,
          n);
    for (size_t i = 0; i < n && i < h.n; i++) {
        CHECK(h.b[i].matches == om[i] && h.b[i].docs == od[i],
              "%s unit %d off %d all %d bucket %zu (%s): %llu / %llu, brute force %llu / %llu", what, (int)u, (int)off,
              range_all, i, h.b[i].label, (unsigned long long)h.b[i].matches, (unsigned long long)h.b[i].docs,
              (unsigned long long)om[i], (unsigned long long)od[i]);
        if (have[i])
            CHECK(!strcmp(h.b[i].label, labels[i]), "%s: label %s, brute force %s", what, h.b[i].label, labels[i]);
        /* The bucket's first instant is in the bucket, the second before it is not. */
        char l2[64];
        int64_t k0 = obucket(h.b[i].start, u, off, l2, sizeof l2),
                k1 = obucket(h.b[i].start - 1, u, off, l2, sizeof l2);
        CHECK(k0 == first + (int64_t)i && k1 == k0 - 1, "%s: bucket %zu (%s) starts at %lld", what, i, h.b[i].label,
              (long long)h.b[i].start);
    }
    buckets_seen += (long)n;
    tw_histogram_free(&h);
}

/* Runs `rounds` random match sets through both checks on idx. */
static void check_index(const trawl_index *idx, int rounds, const char *stage) {
    const tw_view *v = &idx->view;
    vmap m;
    map_view(v, &m);
    for (int r = 0; r < rounds; r++) {
        roaring_bitmap_t **ms = random_match(v, &m);
        char what[64];
        snprintf(what, sizeof what, "%s #%d", stage, r);
        check_facets(v, &m, ms, what);
        check_histogram(v, &m, ms, what);
        free_match(ms, v->nsegs);
    }
    unmap_view(&m);
}

/* ---- threads building the caches at once ---- */

#define NTHREADS 4
#define NCOMBOS 6

typedef struct tjob {
    const tw_view *v;
    roaring_bitmap_t **ms;
    tw_histogram h[NCOMBOS];
    tw_facet_result f[NCOMBOS];
    int rc;
} tjob;

static const tw_cal_unit combo_unit[NCOMBOS] = {TW_CAL_MONTH, TW_CAL_YEAR,    TW_CAL_WEEK,
                                                TW_CAL_MONTH, TW_CAL_QUARTER, TW_CAL_DAY};
static const int32_t combo_off[NCOMBOS] = {0, 0, 3600, -18000, 0, 0};

static void *tjob_run(void *arg) {
    tjob *j = arg;
    char err[256];
    for (int c = 0; c < NCOMBOS && !j->rc; c++) {
        j->rc = tw_histogram_compute(j->v, (const roaring_bitmap_t *const *)j->ms, "date", combo_unit[c], combo_off[c],
                                     0, &j->h[c], err, sizeof err);
        if (!j->rc)
            j->rc = tw_facet_compute_method(j->v, (const roaring_bitmap_t *const *)j->ms, "tags", (size_t)(2 + c),
                                            TW_FACET_PRUNED, &j->f[c], err, sizeof err);
    }
    return NULL;
}

/* NTHREADS threads compute the same histograms and facets on a freshly opened
 * index (cold caches: they build the same entries at once); every thread's
 * answers must equal the ones computed afterwards (warm caches) and checked
 * against the brute force by check_index's functions. */
static void check_threads(const trawl_index *idx) {
    const tw_view *v = &idx->view;
    vmap m;
    map_view(v, &m);
    roaring_bitmap_t **ms = NULL;
    do {
        if (ms) free_match(ms, v->nsegs);
        ms = random_match(v, &m);
    } while (roaring_bitmap_get_cardinality(ms[0]) < 100);
    static tjob jobs[NTHREADS];
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t].v = v;
        jobs[t].ms = ms;
        CHECK(pthread_create(&th[t], NULL, tjob_run, &jobs[t]) == 0, "pthread_create");
    }
    for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);
    tjob ref;
    memset(&ref, 0, sizeof ref);
    ref.v = v;
    ref.ms = ms;
    tjob_run(&ref);
    CHECK(ref.rc == 0, "threads: reference run rc %d", ref.rc);
    for (int t = 0; t < NTHREADS; t++) {
        CHECK(jobs[t].rc == 0, "thread %d: rc %d", t, jobs[t].rc);
        for (int c = 0; c < NCOMBOS && !jobs[t].rc && !ref.rc; c++) {
            const tw_histogram *a = &jobs[t].h[c], *b = &ref.h[c];
            int same = a->n == b->n;
            for (size_t i = 0; same && i < a->n; i++)
                same = a->b[i].matches == b->b[i].matches && a->b[i].docs == b->b[i].docs &&
                       a->b[i].start == b->b[i].start;
            CHECK(same, "thread %d combo %d: histogram differs", t, c);
            const tw_facet_result *x = &jobs[t].f[c], *y = &ref.f[c];
            same = x->nvalues == y->nvalues && x->docs == y->docs;
            for (size_t i = 0; same && i < x->nvalues; i++)
                same = x->values[i].count == y->values[i].count && !strcmp(x->values[i].value, y->values[i].value);
            CHECK(same, "thread %d combo %d: facet differs", t, c);
        }
    }
    for (int t = 0; t <= NTHREADS; t++) {
        tjob *j = t < NTHREADS ? &jobs[t] : &ref;
        for (int c = 0; c < NCOMBOS; c++) {
            tw_histogram_free(&j->h[c]);
            tw_facet_result_free(&j->f[c]);
        }
    }
    /* And the warm answers are right. */
    check_facets(v, &m, ms, "after threads");
    check_histogram(v, &m, ms, "after threads");
    free_match(ms, v->nsegs);
    unmap_view(&m);
}

/* An index whose dates span six centuries in a few hundred documents: the
 * day buckets between its extremes outnumber both 65,534 and the documents,
 * so its histograms by day are not cached but bucketed date by date. */
static void check_wide(void) {
    char dir[] = "/tmp/trawl-ancache3-XXXXXX", line[512], *err = NULL;
    if (!mkdtemp(dir)) return;
    trawl_writer *w;
    CHECK(trawl_writer_open(dir, NULL, &w, &err) == TRAWL_OK, "writer: %s", err);
    for (int i = 0; i < 300; i++) {
        make_doc(i, line, sizeof line);
        /* Replace the date: 2000..2010, or one of the far ends. */
        docs[i].has_date = 1;
        docs[i].date = i == 7 ? -8520336000LL : i == 8 ? 10413792000LL : 946684800 + (int64_t)below(&R, 315532800);
        char *dp = strstr(line, "\"date\":");
        if (dp) {
            char *end = strchr(dp, ',');
            char rest[512];
            snprintf(rest, sizeof rest, "%s", end ? end : "}");
            snprintf(dp, sizeof line - (size_t)(dp - line), "\"date\":%lld%s", (long long)docs[i].date, rest);
        } else {
            size_t n = strlen(line);
            snprintf(line + n - 1, sizeof line - n + 1, ",\"date\":%lld}", (long long)docs[i].date);
        }
        CHECK(trawl_writer_add_json(w, line, strlen(line)) == TRAWL_OK, "add %s", line);
    }
    CHECK(trawl_writer_delete(w, "d3") == TRAWL_OK, "delete");
    CHECK(trawl_writer_commit(w) == TRAWL_OK, "commit");
    trawl_writer_close(w);
    trawl_index *ix;
    if (trawl_index_open(dir, &ix, &err) == TRAWL_OK) {
        force_day = 1;
        check_index(ix, 30, "wide dates");
        force_day = 0;
        trawl_index_close(ix);
    }
    rm_rf(dir);
}

/* Public API: a search with one facet or a histogram; rc and message. */
static int api_search(trawl_index *ix, const char *facet, const char *hist, size_t *nvalues, size_t *nbuckets,
                      char *msg, size_t cap) {
    trawl_options *o = trawl_options_new();
    trawl_results *r = NULL;
    if (facet) trawl_options_add_facet(o, facet, 10);
    if (hist) trawl_options_set_histogram(o, hist, "month", NULL);
    int rc = trawl_search(ix, "zz", o, &r);
    *nvalues = trawl_results_facet_values(r, 0);
    *nbuckets = trawl_results_histogram_count(r);
    snprintf(msg, cap, "%s", rc ? trawl_results_errmsg(r) : "");
    trawl_results_free(r);
    trawl_options_free(o);
    return rc;
}

static void check_declared(void) {
    char dir[] = "/tmp/trawl-ancache2-XXXXXX", *err = NULL, msg[256];
    if (!mkdtemp(dir)) return;
    trawl_writer *w;
    CHECK(trawl_writer_open(dir, NULL, &w, &err) == TRAWL_OK, "writer: %s", err);
    /* No author, no date anywhere: both are declared by the default schema. */
    const char *lines[] = {"{\"id\":\"a\",\"title\":\"zz x\",\"tags\":[\"p\",\"q\\\"r\",\"s\\\\t\"]}",
                           "{\"id\":\"b\",\"title\":\"zz y\"}"};
    for (int i = 0; i < 2; i++) CHECK(trawl_writer_add_json(w, lines[i], strlen(lines[i])) == TRAWL_OK, "add");
    CHECK(trawl_writer_commit(w) == TRAWL_OK, "commit");
    trawl_writer_close(w);
    trawl_index *ix;
    CHECK(trawl_index_open(dir, &ix, &err) == TRAWL_OK, "open: %s", err);
    size_t nv, nb;
    int rc = api_search(ix, "author", NULL, &nv, &nb, msg, sizeof msg);
    CHECK(rc == TRAWL_OK && nv == 0, "facet on declared author without values: rc %d (%s), %zu values", rc, msg, nv);
    rc = api_search(ix, "date", "date", &nv, &nb, msg, sizeof msg);
    CHECK(rc == TRAWL_OK && nv == 0 && nb == 0, "declared date without values: rc %d (%s), %zu values %zu buckets", rc,
          msg, nv, nb);
    rc = api_search(ix, "tags", NULL, &nv, &nb, msg, sizeof msg);
    CHECK(rc == TRAWL_OK && nv == 3, "facet tags: rc %d (%s), %zu values", rc, msg, nv);
    /* Keyword values holding '"' and '\\' are written with backslash escapes. */
    static const struct {
        const char *q;
        uint64_t total;
    } esc[] = {{"zz tags:=\"q\\\"r\"", 1}, {"zz tags:=\"s\\\\t\"", 1}, {"zz tags:=\"q\\\"\"", 0}};
    for (size_t i = 0; i < sizeof esc / sizeof *esc; i++) {
        trawl_results *r = NULL;
        rc = trawl_search(ix, esc[i].q, NULL, &r);
        CHECK(rc == TRAWL_OK && trawl_results_total(r) == esc[i].total, "%s: rc %d total %llu (%s)", esc[i].q, rc,
              (unsigned long long)trawl_results_total(r), rc ? trawl_results_errmsg(r) : "");
        trawl_results_free(r);
    }
    rc = api_search(ix, "nope", NULL, &nv, &nb, msg, sizeof msg);
    CHECK(rc != TRAWL_OK && strstr(msg, "nope"), "facet on an undeclared field: rc %d (%s)", rc, msg);
    rc = api_search(ix, NULL, "title", &nv, &nb, msg, sizeof msg);
    CHECK(rc != TRAWL_OK && strstr(msg, "title"), "histogram on a text field: rc %d (%s)", rc, msg);
    trawl_index_close(ix);
    rm_rf(dir);
}

int main(void) {
    char dir[] = "/tmp/trawl-ancache-XXXXXX", line[512], *err = NULL;
    if (!mkdtemp(dir)) return 1;
    trawl_writer *w;
    if (trawl_writer_open(dir, NULL, &w, &err) != TRAWL_OK) {
        fprintf(stderr, "writer: %s\n", err);
        return 1;
    }
    trawl_writer_set_auto_merge(w, 0);
    for (int i = 0; i < NDOCS / 2; i++) {
        make_doc(i, line, sizeof line);
        if (trawl_writer_add_json(w, line, strlen(line)) != TRAWL_OK) return fprintf(stderr, "add\n"), 1;
        if (i == NDOCS / 4 && trawl_writer_commit(w) != TRAWL_OK) return 1;
    }
    if (trawl_writer_commit(w) != TRAWL_OK) return 1;
    trawl_index *ix;
    if (trawl_index_open(dir, &ix, &err) != TRAWL_OK) return fprintf(stderr, "open: %s\n", err), 1;
    check_index(ix, 60, "two segments");
    memcpy(before, docs, sizeof docs);
    /* Deletions and replacements, then the reopened index shares the
     * segments (and the caches built above). */
    for (int i = 0; i < NDOCS / 2; i += 5) {
        make_doc(i, line, sizeof line);
        if (trawl_writer_add_json(w, line, strlen(line)) != TRAWL_OK) return 1;
    }
    for (int i = 2; i < NDOCS / 2; i += 9) {
        char id[16];
        snprintf(id, sizeof id, "d%d", i);
        if (trawl_writer_delete(w, id) != TRAWL_OK) return 1;
    }
    if (trawl_writer_commit(w) != TRAWL_OK) return 1;
    trawl_index *ix2;
    CHECK(trawl_index_reopen(ix, &ix2) == TRAWL_OK, "reopen");
    CHECK(ix2->view.nsegs >= 3 && ix2->view.segs[0].seg == ix->view.segs[0].seg, "reopen shares the first segment");
    check_index(ix2, 60, "after deletions (reopened)");
    D = before;
    check_index(ix, 20, "old snapshot"); /* the old view's records and deletions still hold */
    D = docs;
    trawl_index_close(ix);
    /* New documents in a new commit. */
    for (int i = NDOCS / 2; i < NDOCS; i++) {
        make_doc(i, line, sizeof line);
        if (trawl_writer_add_json(w, line, strlen(line)) != TRAWL_OK) return 1;
    }
    if (trawl_writer_commit(w) != TRAWL_OK) return 1;
    trawl_writer_close(w);
    trawl_index *ix3;
    CHECK(trawl_index_reopen(ix2, &ix3) == TRAWL_OK, "reopen 2");
    trawl_index_close(ix2);
    check_index(ix3, 80, "after a new commit");
    trawl_index_close(ix3);
    /* A fresh open (new caches) of the same commit. */
    if (trawl_index_open(dir, &ix, &err) != TRAWL_OK) return fprintf(stderr, "open: %s\n", err), 1;
    check_threads(ix);
    check_index(ix, 20, "fresh open");
    trawl_index_close(ix);
    rm_rf(dir);
    check_declared();
    check_wide();
    uint64_t runs[3];
    tw_facet_method_counts(runs);
    printf("test_analytics_cache: %ld facet checks (%ld values, %ld with a tie at the cut; cost rule: %llu by "
           "ordinals, %llu pruned, %llu pruned then ordinals), %ld buckets, %d failures\n",
           facet_checks, facet_values_seen, tie_cases, (unsigned long long)runs[0], (unsigned long long)runs[1],
           (unsigned long long)runs[2], buckets_seen, failures);
    /* Forced methods count as ordinals / pruned: the rule itself must have chosen each way too. */
    CHECK(runs[0] > (uint64_t)facet_checks && runs[1] > (uint64_t)facet_checks && runs[2] > 0,
          "the cost rule never chose some method");
    CHECK(tie_cases >= 10 && buckets_seen > 1000, "too few ties or buckets to test anything");
    return failures ? 1 : 0;
}
