/*
 * analyzer.c — text analysis: UTF-8 bytes in, folded and stemmed index terms out.
 *
 * First stage of the indexing pipeline (text → analyzer → accumulator → segment
 * writer); queries use the same code so that query terms match indexed terms.
 *
 * Tokens are maximal runs of code points in the utf8proc categories L*, N*, Mn,
 * Mc, Me; a run never starts with a mark. Bytes that do not decode as UTF-8
 * (utf8proc_iterate: overlong forms, surrogates, truncated sequences, stray
 * continuation bytes, code points above U+10FFFF) separate tokens one byte at a
 * time. Each token is folded with NFKC_Casefold — utf8proc's STABLE | COMPAT |
 * COMPOSE | CASEFOLD | IGNORE, exactly the flags of utf8proc_NFKC_Casefold, so
 * default-ignorable code points such as variation selectors vanish — then
 * stemmed with a Snowball stemmer.
 *
 * Speed: most indexed text is ASCII. One 256-entry table classifies a byte and
 * gives its lower-case form, so a token of ASCII letters and digits is scanned
 * and folded without any utf8proc call (for ASCII, NFKC_Casefold is exactly
 * lower-casing A–Z). Stems are cached per analyzer (see stem_slot). No memory
 * is allocated while analyzing: the buffers live in the analyzer (the stemmer
 * manages its own).
 */
#include "analyzer.h"
#include "error.h"

#include <libstemmer.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* utf8proc options of NFKC_Casefold (utf8proc_NFKC_Casefold without NULLTERM). */
#define FOLD_OPTIONS                                                                                                   \
    ((utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE))

/*
 * Capacity, in code points, of the fold buffer. Composition merges at most
 * 4 decomposed code points into one (the longest canonical decomposition of
 * any character, checked over all of Unicode by tests/test_analyzer.c), and
 * every code point encodes to at least one byte. So a token whose decomposed
 * form has more than 4 * TW_MAX_TERM_BYTES code points folds to more than
 * TW_MAX_TERM_BYTES bytes and is dropped without being composed; twice that
 * bound leaves a margin. This keeps memory constant for hostile input.
 */
#define FOLD_CAP (8 * TW_MAX_TERM_BYTES)

/*
 * Stemming costs ten times more than the rest of the analysis, and word
 * frequencies are Zipfian, so each stemming analyzer keeps a direct-mapped
 * cache from folded term to stemmer output (Snowball stemmers are pure
 * functions of the word). Terms or stems longer than STEM_CACHE_WORD bytes
 * bypass it. An empty slot has wlen 0 (terms are never empty).
 */
#define STEM_CACHE_SLOTS 65536u /* a power of two */
#define STEM_CACHE_WORD 30

typedef struct stem_slot {
    unsigned char wlen, slen; /* slen may be 0: the stemmer returned "" */
    char word[STEM_CACHE_WORD];
    char stem[STEM_CACHE_WORD];
} stem_slot;

struct tw_analyzer {
    struct sb_stemmer *stemmer; /* NULL for "none" */
    stem_slot *cache;           /* STEM_CACHE_SLOTS slots when stemmer != NULL */
    const char *lang;           /* static: "none" or an entry of sb_stemmer_list() */
    /* Decomposed code points, then (utf8proc_reencode works in place) the
     * folded UTF-8 bytes; one spare element for reencode's terminating NUL. */
    utf8proc_int32_t fold[FOLD_CAP + 1];
    char lower[TW_MAX_TERM_BYTES]; /* the folded form of an ASCII token */
};

/*
 * Byte table of the scanner. For an ASCII letter or digit: its lower-case
 * form; for any other ASCII byte: 0 (a separator); for bytes 0x80–0xFF: the
 * byte itself (>= 0x80), meaning "decode a multi-byte sequence here".
 */
static const unsigned char byte_tab[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
    0x39, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b,
    0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71,
    0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x81, 0x82, 0x83, 0x84,
    0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa,
    0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd,
    0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0,
    0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3,
    0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6,
    0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};

/* An ASCII letter or digit: byte_tab value 1..0x7f. */
static inline int ascii_alnum(unsigned t) {
    return t - 1u < 0x7fu;
}

/*
 * "none" followed by the algorithms of libstemmer 2.2 in sb_stemmer_list()
 * order. A constant table rather than one built at run time: the list must be
 * static and thread-safe, and building it would need mutable static storage
 * plus a once-guard. tests/test_analyzer.c checks that this table equals
 * "none" + sb_stemmer_list() of the linked library, so a libstemmer upgrade
 * that changes the list fails the test instead of drifting silently.
 * Acceptance (tw_language_ok) asks the linked library itself.
 */
static const char *const languages[] = {
    "none",    "arabic",     "armenian", "basque",    "catalan", "danish",     "dutch",      "english",
    "finnish", "french",     "german",   "greek",     "hindi",   "hungarian",  "indonesian", "irish",
    "italian", "lithuanian", "nepali",   "norwegian", "porter",  "portuguese", "romanian",   "russian",
    "serbian", "spanish",    "swedish",  "tamil",     "turkish", "yiddish",    NULL,
};

/* The constant table above; never freed, safe from any thread. */
const char *const *tw_languages(void) {
    return languages;
}

/* The static canonical name of lang ("none" or the sb_stemmer_list() entry
 * equal to it), or NULL when the linked libstemmer has no such algorithm. */
static const char *canonical_lang(const char *lang) {
    if (strcmp(lang, "none") == 0) return "none";
    for (const char **l = sb_stemmer_list(); *l; l++)
        if (strcmp(*l, lang) == 0) return *l;
    return NULL;
}

/* "none" or a name in the linked sb_stemmer_list(); NULL is not a language. */
int tw_language_ok(const char *lang) {
    return lang != NULL && canonical_lang(lang) != NULL;
}

/*
 * See analyzer.h. *out is NULL on failure. The analyzer owns its stemmer, its
 * stem cache (STEM_CACHE_SLOTS slots, about 4 MB of lazily touched zero pages,
 * only when stemming) and
 * its fold buffers; free it with tw_analyzer_free.
 */
int tw_analyzer_new(const char *lang, tw_analyzer **out) {
    *out = NULL;
    const char *name = canonical_lang(lang ? lang : "english");
    if (!name) return TRAWL_EINVAL;
    tw_analyzer *a = malloc(sizeof *a);
    if (!a) return TRAWL_ENOMEM;
    a->lang = name;
    a->stemmer = NULL;
    a->cache = NULL;
    if (strcmp(name, "none") != 0) {
        /* The name is in sb_stemmer_list(), so NULL here means out of memory. */
        a->stemmer = sb_stemmer_new(name, "UTF_8");
        a->cache = calloc(STEM_CACHE_SLOTS, sizeof *a->cache);
        if (!a->stemmer || !a->cache) {
            sb_stemmer_delete(a->stemmer);
            free(a->cache);
            free(a);
            return TRAWL_ENOMEM;
        }
    }
    *out = a;
    return 0;
}

/* Frees a and everything it owns; NULL is a no-op. */
void tw_analyzer_free(tw_analyzer *a) {
    if (!a) return;
    sb_stemmer_delete(a->stemmer);
    free(a->cache);
    free(a);
}

/* Static storage ("none" or libstemmer's own string); outlives a. */
const char *tw_analyzer_lang(const tw_analyzer *a) {
    return a->lang;
}

/*
 * Returns the end of the token that continues at s[j] (j < len or j == len):
 * the first offset >= j where the byte is an ASCII non-alphanumeric, the bytes
 * do not decode as UTF-8, or the decoded code point is not a letter, number or
 * mark. Never reads s[len] or beyond.
 */
static size_t token_end(const unsigned char *s, size_t len, size_t j) {
    while (j < len) {
        unsigned t = byte_tab[s[j]];
        if (ascii_alnum(t)) {
            j++;
            continue;
        }
        if (t == 0) break;
        utf8proc_int32_t cp;
        size_t avail = len - j < 4 ? len - j : 4;
        utf8proc_ssize_t n = utf8proc_iterate(s + j, (utf8proc_ssize_t)avail, &cp);
        if (n <= 0) break;
        utf8proc_category_t cat = utf8proc_category(cp);
        if (cat < UTF8PROC_CATEGORY_LU || cat > UTF8PROC_CATEGORY_NO) break;
        j += (size_t)n;
    }
    return j;
}

/*
 * Folds the token s[0..n) (valid UTF-8 of letters, numbers and marks) with
 * NFKC_Casefold into a->fold. Returns the folded length in bytes, or 0 when the
 * token must be dropped: the folded form is empty (only ignorable code points)
 * or longer than TW_MAX_TERM_BYTES. The bytes are valid until the next call.
 */
static size_t fold_slow(tw_analyzer *a, const unsigned char *s, size_t n) {
    /* utf8proc_decompose writes at most FOLD_CAP code points and returns the
     * full count, so an oversized token costs one pass and no memory. */
    utf8proc_ssize_t m = utf8proc_decompose(s, (utf8proc_ssize_t)n, a->fold, FOLD_CAP, FOLD_OPTIONS);
    if (m <= 0 || m > FOLD_CAP) return 0; /* m < 0 cannot happen for valid UTF-8; treat it as a drop */
    m = utf8proc_reencode(a->fold, m, FOLD_OPTIONS);
    if (m <= 0 || m > TW_MAX_TERM_BYTES) return 0;
    return (size_t)m;
}

/*
 * Stems term[0..tlen) (1..TW_MAX_TERM_BYTES bytes) with a->stemmer, through
 * the cache. On success sets *out and *olen to the raw stemmer output (possibly
 * empty, possibly longer than TW_MAX_TERM_BYTES), valid until the next call,
 * and returns 0; returns TRAWL_ENOMEM when the stemmer runs out of memory.
 */
static int stem_term(tw_analyzer *a, const char *term, size_t tlen, const char **out, size_t *olen) {
    stem_slot *slot = NULL;
    if (tlen <= STEM_CACHE_WORD) {
        /* FNV-1a over the bytes. */
        uint32_t h = 2166136261u;
        for (size_t k = 0; k < tlen; k++) h = (h ^ (unsigned char)term[k]) * 16777619u;
        slot = &a->cache[(h ^ (h >> 15)) & (STEM_CACHE_SLOTS - 1)];
        if (slot->wlen == tlen && memcmp(slot->word, term, tlen) == 0) {
            *out = slot->stem;
            *olen = slot->slen;
            return 0;
        }
    }
    const sb_symbol *st = sb_stemmer_stem(a->stemmer, (const sb_symbol *)term, (int)tlen);
    if (!st) return TRAWL_ENOMEM;
    int sl = sb_stemmer_length(a->stemmer);
    *out = (const char *)st;
    *olen = sl > 0 ? (size_t)sl : 0;
    if (slot && *olen <= STEM_CACHE_WORD) {
        slot->wlen = (unsigned char)tlen;
        slot->slen = (unsigned char)*olen;
        memcpy(slot->word, term, tlen);
        memcpy(slot->stem, st, *olen);
    }
    return 0;
}

/*
 * Stems the folded term (if stemming applies) and hands the token to fn.
 * Returns 0 to go on, fn's positive value to stop, or TRAWL_ENOMEM when the stemmer runs
 * out of memory. A stem longer than TW_MAX_TERM_BYTES drops the token (0 is
 * returned and fn is not called); an empty stem (porter turns "s" into "")
 * keeps the unstemmed folded term, so that no token vanishes.
 */
static int deliver(tw_analyzer *a, const char *term, size_t tlen, int stem, tw_token *tok, tw_token_fn fn, void *ctx) {
    if (stem && a->stemmer) {
        const char *st;
        size_t sl;
        if (stem_term(a, term, tlen, &st, &sl) != 0) return TRAWL_ENOMEM;
        if (sl > TW_MAX_TERM_BYTES) return 0;
        if (sl > 0) {
            term = st;
            tlen = sl;
        }
    }
    tok->term = term;
    tok->len = tlen;
    return fn(ctx, tok);
}

/*
 * Tokenizes text[0..len) in one forward pass. Positions count every token,
 * dropped ones included, from pos_base (uint32_t arithmetic: they wrap after
 * 2^32 tokens). On a stop, *npos counts the token that stopped the analysis.
 */
/* The terms a caller of tw_analyze_wanted looks for, with the set of their
 * first bytes. */
typedef struct wanted {
    const char *const *terms;
    const size_t *tlens;
    size_t n;
    uint64_t first[4];
} wanted;

/* Can the folded ASCII word w[0..n) stem to one of the wanted terms? Only if
 * a term T is at most n bytes long and w starts with T's first max(1, |T| - 2)
 * bytes (tw_analyzer_keeps_first). */
static int may_stem_to(const wanted *wt, const char *w, size_t n) {
    for (size_t i = 0; i < wt->n; i++) {
        size_t tl = wt->tlens[i], k = tl > 3 ? tl - 2 : 1;
        if (tl <= n && tl > 0 && memcmp(w, wt->terms[i], k) == 0) return 1;
    }
    return 0;
}

static int analyze(tw_analyzer *a, const char *text, size_t len, uint32_t pos_base, int stem, const wanted *first,
                   tw_token_fn fn, void *ctx, uint32_t *npos) {
    const unsigned char *s = (const unsigned char *)text;
    uint32_t count = 0;
    int rc = 0;
    size_t i = 0;
    while (i < len) {
        unsigned t = byte_tab[s[i]];
        if (t == 0) {
            i++;
            continue;
        }
        size_t start = i, end;
        int ascii;
        if (t < 0x80) {
            /* ASCII letter or digit: scan the ASCII run, then see whether a
             * non-ASCII letter, number or mark continues the token. */
            size_t j = i + 1;
            while (j < len && ascii_alnum(byte_tab[s[j]])) j++;
            end = (j < len && s[j] >= 0x80) ? token_end(s, len, j) : j;
            ascii = end == j;
        } else {
            utf8proc_int32_t cp;
            size_t avail = len - i < 4 ? len - i : 4;
            utf8proc_ssize_t n = utf8proc_iterate(s + i, (utf8proc_ssize_t)avail, &cp);
            if (n <= 0) {
                i++; /* an invalid byte is a separator */
                continue;
            }
            utf8proc_category_t cat = utf8proc_category(cp);
            if (cat < UTF8PROC_CATEGORY_LU || cat > UTF8PROC_CATEGORY_NO ||
                (cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME)) {
                i += (size_t)n; /* not a token start: marks cannot lead */
                continue;
            }
            end = token_end(s, len, i + (size_t)n);
            ascii = 0;
        }
        i = end;
        tw_token tok;
        tok.pos = pos_base + count;
        tok.start = start;
        tok.end = end;
        count++;

        const char *term;
        size_t tlen;
        if (ascii) {
            tlen = end - start;
            if (tlen > TW_MAX_TERM_BYTES) continue;
            unsigned b0 = byte_tab[s[start]]; /* the folded first byte */
            int placed = first && !(first->first[b0 >> 6] >> (b0 & 63) & 1);
            if (!placed) {
                for (size_t k = 0; k < tlen; k++) a->lower[k] = (char)byte_tab[s[start + k]];
                placed = first && !may_stem_to(first, a->lower, tlen);
            }
            if (placed) {
                /* Cannot stem to a wanted term (see tw_analyze_wanted): its place only. */
                tok.term = NULL;
                tok.len = 0;
                rc = fn(ctx, &tok);
                if (rc != 0) break;
                continue;
            }
            term = a->lower;
        } else {
            tlen = fold_slow(a, s + start, end - start);
            if (tlen == 0) continue;
            term = (const char *)a->fold;
        }
        rc = deliver(a, term, tlen, stem, &tok, fn, ctx);
        if (rc != 0) break;
    }
    if (npos) *npos = count;
    return rc;
}

int tw_analyze(tw_analyzer *a, const char *text, size_t len, uint32_t pos_base, int stem, tw_token_fn fn, void *ctx,
               uint32_t *npos) {
    return analyze(a, text, len, pos_base, stem, NULL, fn, ctx, npos);
}

int tw_analyze_wanted(tw_analyzer *a, const char *text, size_t len, uint32_t pos_base, const char *const *terms,
                      const size_t *tlens, size_t nterms, tw_token_fn fn, void *ctx, uint32_t *npos) {
    wanted w = {terms, tlens, nterms, {0, 0, 0, 0}};
    for (size_t i = 0; i < nterms; i++) {
        unsigned c = tlens[i] ? (unsigned char)terms[i][0] : 0;
        w.first[c >> 6] |= (uint64_t)1 << (c & 63);
    }
    return analyze(a, text, len, pos_base, 1, tw_analyzer_keeps_first(a) ? &w : NULL, fn, ctx, npos);
}

/* Snowball's english and porter algorithms only rewrite a word's ending: a
 * stem is never longer than its word and differs from it in at most its last
 * two bytes (english's exceptional forms too: "skies" -> "sky", "dying" ->
 * "die"); "none" does not stem. tests/test_analyzer.c checks the property
 * over word lists and random ASCII words. */
int tw_analyzer_keeps_first(const tw_analyzer *a) {
    return !strcmp(a->lang, "english") || !strcmp(a->lang, "porter") || !strcmp(a->lang, "none");
}
