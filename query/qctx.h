/*
 * qctx.h — a query context: what one search needs besides the view and is
 * costly to make, so the engine keeps idle ones for later searches: an
 * analyzer (single-threaded) and scratch memory the executors reuse from
 * query to query. A context is used by one search at a time.
 */
#ifndef TW_QCTX_H
#define TW_QCTX_H

#include <stddef.h>
#include <stdint.h>

struct tw_analyzer;

typedef struct tw_qctx {
    struct tw_analyzer *an;
    void *and_scratch; /* TW_AND_SCRATCH_BYTES for tw_and / tw_and_count */
    uint32_t *buf;     /* candidate ids and ranks */
    size_t buf_cap;
} tw_qctx;

/* A new context for language lang; NULL when out of memory (or lang is not
 * a language tw_analyzer_new accepts). Free with tw_qctx_free. */
tw_qctx *tw_qctx_new(const char *lang);
void tw_qctx_free(tw_qctx *c);

/* c->buf with room for n entries (grown as needed), or NULL when out of memory. */
uint32_t *tw_qctx_buf(tw_qctx *c, size_t n);

#endif
