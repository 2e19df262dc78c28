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
#include "error.h"

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
    int avx2 =
        sse41 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
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

int tw_simd_parse(const char *name, tw_simd_level *out) {
    if (!name) return TRAWL_EINVAL;
    if (tw_streq_nocase(name, "auto"))
        *out = tw_simd_best();
    else if (tw_streq_nocase(name, "scalar"))
        *out = TW_SIMD_SCALAR;
    else if (tw_streq_nocase(name, "sse41") || tw_streq_nocase(name, "sse4.1"))
        *out = TW_SIMD_SSE41;
    else if (tw_streq_nocase(name, "avx2"))
        *out = TW_SIMD_AVX2;
    else if (tw_streq_nocase(name, "avx512"))
        *out = TW_SIMD_AVX512;
    else
        return TRAWL_EINVAL;
    return 0;
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
static size_t tw_csize(const tw_container *c) {
    return c->type == TW_C_RUN ? c->nruns : c->card;
}

size_t tw_container_and(const tw_kernels *k, const tw_container *a, const tw_container *b, uint16_t *out, uint32_t *ia,
                        uint32_t *ib, size_t cap) {
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

/* Per-call working state. Inputs are sorted by cardinality (ord: sorted
 * position -> caller's index; pos: each sorted input's current container).
 * A common key is described by a slot: oc[q] = its q-th smallest container,
 * ot[q] = the sorted input it belongs to. Two slots let the loops look one
 * key ahead and prefetch its payloads while the current key is intersected. */
typedef struct tw_mw {
    size_t n;
    size_t *ord;
    uint32_t *pos;
    const tw_container **oc[2];
    size_t *ot[2];
    uint16_t *vals[2]; /* running result, ping-pong, 65536 each */
    uint32_t *tmp;     /* array-side indices of a step, 65536 */
    void *heap;        /* cursor arrays when n > TW_STACK_INPUTS */
    void *own_scratch; /* scratch allocated here */
    size_t stack_ord[TW_STACK_INPUTS];
    uint32_t stack_pos[TW_STACK_INPUTS];
    const tw_container *stack_oc[2][TW_STACK_INPUTS];
    size_t stack_ot[2][TW_STACK_INPUTS];
} tw_mw;

/* Sets up mw for v[0..n) (n >= 1); scratch may be NULL to allocate when
 * need_scratch. Returns 0 or TRAWL_ENOMEM (nothing left to free). */
static int tw_mw_init(tw_mw *mw, const tw_rview *const *v, size_t n, void *scratch, int need_scratch) {
    mw->n = n;
    mw->heap = mw->own_scratch = NULL;
    if (n <= TW_STACK_INPUTS) {
        mw->ord = mw->stack_ord;
        mw->pos = mw->stack_pos;
        for (int sl = 0; sl < 2; sl++) {
            mw->oc[sl] = mw->stack_oc[sl];
            mw->ot[sl] = mw->stack_ot[sl];
        }
    } else {
        size_t per = 3 * sizeof(size_t) + 2 * sizeof(const tw_container *) + sizeof(uint32_t);
        if (n > SIZE_MAX / per) return TRAWL_ENOMEM;
        char *h = malloc(n * per);
        if (!h) return TRAWL_ENOMEM;
        mw->heap = h;
        mw->oc[0] = (const tw_container **)(void *)h;
        mw->oc[1] = mw->oc[0] + n;
        mw->ord = (size_t *)(void *)(mw->oc[1] + n);
        mw->ot[0] = mw->ord + n;
        mw->ot[1] = mw->ot[0] + n;
        mw->pos = (uint32_t *)(void *)(mw->ot[1] + n);
    }
    if (need_scratch && !scratch) {
        scratch = mw->own_scratch = malloc(TW_AND_SCRATCH_BYTES);
        if (!scratch) {
            free(mw->heap);
            return TRAWL_ENOMEM;
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

/* tw_seek_key for strictly ascending keys. */
static uint32_t tw_seek_key_sorted(const tw_container *c, uint32_t n, uint32_t pos, uint32_t key) {
    if (pos >= n || c[pos].key >= key) return pos;
    uint32_t bound = pos + (key - c[pos].key), hi = bound < n ? bound : n; /* answer in (pos, hi] */
    if (bound < n && c[bound].key == key) return bound;
    uint32_t prev = pos, step = 1; /* c[prev].key < key */
    while (step < hi - pos && c[pos + step].key < key) {
        prev = pos + step;
        step <<= 1;
    }
    uint32_t lo = prev + 1;
    if (step < hi - pos) hi = pos + step;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index p >= pos of c[0..n) with c[p].key >= key, or n. Keys are
 * unique and ascending, so the answer is at most pos + (key - c[pos].key): on
 * dense key ranges that probe hits directly; otherwise gallop below it. Keys
 * out of order (never from tw_rview_parse) give some p with c[p].key >= key,
 * which keeps the callers' loops finite. */
static uint32_t tw_seek_key(const tw_container *c, uint32_t n, uint32_t pos, uint32_t key) {
    uint32_t p = tw_seek_key_sorted(c, n, pos, key);
    while (p < n && c[p].key < key) p++;
    return p;
}

/* Advances every input to the next key present in all of them, starting
 * from the lead's current container, and describes it in slot sl. Returns 0
 * when there is none. */
static int tw_mw_next_key(tw_mw *mw, const tw_rview *const *v, int sl) {
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
        const tw_container **oc = mw->oc[sl];
        size_t *ot = mw->ot[sl];
        for (t = 0; t < mw->n; t++) {
            const tw_container *c = &v[mw->ord[t]]->c[mw->pos[t]];
            size_t j = t;
            while (j > 0 && oc[j - 1]->card > c->card) {
                oc[j] = oc[j - 1];
                ot[j] = ot[j - 1];
                j--;
            }
            oc[j] = c;
            ot[j] = t;
        }
        return 1;
    }
}

/* Starts loading the first bytes of the payloads of slot sl (arrays and runs
 * are searched from their start; bitsets are probed at random and skipped). */
static void tw_mw_prefetch(const tw_mw *mw, int sl) {
    for (size_t q = 0; q < mw->n; q++) {
        const tw_container *c = mw->oc[sl][q];
        size_t bytes = c->type == TW_C_ARRAY ? 2 * (size_t)c->card : c->type == TW_C_RUN ? 4 * (size_t)c->nruns : 0;
        if (bytes > 512) bytes = 512;
        for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(c->data + o);
    }
}

/* Moves past the key of slot sl and finds the next one into the other slot,
 * prefetching it. Returns 0 when there is none. */
static int tw_mw_advance(tw_mw *mw, const tw_rview *const *v, int sl) {
    mw->pos[0]++;
    if (!tw_mw_next_key(mw, v, !sl)) return 0;
    tw_mw_prefetch(mw, !sl);
    return 1;
}

/* Starts loading the first bytes of the payload of c (see tw_mw_prefetch). */
static void tw_prefetch_container(const tw_container *c) {
    size_t bytes = c->type == TW_C_ARRAY ? 2 * (size_t)c->card : c->type == TW_C_RUN ? 4 * (size_t)c->nruns : 0;
    if (bytes > 512) bytes = 512;
    for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(c->data + o);
}

/* Two inputs, a (the smaller) and b: a merge over container keys that
 * gallops on mismatches and calls body(pa, pb) for every common key. After a
 * match the next candidate pair is prefetched: a's next container and b's
 * container at the same key distance (exact when b's keys are dense). */
#define TW_PAIRS(a, b, body)                                                                                           \
    do {                                                                                                               \
        uint32_t p_ = 0, q_ = 0;                                                                                       \
        while (p_ < (a)->n && q_ < (b)->n) {                                                                           \
            uint32_t ka_ = (a)->c[p_].key, kb_ = (b)->c[q_].key;                                                       \
            if (ka_ < kb_) {                                                                                           \
                p_ = tw_seek_key((a)->c, (a)->n, p_ + 1, kb_);                                                         \
                continue;                                                                                              \
            }                                                                                                          \
            if (kb_ < ka_) {                                                                                           \
                q_ = tw_seek_key((b)->c, (b)->n, q_ + 1, ka_);                                                         \
                continue;                                                                                              \
            }                                                                                                          \
            if (p_ + 1 < (a)->n) {                                                                                     \
                uint32_t g_ = q_ + ((a)->c[p_ + 1].key - ka_);                                                         \
                tw_prefetch_container(&(a)->c[p_ + 1]);                                                                \
                tw_prefetch_container(&(b)->c[g_ < (b)->n ? g_ : (b)->n - 1]);                                         \
            }                                                                                                          \
            const tw_container *pa = &(a)->c[p_], *pb = &(b)->c[q_];                                                   \
            body;                                                                                                      \
            p_++;                                                                                                      \
            q_++;                                                                                                      \
        }                                                                                                              \
    } while (0)

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

/* Rank array (at output offset w) of the q-th smallest container of slot sl,
 * or NULL when its input's ranks are not wanted. */
static uint32_t *tw_rank_at(const tw_mw *mw, int sl, uint32_t *const *ranks, size_t q, size_t w) {
    if (!ranks) return NULL;
    uint32_t *r = ranks[mw->ord[mw->ot[sl][q]]];
    return r ? r + w : NULL;
}

/* Values (no indices) of the intersection of the first m containers of slot
 * sl, into mw->vals; returns which buffer holds them in *cur and the count. */
static size_t tw_mw_values(const tw_kernels *k, tw_mw *mw, int sl, size_t m, int *cur) {
    const tw_container **oc = mw->oc[sl];
    size_t cnt = tw_container_and(k, oc[0], oc[1], mw->vals[0], NULL, NULL, 65536);
    *cur = 0;
    for (size_t q = 2; q < m && cnt; q++) {
        tw_container arr = tw_as_array(mw->vals[*cur], cnt);
        cnt = tw_container_and(k, &arr, oc[q], mw->vals[!*cur], NULL, NULL, 65536);
        *cur = !*cur;
    }
    return cnt;
}

/* tw_and at the key of slot sl when the cap may cut its result (n > 2 and
 * room < the smallest container): intermediate results must not be cut, so
 * the values are computed in scratch first, the first room of them kept, and
 * each input's indices found by intersecting them with its container (they
 * are a subset of every input). Returns the number written at out. */
static size_t tw_and_tail(const tw_kernels *k, tw_mw *mw, int sl, uint32_t *const *ranks, size_t w, size_t room,
                          uint32_t *out) {
    int cur;
    size_t cnt = tw_mw_values(k, mw, sl, mw->n, &cur);
    if (cnt > room) cnt = room;
    uint32_t hi = (uint32_t)mw->oc[sl][0]->key << 16;
    for (size_t x = 0; x < cnt; x++) out[x] = hi | mw->vals[cur][x];
    tw_container arr = tw_as_array(mw->vals[cur], cnt);
    for (size_t q = 0; q < mw->n && cnt; q++) {
        uint32_t *r = tw_rank_at(mw, sl, ranks, q, w);
        if (!r) continue;
        tw_container_and(k, &arr, mw->oc[sl][q], mw->vals[!cur], NULL, r, cnt);
        for (size_t x = 0; x < cnt; x++) r[x] += mw->oc[sl][q]->rank;
    }
    return cnt;
}

/* tw_and at the key of slot sl with room left in the output (room >= the
 * smallest container's cardinality when n > 2, so no step can be cut).
 * Returns the number of values written at out. */
static size_t tw_and_key(const tw_kernels *k, tw_mw *mw, int sl, uint32_t *const *ranks, size_t w, size_t room,
                         uint32_t *out) {
    const tw_container **oc = mw->oc[sl];
    int cur = 0;
    uint32_t *r0 = tw_rank_at(mw, sl, ranks, 0, w), *r1 = tw_rank_at(mw, sl, ranks, 1, w);
    int gather = r0 || r1;
    size_t cnt = tw_container_and(k, oc[0], oc[1], mw->vals[0], r0, r1, room);
    for (size_t s = 2; s < mw->n && cnt; s++) {
        tw_container arr = tw_as_array(mw->vals[cur], cnt);
        uint32_t *rs = tw_rank_at(mw, sl, ranks, s, w);
        size_t cnt2 = tw_container_and(k, &arr, oc[s], mw->vals[!cur], gather ? mw->tmp : NULL, rs, room);
        if (gather) /* carry the earlier inputs' indices along; tmp[x] >= x, so in place */
            for (size_t q = 0; q < s; q++) {
                uint32_t *r = tw_rank_at(mw, sl, ranks, q, w);
                if (r)
                    for (size_t x = 0; x < cnt2; x++) r[x] = r[mw->tmp[x]];
            }
        gather |= rs != NULL;
        cur = !cur;
        cnt = cnt2;
    }
    if (!cnt) return 0;
    uint32_t hi = (uint32_t)oc[0]->key << 16;
    const uint16_t *vals = mw->vals[cur];
    for (size_t x = 0; x < cnt; x++) out[x] = hi | vals[x];
    for (size_t q = 0; q < mw->n; q++) {
        uint32_t *r = tw_rank_at(mw, sl, ranks, q, w), base = oc[q]->rank;
        if (r && base)
            for (size_t x = 0; x < cnt; x++) r[x] += base;
    }
    return cnt;
}

int tw_and(const tw_kernels *k, const tw_rview *const *v, size_t n, uint32_t *out, size_t cap, uint32_t *const *ranks,
           void *scratch, size_t *nout) {
    tw_mw mw;
    *nout = 0;
    if (n == 0 || cap == 0) return 0;
    if (n == 2) {
        int swap = v[1]->card < v[0]->card;
        const tw_rview *a = v[swap], *b = v[!swap];
        uint32_t *ra = ranks ? ranks[swap] : NULL, *rb = ranks ? ranks[!swap] : NULL;
        void *own = NULL;
        if (!scratch && !(scratch = own = malloc(65536 * sizeof(uint16_t)))) return TRAWL_ENOMEM;
        uint16_t *vals = scratch;
        size_t w = 0;
        TW_PAIRS(a, b, {
            if (w == cap) break;
            size_t room = cap - w < 65536 ? cap - w : 65536;
            size_t cnt = tw_container_and(k, pa, pb, vals, ra ? ra + w : NULL, rb ? rb + w : NULL, room);
            uint32_t hi = (uint32_t)pa->key << 16;
            for (size_t x = 0; x < cnt; x++) out[w + x] = hi | vals[x];
            if (ra && pa->rank)
                for (size_t x = 0; x < cnt; x++) ra[w + x] += pa->rank;
            if (rb && pb->rank)
                for (size_t x = 0; x < cnt; x++) rb[w + x] += pb->rank;
            w += cnt;
        });
        free(own);
        *nout = w;
        return 0;
    }
    if (tw_mw_init(&mw, v, n, scratch, n > 1) != 0) return TRAWL_ENOMEM;
    size_t w = 0;
    if (v[mw.ord[0]]->card == 0) {
        /* empty */
    } else if (n == 1) {
        const tw_rview *v0 = v[0];
        for (uint32_t c = 0; c < v0->n && w < cap; c++) w += tw_decode(&v0->c[c], out + w, cap - w);
        if (ranks && ranks[0])
            for (size_t q = 0; q < w; q++) ranks[0][q] = (uint32_t)q;
    } else {
        int sl = 0, have = tw_mw_next_key(&mw, v, 0);
        while (have && w < cap) {
            size_t room = cap - w < 65536 ? cap - w : 65536;
            int cut = n > 2 && room < mw.oc[sl][0]->card;
            have = tw_mw_advance(&mw, v, sl);
            w += cut ? tw_and_tail(k, &mw, sl, ranks, w, room, out + w)
                     : tw_and_key(k, &mw, sl, ranks, w, room, out + w);
            sl = !sl;
        }
    }
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
    uint64_t total = 0;
    if (n == 2) {
        const tw_rview *a = v[0]->card <= v[1]->card ? v[0] : v[1], *b = a == v[0] ? v[1] : v[0];
        TW_PAIRS(a, b, total += tw_container_count(k, pa, pb));
        *count = total;
        return 0;
    }
    if (tw_mw_init(&mw, v, n, scratch, 1) != 0) return TRAWL_ENOMEM;
    int sl = 0, have = tw_mw_next_key(&mw, v, 0);
    while (have) {
        const tw_container *last = mw.oc[sl][n - 1];
        have = tw_mw_advance(&mw, v, sl);
        int cur;
        size_t cnt = tw_mw_values(k, &mw, sl, n - 1, &cur);
        if (cnt) {
            tw_container arr = tw_as_array(mw.vals[cur], cnt);
            total += tw_container_count(k, &arr, last);
        }
        sl = !sl;
    }
    *count = total;
    tw_mw_free(&mw);
    return 0;
}
