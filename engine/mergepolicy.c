/*
 * mergepolicy.c — the tiered merge policy (see mergepolicy.h): segments of
 * similar size merged `factor` at a time, so an index of N documents keeps
 * about factor × log_factor(N) segments; segments heavy with deletions
 * rewritten; an optional hard bound on the segment count. Pure: sizes in,
 * merges out.
 */
#include "mergepolicy.h"

#include <stdlib.h>

void tw_mp_defaults(tw_mp_params *p) {
    p->factor = 10;
    p->floor_bytes = (uint64_t)2 << 20;
    p->max_deleted = 0.3;
    p->max_segments = 0;
    p->max_seg_bytes = (uint64_t)4 << 30;
    p->max_merge_bytes = 0;
}

/* Bytes of the live documents of s (the file size scaled by the live share). */
static uint64_t live_bytes(const tw_mp_seg *s) {
    if (s->docs == 0 || s->deleted >= s->docs) return 0;
    return (uint64_t)((double)s->bytes * (double)(s->docs - s->deleted) / (double)s->docs);
}

static int tier(uint64_t bytes, const tw_mp_params *p) {
    if (bytes < p->floor_bytes) bytes = p->floor_bytes;
    int t = 0;
    for (uint64_t b = bytes / p->floor_bytes; b >= p->factor; b /= p->factor) t++;
    return t;
}

size_t tw_merge_plan(const tw_mp_seg *segs, size_t n, const tw_mp_params *p, tw_mp_merge *out) {
    if (n == 0 || !p || p->factor < 2 || p->floor_bytes == 0) return 0; /* (tier divides by both) */
    /* group[i]: the group segment i belongs to (groups are runs); start with
     * one group per segment and mark which groups are merges. */
    size_t *start = malloc(sizeof *start * n), *len = malloc(sizeof *len * n);
    uint64_t *size = malloc(sizeof *size * n);
    unsigned char *merge = calloc(n, 1);
    size_t ng = 0;
    if (!start || !len || !size || !merge) {
        free(start);
        free(len);
        free(size);
        free(merge);
        return 0;
    }
    /* 1. tiers */
    for (size_t i = 0; i < n;) {
        uint64_t b = live_bytes(&segs[i]);
        int t = tier(b, p);
        size_t j = i;
        while (j < n && live_bytes(&segs[j]) < p->max_seg_bytes && tier(live_bytes(&segs[j]), p) == t) j++;
        if (j == i) { /* a large segment: alone */
            start[ng] = i, len[ng] = 1, size[ng] = b, merge[ng] = 0, ng++;
            i++;
            continue;
        }
        /* A full tier: merge `factor` at a time, fewer (at least two) when
         * the group would outgrow max_merge_bytes; a segment that cannot
         * pair with its neighbour stays as it is. */
        while (j - i >= p->factor) {
            uint64_t sum = live_bytes(&segs[i]);
            size_t k = i + 1;
            while (k < j && k - i < p->factor &&
                   (!p->max_merge_bytes || sum + live_bytes(&segs[k]) <= p->max_merge_bytes))
                sum += live_bytes(&segs[k++]);
            if (k - i >= 2) {
                start[ng] = i, len[ng] = k - i, size[ng] = sum, merge[ng] = 1, ng++;
                i = k;
            } else {
                start[ng] = i, len[ng] = 1, size[ng] = sum, merge[ng] = 0, ng++;
                i++;
            }
        }
        for (; i < j; i++) start[ng] = i, len[ng] = 1, size[ng] = live_bytes(&segs[i]), merge[ng] = 0, ng++;
    }
    /* 2. deletions */
    for (size_t g = 0; g < ng; g++) {
        const tw_mp_seg *s = &segs[start[g]];
        if (!merge[g] && s->docs > 0 && (double)s->deleted > p->max_deleted * (double)s->docs) merge[g] = 1;
    }
    /* 3. bound: join the adjacent pair of groups of the smallest size. */
    while (p->max_segments > 0 && ng > p->max_segments && ng > 1) {
        size_t best = 0;
        for (size_t g = 1; g + 1 < ng; g++)
            if (size[g] + size[g + 1] < size[best] + size[best + 1]) best = g;
        len[best] += len[best + 1];
        size[best] += size[best + 1];
        merge[best] = 1;
        for (size_t g = best + 1; g + 1 < ng; g++)
            start[g] = start[g + 1], len[g] = len[g + 1], size[g] = size[g + 1], merge[g] = merge[g + 1];
        ng--;
    }
    size_t nm = 0;
    for (size_t g = 0; g < ng; g++)
        if (merge[g]) out[nm++] = (tw_mp_merge){start[g], len[g]};
    free(start);
    free(len);
    free(size);
    free(merge);
    return nm;
}
