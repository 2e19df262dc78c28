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
 * ORA_QUERIES random queries (1-3 words, AND or OR), two in three with a
 * random filter (tags:="v", source:="v", date:[A TO B], -date:[A TO B],
 * date>=A, date<A, year:Y with A, B partial dates: a year, month or day
 * standing for its whole span), given in the query text or, at random,
 * through trawl_options_set_filter, are each run three times and compared
 * with the brute force over the live documents (the date ranges checked, in
 * turn, as the cost rule chooses, per candidate, and by column scan:
 * tw_segfilter_set_mode):
 *   - ranked: the exact total, and the exact set of ids when it is small;
 *   - facets on tags (top 1-12), maybe source (top 1-12) and date (min/max):
 *     every value and count, in order (count descending, then bytes), and the
 *     number of matches with a value; and a histogram of date by month or year
 *     at a random offset from UTC: every bucket from the first to the last
 *     holding a match, its label, its matches and all live documents in it;
 *   - sorted by date or source, ascending or descending, one random page: the
 *     total and the sort value of every hit, position by position (ties are
 *     the library's to break, by score then index order).
 * The test's calendar is its own (days counted year by year), not the
 * library's.
 *
 * Set TRAWL_ORACLE_SEED to rerun with other documents and queries.
 */
#include "trawl.h"

#include <inttypes.h>
#include <stdarg.h>

#include "segfilter.h"
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

static const char *const sources[] = {"The Register", "the register", "Hacker News", "LWN.net",  "Ars Technica",
                                      "Source/1",     "Source/2",     "Q&A Weekly",  "'Quoted'", "Zeitung für Alle"};
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
typedef enum fkind { F_NONE, F_SOURCE, F_TAG, F_RANGE, F_GE, F_LT, F_YEAR, F_NOTRANGE } fkind;
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
    f->kind = (fkind)(1 + below(&o->r, 7));
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
        case F_NOTRANGE:
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
            snprintf(f->text, sizeof f->text, "%sdate:[%s TO %s]", f->kind == F_NOTRANGE ? "-" : "", a, b);
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
        case F_NOTRANGE: return !(d->has_date && d->date >= f->lo && d->date < f->hi);
        default: return d->has_date && d->date >= f->lo && d->date < f->hi;
    }
}

/* ---- the checks --------------------------------------------------------- */

typedef struct tally {
    long queries, with_hits, ids_compared, filters, facet_values, buckets, sorted;
} tally;

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Formats epoch seconds t as YYYY-MM-DDThh:mm:ssZ (the library's text of a
 * date value), with this file's own calendar. */
static void fmt_date(int64_t t, char *buf, size_t cap) {
    int y, m;
    ym_of(t, &y, &m);
    int64_t day = t / 86400, sec = t % 86400;
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, (int)(day - days_of(y, m, 1)) + 1, (int)(sec / 3600),
             (int)(sec / 60 % 60), (int)(sec % 60));
}

/* Runs q (text query, AND or OR) with filter f through the library: f goes
 * into the query text (ANDed with the words) or, at random, to
 * trawl_options_set_filter; opt carries the other options. Returns the
 * results, or NULL after a failed CHECK. */
static trawl_results *run(ora *o, const oquery *q, const ofilter *f, trawl_options *opt) {
    char text[256];
    int via_option = f->kind != F_NONE && below(&o->r, 2);
    if (f->kind == F_NONE || via_option)
        snprintf(text, sizeof text, "%s", q->text);
    else if (q->use_or && f->kind == F_NOTRANGE) /* a MUST_NOT clause beside the group */
        snprintf(text, sizeof text, "(%s) %s", q->text, f->text);
    else if (q->use_or)
        snprintf(text, sizeof text, "(%s) AND %s", q->text, f->text);
    else
        snprintf(text, sizeof text, "%s %s", q->text, f->text);
    trawl_options_set_or(opt, q->use_or);
    trawl_options_set_snippets(opt, 0);
    CHECK(trawl_options_set_filter(opt, via_option ? f->text : NULL) == TRAWL_OK, "set_filter %s", f->text);
    trawl_results *r = NULL;
    trawl_rc rc = trawl_search(o->ix, text, opt, &r);
    CHECK(rc == TRAWL_OK, "search [%s]%s%s: %s", text, via_option ? " filter " : "", via_option ? f->text : "",
          r ? trawl_results_errmsg(r) : trawl_strerror(rc));
    if (rc != TRAWL_OK) {
        trawl_results_free(r);
        return NULL;
    }
    return r;
}

/* A facet value and its count. */
typedef struct fval {
    const char *value;
    uint64_t count;
} fval;

static int cmp_fval(const void *a, const void *b) {
    const fval *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->value, y->value);
}

/* Compares the library's keyword facet f of r with the brute force over the
 * matches m[0..n): the top `want` values, by count then bytes, and the number
 * of matching documents with a value. */
static void check_keyword_facet(const trawl_results *r, size_t f, int is_tags, const odoc *const *m, size_t n,
                                size_t want, const char *what, tally *t) {
    fval v[NTAGS > NSOURCES ? NTAGS : NSOURCES];
    size_t nv = is_tags ? NTAGS : NSOURCES;
    uint64_t with = 0;
    for (size_t k = 0; k < nv; k++) v[k] = (fval){is_tags ? tags[k] : sources[k], 0};
    for (size_t i = 0; i < n; i++) {
        if (is_tags) {
            for (int j = 0; j < m[i]->ntags; j++) v[m[i]->tag[j]].count++;
            with += m[i]->ntags > 0;
        } else if (m[i]->source >= 0) {
            v[m[i]->source].count++;
            with++;
        }
    }
    qsort(v, nv, sizeof *v, cmp_fval);
    size_t expect = 0;
    while (expect < nv && expect < want && v[expect].count > 0) expect++;
    const char *field = is_tags ? "tags" : "source";
    CHECK(trawl_results_facet_field(r, f) && strcmp(trawl_results_facet_field(r, f), field) == 0, "%s: facet %zu is %s",
          what, f, trawl_results_facet_field(r, f));
    CHECK(trawl_results_facet_docs(r, f) == with, "%s: facet %s docs %" PRIu64 ", brute force %" PRIu64, what, field,
          trawl_results_facet_docs(r, f), with);
    size_t got = trawl_results_facet_values(r, f);
    CHECK(got == expect, "%s: facet %s:%zu has %zu values, brute force %zu", what, field, want, got, expect);
    for (size_t i = 0; i < got && i < expect; i++) {
        const char *val = trawl_results_facet_value(r, f, i);
        uint64_t c = trawl_results_facet_value_count(r, f, i);
        CHECK(val && strcmp(val, v[i].value) == 0 && c == v[i].count,
              "%s: facet %s value %zu: [%s] %" PRIu64 ", brute force [%s] %" PRIu64, what, field, i,
              val ? val : "(null)", c, v[i].value, v[i].count);
    }
    t->facet_values += (long)got;
}

/* Compares the library's date facet (min and max of the matches) with the brute force. */
static void check_date_facet(const trawl_results *r, size_t f, const odoc *const *m, size_t n, const char *what) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    uint64_t with = 0;
    for (size_t i = 0; i < n; i++) {
        if (!m[i]->has_date) continue;
        with++;
        if (m[i]->date < lo) lo = m[i]->date;
        if (m[i]->date > hi) hi = m[i]->date;
    }
    CHECK(trawl_results_facet_docs(r, f) == with, "%s: date facet docs %" PRIu64 ", brute force %" PRIu64, what,
          trawl_results_facet_docs(r, f), with);
    const char *gmin = trawl_results_facet_min(r, f), *gmax = trawl_results_facet_max(r, f);
    if (!with) {
        CHECK(!gmin && !gmax, "%s: date facet of no dated match is %s..%s", what, gmin, gmax);
        return;
    }
    char emin[64], emax[64];
    fmt_date(lo, emin, sizeof emin);
    fmt_date(hi, emax, sizeof emax);
    CHECK(gmin && gmax && strcmp(gmin, emin) == 0 && strcmp(gmax, emax) == 0,
          "%s: date facet %s..%s, brute force %s..%s", what, gmin ? gmin : "(null)", gmax ? gmax : "(null)", emin,
          emax);
}

/* Calendar buckets: a bucket key of instant t read at offset off seconds east
 * of UTC; year buckets are years, month buckets are year*12 + month-1. */
static int64_t bucket_of(int64_t t, int off, int by_year) {
    int y, m;
    ym_of(t + off, &y, &m);
    return by_year ? y : (int64_t)y * 12 + (m - 1);
}

/* Compares the library's histogram (by_year or by month, read at offset off)
 * with the brute force: buckets from the first to the last holding a match,
 * each with its label, its matches and all live documents in it. */
static void check_histogram(ora *o, const trawl_results *r, int by_year, int off, const odoc *const *m, size_t n,
                            const char *what, tally *t) {
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        if (!m[i]->has_date) continue;
        int64_t b = bucket_of(m[i]->date, off, by_year);
        if (b < first) first = b;
        if (b > last) last = b;
    }
    size_t nb = first <= last ? (size_t)(last - first + 1) : 0;
    size_t got = trawl_results_histogram_count(r);
    CHECK(got == nb, "%s: %zu buckets, brute force %zu", what, got, nb);
    if (got != nb || nb == 0) return;
    uint64_t *match = calloc(nb, sizeof *match), *all = calloc(nb, sizeof *all);
    if (!match || !all) exit(2);
    for (size_t i = 0; i < n; i++)
        if (m[i]->has_date) match[bucket_of(m[i]->date, off, by_year) - first]++;
    for (size_t i = 0; i < ORA_DOCS; i++) {
        const odoc *d = &o->d[i];
        if (!d->live || !d->has_date) continue;
        int64_t b = bucket_of(d->date, off, by_year);
        if (b >= first && b <= last) all[b - first]++;
    }
    for (size_t i = 0; i < nb; i++) {
        char label[16];
        int64_t b = first + (int64_t)i;
        if (by_year)
            snprintf(label, sizeof label, "%04d", (int)b);
        else
            snprintf(label, sizeof label, "%04d-%02d", (int)(b / 12), (int)(b % 12) + 1);
        const char *gl = trawl_results_histogram_label(r, i);
        uint64_t gm = trawl_results_histogram_matches(r, i), gd = trawl_results_histogram_docs(r, i);
        CHECK(gl && strcmp(gl, label) == 0 && gm == match[i] && gd == all[i],
              "%s: bucket %zu [%s] %" PRIu64 "/%" PRIu64 ", brute force [%s] %" PRIu64 "/%" PRIu64, what, i,
              gl ? gl : "(null)", gm, gd, label, match[i], all[i]);
    }
    t->buckets += (long)nb;
    free(match);
    free(all);
}

/* Sort keys of the brute force: by date or by source (a keyword: its one
 * value), ascending or descending; documents without a value last. Ties are
 * left to the library (score, then index order): only the values are
 * compared, position by position. */
static int sort_by_source, sort_desc;

static int cmp_sorted(const void *a, const void *b) {
    const odoc *x = *(const odoc *const *)a, *y = *(const odoc *const *)b;
    int hx = sort_by_source ? x->source >= 0 : x->has_date, hy = sort_by_source ? y->source >= 0 : y->has_date;
    if (hx != hy) return hy - hx;
    if (!hx) return 0;
    int c = sort_by_source ? strcmp(sources[x->source], sources[y->source]) : (x->date > y->date) - (x->date < y->date);
    return sort_desc ? -c : c;
}

/* The sort value text of d the library must report (NULL: none). */
static const char *sort_text(const odoc *d, char *buf, size_t cap) {
    if (sort_by_source) return d->source >= 0 ? sources[d->source] : NULL;
    if (!d->has_date) return NULL;
    fmt_date(d->date, buf, cap);
    return buf;
}

/* Runs query q with filter f and compares with the brute force: the total and
 * ids; then, asking for them at random, facets (tags, source, date), a month
 * or year histogram at a random offset, and a sort by date or source with a
 * random page. */
static void check_query(ora *o, const oquery *q, const ofilter *f, tally *t, int typed) {
    static const odoc *match[ORA_DOCS];
    size_t n = 0;
    for (size_t i = 0; i < ORA_DOCS; i++)
        if (query_matches(q, &o->d[i]) && filter_matches(f, &o->d[i])) match[n++] = &o->d[i];
    t->queries++;
    if (n) t->with_hits++;
    t->filters += f->kind != F_NONE;
    char what[256];
    snprintf(what, sizeof what, "[%s]%s filter [%s]", q->text, q->use_or ? " (or)" : "", f->text);

    /* Totals and ids, ranked by relevance. */
    trawl_options *opt = trawl_options_new();
    if (!opt) exit(2);
    trawl_options_set_limit(opt, n <= ORA_FETCH_ALL ? ORA_FETCH_ALL + 1 : 10);
    trawl_results *r = run(o, q, f, opt);
    if (r) {
        CHECK(trawl_results_total(r) == n, "%s: total %" PRIu64 ", brute force %zu", what, trawl_results_total(r), n);
        if (n <= ORA_FETCH_ALL && trawl_results_count(r) == n) {
            const char **got = xmalloc((n ? n : 1) * sizeof *got), **want = xmalloc((n ? n : 1) * sizeof *want);
            for (size_t i = 0; i < n; i++) {
                got[i] = trawl_results_id(r, i);
                want[i] = match[i]->id;
            }
            qsort(got, n, sizeof *got, cmp_str);
            qsort(want, n, sizeof *want, cmp_str);
            for (size_t i = 0; i < n; i++)
                CHECK(strcmp(got[i], want[i]) == 0, "%s: id %s, brute force %s", what, got[i], want[i]);
            free(got);
            free(want);
            t->ids_compared++;
        }
    }
    trawl_results_free(r);
    trawl_options_free(opt);

    if (!typed) return;

    /* Facets and a histogram. */
    opt = trawl_options_new();
    if (!opt) exit(2);
    trawl_options_set_limit(opt, below(&o->r, 4) == 0 ? 0 : 3);
    size_t ntags = 1 + below(&o->r, 12), nsrc = 1 + below(&o->r, 12);
    int with_src = below(&o->r, 2), with_date = below(&o->r, 2), by_year = below(&o->r, 4) == 0;
    static const int offsets[] = {0, 0, 5 * 3600 + 1800, -8 * 3600, 14 * 3600, -12 * 3600};
    static const char *const tzs[] = {NULL, "Z", "+05:30", "-08:00", "+14:00", "-12:00"};
    size_t tz = below(&o->r, 6);
    CHECK(trawl_options_add_facet(opt, "tags", ntags) == TRAWL_OK, "add_facet tags");
    if (with_src) CHECK(trawl_options_add_facet(opt, "source", nsrc) == TRAWL_OK, "add_facet source");
    if (with_date) CHECK(trawl_options_add_facet(opt, "date", 1) == TRAWL_OK, "add_facet date");
    CHECK(trawl_options_set_histogram(opt, "date", by_year ? "year" : "month", tzs[tz]) == TRAWL_OK, "set_histogram");
    r = run(o, q, f, opt);
    if (r) {
        CHECK(trawl_results_total(r) == n, "%s: total with facets %" PRIu64 ", brute force %zu", what,
              trawl_results_total(r), n);
        size_t nf = 1 + (size_t)with_src + (size_t)with_date;
        CHECK(trawl_results_facet_count(r) == nf, "%s: %zu facets, asked %zu", what, trawl_results_facet_count(r), nf);
        if (trawl_results_facet_count(r) == nf) {
            check_keyword_facet(r, 0, 1, match, n, ntags, what, t);
            if (with_src) check_keyword_facet(r, 1, 0, match, n, nsrc, what, t);
            if (with_date) check_date_facet(r, nf - 1, match, n, what);
        }
        char hw[300];
        snprintf(hw, sizeof hw, "%s histogram %s tz %s", what, by_year ? "year" : "month", tzs[tz] ? tzs[tz] : "UTC");
        check_histogram(o, r, by_year, offsets[tz], match, n, hw, t);
    }
    trawl_results_free(r);
    trawl_options_free(opt);

    /* Sort by a field, one page. */
    sort_by_source = below(&o->r, 4) == 0;
    sort_desc = below(&o->r, 3) != 0;
    size_t limit = 1 + below(&o->r, 40), offset = below(&o->r, 3) == 0 ? below(&o->r, 30) : 0;
    char spec[32];
    snprintf(spec, sizeof spec, "%s:%s", sort_by_source ? "source" : "date", sort_desc ? "desc" : "asc");
    opt = trawl_options_new();
    if (!opt) exit(2);
    trawl_options_set_limit(opt, limit);
    trawl_options_set_offset(opt, offset);
    CHECK(trawl_options_set_sort(opt, spec) == TRAWL_OK, "set_sort %s", spec);
    r = run(o, q, f, opt);
    if (r) {
        qsort(match, n, sizeof *match, cmp_sorted);
        size_t expect = offset < n ? (n - offset < limit ? n - offset : limit) : 0;
        CHECK(trawl_results_total(r) == n, "%s sort %s: total %" PRIu64 ", brute force %zu", what, spec,
              trawl_results_total(r), n);
        CHECK(trawl_results_count(r) == expect, "%s sort %s: %zu hits, brute force %zu", what, spec,
              trawl_results_count(r), expect);
        for (size_t i = 0; i < expect && i < trawl_results_count(r); i++) {
            char buf[64];
            const char *want = sort_text(match[offset + i], buf, sizeof buf), *got = trawl_results_sort_value(r, i);
            CHECK((!want && !got) || (want && got && strcmp(want, got) == 0),
                  "%s sort %s offset %zu: hit %zu has value %s, brute force %s", what, spec, offset, i,
                  got ? got : "(none)", want ? want : "(none)");
        }
        t->sorted++;
    }
    trawl_results_free(r);
    trawl_options_free(opt);
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
    /* Until the library writes typed fields (the default trend schema), a
     * filter on date fails with "... is text, not keyword ...": then only the
     * text queries are checked, and the test says so. */
    int typed = 1;
    {
        trawl_results *pr = NULL;
        trawl_options *po = trawl_options_new();
        if (!po) return 2;
        if (trawl_search(o->ix, "date>=2020", po, &pr) != TRAWL_OK) {
            const char *m = pr ? trawl_results_errmsg(pr) : "";
            typed = !(m && strstr(m, "is text, not keyword"));
            if (!typed) printf("typed fields not written by this build (%s): only text queries checked\n", m);
        }
        trawl_results_free(pr);
        trawl_options_free(po);
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
        if (!typed) f.kind = F_NONE;
        /* Each way of applying a filter's date ranges (segfilter.h): the cost
         * rule's choice, predicates per candidate, the column scan. */
        tw_segfilter_set_mode(i % 3);
        check_query(o, &q, &f, &t, typed);
    }
    printf("seed %" PRIu64 ": %ld queries (%ld with hits, %ld id sets compared), %ld with filters; %ld facet "
           "values, %ld buckets, %ld sorted pages compared\n",
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
