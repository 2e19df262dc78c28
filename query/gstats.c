/*
 * gstats.c — the table of collection-wide term statistics (gstats.h): fields
 * in a short list, terms in an array sorted by (field, term) for lookups.
 */
#include "gstats.h"

#include <stdlib.h>
#include <string.h>

#include "trawl.h"

int tw_gstats_set_field(tw_gstats *g, const char *name, uint64_t docs, uint64_t tokens) {
    for (size_t i = 0; i < g->nfields; i++)
        if (strcmp(g->fields[i].name, name) == 0) {
            g->fields[i].docs = docs;
            g->fields[i].tokens = tokens;
            return 0;
        }
    if (g->nfields == g->fcap) {
        size_t nc = g->fcap ? 2 * g->fcap : 8;
        tw_gfield *nf = realloc(g->fields, sizeof *nf * nc);
        if (!nf) return TRAWL_ENOMEM;
        g->fields = nf;
        g->fcap = nc;
    }
    tw_gfield *e = &g->fields[g->nfields];
    if (!(e->name = strdup(name))) return TRAWL_ENOMEM;
    e->docs = docs;
    e->tokens = tokens;
    g->nfields++;
    return 0;
}

int tw_gstats_add_term(tw_gstats *g, const char *field, const char *term, size_t len, uint64_t df) {
    if (g->nterms == g->tcap) {
        size_t nc = g->tcap ? 2 * g->tcap : 16;
        tw_gterm *nt = realloc(g->terms, sizeof *nt * nc);
        if (!nt) return TRAWL_ENOMEM;
        g->terms = nt;
        g->tcap = nc;
    }
    char *f = strdup(field), *t = strndup(term, len);
    if (!f || !t) {
        free(f);
        free(t);
        return TRAWL_ENOMEM;
    }
    tw_gterm *e = &g->terms[g->nterms++];
    e->field = f;
    e->term = t;
    e->df = df;
    return 0;
}

static int cmp_key(const char *f1, const char *t1, size_t l1, const char *f2, const char *t2) {
    int c = strcmp(f1, f2);
    if (c) return c;
    size_t l2 = strlen(t2);
    c = memcmp(t1, t2, l1 < l2 ? l1 : l2);
    if (c) return c;
    return l1 < l2 ? -1 : l1 > l2;
}

static int cmp_terms(const void *a, const void *b) {
    const tw_gterm *x = a, *y = b;
    return cmp_key(x->field, x->term, strlen(x->term), y->field, y->term);
}

void tw_gstats_finish(tw_gstats *g, int sum) {
    if (g->nterms < 2) return;
    qsort(g->terms, g->nterms, sizeof *g->terms, cmp_terms);
    size_t o = 1;
    for (size_t i = 1; i < g->nterms; i++) {
        if (cmp_terms(&g->terms[o - 1], &g->terms[i]) == 0) {
            if (sum) g->terms[o - 1].df += g->terms[i].df;
            free(g->terms[i].field);
            free(g->terms[i].term);
        } else {
            g->terms[o++] = g->terms[i];
        }
    }
    g->nterms = o;
}

const tw_gfield *tw_gstats_field(const tw_gstats *g, const char *name) {
    for (size_t i = 0; i < g->nfields; i++)
        if (strcmp(g->fields[i].name, name) == 0) return &g->fields[i];
    return NULL;
}

const tw_gterm *tw_gstats_term(const tw_gstats *g, const char *field, const char *term, size_t len) {
    size_t lo = 0, hi = g->nterms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_key(field, term, len, g->terms[mid].field, g->terms[mid].term);
        if (c == 0) return &g->terms[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

void tw_gstats_clear(tw_gstats *g) {
    for (size_t i = 0; i < g->nfields; i++) free(g->fields[i].name);
    for (size_t i = 0; i < g->nterms; i++) {
        free(g->terms[i].field);
        free(g->terms[i].term);
    }
    free(g->fields);
    free(g->terms);
    memset(g, 0, sizeof *g);
}
