/*
 * burst.c — Kleinberg's two-state burst detection (burst.h): Viterbi over
 * the buckets with back pointers, then the runs of the burst state.
 */
#include "burst.h"

#include <math.h>
#include <stdlib.h>

#include "error.h"

double tw_burst_state_cost(int state, uint64_t r, uint64_t d, double p0, double p1) {
    if (d == 0) return 0;
    double p = state ? p1 : p0;
    double c = 0;
    if (r) c -= (double)r * log(p);
    if (d - r) c -= (double)(d - r) * log1p(-p);
    return c;
}

int tw_burst_probs(uint64_t R, uint64_t D, double s, double *p0, double *p1) {
    if (R == 0 || R > D || !(s > 1) || !isfinite(s)) return TRAWL_EINVAL;
    *p0 = (double)R / (double)D;
    double a = s * *p0, b = (1 + *p0) / 2;
    *p1 = a < b ? a : b;
    return 0;
}

int tw_bursts(const uint64_t *r, const uint64_t *d, size_t n, double s, double gamma, uint8_t *states, tw_burst **out,
              size_t *nout) {
    *out = NULL;
    *nout = 0;
    if (!(s > 1) || !isfinite(s) || !(gamma >= 0) || !isfinite(gamma)) return TRAWL_EINVAL;
    uint64_t R = 0, D = 0;
    for (size_t t = 0; t < n; t++) {
        if (r[t] > d[t]) return TRAWL_EINVAL;
        R += r[t];
        D += d[t];
    }
    double p0, p1;
    if (n == 0 || tw_burst_probs(R, D, s, &p0, &p1) != 0) {
        if (states)
            for (size_t t = 0; t < n; t++) states[t] = 0;
        return 0;
    }
    /* from1[t]: the best path into state 1 at t comes from state 1 at t-1;
     * from0[t]: the best path into state 0 at t comes from state 1. */
    uint8_t *back = malloc(2 * n);
    uint8_t *st = states ? states : malloc(n);
    if (!back || !st) {
        free(back);
        if (!states) free(st);
        return TRAWL_ENOMEM;
    }
    double up = gamma * log((double)n);
    double c0 = 0, c1 = INFINITY; /* before the first bucket: base state */
    for (size_t t = 0; t < n; t++) {
        double e0 = tw_burst_state_cost(0, r[t], d[t], p0, p1), e1 = tw_burst_state_cost(1, r[t], d[t], p0, p1);
        /* Ties prefer the base state and staying put. */
        double n0 = c0 <= c1 ? c0 : c1;
        back[2 * t] = c0 <= c1 ? 0 : 1;
        double n1 = c1 <= c0 + up ? c1 : c0 + up;
        back[2 * t + 1] = c1 <= c0 + up ? 1 : 0;
        c0 = n0 + e0;
        c1 = n1 + e1;
    }
    uint8_t s_t = c0 <= c1 ? 0 : 1;
    for (size_t t = n; t-- > 0;) {
        st[t] = s_t;
        s_t = back[2 * t + s_t];
    }
    free(back);
    size_t nb = 0, cap = 0;
    tw_burst *b = NULL;
    int rc = 0;
    for (size_t t = 0; t < n;) {
        if (!st[t]) {
            t++;
            continue;
        }
        size_t e = t;
        double w = 0;
        while (e < n && st[e]) {
            w += tw_burst_state_cost(0, r[e], d[e], p0, p1) - tw_burst_state_cost(1, r[e], d[e], p0, p1);
            e++;
        }
        if (nb == cap) {
            size_t nc = cap ? 2 * cap : 8;
            tw_burst *nbuf = realloc(b, nc * sizeof *b);
            if (!nbuf) {
                rc = TRAWL_ENOMEM;
                break;
            }
            b = nbuf;
            cap = nc;
        }
        b[nb].start = t;
        b[nb].end = e - 1;
        b[nb].weight = w;
        nb++;
        t = e;
    }
    if (!states) free(st);
    if (rc) {
        free(b);
        return rc;
    }
    *out = b;
    *nout = nb;
    return 0;
}
