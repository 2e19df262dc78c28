/*
 * kernels_impl.h — the portable container kernels, written once and compiled
 * once per instruction-set level (contracts in kernels.h).
 *
 * Not a public header: each kernels_<level>.c defines TW_KSUF (the name
 * suffix, e.g. avx2), TW_TARGET (a function attribute such as
 * TW_TARGET_ISA("avx2,popcnt") from compat.h, or nothing) and, when the level has
 * the POPCNT instruction, TW_KPOPCNT, and then includes this file, so every function here is built for that level — popcount, tzcnt and
 * the auto-vectorized loops then use the level's instructions. The level files
 * replace the kernels that benefit from hand-written SIMD and keep these for
 * the rest.
 *
 * All loads go through tw_ld16/tw_ld64 (little-endian, unaligned). Values of
 * runs are clipped to 65535. Every materializing loop checks k < cap before a
 * store, so malformed input can never write past cap.
 */
#ifndef TW_KSUF
#error "define TW_KSUF and TW_TARGET before including kernels_impl.h"
#endif

#include <stddef.h>
#include <stdint.h>

#include "compat.h"
#include "kernels.h"

#define TW_KCAT2_(a, b) tw_k_##a##_##b
#define TW_KCAT_(a, b) TW_KCAT2_(a, b)
#define TW_K(name) TW_KCAT_(name, TW_KSUF)

/* Every level file uses only some of these functions. */
#define TW_KDEF static TW_TARGET TW_UNUSED
#define TW_KINL static TW_TARGET inline

/* Positions of the set bits of every byte value (kernels_scalar.c). */
extern const uint8_t tw_bitpos8[256][8];
/* Set bits of every byte value (kernels_scalar.c). */
extern const uint8_t tw_popcnt8[256];

/* Ratio beyond which array ∩ array gallops through the longer array. */
#define TW_GALLOP_RATIO 64

/* Run t of a run container: first value and last value (clipped to 65535). */
TW_KINL uint32_t TW_K(run_start)(const uint8_t *r, size_t t) {
    return tw_ld16(r + 4 * t);
}
TW_KINL uint32_t TW_K(run_end)(const uint8_t *r, size_t t) {
    uint32_t e = (uint32_t)tw_ld16(r + 4 * t) + tw_ld16(r + 4 * t + 2);
    return e > 65535u ? 65535u : e;
}

/* Population count: the POPCNT instruction on levels that have it
 * (TW_KPOPCNT defined by the level file), else inline SWAR arithmetic, which
 * beats the library call the builtin becomes on a baseline target. */
#ifdef TW_KPOPCNT
TW_KINL uint32_t TW_K(pop64)(uint64_t x) {
    return (uint32_t)__builtin_popcountll(x);
}
#else
TW_KINL uint32_t TW_K(pop64)(uint64_t x) {
    x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
    x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0F0F0F0F0F0F0F0F);
    return (uint32_t)((x * UINT64_C(0x0101010101010101)) >> 56);
}
#endif

/* First index p in [lo, n) with a[p] >= v, or n: branch-free binary search
 * (the compiler emits a conditional move; the loads of successive probes are
 * the only chain). */
TW_KINL size_t TW_K(lower16)(const uint8_t *a, size_t lo, size_t n, uint32_t v) {
    if (lo >= n) return n;
    size_t base = lo, len = n - lo;
    while (len > 1) {
        size_t half = len / 2;
        base = tw_ld16(a + 2 * (base + half - 1)) < v ? base + half : base;
        len -= half;
    }
    return base + (tw_ld16(a + 2 * base) < v);
}

/* As lower16, searching exponentially from lo first (cheap when the answer
 * is near lo). */
TW_KINL size_t TW_K(gallop16)(const uint8_t *a, size_t lo, size_t n, uint32_t v) {
    if (lo >= n || tw_ld16(a + 2 * lo) >= v) return lo;
    size_t prev = lo, step = 1; /* invariant: a[prev] < v */
    while (lo + step < n && tw_ld16(a + 2 * (lo + step)) < v) {
        prev = lo + step;
        step <<= 1;
    }
    return TW_K(lower16)(a, prev + 1, lo + step < n ? lo + step : n, v);
}

/* ---- array ∩ array -------------------------------------------------------- */

/* Block advance of the SIMD merges: *i += si when amax <= bmax, *j += sj when
 * bmax <= amax. Deliberately branchy: the branches mispredict about half the
 * time on random data, yet speculation keeps the next blocks' loads off the
 * loop-carried chain; branch-free forms (sign masks, or loading both candidate
 * maxima and selecting) measured no faster, usually slower. */
TW_KINL void TW_K(advance)(size_t *i, size_t *j, uint32_t amax, uint32_t bmax, size_t si, size_t sj) {
    if (amax <= bmax) *i += si;
    if (bmax <= amax) *j += sj;
}

/* Number of the 32 values l[0..32) below v. A level file with a SIMD
 * version defines TW_KLT32 to its name (a TW_TARGET inline function with this
 * signature, defined before including this file). */
#ifdef TW_KLT32
#define TW_KLT32_FN TW_KLT32
#else
TW_KINL uint32_t TW_K(lt32)(const uint8_t *l, uint32_t v) {
    uint32_t c = 0;
    for (uint32_t x = 0; x < 32; x++) c += tw_ld16(l + 2 * x) < v;
    return c;
}
#define TW_KLT32_FN TW_K(lt32)
#endif

/* Blocks of 32 values the skewed search steps over linearly before it
 * gallops instead. */
#define TW_SKEW_LINEAR 8

/* First index p in [lo, n) with l[p] >= v, or n, for the skewed
 * intersections, where the next target is typically a few hundred values
 * ahead: steps over whole blocks of 32 values (one 64-byte line) by their last
 * value — independent loads at fixed addresses, which the prefetcher streams
 * — and locates v inside the block holding it with one 32-value compare;
 * past TW_SKEW_LINEAR blocks it gallops, so a far target costs O(log). */
TW_KINL size_t TW_K(skew_lower)(const uint8_t *l, size_t lo, size_t n, uint32_t v) {
    for (uint32_t t = 0; t < TW_SKEW_LINEAR && lo + 32 <= n; t++, lo += 32)
        if (tw_ld16(l + 2 * (lo + 31)) >= v) return lo + TW_KLT32_FN(l + 2 * lo, v);
    if (lo + 32 <= n) return TW_K(gallop16)(l, lo, n, v);
    while (lo < n && tw_ld16(l + 2 * lo) < v) lo++;
    return lo;
}

/* Start of the forward search for v in l[p..nl): where v would sit if l's
 * values were spread evenly over [lo, lo + 2^32 / scale) — less 32, so the
 * usual estimation error still lands before the answer — when that is at
 * least 64 values past p and the value just before it is below v (so the
 * answer is not skipped); else p. On evenly spread lists (frequent terms)
 * this lands within a block or two of the answer; on clustered ones it
 * falls back to p after one probe. */
TW_KINL size_t TW_K(skew_start)(const uint8_t *l, size_t p, size_t nl, uint32_t v, uint32_t lo, uint64_t scale) {
    size_t e = (size_t)(((uint64_t)(v - lo) * scale) >> 32);
    if (e < p + 64 || e >= nl) return p;
    e -= 32;
    return tw_ld16(l + 2 * (e - 1)) < v ? e : p;
}

/* Small s[0..ns) against large l[0..nl): a forward search in l for every
 * value of s (from skew_start, by skew_lower; plain binary search when s has
 * at most 4 values: the targets are then far apart). Values of s below l's
 * first value are skipped and the search stops past its last. is/il index s
 * and l. */
TW_KDEF size_t TW_K(aa_gallop)(const uint8_t *s, size_t ns, const uint8_t *l, size_t nl, uint16_t *out, uint32_t *is,
                               uint32_t *il, size_t cap) {
    size_t k = 0, p = 0;
    if (!nl) return 0;
    uint32_t lo = tw_ld16(l), hi = tw_ld16(l + 2 * (nl - 1));
    uint64_t scale = hi > lo ? ((uint64_t)nl << 32) / (hi - lo + 1) : 0; /* nl / value range, 32.32 fixed point */
    for (size_t i = 0; i < ns && k < cap; i++) {
        uint32_t v = tw_ld16(s + 2 * i);
        if (v < lo) continue;
        if (v > hi) break;
        p = ns <= 4 ? TW_K(lower16)(l, p, nl, v) : TW_K(skew_lower)(l, TW_K(skew_start)(l, p, nl, v, lo, scale), nl, v);
        if (p == nl) break;
        if (tw_ld16(l + 2 * p) == v) {
            out[k] = (uint16_t)v;
            if (is) is[k] = (uint32_t)i;
            if (il) il[k] = (uint32_t)p;
            k++;
            p++;
        }
    }
    return k;
}

TW_KDEF size_t TW_K(aa_gallop_count)(const uint8_t *s, size_t ns, const uint8_t *l, size_t nl) {
    size_t k = 0, p = 0;
    if (!nl) return 0;
    uint32_t lo = tw_ld16(l), hi = tw_ld16(l + 2 * (nl - 1));
    uint64_t scale = hi > lo ? ((uint64_t)nl << 32) / (hi - lo + 1) : 0;
    for (size_t i = 0; i < ns; i++) {
        uint32_t v = tw_ld16(s + 2 * i);
        if (v < lo) continue;
        if (v > hi) break;
        p = ns <= 4 ? TW_K(lower16)(l, p, nl, v) : TW_K(skew_lower)(l, TW_K(skew_start)(l, p, nl, v, lo, scale), nl, v);
        if (p == nl) break;
        if (tw_ld16(l + 2 * p) == v) {
            k++;
            p++;
        }
    }
    return k;
}

/* Branch-free merge from positions (i, j), writing from k; the SIMD kernels
 * finish their tails with it. */
TW_KINL size_t TW_K(aa_merge_from)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint16_t *out,
                                   uint32_t *ia, uint32_t *ib, size_t cap, size_t i, size_t j, size_t k) {
    if (ia || ib) {
        while (i < na && j < nb && k < cap) {
            uint32_t x = tw_ld16(a + 2 * i), y = tw_ld16(b + 2 * j);
            out[k] = (uint16_t)x;
            if (ia) ia[k] = (uint32_t)i;
            if (ib) ib[k] = (uint32_t)j;
            k += x == y;
            i += x <= y;
            j += y <= x;
        }
    } else {
        while (i < na && j < nb && k < cap) {
            uint32_t x = tw_ld16(a + 2 * i), y = tw_ld16(b + 2 * j);
            out[k] = (uint16_t)x;
            k += x == y;
            i += x <= y;
            j += y <= x;
        }
    }
    return k;
}

TW_KINL size_t TW_K(aa_merge_count_from)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, size_t i, size_t j,
                                         size_t k) {
    while (i < na && j < nb) {
        uint32_t x = tw_ld16(a + 2 * i), y = tw_ld16(b + 2 * j);
        k += x == y;
        i += x <= y;
        j += y <= x;
    }
    return k;
}

/* Dispatches skewed sizes to galloping; returns 1 and sets *k when it did. */
TW_KINL int TW_K(aa_skewed)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint16_t *out, uint32_t *ia,
                            uint32_t *ib, size_t cap, size_t *k) {
    if (na * TW_GALLOP_RATIO < nb) {
        *k = TW_K(aa_gallop)(a, na, b, nb, out, ia, ib, cap);
        return 1;
    }
    if (nb * TW_GALLOP_RATIO < na) {
        *k = TW_K(aa_gallop)(b, nb, a, na, out, ib, ia, cap);
        return 1;
    }
    return 0;
}

TW_KINL int TW_K(aa_skewed_count)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, size_t *k) {
    if (na * TW_GALLOP_RATIO < nb) {
        *k = TW_K(aa_gallop_count)(a, na, b, nb);
        return 1;
    }
    if (nb * TW_GALLOP_RATIO < na) {
        *k = TW_K(aa_gallop_count)(b, nb, a, na);
        return 1;
    }
    return 0;
}

TW_KDEF size_t TW_K(and_aa_merge)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint16_t *out, uint32_t *ia,
                                  uint32_t *ib, size_t cap) {
    size_t k;
    if (TW_K(aa_skewed)(a, na, b, nb, out, ia, ib, cap, &k)) return k;
    return TW_K(aa_merge_from)(a, na, b, nb, out, ia, ib, cap, 0, 0, 0);
}

TW_KDEF size_t TW_K(count_aa_merge)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
    size_t k;
    if (TW_K(aa_skewed_count)(a, na, b, nb, &k)) return k;
    return TW_K(aa_merge_count_from)(a, na, b, nb, 0, 0, 0);
}

/* ---- array ∩ bitset ------------------------------------------------------- */

TW_KDEF size_t TW_K(and_ab)(const uint8_t *a, size_t na, const uint8_t *b, uint16_t *out, uint32_t *ia, uint32_t *ib,
                            size_t cap) {
    size_t k = 0;
    if (!ib) {
        for (size_t i = 0; i < na && k < cap; i++) {
            uint32_t v = tw_ld16(a + 2 * i);
            uint64_t w = tw_ld64(b + 8 * (v >> 6));
            out[k] = (uint16_t)v;
            if (ia) ia[k] = (uint32_t)i;
            k += (w >> (v & 63)) & 1;
        }
        return k;
    }
    uint32_t wi = 0, acc = 0; /* acc = set bits in words [0, wi) */
    for (size_t i = 0; i < na && k < cap; i++) {
        uint32_t v = tw_ld16(a + 2 * i), wv = v >> 6;
        if (wv < wi) wi = acc = 0; /* only for unsorted (malformed) arrays */
        while (wi < wv) acc += TW_K(pop64)(tw_ld64(b + 8 * wi++));
        uint64_t w = tw_ld64(b + 8 * wv);
        out[k] = (uint16_t)v;
        if (ia) ia[k] = (uint32_t)i;
        ib[k] = acc + TW_K(pop64)(w & ((UINT64_C(1) << (v & 63)) - 1));
        k += (w >> (v & 63)) & 1;
    }
    return k;
}

TW_KDEF size_t TW_K(count_ab)(const uint8_t *a, size_t na, const uint8_t *b) {
    size_t k = 0;
    for (size_t i = 0; i < na; i++) {
        uint32_t v = tw_ld16(a + 2 * i);
        k += (tw_ld64(b + 8 * (v >> 6)) >> (v & 63)) & 1;
    }
    return k;
}

/* ---- bitset ∩ bitset ------------------------------------------------------ */

/* Writes base + the position of every set bit of m, ascending, to dst and
 * returns how many: a byte at a time from tw_bitpos8, branch-free. Writes up
 * to 8 entries past the result: dst must have room for 64. */
TW_KINL size_t TW_K(bits16)(uint64_t m, uint32_t base, uint16_t *dst) {
    size_t k = 0;
    for (uint32_t q = 0; q < 8; q++, m >>= 8) {
        const uint8_t *e = tw_bitpos8[m & 0xFF];
        for (uint32_t x = 0; x < 8; x++) dst[k + x] = (uint16_t)(base + 8 * q + e[x]);
#ifdef TW_KPOPCNT
        k += TW_K(pop64)(m & 0xFF);
#else
        k += tw_popcnt8[m & 0xFF]; /* a byte's count: a lookup beats SWAR arithmetic */
#endif
    }
    return k;
}

TW_KDEF size_t TW_K(and_bb)(const uint8_t *a, const uint8_t *b, uint16_t *out, uint32_t *ia, uint32_t *ib, size_t cap) {
    size_t k = 0;
    uint32_t ra = 0, rb = 0; /* set bits of a / b in earlier words */
    for (uint32_t w = 0; w < 1024; w++) {
        uint64_t x = tw_ld64(a + 8 * w), y = tw_ld64(b + 8 * w), m = x & y;
        if (!ia && !ib && cap - k >= 64) { /* room for the table's over-writes */
            if (m) k += TW_K(bits16)(m, w * 64, out + k);
        } else {
            while (m) {
                if (k == cap) return k;
                uint32_t bit = (uint32_t)__builtin_ctzll(m);
                uint64_t below = (UINT64_C(1) << bit) - 1;
                out[k] = (uint16_t)(w * 64 + bit);
                if (ia) ia[k] = ra + TW_K(pop64)(x & below);
                if (ib) ib[k] = rb + TW_K(pop64)(y & below);
                k++;
                m &= m - 1;
            }
        }
        if (ia) ra += TW_K(pop64)(x);
        if (ib) rb += TW_K(pop64)(y);
    }
    return k;
}

TW_KDEF size_t TW_K(count_bb)(const uint8_t *a, const uint8_t *b) {
    size_t k = 0;
    for (uint32_t w = 0; w < 1024; w++) k += TW_K(pop64)(tw_ld64(a + 8 * w) & tw_ld64(b + 8 * w));
    return k;
}

/* ---- array ∩ run ---------------------------------------------------------- */

/* Two strategies: with fewer array values than runs, walk the array and
 * skip runs (binary search by run end, or a linear walk summing run lengths
 * when the run-side rank is wanted); otherwise walk the runs and gallop in the
 * array to the values each run covers. */
TW_KDEF size_t TW_K(and_ar)(const uint8_t *a, size_t na, const uint8_t *r, size_t nr, uint16_t *out, uint32_t *ia,
                            uint32_t *ib, size_t cap) {
    size_t k = 0;
    uint32_t before = 0; /* total length of runs before run t */
    if (na < nr) {
        size_t t = 0;
        for (size_t i = 0; i < na && t < nr && k < cap; i++) {
            uint32_t v = tw_ld16(a + 2 * i);
            if (ib) {
                while (t < nr && TW_K(run_end)(r, t) < v) {
                    before += TW_K(run_end)(r, t) - TW_K(run_start)(r, t) + 1;
                    t++;
                }
            } else if (TW_K(run_end)(r, t) < v) {
                size_t lo = t + 1, hi = nr; /* first run with end >= v */
                while (lo < hi) {
                    size_t mid = lo + (hi - lo) / 2;
                    if (TW_K(run_end)(r, mid) < v)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                t = lo;
            }
            if (t == nr) break;
            uint32_t s = TW_K(run_start)(r, t);
            if (v >= s) {
                out[k] = (uint16_t)v;
                if (ia) ia[k] = (uint32_t)i;
                if (ib) ib[k] = before + (v - s);
                k++;
            }
        }
        return k;
    }
    size_t i = 0;
    for (size_t t = 0; t < nr && i < na && k < cap; t++) {
        uint32_t s = TW_K(run_start)(r, t), e = TW_K(run_end)(r, t);
        size_t i0 = TW_K(gallop16)(a, i, na, s);
        size_t i1 = e == 65535u ? na : TW_K(gallop16)(a, i0, na, e + 1);
        if (i1 > i0 + (cap - k)) i1 = i0 + (cap - k);
        for (size_t p = i0; p < i1; p++) {
            uint32_t v = tw_ld16(a + 2 * p);
            out[k] = (uint16_t)v;
            if (ia) ia[k] = (uint32_t)p;
            if (ib) ib[k] = before + (v - s);
            k++;
        }
        before += e < s ? 0 : e - s + 1;
        i = i1;
    }
    return k;
}

TW_KDEF size_t TW_K(count_ar)(const uint8_t *a, size_t na, const uint8_t *r, size_t nr) {
    size_t k = 0;
    if (na < nr) {
        size_t t = 0;
        for (size_t i = 0; i < na; i++) {
            uint32_t v = tw_ld16(a + 2 * i);
            if (TW_K(run_end)(r, t) < v) {
                size_t lo = t + 1, hi = nr;
                while (lo < hi) {
                    size_t mid = lo + (hi - lo) / 2;
                    if (TW_K(run_end)(r, mid) < v)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                t = lo;
                if (t == nr) break;
            }
            k += v >= TW_K(run_start)(r, t);
        }
        return k;
    }
    size_t i = 0;
    for (size_t t = 0; t < nr && i < na; t++) {
        uint32_t s = TW_K(run_start)(r, t), e = TW_K(run_end)(r, t);
        size_t i0 = TW_K(gallop16)(a, i, na, s);
        size_t i1 = e == 65535u ? na : TW_K(gallop16)(a, i0, na, e + 1);
        k += i1 - i0;
        i = i1;
    }
    return k;
}

/* ---- bitset ∩ run --------------------------------------------------------- */

/* Mask of bits lo..hi (0 <= lo <= hi <= 63). */
TW_KINL uint64_t TW_K(range_mask)(uint32_t lo, uint32_t hi) {
    return (~UINT64_C(0) >> (63 - hi)) & (~UINT64_C(0) << lo);
}

TW_KDEF size_t TW_K(and_br)(const uint8_t *b, const uint8_t *r, size_t nr, uint16_t *out, uint32_t *ia, uint32_t *ib,
                            size_t cap) {
    size_t k = 0;
    uint32_t before = 0, wi = 0, acc = 0; /* acc = set bits of b in words [0, wi) */
    for (size_t t = 0; t < nr; t++) {
        uint32_t s = TW_K(run_start)(r, t), e = TW_K(run_end)(r, t);
        for (uint32_t w = s >> 6; w <= e >> 6; w++) {
            uint64_t x = tw_ld64(b + 8 * w);
            uint64_t m = x & TW_K(range_mask)(w == s >> 6 ? s & 63 : 0, w == e >> 6 ? e & 63 : 63);
            if (ia && m) {
                if (w < wi) wi = acc = 0; /* only for malformed runs */
                while (wi < w) acc += TW_K(pop64)(tw_ld64(b + 8 * wi++));
            }
            while (m) {
                if (k == cap) return k;
                uint32_t bit = (uint32_t)__builtin_ctzll(m), v = w * 64 + bit;
                out[k] = (uint16_t)v;
                if (ia) ia[k] = acc + TW_K(pop64)(x & ((UINT64_C(1) << bit) - 1));
                if (ib) ib[k] = before + (v - s);
                k++;
                m &= m - 1;
            }
        }
        before += e - s + 1;
    }
    return k;
}

TW_KDEF size_t TW_K(count_br)(const uint8_t *b, const uint8_t *r, size_t nr) {
    size_t k = 0;
    for (size_t t = 0; t < nr; t++) {
        uint32_t s = TW_K(run_start)(r, t), e = TW_K(run_end)(r, t), ws = s >> 6, we = e >> 6;
        if (ws == we) {
            k += TW_K(pop64)(tw_ld64(b + 8 * ws) & TW_K(range_mask)(s & 63, e & 63));
            continue;
        }
        k += TW_K(pop64)(tw_ld64(b + 8 * ws) & TW_K(range_mask)(s & 63, 63));
        for (uint32_t w = ws + 1; w < we; w++) k += TW_K(pop64)(tw_ld64(b + 8 * w));
        k += TW_K(pop64)(tw_ld64(b + 8 * we) & TW_K(range_mask)(0, e & 63));
    }
    return k;
}

/* ---- run ∩ run ------------------------------------------------------------ */

TW_KDEF size_t TW_K(and_rr)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint16_t *out, uint32_t *ia,
                            uint32_t *ib, size_t cap) {
    size_t i = 0, j = 0, k = 0;
    uint32_t ba = 0, bb = 0; /* total length of earlier runs of a / b */
    while (i < na && j < nb) {
        uint32_t sa = TW_K(run_start)(a, i), ea = TW_K(run_end)(a, i);
        uint32_t sb = TW_K(run_start)(b, j), eb = TW_K(run_end)(b, j);
        uint32_t lo = sa > sb ? sa : sb, hi = ea < eb ? ea : eb;
        for (uint32_t v = lo; v <= hi; v++) {
            if (k == cap) return k;
            out[k] = (uint16_t)v;
            if (ia) ia[k] = ba + (v - sa);
            if (ib) ib[k] = bb + (v - sb);
            k++;
        }
        if (ea <= eb) {
            ba += ea < sa ? 0 : ea - sa + 1;
            i++;
        }
        if (eb <= ea) {
            bb += eb < sb ? 0 : eb - sb + 1;
            j++;
        }
    }
    return k;
}

TW_KDEF size_t TW_K(count_rr)(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
    size_t i = 0, j = 0, k = 0;
    if (!na || !nb) return 0;
    /* branchy on purpose: the outcomes are well predicted on typical data,
     * and speculation keeps the loads off the loop-carried chain */
    uint32_t sa = TW_K(run_start)(a, 0), ea = TW_K(run_end)(a, 0);
    uint32_t sb = TW_K(run_start)(b, 0), eb = TW_K(run_end)(b, 0);
    for (;;) {
        uint32_t lo = sa > sb ? sa : sb, hi = ea < eb ? ea : eb;
        if (lo <= hi) k += hi - lo + 1;
        if (ea < eb) {
            if (++i == na) break;
            sa = TW_K(run_start)(a, i), ea = TW_K(run_end)(a, i);
        } else if (eb < ea) {
            if (++j == nb) break;
            sb = TW_K(run_start)(b, j), eb = TW_K(run_end)(b, j);
        } else {
            if (++i == na || ++j == nb) break;
            sa = TW_K(run_start)(a, i), ea = TW_K(run_end)(a, i);
            sb = TW_K(run_start)(b, j), eb = TW_K(run_end)(b, j);
        }
    }
    return k;
}
