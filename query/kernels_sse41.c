/*
 * kernels_sse41.c — the SSE4.1 level of the container kernels (SSE4.1 with
 * SSSE3, and POPCNT; contracts in kernels.h).
 *
 * array ∩ array compares blocks of 8 values of each side all-against-all:
 * the 8 rotations of side b (palignr of b with itself) against side a, the OR
 * of the compares packed to a byte mask of matching a-lanes. The block with
 * the smaller last value advances (both on a tie), branch-free. Partial last
 * blocks are copied to a local buffer padded with the block's last value. The
 * other kernels are the portable ones compiled with POPCNT. Compiled with
 * function target attributes: the program needs no -msse4.1 flag.
 */
#if defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "compat.h"

#define TW_KSUF sse41
#define TW_TARGET TW_TARGET_ISA("sse4.1,popcnt")
#define TW_KPOPCNT 1

/* Number of the 32 u16 at l below v (the skewed search's block compare):
 * 32 minus the lanes where max(x, v) == x. */
static TW_TARGET inline uint32_t tw_lt32(const uint8_t *l, uint32_t v) {
    const __m128i vv = _mm_set1_epi16((short)v);
    __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)l);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(l + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(const void *)(l + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(const void *)(l + 48));
    __m128i g01 =
        _mm_packs_epi16(_mm_cmpeq_epi16(_mm_max_epu16(x0, vv), x0), _mm_cmpeq_epi16(_mm_max_epu16(x1, vv), x1));
    __m128i g23 =
        _mm_packs_epi16(_mm_cmpeq_epi16(_mm_max_epu16(x2, vv), x2), _mm_cmpeq_epi16(_mm_max_epu16(x3, vv), x3));
    uint32_t ge = (uint32_t)_mm_movemask_epi8(g01) | ((uint32_t)_mm_movemask_epi8(g23) << 16);
    return 32u - (uint32_t)__builtin_popcount(ge);
}
#define TW_KLT32 tw_lt32
#include "kernels_impl.h"

/* Bit l (0..7) set when u16 lane l of x equals some lane of y. */
static TW_TARGET inline uint32_t tw_block_mask(__m128i x, __m128i y) {
    __m128i m0 = _mm_cmpeq_epi16(x, y);
    __m128i m1 = _mm_cmpeq_epi16(x, _mm_alignr_epi8(y, y, 2));
    m0 = _mm_or_si128(m0, _mm_cmpeq_epi16(x, _mm_alignr_epi8(y, y, 4)));
    m1 = _mm_or_si128(m1, _mm_cmpeq_epi16(x, _mm_alignr_epi8(y, y, 6)));
    m0 = _mm_or_si128(m0, _mm_cmpeq_epi16(x, _mm_alignr_epi8(y, y, 8)));
    m1 = _mm_or_si128(m1, _mm_cmpeq_epi16(x, _mm_alignr_epi8(y, y, 10)));
    m0 = _mm_or_si128(m0, _mm_cmpeq_epi16(x, _mm_alignr_epi8(y, y, 12)));
    m1 = _mm_or_si128(m1, _mm_cmpeq_epi16(x, _mm_alignr_epi8(y, y, 14)));
    return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(_mm_or_si128(m0, m1), _mm_setzero_si128()));
}

/* Loads the n (1..8) u16 at p, padding with the last one. */
static TW_TARGET inline __m128i tw_load_part(const uint8_t *p, size_t n) {
    uint16_t buf[8];
    memcpy(buf, p, 2 * n);
    for (size_t q = n; q < 8; q++) buf[q] = buf[n - 1];
    return _mm_loadu_si128((const __m128i *)(const void *)buf);
}

/* Writes the matches of a block pair (a-lanes am) at k; returns the new k. */
static TW_TARGET inline size_t tw_emit8(const uint8_t *a, __m128i x, __m128i y, uint32_t am, uint32_t bvalid, size_t i,
                                        size_t j, uint16_t *out, uint32_t *ia, uint32_t *ib, size_t k, size_t cap) {
    uint32_t bm = ib ? tw_block_mask(y, x) & bvalid : 0;
    while (am && k < cap) {
        uint32_t l = (uint32_t)__builtin_ctz(am);
        out[k] = tw_ld16(a + 2 * (i + l));
        if (ia) ia[k] = (uint32_t)(i + l);
        if (ib) {
            ib[k] = (uint32_t)(j + (bm ? (uint32_t)__builtin_ctz(bm) : 0));
            bm &= bm - 1;
        }
        k++;
        am &= am - 1;
    }
    return k;
}

static TW_TARGET size_t TW_K(and_aa_simd)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint16_t *out,
                                          uint32_t *ia, uint32_t *ib, size_t cap) {
    size_t k = 0, i = 0, j = 0;
    if (!na || !nb || !cap) return 0;
    if (TW_K(aa_skewed)(a, na, b, nb, out, ia, ib, cap, &k)) return k;
    while (i + 8 <= na && j + 8 <= nb) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(a + 2 * i));
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(b + 2 * j));
        uint32_t amax = tw_ld16(a + 2 * i + 14), bmax = tw_ld16(b + 2 * j + 14);
        uint32_t am = tw_block_mask(x, y);
        if (am) {
            k = tw_emit8(a, x, y, am, 0xFFu, i, j, out, ia, ib, k, cap);
            if (k == cap) return k;
        }
        TW_K(advance)(&i, &j, amax, bmax, (size_t)1 << 3, (size_t)1 << 3);
    }
    while (i < na && j < nb) {
        size_t ra = na - i < 8 ? na - i : 8, rb = nb - j < 8 ? nb - j : 8;
        uint32_t amax = tw_ld16(a + 2 * (i + ra - 1)), bmax = tw_ld16(b + 2 * (j + rb - 1));
        __m128i x = tw_load_part(a + 2 * i, ra), y = tw_load_part(b + 2 * j, rb);
        uint32_t am = tw_block_mask(x, y) & ((1u << ra) - 1);
        if (am) {
            k = tw_emit8(a, x, y, am, (1u << rb) - 1, i, j, out, ia, ib, k, cap);
            if (k == cap) return k;
        }
        TW_K(advance)(&i, &j, amax, bmax, ra, rb);
    }
    return k;
}

static TW_TARGET size_t TW_K(count_aa_simd)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
    size_t k = 0, i = 0, j = 0;
    if (!na || !nb) return 0;
    if (TW_K(aa_skewed_count)(a, na, b, nb, &k)) return k;
    while (i + 8 <= na && j + 8 <= nb) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(a + 2 * i));
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(b + 2 * j));
        uint32_t amax = tw_ld16(a + 2 * i + 14), bmax = tw_ld16(b + 2 * j + 14);
        k += (size_t)__builtin_popcount(tw_block_mask(x, y));
        TW_K(advance)(&i, &j, amax, bmax, (size_t)1 << 3, (size_t)1 << 3);
    }
    while (i < na && j < nb) {
        size_t ra = na - i < 8 ? na - i : 8, rb = nb - j < 8 ? nb - j : 8;
        uint32_t amax = tw_ld16(a + 2 * (i + ra - 1)), bmax = tw_ld16(b + 2 * (j + rb - 1));
        __m128i x = tw_load_part(a + 2 * i, ra), y = tw_load_part(b + 2 * j, rb);
        k += (size_t)__builtin_popcount(tw_block_mask(x, y) & ((1u << ra) - 1));
        TW_K(advance)(&i, &j, amax, bmax, ra, rb);
    }
    return k;
}

const tw_kernels tw_kernels_sse41_table = {
    TW_SIMD_SSE41,  "sse41",        TW_K(and_aa_simd), TW_K(count_aa_simd), TW_K(and_ab),
    TW_K(count_ab), TW_K(and_bb),   TW_K(count_bb),    TW_K(and_ar),        TW_K(count_ar),
    TW_K(and_br),   TW_K(count_br), TW_K(and_rr),      TW_K(count_rr),
};

#else
typedef int tw_kernels_sse41_unused; /* not x86-64: this level does not exist */
#endif
