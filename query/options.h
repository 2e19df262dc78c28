/*
 * options.h — the layout of trawl_options (opaque in the public API) as the
 * query layer reads it.
 */
#ifndef TW_OPTIONS_H
#define TW_OPTIONS_H

#include <stddef.h>

#include "trawl.h"

typedef struct tw_field_weight {
    char *field;
    double weight;
} tw_field_weight;

struct trawl_options {
    size_t limit, offset;
    int use_or, explain, snippets, count_only, exhaustive;
    double k1, b;
    tw_field_weight *weights;
    size_t nweights;
};

/* Weight of field for unqualified terms: the option if set, else 2 for
 * "title" and 1 for every other field. */
double tw_options_weight(const trawl_options *o, const char *field);

#endif
