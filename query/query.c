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
 *
 * The `auto` operator (p->auto_op) runs the query twice: with AND as the
 * default operator, then with OR, and returns the AND ranking followed by the
 * documents of the OR ranking that the AND one lacks (run_auto).
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
#include "lexer.h"
#include "plan.h"
#include "prox.h"
#include "segfilter.h"
#include "snippet.h"
#include "sort.h"
#include "storedoc.h"
#include "trawl.h"

static int cmp_hits(const void *x, const void *y) {
    const tw_hit *a = x, *b = y;
    return tw_hit_better(a, b) ? -1 : tw_hit_better(b, a) ? 1 : 0;
}

/* The explanation of hit h (malloc'd text), or NULL when out of memory. */
static char *explain_hit(const tw_view *v, const tw_params *p, const pnode *root, const tw_hit *h, char *err,
                         size_t errcap) {
    int rc;
    tw_prox *px = NULL;
    if (tw_prox_open(v, h->seg, root, p, &px, err, errcap)) return NULL;
    tw_cursor *cur = tw_plan_cursor(v, h->seg, root, &rc, err, errcap);
    if (!cur) {
        tw_prox_free(px);
        return NULL;
    }
    tw_buf out = {0};
    char head[128];
    int n = snprintf(head, sizeof head, "%.6f  sum of:\n", h->score);
    tw_buf_put(&out, head, (size_t)n);
    if (tw_seek(cur, h->doc) == h->doc) cur->ops->explain(cur, &out);
    if (px) tw_prox_explain(px, h->doc, &out);
    tw_buf_u8(&out, 0);
    tw_cursor_free(cur);
    tw_prox_free(px);
    if (out.oom) {
        tw_buf_free(&out);
        return NULL;
    }
    return (char *)out.p;
}

/* Loads title and snippets of a hit from its stored document. */
static int load_stored(const tw_view *v, tw_analyzer *an, const highlight *hl, tw_hit *h, char *err, size_t errcap) {
    char *json, *body;
    size_t len, body_len;
    int rc = tw_segment_stored(v->segs[h->seg].seg, h->doc, &json, &len, err, errcap);
    if (rc) return rc;
    rc = tw_storedoc_texts(json, len, &h->title, &body, &body_len);
    free(json);
    if (rc == 0)
        rc = tw_snippet(an, body ? body : "", body_len, (const char *const *)hl->terms, hl->nterms,
                        (const char *const *)hl->prefixes, hl->nprefixes, h->snip);
    free(body);
    return rc;
}

static void hit_free(tw_hit *h) {
    free(h->id);
    free(h->title);
    for (int k = 0; k < 3; k++) free(h->snip[k]);
    free(h->explain);
    free(h->sort_value);
    memset(h, 0, sizeof *h);
}

void tw_hits_free(tw_hits *r) {
    for (size_t i = 0; i < r->n; i++) hit_free(&r->hits[i]);
    free(r->hits);
    tw_matchset_free(&r->matches);
    memset(r, 0, sizeof *r);
}

static int cmp_place(const void *x, const void *y) {
    const tw_hit *a = x, *b = y;
    if (a->seg != b->seg) return a->seg < b->seg ? -1 : 1;
    return a->doc < b->doc ? -1 : a->doc > b->doc;
}

/* Does text[0..len) hold a negation ('-' or NOT)? Without one, every AND
 * match is an OR match: turning MUST clauses into SHOULD ones only widens a
 * Boolean without negations. */
static int has_negation(const char *text, size_t len) {
    if (memchr(text, '-', len)) return 1;
    for (size_t i = 0; i + 3 <= len; i++)
        if (memcmp(text + i, "NOT", 3) == 0) return 1;
    return 0;
}

/* Adds to the match set *or the documents of *and it lacks, and returns how
 * many there were. */
static uint64_t union_matches(tw_matchset * or, const tw_matchset *and) {
    uint64_t added = 0;
    for (uint32_t s = 0; s < or->nsegs && s < and->nsegs; s++) {
        uint64_t n = roaring_bitmap_andnot_cardinality(and->segs[s], or->segs[s]);
        if (n) roaring_bitmap_or_inplace(or->segs[s], and->segs[s]);
        added += n;
    }
    or->total += added;
    return added;
}

/* The `auto` operator: documents matching the query with AND as the default
 * operator first, in their AND ranking, then the other documents matching it
 * with OR, in their OR ranking. The exact total is the size of the union:
 * the OR total plus the AND matches outside the OR set — none unless the
 * query has a negation, when both match sets (filters applied) are built to
 * count them. The match set handed out (want_matches) is the union. Both
 * rankings are exact (each executor's pruning is), so the merged one is too. */
static int run_auto(const tw_view *v, const tw_params *p, tw_qctx *ctx, const char *text, size_t len, tw_hits *out,
                    char *err, size_t errcap, long *erroff) {
    tw_params pa = *p, po;
    pa.auto_op = 0;
    pa.use_or = 0;
    size_t want = p->offset + p->limit;
    if (!p->count_only && (want < p->offset || want > TW_MAX_HITS))
        return tw_err(err, errcap, TRAWL_ELIMIT, "offset + limit exceeds %u", TW_MAX_HITS);
    pa.offset = 0;
    pa.limit = want;
    int neg = has_negation(text, len);
    pa.want_matches = p->want_matches || neg;
    po = pa;
    po.use_or = 1;
    tw_hits all, some;
    memset(&some, 0, sizeof some);
    if (p->count_only) po.count_only = pa.count_only = 1;
    int rc = 0;
    if (!p->count_only || neg)
        rc = tw_query_run(v, &pa, ctx, text, len, &all, err, errcap, erroff);
    else
        memset(&all, 0, sizeof all);
    if (rc) return rc;
    /* Every AND match is held when fewer than want came back. */
    if (p->count_only || all.n >= want) {
        po.count_only = 1;
        po.snippets = po.explain = 0;
    }
    rc = tw_query_run(v, &po, ctx, text, len, &some, err, errcap, erroff);
    uint64_t outside = 0;
    if (rc == 0 && neg) outside = union_matches(&some.matches, &all.matches);
    tw_hit *place = NULL, *merged = NULL;
    if (rc == 0 && !(place = malloc(sizeof *place * (all.n ? all.n : 1)))) rc = TRAWL_ENOMEM;
    if (rc == 0 && !(merged = calloc(want ? want : 1, sizeof *merged))) rc = TRAWL_ENOMEM;
    if (rc) {
        if (rc == TRAWL_ENOMEM && !err[0]) tw_err(err, errcap, rc, "out of memory");
        free(place);
        tw_hits_free(&all);
        tw_hits_free(&some);
        return rc;
    }
    if (all.n) memcpy(place, all.hits, sizeof *place * all.n);
    qsort(place, all.n, sizeof *place, cmp_place);
    size_t n = 0;
    for (size_t i = 0; i < all.n && n < want; i++) {
        merged[n++] = all.hits[i];
        memset(&all.hits[i], 0, sizeof all.hits[i]);
    }
    for (size_t i = 0; i < some.n && n < want; i++)
        if (!bsearch(&some.hits[i], place, all.n, sizeof *place, cmp_place)) {
            merged[n++] = some.hits[i];
            memset(&some.hits[i], 0, sizeof some.hits[i]);
        }
    free(place);
    memset(out, 0, sizeof *out);
    out->total = some.total + outside;
    if (p->want_matches) {
        out->matches = some.matches;
        memset(&some.matches, 0, sizeof some.matches);
    }
    size_t first = p->offset < n ? p->offset : n;
    for (size_t i = 0; i < first; i++) hit_free(&merged[i]);
    memmove(merged, merged + first, sizeof *merged * (n - first));
    out->hits = merged;
    out->n = n - first;
    tw_hits_free(&all);
    tw_hits_free(&some);
    return 0;
}

int tw_query_run(const tw_view *v, const tw_params *p, tw_qctx *ctx, const char *text, size_t len, tw_hits *out,
                 char *err, size_t errcap, long *erroff) {
    /* Sorted by a field, auto sorts its OR matches (it parses as OR). */
    if (p->auto_op && !(p->sort_field && p->sort_field[0])) {
        memset(out, 0, sizeof *out);
        *erroff = -1;
        tw_err_clear(err, errcap);
        return run_auto(v, p, ctx, text, len, out, err, errcap, erroff);
    }
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
    if (p->sort_field && p->sort_field[0] && !p->count_only) { /* by a field's value (sort.h) */
        rc = tw_sort_run(v, plan, p, want, top.h, &top.n, &out->total, err, errcap);
        if (rc) {
            for (size_t i = 0; i < top.n; i++) free(top.h[i].sort_value);
            goto done;
        }
        goto ranked;
    }
    for (uint32_t s = 0; (plan->root || plan->match_all) && s < v->nsegs && rc == 0; s++) {
        tw_prox *px = NULL;
        /* Proximity only reorders hits: counting needs no bonus. */
        if (want && plan->root && (rc = tw_prox_open(v, s, plan->root, p, &px, err, errcap)) != 0) break;
        tw_exec x = {v,
                     ctx,
                     s,
                     plan->root,
                     &top,
                     &out->total,
                     err,
                     errcap,
                     plan->filt ? &plan->filt[s] : NULL,
                     plan->match_all,
                     px,
                     p->exhaustive};
        rc = tw_exec_segment(&x, p->exhaustive);
        tw_prox_free(px);
    }
    if (rc) goto done;
    qsort(top.h, top.n, sizeof *top.h, cmp_hits);
ranked:
    if (p->want_matches && (rc = tw_matchset_build(v, plan, ctx, &out->matches, err, errcap)) != 0) {
        for (size_t i = 0; i < top.n; i++) free(top.h[i].sort_value);
        goto done;
    }
    size_t first = p->offset < top.n ? p->offset : top.n;
    for (size_t i = 0; i < first; i++) free(top.h[i].sort_value);
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
        if (rc == 0 && p->explain && !(h->explain = explain_hit(v, p, plan->root, h, err, errcap))) rc = TRAWL_ENOMEM;
    }
done:
    if (rc && !err[0]) tw_err(err, errcap, rc, "%s", tw_strerror(rc));
    if (rc) tw_hits_free(out);
    free(top.h);
    tw_plan_free(plan);
    tw_query_free(q);
    return rc;
}

int tw_query_matchset(const tw_view *v, const tw_params *p, tw_qctx *ctx, const char *text, size_t len,
                      tw_matchset *out, char *err, size_t errcap, long *erroff) {
    memset(out, 0, sizeof *out);
    *erroff = -1;
    tw_err_clear(err, errcap);
    tw_query *q = NULL;
    tw_parse_error perr;
    tw_plan *plan = NULL;
    int rc = 0, all = 1;
    for (size_t i = 0; text && i < len; i++)
        if (!tw_qlex_is_sep((unsigned char)text[i])) all = 0;
    if (!all && (rc = tw_query_parse(text, len, p->use_or, &q, &perr)) != 0) {
        tw_err(err, errcap, rc, "%s", perr.message);
        if (rc != TRAWL_ENOMEM) *erroff = (long)perr.offset;
        goto done;
    }
    rc = tw_plan_build(v, p, ctx->an, q ? tw_query_root(q) : NULL, &plan, err, errcap, erroff);
    if (rc == 0) rc = tw_matchset_build(v, plan, ctx, out, err, errcap);
done:
    if (rc && !err[0]) tw_err(err, errcap, rc, "%s", tw_strerror(rc));
    tw_plan_free(plan);
    tw_query_free(q);
    return rc;
}
