/*
 * segfilter.c — a plan's filter in one segment: a bitmap part and column
 * predicates, the full bitmap built on first need (contract and cost rule
 * in segfilter.h).
 */
#include "segfilter.h"

#include <stdlib.h>
#include <string.h>

#include "trawl.h"

/* A new bitmap of every document 0..ndocs-1; NULL when out of memory. */
static roaring_bitmap_t *all_docs(uint32_t ndocs) {
    roaring_bitmap_t *b = roaring_bitmap_create();
    if (b && ndocs) roaring_bitmap_add_range(b, 0, ndocs);
    return b;
}

int tw_segfilter_and(tw_segfilter *f, const roaring_bitmap_t *b, int negate) {
    if (!f->bm) {
        f->bm = negate ? all_docs(f->ndocs) : roaring_bitmap_copy(b);
        if (!f->bm) return TRAWL_ENOMEM;
        if (negate) roaring_bitmap_andnot_inplace(f->bm, b);
        return 0;
    }
    if (negate)
        roaring_bitmap_andnot_inplace(f->bm, b);
    else
        roaring_bitmap_and_inplace(f->bm, b);
    return 0;
}

int tw_segfilter_add_pred(tw_segfilter *f, const tw_colpred *p, int negate) {
    tw_colpred q = *p;
    q.neg = p->neg != negate;
    if (!q.c && q.neg) return 0; /* nothing to exclude: every document passes */
    if (f->npred == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 4;
        tw_colpred *np = realloc(f->pred, cap * sizeof *np);
        if (!np) return TRAWL_ENOMEM;
        f->pred = np;
        f->cap = cap;
    }
    f->pred[f->npred++] = q;
    return 0;
}

/* Serializes b and parses it as a view: 0 or TRAWL_ENOMEM. */
static int make_view(roaring_bitmap_t *b, uint8_t **bytes, tw_rview *view) {
    size_t used;
    roaring_bitmap_run_optimize(b);
    size_t len = roaring_bitmap_portable_size_in_bytes(b);
    if (!(*bytes = malloc(len ? len : 1))) return TRAWL_ENOMEM;
    roaring_bitmap_portable_serialize(b, (char *)*bytes);
    return tw_rview_parse(*bytes, len, 0, view, &used, NULL) ? TRAWL_ENOMEM : 0;
}

const roaring_bitmap_t *tw_segfilter_full(tw_segfilter *f) {
    if (f->full) return f->full;
    if (f->npred == 0 && f->bm) return f->full = f->bm; /* the same set: shared */
    roaring_bitmap_t *b = f->bm ? roaring_bitmap_copy(f->bm) : all_docs(f->ndocs);
    for (size_t i = 0; b && i < f->npred; i++)
        if (tw_colpred_and(&f->pred[i], b)) {
            roaring_bitmap_free(b);
            b = NULL;
        }
    return f->full = b;
}

const tw_rview *tw_segfilter_full_view(tw_segfilter *f) {
    if (f->has_full_view) return &f->full_view;
    if (!tw_segfilter_full(f)) return NULL;
    if (make_view(f->full, &f->full_bytes, &f->full_view)) return NULL;
    f->has_full_view = 1;
    return &f->full_view;
}

int tw_segfilter_bm_view(tw_segfilter *f, const tw_rview **out) {
    *out = NULL;
    if (!f->bm) return 0;
    if (!f->has_bm_view) {
        if (make_view(f->bm, &f->bm_bytes, &f->bm_view)) return TRAWL_ENOMEM;
        f->has_bm_view = 1;
    }
    *out = &f->bm_view;
    return 0;
}

static int g_mode = TW_SEGFILTER_RULE;

void tw_segfilter_set_mode(int mode) {
    g_mode = mode;
}

int tw_segfilter_prefer_preds(const tw_segfilter *f, uint64_t candidates) {
    if (f->npred == 0 || g_mode == TW_SEGFILTER_BITMAP) return 0;
    if (g_mode == TW_SEGFILTER_PREDS) return 1;
    return !f->full && candidates <= f->ndocs / TW_SEGFILTER_PRED_RATIO;
}

size_t tw_segfilter_keep(const tw_segfilter *f, uint32_t *docs, size_t n) {
    return tw_colpred_keep(f->pred, f->npred, docs, NULL, 0, n);
}

tw_cursor *tw_segfilter_cursor(tw_segfilter *f, tw_cursor *inner) {
    tw_cursor *kids[2] = {inner, NULL};
    if (tw_segfilter_prefer_preds(f, inner->cost)) {
        if (f->bm) {
            if (!(kids[1] = tw_bitmap_cursor(f->bm))) {
                tw_cursor_free(inner);
                return NULL;
            }
            if (!(inner = tw_and_cursor(kids, 2))) return NULL;
        }
        return tw_colpred_cursor(inner, f->pred, f->npred);
    }
    const roaring_bitmap_t *full = tw_segfilter_full(f);
    if (!full || !(kids[1] = tw_bitmap_cursor(full))) {
        tw_cursor_free(inner);
        return NULL;
    }
    return tw_and_cursor(kids, 2);
}

void tw_segfilter_clear(tw_segfilter *f) {
    if (f->bm) roaring_bitmap_free(f->bm); /* CRoaring 0.2 does not take NULL */
    if (f->full && f->full != f->bm) roaring_bitmap_free(f->full);
    if (f->has_full_view) tw_rview_free(&f->full_view);
    if (f->has_bm_view) tw_rview_free(&f->bm_view);
    free(f->full_bytes);
    free(f->bm_bytes);
    free(f->pred);
    memset(f, 0, sizeof *f);
}
