/*
 * sort.h — ranking by the value of a typed field instead of relevance:
 * `--sort date:desc`, trawl_options_set_sort.
 *
 * Order: documents with a value first, by value (ascending, or descending
 * with desc), then by score (higher first), then index order (segment, then
 * document); documents without a value last, by score then index order.
 * Values: a date or number field's value (numbers compared exactly across
 * segments, integers against doubles); a keyword field's smallest value in
 * byte order. Every match is visited (exact total); a match whose value
 * cannot enter the k best is not scored.
 */
#ifndef TW_SORT_H
#define TW_SORT_H

#include <stddef.h>
#include <stdint.h>

#include "params.h"
#include "plan.h"
#include "topk.h"
#include "view.h"

/* Runs plan over every segment of v, adding each live match to *total and
 * keeping the best want hits in the order above for field p->sort_field
 * (direction p->sort_desc): hits[0..*n) (hits has room for want), sorted best
 * first, each with its score and sort_value (malloc'd text: a date as
 * 2024-03-05T10:20:30Z, a number as an integer or %.17g, a keyword value as
 * is; NULL without a value). Returns 0; TRAWL_ESYNTAX (message in err) when
 * the field is not a keyword, date or number field; TRAWL_ENOMEM,
 * TRAWL_ECORRUPT. */
int tw_sort_run(const tw_view *v, const tw_plan *plan, const tw_params *p, size_t want, tw_hit *hits, size_t *n,
                uint64_t *total, char *err, size_t errcap);

#endif
