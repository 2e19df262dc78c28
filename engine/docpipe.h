/*
 * docpipe.h — batches of parsed documents and the threads that analyze them.
 *
 * Middle of the write path: the writer reads each document (jsondoc) in the
 * caller's thread and appends it to the current batch; full batches go to
 * analysis threads (one analyzer each), which turn every text field into its
 * distinct terms with their frequencies and positions; the writer takes the
 * analyzed batches back strictly in submission order and feeds them to the
 * accumulator, so document numbers and everything derived from them are the
 * same as with no threads at all. With 0 threads a batch is analyzed in the
 * caller's thread when it is submitted.
 */
#ifndef TW_DOCPIPE_H
#define TW_DOCPIPE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "accum.h"
#include "error.h"
#include "jsondoc.h"
#include "schema.h"
#include "varint.h"

/* Bytes [off, off + len) of the batch's text (in_text) or of its bytes. */
typedef struct tw_bspan {
    uint32_t off, len, in_text;
} tw_bspan;

/* A text field of a document: its name and its strings. */
typedef struct tw_bfield {
    tw_bspan name;
    uint32_t first, n; /* strs[first .. first + n) */
} tw_bfield;

typedef struct tw_bdoc {
    tw_bspan text; /* the stored JSON text */
    tw_bspan id;
    uint32_t first, n;           /* fields[first .. first + n) */
    size_t typed_off, typed_len; /* the document's typed values: bytes of the batch's typed buffer */
} tw_bdoc;

/*
 * The analysis record. After analysis, a batch's out holds for each text field
 * of each document, in order, a field header then the field's distinct terms:
 *   field: u32 ntoks, u32 nterms
 *   term:  u64 hash (tw_accum_hash), u32 reclen, u8 len, len term bytes,
 *          reclen record bytes (varint tf, then the tf position gaps)
 * in the machine's byte order (the record never leaves memory), unaligned.
 * Only the functions below write and read it: the analysis threads encode,
 * the writer decodes.
 */

/* Bytes a term of len bytes with tf positions takes at most. */
#define TW_AREC_TERM_MAX(len, tf) (13 + (size_t)(len) + 5 + 5 * (size_t)(tf))

/* Appends a field header. Failures set out->oom. */
static inline void tw_arec_put_field(tw_buf *out, uint32_t ntoks, uint32_t nterms) {
    uint32_t hdr[2] = {ntoks, nterms};
    tw_buf_put(out, hdr, sizeof hdr);
}

/* Starts a term at the end of out, which must have room for
 * TW_AREC_TERM_MAX(len, tf) more bytes: writes its hash, length and bytes and
 * returns where its record bytes go. The caller writes them (varints) and
 * calls tw_arec_term_end with the end of what it wrote. */
static inline uint8_t *tw_arec_term_begin(tw_buf *out, uint64_t hash, const char *term, uint8_t len) {
    uint8_t *p = out->p + out->len;
    memcpy(p, &hash, 8);
    p[12] = len;
    memcpy(p + 13, term, len);
    return p + 13 + len;
}

/* Ends the term begun at out->len whose record bytes end at rec_end. */
static inline void tw_arec_term_end(tw_buf *out, const uint8_t *rec_end) {
    uint8_t *p = out->p + out->len;
    uint32_t reclen = (uint32_t)(rec_end - (p + 13 + p[12]));
    memcpy(p + 8, &reclen, 4);
    out->len = (size_t)(rec_end - out->p);
}

/* Reads an analysis record from its start to its end. */
typedef struct tw_arec_reader {
    const uint8_t *p, *end;
} tw_arec_reader;

static inline void tw_arec_reader_init(tw_arec_reader *r, const uint8_t *p, size_t len) {
    r->p = p;
    r->end = p ? p + len : p; /* NULL + 0 is undefined (clang's UBSan) */
}

/* Reads the next field header. 0, or TRAWL_ECORRUPT when the record ends
 * first. */
static inline int tw_arec_next_field(tw_arec_reader *r, uint32_t *ntoks, uint32_t *nterms) {
    if (r->end - r->p < 8) return TRAWL_ECORRUPT;
    memcpy(ntoks, r->p, 4);
    memcpy(nterms, r->p + 4, 4);
    r->p += 8;
    return 0;
}

/* Reads the next term into q (hash, term, len, rec, reclen: pointers into the
 * record; the other members are left alone). 0, or TRAWL_ECORRUPT when the
 * term does not fit in what is left of the record. */
static inline int tw_arec_next_term(tw_arec_reader *r, tw_posting *q) {
    if (r->end - r->p < 13) return TRAWL_ECORRUPT;
    uint32_t reclen;
    memcpy(&q->hash, r->p, 8);
    memcpy(&reclen, r->p + 8, 4);
    uint32_t len = r->p[12];
    if ((size_t)(r->end - r->p) - 13 < (size_t)len + reclen) return TRAWL_ECORRUPT;
    q->len = len;
    q->reclen = reclen;
    q->term = (const char *)r->p + 13;
    q->rec = r->p + 13 + len;
    r->p = q->rec + reclen;
    return 0;
}

/* Is the whole record read? */
static inline int tw_arec_done(const tw_arec_reader *r) {
    return r->p == r->end;
}

typedef struct tw_batch {
    struct tw_batch *next; /* queue link */
    tw_buf text;           /* the documents' JSON texts, back to back */
    tw_buf bytes;          /* their strings with escapes (ids, names, values) */
    tw_buf typed;          /* the documents' typed values (the writer's encoding, opaque here) */
    tw_bdoc *docs;
    tw_bfield *fields;
    tw_bspan *strs;
    uint32_t ndocs, docs_cap, nfields, fields_cap, nstrs, strs_cap;
    tw_buf out; /* the analysis record */
    int rc;     /* analysis: 0, TRAWL_ENOMEM, or TRAWL_ELIMIT (a field with more positions than 32 bits count) */
    int done;   /* analyzed (guarded by the pipe's lock while queued) */
} tw_batch;

typedef struct tw_pipe tw_pipe;

/* A pipe analyzing in language lang (a name tw_analyzer_new accepts) with
 * nthreads threads (0: in the caller's thread). Threads start on the first
 * submit. NULL when out of memory. */
tw_pipe *tw_pipe_new(const char *lang, unsigned nthreads);
/* Stops the threads and frees every batch. */
void tw_pipe_free(tw_pipe *p);

/* The batch being filled (empty on first use), or NULL when out of memory. */
tw_batch *tw_pipe_current(tw_pipe *p);

/* Appends the document just read into d (its stored text is d's input) to
 * batch b: stored text, id (the string id), the text fields (keys of kind
 * STRING or ARRAY, except "id" and "", whose types under schema include
 * text; schema NULL: all), and typed[0..typed_len), the document's typed
 * values as the writer encoded them. Strings without escapes are spans of the
 * text. 0, TRAWL_ENOMEM, or TRAWL_ELIMIT when a batch offset would pass
 * 4 GiB (b is then unchanged). */
int tw_batch_add(tw_batch *b, const tw_jdoc *d, const tw_jkey *id, const tw_schema *schema, const void *typed,
                 size_t typed_len);

/* Is key k of d a text field under schema (NULL: every string field)? */
int tw_jkey_is_text(const tw_jdoc *d, const tw_jkey *k, const tw_jkey *id, const tw_schema *schema);

/* The bytes of span s of b. */
static inline const char *tw_batch_ptr(const tw_batch *b, tw_bspan s) {
    return (const char *)(s.in_text ? b->text.p : b->bytes.p) + s.off;
}

/* Hands the current batch (if it holds documents) to the analysis. Returns 0,
 * or TRAWL_ENOMEM when analyzing in the caller's thread ran out of memory (the
 * batch is still queued, with rc set). */
int tw_pipe_submit(tw_pipe *p);

/* Submitted batches not yet taken back. */
size_t tw_pipe_pending(const tw_pipe *p);

/* The oldest submitted batch once analyzed (waiting for it when wait), or
 * NULL (none submitted, or not analyzed and !wait). The caller owns it until
 * tw_pipe_recycle. */
tw_batch *tw_pipe_take(tw_pipe *p, int wait);

/* Gives a taken batch back for reuse. */
void tw_pipe_recycle(tw_pipe *p, tw_batch *b);

#endif
