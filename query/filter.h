/*
 * filter.h — typed-field filters (the TW_Q_FILTER nodes of ast.h) prepared
 * per segment: keyword filters as Roaring bitmaps, date and number ranges as
 * column predicates (a key range) that are either scanned into a bitmap or
 * checked per candidate document; the cursors that walk a bitmap or check
 * predicates.
 *
 * Conversion of the text values happens here, against the field's type as
 * the segments record it (typed.h): a field is a keyword field, a date or a
 * number field when some segment of the view has it as one; a segment
 * without the field has no values for it (its bitmap is empty).
 *
 *   keyword  f:=v      the documents having the value v exactly (bytes, case kept)
 *            f:[a TO b], f<v ...   values in that byte-order range (an ordinal
 *                      range of the dictionary: the union of the values' bitmaps)
 *   date     every value names a span (datetime.h): 2024 the whole year,
 *            2024-03 the month, 2024-03-05 the day, a time its minute or second.
 *            f>=v from the span's start; f>v from its end; f<v before its
 *            start; f<=v up to its end; f:=v within the span; f:[a TO b]
 *            from a's start to b's end (so the whole last day is in);
 *            year:2024 is date:=2024 on the field named "date".
 *   number   an integer (int64) or a decimal number (finite double),
 *            compared exactly; f:=v equals v.
 * A date or number range becomes a key range of the segment's column
 * (tw_col_range). Scanned (tw_fprep_bitmap, tw_colpred_and), the column is
 * read block by block: blocks whose key bounds lie outside the range are
 * skipped, blocks inside it taken whole when every document has a value,
 * the others decoded in one branch-free loop, absent documents dropped by a
 * forward walk of the presence bitmap. Checked per document
 * (tw_colpred_keep, tw_colpred_cursor), it costs one key decode and, for a
 * column with absent documents, a forward seek in its presence bitmap.
 * f:[* TO *] is every document with a value. Errors (TRAWL_ESYNTAX): unknown
 * field, a text-only field, a value that does not parse for the type,
 * year:DDDD without a date field "date", an inverted range is not an error
 * (it matches nothing).
 */
#ifndef TW_FILTER_H
#define TW_FILTER_H

#include <roaring/roaring.h>
#include <stddef.h>

#include "ast.h"
#include "cursor.h"
#include "typed.h"
#include "view.h"

/* One date/number range filter in one segment, unevaluated: the documents
 * with a value of column c whose key lies in [klo, khi] (or, neg, every
 * other document). c NULL: no document of the segment has such a value (the
 * segment lacks the field, or no key of it is in the range). */
typedef struct tw_colpred {
    const tw_colfield *c;
    uint64_t klo, khi;
    int neg;
} tw_colpred;

/* A filter leaf prepared over a view (tw_filter_prepare): keyword filters
 * evaluated at once to a bitmap per segment (bm); date/number ranges kept
 * as a column predicate per segment (pred, not negated), scanned only on
 * demand (tw_fprep_bitmap). */
typedef struct tw_fprep {
    uint32_t nsegs;
    roaring_bitmap_t **bm; /* keyword: per segment (owned); NULL for a range */
    tw_colpred *pred;      /* date/number: per segment; NULL for keyword */
} tw_fprep;

/* Prepares filter node n over every segment of v. Returns 0 and *out (free
 * with tw_fprep_free); or TRAWL_ESYNTAX with a message in err for a filter
 * that does not fit the index (see above), TRAWL_ECORRUPT, TRAWL_ENOMEM.
 * When n is year:DDDD and the index has no date field "date" but a text
 * field "year", returns TW_FILTER_NOT_TYPED (> 0) and the caller treats it
 * as a term. Cheap for a range (a key range per segment); a keyword filter
 * is evaluated to its bitmaps. */
#define TW_FILTER_NOT_TYPED 1
int tw_filter_prepare(const tw_view *v, const tw_node *n, tw_fprep **out, char *err, size_t errcap);
void tw_fprep_free(tw_fprep *f);

/* The documents f allows in segment si (deleted ones included) as a new
 * bitmap (a column scan for a range); NULL when out of memory. */
roaring_bitmap_t *tw_fprep_bitmap(const tw_fprep *f, uint32_t si);

/* ANDs into out the documents predicate p allows (ANDs NOT, for a negated
 * one): the column scan. 0 or TRAWL_ENOMEM. */
int tw_colpred_and(const tw_colpred *p, roaring_bitmap_t *out);

/* Keeps of docs[0..n) (ascending) those every predicate p[0..np) allows,
 * compacted in place, order kept, and the arrays with[0..nwith) (aligned
 * with docs) compacted alike; returns how many remain. O(1) per document and
 * predicate (tw_col_key; presence by a forward seek in the presence bitmap). */
size_t tw_colpred_keep(const tw_colpred *p, size_t np, uint32_t *docs, uint32_t *const *with, size_t nwith, size_t n);

/* A cursor over the documents of inner that every predicate p[0..np) allows
 * (p borrowed: must outlive the cursor): inner's scores, bounds, explanation
 * and status. Takes inner (freed also on failure); NULL when out of memory. */
tw_cursor *tw_colpred_cursor(tw_cursor *inner, const tw_colpred *p, size_t np);

/* The type of field name in v: TW_FT_KEYWORD, TW_FT_DATE or TW_FT_NUMBER
 * when some segment has it as such, else 0. */
unsigned tw_filter_field_type(const tw_view *v, const char *name);

/* Frees an array of nsegs bitmaps (NULL entries and NULL allowed). */
void tw_filter_free(roaring_bitmap_t **b, uint32_t nsegs);

/* A cursor over the documents of b (borrowed: must outlive the cursor),
 * score 0, max_score 0, no explanation line. NULL when out of memory. */
tw_cursor *tw_bitmap_cursor(const roaring_bitmap_t *b);

#endif
