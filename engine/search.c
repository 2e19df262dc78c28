/*
 * search.c — trawl_search and the results object: checks the arguments,
 * lends the query layer a query context from the index's pool, runs the
 * query over the index's view (query/query.c), and exposes the hits through
 * the trawl_results_* accessors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "query.h"

struct trawl_results {
    int rc;
    char *errmsg; /* malloc'd on failure (NULL: trawl_strerror's); kept off the object so that it stays small */
    long erroff;
    uint64_t took_us;
    tw_hits hits;
    tw_hits dropped;     /* hits ranked but not returned (trawl_similar's own document and paging) */
    tw_analytics_out an; /* facets and histogram (analytics.c) */
};

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Moves hits[i] out of h into d (appended; d grows as needed). 0 or TRAWL_ENOMEM. */
static int drop_hit(tw_hits *h, size_t i, tw_hits *d) {
    tw_hit *nh = realloc(d->hits, (d->n + 1) * sizeof *nh);
    if (!nh) return TRAWL_ENOMEM;
    d->hits = nh;
    d->hits[d->n++] = h->hits[i];
    memmove(&h->hits[i], &h->hits[i + 1], (h->n - i - 1) * sizeof *h->hits);
    h->n--;
    return 0;
}

/* Records rc and, on failure, a copy of msg in res (none when out of
 * memory: the accessor then gives trawl_strerror's). Returns rc. */
static int finish(trawl_results *res, int rc, const char *msg) {
    res->rc = rc;
    if (rc) res->errmsg = strdup(msg);
    return rc;
}

trawl_rc tw_search_params(const trawl_index *idx, const char *query, const tw_params *p, const tw_exclude *ex,
                          trawl_results **out) {
    uint64_t t0 = now_us();
    if (out) *out = NULL;
    if (!out) return TRAWL_EINVAL;
    trawl_results *res = calloc(1, sizeof *res);
    if (!res) return TRAWL_ENOMEM;
    res->erroff = -1;
    *out = res;
    char errmsg[1024];
    errmsg[0] = 0;
    if (!idx || !query || !p)
        return finish(res, tw_err(errmsg, sizeof errmsg, TRAWL_EINVAL, "no index or query"), errmsg);
    tw_params pe, pa;
    if (tw_analytics_wanted(p)) {
        /* Facets and histograms read the whole match set. */
        pa = *p;
        pa.want_matches = 1;
        p = &pa;
    }
    if (ex) {
        /* One more hit from the top, so that the excluded one can be left out. */
        pe = *p;
        pe.offset = 0;
        pe.limit = ex->offset + ex->limit + 1;
        pe.prox = 0; /* many weighted terms, not words a person wrote together */
        p = &pe;
    }
    int rc;
    tw_qctx *ctx = tw_index_qctx_acquire(idx);
    if (!ctx)
        rc = tw_err(errmsg, sizeof errmsg, TRAWL_ENOMEM, "cannot make an analyzer for '%s'", idx->view.lang);
    else
        rc = tw_query_run(&idx->view, p, ctx, query, strlen(query), &res->hits, errmsg, sizeof errmsg, &res->erroff);
    if (!rc && ex) {
        if (res->hits.total) res->hits.total--; /* the document matches its own terms */
        for (size_t i = 0; i < res->hits.n && !rc; i++)
            if (res->hits.hits[i].seg == ex->seg && res->hits.hits[i].doc == ex->doc)
                rc = drop_hit(&res->hits, i, &res->dropped);
        while (!rc && res->hits.n && pe.offset < ex->offset) {
            rc = drop_hit(&res->hits, 0, &res->dropped);
            pe.offset++;
        }
        while (!rc && res->hits.n > ex->limit) rc = drop_hit(&res->hits, res->hits.n - 1, &res->dropped);
        if (rc) tw_err(errmsg, sizeof errmsg, rc, "out of memory");
    }
    if (!rc && tw_analytics_wanted(p))
        rc = tw_analytics_run(idx, p, ctx, query, &res->hits.matches, &res->an, errmsg, sizeof errmsg);
    tw_index_qctx_release(idx, ctx);
    res->took_us = now_us() - t0;
    return finish(res, rc, errmsg);
}

trawl_rc trawl_search(const trawl_index *idx, const char *query, const trawl_options *options, trawl_results **out) {
    trawl_options *dflt = NULL;
    if (!options) {
        if (!(dflt = trawl_options_new())) {
            if (out) *out = NULL;
            return TRAWL_ENOMEM;
        }
        options = dflt;
    }
    trawl_rc rc = tw_search_params(idx, query, &options->p, NULL, out);
    trawl_options_free(dflt);
    return rc;
}

trawl_results *tw_results_failed(int rc, const char *msg) {
    trawl_results *res = calloc(1, sizeof *res);
    if (!res) return NULL;
    res->erroff = -1;
    finish(res, rc, msg);
    return res;
}

const tw_analytics_out *tw_results_analytics(const trawl_results *r) {
    return r ? &r->an : NULL;
}

void trawl_results_free(trawl_results *r) {
    if (!r) return;
    tw_hits_free(&r->hits);
    tw_hits_free(&r->dropped);
    tw_analytics_out_free(&r->an);
    free(r->errmsg);
    free(r);
}

const char *trawl_results_errmsg(const trawl_results *r) {
    return r ? (r->rc ? (r->errmsg ? r->errmsg : trawl_strerror(r->rc)) : "") : "no results";
}
long trawl_results_error_offset(const trawl_results *r) {
    return r ? r->erroff : -1;
}
uint64_t trawl_results_total(const trawl_results *r) {
    return r ? r->hits.total : 0;
}
size_t trawl_results_count(const trawl_results *r) {
    return r ? r->hits.n : 0;
}
uint64_t trawl_results_took_us(const trawl_results *r) {
    return r ? r->took_us : 0;
}

static const tw_hit *hit(const trawl_results *r, size_t i) {
    return r && i < r->hits.n ? &r->hits.hits[i] : NULL;
}

const char *trawl_results_id(const trawl_results *r, size_t i) {
    return hit(r, i) ? hit(r, i)->id : NULL;
}
double trawl_results_score(const trawl_results *r, size_t i) {
    return hit(r, i) ? hit(r, i)->score : NAN;
}
const char *trawl_results_title(const trawl_results *r, size_t i) {
    return hit(r, i) ? hit(r, i)->title : NULL;
}
const char *trawl_results_explain(const trawl_results *r, size_t i) {
    return hit(r, i) ? hit(r, i)->explain : NULL;
}
const char *trawl_results_sort_value(const trawl_results *r, size_t i) {
    return hit(r, i) ? hit(r, i)->sort_value : NULL;
}

const char *trawl_results_snippet(const trawl_results *r, size_t i, trawl_snippet_style style) {
    if (!hit(r, i) || (unsigned)style > 2) return NULL;
    return hit(r, i)->snip[style];
}
