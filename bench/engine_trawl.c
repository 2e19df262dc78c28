/*
 * engine_trawl.c — trawl itself as a trawl-bench engine, through the public API
 * (trawl.h) only.
 *
 * Index: trawl_writer_open(INDEX_DIR, "english"), every corpus line handed as
 * is to trawl_writer_add_json (trawl parses the JSON itself), one
 * trawl_writer_commit at the end. Index bytes = the sizes of the files in
 * INDEX_DIR.
 *
 * Queries: the words joined by spaces (they hold only lowercase letters, digits
 * and non-ASCII bytes, so none is an operator or syntax character):
 *   and    w1 w2                     (default operator AND)
 *   or     w1 w2                     with trawl_options_set_or(1)
 *   phrase "w1 w2"
 *   count  w1 w2                     with trawl_options_set_count_only(1)
 * Snippets are off, the limit is K, the ranking (BM25F) and field weights are
 * trawl's defaults (k1 1.2, b 0.75, title 2, body 1). The total is trawl_results_total (exact).
 * BENCH_TRAWL_RANKING (bm25, bm25f, bm25-prox, bm25f-prox) sets the ranking of
 * the ranked classes instead, BENCH_TRAWL_PROX=W:N the proximity weight and
 * window (for A/B timings of the ranking options).
 */
#include "bench.h"

#include "trawl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct trawl_handle {
    trawl_index *idx;
    trawl_options *ranked, *any, *count; /* AND/phrase, OR, count-only */
    char *qbuf;
    size_t qcap;
} trawl_handle;

static int tr_build(const char *corpus, const char *dir, uint64_t *docs, char *err, size_t errlen) {
    FILE *f = fopen(corpus, "r");
    if (!f) {
        bench_seterr(err, errlen, "%s: %s", corpus, strerror(errno));
        return -1;
    }
    trawl_writer *w = NULL;
    char *msg = NULL;
    trawl_rc rc = trawl_writer_open(dir, "english", &w, &msg);
    if (rc != TRAWL_OK) {
        bench_seterr(err, errlen, "trawl_writer_open %s: %s", dir, msg ? msg : trawl_strerror(rc));
        trawl_free(msg);
        fclose(f);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    uint64_t n = 0;
    int ret = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t l = (size_t)len;
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r')) l--;
        if (l == 0) continue;
        rc = trawl_writer_add_json(w, line, l);
        if (rc != TRAWL_OK) {
            bench_seterr(err, errlen, "%s:%zu: %s", corpus, lineno, trawl_writer_errmsg(w));
            ret = -1;
            break;
        }
        n++;
    }
    if (ret == 0 && ferror(f)) {
        bench_seterr(err, errlen, "%s: read error", corpus);
        ret = -1;
    }
    if (ret == 0 && (rc = trawl_writer_commit(w)) != TRAWL_OK) {
        bench_seterr(err, errlen, "trawl_writer_commit: %s", trawl_writer_errmsg(w));
        ret = -1;
    }
    trawl_writer_close(w);
    free(line);
    fclose(f);
    if (ret == 0) *docs = n;
    return ret;
}

static void tr_close(void *h) {
    trawl_handle *t = h;
    if (!t) return;
    trawl_options_free(t->ranked);
    trawl_options_free(t->any);
    trawl_options_free(t->count);
    trawl_index_close(t->idx);
    free(t->qbuf);
    free(t);
}

/* Applies BENCH_TRAWL_RANKING and BENCH_TRAWL_PROX (when set) to the ranked
 * and OR options of t. 0, or -1 with a message for a value it does not know. */
static int ranking_from_env(trawl_handle *t, char *err, size_t errlen) {
    static const char *const names[] = {"bm25", "bm25f", "bm25-prox", "bm25f-prox"};
    const char *r = getenv("BENCH_TRAWL_RANKING"), *px = getenv("BENCH_TRAWL_PROX");
    if (r && *r) {
        int k = -1;
        for (int i = 0; i < 4; i++)
            if (strcmp(r, names[i]) == 0) k = i;
        if (k < 0 || trawl_options_set_ranking(t->ranked, (trawl_ranking)k) != TRAWL_OK ||
            trawl_options_set_ranking(t->any, (trawl_ranking)k) != TRAWL_OK) {
            bench_seterr(err, errlen, "BENCH_TRAWL_RANKING: unknown ranking '%s'", r);
            return -1;
        }
    }
    if (px && *px) {
        char *end;
        double w = strtod(px, &end);
        unsigned long n = *end == ':' ? strtoul(end + 1, &end, 10) : 20;
        if (*end || n > 64 || trawl_options_set_proximity(t->ranked, w, (unsigned)n) != TRAWL_OK ||
            trawl_options_set_proximity(t->any, w, (unsigned)n) != TRAWL_OK) {
            bench_seterr(err, errlen, "BENCH_TRAWL_PROX wants W:N, not '%s'", px);
            return -1;
        }
    }
    return 0;
}

static int tr_open(const char *dir, void **h, char *err, size_t errlen) {
    *h = NULL;
    trawl_handle *t = calloc(1, sizeof *t);
    if (!t) {
        bench_seterr(err, errlen, "out of memory");
        return -1;
    }
    char *msg = NULL;
    trawl_rc rc = trawl_index_open(dir, &t->idx, &msg);
    if (rc != TRAWL_OK) {
        bench_seterr(err, errlen, "trawl_index_open %s: %s", dir, msg ? msg : trawl_strerror(rc));
        trawl_free(msg);
        tr_close(t);
        return -1;
    }
    t->ranked = trawl_options_new();
    t->any = trawl_options_new();
    t->count = trawl_options_new();
    if (!t->ranked || !t->any || !t->count) {
        bench_seterr(err, errlen, "out of memory");
        tr_close(t);
        return -1;
    }
    trawl_options_set_snippets(t->ranked, 0);
    trawl_options_set_snippets(t->any, 0);
    trawl_options_set_or(t->any, 1);
    trawl_options_set_snippets(t->count, 0);
    trawl_options_set_count_only(t->count, 1);
    if (ranking_from_env(t, err, errlen) != 0) {
        tr_close(t);
        return -1;
    }
    *h = t;
    return 0;
}

/* Writes q's words into t->qbuf: joined by spaces, or as one phrase for
 * BENCH_PHRASE. Returns 0 or -1 (out of memory). */
static int build_query(trawl_handle *t, bench_class cls, const bench_query *q) {
    size_t need = 3;
    for (size_t i = 0; i < q->nwords; i++) need += strlen(q->words[i]) + 1;
    if (need > t->qcap) {
        char *nb = realloc(t->qbuf, need);
        if (!nb) return -1;
        t->qbuf = nb;
        t->qcap = need;
    }
    char *p = t->qbuf;
    if (cls == BENCH_PHRASE) *p++ = '"';
    for (size_t i = 0; i < q->nwords; i++) {
        if (i > 0) *p++ = ' ';
        size_t n = strlen(q->words[i]);
        memcpy(p, q->words[i], n);
        p += n;
    }
    if (cls == BENCH_PHRASE) *p++ = '"';
    *p = '\0';
    return 0;
}

static int tr_run(void *h, bench_class cls, const bench_query *q, size_t k, bench_result *res, char *err,
                  size_t errlen) {
    trawl_handle *t = h;
    if (build_query(t, cls, q) != 0) {
        bench_seterr(err, errlen, "out of memory");
        return -1;
    }

    trawl_options *o = cls == BENCH_OR ? t->any : cls == BENCH_COUNT ? t->count : t->ranked;
    if (cls != BENCH_COUNT) trawl_options_set_limit(o, k);
    trawl_results *r = NULL;
    trawl_rc rc = trawl_search(t->idx, t->qbuf, o, &r);
    if (rc != TRAWL_OK) {
        bench_seterr(err, errlen, "trawl_search %s: %s", t->qbuf, r ? trawl_results_errmsg(r) : trawl_strerror(rc));
        trawl_results_free(r);
        return -1;
    }
    res->total = trawl_results_total(r);
    size_t n = trawl_results_count(r);
    for (size_t i = 0; i < n; i++) {
        const char *id = trawl_results_id(r, i);
        if (bench_result_add(res, id ? id : "", id ? strlen(id) : 0) != 0) {
            trawl_results_free(r);
            bench_seterr(err, errlen, "out of memory");
            return -1;
        }
    }
    trawl_results_free(r);
    return 0;
}

int bench_trawl_configure(void *h, const char *spec, char *err, size_t errlen) {
    trawl_handle *t = h;
    trawl_options *o = trawl_options_new();
    char buf[1024];
    if (!o) {
        bench_seterr(err, errlen, "out of memory");
        return -1;
    }
    trawl_options_set_snippets(o, 0);
    trawl_options_set_or(o, 1);
    snprintf(buf, sizeof buf, "%s", spec ? spec : "");
    double k1 = 1.2, b = 0.75, pw = 0; /* pw 0: the library's proximity parameters */
    unsigned pwin = 20;
    int rc = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            rc = -1;
            break;
        }
        *eq = '\0';
        const char *key = tok, *val = eq + 1;
        char *end;
        double x = strtod(val, &end);
        int num = end != val && *end == '\0';
        if (strcmp(key, "op") == 0 && strcmp(val, "or") == 0)
            trawl_options_set_or(o, 1);
        else if (strcmp(key, "op") == 0 && strcmp(val, "and") == 0)
            trawl_options_set_or(o, 0);
        else if (strcmp(key, "op") == 0 && strcmp(val, "auto") == 0)
            trawl_options_set_op(o, TRAWL_OP_AUTO);
        else if (strcmp(key, "ranking") == 0 && strcmp(val, "bm25") == 0)
            rc = trawl_options_set_ranking(o, TRAWL_RANKING_BM25) == TRAWL_OK ? 0 : -1;
        else if (strcmp(key, "ranking") == 0 && strcmp(val, "bm25f") == 0)
            rc = trawl_options_set_ranking(o, TRAWL_RANKING_BM25F) == TRAWL_OK ? 0 : -1;
        else if (strcmp(key, "ranking") == 0 && strcmp(val, "bm25-prox") == 0)
            rc = trawl_options_set_ranking(o, TRAWL_RANKING_BM25_PROX) == TRAWL_OK ? 0 : -1;
        else if (strcmp(key, "ranking") == 0 && strcmp(val, "bm25f-prox") == 0)
            rc = trawl_options_set_ranking(o, TRAWL_RANKING_BM25F_PROX) == TRAWL_OK ? 0 : -1;
        else if (strcmp(key, "prox") == 0 && num)
            pw = x > 0 ? x : -1;
        else if (strcmp(key, "window") == 0 && num && x >= 1 && x <= 64) {
            if (pw == 0) pw = 0.15;
            pwin = (unsigned)x;
        } else if (strcmp(key, "k1") == 0 && num)
            k1 = x;
        else if (strcmp(key, "b") == 0 && num)
            b = x;
        else if (strncmp(key, "w.", 2) == 0 && num)
            rc = trawl_options_set_field_weight(o, key + 2, x) == TRAWL_OK ? 0 : -1;
        else
            rc = -1;
    }
    if (rc == 0 && trawl_options_set_bm25(o, k1, b) != TRAWL_OK) rc = -1;
    if (rc == 0 && pw != 0 && trawl_options_set_proximity(o, pw, pwin) != TRAWL_OK) rc = -1;
    if (rc != 0) {
        bench_seterr(err, errlen, "bad trawl variant '%s'", spec);
        trawl_options_free(o);
        return -1;
    }
    trawl_options_free(t->any);
    t->any = o;
    return 0;
}

static const bench_engine trawl_engine = {"trawl", trawl_version, tr_build, tr_open, tr_run, tr_close, NULL};

const bench_engine *bench_engine_trawl(void) {
    return &trawl_engine;
}

/* ---- analytics (trawl-bench analytics) ----------------------------------
 *
 * Index: as above; a new index gets trawl's default trend schema (title, body
 * text; date a date; tags, source, author text+keyword), so the dated fields
 * are typed without any set-up. Queries (the words joined by spaces, AND):
 *   histogram  trawl_options_set_histogram(o, "date", "month", NULL), limit 0
 *   facets     trawl_options_add_facet(o, "tags", N), limit 0
 *   and        as the `and` class
 *   and+filter trawl_options_set_filter(o, "date:[FROM TO TO]") with the two
 *              instants as YYYY-MM-DDThh:mm:ssZ (inclusive: a second's span)
 *   sort       trawl_options_set_sort(o, "date:desc"), limit K
 * Totals are exact. The histogram's buckets without a match are skipped in
 * the answer (the peers report only months with matches); its per-bucket
 * count of all documents is computed but not compared. */

typedef struct tr_an {
    trawl_handle t; /* idx, qbuf, and `ranked` for the and class */
    trawl_options *hist, *facet, *filtered, *sorted;
    int64_t lo, hi; /* the filter set in filtered */
    size_t facet_n;
} tr_an;

static void an_close(void *h) {
    tr_an *a = h;
    if (!a) return;
    trawl_options_free(a->hist);
    trawl_options_free(a->facet);
    trawl_options_free(a->filtered);
    trawl_options_free(a->sorted);
    trawl_options_free(a->t.ranked);
    trawl_options_free(a->t.any);
    trawl_options_free(a->t.count);
    trawl_index_close(a->t.idx);
    free(a->t.qbuf);
    free(a);
}

static int an_open(const char *dir, void **h, char *err, size_t errlen) {
    *h = NULL;
    tr_an *a = calloc(1, sizeof *a);
    if (!a) {
        bench_seterr(err, errlen, "out of memory");
        return -1;
    }
    char *msg = NULL;
    trawl_rc rc = trawl_index_open(dir, &a->t.idx, &msg);
    if (rc != TRAWL_OK) {
        bench_seterr(err, errlen, "trawl_index_open %s: %s", dir, msg ? msg : trawl_strerror(rc));
        trawl_free(msg);
        an_close(a);
        return -1;
    }
    a->t.ranked = trawl_options_new();
    a->hist = trawl_options_new();
    a->facet = trawl_options_new();
    a->filtered = trawl_options_new();
    a->sorted = trawl_options_new();
    if (!a->t.ranked || !a->hist || !a->facet || !a->filtered || !a->sorted ||
        trawl_options_set_histogram(a->hist, "date", "month", NULL) != TRAWL_OK ||
        trawl_options_set_sort(a->sorted, "date:desc") != TRAWL_OK) {
        bench_seterr(err, errlen, "out of memory");
        an_close(a);
        return -1;
    }
    trawl_options *all[5] = {a->t.ranked, a->hist, a->facet, a->filtered, a->sorted};
    for (int i = 0; i < 5; i++) trawl_options_set_snippets(all[i], 0);
    trawl_options_set_limit(a->hist, 0);
    trawl_options_set_limit(a->facet, 0);
    a->lo = a->hi = INT64_MIN;
    *h = a;
    return 0;
}

/* Appends "KEY COUNT" to res. Returns 0 or -1 (OOM, message in err). */
static int add_pair(bench_result *res, const char *key, uint64_t count, char *err, size_t errlen) {
    char item[512];
    int n = snprintf(item, sizeof item, "%s %llu", key, (unsigned long long)count);
    if (n < 0 || (size_t)n >= sizeof item || bench_result_add(res, item, (size_t)n) != 0) {
        bench_seterr(err, errlen, "out of memory or value too long");
        return -1;
    }
    return 0;
}

static int an_run(void *h, bench_an_kind kind, const bench_query *q, const bench_an_params *p, bench_result *res,
                  char *err, size_t errlen) {
    tr_an *a = h;
    if (build_query(&a->t, BENCH_AND, q) != 0) {
        bench_seterr(err, errlen, "out of memory");
        return -1;
    }
    trawl_options *o = NULL;
    switch (kind) {
        case BENCH_AN_HIST: o = a->hist; break;
        case BENCH_AN_FACET:
            if (a->facet_n != p->facet_n) {
                trawl_options_clear_facets(a->facet);
                if (trawl_options_add_facet(a->facet, "tags", p->facet_n) != TRAWL_OK) {
                    bench_seterr(err, errlen, "trawl_options_add_facet tags %zu failed", p->facet_n);
                    return -1;
                }
                a->facet_n = p->facet_n;
            }
            o = a->facet;
            break;
        case BENCH_AN_AND: o = a->t.ranked; break;
        case BENCH_AN_FILTER:
            if (a->lo != p->lo || a->hi != p->hi) {
                char from[32], to[32], expr[96];
                bench_iso(p->lo, from);
                bench_iso(p->hi, to);
                snprintf(expr, sizeof expr, "date:[%s TO %s]", from, to);
                if (trawl_options_set_filter(a->filtered, expr) != TRAWL_OK) {
                    bench_seterr(err, errlen, "trawl_options_set_filter %s failed", expr);
                    return -1;
                }
                a->lo = p->lo;
                a->hi = p->hi;
            }
            o = a->filtered;
            break;
        case BENCH_AN_SORT: o = a->sorted; break;
        default: bench_seterr(err, errlen, "trawl: unknown workload"); return -1;
    }
    if (kind == BENCH_AN_AND || kind == BENCH_AN_FILTER || kind == BENCH_AN_SORT) trawl_options_set_limit(o, p->k);
    trawl_results *r = NULL;
    trawl_rc rc = trawl_search(a->t.idx, a->t.qbuf, o, &r);
    if (rc != TRAWL_OK) {
        bench_seterr(err, errlen, "trawl_search %s: %s", a->t.qbuf, r ? trawl_results_errmsg(r) : trawl_strerror(rc));
        trawl_results_free(r);
        return -1;
    }
    res->total = trawl_results_total(r);
    int ret = 0;
    if (kind == BENCH_AN_HIST) {
        size_t n = trawl_results_histogram_count(r);
        for (size_t i = 0; i < n && ret == 0; i++) {
            uint64_t m = trawl_results_histogram_matches(r, i);
            if (m) ret = add_pair(res, trawl_results_histogram_label(r, i), m, err, errlen);
        }
    } else if (kind == BENCH_AN_FACET) {
        size_t n = trawl_results_facet_values(r, 0);
        for (size_t i = 0; i < n && ret == 0; i++)
            ret = add_pair(res, trawl_results_facet_value(r, 0, i), trawl_results_facet_value_count(r, 0, i), err,
                           errlen);
    } else {
        size_t n = trawl_results_count(r);
        for (size_t i = 0; i < n && ret == 0; i++) {
            char item[32];
            const char *id = trawl_results_id(r, i);
            if (kind == BENCH_AN_SORT) {
                /* The date value as epoch seconds, as the peers report it. */
                const char *v = trawl_results_sort_value(r, i);
                int64_t t = 0;
                if (!v || bench_parse_date(v, &t) != 0) {
                    bench_seterr(err, errlen, "trawl: hit %zu has no date sort value", i);
                    ret = -1;
                    break;
                }
                snprintf(item, sizeof item, "%lld", (long long)t);
                id = item;
            }
            if (bench_result_add(res, id ? id : "", id ? strlen(id) : 0) != 0) {
                bench_seterr(err, errlen, "out of memory");
                ret = -1;
            }
        }
    }
    trawl_results_free(r);
    return ret;
}

static const bench_an_engine trawl_an = {"trawl", trawl_version, tr_build, an_open, an_run, an_close};

const bench_an_engine *bench_an_trawl(void) {
    return &trawl_an;
}
