/*
 * query.c — tw_query_run: query text in, the total and ranked hits out.
 *
 * Pipeline: parse (parser.c) → plan (analyze every leaf with the view's
 * analyzer, resolve fields, look terms up in every segment once, compute global
 * BM25 statistics) → per segment, run the plan on the executor fit for its
 * shape (exec.h: bitmap conjunction, MaxScore disjunction, phrase, or the
 * cursor tree for every other shape), counting
 * every match and keeping the best offset+limit in a heap → load ids, titles,
 * snippets and explanations for the hits returned.
 */
#include "query.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "ast.h"
#include "cursor.h"
#include "error.h"
#include "exec.h"
#include "plan.h"
#include "snippet.h"
#include "trawl.h"

static int cmp_hits(const void *x, const void *y) {
    const tw_hit *a = x, *b = y;
    return tw_hit_better(a, b) ? -1 : tw_hit_better(b, a) ? 1 : 0;
}

/* The explanation of hit h (malloc'd text), or NULL when out of memory. */
static char *explain_hit(const tw_view *v, const pnode *root, const tw_hit *h, char *err, size_t errcap) {
    int rc;
    tw_cursor *cur = tw_plan_cursor(v, h->seg, root, &rc, err, errcap);
    if (!cur) return NULL;
    tw_buf out = {0};
    char head[128];
    int n = snprintf(head, sizeof head, "%.6f  sum of:\n", h->score);
    tw_buf_put(&out, head, (size_t)n);
    if (tw_seek(cur, h->doc) == h->doc) cur->ops->explain(cur, &out);
    tw_buf_u8(&out, 0);
    tw_cursor_free(cur);
    if (out.oom) {
        tw_buf_free(&out);
        return NULL;
    }
    return (char *)out.p;
}

/* Loads title and snippets of a hit from its stored document. */
static int load_stored(const tw_view *v, tw_analyzer *an, const highlight *hl, tw_hit *h, char *err, size_t errcap) {
    char *json;
    size_t len;
    int rc = tw_segment_stored(v->segs[h->seg].seg, h->doc, &json, &len, err, errcap);
    if (rc) return rc;
    json_t *doc = json_loadb(json, len, 0, NULL);
    free(json);
    const char *title = "", *body = NULL;
    size_t body_len = 0;
    json_t *t = doc ? json_object_get(doc, "title") : NULL;
    if (json_is_string(t)) title = json_string_value(t);
    json_t *b = doc ? json_object_get(doc, "body") : NULL;
    if (!json_is_string(b) && doc) {
        /* No body: the first other text field. */
        const char *key;
        json_t *val;
        b = NULL;
        json_object_foreach(doc, key, val) {
            if (json_is_string(val) && strcmp(key, "id") != 0 && strcmp(key, "title") != 0) {
                b = val;
                break;
            }
        }
    }
    if (b) {
        body = json_string_value(b);
        body_len = json_string_length(b);
    }
    h->title = strdup(title);
    rc = h->title ? tw_snippet(an, body ? body : "", body_len, (const char *const *)hl->terms, hl->nterms,
                               (const char *const *)hl->prefixes, hl->nprefixes, h->snip)
                  : TRAWL_ENOMEM;
    json_decref(doc);
    return rc;
}

void tw_hits_free(tw_hits *r) {
    for (size_t i = 0; i < r->n; i++) {
        free(r->hits[i].id);
        free(r->hits[i].title);
        for (int k = 0; k < 3; k++) free(r->hits[i].snip[k]);
        free(r->hits[i].explain);
    }
    free(r->hits);
    memset(r, 0, sizeof *r);
}

int tw_query_run(const tw_view *v, const tw_params *p, tw_qctx *ctx, const char *text, size_t len, tw_hits *out,
                 char *err, size_t errcap, long *erroff) {
    memset(out, 0, sizeof *out);
    *erroff = -1;
    tw_err_clear(err, errcap);
    tw_query *q = NULL;
    tw_parse_error perr;
    tw_plan *plan = NULL;
    tw_topk top = {NULL, 0, 0};
    int rc = tw_query_parse(text, len, p->use_or, &q, &perr);
    if (rc) {
        tw_err(err, errcap, rc, "%s", perr.message);
        if (rc != TRAWL_ENOMEM) *erroff = (long)perr.offset;
        goto done;
    }
    rc = tw_plan_build(v, p, ctx->an, tw_query_root(q), &plan, err, errcap, erroff);
    if (rc) goto done;
    /* Counting keeps no hit, so the offset does not matter. */
    size_t want = p->count_only ? 0 : p->offset + p->limit;
    if (!p->count_only && (want < p->offset || want > TW_MAX_HITS)) {
        rc = tw_err(err, errcap, TRAWL_ELIMIT, "offset + limit exceeds %u", TW_MAX_HITS);
        goto done;
    }
    top.want = want;
    top.h = calloc(want ? want : 1, sizeof *top.h);
    if (!top.h) {
        rc = TRAWL_ENOMEM;
        goto done;
    }
    for (uint32_t s = 0; plan->root && s < v->nsegs && rc == 0; s++) {
        tw_exec x = {v, ctx, s, plan->root, &top, &out->total, err, errcap};
        rc = tw_exec_segment(&x, p->exhaustive);
    }
    if (rc) goto done;
    qsort(top.h, top.n, sizeof *top.h, cmp_hits);
    size_t first = p->offset < top.n ? p->offset : top.n;
    size_t n = top.n - first;
    out->hits = calloc(n ? n : 1, sizeof *out->hits);
    if (!out->hits) {
        rc = TRAWL_ENOMEM;
        goto done;
    }
    out->n = n;
    memcpy(out->hits, top.h + first, sizeof *top.h * n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        tw_hit *h = &out->hits[i];
        size_t idlen;
        const char *id = tw_segment_id(v->segs[h->seg].seg, h->doc, &idlen);
        if (!(h->id = strndup(id, idlen))) rc = TRAWL_ENOMEM;
        if (rc == 0 && p->snippets) rc = load_stored(v, ctx->an, &plan->hl, h, err, errcap);
        if (rc == 0 && p->explain && !(h->explain = explain_hit(v, plan->root, h, err, errcap))) rc = TRAWL_ENOMEM;
    }
done:
    if (rc && !err[0]) tw_err(err, errcap, rc, "%s", tw_strerror(rc));
    if (rc) tw_hits_free(out);
    free(top.h);
    tw_plan_free(plan);
    tw_query_free(q);
    return rc;
}
