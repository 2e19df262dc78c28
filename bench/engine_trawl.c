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
    *h = t;
    return 0;
}

static int tr_run(void *h, bench_class cls, const bench_query *q, size_t k, bench_result *res, char *err,
                  size_t errlen) {
    trawl_handle *t = h;
    size_t need = 3;
    for (size_t i = 0; i < q->nwords; i++) need += strlen(q->words[i]) + 1;
    if (need > t->qcap) {
        char *nb = realloc(t->qbuf, need);
        if (!nb) {
            bench_seterr(err, errlen, "out of memory");
            return -1;
        }
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
    double k1 = 1.2, b = 0.75;
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
        else if (strcmp(key, "k1") == 0 && num)
            k1 = x;
        else if (strcmp(key, "b") == 0 && num)
            b = x;
        else if (strncmp(key, "w.", 2) == 0 && num)
            rc = trawl_options_set_field_weight(o, key + 2, x) == TRAWL_OK ? 0 : -1;
        else
            rc = -1;
    }
    if (rc == 0 && trawl_options_set_bm25(o, k1, b) != TRAWL_OK) rc = -1;
    if (rc != 0) {
        bench_seterr(err, errlen, "bad trawl variant '%s'", spec);
        trawl_options_free(o);
        return -1;
    }
    trawl_options_free(t->any);
    t->any = o;
    return 0;
}

static const bench_engine trawl_engine = {"trawl", trawl_version, tr_build, tr_open, tr_run, tr_close};

const bench_engine *bench_engine_trawl(void) {
    return &trawl_engine;
}

/* The analytics workloads (trawl-bench analytics) need trawl's filters, sort,
 * facets and histograms in the public API; until they are there, trawl has no
 * analytics adapter (the table leaves its column out). */
const bench_an_engine *bench_an_trawl(void) {
    return NULL;
}
