/*
 * exec.c — the cursor executor (any plan, through the cursor contract) and
 * the dispatch of a plan's root to the executor fit for its shape.
 */
#include "exec.h"

#include "cursor.h"
#include "error.h"
#include "filter.h"
#include "prox.h"
#include "segfilter.h"
#include "trawl.h"

int tw_exec_cursor(const tw_exec *x) {
    int rc;
    tw_cursor *cur = tw_plan_cursor(x->v, x->si, x->root, &rc, x->err, x->errcap);
    if (!cur) return rc;
    /* The filter scores 0: scores stay the root's. */
    if (x->filt && !(cur = tw_segfilter_cursor(x->filt, cur)))
        return tw_err(x->err, x->errcap, TRAWL_ENOMEM, "out of memory");
    const roaring_bitmap_t *del = x->v->segs[x->si].deleted;
    tw_topk *top = x->top;
    uint64_t n = 0;
    int prc = 0;
    for (uint32_t d = cur->doc; d != TW_DOC_END; d = tw_next(cur)) {
        if (del && roaring_bitmap_contains(del, d)) continue;
        n++;
        if (!top->want) continue;
        double s = tw_score(cur);
        if (x->prox) {
            int r = tw_prox_score(x->prox, d, s, x->exhaustive ? -1.0 : tw_topk_threshold(top), &s);
            if (r < 0) {
                prc = r;
                break;
            }
            if (r == 1) continue;
        }
        tw_topk_push(top, s, x->si, d);
    }
    rc = prc ? prc : tw_cursor_status(cur);
    tw_cursor_free(cur);
    if (rc == TRAWL_ECORRUPT)
        return tw_err(x->err, x->errcap, rc, "%s: positions section: stream invalid", x->v->segs[x->si].seg->path);
    if (rc) return tw_err(x->err, x->errcap, rc, "out of memory");
    *x->total += n;
    return 0;
}

int tw_exec_all(const tw_exec *x) {
    const tw_vseg *e = &x->v->segs[x->si];
    uint32_t ndocs = e->seg->ndocs;
    tw_topk *top = x->top;
    uint64_t n;
    const roaring_bitmap_t *filt = x->filt ? tw_segfilter_full(x->filt) : NULL;
    if (x->filt && !filt) return tw_err(x->err, x->errcap, TRAWL_ENOMEM, "out of memory");
    if (filt) {
        n = roaring_bitmap_get_cardinality(filt);
        if (e->deleted) n -= roaring_bitmap_and_cardinality(filt, e->deleted);
    } else {
        n = ndocs - (e->deleted ? roaring_bitmap_get_cardinality(e->deleted) : 0);
    }
    *x->total += n;
    /* Equal scores rank by segment then doc: the first `want` live documents
     * of the segment are the only ones that can enter. */
    size_t pushed = 0;
    if (filt) {
        roaring_uint32_iterator_t it;
        for (roaring_init_iterator(filt, &it); it.has_value && pushed < top->want;
             roaring_advance_uint32_iterator(&it)) {
            if (e->deleted && roaring_bitmap_contains(e->deleted, it.current_value)) continue;
            tw_topk_push(top, 0.0, x->si, it.current_value);
            pushed++;
        }
    } else {
        for (uint32_t d = 0; d < ndocs && pushed < top->want; d++) {
            if (e->deleted && roaring_bitmap_contains(e->deleted, d)) continue;
            tw_topk_push(top, 0.0, x->si, d);
            pushed++;
        }
    }
    return 0;
}

int tw_exec_segment(const tw_exec *x, int exhaustive) {
    const pnode *r = x->root;
    if (x->match_all) return tw_exec_all(x);
    tw_exec_fn fn = tw_exec_and;
    if (r->kind == P_LEAF && r->nspecs > 0 && r->specs[0].phrase)
        fn = tw_exec_phrase;
    else if (r->kind == P_BOOL && r->n > 0 && r->occ[0] == TW_SHOULD)
        fn = tw_exec_or;
    int rc = exhaustive ? TW_EXEC_DECLINE : fn(x);
    return rc == TW_EXEC_DECLINE ? tw_exec_cursor(x) : rc;
}

int tw_exec_filter_plan(tw_segfilter *f, const tw_rview *const *lists, size_t n, const tw_rview **view, int *preds,
                        char *err, size_t errcap) {
    *view = NULL;
    *preds = 0;
    if (!f) return 0;
    double est = f->ndocs;
    for (size_t i = 0; i < n && f->ndocs; i++) {
        est *= (double)lists[i]->card / f->ndocs;
        if ((double)lists[i]->card < est) est = (double)lists[i]->card;
    }
    if (tw_segfilter_prefer_preds(f, (uint64_t)est)) {
        *preds = 1;
        if (tw_segfilter_bm_view(f, view)) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        return 0;
    }
    if (!(*view = tw_segfilter_full_view(f))) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    return 0;
}

size_t tw_exec_filter_keep(const tw_segfilter *f, uint32_t *ids, uint32_t *const *ranks, size_t nr, size_t n) {
    return tw_colpred_keep(f->pred, f->npred, ids, ranks, nr, n);
}

int tw_exec_intersect(const tw_kernels *k, tw_qctx *ctx, const tw_rview *const *views, size_t n, uint32_t **ids,
                      uint32_t **ranks, size_t *nout) {
    uint64_t cap = UINT32_MAX;
    for (size_t i = 0; i < n; i++)
        if (views[i]->card < cap) cap = views[i]->card;
    if (!(*ids = tw_qctx_buf(ctx, (size_t)(cap ? cap : 1) * (n + 1)))) return TRAWL_ENOMEM;
    for (size_t i = 0; i < n; i++) ranks[i] = *ids + (size_t)cap * (i + 1);
    if (tw_and(k, views, n, *ids, (size_t)cap, ranks, ctx->and_scratch, nout)) return TRAWL_ENOMEM;
    return 0;
}
