/*
 * matchset.c — the match set of a search (matchset.h): per segment, the
 * bitmap of live matching documents after filters.
 *
 * tw_matchset_build fills it from a plan: a filter-only plan is the filter's
 * full bitmap; a term or a conjunction of terms is the SIMD intersection of
 * their bitmaps and the filter's (conj_fast: by the SIMD kernels, or by
 * CRoaring container by container when the lists are dense; the filter's
 * column predicates checked per candidate instead when its cost rule says
 * so, segfilter.h);
 * otherwise each segment's cursor tree, ANDed with the filter, is walked and
 * its documents added in batches. Then the deletions are removed.
 */
#include "matchset.h"

#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "cursor.h"
#include "error.h"
#include "exec.h"
#include "plan.h"
#include "segfilter.h"
#include "trawl.h"

void tw_matchset_free(tw_matchset *m) {
    if (!m) return;
    for (uint32_t i = 0; i < m->nsegs && m->segs; i++)
        if (m->segs[i]) roaring_bitmap_free(m->segs[i]); /* CRoaring 0.2 does not take NULL */
    free(m->segs);
    memset(m, 0, sizeof *m);
}

/* The matches of plan node root in segment si (deletions included) that
 * filter f (NULL: none) allows into b, by walking its cursor tree. Returns 0
 * or a trawl_rc with a message. */
static int walk_segment(const tw_view *v, uint32_t si, const pnode *root, tw_segfilter *f, roaring_bitmap_t *b,
                        char *err, size_t errcap) {
    int rc;
    tw_cursor *cur = tw_plan_cursor(v, si, root, &rc, err, errcap);
    if (!cur) return rc;
    if (f && !(cur = tw_segfilter_cursor(f, cur))) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    uint32_t batch[256];
    size_t n = 0;
    for (uint32_t d = cur->doc; d != TW_DOC_END; d = tw_next(cur)) {
        batch[n++] = d;
        if (n == 256) {
            roaring_bitmap_add_many(b, n, batch);
            n = 0;
        }
    }
    roaring_bitmap_add_many(b, n, batch);
    rc = tw_cursor_status(cur);
    tw_cursor_free(cur);
    if (rc == TRAWL_ECORRUPT)
        return tw_err(err, errcap, rc, "%s: positions section: stream invalid", v->segs[si].seg->path);
    if (rc) return tw_err(err, errcap, rc, "out of memory");
    return 0;
}

#define DECLINE 1
#define FILTERED 2 /* conj_fast: the plan's filter is already applied */

/* The intersection of bitmap lists post[0..n) and (when not NULL) filter
 * into b, by CRoaring on copies of the lists: container by container (a
 * bitset AND is 1,024 word ANDs), never value by value — the better way when
 * the lists are dense, as a whole-corpus histogram's are. The lists were
 * validated when opened. Returns FILTERED or TRAWL_ENOMEM. */
static int conj_roaring(const tw_postings *post, size_t n, const roaring_bitmap_t *filter, roaring_bitmap_t *b,
                        char *err, size_t errcap) {
    roaring_bitmap_t *acc = NULL;
    for (size_t i = 0; i < n; i++) {
        roaring_bitmap_t *x = roaring_bitmap_portable_deserialize_safe((const char *)post[i].bm, post[i].bm_len);
        if (!x) {
            if (acc) roaring_bitmap_free(acc);
            return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        }
        if (acc) {
            roaring_bitmap_and_inplace(acc, x);
            roaring_bitmap_free(x);
        } else {
            acc = x;
        }
    }
    if (filter) roaring_bitmap_and_inplace(acc, filter);
    roaring_bitmap_or_inplace(b, acc); /* b is empty: takes acc's containers */
    roaring_bitmap_free(acc);
    return FILTERED;
}

/* The fast path: a root that is one term or a conjunction of terms (no
 * field restriction, every list a bitmap in the segment) is the SIMD
 * intersection of the lists and the filter's bitmap, added to b at once.
 * Returns 0, DECLINE (another shape: walk the cursors), or a trawl_rc. */
static int conj_fast(const tw_view *v, tw_qctx *ctx, uint32_t si, const tw_plan *plan, roaring_bitmap_t *b, char *err,
                     size_t errcap) {
    const pnode *r = plan->root;
    const spec *specs[TW_EXEC_MAX_TERMS];
    size_t n = 0;
    if (!ctx) return DECLINE;
    if (r->kind == P_LEAF) {
        if (r->nspecs != 1 || r->specs[0].phrase) return DECLINE;
        specs[n++] = &r->specs[0];
    } else if (r->kind == P_BOOL && r->n <= TW_EXEC_MAX_TERMS) {
        for (size_t i = 0; i < r->n; i++) {
            const pnode *k = r->kids[i];
            if (r->occ[i] != TW_MUST || k->kind != P_LEAF || k->nspecs != 1 || k->specs[0].phrase) return DECLINE;
            specs[n++] = &k->specs[0];
        }
    } else {
        return DECLINE;
    }
    tw_postings post[TW_EXEC_MAX_TERMS];
    tw_fscore fs[TW_MAX_SCORED_FIELDS];
    const tw_rview *views[TW_EXEC_MAX_TERMS + 1];
    size_t nfs;
    for (size_t i = 0; i < n; i++) {
        int rc = tw_plan_open_term(v, si, specs[i], &post[i], fs, &nfs, err, errcap);
        if (rc < 0) return rc;
        if (rc == 0) return FILTERED; /* a term absent here: nothing matches */
        if (post[i].filter >= 0 || !(post[i].flags & TW_PF_BITMAP)) return DECLINE;
        views[i] = &post[i].view;
    }
    size_t nv = n, nout = 0;
    const tw_rview *fview;
    int preds, rc;
    tw_segfilter *f = plan->filt ? &plan->filt[si] : NULL;
    if ((rc = tw_exec_filter_plan(f, views, n, &fview, &preds, err, errcap)) != 0) return rc;
    /* Dense lists (the smallest one over 1/16 of the segment): by containers. */
    uint64_t least = UINT64_MAX;
    for (size_t i = 0; i < n; i++)
        if (views[i]->card < least) least = views[i]->card;
    if (!preds && least * 16 >= v->segs[si].seg->ndocs) {
        const roaring_bitmap_t *full = fview ? tw_segfilter_full(f) : NULL;
        if (fview && !full) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        return conj_roaring(post, n, full, b, err, errcap);
    }
    if (fview) views[nv++] = fview;
    uint32_t *ids, *ranks[TW_EXEC_MAX_TERMS + 1];
    if (tw_exec_intersect(v->kernels, ctx, views, nv, &ids, ranks, &nout))
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    if (preds) nout = tw_exec_filter_keep(&plan->filt[si], ids, NULL, 0, nout);
    roaring_bitmap_add_many(b, nout, ids);
    return FILTERED;
}

int tw_matchset_build(const tw_view *v, const tw_plan *plan, tw_qctx *ctx, tw_matchset *out, char *err, size_t errcap) {
    memset(out, 0, sizeof *out);
    out->segs = calloc(v->nsegs ? v->nsegs : 1, sizeof *out->segs);
    if (!out->segs) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    out->nsegs = v->nsegs;
    int rc = 0;
    for (uint32_t si = 0; si < v->nsegs && rc == 0; si++) {
        const tw_vseg *e = &v->segs[si];
        roaring_bitmap_t *b = roaring_bitmap_create();
        if (!b) {
            rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
            break;
        }
        out->segs[si] = b;
        tw_segfilter *f = plan->filt ? &plan->filt[si] : NULL;
        const roaring_bitmap_t *full;
        if (plan->match_all && !f)
            roaring_bitmap_add_range(b, 0, e->seg->ndocs);
        else if (plan->match_all && (full = tw_segfilter_full(f)) != NULL)
            roaring_bitmap_or_inplace(b, full);
        else if (plan->match_all)
            rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        else if (plan->root && (rc = conj_fast(v, ctx, si, plan, b, err, errcap)) == DECLINE)
            rc = walk_segment(v, si, plan->root, f, b, err, errcap);
        if (rc == FILTERED) rc = 0;
        if (rc == 0 && e->deleted) roaring_bitmap_andnot_inplace(b, e->deleted);
        if (rc == 0) out->total += roaring_bitmap_get_cardinality(b);
    }
    if (rc) tw_matchset_free(out);
    return rc;
}
