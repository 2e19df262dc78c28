/*
 * test_analyzer.c — tests of index/analyzer.c (tokenize, NFKC_Casefold, stem).
 *
 * Three layers: hand-checked cases derived from the Unicode rules; invariants
 * on random bytes (offsets, positions, valid UTF-8, no crash); and a
 * differential test against a slow reference tokenizer written here with its
 * own strict UTF-8 decoder (Unicode Table 3-7), utf8proc_category,
 * utf8proc_NFKC_Casefold and a separate sb_stemmer, on thousands of random
 * strings mixing ASCII, Latin-1, Greek, Cyrillic, CJK, Hangul, marks,
 * compatibility characters and invalid bytes.
 */
#include "analyzer.h"
#include "error.h"

#include <libstemmer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static int failures;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            failures++;                                                                                                \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);                                   \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fputc('\n', stderr);                                                                                       \
            if (failures > 50) {                                                                                       \
                fprintf(stderr, "too many failures\n");                                                                \
                exit(1);                                                                                               \
            }                                                                                                          \
        }                                                                                                              \
    } while (0)

/* ---- token lists ------------------------------------------------------- */

typedef struct tok {
    char term[TW_MAX_TERM_BYTES + 1];
    size_t len;
    uint32_t pos;
    size_t start, end;
} tok;

typedef struct toks {
    tok *v;
    size_t n, cap;
    size_t calls;   /* callback invocations */
    size_t stop_at; /* return stop_rc from call number stop_at (1-based); 0 = never */
    int stop_rc;
    int bad; /* the callback saw a token breaking the tw_token contract */
} toks;

static void toks_reset(toks *t) {
    t->n = 0;
    t->calls = 0;
    t->stop_at = 0;
    t->stop_rc = 0;
    t->bad = 0;
}

static void toks_push(toks *t, const char *term, size_t len, uint32_t pos, size_t start, size_t end) {
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->v = realloc(t->v, t->cap * sizeof *t->v);
        if (!t->v) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    tok *k = &t->v[t->n++];
    size_t c = len <= TW_MAX_TERM_BYTES ? len : TW_MAX_TERM_BYTES;
    memcpy(k->term, term, c);
    k->term[c] = 0;
    k->len = len;
    k->pos = pos;
    k->start = start;
    k->end = end;
}

/* Is s[0..n) valid UTF-8 according to utf8proc_iterate? */
static int valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k <= 0) return 0;
        i += (size_t)k;
    }
    return 1;
}

static int collect(void *ctx, const tw_token *tk) {
    toks *t = ctx;
    t->calls++;
    if (tk->len < 1 || tk->len > TW_MAX_TERM_BYTES || !tk->term ||
        !valid_utf8((const unsigned char *)tk->term, tk->len))
        t->bad = 1;
    toks_push(t, tk->term, tk->len, tk->pos, tk->start, tk->end);
    if (t->stop_at && t->calls == t->stop_at) return t->stop_rc;
    return 0;
}

static void dump(const char *what, const toks *t) {
    fprintf(stderr, "  %s (%zu tokens):", what, t->n);
    for (size_t i = 0; i < t->n && i < 40; i++)
        fprintf(stderr, " [%s pos=%u %zu-%zu]", t->v[i].term, (unsigned)t->v[i].pos, t->v[i].start, t->v[i].end);
    fputc('\n', stderr);
}

static void dump_input(const unsigned char *s, size_t n) {
    fprintf(stderr, "  input (%zu bytes):", n);
    for (size_t i = 0; i < n && i < 200; i++) fprintf(stderr, " %02x", s[i]);
    fputc('\n', stderr);
}

static int toks_equal(const toks *a, const toks *b) {
    if (a->n != b->n) return 0;
    for (size_t i = 0; i < a->n; i++) {
        const tok *x = &a->v[i], *y = &b->v[i];
        if (x->len != y->len || memcmp(x->term, y->term, x->len) != 0 || x->pos != y->pos || x->start != y->start ||
            x->end != y->end)
            return 0;
    }
    return 1;
}

/* Runs the analyzer; returns its result. */
static int run(tw_analyzer *a, const char *s, size_t n, uint32_t base, int stem, toks *out, uint32_t *npos) {
    toks_reset(out);
    int rc = tw_analyze(a, s, n, base, stem, collect, out, npos);
    CHECK(!out->bad, "callback saw an invalid tw_token");
    return rc;
}

/* ---- hand-checked cases ------------------------------------------------- */

typedef struct expect {
    const char *term;
    size_t start, end;
} expect;

/* Analyzes s with positions from base and checks every token against want. */
static void expect_tokens(tw_analyzer *a, const char *s, uint32_t base, int stem, const expect *want, size_t nwant,
                          uint32_t want_npos) {
    toks t = {0};
    uint32_t npos = 12345;
    int rc = run(a, s, strlen(s), base, stem, &t, &npos);
    CHECK(rc == 0, "input \"%s\": rc %d, want 0", s, rc);
    CHECK(npos == want_npos, "input \"%s\": npos %u, want %u", s, (unsigned)npos, (unsigned)want_npos);
    int ok = t.n == nwant;
    for (size_t i = 0; ok && i < nwant; i++)
        ok = strlen(want[i].term) == t.v[i].len && strcmp(want[i].term, t.v[i].term) == 0 &&
             t.v[i].start == want[i].start && t.v[i].end == want[i].end;
    CHECK(ok, "input \"%s\" (lang %s, stem %d): tokens differ", s, tw_analyzer_lang(a), stem);
    if (!ok) {
        dump("got", &t);
        fprintf(stderr, "  want (%zu tokens):", nwant);
        for (size_t i = 0; i < nwant; i++) fprintf(stderr, " [%s %zu-%zu]", want[i].term, want[i].start, want[i].end);
        fputc('\n', stderr);
    }
    free(t.v);
}

/* One token expected: term, byte range [start, end). */
static void expect1(tw_analyzer *a, const char *s, int stem, const char *term, size_t start, size_t end) {
    expect e = {term, start, end};
    expect_tokens(a, s, 0, stem, &e, 1, 1);
}

static void test_fixed_cases(void) {
    tw_analyzer *none, *en;
    CHECK(tw_analyzer_new("none", &none) == 0, "new none");
    CHECK(tw_analyzer_new("english", &en) == 0, "new english");

    /* Case folding and compatibility decomposition. */
    expect1(none, "Straße", 1, "strasse", 0, 7);                           /* ß folds to ss */
    expect1(none, "\xEF\xAC\x81le", 1, "file", 0, 5);                      /* U+FB01 ligature fi */
    expect1(none, "\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3", 1, "abc", 0, 9); /* full-width ABC */
    expect1(none, "ΟΔΥΣΣΕΥΣ", 1, "οδυσσευσ", 0, 16);                       /* capital sigma → σ */
    expect1(none, "λόγος", 1, "λόγοσ", 0, 10);                             /* final ς → σ */
    expect1(none, "Привет", 1, "привет", 0, 12);
    expect1(none, "ЁЖ", 1, "ёж", 0, 4);
    expect1(none, "東京", 1, "東京", 0, 6); /* CJK run: one token */
    expect1(none, "한국어", 1, "한국어", 0, 9);
    expect1(none, "2026", 1, "2026", 0, 4);
    expect1(none, "\xE2\x85\xAB", 1, "xii", 0, 3);   /* U+216B roman twelve (Nl) */
    expect1(none, "x\xC2\xB2", 1, "x2", 0, 3);       /* superscript two (No) */
    expect1(none, "\xD9\xA3", 1, "\xD9\xA3", 0, 2);  /* Arabic-Indic three (Nd) */
    expect1(none, "\xE2\x84\x8C", 1, "h", 0, 3);     /* U+210C black-letter H */
    expect1(none, "\xC7\x85", 1, "d\xC5\xBE", 0, 2); /* U+01C5 Dž → d ž */
    /* A combining acute accent stays in the token and composes: e + U+0301 → é. */
    expect1(none, "e\xCC\x81", 1, "\xC3\xA9", 0, 3);
    expect1(none, "E\xCC\x81T\xC3\x89", 1, "\xC3\xA9t\xC3\xA9", 0, 6);
    /* Hangul jamo L V T compose to one syllable: ᄒ ᅡ ᆫ → 한. */
    expect1(none, "\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB", 1, "한", 0, 9);
    /* A leading mark is a separator. */
    expect1(none,
            "\xCC\x81"
            "abc",
            1, "abc", 2, 5);
    expect1(none,
            " \xE2\x83\x9D"
            "x",
            1, "x", 4, 5); /* enclosing circle U+20DD */
    /* A variation selector (Mn, default-ignorable) inside a token vanishes. */
    expect1(none,
            "ab\xEF\xB8\x80"
            "c",
            1, "abc", 0, 6);
    /* A Devanagari spacing mark (Mc) continues the token. */
    expect1(none, "हिंदी", 1, "हिंदी", 0, 15);

    /* Stemming. */
    expect1(en, "running", 1, "run", 0, 7);
    expect1(en, "Running", 1, "run", 0, 7);
    expect1(en, "connections", 1, "connect", 0, 11);
    expect1(en, "CONNECTIONS", 1, "connect", 0, 11);
    expect1(en, "running", 0, "running", 0, 7); /* stem = 0: folded only */
    expect1(none, "running", 1, "running", 0, 7);

    /* Positions and byte offsets in a mixed string. */
    {
        const char *s = "Hello, w\xC3\xB6rld! \xE6\x9D\xB1\xE4\xBA\xAC x\xC2\xB2=4 e\xCC\x81t\xC3\xA9";
        expect want[] = {{"hello", 0, 5}, {"w\xC3\xB6rld", 7, 13}, {"\xE6\x9D\xB1\xE4\xBA\xAC", 15, 21},
                         {"x2", 22, 25},  {"4", 26, 27},           {"\xC3\xA9t\xC3\xA9", 28, 34}};
        expect_tokens(none, s, 100, 1, want, 6, 6);
        toks t = {0};
        uint32_t npos;
        run(none, s, strlen(s), 100, 1, &t, &npos);
        for (size_t i = 0; i < t.n; i++)
            CHECK(t.v[i].pos == 100 + i, "mixed string token %zu: pos %u, want %zu", i, (unsigned)t.v[i].pos, 100 + i);
        free(t.v);
        expect want2[] = {{"caf\xC3\xA9", 0, 5}, {"au", 6, 8}, {"lait", 9, 13}};
        expect_tokens(none, "caf\xC3\xA9-au-lait", 0, 1, want2, 3, 3);
        expect want3[] = {{"the", 0, 3}, {"cat", 4, 8}, {"connect", 9, 20}};
        expect_tokens(en, "The cats connections.", 0, 1, want3, 3, 3);
    }

    /* Invalid UTF-8 is a separator, one byte at a time. */
    {
        expect w1[] = {{"ab", 0, 2}, {"cd", 4, 6}};
        expect_tokens(none,
                      "ab\xC0\x80"
                      "cd",
                      0, 1, w1, 2, 2); /* overlong NUL */
        expect_tokens(none,
                      "ab\xC1\xBF"
                      "cd",
                      0, 1, w1, 2, 2); /* overlong DEL */
        expect_tokens(none,
                      "ab\xE2\x82"
                      "cd",
                      0, 1, w1, 2, 2); /* truncated € */
        expect_tokens(none,
                      "ab\xFF\xFE"
                      "cd",
                      0, 1, w1, 2, 2);
        expect w2[] = {{"ab", 0, 2}, {"cd", 5, 7}};
        expect_tokens(none,
                      "ab\xED\xA0\x80"
                      "cd",
                      0, 1, w2, 2, 2); /* surrogate U+D800 */
        expect_tokens(none,
                      "ab\xE0\x80\xAF"
                      "cd",
                      0, 1, w2, 2, 2); /* overlong '/' */
        expect w3[] = {{"ab", 0, 2}, {"cd", 6, 8}};
        expect_tokens(none,
                      "ab\xF4\x90\x80\x80"
                      "cd",
                      0, 1, w3, 2, 2); /* above U+10FFFF */
        expect_tokens(none,
                      "ab\xF0\x80\x80\xAF"
                      "cd",
                      0, 1, w3, 2, 2); /* overlong 4-byte */
        expect_tokens(none,
                      "ab\xF8\x88\x80\x80"
                      "cd",
                      0, 1, w3, 2, 2); /* 5-byte form */
        expect w4[] = {{"\xC3\xA9", 0, 2}, {"\xC3\xA9", 3, 5}};
        expect_tokens(none, "\xC3\xA9\x80\xC3\xA9", 0, 1, w4, 2, 2); /* stray continuation */
        expect w5[] = {{"ab", 0, 2}};
        expect_tokens(none, "ab\xE2\x82", 0, 1, w5, 1, 1); /* truncated at the end */
        expect_tokens(none, "ab\xF0\x9F\x98", 0, 1, w5, 1, 1);
        expect_tokens(none, "\xC3", 0, 1, NULL, 0, 0);
        expect w6[] = {{"x", 1, 2}};
        expect_tokens(none, "\xFFx\xFE", 0, 1, w6, 1, 1);
    }

    /* Length limits: dropped tokens still use a position. */
    {
        char buf[600];
        memset(buf, 'a', 128);
        buf[128] = 0;
        expect1(none, buf, 1, buf, 0, 128); /* exactly the limit: kept */
        memset(buf, 'a', 129);
        buf[129] = 0;
        expect_tokens(none, buf, 0, 1, NULL, 0, 1);
        memcpy(buf, "x ", 2);
        memset(buf + 2, 'a', 129);
        memcpy(buf + 131, " y", 3);
        expect w[] = {{"x", 0, 1}, {"y", 132, 133}};
        expect_tokens(none, buf, 0, 1, w, 2, 3);
        toks t = {0};
        run(none, buf, strlen(buf), 0, 1, &t, NULL);
        CHECK(t.n == 2 && t.v[0].pos == 0 && t.v[1].pos == 2, "dropped token keeps its position");
        free(t.v);
        /* U+FDFA folds to 33 bytes (18 code points with spaces): 3 fit, 4 do not. */
        const char *fdfa = "\xEF\xB7\xBA";
        snprintf(buf, sizeof buf, "%s%s%s", fdfa, fdfa, fdfa);
        toks u = {0};
        uint32_t npos;
        run(none, buf, strlen(buf), 0, 1, &u, &npos);
        CHECK(u.n == 1 && u.v[0].len == 99 && npos == 1, "3 x U+FDFA: %zu tokens, len %zu", u.n, u.n ? u.v[0].len : 0);
        snprintf(buf, sizeof buf, "%s%s%s%s", fdfa, fdfa, fdfa, fdfa);
        run(none, buf, strlen(buf), 0, 1, &u, &npos);
        CHECK(u.n == 0 && npos == 1, "4 x U+FDFA (132 bytes folded): %zu tokens, npos %u", u.n, (unsigned)npos);
        /* A token of only default-ignorable letters folds to nothing: dropped. */
        expect w7[] = {{"a", 0, 1}, {"b", 6, 7}};
        expect_tokens(none, "a \xE3\x85\xA4 b", 0, 1, w7, 2, 3); /* U+3164 Hangul filler */
        free(u.v);
    }

    tw_analyzer_free(none);
    tw_analyzer_free(en);
}

/* ---- huge tokens --------------------------------------------------------- */

static void test_huge_tokens(void) {
    tw_analyzer *a;
    CHECK(tw_analyzer_new("english", &a) == 0, "new english");
    size_t n = 1u << 20;
    char *buf = malloc(n + 16);
    toks t = {0};
    uint32_t npos;

    memset(buf, 'w', n); /* 1 MB ASCII word */
    int rc = run(a, buf, n, 0, 1, &t, &npos);
    CHECK(rc == 0 && t.n == 0 && npos == 1, "1 MB ASCII word: rc %d, %zu tokens, npos %u", rc, t.n, (unsigned)npos);

    for (size_t i = 0; i + 2 <= n; i += 2) /* 1 MB of é: the slow path */
        memcpy(buf + i, "\xC3\xA9", 2);
    rc = run(a, buf, n, 0, 1, &t, &npos);
    CHECK(rc == 0 && t.n == 0 && npos == 1, "1 MB é word: rc %d, %zu tokens, npos %u", rc, t.n, (unsigned)npos);

    /* "a" followed by 1 MB of variation selectors: all ignorable, folds to "a". */
    buf[0] = 'a';
    size_t m = 1;
    while (m + 3 <= n) {
        memcpy(buf + m, "\xEF\xB8\x80", 3);
        m += 3;
    }
    rc = run(a, buf, m, 0, 1, &t, &npos);
    CHECK(rc == 0 && t.n == 1 && npos == 1 && t.v[0].len == 1 && t.v[0].term[0] == 'a' && t.v[0].start == 0 &&
              t.v[0].end == m,
          "a + VS*: rc %d, %zu tokens", rc, t.n);

    /* Words around a 1 MB word keep their positions. */
    memset(buf, 'q', n);
    memcpy(buf, "cats ", 5);
    memcpy(buf + n - 5, " dogs", 5);
    rc = run(a, buf, n, 7, 1, &t, &npos);
    CHECK(rc == 0 && t.n == 2 && npos == 3 && strcmp(t.v[0].term, "cat") == 0 && t.v[0].pos == 7 &&
              strcmp(t.v[1].term, "dog") == 0 && t.v[1].pos == 9 && t.v[1].start == n - 4,
          "words around a 1 MB word: %zu tokens, npos %u", t.n, (unsigned)npos);
    free(buf);
    free(t.v);
    tw_analyzer_free(a);
}

/* ---- reference tokenizer ------------------------------------------------ */

/* Strict UTF-8 decoder after Unicode Table 3-7. Returns the sequence length
 * (1..4) and sets *cp, or 0 for an ill-formed byte. Reads only s[0..n). */
static int ref_decode(const unsigned char *s, size_t n, int32_t *cp) {
    unsigned b = s[0];
    if (b < 0x80) {
        *cp = (int32_t)b;
        return 1;
    }
    int k;
    unsigned lo = 0x80, hi = 0xBF;
    int32_t v;
    if (b >= 0xC2 && b <= 0xDF) {
        k = 2;
        v = (int32_t)(b & 0x1F);
    } else if (b >= 0xE0 && b <= 0xEF) {
        k = 3;
        v = (int32_t)(b & 0x0F);
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        k = 4;
        v = (int32_t)(b & 0x07);
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if ((size_t)k > n) return 0;
    for (int i = 1; i < k; i++) {
        unsigned c = s[i];
        if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xBF)) return 0;
        v = (v << 6) | (int32_t)(c & 0x3F);
    }
    *cp = v;
    return k;
}

/* 0 = separator, 1 = letter or number (may start a token), 2 = mark. */
static int ref_class(int32_t cp) {
    switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO: return 1;
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
        case UTF8PROC_CATEGORY_ME: return 2;
        default: return 0;
    }
}

/* The analyzer's contract, computed the slow way: decode every code point,
 * classify, cut tokens, fold each with utf8proc_NFKC_Casefold, stem with st
 * (NULL: no stemming; an empty stem keeps the folded term). */
static void ref_analyze(const unsigned char *s, size_t n, uint32_t base, struct sb_stemmer *st, toks *out,
                        uint32_t *npos) {
    toks_reset(out);
    size_t ncp = 0;
    int32_t *cps = malloc((n + 1) * sizeof *cps);
    size_t *offs = malloc((n + 1) * sizeof *offs);
    for (size_t i = 0; i < n;) {
        int32_t cp;
        int k = ref_decode(s + i, n - i, &cp);
        offs[ncp] = i;
        cps[ncp++] = k ? cp : -1;
        i += k ? (size_t)k : 1;
    }
    offs[ncp] = n;
    uint32_t count = 0;
    for (size_t i = 0; i < ncp;) {
        if (cps[i] < 0 || ref_class(cps[i]) != 1) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < ncp && cps[j] >= 0 && ref_class(cps[j]) != 0) j++;
        size_t start = offs[i], end = offs[j];
        uint32_t pos = base + count++;
        i = j;
        char *z = malloc(end - start + 1);
        memcpy(z, s + start, end - start);
        z[end - start] = 0;
        unsigned char *f = utf8proc_NFKC_Casefold((const unsigned char *)z);
        free(z);
        if (!f) {
            fprintf(stderr, "utf8proc_NFKC_Casefold failed\n");
            exit(1);
        }
        size_t flen = strlen((char *)f);
        if (flen == 0 || flen > TW_MAX_TERM_BYTES) {
            free(f);
            continue;
        }
        const char *term = (const char *)f;
        size_t tlen = flen;
        if (st) {
            const sb_symbol *o = sb_stemmer_stem(st, f, (int)flen);
            int ol = sb_stemmer_length(st);
            if (ol > TW_MAX_TERM_BYTES) {
                free(f);
                continue;
            }
            if (ol > 0) {
                term = (const char *)o;
                tlen = (size_t)ol;
            }
        }
        toks_push(out, term, tlen, pos, start, end);
        free(f);
    }
    *npos = count;
    free(cps);
    free(offs);
}

/* ---- random inputs ------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static size_t put_cp(unsigned char *p, int32_t cp) {
    return (size_t)utf8proc_encode_char(cp, p);
}

/* Appends one random piece (at most 16 bytes) at p; returns its length. */
static size_t random_piece(unsigned char *p) {
    static const int32_t extras[] = {
        0xDF,   0xD7,   0xF7,   0xAA,   0xB2,   0xB5,   0x130,   0x131,   0x1C5,   0x3C2,   0x390,
        0x1E9E, 0xFB01, 0xFB03, 0x2160, 0x216B, 0x2460, 0x00BD,  0x210C,  0x2126,  0x212B,  0x3164,
        0xFE00, 0xFE0F, 0x034F, 0x20DD, 0x0345, 0x0660, 0x0663,  0x0915,  0x093F,  0x0902,  0x094D,
        0xFDFA, 0x3000, 0x00A0, 0x2028, 0x00AD, 0x200D, 0x1F600, 0xE0100, 0x1D400, 0x10400, 0x0130,
        0x1F88, 0x0390, 0x00C5, 0x212B, 0x1100, 0x1161, 0x11A8,  0x0627,  0x0644,  0x064B,
    };
    size_t n = 0;
    switch (rnd() % 16) {
        case 0:
        case 1:
        case 2: { /* ASCII letters and digits */
            size_t k = 1 + rnd() % 6;
            for (size_t i = 0; i < k; i++) {
                uint32_t r = rnd() % 62;
                p[n++] = (unsigned char)(r < 26 ? 'a' + r : r < 52 ? 'A' + r - 26 : '0' + r - 52);
            }
            break;
        }
        case 3: /* ASCII punctuation and space */ p[n++] = (unsigned char)" ,.;:!?-'\"()\t\n_/"[rnd() % 16]; break;
        case 4: /* Latin-1 supplement */ n += put_cp(p, (int32_t)(0xA0 + rnd() % 0x60)); break;
        case 5: /* Greek */ n += put_cp(p, (int32_t)(0x370 + rnd() % 0x90)); break;
        case 6: /* Cyrillic */ n += put_cp(p, (int32_t)(0x400 + rnd() % 0x60)); break;
        case 7: /* CJK ideographs, Hiragana */
            n += put_cp(p, (int32_t)(rnd() % 2 ? 0x4E00 + rnd() % 0x500 : 0x3040 + rnd() % 0x60));
            break;
        case 8: /* combining marks */ n += put_cp(p, (int32_t)(0x300 + rnd() % 0x70)); break;
        case 9: /* Hangul syllables and jamo, full-width forms */
            n += put_cp(p, (int32_t)(rnd() % 3 == 0   ? 0xAC00 + rnd() % 11172
                                     : rnd() % 2 == 0 ? 0x1100 + rnd() % 0x100
                                                      : 0xFF01 + rnd() % 0x5E));
            break;
        case 10:
        case 11: /* hand-picked troublemakers */
            n += put_cp(p, extras[rnd() % (sizeof extras / sizeof extras[0])]);
            break;
        case 12: { /* invalid or truncated sequences */
            static const char *const bad[] = {"\x80",
                                              "\xBF",
                                              "\xC0\x80",
                                              "\xC1\xBF",
                                              "\xE0\x80\xAF",
                                              "\xED\xA0\x80",
                                              "\xED\xBF\xBF",
                                              "\xF4\x90\x80\x80",
                                              "\xF8\x88\x80\x80\x80",
                                              "\xFE",
                                              "\xFF",
                                              "\xE2\x82",
                                              "\xF0\x9F\x98",
                                              "\xC3"};
            const char *b = bad[rnd() % (sizeof bad / sizeof bad[0])];
            memcpy(p, b, strlen(b));
            n += strlen(b);
            break;
        }
        case 13: /* any random byte */ p[n++] = (unsigned char)rnd(); break;
        case 14: { /* any valid code point */
            int32_t cp;
            do cp = (int32_t)(rnd() % 0x110000);
            while (cp >= 0xD800 && cp < 0xE000);
            n += put_cp(p, cp);
            break;
        }
        default: /* English-like words for the stemmer */ {
            static const char *const words[] = {"running", "connections", "happily",  "generalization",
                                                "cats",    "ponies",      "caresses", "s",
                                                "Ran",     "relational"};
            const char *w = words[rnd() % (sizeof words / sizeof words[0])];
            memcpy(p, w, strlen(w));
            n += strlen(w);
            break;
        }
    }
    return n;
}

/* Fills buf (capacity cap >= 64) with a random mixed string; returns its length. */
static size_t random_string(unsigned char *buf, size_t cap) {
    size_t target = rnd() % (cap - 32);
    size_t n = 0;
    while (n < target) {
        size_t k = random_piece(buf + n);
        /* Sometimes repeat a piece to build tokens around the length limit. */
        if (rnd() % 40 == 0) {
            size_t reps = 1 + rnd() % 60;
            for (size_t r = 0; r < reps && n + 2 * k + 32 < cap; r++) {
                memmove(buf + n + k, buf + n, k);
                n += k;
            }
        }
        n += k;
    }
    return n;
}

static void differential(const char *lang, int stem, int rounds, size_t cap) {
    tw_analyzer *a;
    CHECK(tw_analyzer_new(lang, &a) == 0, "new %s", lang);
    struct sb_stemmer *st = NULL;
    if (stem && strcmp(lang, "none") != 0) st = sb_stemmer_new(lang, "UTF_8");
    unsigned char *buf = malloc(cap);
    toks got = {0}, want = {0};
    for (int r = 0; r < rounds; r++) {
        size_t n = random_string(buf, cap);
        uint32_t base = rnd() % 3 ? 0 : rnd();
        uint32_t np_got, np_want;
        int rc = run(a, (const char *)buf, n, base, stem, &got, &np_got);
        ref_analyze(buf, n, base, st, &want, &np_want);
        int same = rc == 0 && np_got == np_want && toks_equal(&got, &want);
        CHECK(same, "lang %s stem %d round %d: rc %d, npos %u vs reference %u", lang, stem, r, rc, (unsigned)np_got,
              (unsigned)np_want);
        if (!same) {
            dump_input(buf, n);
            dump("analyzer", &got);
            dump("reference", &want);
        }
    }
    free(got.v);
    free(want.v);
    free(buf);
    sb_stemmer_delete(st);
    tw_analyzer_free(a);
}

/* Random bytes: no crash, and every token obeys the contract. */
static void test_random_bytes(void) {
    tw_analyzer *a;
    CHECK(tw_analyzer_new("english", &a) == 0, "new english");
    size_t cap = 8192;
    unsigned char *buf = malloc(cap);
    toks t = {0};
    for (int r = 0; r < 3000; r++) {
        size_t n = rnd() % cap;
        int mode = r % 3;
        for (size_t i = 0; i < n; i++) {
            uint32_t x = rnd();
            /* mode 0: uniform bytes; 1: mostly high bytes; 2: mostly ASCII */
            buf[i] = mode == 0   ? (unsigned char)x
                     : mode == 1 ? (unsigned char)(0x80 | x)
                                 : (unsigned char)(x % 8 ? 'a' + x % 26 : x >> 8);
        }
        /* Analyze an exact-size heap copy so ASan catches any read past len. */
        unsigned char *exact = malloc(n ? n : 1);
        memcpy(exact, buf, n);
        uint32_t npos;
        int rc = run(a, (const char *)exact, n, 5, r % 2, &t, &npos);
        CHECK(rc == 0, "random bytes: rc %d", rc);
        CHECK(t.n <= npos, "random bytes: %zu tokens > npos %u", t.n, (unsigned)npos);
        for (size_t i = 0; i < t.n; i++) {
            const tok *k = &t.v[i];
            CHECK(k->start < k->end && k->end <= n, "token %zu: range %zu-%zu, input %zu", i, k->start, k->end, n);
            CHECK(valid_utf8(exact + k->start, k->end - k->start), "token %zu: source not UTF-8", i);
            CHECK(valid_utf8((const unsigned char *)k->term, k->len), "token %zu: term not UTF-8", i);
            CHECK(k->pos >= 5 && k->pos < 5 + npos, "token %zu: pos %u outside [5, %u)", i, (unsigned)k->pos,
                  5 + (unsigned)npos);
            if (i > 0) {
                CHECK(k->pos > t.v[i - 1].pos, "positions not increasing: %u after %u", (unsigned)k->pos,
                      (unsigned)t.v[i - 1].pos);
                CHECK(k->start >= t.v[i - 1].end, "tokens overlap: %zu < %zu", k->start, t.v[i - 1].end);
            }
        }
        free(exact);
    }
    free(t.v);
    free(buf);
    tw_analyzer_free(a);
}

/* The ASCII fast path against utf8proc and against the analyzer's own slow
 * path: appending U+FE00 (a default-ignorable mark) to a word sends the same
 * word through utf8proc and must not change the term. */
static void test_ascii_fast_path(void) {
    tw_analyzer *none, *en;
    CHECK(tw_analyzer_new("none", &none) == 0, "new none");
    CHECK(tw_analyzer_new("english", &en) == 0, "new english");
    toks fast = {0}, slow = {0};
    char word[200], marked[210];
    for (int r = 0; r < 20000; r++) {
        size_t n = 1 + rnd() % (r % 10 == 0 ? 140 : 12);
        for (size_t i = 0; i < n; i++) {
            uint32_t x = rnd() % 62;
            word[i] = (char)(x < 26 ? 'a' + x : x < 52 ? 'A' + x - 26 : '0' + x - 52);
        }
        word[n] = 0;
        memcpy(marked, word, n);
        memcpy(marked + n, "\xEF\xB8\x80", 4);
        tw_analyzer *a = r % 2 ? en : none;
        int stem = r % 4 != 3;
        uint32_t np1, np2;
        run(a, word, n, 0, stem, &fast, &np1);
        run(a, marked, n + 3, 0, stem, &slow, &np2);
        int same = np1 == 1 && np2 == 1 && fast.n == slow.n && fast.n <= 1 &&
                   (fast.n == 0 ||
                    (fast.v[0].len == slow.v[0].len && memcmp(fast.v[0].term, slow.v[0].term, fast.v[0].len) == 0));
        CHECK(same, "word \"%s\": fast path %zu tokens (\"%s\"), slow path %zu (\"%s\")", word, fast.n,
              fast.n ? fast.v[0].term : "", slow.n, slow.n ? slow.v[0].term : "");
        CHECK((fast.n == 1) == (n <= TW_MAX_TERM_BYTES), "word of %zu bytes: %zu tokens", n, fast.n);
        /* And against utf8proc directly (no stemming). */
        if (!stem && fast.n == 1) {
            unsigned char *f = utf8proc_NFKC_Casefold((const unsigned char *)word);
            CHECK(f && strlen((char *)f) == fast.v[0].len && memcmp(f, fast.v[0].term, fast.v[0].len) == 0,
                  "word \"%s\": \"%s\" vs utf8proc \"%s\"", word, fast.v[0].term, f ? (char *)f : "");
            free(f);
        }
    }
    /* Every ASCII byte: a token by itself exactly when utf8proc says L or N. */
    for (int c = 1; c < 128; c++) {
        char s[2] = {(char)c, 0};
        uint32_t np;
        run(none, s, 1, 0, 0, &fast, &np);
        int want = ref_class(c) == 1;
        CHECK((int)fast.n == want, "byte 0x%02x: %zu tokens, want %d", c, fast.n, want);
    }
    free(fast.v);
    free(slow.v);
    tw_analyzer_free(none);
    tw_analyzer_free(en);
}

/* analyzer.c drops a token unfolded when its decomposition exceeds
 * 8 * TW_MAX_TERM_BYTES code points, relying on composition merging at most 4
 * code points into one: check that over all of Unicode. */
static void test_composition_bound(void) {
    int maxlen = 0;
    int32_t maxcp = 0;
    for (int32_t cp = 0; cp < 0x110000; cp++) {
        if (cp >= 0xD800 && cp < 0xE000) continue;
        unsigned char b[4];
        utf8proc_ssize_t n = utf8proc_encode_char(cp, b);
        utf8proc_int32_t d[32];
        utf8proc_ssize_t k = utf8proc_decompose(b, n, d, 32, UTF8PROC_DECOMPOSE);
        if (k > maxlen) {
            maxlen = (int)k;
            maxcp = cp;
        }
    }
    CHECK(maxlen >= 1 && maxlen <= 4, "longest canonical decomposition: %d (U+%04X)", maxlen, (unsigned)maxcp);
}

/* Stems through the analyzer (which caches them) against a fresh stemmer, on
 * enough distinct words to evict cache slots, with repeats to hit them. */
static void test_stem_cache(void) {
    static const char *const langs[] = {"english", "porter", "russian"};
    for (size_t li = 0; li < sizeof langs / sizeof langs[0]; li++) {
        tw_analyzer *a;
        CHECK(tw_analyzer_new(langs[li], &a) == 0, "new %s", langs[li]);
        struct sb_stemmer *st = sb_stemmer_new(langs[li], "UTF_8");
        static const char *const suffixes[] = {"", "s", "ing", "ed", "ies", "ation", "ness", "ly"};
        char words[512][24];
        for (size_t w = 0; w < 512; w++) {
            size_t n = 1 + rnd() % 10;
            for (size_t i = 0; i < n; i++) words[w][i] = (char)('a' + rnd() % 26);
            words[w][n] = 0;
        }
        toks t = {0};
        for (int r = 0; r < 60000; r++) {
            char w[64];
            /* half from a small vocabulary (cache hits), half fresh (misses, evictions) */
            if (r % 2) {
                snprintf(w, sizeof w, "%s%s", words[rnd() % 512], suffixes[rnd() % 8]);
            } else {
                size_t n = 1 + rnd() % 40;
                for (size_t i = 0; i < n; i++) w[i] = (char)('a' + rnd() % 26);
                w[n] = 0;
            }
            if (li == 2 && r % 3 == 0)
                snprintf(w, sizeof w, "%s",
                         (r / 3) % 2 ? "\xD1\x81\xD0\xBB\xD0\xBE\xD0\xB2\xD0\xB0"
                                     : "\xD0\xBA\xD0\xBD\xD0\xB8\xD0\xB3\xD0\xB8");
            size_t n = strlen(w);
            run(a, w, n, 0, 1, &t, NULL);
            const sb_symbol *o = sb_stemmer_stem(st, (const sb_symbol *)w, (int)n);
            size_t ol = (size_t)sb_stemmer_length(st);
            const char *want = ol ? (const char *)o : w;
            size_t wl = ol ? ol : n;
            CHECK(t.n == 1 && t.v[0].len == wl && memcmp(t.v[0].term, want, wl) == 0,
                  "%s: \"%s\" stems to \"%s\", stemmer says \"%.*s\"", langs[li], w, t.n ? t.v[0].term : "", (int)wl,
                  want);
        }
        free(t.v);
        sb_stemmer_delete(st);
        tw_analyzer_free(a);
    }
}

static void test_languages(void) {
    const char *const *l = tw_languages();
    const char **sb = sb_stemmer_list();
    CHECK(l[0] && strcmp(l[0], "none") == 0, "first language %s", l[0] ? l[0] : "(null)");
    size_t i = 0;
    for (; sb[i]; i++)
        CHECK(l[i + 1] && strcmp(l[i + 1], sb[i]) == 0, "language %zu: table %s, libstemmer %s", i + 1,
              l[i + 1] ? l[i + 1] : "(null)", sb[i]);
    CHECK(l[i + 1] == NULL, "table has more languages than libstemmer: %s", l[i + 1]);
    for (size_t a = 0; l[a]; a++)
        for (size_t b = a + 1; l[b]; b++) CHECK(strcmp(l[a], l[b]) != 0, "duplicate language %s", l[a]);
    for (size_t k = 0; l[k]; k++) {
        CHECK(tw_language_ok(l[k]), "%s not accepted", l[k]);
        tw_analyzer *a = NULL;
        CHECK(tw_analyzer_new(l[k], &a) == 0 && a, "tw_analyzer_new(%s)", l[k]);
        if (a) {
            CHECK(strcmp(tw_analyzer_lang(a), l[k]) == 0, "lang %s vs %s", tw_analyzer_lang(a), l[k]);
            toks t = {0};
            run(a, "Hello world", 11, 0, 1, &t, NULL);
            CHECK(t.n == 2, "%s: %zu tokens", l[k], t.n);
            free(t.v);
        }
        tw_analyzer_free(a);
    }
    static const char *const unknown[] = {"klingon", "", "English", "en", "none ", "NONE", "porter2"};
    for (size_t k = 0; k < sizeof unknown / sizeof unknown[0]; k++) {
        tw_analyzer *a = (tw_analyzer *)&failures; /* must be reset to NULL */
        CHECK(!tw_language_ok(unknown[k]), "\"%s\" accepted", unknown[k]);
        int rc = tw_analyzer_new(unknown[k], &a);
        CHECK(rc == TRAWL_EINVAL && a == NULL, "tw_analyzer_new(\"%s\"): rc %d", unknown[k], rc);
    }
    CHECK(!tw_language_ok(NULL), "NULL accepted by tw_language_ok");
    tw_analyzer *a = NULL;
    CHECK(tw_analyzer_new(NULL, &a) == 0 && a && strcmp(tw_analyzer_lang(a), "english") == 0,
          "NULL language is english");
    tw_analyzer_free(a);
    tw_analyzer_free(NULL);
}

static void test_stop_early(void) {
    tw_analyzer *a;
    CHECK(tw_analyzer_new("english", &a) == 0, "new english");
    toks t = {0};
    const char *s = "one two three four five";
    toks_reset(&t);
    t.stop_at = 3;
    t.stop_rc = 7;
    uint32_t npos = 0;
    int rc = tw_analyze(a, s, strlen(s), 10, 1, collect, &t, &npos);
    CHECK(rc == 7 && t.calls == 3 && npos == 3 && t.v[2].pos == 12 && strcmp(t.v[2].term, "three") == 0,
          "stop at 3: rc %d, calls %zu, npos %u", rc, t.calls, (unsigned)npos);
    toks_reset(&t);
    t.stop_at = 1;
    t.stop_rc = -5;
    rc = tw_analyze(a, s, strlen(s), 0, 1, collect, &t, NULL);
    CHECK(rc == -5 && t.calls == 1, "stop at 1: rc %d, calls %zu", rc, t.calls);
    /* Empty and separator-only input. */
    toks_reset(&t);
    rc = tw_analyze(a, "", 0, 0, 1, collect, &t, &npos);
    CHECK(rc == 0 && t.calls == 0 && npos == 0, "empty input: rc %d calls %zu npos %u", rc, t.calls, (unsigned)npos);
    rc = tw_analyze(a, " ,.!\xCC\x81\xFF", 7, 0, 1, collect, &t, &npos);
    CHECK(rc == 0 && t.calls == 0 && npos == 0, "separators only: rc %d calls %zu npos %u", rc, t.calls,
          (unsigned)npos);
    free(t.v);
    tw_analyzer_free(a);
}

/* ---- tw_analyze_first ----------------------------------------------------- */

/* The property tw_analyzer_keeps_first claims, checked on libstemmer itself:
 * the stem of an ASCII word (letters and digits) is empty, or no longer than
 * the word and starts with its first max(1, |stem| - 2) bytes. Words: Snowball
 * english's exceptional forms, and random words built from pieces that
 * trigger the suffix rules. */
static void keeps_first_property(const char *lang) {
    struct sb_stemmer *st = sb_stemmer_new(lang, "UTF_8");
    CHECK(st != NULL, "stemmer %s", lang);
    if (!st) return;
    static const char *const fixed[] = {
        "skis", "skies",  "sky",        "dying",     "lying",   "tying",  "idly",    "gently", "ugly", "early",
        "only", "singly", "news",       "howe",      "atlas",   "cosmos", "bias",    "andes",  "y",    "yy",
        "yyy",  "ys",     "ies",        "sses",      "eed",     "ing",    "ed",      "s",      "e",    "ly",
        "yes",  "yield",  "generously", "communism", "arsenal", "past",   "universe"};
    static const char *const pieces[] = {
        "a",       "e",       "i",    "o",     "u",     "y",      "s",     "b",      "c",       "d",       "l",
        "n",       "r",       "t",    "ing",   "ed",    "ies",    "ly",    "sses",   "eed",     "ational", "ization",
        "fulness", "iveness", "ment", "ous",   "ive",   "ize",    "al",    "er",     "ic",      "able",    "ion",
        "y",       "yy",      "1",    "9",     "gener", "commun", "arsen", "past",   "univers", "bli",     "abli",
        "ousli",   "entli",   "eli",  "ski",   "dy",    "ty",     "id",    "ug",     "ear",     "on",      "sing",
        "at",      "bl",      "iz",   "eedly", "ingly", "edly",   "ness",  "ful",    "less",    "biliti",  "iviti",
        "aliti",   "enci",    "anci", "izer",  "ator",  "logi",   "fulli", "lessli", "icate",   "ative"};
    char w[64];
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] + 300000; i++) {
        if (i < sizeof fixed / sizeof fixed[0]) {
            snprintf(w, sizeof w, "%s", fixed[i]);
        } else {
            w[0] = 0;
            size_t k = 1 + rnd() % 5;
            for (size_t j = 0; j < k; j++) strncat(w, pieces[rnd() % (sizeof pieces / sizeof pieces[0])], 8);
        }
        size_t n = strlen(w);
        const sb_symbol *out = sb_stemmer_stem(st, (const sb_symbol *)w, (int)n);
        int ol = sb_stemmer_length(st);
        size_t keep = ol > 3 ? (size_t)ol - 2 : 1;
        CHECK(out && (ol == 0 || ((size_t)ol <= n && memcmp(out, w, keep) == 0)), "%s: '%s' stems to '%.*s'", lang, w,
              ol, out ? (const char *)out : "");
    }
    sb_stemmer_delete(st);
}

/* The collector of tw_analyze_wanted: a token handed over without its term
 * (NULL, length 0) is recorded with an empty term; any other is checked as
 * by collect. */
static int collect_wanted(void *ctx, const tw_token *tk) {
    if (tk->term) return collect(ctx, tk);
    toks *t = ctx;
    t->calls++;
    if (tk->len != 0) t->bad = 1;
    toks_push(t, "", 0, tk->pos, tk->start, tk->end);
    return 0;
}

/* tw_analyze_wanted against tw_analyze on random text, for random wanted
 * terms (some of them the text's own terms): the same tokens (positions,
 * offsets); a token handed over without its term is one whose term is none
 * of the wanted ones (and only where the language keeps words' beginnings);
 * every other token has tw_analyze's term. */
static void analyze_wanted_differential(const char *lang, int rounds) {
    tw_analyzer *a;
    CHECK(tw_analyzer_new(lang, &a) == 0, "new %s", lang);
    int keeps = tw_analyzer_keeps_first(a);
    CHECK(keeps == (!strcmp(lang, "english") || !strcmp(lang, "porter") || !strcmp(lang, "none")), "%s: keeps_first %d",
          lang, keeps);
    unsigned char *buf = malloc(512);
    toks got = {0}, want = {0};
    char terms[6][TW_MAX_TERM_BYTES + 1];
    const char *tp[6];
    size_t tl[6];
    size_t placed_total = 0, matched_total = 0;
    for (int r = 0; r < rounds; r++) {
        size_t n = random_string(buf, 512);
        run(a, (const char *)buf, n, 0, 1, &want, NULL);
        size_t nt = rnd() % 6;
        for (size_t k = 0; k < nt; k++) {
            if (want.n && rnd() % 2) { /* a term of the text */
                const tok *y = &want.v[rnd() % want.n];
                snprintf(terms[k], sizeof terms[k], "%s", y->term);
            } else { /* a random short ASCII word */
                size_t m = 1 + rnd() % 6;
                for (size_t j = 0; j < m; j++) terms[k][j] = (char)(rnd() % 4 ? 'a' + rnd() % 26 : '0' + rnd() % 10);
                terms[k][m] = 0;
            }
            tp[k] = terms[k];
            tl[k] = strlen(terms[k]);
        }
        toks_reset(&got);
        uint32_t np_got, np_want;
        int rc = tw_analyze_wanted(a, (const char *)buf, n, 0, tp, tl, nt, collect_wanted, &got, &np_got);
        toks_reset(&want);
        run(a, (const char *)buf, n, 0, 1, &want, &np_want);
        int same = rc == 0 && !got.bad && np_got == np_want && got.n == want.n;
        for (size_t i = 0; same && i < got.n; i++) {
            const tok *x = &got.v[i], *y = &want.v[i];
            int wanted = 0;
            for (size_t k = 0; k < nt; k++) wanted |= y->len == tl[k] && memcmp(y->term, tp[k], tl[k]) == 0;
            int eq = x->len == y->len && memcmp(x->term, y->term, x->len) == 0;
            int placed = x->len == 0 && keeps && !wanted;
            placed_total += x->len == 0;
            matched_total += wanted;
            same = x->pos == y->pos && x->start == y->start && x->end == y->end && (eq || placed);
        }
        CHECK(same, "analyze_wanted %s round %d differs from analyze", lang, r);
        if (!same) {
            dump_input(buf, n);
            dump("wanted", &got);
            dump("analyze", &want);
        }
    }
    /* The test saw both kinds of tokens where the language allows it. */
    CHECK(matched_total > 0 && (placed_total > 0) == (keeps != 0), "%s: %zu placed, %zu matched", lang, placed_total,
          matched_total);
    free(got.v);
    free(want.v);
    free(buf);
    tw_analyzer_free(a);
}

int main(void) {
    test_languages();
    test_fixed_cases();
    test_stop_early();
    test_huge_tokens();
    test_stem_cache();
    test_composition_bound();
    test_ascii_fast_path();
    test_random_bytes();
    differential("none", 1, 4000, 512);
    differential("english", 1, 4000, 512);
    differential("english", 0, 1000, 512);
    differential("none", 1, 300, 8192);
    static const char *const more[] = {"german", "russian", "greek", "porter", "turkish", "french", "hindi", "arabic"};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) differential(more[i], 1, 300, 512);
    keeps_first_property("english");
    keeps_first_property("porter");
    analyze_wanted_differential("english", 3000);
    analyze_wanted_differential("porter", 500);
    analyze_wanted_differential("none", 300);
    analyze_wanted_differential("german", 500);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("test_analyzer: all passed\n");
    return 0;
}
