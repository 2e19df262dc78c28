/*
 * query.h — the query layer's entry point: query text in, the exact number
 * of matches and the requested page of ranked hits out, each hit with what
 * the parameters ask for (id, title and snippets, explanation), all computed
 * over a view (view.h) with a query context's scratch memory (qctx.h).
 */
#ifndef TW_QUERY_H
#define TW_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "matchset.h"
#include "params.h"
#include "qctx.h"
#include "topk.h"
#include "view.h"

/* Most hits (offset + limit) a search may ask for. */
#define TW_MAX_HITS 1000000u

typedef struct tw_hits {
    uint64_t total; /* matching live documents */
    size_t n;
    tw_hit *hits;        /* ranks offset.. offset+n-1, best first */
    tw_matchset matches; /* when the parameters ask for it (want_matches), else empty */
} tw_hits;

/* Runs query text[0..len) over v with parameters p, using ctx (an analyzer
 * for v->lang and scratch memory; one search at a time). On success returns 0
 * and fills *out (release with tw_hits_free): every hit has its id, and its
 * title and snippets (p->snippets) and explanation (p->explain). On failure
 * returns a trawl_rc with a message in err, and, for an error tied to a place
 * in the query, its byte offset in *erroff (else -1); *out is then empty.
 * Thread-safe for distinct contexts over the same view. */
int tw_query_run(const tw_view *v, const tw_params *p, tw_qctx *ctx, const char *text, size_t len, tw_hits *out,
                 char *err, size_t errcap, long *erroff);

void tw_hits_free(tw_hits *h);

/* Called for each live document a query matches (segment si, doc d), in
 * segment order then doc order; a non-zero return stops the walk and is
 * returned by tw_query_matches. */
typedef int (*tw_match_fn)(void *ctx, uint32_t si, uint32_t d);

/* Walks every live document of v that query matches (parsed with OR as the
 * default operator when use_or), unranked and without a limit (matches.c),
 * with the analyzer of qc. Returns 0, a parse/plan error (message in err), or
 * fn's non-zero return. */
int tw_query_matches(const tw_view *v, tw_qctx *qc, const char *query, int use_or, tw_match_fn fn, void *ctx, char *err,
                     size_t errcap);

#endif
