/*
 * exec_and.c — the bitmap conjunction executor: a plan whose root is one
 * term, or a Boolean of MUST clauses that are each one term (MUST_NOT terms
 * allowed), when every MUST term's doc list in the segment is a bitmap (short
 * varint-coded lists go to the cursor executor, which leads with them).
 * Counting: tw_and_count over the term bitmaps (and the plan's filter
 * bitmap, a filter being one more list to intersect), minus the count that
 * also intersects the segment's deletions. Ranking: tw_and materializes the common
 * doc ids with each list's rank, from which each field's tf is one lookup;
 * candidates whose block bounds cannot beat the heap's threshold are skipped,
 * the others are scored in batches with vector division.
 */
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "error.h"
#include "exec.h"
#include "prox.h"
#include "trawl.h"

typedef struct fterm {
    tw_postings post;
    tw_fscore fs[TW_MAX_SCORED_FIELDS];
    size_t nfs;
} fterm;

/* The term specs of a conjunctive root: musts[0..*nm) and excluded terms
 * nots[0..*nn). Returns 0 if root has another shape. */
static int conj_terms(const pnode *root, const spec **musts, size_t *nm, const spec **nots, size_t *nn, int *empty) {
    *empty = 0;
    *nm = *nn = 0;
    if (root->kind == P_LEAF) {
        if (root->nspecs != 1 || root->specs[0].phrase) return 0;
        musts[(*nm)++] = &root->specs[0];
        return 1;
    }
    if (root->kind != P_BOOL || root->n > TW_EXEC_MAX_TERMS) return 0;
    for (size_t i = 0; i < root->n; i++) {
        const pnode *k = root->kids[i];
        int term = k->kind == P_LEAF && k->nspecs == 1 && !k->specs[0].phrase;
        if (root->occ[i] == TW_SHOULD || (k->kind != P_EMPTY && !term)) return 0;
        if (root->occ[i] == TW_MUST) {
            if (k->kind == P_EMPTY)
                *empty = 1;
            else
                musts[(*nm)++] = &k->specs[0];
        } else if (k->kind != P_EMPTY) {
            nots[(*nn)++] = &k->specs[0];
        }
    }
    return *nm > 0;
}

/* Candidates are scored in batches, one (term, field) at a time, so that the
 * divisions of BM25 run as vector instructions. */
#define BATCH 256

/* sc[i] += w·tf[i]/(tf[i] + n0 + n1·dl[i]) wherever tf[i] > 0: the same
 * operations, in the same order, as tw_bm25_score, so scores are identical. */
TW_TARGET_CLONES("avx512f", "avx2", "default")
TW_VECTORIZE static void bm25_batch(double *restrict sc, const double *restrict tf, const double *restrict dl, size_t n,
                                    double w, double n0, double n1) {
    for (size_t i = 0; i < n; i++) {
        double x = w * tf[i] / (tf[i] + n0 + n1 * dl[i]);
        sc[i] += tf[i] > 0 ? x : 0.0;
    }
}

/* BM25F: x[i] += w·tf[i]/(n0 + n1·dl[i]) wherever tf[i] > 0, the operations
 * of tw_bm25f_tf. */
TW_TARGET_CLONES("avx512f", "avx2", "default")
TW_VECTORIZE static void bm25f_batch(double *restrict x, const double *restrict tf, const double *restrict dl, size_t n,
                                     double w, double n0, double n1) {
    for (size_t i = 0; i < n; i++) {
        double y = w * tf[i] / (n0 + n1 * dl[i]);
        x[i] += tf[i] > 0 ? y : 0.0;
    }
}

/* Scores candidates cq[0..m) (indices into the intersection) into sc: each
 * term's fields summed first (BM25F: their frequencies summed, then
 * saturated as tw_bm25f_sat does), then the terms in query order — the order
 * the cursor executor adds them in, so scores are bit-identical. */
static void score_batch(const fterm *t, size_t n, const tw_segment *seg, const uint32_t *docs, uint32_t *const *ranks,
                        const uint32_t *cq, size_t m, double *sc) {
    double tf[BATCH], dl[BATCH], ts[BATCH];
    for (size_t c = 0; c < m; c++) sc[c] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < m; c++) ts[c] = 0;
        for (size_t j = 0; j < t[i].nfs; j++) {
            const tw_fscore *f = &t[i].fs[j];
            const tw_pfield *pf = &t[i].post.f[f->fi];
            for (size_t c = 0; c < m; c++) {
                tf[c] = tw_pfield_tf(pf, ranks[i][cq[c]]);
                dl[c] = tw_segment_doclen(seg, f->field, docs[cq[c]]);
            }
            if (f->bm.bm25f)
                bm25f_batch(ts, tf, dl, m, f->bm.field_weight, f->bm.norm0, f->bm.norm1);
            else
                bm25_batch(ts, tf, dl, m, f->bm.weight, f->bm.norm0, f->bm.norm1);
        }
        if (t[i].nfs > 0 && t[i].fs[0].bm.bm25f)
            for (size_t c = 0; c < m; c++) ts[c] = ts[c] > 0 ? tw_bm25f_sat(&t[i].fs[0].bm, ts[c]) : 0;
        for (size_t c = 0; c < m; c++) sc[c] += ts[c];
    }
}

int tw_exec_and(const tw_exec *x) {
    const tw_view *view = x->v;
    tw_qctx *ctx = x->ctx;
    uint32_t si = x->si;
    const pnode *root = x->root;
    tw_topk *top = x->top;
    uint64_t *total = x->total;
    char *err = x->err;
    size_t errcap = x->errcap;
    const spec *specs[TW_EXEC_MAX_TERMS], *nspecs[TW_EXEC_MAX_TERMS];
    size_t n, nn;
    int empty;
    if (!conj_terms(root, specs, &n, nspecs, &nn, &empty)) return TW_EXEC_DECLINE;
    if (empty) return 0;
    const tw_vseg *e = &view->segs[si];
    /* Every fterm read below is set first (by tw_plan_open_term): no zeroing
     * of these large records. */
    fterm *t = malloc((n + nn) * sizeof *t);
    tw_piter excl[TW_EXEC_MAX_TERMS];
    size_t nexcl = 0;
    if (!t) return TRAWL_ENOMEM;
    int rc = 0, bitmaps = 1, filters = 0, absent = 0;
    for (size_t i = 0; i < n && rc == 0 && !absent; i++) {
        int r = tw_plan_open_term(view, si, specs[i], &t[i].post, t[i].fs, &t[i].nfs, err, errcap);
        if (r < 0)
            rc = r;
        else if (r == 0)
            absent = 1;
        else {
            bitmaps &= (t[i].post.flags & TW_PF_BITMAP) != 0;
            filters |= t[i].post.filter >= 0;
        }
    }
    /* Excluded terms are walked with iterators (field filters included). */
    for (size_t i = 0; i < nn && rc == 0 && !absent; i++) {
        fterm *xt = &t[n + nexcl];
        int r = tw_plan_open_term(view, si, nspecs[i], &xt->post, xt->fs, &xt->nfs, err, errcap);
        if (r < 0)
            rc = r;
        else if (r > 0) {
            tw_piter_init(&excl[nexcl], &xt->post);
            nexcl++;
        }
    }
    if (rc == 0 && !absent && !bitmaps && n == 1 && nexcl == 0 && !x->filt && top->want == 0) {
        /* Counting one short (varint) list: walk it here rather than build
         * a cursor tree (the iterator keeps to a qualified term's field). */
        uint64_t c = 0;
        tw_piter it;
        for (tw_piter_init(&it, &t[0].post); it.doc != TW_DOC_END; tw_piter_next(&it))
            c += !(e->deleted && roaring_bitmap_contains(e->deleted, it.doc));
        *total += c;
        goto out;
    }
    if (rc == 0 && !absent && !bitmaps) rc = TW_EXEC_DECLINE;
    if (rc || absent) goto out;
    /* The term lists, then the filter's bitmap (a list with no term data):
     * its full bitmap, or its bitmap part when its column predicates are
     * checked on the intersection (tw_exec_filter_plan's cost rule). */
    const tw_rview *views[TW_EXEC_MAX_TERMS + 2], *fview;
    int preds;
    for (size_t i = 0; i < n; i++) views[i] = &t[i].post.view;
    size_t nv = n;
    if ((rc = tw_exec_filter_plan(x->filt, views, n, &fview, &preds, err, errcap)) != 0) goto out;
    if (fview) views[nv++] = fview;
    const tw_kernels *k = view->kernels;
    if (top->want == 0 && !filters && nexcl == 0 && !preds) {
        uint64_t c = 0, dc = 0;
        if (tw_and_count(k, views, nv, ctx->and_scratch, &c)) rc = TRAWL_ENOMEM;
        if (rc == 0 && e->deleted && c) {
            views[nv] = &e->del_view;
            if (tw_and_count(k, views, nv + 1, ctx->and_scratch, &dc)) rc = TRAWL_ENOMEM;
        }
        *total += c - dc;
        goto out;
    }
    uint32_t *buf, *ranks[TW_EXEC_MAX_TERMS + 1];
    size_t nout = 0;
    if ((rc = tw_exec_intersect(k, ctx, views, nv, &buf, ranks, &nout)) != 0) goto out;
    /* The predicates before counting and scoring: totals stay exact. */
    if (preds) nout = tw_exec_filter_keep(x->filt, buf, ranks, n, nout);
    /* Every candidate is counted; those whose block bounds can beat the heap's
     * threshold are scored, a batch at a time. A term's bound changes only
     * when its rank enters a new 128-doc block. */
    uint64_t count = 0;
    uint32_t cur_block[TW_EXEC_MAX_TERMS], cq[BATCH];
    double cur_bound[TW_EXEC_MAX_TERMS], sc[BATCH], theta = tw_topk_threshold(top);
    double pmax = x->prox ? tw_prox_bound(x->prox) : 0; /* what proximity may add */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) cur_block[i] = UINT32_MAX;
    for (size_t q = 0; q <= nout; q++) {
        if (m == BATCH || (q == nout && m > 0)) {
            score_batch(t, n, e->seg, buf, ranks, cq, m, sc);
            for (size_t c = 0; c < m && rc == 0; c++) {
                double s = sc[c];
                if (x->prox) {
                    int r = tw_prox_score(x->prox, buf[cq[c]], s, theta, &s);
                    if (r < 0) rc = r;
                    if (r) continue;
                }
                if (s > theta) {
                    tw_topk_push(top, s, si, buf[cq[c]]);
                    theta = tw_topk_threshold(top);
                }
            }
            m = 0;
            if (rc) {
                if (rc == TRAWL_ECORRUPT)
                    tw_err(err, errcap, rc, "%s: positions section: stream invalid", e->seg->path);
                goto out;
            }
        }
        if (q == nout) break;
        uint32_t doc = buf[q];
        if (e->deleted && roaring_bitmap_contains(e->deleted, doc)) continue;
        int keep = 1;
        for (size_t i = 0; i < n && filters && keep; i++)
            if (t[i].post.filter >= 0 && tw_pfield_tf(&t[i].post.f[t[i].post.filter], ranks[i][q]) == 0) keep = 0;
        for (size_t i = 0; i < nexcl && keep; i++)
            if (tw_piter_seek(&excl[i], doc) == doc) keep = 0;
        if (!keep) continue;
        count++;
        if (!top->want) continue;
        if (theta >= 0) {
            double bound = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t b = ranks[i][q] / TW_BLOCK;
                if (b != cur_block[i]) {
                    cur_block[i] = b;
                    cur_bound[i] = tw_term_block_bound(e->seg, &t[i].post, t[i].fs, t[i].nfs, b);
                }
                // NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign): cur_block starts at UINT32_MAX
                bound += cur_bound[i];
            }
            if (bound + pmax <= theta) continue;
        }
        cq[m++] = (uint32_t)q;
    }
    *total += count;
out:
    free(t);
    return rc;
}
