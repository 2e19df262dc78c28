/*
 * test_filters.c — typed-field filters, sort by a field and the match set
 * against a brute force over the documents the test generated.
 *
 * Corpus: 2,400 documents in three commits (the third replaces some earlier
 * ones, and some are deleted), with a tiny vocabulary (many ties), a date
 * (day or second precision, sometimes absent), tags (0..3 of 8) and a
 * source (5 names with spaces, sometimes absent), under the default trend
 * schema (date: date; tags, source: text+keyword).
 * Oracle: the set of documents a query matches WITHOUT filter (exhaustive
 * search, all hits) intersected with a brute-force evaluation of the filter
 * on the generated values (dates through libc's timegm). For each random
 * query and filter — in the query text, or through trawl_options_set_filter
 * — the total and the id set must equal the oracle's, and the fast
 * executors' page must equal the exhaustive one (ids, order, scores). Sort:
 * each page of a sorted search must be the oracle's page under (has value,
 * value, score) order, with ties broken in index order (checked as equal
 * keys). The match set (matchset.h; fast bitmap path and cursor walk) of
 * each filtered query, and of the filter alone (no query), must be the
 * brute-force set. Each query runs under one of the three ways of applying
 * the date ranges (the cost rule, predicates per candidate, column scan;
 * segfilter.h); negated ranges include the documents without a date. Errors: unknown field, text field, bad date, sort by text.
 * Skips (77) when the library has no typed fields yet.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "matchset.h"
#include "query.h"
#include "segfilter.h"
#include "testutil.h"
#include "trawl.h"

static int failures;
static long nonempty, sorted_hits; /* how much the checks saw */

#define NDOCS 2400
#define NTAGS 8
#define NSRC 5
static const char *const vocab[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};
static const char *const sources[NSRC] = {"The Register", "Ars Technica", "LWN", "the register", "Hacker News"};

typedef struct doc {
    char id[16];
    int live;
    int has_date;
    time_t date;
    int ntags, tags[3];
    int source; /* -1: none */
} doc;

static doc docs[NDOCS];
static rng R = {20261129};

static time_t civil(int y, int m, int d) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    return timegm(&tm);
}

/* Writes doc i (a new random version) as JSON into line. */
static int make_doc(int i, char *line, size_t cap) {
    doc *d = &docs[i];
    char body[512], tags[128], date[64], src[64];
    size_t n = 0;
    int nw = 1 + (int)below(&R, 12);
    body[0] = 0;
    for (int k = 0; k < nw; k++) {
        size_t a = below(&R, 8), b = below(&R, 8);
        n += (size_t)snprintf(body + n, sizeof body - n, "%s%s", k ? " " : "", vocab[a < b ? a : b]);
    }
    snprintf(d->id, sizeof d->id, "d%d", i);
    d->live = 1;
    d->has_date = below(&R, 10) != 0;
    date[0] = 0;
    if (d->has_date) {
        int y = 2018 + (int)below(&R, 8), m = 1 + (int)below(&R, 12), dd = 1 + (int)below(&R, 28);
        d->date = civil(y, m, dd);
        if (below(&R, 2)) {
            int h = (int)below(&R, 24), mi = (int)below(&R, 60), s = (int)below(&R, 60);
            d->date += h * 3600 + mi * 60 + s;
            snprintf(date, sizeof date, ",\"date\":\"%04d-%02d-%02dT%02d:%02d:%02dZ\"", y, m, dd, h, mi, s);
        } else {
            snprintf(date, sizeof date, ",\"date\":\"%04d-%02d-%02d\"", y, m, dd);
        }
    }
    d->ntags = (int)below(&R, 4);
    n = (size_t)snprintf(tags, sizeof tags, ",\"tags\":[");
    for (int k = 0; k < d->ntags; k++) {
        d->tags[k] = (int)below(&R, NTAGS);
        n += (size_t)snprintf(tags + n, sizeof tags - n, "%s\"t%d\"", k ? "," : "", d->tags[k]);
    }
    snprintf(tags + n, sizeof tags - n, "]");
    if (d->ntags == 0 && below(&R, 2)) tags[0] = 0;
    d->source = below(&R, 6) == 0 ? -1 : (int)below(&R, NSRC);
    src[0] = 0;
    if (d->source >= 0) snprintf(src, sizeof src, ",\"source\":\"%s\"", sources[d->source]);
    return snprintf(line, cap, "{\"id\":\"%s\",\"title\":\"%s\",\"body\":\"%s\"%s%s%s}", d->id, vocab[below(&R, 8)],
                    body, date, tags, src);
}

/* ---- filters and their brute force ---- */

enum {
    F_TAG,
    F_NOTTAG,
    F_SRC,
    F_GE,
    F_GT,
    F_LT,
    F_LE,
    F_RANGE,
    F_YEAR,
    F_TAGOR,
    F_TAGRANGE,
    F_OPEN,
    F_NOTRANGE,
    F_NOTYEAR
};

typedef struct filt {
    int kind, a, b;
    time_t lo, hi; /* dates: [lo, hi) allowed */
    char text[160];
} filt;

static int has_tag(const doc *d, int t) {
    for (int k = 0; k < d->ntags; k++)
        if (d->tags[k] == t) return 1;
    return 0;
}

/* A random filter: its text and what the brute force needs. */
static void make_filter(filt *f) {
    int y = 2018 + (int)below(&R, 8), m = 1 + (int)below(&R, 12), d = 1 + (int)below(&R, 28);
    int y2 = y + (int)below(&R, 3), m2 = 1 + (int)below(&R, 12), d2 = 1 + (int)below(&R, 28);
    time_t month = civil(y, m, 1), month_end = m == 12 ? civil(y + 1, 1, 1) : civil(y, m + 1, 1);
    f->kind = (int)below(&R, 14);
    f->a = (int)below(&R, NTAGS);
    f->b = (int)below(&R, NTAGS);
    switch (f->kind) {
        case F_TAG: snprintf(f->text, sizeof f->text, "tags:=t%d", f->a); break;
        case F_NOTTAG: snprintf(f->text, sizeof f->text, "-tags:=t%d", f->a); break;
        case F_SRC:
            f->a = (int)below(&R, NSRC);
            snprintf(f->text, sizeof f->text, "source:=\"%s\"", sources[f->a]);
            break;
        case F_GE: /* from the month's first second */
            f->lo = month;
            snprintf(f->text, sizeof f->text, "date>=%04d-%02d", y, m);
            break;
        case F_GT: /* after the whole day */
            f->lo = civil(y, m, d) + 86400;
            snprintf(f->text, sizeof f->text, "date>%04d-%02d-%02d", y, m, d);
            break;
        case F_LT: /* before the year */
            f->hi = civil(y, 1, 1);
            snprintf(f->text, sizeof f->text, "date<%04d", y);
            break;
        case F_LE: /* up to the month's end */
            f->hi = month_end;
            snprintf(f->text, sizeof f->text, "date<=%04d-%02d", y, m);
            break;
        case F_RANGE: /* inclusive of the whole last day */
            f->lo = civil(y, m, d);
            f->hi = civil(y2, m2, d2) + 86400;
            snprintf(f->text, sizeof f->text, "date:[%04d-%02d-%02d TO %04d-%02d-%02d]", y, m, d, y2, m2, d2);
            break;
        case F_YEAR:
            f->lo = civil(y, 1, 1);
            f->hi = civil(y + 1, 1, 1);
            snprintf(f->text, sizeof f->text, "year:%04d", y);
            break;
        case F_TAGOR: snprintf(f->text, sizeof f->text, "(tags:=t%d OR tags:=t%d)", f->a, f->b); break;
        case F_TAGRANGE:
            if (f->a > f->b) {
                int t = f->a;
                f->a = f->b;
                f->b = t;
            }
            snprintf(f->text, sizeof f->text, "tags:[t%d TO t%d]", f->a, f->b);
            break;
        case F_OPEN:
            f->lo = civil(y, m, d);
            snprintf(f->text, sizeof f->text, "date:[%04d-%02d-%02d TO *]", y, m, d);
            break;
        case F_NOTRANGE: /* a negated range: also every document without a date */
            f->lo = month;
            snprintf(f->text, sizeof f->text, "-date:[%04d-%02d TO %04d-%02d]", y, m, y2, m2);
            f->hi = m2 == 12 ? civil(y2 + 1, 1, 1) : civil(y2, m2 + 1, 1);
            break;
        case F_NOTYEAR:
            f->lo = civil(y, 1, 1);
            f->hi = civil(y + 1, 1, 1);
            snprintf(f->text, sizeof f->text, "-year:%04d", y);
            break;
    }
}

static int allows(const filt *f, const doc *d) {
    switch (f->kind) {
        case F_TAG: return has_tag(d, f->a);
        case F_NOTTAG: return !has_tag(d, f->a);
        case F_SRC: return d->source == f->a;
        case F_GE:
        case F_GT:
        case F_OPEN: return d->has_date && d->date >= f->lo;
        case F_LT:
        case F_LE: return d->has_date && d->date < f->hi;
        case F_RANGE:
        case F_YEAR: return d->has_date && d->date >= f->lo && d->date < f->hi;
        case F_NOTRANGE:
        case F_NOTYEAR: return !(d->has_date && d->date >= f->lo && d->date < f->hi);
        case F_TAGOR: return has_tag(d, f->a) || has_tag(d, f->b);
        case F_TAGRANGE:
            for (int k = 0; k < d->ntags; k++)
                if (d->tags[k] >= f->a && d->tags[k] <= f->b) return 1;
            return 0;
    }
    return 0;
}

/* ---- searching ---- */

#define MAXH 3000
typedef struct out {
    uint64_t total;
    size_t n;
    int idx[MAXH]; /* doc numbers */
    double score[MAXH];
    char sv[MAXH][40];
} out;

static int doc_of(const char *id) {
    return id && id[0] == 'd' ? atoi(id + 1) : -1;
}

static int search(trawl_index *ix, const char *q, const char *filter, const char *sort, int exhaustive, size_t k,
                  size_t off, out *o, char *err, size_t errcap) {
    trawl_options *opt = trawl_options_new();
    trawl_results *r = NULL;
    trawl_options_set_limit(opt, k);
    trawl_options_set_offset(opt, off);
    trawl_options_set_snippets(opt, 0);
    trawl_options_set_exhaustive(opt, exhaustive);
    if (filter) trawl_options_set_filter(opt, filter);
    if (sort) trawl_options_set_sort(opt, sort);
    int rc = trawl_search(ix, q, opt, &r);
    trawl_options_free(opt);
    if (rc == TRAWL_OK) {
        o->total = trawl_results_total(r);
        o->n = trawl_results_count(r);
        for (size_t i = 0; i < o->n && i < MAXH; i++) {
            const char *sv = trawl_results_sort_value(r, i);
            o->idx[i] = doc_of(trawl_results_id(r, i));
            o->score[i] = trawl_results_score(r, i);
            snprintf(o->sv[i], sizeof o->sv[i], "%s", sv ? sv : "");
        }
    } else if (err) {
        snprintf(err, errcap, "%s", trawl_results_errmsg(r));
    }
    trawl_results_free(r);
    return rc;
}

static out A, B, C;

static void make_query(char *q, size_t cap) {
    size_t n = 0;
    int nw = 1 + (int)below(&R, 3);
    for (int k = 0; k < nw; k++) {
        const char *op = k == 0 ? "" : below(&R, 3) == 0 ? " OR " : " ";
        n += (size_t)snprintf(q + n, cap - n, "%s%s%s", op, below(&R, 8) == 0 && k ? "-" : "", vocab[below(&R, 6)]);
    }
}

/* Checks the match set of text (NULL: none) with filter against want[] (a
 * flag per doc number) holding expect documents. */
static void check_matchset(trawl_index *ix, const char *text, const char *filter, const unsigned char *want,
                           uint64_t expect) {
    tw_params p;
    tw_matchset m;
    char err[512];
    long erroff;
    tw_params_default(&p);
    p.filter = filter;
    tw_qctx *ctx = tw_index_qctx_acquire(ix);
    int rc = tw_query_matchset(&ix->view, &p, ctx, text, text ? strlen(text) : 0, &m, err, sizeof err, &erroff);
    tw_index_qctx_release(ix, ctx);
    if (rc) {
        CHECK(0, "match set of '%s' filter '%s': %s", text ? text : "", filter ? filter : "", err);
        return;
    }
    uint64_t n = 0, good = 0;
    for (uint32_t s = 0; s < m.nsegs; s++) {
        roaring_uint32_iterator_t it;
        for (roaring_init_iterator(m.segs[s], &it); it.has_value; roaring_advance_uint32_iterator(&it)) {
            size_t len;
            const char *id = tw_segment_id(ix->view.segs[s].seg, it.current_value, &len);
            char buf[32];
            snprintf(buf, sizeof buf, "%.*s", (int)(len < 31 ? len : 31), id);
            int d = doc_of(buf);
            n++;
            good += d >= 0 && d < NDOCS && want[d];
        }
    }
    CHECK(m.total == expect && n == expect && good == expect,
          "match set of '%s' filter '%s': total %llu, %llu docs (%llu expected ones), brute force %llu",
          text ? text : "", filter ? filter : "", (unsigned long long)m.total, (unsigned long long)n,
          (unsigned long long)good, (unsigned long long)expect);
    tw_matchset_free(&m);
}

/* Filter checks for one query: totals and id sets against the brute force,
 * fast against exhaustive. */
static void check_filters(trawl_index *ix, int nq) {
    char q[256], fq[1024], err[512];
    for (int it = 0; it < nq; it++) {
        filt f, g;
        /* Each way of applying the date ranges (segfilter.h): as the cost
         * rule chooses, per candidate, by column scan. */
        tw_segfilter_set_mode(it % 3);
        make_query(q, sizeof q);
        make_filter(&f);
        make_filter(&g);
        int two = below(&R, 3) == 0;
        /* The unfiltered matches. */
        if (search(ix, q, NULL, NULL, 1, MAXH, 0, &A, err, sizeof err) != TRAWL_OK) {
            CHECK(0, "'%s': %s", q, err);
            continue;
        }
        if (A.n != A.total) {
            CHECK(0, "'%s': more than %d matches", q, MAXH);
            continue;
        }
        static unsigned char want[NDOCS];
        memset(want, 0, sizeof want);
        uint64_t expect = 0;
        for (size_t i = 0; i < A.n; i++) {
            const doc *d = &docs[A.idx[i]];
            if (allows(&f, d) && (!two || allows(&g, d))) want[A.idx[i]] = 1, expect++;
        }
        /* In the query text, or as the filter parameter. */
        int param = (int)below(&R, 2);
        const char *filter = NULL;
        if (param) {
            snprintf(fq, sizeof fq, "%s%s%s", f.text, two ? " " : "", two ? g.text : "");
            filter = fq;
            snprintf(err, sizeof err, "%s", q);
        } else {
            snprintf(fq, sizeof fq, "(%s) %s %s", q, f.text, two ? g.text : "");
        }
        const char *text = param ? q : fq;
        size_t k = below(&R, 4) == 0 ? 0 : 1 + below(&R, 20);
        if (search(ix, text, filter, NULL, 1, MAXH, 0, &B, err, sizeof err) != TRAWL_OK) {
            CHECK(0, "'%s' filter '%s': %s", text, filter ? filter : "", err);
            continue;
        }
        nonempty += expect > 0;
        CHECK(B.total == expect, "'%s' filter '%s': total %llu, brute force %llu", text, filter ? filter : "",
              (unsigned long long)B.total, (unsigned long long)expect);
        size_t same = 0;
        for (size_t i = 0; i < B.n; i++) same += B.idx[i] >= 0 && want[B.idx[i]];
        CHECK(same == expect && B.n == expect, "'%s' filter '%s': %zu of %zu hits in the brute-force set of %llu", text,
              filter ? filter : "", same, B.n, (unsigned long long)expect);
        check_matchset(ix, text, filter, want, expect);
        if (it % 4 == 0) { /* the filter alone, over every live document */
            uint64_t all = 0;
            memset(want, 0, sizeof want);
            for (int i = 0; i < NDOCS; i++)
                if (docs[i].live && allows(&f, &docs[i])) want[i] = 1, all++;
            check_matchset(ix, NULL, f.text, want, all);
        }
        /* Fast executors: the same page as exhaustive. */
        size_t off = below(&R, 4) == 0 ? below(&R, 10) : 0;
        if (search(ix, text, filter, NULL, 0, k, off, &C, err, sizeof err) != TRAWL_OK ||
            search(ix, text, filter, NULL, 1, k, off, &B, err, sizeof err) != TRAWL_OK) {
            CHECK(0, "'%s': %s", text, err);
            continue;
        }
        CHECK(C.total == B.total && C.n == B.n, "'%s' filter '%s' k=%zu: fast total %llu n %zu, exhaustive %llu n %zu",
              text, filter ? filter : "", k, (unsigned long long)C.total, C.n, (unsigned long long)B.total, B.n);
        for (size_t i = 0; i < C.n && i < B.n; i++)
            if (C.idx[i] != B.idx[i] || C.score[i] != B.score[i]) {
                CHECK(0, "'%s' filter '%s' hit %zu: fast d%d %.17g, exhaustive d%d %.17g", text, filter ? filter : "",
                      i, C.idx[i], C.score[i], B.idx[i], B.score[i]);
                break;
            }
    }
}

/* The sort key of doc d for field (0 date, 1 tags, 2 source): has, then a
 * comparable string (dates as 20-digit numbers, keywords as bytes). */
static int sort_key(int field, const doc *d, char *buf, size_t cap) {
    if (field == 0) {
        if (!d->has_date) return 0;
        snprintf(buf, cap, "%020lld", (long long)d->date + 100000000000LL);
        return 1;
    }
    if (field == 1) {
        if (d->ntags == 0) return 0;
        int m = d->tags[0];
        for (int k = 1; k < d->ntags; k++)
            if (d->tags[k] < m) m = d->tags[k];
        snprintf(buf, cap, "t%d", m);
        return 1;
    }
    if (d->source < 0) return 0;
    snprintf(buf, cap, "%s", sources[d->source]);
    return 1;
}

typedef struct skey {
    int has;
    char v[48];
    double score;
} skey;
static int g_desc;
static int cmp_key(const skey *a, const skey *b) {
    if (a->has != b->has) return a->has ? -1 : 1;
    if (a->has) {
        int c = strcmp(a->v, b->v);
        if (c) return g_desc ? -c : c;
    }
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return 0;
}
static int qcmp_key(const void *x, const void *y) {
    return cmp_key(x, y);
}

static skey keys[MAXH];

static void check_sort(trawl_index *ix, int nq) {
    static const char *const fields[] = {"date", "tags", "source"};
    char q[256], spec[32], err[512];
    for (int it = 0; it < nq; it++) {
        make_query(q, sizeof q);
        int field = (int)below(&R, 3);
        g_desc = (int)below(&R, 2);
        snprintf(spec, sizeof spec, "%s%s", fields[field], g_desc ? ":desc" : below(&R, 2) ? ":asc" : "");
        if (search(ix, q, NULL, NULL, 1, MAXH, 0, &A, err, sizeof err) != TRAWL_OK) {
            CHECK(0, "'%s': %s", q, err);
            continue;
        }
        for (size_t i = 0; i < A.n; i++) {
            keys[i].has = sort_key(field, &docs[A.idx[i]], keys[i].v, sizeof keys[i].v);
            keys[i].score = A.score[i];
        }
        qsort(keys, A.n, sizeof *keys, qcmp_key);
        size_t k = 1 + below(&R, 15), off = below(&R, 3) == 0 ? below(&R, 30) : 0;
        int exh = (int)below(&R, 2);
        if (search(ix, q, NULL, spec, exh, k, off, &B, err, sizeof err) != TRAWL_OK) {
            CHECK(0, "'%s' sort %s: %s", q, spec, err);
            continue;
        }
        CHECK(B.total == A.total, "'%s' sort %s: total %llu, unsorted %llu", q, spec, (unsigned long long)B.total,
              (unsigned long long)A.total);
        size_t expect_n = off < A.n ? (A.n - off < k ? A.n - off : k) : 0;
        CHECK(B.n == expect_n, "'%s' sort %s k=%zu off=%zu: %zu hits, want %zu", q, spec, k, off, B.n, expect_n);
        sorted_hits += (long)B.n;
        for (size_t i = 0; i < B.n && i < expect_n; i++) {
            skey got;
            got.has = sort_key(field, &docs[B.idx[i]], got.v, sizeof got.v);
            got.score = B.score[i];
            if (cmp_key(&got, &keys[off + i]) != 0) {
                CHECK(0, "'%s' sort %s off=%zu hit %zu: d%d (%s %.17g), brute force key (%s %.17g)", q, spec, off, i,
                      B.idx[i], got.has ? got.v : "-", got.score, keys[off + i].has ? keys[off + i].v : "-",
                      keys[off + i].score);
                break;
            }
            /* The sort value shown is the document's. */
            CHECK((B.sv[i][0] != 0) == got.has, "'%s' sort %s hit %zu: sort value '%s' for has=%d", q, spec, i, B.sv[i],
                  got.has);
        }
    }
}

static void expect_error(trawl_index *ix, const char *q, const char *filter, const char *sort, trawl_rc want,
                         const char *needle) {
    char err[512] = "";
    int rc = search(ix, q, filter, sort, 0, 10, 0, &A, err, sizeof err);
    CHECK(rc == (int)want && strstr(err, needle), "'%s' filter '%s' sort '%s': rc %d '%s', want %d with '%s'", q,
          filter ? filter : "", sort ? sort : "", rc, err, want, needle);
}

int main(void) {
    char dir[] = "/tmp/trawl-filters-XXXXXX", line[2048], *err = NULL;
    if (!mkdtemp(dir)) return 1;
    trawl_writer *w;
    if (trawl_writer_open(dir, NULL, &w, &err) != TRAWL_OK) {
        fprintf(stderr, "writer: %s\n", err);
        return 1;
    }
    /* Three commits: new documents, then some replaced, then some deleted. */
    for (int i = 0; i < NDOCS; i++) {
        int n = make_doc(i, line, sizeof line);
        if (trawl_writer_add_json(w, line, (size_t)n) != TRAWL_OK) return fprintf(stderr, "add\n"), 1;
        if (i == NDOCS / 2 && trawl_writer_commit(w) != TRAWL_OK) return 1;
    }
    if (trawl_writer_commit(w) != TRAWL_OK) return 1;
    for (int i = 0; i < NDOCS; i += 7) {
        int n = make_doc(i, line, sizeof line);
        if (trawl_writer_add_json(w, line, (size_t)n) != TRAWL_OK) return 1;
    }
    for (int i = 3; i < NDOCS; i += 11) {
        docs[i].live = 0;
        if (trawl_writer_delete(w, docs[i].id) != TRAWL_OK) return 1;
    }
    if (trawl_writer_commit(w) != TRAWL_OK) return 1;
    trawl_writer_close(w);
    trawl_index *ix;
    if (trawl_index_open(dir, &ix, &err) != TRAWL_OK) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    char e[512];
    if (search(ix, "date>=2000", NULL, NULL, 0, 1, 0, &A, e, sizeof e) != TRAWL_OK) {
        printf("SKIP: no typed fields in this build (%s)\n", e);
        trawl_index_close(ix);
        rm_rf(dir);
        return 77;
    }
    check_filters(ix, 600);
    tw_segfilter_set_mode(TW_SEGFILTER_RULE);
    check_sort(ix, 200);
    expect_error(ix, "alpha nope:=x", NULL, NULL, TRAWL_ESYNTAX, "unknown field 'nope'");
    expect_error(ix, "alpha title:=x", NULL, NULL, TRAWL_ESYNTAX, "is text");
    expect_error(ix, "alpha date>=2024-13", NULL, NULL, TRAWL_ESYNTAX, "not a date");
    expect_error(ix, "alpha", "date<x", NULL, TRAWL_ESYNTAX, "filter: ");
    expect_error(ix, "alpha", "date:[2020", NULL, TRAWL_ESYNTAX, "filter: ");
    expect_error(ix, "alpha", NULL, "title", TRAWL_ESYNTAX, "text field");
    expect_error(ix, "alpha", NULL, "nope:desc", TRAWL_ESYNTAX, "no keyword");
    trawl_options *o = trawl_options_new();
    CHECK(trawl_options_set_sort(o, "date:up") == TRAWL_EINVAL, "sort date:up accepted");
    CHECK(trawl_options_set_sort(o, ":desc") == TRAWL_EINVAL, "sort :desc accepted");
    CHECK(trawl_options_set_sort(o, "date:desc") == TRAWL_OK, "sort date:desc refused");
    trawl_options_free(o);
    trawl_index_close(ix);
    rm_rf(dir);
    printf("test_filters: 600 filtered queries (%ld with matches), 200 sorted pages (%ld hits), %d failures\n",
           nonempty, sorted_hits, failures);
    CHECK(nonempty > 200 && sorted_hits > 1000, "too few matches to test anything");
    return failures ? 1 : 0;
}
