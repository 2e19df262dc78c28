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

#include "jsondoc.h"
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
    uint32_t first, n; /* fields[first .. first + n) */
} tw_bdoc;

/*
 * After analysis, out holds for each text field of each document, in order:
 *   u32 ntoks, u32 nterms, then nterms terms, each
 *   u64 hash (tw_accum_hash), u32 reclen, u8 len, len term bytes, reclen
 *   record bytes (varint tf, then the position gaps), all unaligned.
 */
typedef struct tw_batch {
    struct tw_batch *next; /* queue link */
    tw_buf text;           /* the documents' JSON texts, back to back */
    tw_buf bytes;          /* their strings with escapes (ids, names, values) */
    tw_bdoc *docs;
    tw_bfield *fields;
    tw_bspan *strs;
    uint32_t ndocs, docs_cap, nfields, fields_cap, nstrs, strs_cap;
    tw_buf out;
    int rc;   /* analysis: 0, or -2 when out of memory */
    int done; /* analyzed (guarded by the pipe's lock while queued) */
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
 * batch b: stored text, id (the string id), and the text fields (keys of
 * kind STRING or ARRAY, except "id" and ""). Strings without escapes are
 * spans of the text. 0, or -1 when out of memory or a batch offset would
 * pass 4 GiB (b is then unchanged). */
int tw_batch_add(tw_batch *b, const tw_jdoc *d, const tw_jkey *id);

/* The bytes of span s of b. */
static inline const char *tw_batch_ptr(const tw_batch *b, tw_bspan s) {
    return (const char *)(s.in_text ? b->text.p : b->bytes.p) + s.off;
}

/* Hands the current batch (if it holds documents) to the analysis. Returns 0,
 * or -2 when analyzing in the caller's thread ran out of memory (the batch is
 * still queued, with rc set). */
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
