/*
 * mergepolicy.h — which segments to merge: a pure function of the segments'
 * sizes and deletion counts (mergepolicy.c). No I/O, no state; the writer
 * executes what it returns.
 */
#ifndef TW_MERGEPOLICY_H
#define TW_MERGEPOLICY_H

#include <stddef.h>
#include <stdint.h>

/* One segment as the policy sees it, in index (doc order) position. */
typedef struct tw_mp_seg {
    uint64_t bytes;   /* file size */
    uint32_t docs;    /* documents in it, live or not */
    uint32_t deleted; /* of which deleted (<= docs) */
} tw_mp_seg;

typedef struct tw_mp_params {
    uint32_t factor;          /* segments of one size tier merged at once (>= 2); also the tier ratio */
    uint64_t floor_bytes;     /* smaller segments count as this size (the lowest tier) */
    double max_deleted;       /* a segment with a larger deleted share is rewritten without them */
    size_t max_segments;      /* 0: no bound; else the plan leaves at most this many segments */
    uint64_t max_seg_bytes;   /* segments of at least this live size only merge for max_segments or deletions */
    uint64_t max_merge_bytes; /* 0, or the most live bytes a tier merge may take in (what one merged segment
                                 built within the writer's memory budget holds) */
} tw_mp_params;

/* The defaults: factor 10, floor 2 MiB, max_deleted 0.3, no segment bound,
 * max_seg_bytes 4 GiB, no max_merge_bytes. */
void tw_mp_defaults(tw_mp_params *p);

/* A merge: segments first .. first+count-1 become one (count >= 1; a count of
 * 1 rewrites a segment to drop its deleted documents). */
typedef struct tw_mp_merge {
    size_t first, count;
} tw_mp_merge;

/* Plans merges over segs[0..n): only runs of ADJACENT segments are merged, so
 * the order of documents (and ties) stays as it is. Rules, applied in order:
 *  1. tiers: a segment's tier is floor(log_factor(max(live bytes, floor)));
 *     while a run of adjacent segments of one tier (below max_seg_bytes) holds
 *     `factor` or more, `factor` of them are merged, or fewer (at least two)
 *     when more would pass max_merge_bytes;
 *  2. deletions: a segment not in a merge whose deleted share exceeds
 *     max_deleted is rewritten alone;
 *  3. bound: while more than max_segments would remain, the two adjacent
 *     groups (a planned merge or a lone segment) of the smallest combined live
 *     size are joined.
 * (A segment whose documents are all deleted has already left the index.)
 * Writes at most n merges to out, in increasing order,
 * non-overlapping, and returns how many. */
size_t tw_merge_plan(const tw_mp_seg *segs, size_t n, const tw_mp_params *p, tw_mp_merge *out);

#endif
