/*
 * colcache.h — per-segment cache of derived, immutable analytics data: arrays
 * computed once from a segment's typed fields (e.g. every document's
 * histogram bucket for a date field, unit and time zone; the order of a
 * keyword field's values by document count) and then shared by every search,
 * every thread and every index that holds the segment (segments are shared
 * across reopen).
 *
 * An entry is named by a key (bytes chosen by the caller, e.g. "h\0date\0
 * month\0+0"), built by the caller's function on first use, and kept until
 * the segment closes: entries never change and are never evicted, so a
 * reader needs no reference count. Building happens outside the lock (two
 * threads may build the same entry at once; the first to insert wins and the
 * other's copy is freed).
 *
 * Memory bound: a segment keeps at most TW_CCACHE_MAX_ENTRIES entries and at
 * most TW_CCACHE_MAX_BYTES bytes of them (as reported by the builders); past
 * either limit a request still gets its data, built for it alone, and frees
 * it after use (tw_ccache_release). Entries are a few bytes per document or
 * per value (see the callers), so for a segment of n documents the cache
 * stays below min(TW_CCACHE_MAX_BYTES, about 4n bytes per entry).
 */
#ifndef TW_COLCACHE_H
#define TW_COLCACHE_H

#include <stddef.h>

#define TW_CCACHE_MAX_ENTRIES 32u
#define TW_CCACHE_MAX_BYTES ((size_t)256 << 20)

typedef struct tw_ccache tw_ccache;

/* Builds an entry: 0 and *data (freed later with the matching free function)
 * and *bytes (its memory footprint), or a trawl_rc (message in err). */
typedef int (*tw_ccache_build_fn)(void *ctx, void **data, size_t *bytes, char *err, size_t errcap);
typedef void (*tw_ccache_free_fn)(void *data);

/* A new empty cache, or NULL when memory is short. */
tw_ccache *tw_ccache_new(void);
/* Frees the cache and every entry. NULL is allowed. */
void tw_ccache_free(tw_ccache *c);

/* A handle on one entry's data while a search uses it. */
typedef struct tw_ccache_ref {
    void *data;
    tw_ccache_free_fn free_fn; /* non-NULL when the data is the caller's (not kept) */
} tw_ccache_ref;

/* The entry named key[0..keylen) of c: found, or built with build(ctx) and
 * kept when the limits allow. c may be NULL (nothing is kept). Returns 0 and
 * *ref (give it back with tw_ccache_release), or the builder's trawl_rc.
 * Thread-safe. */
int tw_ccache_get(tw_ccache *c, const void *key, size_t keylen, tw_ccache_build_fn build, tw_ccache_free_fn fr,
                  void *ctx, tw_ccache_ref *ref, char *err, size_t errcap);
/* Ends the use of *ref (frees the data when it was not kept). */
void tw_ccache_release(tw_ccache_ref *ref);

#endif
