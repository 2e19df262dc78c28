/*
 * rview.h — zero-copy, validated views of Roaring bitmaps in CRoaring's
 * portable serialization, read straight from a mmapped segment.
 *
 * Posting lists store doc ids in the portable format (written by CRoaring,
 * run-optimized). Readers do not deserialize them: tw_rview_parse checks the
 * header and every container's bounds and builds a small descriptor array; the
 * container payloads stay in the mapped file. Payload bytes have no alignment
 * guarantee: read them with memcpy or unaligned SIMD loads, little-endian.
 *
 * Portable format (CRoaring's spec): a u32 cookie; 12346 = no run containers,
 * followed by a u32 container count; (cookie & 0xFFFF) == 12347 = run containers
 * may occur, count = (cookie >> 16) + 1, followed by a bitset marking run
 * containers. Then count × (u16 key, u16 cardinality-1); then, when there are no
 * runs or count >= 4, count × u32 payload offsets; then the payloads: run =
 * u16 nruns + nruns × (u16 start, u16 length-1); bitset (cardinality > 4096) =
 * 1024 × u64; array = cardinality × u16, ascending.
 */
#ifndef TW_RVIEW_H
#define TW_RVIEW_H

#include <stddef.h>
#include <stdint.h>

enum { TW_C_ARRAY = 1, TW_C_BITSET = 2, TW_C_RUN = 3 };

typedef struct tw_container {
    const uint8_t *data; /* array: card u16; bitset: 1024 u64; run: nruns × (start, len-1) u16 */
    uint32_t card;       /* values in the container, 1..65536 */
    uint32_t rank;       /* values in all earlier containers */
    uint32_t nruns;      /* run containers only */
    uint16_t key;        /* high 16 bits of every value in the container */
    uint8_t type;        /* TW_C_ARRAY, TW_C_BITSET or TW_C_RUN */
} tw_container;

typedef struct tw_rview {
    tw_container *c; /* n descriptors, ascending key; owned by the view */
    uint32_t n;
    uint64_t card; /* total values */
} tw_rview;

/* Parses the bitmap at buf[0..len). Always checks that the header and every
 * payload lie inside the buffer, keys ascend and cardinalities fit their
 * container type. With deep != 0 it also checks every value: arrays strictly
 * ascending, bitset popcount = cardinality, runs ascending, non-overlapping,
 * inside 0..65535 and summing to the cardinality. Returns 0 and fills *v (free
 * with tw_rview_free) and *used (bytes the bitmap occupies); TRAWL_ECORRUPT if
 * malformed (*why, if not NULL, gets a static reason); TRAWL_ENOMEM. */
int tw_rview_parse(const uint8_t *buf, size_t len, int deep, tw_rview *v, size_t *used, const char **why);
void tw_rview_free(tw_rview *v);

/* Little-endian unaligned loads for payload bytes. */
static inline uint16_t tw_ld16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t tw_ld32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t tw_ld64(const uint8_t *p) {
    return (uint64_t)tw_ld32(p) | ((uint64_t)tw_ld32(p + 4) << 32);
}

/* Whether the view holds x: a binary search over the containers, then within
 * the container (array values, run starts) or a bit test. O(log n), no
 * iterator; for random membership tests (seeks walk run containers run by run). */
int tw_rview_contains(const tw_rview *v, uint32_t x);

/* Sequential and seeking iteration over a view, tracking the rank (index of the
 * current value in the whole bitmap) so that aligned per-posting data (term
 * frequencies) can be found. */
typedef struct tw_riter {
    const tw_rview *v;
    uint32_t ci;     /* current container index (== v->n at the end) */
    uint32_t pos;    /* array: index; bitset: bit index 0..65535; run: run index */
    uint32_t inrank; /* rank of the current value within its container */
    uint32_t value;  /* current value (valid unless at end) */
    int end;
} tw_riter;

/* Positions it at the first value. */
void tw_riter_init(tw_riter *it, const tw_rview *v);
/* Moves to the next value; returns 0 at the end. */
int tw_riter_next(tw_riter *it);
/* Moves forward to the first value >= target (never backward); returns 0 at the end. */
int tw_riter_seek(tw_riter *it, uint32_t target);
/* Rank of the current value in the bitmap. */
static inline uint32_t tw_riter_rank(const tw_riter *it) {
    return it->v->c[it->ci].rank + it->inrank;
}

#endif
