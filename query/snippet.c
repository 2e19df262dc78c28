/*
 * snippet.c — picks and formats the snippet shown under a hit.
 *
 * The text is analyzed again (positions and byte offsets come from the
 * analyzer; only words that may stem to a query term are stemmed); each token that matches a query term or prefix is marked; a
 * window of SNIPPET_TOKENS tokens slides over the text and the one with the
 * most distinct matched terms (then most matches, then earliest) wins. The
 * window is printed from the original bytes, whitespace folded, matches
 * highlighted in three styles.
 */
#include "snippet.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trawl.h"
#include "varint.h"

#define SNIPPET_TOKENS 28
#define SNIPPET_SCAN_BYTES (256u * 1024u)
#define SNIPPET_MAX_BYTES 480u

typedef struct stok {
    size_t start, end;
    int match; /* index of the matched term/prefix, or -1 */
} stok;

typedef struct sctx {
    stok *t;
    size_t n, cap;
    const char *const *terms;
    const size_t *tlen; /* strlen of each term */
    size_t nterms;
    const uint64_t *firsts; /* the first bytes of the terms, a bit set */
    const char *const *prefixes;
    size_t nprefixes;
    int pass; /* 0: stemmed terms, 1: prefixes */
    size_t k; /* token index in pass 1 */
    int oom;
} sctx;

static int on_tok(void *c, const tw_token *tok) {
    sctx *x = c;
    if (x->pass == 0) {
        if (x->n == x->cap) {
            size_t nc = x->cap ? 2 * x->cap : 256;
            stok *nt = realloc(x->t, sizeof *nt * nc);
            if (!nt) {
                x->oom = 1;
                return 1;
            }
            x->t = nt;
            x->cap = nc;
        }
        stok *s = &x->t[x->n++];
        s->start = tok->start;
        s->end = tok->end;
        s->match = -1;
        unsigned b0 = tok->term && tok->len ? (unsigned char)tok->term[0] : 0;
        if (tok->term && tok->len && (x->firsts[b0 >> 6] >> (b0 & 63) & 1))
            for (size_t i = 0; i < x->nterms; i++)
                if (x->tlen[i] == tok->len && memcmp(x->terms[i], tok->term, tok->len) == 0) {
                    s->match = (int)i;
                    break;
                }
    } else {
        /* Same tokenization, so the k-th token here is the k-th of pass 0. */
        while (x->k < x->n && x->t[x->k].start < tok->start) x->k++;
        if (x->k < x->n && x->t[x->k].start == tok->start && x->t[x->k].match < 0)
            for (size_t i = 0; i < x->nprefixes; i++) {
                size_t pl = strlen(x->prefixes[i]);
                if (tok->len >= pl && memcmp(tok->term, x->prefixes[i], pl) == 0) {
                    x->t[x->k].match = (int)(x->nterms + i);
                    break;
                }
            }
    }
    return 0;
}

/* The class of byte c in put_escaped: 1 folds into a space, 2 is escaped in
 * HTML, 0 is copied as it is. */
static inline unsigned esc_class(unsigned char c) {
    if (c <= 0x20 || c == 0x7F) return 1;
    return c == '&' || c == '<' || c == '>' || c == '"' || c == '\'' ? 2 : 0;
}

/* Appends s[0..n) to b with every run of control characters and spaces
 * folded into one space, and, when html, & < > " ' escaped. Runs of ordinary
 * bytes are copied whole. */
static void put_escaped(tw_buf *b, const char *s, size_t n, int html) {
    int space = 0;
    unsigned mask = html ? 3u : 1u;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && !(esc_class((unsigned char)s[j]) & mask)) j++;
        if (j > i) {
            if (space) tw_buf_u8(b, ' ');
            space = 0;
            tw_buf_put(b, s + i, j - i);
        }
        if (j == n) break;
        unsigned char c = (unsigned char)s[j];
        i = j + 1;
        if (esc_class(c) == 1) {
            space = 1;
            continue;
        }
        if (space) tw_buf_u8(b, ' ');
        space = 0;
        if (c == '&')
            tw_buf_put(b, "&amp;", 5);
        else if (c == '<')
            tw_buf_put(b, "&lt;", 4);
        else if (c == '>')
            tw_buf_put(b, "&gt;", 4);
        else if (c == '"')
            tw_buf_put(b, "&quot;", 6);
        else
            tw_buf_put(b, "&#39;", 5);
    }
    if (space) tw_buf_u8(b, ' ');
}

/* Largest n' <= n that does not cut a UTF-8 sequence of s. */
static size_t utf8_cut(const char *s, size_t n) {
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    return n;
}

int tw_snippet(tw_analyzer *an, const char *text, size_t len, const char *const *terms, size_t nterms,
               const char *const *prefixes, size_t nprefixes, char *out[3]) {
    out[0] = out[1] = out[2] = NULL;
    size_t scan = len < SNIPPET_SCAN_BYTES ? len : utf8_cut(text, SNIPPET_SCAN_BYTES);
    /* Only tokens that stem to a query term matter in this pass: the
     * analyzer may skip folding and stemming the others (tw_analyze_wanted). */
    uint64_t firsts[4] = {0, 0, 0, 0};
    size_t tlen_small[16] = {0}, *tlen = nterms <= 16 ? tlen_small : malloc(nterms * sizeof *tlen);
    if (!tlen) return TRAWL_ENOMEM;
    for (size_t i = 0; i < nterms; i++) {
        unsigned char c = (unsigned char)terms[i][0];
        firsts[c >> 6] |= (uint64_t)1 << (c & 63);
        tlen[i] = strlen(terms[i]);
    }
    sctx x = {NULL, 0, 0, terms, tlen, nterms, firsts, prefixes, nprefixes, 0, 0, 0};
    tw_analyze_wanted(an, text, scan, 0, terms, tlen, nterms, on_tok, &x, NULL);
    if (tlen != tlen_small) free(tlen);
    if (!x.oom && nprefixes) {
        x.pass = 1;
        tw_analyze(an, text, scan, 0, 0, on_tok, &x, NULL);
    }
    size_t nkinds = nterms + nprefixes;
    uint32_t *count = calloc(nkinds ? nkinds : 1, sizeof *count);
    if (x.oom || !count) {
        free(x.t);
        free(count);
        return TRAWL_ENOMEM;
    }
    /* Slide a window of SNIPPET_TOKENS tokens. */
    size_t best = 0, best_distinct = 0, best_hits = 0, distinct = 0, hits = 0;
    for (size_t i = 0; i < x.n; i++) {
        if (x.t[i].match >= 0) {
            hits++;
            if (count[x.t[i].match]++ == 0) distinct++;
        }
        if (i >= SNIPPET_TOKENS && x.t[i - SNIPPET_TOKENS].match >= 0) {
            hits--;
            if (--count[x.t[i - SNIPPET_TOKENS].match] == 0) distinct--;
        }
        size_t start = i + 1 >= SNIPPET_TOKENS ? i + 1 - SNIPPET_TOKENS : 0;
        if (distinct > best_distinct || (distinct == best_distinct && hits > best_hits)) {
            best = start;
            best_distinct = distinct;
            best_hits = hits;
        }
    }
    free(count);
    /* Start a little before the first match in the window, for context. */
    if (best_hits) {
        size_t first = best;
        while (x.t[first].match < 0) first++;
        best = first > best + 3 ? first - 3 : best;
    }
    size_t lo = 0, hi = 0, tend = best;
    if (x.n) {
        lo = x.t[best].start;
        tend = best + SNIPPET_TOKENS < x.n ? best + SNIPPET_TOKENS : x.n;
        hi = x.t[tend - 1].end;
        if (tend == x.n) hi = scan; /* keep trailing punctuation */
        if (best == 0) lo = 0;
    } else {
        hi = scan;
    }
    if (hi - lo > SNIPPET_MAX_BYTES) hi = lo + utf8_cut(text + lo, SNIPPET_MAX_BYTES);
    static const char *const on[3] = {"", "\033[1m", "<mark>"}, *const off[3] = {"", "\033[0m", "</mark>"};
    int rc = 0;
    for (int style = 0; style < 3; style++) {
        tw_buf b = {0};
        if (lo > 0) tw_buf_put(&b, "…", strlen("…"));
        size_t at = lo;
        for (size_t k = best; k < tend && x.t[k].start < hi; k++) {
            if (x.t[k].match < 0 || x.t[k].end > hi) continue;
            put_escaped(&b, text + at, x.t[k].start - at, style == 2);
            tw_buf_put(&b, on[style], strlen(on[style]));
            put_escaped(&b, text + x.t[k].start, x.t[k].end - x.t[k].start, style == 2);
            tw_buf_put(&b, off[style], strlen(off[style]));
            at = x.t[k].end;
        }
        put_escaped(&b, text + at, hi - at, style == 2);
        if (hi < len) tw_buf_put(&b, "…", strlen("…"));
        tw_buf_u8(&b, 0);
        if (b.oom) {
            tw_buf_free(&b);
            rc = TRAWL_ENOMEM;
            break;
        }
        out[style] = (char *)b.p;
    }
    free(x.t);
    if (rc)
        for (int s = 0; s < 3; s++) {
            free(out[s]);
            out[s] = NULL;
        }
    return rc;
}
