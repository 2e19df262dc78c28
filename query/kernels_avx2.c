/*
 * kernels_avx2.c — the AVX2 level of the container kernels (AVX2, BMI1/2,
 * POPCNT; contracts in kernels.h).
 *
 * array ∩ array compares blocks of 16 values of each side all-against-all in
 * 256-bit registers: 8 dword rotations (vpermd) of side b and of b with the
 * two halves of every dword swapped (vpshufb) cover the 16 × 16 pairs; the OR
 * of the 16 compares, packed to bytes, gives the mask of matching a-lanes.
 * The block with the smaller last value advances (both on a tie), branch-free;
 * matches are written with a tzcnt loop. Partial last blocks are copied to a
 * local buffer padded with the block's last value, which cannot create a
 * false match. bitset ∩ bitset counts with a nibble-table popcount. Compiled
 * with function target attributes: the program needs no -mavx2 flag.
 */
#if defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "compat.h"

#define TW_KSUF avx2
#define TW_TARGET TW_TARGET_ISA("avx2,bmi,bmi2,popcnt")
#define TW_KPOPCNT 1

/* Number of the 32 u16 at l below v (the skewed search's block compare):
 * 32 minus the lanes where max(x, v) == x. */
static TW_TARGET inline uint32_t tw_lt32(const uint8_t *l, uint32_t v) {
    const __m256i vv = _mm256_set1_epi16((short)v);
    __m256i x0 = _mm256_loadu_si256((const __m256i *)(const void *)l);
    __m256i x1 = _mm256_loadu_si256((const __m256i *)(const void *)(l + 32));
    __m256i g0 = _mm256_cmpeq_epi16(_mm256_max_epu16(x0, vv), x0);
    __m256i g1 = _mm256_cmpeq_epi16(_mm256_max_epu16(x1, vv), x1);
    uint32_t ge = (uint32_t)__builtin_popcount((uint32_t)_mm256_movemask_epi8(g0)) +
                  (uint32_t)__builtin_popcount((uint32_t)_mm256_movemask_epi8(g1));
    return 32u - ge / 2;
}
#define TW_KLT32 tw_lt32
#include "kernels_impl.h"

/* Bit l (0..15) set when u16 lane l of x equals some lane of y. */
static TW_TARGET inline uint32_t tw_block_mask(__m256i x, __m256i y) {
    const __m256i swap = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, 2, 3, 0, 1, 6, 7, 4, 5,
                                          10, 11, 8, 9, 14, 15, 12, 13);
    __m256i ys = _mm256_shuffle_epi8(y, swap);
    __m256i m0 = _mm256_or_si256(_mm256_cmpeq_epi16(x, y), _mm256_cmpeq_epi16(x, ys));
    __m256i m1 = _mm256_setzero_si256();
#define TW_ROT(r, acc)                                                                                                 \
    do {                                                                                                               \
        const __m256i idx = _mm256_setr_epi32((r), ((r) + 1) & 7, ((r) + 2) & 7, ((r) + 3) & 7, ((r) + 4) & 7,         \
                                              ((r) + 5) & 7, ((r) + 6) & 7, ((r) + 7) & 7);                            \
        (acc) = _mm256_or_si256((acc), _mm256_or_si256(_mm256_cmpeq_epi16(x, _mm256_permutevar8x32_epi32(y, idx)),     \
                                                       _mm256_cmpeq_epi16(x, _mm256_permutevar8x32_epi32(ys, idx))));  \
    } while (0)
    TW_ROT(1, m1);
    TW_ROT(2, m0);
    TW_ROT(3, m1);
    TW_ROT(4, m0);
    TW_ROT(5, m1);
    TW_ROT(6, m0);
    TW_ROT(7, m1);
#undef TW_ROT
    __m256i p = _mm256_packs_epi16(_mm256_or_si256(m0, m1), _mm256_setzero_si256());
    uint32_t mm = (uint32_t)_mm256_movemask_epi8(p);
    return (mm & 0xFFu) | ((mm >> 8) & 0xFF00u);
}

/* Loads the n (1..16) u16 at p, padding with the last one. */
static TW_TARGET inline __m256i tw_load_part(const uint8_t *p, size_t n) {
    uint16_t buf[16];
    memcpy(buf, p, 2 * n);
    for (size_t q = n; q < 16; q++) buf[q] = buf[n - 1];
    return _mm256_loadu_si256((const __m256i *)(const void *)buf);
}

/* Writes the matches of a block pair (a-lanes am) at k; returns the new k. */
static TW_TARGET inline size_t tw_emit16(const uint8_t *a, __m256i x, __m256i y, uint32_t am, uint32_t bvalid, size_t i,
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
    while (i + 16 <= na && j + 16 <= nb) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(a + 2 * i));
        __m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(b + 2 * j));
        uint32_t amax = tw_ld16(a + 2 * i + 30), bmax = tw_ld16(b + 2 * j + 30);
        uint32_t am = tw_block_mask(x, y);
        if (am) {
            k = tw_emit16(a, x, y, am, 0xFFFFu, i, j, out, ia, ib, k, cap);
            if (k == cap) return k;
        }
        TW_K(advance)(&i, &j, amax, bmax, (size_t)1 << 4, (size_t)1 << 4);
    }
    while (i < na && j < nb) {
        size_t ra = na - i < 16 ? na - i : 16, rb = nb - j < 16 ? nb - j : 16;
        uint32_t amax = tw_ld16(a + 2 * (i + ra - 1)), bmax = tw_ld16(b + 2 * (j + rb - 1));
        __m256i x = tw_load_part(a + 2 * i, ra), y = tw_load_part(b + 2 * j, rb);
        uint32_t am = tw_block_mask(x, y) & ((1u << ra) - 1);
        if (am) {
            k = tw_emit16(a, x, y, am, (1u << rb) - 1, i, j, out, ia, ib, k, cap);
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
    while (i + 16 <= na && j + 16 <= nb) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(a + 2 * i));
        __m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(b + 2 * j));
        uint32_t amax = tw_ld16(a + 2 * i + 30), bmax = tw_ld16(b + 2 * j + 30);
        k += (size_t)__builtin_popcount(tw_block_mask(x, y));
        TW_K(advance)(&i, &j, amax, bmax, (size_t)1 << 4, (size_t)1 << 4);
    }
    while (i < na && j < nb) {
        size_t ra = na - i < 16 ? na - i : 16, rb = nb - j < 16 ? nb - j : 16;
        uint32_t amax = tw_ld16(a + 2 * (i + ra - 1)), bmax = tw_ld16(b + 2 * (j + rb - 1));
        __m256i x = tw_load_part(a + 2 * i, ra), y = tw_load_part(b + 2 * j, rb);
        k += (size_t)__builtin_popcount(tw_block_mask(x, y) & ((1u << ra) - 1));
        TW_K(advance)(&i, &j, amax, bmax, ra, rb);
    }
    return k;
}

/* Popcount of every byte (nibble table). */
static TW_TARGET inline __m256i tw_popcnt_bytes(__m256i x) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2,
                                         2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256i lo = _mm256_and_si256(x, low), hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low);
    return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
}

static TW_TARGET size_t TW_K(count_bb_simd)(const uint8_t *a, const uint8_t *b) {
    __m256i acc = _mm256_setzero_si256();
    for (size_t o = 0; o < 8192; o += 128) {
        __m256i c = _mm256_setzero_si256();
        for (size_t q = 0; q < 128; q += 32) {
            __m256i x = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(const void *)(a + o + q)),
                                         _mm256_loadu_si256((const __m256i *)(const void *)(b + o + q)));
            c = _mm256_add_epi8(c, tw_popcnt_bytes(x));
        }
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(c, _mm256_setzero_si256()));
    }
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    return (size_t)((uint64_t)_mm_cvtsi128_si64(s) + (uint64_t)_mm_extract_epi64(s, 1));
}

const tw_kernels tw_kernels_avx2_table = {
    TW_SIMD_AVX2,   "avx2",         TW_K(and_aa_simd),   TW_K(count_aa_simd), TW_K(and_ab),
    TW_K(count_ab), TW_K(and_bb),   TW_K(count_bb_simd), TW_K(and_ar),        TW_K(count_ar),
    TW_K(and_br),   TW_K(count_br), TW_K(and_rr),        TW_K(count_rr),
};

#else
typedef int tw_kernels_avx2_unused; /* not x86-64: this level does not exist */
#endif
