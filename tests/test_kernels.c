/*
 * test_kernels.c — differential tests of the intersection kernels
 * (query/kernels.h) at every SIMD level the CPU supports.
 *
 * Container level: random u16 sets of many shapes (sparse, dense, runs,
 * skewed sizes, block and container boundaries) are encoded as array, bitset
 * and run payloads at odd addresses; every pair of types goes through
 * tw_container_and / tw_container_count (hence every kernel, both operand
 * orders) and is checked against a scalar reference merge: values, counts, the
 * index of every match in both inputs, truncation at cap and that nothing is
 * written past cap.
 * Bitmap level: sets of u32 doc ids (random, sparse, dense, run-heavy, skewed,
 * boundaries such as 0, 4294967295, full containers, 65535/65536, arrays of
 * 4096 and 4097 values) are built with CRoaring, run-optimized, serialized in
 * the portable format, viewed with tw_rview_parse and intersected 1..5 at a
 * time with tw_and / tw_and_count. Oracles: a reference merge (values and
 * per-input ranks) and CRoaring's roaring_bitmap_and and
 * roaring_bitmap_and_cardinality. The same bitmaps test tw_rview_contains
 * against roaring_bitmap_contains. Seeded PRNG: TRAWL_TEST_SEED overrides the
 * seed, which is printed.
 */
#include <roaring/roaring.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kernels.h"
#include "rview.h"

static int failures;

static void fail_at(int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "FAIL (line %d): ", line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (++failures >= 25) {
        fprintf(stderr, "too many failures\n");
        exit(1);
    }
}

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) fail_at(__LINE__, __VA_ARGS__);                                                                   \
    } while (0)

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* splitmix64 */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}
static uint32_t rng_below(uint64_t *s, uint32_t n) {
    return n ? (uint32_t)(rng_next(s) % n) : 0;
}

/* ====================================================================== */
/* Container level                                                         */

/* Sorted unique u16 values, as a presence map plus list. */
typedef struct set16 {
    uint8_t has[65536];
    uint16_t v[65536];
    size_t n;
} set16;

static void set16_finish(set16 *s) {
    s->n = 0;
    for (uint32_t x = 0; x < 65536; x++)
        if (s->has[x]) s->v[s->n++] = (uint16_t)x;
}

static void add_random(set16 *s, uint64_t *r, uint32_t lo, uint32_t width, size_t count) {
    for (size_t q = 0; q < count; q++) s->has[lo + rng_below(r, width)] = 1;
}

/* Fills s with one of many shapes. */
static void gen16(set16 *s, uint64_t *r, int shape) {
    memset(s->has, 0, sizeof s->has);
    switch (shape) {
        case 0: break; /* empty */
        case 1: s->has[rng_below(r, 65536)] = 1; break;
        case 2: add_random(s, r, 0, 65536, 1 + rng_below(r, 300)); break;
        case 3: add_random(s, r, 0, 65536, 300 + rng_below(r, 3800)); break;
        case 4: { /* exactly 4096 or 4097 values */
            size_t want = 4096 + rng_below(r, 2), got = 0;
            while (got < want) {
                uint32_t x = rng_below(r, 65536);
                if (!s->has[x]) s->has[x] = 1, got++;
            }
            break;
        }
        case 5: { /* dense */
            uint32_t p = 1 + rng_below(r, 99);
            for (uint32_t x = 0; x < 65536; x++) s->has[x] = rng_below(r, 100) < p;
            break;
        }
        case 6: { /* runs */
            uint32_t nr = 1 + rng_below(r, 300);
            for (uint32_t t = 0; t < nr; t++) {
                uint32_t st = rng_below(r, 65536), len = 1 + rng_below(r, 1 + rng_below(r, 600));
                for (uint32_t x = st; x < st + len && x < 65536; x++) s->has[x] = 1;
            }
            break;
        }
        case 7: memset(s->has, 1, sizeof s->has); break; /* full */
        case 8:                                          /* edges */
            s->has[0] = s->has[65535] = 1;
            add_random(s, r, 0, 65536, rng_below(r, 5));
            break;
        case 9: { /* small universe: many common values with a sibling of the same shape */
            uint32_t w = 16 + rng_below(r, 3000), lo = rng_below(r, 65536 - w);
            add_random(s, r, lo, w, rng_below(r, w));
            break;
        }
        case 10: { /* contiguous block around SIMD block sizes */
            static const uint32_t lens[] = {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 64, 65};
            uint32_t len = lens[rng_below(r, sizeof lens / sizeof lens[0])], lo = rng_below(r, 65536 - len);
            for (uint32_t x = lo; x < lo + len; x++) s->has[x] = 1;
            break;
        }
        default: { /* dense tail: runs touching 65535 */
            uint32_t lo = 65536 - 1 - rng_below(r, 5000);
            for (uint32_t x = lo; x < 65536; x++) s->has[x] = rng_below(r, 4) != 0;
            break;
        }
    }
    set16_finish(s);
}

#define NSHAPES16 12

/* Encodings at an odd address (payloads have no alignment guarantee). */
typedef struct enc16 {
    uint8_t *mem;
    tw_container c[4]; /* indexed by TW_C_ARRAY, TW_C_BITSET, TW_C_RUN */
} enc16;

static void put16(uint8_t *p, uint32_t x) {
    p[0] = (uint8_t)x;
    p[1] = (uint8_t)(x >> 8);
}

static void encode16(enc16 *e, const set16 *s) {
    size_t nruns = 0;
    for (size_t q = 0; q < s->n; q++)
        if (q == 0 || s->v[q] != s->v[q - 1] + 1) nruns++;
    e->mem = xmalloc(1 + 2 * s->n + 8192 + 4 * nruns + 3);
    uint8_t *arr = e->mem + 1, *bits = arr + 2 * s->n, *runs = bits + 8192 + 1;
    for (size_t q = 0; q < s->n; q++) put16(arr + 2 * q, s->v[q]);
    memset(bits, 0, 8192);
    for (size_t q = 0; q < s->n; q++) bits[s->v[q] >> 3] |= (uint8_t)(1u << (s->v[q] & 7));
    size_t t = 0;
    for (size_t q = 0; q < s->n;) {
        size_t z = q;
        while (z + 1 < s->n && s->v[z + 1] == s->v[z] + 1) z++;
        put16(runs + 4 * t, s->v[q]);
        put16(runs + 4 * t + 2, (uint32_t)(z - q));
        t++;
        q = z + 1;
    }
    memset(e->c, 0, sizeof e->c);
    const uint8_t *data[4] = {NULL, arr, bits, runs};
    for (int ty = TW_C_ARRAY; ty <= TW_C_RUN; ty++) {
        e->c[ty].data = data[ty];
        e->c[ty].card = (uint32_t)s->n;
        e->c[ty].nruns = (uint32_t)nruns;
        e->c[ty].type = (uint8_t)ty;
    }
}

/* Reference: sorted merge with indices. */
static size_t ref16(const set16 *a, const set16 *b, uint16_t *v, uint32_t *ia, uint32_t *ib) {
    size_t i = 0, j = 0, k = 0;
    while (i < a->n && j < b->n) {
        if (a->v[i] < b->v[j])
            i++;
        else if (a->v[i] > b->v[j])
            j++;
        else {
            v[k] = a->v[i];
            ia[k] = (uint32_t)i;
            ib[k] = (uint32_t)j;
            k++, i++, j++;
        }
    }
    return k;
}

static const char *tyname(int t) {
    return t == TW_C_ARRAY ? "array" : t == TW_C_BITSET ? "bitset" : "run";
}

#define SENT16 0xA5A5u
#define SENT32 0xDEADBEEFu
#define SLACK 64

/* Runs one pair through every type combination of one level. */
static void check_pair16(const tw_kernels *k, const set16 *a, const set16 *b, const enc16 *ea, const enc16 *eb,
                         uint64_t *r, const char *ctx) {
    static uint16_t rv[65536], out[65536 + SLACK];
    static uint32_t ria[65536], rib[65536], ia[65536 + SLACK], ib[65536 + SLACK];
    size_t rn = ref16(a, b, rv, ria, rib);
    for (int ta = TW_C_ARRAY; ta <= TW_C_RUN; ta++)
        for (int tb = TW_C_ARRAY; tb <= TW_C_RUN; tb++) {
            const tw_container *ca = &ea->c[ta], *cb = &eb->c[tb];
            size_t cnt = tw_container_count(k, ca, cb);
            CHECK(cnt == rn, "%s %s count %s∩%s (|a|=%zu |b|=%zu): got %zu want %zu", k->name, ctx, tyname(ta),
                  tyname(tb), a->n, b->n, cnt, rn);
            /* modes: 0 both indices, 1 only ib, 2 only ia, 3 none; 4 and 5: both / none with a
             * truncating cap */
            for (int mode = 0; mode < 6; mode++) {
                size_t cap = a->n < b->n ? a->n : b->n;
                if (mode >= 4) cap = rn ? rng_below(r, (uint32_t)rn) : 0;
                uint32_t *pa = mode == 0 || mode == 2 || mode == 4 ? ia : NULL;
                uint32_t *pb = mode == 0 || mode == 1 || mode == 4 ? ib : NULL;
                for (size_t q = 0; q < cap + SLACK; q++) out[q] = SENT16, ia[q] = ib[q] = SENT32;
                size_t got = tw_container_and(k, ca, cb, out, pa, pb, cap);
                size_t want = rn < cap ? rn : cap;
                CHECK(got == want, "%s %s and %s∩%s mode %d cap %zu (|a|=%zu |b|=%zu): got %zu want %zu", k->name, ctx,
                      tyname(ta), tyname(tb), mode, cap, a->n, b->n, got, want);
                size_t lim = got < want ? got : want;
                for (size_t q = 0; q < lim; q++) {
                    if (out[q] != rv[q] || (pa && ia[q] != ria[q]) || (pb && ib[q] != rib[q])) {
                        fail_at(__LINE__,
                                "%s %s and %s∩%s mode %d: at %zu got (%u, ia %u, ib %u) want (%u, ia %u, ib %u)",
                                k->name, ctx, tyname(ta), tyname(tb), mode, q, out[q], pa ? ia[q] : 0, pb ? ib[q] : 0,
                                rv[q], ria[q], rib[q]);
                        break;
                    }
                }
                for (size_t q = cap; q < cap + SLACK; q++)
                    if (out[q] != SENT16 || ia[q] != SENT32 || ib[q] != SENT32) {
                        fail_at(__LINE__, "%s %s and %s∩%s mode %d: wrote past cap %zu at %zu", k->name, ctx,
                                tyname(ta), tyname(tb), mode, cap, q);
                        break;
                    }
            }
        }
}

/* Direct calls of the array ∩ array kernels on sizes around the SIMD block
 * widths and the galloping threshold. */
static void check_aa_sizes(const tw_kernels *k, uint64_t *r) {
    static set16 a, b;
    static const size_t sizes[] = {0,  1,  2,  7,  8,   9,   15,  16,  17,   31,  32,
                                   33, 63, 64, 65, 100, 127, 128, 129, 1000, 4096};
    size_t ns = sizeof sizes / sizeof sizes[0];
    for (size_t x = 0; x < ns; x++)
        for (size_t y = 0; y < ns; y++) {
            uint32_t w = 1 + (uint32_t)(sizes[x] > sizes[y] ? sizes[x] : sizes[y]) * (1 + rng_below(r, 3));
            if (w > 65536) w = 65536;
            uint32_t lo = rng_below(r, 65536 - w + 1);
            for (int side = 0; side < 2; side++) {
                set16 *s = side ? &b : &a;
                size_t want = side ? sizes[y] : sizes[x], got = 0;
                memset(s->has, 0, sizeof s->has);
                while (got < want) {
                    uint32_t v = lo + rng_below(r, w);
                    if (!s->has[v]) s->has[v] = 1, got++;
                }
                set16_finish(s);
            }
            enc16 ea, eb;
            encode16(&ea, &a);
            encode16(&eb, &b);
            char ctx[64];
            snprintf(ctx, sizeof ctx, "sizes %zux%zu", sizes[x], sizes[y]);
            check_pair16(k, &a, &b, &ea, &eb, r, ctx);
            free(ea.mem);
            free(eb.mem);
        }
}

/* Skewed pairs (the small side at least 64 times smaller, so the kernels
 * search the large side forward value by value: block steps of 32 values,
 * galloping for far targets, the short tail): large sides from 65 to 65536
 * values (the running result of a multi-way intersection can be a full
 * array), small sides whose values sit at block boundaries of the large one,
 * next to each other, far apart, below its first or above its last value, or
 * at random. Every type combination goes through check_pair16, so the large
 * side is also probed as a bitset and as runs. */
static void check_skewed(const tw_kernels *k, uint64_t *r) {
    static set16 a, b;
    static const size_t large[] = {321, 330, 500, 1000, 2048, 4095, 4096, 20000, 65536}; /* >= 5 * 64 + 1 */
    for (size_t x = 0; x < sizeof large / sizeof large[0]; x++)
        for (int pat = 0; pat < 12; pat++) {
            /* large side: nl values over a range about twice as wide (gaps for non-members);
             * spread evenly, or with most of them in a narrow band at the start or the end of
             * the range (the search's estimate of where a value sits is then far off) */
            size_t nl = large[x], got = 0;
            uint32_t w = nl * 2 > 65536 ? 65536 : (uint32_t)nl * 2, lo = rng_below(r, 65536 - w + 1);
            int clump = (int)rng_below(r, 3);
            memset(b.has, 0, sizeof b.has);
            if (w == nl)
                memset(b.has + lo, 1, nl);
            else
                while (got < nl) {
                    uint32_t v = lo + rng_below(r, w);
                    if (clump && rng_below(r, 10) < 8) v = clump == 1 ? lo + (v - lo) / 16 : lo + w - 1 - (v - lo) / 16;
                    if (!b.has[v]) b.has[v] = 1, got++;
                }
            set16_finish(&b);
            size_t ns = 5 + rng_below(r, (uint32_t)(nl / 64 - 4)); /* 5 .. nl/64 */
            memset(a.has, 0, sizeof a.has);
            for (size_t q = 0; q < ns; q++) {
                uint32_t v;
                switch (pat % 6) {
                    case 0: v = rng_below(r, 65536); break; /* anywhere */
                    case 1: {                               /* at block boundaries of b, or next to them */
                        size_t blk = 32 * (1 + rng_below(r, (uint32_t)(nl / 32))), d = rng_below(r, 3);
                        size_t at = blk - 1 + d < nl ? blk - 1 + d : nl - 1;
                        v = b.v[at] + (rng_below(r, 4) == 0); /* sometimes just past a member */
                        break;
                    }
                    case 2: { /* consecutive members from a random start */
                        size_t at = rng_below(r, (uint32_t)nl) + q;
                        v = b.v[at < nl ? at : nl - 1];
                        break;
                    }
                    case 3: /* a few near the start, the rest near or past the end (far targets) */
                        v = q < 2 ? b.v[q] : b.v[nl - 1] - 40 + rng_below(r, 80);
                        break;
                    case 4: /* below the first value and members */
                        v = q < 2 ? rng_below(r, b.v[0] + 1) : b.v[rng_below(r, (uint32_t)nl)];
                        break;
                    default: /* members spread evenly (the benchmark's 1:200 shape) */
                        v = b.v[(q * nl) / ns + rng_below(r, (uint32_t)(nl / ns))];
                        break;
                }
                a.has[v > 65535 ? 65535 : v] = 1;
            }
            set16_finish(&a);
            if (a.n * 64 >= b.n) continue; /* duplicates made it too small to be skewed: fine, but not this test */
            enc16 ea, eb;
            encode16(&ea, &a);
            encode16(&eb, &b);
            char ctx[64];
            snprintf(ctx, sizeof ctx, "skewed %zu of %zu pattern %d clump %d", a.n, b.n, pat, clump);
            check_pair16(k, &a, &b, &ea, &eb, r, ctx);
            check_pair16(k, &b, &a, &eb, &ea, r, ctx);
            free(ea.mem);
            free(eb.mem);
        }
}

static void test_containers(const tw_kernels *const *levels, size_t nlev, uint64_t seed, int iters) {
    static set16 a, b;
    uint64_t r = seed;
    for (int it = 0; it < iters; it++) {
        int sa = (int)rng_below(&r, NSHAPES16), sb = (int)rng_below(&r, NSHAPES16);
        gen16(&a, &r, sa);
        if (rng_below(&r, 2)) { /* correlated: a subset of a plus some of its own */
            uint32_t keep = rng_below(&r, 101);
            gen16(&b, &r, sb);
            for (size_t q = 0; q < a.n; q++) b.has[a.v[q]] = rng_below(&r, 100) < keep ? 1 : b.has[a.v[q]];
            set16_finish(&b);
        } else {
            gen16(&b, &r, sb);
        }
        enc16 ea, eb;
        encode16(&ea, &a);
        encode16(&eb, &b);
        char ctx[64];
        snprintf(ctx, sizeof ctx, "iter %d shapes %d/%d", it, sa, sb);
        for (size_t l = 0; l < nlev; l++) check_pair16(levels[l], &a, &b, &ea, &eb, &r, ctx);
        free(ea.mem);
        free(eb.mem);
    }
    for (size_t l = 0; l < nlev; l++) check_aa_sizes(levels[l], &r);
    for (size_t l = 0; l < nlev; l++) check_skewed(levels[l], &r);
}

/* ====================================================================== */
/* Bitmap level                                                            */

typedef struct vec32 {
    uint32_t *v;
    size_t n, cap;
} vec32;

static void vpush(vec32 *x, uint32_t v) {
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 256;
        uint32_t *p = realloc(x->v, x->cap * sizeof *p);
        if (!p) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        x->v = p;
    }
    x->v[x->n++] = v;
}

static int cmp32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void vnormalize(vec32 *x) {
    if (!x->n) return;
    qsort(x->v, x->n, sizeof *x->v, cmp32);
    size_t w = 1;
    for (size_t q = 1; q < x->n; q++)
        if (x->v[q] != x->v[w - 1]) x->v[w++] = x->v[q];
    x->n = w;
}

/* Appends one of many shapes of doc-id sets to x (not normalized). */
static void gen32(vec32 *x, uint64_t *r, int shape) {
    switch (shape) {
        case 0: { /* random over the full range */
            size_t n = rng_below(r, 2000);
            for (size_t q = 0; q < n; q++) vpush(x, (uint32_t)rng_next(r));
            break;
        }
        case 1: { /* sparse: arrays over a 20M range */
            size_t n = 1000 + rng_below(r, 8000);
            for (size_t q = 0; q < n; q++) vpush(x, rng_below(r, 20000000));
            break;
        }
        case 2: { /* dense: bitsets over a few containers */
            uint32_t base = rng_below(r, 1000) << 16, span = (1 + rng_below(r, 3)) << 16, p = 10 + rng_below(r, 89);
            for (uint32_t v = 0; v < span; v++)
                if (rng_below(r, 100) < p) vpush(x, base + v);
            break;
        }
        case 3: { /* run-heavy */
            uint32_t base = rng_below(r, 1000) << 16, nr = 1 + rng_below(r, 100);
            for (uint32_t t = 0; t < nr; t++) {
                uint32_t st = base + rng_below(r, 3u << 16), len = 1 + rng_below(r, 3000);
                for (uint32_t v = st; v - st < len; v++) vpush(x, v);
            }
            break;
        }
        case 4: { /* skewed: a handful of ids */
            size_t n = 1 + rng_below(r, 10);
            for (size_t q = 0; q < n; q++) vpush(x, rng_below(r, 20000000));
            break;
        }
        case 5: { /* boundaries */
            switch (rng_below(r, 8)) {
                case 0: break;
                case 1: vpush(x, 0); break;
                case 2: vpush(x, 4294967295u); break;
                case 3: vpush(x, 0), vpush(x, 4294967295u), vpush(x, 65535), vpush(x, 65536); break;
                case 4: { /* a full container */
                    uint32_t base = (rng_below(r, 2) ? 65535u : rng_below(r, 300)) << 16;
                    for (uint32_t v = 0; v < 65536; v++) vpush(x, base + v);
                    break;
                }
                case 5: /* container edges */
                    for (uint32_t v = 65536 - 100; v < 65536 + 100; v++) vpush(x, v);
                    break;
                default: { /* exactly 4096 or 4097 values in one container (array / bitset edge) */
                    uint32_t base = rng_below(r, 300) << 16, want = 4096 + rng_below(r, 2);
                    vec32 tmp = {0};
                    for (uint32_t v = 0; v < 65536; v += 1 + rng_below(r, 8)) vpush(&tmp, v);
                    /* pick want distinct offsets deterministically from the shuffled tmp */
                    for (size_t q = tmp.n; q > 1; q--) {
                        size_t z = rng_below(r, (uint32_t)q);
                        uint32_t t = tmp.v[q - 1];
                        tmp.v[q - 1] = tmp.v[z];
                        tmp.v[z] = t;
                    }
                    for (size_t q = 0; q < want && q < tmp.n; q++) vpush(x, base + tmp.v[q]);
                    free(tmp.v);
                    break;
                }
            }
            break;
        }
        default: { /* mixture: a little of everything at nearby keys */
            for (int q = 0; q < 3; q++) gen32(x, r, (int)rng_below(r, 5));
            break;
        }
    }
}

#define NSHAPES32 7

/* A bitmap serialized by CRoaring at an odd address, and its view. */
typedef struct bm {
    vec32 vals; /* sorted unique */
    roaring_bitmap_t *rb;
    uint8_t *mem;
    tw_rview view;
} bm;

static void bm_build(bm *b) {
    vnormalize(&b->vals);
    b->rb = roaring_bitmap_of_ptr(b->vals.n, b->vals.v);
    roaring_bitmap_run_optimize(b->rb);
    size_t sz = roaring_bitmap_portable_size_in_bytes(b->rb);
    b->mem = xmalloc(sz + 1);
    size_t wrote = roaring_bitmap_portable_serialize(b->rb, (char *)b->mem + 1);
    size_t used = 0;
    const char *why = NULL;
    int rc = tw_rview_parse(b->mem + 1, wrote, 1, &b->view, &used, &why);
    if (rc != 0 || used != wrote) {
        fprintf(stderr, "tw_rview_parse failed: rc %d used %zu of %zu: %s\n", rc, used, wrote, why ? why : "");
        exit(1);
    }
    if (b->view.card != b->vals.n) {
        fprintf(stderr, "view card %llu != %zu\n", (unsigned long long)b->view.card, b->vals.n);
        exit(1);
    }
}

static void bm_free(bm *b) {
    tw_rview_free(&b->view);
    roaring_bitmap_free(b->rb);
    free(b->mem);
    free(b->vals.v);
}

/* tw_rview_contains against CRoaring's roaring_bitmap_contains: every value,
 * its neighbours (run and array edges, container boundaries) and random ids. */
static void check_contains(const bm *b, uint64_t *r, const char *ctx) {
    for (size_t q = 0; q < b->vals.n + 200; q++) {
        uint32_t v = q < b->vals.n ? b->vals.v[q] : (uint32_t)rng_next(r);
        for (uint32_t d = 0; d < 3; d++) {
            uint32_t x = v + d - 1; /* wraps at 0 and 4294967295, as the values may */
            int want = roaring_bitmap_contains(b->rb, x), got = tw_rview_contains(&b->view, x);
            if (got != want) {
                fail_at(__LINE__, "%s: tw_rview_contains(%u) = %d, CRoaring says %d", ctx, x, got, want);
                return;
            }
        }
    }
}

/* Position of x in the sorted vector (present). */
static uint32_t vrank(const vec32 *x, uint32_t v) {
    size_t lo = 0, hi = x->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->v[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

#define MAXIN 5

static void check_bitmaps(const tw_kernels *const *levels, size_t nlev, bm *in, size_t n, void *scratch, uint64_t *r,
                          const char *ctx) {
    /* reference: intersection by merging, ranks by binary search */
    vec32 ref = {0};
    for (size_t q = 0; q < in[0].vals.n; q++) vpush(&ref, in[0].vals.v[q]);
    for (size_t t = 1; t < n; t++) {
        size_t i = 0, j = 0, w = 0;
        while (i < ref.n && j < in[t].vals.n) {
            if (ref.v[i] < in[t].vals.v[j])
                i++;
            else if (ref.v[i] > in[t].vals.v[j])
                j++;
            else
                ref.v[w++] = ref.v[i], i++, j++;
        }
        ref.n = w;
    }
    /* CRoaring oracle */
    roaring_bitmap_t *acc = roaring_bitmap_copy(in[0].rb);
    for (size_t t = 1; t < n; t++) {
        roaring_bitmap_t *nx = roaring_bitmap_and(acc, in[t].rb);
        roaring_bitmap_free(acc);
        acc = nx;
    }
    uint64_t cr_card = roaring_bitmap_get_cardinality(acc);
    CHECK(cr_card == ref.n, "%s: roaring_bitmap_and card %llu, reference %zu", ctx, (unsigned long long)cr_card, ref.n);
    uint32_t *crv = xmalloc((size_t)cr_card * sizeof *crv);
    roaring_bitmap_to_uint32_array(acc, crv);
    if (cr_card == ref.n && ref.n && memcmp(crv, ref.v, ref.n * sizeof *crv) != 0)
        fail_at(__LINE__, "%s: roaring_bitmap_and values differ from the reference", ctx);
    free(crv);
    roaring_bitmap_free(acc);
    if (n == 2) {
        uint64_t c2 = roaring_bitmap_and_cardinality(in[0].rb, in[1].rb);
        CHECK(c2 == ref.n, "%s: roaring_bitmap_and_cardinality %llu, reference %zu", ctx, (unsigned long long)c2,
              ref.n);
    }

    size_t mincard = SIZE_MAX;
    for (size_t t = 0; t < n; t++)
        if (in[t].vals.n < mincard) mincard = in[t].vals.n;
    size_t cap_full = mincard;
    uint32_t *out = xmalloc((cap_full + SLACK) * sizeof *out);
    uint32_t *rk[MAXIN];
    for (size_t t = 0; t < n; t++) rk[t] = xmalloc((cap_full + SLACK) * sizeof *rk[t]);
    const tw_rview *views[MAXIN];
    for (size_t t = 0; t < n; t++) views[t] = &in[t].view;

    for (size_t l = 0; l < nlev; l++) {
        const tw_kernels *k = levels[l];
        uint64_t cnt = 0;
        int rc = tw_and_count(k, views, n, rng_below(r, 2) ? scratch : NULL, &cnt);
        CHECK(rc == 0 && cnt == ref.n, "%s %s: tw_and_count rc %d got %llu want %zu (CRoaring %llu)", k->name, ctx, rc,
              (unsigned long long)cnt, ref.n, (unsigned long long)cr_card);
        for (int mode = 0; mode < 3; mode++) {
            /* mode 0: all ranks, 1: no ranks, 2: some ranks and a truncating cap */
            size_t cap = cap_full;
            uint32_t *rp[MAXIN];
            for (size_t t = 0; t < n; t++) rp[t] = mode == 0 || (mode == 2 && rng_below(r, 2)) ? rk[t] : NULL;
            if (mode == 2) cap = ref.n ? rng_below(r, (uint32_t)ref.n) : 0;
            for (size_t q = 0; q < cap + SLACK; q++) {
                out[q] = SENT32;
                for (size_t t = 0; t < n; t++) rk[t][q] = SENT32;
            }
            size_t got = SIZE_MAX;
            rc = tw_and(k, views, n, out, cap, mode == 1 ? NULL : rp, rng_below(r, 2) ? scratch : NULL, &got);
            size_t want = ref.n < cap ? ref.n : cap;
            CHECK(rc == 0 && got == want, "%s %s: tw_and mode %d cap %zu rc %d got %zu want %zu", k->name, ctx, mode,
                  cap, rc, got, want);
            size_t lim = got < want ? got : want;
            for (size_t q = 0; q < lim; q++) {
                if (out[q] != ref.v[q]) {
                    fail_at(__LINE__, "%s %s: tw_and mode %d value %zu: got %u want %u", k->name, ctx, mode, q, out[q],
                            ref.v[q]);
                    break;
                }
                int bad = 0;
                for (size_t t = 0; t < n && !bad; t++) {
                    if (!rp[t] || mode == 1) continue;
                    uint32_t wr = vrank(&in[t].vals, ref.v[q]);
                    if (rk[t][q] != wr) {
                        fail_at(__LINE__, "%s %s: tw_and mode %d rank of %u in input %zu: got %u want %u", k->name, ctx,
                                mode, ref.v[q], t, rk[t][q], wr);
                        bad = 1;
                    }
                }
                if (bad) break;
            }
            for (size_t q = cap; q < cap + SLACK; q++) {
                int past = out[q] != SENT32;
                for (size_t t = 0; t < n; t++) past |= rk[t][q] != SENT32;
                if (past) {
                    fail_at(__LINE__, "%s %s: tw_and mode %d wrote past cap %zu at %zu", k->name, ctx, mode, cap, q);
                    break;
                }
            }
        }
    }
    free(out);
    for (size_t t = 0; t < n; t++) free(rk[t]);
    free(ref.v);
}

static void test_bitmaps(const tw_kernels *const *levels, size_t nlev, uint64_t seed, int iters) {
    uint64_t r = seed ^ UINT64_C(0x5bd1e995);
    void *scratch = xmalloc(TW_AND_SCRATCH_BYTES);
    for (int it = 0; it < iters; it++) {
        size_t n = 1 + rng_below(&r, 10) % MAXIN; /* mostly 2..5, sometimes 1 */
        if (n == 1 && rng_below(&r, 2)) n = 2;
        bm in[MAXIN];
        memset(in, 0, sizeof in);
        /* a shared base makes intersections non-trivial */
        vec32 base = {0};
        gen32(&base, &r, (int)rng_below(&r, NSHAPES32));
        int shapes[MAXIN];
        for (size_t t = 0; t < n; t++) {
            uint32_t keep = 50 + rng_below(&r, 51);
            for (size_t q = 0; q < base.n; q++)
                if (rng_below(&r, 100) < keep) vpush(&in[t].vals, base.v[q]);
            shapes[t] = (int)rng_below(&r, NSHAPES32);
            if (rng_below(&r, 4) == 0) {
                shapes[t] = 4; /* skewed: few ids against the others */
                in[t].vals.n = 0;
                for (size_t q = 0; q < 3 && base.n; q++) vpush(&in[t].vals, base.v[rng_below(&r, (uint32_t)base.n)]);
            }
            gen32(&in[t].vals, &r, shapes[t]);
            bm_build(&in[t]);
            check_contains(&in[t], &r, "contains");
        }
        char ctx[96];
        int len = snprintf(ctx, sizeof ctx, "bitmap iter %d n %zu shapes", it, n);
        for (size_t t = 0; t < n && len > 0 && (size_t)len < sizeof ctx; t++)
            len += snprintf(ctx + len, sizeof ctx - (size_t)len, " %d", shapes[t]);
        check_bitmaps(levels, nlev, in, n, scratch, &r, ctx);
        for (size_t t = 0; t < n; t++) bm_free(&in[t]);
        free(base.v);
    }
    /* fixed boundary pairs, each against itself and each other */
    static const int fixed[][2] = {{5, 5}, {4, 2}, {3, 2}, {1, 4}, {2, 2}, {3, 3}};
    for (size_t f = 0; f < sizeof fixed / sizeof fixed[0]; f++)
        for (int rep = 0; rep < 20; rep++) {
            bm in[2];
            memset(in, 0, sizeof in);
            gen32(&in[0].vals, &r, fixed[f][0]);
            gen32(&in[1].vals, &r, fixed[f][1]);
            for (size_t q = 0; q < in[0].vals.n; q += 2) vpush(&in[1].vals, in[0].vals.v[q]);
            bm_build(&in[0]);
            bm_build(&in[1]);
            char ctx[64];
            snprintf(ctx, sizeof ctx, "fixed %zu rep %d", f, rep);
            check_bitmaps(levels, nlev, in, 2, scratch, &r, ctx);
            bm_free(&in[0]);
            bm_free(&in[1]);
        }
    free(scratch);
}

/* ====================================================================== */
/* Malformed input                                                         */

/* Kernels on garbage containers (unsorted arrays with duplicates, bitsets
 * whose popcount disagrees with the cardinality, overlapping runs and runs
 * past 65535), each in a buffer of exactly its size (so ASan sees any read
 * outside it): results are unspecified, but nothing may be written past cap
 * and the returned count may not exceed it. */
static int test_malformed(const tw_kernels *const *levels, size_t nlev, uint64_t seed, int iters) {
    int viewed = 0;
    uint64_t r = seed ^ UINT64_C(0x2545F4914F6CDD1D);
    static uint16_t out[2 * 65536 + SLACK];
    static uint32_t ia[2 * 65536 + SLACK], ib[2 * 65536 + SLACK];
    for (int it = 0; it < iters; it++) {
        tw_container c[2][4];
        uint8_t *mem[2][4];
        for (int side = 0; side < 2; side++) {
            size_t na = rng_below(&r, 5000), nr = rng_below(&r, 3000);
            uint32_t spread = 1 + rng_below(&r, 65536);
            mem[side][TW_C_ARRAY] = xmalloc(2 * na);
            for (size_t q = 0; q < na; q++) put16(mem[side][TW_C_ARRAY] + 2 * q, rng_below(&r, spread));
            if (rng_below(&r, 2)) /* mostly ascending with defects */
                for (size_t q = 0; q < na; q++)
                    put16(mem[side][TW_C_ARRAY] + 2 * q, (uint32_t)(q * 65536 / (na + 1)) + rng_below(&r, 40));
            mem[side][TW_C_BITSET] = xmalloc(8192);
            uint32_t dens = rng_below(&r, 256);
            for (size_t q = 0; q < 8192; q++)
                mem[side][TW_C_BITSET][q] = (uint8_t)(rng_below(&r, 256) < dens ? rng_next(&r) : 0);
            mem[side][TW_C_RUN] = xmalloc(4 * nr);
            for (size_t q = 0; q < nr; q++) {
                put16(mem[side][TW_C_RUN] + 4 * q, rng_below(&r, 65536));
                put16(mem[side][TW_C_RUN] + 4 * q + 2, rng_below(&r, 1 + rng_below(&r, 65536)));
            }
            for (int ty = TW_C_ARRAY; ty <= TW_C_RUN; ty++) {
                memset(&c[side][ty], 0, sizeof c[side][ty]);
                c[side][ty].data = mem[side][ty];
                c[side][ty].type = (uint8_t)ty;
                c[side][ty].card = ty == TW_C_ARRAY ? (uint32_t)na : 1 + rng_below(&r, 65536);
                c[side][ty].nruns = (uint32_t)nr;
            }
        }
        for (size_t l = 0; l < nlev; l++)
            for (int ta = TW_C_ARRAY; ta <= TW_C_RUN; ta++)
                for (int tb = TW_C_ARRAY; tb <= TW_C_RUN; tb++) {
                    const tw_container *ca = &c[0][ta], *cb = &c[1][tb];
                    (void)tw_container_count(levels[l], ca, cb);
                    size_t cap = rng_below(&r, 2) ? (ca->card < cb->card ? ca->card : cb->card) : rng_below(&r, 70000);
                    for (size_t q = 0; q < cap + SLACK; q++) out[q] = SENT16, ia[q] = ib[q] = SENT32;
                    int idx = (int)rng_below(&r, 2);
                    size_t got = tw_container_and(levels[l], ca, cb, out, idx ? ia : NULL, idx ? ib : NULL, cap);
                    CHECK(got <= cap, "%s malformed %s∩%s iter %d: returned %zu > cap %zu", levels[l]->name, tyname(ta),
                          tyname(tb), it, got, cap);
                    for (size_t q = cap; q < cap + SLACK; q++)
                        if (out[q] != SENT16 || ia[q] != SENT32 || ib[q] != SENT32) {
                            fail_at(__LINE__, "%s malformed %s∩%s iter %d: wrote past cap %zu at %zu", levels[l]->name,
                                    tyname(ta), tyname(tb), it, cap, q);
                            break;
                        }
                }
        for (int side = 0; side < 2; side++)
            for (int ty = TW_C_ARRAY; ty <= TW_C_RUN; ty++) free(mem[side][ty]);
    }

    /* whole bitmaps whose payload bytes were scrambled after serialization,
     * viewed without the deep check */
    void *scratch = xmalloc(TW_AND_SCRATCH_BYTES);
    for (int it = 0; it < iters; it++) {
        size_t n = 2 + rng_below(&r, 3);
        bm in[MAXIN];
        memset(in, 0, sizeof in);
        const tw_rview *views[MAXIN];
        int parsed[MAXIN] = {0};
        size_t ok = 0, mincard = SIZE_MAX;
        for (size_t t = 0; t < n; t++) {
            gen32(&in[t].vals, &r, (int)rng_below(&r, NSHAPES32));
            vnormalize(&in[t].vals);
            roaring_bitmap_t *rb = roaring_bitmap_of_ptr(in[t].vals.n, in[t].vals.v);
            roaring_bitmap_run_optimize(rb);
            size_t sz = roaring_bitmap_portable_size_in_bytes(rb);
            in[t].mem = xmalloc(sz);
            roaring_bitmap_portable_serialize(rb, (char *)in[t].mem);
            roaring_bitmap_free(rb);
            size_t flips = 1 + rng_below(&r, 64);
            for (size_t q = 0; q < flips && sz > 64; q++)
                in[t].mem[64 + rng_below(&r, (uint32_t)(sz - 64))] ^= (uint8_t)(1 + rng_below(&r, 255));
            size_t used;
            if (tw_rview_parse(in[t].mem, sz, 0, &in[t].view, &used, NULL) == 0) {
                parsed[t] = 1;
                views[ok++] = &in[t].view;
                if (in[t].view.card < mincard) mincard = (size_t)in[t].view.card;
            }
        }
        if (ok >= 2) {
            viewed++;
            size_t cap = mincard < 300000 ? mincard : 300000;
            uint32_t *o = xmalloc((cap + SLACK) * sizeof *o), *rk[MAXIN];
            for (size_t t = 0; t < ok; t++) rk[t] = xmalloc((cap + SLACK) * sizeof *rk[t]);
            for (size_t l = 0; l < nlev; l++) {
                for (size_t q = 0; q < cap + SLACK; q++) {
                    o[q] = SENT32;
                    for (size_t t = 0; t < ok; t++) rk[t][q] = SENT32;
                }
                size_t got = 0;
                uint64_t cnt = 0;
                int rc = tw_and(levels[l], views, ok, o, cap, rk, scratch, &got);
                CHECK(rc == 0 && got <= cap, "%s malformed bitmaps iter %d: rc %d got %zu cap %zu", levels[l]->name, it,
                      rc, got, cap);
                CHECK(tw_and_count(levels[l], views, ok, scratch, &cnt) == 0, "%s malformed count failed",
                      levels[l]->name);
                for (size_t q = cap; q < cap + SLACK; q++) {
                    int past = o[q] != SENT32;
                    for (size_t t = 0; t < ok; t++) past |= rk[t][q] != SENT32;
                    if (past) {
                        fail_at(__LINE__, "%s malformed bitmaps iter %d: wrote past cap %zu", levels[l]->name, it, cap);
                        break;
                    }
                }
            }
            free(o);
            for (size_t t = 0; t < ok; t++) free(rk[t]);
        }
        for (size_t t = 0; t < n; t++) {
            if (parsed[t]) tw_rview_free(&in[t].view);
            free(in[t].mem);
            free(in[t].vals.v);
        }
    }
    free(scratch);
    return viewed;
}

/* ====================================================================== */
/* Dispatch                                                                */

static void test_dispatch(void) {
    CHECK(tw_simd_supported(TW_SIMD_SCALAR), "scalar must always be supported");
    tw_simd_level best = tw_simd_best();
    CHECK(tw_simd_supported(best), "best level %d unsupported", (int)best);
    for (int l = 0; l < TW_SIMD_NLEVELS; l++) {
        const tw_kernels *k = tw_kernels_get((tw_simd_level)l);
        CHECK(k != NULL, "tw_kernels_get(%d) is NULL", l);
        if (!k) continue;
        if (tw_simd_supported((tw_simd_level)l))
            CHECK((int)k->level == l, "tw_kernels_get(%d) gave level %d", l, (int)k->level);
        else
            CHECK((int)k->level < l && tw_simd_supported(k->level), "tw_kernels_get(%d) gave unsupported level %d", l,
                  (int)k->level);
        CHECK(strcmp(k->name, tw_simd_name(k->level)) == 0, "table name %s vs %s", k->name, tw_simd_name(k->level));
    }
    CHECK(tw_kernels_get((tw_simd_level)99)->level == best, "out-of-range level must clamp to the best");
    /* Names of levels (trawl_open_options_set_simd takes the same). */
    const struct {
        const char *name;
        int level; /* -1: refused */
    } names[] = {{"scalar", TW_SIMD_SCALAR},
                 {"sse41", TW_SIMD_SSE41},
                 {"sse4.1", TW_SIMD_SSE41},
                 {"avx2", TW_SIMD_AVX2},
                 {"avx512", TW_SIMD_AVX512},
                 {"AVX2", TW_SIMD_AVX2},
                 {"Scalar", TW_SIMD_SCALAR},
                 {"SSE4.1", TW_SIMD_SSE41},
                 {"auto", (int)best},
                 {"AUTO", (int)best},
                 {"bogus", -1},
                 {"", -1},
                 {"avx", -1},
                 {"avx5120", -1},
                 {"sse4", -1},
                 {" avx2", -1},
                 {"avx2 ", -1}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        tw_simd_level got = TW_SIMD_NLEVELS;
        int rc = tw_simd_parse(names[i].name, &got);
        if (names[i].level < 0)
            CHECK(rc == TRAWL_EINVAL, "tw_simd_parse(\"%s\") = %d, want TRAWL_EINVAL", names[i].name, rc);
        else
            CHECK(rc == 0 && (int)got == names[i].level, "tw_simd_parse(\"%s\") = %d level %d, want level %d",
                  names[i].name, rc, (int)got, names[i].level);
    }
    tw_simd_level dummy;
    CHECK(tw_simd_parse(NULL, &dummy) == TRAWL_EINVAL, "tw_simd_parse(NULL)");
}

int main(void) {
    uint64_t seed = 20240611;
    const char *s = getenv("TRAWL_TEST_SEED");
    if (s && *s) seed = strtoull(s, NULL, 10);
    int scale = 1;
    const char *sc = getenv("TRAWL_TEST_SCALE");
    if (sc && atoi(sc) > 0) scale = atoi(sc);

    test_dispatch();
    const tw_kernels *levels[TW_SIMD_NLEVELS];
    size_t nlev = 0;
    for (int l = 0; l < TW_SIMD_NLEVELS; l++)
        if (tw_simd_supported((tw_simd_level)l)) levels[nlev++] = tw_kernels_get((tw_simd_level)l);
    printf("seed %llu; levels:", (unsigned long long)seed);
    for (size_t l = 0; l < nlev; l++) printf(" %s", levels[l]->name);
    printf("\n");

    test_containers(levels, nlev, seed, 400 * scale);
    printf("container kernels: %s\n", failures ? "FAILED" : "ok");
    test_bitmaps(levels, nlev, seed, 300 * scale);
    printf("bitmap intersections: %s\n", failures ? "FAILED" : "ok");
    int viewed = test_malformed(levels, nlev, seed, 60 * scale);
    printf("malformed input: %s (%d scrambled bitmap sets viewed)\n", failures ? "FAILED" : "ok", viewed);
    if (failures) {
        fprintf(stderr, "%d failure(s), seed %llu\n", failures, (unsigned long long)seed);
        return 1;
    }
    return 0;
}
