/*
 * qctx.c — query contexts: an analyzer plus the executors' scratch memory.
 */
#include "qctx.h"

#include <stdlib.h>

#include "analyzer.h"
#include "kernels.h"

tw_qctx *tw_qctx_new(const char *lang) {
    tw_qctx *c = calloc(1, sizeof *c);
    if (!c || tw_analyzer_new(lang, &c->an) != 0 || !(c->and_scratch = malloc(TW_AND_SCRATCH_BYTES))) {
        tw_qctx_free(c);
        return NULL;
    }
    return c;
}

void tw_qctx_free(tw_qctx *c) {
    if (!c) return;
    tw_analyzer_free(c->an);
    free(c->and_scratch);
    free(c->buf);
    free(c);
}

uint32_t *tw_qctx_buf(tw_qctx *c, size_t n) {
    if (n > c->buf_cap) {
        size_t cap = c->buf_cap ? c->buf_cap : 4096;
        while (cap < n) cap *= 2;
        uint32_t *nb = realloc(c->buf, sizeof *nb * cap);
        if (!nb) return NULL;
        c->buf = nb;
        c->buf_cap = cap;
    }
    return c->buf;
}
