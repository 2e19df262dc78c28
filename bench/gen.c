/*
 * gen.c — trawl-bench's deterministic synthetic corpus and query generator.
 *
 *   gen N OUT.jsonl [SEED]             N documents {"id","title","body"}, streamed
 *   genq CORPUS.jsonl|SEED OUT_DIR [N] and.txt, or.txt, phrase.txt (1,000 each)
 *
 * Corpus model. Words are drawn from a Zipfian distribution (exponent 1.05)
 * over a vocabulary of 1,000,000 ranks, sampled in O(1) with Walker's alias
 * method. Document i depends only on (SEED, i), so the first M documents are
 * the same for every N >= M and genq can regenerate any document from the seed.
 * Body lengths are log-normal (median 80 words, sigma 1.0, capped at 20,000;
 * mean about 130 words, ~0.9 KB a document, close to the real `mixed` corpus),
 * titles 2-12 words; text is split into capitalised sentences of 4-24 words with
 * commas and paragraph breaks.
 *
 * Spelling. Rank r is spelled bijectively as consonant-vowel syllables plus a
 * final k, p or b: the 255 most frequent words have 3 letters, the next 21,675
 * have 5, the rest 7 — all lowercase ASCII, no 'y'. No suffix that Porter's or
 * Snowball English's stemmer removes ends in k, p or b, so every stemmer
 * involved (trawl's and Xapian's Snowball English, FTS5's porter) leaves every
 * generated word as it is, and the engines see identical terms.
 *
 * Queries. genq samples up to 4,000 documents (reservoir sampling of a corpus
 * file, or documents regenerated from SEED over [0, N), N default 1,000). Words
 * of more than 10% of the sampled documents, and English stopwords, are not
 * content words. and.txt / or.txt: 2-4 distinct content words of one sampled
 * title, in title order. phrase.txt: 2-3 consecutive content words of one
 * sampled body, so every phrase occurs in the corpus. Queries are distinct.
 * half.txt: single words in 35%..65% of the sampled documents (closest to half
 * first, at most 100), for the analytics workloads on large result sets.
 *
 * Dated documents (gen --dated). The same title and body as the undated
 * document i (so the two corpora share their words), plus "date" (ISO 8601,
 * UTC, 2010-01-01..2025-12-31, density rising linearly to three times the
 * first day's at the end), "source" ("Source 000".."Source 299", Zipf 1.1: the
 * first has ~20%), "author" ("a0000".."a1999", Zipf 0.8), "tags" (1-5 distinct
 * of "t0000".."t9999", Zipf 1.0), drawn from the stream (SEED, i) of their
 * own. Keyword values contain digits, so no query word from genq (letters
 * only) matches them as text. Twelve topics rise and fall over time (table
 * gen_topics, printed by `trawl-bench topics`): a document about topic k has
 * its first word at the end of the title, a sentence of 2-4 of its words at
 * the end of the body, and the tag t99KK.
 */
#include "bench.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define GEN_VOCAB 1000000u
#define GEN_ZIPF_S 1.05
#define GEN_BODY_MEDIAN 80.0
#define GEN_BODY_SIGMA 1.0
#define GEN_BODY_MAX 20000u
#define GEN_DEFAULT_SEED 42u
#define GENQ_SAMPLE 4000u
#define GENQ_PER_CLASS 1000u
#define GENQ_STOP_DF 0.10
#define GENQ_HALF_MAX 100u
#define GEN_WORD_MAX 16

/* ---- random numbers ------------------------------------------------------ */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Seeds a xoshiro256** state from two 64-bit values. */
static void rng_seed(rng *r, uint64_t a, uint64_t b) {
    uint64_t x = a ^ (b * 0xd1342543de82ef95u);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform double in [0, 1). */
static double rng_unit(rng *r) {
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [lo, hi]. */
static uint64_t rng_range(rng *r, uint64_t lo, uint64_t hi) {
    return lo + (uint64_t)(rng_unit(r) * (double)(hi - lo + 1));
}

/* Standard normal (Box-Muller). */
static double rng_normal(rng *r) {
    double u = rng_unit(r), v = rng_unit(r);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* ---- the Zipfian vocabulary --------------------------------------------- */

/* Walker's alias table over GEN_VOCAB ranks. */
typedef struct zipf {
    double *prob; /* acceptance probability of each slot */
    uint32_t *alias;
} zipf;

static void zipf_free(zipf *z) {
    free(z->prob);
    free(z->alias);
    z->prob = NULL;
    z->alias = NULL;
}

/* Builds the alias table (Vose's method). Returns 0 or -1 when out of memory. */
static int zipf_init(zipf *z) {
    size_t n = GEN_VOCAB;
    z->prob = malloc(n * sizeof *z->prob);
    z->alias = malloc(n * sizeof *z->alias);
    uint32_t *small = malloc(n * sizeof *small), *large = malloc(n * sizeof *large);
    if (!z->prob || !z->alias || !small || !large) {
        free(small);
        free(large);
        zipf_free(z);
        return -1;
    }
    double h = 0;
    for (size_t i = 0; i < n; i++) h += pow((double)(i + 1), -GEN_ZIPF_S);
    size_t ns = 0, nl = 0;
    for (size_t i = 0; i < n; i++) {
        z->prob[i] = pow((double)(i + 1), -GEN_ZIPF_S) / h * (double)n;
        z->alias[i] = (uint32_t)i;
        if (z->prob[i] < 1.0)
            small[ns++] = (uint32_t)i;
        else
            large[nl++] = (uint32_t)i;
    }
    while (ns > 0 && nl > 0) {
        uint32_t s = small[--ns], l = large[nl - 1];
        z->alias[s] = l;
        z->prob[l] -= 1.0 - z->prob[s];
        if (z->prob[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    while (nl > 0) z->prob[large[--nl]] = 1.0;
    while (ns > 0) z->prob[small[--ns]] = 1.0;
    free(small);
    free(large);
    return 0;
}

static uint32_t zipf_draw(const zipf *z, rng *r) {
    uint64_t x = rng_next(r);
    uint32_t slot = (uint32_t)(((x >> 32) * GEN_VOCAB) >> 32);
    double u = (double)(x & 0xffffffffu) * (1.0 / 4294967296.0);
    return u < z->prob[slot] ? slot : z->alias[slot];
}

static const char consonants[] = "bdfghjklmnprstvwz"; /* 17 */
static const char vowels[] = "aeiou";                 /* 5 */
static const char finals[] = "kpb";                   /* 3 */
enum { NSYL = 17 * 5 };

/* Spells rank r into buf (at least GEN_WORD_MAX bytes); returns its length. */
static size_t spell(uint32_t r, char *buf) {
    uint64_t nsyl = 1, rest = r;
    uint64_t block = (uint64_t)NSYL * 3;
    while (rest >= block) {
        rest -= block;
        block *= NSYL;
        nsyl++;
    }
    size_t len = 0;
    uint32_t fin = (uint32_t)(rest % 3);
    rest /= 3;
    for (uint64_t i = 0; i < nsyl; i++) {
        uint32_t syl = (uint32_t)(rest % NSYL);
        rest /= NSYL;
        buf[len++] = consonants[syl / 5];
        buf[len++] = vowels[syl % 5];
    }
    buf[len++] = finals[fin];
    return len;
}

/* ---- documents ---------------------------------------------------------- */

/* A growable text buffer. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static int sb_reserve(sbuf *b, size_t extra) {
    if (b->len + extra <= b->cap) return 0;
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap < b->len + extra) ncap *= 2;
    char *np = realloc(b->p, ncap);
    if (!np) return -1;
    b->p = np;
    b->cap = ncap;
    return 0;
}

/* Appends n words of running text to b: plain words separated by spaces, or
 * with `sentences`, capitalised sentences of 4-24 words with occasional commas,
 * grouped 2-6 to a paragraph. Returns 0 or -1 (OOM). */
static int gen_text(const zipf *z, rng *r, size_t n, int sentences, sbuf *b) {
    if (sb_reserve(b, n * (GEN_WORD_MAX + 3) + 4) != 0) return -1;
    size_t left = 0, par_left = 0; /* words left in the sentence, sentences in the paragraph */
    for (size_t i = 0; i < n; i++) {
        char w[GEN_WORD_MAX];
        size_t wl = spell(zipf_draw(z, r), w);
        if (sentences && left == 0) {
            if (i > 0) {
                b->p[b->len++] = '.';
                if (par_left == 0) {
                    b->p[b->len++] = '\n';
                    b->p[b->len++] = '\n';
                } else {
                    b->p[b->len++] = ' ';
                }
            }
            if (par_left == 0) par_left = (size_t)rng_range(r, 2, 6);
            par_left--;
            left = (size_t)rng_range(r, 4, 24);
            w[0] = (char)(w[0] - 'a' + 'A');
        } else if (i > 0) {
            if (sentences && rng_unit(r) < 0.06) b->p[b->len++] = ',';
            b->p[b->len++] = ' ';
        }
        memcpy(b->p + b->len, w, wl);
        b->len += wl;
        if (left > 0) left--;
    }
    if (sentences && n > 0) b->p[b->len++] = '.';
    return 0;
}

/* Generates document i of the corpus with seed into title and body (reset first). */
static int gen_doc(const zipf *z, uint64_t seed, uint64_t i, sbuf *title, sbuf *body) {
    rng r;
    rng_seed(&r, seed, i + 1);
    title->len = body->len = 0;
    size_t tn = (size_t)rng_range(&r, 2, 12);
    double l = exp(log(GEN_BODY_MEDIAN) + GEN_BODY_SIGMA * rng_normal(&r));
    size_t bn = l < 1 ? 1 : l > GEN_BODY_MAX ? GEN_BODY_MAX : (size_t)l;
    if (gen_text(z, &r, tn, 0, title) != 0 || gen_text(z, &r, bn, 1, body) != 0) return -1;
    return 0;
}

/* ---- dated documents (gen --dated) -------------------------------------- */

/* Days since 1970-01-01 of the civil date y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The civil date of day z since 1970-01-01. */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

/* Formats epoch seconds t (>= 0) as YYYY-MM-DDThh:mm:ssZ into buf (>= 21 bytes). */
static void fmt_iso(int64_t t, char *buf, size_t cap) {
    int64_t days = t / 86400, s = t % 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, cap, "%04d-%02u-%02uT%02d:%02d:%02dZ", y, m, d, (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
}

/* A topic planted in the dated corpus: its share of the documents of day t is
 * GEN_TOPIC_BASE + peak * exp(-((t - center) / sigma)^2 / 2). A document about
 * the topic gets the topic's first word appended to its title, a sentence of
 * 2-4 of the topic's words appended to its body, and the topic's tag. */
typedef struct gen_topic {
    const char *center; /* YYYY-MM-DD */
    double sigma_days;
    double peak;
} gen_topic;

/* The planted bursts (fixed: the same for every seed; `trawl-bench topics`
 * prints them with their words and tags). */
static const gen_topic gen_topics[] = {
    {"2010-04-01", 300, 0.05}, /* 0: falling from the start */
    {"2012-06-15", 60, 0.05},  /* 1: spike */
    {"2014-01-01", 365, 0.03}, /* 2: slow wave */
    {"2016-03-01", 30, 0.08},  /* 3: sharp spike */
    {"2017-09-01", 180, 0.04}, /* 4 */
    {"2019-01-15", 90, 0.06},  /* 5 */
    {"2020-04-01", 45, 0.10},  /* 6: sharp, high spike */
    {"2021-06-01", 400, 0.02}, /* 7: broad and low */
    {"2022-11-15", 120, 0.05}, /* 8 */
    {"2023-06-01", 30, 0.07},  /* 9: spike */
    {"2024-09-01", 240, 0.04}, /* 10 */
    {"2025-10-01", 200, 0.06}, /* 11: still rising at the end */
};
#define GEN_NTOPICS (sizeof gen_topics / sizeof gen_topics[0])
#define GEN_TOPIC_WORDS 4
#define GEN_TOPIC_BASE 0.0005
/* Topic words are vocabulary ranks far in the tail (each occurs by chance in
 * about one document in 10^5). */
#define GEN_TOPIC_RANK0 900000u
/* Vocabulary rank of word j of topic k (spread out so that topics' words do
 * not look alike). */
static uint32_t topic_rank(size_t k, size_t j) {
    return GEN_TOPIC_RANK0 + (uint32_t)(k * GEN_TOPIC_WORDS + j) * 1543u;
}
/* Topic k's tag is t99KK (so tags t9900..t9911 belong to the topics). */
#define GEN_TOPIC_TAG0 9900u

#define GEN_DATE_FIRST_YEAR 2010
#define GEN_DATE_YEARS 16 /* 2010-01-01 .. 2025-12-31 */
#define GEN_NSOURCES 300
#define GEN_NTAGS 10000
#define GEN_NAUTHORS 2000
#define GEN_TAGS_MAX 5

/* A small Zipfian law over n values by its cumulative table (binary search). */
typedef struct zsmall {
    double *cdf;
    size_t n;
} zsmall;

static int zsmall_init(zsmall *z, size_t n, double s) {
    z->n = n;
    z->cdf = malloc(n * sizeof *z->cdf);
    if (!z->cdf) return -1;
    double acc = 0;
    for (size_t i = 0; i < n; i++) z->cdf[i] = acc += pow((double)(i + 1), -s);
    for (size_t i = 0; i < n; i++) z->cdf[i] /= acc;
    return 0;
}

static size_t zsmall_draw(const zsmall *z, rng *r) {
    double u = rng_unit(r);
    size_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (z->cdf[mid] <= u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Everything the dated generator needs besides the word law. */
typedef struct dated {
    zsmall sources, tags, authors;
    int64_t first, span; /* epoch seconds of the first day, seconds covered */
    int64_t center[GEN_NTOPICS];
} dated;

static void dated_free(dated *d) {
    free(d->sources.cdf);
    free(d->tags.cdf);
    free(d->authors.cdf);
    memset(d, 0, sizeof *d);
}

/* Parses the gen_topics center "YYYY-MM-DD" into epoch seconds. */
static int64_t ymd_epoch(const char *s) {
    int y = atoi(s);
    unsigned m = (unsigned)atoi(s + 5), d = (unsigned)atoi(s + 8);
    return days_from_civil(y, m, d) * 86400;
}

static int dated_init(dated *d) {
    memset(d, 0, sizeof *d);
    if (zsmall_init(&d->sources, GEN_NSOURCES, 1.1) != 0 || zsmall_init(&d->tags, GEN_NTAGS, 1.0) != 0 ||
        zsmall_init(&d->authors, GEN_NAUTHORS, 0.8) != 0) {
        dated_free(d);
        return -1;
    }
    d->first = days_from_civil(GEN_DATE_FIRST_YEAR, 1, 1) * 86400;
    d->span = days_from_civil(GEN_DATE_FIRST_YEAR + GEN_DATE_YEARS, 1, 1) * 86400 - d->first;
    for (size_t k = 0; k < GEN_NTOPICS; k++) d->center[k] = ymd_epoch(gen_topics[k].center);
    return 0;
}

/* The metadata of one dated document. */
typedef struct dmeta {
    int64_t date;
    unsigned source, author;
    unsigned tags[GEN_TAGS_MAX + 1];
    size_t ntags;
    int topic; /* -1 when about no planted topic */
} dmeta;

/* Draws document i's metadata from its own stream (seed, i): the title and
 * body drawn by gen_doc are those of the undated corpus. The date has density
 * rising linearly over the span (3x more documents at the end than at the
 * start): x = (sqrt(1 + 8u) - 1) / 2 inverts F(x) = (x + x^2) / 2. */
static void dated_meta(const dated *dd, uint64_t seed, uint64_t i, dmeta *m) {
    rng r;
    rng_seed(&r, seed ^ 0x5eedda7eu, i + 1);
    double u = rng_unit(&r);
    double x = (sqrt(1.0 + 8.0 * u) - 1.0) / 2.0;
    m->date = dd->first + (int64_t)(x * (double)dd->span);
    if (m->date >= dd->first + dd->span) m->date = dd->first + dd->span - 1;
    m->source = (unsigned)zsmall_draw(&dd->sources, &r);
    m->author = (unsigned)zsmall_draw(&dd->authors, &r);
    size_t want = (size_t)rng_range(&r, 1, GEN_TAGS_MAX);
    m->ntags = 0;
    for (size_t tries = 0; m->ntags < want && tries < 50; tries++) {
        unsigned t = (unsigned)zsmall_draw(&dd->tags, &r);
        int dup = 0;
        for (size_t j = 0; j < m->ntags; j++) dup |= m->tags[j] == t;
        if (!dup) m->tags[m->ntags++] = t;
    }
    /* At most one topic: the first k (in table order) whose share draw hits. */
    m->topic = -1;
    for (size_t k = 0; k < GEN_NTOPICS && m->topic < 0; k++) {
        double z = (double)(m->date - dd->center[k]) / (86400.0 * gen_topics[k].sigma_days);
        double share = GEN_TOPIC_BASE + gen_topics[k].peak * exp(-0.5 * z * z);
        if (rng_unit(&r) < share) m->topic = (int)k;
    }
    if (m->topic >= 0) {
        unsigned tt = GEN_TOPIC_TAG0 + (unsigned)m->topic;
        int dup = 0;
        for (size_t j = 0; j < m->ntags; j++) dup |= m->tags[j] == tt;
        if (!dup) m->tags[m->ntags++] = tt;
    }
}

/* Appends topic k's words to title (its first word) and body (a sentence of 2-4
 * of its words, drawn from r). Returns 0 or -1 (OOM). */
static int plant_topic(int k, rng *r, sbuf *title, sbuf *body) {
    char w[GEN_WORD_MAX];
    if (sb_reserve(title, GEN_WORD_MAX + 2) != 0) return -1;
    size_t wl = spell(topic_rank((size_t)k, 0), w);
    if (title->len) title->p[title->len++] = ' ';
    memcpy(title->p + title->len, w, wl);
    title->len += wl;
    size_t n = (size_t)rng_range(r, 2, 4);
    if (sb_reserve(body, n * (GEN_WORD_MAX + 1) + 4) != 0) return -1;
    if (body->len) body->p[body->len++] = ' ';
    for (size_t j = 0; j < n; j++) {
        wl = spell(topic_rank((size_t)k, (size_t)rng_range(r, 0, GEN_TOPIC_WORDS - 1)), w);
        if (j == 0) w[0] = (char)(w[0] - 'a' + 'A');
        if (j) body->p[body->len++] = ' ';
        memcpy(body->p + body->len, w, wl);
        body->len += wl;
    }
    body->p[body->len++] = '.';
    return 0;
}

/* Parses a seed or count argument. */
static int parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') return -1;
    *out = v;
    return 0;
}

static void json_text(FILE *f, const sbuf *b) {
    fputc('"', f);
    for (size_t i = 0; i < b->len; i++) {
        if (b->p[i] == '\n')
            fputs("\\n", f);
        else
            fputc(b->p[i], f);
    }
    fputc('"', f);
}

/* Writes the dated fields of document i (date, source, author, tags) as JSON
 * members followed by a comma. */
static void write_meta(FILE *f, const dmeta *m) {
    char date[32];
    fmt_iso(m->date, date, sizeof date);
    fprintf(f, "\"date\":\"%s\",\"source\":\"Source %03u\",\"author\":\"a%04u\",\"tags\":[", date, m->source,
            m->author);
    for (size_t j = 0; j < m->ntags; j++) fprintf(f, "%s\"t%04u\"", j ? "," : "", m->tags[j]);
    fputs("],", f);
}

int bench_cmd_gen(int argc, char **argv) {
    uint64_t n, seed = GEN_DEFAULT_SEED;
    int dated_mode = 0, out = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--dated") == 0)
            dated_mode = 1;
        else
            argv[out++] = argv[i];
    }
    argc = out;
    if (argc < 2 || argc > 3 || parse_u64(argv[0], &n) != 0 || (argc == 3 && parse_u64(argv[2], &seed) != 0)) {
        fputs("usage: trawl-bench gen [--dated] N OUT.jsonl [SEED]\n", stderr);
        return 2;
    }
    FILE *f = strcmp(argv[1], "-") == 0 ? stdout : fopen(argv[1], "w");
    if (!f) {
        fprintf(stderr, "trawl-bench: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    char *obuf = f != stdout ? malloc(1 << 20) : NULL;
    if (obuf) setvbuf(f, obuf, _IOFBF, 1 << 20);
    zipf z = {NULL, NULL};
    dated dd;
    memset(&dd, 0, sizeof dd);
    sbuf title = {NULL, 0, 0}, body = {NULL, 0, 0};
    int rc = 0;
    if (zipf_init(&z) != 0 || (dated_mode && dated_init(&dd) != 0)) rc = -1;
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        if (gen_doc(&z, seed, i, &title, &body) != 0) {
            rc = -1;
            break;
        }
        fprintf(f, "{\"id\":\"g%llu\",", (unsigned long long)i);
        if (dated_mode) {
            dmeta m;
            dated_meta(&dd, seed, i, &m);
            if (m.topic >= 0) {
                rng r;
                rng_seed(&r, seed ^ 0x7091c5u, i + 1);
                if (plant_topic(m.topic, &r, &title, &body) != 0) {
                    rc = -1;
                    break;
                }
            }
            write_meta(f, &m);
        }
        fputs("\"title\":", f);
        json_text(f, &title);
        fputs(",\"body\":", f);
        json_text(f, &body);
        fputs("}\n", f);
        if (ferror(f)) rc = -2;
    }
    if (rc == -1) fputs("trawl-bench: out of memory\n", stderr);
    if (f != stdout ? fclose(f) != 0 : fflush(f) != 0) rc = -2;
    if (rc == -2) fprintf(stderr, "trawl-bench: %s: write error\n", argv[1]);
    free(obuf);
    zipf_free(&z);
    dated_free(&dd);
    free(title.p);
    free(body.p);
    return rc == 0 ? 0 : 1;
}

int bench_cmd_topics(int argc, char **argv) {
    (void)argv;
    if (argc != 0) {
        fputs("usage: trawl-bench topics\n", stderr);
        return 2;
    }
    for (size_t k = 0; k < GEN_NTOPICS; k++) {
        printf("{\"topic\":%zu,\"center\":\"%s\",\"sigma_days\":%.0f,\"peak_share\":%.3f,\"tag\":\"t%04u\",\"words\":[",
               k, gen_topics[k].center, gen_topics[k].sigma_days, gen_topics[k].peak, GEN_TOPIC_TAG0 + (unsigned)k);
        for (unsigned j = 0; j < GEN_TOPIC_WORDS; j++) {
            char w[GEN_WORD_MAX + 1];
            size_t wl = spell(topic_rank(k, j), w);
            w[wl] = '\0';
            printf("%s\"%s\"", j ? "," : "", w);
        }
        printf("]}\n");
    }
    return 0;
}

/* ---- queries ------------------------------------------------------------ */

/* English stopwords (for real corpora; generated words never collide). */
static const char *const stopwords[] = {
    "a",     "about", "above",  "after", "again", "against", "all",     "also",   "am",    "an",     "and",
    "any",   "are",   "as",     "at",    "be",    "because", "been",    "before", "being", "below",  "between",
    "both",  "but",   "by",     "can",   "could", "did",     "do",      "does",   "doing", "down",   "during",
    "each",  "etc",   "few",    "for",   "from",  "further", "had",     "has",    "have",  "having", "he",
    "her",   "here",  "hers",   "him",   "his",   "how",     "i",       "if",     "in",    "into",   "is",
    "it",    "its",   "just",   "me",    "more",  "most",    "my",      "no",     "nor",   "not",    "now",
    "of",    "off",   "on",     "once",  "only",  "or",      "other",   "our",    "out",   "over",   "own",
    "same",  "she",   "should", "so",    "some",  "such",    "than",    "that",   "the",   "their",  "them",
    "then",  "there", "these",  "they",  "this",  "those",   "through", "to",     "too",   "under",  "until",
    "up",    "use",   "used",   "very",  "via",   "was",     "we",      "were",   "what",  "when",   "where",
    "which", "while", "who",    "whom",  "why",   "will",    "with",    "would",  "you",   "your",   NULL};

/* A sampled document: its title and body split into lowercase words. */
typedef struct sdoc {
    char **tw, **bw;
    size_t ntw, nbw;
} sdoc;

static void sdoc_free(sdoc *d) {
    for (size_t i = 0; i < d->ntw; i++) free(d->tw[i]);
    for (size_t i = 0; i < d->nbw; i++) free(d->bw[i]);
    free(d->tw);
    free(d->bw);
    memset(d, 0, sizeof *d);
}

static int wbyte(unsigned char c) {
    return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Splits s[0..len) into lowercased words (*out, *n). Returns 0 or -1 (OOM). */
static int split(const char *s, size_t len, char ***out, size_t *n) {
    size_t cap = 0, i = 0;
    *out = NULL;
    *n = 0;
    while (i < len) {
        while (i < len && !wbyte((unsigned char)s[i])) i++;
        size_t st = i;
        while (i < len && wbyte((unsigned char)s[i])) i++;
        if (i == st) break;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nw = realloc(*out, cap * sizeof *nw);
            if (!nw) return -1;
            *out = nw;
        }
        char *w = malloc(i - st + 1);
        if (!w) return -1;
        for (size_t j = st; j < i; j++) w[j - st] = (s[j] >= 'A' && s[j] <= 'Z') ? (char)(s[j] | 0x20) : s[j];
        w[i - st] = '\0';
        (*out)[(*n)++] = w;
    }
    return 0;
}

static int sdoc_make(sdoc *d, const char *t, size_t tl, const char *b, size_t bl) {
    memset(d, 0, sizeof *d);
    if (split(t, tl, &d->tw, &d->ntw) != 0 || split(b, bl, &d->bw, &d->nbw) != 0) {
        sdoc_free(d);
        return -1;
    }
    return 0;
}

/* A string set (open addressing) used for document frequencies and for
 * de-duplicating queries. */
typedef struct sset {
    char **key;
    uint32_t *val;
    size_t n, cap;
} sset;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* Returns the slot of key, inserting it (copied, value 0) if absent; NULL on OOM. */
static uint32_t *sset_get(sset *s, const char *key, int *inserted) {
    if (inserted) *inserted = 0;
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        char **nk = calloc(ncap, sizeof *nk);
        uint32_t *nv = calloc(ncap, sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return NULL;
        }
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->key[i]) continue;
            size_t j = hash_str(s->key[i]) & (ncap - 1);
            while (nk[j]) j = (j + 1) & (ncap - 1);
            nk[j] = s->key[i];
            nv[j] = s->val[i];
        }
        free(s->key);
        free(s->val);
        s->key = nk;
        s->val = nv;
        s->cap = ncap;
    }
    size_t j = hash_str(key) & (s->cap - 1);
    while (s->key[j]) {
        if (strcmp(s->key[j], key) == 0) return &s->val[j];
        j = (j + 1) & (s->cap - 1);
    }
    s->key[j] = strdup(key);
    if (!s->key[j]) return NULL;
    s->n++;
    if (inserted) *inserted = 1;
    return &s->val[j];
}

static void sset_free(sset *s) {
    for (size_t i = 0; i < s->cap; i++) free(s->key[i]);
    free(s->key);
    free(s->val);
    memset(s, 0, sizeof *s);
}

typedef struct sample {
    sdoc *d;
    size_t n;
    sset df;          /* word -> number of sampled documents containing it */
    uint32_t stop_df; /* words with df above this are not content words */
} sample;

/* Is w a content word: ASCII letters/digits with a letter, 2+ chars, not a
 * stopword, not too frequent in the sample. */
static int content_word(sample *s, const char *w) {
    size_t len = strlen(w);
    int letter = 0;
    if (len < 2) return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c >= 'a' && c <= 'z')
            letter = 1;
        else if (!(c >= '0' && c <= '9'))
            return 0;
    }
    if (!letter) return 0;
    for (size_t i = 0; stopwords[i]; i++)
        if (strcmp(stopwords[i], w) == 0) return 0;
    uint32_t *df = sset_get(&s->df, w, NULL);
    return df && *df <= s->stop_df;
}

/* Counts document frequencies over the sample. */
static int sample_df(sample *s) {
    sset seen = {NULL, NULL, 0, 0};
    for (size_t i = 0; i < s->n; i++) {
        sset_free(&seen);
        sdoc *d = &s->d[i];
        for (int part = 0; part < 2; part++) {
            char **w = part ? d->bw : d->tw;
            size_t nw = part ? d->nbw : d->ntw;
            for (size_t j = 0; j < nw; j++) {
                int ins;
                if (!sset_get(&seen, w[j], &ins)) goto oom;
                if (ins) {
                    uint32_t *v = sset_get(&s->df, w[j], NULL);
                    if (!v) goto oom;
                    (*v)++;
                }
            }
        }
    }
    sset_free(&seen);
    s->stop_df = (uint32_t)(GENQ_STOP_DF * (double)s->n);
    return 0;
oom:
    sset_free(&seen);
    return -1;
}

typedef struct rs_ctx {
    sample *s;
    rng r;
    uint64_t seen;
    size_t cap;
} rs_ctx;

/* Reservoir sampling of corpus documents. */
static int rs_doc(void *vctx, const bench_doc *d, char *err, size_t errlen) {
    rs_ctx *c = vctx;
    uint64_t i = c->seen++;
    size_t slot;
    if (i < c->cap) {
        slot = c->s->n++;
    } else {
        uint64_t j = rng_range(&c->r, 0, i);
        if (j >= c->cap) return 0;
        slot = (size_t)j;
        sdoc_free(&c->s->d[slot]);
    }
    if (sdoc_make(&c->s->d[slot], d->title, d->title_len, d->body, d->body_len) != 0) {
        bench_seterr(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Appends the query words[0..n) joined by spaces to f if new. Returns 1 when
 * written, 0 when a duplicate, -1 on OOM. */
static int emit(FILE *f, sset *seen, char **words, size_t n) {
    size_t len = 1;
    for (size_t i = 0; i < n; i++) len += strlen(words[i]) + 1;
    char *q = malloc(len), *p = q;
    if (!q) return -1;
    for (size_t i = 0; i < n; i++) {
        if (i) *p++ = ' ';
        size_t l = strlen(words[i]);
        memcpy(p, words[i], l);
        p += l;
    }
    *p = '\0';
    int ins;
    if (!sset_get(seen, q, &ins)) {
        free(q);
        return -1;
    }
    if (ins) fprintf(f, "%s\n", q);
    free(q);
    return ins;
}

/* Writes GENQ_PER_CLASS term queries from titles. Returns how many, or -1. */
static long term_queries(sample *s, rng *r, FILE *f) {
    sset seen = {NULL, NULL, 0, 0};
    char **cw = NULL;
    size_t cwcap = 0;
    long out = 0;
    for (uint64_t tries = 0; out < (long)GENQ_PER_CLASS && tries < 200u * GENQ_PER_CLASS && s->n; tries++) {
        sdoc *d = &s->d[rng_range(r, 0, s->n - 1)];
        if (d->ntw > cwcap) {
            char **ncw = realloc(cw, d->ntw * sizeof *ncw);
            if (!ncw) goto oom;
            cw = ncw;
            cwcap = d->ntw;
        }
        size_t m = 0;
        for (size_t i = 0; i < d->ntw; i++) {
            if (!content_word(s, d->tw[i])) continue;
            int dup = 0;
            for (size_t j = 0; j < m; j++) dup |= strcmp(cw[j], d->tw[i]) == 0;
            if (!dup) cw[m++] = d->tw[i];
        }
        if (m < 2) continue;
        size_t want = (size_t)rng_range(r, 2, 4);
        if (want > m) want = m;
        /* Keep `want` of the m words, in order (selection sampling). */
        size_t kept = 0;
        for (size_t i = 0; i < m && kept < want; i++)
            if (rng_unit(r) * (double)(m - i) < (double)(want - kept)) cw[kept++] = cw[i];
        int e = emit(f, &seen, cw, kept);
        if (e < 0) goto oom;
        out += e;
    }
    free(cw);
    sset_free(&seen);
    return out;
oom:
    free(cw);
    sset_free(&seen);
    return -1;
}

/* Writes GENQ_PER_CLASS phrases from bodies. Returns how many, or -1. */
static long phrase_queries(sample *s, rng *r, FILE *f) {
    sset seen = {NULL, NULL, 0, 0};
    long out = 0;
    for (uint64_t tries = 0; out < (long)GENQ_PER_CLASS && tries < 200u * GENQ_PER_CLASS && s->n; tries++) {
        sdoc *d = &s->d[rng_range(r, 0, s->n - 1)];
        size_t n = (size_t)rng_range(r, 2, 3);
        if (d->nbw < n) continue;
        size_t st = (size_t)rng_range(r, 0, d->nbw - n);
        int ok = 1;
        for (size_t i = 0; i < n && ok; i++) ok = content_word(s, d->bw[st + i]);
        if (!ok) continue;
        int e = emit(f, &seen, d->bw + st, n);
        if (e < 0) {
            sset_free(&seen);
            return -1;
        }
        out += e;
    }
    sset_free(&seen);
    return out;
}

/* A word with its sampled document frequency, for half.txt. */
typedef struct wdf {
    const char *w;
    double dist; /* |df / n - 0.5| */
} wdf;

static int cmp_wdf(const void *a, const void *b) {
    const wdf *x = a, *y = b;
    return x->dist < y->dist ? -1 : x->dist > y->dist ? 1 : strcmp(x->w, y->w);
}

/* Writes OUT_DIR/half.txt: one-word queries matching about half the corpus —
 * the words in 35%..65% of the sampled documents, closest to 50% first, at most
 * GENQ_HALF_MAX. Returns 0, or -1 with a message on stderr. */
static int half_queries(sample *s, const char *outdir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/half.txt", outdir);
    wdf *v = malloc((s->df.n ? s->df.n : 1) * sizeof *v);
    if (!v) {
        fputs("trawl-bench: out of memory\n", stderr);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < s->df.cap; i++) {
        if (!s->df.key[i]) continue;
        double share = (double)s->df.val[i] / (double)s->n;
        if (share >= 0.35 && share <= 0.65) v[n++] = (wdf){s->df.key[i], fabs(share - 0.5)};
    }
    qsort(v, n, sizeof *v, cmp_wdf);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "trawl-bench: %s: %s\n", path, strerror(errno));
        free(v);
        return -1;
    }
    size_t out = n < GENQ_HALF_MAX ? n : GENQ_HALF_MAX;
    for (size_t i = 0; i < out; i++) fprintf(f, "%s\n", v[i].w);
    free(v);
    if (fclose(f) != 0) {
        fprintf(stderr, "trawl-bench: %s: write error\n", path);
        return -1;
    }
    printf("%s %zu\n", path, out);
    return 0;
}

int bench_cmd_genq(int argc, char **argv) {
    uint64_t seed = 0, n = 1000;
    struct stat st;
    int from_file = argc >= 2 && stat(argv[0], &st) == 0 && S_ISREG(st.st_mode);
    if (argc < 2 || argc > 3 || (!from_file && parse_u64(argv[0], &seed) != 0) ||
        (argc == 3 && (parse_u64(argv[2], &n) != 0 || n == 0))) {
        fputs("usage: trawl-bench genq CORPUS.jsonl|SEED OUT_DIR [N]\n", stderr);
        return 2;
    }
    const char *outdir = argv[1];
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "trawl-bench: %s: %s\n", outdir, strerror(errno));
        return 1;
    }
    sample s;
    memset(&s, 0, sizeof s);
    s.d = calloc(GENQ_SAMPLE, sizeof *s.d);
    int rc = 1;
    char err[1024] = "";
    zipf z = {NULL, NULL};
    sbuf title = {NULL, 0, 0}, body = {NULL, 0, 0};
    if (!s.d) goto oom;
    if (from_file) {
        rs_ctx c;
        c.s = &s;
        c.seen = 0;
        c.cap = GENQ_SAMPLE;
        rng_seed(&c.r, 20240601u, 1);
        if (bench_corpus_each(argv[0], rs_doc, &c, err, sizeof err) != 0) {
            fprintf(stderr, "trawl-bench: %s\n", err);
            goto done;
        }
    } else {
        if (zipf_init(&z) != 0) goto oom;
        rng r;
        rng_seed(&r, seed, 0xfeedu);
        size_t m = n < GENQ_SAMPLE ? (size_t)n : GENQ_SAMPLE;
        /* m distinct indices out of [0, n), by selection sampling. */
        for (uint64_t i = 0; i < n && s.n < m; i++) {
            if (rng_unit(&r) * (double)(n - i) >= (double)(m - s.n)) continue;
            if (gen_doc(&z, seed, i, &title, &body) != 0) goto oom;
            if (sdoc_make(&s.d[s.n], title.p, title.len, body.p, body.len) != 0) goto oom;
            s.n++;
        }
    }
    if (s.n == 0) {
        fputs("trawl-bench: genq: the corpus is empty\n", stderr);
        goto done;
    }
    if (sample_df(&s) != 0) goto oom;
    if (half_queries(&s, outdir) != 0) goto done;
    static const char *const files[3] = {"and.txt", "or.txt", "phrase.txt"};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", outdir, files[i]);
        FILE *f = fopen(path, "w");
        if (!f) {
            fprintf(stderr, "trawl-bench: %s: %s\n", path, strerror(errno));
            goto done;
        }
        rng r;
        rng_seed(&r, 20240601u + (uint64_t)i + 1, seed);
        long got = i < 2 ? term_queries(&s, &r, f) : phrase_queries(&s, &r, f);
        if (fclose(f) != 0 || got < 0) {
            fprintf(stderr, "trawl-bench: %s: %s\n", path, got < 0 ? "out of memory" : "write error");
            goto done;
        }
        if (got < (long)GENQ_PER_CLASS)
            fprintf(stderr, "trawl-bench: note: %s has only %ld distinct queries\n", path, got);
        printf("%s %ld\n", path, got);
    }
    rc = 0;
    goto done;
oom:
    fputs("trawl-bench: out of memory\n", stderr);
done:
    for (size_t i = 0; i < s.n; i++) sdoc_free(&s.d[i]);
    free(s.d);
    sset_free(&s.df);
    zipf_free(&z);
    free(title.p);
    free(body.p);
    return rc;
}
