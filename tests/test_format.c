/*
 * test_format.c — round trip of the on-disk format against an independent oracle.
 *
 * Generates (seeded) a few thousand JSON documents with text fields, arrays,
 * numbers, nested objects, non-ASCII text and JSON escapes, indexes them through
 * the public writer in several commits (re-adding some ids, so that later
 * versions replace earlier ones), and after every commit checks:
 *  - public API: trawl_index_get returns each live document's exact text (as
 *    bytes after the writer's trimming, and as a JSON value with json_equal),
 *    replaced versions are gone, unknown ids give TRAWL_ENOTFOUND, the live
 *    count, trawl_index_check, trawl_index_stats;
 *  - internals, per segment: ids, stored texts, deletion bitmaps, field table,
 *    field statistics and lengths, and every (field, term) posting list — doc
 *    ids, term frequencies and positions — against a brute-force inverted index
 *    built here from the analyzer's token streams; tw_segment_lookup and
 *    tw_segment_prefix against the brute-force dictionary (absent terms and
 *    prefixes that match nothing or everything included).
 * A second index is built with a 1 MB writer budget (several segments per
 * commit) and language "none". Also: an empty commit, a writer closed without
 * commit, a second writer (TRAWL_ELOCKED) and a writer with another language
 * (TRAWL_EINVAL).
 *
 * The mapping from a segment's doc numbers to the generated documents is found
 * through a "seq" number stored in every document (doc 0 of a segment tells
 * where the segment starts in the add order); every stored text of the segment
 * is then compared with the generated one, so the mapping is itself checked.
 */
#include "analyzer.h"
#include "engine.h"
#include "segment.h"
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARRAY_POSITION_GAP 100u /* positions between elements of an array field (the writer's spec) */

static int failures;

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return q;
}

/* ---- PRNG and a growable string ----------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n) {
    if (b->cap - b->len < n + 1) {
        while (b->cap - b->len < n + 1) b->cap = b->cap ? 2 * b->cap : 256;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_puts(sbuf *b, const char *s) {
    sb_putn(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_putn(b, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ---- document generator -------------------------------------------------- */

static const char *const vocab[] = {"the",
                                    "quick",
                                    "brown",
                                    "fox",
                                    "jumps",
                                    "over",
                                    "lazy",
                                    "dog",
                                    "running",
                                    "runner",
                                    "runs",
                                    "ran",
                                    "connection",
                                    "connected",
                                    "connecting",
                                    "search",
                                    "searching",
                                    "engine",
                                    "engines",
                                    "index",
                                    "indexes",
                                    "indexing",
                                    "segment",
                                    "posting",
                                    "postings",
                                    "query",
                                    "queries",
                                    "phrase",
                                    "bitmap",
                                    "Roaring",
                                    "compression",
                                    "LZ4",
                                    "checksum",
                                    "manifest",
                                    "commit",
                                    "writer",
                                    "reader",
                                    "and",
                                    "of",
                                    "a",
                                    "to",
                                    "in",
                                    "is",
                                    "it",
                                    "caf\xc3\xa9",
                                    "CAF\xc3\x89",
                                    "na\xc3\xafve",
                                    "Z\xc3\xbcrich",
                                    "stra\xc3\x9f\x65", /* \x65 = 'e': a hex escape would swallow a literal e */
                                    "\xce\x95\xce\xbb\xce\xbb\xce\xac\xce\xb4\xce\xb1",
                                    "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0",
                                    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
                                    "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4",
                                    "\xef\xac\x81nance",
                                    "\xe2\x85\xab",
                                    "e\xcc\x81t\xc3\xa9",
                                    "O'Brien",
                                    "e-mail",
                                    "3.14",
                                    "42",
                                    "2024",
                                    "x86_64",
                                    "C++",
                                    "don't",
                                    "\xf0\x9f\x99\x82ok",
                                    "\xef\xbc\xa6\xef\xbd\x95\xef\xbd\x8c\xef\xbd\x8c",
                                    "\xc3\x85ngstr\xc3\xb6m",
                                    "I\xcc\x87stanbul",
                                    "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7",
                                    "\xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\x82\xe0\xa4\xa6\xe0\xa5\x80",
                                    "tab\there",
                                    "new\nline",
                                    "quote\"d",
                                    "back\\slash",
                                    "ctl\x01x",
                                    "semi;colon",
                                    "under_score"};

static const char *const syll[] = {"ka",  "lo",  "mi",  "ren", "to",  "vak", "zu", "pel",
                                   "dor", "qua", "sti", "nox", "bre", "ul",  "fy", "gar"};

static const char *const seps[] = {" ", " ", " ", " ", ", ", ". ", " - ", "\n", "\t", "/", "  ", "!? "};

/* Appends one random word (vocabulary, synthetic, number or an over-long
 * token that the analyzer drops) to b. */
static void gen_word(rng *r, sbuf *b) {
    size_t k = below(r, 100);
    if (k < 55) {
        sb_puts(b, vocab[below(r, sizeof vocab / sizeof vocab[0])]);
    } else if (k < 93) {
        size_t n = 2 + below(r, 3), at = b->len;
        for (size_t i = 0; i < n; i++) sb_puts(b, syll[below(r, sizeof syll / sizeof syll[0])]);
        if (below(r, 5) == 0 && b->p[at] >= 'a' && b->p[at] <= 'z') b->p[at] = (char)(b->p[at] - 'a' + 'A');
    } else if (k < 98) {
        sb_printf(b, "%u", (unsigned)below(r, 5000));
    } else {
        size_t n = 129 + below(r, 40);
        for (size_t i = 0; i < n; i++) sb_putn(b, "w", 1);
    }
}

/* Random text of between lo and hi words. */
static void gen_text(rng *r, sbuf *b, size_t lo, size_t hi) {
    size_t n = lo + below(r, hi - lo + 1);
    for (size_t i = 0; i < n; i++) {
        if (i) sb_puts(b, seps[below(r, sizeof seps / sizeof seps[0])]);
        gen_word(r, b);
    }
}

/* Decodes one UTF-8 sequence of the (valid) generated text at s; returns its length. */
static size_t utf8_dec(const unsigned char *s, uint32_t *cp) {
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] < 0xE0) {
        *cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
        return 2;
    }
    if (s[0] < 0xF0) {
        *cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        return 3;
    }
    *cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 | (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
    return 4;
}

/* Appends text as a JSON string literal; non-ASCII characters are written as
 * \u escapes (surrogate pairs above U+FFFF) with probability escape_pct %. */
static void put_json_string(rng *r, sbuf *b, const char *text, size_t len, unsigned escape_pct) {
    sb_putn(b, "\"", 1);
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            sb_putn(b, "\\", 1);
            sb_putn(b, (const char *)&c, 1);
            i++;
        } else if (c == '\n') {
            sb_puts(b, "\\n");
            i++;
        } else if (c == '\t') {
            sb_puts(b, below(r, 2) ? "\\t" : "\\u0009");
            i++;
        } else if (c < 0x20) {
            sb_printf(b, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            if (c == '/' && below(r, 2))
                sb_puts(b, "\\/");
            else
                sb_putn(b, (const char *)&c, 1);
            i++;
        } else {
            uint32_t cp;
            size_t n = utf8_dec(s + i, &cp);
            if (below(r, 100) < escape_pct) {
                if (cp >= 0x10000) {
                    uint32_t v = cp - 0x10000;
                    sb_printf(b, "\\u%04X\\u%04x", 0xD800 + (unsigned)(v >> 10), 0xDC00 + (unsigned)(v & 0x3FF));
                } else {
                    sb_printf(b, below(r, 2) ? "\\u%04x" : "\\u%04X", (unsigned)cp);
                }
            } else {
                sb_putn(b, text + i, n);
            }
            i += n;
        }
    }
    sb_putn(b, "\"", 1);
}

/* The external id of id key k: several shapes, some non-ASCII or with quotes. */
static void id_for(unsigned k, char *out, size_t cap) {
    switch (k % 7) {
        case 0: snprintf(out, cap, "doc-%u", k); break;
        case 1: snprintf(out, cap, "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87-%u", k); break;
        case 2: snprintf(out, cap, "a \"quoted\" id %u", k); break;
        case 3: snprintf(out, cap, "%u", k); break;
        case 4: snprintf(out, cap, "https://example.org/p/%u?x=1", k); break;
        case 5: snprintf(out, cap, "ID_%u_\xe6\x97\xa5", k); break;
        default: snprintf(out, cap, "z%u", k * 7919u); break;
    }
}

typedef struct gdoc {
    char *line; /* the line as handed to trawl_writer_add_json */
    size_t len;
    size_t tstart; /* the stored text is line[tstart, tend): the writer trims */
    size_t tend;
    unsigned key; /* id key */
    char id[96];
} gdoc;

/* Generates document number seq with id key `key` as one JSON line. Fields
 * and key order vary; leading spaces/tabs and trailing whitespace are added
 * sometimes (the writer trims them). */
static void gen_doc(rng *r, size_t seq, unsigned key, gdoc *d) {
    sbuf b = {0};
    char *parts[16];
    size_t np = 0;
    d->key = key;
    id_for(key, d->id, sizeof d->id);
    /* Each part is a complete "key": value member. */
    for (int f = 0; f < 12; f++) {
        sbuf m = {0}, t = {0};
        switch (f) {
            case 0:
                sb_puts(&m, "\"id\":");
                put_json_string(r, &m, d->id, strlen(d->id), 30);
                break;
            case 1: sb_printf(&m, "\"seq\": %zu", seq); break;
            case 2:
                if (below(r, 10) == 0) break;
                gen_text(r, &t, 1, 8);
                sb_puts(&m, "\"title\":");
                put_json_string(r, &m, t.p, t.len, 20);
                break;
            case 3:
                if (below(r, 8) == 0) break;
                gen_text(r, &t, 5, 90);
                sb_puts(&m, "\"body\": ");
                put_json_string(r, &m, t.p, t.len, 10);
                break;
            case 4: { /* array of strings, sometimes with non-strings mixed in */
                if (below(r, 3) == 0) break;
                size_t n = below(r, 6);
                sb_puts(&m, "\"tags\":[");
                for (size_t i = 0; i < n; i++) {
                    if (i) sb_puts(&m, below(r, 2) ? "," : ", ");
                    size_t k = below(r, 10);
                    if (k == 0)
                        sb_puts(&m, "17");
                    else if (k == 1)
                        sb_puts(&m, "null");
                    else if (k == 2)
                        sb_puts(&m, "\"\"");
                    else {
                        t.len = 0;
                        gen_text(r, &t, 1, 3);
                        put_json_string(r, &m, t.p, t.len, 20);
                    }
                }
                sb_puts(&m, "]");
                break;
            }
            case 5: /* nested object: stored, not indexed */
                if (below(r, 2)) break;
                gen_text(r, &t, 1, 4);
                sb_puts(&m, "\"author\": {\"name\": ");
                put_json_string(r, &m, t.p, t.len, 20);
                sb_printf(&m, ", \"langs\": [\"en\", \"fr\"], \"age\": %u, \"deep\": {\"x\": [[\"nested words\"]]}}",
                          (unsigned)below(r, 90));
                break;
            case 6: { /* a number, bool or null: stored only */
                static const char *const scalars[] = {"3", "-2.5e3", "true", "false", "null", "1e-300", "0"};
                if (below(r, 2)) break;
                sb_printf(&m, "\"n\":%s", scalars[below(r, 7)]);
                break;
            }
            case 7: /* array without strings: stored only, no field */
                if (below(r, 4)) break;
                sb_puts(&m, "\"nums\": [1, 2, 3.5, null, {\"k\": \"v\"}]");
                break;
            case 8: /* a rarer field among many names */
                if (below(r, 3)) break;
                gen_text(r, &t, 1, 6);
                sb_printf(&m, "\"note_%u\":", (unsigned)below(r, 12));
                put_json_string(r, &m, t.p, t.len, 50);
                break;
            case 9: /* non-ASCII field name */
                if (below(r, 5)) break;
                gen_text(r, &t, 1, 5);
                sb_puts(&m, "\"\xc3\xa9moji_\xe2\x9c\x93\":");
                put_json_string(r, &m, t.p, t.len, 50);
                break;
            case 10: /* empty string field */
                if (below(r, 6)) break;
                sb_puts(&m, "\"empty\": \"\"");
                break;
            default: /* empty key: stored, not indexed */
                if (below(r, 20)) break;
                sb_puts(&m, "\"\": \"empty key words\"");
                break;
        }
        free(t.p);
        if (m.len)
            parts[np++] = m.p;
        else
            free(m.p);
    }
    for (size_t i = np; i > 1; i--) { /* shuffle member order */
        size_t j = below(r, i);
        char *x = parts[i - 1];
        parts[i - 1] = parts[j];
        parts[j] = x;
    }
    size_t lead = below(r, 6) == 0 ? 1 + below(r, 3) : 0;
    for (size_t i = 0; i < lead; i++) sb_puts(&b, below(r, 2) ? " " : "\t");
    d->tstart = b.len;
    sb_puts(&b, below(r, 4) ? "{" : "{ ");
    for (size_t i = 0; i < np; i++) {
        if (i) sb_puts(&b, below(r, 3) ? ", " : ",");
        sb_puts(&b, parts[i]);
        free(parts[i]);
    }
    sb_puts(&b, below(r, 4) ? "}" : " }");
    d->tend = b.len;
    static const char *const trail[] = {"", "", "", "\n", " \n", "\r\n", "\t"};
    sb_puts(&b, trail[below(r, 7)]);
    d->line = b.p;
    d->len = b.len;
}

/* ---- the model: every document added, in order ------------------------- */

typedef struct model {
    gdoc *docs;
    size_t n, cap;
    size_t *latest; /* per id key: seq of the newest committed version, or SIZE_MAX */
    size_t nkeys;
    const char *lang; /* analysis language of the index */
    size_t committed; /* docs[0, committed) are committed */
} model;

static void model_add(model *m, rng *r, unsigned key) {
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 1024;
        m->docs = xrealloc(m->docs, m->cap * sizeof *m->docs);
    }
    if (key >= m->nkeys) {
        size_t nk = key + 1024;
        m->latest = xrealloc(m->latest, nk * sizeof *m->latest);
        for (size_t k = m->nkeys; k < nk; k++) m->latest[k] = SIZE_MAX;
        m->nkeys = nk;
    }
    gen_doc(r, m->n, key, &m->docs[m->n]);
    m->n++;
}

static void model_commit(model *m) {
    for (size_t i = m->committed; i < m->n; i++) m->latest[m->docs[i].key] = i;
    m->committed = m->n;
}

static void model_free(model *m) {
    for (size_t i = 0; i < m->n; i++) free(m->docs[i].line);
    free(m->docs);
    free(m->latest);
}

static int is_live(const model *m, size_t seq) {
    return m->latest[m->docs[seq].key] == seq;
}

static size_t live_count(const model *m) {
    size_t n = 0;
    for (size_t k = 0; k < m->nkeys; k++) n += m->latest[k] != SIZE_MAX;
    return n;
}

/* Adds docs [from, to) of the model through the writer. */
static void write_docs(trawl_writer *w, const model *m, size_t from, size_t to) {
    for (size_t i = from; i < to; i++) {
        int rc = trawl_writer_add_json(w, m->docs[i].line, m->docs[i].len);
        CHECK(rc == TRAWL_OK, "add_json of doc %zu: %s (%s)\n%s", i, trawl_strerror(rc), trawl_writer_errmsg(w),
              m->docs[i].line);
    }
}

/* ---- brute-force inverted index of one segment --------------------------- */

typedef struct interner {
    char **s;
    size_t *len;
    size_t n, cap;
    uint32_t *slots; /* open addressing: term id + 1, 0 = empty */
    size_t nslots;
} interner;

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static uint32_t intern(interner *t, const char *s, size_t n) {
    if (2 * (t->n + 1) > t->nslots) {
        size_t ns = t->nslots ? 2 * t->nslots : 4096;
        uint32_t *sl = calloc(ns, sizeof *sl);
        if (!sl) exit(2);
        for (size_t i = 0; i < t->nslots; i++)
            if (t->slots[i]) {
                uint32_t id = t->slots[i] - 1;
                size_t h = (size_t)hash_bytes(t->s[id], t->len[id]) & (ns - 1);
                while (sl[h]) h = (h + 1) & (ns - 1);
                sl[h] = id + 1;
            }
        free(t->slots);
        t->slots = sl;
        t->nslots = ns;
    }
    size_t h = (size_t)hash_bytes(s, n) & (t->nslots - 1);
    while (t->slots[h]) {
        uint32_t id = t->slots[h] - 1;
        if (t->len[id] == n && memcmp(t->s[id], s, n) == 0) return id;
        h = (h + 1) & (t->nslots - 1);
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1024;
        t->s = xrealloc(t->s, t->cap * sizeof *t->s);
        t->len = xrealloc(t->len, t->cap * sizeof *t->len);
    }
    t->s[t->n] = xmalloc(n + 1);
    memcpy(t->s[t->n], s, n);
    t->s[t->n][n] = 0;
    t->len[t->n] = n;
    t->slots[h] = (uint32_t)t->n + 1;
    return (uint32_t)t->n++;
}

static void interner_free(interner *t) {
    for (size_t i = 0; i < t->n; i++) free(t->s[i]);
    free(t->s);
    free(t->len);
    free(t->slots);
}

typedef struct post {
    uint32_t field, term, doc, pos; /* field: oracle field number */
} post;

typedef struct oracle {
    interner terms;
    uint32_t *rank; /* term id → rank in byte order */
    post *p;
    size_t n, cap;
    char **fields; /* expected field names (order of first appearance) */
    uint32_t nfields;
    uint32_t *local;  /* oracle field → segment field number */
    uint32_t *doclen; /* [field * ndocs + doc]: tokens */
    uint32_t ndocs;
    /* groups: one per term, in dictionary order; posts sorted by (term, doc, segment field, position) */
    size_t *gstart, *gcount;
    uint32_t *gdf; /* documents with the term in any field */
    size_t ngroups;
    uint64_t npostings; /* sum over terms of per-field document frequencies */
} oracle;

typedef struct an_ctx {
    oracle *o;
    uint32_t field, doc;
    uint32_t count;
} an_ctx;

static int on_token(void *c, const tw_token *t) {
    an_ctx *x = c;
    oracle *o = x->o;
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 65536;
        o->p = xrealloc(o->p, o->cap * sizeof *o->p);
    }
    o->p[o->n++] = (post){x->field, intern(&o->terms, t->term, t->len), x->doc, t->pos};
    x->count++;
    return 0;
}

static uint32_t oracle_field(oracle *o, const char *name) {
    for (uint32_t f = 0; f < o->nfields; f++)
        if (strcmp(o->fields[f], name) == 0) return f;
    o->fields = xrealloc(o->fields, (o->nfields + 1) * sizeof *o->fields);
    o->fields[o->nfields] = xmalloc(strlen(name) + 1);
    strcpy(o->fields[o->nfields], name);
    o->doclen = xrealloc(o->doclen, (size_t)(o->nfields + 1) * o->ndocs * sizeof *o->doclen);
    memset(o->doclen + (size_t)o->nfields * o->ndocs, 0, o->ndocs * sizeof *o->doclen);
    return o->nfields++;
}

/* qsort has no context argument: the comparators read these (set just before
 * each sort; the test is single-threaded). */
static const interner *sort_terms_ctx;
static const oracle *sort_posts_ctx;

static int cmp_term_ids(const void *a, const void *b) {
    const interner *t = sort_terms_ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    size_t lx = t->len[x], ly = t->len[y];
    int c = memcmp(t->s[x], t->s[y], lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

static int cmp_posts(const void *a, const void *b) {
    const post *x = a, *y = b;
    const oracle *o = sort_posts_ctx;
    if (x->term != y->term) return o->rank[x->term] < o->rank[y->term] ? -1 : 1;
    if (x->doc != y->doc) return x->doc < y->doc ? -1 : 1;
    uint32_t fx = o->local[x->field], fy = o->local[y->field];
    if (fx != fy) return fx < fy ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Builds the oracle of a segment holding the model's docs seqs[0, ndocs).
 * Field numbers are mapped to the segment's with tw_segment_field; a field
 * missing from the segment is a failure (it gets a high sentinel number so
 * that sorting still works). */
static void oracle_build(oracle *o, const model *m, const size_t *seqs, uint32_t ndocs, const tw_segment *s,
                         tw_analyzer *an) {
    memset(o, 0, sizeof *o);
    o->ndocs = ndocs;
    for (uint32_t d = 0; d < ndocs; d++) {
        const gdoc *g = &m->docs[seqs[d]];
        json_error_t je;
        json_t *doc = json_loadb(g->line, g->len, 0, &je);
        CHECK(doc && json_is_object(doc), "generated doc %zu does not parse: %s", seqs[d], je.text);
        if (!doc) continue;
        const char *key;
        json_t *v;
        json_object_foreach(doc, key, v) {
            if (strcmp(key, "id") == 0 || !*key) continue;
            int any = json_is_string(v);
            for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++)
                any |= json_is_string(json_array_get(v, i));
            if (!any) continue;
            an_ctx x = {o, oracle_field(o, key), d, 0};
            uint32_t base = 0;
            size_t n = json_is_array(v) ? json_array_size(v) : 1;
            for (size_t i = 0; i < n; i++) {
                json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
                if (!json_is_string(e)) continue;
                uint32_t used = 0;
                int rc = tw_analyze(an, json_string_value(e), json_string_length(e), base, 1, on_token, &x, &used);
                CHECK(rc == 0, "tw_analyze: %d", rc);
                base += used + ARRAY_POSITION_GAP;
            }
            o->doclen[(size_t)x.field * ndocs + d] += x.count;
        }
        json_decref(doc);
    }
    o->local = xmalloc((o->nfields ? o->nfields : 1) * sizeof *o->local);
    for (uint32_t f = 0; f < o->nfields; f++) {
        int lf = tw_segment_field(s, o->fields[f]);
        CHECK(lf >= 0, "%s: field '%s' missing from the segment", s->path, o->fields[f]);
        o->local[f] = lf >= 0 ? (uint32_t)lf : 100000 + f;
    }
    uint32_t *ids = xmalloc((o->terms.n ? o->terms.n : 1) * sizeof *ids);
    for (uint32_t i = 0; i < o->terms.n; i++) ids[i] = i;
    sort_terms_ctx = &o->terms;
    qsort(ids, o->terms.n, sizeof *ids, cmp_term_ids);
    o->rank = xmalloc((o->terms.n ? o->terms.n : 1) * sizeof *o->rank);
    for (uint32_t i = 0; i < o->terms.n; i++) o->rank[ids[i]] = i;
    free(ids);
    sort_posts_ctx = o;
    qsort(o->p, o->n, sizeof *o->p, cmp_posts);
    o->gstart = xmalloc((o->n ? o->n : 1) * sizeof *o->gstart);
    o->gcount = xmalloc((o->n ? o->n : 1) * sizeof *o->gcount);
    o->gdf = xmalloc((o->n ? o->n : 1) * sizeof *o->gdf);
    for (size_t i = 0; i < o->n;) {
        size_t j = i;
        uint32_t df = 0;
        while (j < o->n && o->p[j].term == o->p[i].term) {
            if (j == i || o->p[j].doc != o->p[j - 1].doc) df++;
            if (j == i || o->p[j].doc != o->p[j - 1].doc || o->p[j].field != o->p[j - 1].field) o->npostings++;
            j++;
        }
        o->gstart[o->ngroups] = i;
        o->gcount[o->ngroups] = j - i;
        o->gdf[o->ngroups++] = df;
        i = j;
    }
}

static void oracle_free(oracle *o) {
    interner_free(&o->terms);
    free(o->rank);
    free(o->p);
    for (uint32_t f = 0; f < o->nfields; f++) free(o->fields[f]);
    free(o->fields);
    free(o->local);
    free(o->doclen);
    free(o->gstart);
    free(o->gcount);
    free(o->gdf);
}

static const char *gterm(const oracle *o, size_t g, size_t *len) {
    const post *p = &o->p[o->gstart[g]];
    *len = o->terms.len[p->term];
    return o->terms.s[p->term];
}

static int cmp_bytes(const char *a, size_t la, const char *b, size_t lb) {
    int c = memcmp(a, b, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

/* Index of the term's group in the oracle, or -1. */
static long oracle_find(const oracle *o, const char *term, size_t len) {
    size_t lo = 0, hi = o->ngroups;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, ml;
        const char *t = gterm(o, mid, &ml);
        int c = cmp_bytes(t, ml, term, len);
        if (c < 0)
            lo = mid + 1;
        else if (c > 0)
            hi = mid;
        else
            return (long)mid;
    }
    return -1;
}

/* Documents of group g with the term in segment field f (TW_ANY_FIELD: in any). */
static uint32_t group_df(const oracle *o, size_t g, uint32_t f) {
    if (f == TW_ANY_FIELD) return o->gdf[g];
    const post *p = &o->p[o->gstart[g]];
    uint32_t df = 0, last = TW_DOC_END;
    for (size_t k = 0; k < o->gcount[g]; k++)
        if (o->local[p[k].field] == f && p[k].doc != last) {
            df++;
            last = p[k].doc;
        }
    return df;
}

/* ---- checking one segment against the oracle ---------------------------- */

/* Which shapes of the format the checked data exercised. */
typedef struct coverage {
    size_t bitmaps, inline_lists; /* doc lists as Roaring bitmaps / varint gaps */
    size_t multi_block;           /* lists of more than one 128-doc block */
    size_t multi_field;           /* records of a term in two or more fields */
    size_t tf_gt1;                /* records with some tf > 1 */
    size_t dict_blocks, store_blocks, segments;
} coverage;

/* Walks a posting list opened with a whole-record ref (field < 0) or narrowed
 * to segment field `field`, comparing docs, ranks, tfs and positions with the
 * oracle's group g. */
static void check_list(const tw_segment *s, const oracle *o, size_t g, const tw_postings *pl, long field) {
    size_t tl;
    const char *term = gterm(o, g, &tl);
    const post *p = &o->p[o->gstart[g]];
    size_t k = 0, end = o->gcount[g];
    uint32_t rank = 0, pos[4096], listed = 0;
    tw_piter it;
    tw_piter_init(&it, pl);
    while (k < end) {
        uint32_t doc = p[k].doc;
        size_t dend = k;
        while (dend < end && p[dend].doc == doc) dend++;
        /* This doc's posts, by segment field: [k, dend). */
        uint32_t tf_all = (uint32_t)(dend - k), tf_field = 0;
        for (size_t i = k; i < dend; i++) tf_field += field >= 0 && o->local[p[i].field] == (uint32_t)field;
        if (field >= 0 && tf_field == 0) { /* a filtered iterator skips this doc */
            k = dend;
            rank++;
            continue;
        }
        if (it.doc != doc || it.rank != rank) {
            CHECK(0, "%s: term '%s' (field %ld): posting is doc %u rank %u, expected doc %u rank %u", s->path, term,
                  field, it.doc, it.rank, doc, rank);
            return;
        }
        listed++;
        uint32_t want = field >= 0 ? tf_field : tf_all, got = tw_postings_tf(pl, rank);
        CHECK(got == want, "%s: term '%s' (field %ld) doc %u: tf %u, expected %u", s->path, term, field, doc, got,
              want);
        for (uint32_t fi = 0; fi < pl->nf; fi++) {
            uint32_t lf = pl->f[fi].field;
            size_t a = k;
            while (a < dend && o->local[p[a].field] != lf) a++;
            size_t b = a;
            while (b < dend && o->local[p[b].field] == lf) b++;
            uint32_t ftf = tw_pfield_tf(&pl->f[fi], rank);
            CHECK(ftf == b - a, "%s: term '%s' doc %u field %u: tf %u, expected %zu", s->path, term, doc, lf, ftf,
                  b - a);
            if (ftf != b - a || ftf == 0 || ftf > 4096) continue;
            int n = tw_postings_positions(pl, fi, rank, pos, 4096);
            CHECK(n == (int)ftf, "%s: term '%s' doc %u field %u: %d positions, expected %u", s->path, term, doc, lf, n,
                  ftf);
            for (uint32_t i = 0; n == (int)ftf && i < ftf; i++)
                if (pos[i] != p[a + i].pos) {
                    CHECK(0, "%s: term '%s' doc %u field %u: position %u is %u, expected %u", s->path, term, doc, lf, i,
                          pos[i], p[a + i].pos);
                    break;
                }
        }
        k = dend;
        rank++;
        tw_piter_next(&it);
    }
    CHECK(it.doc == TW_DOC_END, "%s: term '%s' (field %ld): list goes on past %u docs (doc %u)", s->path, term, field,
          listed, it.doc);
    /* Seeking from a fresh iterator to every listed doc (a sample of them
     * from their successor too) lands on it with the right rank. */
    rank = 0;
    for (size_t a = 0; a < end; rank++) {
        uint32_t doc = p[a].doc, has = field < 0;
        size_t b = a;
        while (b < end && p[b].doc == doc) has |= o->local[p[b++].field] == (uint32_t)field;
        size_t c = b;
        uint32_t next = TW_DOC_END;
        for (; c < end; c++)
            if (field < 0 || o->local[p[c].field] == (uint32_t)field) {
                next = p[c].doc;
                break;
            }
        tw_piter sit;
        tw_piter_init(&sit, pl);
        uint32_t got = tw_piter_seek(&sit, doc);
        if (has)
            CHECK(got == doc && sit.rank == rank,
                  "%s: term '%s' (field %ld): seek(%u) gave %u rank %u, expected rank %u", s->path, term, field, doc,
                  got, sit.rank, rank);
        else
            CHECK(got == next, "%s: term '%s' (field %ld): seek(%u) gave %u, expected %u", s->path, term, field, doc,
                  got, next);
        if (rank % 5 == 0) {
            got = tw_piter_seek(&sit, doc + 1);
            CHECK(got == next, "%s: term '%s' (field %ld): seek(%u) gave %u, expected %u", s->path, term, field,
                  doc + 1, got, next);
        }
        a = b;
    }
}

/* Checks the record of group g found by the dictionary walk (ref), then the
 * same term narrowed to each of its fields through tw_segment_lookup. */
static void check_record(const tw_segment *s, const oracle *o, size_t g, const tw_term_ref *ref, coverage *cov) {
    size_t tl;
    const char *term = gterm(o, g, &tl);
    char err[512] = "";
    tw_postings pl;
    int rc = tw_postings_open(s, ref, 1, &pl, err, sizeof err);
    CHECK(rc == 0, "%s: postings of '%s': %s", s->path, term, err);
    if (rc) return;
    rc = tw_postings_check(&pl, err, sizeof err);
    CHECK(rc == 0, "%s: tw_postings_check of '%s': %s", s->path, term, err);
    CHECK(pl.df == o->gdf[g], "%s: term '%s': record df %u, expected %u", s->path, term, pl.df, o->gdf[g]);
    /* The record's fields: ascending, exactly those the term occurs in. */
    uint32_t want[64], nwant = 0;
    const post *p = &o->p[o->gstart[g]];
    for (size_t k = 0; k < o->gcount[g]; k++) {
        uint32_t lf = o->local[p[k].field], i = 0;
        while (i < nwant && want[i] != lf) i++;
        if (i == nwant && nwant < 64) want[nwant++] = lf;
    }
    for (uint32_t i = 1; i < nwant; i++)
        for (uint32_t j = i; j > 0 && want[j - 1] > want[j]; j--) {
            uint32_t t = want[j];
            want[j] = want[j - 1];
            want[j - 1] = t;
        }
    CHECK(pl.nf == nwant, "%s: term '%s': record has %u fields, expected %u", s->path, term, pl.nf, nwant);
    for (uint32_t i = 0; i < pl.nf && i < nwant; i++) {
        CHECK(pl.f[i].field == want[i] && pl.f[i].df == group_df(o, g, want[i]),
              "%s: term '%s': record field %u is %u (df %u), expected %u (df %u)", s->path, term, i, pl.f[i].field,
              pl.f[i].df, want[i], group_df(o, g, want[i]));
    }
    if (pl.nf == nwant) check_list(s, o, g, &pl, -1);
    cov->bitmaps += (pl.flags & TW_PF_BITMAP) != 0;
    cov->inline_lists += (pl.flags & TW_PF_BITMAP) == 0;
    cov->multi_block += pl.df > TW_BLOCK;
    cov->multi_field += pl.nf > 1;
    cov->tf_gt1 += o->gcount[g] > pl.df;
    tw_postings_close(&pl);

    for (uint32_t i = 0; i < nwant; i++) {
        tw_term_ref fr;
        rc = tw_segment_lookup(s, want[i], term, tl, &fr, err, sizeof err);
        uint32_t df = group_df(o, g, want[i]);
        CHECK(rc == 1 && fr.field == want[i] && fr.df == df && fr.rec_off == ref->rec_off,
              "%s: lookup('%s', field %u): rc %d field %u df %u, expected df %u (%s)", s->path, term, want[i], rc,
              rc == 1 ? fr.field : 0, rc == 1 ? fr.df : 0, df, err);
        if (rc != 1) continue;
        rc = tw_postings_open(s, &fr, 1, &pl, err, sizeof err);
        CHECK(rc == 0, "%s: postings of '%s' in field %u: %s", s->path, term, want[i], err);
        if (rc) continue;
        CHECK(pl.filter >= 0 && pl.f[pl.filter].field == want[i], "%s: '%s' narrowed to field %u: filter %d", s->path,
              term, want[i], pl.filter);
        check_list(s, o, g, &pl, (long)want[i]);
        tw_postings_close(&pl);
    }
}

typedef struct walk_ctx {
    const oracle *o;
    const tw_segment *s;
    size_t next;       /* next expected group */
    tw_term_ref *refs; /* ref of each group as the dictionary gives it */
    int bad;
    coverage *cov;
} walk_ctx;

static int each_cb(void *c, const char *term, size_t tl, const tw_term_ref *ref) {
    walk_ctx *x = c;
    if (x->next >= x->o->ngroups) {
        CHECK(0, "%s: dictionary has an extra term '%.*s'", x->s->path, (int)tl, term);
        x->bad = 1;
        return 1;
    }
    size_t el;
    const char *et = gterm(x->o, x->next, &el);
    if (cmp_bytes(et, el, term, tl) != 0) {
        CHECK(0, "%s: dictionary term %zu is '%.*s', expected '%s'", x->s->path, x->next, (int)tl, term, et);
        x->bad = 1;
        return 1;
    }
    CHECK(ref->df == x->o->gdf[x->next] && ref->field == TW_ANY_FIELD, "%s: term '%s' df %u field %u, expected df %u",
          x->s->path, et, ref->df, ref->field, x->o->gdf[x->next]);
    x->refs[x->next] = *ref;
    check_record(x->s, x->o, x->next, ref, x->cov);
    x->next++;
    return 0;
}

typedef struct prefix_hit {
    char term[300];
    size_t len;
    tw_term_ref ref;
} prefix_hit;

typedef struct prefix_col {
    prefix_hit *h;
    size_t n, cap;
    size_t stop_after; /* return 7 after this many hits; 0 = never */
} prefix_col;

static int prefix_cb(void *c, const char *term, size_t len, const tw_term_ref *ref) {
    prefix_col *x = c;
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 256;
        x->h = xrealloc(x->h, x->cap * sizeof *x->h);
    }
    prefix_hit *h = &x->h[x->n++];
    h->len = len < sizeof h->term ? len : sizeof h->term - 1;
    memcpy(h->term, term, h->len);
    h->ref = *ref;
    return x->stop_after && x->n >= x->stop_after ? 7 : 0;
}

/* tw_segment_prefix(f, prefix) against the oracle's terms (f: segment field
 * or TW_ANY_FIELD). */
static void check_prefix(const tw_segment *s, const oracle *o, const tw_term_ref *refs, uint32_t f, const char *prefix,
                         size_t plen) {
    prefix_col col = {0};
    char err[512] = "";
    int rc = tw_segment_prefix(s, f, prefix, plen, prefix_cb, &col, err, sizeof err);
    CHECK(rc == 0, "%s: prefix '%.*s' field %u: rc %d %s", s->path, (int)plen, prefix, f, rc, err);
    size_t k = 0;
    for (size_t g = 0; g < o->ngroups; g++) {
        size_t tl;
        const char *t = gterm(o, g, &tl);
        uint32_t df;
        if (tl < plen || memcmp(t, prefix, plen) != 0 || (df = group_df(o, g, f)) == 0) continue;
        if (k >= col.n) {
            CHECK(0, "%s: prefix '%.*s' field %u: missing term '%s'", s->path, (int)plen, prefix, f, t);
            break;
        }
        const prefix_hit *h = &col.h[k];
        CHECK(h->len == tl && memcmp(h->term, t, tl) == 0 && h->ref.df == df && h->ref.field == f &&
                  h->ref.rec_off == refs[g].rec_off && h->ref.rec_len == refs[g].rec_len,
              "%s: prefix '%.*s' field %u: hit %zu is '%.*s' (df %u field %u), expected '%s' (df %u)", s->path,
              (int)plen, prefix, f, k, (int)h->len, h->term, h->ref.df, h->ref.field, t, df);
        k++;
    }
    CHECK(k == col.n, "%s: prefix '%.*s' field %u: %zu hits, expected %zu", s->path, (int)plen, prefix, f, col.n, k);
    /* Stopping early passes the callback's value back. */
    if (k >= 2) {
        col.n = 0;
        col.stop_after = 2;
        rc = tw_segment_prefix(s, f, prefix, plen, prefix_cb, &col, err, sizeof err);
        CHECK(rc == 7 && col.n == 2, "%s: prefix '%.*s' stopped after 2: rc %d, %zu hits", s->path, (int)plen, prefix,
              rc, col.n);
    }
    free(col.h);
}

/* Exact lookups of absent terms: variants of the oracle's terms, checked
 * against the oracle, in every field and in any field. */
static void check_absent(const tw_segment *s, const oracle *o, const tw_term_ref *refs, rng *r) {
    char err[512] = "";
    tw_term_ref ref;
    for (size_t g = 0; g < o->ngroups; g += 3) {
        size_t tl;
        const char *t = gterm(o, g, &tl);
        char v[300];
        for (int k = 0; k < 5; k++) {
            size_t vl = tl;
            memcpy(v, t, tl);
            if (k == 0)
                v[vl++] = 'q';
            else if (k == 1 && vl > 1)
                vl--;
            else if (k == 2)
                v[vl - 1] = (char)(v[vl - 1] + 1);
            else if (k == 3)
                v[vl++] = '\0';
            else {
                vl = 1 + below(r, 6);
                for (size_t i = 0; i < vl; i++) v[i] = (char)('a' + below(r, 26));
            }
            long want = oracle_find(o, v, vl);
            uint32_t f = k == 4 ? TW_ANY_FIELD : (uint32_t)below(r, s->nfields);
            int expect = want >= 0 && group_df(o, (size_t)want, f) > 0;
            int rc = tw_segment_lookup(s, f, v, vl, &ref, err, sizeof err);
            CHECK(rc == expect, "%s: lookup('%.*s', field %u): rc %d, expected %d", s->path, (int)vl, v, f, rc, expect);
            if (rc == 1 && expect)
                CHECK(ref.rec_off == refs[want].rec_off, "%s: lookup('%.*s') found the wrong record", s->path, (int)vl,
                      v);
        }
    }
    /* Terms that cannot exist: empty, over-long, unknown fields, bytes above every term. */
    char big[300];
    memset(big, 'a', sizeof big);
    CHECK(tw_segment_lookup(s, TW_ANY_FIELD, "", 0, &ref, err, sizeof err) == 0, "empty term found");
    CHECK(tw_segment_lookup(s, TW_ANY_FIELD, big, sizeof big, &ref, err, sizeof err) == 0, "300-byte term found");
    CHECK(tw_segment_lookup(s, s->nfields, "the", 3, &ref, err, sizeof err) == 0, "term of field nfields found");
    CHECK(tw_segment_lookup(s, 65535, "the", 3, &ref, err, sizeof err) == 0, "term of field 65535 found");
    CHECK(tw_segment_lookup(s, TW_ANY_FIELD, "\xff\xff\xff", 3, &ref, err, sizeof err) == 0, "term ffffff found");
    CHECK(tw_segment_lookup(s, TW_ANY_FIELD, "\x01", 1, &ref, err, sizeof err) == 0, "term 01 found");
}

static size_t check_segment(const trawl_index *idx, uint32_t si, const model *m, unsigned char *covered,
                            tw_analyzer *an, rng *r, coverage *cov) {
    const tw_segment *s = idx->view.segs[si].seg;
    const roaring_bitmap_t *del = idx->view.segs[si].deleted;
    char err[512] = "";
    CHECK(strcmp(s->lang, m->lang) == 0, "%s: language '%s', expected '%s'", s->path, s->lang, m->lang);
    CHECK(s->ndocs > 0, "%s: empty segment in the manifest", s->path);
    if (s->ndocs == 0) return 0;
    /* Doc 0's "seq" says where the segment starts in the add order. */
    char *json;
    size_t jl;
    int rc = tw_segment_stored(s, 0, &json, &jl, err, sizeof err);
    CHECK(rc == 0, "%s: stored doc 0: %s", s->path, err);
    if (rc) return 0;
    json_t *d0 = json_loadb(json, jl, 0, NULL);
    free(json);
    json_t *sq = json_object_get(d0, "seq");
    int has_seq = json_is_integer(sq);
    size_t base = has_seq ? (size_t)json_integer_value(sq) : 0;
    json_decref(d0);
    CHECK(has_seq, "%s: doc 0 has no seq", s->path);
    if (!has_seq || base + s->ndocs > m->committed) {
        CHECK(0, "%s: seq %zu + %u docs beyond the %zu committed", s->path, base, s->ndocs, m->committed);
        return 0;
    }
    size_t *seqs = xmalloc(s->ndocs * sizeof *seqs), live = 0;
    for (uint32_t d = 0; d < s->ndocs; d++) {
        size_t q = base + d;
        const gdoc *g = &m->docs[q];
        seqs[d] = q;
        CHECK(!covered[q], "%s: doc %zu is in two segments", s->path, q);
        covered[q] = 1;
        size_t il;
        const char *id = tw_segment_id(s, d, &il);
        CHECK(il == strlen(g->id) && memcmp(id, g->id, il) == 0, "%s: doc %u id '%.*s', expected '%s'", s->path, d,
              (int)il, id, g->id);
        rc = tw_segment_stored(s, d, &json, &jl, err, sizeof err);
        CHECK(rc == 0, "%s: stored doc %u: %s", s->path, d, err);
        if (rc == 0) {
            CHECK(jl == g->tend - g->tstart && memcmp(json, g->line + g->tstart, jl) == 0,
                  "%s: doc %u stored\n  %s\nexpected\n  %.*s", s->path, d, json, (int)(g->tend - g->tstart),
                  g->line + g->tstart);
            free(json);
        }
        int dead = del && roaring_bitmap_contains(del, d);
        CHECK(dead == !is_live(m, q), "%s: doc %u (seq %zu, id '%s') deleted=%d, live in model=%d", s->path, d, q,
              g->id, dead, is_live(m, q));
        live += !dead;
        /* find_id gives the newest copy in this segment. */
        int64_t fd = tw_segment_find_id(s, g->id, strlen(g->id));
        size_t newest = d;
        for (uint32_t e = d + 1; e < s->ndocs; e++)
            if (m->docs[base + e].key == g->key) newest = e;
        CHECK(fd == (int64_t)newest, "%s: find_id('%s') = %lld, expected %zu", s->path, g->id, (long long)fd, newest);
    }
    CHECK(!del || roaring_bitmap_get_cardinality(del) == s->ndocs - live, "%s: deletion bitmap holds %llu", s->path,
          (unsigned long long)(del ? roaring_bitmap_get_cardinality(del) : 0));
    CHECK(live > 0, "%s: a segment without live documents stays in the manifest", s->path);

    oracle o;
    oracle_build(&o, m, seqs, s->ndocs, s, an);
    free(seqs);
    CHECK(s->nfields == o.nfields, "%s: %u fields, expected %u", s->path, s->nfields, o.nfields);
    for (uint32_t f = 0; f < o.nfields; f++) {
        uint32_t lf = o.local[f];
        if (lf >= s->nfields) continue;
        uint32_t docs = 0;
        uint64_t tokens = 0;
        for (uint32_t d = 0; d < s->ndocs; d++) {
            uint32_t want = o.doclen[(size_t)f * s->ndocs + d], got = tw_segment_doclen(s, lf, d);
            if (got != want) {
                CHECK(0, "%s: field '%s' doc %u length %u, expected %u", s->path, o.fields[f], d, got, want);
                break;
            }
            docs += want > 0;
            tokens += want;
        }
        CHECK(s->fields[lf].docs == docs && s->fields[lf].tokens == tokens,
              "%s: field '%s' stats docs %u tokens %llu, expected %u %llu", s->path, o.fields[f], s->fields[lf].docs,
              (unsigned long long)s->fields[lf].tokens, docs, (unsigned long long)tokens);
    }
    CHECK(s->nterms == o.ngroups, "%s: %llu terms, expected %zu", s->path, (unsigned long long)s->nterms, o.ngroups);
    CHECK(s->npostings == o.npostings, "%s: npostings %llu, expected %llu", s->path, (unsigned long long)s->npostings,
          (unsigned long long)o.npostings);

    walk_ctx w = {&o, s, 0, xmalloc((o.ngroups ? o.ngroups : 1) * sizeof(tw_term_ref)), 0, cov};
    cov->dict_blocks += s->nblocks;
    cov->store_blocks += s->store_nblocks;
    cov->segments++;
    rc = tw_segment_each_term(s, each_cb, &w, err, sizeof err);
    CHECK(rc == 0 || w.bad, "%s: each_term: %d %s", s->path, rc, err);
    CHECK(w.bad || w.next == o.ngroups, "%s: dictionary has %zu terms, expected %zu", s->path, w.next, o.ngroups);
    if (!w.bad) {
        check_absent(s, &o, w.refs, r);
        for (uint32_t f = 0; f <= s->nfields; f++) {
            uint32_t fl = f == s->nfields ? TW_ANY_FIELD : f;
            check_prefix(s, &o, w.refs, fl, "", 0);
            check_prefix(s, &o, w.refs, fl, "\xff", 1);
            check_prefix(s, &o, w.refs, fl, "\x01", 1);
            check_prefix(s, &o, w.refs, fl, "zzzzzzzz", 8);
        }
        for (size_t g = 0; g < o.ngroups; g += 1 + below(r, 40)) {
            size_t tl;
            const char *t = gterm(&o, g, &tl);
            uint32_t f = below(r, 3) == 0 ? TW_ANY_FIELD : o.local[o.p[o.gstart[g]].field];
            check_prefix(s, &o, w.refs, f, t, 1);
            check_prefix(s, &o, w.refs, f, t, tl < 3 ? tl : 3);
            check_prefix(s, &o, w.refs, f, t, tl);
            char v[300];
            memcpy(v, t, tl);
            v[tl] = '~';
            check_prefix(s, &o, w.refs, f, v, tl + 1);
        }
    }
    free(w.refs);
    oracle_free(&o);
    return live;
}

/* ---- whole-index checks --------------------------------------------------- */

/* Everything about the index in dir after m's last commit. expect_segments is
 * the number of segments the manifest must name, or -1 to skip that check. */
static void verify_index(const char *dir, const model *m, long expect_segments, uint64_t seed, coverage *cov) {
    coverage scratch;
    if (!cov) cov = &scratch;
    memset(cov, 0, sizeof *cov);
    trawl_index *idx = NULL;
    char *msg = NULL;
    int rc = trawl_index_open(dir, &idx, &msg);
    CHECK(rc == TRAWL_OK, "open %s: %s", dir, msg ? msg : "");
    trawl_free(msg);
    if (rc) return;
    size_t live = live_count(m);
    CHECK(trawl_index_doc_count(idx) == live, "doc_count %llu, expected %zu",
          (unsigned long long)trawl_index_doc_count(idx), live);
    if (expect_segments >= 0)
        CHECK(idx->view.nsegs == (uint32_t)expect_segments, "%u segments, expected %ld", idx->view.nsegs,
              expect_segments);
    CHECK(strcmp(idx->view.lang, m->lang) == 0, "index language '%s', expected '%s'", idx->view.lang, m->lang);

    /* Every live document through the public API. */
    for (size_t k = 0; k < m->nkeys; k++) {
        char id[96];
        id_for((unsigned)k, id, sizeof id);
        char *json = NULL;
        rc = trawl_index_get(idx, id, &json);
        if (m->latest[k] == SIZE_MAX) {
            CHECK(rc == TRAWL_ENOTFOUND && json == NULL, "get('%s') of an id never added: rc %d", id, rc);
            trawl_free(json);
            continue;
        }
        const gdoc *g = &m->docs[m->latest[k]];
        CHECK(rc == TRAWL_OK && json, "get('%s'): %s", id, trawl_strerror(rc));
        if (rc || !json) continue;
        size_t tl = g->tend - g->tstart;
        CHECK(strlen(json) == tl && memcmp(json, g->line + g->tstart, tl) == 0,
              "get('%s') bytes\n  %s\nexpected\n  %.*s", id, json, (int)tl, g->line + g->tstart);
        json_t *a = json_loads(json, 0, NULL), *b = json_loadb(g->line, g->len, 0, NULL);
        CHECK(a && b && json_equal(a, b), "get('%s') is not the same JSON value as the line added", id);
        json_decref(a);
        json_decref(b);
        trawl_free(json);
    }
    static const char *const unknown[] = {"", "doc-", "nope", "DOC-0", "doc-0 ", " doc-0", "\xff", "doc-00"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        char *json = (char *)1;
        rc = trawl_index_get(idx, unknown[i], &json);
        CHECK(rc == TRAWL_ENOTFOUND && json == NULL, "get('%s'): rc %d", unknown[i], rc);
    }

    /* Internals: every segment against the oracle. */
    tw_analyzer *an = NULL;
    CHECK(tw_analyzer_new(m->lang, &an) == 0, "analyzer '%s'", m->lang);
    unsigned char *covered = calloc(m->n ? m->n : 1, 1);
    rng r = {seed};
    size_t live_in_segs = 0, deleted = 0;
    for (uint32_t i = 0; i < idx->view.nsegs; i++) {
        size_t l = check_segment(idx, i, m, covered, an, &r, cov);
        live_in_segs += l;
        deleted += idx->view.segs[i].seg->ndocs - l;
    }
    CHECK(live_in_segs == live, "segments hold %zu live docs, expected %zu", live_in_segs, live);
    for (size_t q = 0; q < m->committed; q++)
        if (is_live(m, q)) CHECK(covered[q], "live doc seq %zu ('%s') is in no segment", q, m->docs[q].id);
    free(covered);
    tw_analyzer_free(an);

    char *stats = NULL;
    rc = trawl_index_stats(idx, &stats);
    CHECK(rc == TRAWL_OK && stats, "stats: %d", rc);
    json_t *js = stats ? json_loads(stats, 0, NULL) : NULL;
    CHECK(js != NULL, "stats is not JSON: %s", stats ? stats : "(null)");
    if (js) {
        json_t *docs = json_object_get(js, "documents"), *segs = json_object_get(js, "segments"),
               *dl = json_object_get(js, "deleted");
        CHECK(json_is_integer(docs) && (size_t)json_integer_value(docs) == live, "stats documents %lld, expected %zu",
              (long long)json_integer_value(docs), live);
        CHECK(json_is_integer(segs) && json_integer_value(segs) == (json_int_t)idx->view.nsegs,
              "stats segments %lld, expected %u", (long long)json_integer_value(segs), idx->view.nsegs);
        CHECK(json_is_integer(dl) && (size_t)json_integer_value(dl) == deleted, "stats deleted %lld, expected %zu",
              (long long)json_integer_value(dl), deleted);
        json_decref(js);
    }
    trawl_free(stats);
    trawl_index_close(idx);

    char *report = NULL;
    rc = trawl_index_check(dir, &report);
    CHECK(rc == TRAWL_OK, "check %s: %s\n%s", dir, trawl_strerror(rc), report ? report : "");
    trawl_free(report);
}

/* ---- directories ----------------------------------------------------------- */

/* The directory's entries, sorted and joined with '\n' (malloc'd). */
static char *listing(const char *dir) {
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            names = xrealloc(names, (n + 1) * sizeof *names);
            names[n++] = strdup(e->d_name);
        }
        closedir(d);
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: few names */
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    sbuf b = {0};
    sb_puts(&b, "");
    for (size_t i = 0; i < n; i++) {
        sb_puts(&b, names[i]);
        sb_puts(&b, "\n");
        free(names[i]);
    }
    free(names);
    return b.p;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    sbuf b = {0};
    char tmp[65536];
    size_t k;
    sb_puts(&b, "");
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) sb_putn(&b, tmp, k);
    fclose(f);
    *len = b.len;
    return b.p;
}

/* out = root/name (exits if it does not fit). */
static void subdir(char *out, size_t cap, const char *root, const char *name) {
    int n = snprintf(out, cap, "%s/%s", root, name);
    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "path too long\n");
        exit(2);
    }
}

/* A writer on dir; ram_mb > 0 sets its memory budget (else the default). */
static trawl_writer *open_writer_ram(const char *dir, const char *lang, size_t ram_mb) {
    trawl_writer *w = NULL;
    char *msg = NULL;
    trawl_open_options *o = trawl_open_options_new();
    if (!o || (ram_mb && trawl_open_options_set_ram_mb(o, ram_mb) != TRAWL_OK)) exit(1);
    int rc = trawl_writer_open_v2(dir, lang, o, &w, &msg);
    trawl_open_options_free(o);
    CHECK(rc == TRAWL_OK && w, "writer_open %s (%s): %s", dir, lang ? lang : "NULL", msg ? msg : "");
    trawl_free(msg);
    if (!w) exit(1);
    /* The model follows segments commit by commit: no merging behind it
     * (merges have their own tests, test_merge and test_mergepolicy). */
    trawl_writer_set_auto_merge(w, 0);
    return w;
}

static trawl_writer *open_writer(const char *dir, const char *lang) {
    return open_writer_ram(dir, lang, 0);
}

static void commit(trawl_writer *w, model *m) {
    int rc = trawl_writer_commit(w);
    CHECK(rc == TRAWL_OK, "commit: %s (%s)", trawl_strerror(rc), trawl_writer_errmsg(w));
    CHECK(trawl_writer_pending(w) == 0, "pending %llu after commit", (unsigned long long)trawl_writer_pending(w));
    model_commit(m);
}

/* ---- scenarios --------------------------------------------------------------- */

/* Several commits of one segment each, with replacements across and within
 * commits, and a commit whose segment is later entirely replaced. */
static void scenario_commits(const char *root) {
    char dir[4096];
    subdir(dir, sizeof dir, root, "main");
    model m = {0};
    m.lang = "english";
    rng r = {0x5eed0001};
    trawl_writer *w = open_writer(dir, "english");
    long segs = 0;

    /* 1: 1500 new documents. */
    for (unsigned k = 0; k < 1500; k++) model_add(&m, &r, k);
    write_docs(w, &m, 0, m.n);
    CHECK(trawl_writer_pending(w) == 1500, "pending %llu", (unsigned long long)trawl_writer_pending(w));
    commit(w, &m);
    verify_index(dir, &m, ++segs, 11, NULL);

    /* 2: 500 new, 300 re-added from commit 1, and ids repeated inside the commit. */
    size_t from = m.n;
    for (unsigned k = 1500; k < 2000; k++) model_add(&m, &r, k);
    for (int i = 0; i < 300; i++) model_add(&m, &r, (unsigned)below(&r, 1500));
    for (int i = 0; i < 40; i++) model_add(&m, &r, 1500 + (unsigned)below(&r, 500));
    write_docs(w, &m, from, m.n);
    commit(w, &m);
    verify_index(dir, &m, ++segs, 12, NULL);

    /* 3: re-adds from both earlier commits, some new. */
    from = m.n;
    for (int i = 0; i < 600; i++) model_add(&m, &r, (unsigned)below(&r, 2200));
    write_docs(w, &m, from, m.n);
    commit(w, &m);
    verify_index(dir, &m, ++segs, 13, NULL);
    trawl_writer_close(w);

    /* 4 and 5 (a new writer, language taken from the index): 20 new ids, then
     * all 20 again, so segment 4 leaves the manifest. */
    w = open_writer(dir, NULL);
    from = m.n;
    for (unsigned k = 5000; k < 5020; k++) model_add(&m, &r, k);
    write_docs(w, &m, from, m.n);
    commit(w, &m);
    verify_index(dir, &m, ++segs, 14, NULL);
    from = m.n;
    for (unsigned k = 5000; k < 5020; k++) model_add(&m, &r, k);
    write_docs(w, &m, from, m.n);
    commit(w, &m);
    verify_index(dir, &m, segs, 15, NULL); /* one segment in, one out */

    /* A commit with nothing added changes nothing. */
    char *man1, *man2;
    size_t l1, l2;
    char mp[4200];
    snprintf(mp, sizeof mp, "%s/MANIFEST", dir);
    man1 = slurp(mp, &l1);
    commit(w, &m);
    man2 = slurp(mp, &l2);
    CHECK(man1 && man2 && l1 == l2 && memcmp(man1, man2, l1) == 0, "an empty commit changed the manifest");
    free(man1);
    free(man2);

    /* A second writer is refused while this one is open; another language too. */
    trawl_writer *w2 = (trawl_writer *)1;
    char *msg = NULL;
    int rc = trawl_writer_open(dir, NULL, &w2, &msg);
    CHECK(rc == TRAWL_ELOCKED && w2 == NULL && msg && *msg, "second writer: rc %d msg %s", rc, msg ? msg : "(null)");
    trawl_free(msg);
    trawl_writer_close(w);
    static const char *const other[] = {"french", "none", "german"};
    for (size_t i = 0; i < 3; i++) {
        w2 = (trawl_writer *)1;
        msg = NULL;
        rc = trawl_writer_open(dir, other[i], &w2, &msg);
        CHECK(rc == TRAWL_EINVAL && w2 == NULL && msg && strstr(msg, "english"),
              "writer with lang %s on an english index: rc %d msg %s", other[i], rc, msg ? msg : "(null)");
        trawl_free(msg);
    }
    w2 = open_writer(dir, "english");

    /* Closed without commit: the commit stays, and no file is left behind,
     * even segments flushed along the way (1 MB budget). */
    trawl_writer_close(w2);
    char *before = listing(dir);
    man1 = slurp(mp, &l1);
    w2 = open_writer_ram(dir, NULL, 1);
    model scratch = {0};
    scratch.lang = "english";
    rng r2 = {77};
    for (unsigned k = 0; k < 3000; k++) model_add(&scratch, &r2, k);
    write_docs(w2, &scratch, 0, scratch.n);
    char *during = listing(dir);
    CHECK(strcmp(during, before) != 0, "a 1 MB budget wrote no segment during 3000 adds:\n%s", during);
    free(during);
    trawl_writer_close(w2);
    char *after = listing(dir);
    man2 = slurp(mp, &l2);
    CHECK(strcmp(before, after) == 0, "files before\n%safter a writer closed without commit\n%s", before, after);
    CHECK(man1 && man2 && l1 == l2 && memcmp(man1, man2, l1) == 0, "the manifest changed without a commit");
    free(before);
    free(after);
    free(man1);
    free(man2);
    model_free(&scratch);
    coverage cov;
    verify_index(dir, &m, segs, 16, &cov);
    printf("checked %zu segments: %zu bitmap and %zu inline lists, %zu of several 128-doc blocks, %zu in several "
           "fields, %zu with tf > 1; %zu dictionary and %zu store blocks\n",
           cov.segments, cov.bitmaps, cov.inline_lists, cov.multi_block, cov.multi_field, cov.tf_gt1, cov.dict_blocks,
           cov.store_blocks);
    CHECK(cov.bitmaps && cov.inline_lists && cov.multi_block && cov.multi_field && cov.tf_gt1 &&
              cov.dict_blocks > cov.segments && cov.store_blocks > cov.segments,
          "the data does not exercise every shape of the format");
    model_free(&m);
}

/* A 1 MB budget makes commits of several segments; language "none". */
static void scenario_flushes(const char *root) {
    char dir[4096];
    subdir(dir, sizeof dir, root, "flush");
    model m = {0};
    m.lang = "none";
    rng r = {0x5eed0002};
    trawl_writer *w = open_writer_ram(dir, "none", 1);
    for (unsigned k = 0; k < 2500; k++) model_add(&m, &r, k);
    for (int i = 0; i < 500; i++) /* replaced across flushed segments of one commit */
        model_add(&m, &r, (unsigned)below(&r, 2500));
    write_docs(w, &m, 0, m.n);
    commit(w, &m);
    verify_index(dir, &m, -1, 21, NULL);
    trawl_index *idx = NULL;
    if (trawl_index_open(dir, &idx, NULL) == TRAWL_OK) {
        CHECK(idx->view.nsegs >= 2, "a 1 MB budget gave %u segment(s)", idx->view.nsegs);
        trawl_index_close(idx);
    }
    size_t from = m.n;
    for (int i = 0; i < 1500; i++) model_add(&m, &r, (unsigned)below(&r, 3000));
    write_docs(w, &m, from, m.n);
    commit(w, &m);
    verify_index(dir, &m, -1, 22, NULL);
    trawl_writer_close(w);
    model_free(&m);
}

/* A commit without documents gives a valid empty index. */
static void scenario_empty(const char *root) {
    char dir[4096];
    subdir(dir, sizeof dir, root, "empty");
    trawl_writer *w = open_writer(dir, NULL);
    int rc = trawl_writer_commit(w);
    CHECK(rc == TRAWL_OK, "empty commit: %s", trawl_writer_errmsg(w));
    trawl_writer_close(w);
    trawl_index *idx = NULL;
    char *msg = NULL;
    rc = trawl_index_open(dir, &idx, &msg);
    CHECK(rc == TRAWL_OK, "open empty index: %s", msg ? msg : "");
    trawl_free(msg);
    if (idx) {
        CHECK(trawl_index_doc_count(idx) == 0, "empty index has %llu docs",
              (unsigned long long)trawl_index_doc_count(idx));
        char *json = NULL;
        CHECK(trawl_index_get(idx, "x", &json) == TRAWL_ENOTFOUND, "get in an empty index");
        char *stats = NULL;
        CHECK(trawl_index_stats(idx, &stats) == TRAWL_OK, "stats of an empty index");
        json_t *js = stats ? json_loads(stats, 0, NULL) : NULL;
        CHECK(js && json_integer_value(json_object_get(js, "documents")) == 0 &&
                  json_integer_value(json_object_get(js, "segments")) == 0 &&
                  strcmp(json_string_value(json_object_get(js, "language")), "english") == 0,
              "stats of an empty index: %s", stats ? stats : "(null)");
        json_decref(js);
        trawl_free(stats);
        trawl_results *res = NULL;
        rc = trawl_search(idx, "anything", NULL, &res);
        CHECK(rc == TRAWL_OK && trawl_results_total(res) == 0, "search in an empty index: rc %d", rc);
        trawl_results_free(res);
        trawl_index_close(idx);
    }
    char *report = NULL;
    rc = trawl_index_check(dir, &report);
    CHECK(rc == TRAWL_OK, "check of an empty index: %s", report ? report : "");
    trawl_free(report);
    /* Documents added after it and committed are found. */
    model m = {0};
    m.lang = "english";
    rng r = {3};
    w = open_writer(dir, "english");
    for (unsigned k = 0; k < 50; k++) model_add(&m, &r, k);
    write_docs(w, &m, 0, m.n);
    commit(w, &m);
    trawl_writer_close(w);
    verify_index(dir, &m, 1, 31, NULL);
    model_free(&m);

    /* Unknown language for a new index. */
    subdir(dir, sizeof dir, root, "klingon");
    trawl_writer *w2 = (trawl_writer *)1;
    msg = NULL;
    rc = trawl_writer_open(dir, "klingon", &w2, &msg);
    CHECK(rc == TRAWL_EINVAL && w2 == NULL, "unknown language: rc %d %s", rc, msg ? msg : "");
    trawl_free(msg);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    char root[4096];
    snprintf(root, sizeof root, "%s/trawl-format-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        fprintf(stderr, "mkdtemp %s: %s\n", root, strerror(errno));
        return 1;
    }
    scenario_empty(root);
    scenario_commits(root);
    scenario_flushes(root);
    if (failures == 0)
        rm_rf(root);
    else
        fprintf(stderr, "index directories kept in %s\n", root);
    printf("test_format: %s (%d failure(s))\n", failures ? "FAIL" : "ok", failures);
    return failures ? 1 : 0;
}
