/*
 * search.c — trawl_search: query text in, ranked results out.
 *
 * Pipeline: parse (parser.c) → plan (analyze every leaf with the index's
 * analyzer, resolve fields, look terms up in every segment once, compute global
 * BM25 statistics) → per segment, build a cursor tree from the plan and walk it,
 * counting every match and keeping the best offset+limit in a heap → load ids,
 * titles, snippets and explanations for the hits returned.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer.h"
#include "ast.h"
#include "cursor.h"
#include "engine.h"
#include "options.h"
#include "fastpath.h"
#include "plan.h"
#include "snippet.h"
#include "topk.h"

/* ---- results ---- */

struct trawl_results {
    int rc;
    char errmsg[1024];
    long erroff;
    uint64_t total, took_us;
    size_t n;
    tw_hit *hits;
};

static int cmp_hits(const void *x, const void *y) {
    const tw_hit *a = x, *b = y;
    return tw_hit_better(a, b) ? -1 : tw_hit_better(b, a) ? 1 : 0;
}

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int search_segment(trawl_results *res, const trawl_index *idx, uint32_t si, const pnode *root, tw_topk *top) {
    int rc, phrase_err;
    tw_cursor *cur = tw_plan_cursor(idx, si, root, &rc, &phrase_err, res->errmsg, sizeof res->errmsg);
    if (!cur) return rc;
    const roaring_bitmap_t *del = idx->segs[si].deleted;
    uint64_t total = 0;
    for (uint32_t d = cur->doc; d != TW_DOC_END; d = tw_next(cur)) {
        if (del && roaring_bitmap_contains(del, d)) continue;
        total++;
        if (top->want) tw_topk_push(top, tw_score(cur), si, d);
    }
    tw_cursor_free(cur);
    res->total += total;
    if (phrase_err)
        return tw_err(res->errmsg, sizeof res->errmsg, TRAWL_ECORRUPT, "%s: positions section: stream invalid",
                      idx->segs[si].seg->path);
    return 0;
}

static char *explain_hit(trawl_results *res, const trawl_index *idx, const pnode *root, const tw_hit *h) {
    int rc, phrase_err;
    tw_cursor *cur = tw_plan_cursor(idx, h->seg, root, &rc, &phrase_err, res->errmsg, sizeof res->errmsg);
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
static int load_stored(trawl_results *res, const trawl_index *idx, tw_analyzer *an, const highlight *hl, tw_hit *h) {
    char *json;
    size_t len;
    int rc = tw_segment_stored(idx->segs[h->seg].seg, h->doc, &json, &len, res->errmsg, sizeof res->errmsg);
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
        json_t *v;
        b = NULL;
        json_object_foreach(doc, key, v) {
            if (json_is_string(v) && strcmp(key, "id") != 0 && strcmp(key, "title") != 0) {
                b = v;
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

static trawl_results *new_results(void) {
    trawl_results *r = calloc(1, sizeof *r);
    if (r) r->erroff = -1;
    return r;
}

trawl_rc trawl_search(const trawl_index *idx, const char *query, const trawl_options *options, trawl_results **out) {
    uint64_t t0 = now_us();
    if (out) *out = NULL;
    if (!out) return TRAWL_EINVAL;
    trawl_results *res = new_results();
    if (!res) return TRAWL_ENOMEM;
    *out = res;
    if (!idx || !query) {
        snprintf(res->errmsg, sizeof res->errmsg, "no index or query");
        return res->rc = TRAWL_EINVAL;
    }
    trawl_options defaults;
    trawl_options *dflt = NULL;
    if (!options) {
        dflt = trawl_options_new();
        if (!dflt) return res->rc = TRAWL_ENOMEM;
        defaults = *dflt;
        options = &defaults;
    }
    tw_query *q = NULL;
    tw_parse_error perr;
    tw_qctx *ctx = NULL;
    tw_plan *plan = NULL;
    tw_topk top = {NULL, 0, 0};
    int rc = tw_query_parse(query, strlen(query), options->use_or, &q, &perr);
    if (rc == -2) {
        rc = TRAWL_ENOMEM;
        goto done;
    }
    if (rc) {
        snprintf(res->errmsg, sizeof res->errmsg, "%s", perr.message);
        res->erroff = (long)perr.offset;
        rc = perr.limit ? TRAWL_ELIMIT : TRAWL_ESYNTAX;
        goto done;
    }
    if (!(ctx = tw_index_qctx_acquire(idx))) {
        rc = tw_err(res->errmsg, sizeof res->errmsg, TRAWL_ENOMEM, "cannot make an analyzer for '%s'", idx->lang);
        goto done;
    }
    rc = tw_plan_build(idx, options, ctx->an, tw_query_root(q), &plan, res->errmsg, sizeof res->errmsg, &res->erroff);
    if (rc) goto done;
    size_t want = options->count_only ? 0 : options->offset + options->limit;
    if (want < options->offset || want > 1000000) {
        rc = tw_err(res->errmsg, sizeof res->errmsg, TRAWL_ELIMIT, "offset + limit exceeds 1000000");
        goto done;
    }
    top.want = want;
    top.h = calloc(want ? want : 1, sizeof *top.h);
    if (!top.h) {
        rc = TRAWL_ENOMEM;
        goto done;
    }
    for (uint32_t s = 0; plan->root && s < idx->nsegs && rc == 0; s++) {
        uint64_t total = 0;
        rc = options->exhaustive
                 ? TW_FAST_NO
                 : tw_fast_segment(idx, ctx, s, plan->root, &top, &total, res->errmsg, sizeof res->errmsg);
        if (rc == TW_FAST_NO)
            rc = search_segment(res, idx, s, plan->root, &top);
        else
            res->total += total;
    }
    if (rc) goto done;
    qsort(top.h, top.n, sizeof *top.h, cmp_hits);
    size_t first = options->offset < top.n ? options->offset : top.n;
    res->n = top.n - first;
    res->hits = calloc(res->n ? res->n : 1, sizeof *res->hits);
    if (!res->hits) {
        rc = TRAWL_ENOMEM;
        goto done;
    }
    memcpy(res->hits, top.h + first, sizeof *top.h * res->n);
    for (size_t i = 0; i < res->n && rc == 0; i++) {
        tw_hit *h = &res->hits[i];
        size_t len;
        const char *id = tw_segment_id(idx->segs[h->seg].seg, h->doc, &len);
        if (!(h->id = strndup(id, len))) rc = TRAWL_ENOMEM;
        if (rc == 0 && options->snippets) rc = load_stored(res, idx, ctx->an, &plan->hl, h);
        if (rc == 0 && options->explain && !(h->explain = explain_hit(res, idx, plan->root, h))) rc = TRAWL_ENOMEM;
    }
done:
    if (rc == TRAWL_ENOMEM && !res->errmsg[0]) snprintf(res->errmsg, sizeof res->errmsg, "out of memory");
    free(top.h);
    tw_plan_free(plan);
    tw_index_qctx_release(idx, ctx);
    tw_query_free(q);
    trawl_options_free(dflt);
    res->rc = rc;
    res->took_us = now_us() - t0;
    return rc;
}

void trawl_results_free(trawl_results *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->hits[i].id);
        free(r->hits[i].title);
        for (int k = 0; k < 3; k++) free(r->hits[i].snip[k]);
        free(r->hits[i].explain);
    }
    free(r->hits);
    free(r);
}

const char *trawl_results_errmsg(const trawl_results *r) {
    return r ? (r->rc ? r->errmsg : "") : "no results";
}
long trawl_results_error_offset(const trawl_results *r) {
    return r ? r->erroff : -1;
}
uint64_t trawl_results_total(const trawl_results *r) {
    return r ? r->total : 0;
}
size_t trawl_results_count(const trawl_results *r) {
    return r ? r->n : 0;
}
uint64_t trawl_results_took_us(const trawl_results *r) {
    return r ? r->took_us : 0;
}

static const tw_hit *hit(const trawl_results *r, size_t i) {
    return r && i < r->n ? &r->hits[i] : NULL;
}

const char *trawl_results_id(const trawl_results *r, size_t i) {
    return hit(r, i) ? hit(r, i)->id : NULL;
}
double trawl_results_score(const trawl_results *r, size_t i) {
    return hit(r, i) ? hit(r, i)->score : 0;
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
