/*
 * signif.h — significance of a term in a foreground set of documents against
 * a background set, from document counts only, as Elasticsearch's
 * significant_terms scores them:
 *
 *   JLH: pf = fg_df / fg_size, pb = bg_df / bg_size;
 *        score = (pf - pb) * (pf / pb) when pf > pb (and both counts > 0), else 0.
 *
 *   Chi-square: the 2x2 table of (in the foreground or in the rest of the
 *   background) × (has the term or not): N11 = fg_df, N01 = fg_size - fg_df,
 *   N10 = rest_df, N00 = rest_size - rest_df, N = fg_size + rest_size, with
 *   margins N1. = N11 + N10, N0. = N01 + N00, N.1 = fg_size, N.0 = rest_size;
 *        score = N (N11 N00 - N01 N10)^2 / (N.1 N1. N0. N.0),
 *   and -infinity when the term is rarer in the foreground than in the rest
 *   (N11 / N.1 < N10 / N.0), 0 when a margin is 0. "The rest" is the
 *   background without the foreground; when the background contains the
 *   foreground, rest_df = bg_df - fg_df and rest_size = bg_size - fg_size.
 */
#ifndef TW_SIGNIF_H
#define TW_SIGNIF_H

#include <stdint.h>

double tw_sig_jlh(uint64_t fg_df, uint64_t fg_size, uint64_t bg_df, uint64_t bg_size);
double tw_sig_chi2(uint64_t fg_df, uint64_t fg_size, uint64_t rest_df, uint64_t rest_size);

#endif
