/*
 * docset.h — a set of documents of one segment held in the two forms the
 * analytics need: a CRoaring bitmap (membership tests, set algebra) and a
 * tw_rview over its portable serialization (the SIMD and-count kernels); and
 * a term's document list read lightly from its posting record (doc ids only,
 * no term frequencies or positions), counted against such a set.
 */
#ifndef TW_DOCSET_H
#define TW_DOCSET_H

#include <roaring/roaring.h>
#include <stdint.h>

#include "rview.h"
#include "segment.h"

struct tw_kernels;

typedef struct tw_docset {
    roaring_bitmap_t *bm; /* owned */
    uint8_t *bytes;       /* bm portably serialized (view points here) */
    tw_rview view;
    uint64_t card;
} tw_docset;

/* Makes *s hold bm (taken over, also on failure; NULL = empty set). Returns 0
 * or TRAWL_ENOMEM. */
int tw_docset_init(tw_docset *s, roaring_bitmap_t *bm);
/* Frees what *s owns; *s is then an empty set. Safe on a zeroed set. */
void tw_docset_free(tw_docset *s);

/* A term's doc list in a segment: a bitmap view or varint gaps. */
typedef struct tw_doclist {
    const tw_segment *seg;
    int bitmap;
    tw_rview view;
    const uint8_t *gaps, *gaps_end;
    uint32_t df;
} tw_doclist;

/* Reads the doc list of the record of ref (bounds checked; the container
 * values are not deep-checked, which is safe for counting). Returns 0,
 * TRAWL_ECORRUPT (message in err) or TRAWL_ENOMEM. */
int tw_doclist_open(const tw_segment *s, const tw_term_ref *ref, tw_doclist *dl, char *err, size_t errcap);
void tw_doclist_close(tw_doclist *dl);

/* |dl ∩ set|; an empty set gives 0. */
uint64_t tw_doclist_count(const struct tw_kernels *k, const tw_doclist *dl, const tw_docset *set);

#endif
