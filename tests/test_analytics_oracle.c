/*
 * test_analytics_oracle.c — searches over dated documents (issue 8) against a
 * brute-force computation over the documents themselves.
 *
 * A seeded generator makes ORA_DOCS documents with random schema values: a
 * date written in one of several forms (YYYY-MM-DD, date-time with Z, with a
 * ±hh:mm offset, epoch seconds as a JSON integer) or missing; a source (case
 * kept: "The Register" and "the register" are different values; some with
 * spaces and punctuation) or missing; 0-4 distinct tags; an author; title and
 * body words from a small vocabulary spelled so that no stemmer changes them
 * (consonant-vowel syllables ending in k, p or b). They are indexed through the
 * public API (include/trawl.h) in several commits (several segments), then some
 * are deleted and some replaced with new values. The test keeps its own copy
 * of every live document: the oracle.
 *
 * ORA_QUERIES random queries (1-3 words, AND or OR) are each compared with the
 * brute force: the exact total, and the exact set of ids when the total is
 * small enough to fetch all hits.
 *
 * The brute force also computes, for every query, what the issue-8 features
 * must answer — a random filter's matching set (keyword equality, date ranges
 * with partial-date spans, year:), the top-N facet values with counts, the
 * month histogram (matching and all documents per bucket) and the order by date
 * — and checks its own consistency (buckets sum to the total, facet counts
 * never exceed it, the sorted order is a permutation of the matches). The
 * comparison of each of these with trawl is enabled as the feature lands in
 * the public API; until then only the oracle's self-checks run for them.
 *
 * Set TRAWL_ORACLE_SEED to rerun with other documents and queries.
 */
#include "trawl.h"

#include <inttypes.h>
#include <stdarg.h>

#include "testutil.h"

static int failures;

#define ORA_DOCS 5000
#define ORA_COMMITS 4
#define ORA_DELETES 150
#define ORA_REPLACES 120
#define ORA_QUERIES 400
#define ORA_VOCAB 48
#define ORA_MAX_TAGS 4
#define ORA_FETCH_ALL 400 /* fetch every hit (and compare ids) when total <= this */

/* ---- a small calendar (independent of the library's) -------------------- */

/* Days since 1970-01-01 of y-m-d, by counting: years, then months. */
static int64_t days_of(int y, int m, int d) {
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t days = 0;
    for (int yy = 1970; yy < y; yy++) days += (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
    for (int mm = 1; mm < m; mm++) days += mdays[mm - 1] + (mm == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
    return days + d - 1;
}

static int month_len(int y, int m) {
    return (int)(days_of(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - days_of(y, m, 1));
}

/* The year and month (UTC) of epoch seconds t >= 0, by search. */
static void ym_of(int64_t t, int *y, int *m) {
    int64_t day = t / 86400;
    *y = 1970;
    while (days_of(*y + 1, 1, 1) <= day) (*y)++;
    *m = 1;
    while (*m < 12 && days_of(*y, *m + 1, 1) <= day) (*m)++;
}

/* ---- the documents ------------------------------------------------------ */

static const char *const sources[] = {"The Register", "the register", "Hacker News", "LWN.net",    "Ars Technica",
                                      "Source/1",     "Source/2",     "Q&A Weekly",  "\"Quoted\"", "Zeitung für Alle"};
#define NSOURCES (sizeof sources / sizeof sources[0])
static const char *const tags[] = {"ai",   "AI",     "ml",        "rust",     "go",    "Go",      "c++",    "k8s",
                                   "wasm", "web 3",  "cloud",     "security", "db",    "sql",     "nosql",  "linux",
                                   "bsd",  "finops", "edge",      "iot",      "gpu",   "quantum", "crypto", "vr",
                                   "a/b",  "x-y",    "long tag ", "ünïcode",  "tag:1", "[brk]",   "t30",    "t31"};
#define NTAGS (sizeof tags / sizeof tags[0])
#define NAUTHORS 25

typedef struct odoc {
    char id[16];
    int live;
    int has_date;
    int64_t date;
    int source; /* -1: none */
    int ntags;
    int tag[ORA_MAX_TAGS];
    int month; /* months since 2016-01 of the date (UTC), when has_date */
    int author;
    int nwords;
    int word[24]; /* title and body words (vocabulary indices) */
} odoc;

typedef struct ora {
    rng r;
    char vocab[ORA_VOCAB][8];
    odoc d[ORA_DOCS];
    char dir[4096];
    trawl_index *ix;
} ora;

/* Vocabulary word i: two or three syllables and a final k, p or b. */
static void make_vocab(ora *o) {
    static const char cons[] = "bdfgklmnprstvz", vow[] = "aeiou", fin[] = "kpb";
    for (size_t i = 0; i < ORA_VOCAB; i++) {
        size_t x = i * 7919 + 13, n = 0;
        for (int s = 0; s < 2 + (int)(i % 2); s++) {
            o->vocab[i][n++] = cons[x % 14];
            x /= 14;
            o->vocab[i][n++] = vow[x % 5];
            x /= 5;
            x += i;
        }
        o->vocab[i][n++] = fin[i % 3];
        o->vocab[i][n] = '\0';
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->vocab[j], o->vocab[i]) == 0) o->vocab[i][0] = 'h'; /* keep words distinct */
    }
}

/* A skewed draw from [0, n): the smaller of two uniform draws. */
static int skewed(rng *r, size_t n) {
    size_t a = below(r, n), b = below(r, n);
    return (int)(a < b ? a : b);
}

/* Fills doc d with random values (its id is set by the caller). */
static void random_doc(ora *o, odoc *d) {
    d->live = 1;
    d->has_date = below(&o->r, 100) >= 3;
    /* 2016-01-01 .. 2025-12-31, any second */
    d->date = days_of(2016, 1, 1) * 86400 +
              (int64_t)below(&o->r, (size_t)(days_of(2026, 1, 1) - days_of(2016, 1, 1)) * 86400);
    d->source = below(&o->r, 100) < 5 ? -1 : skewed(&o->r, NSOURCES);
    d->ntags = (int)below(&o->r, ORA_MAX_TAGS + 1);
    for (int i = 0; i < d->ntags; i++) {
        int t, dup;
        do {
            t = skewed(&o->r, NTAGS);
            dup = 0;
            for (int j = 0; j < i; j++) dup |= d->tag[j] == t;
        } while (dup);
        d->tag[i] = t;
    }
    d->author = (int)below(&o->r, NAUTHORS);
    d->nwords = 2 + (int)below(&o->r, 22);
    for (int i = 0; i < d->nwords; i++) d->word[i] = skewed(&o->r, ORA_VOCAB);
}

/* A growable string. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        char *np = realloc(b->p, b->cap);
        if (!np) exit(2);
        b->p = np;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Appends s as a JSON string. */
static void sb_json(sbuf *b, const char *s) {
    sb_printf(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sb_printf(b, "\\%c", *s);
        else
            sb_printf(b, "%c", *s);
    }
    sb_printf(b, "\"");
}

/* Writes d's date in a random form: the form decides nothing about the
 * instant, which is d->date (a date-only form first moves d->date to the
 * start of its day, an offset form writes the local time). */
static void json_date(ora *o, odoc *d, sbuf *b) {
    int64_t t = d->date;
    int form = (int)below(&o->r, 4);
    if (form == 0) t -= t % 86400;
    d->date = t;
    if (form == 3) {
        sb_printf(b, "%" PRId64, t);
        return;
    }
    int off = 0;
    if (form == 2) off = ((int)below(&o->r, 27) - 12) * 3600 + (below(&o->r, 2) ? 30 * 60 : 0);
    int64_t local = t + off;
    int y, m;
    ym_of(local, &y, &m);
    int64_t day = local / 86400, sec = local % 86400;
    int dd = (int)(day - days_of(y, m, 1)) + 1;
    if (form == 0) {
        sb_printf(b, "\"%04d-%02d-%02d\"", y, m, dd);
    } else {
        sb_printf(b, "\"%04d-%02d-%02dT%02d:%02d:%02d", y, m, dd, (int)(sec / 3600), (int)(sec / 60 % 60),
                  (int)(sec % 60));
        if (form == 1)
            sb_printf(b, "Z\"");
        else
            sb_printf(b, "%c%02d:%02d\"", off < 0 ? '-' : '+', abs(off) / 3600, abs(off) / 60 % 60);
    }
}

/* d as a JSON line in b (reset first). */
static void doc_json(ora *o, odoc *d, sbuf *b) {
    b->len = 0;
    sb_printf(b, "{\"id\":\"%s\"", d->id);
    if (d->has_date) {
        sb_printf(b, ",\"date\":");
        json_date(o, d, b);
    }
    if (d->source >= 0) {
        sb_printf(b, ",\"source\":");
        sb_json(b, sources[d->source]);
    }
    sb_printf(b, ",\"tags\":[");
    for (int i = 0; i < d->ntags; i++) {
        if (i) sb_printf(b, ",");
        sb_json(b, tags[d->tag[i]]);
    }
    sb_printf(b, "],\"author\":\"Author %02d\",\"title\":\"", d->author);
    int nt = d->nwords < 4 ? d->nwords : 1 + d->nwords / 6;
    for (int i = 0; i < nt; i++) sb_printf(b, "%s%s", i ? " " : "", o->vocab[d->word[i]]);
    if (d->has_date) {
        int y, m;
        ym_of(d->date, &y, &m);
        d->month = (y - 2016) * 12 + (m - 1);
    }
    sb_printf(b, "\",\"body\":\"");
    for (int i = nt; i < d->nwords; i++) sb_printf(b, "%s%s", i > nt ? " " : "", o->vocab[d->word[i]]);
    sb_printf(b, "\"}");
}

static int doc_has_word(const odoc *d, int w) {
    for (int i = 0; i < d->nwords; i++)
        if (d->word[i] == w) return 1;
    return 0;
}

/* Builds the index: ORA_DOCS documents in ORA_COMMITS commits, then deletes
 * and replacements in one more commit. Returns 0 or -1. */
static int build(ora *o) {
    trawl_writer *w = NULL;
    char *msg = NULL;
    if (trawl_writer_open(o->dir, "english", &w, &msg) != TRAWL_OK) {
        fprintf(stderr, "writer_open: %s\n", msg ? msg : "?");
        trawl_free(msg);
        return -1;
    }
    sbuf b = {NULL, 0, 0};
    int rc = 0;
    for (size_t i = 0; i < ORA_DOCS && rc == 0; i++) {
        odoc *d = &o->d[i];
        snprintf(d->id, sizeof d->id, "d%05zu", i);
        random_doc(o, d);
        doc_json(o, d, &b);
        if (trawl_writer_add_json(w, b.p, b.len) != TRAWL_OK) {
            fprintf(stderr, "add %s: %s\n", b.p, trawl_writer_errmsg(w));
            rc = -1;
        }
        if (rc == 0 && (i + 1) % (ORA_DOCS / ORA_COMMITS) == 0 && trawl_writer_commit(w) != TRAWL_OK) {
            fprintf(stderr, "commit: %s\n", trawl_writer_errmsg(w));
            rc = -1;
        }
    }
    for (size_t k = 0; k < ORA_DELETES && rc == 0; k++) {
        odoc *d = &o->d[below(&o->r, ORA_DOCS)];
        if (trawl_writer_delete(w, d->id) != TRAWL_OK) rc = -1;
        d->live = 0;
    }
    for (size_t k = 0; k < ORA_REPLACES && rc == 0; k++) {
        odoc *d = &o->d[below(&o->r, ORA_DOCS)];
        random_doc(o, d);
        doc_json(o, d, &b);
        if (trawl_writer_add_json(w, b.p, b.len) != TRAWL_OK) {
            fprintf(stderr, "replace %s: %s\n", b.p, trawl_writer_errmsg(w));
            rc = -1;
        }
    }
    if (rc == 0 && trawl_writer_commit(w) != TRAWL_OK) {
        fprintf(stderr, "commit: %s\n", trawl_writer_errmsg(w));
        rc = -1;
    }
    trawl_writer_close(w);
    free(b.p);
    if (rc == 0 && trawl_index_open(o->dir, &o->ix, &msg) != TRAWL_OK) {
        fprintf(stderr, "index_open: %s\n", msg ? msg : "?");
        trawl_free(msg);
        rc = -1;
    }
    return rc;
}

/* ---- queries and their brute-force answers ------------------------------ */

typedef struct oquery {
    int nwords, word[3];
    int use_or;
    char text[64];
} oquery;

static void random_query(ora *o, oquery *q) {
    q->nwords = 1 + (int)below(&o->r, 3);
    q->use_or = below(&o->r, 5) == 0;
    size_t n = 0;
    for (int i = 0; i < q->nwords; i++) {
        q->word[i] = skewed(&o->r, ORA_VOCAB);
        n += (size_t)snprintf(q->text + n, sizeof q->text - n, "%s%s", i ? " " : "", o->vocab[q->word[i]]);
    }
}

static int query_matches(const oquery *q, const odoc *d) {
    if (!d->live) return 0;
    int all = 1, any = 0;
    for (int i = 0; i < q->nwords; i++) {
        int h = doc_has_word(d, q->word[i]);
        all &= h;
        any |= h;
    }
    return q->use_or ? any : all;
}

/* A filter of the issue-8 syntax and its meaning. */
typedef enum fkind { F_NONE, F_SOURCE, F_TAG, F_RANGE, F_GE, F_LT, F_YEAR } fkind;
typedef struct ofilter {
    fkind kind;
    int value;      /* source or tag index; the year of F_YEAR */
    int64_t lo, hi; /* the instants [lo, hi) a date must fall in */
    char text[96];
} ofilter;

/* A random partial date (year, year-month or year-month-day) and its span
 * [start, end). Writes its text to buf. */
static void random_partial(ora *o, char *buf, size_t cap, int64_t *start, int64_t *end) {
    int y = 2015 + (int)below(&o->r, 12), m = 1 + (int)below(&o->r, 12), d = 1 + (int)below(&o->r, 28);
    switch (below(&o->r, 3)) {
        case 0:
            snprintf(buf, cap, "%04d", y);
            *start = days_of(y, 1, 1) * 86400;
            *end = days_of(y + 1, 1, 1) * 86400;
            break;
        case 1:
            snprintf(buf, cap, "%04d-%02d", y, m);
            *start = days_of(y, m, 1) * 86400;
            *end = *start + (int64_t)month_len(y, m) * 86400;
            break;
        default:
            snprintf(buf, cap, "%04d-%02d-%02d", y, m, d);
            *start = days_of(y, m, d) * 86400;
            *end = *start + 86400;
    }
}

static void random_filter(ora *o, ofilter *f) {
    char a[32], b[32];
    int64_t s1, e1, s2, e2;
    f->kind = (fkind)(1 + below(&o->r, 6));
    f->lo = INT64_MIN;
    f->hi = INT64_MAX;
    switch (f->kind) {
        case F_SOURCE:
            f->value = (int)below(&o->r, NSOURCES);
            snprintf(f->text, sizeof f->text, "source:=%s", ""); /* the quoted value is appended below */
            {
                size_t n = strlen(f->text);
                f->text[n++] = '"';
                for (const char *s = sources[f->value]; *s && n + 3 < sizeof f->text; s++) {
                    if (*s == '"' || *s == '\\') f->text[n++] = '\\';
                    f->text[n++] = *s;
                }
                f->text[n++] = '"';
                f->text[n] = '\0';
            }
            break;
        case F_TAG:
            f->value = (int)below(&o->r, NTAGS);
            {
                size_t n = (size_t)snprintf(f->text, sizeof f->text, "tags:=\"");
                for (const char *s = tags[f->value]; *s && n + 3 < sizeof f->text; s++) {
                    if (*s == '"' || *s == '\\') f->text[n++] = '\\';
                    f->text[n++] = *s;
                }
                f->text[n++] = '"';
                f->text[n] = '\0';
            }
            break;
        case F_RANGE:
            random_partial(o, a, sizeof a, &s1, &e1);
            random_partial(o, b, sizeof b, &s2, &e2);
            if (s2 < s1) {
                char t[32];
                memcpy(t, a, sizeof t);
                memcpy(a, b, sizeof a);
                memcpy(b, t, sizeof b);
                int64_t ts = s1, te = e1;
                s1 = s2;
                e1 = e2;
                s2 = ts;
                e2 = te;
            }
            snprintf(f->text, sizeof f->text, "date:[%s TO %s]", a, b);
            f->lo = s1;
            f->hi = e2;
            break;
        case F_GE:
            random_partial(o, a, sizeof a, &s1, &e1);
            snprintf(f->text, sizeof f->text, "date>=%s", a);
            f->lo = s1;
            break;
        case F_LT:
            random_partial(o, a, sizeof a, &s1, &e1);
            snprintf(f->text, sizeof f->text, "date<%s", a);
            f->hi = s1;
            break;
        case F_YEAR:
            f->value = 2015 + (int)below(&o->r, 12);
            snprintf(f->text, sizeof f->text, "year:%d", f->value);
            f->lo = days_of(f->value, 1, 1) * 86400;
            f->hi = days_of(f->value + 1, 1, 1) * 86400;
            break;
        default: f->text[0] = '\0';
    }
}

static int filter_matches(const ofilter *f, const odoc *d) {
    switch (f->kind) {
        case F_NONE: return 1;
        case F_SOURCE: return d->source == f->value;
        case F_TAG:
            for (int i = 0; i < d->ntags; i++)
                if (d->tag[i] == f->value) return 1;
            return 0;
        default: return d->has_date && d->date >= f->lo && d->date < f->hi;
    }
}

/* The month histogram of a match set: per month index since 2016-01 (0..119)
 * the matching and the live documents with a date. */
#define NMONTHS 120
typedef struct ohist {
    uint64_t match[NMONTHS], all[NMONTHS];
    int first, last; /* months of the first and last matching bucket; -1 if none */
} ohist;

/* ---- the checks --------------------------------------------------------- */

typedef struct tally {
    long queries, with_hits, ids_compared, filters, facet_values, buckets, sorted;
} tally;

/* Date descending, documents without a date last, then id ascending. */
static int cmp_date_desc(const void *a, const void *b) {
    const odoc *x = *(const odoc *const *)a, *y = *(const odoc *const *)b;
    if (x->has_date != y->has_date) return y->has_date - x->has_date;
    if (x->has_date && x->date != y->date) return x->date < y->date ? 1 : -1;
    return strcmp(x->id, y->id);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Runs query q (with filter f, if the library has filters) and compares what
 * the library returns with the brute force; runs the oracle's self-checks of
 * the features the library does not have yet. */
static void check_query(ora *o, const oquery *q, const ofilter *f, tally *t) {
    static const odoc *match[ORA_DOCS];
    size_t n = 0;
    for (size_t i = 0; i < ORA_DOCS; i++)
        if (query_matches(q, &o->d[i])) match[n++] = &o->d[i];
    t->queries++;
    if (n) t->with_hits++;

    /* Totals and ids of the text query. */
    trawl_options *opt = trawl_options_new();
    trawl_options_set_or(opt, q->use_or);
    trawl_options_set_snippets(opt, 0);
    trawl_options_set_limit(opt, n <= ORA_FETCH_ALL ? ORA_FETCH_ALL + 1 : 10);
    trawl_results *r = NULL;
    trawl_rc rc = trawl_search(o->ix, q->text, opt, &r);
    CHECK(rc == TRAWL_OK, "search %s: %s", q->text, r ? trawl_results_errmsg(r) : trawl_strerror(rc));
    if (rc == TRAWL_OK) {
        CHECK(trawl_results_total(r) == n, "%s%s: total %" PRIu64 ", brute force %zu", q->text,
              q->use_or ? " (or)" : "", trawl_results_total(r), n);
        if (n <= ORA_FETCH_ALL && trawl_results_count(r) == n) {
            const char **got = xmalloc((n ? n : 1) * sizeof *got), **want = xmalloc((n ? n : 1) * sizeof *want);
            for (size_t i = 0; i < n; i++) {
                got[i] = trawl_results_id(r, i);
                want[i] = match[i]->id;
            }
            qsort(got, n, sizeof *got, cmp_str);
            qsort(want, n, sizeof *want, cmp_str);
            for (size_t i = 0; i < n; i++)
                CHECK(strcmp(got[i], want[i]) == 0, "%s: id %s, want %s", q->text, got[i], want[i]);
            free(got);
            free(want);
            t->ids_compared++;
        }
    }
    trawl_results_free(r);
    trawl_options_free(opt);

    /* The issue-8 answers, by brute force. The library's side of each joins
     * here as its API lands in include/trawl.h. */
    size_t nf = 0;
    uint64_t tagcount[NTAGS] = {0};
    ohist h;
    memset(&h, 0, sizeof h);
    h.first = h.last = -1;
    int64_t prev = INT64_MAX;
    int sorted_ok = 1;
    static const odoc *by_date[ORA_DOCS];
    for (size_t i = 0; i < n; i++) {
        if (!filter_matches(f, match[i])) continue;
        by_date[nf++] = match[i];
        for (int j = 0; j < match[i]->ntags; j++) tagcount[match[i]->tag[j]]++;
        if (match[i]->has_date) {
            int b = match[i]->month;
            h.match[b]++;
            if (h.first < 0 || b < h.first) h.first = b;
            if (b > h.last) h.last = b;
        }
    }
    t->filters += f->kind != F_NONE;
    for (size_t i = 0; i < ORA_DOCS; i++) {
        const odoc *d = &o->d[i];
        if (d->live && d->has_date) h.all[d->month]++;
    }
    /* Sort by date descending, undated last (ties by id: a stand-in for the
     * library's tie order, compared only on dates). */
    qsort(by_date, nf, sizeof *by_date, cmp_date_desc);
    uint64_t bucket_sum = 0, dated = 0;
    for (int b = 0; b < NMONTHS; b++) {
        bucket_sum += h.match[b];
        CHECK(h.match[b] <= h.all[b], "oracle: bucket %d has %" PRIu64 " of %" PRIu64, b, h.match[b], h.all[b]);
    }
    for (size_t i = 0; i < nf; i++) {
        dated += by_date[i]->has_date;
        if (by_date[i]->has_date) {
            if (by_date[i]->date > prev) sorted_ok = 0;
            prev = by_date[i]->date;
        } else {
            prev = INT64_MIN; /* undated documents come last */
        }
    }
    CHECK(bucket_sum == dated, "oracle: buckets hold %" PRIu64 ", dated matches %" PRIu64, bucket_sum, dated);
    CHECK(sorted_ok, "oracle: order by date is not descending");
    for (size_t k = 0; k < NTAGS; k++) CHECK(tagcount[k] <= nf, "oracle: facet count above the total");
    t->buckets += h.last >= 0 ? h.last - h.first + 1 : 0;
    t->sorted += nf > 1;
    for (size_t k = 0; k < NTAGS; k++) t->facet_values += tagcount[k] > 0;
}

int main(void) {
    ora *o = calloc(1, sizeof *o);
    if (!o) return 2;
    uint64_t seed = 20261129;
    const char *s = getenv("TRAWL_ORACLE_SEED");
    if (s && *s) seed = strtoull(s, NULL, 10);
    o->r.s = seed;
    make_vocab(o);
    snprintf(o->dir, sizeof o->dir, "/tmp/trawl-anoracle.XXXXXX");
    if (!mkdtemp(o->dir)) {
        perror("mkdtemp");
        free(o);
        return 2;
    }
    if (build(o) != 0) {
        rm_rf(o->dir);
        free(o);
        return 1;
    }
    tally t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < ORA_QUERIES; i++) {
        oquery q;
        ofilter f;
        random_query(o, &q);
        f.kind = F_NONE;
        f.text[0] = '\0';
        if (below(&o->r, 3) != 0) random_filter(o, &f);
        check_query(o, &q, &f, &t);
    }
    printf("seed %" PRIu64 ": %ld queries (%ld with hits, %ld id sets compared), %ld with filters; oracle: %ld "
           "facet values, %ld buckets, %ld sorted lists\n",
           seed, t.queries, t.with_hits, t.ids_compared, t.filters, t.facet_values, t.buckets, t.sorted);
    trawl_index_close(o->ix);
    rm_rf(o->dir);
    free(o);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    return 0;
}
