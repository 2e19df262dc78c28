/*
 * gstats.h — collection-wide term statistics for BM25, as a caller supplies
 * them to a search (so that partitions of one collection score like a single
 * index) or as the planner records them for a query: live documents, per
 * field the live documents having it and their tokens, and per (field, term)
 * the live documents containing the term in that field.
 */
#ifndef TW_GSTATS_H
#define TW_GSTATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct tw_gfield {
    char *name;
    uint64_t docs, tokens;
} tw_gfield;

typedef struct tw_gterm {
    char *field, *term;
    uint64_t df;
} tw_gterm;

typedef struct tw_gstats {
    uint64_t docs;
    tw_gfield *fields;
    size_t nfields, fcap;
    tw_gterm *terms;
    size_t nterms, tcap;
} tw_gstats;

/* Adds field name's statistics (a repeated name replaces the earlier ones).
 * Returns 0 or TRAWL_ENOMEM. */
int tw_gstats_set_field(tw_gstats *g, const char *name, uint64_t docs, uint64_t tokens);

/* Appends the document frequency of term[0..len) in field; call
 * tw_gstats_finish before any lookup. Returns 0 or TRAWL_ENOMEM. */
int tw_gstats_add_term(tw_gstats *g, const char *field, const char *term, size_t len, uint64_t df);

/* Sorts the terms by (field, term) and merges equal keys: their dfs summed
 * when sum, else the first's kept. */
void tw_gstats_finish(tw_gstats *g, int sum);

/* The statistics of field name, or NULL. */
const tw_gfield *tw_gstats_field(const tw_gstats *g, const char *name);

/* The entry of term[0..len) in field (after tw_gstats_finish), or NULL. */
const tw_gterm *tw_gstats_term(const tw_gstats *g, const char *field, const char *term, size_t len);

/* Frees everything; *g is then empty. */
void tw_gstats_clear(tw_gstats *g);

#endif
