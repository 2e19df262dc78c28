/*
 * topk.h — the bounded heap that keeps the best hits of a search.
 *
 * Order: higher score first, then earlier segment, then lower doc number, so
 * ties break the same way whichever executor found the hits. The heap's root
 * is the worst hit kept; once the heap is full, tw_topk_threshold says what a
 * new hit must beat.
 */
#ifndef TW_TOPK_H
#define TW_TOPK_H

#include <stddef.h>
#include <stdint.h>

typedef struct tw_hit {
    double score;
    uint32_t seg, doc;
    char *id, *title, *snip[3], *explain;
    char *sort_value; /* with a sort field: the hit's value as text (NULL: none) */
} tw_hit;

typedef struct tw_topk {
    tw_hit *h;
    size_t n, want;
} tw_topk;

static inline int tw_hit_better(const tw_hit *a, const tw_hit *b) {
    if (a->score != b->score) return a->score > b->score;
    if (a->seg != b->seg) return a->seg < b->seg;
    return a->doc < b->doc;
}

static inline void tw_topk_down(tw_hit *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && tw_hit_better(&h[m], &h[l])) m = l;
        if (r < n && tw_hit_better(&h[m], &h[r])) m = r;
        if (m == i) return;
        tw_hit t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Offers a hit; keeps it if it is among the best `want`. */
static inline void tw_topk_push(tw_topk *k, double score, uint32_t seg, uint32_t doc) {
    tw_hit x = {score, seg, doc, NULL, NULL, {NULL, NULL, NULL}, NULL, NULL};
    if (k->n < k->want) {
        size_t i = k->n++;
        k->h[i] = x;
        while (i > 0) {
            size_t parent = (i - 1) / 2;
            if (!tw_hit_better(&k->h[parent], &k->h[i])) break;
            tw_hit t = k->h[i];
            k->h[i] = k->h[parent];
            k->h[parent] = t;
            i = parent;
        }
    } else if (k->want && tw_hit_better(&x, &k->h[0])) {
        k->h[0] = x;
        tw_topk_down(k->h, k->n, 0);
    }
}

/* Score a hit must exceed to enter (ties may still enter by doc order);
 * -1 while the heap is not full. */
static inline double tw_topk_threshold(const tw_topk *k) {
    return k->n < k->want ? -1.0 : k->h[0].score;
}

#endif
