/*
 * api.c — small public entry points: version, error strings, memory, analysis
 * and the search options object.
 */
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "engine.h"
#include "gstats.h"

const char *trawl_version(void) {
    return TRAWL_VERSION_STRING;
}

const char *trawl_strerror(int rc) {
    return tw_strerror(rc);
}

void trawl_free(void *p) {
    free(p);
}

typedef struct analyze_ctx {
    trawl_token_fn fn;
    void *ctx;
} analyze_ctx;

/* Hands a token to the caller's function; 1 (a stop) when it says stop. */
static int forward(void *c, const tw_token *t) {
    analyze_ctx *x = c;
    return x->fn(x->ctx, t->term, t->len, t->pos, t->start, t->end) != 0;
}

trawl_rc trawl_analyze(const char *lang, const char *text, size_t len, trawl_token_fn fn, void *ctx) {
    if ((!text && len) || !fn) return TRAWL_EINVAL;
    tw_analyzer *a;
    int rc = tw_analyzer_new(lang, &a);
    if (rc) return rc;
    analyze_ctx x = {fn, ctx};
    rc = tw_analyze(a, text ? text : "", len, 0, 1, forward, &x, NULL);
    tw_analyzer_free(a);
    return rc < 0 ? rc : TRAWL_OK;
}

const char *const *trawl_languages(void) {
    return tw_languages();
}

trawl_options *trawl_options_new(void) {
    trawl_options *o = calloc(1, sizeof *o);
    if (o) tw_params_default(&o->p);
    return o;
}

void trawl_options_free(trawl_options *o) {
    if (!o) return;
    for (size_t i = 0; i < o->p.nweights; i++) free(o->p.weights[i].field);
    free(o->p.weights);
    tw_params_analytics_free(&o->p);
    if (o->stats) tw_gstats_clear(o->stats);
    free(o->stats);
    free(o->filter);
    free(o->sort_field);
    free(o);
}

trawl_rc trawl_options_set_filter(trawl_options *o, const char *expr) {
    if (!o) return TRAWL_EINVAL;
    char *copy = expr && expr[0] ? strdup(expr) : NULL;
    if (expr && expr[0] && !copy) return TRAWL_ENOMEM;
    free(o->filter);
    o->filter = copy;
    o->p.filter = copy;
    return TRAWL_OK;
}

trawl_rc trawl_options_set_sort(trawl_options *o, const char *spec) {
    if (!o) return TRAWL_EINVAL;
    if (!spec || !spec[0]) {
        free(o->sort_field);
        o->sort_field = NULL;
        o->p.sort_field = NULL;
        o->p.sort_desc = 0;
        return TRAWL_OK;
    }
    const char *colon = strrchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    int desc = 0;
    if (colon && strcmp(colon + 1, "desc") == 0)
        desc = 1;
    else if (colon && strcmp(colon + 1, "asc") != 0)
        return TRAWL_EINVAL;
    if (len == 0) return TRAWL_EINVAL;
    char *f = strndup(spec, len);
    if (!f) return TRAWL_ENOMEM;
    free(o->sort_field);
    o->sort_field = f;
    o->p.sort_field = f;
    o->p.sort_desc = desc;
    return TRAWL_OK;
}

void trawl_options_set_limit(trawl_options *o, size_t k) {
    if (o) o->p.limit = k;
}
void trawl_options_set_offset(trawl_options *o, size_t off) {
    if (o) o->p.offset = off;
}
void trawl_options_set_or(trawl_options *o, int on) {
    if (!o) return;
    o->p.use_or = on != 0;
    o->p.auto_op = 0;
}
trawl_rc trawl_options_set_op(trawl_options *o, trawl_op op) {
    if (!o || (op != TRAWL_OP_AND && op != TRAWL_OP_OR && op != TRAWL_OP_AUTO)) return TRAWL_EINVAL;
    /* AUTO parses as OR where one parse serves (statistics). */
    o->p.use_or = op != TRAWL_OP_AND;
    o->p.auto_op = op == TRAWL_OP_AUTO;
    return TRAWL_OK;
}
void trawl_options_set_explain(trawl_options *o, int on) {
    if (o) o->p.explain = on != 0;
}
void trawl_options_set_snippets(trawl_options *o, int on) {
    if (o) o->p.snippets = on != 0;
}
void trawl_options_set_count_only(trawl_options *o, int on) {
    if (o) o->p.count_only = on != 0;
}
void trawl_options_set_exhaustive(trawl_options *o, int on) {
    if (o) o->p.exhaustive = on != 0;
}

trawl_rc trawl_options_set_bm25(trawl_options *o, double k1, double b) {
    if (!o || !(k1 >= 0 && k1 <= 1000) || !(b >= 0 && b <= 1)) return TRAWL_EINVAL;
    o->p.k1 = k1;
    o->p.b = b;
    return TRAWL_OK;
}

trawl_rc trawl_options_set_ranking(trawl_options *o, trawl_ranking r) {
    if (!o || (r != TRAWL_RANKING_BM25 && r != TRAWL_RANKING_BM25F && r != TRAWL_RANKING_BM25_PROX &&
               r != TRAWL_RANKING_BM25F_PROX))
        return TRAWL_EINVAL;
    o->p.bm25f = r == TRAWL_RANKING_BM25F || r == TRAWL_RANKING_BM25F_PROX;
    o->p.prox = r == TRAWL_RANKING_BM25_PROX || r == TRAWL_RANKING_BM25F_PROX;
    return TRAWL_OK;
}

trawl_rc trawl_options_set_proximity(trawl_options *o, double weight, unsigned window) {
    if (!o || !(weight > 0 && weight <= 1000) || window < 1 || window > 64) return TRAWL_EINVAL;
    o->p.prox_weight = weight;
    o->p.prox_window = window;
    return TRAWL_OK;
}

trawl_rc trawl_options_set_field_weight(trawl_options *o, const char *field, double w) {
    if (!o || !field || !(w >= 0 && w <= 1e6)) return TRAWL_EINVAL;
    for (size_t i = 0; i < o->p.nweights; i++)
        if (strcmp(o->p.weights[i].field, field) == 0) {
            o->p.weights[i].weight = w;
            return TRAWL_OK;
        }
    tw_field_weight *nw = realloc(o->p.weights, sizeof *nw * (o->p.nweights + 1));
    if (!nw) return TRAWL_ENOMEM;
    o->p.weights = nw;
    if (!(nw[o->p.nweights].field = strdup(field))) return TRAWL_ENOMEM;
    nw[o->p.nweights++].weight = w;
    return TRAWL_OK;
}
