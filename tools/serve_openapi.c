/*
 * serve_openapi.c — GET /openapi.json: an OpenAPI 3.0 description of
 * `trawl serve` built from the route table itself (so that no route can be
 * left out), with the parameters, request bodies and error shape of each.
 */
#include "serve.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The shared schema of every error answer. */
static json_t *error_schema(void) {
    return json_pack("{s:s, s:{s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}}, s:[s, s]}}, s:[s]}", "type", "object",
                     "properties", "error", "type", "object", "properties", "code", "type", "string", "message", "type",
                     "string", "position", "type", "integer", "required", "code", "message", "required", "error");
}

/* Parameters of the GET search. */
static json_t *search_query_params(void) {
    json_t *a = json_array();
    static const char *const names[][3] = {
        {"q", "string", "the query (required): words, \"phrases\", field:word, AND OR NOT, prefix*"},
        {"limit", "integer", "hits to return, 0-1000 (default 10; 0 only counts)"},
        {"offset", "integer", "hits to skip, 0-100000 (default 0)"},
        {"op", "string", "and (default), or, or auto: the operator between bare terms"},
        {"highlight", "boolean", "snippets HTML-escaped with matches in <mark> (default true)"},
        {"explain", "boolean", "add each hit's score breakdown (default false)"},
        {"facets", "string",
         "facets over all matches: FIELD or FIELD:N (top N values of a keyword field, default 10; min/max of a date or "
         "number field), comma-separated; repeatable, also as 'facet'"},
        {"facet", "string", "same as facets"},
        {"histogram", "string", "date histogram FIELD[:UNIT], UNIT year, quarter, month (default), week or day"},
        {"tz", "string", "fixed UTC offset of the histogram's buckets, e.g. +05:30 (default UTC)"},
        {"filter", "string",
         "only documents this expression matches (filters such as date>=2024 tags:=ai, query syntax; never scores); "
         "repeatable, ANDed"},
        {"sort", "string",
         "rank by keyword/date/number field F: F, F:asc or F:desc (then score; no value last); each hit gets "
         "sort_value"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        json_array_append_new(a,
                              json_pack("{s:s, s:s, s:b, s:s, s:{s:s}}", "name", names[i][0], "in", "query", "required",
                                        i == 0, "description", names[i][2], "schema", "type", names[i][1]));
    return a;
}

/* The JSON body of POST search. */
static json_t *search_body(void) {
    json_t *b = json_pack("{s:b, s:{s:{s:{s:s, s:[s], s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s, s:[s, s, s]}, s:{s:s}, "
                          "s:{s:s}, s:{s:s, s:{s:s}}}}}}}",
                          "required", 1, "content", "application/json", "schema", "type", "object", "required", "q",
                          "properties", "q", "type", "string", "limit", "type", "integer", "offset", "type", "integer",
                          "op", "type", "string", "enum", "and", "or", "auto", "highlight", "type", "boolean",
                          "explain", "type", "boolean", "fields", "type", "array", "items", "type", "string");
    json_t *props = json_object_get(
        json_object_get(json_object_get(json_object_get(b, "content"), "application/json"), "schema"), "properties");
    json_object_set_new(props, "facets",
                        json_pack("{s:s, s:s, s:{s:[{s:s}, {s:s, s:[s], s:{s:{s:s}, s:{s:s, s:i, s:i}}}]}}",
                                  "description", "FIELD[:N] strings or {field, size} objects", "type", "array", "items",
                                  "oneOf", "type", "string", "type", "object", "required", "field", "properties",
                                  "field", "type", "string", "size", "type", "integer", "minimum", 1, "maximum",
                                  10000));
    json_object_set_new(props, "histogram",
                        json_pack("{s:s, s:[{s:s}, {s:s, s:[s], s:{s:{s:s}, s:{s:s, s:[s, s, s, s, s]}, s:{s:s}}}]}",
                                  "description", "a date histogram: FIELD[:UNIT] or {field, unit, tz}", "oneOf", "type",
                                  "string", "type", "object", "required", "field", "properties", "field", "type",
                                  "string", "unit", "type", "string", "enum", "year", "quarter", "month", "week", "day",
                                  "tz", "type", "string"));
    json_object_set_new(props, "tz", json_pack("{s:s}", "type", "string"));
    json_object_set_new(props, "filter",
                        json_pack("{s:s, s:[{s:s}, {s:s, s:{s:s}}]}", "description",
                                  "a filter expression, or an array of them (ANDed); they match but never score",
                                  "oneOf", "type", "string", "type", "array", "items", "type", "string"));
    json_object_set_new(props, "sort",
                        json_pack("{s:s, s:s}", "description",
                                  "rank by a keyword/date/number field: F, F:asc or F:desc", "type", "string"));
    return b;
}

/* The answer of a search. */
static json_t *search_answer(void) {
    json_t *a =
        json_pack("{s:s, s:{s:{s:s, s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}}, "
                  "s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}",
                  "type", "object", "properties", "hits", "type", "array", "items", "type", "object", "properties",
                  "id", "type", "string", "score", "type", "number", "title", "type", "string", "snippet", "type",
                  "string", "fields", "type", "object", "explain", "type", "string", "total", "type", "integer",
                  "offset", "type", "integer", "limit", "type", "integer", "took_us", "type", "integer");
    json_t *props = json_object_get(a, "properties");
    json_t *hit = json_object_get(json_object_get(json_object_get(props, "hits"), "items"), "properties");
    json_object_set_new(hit, "sort_value",
                        json_pack("{s:s, s:[s, s]}", "description",
                                  "with sort: the hit's value as text (a date as 2024-03-05T10:20:30Z), null without",
                                  "type", "string", "null"));
    json_object_set_new(
        props, "facets",
        json_pack("{s:s, s:s, s:{s:s, s:{s:{s:s}, s:{s:s, s:[s, s, s]}, s:{s:s}, s:{s:s, s:{s:s, s:{s:{s:s}, "
                  "s:{s:s}}}}, s:{}, s:{}}}}",
                  "description",
                  "when asked: per facet its field, type, matching documents with a value, top values "
                  "(keyword) or min and max (date, number)",
                  "type", "array", "items", "type", "object", "properties", "field", "type", "string", "type", "type",
                  "string", "enum", "keyword", "date", "number", "docs", "type", "integer", "values", "type", "array",
                  "items", "type", "object", "properties", "value", "type", "string", "count", "type", "integer", "min",
                  "max"));
    json_object_set_new(props, "histogram",
                        json_pack("{s:s, s:s, s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}}", "description",
                                  "when asked: buckets oldest first, matching and all documents in each", "type",
                                  "array", "items", "type", "object", "properties", "bucket", "type", "string", "start",
                                  "type", "integer", "matches", "type", "integer", "docs", "type", "integer"));
    return a;
}

/* The parameters of the trends route: name, type, description. */
static const char *const trends_params[][3] = {
    {"window", "string",
     "emerging terms: the time window FROM..TO (dates YYYY, YYYY-MM, YYYY-MM-DD or date-times; a partial date covers "
     "its span; either end may be empty); required unless bursts is given"},
    {"q", "string", "emerging terms: only window documents matching this query"},
    {"background", "string", "emerging terms: the background FROM..TO (default: every document)"},
    {"limit", "integer", "emerging terms: terms to list, 1-10000 (default 20)"},
    {"min_docs", "integer", "emerging terms: fewest window documents a listed term is in (default 3)"},
    {"score", "string", "emerging terms: rank by jlh (default) or chi2"},
    {"field", "string", "the date field (default date)"},
    {"bursts", "string", "the bursts of this term instead of emerging terms"},
    {"unit", "string", "bursts: year, quarter, month (default), week or day"},
    {"tz", "string", "bursts: fixed UTC offset of the buckets, e.g. +05:30"},
    {"s", "number", "bursts: burst-state rate ratio, above 1 (default 2)"},
    {"gamma", "number", "bursts: cost factor of entering a burst, 0 or more (default 1)"},
};

/* GET trends: the query-string parameters. */
static json_t *trends_query_params(void) {
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof trends_params / sizeof trends_params[0]; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:s, s:{s:s}}", "name", trends_params[i][0], "in", "query",
                                           "required", 0, "description", trends_params[i][2], "schema", "type",
                                           trends_params[i][1]));
    return a;
}

/* POST trends: the JSON body (window and background also as {from, to}). */
static json_t *trends_body(void) {
    json_t *props = json_object();
    for (size_t i = 0; i < sizeof trends_params / sizeof trends_params[0]; i++) {
        const char *n = trends_params[i][0];
        json_t *pr = json_pack("{s:s}", "description", trends_params[i][2]);
        if (!strcmp(n, "window") || !strcmp(n, "background"))
            json_object_set_new(pr, "oneOf",
                                json_pack("[{s:s}, {s:s, s:{s:{s:[s, s]}, s:{s:[s, s]}}}]", "type", "string", "type",
                                          "object", "properties", "from", "type", "string", "null", "to", "type",
                                          "string", "null"));
        else
            json_object_set_new(pr, "type", json_string(trends_params[i][1]));
        json_object_set_new(props, n, pr);
    }
    return json_pack("{s:b, s:{s:{s:{s:s, s:o}}}}", "required", 1, "content", "application/json", "schema", "type",
                     "object", "properties", props);
}

/* The answer of trends: the library's object (README, "Analytics"). */
static json_t *trends_answer(void) {
    return json_pack("{s:s, s:s}", "type", "object", "description",
                     "emerging terms: {field, query, window: {from, to, docs}, background, score, min_docs, terms: "
                     "[{term, window_docs, background_docs, jlh, chi2}]}; bursts: {term, field, unit, s, gamma, "
                     "histogram: [{bucket, start, docs, term_docs}], bursts: [{start, end, from, to, weight, "
                     "term_docs, docs}]}");
}

/* GET similar: the query-string parameters. */
static json_t *similar_query_params(void) {
    static const char *const names[][3] = {
        {"limit", "integer", "hits to return, 1-1000 (default 10)"},
        {"offset", "integer", "hits to skip, 0-100000 (default 0)"},
        {"terms", "integer", "the document's most characteristic terms to run as an OR query, 1-100 (default 25)"},
    };
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:s, s:{s:s}}", "name", names[i][0], "in", "query",
                                           "required", 0, "description", names[i][2], "schema", "type", names[i][1]));
    return a;
}

/* The answer of similar: a search's answer plus the document's id and the
 * query that was run. */
static json_t *similar_answer(void) {
    json_t *a = search_answer();
    json_t *props = json_object_get(a, "properties");
    json_object_del(props, "facets");
    json_object_del(props, "histogram");
    json_object_set_new(props, "id", json_pack("{s:s}", "type", "string"));
    json_object_set_new(props, "query",
                        json_pack("{s:s, s:s}", "type", "string", "description",
                                  "the OR query of the document's terms (quoted, best first) that was run"));
    return a;
}

/* The operation object of route r. */
static json_t *operation(const srv_route *r, size_t i) {
    char opid[64];
    snprintf(opid, sizeof opid, "%s_%s_%zu", r->metric, r->method, i);
    for (char *c = opid; *c; c++) *c = (char)tolower((unsigned char)*c);
    json_t *op = json_pack("{s:s, s:s, s:{}}", "summary", r->summary, "operationId", opid, "responses");
    json_t *resp = json_object_get(op, "responses");
    json_t *params = json_array();
    if (strstr(r->pattern, "{name}"))
        json_array_append_new(params,
                              json_pack("{s:s, s:s, s:b, s:{s:s, s:s}}", "name", "name", "in", "path", "required", 1,
                                        "schema", "type", "string", "pattern", "^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$"));
    if (strstr(r->pattern, "{id}"))
        json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", "id", "in", "path", "required", 1,
                                                "schema", "type", "string"));
    int search = strcmp(r->metric, "search") == 0, trends = strcmp(r->metric, "trends") == 0;
    int similar = strcmp(r->metric, "similar") == 0;
    if (similar) {
        json_t *more = similar_query_params();
        json_array_extend(params, more);
        json_decref(more);
    }
    if ((search || trends) && strcmp(r->method, "GET") == 0) {
        json_t *more = search ? search_query_params() : trends_query_params();
        json_array_extend(params, more);
        json_decref(more);
    }
    if (trends && strcmp(r->method, "POST") == 0) json_object_set_new(op, "requestBody", trends_body());
    if (json_array_size(params)) json_object_set(op, "parameters", params);
    json_decref(params);
    if (search && strcmp(r->method, "POST") == 0) json_object_set_new(op, "requestBody", search_body());
    if (strcmp(r->metric, "documents_add") == 0)
        json_object_set_new(op, "requestBody",
                            json_pack("{s:b, s:{s:{s:{s:s}}, s:{s:{s:s, s:{s:s}}}}}", "required", 1, "content",
                                      "application/x-ndjson", "schema", "type", "string", "application/json", "schema",
                                      "type", "array", "items", "type", "object"));
    if (strcmp(r->metric, "documents_delete") == 0 && strcmp(r->method, "POST") == 0)
        json_object_set_new(op, "requestBody",
                            json_pack("{s:b, s:{s:{s:{s:s, s:{s:{s:s, s:{s:s}}, s:{s:s}}}}}}", "required", 1, "content",
                                      "application/json", "schema", "type", "object", "properties", "ids", "type",
                                      "array", "items", "type", "string", "query", "type", "string"));
    json_t *ok = json_pack("{s:s}", "description", "success");
    if (search || trends || similar)
        json_object_set_new(ok, "content",
                            json_pack("{s:{s:o}}", "application/json", "schema",
                                      search    ? search_answer()
                                      : similar ? similar_answer()
                                                : trends_answer()));
    json_object_set_new(resp, strcmp(r->metric, "index_create") == 0 ? "201" : "200", ok);
    json_object_set_new(resp, "default",
                        json_pack("{s:s, s:{s:{s:o}}}", "description",
                                  "an error: 400 bad input, 401 no key, 403 wrong key, 404, 405, 409, 413 body too "
                                  "large, 414 query too long, 415, 429 queue full (Retry-After), 500, 503",
                                  "content", "application/json", "schema", error_schema()));
    if (r->key != SRV_KEY_NONE) json_object_set_new(op, "security", json_pack("[{s:[]}]", "bearer"));
    return op;
}

json_t *srv_openapi(void) {
    json_t *paths = json_object();
    for (size_t i = 0; i < srv_nroutes; i++) {
        const srv_route *r = &srv_routes[i];
        json_t *item = json_object_get(paths, r->pattern);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, r->pattern, item);
        }
        char m[16];
        size_t k = 0;
        for (; k < sizeof m - 1 && r->method[k]; k++) m[k] = (char)tolower((unsigned char)r->method[k]);
        m[k] = '\0';
        json_object_set_new(item, m, operation(r, i));
    }
    return json_pack("{s:s, s:{s:s, s:s, s:s}, s:o, s:{s:{s:{s:s, s:s}}}}", "openapi", "3.0.3", "info", "title",
                     "trawl serve", "version", TRAWL_VERSION_STRING, "description",
                     "Full-text search over trawl indexes. With keys set, send Authorization: Bearer KEY.", "paths",
                     paths, "components", "securitySchemes", "bearer", "type", "http", "scheme", "bearer");
}

void srv_h_openapi(srv_server *s, srv_request *rq, srv_response *rs) {
    (void)s, (void)rq;
    rs->json = srv_openapi();
    rs->status = 200;
}
