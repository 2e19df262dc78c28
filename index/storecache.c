/*
 * storecache.c — the per-segment cache of decompressed store blocks
 * (contract in storecache.h).
 *
 * A mutex guards the slot table only: lookups and replacements take it for a
 * few instructions, never while decompressing or copying. A block leaves the
 * cache by losing the cache's reference; readers that took their own
 * reference keep it alive until they release it.
 */
#include "storecache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

struct tw_scache {
    pthread_mutex_t mu;
    tw_sblock *slot[TW_SCACHE_SLOTS];
};

tw_scache *tw_scache_new(void) {
    tw_scache *c = calloc(1, sizeof *c);
    if (c && pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

void tw_scache_free(tw_scache *c) {
    if (!c) return;
    for (unsigned i = 0; i < TW_SCACHE_SLOTS; i++) tw_sblock_release(c->slot[i]);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

tw_sblock *tw_sblock_new(uint32_t block, uint32_t len, uint32_t ndocs) {
    /* data, padded to 4 bytes, then the offsets. */
    size_t pad = ((size_t)len + 3) & ~(size_t)3;
    if (ndocs >= (SIZE_MAX - sizeof(tw_sblock) - pad) / 4) return NULL;
    tw_sblock *b = malloc(sizeof *b + pad + 4 * ((size_t)ndocs + 1));
    if (!b) return NULL;
    atomic_init(&b->refs, 1);
    b->block = block;
    b->len = len;
    b->ndocs = ndocs;
    b->avail = b->nfull = 0;
    b->off = (uint32_t *)(void *)(b->data + pad);
    return b;
}

void tw_sblock_release(tw_sblock *b) {
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) free(b);
}

tw_sblock *tw_scache_get(tw_scache *c, uint32_t block) {
    pthread_mutex_lock(&c->mu);
    tw_sblock *b = c->slot[block % TW_SCACHE_SLOTS];
    if (b && b->block == block)
        atomic_fetch_add(&b->refs, 1);
    else
        b = NULL;
    pthread_mutex_unlock(&c->mu);
    return b;
}

void tw_scache_put(tw_scache *c, tw_sblock *b) {
    if (b->len > TW_SCACHE_MAX_BLOCK) return;
    atomic_fetch_add(&b->refs, 1); /* the cache's own */
    pthread_mutex_lock(&c->mu);
    tw_sblock **s = &c->slot[b->block % TW_SCACHE_SLOTS], *old = *s;
    *s = b;
    pthread_mutex_unlock(&c->mu);
    tw_sblock_release(old);
}
