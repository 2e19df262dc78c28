/*
 * analyzer.h — text analysis: UTF-8 text in, a stream of index terms out.
 *
 * First stage of the pipeline (text → analyzer → accumulator → segment writer).
 * A token is a maximal run of Unicode letters, digits and combining marks
 * (utf8proc categories L*, N*, Mn, Mc, Me); everything else separates tokens.
 * Invalid UTF-8 bytes act as separators (never a crash). Each token is NFKC
 * case-folded, then stemmed with a Snowball stemmer (libstemmer) unless the
 * language is "none" or stemming is switched off for a call (prefix queries).
 * Tokens whose folded form exceeds TW_MAX_TERM_BYTES are dropped but still use
 * up a position, so phrase positions stay true to the text.
 */
#ifndef TW_ANALYZER_H
#define TW_ANALYZER_H

#include <stddef.h>
#include <stdint.h>

#define TW_MAX_TERM_BYTES 128

typedef struct tw_analyzer tw_analyzer;

typedef struct tw_token {
    const char *term;  /* folded (and stemmed) bytes, not NUL-terminated; valid during the callback */
    size_t len;        /* bytes in term, 1..TW_MAX_TERM_BYTES */
    uint32_t pos;      /* pos_base + index of the token in the text */
    size_t start, end; /* byte range [start, end) of the token in the input */
} tw_token;

/* Return a positive value to stop the analysis; tw_analyze then returns that
 * value (negative values are kept for tw_analyze's own failures). */
typedef int (*tw_token_fn)(void *ctx, const tw_token *tok);

/* Creates an analyzer for lang: any name from sb_stemmer_list() (e.g.
 * "english"), or "none" for no stemming. NULL means "english". Returns 0,
 * TRAWL_EINVAL for an unknown language or TRAWL_ENOMEM. Not thread-safe: use one
 * analyzer per thread. */
int tw_analyzer_new(const char *lang, tw_analyzer **out);
void tw_analyzer_free(tw_analyzer *a);

/* The canonical language name the analyzer was made with ("none" or a stemmer name). */
const char *tw_analyzer_lang(const tw_analyzer *a);

/* Analyzes text[0..len). Positions start at pos_base. If stem is 0, tokens are
 * folded but not stemmed. Returns 0 when the whole text was analyzed, the
 * callback's value if it stopped, or TRAWL_ENOMEM. *npos (if
 * not NULL) receives the number of positions used (tokens, including dropped ones). */
int tw_analyze(tw_analyzer *a, const char *text, size_t len, uint32_t pos_base, int stem, tw_token_fn fn, void *ctx,
               uint32_t *npos);

/* tw_analyze with stemming, for callers that only look for the nterms terms
 * terms[i] (tlens[i] bytes each, analyzed: folded and stemmed): when the
 * language's stemmer keeps an ASCII word's beginning
 * (tw_analyzer_keeps_first), an ASCII token whose folded form w cannot stem to
 * any of them — no term T is at most |w| bytes long with w starting with T's
 * first max(1, |T| - 2) bytes — is handed to fn with its place only (pos,
 * start, end; term NULL and len 0), which saves most of the folding and
 * stemming. Other tokens, and every token in other languages, are as
 * tw_analyze gives them. */
int tw_analyze_wanted(tw_analyzer *a, const char *text, size_t len, uint32_t pos_base, const char *const *terms,
                      const size_t *tlens, size_t nterms, tw_token_fn fn, void *ctx, uint32_t *npos);

/* Does a's stemmer keep the beginning of every ASCII word (letters and
 * digits): a stem is never longer than its word and starts with the word's
 * first max(1, |stem| - 2) bytes (or is empty)? True of "english", "porter"
 * and "none". */
int tw_analyzer_keeps_first(const tw_analyzer *a);

/* Is lang a language tw_analyzer_new accepts? */
int tw_language_ok(const char *lang);

/* NULL-terminated list: "none" followed by every libstemmer language. Static. */
const char *const *tw_languages(void);

#endif
