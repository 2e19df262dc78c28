/*
 * kernels_avx512.c — the AVX-512 level of the container kernels (AVX-512
 * F/BW/VL/DQ with BMI2 and POPCNT; contracts in kernels.h).
 *
 * array ∩ array compares blocks of 16 values of each side all-against-all:
 * side a is broadcast to both halves of a 32-lane register, 8 vpermw
 * rotations of side b (two rotations per register) cover the 16 × 16 pairs,
 * and the OR of the compare masks, folded to 16 bits, marks the a-lanes that
 * matched. The block whose last value is smaller advances (both on a tie),
 * branch-free. Matches are compacted with vpcompressd (register form: the
 * memory form is slow on some cores) and written with masked stores, which
 * also read and write nothing past the arrays. Partial last blocks use masked
 * loads padded with a copy of the block's last value, which cannot create a
 * false match. bitset ∩ bitset counts with a nibble-table popcount over 64
 * bytes at a time and materializes 16 bits at a time with vpcompressd; the
 * ranks of matches inside a bitset word come from pext. Compiled with function
 * target attributes: the rest of the program needs no -mavx512 flags.
 */
#if defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>

#include "compat.h"

#define TW_KSUF avx512
#define TW_TARGET TW_TARGET_ISA("avx512f,avx512bw,avx512vl,avx512dq,avx2,bmi,bmi2,popcnt")
#define TW_KPOPCNT 1

/* Number of the 32 u16 at l below v (the skewed search's block compare). */
static TW_TARGET inline uint32_t tw_lt32(const uint8_t *l, uint32_t v) {
    return (uint32_t)__builtin_popcount(
        _mm512_cmplt_epu16_mask(_mm512_loadu_si512((const void *)l), _mm512_set1_epi16((short)v)));
}
#define TW_KLT32 tw_lt32
#include "kernels_impl.h"

/* vpermw indices: row r puts rotation 2r of the 16 b-lanes in lanes 0..15
 * and rotation 2r+1 in lanes 16..31. */
static const uint16_t tw_rot16[8][32] = {
#define TW_ROW(r)                                                                                                      \
    {                                                                                                                  \
        (0 + 2 * (r)) & 15, (1 + 2 * (r)) & 15, (2 + 2 * (r)) & 15, (3 + 2 * (r)) & 15, (4 + 2 * (r)) & 15,            \
            (5 + 2 * (r)) & 15, (6 + 2 * (r)) & 15, (7 + 2 * (r)) & 15, (8 + 2 * (r)) & 15, (9 + 2 * (r)) & 15,        \
            (10 + 2 * (r)) & 15, (11 + 2 * (r)) & 15, (12 + 2 * (r)) & 15, (13 + 2 * (r)) & 15, (14 + 2 * (r)) & 15,   \
            (15 + 2 * (r)) & 15, (1 + 2 * (r)) & 15, (2 + 2 * (r)) & 15, (3 + 2 * (r)) & 15, (4 + 2 * (r)) & 15,       \
            (5 + 2 * (r)) & 15, (6 + 2 * (r)) & 15, (7 + 2 * (r)) & 15, (8 + 2 * (r)) & 15, (9 + 2 * (r)) & 15,        \
            (10 + 2 * (r)) & 15, (11 + 2 * (r)) & 15, (12 + 2 * (r)) & 15, (13 + 2 * (r)) & 15, (14 + 2 * (r)) & 15,   \
            (15 + 2 * (r)) & 15, (16 + 2 * (r)) & 15                                                                   \
    }
    TW_ROW(0), TW_ROW(1), TW_ROW(2), TW_ROW(3), TW_ROW(4), TW_ROW(5), TW_ROW(6), TW_ROW(7),
#undef TW_ROW
};

typedef struct tw_rot {
    __m512i p[8];
} tw_rot;

static TW_TARGET inline void tw_rot_load(tw_rot *r) {
    for (int q = 0; q < 8; q++) r->p[q] = _mm512_loadu_si512((const void *)tw_rot16[q]);
}

/* Bit l (0..15) set when lane l of x equals some lane of y. */
static TW_TARGET inline uint32_t tw_block_mask(__m256i x, __m256i y, const tw_rot *r) {
    __m512i xx = _mm512_broadcast_i64x4(x);
    __m512i yy = _mm512_castsi256_si512(y);
    __mmask32 m0 = _mm512_cmpeq_epi16_mask(xx, _mm512_permutexvar_epi16(r->p[0], yy));
    __mmask32 m1 = _mm512_cmpeq_epi16_mask(xx, _mm512_permutexvar_epi16(r->p[1], yy));
    __mmask32 m2 = _mm512_cmpeq_epi16_mask(xx, _mm512_permutexvar_epi16(r->p[2], yy));
    __mmask32 m3 = _mm512_cmpeq_epi16_mask(xx, _mm512_permutexvar_epi16(r->p[3], yy));
    __mmask32 m4 = _mm512_cmpeq_epi16_mask(xx, _mm512_permutexvar_epi16(r->p[4], yy));
    __mmask32 m5 = _mm512_cmpeq_epi16_mask(xx, _mm512_permutexvar_epi16(r->p[5], yy));
    __mmask32 m6 = _mm512_cmpeq_epi16_mask(xx, _mm512_permutexvar_epi16(r->p[6], yy));
    __mmask32 m7 = _mm512_cmpeq_epi16_mask(xx, _mm512_permutexvar_epi16(r->p[7], yy));
    uint32_t m = (uint32_t)(((m0 | m1) | (m2 | m3)) | ((m4 | m5) | (m6 | m7)));
    return (m | (m >> 16)) & 0xFFFFu;
}

/* Writes the a-lanes of x selected by am (and, if asked, their indices
 * i + lane and the matching b-indices j + lane) at out/ia/ib + k, at most
 * cap - k of them. bvalid masks the real lanes of y. Returns the new k. */
static TW_TARGET inline size_t tw_emit16(__m256i x, __m256i y, uint32_t am, uint32_t bvalid, size_t i, size_t j,
                                         uint16_t *out, uint32_t *ia, uint32_t *ib, size_t k, size_t cap,
                                         const tw_rot *r) {
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    uint32_t cnt = (uint32_t)__builtin_popcount(am);
    if (cnt > cap - k) cnt = (uint32_t)(cap - k);
    __mmask16 sm = (__mmask16)((1u << cnt) - 1);
    __m512i vals = _mm512_maskz_compress_epi32((__mmask16)am, _mm512_cvtepu16_epi32(x));
    _mm256_mask_storeu_epi16(out + k, sm, _mm512_cvtepi32_epi16(vals));
    if (ia) {
        __m512i idx = _mm512_maskz_compress_epi32((__mmask16)am, iota);
        _mm512_mask_storeu_epi32(ia + k, sm, _mm512_add_epi32(idx, _mm512_set1_epi32((int)i)));
    }
    if (ib) {
        uint32_t bm = tw_block_mask(y, x, r) & bvalid;
        __m512i idx = _mm512_maskz_compress_epi32((__mmask16)bm, iota);
        _mm512_mask_storeu_epi32(ib + k, sm, _mm512_add_epi32(idx, _mm512_set1_epi32((int)j)));
    }
    return k + cnt;
}

static TW_TARGET size_t TW_K(and_aa_simd)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint16_t *out,
                                          uint32_t *ia, uint32_t *ib, size_t cap) {
    size_t k = 0, i = 0, j = 0;
    if (!na || !nb || !cap) return 0;
    if (TW_K(aa_skewed)(a, na, b, nb, out, ia, ib, cap, &k)) return k;
    tw_rot r;
    tw_rot_load(&r);
    while (i + 16 <= na && j + 16 <= nb) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(a + 2 * i));
        __m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(b + 2 * j));
        uint32_t amax = tw_ld16(a + 2 * i + 30), bmax = tw_ld16(b + 2 * j + 30);
        uint32_t am = tw_block_mask(x, y, &r);
        if (am) {
            k = tw_emit16(x, y, am, 0xFFFFu, i, j, out, ia, ib, k, cap, &r);
            if (k == cap) return k;
        }
        TW_K(advance)(&i, &j, amax, bmax, (size_t)1 << 4, (size_t)1 << 4);
    }
    while (i < na && j < nb) {
        size_t ra = na - i < 16 ? na - i : 16, rb = nb - j < 16 ? nb - j : 16;
        __mmask16 va = (__mmask16)((1u << ra) - 1), vb = (__mmask16)((1u << rb) - 1);
        uint32_t amax = tw_ld16(a + 2 * (i + ra - 1)), bmax = tw_ld16(b + 2 * (j + rb - 1));
        __m256i x = _mm256_mask_loadu_epi16(_mm256_set1_epi16((short)amax), va, a + 2 * i);
        __m256i y = _mm256_mask_loadu_epi16(_mm256_set1_epi16((short)bmax), vb, b + 2 * j);
        uint32_t am = tw_block_mask(x, y, &r) & va;
        if (am) {
            k = tw_emit16(x, y, am, vb, i, j, out, ia, ib, k, cap, &r);
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
    tw_rot r;
    tw_rot_load(&r);
    while (i + 16 <= na && j + 16 <= nb) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(a + 2 * i));
        __m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(b + 2 * j));
        uint32_t amax = tw_ld16(a + 2 * i + 30), bmax = tw_ld16(b + 2 * j + 30);
        k += (size_t)__builtin_popcount(tw_block_mask(x, y, &r));
        TW_K(advance)(&i, &j, amax, bmax, (size_t)1 << 4, (size_t)1 << 4);
    }
    while (i < na && j < nb) {
        size_t ra = na - i < 16 ? na - i : 16, rb = nb - j < 16 ? nb - j : 16;
        __mmask16 va = (__mmask16)((1u << ra) - 1), vb = (__mmask16)((1u << rb) - 1);
        uint32_t amax = tw_ld16(a + 2 * (i + ra - 1)), bmax = tw_ld16(b + 2 * (j + rb - 1));
        __m256i x = _mm256_mask_loadu_epi16(_mm256_set1_epi16((short)amax), va, a + 2 * i);
        __m256i y = _mm256_mask_loadu_epi16(_mm256_set1_epi16((short)bmax), vb, b + 2 * j);
        k += (size_t)__builtin_popcount(tw_block_mask(x, y, &r) & va);
        TW_K(advance)(&i, &j, amax, bmax, ra, rb);
    }
    return k;
}

/* Popcount of every byte (nibble table). */
static TW_TARGET inline __m512i tw_popcnt_bytes(__m512i x) {
    const __m512i lut = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4));
    const __m512i low = _mm512_set1_epi8(0x0f);
    __m512i lo = _mm512_and_si512(x, low), hi = _mm512_and_si512(_mm512_srli_epi16(x, 4), low);
    return _mm512_add_epi8(_mm512_shuffle_epi8(lut, lo), _mm512_shuffle_epi8(lut, hi));
}

static TW_TARGET size_t TW_K(count_bb_simd)(const uint8_t *a, const uint8_t *b) {
    __m512i acc = _mm512_setzero_si512();
    for (size_t o = 0; o < 8192; o += 256) {
        __m512i c = tw_popcnt_bytes(
            _mm512_and_si512(_mm512_loadu_si512((const void *)(a + o)), _mm512_loadu_si512((const void *)(b + o))));
        c = _mm512_add_epi8(c, tw_popcnt_bytes(_mm512_and_si512(_mm512_loadu_si512((const void *)(a + o + 64)),
                                                                _mm512_loadu_si512((const void *)(b + o + 64)))));
        c = _mm512_add_epi8(c, tw_popcnt_bytes(_mm512_and_si512(_mm512_loadu_si512((const void *)(a + o + 128)),
                                                                _mm512_loadu_si512((const void *)(b + o + 128)))));
        c = _mm512_add_epi8(c, tw_popcnt_bytes(_mm512_and_si512(_mm512_loadu_si512((const void *)(a + o + 192)),
                                                                _mm512_loadu_si512((const void *)(b + o + 192)))));
        acc = _mm512_add_epi64(acc, _mm512_sad_epu8(c, _mm512_setzero_si512()));
    }
    return (size_t)_mm512_reduce_add_epi64(acc);
}

/* Writes base + position of every set bit of m (ascending) to the u16 array
 * dst, 16 bits at a time. The caller guarantees room for popcount(m). */
static TW_TARGET inline void tw_bits16(uint64_t m, uint32_t base, uint16_t *dst) {
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (uint32_t c = 0; m; c += 16, m >>= 16) {
        uint32_t mm = (uint32_t)m & 0xFFFFu;
        if (!mm) continue;
        uint32_t cnt = (uint32_t)__builtin_popcount(mm);
        __m512i v =
            _mm512_maskz_compress_epi32((__mmask16)mm, _mm512_add_epi32(iota, _mm512_set1_epi32((int)(base + c))));
        _mm256_mask_storeu_epi16(dst, (__mmask16)((1u << cnt) - 1), _mm512_cvtepi32_epi16(v));
        dst += cnt;
    }
}

/* As tw_bits16 into a u32 array. */
static TW_TARGET inline void tw_bits32(uint64_t m, uint32_t base, uint32_t *dst) {
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (uint32_t c = 0; m; c += 16, m >>= 16) {
        uint32_t mm = (uint32_t)m & 0xFFFFu;
        if (!mm) continue;
        uint32_t cnt = (uint32_t)__builtin_popcount(mm);
        __m512i v =
            _mm512_maskz_compress_epi32((__mmask16)mm, _mm512_add_epi32(iota, _mm512_set1_epi32((int)(base + c))));
        _mm512_mask_storeu_epi32(dst, (__mmask16)((1u << cnt) - 1), v);
        dst += cnt;
    }
}

static TW_TARGET size_t TW_K(and_bb_simd)(const uint8_t *a, const uint8_t *b, uint16_t *out, uint32_t *ia, uint32_t *ib,
                                          size_t cap) {
    size_t k = 0;
    uint32_t ra = 0, rb = 0; /* set bits of a / b in earlier words */
    for (uint32_t w = 0; w < 1024; w++) {
        uint64_t x = tw_ld64(a + 8 * w), y = tw_ld64(b + 8 * w), m = x & y;
        if (m) {
            size_t cnt = (size_t)__builtin_popcountll(m);
            if (cnt > cap - k) { /* truncated output: keep the lowest cap - k bits */
                cnt = cap - k;
                m = _pdep_u64((UINT64_C(1) << cnt) - 1, m);
            }
            tw_bits16(m, w * 64, out + k);
            if (ia) tw_bits32(_pext_u64(m, x), ra, ia + k);
            if (ib) tw_bits32(_pext_u64(m, y), rb, ib + k);
            k += cnt;
            if (k == cap) return k;
        }
        if (ia) ra += (uint32_t)__builtin_popcountll(x);
        if (ib) rb += (uint32_t)__builtin_popcountll(y);
    }
    return k;
}

const tw_kernels tw_kernels_avx512_table = {
    TW_SIMD_AVX512,     "avx512",
    TW_K(and_aa_simd),  TW_K(count_aa_simd),
    tw_k_and_ab_avx512, tw_k_count_ab_avx512,
    TW_K(and_bb_simd),  TW_K(count_bb_simd),
    tw_k_and_ar_avx512, tw_k_count_ar_avx512,
    tw_k_and_br_avx512, tw_k_count_br_avx512,
    tw_k_and_rr_avx512, tw_k_count_rr_avx512,
};

#else
typedef int tw_kernels_avx512_unused; /* not x86-64: this level does not exist */
#endif
