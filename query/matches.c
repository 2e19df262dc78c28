/*
 * matches.c — every live document a query matches, unranked and unbounded.
 *
 * For deletion by query: parse and plan the query as a search does, then walk
 * each segment's cursor tree to its end, skipping deleted documents, and hand
 * each match to a callback. No scores, no heap, no limit on the count.
 */
#include <string.h>

#include "ast.h"
#include "cursor.h"
#include "error.h"
#include "plan.h"
#include "query.h"

int tw_query_matches(const tw_view *v, tw_qctx *qc, const char *query, int use_or, tw_match_fn fn, void *ctx, char *err,
                     size_t errcap) {
    tw_params prm;
    tw_params_default(&prm);
    prm.use_or = use_or != 0;
    tw_query *q = NULL;
    tw_plan *plan = NULL;
    tw_parse_error perr;
    int rc = tw_query_parse(query, strlen(query), prm.use_or, &q, &perr);
    if (rc == TRAWL_ENOMEM)
        tw_err(err, errcap, rc, "out of memory");
    else if (rc)
        tw_err(err, errcap, rc, "%s (at byte %zu)", perr.message, (size_t)perr.offset);
    long erroff;
    if (rc == 0) rc = tw_plan_build(v, &prm, qc->an, tw_query_root(q), &plan, err, errcap, &erroff);
    for (uint32_t s = 0; rc == 0 && plan->root && s < v->nsegs; s++) {
        tw_cursor *cur = tw_plan_cursor(v, s, plan->root, &rc, err, errcap);
        if (!cur) break;
        const roaring_bitmap_t *del = v->segs[s].deleted;
        for (uint32_t d = cur->doc; d != TW_DOC_END && rc == 0; d = tw_next(cur))
            if (!del || !roaring_bitmap_contains(del, d)) rc = fn(ctx, s, d);
        if (rc == 0) rc = tw_cursor_status(cur);
        tw_cursor_free(cur);
        if (rc == TRAWL_ECORRUPT)
            rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: positions section: stream invalid", v->segs[s].seg->path);
    }
    if (rc == TRAWL_ENOMEM) tw_err(err, errcap, rc, "out of memory");
    tw_plan_free(plan);
    tw_query_free(q);
    return rc;
}
