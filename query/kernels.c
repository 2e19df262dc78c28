/*
 * kernels.c — runtime dispatch of the intersection kernels, container-level
 * dispatch on operand types, and the multi-way bitmap intersections tw_and and
 * tw_and_count (contracts in kernels.h).
 *
 * The per-level kernel tables live in kernels_<level>.c; this file only picks
 * one. CPU features come from __builtin_cpu_supports (which also checks that
 * the OS saves the wide registers), read on every call — nothing is cached
 * here, the caller keeps the table pointer.
 *
 * Multi-way intersection: inputs sorted by cardinality; the smallest one leads
 * a leapfrog over container keys (galloping seeks), so only keys present in
 * every input reach a kernel. At a common key the containers are taken
 * smallest first: the first pair goes through the type-specific kernel, the
 * running result (an array of u16 in scratch memory) is then intersected with
 * each further container. Indices of earlier inputs are carried along by
 * gathering through the array-side indices of each step; the per-input index
 * arrays are the caller's rank arrays themselves (written at the current
 * output offset), so no per-input scratch is needed.
 */
#include "kernels.h"

#include <stdlib.h>
#include <string.h>

extern const tw_kernels tw_kernels_scalar_table;
#if defined(__x86_64__)
extern const tw_kernels tw_kernels_sse41_table;
extern const tw_kernels tw_kernels_avx2_table;
extern const tw_kernels tw_kernels_avx512_table;
#endif

/* ---- dispatch -------------------------------------------------------------- */

const char *tw_simd_name(tw_simd_level level) {
    switch (level) {
    case TW_SIMD_SCALAR: return "scalar";
    case TW_SIMD_SSE41: return "sse41";
    case TW_SIMD_AVX2: return "avx2";
    case TW_SIMD_AVX512: return "avx512";
    }
    return "?";
}

int tw_simd_supported(tw_simd_level level) {
    if (level == TW_SIMD_SCALAR) return 1;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    int sse41 = __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3") && __builtin_cpu_supports("popcnt");
    int avx2 = sse41 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
               __builtin_cpu_supports("bmi2");
    int avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    switch (level) {
    case TW_SIMD_SSE41: return sse41;
    case TW_SIMD_AVX2: return avx2;
    case TW_SIMD_AVX512: return avx512;
    default: return 0;
    }
#else
    return 0;
#endif
}

tw_simd_level tw_simd_best(void) {
    for (int l = TW_SIMD_NLEVELS - 1; l > 0; l--)
        if (tw_simd_supported((tw_simd_level)l)) return (tw_simd_level)l;
    return TW_SIMD_SCALAR;
}

/* ASCII case-insensitive string equality. */
static int tw_streq_nocase(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y) return 0;
    }
    return *a == *b;
}

tw_simd_level tw_simd_select(void) {
    const char *e = getenv("TRAWL_SIMD");
    int forced = -1;
    if (e) {
        if (tw_streq_nocase(e, "scalar"))
            forced = TW_SIMD_SCALAR;
        else if (tw_streq_nocase(e, "sse41") || tw_streq_nocase(e, "sse4.1"))
            forced = TW_SIMD_SSE41;
        else if (tw_streq_nocase(e, "avx2"))
            forced = TW_SIMD_AVX2;
        else if (tw_streq_nocase(e, "avx512"))
            forced = TW_SIMD_AVX512;
    }
    if (forced >= 0 && tw_simd_supported((tw_simd_level)forced)) return (tw_simd_level)forced;
    return tw_simd_best();
}

const tw_kernels *tw_kernels_get(tw_simd_level level) {
    int l = (int)level;
    if (l >= TW_SIMD_NLEVELS) l = TW_SIMD_NLEVELS - 1;
    for (; l > 0; l--) {
        if (!tw_simd_supported((tw_simd_level)l)) continue;
#if defined(__x86_64__)
        switch (l) {
        case TW_SIMD_SSE41: return &tw_kernels_sse41_table;
        case TW_SIMD_AVX2: return &tw_kernels_avx2_table;
        case TW_SIMD_AVX512: return &tw_kernels_avx512_table;
        default: break;
        }
#endif
    }
    return &tw_kernels_scalar_table;
}

/* ---- container dispatch --------------------------------------------------- */

/* Operand sizes as the kernels take them: card for arrays, nruns for runs. */
static size_t tw_csize(const tw_container *c) { return c->type == TW_C_RUN ? c->nruns : c->card; }

size_t tw_container_and(const tw_kernels *k, const tw_container *a, const tw_container *b, uint16_t *out,
                        uint32_t *ia, uint32_t *ib, size_t cap) {
    size_t na = tw_csize(a), nb = tw_csize(b);
    switch (a->type * 4 + b->type) {
    case TW_C_ARRAY * 4 + TW_C_ARRAY: return k->and_aa(a->data, na, b->data, nb, out, ia, ib, cap);
    case TW_C_ARRAY * 4 + TW_C_BITSET: return k->and_ab(a->data, na, b->data, out, ia, ib, cap);
    case TW_C_BITSET * 4 + TW_C_ARRAY: return k->and_ab(b->data, nb, a->data, out, ib, ia, cap);
    case TW_C_BITSET * 4 + TW_C_BITSET: return k->and_bb(a->data, b->data, out, ia, ib, cap);
    case TW_C_ARRAY * 4 + TW_C_RUN: return k->and_ar(a->data, na, b->data, nb, out, ia, ib, cap);
    case TW_C_RUN * 4 + TW_C_ARRAY: return k->and_ar(b->data, nb, a->data, na, out, ib, ia, cap);
    case TW_C_BITSET * 4 + TW_C_RUN: return k->and_br(a->data, b->data, nb, out, ia, ib, cap);
    case TW_C_RUN * 4 + TW_C_BITSET: return k->and_br(b->data, a->data, na, out, ib, ia, cap);
    case TW_C_RUN * 4 + TW_C_RUN: return k->and_rr(a->data, na, b->data, nb, out, ia, ib, cap);
    default: return 0;
    }
}

size_t tw_container_count(const tw_kernels *k, const tw_container *a, const tw_container *b) {
    size_t na = tw_csize(a), nb = tw_csize(b);
    switch (a->type * 4 + b->type) {
    case TW_C_ARRAY * 4 + TW_C_ARRAY: return k->count_aa(a->data, na, b->data, nb);
    case TW_C_ARRAY * 4 + TW_C_BITSET: return k->count_ab(a->data, na, b->data);
    case TW_C_BITSET * 4 + TW_C_ARRAY: return k->count_ab(b->data, nb, a->data);
    case TW_C_BITSET * 4 + TW_C_BITSET: return k->count_bb(a->data, b->data);
    case TW_C_ARRAY * 4 + TW_C_RUN: return k->count_ar(a->data, na, b->data, nb);
    case TW_C_RUN * 4 + TW_C_ARRAY: return k->count_ar(b->data, nb, a->data, na);
    case TW_C_BITSET * 4 + TW_C_RUN: return k->count_br(a->data, b->data, nb);
    case TW_C_RUN * 4 + TW_C_BITSET: return k->count_br(b->data, a->data, na);
    case TW_C_RUN * 4 + TW_C_RUN: return k->count_rr(a->data, na, b->data, nb);
    default: return 0;
    }
}

/* ---- multi-way ------------------------------------------------------------ */

#define TW_STACK_INPUTS 32

/* Per-call working state: inputs sorted by cardinality (ord), each input's
 * current container (pos), and per-key containers sorted by card (cs, co). */
typedef struct tw_mw {
    size_t n;
    size_t *ord;
    uint32_t *pos;
    const tw_container **cs;
    size_t *co;
    uint16_t *vals[2]; /* running result, ping-pong, 65536 each */
    uint32_t *tmp;     /* array-side indices of a step, 65536 */
    void *heap;        /* cursor arrays when n > TW_STACK_INPUTS */
    void *own_scratch; /* scratch allocated here */
    size_t stack_ord[TW_STACK_INPUTS];
    uint32_t stack_pos[TW_STACK_INPUTS];
    const tw_container *stack_cs[TW_STACK_INPUTS];
    size_t stack_co[TW_STACK_INPUTS];
} tw_mw;

/* Sets up mw for v[0..n) (n >= 1); scratch may be NULL to allocate when
 * need_scratch. Returns 0 or -1 when out of memory (nothing left to free). */
static int tw_mw_init(tw_mw *mw, const tw_rview *const *v, size_t n, void *scratch, int need_scratch) {
    mw->n = n;
    mw->heap = mw->own_scratch = NULL;
    if (n <= TW_STACK_INPUTS) {
        mw->ord = mw->stack_ord;
        mw->pos = mw->stack_pos;
        mw->cs = mw->stack_cs;
        mw->co = mw->stack_co;
    } else {
        size_t per = 2 * sizeof(size_t) + sizeof(uint32_t) + sizeof(const tw_container *);
        if (n > SIZE_MAX / per) return -1;
        char *h = malloc(n * per);
        if (!h) return -1;
        mw->heap = h;
        mw->ord = (size_t *)(void *)h;
        mw->co = (size_t *)(void *)(h + n * sizeof(size_t));
        mw->cs = (const tw_container **)(void *)(h + 2 * n * sizeof(size_t));
        mw->pos = (uint32_t *)(void *)(h + 2 * n * sizeof(size_t) + n * sizeof(const tw_container *));
    }
    if (need_scratch && !scratch) {
        scratch = mw->own_scratch = malloc(TW_AND_SCRATCH_BYTES);
        if (!scratch) {
            free(mw->heap);
            return -1;
        }
    }
    if (need_scratch) {
        mw->vals[0] = (uint16_t *)scratch;
        mw->vals[1] = mw->vals[0] + 65536;
        mw->tmp = (uint32_t *)(void *)(mw->vals[1] + 65536);
    }
    /* insertion sort of the inputs by cardinality (n is small) */
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && v[mw->ord[j - 1]]->card > v[i]->card) {
            mw->ord[j] = mw->ord[j - 1];
            j--;
        }
        mw->ord[j] = i;
        mw->pos[i] = 0;
    }
    return 0;
}

static void tw_mw_free(tw_mw *mw) {
    free(mw->heap);
    free(mw->own_scratch);
}

/* First index p >= pos of c[0..n) with c[p].key >= key, or n (galloping). */
static uint32_t tw_seek_key(const tw_container *c, uint32_t n, uint32_t pos, uint32_t key) {
    if (pos >= n || c[pos].key >= key) return pos;
    uint32_t prev = pos, step = 1; /* c[prev].key < key */
    while (step < n - pos && c[pos + step].key < key) {
        prev = pos + step;
        step <<= 1;
    }
    uint32_t hi = step < n - pos ? pos + step : n, lo = prev + 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Advances every input to the next key present in all of them, starting
 * from the lead's current container; fills mw->cs (by sorted input) and
 * mw->co (those sorted by container cardinality). Returns 0 when done. */
static int tw_mw_next_key(tw_mw *mw, const tw_rview *const *v) {
    const tw_rview *lead = v[mw->ord[0]];
    for (;;) {
        if (mw->pos[0] >= lead->n) return 0;
        uint32_t key = lead->c[mw->pos[0]].key;
        size_t t;
        for (t = 1; t < mw->n; t++) {
            const tw_rview *vt = v[mw->ord[t]];
            mw->pos[t] = tw_seek_key(vt->c, vt->n, mw->pos[t], key);
            if (mw->pos[t] >= vt->n) return 0;
            uint32_t kt = vt->c[mw->pos[t]].key;
            if (kt != key) {
                mw->pos[0] = tw_seek_key(lead->c, lead->n, mw->pos[0], kt);
                break;
            }
        }
        if (t < mw->n) continue;
        for (t = 0; t < mw->n; t++) {
            const tw_container *c = &v[mw->ord[t]]->c[mw->pos[t]];
            size_t j = t;
            while (j > 0 && mw->cs[mw->co[j - 1]]->card > c->card) {
                mw->co[j] = mw->co[j - 1];
                j--;
            }
            mw->co[j] = t;
            mw->cs[t] = c;
        }
        return 1;
    }
}

/* The running result as an array container operand. On big-endian machines
 * the u16 values are stored little-endian first, as the kernels read them. */
static tw_container tw_as_array(uint16_t *vals, size_t cnt) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (size_t q = 0; q < cnt; q++) vals[q] = (uint16_t)((vals[q] >> 8) | (vals[q] << 8));
#endif
    tw_container c;
    memset(&c, 0, sizeof c);
    c.data = (const uint8_t *)vals;
    c.card = (uint32_t)cnt;
    c.type = TW_C_ARRAY;
    return c;
}

/* Writes the values of c (key in the high bits) to out[0..), at most cap. */
static size_t tw_decode(const tw_container *c, uint32_t *out, size_t cap) {
    uint32_t hi = (uint32_t)c->key << 16;
    size_t k = 0;
    if (c->type == TW_C_ARRAY) {
        for (uint32_t i = 0; i < c->card && k < cap; i++) out[k++] = hi | tw_ld16(c->data + 2 * i);
    } else if (c->type == TW_C_BITSET) {
        for (uint32_t w = 0; w < 1024; w++) {
            uint64_t m = tw_ld64(c->data + 8 * w);
            for (; m && k < cap; m &= m - 1) out[k++] = hi | (w * 64 + (uint32_t)__builtin_ctzll(m));
        }
    } else if (c->type == TW_C_RUN) {
        for (uint32_t t = 0; t < c->nruns; t++) {
            uint32_t s = tw_ld16(c->data + 4 * t), e = s + tw_ld16(c->data + 4 * t + 2);
            if (e > 65535) e = 65535;
            for (uint32_t x = s; x <= e && k < cap; x++) out[k++] = hi | x;
        }
    }
    return k;
}

/* Rank array of sorted input t at output offset w, or NULL. */
static uint32_t *tw_rank_at(const tw_mw *mw, uint32_t *const *ranks, size_t t, size_t w) {
    return ranks && ranks[mw->ord[t]] ? ranks[mw->ord[t]] + w : NULL;
}

/* The key at which tw_and's output reaches its cap (n > 2): values of the
 * full intersection in scratch, the first room of them written to out with
 * each input's ranks. Returns the number written. */
static size_t tw_and_tail(const tw_kernels *k, tw_mw *mw, uint32_t *const *ranks, size_t w, size_t room,
                          uint32_t *out) {
    int cur = 0;
    size_t cnt = tw_container_and(k, mw->cs[mw->co[0]], mw->cs[mw->co[1]], mw->vals[0], NULL, NULL, 65536);
    for (size_t s = 2; s < mw->n && cnt; s++) {
        tw_container arr = tw_as_array(mw->vals[cur], cnt);
        cnt = tw_container_and(k, &arr, mw->cs[mw->co[s]], mw->vals[!cur], NULL, NULL, 65536);
        cur = !cur;
    }
    if (cnt > room) cnt = room;
    uint32_t hi = (uint32_t)mw->cs[0]->key << 16;
    for (size_t x = 0; x < cnt; x++) out[x] = hi | mw->vals[cur][x];
    tw_container arr = tw_as_array(mw->vals[cur], cnt);
    for (size_t t = 0; t < mw->n && cnt; t++) {
        uint32_t *r = tw_rank_at(mw, ranks, t, w);
        if (!r) continue;
        /* the values are a subset of every input: the result is all of them */
        tw_container_and(k, &arr, mw->cs[t], mw->vals[!cur], NULL, r, cnt);
        for (size_t x = 0; x < cnt; x++) r[x] += mw->cs[t]->rank;
    }
    return cnt;
}

int tw_and(const tw_kernels *k, const tw_rview *const *v, size_t n, uint32_t *out, size_t cap,
           uint32_t *const *ranks, void *scratch, size_t *nout) {
    tw_mw mw;
    *nout = 0;
    if (n == 0 || cap == 0) return 0;
    if (tw_mw_init(&mw, v, n, scratch, n > 1) != 0) return -1;
    size_t w = 0;
    if (v[mw.ord[0]]->card == 0) goto done;
    if (n == 1) {
        const tw_rview *v0 = v[0];
        for (uint32_t c = 0; c < v0->n && w < cap; c++) w += tw_decode(&v0->c[c], out + w, cap - w);
        if (ranks && ranks[0])
            for (size_t q = 0; q < w; q++) ranks[0][q] = (uint32_t)q;
        goto done;
    }
    while (w < cap && tw_mw_next_key(&mw, v)) {
        size_t room = cap - w < 65536 ? cap - w : 65536;
        if (n > 2 && room < mw.cs[mw.co[0]]->card) {
            /* The cap may cut this key's result (only when cap < the smallest
             * cardinality): intermediate results must not be cut, so compute
             * the values in scratch, keep the first room, then get each
             * input's indices by intersecting them with its container. */
            w += tw_and_tail(k, &mw, ranks, w, room, out + w);
            mw.pos[0]++;
            continue;
        }
        size_t t0 = mw.co[0], t1 = mw.co[1];
        int cur = 0, gather = tw_rank_at(&mw, ranks, t0, w) || tw_rank_at(&mw, ranks, t1, w);
        size_t cnt = tw_container_and(k, mw.cs[t0], mw.cs[t1], mw.vals[0], tw_rank_at(&mw, ranks, t0, w),
                                      tw_rank_at(&mw, ranks, t1, w), room);
        for (size_t s = 2; s < n && cnt; s++) {
            size_t ts = mw.co[s];
            tw_container arr = tw_as_array(mw.vals[cur], cnt);
            uint32_t *rs = tw_rank_at(&mw, ranks, ts, w);
            size_t cnt2 = tw_container_and(k, &arr, mw.cs[ts], mw.vals[!cur], gather ? mw.tmp : NULL, rs, room);
            if (gather)
                for (size_t q = 0; q < s; q++) {
                    uint32_t *r = tw_rank_at(&mw, ranks, mw.co[q], w);
                    if (r)
                        for (size_t x = 0; x < cnt2; x++) r[x] = r[mw.tmp[x]];
                }
            gather |= rs != NULL;
            cur = !cur;
            cnt = cnt2;
        }
        if (cnt) {
            uint32_t hi = (uint32_t)mw.cs[0]->key << 16;
            const uint16_t *vals = mw.vals[cur];
            for (size_t x = 0; x < cnt; x++) out[w + x] = hi | vals[x];
            for (size_t t = 0; t < n; t++) {
                uint32_t *r = tw_rank_at(&mw, ranks, t, w), base = mw.cs[t]->rank;
                if (r)
                    for (size_t x = 0; x < cnt; x++) r[x] += base;
            }
            w += cnt;
        }
        mw.pos[0]++;
    }
done:
    *nout = w;
    tw_mw_free(&mw);
    return 0;
}

int tw_and_count(const tw_kernels *k, const tw_rview *const *v, size_t n, void *scratch, uint64_t *count) {
    tw_mw mw;
    *count = 0;
    if (n == 0) return 0;
    if (n == 1) {
        *count = v[0]->card;
        return 0;
    }
    if (tw_mw_init(&mw, v, n, scratch, n > 2) != 0) return -1;
    uint64_t total = 0;
    while (tw_mw_next_key(&mw, v)) {
        if (n == 2) {
            total += tw_container_count(k, mw.cs[mw.co[0]], mw.cs[mw.co[1]]);
        } else {
            int cur = 0;
            size_t cnt = tw_container_and(k, mw.cs[mw.co[0]], mw.cs[mw.co[1]], mw.vals[0], NULL, NULL, 65536);
            for (size_t s = 2; s + 1 < n && cnt; s++) {
                tw_container arr = tw_as_array(mw.vals[cur], cnt);
                cnt = tw_container_and(k, &arr, mw.cs[mw.co[s]], mw.vals[!cur], NULL, NULL, 65536);
                cur = !cur;
            }
            if (cnt) {
                tw_container arr = tw_as_array(mw.vals[cur], cnt);
                total += tw_container_count(k, &arr, mw.cs[mw.co[n - 1]]);
            }
        }
        mw.pos[0]++;
    }
    *count = total;
    tw_mw_free(&mw);
    return 0;
}
