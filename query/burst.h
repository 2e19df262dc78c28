/*
 * burst.h — Kleinberg's two-state burst automaton (J. Kleinberg, "Bursty and
 * hierarchical structure in streams", 2002, the batched model) over a
 * histogram: in bucket t, r[t] of d[t] documents are relevant (contain a
 * term). The base state emits relevant documents with probability
 * p0 = R / D (totals over all buckets), the burst state with
 * p1 = min(s * p0, (1 + p0) / 2). Being in state i at t costs
 * -ln(p_i^r (1 - p_i)^(d - r)); entering the burst state costs gamma * ln(n)
 * (n buckets), leaving it is free; the automaton starts in the base state.
 * The cheapest state sequence (Viterbi) gives the bursts: maximal runs of the
 * burst state, each weighted by the cost it saves over the base state,
 * sum over the run of cost(0, t) - cost(1, t) (> 0).
 */
#ifndef TW_BURST_H
#define TW_BURST_H

#include <stddef.h>
#include <stdint.h>

typedef struct tw_burst {
    size_t start, end; /* first and last bucket index of the run, inclusive */
    double weight;
} tw_burst;

/* Cost of state (0 base, 1 burst) for r relevant of d documents at emission
 * probabilities p0 / p1 as above; 0 when d == 0. */
double tw_burst_state_cost(int state, uint64_t r, uint64_t d, double p0, double p1);

/* The emission probabilities for totals R of D and scaling s (> 1):
 * *p0 = R / D, *p1 = min(s * p0, (1 + p0) / 2). Returns 0, or TRAWL_EINVAL
 * when R == 0, R > D or s <= 1 (then there are no bursts). */
int tw_burst_probs(uint64_t R, uint64_t D, double s, double *p0, double *p1);

/* Runs the automaton over r[0..n), d[0..n) (r[t] <= d[t]) with scaling s > 1
 * and transition factor gamma >= 0. On success returns 0, the optimal state
 * of every bucket in states[0..n) when states is not NULL, and the bursts in
 * *out (malloc'd, *nout of them, in time order; NULL when none). When no
 * document is relevant there are no bursts. Returns TRAWL_EINVAL for bad
 * arguments (r[t] > d[t], s <= 1, gamma < 0 or not finite) or TRAWL_ENOMEM. */
int tw_bursts(const uint64_t *r, const uint64_t *d, size_t n, double s, double gamma, uint8_t *states, tw_burst **out,
              size_t *nout);

#endif
