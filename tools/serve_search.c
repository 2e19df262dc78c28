/*
 * serve_search.c — the search and document handlers of `trawl serve`.
 *
 * Search takes its parameters from a JSON body (POST) or the query string
 * (GET), checks every one (type, range, unknown names), runs the query on
 * the index's current snapshot with its filters (ANDed) and sort, and
 * answers {hits, total, offset, limit, took_us} (a sort_value per hit when
 * sorted), plus facets and a date histogram when asked (in the shape of
 * `trawl search --json`). Documents: GET one stored document, POST a batch for ingestion
 * (answered later by the ingester, see serve_ingest.c), delete (not in the
 * the documents of a list of ids or matched by a query, through the same
 * queue and group commit as additions).
 */
#include "serve.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SRV_MAX_FACETS 64     /* facets per search (the library's limit) */
#define SRV_MAX_FACET_N 10000 /* values per keyword facet */
#define SRV_FIELD_NAME 256    /* bytes of a facet or histogram field name */

typedef struct facet_spec {
    char field[SRV_FIELD_NAME];
    size_t n;
} facet_spec;

typedef struct search_params {
    const char *q;
    size_t limit, offset;
    int use_or, highlight, explain;
    const char *fields[SRV_MAX_FIELDS];
    size_t nfields;
    facet_spec facets[SRV_MAX_FACETS];
    size_t nfacets;
    char hist_field[SRV_FIELD_NAME];
    const char *hist_unit, *tz; /* hist_field[0] == 0: no histogram */
    char *filter;               /* every filter in parentheses, ANDed: "(f1) (f2)" (malloc'd) */
    const char *sort;           /* "F[:asc|desc]" or NULL (relevance) */
} search_params;

/* Is the request's Content-Type acceptable for a JSON body (ndjson: JSON Lines
 * too)? Absent counts as JSON. On refusal rs holds a 415. */
static int check_content_type(const srv_request *rq, srv_response *rs, int ndjson) {
    const char *ct = rq->content_type;
    if (!ct || !*ct) return 0;
    size_t n = strcspn(ct, "; \t");
    static const char *const json_types[] = {"application/json", "application/x-ndjson", "application/ndjson",
                                             "application/jsonl", "application/x-jsonlines"};
    size_t ntypes = ndjson ? sizeof json_types / sizeof json_types[0] : 1;
    for (size_t i = 0; i < ntypes; i++)
        if (strlen(json_types[i]) == n && strncasecmp(ct, json_types[i], n) == 0) return 0;
    srv_error(rs, 415, "unsupported_media_type", -1, "Content-Type must be %s",
              ndjson ? "application/json or application/x-ndjson" : "application/json");
    return -1;
}

/* Parses a boolean query-string value; 0 or -1. */
static int parse_bool(const char *s, int *out) {
    if (!strcmp(s, "true") || !strcmp(s, "1") || !*s) return *out = 1, 0;
    if (!strcmp(s, "false") || !strcmp(s, "0")) return *out = 0, 0;
    return -1;
}

/* Appends the filter expr[0..len) to p->filter as " (expr)" (ANDed, as the
 * CLI's repeated --filter). 0, or -1 with the 400/500 in rs (a NUL inside). */
static int add_filter(search_params *p, const char *expr, size_t len, srv_response *rs) {
    if (memchr(expr, 0, len)) {
        srv_error(rs, 400, "bad_parameter", -1, "'filter' must not contain NUL characters");
        return -1;
    }
    size_t old = p->filter ? strlen(p->filter) : 0, size = old + len + 4;
    char *f = realloc(p->filter, size);
    if (!f) {
        srv_error(rs, 500, "internal", -1, "out of memory");
        return -1;
    }
    snprintf(f + old, size - old, "%s(%.*s)", old ? " " : "", (int)len, expr);
    p->filter = f;
    return 0;
}

/* Copies field[0..len) into out (SRV_FIELD_NAME bytes); 0, or -1 when empty,
 * too long or holding a NUL. */
static int copy_field(char *out, const char *field, size_t len) {
    if (len == 0 || len >= SRV_FIELD_NAME || memchr(field, 0, len)) return -1;
    memcpy(out, field, len);
    out[len] = 0;
    return 0;
}

/* Adds the facet FIELD[:N] (N from 1 to SRV_MAX_FACET_N, default 10; as the
 * CLI's --facet reads it, the last colon separates N). 0, or -1 with the 400
 * in rs. */
static int add_facet_spec(search_params *p, const char *spec, srv_response *rs) {
    const char *colon = strrchr(spec, ':');
    size_t n = 10;
    if (p->nfacets == SRV_MAX_FACETS) {
        srv_error(rs, 400, "bad_parameter", -1, "at most %d facets", SRV_MAX_FACETS);
        return -1;
    }
    if ((colon && srv_parse_size(colon + 1, 0, SRV_MAX_FACET_N, &n) != 0) || n == 0 ||
        copy_field(p->facets[p->nfacets].field, spec, colon ? (size_t)(colon - spec) : strlen(spec)) != 0) {
        srv_error(rs, 400, "bad_parameter", -1, "a facet is FIELD or FIELD:N with 1 <= N <= %d", SRV_MAX_FACET_N);
        return -1;
    }
    p->facets[p->nfacets++].n = n;
    return 0;
}

/* Sets the histogram FIELD[:UNIT] (unit checked by the library later). 0 or
 * -1 with the 400 in rs. */
static int set_hist_spec(search_params *p, const char *spec, srv_response *rs) {
    const char *colon = strrchr(spec, ':');
    p->hist_unit = colon ? colon + 1 : "month";
    if (copy_field(p->hist_field, spec, colon ? (size_t)(colon - spec) : strlen(spec)) != 0) {
        srv_error(rs, 400, "bad_parameter", -1, "'histogram' is FIELD or FIELD:UNIT");
        return -1;
    }
    return 0;
}

/* Reads the GET form. 0, or -1 with the error in rs. */
static int params_from_args(const srv_request *rq, search_params *p, srv_response *rs) {
    for (size_t i = 0; i < rq->nargs; i++) {
        const char *k = rq->args[i].key, *v = rq->args[i].value ? rq->args[i].value : "";
        if (!strcmp(k, "q")) {
            p->q = v;
        } else if (!strcmp(k, "limit")) {
            if (srv_parse_size(v, 0, SRV_MAX_LIMIT, &p->limit) != 0) goto range;
        } else if (!strcmp(k, "offset")) {
            if (srv_parse_size(v, 0, SRV_MAX_OFFSET, &p->offset) != 0) goto range;
        } else if (!strcmp(k, "op")) {
            if (strcmp(v, "and") != 0 && strcmp(v, "or") != 0 && strcmp(v, "auto") != 0) goto bad;
            p->use_or = !strcmp(v, "or") ? TRAWL_OP_OR : !strcmp(v, "auto") ? TRAWL_OP_AUTO : TRAWL_OP_AND;
        } else if (!strcmp(k, "highlight")) {
            if (parse_bool(v, &p->highlight) != 0) goto bad;
        } else if (!strcmp(k, "explain")) {
            if (parse_bool(v, &p->explain) != 0) goto bad;
        } else if (!strcmp(k, "facets") || !strcmp(k, "facet")) {
            /* Repeatable, and a comma-separated list. */
            char spec[SRV_FIELD_NAME + 16];
            for (const char *at = v;;) {
                size_t n = strcspn(at, ",");
                if (n >= sizeof spec) goto bad;
                memcpy(spec, at, n);
                spec[n] = 0;
                if (add_facet_spec(p, spec, rs) != 0) return -1;
                if (!at[n]) break;
                at += n + 1;
            }
        } else if (!strcmp(k, "histogram")) {
            if (set_hist_spec(p, v, rs) != 0) return -1;
        } else if (!strcmp(k, "tz")) {
            p->tz = v;
        } else if (!strcmp(k, "filter")) {
            if (add_filter(p, v, strlen(v), rs) != 0) return -1;
        } else if (!strcmp(k, "sort")) {
            p->sort = v;
        } else {
            srv_error(rs, 400, "unknown_parameter", -1, "unknown parameter '%s'", k);
            return -1;
        }
        continue;
    range:
        srv_error(rs, 400, "bad_parameter", -1, "'%s' must be a whole number from 0 to %d", k,
                  !strcmp(k, "limit") ? SRV_MAX_LIMIT : SRV_MAX_OFFSET);
        return -1;
    bad:
        srv_error(rs, 400, "bad_parameter", -1, "bad value for '%s'", k);
        return -1;
    }
    return 0;
}

/* Reads the POST form from body (kept alive by the caller). 0, or -1. */
static int params_from_json(json_t *body, search_params *p, srv_response *rs) {
    if (!json_is_object(body)) {
        srv_error(rs, 400, "bad_request", -1, "the body must be a JSON object");
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        if (!strcmp(k, "q")) {
            if (!json_is_string(v)) goto type;
            p->q = json_string_value(v);
            if (strlen(p->q) != json_string_length(v)) {
                srv_error(rs, 400, "bad_parameter", -1, "'q' must not contain NUL characters");
                return -1;
            }
        } else if (!strcmp(k, "limit") || !strcmp(k, "offset")) {
            size_t max = !strcmp(k, "limit") ? SRV_MAX_LIMIT : SRV_MAX_OFFSET;
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (json_int_t)max) {
                srv_error(rs, 400, "bad_parameter", -1, "'%s' must be a whole number from 0 to %zu", k, max);
                return -1;
            }
            *(!strcmp(k, "limit") ? &p->limit : &p->offset) = (size_t)json_integer_value(v);
        } else if (!strcmp(k, "op")) {
            const char *s = json_string_value(v);
            if (!s || (strcmp(s, "and") != 0 && strcmp(s, "or") != 0 && strcmp(s, "auto") != 0)) {
                srv_error(rs, 400, "bad_parameter", -1, "'op' must be \"and\", \"or\" or \"auto\"");
                return -1;
            }
            p->use_or = !strcmp(s, "or") ? TRAWL_OP_OR : !strcmp(s, "auto") ? TRAWL_OP_AUTO : TRAWL_OP_AND;
        } else if (!strcmp(k, "highlight") || !strcmp(k, "explain")) {
            if (!json_is_boolean(v)) goto type;
            *(!strcmp(k, "highlight") ? &p->highlight : &p->explain) = json_is_true(v);
        } else if (!strcmp(k, "fields")) {
            size_t i;
            json_t *f;
            if (!json_is_array(v) || json_array_size(v) > SRV_MAX_FIELDS) {
                srv_error(rs, 400, "bad_parameter", -1, "'fields' must be an array of at most %d strings",
                          SRV_MAX_FIELDS);
                return -1;
            }
            json_array_foreach(v, i, f) {
                if (!json_is_string(f)) {
                    srv_error(rs, 400, "bad_parameter", -1, "'fields' must be an array of strings");
                    return -1;
                }
                p->fields[p->nfields++] = json_string_value(f);
            }
        } else if (!strcmp(k, "facets")) {
            /* ["F", "F:N", {"field": "F", "size": N}, ...] */
            size_t i;
            json_t *f;
            if (!json_is_array(v)) goto type;
            json_array_foreach(v, i, f) {
                if (json_is_string(f)) {
                    if (add_facet_spec(p, json_string_value(f), rs) != 0) return -1;
                    continue;
                }
                json_t *fld = json_object_get(f, "field"), *size = json_object_get(f, "size");
                json_int_t n = size ? (json_is_integer(size) ? json_integer_value(size) : -1) : 10;
                if (!json_is_object(f) || !json_is_string(fld) || json_object_size(f) != 1u + (size != NULL) || n < 1 ||
                    n > SRV_MAX_FACET_N || p->nfacets == SRV_MAX_FACETS ||
                    copy_field(p->facets[p->nfacets].field, json_string_value(fld), json_string_length(fld)) != 0) {
                    srv_error(rs, 400, "bad_parameter", -1,
                              "'facets' must be an array of at most %d \"FIELD[:N]\" strings or {\"field\", "
                              "\"size\"} objects (1 <= size <= %d)",
                              SRV_MAX_FACETS, SRV_MAX_FACET_N);
                    return -1;
                }
                p->facets[p->nfacets++].n = (size_t)n;
            }
        } else if (!strcmp(k, "histogram")) {
            /* "F[:UNIT]" or {"field": "F", "unit": "month", "tz": "+01:00"} */
            if (json_is_string(v)) {
                if (set_hist_spec(p, json_string_value(v), rs) != 0) return -1;
                continue;
            }
            json_t *fld = json_object_get(v, "field"), *unit = json_object_get(v, "unit"),
                   *tz = json_object_get(v, "tz");
            if (!json_is_object(v) || !json_is_string(fld) || (unit && !json_is_string(unit)) ||
                (tz && !json_is_string(tz)) || json_object_size(v) != 1u + (unit != NULL) + (tz != NULL) ||
                copy_field(p->hist_field, json_string_value(fld), json_string_length(fld)) != 0) {
                srv_error(rs, 400, "bad_parameter", -1,
                          "'histogram' must be \"FIELD[:UNIT]\" or {\"field\", \"unit\", \"tz\"}");
                return -1;
            }
            p->hist_unit = unit ? json_string_value(unit) : "month";
            if (tz) p->tz = json_string_value(tz);
        } else if (!strcmp(k, "tz")) {
            if (!json_is_string(v)) goto type;
            p->tz = json_string_value(v);
        } else if (!strcmp(k, "filter")) {
            /* "EXPR" or ["EXPR", ...] (ANDed) */
            size_t i;
            json_t *f;
            if (json_is_string(v)) {
                if (add_filter(p, json_string_value(v), json_string_length(v), rs) != 0) return -1;
                continue;
            }
            if (!json_is_array(v)) goto type;
            json_array_foreach(v, i, f) {
                if (!json_is_string(f)) {
                    srv_error(rs, 400, "bad_parameter", -1, "'filter' must be a string or an array of strings");
                    return -1;
                }
                if (add_filter(p, json_string_value(f), json_string_length(f), rs) != 0) return -1;
            }
        } else if (!strcmp(k, "sort")) {
            if (!json_is_string(v)) goto type;
            p->sort = json_string_value(v);
            if (strlen(p->sort) != json_string_length(v)) {
                srv_error(rs, 400, "bad_parameter", -1, "'sort' must not contain NUL characters");
                return -1;
            }
        } else {
            srv_error(rs, 400, "unknown_parameter", -1, "unknown parameter '%s'", k);
            return -1;
        }
        continue;
    type:
        srv_error(rs, 400, "bad_parameter", -1, "'%s' has the wrong type", k);
        return -1;
    }
    return 0;
}

/* The requested fields of the stored document id, as an object (NULL when
 * the document cannot be read). */
static json_t *hit_fields(const trawl_index *idx, const char *id, const search_params *p) {
    char *text = NULL;
    if (trawl_index_get(idx, id, &text) != TRAWL_OK) return NULL;
    json_t *doc = json_loads(text, 0, NULL), *out = json_object();
    trawl_free(text);
    for (size_t i = 0; out && i < p->nfields; i++) {
        json_t *v = json_object_get(doc, p->fields[i]);
        if (v) json_object_set(out, p->fields[i], v);
    }
    json_decref(doc);
    return out;
}

/* Sets o's value only when v is not NULL (jansson's reference is stolen). */
static int put(json_t *o, const char *key, json_t *v) {
    return v ? json_object_set_new(o, key, v) : -1;
}

/* Adds "facets" and "histogram" to root as asked by p, in the shape of
 * `trawl search --json` (tools/cli_analytics.c): facets [{field, type, docs,
 * values: [{value, count}], min, max (date and number facets)}], histogram
 * [{bucket, start, matches, docs}]. 0 or -1 (out of memory). */
static int analytics_json(json_t *root, const trawl_results *r, const search_params *p) {
    if (p->nfacets) {
        json_t *facets = json_array();
        if (put(root, "facets", facets)) return -1;
        for (size_t f = 0; f < trawl_results_facet_count(r); f++) {
            const char *field = trawl_results_facet_field(r, f), *type = trawl_results_facet_type(r, f);
            json_t *o = json_object(), *vals = json_array();
            if (!o || json_array_append_new(facets, o) || put(o, "field", srv_json_stringn(field, strlen(field))) ||
                put(o, "type", json_string(type)) ||
                put(o, "docs", json_integer((json_int_t)trawl_results_facet_docs(r, f))) || put(o, "values", vals))
                return -1;
            if (strcmp(type, "keyword") != 0) {
                /* Numbers as JSON numbers (their text is exact), dates as strings. */
                const char *mm[2] = {trawl_results_facet_min(r, f), trawl_results_facet_max(r, f)};
                for (int k = 0; k < 2; k++) {
                    json_t *x = !mm[k]                    ? json_null()
                                : !strcmp(type, "number") ? json_loads(mm[k], JSON_DECODE_ANY, NULL)
                                                          : json_string(mm[k]);
                    if (put(o, k ? "max" : "min", x)) return -1;
                }
            }
            for (size_t i = 0; i < trawl_results_facet_values(r, f); i++) {
                const char *val = trawl_results_facet_value(r, f, i);
                json_t *e = json_object();
                if (!e || json_array_append_new(vals, e) || put(e, "value", srv_json_stringn(val, strlen(val))) ||
                    put(e, "count", json_integer((json_int_t)trawl_results_facet_value_count(r, f, i))))
                    return -1;
            }
        }
    }
    if (p->hist_field[0]) {
        json_t *h = json_array();
        if (put(root, "histogram", h)) return -1;
        for (size_t i = 0; i < trawl_results_histogram_count(r); i++) {
            json_t *e = json_object();
            if (!e || json_array_append_new(h, e) ||
                put(e, "bucket", json_string(trawl_results_histogram_label(r, i))) ||
                put(e, "start", json_integer((json_int_t)trawl_results_histogram_start(r, i))) ||
                put(e, "matches", json_integer((json_int_t)trawl_results_histogram_matches(r, i))) ||
                put(e, "docs", json_integer((json_int_t)trawl_results_histogram_docs(r, i))))
                return -1;
        }
    }
    return 0;
}

/* The answer to a successful search. */
static json_t *results_json(const trawl_index *idx, const trawl_results *r, const search_params *p) {
    json_t *hits = json_array();
    size_t n = trawl_results_count(r);
    for (size_t i = 0; hits && i < n; i++) {
        const char *id = trawl_results_id(r, i), *title = trawl_results_title(r, i);
        const char *snip = trawl_results_snippet(r, i, p->highlight ? TRAWL_SNIPPET_HTML : TRAWL_SNIPPET_PLAIN);
        json_t *h = json_object();
        if (!h) break;
        json_object_set_new(h, "id", srv_json_stringn(id, strlen(id)));
        json_object_set_new(h, "score", json_real(trawl_results_score(r, i)));
        json_object_set_new(h, "title", srv_json_stringn(title ? title : "", title ? strlen(title) : 0));
        json_object_set_new(h, "snippet", srv_json_stringn(snip ? snip : "", snip ? strlen(snip) : 0));
        if (p->nfields) {
            json_t *f = hit_fields(idx, id, p);
            json_object_set_new(h, "fields", f ? f : json_object());
        }
        if (p->explain) {
            const char *e = trawl_results_explain(r, i);
            json_object_set_new(h, "explain", srv_json_stringn(e ? e : "", e ? strlen(e) : 0));
        }
        if (p->sort && *p->sort) {
            const char *sv = trawl_results_sort_value(r, i);
            json_object_set_new(h, "sort_value", sv ? srv_json_stringn(sv, strlen(sv)) : json_null());
        }
        json_array_append_new(hits, h);
    }
    if (!hits) return NULL;
    json_t *root = json_pack("{s:o, s:I, s:I, s:I, s:I}", "hits", hits, "total", (json_int_t)trawl_results_total(r),
                             "offset", (json_int_t)p->offset, "limit", (json_int_t)p->limit, "took_us",
                             (json_int_t)trawl_results_took_us(r));
    if (root && (p->nfacets || p->hist_field[0]) && analytics_json(root, r, p) != 0) {
        json_decref(root);
        return NULL;
    }
    return root;
}

void srv_h_search(srv_server *s, srv_request *rq, srv_response *rs) {
    search_params p = {.limit = 10, .highlight = 1};
    json_t *body = NULL;
    if (!strcmp(rq->method, "POST")) {
        if (check_content_type(rq, rs, 0) != 0) return;
        json_error_t err;
        body = json_loadb(rq->body ? rq->body : "", rq->body_len, JSON_REJECT_DUPLICATES, &err);
        if (!body) {
            srv_error(rs, 400, "malformed_json", err.position, "malformed JSON: %s", err.text);
            return;
        }
        if (params_from_json(body, &p, rs) != 0) goto out;
    } else if (params_from_args(rq, &p, rs) != 0) {
        goto out;
    }
    if (!p.q) {
        srv_error(rs, 400, "missing_parameter", -1, "'q' (the query) is required");
        goto out;
    }
    if (strlen(p.q) > s->cfg.max_query) {
        srv_error(rs, 414, "query_too_long", -1, "the query is longer than %zu bytes", s->cfg.max_query);
        goto out;
    }
    json_t *probe = json_string(p.q); /* NULL for invalid UTF-8 */
    if (!probe) {
        srv_error(rs, 400, "bad_utf8", -1, "the query is not valid UTF-8");
        goto out;
    }
    json_decref(probe);
    if (p.filter && strlen(p.filter) > s->cfg.max_query) {
        srv_error(rs, 414, "query_too_long", -1, "the filters are longer than %zu bytes", s->cfg.max_query);
        goto out;
    }
    if (p.filter) {
        json_t *fprobe = json_string(p.filter); /* NULL for invalid UTF-8 */
        if (!fprobe) {
            srv_error(rs, 400, "bad_utf8", -1, "the filter is not valid UTF-8");
            goto out;
        }
        json_decref(fprobe);
    }
    srv_index *ix = srv_index_get(s, rq->name);
    if (!ix) {
        srv_error(rs, 404, "index_not_found", -1, "no index named '%s'", rq->name);
        goto out;
    }
    trawl_options *o = trawl_options_new();
    if (!o) {
        srv_index_release(ix);
        goto out;
    }
    trawl_options_set_limit(o, p.limit);
    trawl_options_set_offset(o, p.offset);
    trawl_options_set_op(o, (trawl_op)p.use_or);
    trawl_options_set_explain(o, p.explain);
    if (p.limit == 0) trawl_options_set_count_only(o, 1);
    for (size_t i = 0; i < p.nfacets; i++) trawl_options_add_facet(o, p.facets[i].field, p.facets[i].n);
    if ((p.hist_field[0] || p.tz) &&
        (!p.hist_field[0] || trawl_options_set_histogram(o, p.hist_field, p.hist_unit, p.tz) != TRAWL_OK)) {
        srv_error(rs, 400, "bad_parameter", -1,
                  p.hist_field[0] ? "'histogram' wants FIELD[:year|quarter|month|week|day] and 'tz' a fixed offset "
                                    "such as +05:30"
                                  : "'tz' goes with 'histogram'");
        trawl_options_free(o);
        srv_index_release(ix);
        goto out;
    }
    if (p.filter && trawl_options_set_filter(o, p.filter) != TRAWL_OK) {
        srv_error(rs, 500, "internal", -1, "out of memory");
        trawl_options_free(o);
        srv_index_release(ix);
        goto out;
    }
    if (p.sort && trawl_options_set_sort(o, p.sort) != TRAWL_OK) {
        srv_error(rs, 400, "bad_query", -1, "'sort' wants FIELD, FIELD:asc or FIELD:desc, not '%s'", p.sort);
        trawl_options_free(o);
        srv_index_release(ix);
        goto out;
    }
    srv_snap *sn = srv_snap_get(ix);
    trawl_results *r = NULL;
    int rc = trawl_search(sn->idx, p.q, o, &r);
    if (rc == TRAWL_OK) {
        rs->status = 200;
        rs->json = results_json(sn->idx, r, &p);
    } else {
        const char *msg =
            r && trawl_results_errmsg(r) && *trawl_results_errmsg(r) ? trawl_results_errmsg(r) : trawl_strerror(rc);
        int off = r ? trawl_results_error_offset(r) : -1;
        /* A syntax error without an offset is in the filter or the sort. */
        int in_params = rc == TRAWL_ESYNTAX && off < 0 && (p.filter || p.sort);
        if (rc == TRAWL_EINVAL || in_params)
            srv_error(rs, 400, "bad_query", -1, "%s", msg);
        else if (rc == TRAWL_ESYNTAX)
            srv_error(rs, 400, "query_syntax", off, "%s", msg);
        else if (rc == TRAWL_ELIMIT)
            srv_error(rs, 400, "query_limit", -1, "%s", msg);
        else
            srv_error(rs, 500, "internal", -1, "search failed: %s", msg);
    }
    trawl_results_free(r);
    srv_snap_release(sn);
    trawl_options_free(o);
    srv_index_release(ix);
out:
    free(p.filter);
    json_decref(body);
}

void srv_h_document(srv_server *s, srv_request *rq, srv_response *rs) {
    srv_index *ix = srv_index_get(s, rq->name);
    if (!ix) {
        srv_error(rs, 404, "index_not_found", -1, "no index named '%s'", rq->name);
        return;
    }
    srv_snap *sn = srv_snap_get(ix);
    char *text = NULL;
    int rc = trawl_index_get(sn->idx, rq->id, &text);
    srv_snap_release(sn);
    srv_index_release(ix);
    if (rc == TRAWL_ENOTFOUND) {
        srv_error(rs, 404, "document_not_found", -1, "no document with this id");
    } else if (rc != TRAWL_OK) {
        srv_error(rs, 500, "internal", -1, "reading the document: %s", trawl_strerror(rc));
    } else {
        rs->status = 200;
        rs->text = strdup(text);
        rs->text_len = rs->text ? strlen(rs->text) : 0;
    }
    trawl_free(text);
}

void srv_h_add_documents(srv_server *s, srv_request *rq, srv_response *rs) {
    if (check_content_type(rq, rs, 1) != 0) return;
    srv_index *ix = srv_index_get(s, rq->name);
    if (!ix) {
        srv_error(rs, 404, "index_not_found", -1, "no index named '%s'", rq->name);
        return;
    }
    if (srv_ingest_admit(ix, rq->body_len) != 0) {
        srv_index_release(ix);
        srv_error(rs, 429, "queue_full", -1, "the ingestion queue of '%s' is full; retry later", rq->name);
        rs->retry_after = 1;
        return;
    }
    char *body = rq->body_owned;
    rq->body_owned = NULL;
    if (!body && (body = malloc(rq->body_len + 1)) != NULL && rq->body_len) memcpy(body, rq->body, rq->body_len);
    /* srv_batch_new gives the reservation back when it fails (body NULL too). */
    rs->pending = srv_batch_new(ix, body, rq->body_len);
    srv_index_release(ix);
    if (!rs->pending) {
        srv_error(rs, 500, "internal", -1, "out of memory");
        return;
    }
    rs->status = 202;
}

/* Queues a deletion batch for the index of rq (404, 429 answered here). */
static void queue_delete(srv_server *s, srv_request *rq, srv_response *rs, int kind, json_t *target, int want_found) {
    srv_index *ix = srv_index_get(s, rq->name);
    if (!ix) {
        srv_error(rs, 404, "index_not_found", -1, "no index named '%s'", rq->name);
        return;
    }
    size_t len = rq->body_len + 64;
    if (srv_ingest_admit(ix, len) != 0) {
        srv_index_release(ix);
        srv_error(rs, 429, "queue_full", -1, "the ingestion queue of '%s' is full; retry later", rq->name);
        rs->retry_after = 1;
        return;
    }
    srv_batch *b = srv_batch_new_delete(ix, kind, target, len);
    srv_index_release(ix);
    if (!b) {
        srv_error(rs, 500, "internal", -1, "out of memory");
        return;
    }
    b->want_found = want_found;
    rs->pending = b;
    rs->status = 202;
}

void srv_h_delete_documents(srv_server *s, srv_request *rq, srv_response *rs) {
    if (rq->id) { /* DELETE /indexes/{name}/documents/{id} */
        json_t *id = json_string(rq->id);
        if (!id) {
            srv_error(rs, 400, "bad_utf8", -1, "the id is not valid UTF-8");
            return;
        }
        json_t *ids = json_array();
        json_array_append_new(ids, id);
        queue_delete(s, rq, rs, SRV_BATCH_DELETE_IDS, ids, 1);
        json_decref(ids);
        return;
    }
    /* POST /indexes/{name}/documents/delete {"ids": [...]} or {"query": "..."} */
    if (check_content_type(rq, rs, 0) != 0) return;
    json_error_t err;
    json_t *body = json_loadb(rq->body ? rq->body : "", rq->body_len, JSON_REJECT_DUPLICATES, &err);
    if (!body) {
        srv_error(rs, 400, "malformed_json", err.position, "malformed JSON: %s", err.text);
        return;
    }
    json_t *ids = json_object_get(body, "ids"), *query = json_object_get(body, "query");
    if (!json_is_object(body) || json_object_size(body) != 1 || (!ids && !query)) {
        srv_error(rs, 400, "bad_request", -1, "the body must be {\"ids\": [...]} or {\"query\": \"...\"}");
    } else if (ids) {
        size_t i;
        json_t *v;
        int ok = json_is_array(ids) && json_array_size(ids) > 0 && json_array_size(ids) <= 100000;
        json_array_foreach(ids, i, v) ok &=
            json_is_string(v) && json_string_length(v) > 0 && strlen(json_string_value(v)) == json_string_length(v);
        if (!ok)
            srv_error(rs, 400, "bad_parameter", -1, "'ids' must be an array of 1 to 100000 non-empty strings");
        else
            queue_delete(s, rq, rs, SRV_BATCH_DELETE_IDS, ids, 0);
    } else {
        const char *q = json_string_value(query);
        if (!q || !*q || strlen(q) != json_string_length(query))
            srv_error(rs, 400, "bad_parameter", -1, "'query' must be a non-empty string");
        else if (strlen(q) > s->cfg.max_query)
            srv_error(rs, 414, "query_too_long", -1, "the query is longer than %zu bytes", s->cfg.max_query);
        else
            queue_delete(s, rq, rs, SRV_BATCH_DELETE_QUERY, query, 0);
    }
    json_decref(body);
}
