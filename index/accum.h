/*
 * accum.h — the in-memory inverted index of documents not yet written.
 *
 * Second stage of the pipeline (analyzer → accumulator → segment writer). The
 * writer feeds it one document at a time: begin_doc (id and stored text),
 * then for each text field every distinct term of the field with its term
 * frequency and positions (add_posting, or add_postings for many), then
 * end_field, then end_doc. Per (field, term) it keeps one compact byte stream
 * of records — varint doc gap (doc − previous doc − 1, the first from 0),
 * varint tf, tf varint position gaps (the first position, then the
 * differences) — which the segment writer turns into bitmaps, tf blocks and
 * position blocks; the stored texts go straight into compressed store
 * blocks. One thread at a time; the read side may be used by several threads
 * at once. Failures are trawl_rc codes (error.h) and sticky: after an
 * allocation failure (TRAWL_ENOMEM) or a stream outgrowing 4 GiB
 * (TRAWL_ELIMIT) every call returns it.
 */
#ifndef TW_ACCUM_H
#define TW_ACCUM_H

#include <stddef.h>
#include <stdint.h>

typedef struct tw_accum tw_accum;

tw_accum *tw_accum_new(void);
void tw_accum_free(tw_accum *a);

/* Field number for name (registered on first use). TRAWL_ELIMIT if there
 * would be more than TW_MAX_FIELDS fields, TRAWL_ENOMEM (sticky). */
int tw_accum_field(tw_accum *a, const char *name, size_t len);

/* Field number for name if registered, else TRAWL_ENOTFOUND. */
int tw_accum_field_lookup(const tw_accum *a, const char *name, size_t len);

/* Is field number `field` registered under name? */
int tw_accum_field_is(const tw_accum *a, uint32_t field, const char *name, size_t len);

/* Starts a document: its external id (copied) and stored JSON text, which
 * goes at once into the document store: blocks of documents (varint length +
 * text) cut as in the STORE section (a block closes once it holds
 * TW_STORE_BLOCK bytes), each LZ4-compressed when it closes. Returns the new
 * doc number (>= 0), TRAWL_ELIMIT when the segment is full (not sticky), or
 * the sticky failure. */
int64_t tw_accum_begin_doc(tw_accum *a, const char *id, size_t idlen, const char *stored, size_t slen);

/* Hash of a term's bytes that add_posting expects (independent of the field,
 * so that analysis threads can compute it): tw_hash_bytes of shortkey.h. */
uint64_t tw_accum_hash(const char *term, size_t len);

/* Adds the current document to the list of (field, term): term is len bytes
 * (1..255), hash = tw_accum_hash(term, len), rec the record's tail: varint tf
 * then the tf position-gap varints (reclen bytes, positions ascending). Each
 * (field, term) at most once per document. Returns 0 or the sticky failure. */
int tw_accum_add_posting(tw_accum *a, uint32_t field, uint64_t hash, const char *term, size_t len, const uint8_t *rec,
                         size_t reclen);

/* One posting for tw_accum_add_postings. */
typedef struct tw_posting {
    uint64_t hash;      /* tw_accum_hash(term, len) */
    const char *term;   /* len bytes, 1..255 */
    const uint8_t *rec; /* reclen bytes: varint tf, then the position gaps */
    uint32_t reclen;
    uint32_t hint;  /* prefetch state: set by tw_accum_add_postings, 0 initially */
    uint32_t field; /* for postings ahead (see below): the likely field number */
    uint32_t len;
} tw_posting;

/* Adds p[0..n), postings of field in the current document, like
 * tw_accum_add_posting. p[n..m) are the postings that will be added next
 * (their field member a guess, their hint 0 or set by an earlier call on the
 * same accumulator): their memory is prefetched meanwhile, which hides the
 * cache misses of the hash table, the term and the stream. Returns 0 or the
 * sticky failure. */
int tw_accum_add_postings(tw_accum *a, uint32_t field, tw_posting *p, size_t n, size_t m);

/* Ends a field of the current document: ntoks (its tokens) is added to the
 * document's length in that field. Each field at most once per document. */
int tw_accum_end_field(tw_accum *a, uint32_t field, uint32_t ntoks);

/* Ends the document. */
int tw_accum_end_doc(tw_accum *a);

uint32_t tw_accum_docs(const tw_accum *a);

/* The memory the accumulator really holds, which the writer's budget is
 * charged for: the used part of its term and stream arenas, of the id chunks
 * and of the compressed store (the rest of a doubled buffer is pages not yet
 * touched), the hash table (a page per term at most), document arrays and
 * the open store block.
 * Deterministic for a given content (not counting the allocator's own
 * overhead), so segments are cut at the same documents whatever the build. */
size_t tw_accum_bytes(const tw_accum *a);

/* Read side, for the segment writer. */
uint32_t tw_accum_nfields(const tw_accum *a);
const char *tw_accum_field_name(const tw_accum *a, uint32_t field);
const uint32_t *tw_accum_doclens(const tw_accum *a, uint32_t field); /* ndocs entries */
uint32_t tw_accum_nterms(const tw_accum *a);
/* Term ids sorted by (term bytes, field); malloc'd, caller frees. NULL on OOM. */
uint32_t *tw_accum_sorted_terms(const tw_accum *a);
/* The term tid: field, bytes (valid while a lives), documents, stream length. */
void tw_accum_term(const tw_accum *a, uint32_t tid, uint32_t *field, const char **term, size_t *len, uint32_t *df,
                   size_t *stream_len);
/* Copies the stream of tid (stream_len bytes) to out. */
void tw_accum_stream(const tw_accum *a, uint32_t tid, uint8_t *out);
/* The external id of doc (valid while a lives). */
void tw_accum_doc(const tw_accum *a, uint32_t doc, const char **id, size_t *idlen);

/* The document store: nblocks closed blocks (per block its first document,
 * compressed and raw sizes; their LZ4 data back to back in data), then the
 * raw bytes of the open block (tail, tail_len bytes, possibly 0), whose
 * first document is tail_first. All valid while a lives. */
typedef struct tw_accum_store {
    uint32_t nblocks;
    const uint32_t *first, *clen, *ulen;
    const uint8_t *data;
    size_t data_len;
    const uint8_t *tail;
    size_t tail_len;
    uint32_t tail_first;
} tw_accum_store;
void tw_accum_get_store(const tw_accum *a, tw_accum_store *st);

#endif
