/*
 * fastpath.c — conjunctions (and single terms) executed on bitmaps.
 *
 * Handles a plan whose root is one term, or a Boolean of MUST clauses that are
 * each one term, when every doc list in the segment is a bitmap (short
 * varint-coded lists go to the cursor executor, which leads with them).
 * Counting: tw_and_count over the term bitmaps, minus the count that also
 * intersects the segment's deletions. Ranking: tw_and materializes the common
 * doc ids with each list's rank, from which each field's tf is one lookup.
 */
#include "fastpath.h"

#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define MAX_AND_TERMS 32

typedef struct fterm {
    tw_postings post;
    tw_fscore fs[TW_MAX_SCORED_FIELDS];
    size_t nfs;
} fterm;

/* The term specs of a conjunctive root, or 0 if root has another shape. */
static size_t conj_terms(const pnode *root, const spec **out, int *empty) {
    *empty = 0;
    if (root->kind == P_LEAF) {
        if (root->nspecs != 1 || root->specs[0].phrase) return 0;
        out[0] = &root->specs[0];
        return 1;
    }
    if (root->kind != P_BOOL || root->n > MAX_AND_TERMS) return 0;
    for (size_t i = 0; i < root->n; i++) {
        const pnode *k = root->kids[i];
        if (root->occ[i] != TW_MUST) return 0;
        if (k->kind == P_EMPTY) *empty = 1;
        else if (k->kind != P_LEAF || k->nspecs != 1 || k->specs[0].phrase) return 0;
        else out[i] = &k->specs[0];
    }
    return root->n;
}

static double score_at(const fterm *t, size_t n, const tw_segment *seg, uint32_t doc, uint32_t *const *ranks,
                       size_t q) {
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = ranks[i][q];
        for (size_t j = 0; j < t[i].nfs; j++) {
            const tw_fscore *f = &t[i].fs[j];
            uint32_t tf = tw_pfield_tf(&t[i].post.f[f->fi], r);
            if (tf) s += tw_bm25_score(&f->bm, tf, tw_segment_doclen(seg, f->field, doc));
        }
    }
    return s;
}

int tw_fast_segment(const trawl_index *idx, uint32_t si, const pnode *root, tw_topk *top, uint64_t *total,
                    char *err, size_t errcap) {
    const spec *specs[MAX_AND_TERMS];
    int empty;
    size_t n = conj_terms(root, specs, &empty);
    if (n == 0) return TW_FAST_NO;
    if (empty) return 0;
    const tw_iseg *e = &idx->segs[si];
    fterm *t = calloc(n, sizeof *t);
    if (!t) return TRAWL_ENOMEM;
    int rc = 0, bitmaps = 1, filters = 0, absent = 0;
    for (size_t i = 0; i < n && rc == 0 && !absent; i++) {
        int r = tw_plan_open_term(idx, si, specs[i], &t[i].post, t[i].fs, &t[i].nfs, err, errcap);
        if (r < 0) rc = r;
        else if (r == 0) absent = 1;
        else {
            bitmaps &= (t[i].post.flags & TW_PF_BITMAP) != 0;
            filters |= t[i].post.filter >= 0;
        }
    }
    if (rc == 0 && !absent && !bitmaps) rc = TW_FAST_NO;
    if (rc || absent) goto out;
    const tw_rview *views[MAX_AND_TERMS + 1];
    uint64_t cap = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        views[i] = &t[i].post.view;
        if (views[i]->card < cap) cap = views[i]->card;
    }
    const tw_kernels *k = idx->kernels;
    if (top->want == 0 && !filters) {
        uint64_t c = 0, dc = 0;
        if (tw_and_count(k, views, n, NULL, &c)) rc = TRAWL_ENOMEM;
        if (rc == 0 && e->deleted && c) {
            views[n] = &e->del_view;
            if (tw_and_count(k, views, n + 1, NULL, &dc)) rc = TRAWL_ENOMEM;
        }
        *total += c - dc;
        goto out;
    }
    uint32_t *buf = malloc(sizeof *buf * (size_t)(cap ? cap : 1) * (n + 1));
    uint32_t *ranks[MAX_AND_TERMS];
    if (!buf) {
        rc = TRAWL_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) ranks[i] = buf + (size_t)cap * (i + 1);
    size_t nout = 0;
    if (tw_and(k, views, n, buf, (size_t)cap, ranks, NULL, &nout)) {
        free(buf);
        rc = TRAWL_ENOMEM;
        goto out;
    }
    uint64_t count = 0;
    for (size_t q = 0; q < nout; q++) {
        uint32_t doc = buf[q];
        if (e->deleted && roaring_bitmap_contains(e->deleted, doc)) continue;
        int keep = 1;
        for (size_t i = 0; i < n && filters && keep; i++)
            if (t[i].post.filter >= 0 && tw_pfield_tf(&t[i].post.f[t[i].post.filter], ranks[i][q]) == 0) keep = 0;
        if (!keep) continue;
        count++;
        if (top->want) tw_topk_push(top, score_at(t, n, e->seg, doc, ranks, q), si, doc);
    }
    *total += count;
    free(buf);
out:
    free(t);
    return rc;
}
