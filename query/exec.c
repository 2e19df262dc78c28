/*
 * exec.c — the cursor executor (any plan, through the cursor contract) and
 * the dispatch of a plan's root to the executor fit for its shape.
 */
#include "exec.h"

#include "cursor.h"
#include "error.h"
#include "trawl.h"

int tw_exec_cursor(const tw_exec *x) {
    int rc;
    tw_cursor *cur = tw_plan_cursor(x->v, x->si, x->root, &rc, x->err, x->errcap);
    if (!cur) return rc;
    const roaring_bitmap_t *del = x->v->segs[x->si].deleted;
    tw_topk *top = x->top;
    uint64_t n = 0;
    for (uint32_t d = cur->doc; d != TW_DOC_END; d = tw_next(cur)) {
        if (del && roaring_bitmap_contains(del, d)) continue;
        n++;
        if (top->want) tw_topk_push(top, tw_score(cur), x->si, d);
    }
    rc = tw_cursor_status(cur);
    tw_cursor_free(cur);
    if (rc == TRAWL_ECORRUPT)
        return tw_err(x->err, x->errcap, rc, "%s: positions section: stream invalid", x->v->segs[x->si].seg->path);
    if (rc) return tw_err(x->err, x->errcap, rc, "out of memory");
    *x->total += n;
    return 0;
}

int tw_exec_segment(const tw_exec *x, int exhaustive) {
    const pnode *r = x->root;
    tw_exec_fn fn = tw_exec_and;
    if (r->kind == P_LEAF && r->nspecs > 0 && r->specs[0].phrase)
        fn = tw_exec_phrase;
    else if (r->kind == P_BOOL && r->n > 0 && r->occ[0] == TW_SHOULD)
        fn = tw_exec_or;
    int rc = exhaustive ? TW_EXEC_DECLINE : fn(x);
    return rc == TW_EXEC_DECLINE ? tw_exec_cursor(x) : rc;
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
