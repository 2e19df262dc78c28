/*
 * params.c — defaults of the search parameters.
 */
#include "params.h"

#include <string.h>

void tw_params_default(tw_params *p) {
    memset(p, 0, sizeof *p);
    p->limit = 10;
    p->snippets = 1;
    p->k1 = 1.2;
    p->b = 0.75;
    p->bm25f = 1; /* chosen on the relevance benchmark's tune split (BENCHMARKS.md) */
    p->prox = 0;
    p->prox_weight = 0.15; /* chosen on the relevance tune split (BENCHMARKS.md) */
    p->prox_window = 20;
}

double tw_params_weight(const tw_params *p, const char *field) {
    for (size_t i = 0; p && i < p->nweights; i++)
        if (strcmp(p->weights[i].field, field) == 0) return p->weights[i].weight;
    return strcmp(field, "title") == 0 ? 2.0 : 1.0;
}
