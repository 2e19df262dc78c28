/*
 * colcache.c — the per-segment cache of derived analytics data (contract in
 * colcache.h): a short list of immutable entries under a mutex taken only to
 * look up and to insert, never while building.
 */
#include "colcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    void *key;
    size_t keylen;
    void *data;
    size_t bytes;
    tw_ccache_free_fn free_fn;
} entry;

struct tw_ccache {
    pthread_mutex_t mu;
    entry e[TW_CCACHE_MAX_ENTRIES];
    unsigned n;
    size_t bytes;
};

tw_ccache *tw_ccache_new(void) {
    tw_ccache *c = calloc(1, sizeof *c);
    if (c && pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

void tw_ccache_free(tw_ccache *c) {
    if (!c) return;
    for (unsigned i = 0; i < c->n; i++) {
        c->e[i].free_fn(c->e[i].data);
        free(c->e[i].key);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* The data of the entry named key, or NULL. Call with the lock held. */
static void *find(const tw_ccache *c, const void *key, size_t keylen) {
    for (unsigned i = 0; i < c->n; i++)
        if (c->e[i].keylen == keylen && !memcmp(c->e[i].key, key, keylen)) return c->e[i].data;
    return NULL;
}

int tw_ccache_get(tw_ccache *c, const void *key, size_t keylen, tw_ccache_build_fn build, tw_ccache_free_fn fr,
                  void *ctx, tw_ccache_ref *ref, char *err, size_t errcap) {
    ref->data = NULL;
    ref->free_fn = NULL;
    if (c) {
        pthread_mutex_lock(&c->mu);
        void *d = find(c, key, keylen);
        pthread_mutex_unlock(&c->mu);
        if (d) {
            ref->data = d;
            return 0;
        }
    }
    void *data = NULL;
    size_t bytes = 0;
    int rc = build(ctx, &data, &bytes, err, errcap);
    if (rc) return rc;
    if (!c) {
        ref->data = data;
        ref->free_fn = fr;
        return 0;
    }
    void *k = malloc(keylen ? keylen : 1);
    pthread_mutex_lock(&c->mu);
    void *d = find(c, key, keylen);
    if (!d && k && c->n < TW_CCACHE_MAX_ENTRIES && bytes <= TW_CCACHE_MAX_BYTES - c->bytes) {
        entry *e = &c->e[c->n++];
        memcpy(k, key, keylen);
        e->key = k;
        e->keylen = keylen;
        e->data = data;
        e->bytes = bytes;
        e->free_fn = fr;
        c->bytes += bytes;
        k = NULL;
        d = data;
        data = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    free(k);
    if (d) {
        /* Kept now, or another thread's copy was there first. */
        if (data) fr(data);
        ref->data = d;
        return 0;
    }
    ref->data = data; /* over the limits: the caller's alone */
    ref->free_fn = fr;
    return 0;
}

void tw_ccache_release(tw_ccache_ref *ref) {
    if (ref->free_fn && ref->data) ref->free_fn(ref->data);
    ref->data = NULL;
    ref->free_fn = NULL;
}
