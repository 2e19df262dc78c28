/*
 * rview.c — parse and iterate Roaring bitmaps in the portable serialization
 * without copying them out of the mapped segment (contract in rview.h).
 *
 * Every offset and length taken from the buffer is checked against the buffer
 * before it is used; a malformed bitmap yields an error, never a read outside it.
 */
#include "rview.h"
#include "error.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <stdlib.h>
#include <string.h>

#define COOKIE_NORUN 12346u
#define COOKIE_RUN 12347u
#define NO_OFFSET_THRESHOLD 4u
#define ARRAY_MAX 4096u

static int fail(const char **why, const char *msg) {
    if (why) *why = msg;
    return TRAWL_ECORRUPT;
}

/* Non-zero when the n little-endian u16 at p strictly ascend. Searches check
 * every doc list once before trusting it, so this looks at 8 values at once. */
static int ascending16(const uint8_t *p, uint32_t n) {
    uint32_t i = 1;
#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Unsigned a < b as signed compares after flipping the top bits. */
    const __m128i flip = _mm_set1_epi16((short)0x8000);
    __m128i bad = _mm_setzero_si128();
    for (; i + 8 <= n; i += 8) {
        __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(p + 2 * (i - 1))), flip);
        __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(p + 2 * i)), flip);
        bad = _mm_or_si128(bad, _mm_cmpgt_epi16(b, a) ^ _mm_set1_epi16(-1));
    }
    if (_mm_movemask_epi8(bad)) return 0;
#endif
    for (; i < n; i++)
        if (tw_ld16(p + 2 * i) <= tw_ld16(p + 2 * (i - 1))) return 0;
    return 1;
}

static int deep_check(const tw_container *c, const char **why) {
    const uint8_t *p = c->data;
    if (c->type == TW_C_ARRAY) {
        if (!ascending16(p, c->card)) return fail(why, "array container not ascending");
    } else if (c->type == TW_C_BITSET) {
        uint32_t pop = 0;
        for (uint32_t i = 0; i < 1024; i++) pop += (uint32_t)__builtin_popcountll(tw_ld64(p + 8 * i));
        if (pop != c->card) return fail(why, "bitset container cardinality mismatch");
    } else {
        uint32_t sum = 0;
        int32_t prev_end = -2;
        for (uint32_t i = 0; i < c->nruns; i++) {
            uint32_t start = tw_ld16(p + 4 * i), len = (uint32_t)tw_ld16(p + 4 * i + 2) + 1;
            if (start + len > 65536u) return fail(why, "run container run past 65535");
            if ((int32_t)start <= prev_end + 1 && i > 0) return fail(why, "run container runs overlap or touch");
            prev_end = (int32_t)(start + len - 1);
            sum += len;
        }
        if (sum != c->card) return fail(why, "run container cardinality mismatch");
    }
    return 0;
}

int tw_rview_parse(const uint8_t *buf, size_t len, int deep, tw_rview *v, size_t *used, const char **why) {
    memset(v, 0, sizeof *v);
    if (len < 4) return fail(why, "bitmap header truncated");
    uint32_t cookie = tw_ld32(buf);
    size_t pos = 4;
    uint32_t n;
    const uint8_t *runflags = NULL;
    if (cookie == COOKIE_NORUN) {
        if (len < 8) return fail(why, "bitmap header truncated");
        n = tw_ld32(buf + 4);
        pos = 8;
        if (n > 65536u) return fail(why, "bitmap container count too large");
    } else if ((cookie & 0xFFFFu) == COOKIE_RUN) {
        n = (cookie >> 16) + 1;
        size_t fb = (n + 7) / 8;
        if (len - pos < fb) return fail(why, "bitmap run flags truncated");
        runflags = buf + pos;
        pos += fb;
    } else {
        return fail(why, "bitmap cookie unknown");
    }
    if ((len - pos) / 4 < n) return fail(why, "bitmap key table truncated");
    const uint8_t *kc = buf + pos;
    pos += 4 * (size_t)n;
    int has_offsets = runflags == NULL || n >= NO_OFFSET_THRESHOLD;
    const uint8_t *offs = NULL;
    if (has_offsets) {
        if ((len - pos) / 4 < n) return fail(why, "bitmap offset table truncated");
        offs = buf + pos;
        pos += 4 * (size_t)n;
    }
    if (n == 0) {
        *used = pos;
        return 0;
    }
    tw_container *c = malloc(sizeof *c * n);
    if (!c) return TRAWL_ENOMEM;
    uint64_t rank = 0;
    for (uint32_t i = 0; i < n; i++) {
        tw_container *ci = &c[i];
        ci->key = tw_ld16(kc + 4 * i);
        ci->card = (uint32_t)tw_ld16(kc + 4 * i + 2) + 1;
        ci->rank = (uint32_t)rank;
        ci->nruns = 0;
        if (i > 0 && ci->key <= c[i - 1].key) {
            free(c);
            return fail(why, "bitmap keys not ascending");
        }
        if (has_offsets) {
            size_t o = tw_ld32(offs + 4 * i);
            /* Payloads are laid out in order; an offset must continue where the last ended. */
            if (o != pos) {
                free(c);
                return fail(why, "bitmap container offset inconsistent");
            }
        }
        size_t need;
        if (runflags && (runflags[i / 8] >> (i % 8)) & 1) {
            ci->type = TW_C_RUN;
            if (len - pos < 2) goto truncated;
            ci->nruns = tw_ld16(buf + pos);
            pos += 2;
            if (ci->nruns == 0) {
                free(c);
                return fail(why, "run container without runs");
            }
            need = 4 * (size_t)ci->nruns;
        } else if (ci->card > ARRAY_MAX) {
            ci->type = TW_C_BITSET;
            need = 8192;
        } else {
            ci->type = TW_C_ARRAY;
            need = 2 * (size_t)ci->card;
        }
        if (len - pos < need) goto truncated;
        ci->data = buf + pos;
        pos += need;
        if (deep && deep_check(ci, why)) {
            free(c);
            return TRAWL_ECORRUPT;
        }
        rank += ci->card;
    }
    if (rank > UINT32_MAX) {
        free(c);
        return fail(why, "bitmap cardinality too large");
    }
    v->c = c;
    v->n = n;
    v->card = rank;
    *used = pos;
    return 0;
truncated:
    free(c);
    return fail(why, "bitmap container truncated");
}

void tw_rview_free(tw_rview *v) {
    if (!v) return;
    free(v->c);
    v->c = NULL;
    v->n = 0;
}

/* Sets it->value/pos/inrank to the first value of container ci (or the end). */
static int enter(tw_riter *it, uint32_t ci) {
    it->ci = ci;
    it->pos = 0;
    it->inrank = 0;
    if (ci >= it->v->n) {
        it->end = 1;
        return 0;
    }
    const tw_container *c = &it->v->c[ci];
    uint32_t hi = (uint32_t)c->key << 16;
    if (c->type == TW_C_ARRAY || c->type == TW_C_RUN) { /* first value, or first run's start */
        it->value = hi | tw_ld16(c->data);
    } else {
        uint32_t w = 0;
        uint64_t word;
        while ((word = tw_ld64(c->data + 8 * w)) == 0) w++; /* card >= 1 guarantees a set bit */
        it->pos = w * 64 + (uint32_t)__builtin_ctzll(word);
        it->value = hi | it->pos;
    }
    return 1;
}

void tw_riter_init(tw_riter *it, const tw_rview *v) {
    it->v = v;
    it->end = 0;
    enter(it, 0);
}

int tw_riter_next(tw_riter *it) {
    if (it->end) return 0;
    const tw_container *c = &it->v->c[it->ci];
    if (it->inrank + 1 >= c->card) return enter(it, it->ci + 1);
    it->inrank++;
    uint32_t hi = (uint32_t)c->key << 16;
    if (c->type == TW_C_ARRAY) {
        it->value = hi | tw_ld16(c->data + 2 * it->inrank);
    } else if (c->type == TW_C_RUN) {
        uint32_t low = (it->value & 0xFFFFu) + 1;
        uint32_t start = tw_ld16(c->data + 4 * it->pos), rl = tw_ld16(c->data + 4 * it->pos + 2);
        if (low > start + rl) {
            it->pos++;
            low = tw_ld16(c->data + 4 * it->pos);
        }
        it->value = hi | low;
    } else {
        uint32_t b = it->pos + 1;
        uint32_t w = b / 64;
        uint64_t word = tw_ld64(c->data + 8 * w) & (~0ULL << (b % 64));
        while (word == 0) word = tw_ld64(c->data + 8 * ++w);
        it->pos = w * 64 + (uint32_t)__builtin_ctzll(word);
        it->value = hi | it->pos;
    }
    return 1;
}

int tw_rview_contains(const tw_rview *v, uint32_t x) {
    uint32_t key = x >> 16, low = x & 0xFFFFu, lo = 0, hi = v->n;
    while (lo < hi) { /* first container with key >= x's */
        uint32_t mid = lo + (hi - lo) / 2;
        if (v->c[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == v->n || v->c[lo].key != key) return 0;
    const tw_container *c = &v->c[lo];
    if (c->type == TW_C_BITSET) return (int)(tw_ld64(c->data + 8 * (low / 64)) >> (low % 64) & 1);
    /* Array: the value; run: the last run starting at or before low. */
    uint32_t n = c->type == TW_C_ARRAY ? c->card : c->nruns, stride = c->type == TW_C_ARRAY ? 2 : 4;
    lo = 0;
    hi = n;
    while (lo < hi) { /* first entry starting after low */
        uint32_t mid = lo + (hi - lo) / 2;
        if (tw_ld16(c->data + stride * mid) <= low)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) return 0;
    uint32_t start = tw_ld16(c->data + stride * (lo - 1));
    return c->type == TW_C_ARRAY ? start == low : low - start <= tw_ld16(c->data + stride * (lo - 1) + 2);
}

/* First index in the array container at or after `from` whose value >= low. */
static uint32_t array_lower_bound(const tw_container *c, uint32_t from, uint32_t low) {
    uint32_t lo = from, hi = c->card, step = 1;
    /* Gallop from the current position, then binary search. */
    while (lo + step < hi && tw_ld16(c->data + 2 * (lo + step)) < low) {
        lo += step;
        step *= 2;
    }
    if (lo + step < hi) hi = lo + step + 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (tw_ld16(c->data + 2 * mid) < low)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int tw_riter_seek(tw_riter *it, uint32_t target) {
    if (it->end) return 0;
    if (it->value >= target) return 1;
    const tw_rview *v = it->v;
    uint16_t tkey = (uint16_t)(target >> 16);
    if (v->c[it->ci].key != tkey) {
        /* Binary search for the first container with key >= tkey. */
        uint32_t lo = it->ci + 1, hi = v->n;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (v->c[mid].key < tkey)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (!enter(it, lo)) return 0;
        if (v->c[lo].key != tkey || it->value >= target) return 1;
    }
    const tw_container *c = &v->c[it->ci];
    uint32_t hi16 = (uint32_t)c->key << 16, low = target & 0xFFFFu;
    if (c->type == TW_C_ARRAY) {
        uint32_t i = array_lower_bound(c, it->inrank, low);
        if (i >= c->card) return enter(it, it->ci + 1);
        it->inrank = i;
        it->value = hi16 | tw_ld16(c->data + 2 * i);
    } else if (c->type == TW_C_RUN) {
        uint32_t r = it->pos, inrank = it->inrank;
        uint32_t cur = it->value & 0xFFFFu;
        for (;;) {
            uint32_t start = tw_ld16(c->data + 4 * r), rl = tw_ld16(c->data + 4 * r + 2);
            if (cur < start) cur = start;
            if (low <= start + rl) {
                uint32_t nv = low > cur ? low : cur;
                inrank += nv - cur;
                cur = nv;
                break;
            }
            inrank += start + rl - cur + 1;
            if (++r >= c->nruns) return enter(it, it->ci + 1);
            cur = tw_ld16(c->data + 4 * r);
        }
        it->pos = r;
        it->inrank = inrank;
        it->value = hi16 | cur;
    } else {
        uint32_t b = low, w = b / 64, cw = it->pos / 64;
        uint32_t rank = it->inrank;
        /* Rank: count the set bits from the current bit up to the target bit. */
        uint64_t word = tw_ld64(c->data + 8 * cw);
        if (w == cw) {
            uint64_t between = word & (~0ULL << (it->pos % 64)) & ~(~0ULL << (b % 64));
            rank += (uint32_t)__builtin_popcountll(between);
        } else {
            rank += (uint32_t)__builtin_popcountll(word & (~0ULL << (it->pos % 64)));
            for (uint32_t k = cw + 1; k < w; k++) rank += (uint32_t)__builtin_popcountll(tw_ld64(c->data + 8 * k));
            rank += (uint32_t)__builtin_popcountll(tw_ld64(c->data + 8 * w) & ~(~0ULL << (b % 64)));
        }
        word = tw_ld64(c->data + 8 * w) & (~0ULL << (b % 64));
        while (word == 0) {
            if (++w >= 1024) return enter(it, it->ci + 1);
            word = tw_ld64(c->data + 8 * w);
        }
        it->inrank = rank;
        it->pos = w * 64 + (uint32_t)__builtin_ctzll(word);
        it->value = hi16 | it->pos;
    }
    return 1;
}
