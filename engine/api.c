/*
 * api.c — small public entry points: version, error strings, memory, analysis
 * and the search options object.
 */
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "engine.h"
#include "options.h"

const char *trawl_version(void) {
    return TRAWL_VERSION_STRING;
}

const char *trawl_strerror(int rc) {
    switch (rc) {
#define TRAWL_RC_CASE_(name, value, msg)                                                                               \
    case value: return msg;
        TRAWL_ERRORS(TRAWL_RC_CASE_)
#undef TRAWL_RC_CASE_
    }
    return "unknown error";
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
    if (!o) return NULL;
    o->limit = 10;
    o->snippets = 1;
    o->k1 = 1.2;
    o->b = 0.75;
    return o;
}

void trawl_options_free(trawl_options *o) {
    if (!o) return;
    for (size_t i = 0; i < o->nweights; i++) free(o->weights[i].field);
    free(o->weights);
    free(o);
}

void trawl_options_set_limit(trawl_options *o, size_t k) {
    if (o) o->limit = k;
}
void trawl_options_set_offset(trawl_options *o, size_t off) {
    if (o) o->offset = off;
}
void trawl_options_set_or(trawl_options *o, int on) {
    if (o) o->use_or = on != 0;
}
void trawl_options_set_explain(trawl_options *o, int on) {
    if (o) o->explain = on != 0;
}
void trawl_options_set_snippets(trawl_options *o, int on) {
    if (o) o->snippets = on != 0;
}
void trawl_options_set_count_only(trawl_options *o, int on) {
    if (o) o->count_only = on != 0;
}
void trawl_options_set_exhaustive(trawl_options *o, int on) {
    if (o) o->exhaustive = on != 0;
}

trawl_rc trawl_options_set_bm25(trawl_options *o, double k1, double b) {
    if (!o || !(k1 >= 0 && k1 <= 1000) || !(b >= 0 && b <= 1)) return TRAWL_EINVAL;
    o->k1 = k1;
    o->b = b;
    return TRAWL_OK;
}

trawl_rc trawl_options_set_field_weight(trawl_options *o, const char *field, double w) {
    if (!o || !field || !(w >= 0 && w <= 1e6)) return TRAWL_EINVAL;
    for (size_t i = 0; i < o->nweights; i++)
        if (strcmp(o->weights[i].field, field) == 0) {
            o->weights[i].weight = w;
            return TRAWL_OK;
        }
    tw_field_weight *nw = realloc(o->weights, sizeof *nw * (o->nweights + 1));
    if (!nw) return TRAWL_ENOMEM;
    o->weights = nw;
    if (!(nw[o->nweights].field = strdup(field))) return TRAWL_ENOMEM;
    nw[o->nweights++].weight = w;
    return TRAWL_OK;
}

double tw_options_weight(const trawl_options *o, const char *field) {
    for (size_t i = 0; o && i < o->nweights; i++)
        if (strcmp(o->weights[i].field, field) == 0) return o->weights[i].weight;
    return strcmp(field, "title") == 0 ? 2.0 : 1.0;
}
