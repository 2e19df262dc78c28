/*
 * test_mergepolicy.c — the tiered merge policy (engine/mergepolicy.c) on
 * segment shapes: exact plans for hand-made shapes (tiers of ten, a large
 * segment left alone, deletion-heavy rewrites, the segment bound), then
 * properties on thousands of random shapes checked by brute force: merges are
 * in order, non-overlapping, adjacent runs inside the index; the bound holds;
 * no full tier of ten equal segments is left unmerged; a second plan over the
 * result of the first merges no tier again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mergepolicy.h"
#include "testutil.h"

static int failures;

#define MB ((uint64_t)1 << 20)

static size_t plan(const tw_mp_seg *s, size_t n, const tw_mp_params *p, tw_mp_merge *out) {
    return tw_merge_plan(s, n, p, out);
}

/* The plan as text "first+count ..." for exact comparisons. */
static const char *show(const tw_mp_merge *m, size_t nm) {
    static char buf[4096];
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < nm && o + 32 < sizeof buf; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%zu+%zu", i ? " " : "", m[i].first, m[i].count);
    return buf;
}

static void expect(const char *what, const tw_mp_seg *s, size_t n, const tw_mp_params *p, const char *want) {
    tw_mp_merge m[256];
    size_t nm = plan(s, n, p, m);
    CHECK(strcmp(show(m, nm), want) == 0, "%s: plan '%s', expected '%s'", what, show(m, nm), want);
}

static void shapes(void) {
    tw_mp_params p;
    tw_mp_defaults(&p);
    tw_mp_seg s[64];
    for (int i = 0; i < 64; i++) s[i] = (tw_mp_seg){1 * MB, 1000, 0};
    expect("no segments", s, 0, &p, "");
    expect("nine small", s, 9, &p, "");
    expect("ten small", s, 10, &p, "0+10");
    expect("twenty-five small", s, 25, &p, "0+10 10+10");
    /* a large segment first, then ten small: the small ones merge */
    s[0] = (tw_mp_seg){500 * MB, 500000, 0};
    expect("large then ten small", s, 11, &p, "1+10");
    /* tiers: ten of 30 MB (tier 1) then ten of 1 MB (tier 0) */
    for (int i = 0; i < 10; i++) s[i] = (tw_mp_seg){30 * MB, 30000, 0};
    for (int i = 10; i < 20; i++) s[i] = (tw_mp_seg){1 * MB, 1000, 0};
    expect("two tiers of ten", s, 20, &p, "0+10 10+10");
    /* tiers do not mix: five of tier 1, five of tier 0 */
    expect("five and five", s + 5, 10, &p, "");
    /* deletions: 40% deleted is rewritten alone, 20% is not */
    for (int i = 0; i < 5; i++) s[i] = (tw_mp_seg){8 * MB, 1000, 0};
    s[1].deleted = 400;
    s[3].deleted = 200;
    expect("deletion-heavy", s, 5, &p, "1+1");
    /* the bound: five segments, at most one */
    for (int i = 0; i < 5; i++) s[i] = (tw_mp_seg){8 * MB, 1000, 0};
    p.max_segments = 1;
    expect("max one", s, 5, &p, "0+5");
    /* at most three of [100, 1, 1, 100, 1]: the smallest neighbours join */
    s[0] = (tw_mp_seg){100 * MB, 1000, 0};
    s[1] = (tw_mp_seg){1 * MB, 1000, 0};
    s[2] = (tw_mp_seg){1 * MB, 1000, 0};
    s[3] = (tw_mp_seg){100 * MB, 1000, 0};
    s[4] = (tw_mp_seg){1 * MB, 1000, 0};
    p.max_segments = 3;
    expect("max three", s, 5, &p, "1+2 3+2");
    p.max_segments = 5;
    expect("bound already met", s, 5, &p, "");
    /* A merge limited in size (the writer's memory): 100 KB segments, at most
     * 330 KB per merge, so three at a time while `factor` or more segments of
     * the run are left. */
    tw_mp_defaults(&p);
    p.max_merge_bytes = 330 << 10;
    for (int i = 0; i < 21; i++) s[i] = (tw_mp_seg){100 << 10, 100, 0};
    expect("limited merges", s, 12, &p, "0+3");
    expect("limited merges, a tier of 21", s, 21, &p, "0+3 3+3 6+3 9+3");
    /* segments over half the limit cannot pair: nothing to do */
    for (int i = 0; i < 12; i++) s[i] = (tw_mp_seg){200 << 10, 100, 0};
    expect("cannot pair", s, 12, &p, "");
}

static rng R = {0x5eed5eedull};

/* The tier of a segment of `bytes` with a deleted share, computed directly
 * (a brute-force restatement of the policy's tiers). */
static int tier_of(uint64_t bytes, double deleted_share, const tw_mp_params *p) {
    double live = (double)bytes * (1.0 - deleted_share);
    if (live < (double)p->floor_bytes) live = (double)p->floor_bytes;
    int t = 0;
    double limit = (double)p->floor_bytes * p->factor;
    while (live >= limit) t++, limit *= p->factor;
    return t;
}

static void properties(void) {
    long plans = 0, merges = 0;
    for (int t = 0; t < 5000; t++) {
        tw_mp_params p;
        tw_mp_defaults(&p);
        p.factor = 2 + (uint32_t)(rnd(&R) % 9);
        p.floor_bytes = MB;
        p.max_segments = rnd(&R) % 3 == 0 ? 1 + rnd(&R) % 12 : 0;
        p.max_merge_bytes = rnd(&R) % 3 == 0 ? MB + rnd(&R) % (100 * MB) : 0;
        size_t n = rnd(&R) % 60;
        tw_mp_seg s[64];
        int equal = rnd(&R) % 4 == 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t docs = 1 + (uint32_t)(rnd(&R) % 100000);
            s[i].docs = docs;
            s[i].deleted = rnd(&R) % 3 == 0 ? (uint32_t)(rnd(&R) % docs) : 0;
            s[i].bytes = equal ? MB / 2 : (rnd(&R) % 2 ? rnd(&R) % (200 * MB) : rnd(&R) % (2 * MB));
            if (equal) s[i].deleted = 0;
        }
        tw_mp_merge m[64];
        size_t nm = plan(s, n, &p, m);
        plans++;
        merges += (long)nm;
        size_t end = 0, left = n;
        for (size_t i = 0; i < nm; i++) {
            CHECK(m[i].count >= 1 && m[i].first >= end && m[i].first + m[i].count <= n,
                  "shape %d: merge %zu (%zu+%zu) out of order or range (n %zu)", t, i, m[i].first, m[i].count, n);
            end = m[i].first + m[i].count;
            left -= m[i].count - 1;
        }
        if (p.max_segments)
            CHECK(left <= p.max_segments, "shape %d: %zu segments left, bound %zu", t, left, p.max_segments);
        /* Without a bound, a merge of two or more stays within max_merge_bytes. */
        for (size_t i = 0; i < nm && p.max_merge_bytes && !p.max_segments; i++) {
            uint64_t sum = 0;
            for (size_t j = m[i].first; j < m[i].first + m[i].count; j++)
                sum += s[j].docs ? (uint64_t)((double)s[j].bytes * (s[j].docs - s[j].deleted) / s[j].docs) : 0;
            CHECK(m[i].count == 1 || sum <= p.max_merge_bytes, "shape %d: merge of %zu takes %llu bytes, limit %llu", t,
                  m[i].count, (unsigned long long)sum, (unsigned long long)p.max_merge_bytes);
        }
        if (equal && !p.max_segments && !p.max_merge_bytes) {
            /* n equal segments: floor(n / factor) merges of factor each */
            CHECK(nm == n / p.factor, "shape %d: %zu equal segments, factor %u: %zu merges", t, n, p.factor, nm);
        }
        /* Applied until nothing is left to merge (merged segments keep
         * only live documents and bytes): this ends, and then (merges not
         * limited in size) no run of `factor` adjacent segments of one tier
         * remains. */
        if (!p.max_segments) {
            tw_mp_seg cur[64];
            size_t nc = n, rounds = 0;
            memcpy(cur, s, sizeof *s * n);
            tw_mp_merge mm[64];
            size_t k;
            while ((k = plan(cur, nc, &p, mm)) > 0 && rounds < 64) {
                tw_mp_seg r[64];
                size_t nr = 0, q = 0;
                for (size_t i = 0; i < nc;) {
                    if (q < k && mm[q].first == i) {
                        tw_mp_seg g = {0, 0, 0};
                        for (size_t j = i; j < i + mm[q].count; j++) {
                            uint32_t live = cur[j].docs - cur[j].deleted;
                            g.bytes += (uint64_t)((double)cur[j].bytes * live / cur[j].docs);
                            g.docs += live;
                        }
                        r[nr++] = g;
                        i += mm[q++].count;
                    } else
                        r[nr++] = cur[i++];
                }
                memcpy(cur, r, sizeof *r * nr);
                nc = nr;
                rounds++;
            }
            CHECK(rounds < 64, "shape %d: merging does not settle", t);
            if (p.max_merge_bytes) continue; /* limited merges settle with pairs that do not fit */
            for (size_t i = 0; i < nc;) {
                size_t j = i;
                int ti = tier_of(cur[i].bytes, cur[i].docs ? (double)cur[i].deleted / cur[i].docs : 0, &p);
                while (j < nc &&
                       tier_of(cur[j].bytes, cur[j].docs ? (double)cur[j].deleted / cur[j].docs : 0, &p) == ti)
                    j++;
                CHECK(j - i < p.factor, "shape %d: %zu adjacent segments of tier %d left (factor %u)", t, j - i, ti,
                      p.factor);
                i = j;
            }
        }
    }
    printf("  %ld random shapes, %ld merges planned\n", plans, merges);
}

int main(void) {
    shapes();
    properties();
    if (failures) {
        fprintf(stderr, "test_mergepolicy: %d failures\n", failures);
        return 1;
    }
    printf("test_mergepolicy: ok\n");
    return 0;
}
