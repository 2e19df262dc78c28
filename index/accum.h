/*
 * accum.h — the in-memory inverted index of documents not yet written.
 *
 * Second stage of the pipeline (analyzer → accumulator → segment writer). The
 * writer feeds it one document at a time: begin_doc, then for each text field
 * every distinct term of the field with its term frequency and positions
 * (add_posting), then end_field, then end_doc. Per (field, term) it keeps one
 * compact byte stream of records — varint doc gap (doc − previous doc − 1,
 * the first from 0), varint tf, tf varint position gaps (the first position,
 * then the differences) — which the segment writer turns into bitmaps, tf
 * blocks and position blocks. Errors are sticky: after an allocation failure
 * every call returns -2.
 */
#ifndef TW_ACCUM_H
#define TW_ACCUM_H

#include <stddef.h>
#include <stdint.h>

typedef struct tw_accum tw_accum;

tw_accum *tw_accum_new(void);
void tw_accum_free(tw_accum *a);

/* Field number for name (registered on first use). -1 if there would be more
 * than TW_MAX_FIELDS fields, -2 when out of memory. */
int tw_accum_field(tw_accum *a, const char *name, size_t len);

/* Field number for name if registered, else -1. */
int tw_accum_field_lookup(const tw_accum *a, const char *name, size_t len);

/* Starts a document: its external id and stored JSON text (both copied).
 * Returns the new doc number (>= 0), -1 when the segment is full, or -2. */
int64_t tw_accum_begin_doc(tw_accum *a, const char *id, size_t idlen, const char *stored, size_t slen);

/* Hash of a term's bytes that add_posting expects (independent of the field,
 * so that analysis threads can compute it). */
uint64_t tw_accum_hash(const char *term, size_t len);

/* Adds the current document to the list of (field, term): term is len bytes
 * (1..255), hash = tw_accum_hash(term, len), rec the record's tail: varint tf
 * then the tf position-gap varints (reclen bytes, positions ascending). Each
 * (field, term) at most once per document. Returns 0 or -2. */
int tw_accum_add_posting(tw_accum *a, uint32_t field, uint64_t hash, const char *term, size_t len,
                         const uint8_t *rec, size_t reclen);

/* Ends a field of the current document: ntoks (its tokens) is added to the
 * document's length in that field. Each field at most once per document. */
int tw_accum_end_field(tw_accum *a, uint32_t field, uint32_t ntoks);

/* Ends the document. */
int tw_accum_end_doc(tw_accum *a);

uint32_t tw_accum_docs(const tw_accum *a);

/* The memory the writer's budget is charged for: a fixed function of the
 * content added (terms, their stream lengths, documents, fields, the longest
 * field), namely the heap of the original accumulator design with its growth
 * policies. It does not depend on the allocator or on this implementation,
 * so segments are cut at the same documents whatever the build. */
size_t tw_accum_bytes(const tw_accum *a);

/* Read side, for the segment writer. */
uint32_t tw_accum_nfields(const tw_accum *a);
const char *tw_accum_field_name(const tw_accum *a, uint32_t field);
const uint32_t *tw_accum_doclens(const tw_accum *a, uint32_t field); /* ndocs entries */
uint32_t tw_accum_nterms(const tw_accum *a);
/* Term ids sorted by (term bytes, field); malloc'd, caller frees. NULL on OOM. */
uint32_t *tw_accum_sorted_terms(const tw_accum *a);
/* The term tid: field, bytes (valid while a lives), documents, stream length. */
void tw_accum_term(const tw_accum *a, uint32_t tid, uint32_t *field, const char **term, size_t *len,
                   uint32_t *df, size_t *stream_len);
/* Copies the stream of tid (stream_len bytes) to out. */
void tw_accum_stream(const tw_accum *a, uint32_t tid, uint8_t *out);
void tw_accum_doc(const tw_accum *a, uint32_t doc, const char **id, size_t *idlen,
                  const char **stored, size_t *slen);

#endif
