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
    char errmsg[1024];
    long erroff;
    uint64_t took_us;
    tw_hits hits;
};

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

trawl_rc trawl_search(const trawl_index *idx, const char *query, const trawl_options *options, trawl_results **out) {
    uint64_t t0 = now_us();
    if (out) *out = NULL;
    if (!out) return TRAWL_EINVAL;
    trawl_results *res = calloc(1, sizeof *res);
    if (!res) return TRAWL_ENOMEM;
    res->erroff = -1;
    *out = res;
    if (!idx || !query) {
        return res->rc = tw_err(res->errmsg, sizeof res->errmsg, TRAWL_EINVAL, "no index or query");
    }
    trawl_options *dflt = NULL;
    if (!options) {
        if (!(dflt = trawl_options_new()))
            return res->rc = tw_err(res->errmsg, sizeof res->errmsg, TRAWL_ENOMEM, "out of memory");
        options = dflt;
    }
    int rc;
    tw_qctx *ctx = tw_index_qctx_acquire(idx);
    if (!ctx)
        rc = tw_err(res->errmsg, sizeof res->errmsg, TRAWL_ENOMEM, "cannot make an analyzer for '%s'", idx->view.lang);
    else
        rc = tw_query_run(&idx->view, &options->p, ctx, query, strlen(query), &res->hits, res->errmsg,
                          sizeof res->errmsg, &res->erroff);
    tw_index_qctx_release(idx, ctx);
    trawl_options_free(dflt);
    res->rc = rc;
    res->took_us = now_us() - t0;
    return rc;
}

void trawl_results_free(trawl_results *r) {
    if (!r) return;
    tw_hits_free(&r->hits);
    free(r);
}

const char *trawl_results_errmsg(const trawl_results *r) {
    return r ? (r->rc ? r->errmsg : "") : "no results";
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

const char *trawl_results_snippet(const trawl_results *r, size_t i, trawl_snippet_style style) {
    if (!hit(r, i) || (unsigned)style > 2) return NULL;
    return hit(r, i)->snip[style];
}
