/*
 * snippet.h — query-biased snippets: the passage of a text with the most
 * distinct query terms, with the matched words highlighted.
 */
#ifndef TW_SNIPPET_H
#define TW_SNIPPET_H

#include <stddef.h>

#include "analyzer.h"

/* Builds the snippet of text[0..len) for the analyzed query terms (matched
 * against each token's stemmed form) and prefixes (matched against each
 * token's folded, unstemmed form). Fills out[0] (plain), out[1] (ANSI bold) and
 * out[2] (HTML-escaped with <mark>), malloc'd. Returns 0 or TRAWL_ENOMEM. */
int tw_snippet(tw_analyzer *an, const char *text, size_t len, const char *const *terms, size_t nterms,
               const char *const *prefixes, size_t nprefixes, char *out[3]);

#endif
