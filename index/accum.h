/*
 * accum.h — the in-memory inverted index of documents not yet written.
 *
 * Second stage of the pipeline (analyzer → accumulator → segment writer). The
 * writer feeds it one document at a time: begin_doc, then for each field the
 * field's tokens followed by end_field, then end_doc. Per (field, term) it keeps
 * one compact byte stream of (doc gap, tf, position gaps) varints; the segment
 * writer turns the streams into bitmaps, tf blocks and position blocks.
 * Errors are sticky: after an allocation failure every call returns -2.
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

/* Starts a document: its external id and stored JSON text (copied). Returns
 * the new doc number (>= 0) or -2. */
int64_t tw_accum_begin_doc(tw_accum *a, const char *id, size_t idlen, const char *stored, size_t slen);
/* One token of field. A document's fields are added one at a time, each field
 * in one run (all elements of an array together, positions rising). */
int tw_accum_token(tw_accum *a, uint32_t field, const char *term, size_t len, uint32_t pos);
/* Ends the current run of tokens of field: moves them into the postings and
 * adds their number to the document's length in that field. */
int tw_accum_end_field(tw_accum *a, uint32_t field);
/* Ends the document. */
int tw_accum_end_doc(tw_accum *a);
/* Forgets the document being built (after a failure part-way through it): only
 * valid before any tw_accum_end_field of that document. */
void tw_accum_abort_doc(tw_accum *a);

uint32_t tw_accum_docs(const tw_accum *a);
/* Approximate heap bytes held. */
size_t tw_accum_bytes(const tw_accum *a);

/* Read side, for the segment writer. */
uint32_t tw_accum_nfields(const tw_accum *a);
const char *tw_accum_field_name(const tw_accum *a, uint32_t field);
const uint32_t *tw_accum_doclens(const tw_accum *a, uint32_t field); /* ndocs entries */
uint32_t tw_accum_nterms(const tw_accum *a);
/* Term ids sorted by (term bytes, field); malloc'd, caller frees. NULL on OOM. */
uint32_t *tw_accum_sorted_terms(const tw_accum *a);
void tw_accum_term(const tw_accum *a, uint32_t tid, uint32_t *field, const char **term, size_t *len,
                   uint32_t *df, const uint8_t **stream, size_t *stream_len);
void tw_accum_doc(const tw_accum *a, uint32_t doc, const char **id, size_t *idlen,
                  const char **stored, size_t *slen);

#endif
