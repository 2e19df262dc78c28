/*
 * serve_routes.c — the route table of `trawl serve` and the request handler
 * that knows nothing of sockets: srv_dispatch matches a method and path to a
 * row (404 unknown path, 405 wrong method with Allow), checks the key the row
 * needs (401 none presented, 403 wrong or insufficient; keys compared in
 * constant time) and calls the row's handler. Also the single function every
 * error goes through (srv_error) and small request/JSON helpers.
 */
#include "serve.h"
#include "jsonstr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const srv_route srv_routes[] = {
    {"GET", "/", srv_h_page, SRV_KEY_NONE, "page", "The search page (HTML)"},
    {"GET", "/health", srv_h_health, SRV_KEY_NONE, "health",
     "Liveness: 200 with each index's generation, 503 while starting or draining"},
    {"GET", "/metrics", srv_h_metrics, SRV_KEY_READ, "metrics", "Prometheus text exposition of the server's metrics"},
    {"GET", "/openapi.json", srv_h_openapi, SRV_KEY_NONE, "openapi", "This description"},
    {"GET", "/indexes", srv_h_list_indexes, SRV_KEY_READ, "indexes",
     "The indexes served, with documents and generation"},
    {"PUT", "/indexes/{name}", srv_h_create_index, SRV_KEY_ADMIN, "index_create",
     "Create an empty index under --data (admin key)"},
    {"DELETE", "/indexes/{name}", srv_h_remove_index, SRV_KEY_ADMIN, "index_delete",
     "Remove an index under --data (admin key)"},
    {"GET", "/indexes/{name}/stats", srv_h_stats, SRV_KEY_READ, "stats", "Index statistics"},
    {"GET", "/indexes/{name}/search", srv_h_search, SRV_KEY_READ, "search", "Search (query string)"},
    {"POST", "/indexes/{name}/search", srv_h_search, SRV_KEY_READ, "search", "Search (JSON body)"},
    {"GET", "/indexes/{name}/trends", srv_h_trends, SRV_KEY_READ, "trends",
     "Emerging terms of a time window, or the bursts of a term (query string)"},
    {"POST", "/indexes/{name}/trends", srv_h_trends, SRV_KEY_READ, "trends",
     "Emerging terms of a time window, or the bursts of a term (JSON body)"},
    {"POST", "/indexes/{name}/documents", srv_h_add_documents, SRV_KEY_ADMIN, "documents_add",
     "Add or replace documents (JSON Lines or a JSON array); answers when durable"},
    {"POST", "/indexes/{name}/documents/delete", srv_h_delete_documents, SRV_KEY_ADMIN, "documents_delete",
     "Delete documents: {\"ids\": [...]} or {\"query\": \"...\"}; answers {deleted, generation} when durable"},
    {"GET", "/indexes/{name}/documents/{id}/similar", srv_h_similar, SRV_KEY_READ, "similar",
     "More like this: the documents most like a stored one (query string: limit, offset, terms)"},
    {"GET", "/indexes/{name}/documents/{id}", srv_h_document, SRV_KEY_READ, "document", "One stored document"},
    {"DELETE", "/indexes/{name}/documents/{id}", srv_h_delete_documents, SRV_KEY_ADMIN, "documents_delete",
     "Delete one document (404 if there is none); answers {deleted, generation} when durable"},
};
const size_t srv_nroutes = sizeof srv_routes / sizeof srv_routes[0];

int srv_parse_size(const char *s, size_t min, size_t max, size_t *out) {
    size_t v = 0;
    if (!*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        v = v * 10 + (size_t)(*s - '0');
        if (v > max) return -1;
    }
    if (v < min) return -1;
    *out = v;
    return 0;
}

void srv_error(srv_response *rs, int status, const char *code, long position, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): started on the line above (checker false positive)
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_decref(rs->json);
    free(rs->text);
    rs->text = NULL;
    rs->static_text = NULL;
    rs->status = status;
    json_t *err = json_object();
    if (err) {
        json_object_set_new(err, "code", json_string(code));
        json_object_set_new(err, "message", srv_json_stringn(msg, strlen(msg)));
        if (position >= 0) json_object_set_new(err, "position", json_integer(position));
    }
    rs->json = json_pack("{so}", "error", err ? err : json_null());
}

void srv_response_clear(srv_response *rs) {
    json_decref(rs->json);
    free(rs->text);
    if (rs->pending) srv_batch_free(rs->pending);
    memset(rs, 0, sizeof *rs);
}

const char *srv_arg_get(const srv_request *rq, const char *key) {
    for (size_t i = 0; i < rq->nargs; i++)
        if (strcmp(rq->args[i].key, key) == 0) return rq->args[i].value ? rq->args[i].value : "";
    return NULL;
}

int srv_key_equal(const char *given, size_t given_len, const char *want) {
    size_t want_len = strlen(want);
    /* Every byte of the configured key is compared whatever the input, so the
     * time depends only on the configured key's length. */
    volatile unsigned char diff = (unsigned char)(given_len != want_len);
    for (size_t i = 0; i < want_len; i++) {
        unsigned char g = given_len ? (unsigned char)given[i % given_len] : 0;
        diff |= (unsigned char)(g ^ (unsigned char)want[i]);
    }
    return diff == 0;
}

json_t *srv_json_stringn(const char *s, size_t len) {
    return json_text(s, len);
}

/* Does path match pattern? Fills rq->name / rq->id from {name} / {id}. */
static int match_pattern(const char *pattern, const char *path, srv_request *rq) {
    const char *p = pattern, *u = path;
    while (*p) {
        if (strncmp(p, "{name}", 6) == 0) {
            size_t n = strcspn(u, "/");
            if (n == 0 || n > SRV_NAME_MAX) return 0;
            if (rq) {
                memcpy(rq->name, u, n);
                rq->name[n] = '\0';
            }
            u += n;
            p += 6;
        } else if (strncmp(p, "{id}", 4) == 0) {
            /* The id takes the rest of the path (ids may hold '/') but the
             * pattern's fixed tail after {id}, if any. */
            size_t rest = strlen(u), tail = strlen(p + 4);
            if (rest <= tail || strcmp(u + rest - tail, p + 4) != 0) return 0;
            if (rq) {
                rq->id = u;
                rq->id_len = rest - tail;
            }
            return 1;
        } else {
            if (*p != *u) return 0;
            p++, u++;
        }
    }
    return *u == '\0';
}

int srv_match(const char *method, const char *path, srv_request *rq, int *status, const char **allow) {
    /* Allow header values by bit set: GET 1, POST 2, PUT 4, DELETE 8. */
    static const char *const allow_lists[16] = {"",
                                                "GET",
                                                "POST",
                                                "GET, POST",
                                                "PUT",
                                                "GET, PUT",
                                                "POST, PUT",
                                                "GET, POST, PUT",
                                                "DELETE",
                                                "GET, DELETE",
                                                "POST, DELETE",
                                                "GET, POST, DELETE",
                                                "PUT, DELETE",
                                                "GET, PUT, DELETE",
                                                "POST, PUT, DELETE",
                                                "GET, POST, PUT, DELETE"};
    static const char *const methods[4] = {"GET", "POST", "PUT", "DELETE"};
    unsigned bits = 0;
    for (size_t i = 0; i < srv_nroutes; i++) {
        const srv_route *r = &srv_routes[i];
        /* The table lists fixed routes before {id}: .../documents/delete wins. */
        if (!match_pattern(r->pattern, path, NULL)) continue;
        if (strcmp(r->method, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
            if (rq) match_pattern(r->pattern, path, rq);
            *status = 0;
            return (int)i;
        }
        for (unsigned m = 0; m < 4; m++)
            if (strcmp(r->method, methods[m]) == 0) bits |= 1u << m;
    }
    *status = bits ? 405 : 404;
    *allow = allow_lists[bits];
    return -1;
}

/* Checks the Authorization header against the key route r needs. 0 when the
 * request may go on, else the error is in rs. */
static int check_key(const srv_server *s, const srv_route *r, const srv_request *rq, srv_response *rs) {
    const srv_config *c = &s->cfg;
    if (r->key == SRV_KEY_NONE || (!c->admin_key && !c->search_key)) return 0;
    const char *h = rq->authorization;
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
        srv_error(rs, 401, "unauthorized", -1, "this route needs a key: Authorization: Bearer KEY");
        return -1;
    }
    const char *k = h + 7;
    size_t klen = strlen(k);
    int admin = c->admin_key && srv_key_equal(k, klen, c->admin_key);
    int search = c->search_key && srv_key_equal(k, klen, c->search_key);
    if (admin || (search && r->key == SRV_KEY_READ)) return 0;
    if (search)
        srv_error(rs, 403, "forbidden", -1, "the search key cannot use this route; it needs the admin key");
    else
        srv_error(rs, 403, "forbidden", -1, "the key is not valid");
    return -1;
}

int srv_dispatch(srv_server *s, srv_request *rq, srv_response *rs) {
    memset(rs, 0, sizeof *rs);
    rq->name[0] = '\0';
    rq->id = NULL;
    rq->id_len = 0;
    int status = 0;
    const char *allow = NULL;
    int ri = srv_match(rq->method, rq->path, rq, &status, &allow);
    if (ri < 0) {
        if (status == 404)
            srv_error(rs, 404, "not_found", -1, "no route for this path");
        else {
            srv_error(rs, 405, "method_not_allowed", -1, "method %s is not allowed here (allowed: %s)", rq->method,
                      allow);
            rs->allow = allow;
        }
        return SRV_ROUTE_OTHER;
    }
    const srv_route *r = &srv_routes[ri];
    if (check_key(s, r, rq, rs) != 0) return ri;
    if (rq->too_many_args) {
        srv_error(rs, 400, "bad_request", -1, "too many query-string arguments (at most %d)", SRV_MAX_ARGS);
        return ri;
    }
    if (rq->name[0] && !srv_valid_name(rq->name, strlen(rq->name))) {
        srv_error(rs, 400, "bad_index_name", -1,
                  "index names are 1 to %d characters from A-Z a-z 0-9 _ - . and do not start with '.'", SRV_NAME_MAX);
        return ri;
    }
    r->handler(s, rq, rs);
    if (!rs->json && !rs->text && !rs->static_text && !rs->pending) srv_error(rs, 500, "internal", -1, "out of memory");
    return ri;
}
