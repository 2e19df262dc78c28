/*
 * matches.c — every live document a query matches, unranked and unbounded.
 *
 * For deletion by query: parse and plan the query as a search does, then walk
 * each segment's cursor tree to its end, skipping deleted documents, and hand
 * each match to a callback. No scores, no heap, no limit on the count.
 */
#include <stdio.h>
#include <string.h>

#include "ast.h"
#include "cursor.h"
#include "engine.h"
#include "options.h"
#include "plan.h"

int tw_query_matches(const trawl_index *idx, const char *query, int use_or, tw_match_fn fn, void *ctx, char *err,
                     size_t errcap) {
    trawl_options *opt = trawl_options_new();
    tw_query *q = NULL;
    tw_qctx *qc = NULL;
    tw_plan *plan = NULL;
    tw_parse_error perr;
    int rc = opt ? 0 : TRAWL_ENOMEM;
    if (rc == 0) {
        trawl_options_set_or(opt, use_or);
        rc = tw_query_parse(query, strlen(query), opt->use_or, &q, &perr);
        if (rc == -2)
            rc = TRAWL_ENOMEM;
        else if (rc)
            rc = tw_err(err, errcap, perr.limit ? TRAWL_ELIMIT : TRAWL_ESYNTAX, "%s (at byte %zu)", perr.message,
                        (size_t)perr.offset);
    }
    if (rc == 0 && !(qc = tw_index_qctx_acquire(idx))) rc = TRAWL_ENOMEM;
    long erroff;
    if (rc == 0) rc = tw_plan_build(idx, opt, qc->an, tw_query_root(q), &plan, err, errcap, &erroff);
    for (uint32_t s = 0; rc == 0 && plan->root && s < idx->nsegs; s++) {
        int phrase_err = 0;
        tw_cursor *cur = tw_plan_cursor(idx, s, plan->root, &rc, &phrase_err, err, errcap);
        if (!cur) break;
        const roaring_bitmap_t *del = idx->segs[s].deleted;
        for (uint32_t d = cur->doc; d != TW_DOC_END && rc == 0; d = tw_next(cur))
            if (!del || !roaring_bitmap_contains(del, d)) rc = fn(ctx, s, d);
        tw_cursor_free(cur);
        if (rc == 0 && phrase_err)
            rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: positions section: stream invalid", idx->segs[s].seg->path);
    }
    if (rc == TRAWL_ENOMEM) tw_err(err, errcap, rc, "out of memory");
    tw_plan_free(plan);
    tw_index_qctx_release(idx, qc);
    tw_query_free(q);
    trawl_options_free(opt);
    return rc;
}
