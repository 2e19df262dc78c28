/*
 * test_trends_math.c — the pure parts of emerging terms and bursts:
 * Kleinberg's two-state automaton (query/burst.h) against exhaustive search
 * over every state sequence of small random histograms, and the JLH and
 * chi-square scores (query/signif.h) against a by-hand value and Pearson's
 * sum over the four cells of the contingency table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "burst.h"
#include "error.h"
#include "signif.h"

static int failures;
#include "testutil.h"

/* -ln of the binomial likelihood without the coefficient, computed directly. */
static double emit(double p, uint64_t r, uint64_t d) {
    if (d == 0) return 0;
    double v = 0;
    for (uint64_t i = 0; i < r; i++) v -= log(p);
    for (uint64_t i = r; i < d; i++) v -= log(1 - p);
    return v;
}

static void test_bursts(void) {
    rng g = {7};
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 1 + below(&g, 12);
        uint64_t r[12], d[12], R = 0;
        int peak = (int)below(&g, (uint64_t)n);
        for (size_t t = 0; t < n; t++) {
            d[t] = below(&g, 4) == 0 ? 0 : 1 + below(&g, 40);
            uint64_t lim = d[t] / ((size_t)abs((int)t - peak) < 2 && iter % 2 ? 1 : 5);
            r[t] = d[t] ? below(&g, lim + 1) : 0;
            R += r[t];
        }
        double s = 1.5 + (double)below(&g, 3), gamma = (double)below(&g, 3) * 0.5;
        uint8_t st[12];
        tw_burst *b;
        size_t nb;
        CHECK(tw_bursts(r, d, n, s, gamma, st, &b, &nb) == 0, "tw_bursts");
        if (R == 0) {
            CHECK(nb == 0, "no relevant documents, %zu bursts", nb);
            free(b);
            continue;
        }
        uint64_t D = 0;
        for (size_t t = 0; t < n; t++) D += d[t];
        double p0 = (double)R / (double)D, p1 = fmin(s * p0, (1 + p0) / 2);
        double best = INFINITY, got = 0;
        for (uint32_t mask = 0; mask < (1u << n); mask++) {
            double c = 0;
            int prev = 0;
            for (size_t t = 0; t < n; t++) {
                int q = (mask >> t) & 1;
                if (q && !prev) c += gamma * log((double)n);
                c += emit(q ? p1 : p0, r[t], d[t]);
                prev = q;
            }
            if (c < best) best = c;
            uint32_t vmask = 0;
            for (size_t t = 0; t < n; t++) vmask |= (uint32_t)st[t] << t;
            if (mask == vmask) got = c;
        }
        CHECK(fabs(got - best) <= 1e-9 * (1 + fabs(best)), "iter %d: viterbi %.12g, exhaustive %.12g", iter, got, best);
        /* Bursts are exactly the runs of state 1, weighted by the saved cost. */
        size_t k = 0;
        for (size_t t = 0; t < n; t++) {
            if (!st[t] || (t > 0 && st[t - 1])) continue;
            size_t e = t;
            double w = 0;
            while (e < n && st[e]) {
                w += emit(p0, r[e], d[e]) - emit(p1, r[e], d[e]);
                e++;
            }
            CHECK(k < nb && b[k].start == t && b[k].end == e - 1 && fabs(b[k].weight - w) < 1e-9 * (1 + fabs(w)),
                  "iter %d: burst %zu", iter, k);
            CHECK(w > 0, "iter %d: a burst saves cost (%g)", iter, w);
            k++;
        }
        CHECK(k == nb, "iter %d: %zu runs, %zu bursts", iter, k, nb);
        free(b);
    }
    /* A planted burst is found; a flat series has none. */
    uint64_t r[20], d[20];
    for (int t = 0; t < 20; t++) {
        d[t] = 100;
        r[t] = (t >= 8 && t <= 11) ? 40 : 2;
    }
    tw_burst *b;
    size_t nb;
    CHECK(tw_bursts(r, d, 20, 2, 1, NULL, &b, &nb) == 0 && nb == 1 && b[0].start == 8 && b[0].end == 11,
          "planted burst: %zu", nb);
    free(b);
    for (int t = 0; t < 20; t++) r[t] = 5;
    CHECK(tw_bursts(r, d, 20, 2, 1, NULL, &b, &nb) == 0 && nb == 0, "flat: %zu", nb);
    free(b);
    r[3] = 101;
    CHECK(tw_bursts(r, d, 20, 2, 1, NULL, &b, &nb) == TRAWL_EINVAL, "r > d");
    r[3] = 5;
    CHECK(tw_bursts(r, d, 20, 1, 1, NULL, &b, &nb) == TRAWL_EINVAL, "s = 1");
    CHECK(tw_bursts(r, d, 20, 2, NAN, NULL, &b, &nb) == TRAWL_EINVAL, "gamma NaN");
    CHECK(tw_bursts(r, d, 0, 2, 1, NULL, &b, &nb) == 0 && nb == 0, "empty");
}

/* Pearson's chi-square over the four cells: sum (O - E)^2 / E. */
static double pearson(double a, double b, double c, double e) {
    double o[2][2] = {{a, b - a}, {c, e - c}}, n = b + e;
    double row[2] = {b, e}, col[2] = {a + c, (b - a) + (e - c)}, x = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double ex = row[i] * col[j] / n;
            x += (o[i][j] - ex) * (o[i][j] - ex) / ex;
        }
    return x;
}

static void test_scores(void) {
    /* By hand: pf = 0.1, pb = 0.02: (0.08) * 5 = 0.4. */
    CHECK(fabs(tw_sig_jlh(10, 100, 20, 1000) - 0.4) < 1e-12, "jlh %g", tw_sig_jlh(10, 100, 20, 1000));
    CHECK(tw_sig_jlh(1, 100, 20, 1000) == 0, "under-represented");
    CHECK(tw_sig_jlh(0, 100, 20, 1000) == 0 && tw_sig_jlh(5, 0, 20, 1000) == 0, "zero counts");
    rng g = {99};
    for (int i = 0; i < 20000; i++) {
        uint64_t fs = 1 + below(&g, 1000), rs = 1 + below(&g, 5000);
        uint64_t fd = below(&g, fs + 1), rd = below(&g, rs + 1);
        double got = tw_sig_chi2(fd, fs, rd, rs);
        if (fd + rd == 0 || fd + rd == fs + rs) {
            CHECK(got == 0, "degenerate margin: %g", got);
            continue;
        }
        if ((double)fd / (double)fs < (double)rd / (double)rs) {
            CHECK(isinf(got) && got < 0, "negative association: %g", got);
            continue;
        }
        double want = pearson((double)fd, (double)fs, (double)rd, (double)rs);
        CHECK(fabs(got - want) <= 1e-7 * (1 + want), "chi2(%llu/%llu, %llu/%llu) = %.10g, Pearson %.10g",
              (unsigned long long)fd, (unsigned long long)fs, (unsigned long long)rd, (unsigned long long)rs, got,
              want);
    }
}

int main(void) {
    test_bursts();
    test_scores();
    if (failures) fprintf(stderr, "%d failures\n", failures);
    return failures != 0;
}
