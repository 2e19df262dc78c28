/*
 * typedacc.h — the in-memory typed values of documents not yet written:
 * per keyword field its distinct values and the (document, value) pairs, per
 * date/number field the (document, value) pairs. Beside the accumulator
 * (accum.h); the segment writer turns it into the KEYWORDS and COLUMNS
 * sections (typed.h, docs/FORMAT.md).
 *
 * Documents are added in increasing doc number (the accumulator's numbers).
 * A keyword value may be added several times to one document (kept once); a
 * date or number field has at most one value per document (the caller
 * ensures it). Failures are trawl_rc codes and sticky (TRAWL_ENOMEM, or
 * TRAWL_ELIMIT past 2^32 values).
 */
#ifndef TW_TYPEDACC_H
#define TW_TYPEDACC_H

#include <stddef.h>
#include <stdint.h>

#include "typed.h"
#include "varint.h"

typedef struct tw_tacc tw_tacc;

tw_tacc *tw_tacc_new(void);
void tw_tacc_free(tw_tacc *t);

/* Field number of name[0..len) with type (TW_FT_KEYWORD, TW_FT_DATE or
 * TW_FT_NUMBER), registered on first use. TRAWL_EINVAL when name is already
 * registered with another type; TRAWL_ELIMIT beyond TW_SCHEMA_MAX_FIELDS
 * fields; the sticky failure. */
int tw_tacc_field(tw_tacc *t, const char *name, size_t len, unsigned type);

/* Adds keyword value v[0..len) (1..TW_KW_MAX_VALUE bytes) to doc in field f. */
int tw_tacc_add_keyword(tw_tacc *t, uint32_t f, uint32_t doc, const char *v, size_t len);
/* Sets the value of doc in date/number field f: an int64 (dates: epoch seconds). */
int tw_tacc_add_int(tw_tacc *t, uint32_t f, uint32_t doc, int64_t v);
/* Sets the value of doc in number field f: a finite double. */
int tw_tacc_add_double(tw_tacc *t, uint32_t f, uint32_t doc, double v);

/* Nominal memory held, a fixed function of the content (for the writer's
 * budget, like tw_accum_bytes). */
size_t tw_tacc_bytes(const tw_tacc *t);

/* Read side, for the segment writer. */
uint32_t tw_tacc_nfields(const tw_tacc *t);
const char *tw_tacc_field_name(const tw_tacc *t, uint32_t f);
unsigned tw_tacc_field_type(const tw_tacc *t, uint32_t f);

/* A keyword field: nvalues distinct values (value v: bytes[off[v] ..
 * off[v+1]), in order of first use) and npairs pairs in order of addition
 * (doc ascending; a value may repeat within a doc). Valid while t lives. */
typedef struct tw_tacc_kw {
    uint32_t nvalues;
    const uint32_t *off;
    const char *bytes;
    uint64_t npairs;
    const uint32_t *pair_doc, *pair_value;
} tw_tacc_kw;
void tw_tacc_keyword(const tw_tacc *t, uint32_t f, tw_tacc_kw *out);

/* A date/number field: n values (doc ascending, distinct), value i of doc
 * doc[i]: bits[i] is an int64 or (is_double[i]) a double's bits. */
typedef struct tw_tacc_col {
    uint64_t n;
    const uint32_t *doc;
    const uint64_t *bits;
    const uint8_t *is_double;
} tw_tacc_col;
void tw_tacc_column(const tw_tacc *t, uint32_t f, tw_tacc_col *out);

/* Appends the KEYWORDS section (kw) and the COLUMNS section (col) of a
 * segment of ndocs documents holding t's values (t may be NULL: no typed
 * field) in the layout of docs/FORMAT.md (typedwrite.c). 0, TRAWL_ENOMEM or
 * TRAWL_ELIMIT. */
int tw_typed_build(const tw_tacc *t, uint32_t ndocs, tw_buf *kw, tw_buf *col);

#endif
