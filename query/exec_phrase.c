/*
 * exec_phrase.c — the two-phase phrase executor: a plan whose root is one
 * phrase (in one field, or the same words in every field) whose terms' doc
 * lists are all bitmaps in the segment. The terms' lists (and the plan's
 * filter bitmap) are intersected with the SIMD kernels; then, for each candidate and field, the shared phrase
 * verification (tw_phrase_freq, phrase.c) reads positions rarest term first.
 * The score sums the fields' BM25 of the phrase frequency in spec order, as
 * the cursor tree does.
 */
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "error.h"
#include "exec.h"
#include "trawl.h"

typedef struct phrase_field {
    const spec *s;             /* the phrase spec of this field */
    uint32_t field;            /* local field number */
    int fi[TW_EXEC_MAX_TERMS]; /* per term: index of the field in its record */
    tw_posreader rd[TW_EXEC_MAX_TERMS];
    /* In the order positions are checked (rarest term first): */
    tw_posreader *rdo[TW_EXEC_MAX_TERMS]; /* the readers */
    uint32_t off[TW_EXEC_MAX_TERMS];      /* the terms' offsets in the phrase */
} phrase_field;

/* A root that is one phrase, in one field (qualified) or as one spec per field,
 * of at most TW_EXEC_MAX_TERMS terms whose doc lists are all bitmaps. */
int tw_exec_phrase(const tw_exec *x) {
    const tw_view *view = x->v;
    tw_qctx *ctx = x->ctx;
    uint32_t si = x->si;
    const pnode *root = x->root;
    tw_topk *top = x->top;
    uint64_t *total = x->total;
    char *err = x->err;
    size_t errcap = x->errcap;
    const tw_vseg *e = &view->segs[si];
    const spec *s0 = &root->specs[0];
    size_t n = s0->nterms, nspec = root->nspecs;
    if (n > TW_EXEC_MAX_TERMS || nspec > TW_MAX_SCORED_FIELDS) return TW_EXEC_DECLINE;
    for (size_t j = 1; j < nspec; j++) {
        const spec *s = &root->specs[j];
        if (!s->phrase || s->nterms != n) return TW_EXEC_DECLINE;
        for (size_t i = 0; i < n; i++)
            if (strcmp(s->terms[i].text, s0->terms[i].text) != 0 || s->terms[i].offset != s0->terms[i].offset)
                return TW_EXEC_DECLINE;
    }
    /* Open each term's record once (through any field that has it). */
    tw_postings post[TW_EXEC_MAX_TERMS];
    size_t opened = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const tw_term_ref *ref = NULL;
        for (size_t j = 0; j < nspec && !ref; j++)
            if (root->specs[j].terms[i].found[si]) ref = &root->specs[j].terms[i].refs[si];
        if (!ref) break; /* absent in every field: no match here */
        tw_postings tmp;
        /* A narrowed ref lacks the record's df: open it narrowed, drop the filter. */
        rc = tw_postings_open(e->seg, ref, 0, &tmp, err, errcap);
        if (rc) break;
        tmp.filter = -1;
        post[opened++] = tmp;
    }
    int bitmaps = opened == n;
    for (size_t i = 0; i < opened; i++) bitmaps &= (post[i].flags & TW_PF_BITMAP) != 0;
    if (rc || opened < n || !bitmaps) {
        for (size_t i = 0; i < opened; i++) tw_postings_close(&post[i]);
        return rc ? rc : opened < n ? 0 : TW_EXEC_DECLINE;
    }
    phrase_field *pf = calloc(nspec, sizeof *pf);
    uint32_t *buf = NULL, *ranks[TW_EXEC_MAX_TERMS + 1], rank[TW_EXEC_MAX_TERMS], tf[TW_EXEC_MAX_TERMS];
    tw_phrase_buf pb = {0};
    size_t npf = 0, nout = 0, order[TW_EXEC_MAX_TERMS];
    const tw_rview *views[TW_EXEC_MAX_TERMS + 1]; /* the terms' lists, then the filter's bitmap */
    if (!pf) rc = TRAWL_ENOMEM;
    for (size_t j = 0; j < nspec && rc == 0; j++) {
        const spec *s = &root->specs[j];
        int lf = e->field_map[s->fields[0].gfield], ok = lf >= 0;
        for (size_t i = 0; i < n && ok; i++) {
            pf[npf].fi[i] = ok ? tw_postings_field(&post[i], (uint32_t)lf) : -1;
            ok = pf[npf].fi[i] >= 0;
        }
        if (!ok) continue;
        pf[npf].s = s;
        pf[npf].field = (uint32_t)lf;
        for (size_t i = 0; i < n; i++) tw_posreader_init(&pf[npf].rd[i], &post[i].f[pf[npf].fi[i]]);
        npf++;
    }
    for (size_t i = 0; i < n; i++) {
        views[i] = &post[i].view;
        order[i] = i;
    }
    /* Rarest term first when checking positions. */
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && post[order[b]].df < post[order[b - 1]].df; b--) {
            size_t t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    for (size_t j = 0; j < npf; j++)
        for (size_t k = 0; k < n; k++) {
            pf[j].rdo[k] = &pf[j].rd[order[k]];
            pf[j].off[k] = pf[j].s->terms[order[k]].offset;
        }
    size_t nv = n;
    const tw_rview *fview = NULL;
    int preds = 0;
    if (rc == 0) rc = tw_exec_filter_plan(x->filt, views, n, &fview, &preds, err, errcap);
    if (fview) views[nv++] = fview;
    if (rc == 0 && npf > 0) rc = tw_exec_intersect(view->kernels, ctx, views, nv, &buf, ranks, &nout);
    /* The filter's predicates before any position is read. */
    if (rc == 0 && preds && nout > 0) nout = tw_exec_filter_keep(x->filt, buf, ranks, n, nout);
    uint64_t count = 0;
    for (size_t q = 0; q < nout && rc == 0; q++) {
        uint32_t doc = buf[q];
        if (e->deleted && roaring_bitmap_contains(e->deleted, doc)) continue;
        double score = 0;
        int any = 0;
        for (size_t j = 0; j < npf && rc == 0; j++) {
            for (size_t k = 0; k < n; k++) {
                size_t i = order[k];
                rank[k] = ranks[i][q];
                tf[k] = tw_pfield_tf(&post[i].f[pf[j].fi[i]], rank[k]);
            }
            int freq = tw_phrase_freq(n, pf[j].rdo, rank, tf, pf[j].off, &pb);
            if (freq == TRAWL_ECORRUPT)
                rc = tw_err(err, errcap, freq, "%s: positions section: stream invalid", e->seg->path);
            else if (freq < 0)
                rc = freq;
            else if (freq > 0) {
                any = 1;
                score +=
                    tw_bm25_score(&pf[j].s->fields[0].bm, (uint32_t)freq, tw_segment_doclen(e->seg, pf[j].field, doc));
            }
        }
        if (!any) continue;
        count++;
        if (top->want) tw_topk_push(top, score, si, doc);
    }
    if (rc == 0) *total += count;
    tw_phrase_buf_free(&pb);
    free(pf);
    for (size_t i = 0; i < n; i++) tw_postings_close(&post[i]);
    return rc;
}
