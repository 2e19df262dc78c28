/*
 * analytics.c — the public face of facets and date histograms: the options
 * setters (trawl_options_add_facet, trawl_options_set_histogram,
 * trawl_options_set_analytics_complete), the
 * computation over a search's whole match set (tw_analytics_run, called by
 * tw_search_params) and the trawl_results_facet_* / _histogram_* accessors.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "matchset.h"
#include "query.h"

#define MAX_FACETS 64
#define MAX_FACET_VALUES 10000

void tw_params_analytics_free(tw_params *p) {
    for (size_t i = 0; i < p->nfacets; i++) free(p->facets[i].field);
    free(p->facets);
    free(p->hist_field);
    p->facets = NULL;
    p->nfacets = 0;
    p->hist_field = NULL;
}

trawl_rc trawl_options_add_facet(trawl_options *o, const char *field, size_t n) {
    if (!o || !field || !*field || n < 1 || n > MAX_FACET_VALUES) return TRAWL_EINVAL;
    for (size_t i = 0; i < o->p.nfacets; i++)
        if (!strcmp(o->p.facets[i].field, field)) {
            o->p.facets[i].n = n;
            return TRAWL_OK;
        }
    if (o->p.nfacets >= MAX_FACETS) return TRAWL_EINVAL;
    tw_facet_req *nf = realloc(o->p.facets, (o->p.nfacets + 1) * sizeof *nf);
    if (!nf) return TRAWL_ENOMEM;
    o->p.facets = nf;
    if (!(nf[o->p.nfacets].field = strdup(field))) return TRAWL_ENOMEM;
    nf[o->p.nfacets++].n = n;
    return TRAWL_OK;
}

void trawl_options_clear_facets(trawl_options *o) {
    if (!o) return;
    char *h = o->p.hist_field;
    o->p.hist_field = NULL;
    tw_params_analytics_free(&o->p);
    o->p.hist_field = h;
}

trawl_rc trawl_options_set_histogram(trawl_options *o, const char *field, const char *unit, const char *tz) {
    if (!o) return TRAWL_EINVAL;
    if (!field) {
        free(o->p.hist_field);
        o->p.hist_field = NULL;
        return TRAWL_OK;
    }
    tw_cal_unit u;
    int32_t off;
    if (!*field || tw_cal_unit_parse(unit, &u) || tw_cal_offset_parse(tz, &off)) return TRAWL_EINVAL;
    char *f = strdup(field);
    if (!f) return TRAWL_ENOMEM;
    free(o->p.hist_field);
    o->p.hist_field = f;
    o->p.hist_unit = (int)u;
    o->p.hist_tz = off;
    return TRAWL_OK;
}

trawl_rc trawl_options_set_analytics_complete(trawl_options *o, int on) {
    if (!o) return TRAWL_EINVAL;
    o->p.analytics_complete = on != 0;
    return TRAWL_OK;
}

int tw_analytics_wanted(const tw_params *p) {
    return p->nfacets > 0 || p->hist_field != NULL;
}

void tw_analytics_out_free(tw_analytics_out *o) {
    for (size_t i = 0; i < o->nfacets; i++) tw_facet_result_free(&o->facets[i]);
    free(o->facets);
    tw_histogram_free(&o->hist);
    memset(o, 0, sizeof *o);
}

void tw_match_sets_free(roaring_bitmap_t **m, uint32_t n) {
    for (uint32_t s = 0; m && s < n; s++) roaring_bitmap_free(m[s]);
    free(m);
}

int tw_match_sets(const trawl_index *idx, const tw_params *p, tw_qctx *ctx, const char *query, roaring_bitmap_t ***out,
                  char *err, size_t errcap, long *erroff) {
    *out = NULL;
    tw_matchset ms;
    int rc = tw_query_matchset(&idx->view, p, ctx, query, query ? strlen(query) : 0, &ms, err, errcap, erroff);
    if (rc) return rc;
    *out = ms.segs; /* taken over: tw_match_sets_free frees what tw_matchset_free would */
    if (!ms.segs && !(*out = calloc(1, sizeof **out))) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    return 0;
}

int tw_analytics_run(const trawl_index *idx, const tw_params *p, tw_qctx *ctx, const char *query, const tw_matchset *ms,
                     tw_analytics_out *out, char *err, size_t errcap) {
    const tw_view *v = &idx->view;
    int rc = 0;
    tw_matchset own = {0, NULL, 0};
    if (ms->nsegs != v->nsegs || (!ms->segs && v->nsegs)) {
        /* The search kept no match set (the auto operator merges two runs):
         * build it alone. */
        long erroff;
        if ((rc = tw_query_matchset(v, p, ctx, query, strlen(query), &own, err, errcap, &erroff))) return rc;
        ms = &own;
    }
    const roaring_bitmap_t *const *cm = (const roaring_bitmap_t *const *)ms->segs;
    if (p->nfacets && !(out->facets = calloc(p->nfacets, sizeof *out->facets)))
        rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < p->nfacets; i++) {
        /* Complete parts count every value: the ordinal walk, with no cap. */
        rc = p->analytics_complete
                 ? tw_facet_compute_method(v, cm, p->facets[i].field, SIZE_MAX, TW_FACET_ORDINALS, &out->facets[i], err,
                                           errcap)
                 : tw_facet_compute(v, cm, p->facets[i].field, p->facets[i].n, &out->facets[i], err, errcap);
        if (!rc) out->nfacets++;
    }
    if (!rc && p->hist_field)
        rc = tw_histogram_compute(v, cm, p->hist_field, (tw_cal_unit)p->hist_unit, p->hist_tz, p->analytics_complete,
                                  &out->hist, err, errcap);
    tw_matchset_free(&own);
    return rc;
}

/* ---- accessors ---- */

static const tw_facet_result *facet(const trawl_results *r, size_t f) {
    const tw_analytics_out *a = tw_results_analytics(r);
    return a && f < a->nfacets ? &a->facets[f] : NULL;
}

size_t trawl_results_facet_count(const trawl_results *r) {
    const tw_analytics_out *a = tw_results_analytics(r);
    return a ? a->nfacets : 0;
}
const char *trawl_results_facet_field(const trawl_results *r, size_t f) {
    return facet(r, f) ? facet(r, f)->field : NULL;
}
const char *trawl_results_facet_type(const trawl_results *r, size_t f) {
    return facet(r, f) ? facet(r, f)->type : NULL;
}
uint64_t trawl_results_facet_docs(const trawl_results *r, size_t f) {
    return facet(r, f) ? facet(r, f)->docs : 0;
}
size_t trawl_results_facet_values(const trawl_results *r, size_t f) {
    return facet(r, f) ? facet(r, f)->nvalues : 0;
}
const char *trawl_results_facet_value(const trawl_results *r, size_t f, size_t i) {
    const tw_facet_result *x = facet(r, f);
    return x && i < x->nvalues ? x->values[i].value : NULL;
}
uint64_t trawl_results_facet_value_count(const trawl_results *r, size_t f, size_t i) {
    const tw_facet_result *x = facet(r, f);
    return x && i < x->nvalues ? x->values[i].count : 0;
}
const char *trawl_results_facet_min(const trawl_results *r, size_t f) {
    return facet(r, f) ? facet(r, f)->min : NULL;
}
const char *trawl_results_facet_max(const trawl_results *r, size_t f) {
    return facet(r, f) ? facet(r, f)->max : NULL;
}

static const tw_hist_bucket *bucket(const trawl_results *r, size_t i) {
    const tw_analytics_out *a = tw_results_analytics(r);
    return a && i < a->hist.n ? &a->hist.b[i] : NULL;
}

size_t trawl_results_histogram_count(const trawl_results *r) {
    const tw_analytics_out *a = tw_results_analytics(r);
    return a ? a->hist.n : 0;
}
const char *trawl_results_histogram_label(const trawl_results *r, size_t i) {
    return bucket(r, i) ? bucket(r, i)->label : NULL;
}
int64_t trawl_results_histogram_start(const trawl_results *r, size_t i) {
    return bucket(r, i) ? bucket(r, i)->start : 0;
}
uint64_t trawl_results_histogram_matches(const trawl_results *r, size_t i) {
    return bucket(r, i) ? bucket(r, i)->matches : 0;
}
uint64_t trawl_results_histogram_docs(const trawl_results *r, size_t i) {
    return bucket(r, i) ? bucket(r, i)->docs : 0;
}
