/*
 * storecache.h — a small cache of decompressed store blocks, one per segment,
 * shared by every thread that reads the segment's stored documents.
 *
 * Reading one stored document means decompressing its LZ4 block (about
 * TW_STORE_BLOCK bytes for documents of a few hundred bytes) from its start
 * to the end of the document (a block may thus be held in part), and the hits of
 * searches run close together often fall in the same blocks (neighbouring
 * documents, repeated queries). Blocks are kept in a direct-mapped table of
 * TW_SCACHE_SLOTS entries (block number modulo the size), each entry
 * reference-counted, so that a reader copies its document out of a block
 * while another thread replaces the entry (a reader needing more of a block
 * than the cached part decompresses it again, further, and replaces the
 * entry). Blocks larger than
 * TW_SCACHE_MAX_BLOCK are never kept, so the cache holds at most about
 * TW_SCACHE_SLOTS * TW_SCACHE_MAX_BLOCK bytes (and never more than the
 * segment's own store).
 */
#ifndef TW_STORECACHE_H
#define TW_STORECACHE_H

#include <stdatomic.h>
#include <stdint.h>

#define TW_SCACHE_SLOTS 128u
#define TW_SCACHE_MAX_BLOCK (64u * 1024u)

/* One block of len decompressed bytes for ndocs entries, decompressed from
 * its start as far as its reader needed: data[0..avail) holds the first
 * nfull entries whole (off[i]: where entry i starts, i < nfull; off[nfull]:
 * where the first entry not held starts, = len when nfull = ndocs), filled
 * by the segment reader. Immutable once offered to the cache. */
typedef struct tw_sblock {
    _Atomic unsigned refs;
    uint32_t block, len, ndocs;
    uint32_t avail, nfull;
    uint32_t *off; /* ndocs + 1 entries, inside the same allocation */
    char data[];
} tw_sblock;

typedef struct tw_scache tw_scache;

/* A new empty cache, or NULL when memory is short. */
tw_scache *tw_scache_new(void);
/* Frees the cache and drops its references (blocks still held by readers
 * stay valid until they release them). NULL is allowed. */
void tw_scache_free(tw_scache *c);

/* A new block of room for len bytes and ndocs documents (contents, avail,
 * nfull and offsets to fill; avail = nfull = 0) with one reference, or NULL. */
tw_sblock *tw_sblock_new(uint32_t block, uint32_t len, uint32_t ndocs);
/* Drops one reference; the last frees the block. NULL is allowed. */
void tw_sblock_release(tw_sblock *b);

/* The cached block number `block` with a reference taken for the caller, or
 * NULL when it is not cached. Thread-safe. */
tw_sblock *tw_scache_get(tw_scache *c, uint32_t block);
/* Offers b (whose reference stays the caller's) to the cache: it replaces
 * whatever its slot held, unless it is larger than TW_SCACHE_MAX_BLOCK.
 * Thread-safe. */
void tw_scache_put(tw_scache *c, tw_sblock *b);

#endif
