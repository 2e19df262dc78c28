/*
 * oracle.h — an independent, brute-force model of what trawl_search must
 * return, shared by test_bm25_oracle.c and test_query_oracle.c.
 *
 * Header-only (every function is static and marked unused), because
 * tests/CMakeLists.txt builds each tests/test_*.c as its own program.
 *
 * What it holds:
 *  - a seeded generator of a synthetic corpus: a Zipfian vocabulary of words
 *    built from syllables plus English suffixes (-s, -ing, -ed, ...) so that
 *    stemming matters, and documents with a title, a body (a string or an array
 *    of paragraphs), sometimes a "tags" array and a "summary", and fields that
 *    are not text (numbers, booleans, objects) which search must ignore;
 *  - the oracle corpus: every document's token stream per field, produced by the
 *    analyzer (tw_analyze, the only engine code the oracle uses) exactly as the
 *    specification describes (array elements continue positions with a gap of
 *    100), and statistics (N_f, avgdl_f, df_f) recomputed by brute force over
 *    the live documents;
 *  - query trees the tests generate, printed as query text and evaluated by
 *    brute force (term, multi-token word, phrase, prefix, field, boolean
 *    clauses) into a score and a match flag per document;
 *  - or_check, which compares trawl_results with the oracle's ranking.
 * Nothing here calls the engine's query or index code: the semantics are
 * written down afresh from the search specification (BM25 with per-field
 * statistics over live documents, sums over fields and clauses, words that
 * analyze to nothing dropped before the boolean rules apply, ranking by score
 * then insertion order), as the comments on or_score_field, or_eval_leaf,
 * or_q_occur and or_q_eval state it.
 */
#ifndef TW_TEST_ORACLE_H
#define TW_TEST_ORACLE_H

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer.h"
#include "trawl.h"

#define OR_API static __attribute__((unused))

#define OR_MAX_FIELDS 8   /* text fields the oracle corpus can hold */
#define OR_MAX_RFIELDS 10 /* fields (text or not) of one generated document */
#define OR_ARRAY_GAP 100u /* positions between two elements of an array field */
#define OR_MAX_QTOKS 64   /* tokens of one query word or phrase */
#define OR_PREFIX_LIMIT 1024u

/* Statuses of an evaluation besides the (negative) trawl error codes. */
#define OR_OK 0
#define OR_DROPPED 1 /* the clause analyzes to nothing and leaves the query */

/* ------------------------------------------------------------------------ */
/* Small utilities                                                           */

/* Exits the test: allocation failure in the test harness itself. */
OR_API void or_die(const char *what) {
    fprintf(stderr, "oracle: fatal: %s\n", what);
    exit(1);
}

OR_API void *or_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) or_die("out of memory");
    return p;
}

OR_API void *or_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) or_die("out of memory");
    return p;
}

OR_API void *or_xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) or_die("out of memory");
    return p;
}

OR_API char *or_xstrndup(const char *s, size_t n) {
    char *d = or_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

OR_API char *or_xstrdup(const char *s) {
    return or_xstrndup(s, strlen(s));
}

/* splitmix64: a small seeded generator, the same on every platform. */
typedef struct or_rng {
    uint64_t s;
} or_rng;

OR_API uint64_t or_next(or_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 when n is 0. */
OR_API size_t or_below(or_rng *r, size_t n) {
    return n ? (size_t)(or_next(r) % n) : 0;
}

OR_API double or_unit(or_rng *r) {
    return (double)(or_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

OR_API int or_chance(or_rng *r, double p) {
    return or_unit(r) < p;
}

/* Seed from $TRAWL_ORACLE_SEED (decimal or 0x hex) or the default. */
OR_API uint64_t or_seed(uint64_t dflt) {
    const char *e = getenv("TRAWL_ORACLE_SEED");
    return e && *e ? strtoull(e, NULL, 0) : dflt;
}

/* A growable NUL-terminated string. */
typedef struct or_buf {
    char *p;
    size_t n, cap;
} or_buf;

OR_API void or_buf_put(or_buf *b, const char *s, size_t len) {
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + len + 1) cap *= 2;
        b->p = or_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

OR_API void or_buf_puts(or_buf *b, const char *s) {
    or_buf_put(b, s, strlen(s));
}

OR_API void or_buf_printf(or_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
OR_API void or_buf_printf(or_buf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) or_buf_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

OR_API void or_buf_reset(or_buf *b) {
    b->n = 0;
    if (b->p) b->p[0] = '\0';
}

OR_API void or_buf_free(or_buf *b) {
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* Appends s as a JSON string literal. */
OR_API void or_buf_json_str(or_buf *b, const char *s) {
    or_buf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            or_buf_put(b, e, 2);
        } else if (c < 0x20) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", c);
            or_buf_put(b, e, 6);
        } else {
            or_buf_put(b, (const char *)&c, 1);
        }
    }
    or_buf_put(b, "\"", 1);
}

/* ------------------------------------------------------------------------ */
/* Vocabulary                                                                */

typedef struct or_vocab {
    char **words; /* surface words; index 0 is the most frequent */
    size_t n;
    double *cdf; /* cumulative Zipf weights, cdf[n-1] == 1 */
} or_vocab;

static const char *const or_onsets[] = {"b",  "c",  "d",  "f",  "g",  "h",  "j",  "k",  "l",  "m",  "n",
                                        "p",  "r",  "s",  "t",  "v",  "w",  "z",  "br", "cr", "dr", "fl",
                                        "gr", "pl", "st", "tr", "sh", "ch", "th", "qu", ""};
static const char *const or_vowels[] = {"a", "e", "i", "o", "u", "ai", "ea", "ou", "io", "y"};
static const char *const or_codas[] = {"", "", "", "n", "r", "l", "s", "t", "m", "nd", "rk", "st", "ck"};
static const char *const or_suffixes[] = {"", "s", "ing", "ed", "er", "ers", "ly", "ation", "ness", "es", "ings"};
/* Words with non-ASCII letters: case folding and NFKC matter for these. */
static const char *const or_special[] = {"café", "naïve",       "résumé",   "Straße", "façade", "ÉCOLE", "Ångström",
                                         "ﬁnal", "smörgåsbord", "jalapeño", "1999",   "2024",   "42",    "x86"};

#define OR_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Builds a vocabulary from nbases distinct syllable stems, each with one to
 * three suffixed forms, shuffled and weighted 1/(rank+1)^1.05. */
OR_API void or_vocab_init(or_vocab *v, or_rng *r, size_t nbases) {
    char **bases = or_xcalloc(nbases, sizeof *bases);
    size_t nb = 0, cap = nbases * 4, i, j;
    double sum = 0;

    v->words = or_xcalloc(cap, sizeof *v->words);
    v->n = 0;
    while (nb < nbases) {
        char w[64] = "";
        size_t syl = 1 + or_below(r, 3), k;
        int dup = 0;
        for (k = 0; k < syl; k++) {
            strcat(w, or_onsets[or_below(r, OR_NELEM(or_onsets))]);
            strcat(w, or_vowels[or_below(r, OR_NELEM(or_vowels))]);
            if (k + 1 == syl || or_chance(r, 0.3)) strcat(w, or_codas[or_below(r, OR_NELEM(or_codas))]);
        }
        if (strlen(w) < 2 || !strcmp(w, "or") || !strcmp(w, "and") || !strcmp(w, "not")) continue;
        for (k = 0; k < nb && !dup; k++) dup = strcmp(bases[k], w) == 0;
        if (dup) continue;
        bases[nb++] = or_xstrdup(w);
    }
    for (i = 0; i < nb; i++) {
        size_t forms = 1 + or_below(r, 3);
        for (j = 0; j < forms && v->n < cap; j++) {
            const char *suf = j == 0 ? "" : or_suffixes[or_below(r, OR_NELEM(or_suffixes))];
            char w[96];
            size_t k;
            int dup = 0;
            snprintf(w, sizeof w, "%s%s", bases[i], suf);
            for (k = v->n; k-- > 0 && k + 4 > v->n && !dup;) dup = strcmp(v->words[k], w) == 0;
            if (!dup) v->words[v->n++] = or_xstrdup(w);
        }
        free(bases[i]);
    }
    free(bases);
    for (i = v->n; i > 1; i--) { /* shuffle: rank is unrelated to the stem */
        size_t k = or_below(r, i);
        char *t = v->words[i - 1];
        v->words[i - 1] = v->words[k];
        v->words[k] = t;
    }
    v->cdf = or_xcalloc(v->n, sizeof *v->cdf);
    for (i = 0; i < v->n; i++) {
        sum += 1.0 / pow((double)i + 1.0, 1.05);
        v->cdf[i] = sum;
    }
    for (i = 0; i < v->n; i++) v->cdf[i] /= sum;
}

OR_API void or_vocab_free(or_vocab *v) {
    for (size_t i = 0; i < v->n; i++) free(v->words[i]);
    free(v->words);
    free(v->cdf);
}

OR_API const char *or_vocab_zipf(const or_vocab *v, or_rng *r) {
    double u = or_unit(r);
    size_t lo = 0, hi = v->n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return v->words[lo];
}

OR_API const char *or_vocab_uniform(const or_vocab *v, or_rng *r) {
    return v->words[or_below(r, v->n)];
}

/* Appends nwords generated words separated by single spaces: Zipfian words,
 * some capitalized, some hyphenated pairs (several tokens in one word), some
 * with trailing punctuation, a few numbers and non-ASCII words. */
OR_API void or_gen_words(or_buf *b, const or_vocab *v, or_rng *r, size_t nwords) {
    static const char *const punct[] = {",", ".", ";", "!", "?", "..."};
    for (size_t i = 0; i < nwords; i++) {
        const char *w = or_vocab_zipf(v, r);
        double u = or_unit(r);
        if (i) or_buf_put(b, " ", 1);
        if (u < 0.015) {
            or_buf_puts(b, or_special[or_below(r, OR_NELEM(or_special))]);
        } else if (u < 0.04) {
            or_buf_puts(b, w);
            or_buf_put(b, "-", 1);
            or_buf_puts(b, or_vocab_zipf(v, r));
        } else if (u < 0.07) {
            char c = (char)(w[0] - 'a' + 'A');
            or_buf_put(b, &c, 1);
            or_buf_puts(b, w + 1);
        } else {
            or_buf_puts(b, w);
        }
        if (or_chance(r, 0.05)) or_buf_puts(b, punct[or_below(r, OR_NELEM(punct))]);
    }
}

/* ------------------------------------------------------------------------ */
/* Generated documents                                                       */

enum { OR_V_STR, OR_V_ARR, OR_V_JSON };

typedef struct or_rfield {
    char *name;
    int type;     /* OR_V_STR, OR_V_ARR (strings), OR_V_JSON (a raw non-text JSON value) */
    size_t nvals; /* 1 for OR_V_STR and OR_V_JSON */
    char **vals;
} or_rfield;

typedef struct or_rdoc {
    char *id;
    size_t nf;
    or_rfield f[OR_MAX_RFIELDS];
} or_rdoc;

OR_API void or_rdoc_free(or_rdoc *d) {
    for (size_t i = 0; i < d->nf; i++) {
        for (size_t k = 0; k < d->f[i].nvals; k++) free(d->f[i].vals[k]);
        free(d->f[i].vals);
        free(d->f[i].name);
    }
    free(d->id);
    memset(d, 0, sizeof *d);
}

/* Adds a field; vals are copied. */
OR_API void or_rdoc_add(or_rdoc *d, const char *name, int type, size_t nvals, const char *const *vals) {
    or_rfield *f;
    if (d->nf >= OR_MAX_RFIELDS) or_die("too many fields in a generated document");
    f = &d->f[d->nf++];
    f->name = or_xstrdup(name);
    f->type = type;
    f->nvals = nvals;
    f->vals = or_xcalloc(nvals, sizeof *f->vals);
    for (size_t i = 0; i < nvals; i++) f->vals[i] = or_xstrdup(vals[i]);
}

OR_API void or_rdoc_add_str(or_rdoc *d, const char *name, const char *val) {
    or_rdoc_add(d, name, OR_V_STR, 1, &val);
}

/* Generates document id. with_summary: also a "summary" field (sometimes). */
OR_API void or_gen_doc(or_rdoc *d, const char *id, const or_vocab *v, or_rng *r, int with_summary) {
    or_buf b = {0};
    double u;

    memset(d, 0, sizeof *d);
    d->id = or_xstrdup(id);
    /* title: usually 3-10 words; sometimes missing, empty or punctuation only */
    u = or_unit(r);
    if (u < 0.02) {
        or_rdoc_add_str(d, "title", "");
    } else if (u < 0.04) {
        or_rdoc_add_str(d, "title", "!!! ... ?");
    } else if (u >= 0.12) {
        or_gen_words(&b, v, r, 3 + or_below(r, 8));
        or_rdoc_add_str(d, "title", b.p);
    }
    /* body: 30-300 words, skewed short; sometimes an array of paragraphs */
    {
        size_t n = 30 + (size_t)(270.0 * pow(or_unit(r), 1.7));
        if (or_chance(r, 0.12)) {
            size_t np = 2 + or_below(r, 3), i;
            char *paras[4];
            for (i = 0; i < np; i++) {
                or_buf_reset(&b);
                if (!or_chance(r, 0.05)) or_gen_words(&b, v, r, n / np + 1);
                paras[i] = or_xstrdup(b.p ? b.p : "");
            }
            or_rdoc_add(d, "body", OR_V_ARR, np, (const char *const *)paras);
            for (i = 0; i < np; i++) free(paras[i]);
        } else {
            or_buf_reset(&b);
            or_gen_words(&b, v, r, n);
            or_rdoc_add_str(d, "body", b.p);
        }
    }
    /* tags: an array of 1-4 short strings (sometimes an empty element) */
    if (or_chance(r, 0.3)) {
        size_t nt = or_chance(r, 0.03) ? 0 : 1 + or_below(r, 4), i;
        char *tags[4] = {NULL, NULL, NULL, NULL};
        for (i = 0; i < nt; i++) {
            or_buf_reset(&b);
            if (!or_chance(r, 0.06)) or_gen_words(&b, v, r, 1 + or_below(r, 3));
            tags[i] = or_xstrdup(b.p ? b.p : "");
        }
        or_rdoc_add(d, "tags", OR_V_ARR, nt, (const char *const *)tags);
        for (i = 0; i < nt; i++) free(tags[i]);
    }
    if (with_summary && or_chance(r, 0.4)) {
        or_buf_reset(&b);
        or_gen_words(&b, v, r, 5 + or_below(r, 16));
        or_rdoc_add_str(d, "summary", b.p);
    }
    /* values that are not text: never searchable */
    if (or_chance(r, 0.2)) {
        char num[32];
        const char *meta = "{\"title\": \"nestedmarker inside\", \"n\": [\"nestedmarker\"]}";
        snprintf(num, sizeof num, "%u", 1900 + (unsigned)or_below(r, 125));
        or_rdoc_add(d, "year", OR_V_JSON, 1, (const char *const[]){num});
        if (or_chance(r, 0.5)) or_rdoc_add(d, "meta", OR_V_JSON, 1, &meta);
        if (or_chance(r, 0.5)) or_rdoc_add(d, "flags", OR_V_JSON, 1, (const char *const[]){"[true, 1, null]"});
    }
    or_buf_free(&b);
}

/* The document as a JSON object text. */
OR_API void or_rdoc_json(const or_rdoc *d, or_buf *b) {
    or_buf_reset(b);
    or_buf_puts(b, "{\"id\": ");
    or_buf_json_str(b, d->id);
    for (size_t i = 0; i < d->nf; i++) {
        const or_rfield *f = &d->f[i];
        or_buf_puts(b, ", ");
        or_buf_json_str(b, f->name);
        or_buf_puts(b, ": ");
        if (f->type == OR_V_STR) {
            or_buf_json_str(b, f->vals[0]);
        } else if (f->type == OR_V_JSON) {
            or_buf_puts(b, f->vals[0]);
        } else {
            or_buf_put(b, "[", 1);
            for (size_t k = 0; k < f->nvals; k++) {
                if (k) or_buf_puts(b, ", ");
                or_buf_json_str(b, f->vals[k]);
            }
            or_buf_put(b, "]", 1);
        }
    }
    or_buf_put(b, "}", 1);
}

/* Adds d to the writer, through trawl_writer_add_fields when use_fields is set
 * and every field is a plain string, else as JSON. Returns the trawl code. */
OR_API int or_writer_add(trawl_writer *w, const or_rdoc *d, int use_fields) {
    size_t i;
    int simple = 1;
    int rc;

    for (i = 0; i < d->nf; i++) simple &= d->f[i].type == OR_V_STR;
    if (use_fields && simple) {
        const char *names[OR_MAX_RFIELDS], *vals[OR_MAX_RFIELDS];
        size_t lens[OR_MAX_RFIELDS];
        for (i = 0; i < d->nf; i++) {
            names[i] = d->f[i].name;
            vals[i] = d->f[i].vals[0];
            lens[i] = strlen(vals[i]);
        }
        return trawl_writer_add_fields(w, d->id, d->nf, names, vals, lens);
    }
    {
        or_buf b = {0};
        or_rdoc_json(d, &b);
        rc = trawl_writer_add_json(w, b.p, b.n);
        or_buf_free(&b);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The oracle corpus                                                         */

typedef struct or_tok {
    uint32_t term, pos;
} or_tok;

typedef struct or_dfield {
    or_tok *toks; /* sorted by (term, pos) */
    uint32_t n;   /* field length: number of tokens */
} or_dfield;

typedef struct or_doc {
    int live;
    or_rdoc raw; /* the generated document, for sampling query words */
    or_dfield f[OR_MAX_FIELDS];
} or_doc;

typedef struct or_corpus {
    tw_analyzer *an;
    /* interned analyzed terms */
    char **terms;
    uint32_t *term_len;
    size_t nterms, capterms;
    uint32_t *slots; /* open addressing: term id + 1, 0 = empty */
    size_t nslots;
    /* text fields, in order of first appearance */
    char *fields[OR_MAX_FIELDS];
    size_t nfields;
    /* documents in insertion order (the ranking's tie order) */
    or_doc *docs;
    size_t ndocs, capdocs;
    uint32_t *idslots; /* id → doc index + 1 of the newest copy */
    size_t nidslots;
    /* statistics over live documents (or_finish) */
    uint64_t N[OR_MAX_FIELDS], T[OR_MAX_FIELDS];
    uint32_t *df[OR_MAX_FIELDS]; /* per term id, valid below nstat */
    size_t nstat;
    size_t nlive;
} or_corpus;

OR_API uint64_t or_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

OR_API void or_corpus_init(or_corpus *c, const char *lang) {
    memset(c, 0, sizeof *c);
    if (tw_analyzer_new(lang, &c->an) != 0) or_die("tw_analyzer_new failed");
    c->nslots = 1 << 14;
    c->slots = or_xcalloc(c->nslots, sizeof *c->slots);
    c->nidslots = 1 << 14;
    c->idslots = or_xcalloc(c->nidslots, sizeof *c->idslots);
}

OR_API void or_corpus_free(or_corpus *c) {
    size_t i, f;
    for (i = 0; i < c->nterms; i++) free(c->terms[i]);
    free(c->terms);
    free(c->term_len);
    free(c->slots);
    for (f = 0; f < c->nfields; f++) {
        free(c->fields[f]);
        free(c->df[f]);
    }
    for (i = 0; i < c->ndocs; i++) {
        for (f = 0; f < OR_MAX_FIELDS; f++) free(c->docs[i].f[f].toks);
        or_rdoc_free(&c->docs[i].raw);
    }
    free(c->docs);
    free(c->idslots);
    tw_analyzer_free(c->an);
    memset(c, 0, sizeof *c);
}

/* Term id of s[0..n), or -1 when no document ever had it. */
OR_API long or_term_find(const or_corpus *c, const char *s, size_t n) {
    size_t i = (size_t)or_hash(s, n) & (c->nslots - 1);
    for (; c->slots[i]; i = (i + 1) & (c->nslots - 1)) {
        uint32_t t = c->slots[i] - 1;
        if (c->term_len[t] == n && memcmp(c->terms[t], s, n) == 0) return (long)t;
    }
    return -1;
}

OR_API uint32_t or_term_intern(or_corpus *c, const char *s, size_t n) {
    long t = or_term_find(c, s, n);
    size_t i;
    if (t >= 0) return (uint32_t)t;
    if ((c->nterms + 1) * 2 > c->nslots) {
        size_t ns = c->nslots * 2, k;
        uint32_t *sl = or_xcalloc(ns, sizeof *sl);
        for (k = 0; k < c->nterms; k++) {
            size_t j = (size_t)or_hash(c->terms[k], c->term_len[k]) & (ns - 1);
            while (sl[j]) j = (j + 1) & (ns - 1);
            sl[j] = (uint32_t)k + 1;
        }
        free(c->slots);
        c->slots = sl;
        c->nslots = ns;
    }
    if (c->nterms == c->capterms) {
        c->capterms = c->capterms ? c->capterms * 2 : 1024;
        c->terms = or_xrealloc(c->terms, c->capterms * sizeof *c->terms);
        c->term_len = or_xrealloc(c->term_len, c->capterms * sizeof *c->term_len);
    }
    c->terms[c->nterms] = or_xstrndup(s, n);
    c->term_len[c->nterms] = (uint32_t)n;
    i = (size_t)or_hash(s, n) & (c->nslots - 1);
    while (c->slots[i]) i = (i + 1) & (c->nslots - 1);
    c->slots[i] = (uint32_t)c->nterms + 1;
    return (uint32_t)c->nterms++;
}

/* Index of the newest document with this id, or -1. */
OR_API long or_doc_find(const or_corpus *c, const char *id) {
    size_t n = strlen(id), i = (size_t)or_hash(id, n) & (c->nidslots - 1);
    for (; c->idslots[i]; i = (i + 1) & (c->nidslots - 1)) {
        uint32_t d = c->idslots[i] - 1;
        if (strcmp(c->docs[d].raw.id, id) == 0) return (long)d;
    }
    return -1;
}

OR_API long or_field_find(const or_corpus *c, const char *name) {
    for (size_t f = 0; f < c->nfields; f++)
        if (strcmp(c->fields[f], name) == 0) return (long)f;
    return -1;
}

typedef struct or_tokctx {
    or_corpus *c;
    or_dfield *df;
    size_t cap;
} or_tokctx;

static int or_on_doc_token(void *ctx, const tw_token *t) {
    or_tokctx *x = ctx;
    if (x->df->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 64;
        x->df->toks = or_xrealloc(x->df->toks, x->cap * sizeof *x->df->toks);
    }
    x->df->toks[x->df->n].term = or_term_intern(x->c, t->term, t->len);
    x->df->toks[x->df->n].pos = t->pos;
    x->df->n++;
    return 0;
}

static int or_cmp_tok(const void *a, const void *b) {
    const or_tok *x = a, *y = b;
    if (x->term != y->term) return x->term < y->term ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Adds a document (taking ownership of *raw, which is zeroed) as the newest
 * one; an older document with the same id stops being live. Text fields are
 * the string fields and the arrays that hold at least one string. */
OR_API void or_add(or_corpus *c, or_rdoc *raw) {
    or_doc *d;
    long old = or_doc_find(c, raw->id);
    size_t i, n, slot;

    if (c->ndocs == c->capdocs) {
        c->capdocs = c->capdocs ? c->capdocs * 2 : 1024;
        c->docs = or_xrealloc(c->docs, c->capdocs * sizeof *c->docs);
    }
    d = &c->docs[c->ndocs];
    memset(d, 0, sizeof *d);
    d->raw = *raw;
    memset(raw, 0, sizeof *raw);
    d->live = 1;
    for (i = 0; i < d->raw.nf; i++) {
        const or_rfield *rf = &d->raw.f[i];
        long f;
        uint32_t base = 0;
        or_tokctx x;
        if (rf->type == OR_V_JSON || (rf->type == OR_V_ARR && rf->nvals == 0)) continue;
        f = or_field_find(c, rf->name);
        if (f < 0) {
            if (c->nfields == OR_MAX_FIELDS) or_die("too many text fields");
            f = (long)c->nfields;
            c->fields[c->nfields++] = or_xstrdup(rf->name);
        }
        x.c = c;
        x.df = &d->f[f];
        x.cap = 0;
        for (n = 0; n < rf->nvals; n++) {
            uint32_t used = 0;
            if (tw_analyze(c->an, rf->vals[n], strlen(rf->vals[n]), base, 1, or_on_doc_token, &x, &used) != 0)
                or_die("tw_analyze failed");
            base += used + OR_ARRAY_GAP;
        }
        if (d->f[f].n > 1) qsort(d->f[f].toks, d->f[f].n, sizeof *d->f[f].toks, or_cmp_tok);
    }
    if (old >= 0) c->docs[old].live = 0;
    /* id map: replace the old entry or insert */
    if ((c->ndocs + 1) * 2 > c->nidslots) {
        size_t ns = c->nidslots * 2, k;
        uint32_t *sl = or_xcalloc(ns, sizeof *sl);
        for (k = 0; k < c->nidslots; k++) {
            if (c->idslots[k]) {
                const char *id = c->docs[c->idslots[k] - 1].raw.id;
                size_t j = (size_t)or_hash(id, strlen(id)) & (ns - 1);
                while (sl[j]) j = (j + 1) & (ns - 1);
                sl[j] = c->idslots[k];
            }
        }
        free(c->idslots);
        c->idslots = sl;
        c->nidslots = ns;
    }
    slot = (size_t)or_hash(d->raw.id, strlen(d->raw.id)) & (c->nidslots - 1);
    while (c->idslots[slot] && strcmp(c->docs[c->idslots[slot] - 1].raw.id, d->raw.id) != 0)
        slot = (slot + 1) & (c->nidslots - 1);
    c->idslots[slot] = (uint32_t)c->ndocs + 1;
    c->ndocs++;
}

/* Recomputes N_f, total tokens and df_f(t) by scanning every live document. */
OR_API void or_finish(or_corpus *c) {
    size_t f, d, i;
    c->nstat = c->nterms;
    c->nlive = 0;
    for (f = 0; f < c->nfields; f++) {
        free(c->df[f]);
        c->df[f] = or_xcalloc(c->nstat, sizeof *c->df[f]);
        c->N[f] = c->T[f] = 0;
    }
    for (d = 0; d < c->ndocs; d++) {
        const or_doc *doc = &c->docs[d];
        if (!doc->live) continue;
        c->nlive++;
        for (f = 0; f < c->nfields; f++) {
            const or_dfield *x = &doc->f[f];
            if (x->n == 0) continue;
            c->N[f]++;
            c->T[f] += x->n;
            for (i = 0; i < x->n; i++)
                if (i == 0 || x->toks[i].term != x->toks[i - 1].term) c->df[f][x->toks[i].term]++;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Scoring                                                                   */

typedef struct or_opts {
    int use_or; /* 0 AND, 1 OR, 2 auto (AND matches first, then the other OR matches) */
    int bm25f;  /* single-word terms score as BM25F (or_score_term_bm25f) */
    int prox;   /* the term-proximity bonus (or_prox_add) */
    double prox_w;
    unsigned prox_win;
    double k1, b;
    size_t nw;
    const char *wname[OR_MAX_FIELDS];
    double w[OR_MAX_FIELDS];
} or_opts;

OR_API void or_opts_default(or_opts *o) {
    memset(o, 0, sizeof *o);
    o->bm25f = 1; /* trawl's default ranking */
    o->prox = 0;
    o->prox_w = 0.15;
    o->prox_win = 20;
    o->k1 = 1.2;
    o->b = 0.75;
}

OR_API double or_weight(const or_opts *o, const char *field) {
    for (size_t i = 0; i < o->nw; i++)
        if (strcmp(o->wname[i], field) == 0) return o->w[i];
    return strcmp(field, "title") == 0 ? 2.0 : 1.0;
}

/* Sets the search options that o describes (besides limit/offset). */
OR_API int or_opts_apply(const or_opts *o, trawl_options *t) {
    int rc = trawl_options_set_bm25(t, o->k1, o->b);
    if (rc == 0) rc = trawl_options_set_op(t, (trawl_op)o->use_or);
    if (rc == 0)
        rc = trawl_options_set_ranking(t, o->prox ? (o->bm25f ? TRAWL_RANKING_BM25F_PROX : TRAWL_RANKING_BM25_PROX)
                                                  : (o->bm25f ? TRAWL_RANKING_BM25F : TRAWL_RANKING_BM25));
    if (rc == 0) rc = trawl_options_set_proximity(t, o->prox_w, o->prox_win);
    for (size_t i = 0; i < o->nw && rc == 0; i++) rc = trawl_options_set_field_weight(t, o->wname[i], o->w[i]);
    return rc;
}

OR_API void or_opts_describe(const or_opts *o, or_buf *b) {
    or_buf_printf(b, "mode=%s%s k1=%g b=%g",
                  o->use_or == 2 ? "AUTO"
                  : o->use_or    ? "OR"
                                 : "AND",
                  o->bm25f ? " bm25f" : "", o->k1, o->b);
    if (o->prox) or_buf_printf(b, " prox=%g window=%u", o->prox_w, o->prox_win);
    for (size_t i = 0; i < o->nw; i++) or_buf_printf(b, " w[%s]=%g", o->wname[i], o->w[i]);
}

OR_API double or_idf(uint64_t n, uint64_t df) {
    return log(1.0 + ((double)n - (double)df + 0.5) / ((double)df + 0.5));
}

/* First index in x->toks at or after (term, pos). */
OR_API uint32_t or_lower(const or_dfield *x, uint32_t term, uint32_t pos) {
    uint32_t lo = 0, hi = x->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const or_tok *t = &x->toks[mid];
        if (t->term < term || (t->term == term && t->pos < pos))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

OR_API int or_has(const or_dfield *x, uint32_t term, uint32_t pos) {
    uint32_t i = or_lower(x, term, pos);
    return i < x->n && x->toks[i].term == term && x->toks[i].pos == pos;
}

/* Frequency in x of the phrase ids[0..n) at offsets offs (offs[0] == 0): the
 * number of positions p with ids[i] at p + offs[i] for every i. */
OR_API uint32_t or_phrase_tf(const or_dfield *x, const uint32_t *ids, const uint32_t *offs, size_t n) {
    uint32_t i = or_lower(x, ids[0], 0), tf = 0;
    for (; i < x->n && x->toks[i].term == ids[0]; i++) {
        size_t k;
        int ok = 1;
        for (k = 1; k < n && ok; k++) ok = or_has(x, ids[k], x->toks[i].pos + offs[k]);
        tf += (uint32_t)ok;
    }
    return tf;
}

/* Adds, for every live document whose field f holds the phrase ids/offs (a
 * single term when n == 1), w_f * sum(idf) * BM25 shape to score and sets
 * match. ids[i] < 0 means no document has that term. */
OR_API void or_score_field(const or_corpus *c, const or_opts *o, size_t f, const long *ids, const uint32_t *offs,
                           size_t n, double *score, uint8_t *match) {
    uint32_t uid[OR_MAX_QTOKS];
    double idf = 0, avgdl, w;
    size_t i, d;

    if (c->N[f] == 0) return;
    for (i = 0; i < n; i++) {
        if (ids[i] < 0 || (size_t)ids[i] >= c->nstat || c->df[f][ids[i]] == 0) return;
        uid[i] = (uint32_t)ids[i];
        idf += or_idf(c->N[f], c->df[f][ids[i]]);
    }
    avgdl = (double)c->T[f] / (double)c->N[f];
    w = or_weight(o, c->fields[f]);
    for (d = 0; d < c->ndocs; d++) {
        const or_dfield *x = &c->docs[d].f[f];
        uint32_t tf;
        if (!c->docs[d].live || x->n == 0) continue;
        tf = or_phrase_tf(x, uid, offs, n);
        if (tf == 0) continue;
        score[d] +=
            w * idf * (double)tf * (o->k1 + 1.0) / ((double)tf + o->k1 * (1.0 - o->b + o->b * (double)x->n / avgdl));
        match[d] = 1;
    }
}

/* BM25F of one term (Robertson, Zaragoza & Taylor 2004), written from the
 * specification: for every live document holding the term in one of
 * fields[0..nf),
 *   x = Σ_f w_f · tf_f / (1 − b + b · dl_f / avgdl_f)   (fields holding it)
 *   score += idf · x · (k1 + 1) / (x + k1)
 * where idf = ln(1 + (N − df + 0.5) / (df + 0.5)) with N the live documents
 * and df those holding the term in any field — or, for a term qualified by
 * one field (qualified), N_f and df_f of that field. */
OR_API void or_score_term_bm25f(const or_corpus *c, const or_opts *o, const size_t *fields, size_t nf, int qualified,
                                long id, double *score, uint8_t *match) {
    uint32_t uid, zero = 0;
    double idf;
    size_t d, k;
    if (id < 0 || (size_t)id >= c->nstat) return;
    uid = (uint32_t)id;
    if (qualified) {
        size_t f = fields[0];
        if (c->N[f] == 0 || c->df[f][uid] == 0) return;
        idf = or_idf(c->N[f], c->df[f][uid]);
    } else {
        uint64_t df = 0;
        for (d = 0; d < c->ndocs; d++) {
            int has = 0;
            if (!c->docs[d].live) continue;
            for (k = 0; k < c->nfields && !has; k++) has = or_phrase_tf(&c->docs[d].f[k], &uid, &zero, 1) > 0;
            df += (uint64_t)has;
        }
        if (df == 0) return;
        idf = or_idf(c->nlive, df);
    }
    for (d = 0; d < c->ndocs; d++) {
        double x = 0;
        int has = 0;
        if (!c->docs[d].live) continue;
        for (k = 0; k < nf; k++) {
            size_t f = fields[k];
            const or_dfield *fx = &c->docs[d].f[f];
            uint32_t tf;
            if (fx->n == 0 || c->N[f] == 0) continue;
            tf = or_phrase_tf(fx, &uid, &zero, 1);
            if (tf == 0) continue;
            has = 1;
            x += or_weight(o, c->fields[f]) * (double)tf /
                 (1.0 - o->b + o->b * (double)fx->n / ((double)c->T[f] / (double)c->N[f]));
        }
        if (!has) continue;
        score[d] += x > 0 ? idf * x * (o->k1 + 1.0) / (x + o->k1) : 0.0;
        match[d] = 1;
    }
}

typedef struct or_qtoks {
    char *term[OR_MAX_QTOKS];
    size_t len[OR_MAX_QTOKS];
    uint32_t pos[OR_MAX_QTOKS];
    size_t n;
} or_qtoks;

static int or_on_query_token(void *ctx, const tw_token *t) {
    or_qtoks *q = ctx;
    if (q->n == OR_MAX_QTOKS) return 1;
    q->term[q->n] = or_xstrndup(t->term, t->len);
    q->len[q->n] = t->len;
    q->pos[q->n] = t->pos;
    q->n++;
    return 0;
}

static void or_qtoks_free(or_qtoks *q) {
    for (size_t i = 0; i < q->n; i++) free(q->term[i]);
    q->n = 0;
}

enum { OR_L_TERM, OR_L_PREFIX, OR_L_PHRASE };

/* Evaluates one leaf: kind, field (NULL: every text field), raw text.
 * Adds scores into score[] and sets match[] (both ndocs long, zeroed by the
 * caller). Returns OR_OK, OR_DROPPED (analyzes to nothing) or
 * TRAWL_ESYNTAX (unknown field, prefix of several tokens) / TRAWL_ELIMIT. */
OR_API int or_eval_leaf(const or_corpus *c, const or_opts *o, int kind, const char *field, const char *text,
                        double *score, uint8_t *match) {
    size_t fields[OR_MAX_FIELDS], nf = 0, i, k;
    or_qtoks q;
    int rc = OR_OK;

    if (field) {
        long f = or_field_find(c, field);
        if (f < 0) return TRAWL_ESYNTAX;
        fields[nf++] = (size_t)f;
    } else {
        for (i = 0; i < c->nfields; i++) fields[nf++] = i;
    }
    memset(&q, 0, sizeof q);
    tw_analyze(c->an, text, strlen(text), 0, kind != OR_L_PREFIX, or_on_query_token, &q, NULL);
    if (q.n == 0) {
        rc = OR_DROPPED;
    } else if (kind != OR_L_PREFIX && q.n >= OR_MAX_QTOKS) {
        rc = TRAWL_ELIMIT; /* a word or phrase of 64 tokens or more: the limit is 63 */
    } else if (kind == OR_L_PREFIX) {
        if (q.n > 1) {
            rc = TRAWL_ESYNTAX;
        } else {
            uint8_t *seen = or_xcalloc(c->nstat, 1); /* BM25F: expansions, scored as terms below */
            for (k = 0; k < nf && rc == OR_OK; k++) {
                size_t f = fields[k], count = 0;
                uint32_t zero = 0;
                for (i = 0; i < c->nstat; i++)
                    count +=
                        c->df[f][i] > 0 && c->term_len[i] >= q.len[0] && memcmp(c->terms[i], q.term[0], q.len[0]) == 0;
                if (count > OR_PREFIX_LIMIT) {
                    rc = TRAWL_ELIMIT;
                    break;
                }
                for (i = 0; i < c->nstat; i++) {
                    if (c->df[f][i] > 0 && c->term_len[i] >= q.len[0] &&
                        memcmp(c->terms[i], q.term[0], q.len[0]) == 0) {
                        long id = (long)i;
                        if (o->bm25f)
                            seen[i] = 1;
                        else
                            or_score_field(c, o, f, &id, &zero, 1, score, match);
                    }
                }
            }
            for (i = 0; i < c->nstat && rc == OR_OK; i++)
                if (seen[i]) or_score_term_bm25f(c, o, fields, nf, field != NULL, (long)i, score, match);
            free(seen);
        }
    } else {
        long ids[OR_MAX_QTOKS];
        uint32_t offs[OR_MAX_QTOKS];
        for (i = 0; i < q.n; i++) {
            ids[i] = or_term_find(c, q.term[i], q.len[i]);
            offs[i] = q.pos[i] - q.pos[0];
        }
        if (o->bm25f && q.n == 1)
            or_score_term_bm25f(c, o, fields, nf, field != NULL, ids[0], score, match);
        else
            for (k = 0; k < nf; k++) or_score_field(c, o, fields[k], ids, offs, q.n, score, match);
    }
    or_qtoks_free(&q);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Query trees                                                               */

enum { OR_Q_LEAF, OR_Q_GROUP, OR_Q_OR, OR_Q_PAREN };
enum { OR_OP_NONE, OR_OP_PLUS, OR_OP_MINUS, OR_OP_NOT };
enum { OR_MUST, OR_SHOULD, OR_MUST_NOT };

/* A query as the tests build it, close to how it is written:
 *  LEAF  [field:]word | [field:]word* | [field:]"phrase"
 *  GROUP clauses side by side (an and_expr): kids are LEAF or PAREN, each with
 *        an operator (+, -, NOT) and joined to the previous one by a space or
 *        by " AND " (and_join[i], i >= 1)
 *  OR    kids (GROUP, LEAF or PAREN) joined by " OR "
 *  PAREN "(" kid ")" or "field:(" kid ")" */
typedef struct or_q {
    int type;
    int kind;    /* LEAF: OR_L_* */
    char *field; /* LEAF, PAREN: field name or NULL */
    char *text;  /* LEAF */
    size_t n;
    struct or_q **kids;
    int *ops;      /* GROUP */
    int *and_join; /* GROUP */
} or_q;

OR_API or_q *or_q_leaf(int kind, const char *field, const char *text) {
    or_q *q = or_xcalloc(1, sizeof *q);
    q->type = OR_Q_LEAF;
    q->kind = kind;
    q->field = field ? or_xstrdup(field) : NULL;
    q->text = or_xstrdup(text);
    return q;
}

OR_API or_q *or_q_new(int type, const char *field) {
    or_q *q = or_xcalloc(1, sizeof *q);
    q->type = type;
    q->field = field ? or_xstrdup(field) : NULL;
    return q;
}

/* Appends kid to a GROUP (with op and join), OR or PAREN. */
OR_API void or_q_add(or_q *q, or_q *kid, int op, int and_join) {
    q->kids = or_xrealloc(q->kids, (q->n + 1) * sizeof *q->kids);
    q->ops = or_xrealloc(q->ops, (q->n + 1) * sizeof *q->ops);
    q->and_join = or_xrealloc(q->and_join, (q->n + 1) * sizeof *q->and_join);
    q->kids[q->n] = kid;
    q->ops[q->n] = op;
    q->and_join[q->n] = q->n ? and_join : 0;
    q->n++;
}

OR_API void or_q_free(or_q *q) {
    if (!q) return;
    for (size_t i = 0; i < q->n; i++) or_q_free(q->kids[i]);
    free(q->kids);
    free(q->ops);
    free(q->and_join);
    free(q->field);
    free(q->text);
    free(q);
}

OR_API void or_q_render(const or_q *q, or_buf *b) {
    size_t i;
    switch (q->type) {
        case OR_Q_LEAF:
            if (q->field) {
                or_buf_puts(b, q->field);
                or_buf_put(b, ":", 1);
            }
            if (q->kind == OR_L_PHRASE) or_buf_put(b, "\"", 1);
            or_buf_puts(b, q->text);
            if (q->kind == OR_L_PHRASE) or_buf_put(b, "\"", 1);
            if (q->kind == OR_L_PREFIX) or_buf_put(b, "*", 1);
            break;
        case OR_Q_GROUP:
            for (i = 0; i < q->n; i++) {
                if (i) or_buf_puts(b, q->and_join[i] ? " AND " : " ");
                if (q->ops[i] == OR_OP_PLUS)
                    or_buf_put(b, "+", 1);
                else if (q->ops[i] == OR_OP_MINUS)
                    or_buf_put(b, "-", 1);
                else if (q->ops[i] == OR_OP_NOT)
                    or_buf_puts(b, "NOT ");
                or_q_render(q->kids[i], b);
            }
            break;
        case OR_Q_OR:
            for (i = 0; i < q->n; i++) {
                if (i) or_buf_puts(b, " OR ");
                or_q_render(q->kids[i], b);
            }
            break;
        case OR_Q_PAREN:
            if (q->field) {
                or_buf_puts(b, q->field);
                or_buf_put(b, ":", 1);
            }
            or_buf_put(b, "(", 1);
            or_q_render(q->kids[0], b);
            or_buf_put(b, ")", 1);
            break;
    }
}

/* Occurrence of clause i of a GROUP under the default operator: juxtaposed
 * clauses are MUST (AND mode) or SHOULD (OR mode); both neighbours of an
 * explicit AND are MUST; +x is MUST and -x / NOT x is MUST_NOT whatever else. */
OR_API int or_q_occur(const or_q *g, size_t i, int use_or) {
    if (g->ops[i] == OR_OP_PLUS) return OR_MUST;
    if (g->ops[i] == OR_OP_MINUS || g->ops[i] == OR_OP_NOT) return OR_MUST_NOT;
    if (g->and_join[i] || (i + 1 < g->n && g->and_join[i + 1])) return OR_MUST;
    return use_or ? OR_SHOULD : OR_MUST;
}

/* Evaluates q over every document: score[d] and match[d] (zeroed, ndocs long)
 * are filled for live matching documents. scope is the field of an enclosing
 * field:( ). Returns OR_OK, OR_DROPPED (nothing left of the clause) or the
 * first error in query order. Semantics of a clause list: every MUST matches,
 * no MUST_NOT matches, and with no MUST at least one SHOULD matches (a list of
 * MUST_NOT only matches every document not excluded); the score is the sum of
 * the matching MUST and SHOULD clauses. Dropped clauses are left out first. */
OR_API int or_q_eval(const or_corpus *c, const or_opts *o, const or_q *q, const char *scope, double *score,
                     uint8_t *match) {
    size_t nd = c->ndocs, i, d;
    double **ks;
    uint8_t **km;
    int *occ, *alive, rc = OR_OK, has_must = 0, has_should = 0, any = 0;

    if (q->type == OR_Q_LEAF) return or_eval_leaf(c, o, q->kind, q->field ? q->field : scope, q->text, score, match);
    if (q->type == OR_Q_PAREN) return or_q_eval(c, o, q->kids[0], q->field ? q->field : scope, score, match);
    ks = or_xcalloc(q->n, sizeof *ks);
    km = or_xcalloc(q->n, sizeof *km);
    occ = or_xcalloc(q->n, sizeof *occ);
    alive = or_xcalloc(q->n, sizeof *alive);
    for (i = 0; i < q->n && rc == OR_OK; i++) {
        int r;
        ks[i] = or_xcalloc(nd, sizeof **ks);
        km[i] = or_xcalloc(nd, 1);
        occ[i] = q->type == OR_Q_OR ? OR_SHOULD : or_q_occur(q, i, o->use_or);
        r = or_q_eval(c, o, q->kids[i], scope, ks[i], km[i]);
        if (r < 0) rc = r;
        alive[i] = r == OR_OK;
        if (alive[i]) {
            any = 1;
            has_must |= occ[i] == OR_MUST;
            has_should |= occ[i] == OR_SHOULD;
        }
    }
    if (rc == OR_OK && !any) rc = OR_DROPPED;
    for (d = 0; d < nd && rc == OR_OK; d++) {
        int ok = c->docs[d].live, some_should = 0;
        double s = 0;
        for (i = 0; i < q->n && ok; i++) {
            if (!alive[i]) continue;
            if (occ[i] == OR_MUST_NOT) {
                ok = !km[i][d];
            } else if (km[i][d]) {
                s += ks[i][d];
                some_should |= occ[i] == OR_SHOULD;
            } else if (occ[i] == OR_MUST) {
                ok = 0;
            }
        }
        if (ok && !has_must && has_should && !some_should) ok = 0;
        if (ok) {
            match[d] = 1;
            score[d] = s;
        }
    }
    for (i = 0; i < q->n; i++) {
        free(ks[i]);
        free(km[i]);
    }
    free(ks);
    free(km);
    free(occ);
    free(alive);
    return rc;
}

/* The idf a term takes in the proximity bonus: BM25F's (live documents
 * holding it in any field), or under per-field BM25 the largest of its
 * fields' idfs. 0 when no live document has it. */
OR_API double or_prox_idf(const or_corpus *c, const or_opts *o, uint32_t id) {
    double best = 0;
    size_t f, d;
    if (o->bm25f) {
        uint64_t df = 0;
        uint32_t zero = 0;
        for (d = 0; d < c->ndocs; d++) {
            int has = 0;
            if (!c->docs[d].live) continue;
            for (f = 0; f < c->nfields && !has; f++) has = or_phrase_tf(&c->docs[d].f[f], &id, &zero, 1) > 0;
            df += (uint64_t)has;
        }
        return df ? or_idf(c->nlive, df) : 0;
    }
    for (f = 0; f < c->nfields; f++) {
        double x;
        if (c->N[f] == 0 || c->df[f][id] == 0) continue;
        x = or_idf(c->N[f], c->df[f][id]);
        if (x > best) best = x;
    }
    return best;
}

/* The term-proximity bonus, written from the README's formula: when q is a
 * group of single-word term leaves (no field, no exclusion) holding two or
 * more distinct terms (the first 8 count), every matching document d gains
 *   λ · Σ_{i<j} min(idf_i, idf_j) · x · (k1 + 1) / (x + k1),
 *   x = Σ_f w_f · tpi_f / (1 − b + b · dl_f / avgdl_f),
 *   tpi_f = Σ 1/(p − q)² over positions p of term i, q of term j in field f
 *           with 1 ≤ |p − q| ≤ window,
 * pairs with x = 0 adding nothing. Positions come from the oracle's own
 * tokens (the analyzer's). */
OR_API void or_prox_add(const or_corpus *c, const or_opts *o, const or_q *q, double *score, const uint8_t *match) {
    uint32_t ids[8];
    double idf[8];
    size_t n = 0, i, j, k, f, d;
    if (!o->prox || q->type != OR_Q_GROUP) return;
    for (i = 0; i < q->n && n < 8; i++) {
        const or_q *l = q->kids[i];
        or_qtoks t;
        long id;
        int dup = 0;
        if (l->type != OR_Q_LEAF || l->kind != OR_L_TERM || l->field || q->ops[i] == OR_OP_MINUS ||
            q->ops[i] == OR_OP_NOT)
            continue;
        memset(&t, 0, sizeof t);
        tw_analyze(c->an, l->text, strlen(l->text), 0, 1, or_on_query_token, &t, NULL);
        id = t.n == 1 ? or_term_find(c, t.term[0], t.len[0]) : -1;
        or_qtoks_free(&t);
        if (id < 0 || (size_t)id >= c->nstat) continue;
        for (k = 0; k < n; k++) dup |= ids[k] == (uint32_t)id;
        if (dup || or_prox_idf(c, o, (uint32_t)id) == 0) continue;
        idf[n] = or_prox_idf(c, o, (uint32_t)id);
        ids[n++] = (uint32_t)id;
    }
    if (n < 2) return;
    for (d = 0; d < c->ndocs; d++) {
        double bonus = 0;
        if (!match[d] || !c->docs[d].live) continue;
        for (i = 0; i < n; i++)
            for (j = i + 1; j < n; j++) {
                double x = 0;
                for (f = 0; f < c->nfields; f++) {
                    const or_dfield *fx = &c->docs[d].f[f];
                    uint32_t a, b;
                    double tpi = 0;
                    if (fx->n == 0 || c->N[f] == 0) continue;
                    for (a = or_lower(fx, ids[i], 0); a < fx->n && fx->toks[a].term == ids[i]; a++)
                        for (b = or_lower(fx, ids[j], 0); b < fx->n && fx->toks[b].term == ids[j]; b++) {
                            uint32_t p = fx->toks[a].pos, r = fx->toks[b].pos, dist = p > r ? p - r : r - p;
                            if (dist >= 1 && dist <= o->prox_win) tpi += 1.0 / ((double)dist * (double)dist);
                        }
                    if (tpi > 0)
                        x += or_weight(o, c->fields[f]) * tpi /
                             (1.0 - o->b + o->b * (double)fx->n / ((double)c->T[f] / (double)c->N[f]));
                }
                if (x > 0) bonus += o->prox_w * (idf[i] < idf[j] ? idf[i] : idf[j]) * x * (o->k1 + 1.0) / (x + o->k1);
            }
        score[d] += bonus;
    }
}

/* or_q_eval of the whole query under o's operator. For auto (use_or 2), the
 * query is evaluated with AND and with OR: a document matches when either
 * matches, takes the AND score and tier 1 where AND matches, else the OR
 * score and tier 0 (tier may be NULL otherwise; zeroed, ndocs long). */
OR_API int or_q_eval_op(const or_corpus *c, const or_opts *o, const or_q *q, double *score, uint8_t *match,
                        uint8_t *tier) {
    if (o->use_or != 2) {
        int r = or_q_eval(c, o, q, NULL, score, match);
        if (r >= 0) or_prox_add(c, o, q, score, match);
        return r;
    }
    or_opts oa = *o, oo = *o;
    oa.use_or = 0;
    oo.use_or = 1;
    double *sa = or_xcalloc(c->ndocs, sizeof *sa);
    uint8_t *ma = or_xcalloc(c->ndocs, 1);
    int ra = or_q_eval(c, &oa, q, NULL, sa, ma);
    int rc = or_q_eval(c, &oo, q, NULL, score, match);
    if (ra < 0 && rc >= 0) rc = ra;
    if (ra >= 0) or_prox_add(c, o, q, sa, ma);
    if (rc >= 0) or_prox_add(c, o, q, score, match);
    for (size_t d = 0; d < c->ndocs && rc >= 0; d++)
        if (ma[d]) {
            match[d] = 1;
            score[d] = sa[d];
            tier[d] = 1;
        }
    free(sa);
    free(ma);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Comparing results                                                         */

/* |a - b| within rel of the larger magnitude (or both ~0). */
OR_API int or_close(double a, double b, double rel) {
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= rel * m || fabs(a - b) <= 1e-12;
}

/* Sorts idx[0..n) by tier descending (tier may be NULL: all equal), then
 * score descending, then index ascending (insertion order): a bottom-up merge
 * sort, since qsort has no context argument for score. */
OR_API void or_rank(size_t *idx, size_t n, const double *score, const uint8_t *tier) {
    size_t *tmp, width, i;
    if (n < 2) return;
    tmp = or_xmalloc(n * sizeof *tmp);
    for (width = 1; width < n; width *= 2) {
        for (i = 0; i < n; i += 2 * width) {
            size_t lo = i, mid = i + width < n ? i + width : n, hi = i + 2 * width < n ? i + 2 * width : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi) {
                int ta = tier ? tier[idx[a]] : 0, tb = tier ? tier[idx[b]] : 0;
                int take_b = tb > ta || (tb == ta && (score[idx[b]] > score[idx[a]] ||
                                                      (score[idx[b]] == score[idx[a]] && idx[b] < idx[a])));
                tmp[k++] = take_b ? idx[b++] : idx[a++];
            }
            while (a < mid) tmp[k++] = idx[a++];
            while (b < hi) tmp[k++] = idx[b++];
        }
        memcpy(idx, tmp, n * sizeof *idx);
    }
    free(tmp);
}

typedef struct or_stats {
    long checks;
    long failures;
    long printed;
} or_stats;

OR_API void or_fail(or_stats *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
OR_API void or_fail(or_stats *st, const char *fmt, ...) {
    va_list ap;
    st->failures++;
    if (st->printed++ >= 60) return;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

/* Compares results r of a search with limit/offset against the oracle's
 * score/match. Checks: the exact total; the number of hits; every hit is a
 * live matching document, returned once, with a score within 1e-6 relative of
 * the oracle's; the hit at rank offset+i has the oracle score expected at that
 * rank (within 1e-9 relative: near-ties may come in either order); hits with
 * bit-identical engine scores come in insertion order. With tier (auto; may
 * be NULL) documents of a higher tier come first and the order checks apply
 * within a tier. label describes the query. Returns the number of failures
 * found. */
OR_API long or_check(or_stats *st, const or_corpus *c, const char *label, const trawl_results *r, const double *score,
                     const uint8_t *match, const uint8_t *tier, size_t offset, size_t limit) {
    size_t nexp = 0, d, i, want, got;
    size_t *exp = or_xmalloc(c->ndocs * sizeof *exp);
    uint8_t *seen = or_xcalloc(c->ndocs, 1);
    long before = st->failures, prev = -1;
    double prev_score = 0;
    int last_tier = 1;

    for (d = 0; d < c->ndocs; d++)
        if (c->docs[d].live && match[d]) exp[nexp++] = d;
    or_rank(exp, nexp, score, tier);
    st->checks++;
    if (trawl_results_total(r) != nexp)
        or_fail(st, "%s: total: engine %llu, oracle %zu", label, (unsigned long long)trawl_results_total(r), nexp);
    want = nexp > offset ? nexp - offset : 0;
    if (want > limit) want = limit;
    got = trawl_results_count(r);
    if (got != want) or_fail(st, "%s: hits returned: engine %zu, oracle %zu", label, got, want);
    for (i = 0; i < got && i < want; i++) {
        const char *id = trawl_results_id(r, i);
        double es = trawl_results_score(r, i), os, xs = score[exp[offset + i]];
        long di = id ? or_doc_find(c, id) : -1;
        if (di < 0 || !c->docs[di].live || !match[di]) {
            or_fail(st,
                    "%s: rank %zu: engine returns '%s' (score %.12g), which the oracle does not match; oracle "
                    "expects '%s' (score %.12g)",
                    label, offset + i, id ? id : "(null)", es, c->docs[exp[offset + i]].raw.id, xs);
            continue;
        }
        os = score[di];
        if (seen[di]) or_fail(st, "%s: rank %zu: '%s' returned twice", label, offset + i, id);
        seen[di] = 1;
        if (!or_close(es, os, 1e-6))
            or_fail(st, "%s: rank %zu: '%s' score: engine %.15g, oracle %.15g", label, offset + i, id, es, os);
        if (!or_close(os, xs, 1e-9))
            or_fail(st, "%s: rank %zu: engine has '%s' (oracle score %.15g), oracle expects '%s' (score %.15g)", label,
                    offset + i, id, os, c->docs[exp[offset + i]].raw.id, xs);
        if (tier && i > 0 && tier[di] > last_tier)
            or_fail(st, "%s: rank %zu: '%s' has every word but comes after a document that lacks some", label,
                    offset + i, id);
        if (tier) last_tier = tier[di];
        if (prev >= 0 && tier && tier[prev] != tier[di]) prev = -1; /* a new tier */
        if (prev >= 0 && es == prev_score && di < prev)
            or_fail(st, "%s: rank %zu: equal scores %.15g but '%s' (inserted later) comes before '%s'", label,
                    offset + i, es, c->docs[prev].raw.id, id);
        if (prev >= 0 && es > prev_score)
            or_fail(st, "%s: rank %zu: scores not descending: %.15g after %.15g", label, offset + i, es, prev_score);
        prev = di;
        prev_score = es;
    }
    free(exp);
    free(seen);
    return st->failures - before;
}

/* ------------------------------------------------------------------------ */
/* Engine helpers                                                            */

/* Opens a writer on dir, adds docs[0..n) (some through add_fields, chosen
 * with r) and commits. Returns the trawl code; failures are printed. */
OR_API int or_index_docs(const char *dir, or_rdoc *const *docs, size_t n, or_rng *r) {
    trawl_writer *w = NULL;
    char *err = NULL;
    int rc = trawl_writer_open(dir, NULL, &w, &err);
    if (rc) {
        fprintf(stderr, "FAIL: trawl_writer_open(%s): %s\n", dir, err ? err : trawl_strerror(rc));
        trawl_free(err);
        return rc;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = or_writer_add(w, docs[i], or_chance(r, 0.3));
        if (rc) fprintf(stderr, "FAIL: adding '%s': %s\n", docs[i]->id, trawl_writer_errmsg(w));
    }
    if (rc == 0 && (rc = trawl_writer_commit(w)) != 0) fprintf(stderr, "FAIL: commit: %s\n", trawl_writer_errmsg(w));
    trawl_writer_close(w);
    return rc;
}

/* Removes the directory dir and everything in it. */
OR_API void or_rmtree(const char *dir) {
    DIR *dd = opendir(dir);
    struct dirent *e;
    if (dd) {
        while ((e = readdir(dd)) != NULL) {
            char path[4096];
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (unlink(path) != 0) {
                DIR *sub = opendir(path);
                if (sub) {
                    closedir(sub);
                    or_rmtree(path);
                }
            }
        }
        closedir(dd);
    }
    rmdir(dir);
}

#endif
