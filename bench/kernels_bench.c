/*
 * kernels_bench.c — `trawl-bench kernels`: the intersection kernels of query/kernels.h
 * at every instruction-set level this CPU supports, beside Debian's CRoaring
 * (roaring_bitmap_and / roaring_bitmap_and_cardinality) and a plain scalar
 * merge of two sorted uint32 arrays.
 *
 * This is the one part of trawl-bench that uses library internals (the kernels
 * are not public API); it links them from trawl_static.
 *
 * Shapes (universe 2^24 doc ids, fixed seed, two operands A and B):
 *   sparse  200,000 and 200,000 random ids        (array containers)
 *   dense   6,000,000 and 6,000,000 random ids    (bitset containers)
 *   skewed  5,000 and 1,000,000 random ids        (array vs array, ~1:200 per container)
 *   runs    ~40% of the universe each, as random intervals of 64-4,096 ids
 *           (run containers after run optimization)
 * The bitmaps are built with CRoaring, run-optimized, serialized in the
 * portable format and read back as zero-copy views (tw_rview_parse), as posting
 * lists are in a segment.
 *
 * Kernels timed, one JSON line per shape × kernel × level:
 *   and        tw_and materializing doc ids        vs roaring_bitmap_and (+ free)
 *   and_ranks  tw_and also producing both rank arrays (what the scorer uses)
 *                                                  vs roaring_bitmap_and (+ free)
 *   count      tw_and_count                        vs roaring_bitmap_and_cardinality
 * roaring_bitmap_and returns a compressed bitmap while tw_and writes every doc
 * id, so a second CRoaring figure (croaring_and_array_ns_per_elem) adds
 * roaring_bitmap_to_uint32_array for a like-for-like materialization.
 * scalar_merge is a two-pointer merge of the sorted arrays (materializing for
 * and / and_ranks, counting for count). Each figure is the median of 9 samples,
 * a sample being enough back-to-back calls to last >= 2 ms; a row's kernel and
 * its references are sampled alternately (same load on a shared machine);
 * ns_per_elem divides by |A| + |B|. Every kernel's result size is checked
 * against CRoaring's. An optional argument names the one shape to run.
 */
#include "bench.h"

#include "kernels.h"
#include "rview.h"

#include <roaring/roaring.h>
#include <stdlib.h>
#include <string.h>

#define K_UNIVERSE (1u << 24)
#define K_SAMPLES 9
#define K_MIN_SAMPLE_NS 2000000u

typedef struct kshape {
    const char *name;
    roaring_bitmap_t *ra, *rb;
    uint32_t *a, *b; /* sorted arrays */
    size_t na, nb;
    char *sa, *sb; /* portable serializations */
    tw_rview va, vb;
} kshape;

static uint64_t xs_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static roaring_bitmap_t *random_bitmap(uint64_t *s, size_t n) {
    roaring_bitmap_t *r = roaring_bitmap_create();
    if (!r) return NULL;
    for (size_t i = 0; i < n; i++) roaring_bitmap_add(r, (uint32_t)(xs_next(s) % K_UNIVERSE));
    return r;
}

static roaring_bitmap_t *run_bitmap(uint64_t *s, double cover) {
    roaring_bitmap_t *r = roaring_bitmap_create();
    if (!r) return NULL;
    while ((double)roaring_bitmap_get_cardinality(r) < cover * K_UNIVERSE) {
        uint32_t start = (uint32_t)(xs_next(s) % K_UNIVERSE);
        uint32_t len = 64 + (uint32_t)(xs_next(s) % 4033);
        uint64_t end = (uint64_t)start + len;
        if (end > K_UNIVERSE) end = K_UNIVERSE;
        roaring_bitmap_add_range(r, start, end);
    }
    return r;
}

static void shape_free(kshape *k) {
    roaring_bitmap_free(k->ra);
    roaring_bitmap_free(k->rb);
    free(k->a);
    free(k->b);
    free(k->sa);
    free(k->sb);
    tw_rview_free(&k->va);
    tw_rview_free(&k->vb);
}

/* Serializes r portably into *buf and parses the view. Returns 0 or -1. */
static int make_view(const roaring_bitmap_t *r, char **buf, tw_rview *v) {
    size_t len = roaring_bitmap_portable_size_in_bytes(r);
    *buf = malloc(len ? len : 1);
    if (!*buf) return -1;
    roaring_bitmap_portable_serialize(r, *buf);
    size_t used;
    const char *why = NULL;
    if (tw_rview_parse((const uint8_t *)*buf, len, 1, v, &used, &why) != 0) {
        fprintf(stderr, "trawl-bench: kernels: view parse failed: %s\n", why ? why : "?");
        return -1;
    }
    return 0;
}

/* Finishes a shape whose ra and rb are set. Returns 0 or -1. */
static int shape_finish(kshape *k) {
    if (!k->ra || !k->rb) return -1;
    roaring_bitmap_run_optimize(k->ra);
    roaring_bitmap_run_optimize(k->rb);
    k->na = (size_t)roaring_bitmap_get_cardinality(k->ra);
    k->nb = (size_t)roaring_bitmap_get_cardinality(k->rb);
    k->a = malloc((k->na ? k->na : 1) * sizeof *k->a);
    k->b = malloc((k->nb ? k->nb : 1) * sizeof *k->b);
    if (!k->a || !k->b) return -1;
    roaring_bitmap_to_uint32_array(k->ra, k->a);
    roaring_bitmap_to_uint32_array(k->rb, k->b);
    if (make_view(k->ra, &k->sa, &k->va) != 0 || make_view(k->rb, &k->sb, &k->vb) != 0) return -1;
    return 0;
}

static size_t merge_and(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *out) {
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j])
            i++;
        else if (a[i] > b[j])
            j++;
        else {
            out[k++] = a[i];
            i++;
            j++;
        }
    }
    return k;
}

static size_t merge_count(const uint32_t *a, size_t na, const uint32_t *b, size_t nb) {
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        uint32_t x = a[i], y = b[j];
        i += x <= y;
        j += y <= x;
        k += x == y;
    }
    return k;
}

enum { OP_TW_AND, OP_TW_RANKS, OP_TW_COUNT, OP_CR_AND, OP_CR_AND_ARRAY, OP_CR_COUNT, OP_MERGE_AND, OP_MERGE_COUNT };

typedef struct kctx {
    kshape *s;
    const tw_kernels *k;
    const tw_rview *views[2];
    uint32_t *out, *ra, *rb;
    uint32_t *ranks_store[2];
    void *scratch;
    size_t cap;
} kctx;

/* Runs op once; returns the size of the intersection, or (size_t)-1 on failure. */
static size_t run_op(kctx *c, int op) {
    size_t n = 0;
    uint64_t cnt = 0;
    switch (op) {
        case OP_TW_AND:
            if (tw_and(c->k, c->views, 2, c->out, c->cap, NULL, c->scratch, &n) != 0) return (size_t)-1;
            return n;
        case OP_TW_RANKS: {
            uint32_t *const ranks[2] = {c->ra, c->rb};
            if (tw_and(c->k, c->views, 2, c->out, c->cap, ranks, c->scratch, &n) != 0) return (size_t)-1;
            return n;
        }
        case OP_TW_COUNT:
            if (tw_and_count(c->k, c->views, 2, c->scratch, &cnt) != 0) return (size_t)-1;
            return (size_t)cnt;
        case OP_CR_AND: {
            roaring_bitmap_t *r = roaring_bitmap_and(c->s->ra, c->s->rb);
            if (!r) return (size_t)-1;
            n = (size_t)roaring_bitmap_get_cardinality(r);
            roaring_bitmap_free(r);
            return n;
        }
        case OP_CR_AND_ARRAY: {
            roaring_bitmap_t *r = roaring_bitmap_and(c->s->ra, c->s->rb);
            if (!r) return (size_t)-1;
            n = (size_t)roaring_bitmap_get_cardinality(r);
            if (n > c->cap) n = c->cap;
            roaring_bitmap_to_uint32_array(r, c->out);
            roaring_bitmap_free(r);
            return n;
        }
        case OP_CR_COUNT: return (size_t)roaring_bitmap_and_cardinality(c->s->ra, c->s->rb);
        case OP_MERGE_AND: return merge_and(c->s->a, c->s->na, c->s->b, c->s->nb, c->out);
        default: return merge_count(c->s->a, c->s->na, c->s->b, c->s->nb);
    }
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Checks op's result size against expect and returns how many back-to-back
 * calls of op make one sample of >= K_MIN_SAMPLE_NS, or 0 on failure or
 * mismatch. */
static size_t calibrate(kctx *c, int op, size_t expect, const char *what) {
    size_t got = run_op(c, op);
    if (got != expect) {
        fprintf(stderr, "trawl-bench: kernels: %s %s on %s gave %zu values, CRoaring %zu\n", what,
                c->k ? c->k->name : "", c->s->name, got, expect);
        return 0;
    }
    size_t iters = 1;
    for (;;) {
        uint64_t t0 = bench_now_ns();
        for (size_t i = 0; i < iters; i++) run_op(c, op);
        uint64_t dt = bench_now_ns() - t0;
        if (dt >= K_MIN_SAMPLE_NS || iters >= ((size_t)1 << 24)) break;
        iters *= 2;
    }
    return iters;
}

/* Median ns per call of each of ops[0..nops) (nops <= 4), into ns[]: the
 * samples of the ops alternate, so on a shared machine every op sees the same
 * load and their ratios stay meaningful. Returns -1 on failure or mismatch. */
static int time_ops(kctx *c, const int *ops, const char *const *what, size_t nops, size_t expect, double *ns) {
    size_t iters[4];
    double samples[4][K_SAMPLES];
    for (size_t o = 0; o < nops; o++)
        if (!(iters[o] = calibrate(c, ops[o], expect, what[o]))) return -1;
    for (int s = 0; s < K_SAMPLES; s++)
        for (size_t o = 0; o < nops; o++) {
            uint64_t t0 = bench_now_ns();
            for (size_t i = 0; i < iters[o]; i++) run_op(c, ops[o]);
            samples[o][s] = (double)(bench_now_ns() - t0) / (double)iters[o];
        }
    for (size_t o = 0; o < nops; o++) {
        qsort(samples[o], K_SAMPLES, sizeof samples[o][0], cmp_double);
        ns[o] = samples[o][K_SAMPLES / 2];
    }
    return 0;
}

/* One figure, kept for the Markdown table. */
typedef struct krow {
    const char *shape, *kernel, *level;
    double ns, cr, cr_array, merge;
} krow;

#define K_MAX_ROWS (4 * 3 * TW_SIMD_NLEVELS)

static int bench_shape(kshape *s, krow *rows, size_t *nrows) {
    kctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.views[0] = &s->va;
    c.views[1] = &s->vb;
    c.cap = s->na < s->nb ? s->na : s->nb;
    c.out = malloc((c.cap ? c.cap : 1) * sizeof *c.out);
    c.ra = malloc((c.cap ? c.cap : 1) * sizeof *c.ra);
    c.rb = malloc((c.cap ? c.cap : 1) * sizeof *c.rb);
    c.scratch = malloc(TW_AND_SCRATCH_BYTES);
    int rc = -1;
    if (!c.out || !c.ra || !c.rb || !c.scratch) {
        fputs("trawl-bench: out of memory\n", stderr);
        goto done;
    }
    size_t expect = (size_t)roaring_bitmap_and_cardinality(s->ra, s->rb);
    double elems = (double)(s->na + s->nb);
    static const char *const kname[3] = {"and", "and_ranks", "count"};
    static const int kop[3] = {OP_TW_AND, OP_TW_RANKS, OP_TW_COUNT};
    for (int lv = 0; lv < TW_SIMD_NLEVELS; lv++) {
        if (!tw_simd_supported((tw_simd_level)lv)) continue;
        c.k = tw_kernels_get((tw_simd_level)lv);
        for (int j = 0; j < 3; j++) {
            /* the kernel and its references, sampled alternately */
            int ops[4] = {kop[j], OP_CR_AND, OP_CR_AND_ARRAY, OP_MERGE_AND};
            const char *what[4] = {kname[j], "roaring_bitmap_and", "roaring_bitmap_and + to_uint32_array", "merge"};
            size_t nops = 4;
            if (j == 2) {
                ops[1] = OP_CR_COUNT;
                ops[2] = OP_MERGE_COUNT;
                what[1] = "roaring_bitmap_and_cardinality";
                what[2] = "merge count";
                nops = 3;
            }
            double ns[4];
            if (time_ops(&c, ops, what, nops, expect, ns) != 0) goto done;
            double t = ns[0], cr = ns[1], ca = j == 2 ? ns[1] : ns[2], m = j == 2 ? ns[2] : ns[3];
            printf("{\"shape\":\"%s\",\"kernel\":\"%s\",\"level\":\"%s\",\"a\":%zu,\"b\":%zu,\"result\":%zu,"
                   "\"ns_per_elem\":%.4f,\"croaring_and_ns_per_elem\":%.4f,\"croaring_and_array_ns_per_elem\":%.4f,"
                   "\"scalar_merge_ns_per_elem\":%.4f}\n",
                   s->name, kname[j], c.k->name, s->na, s->nb, expect, t / elems, cr / elems, ca / elems, m / elems);
            fflush(stdout);
            if (*nrows < K_MAX_ROWS) {
                krow r = {s->name, kname[j], c.k->name, t / elems, cr / elems, ca / elems, m / elems};
                rows[(*nrows)++] = r;
            }
        }
    }
    rc = 0;
done:
    free(c.out);
    free(c.ra);
    free(c.rb);
    free(c.scratch);
    return rc;
}

int bench_cmd_kernels(int argc, char **argv) {
    if (argc > 1 || (argc == 1 && strcmp(argv[0], "sparse") != 0 && strcmp(argv[0], "dense") != 0 &&
                     strcmp(argv[0], "skewed") != 0 && strcmp(argv[0], "runs") != 0)) {
        fputs("usage: trawl-bench kernels [sparse|dense|skewed|runs]\n", stderr);
        return 2;
    }
    const char *only = argc == 1 ? argv[0] : NULL;
    uint64_t seed = 0x9e3779b97f4a7c15u;
    kshape shapes[4];
    memset(shapes, 0, sizeof shapes);
    shapes[0].name = "sparse";
    shapes[0].ra = random_bitmap(&seed, 200000);
    shapes[0].rb = random_bitmap(&seed, 200000);
    shapes[1].name = "dense";
    shapes[1].ra = random_bitmap(&seed, 6000000);
    shapes[1].rb = random_bitmap(&seed, 6000000);
    shapes[2].name = "skewed";
    shapes[2].ra = random_bitmap(&seed, 5000);
    shapes[2].rb = random_bitmap(&seed, 1000000);
    shapes[3].name = "runs";
    shapes[3].ra = run_bitmap(&seed, 0.4);
    shapes[3].rb = run_bitmap(&seed, 0.4);
    int rc = 0;
    krow rows[K_MAX_ROWS];
    size_t nrows = 0;
    for (int i = 0; i < 4 && rc == 0; i++) {
        if (only && strcmp(only, shapes[i].name) != 0) continue;
        if (shape_finish(&shapes[i]) != 0) {
            fprintf(stderr, "trawl-bench: kernels: cannot build shape %s\n", shapes[i].name);
            rc = 1;
        } else if (bench_shape(&shapes[i], rows, &nrows) != 0) {
            rc = 1;
        }
    }
    for (int i = 0; i < 4; i++) shape_free(&shapes[i]);
    if (rc == 0) {
        printf("\n| shape | kernel | level | ns/elem | CRoaring | CRoaring + array | scalar merge |"
               " CRoaring ÷ kernel | CRoaring + array ÷ kernel | merge ÷ kernel |\n"
               "|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (size_t i = 0; i < nrows; i++)
            printf("| %s | %s | %s | %.3f | %.3f | %.3f | %.3f | %.2f× | %.2f× | %.2f× |\n", rows[i].shape,
                   rows[i].kernel, rows[i].level, rows[i].ns, rows[i].cr, rows[i].cr_array, rows[i].merge,
                   rows[i].cr / rows[i].ns, rows[i].cr_array / rows[i].ns, rows[i].merge / rows[i].ns);
        printf("\nAll in ns per input element (|A| + |B|). CRoaring = roaring_bitmap_and (+ free) for and /"
               " and_ranks, roaring_bitmap_and_cardinality for count; CRoaring + array also writes the"
               " result as uint32 ids (roaring_bitmap_to_uint32_array), like tw_and.\n");
    }
    return rc;
}
