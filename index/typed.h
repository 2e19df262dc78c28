/*
 * typed.h — the reader of a segment's typed fields (format version 2; bytes
 * in docs/FORMAT.md): keyword values with a Roaring bitmap per value and a
 * per-document ordinal column, and date/number columns of per-document
 * values. Everything is read zero-copy from the mapped segment.
 *
 * Fields are found by name per segment (tw_segment_keyword /
 * tw_segment_column); a segment without the field (or of format version 1)
 * has no values for it: the lookups return NULL. Doc numbers are the
 * segment's local ones (0..ndocs-1). Counts here include deleted documents:
 * the segment does not know deletions; callers apply the view's deletion
 * bitmaps.
 *
 * Validation: the section checksums are verified when the segment opens, and
 * so is the structure of every typed field (dictionary offsets, value order,
 * ordinal column entries < nvalues, column block headers, presence bitmap),
 * so the inline accessors below may trust what they read. A value's doc
 * bitmap is validated deeply (every value, < ndocs) the first time
 * tw_kw_bitmap hands it out.
 *
 * Keyword values are exact byte strings (case kept), 1..TW_KW_MAX_VALUE
 * bytes, in bytewise order: ordinal o is the o-th smallest value, so ordinal
 * order is value order (sorting by a keyword sorts by ordinal; a value range
 * is an ordinal range, see tw_kw_lower_bound).
 *
 * Column keys: every date and number is stored as a uint64 key whose unsigned
 * order is the order of the values within the column:
 *   - date, and number columns of kind TW_NUM_INT: key = (uint64_t)v ^ 2^63
 *     (v the int64 value; dates are epoch seconds UTC);
 *   - number columns of kind TW_NUM_DOUBLE (a segment in which the field had
 *     a non-integer value or an integer beyond int64; every value converted to
 *     double): key = bits ^ 2^63 for v >= +0.0, ~bits for v < 0 (IEEE 754
 *     total order; -0.0 is stored as +0.0, NaN and infinities are never
 *     stored).
 * Use tw_col_range to turn a value range into a key range for one column
 * (exact for both kinds), tw_col_num to turn a key back into a value, and
 * tw_num_cmp to order values of different columns (e.g. across segments).
 */
#ifndef TW_TYPED_H
#define TW_TYPED_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "rview.h"
#include "schema.h"

struct tw_segment;

#define TW_KW_MAX_VALUE 255u /* bytes of a keyword value (longer values are per-document errors) */
#define TW_COL_BLOCK 128u    /* documents per column block */

/* A number: an int64, or a finite double. */
typedef struct tw_num {
    int is_double;
    int64_t i;
    double d;
} tw_num;

/* Exact order of two numbers (int against double compared exactly): <0, 0, >0. */
int tw_num_cmp(const tw_num *a, const tw_num *b);

enum { TW_NUM_INT = 0, TW_NUM_DOUBLE = 1 };

/* One keyword field of a segment. Read-only after open. */
typedef struct tw_kwfield {
    const char *name;    /* NUL-terminated, owned by the segment */
    uint32_t ndocs;      /* the segment's documents */
    uint32_t nvalues;    /* distinct values */
    uint32_t ndocs_with; /* documents with at least one value */
    uint64_t npairs;     /* (document, value) pairs */
    /* Dictionary: value o is pool[voff[o] .. voff[o+1]) (u32 little-endian
     * offsets), its doc count dcount[o] (u32), its bitmap bm[boff[o] ..
     * boff[o+1]) (u64 offsets). */
    const uint8_t *voff, *pool, *dcount, *boff, *bm;
    /* Ordinal column. multi == 0: ord_data holds ndocs entries of ord_width
     * bits (entry nvalues = no value). multi == 1: doc d's values are entries
     * doff[d] .. doff[d+1] (u32 offsets) of ord_data, ascending. */
    int multi;
    unsigned ord_width; /* bits per entry, 1..32 */
    const uint8_t *doff, *ord_data;
    _Atomic uint64_t *checked; /* one bit per value: its bitmap passed the deep check */
    const struct tw_segment *seg;
} tw_kwfield;

/* One date or number field of a segment. Read-only after open. */
typedef struct tw_colfield {
    const char *name;
    unsigned type;     /* TW_FT_DATE or TW_FT_NUMBER */
    unsigned kind;     /* TW_NUM_INT (always for dates) or TW_NUM_DOUBLE */
    uint32_t ndocs;    /* the segment's documents */
    uint32_t npresent; /* documents with a value */
    uint64_t min, max; /* smallest and largest key (when npresent > 0) */
    /* Presence: every doc has a value (all = 1), or the docs of the bitmap. */
    int all;
    tw_rview present; /* validated deeply on open; empty when all */
    /* Per TW_COL_BLOCK docs a 16-byte header: u64 base key, u8 bit width
     * (0..64), 3 bytes 0, u32 offset of the block's packed deltas in data.
     * The key of doc d = base + delta (deltas bit-packed LSB-first; absent docs
     * have delta 0). */
    const uint8_t *blocks, *data;
    size_t data_len;
} tw_colfield;

/* The keyword field name of s, or NULL when s has none by that name. */
const tw_kwfield *tw_segment_keyword(const struct tw_segment *s, const char *name);
/* The date/number column name of s, or NULL. */
const tw_colfield *tw_segment_column(const struct tw_segment *s, const char *name);

/* --- keyword fields --- */

/* Bytes of value ord (not NUL-terminated; valid while the segment is open). */
static inline const char *tw_kw_value(const tw_kwfield *f, uint32_t ord, size_t *len) {
    uint32_t a = tw_ld32(f->voff + 4 * (size_t)ord), b = tw_ld32(f->voff + 4 * ((size_t)ord + 1));
    *len = b - a;
    return (const char *)f->pool + a;
}

/* Documents having value ord (deleted ones included). */
static inline uint32_t tw_kw_count(const tw_kwfield *f, uint32_t ord) {
    return tw_ld32(f->dcount + 4 * (size_t)ord);
}

/* Finds value v[0..len) exactly (bytes, case kept): 1 and *ord, or 0. */
int tw_kw_find(const tw_kwfield *f, const char *v, size_t len, uint32_t *ord);

/* The first ordinal whose value is >= v[0..len) in byte order (nvalues when
 * none): with it, [a, b] ranges and prefixes are ordinal ranges. */
uint32_t tw_kw_lower_bound(const tw_kwfield *f, const char *v, size_t len);

/* The doc bitmap of value ord as a zero-copy view (free with tw_rview_free):
 * doc ids < ndocs, validated deeply on first use. Returns 0, TRAWL_ECORRUPT
 * with a message in err, or TRAWL_ENOMEM. Thread-safe. */
int tw_kw_bitmap(const tw_kwfield *f, uint32_t ord, tw_rview *out, char *err, size_t errcap);

/* Bit-packed entry i of width w at p (the writer pads the data by 8 bytes). */
static inline uint64_t tw_unpack(const uint8_t *p, uint64_t i, unsigned w) {
    if (w == 0) return 0;
    uint64_t bit = i * w;
    const uint8_t *q = p + bit / 8;
    unsigned sh = (unsigned)(bit % 8);
    uint64_t lo = tw_ld64(q) >> sh;
    if (sh + w > 64) lo |= (uint64_t)q[8] << (64 - sh);
    return w == 64 ? lo : lo & ((1ULL << w) - 1);
}

/* Number of values of doc. */
static inline uint32_t tw_kw_doc_nvalues(const tw_kwfield *f, uint32_t doc) {
    if (f->multi) return tw_ld32(f->doff + 4 * ((size_t)doc + 1)) - tw_ld32(f->doff + 4 * (size_t)doc);
    return tw_unpack(f->ord_data, doc, f->ord_width) != f->nvalues;
}

/* The i-th (0 <= i < tw_kw_doc_nvalues) ordinal of doc, ascending in i. */
static inline uint32_t tw_kw_doc_ord(const tw_kwfield *f, uint32_t doc, uint32_t i) {
    if (f->multi)
        return (uint32_t)tw_unpack(f->ord_data, (uint64_t)tw_ld32(f->doff + 4 * (size_t)doc) + i, f->ord_width);
    return (uint32_t)tw_unpack(f->ord_data, doc, f->ord_width);
}

/* --- date and number columns --- */

/* Does doc have a value? O(log n) (a search in the presence bitmap). */
int tw_col_has(const tw_colfield *c, uint32_t doc);

/* The key of doc (meaningful only when tw_col_has; 0-delta base otherwise). O(1). */
static inline uint64_t tw_col_key(const tw_colfield *c, uint32_t doc) {
    const uint8_t *h = c->blocks + 16 * (size_t)(doc / TW_COL_BLOCK);
    return tw_ld64(h) + tw_unpack(c->data + tw_ld32(h + 12), doc % TW_COL_BLOCK, h[8]);
}

/* Smallest and largest key of block b's present docs are within
 * [base, base + 2^width - 1]: a range scan may skip a whole block. */
static inline void tw_col_block_bounds(const tw_colfield *c, uint32_t b, uint64_t *lo, uint64_t *hi) {
    const uint8_t *h = c->blocks + 16 * (size_t)b;
    uint64_t base = tw_ld64(h);
    unsigned w = h[8];
    *lo = base;
    *hi = w >= 64 ? UINT64_MAX : base + ((1ULL << w) - 1);
    if (*hi < base) *hi = UINT64_MAX;
}

/* The value of a key of column c. */
void tw_col_num(const tw_colfield *c, uint64_t key, tw_num *out);

/* Key of a value for a column of the given kind, rounding toward -inf (dir <
 * 0) or +inf (dir > 0) when a double value falls between two int keys or an
 * int between two double keys; *exact tells whether it was exact. */
uint64_t tw_num_key(unsigned kind, const tw_num *v, int dir, int *exact);

/* Turns the value range lo..hi (NULL = unbounded; *_incl: bound included)
 * into the inclusive key range [*klo, *khi] of column c holding exactly the
 * values in the range. Returns 1, or 0 when the range holds no key. */
int tw_col_range(const tw_colfield *c, const tw_num *lo, int lo_incl, const tw_num *hi, int hi_incl, uint64_t *klo,
                 uint64_t *khi);

#endif
