/*
 * gstats.c (engine) — collection-wide BM25 statistics through the public
 * API: a query's statistics read from one index as JSON
 * (trawl_index_query_stats), the sum of several such documents
 * (trawl_stats_sum), and a search scored with supplied statistics
 * (trawl_options_set_stats). The JSON form is
 *   {"documents": N, "fields": {F: {"documents": D, "tokens": T}, ...},
 *    "terms": {F: {TERM: DF, ...}, ...}}
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "engine.h"
#include "gstats.h"
#include "plan.h"

/* A non-negative JSON integer member key of obj, or -1. */
static json_int_t count_of(const json_t *obj, const char *key) {
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
}

/* Adds the statistics document root to *g: field statistics summed with
 * what is there, terms appended (tw_gstats_finish sums them).
 * Returns 0, TRAWL_EINVAL for a malformed document, or TRAWL_ENOMEM. */
static int add_json(tw_gstats *g, const json_t *root) {
    json_int_t n = count_of(root, "documents");
    const json_t *fields = json_object_get(root, "fields"), *terms = json_object_get(root, "terms");
    if (n < 0 || !json_is_object(fields) || !json_is_object(terms)) return TRAWL_EINVAL;
    g->docs += (uint64_t)n;
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)fields, name, v) {
        json_int_t d = count_of(v, "documents"), t = count_of(v, "tokens");
        if (d < 0 || t < 0) return TRAWL_EINVAL;
        const tw_gfield *f = tw_gstats_field(g, name);
        if (tw_gstats_set_field(g, name, (uint64_t)d + (f ? f->docs : 0), (uint64_t)t + (f ? f->tokens : 0)))
            return TRAWL_ENOMEM;
    }
    json_object_foreach((json_t *)terms, name, v) {
        if (!json_is_object(v)) return TRAWL_EINVAL;
        const char *term;
        const json_t *df;
        json_object_foreach((json_t *)v, term, df) {
            if (!json_is_integer(df) || json_integer_value(df) < 0) return TRAWL_EINVAL;
            if (tw_gstats_add_term(g, name, term, strlen(term), (uint64_t)json_integer_value(df))) return TRAWL_ENOMEM;
        }
    }
    return 0;
}

/* The statistics document of g: a new JSON object or NULL (out of memory). */
static json_t *to_json(const tw_gstats *g) {
    json_t *root = json_object(), *fields = json_object(), *terms = json_object();
    int bad = !root || !fields || !terms;
    if (!bad) {
        bad |= json_object_set_new(root, "documents", json_integer((json_int_t)g->docs));
        bad |= json_object_set(root, "fields", fields);
        bad |= json_object_set(root, "terms", terms);
    }
    for (size_t i = 0; !bad && i < g->nfields; i++) {
        json_t *f = json_object();
        bad |= !f || json_object_set_new(fields, g->fields[i].name, f);
        if (!bad) {
            bad |= json_object_set_new(f, "documents", json_integer((json_int_t)g->fields[i].docs));
            bad |= json_object_set_new(f, "tokens", json_integer((json_int_t)g->fields[i].tokens));
        }
    }
    for (size_t i = 0; !bad && i < g->nterms; i++) {
        json_t *f = json_object_get(terms, g->terms[i].field);
        if (!f) bad |= !(f = json_object()) || json_object_set_new(terms, g->terms[i].field, f);
        if (!bad) bad |= json_object_set_new(f, g->terms[i].term, json_integer((json_int_t)g->terms[i].df));
    }
    json_decref(fields);
    json_decref(terms);
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}

/* *out = the compact serialization of root (which is released), or rc. */
static trawl_rc emit(json_t *root, char **out) {
    *out = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(root);
    return *out ? TRAWL_OK : TRAWL_ENOMEM;
}

trawl_rc trawl_index_query_stats(const trawl_index *idx, const char *query, const trawl_options *options, char **json,
                                 char **errmsg) {
    if (json) *json = NULL;
    if (errmsg) *errmsg = NULL;
    if (!idx || !query || !json) return TRAWL_EINVAL;
    char err[1024] = "";
    tw_gstats g;
    memset(&g, 0, sizeof g);
    trawl_options *dflt = NULL;
    if (!options && !(dflt = trawl_options_new())) return TRAWL_ENOMEM;
    tw_params p = (options ? options : dflt)->p;
    p.gstats = NULL;
    p.collect = &g;
    tw_query *q = NULL;
    tw_plan *plan = NULL;
    tw_parse_error perr;
    long erroff = -1;
    tw_qctx *ctx = tw_index_qctx_acquire(idx);
    int rc = ctx ? tw_query_parse(query, strlen(query), p.use_or, &q, &perr) : TRAWL_ENOMEM;
    if (rc && ctx) tw_err(err, sizeof err, rc, "%s", perr.message);
    if (!rc) rc = tw_plan_build(&idx->view, &p, ctx->an, tw_query_root(q), &plan, err, sizeof err, &erroff);
    tw_plan_free(plan);
    tw_query_free(q);
    tw_index_qctx_release(idx, ctx);
    trawl_options_free(dflt);
    const tw_view *v = &idx->view;
    g.docs = v->live_docs;
    for (uint32_t f = 0; !rc && f < v->nfields; f++)
        rc = tw_gstats_set_field(&g, v->field_names[f], v->field_docs[f], v->field_tokens[f]);
    tw_gstats_finish(&g, 0);
    if (!rc) rc = emit(to_json(&g), json);
    tw_gstats_clear(&g);
    if (rc && errmsg) *errmsg = strdup(err[0] ? err : tw_strerror(rc));
    return rc;
}

trawl_rc trawl_stats_sum(const char *const *jsons, size_t n, char **out) {
    if (out) *out = NULL;
    if (!out || (!jsons && n)) return TRAWL_EINVAL;
    tw_gstats g;
    memset(&g, 0, sizeof g);
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *root = jsons[i] ? json_loads(jsons[i], 0, NULL) : NULL;
        rc = root ? add_json(&g, root) : TRAWL_EINVAL;
        json_decref(root);
    }
    tw_gstats_finish(&g, 1);
    if (!rc) rc = emit(to_json(&g), out);
    tw_gstats_clear(&g);
    return rc;
}

trawl_rc trawl_options_set_stats(trawl_options *o, const char *json) {
    if (!o) return TRAWL_EINVAL;
    tw_gstats *g = NULL;
    if (json) {
        json_t *root = json_loads(json, 0, NULL);
        if (!root) return TRAWL_EINVAL;
        int rc = (g = calloc(1, sizeof *g)) ? add_json(g, root) : TRAWL_ENOMEM;
        json_decref(root);
        if (g) tw_gstats_finish(g, 1);
        if (rc) {
            if (g) tw_gstats_clear(g);
            free(g);
            return rc;
        }
    }
    if (o->stats) tw_gstats_clear(o->stats);
    free(o->stats);
    o->stats = g;
    o->p.gstats = g;
    return TRAWL_OK;
}
