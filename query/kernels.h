/*
 * kernels.h — SIMD intersection kernels for Roaring containers and bitmaps,
 * with runtime dispatch by instruction-set level.
 *
 * Where it sits: the query core intersects posting lists (tw_rview, see
 * index/rview.h) for conjunctions. The container kernels intersect two
 * containers of the same 16-bit key; the bitmap operations (tw_and,
 * tw_and_count) intersect two or more whole views. The materializing kernels
 * also report, for every match, its index (rank) in each input container, so
 * the scorer can fetch per-posting data (term frequencies) stored in rank order.
 *
 * Dispatch: every level has one static const table of function pointers
 * (tw_kernels). tw_simd_best() is the best level of the CPU, tw_simd_parse()
 * reads a level's name (the library's caller chooses: trawl_open_options_set_simd);
 * tw_kernels_get() returns the table. There is no global
 * mutable state: callers cache the pointer they got. Every table computes the
 * same results; only speed differs. The x86 levels are compiled with function
 * target attributes, so the library runs on any x86-64; on other
 * architectures only the scalar level exists.
 *
 * Container payload conventions (CRoaring's portable format, little-endian,
 * no alignment guarantee — the kernels use unaligned loads):
 *   array  : n × u16, strictly ascending               (const uint8_t *, n)
 *   bitset : 1024 × u64, bit v%64 of word v/64 set      (const uint8_t *, 8192 bytes)
 *   run    : nruns × (u16 start, u16 length-1), ascending, disjoint
 *                                                        (const uint8_t *, nruns)
 * The index of a value in a container is its rank there: its position in an
 * array; the number of set bits below it in a bitset; the total length of the
 * earlier runs plus its offset in its run.
 *
 * Hostile input: a kernel never reads outside the sizes it is given and never
 * writes more than `cap` results. When a container is malformed (unsorted
 * array, overlapping runs, popcount that disagrees with the declared
 * cardinality — things only tw_rview_parse(deep=1) rules out) the results are
 * unspecified, but memory safety holds — note that indices and ranks may then
 * exceed a container's cardinality, so code that indexes per-posting data
 * with them must use deep-checked views or check the bound. A run whose end
 * passes 65535 is clipped.
 *
 * Typical use:
 *   const tw_kernels *k = tw_kernels_get(tw_simd_best());   // once
 *   const tw_rview *in[2] = {&va, &vb};
 *   uint32_t *ids = malloc(min_card * 4), *ra = ..., *rb = ...;
 *   uint32_t *ranks[2] = {ra, rb};
 *   size_t n;
 *   if (tw_and(k, in, 2, ids, min_card, ranks, NULL, &n) == 0) ...  // ids[0..n)
 *   uint64_t c; tw_and_count(k, in, 2, NULL, &c);
 */
#ifndef TW_KERNELS_H
#define TW_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "rview.h"

/* Instruction-set levels, ascending. What each needs from the CPU:
 *   TW_SIMD_SCALAR : nothing (portable C; the only level off x86-64)
 *   TW_SIMD_SSE41  : SSE4.1 (with SSSE3) and POPCNT
 *   TW_SIMD_AVX2   : AVX2, BMI1, BMI2, POPCNT
 *   TW_SIMD_AVX512 : AVX-512 F, BW, VL, DQ plus the AVX2-level features */
typedef enum tw_simd_level {
    TW_SIMD_SCALAR = 0,
    TW_SIMD_SSE41 = 1,
    TW_SIMD_AVX2 = 2,
    TW_SIMD_AVX512 = 3
} tw_simd_level;

#define TW_SIMD_NLEVELS 4

/* ------------------------------------------------------------------------ */
/* Container kernels. Naming: a = array, b = bitset, r = run; the first letter
 * is the first operand. Every materializing kernel:
 *   - writes the common values, ascending, to out[0..k) and returns k;
 *   - when ia (ib) is not NULL, writes ia[q] (ib[q]) = the index of out[q] in
 *     the first (second) operand; pass NULL to skip that work;
 *   - writes at most cap entries to each of out, ia, ib: cap >= the smaller
 *     cardinality of the two operands (at most 65536) always gets the full
 *     result; a smaller cap truncates it (the first cap values).
 * out, ia and ib must not overlap the inputs or each other. Counting kernels
 * return the size of the intersection without writing anything. */

/* array a[0..na) ∩ array b[0..nb). When one side is more than 64 times
 * longer than the other, every value of the short side is searched forward in
 * the long one instead (steps over blocks of 32 values, one compare inside
 * the block, galloping for far targets). */
typedef size_t (*tw_and_aa_fn)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint16_t *out, uint32_t *ia,
                               uint32_t *ib, size_t cap);
typedef size_t (*tw_count_aa_fn)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb);
/* array a[0..na) ∩ bitset b (8192 bytes); ib is the bitset rank. */
typedef size_t (*tw_and_ab_fn)(const uint8_t *a, size_t na, const uint8_t *b, uint16_t *out, uint32_t *ia, uint32_t *ib,
                               size_t cap);
typedef size_t (*tw_count_ab_fn)(const uint8_t *a, size_t na, const uint8_t *b);
/* bitset a ∩ bitset b (8192 bytes each). */
typedef size_t (*tw_and_bb_fn)(const uint8_t *a, const uint8_t *b, uint16_t *out, uint32_t *ia, uint32_t *ib,
                               size_t cap);
typedef size_t (*tw_count_bb_fn)(const uint8_t *a, const uint8_t *b);
/* array a[0..na) ∩ runs b[0..nb) (nb = number of runs). */
typedef size_t (*tw_and_ar_fn)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint16_t *out, uint32_t *ia,
                               uint32_t *ib, size_t cap);
typedef size_t (*tw_count_ar_fn)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb);
/* bitset a ∩ runs b[0..nb). */
typedef size_t (*tw_and_br_fn)(const uint8_t *a, const uint8_t *b, size_t nb, uint16_t *out, uint32_t *ia, uint32_t *ib,
                               size_t cap);
typedef size_t (*tw_count_br_fn)(const uint8_t *a, const uint8_t *b, size_t nb);
/* runs a[0..na) ∩ runs b[0..nb). */
typedef size_t (*tw_and_rr_fn)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint16_t *out, uint32_t *ia,
                               uint32_t *ib, size_t cap);
typedef size_t (*tw_count_rr_fn)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb);

/* One dispatch table. Every member is non-NULL. */
typedef struct tw_kernels {
    tw_simd_level level; /* the level these functions were compiled for */
    const char *name;    /* "scalar", "sse41", "avx2" or "avx512" */
    tw_and_aa_fn and_aa;
    tw_count_aa_fn count_aa;
    tw_and_ab_fn and_ab;
    tw_count_ab_fn count_ab;
    tw_and_bb_fn and_bb;
    tw_count_bb_fn count_bb;
    tw_and_ar_fn and_ar;
    tw_count_ar_fn count_ar;
    tw_and_br_fn and_br;
    tw_count_br_fn count_br;
    tw_and_rr_fn and_rr;
    tw_count_rr_fn count_rr;
} tw_kernels;

/* ------------------------------------------------------------------------ */
/* Dispatch. */

/* Non-zero when this build has the level and the running CPU (and OS) supports
 * it. TW_SIMD_SCALAR is always supported. */
int tw_simd_supported(tw_simd_level level);

/* The highest supported level. */
tw_simd_level tw_simd_best(void);

/* The level named name: "scalar", "sse4.1" (or "sse41"), "avx2" or "avx512",
 * ASCII case-insensitive; "auto" gives tw_simd_best(). Whether the CPU
 * supports the level is not checked (tw_kernels_get falls back). 0, or
 * TRAWL_EINVAL for another name or NULL. */
int tw_simd_parse(const char *name, tw_simd_level *out);

/* The static table of `level`; when that level is not supported (or out of
 * range), the table of the highest supported level below it — so the result is
 * always safe to call. Never NULL; the table lives as long as the program. */
const tw_kernels *tw_kernels_get(tw_simd_level level);

/* Lower-case name of a level ("scalar", "sse41", "avx2", "avx512"), "?" if
 * out of range. */
const char *tw_simd_name(tw_simd_level level);

/* ------------------------------------------------------------------------ */
/* Container-level dispatch on the operand types (any order). */

/* Materializes a ∩ b like the kernels above (ia indexes a, ib indexes b,
 * either may be NULL; at most cap entries each, cap >= min(a->card, b->card)
 * gives the full result). Returns the number of values. An unknown container
 * type gives 0. */
size_t tw_container_and(const tw_kernels *k, const tw_container *a, const tw_container *b, uint16_t *out, uint32_t *ia,
                        uint32_t *ib, size_t cap);

/* |a ∩ b|. */
size_t tw_container_count(const tw_kernels *k, const tw_container *a, const tw_container *b);

/* ------------------------------------------------------------------------ */
/* Bitmap-level intersection of n >= 1 views. Inputs are processed smallest
 * cardinality first; container keys are intersected (leapfrog, galloping)
 * before any container is touched; at each common key the containers are
 * intersected smallest first and the work stops as soon as it is empty.
 * n == 0 gives an empty result. The views are only read; they may be shared
 * between threads. Views must have strictly ascending keys (tw_rview_parse
 * guarantees it); the index of a value in a view is container rank + index in
 * the container. */

/* Scratch memory tw_and and tw_and_count may use, in bytes. */
#define TW_AND_SCRATCH_BYTES ((size_t)524288)

/* Writes the intersection of v[0..n), ascending, to out[0..*nout). When ranks
 * is not NULL, every ranks[i] that is not NULL gets ranks[i][q] = the rank
 * (0-based position) of out[q] in v[i] — index into v[i]'s per-posting data.
 * out and every ranks[i] hold cap entries; cap >= the smallest v[i]->card
 * always gives the full result (a smaller cap keeps the first cap values).
 * The ranks[i] must not overlap each other or out. scratch is NULL (the
 * function then allocates and frees its own) or TW_AND_SCRATCH_BYTES bytes
 * aligned for uint32_t (malloc'd memory is), which one thread may reuse across
 * calls; n > 32 also allocates a small cursor array. Returns 0, or
 * TRAWL_ENOMEM (then *nout = 0). */
int tw_and(const tw_kernels *k, const tw_rview *const *v, size_t n, uint32_t *out, size_t cap, uint32_t *const *ranks,
           void *scratch, size_t *nout);

/* Stores |v[0] ∩ ... ∩ v[n-1]| in *count without materializing doc ids.
 * scratch as for tw_and (only used when n > 2). Returns 0, or TRAWL_ENOMEM
 * (then *count = 0). */
int tw_and_count(const tw_kernels *k, const tw_rview *const *v, size_t n, void *scratch, uint64_t *count);

#endif
