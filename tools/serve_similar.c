/*
 * serve_similar.c — GET /indexes/NAME/documents/ID/similar of `trawl serve`:
 * more like this. The stored document's most characteristic terms run as an
 * OR query (trawl_similar, the document itself left out) on the index's
 * current snapshot; the answer has the shape of a search's
 * {hits: [{id, score, title, snippet}], total, offset, limit, took_us} plus
 * the document's id and the query that was run (trawl_similar_query), as
 * `trawl similar --json` prints them. 404 when no live document has the id.
 * Ids may hold '/': when ID has no document but "ID/similar" does, the path
 * names that document and the answer is the stored document, as GET
 * /indexes/NAME/documents/ID/similar would give without this route.
 */
#include "serve.h"

#include <stdlib.h>
#include <string.h>

/* Sets o's value only when v is not NULL (jansson's reference is stolen). */
static int put(json_t *o, const char *key, json_t *v) {
    return v ? json_object_set_new(o, key, v) : -1;
}

/* The answer: hits with HTML snippets, the total and the paging. NULL when
 * memory is short. */
static json_t *similar_json(const trawl_results *r, const char *id, const char *query, size_t limit, size_t offset) {
    json_t *root = json_object(), *hits = json_array();
    if (!root || !hits || put(root, "id", srv_json_stringn(id, strlen(id))) ||
        put(root, "query", srv_json_stringn(query, strlen(query))) || put(root, "hits", hits)) {
        if (!json_object_get(root, "hits")) json_decref(hits);
        json_decref(root);
        return NULL;
    }
    for (size_t i = 0; i < trawl_results_count(r); i++) {
        const char *hid = trawl_results_id(r, i), *title = trawl_results_title(r, i);
        const char *snip = trawl_results_snippet(r, i, TRAWL_SNIPPET_HTML);
        json_t *h = json_object();
        if (!h || json_array_append_new(hits, h) || put(h, "id", srv_json_stringn(hid, strlen(hid))) ||
            put(h, "score", json_real(trawl_results_score(r, i))) ||
            put(h, "title", srv_json_stringn(title ? title : "", title ? strlen(title) : 0)) ||
            put(h, "snippet", srv_json_stringn(snip ? snip : "", snip ? strlen(snip) : 0))) {
            json_decref(root);
            return NULL;
        }
    }
    if (put(root, "total", json_integer((json_int_t)trawl_results_total(r))) ||
        put(root, "offset", json_integer((json_int_t)offset)) || put(root, "limit", json_integer((json_int_t)limit)) ||
        put(root, "took_us", json_integer((json_int_t)trawl_results_took_us(r)))) {
        json_decref(root);
        return NULL;
    }
    return root;
}

void srv_h_similar(srv_server *s, srv_request *rq, srv_response *rs) {
    size_t limit = 10, offset = 0, terms = 25;
    for (size_t i = 0; i < rq->nargs; i++) {
        const char *k = rq->args[i].key, *v = rq->args[i].value ? rq->args[i].value : "";
        if (!strcmp(k, "limit")) {
            if (srv_parse_size(v, 1, SRV_MAX_LIMIT, &limit) != 0) {
                srv_error(rs, 400, "bad_parameter", -1, "'limit' must be a whole number from 1 to %d", SRV_MAX_LIMIT);
                return;
            }
        } else if (!strcmp(k, "offset")) {
            if (srv_parse_size(v, 0, SRV_MAX_OFFSET, &offset) != 0) {
                srv_error(rs, 400, "bad_parameter", -1, "'offset' must be a whole number from 0 to %d", SRV_MAX_OFFSET);
                return;
            }
        } else if (!strcmp(k, "terms")) {
            if (srv_parse_size(v, 1, 100, &terms) != 0) {
                srv_error(rs, 400, "bad_parameter", -1, "'terms' must be a whole number from 1 to 100");
                return;
            }
        } else {
            srv_error(rs, 400, "unknown_parameter", -1, "unknown parameter '%s'", k);
            return;
        }
    }
    char *id = rq->id ? strndup(rq->id, rq->id_len) : NULL;
    if (!id) {
        srv_error(rs, 500, "internal", -1, "out of memory");
        return;
    }
    srv_index *ix = srv_index_get(s, rq->name);
    if (!ix) {
        srv_error(rs, 404, "index_not_found", -1, "no index named '%s'", rq->name);
        free(id);
        return;
    }
    trawl_options *o = trawl_options_new();
    srv_snap *sn = srv_snap_get(ix);
    char *query = NULL;
    trawl_results *r = NULL;
    trawl_rc rc = o ? trawl_similar_query(sn->idx, id, terms, &query) : TRAWL_ENOMEM;
    if (rc == TRAWL_OK) {
        trawl_options_set_limit(o, limit);
        trawl_options_set_offset(o, offset);
        trawl_options_set_snippets(o, 1);
        rc = trawl_similar(sn->idx, id, terms, o, &r);
    }
    if (rc == TRAWL_OK) {
        rs->status = 200;
        rs->json = similar_json(r, id, query, limit, offset);
    } else if (rc == TRAWL_ENOTFOUND) {
        char *text = NULL; /* the document "ID/similar" itself? */
        if (trawl_index_get(sn->idx, rq->id, &text) == TRAWL_OK && (rs->text = strdup(text))) {
            rs->status = 200;
            rs->text_len = strlen(rs->text);
        } else {
            srv_error(rs, 404, "document_not_found", -1, "no document with this id");
        }
        trawl_free(text);
    } else {
        const char *m =
            r && trawl_results_errmsg(r) && *trawl_results_errmsg(r) ? trawl_results_errmsg(r) : trawl_strerror(rc);
        srv_error(rs, 500, "internal", -1, "similar failed: %s", m);
    }
    trawl_results_free(r);
    trawl_free(query);
    srv_snap_release(sn);
    trawl_options_free(o);
    srv_index_release(ix);
    free(id);
}
