/*
 * fastpath.h — bitmap executors for the query shapes that dominate real
 * traffic: a single term, and a conjunction of terms. They intersect the
 * terms' Roaring doc lists with the SIMD kernels (kernels.h) instead of
 * leapfrogging cursors, count matches without materializing them when no hit
 * is wanted, and score the candidates from the ranks the kernels return.
 */
#ifndef TW_FASTPATH_H
#define TW_FASTPATH_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "qctx.h"
#include "topk.h"

#define TW_FAST_NO 1 /* the shape is not handled here: use the cursor executor */

/* Runs plan node root on segment si (scratch memory from ctx): adds the segment's matches to *total and
 * offers its hits to top. Returns 0, TW_FAST_NO, or a negative trawl_rc with
 * a message in err. */
int tw_fast_segment(const tw_view *v, tw_qctx *ctx, uint32_t si, const pnode *root, tw_topk *top, uint64_t *total,
                    char *err, size_t errcap);

#endif
