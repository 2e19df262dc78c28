/*
 * view.h — what the query layer searches: a read-only view of a set of
 * segments (each with its deletions and its map into the global fields), the
 * global per-field statistics BM25 needs, the intersection kernels, and the
 * analysis language. The engine builds one per open index (tw_view_init,
 * tw_view_add, tw_view_finish) and owns it; searches only read it, from any
 * number of threads at once.
 */
#ifndef TW_VIEW_H
#define TW_VIEW_H

#include <roaring/roaring.h>
#include <stddef.h>
#include <stdint.h>

#include "rview.h"
#include "segment.h"

#define TW_LANG_MAX 48

struct tw_kernels;

/* One segment of the view. */
typedef struct tw_vseg {
    tw_segment *seg;
    roaring_bitmap_t *deleted; /* NULL when nothing is deleted */
    uint8_t *del_bytes;        /* deleted, portably serialized, and a view of it */
    tw_rview del_view;         /* (for the bitmap executors) */
    int32_t *field_map;        /* global field number → local field number or < 0 */
} tw_vseg;

typedef struct tw_view {
    const struct tw_kernels *kernels; /* intersection kernels */
    char lang[TW_LANG_MAX];           /* analysis language of every segment */
    uint32_t nsegs, cap;
    tw_vseg *segs;
    uint64_t live_docs;
    /* Global text fields: union over segments, statistics over live documents. */
    uint32_t nfields;
    char **field_names;
    uint64_t *field_docs;   /* live documents with the field */
    uint64_t *field_tokens; /* tokens of the field in live documents */
} tw_view;

/* Starts an empty view of at most cap segments in language lang (shorter
 * than TW_LANG_MAX) searched with kernels k. Returns 0 or TRAWL_ENOMEM; either
 * way *v is released with tw_view_clear. */
int tw_view_init(tw_view *v, const struct tw_kernels *k, const char *lang, uint32_t cap);

/* Appends segment seg with its deletions (NULL: none); the view owns both
 * from now on, also when this fails. Requires fewer than cap segments.
 * Returns 0, TRAWL_ENOMEM, or TRAWL_ECORRUPT when the deletions do not
 * serialize into a valid bitmap (the caller names the file). */
int tw_view_add(tw_view *v, tw_segment *seg, roaring_bitmap_t *deleted);

/* After the last tw_view_add: builds the global field table, its statistics
 * over live documents and each segment's field map. Returns 0 or TRAWL_ENOMEM. */
int tw_view_finish(tw_view *v);

/* Frees everything the view owns (segments included); *v is then empty. */
void tw_view_clear(tw_view *v);

/* Global field number of name, or TRAWL_ENOTFOUND. */
int tw_view_field(const tw_view *v, const char *name);

#endif
