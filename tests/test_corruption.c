/*
 * test_corruption.c — robustness of the reader against damaged index files.
 *
 * Builds small real indexes through the public writer, then damages copies of
 * their files and checks that opening fails cleanly, with the right code and a
 * message naming the file (and, for a segment, the section):
 *  (a) every segment truncated to many lengths (every length within 64 bytes
 *      of either end, a sample in between);
 *  (b) a byte flipped at several places in every section, found through the
 *      section table;
 *  (c) every byte of the header, section table and footer flipped;
 *  (d) MANIFEST truncated, flipped, deleted, replaced by garbage with a valid
 *      checksum line, naming missing, foreign or escaping ("../") files;
 *  (e) deletion files flipped, truncated, and re-checksummed with bad bitmaps;
 *  (f) structural damage that passes the checksums: thousands of seeded random
 *      mutations per section (and of the section table), after which every
 *      checksum is recomputed ("resealed"). Then either opening fails cleanly,
 *      or queries (terms, phrases, prefixes, fields, booleans, counts,
 *      snippets), gets, stats and trawl_index_check run — nothing may crash or
 *      hang (an alarm catches hangs; run under ASan too), and if
 *      trawl_index_check finds nothing wrong, every query and get must succeed.
 * A failing mutation is described on stderr (seed, section, iteration, edits)
 * and its segment file kept next to the index for replay.
 * Env: TRAWL_CORRUPT_ITERATIONS (mutations per section, default 1500),
 * TRAWL_CORRUPT_SEED.
 */
#include "segment.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "segtest.h"
#include "testutil.h"
#include "trawl.h"

static int failures;

/* What is being tried now, printed if the process hangs or dies (signal
 * handlers can only reach static storage, hence this mutable static). */
static char hang_desc[2048];

/* ---- PRNG, files ----------------------------------------------------------- */

typedef struct blob {
    uint8_t *p;
    size_t len;
} blob;

static blob slurp(const char *path) {
    blob b = {NULL, 0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b.p = xmalloc((size_t)n);
    b.len = fread(b.p, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void spit(const char *path, const void *p, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(p, 1, len, f) != len) || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
}

static void path_join(char *out, size_t cap, const char *dir, const char *name) {
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "path too long\n");
        exit(2);
    }
}

/* Names in dir ending with suffix, sorted (malloc'd strings, NULL-terminated array). */
static char **list_files(const char *dir, const char *suffix) {
    DIR *d = opendir(dir);
    char **v = xmalloc(sizeof *v);
    size_t n = 0, sl = strlen(suffix);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < sl || strcmp(e->d_name + l - sl, suffix) != 0) continue;
        char **nv = realloc(v, (n + 2) * sizeof *v);
        if (!nv) exit(2);
        v = nv;
        v[n] = xmalloc(l + 1);
        memcpy(v[n++], e->d_name, l + 1);
    }
    if (d) closedir(d);
    v[n] = NULL;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v;
}

static void free_list(char **v) {
    for (size_t i = 0; v[i]; i++) free(v[i]);
    free(v);
}

/* ---- building the indexes ------------------------------------------------- */

static const char *const words[] = {"the",
                                    "the",
                                    "the",
                                    "of",
                                    "and",
                                    "search",
                                    "engine",
                                    "index",
                                    "posting",
                                    "phrase",
                                    "query",
                                    "segment",
                                    "bitmap",
                                    "roaring",
                                    "compression",
                                    "checksum",
                                    "manifest",
                                    "commit",
                                    "writer",
                                    "reader",
                                    "alpha",
                                    "beta",
                                    "gamma",
                                    "delta",
                                    "running",
                                    "runner",
                                    "caf\xc3\xa9",
                                    "na\xc3\xafve",
                                    "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0",
                                    "\xe6\x97\xa5\xe6\x9c\xac",
                                    "x86",
                                    "2024",
                                    "lorem",
                                    "ipsum",
                                    "dolor",
                                    "amet"};
#define NWORDS (sizeof words / sizeof words[0])

static void add_words(rng *r, char *buf, size_t cap, size_t n) {
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n; i++) {
        char syn[32];
        const char *w = words[below(r, NWORDS)];
        if (below(r, 3) == 0) { /* a rarer synthetic word */
            snprintf(syn, sizeof syn, "w%uq%u", (unsigned)below(r, 40), (unsigned)below(r, 7));
            w = syn;
        }
        int k = snprintf(buf + len, cap - len, "%s%s", i ? " " : "", w);
        if (k < 0 || (size_t)k >= cap - len) break;
        len += (size_t)k;
    }
}

/* Document number k with id "d<k>" (version v tells re-added copies apart). */
static char *make_doc(rng *r, unsigned k, unsigned v) {
    char title[256], body[2048], tag[128], idbuf[32];
    add_words(r, title, sizeof title, 2 + below(r, 6));
    add_words(r, body, sizeof body, 10 + below(r, 60));
    add_words(r, tag, sizeof tag, 1 + below(r, 2));
    snprintf(idbuf, sizeof idbuf, "d%u", k);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(idbuf));
    json_object_set_new(o, "title", json_string(title));
    json_object_set_new(o, "body", json_string(body));
    json_object_set_new(o, "tags", json_pack("[s, s, i]", tag, "tag", (int)v));
    json_object_set_new(o, "meta", json_pack("{s:i, s:[s]}", "v", (int)v, "nested", "not indexed"));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s) exit(2);
    return s;
}

/* Adds n docs with ids first..first+n-1 (version v) and commits. */
static void add_commit(const char *dir, rng *r, unsigned first, unsigned n, unsigned v, unsigned stride) {
    trawl_writer *w = NULL;
    char *msg = NULL;
    if (trawl_writer_open(dir, "english", &w, &msg) != TRAWL_OK) {
        fprintf(stderr, "writer_open %s: %s\n", dir, msg ? msg : "");
        exit(2);
    }
    for (unsigned i = 0; i < n; i++) {
        char *doc = make_doc(r, first + i * stride, v);
        int rc = trawl_writer_add_json(w, doc, strlen(doc));
        if (rc) {
            fprintf(stderr, "add_json: %s\n", trawl_writer_errmsg(w));
            exit(2);
        }
        free(doc);
    }
    if (trawl_writer_commit(w) != TRAWL_OK) {
        fprintf(stderr, "commit: %s\n", trawl_writer_errmsg(w));
        exit(2);
    }
    trawl_writer_close(w);
}

/* ---- segment layout, resealing and reassembly ------------------------------- */

static uint64_t ld64(const uint8_t *p) {
    return tw_ld64(p);
}

static void st32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

typedef struct layout {
    uint64_t off[TW_SEC_COUNT], len[TW_SEC_COUNT];
    uint64_t table_off;
} layout;

/* Section offsets and lengths of a well-formed segment (from its table). */
static void get_layout(const blob *b, layout *l) {
    memset(l, 0, sizeof *l);
    l->table_off = ld64(b->p + b->len - TW_FOOTER_SIZE);
    for (unsigned i = 0; i < TW_SEC_COUNT - 1; i++) {
        const uint8_t *e = b->p + l->table_off + (size_t)i * TW_SECTION_ENTRY;
        unsigned id = tw_ld32(e);
        if (id == 0 || id >= TW_SEC_COUNT) {
            fprintf(stderr, "unexpected section id %u\n", id);
            exit(2);
        }
        l->off[id] = ld64(e + 8);
        l->len[id] = ld64(e + 16);
    }
}

/* Builds a sound segment file from 8 section bodies (sec[1..8]): header,
 * 8-aligned sections, table, footer, all checksums right. */
static blob assemble(const blob *sec) {
    size_t size = TW_HEADER_SIZE;
    for (unsigned s = 1; s < TW_SEC_COUNT; s++) size = (size + 7) / 8 * 8 + sec[s].len;
    size = (size + 7) / 8 * 8;
    size_t table_off = size;
    size += (size_t)(TW_SEC_COUNT - 1) * TW_SECTION_ENTRY + TW_FOOTER_SIZE;
    blob b = {xmalloc(size), size};
    memset(b.p, 0, size);
    memcpy(b.p, TW_SEG_MAGIC, 8);
    st32(b.p + 8, TW_FORMAT_VERSION);
    st32(b.p + 12, TW_SEC_COUNT - 1);
    size_t off = TW_HEADER_SIZE;
    for (unsigned s = 1; s < TW_SEC_COUNT; s++) {
        off = (off + 7) / 8 * 8;
        if (sec[s].len) memcpy(b.p + off, sec[s].p, sec[s].len);
        uint8_t *e = b.p + table_off + (size_t)(s - 1) * TW_SECTION_ENTRY;
        st32(e, s);
        st64(e + 8, off);
        st64(e + 16, sec[s].len);
        off += sec[s].len;
    }
    uint8_t *foot = b.p + size - TW_FOOTER_SIZE;
    st64(foot, table_off);
    st32(foot + 8, TW_SEC_COUNT - 1);
    st32(foot + 12, TW_FORMAT_VERSION);
    memcpy(foot + 24, TW_SEG_END_MAGIC, 8);
    reseal(b.p, b.len);
    return b;
}

/* ---- expectations on a damaged index ---------------------------------------- */

/* Opening dir must fail with a code in the set `codes` (bit i = code -i) and
 * a message containing need1 and need2 (either may be NULL); the check must
 * fail too, its report naming need1. `what` describes the damage. */
static void expect_open_fails(const char *dir, unsigned codes, const char *need1, const char *need2, const char *what) {
    snprintf(hang_desc, sizeof hang_desc, "%.*s", (int)(sizeof hang_desc - 1), what);
    trawl_index *idx = NULL;
    char *msg = NULL;
    int rc = trawl_index_open(dir, &idx, &msg);
    CHECK(rc < 0 && (codes >> -rc & 1u) && idx == NULL, "%s: open gave %d (%s), msg %s", what, rc, trawl_strerror(rc),
          msg ? msg : "(null)");
    CHECK(msg && (!need1 || strstr(msg, need1)) && (!need2 || strstr(msg, need2)),
          "%s: message '%s' should name '%s' and '%s'", what, msg ? msg : "(null)", need1 ? need1 : "",
          need2 ? need2 : "");
    trawl_free(msg);
    trawl_index_close(idx);
    char *report = NULL;
    rc = trawl_index_check(dir, &report);
    CHECK(rc != TRAWL_OK && report && (!need1 || strstr(report, need1)), "%s: check gave %d, report %s", what, rc,
          report ? report : "(null)");
    trawl_free(report);
}

#define CODE(c) (1u << -(c))
#define SEG_CODES (CODE(TRAWL_ECORRUPT) | CODE(TRAWL_EIO))

static void expect_sound(const char *dir, const char *what) {
    trawl_index *idx = NULL;
    char *msg = NULL;
    int rc = trawl_index_open(dir, &idx, &msg);
    CHECK(rc == TRAWL_OK, "%s: open: %s", what, msg ? msg : "");
    trawl_free(msg);
    trawl_index_close(idx);
    char *report = NULL;
    rc = trawl_index_check(dir, &report);
    CHECK(rc == TRAWL_OK, "%s: check: %s", what, report ? report : "");
    trawl_free(report);
}

/* ---- (a), (b), (c): segment files ------------------------------------------- */

static void segment_damage(const char *dir, rng *r) {
    char **segs = list_files(dir, ".tws");
    CHECK(segs[0] && segs[1], "expected at least two segments in %s", dir);
    for (size_t i = 0; segs[i]; i++) {
        char path[4096], what[4400];
        path_join(path, sizeof path, dir, segs[i]);
        blob orig = slurp(path);
        layout lay;
        get_layout(&orig, &lay);

        /* (a) truncation */
        size_t ntrunc = 0;
        for (size_t n = 0; n < orig.len; n++) {
            if (n >= 64 && n + 64 < orig.len && below(r, orig.len / 150 + 1) != 0) continue;
            spit(path, orig.p, n);
            snprintf(what, sizeof what, "%s truncated to %zu of %zu bytes", segs[i], n, orig.len);
            expect_open_fails(dir, SEG_CODES, segs[i], NULL, what);
            ntrunc++;
        }
        /* One byte too many at the end, and a doubled file. */
        uint8_t *big = xmalloc(2 * orig.len);
        memcpy(big, orig.p, orig.len);
        memcpy(big + orig.len, orig.p, orig.len);
        spit(path, big, orig.len + 1);
        snprintf(what, sizeof what, "%s with a byte appended", segs[i]);
        expect_open_fails(dir, SEG_CODES, segs[i], NULL, what);
        spit(path, big, 2 * orig.len);
        snprintf(what, sizeof what, "%s doubled", segs[i]);
        expect_open_fails(dir, SEG_CODES, segs[i], NULL, what);
        free(big);

        /* (b) a flipped byte inside each section names the section */
        uint8_t *m = xmalloc(orig.len);
        for (unsigned s = 1; s < TW_SEC_COUNT; s++) {
            if (lay.len[s] == 0) continue;
            char need[64];
            snprintf(need, sizeof need, "%s section", tw_section_name(s));
            size_t at[8] = {0, (size_t)lay.len[s] - 1, (size_t)lay.len[s] / 2};
            for (int k = 3; k < 8; k++) at[k] = below(r, (size_t)lay.len[s]);
            for (int k = 0; k < 8; k++) {
                memcpy(m, orig.p, orig.len);
                uint8_t x = k < 3 ? 0xFF : (uint8_t)(1u << below(r, 8));
                m[lay.off[s] + at[k]] ^= x;
                spit(path, m, orig.len);
                snprintf(what, sizeof what, "%s: %s byte %zu ^= 0x%02x", segs[i], need, at[k], x);
                expect_open_fails(dir, CODE(TRAWL_ECORRUPT), segs[i], need, what);
            }
        }

        /* (c) every byte of header, section table and footer */
        size_t tsize = (size_t)(TW_SEC_COUNT - 1) * TW_SECTION_ENTRY;
        for (size_t k = 0; k < TW_HEADER_SIZE + tsize + TW_FOOTER_SIZE; k++) {
            size_t pos = k < TW_HEADER_SIZE           ? k
                         : k < TW_HEADER_SIZE + tsize ? lay.table_off + k - TW_HEADER_SIZE
                                                      : orig.len - (TW_HEADER_SIZE + tsize + TW_FOOTER_SIZE - k);
            uint8_t x = (uint8_t)(1u << below(r, 8));
            memcpy(m, orig.p, orig.len);
            m[pos] ^= x;
            spit(path, m, orig.len);
            const char *part = k < TW_HEADER_SIZE ? "header" : k < TW_HEADER_SIZE + tsize ? "section table" : "footer";
            snprintf(what, sizeof what, "%s: %s byte %zu (file offset %zu) ^= 0x%02x", segs[i], part,
                     k < TW_HEADER_SIZE           ? k
                     : k < TW_HEADER_SIZE + tsize ? k - TW_HEADER_SIZE
                                                  : pos - (orig.len - TW_FOOTER_SIZE),
                     pos, x);
            /* The version field may say "unsupported version" instead. */
            unsigned codes = CODE(TRAWL_ECORRUPT) | (pos >= 8 && pos < 12 ? CODE(TRAWL_EVERSION) : 0);
            expect_open_fails(dir, codes, segs[i], " section: ", what);
        }

        /* Padding between sections is covered by no checksum: flipping it
         * must at least not break anything. */
        for (unsigned s = 1; s < TW_SEC_COUNT; s++) {
            uint64_t end = lay.off[s] + lay.len[s], next = s + 1 < TW_SEC_COUNT ? lay.off[s + 1] : lay.table_off;
            for (uint64_t p = end; p < next; p++) {
                memcpy(m, orig.p, orig.len);
                m[p] ^= 0x5A;
                spit(path, m, orig.len);
                trawl_index *idx = NULL;
                int rc = trawl_index_open(dir, &idx, NULL);
                CHECK(rc == TRAWL_OK || rc == TRAWL_ECORRUPT, "%s: padding byte %llu: open gave %d", segs[i],
                      (unsigned long long)p, rc);
                trawl_index_close(idx);
            }
        }
        free(m);
        spit(path, orig.p, orig.len);
        free(orig.p);
        printf("  %s: %zu truncations, flips in every section, header, table and footer\n", segs[i], ntrunc);
    }
    free_list(segs);
    expect_sound(dir, "segments restored");
}

/* ---- (d) MANIFEST ----------------------------------------------------------- */

/* Writes line + "\nxxh3 <hex>\n" as the manifest. */
static void write_manifest(const char *path, const char *line, size_t len) {
    char *text = xmalloc(len + 32);
    memcpy(text, line, len);
    int n = snprintf(text + len, 32, "\nxxh3 %016llx\n", (unsigned long long)XXH3_64bits(line, len));
    spit(path, text, len + (size_t)n);
    free(text);
}

static void manifest_damage(const char *dir, rng *r) {
    char path[4096], what[8192];
    path_join(path, sizeof path, dir, "MANIFEST");
    blob orig = slurp(path);
    size_t nl = 0;
    while (nl < orig.len && orig.p[nl] != '\n') nl++;
    CHECK(nl < orig.len, "manifest has no newline");

    /* Truncated: every length that cuts into the content. */
    for (size_t n = 0; n + 1 < orig.len; n++) {
        spit(path, orig.p, n);
        snprintf(what, sizeof what, "MANIFEST truncated to %zu of %zu bytes", n, orig.len);
        expect_open_fails(dir, CODE(TRAWL_ECORRUPT), "MANIFEST", NULL, what);
    }
    /* A flipped bit anywhere but the final newline. */
    uint8_t *m = xmalloc(orig.len);
    for (size_t k = 0; k + 1 < orig.len; k++) {
        memcpy(m, orig.p, orig.len);
        uint8_t x = (uint8_t)(1u << below(r, 8));
        m[k] ^= x;
        spit(path, m, orig.len);
        snprintf(what, sizeof what, "MANIFEST byte %zu ('%c') ^= 0x%02x", k, orig.p[k], x);
        expect_open_fails(dir, CODE(TRAWL_ECORRUPT), "MANIFEST", NULL, what);
    }
    free(m);
    /* Deleted. */
    unlink(path);
    expect_open_fails(dir, CODE(TRAWL_ENOTFOUND) | CODE(TRAWL_ECORRUPT) | CODE(TRAWL_EIO), "MANIFEST", NULL,
                      "MANIFEST deleted");

    /* Valid checksum lines over bad content. */
    json_t *good = json_loadb((const char *)orig.p, nl, 0, NULL);
    CHECK(good != NULL, "manifest line is not JSON");
    json_t *seg0 = json_array_get(json_object_get(good, "segments"), 0);
    const char *name0 = json_string_value(json_object_get(seg0, "name"));
    long long docs0 = json_integer_value(json_object_get(seg0, "docs"));
    char **dels = list_files(dir, ".del");
    CHECK(dels[0] != NULL, "expected a deletion file in %s", dir);
    char sub[4096];
    path_join(sub, sizeof sub, dir, "subdir.tws");
    mkdir(sub, 0755);
    struct {
        const char *line;
        unsigned codes;
        const char *need; /* NULL: "MANIFEST" */
    } cases[64];
    size_t nc = 0;
    char bufs[64][1024];
    size_t nb = 0;
#define CASE(codes_, need_, ...)                                                                                       \
    do {                                                                                                               \
        snprintf(bufs[nb], sizeof bufs[nb], __VA_ARGS__);                                                              \
        cases[nc].line = bufs[nb++];                                                                                   \
        cases[nc].codes = (codes_);                                                                                    \
        cases[nc++].need = (need_);                                                                                    \
    } while (0)
#define HEAD                                                                                                           \
    "{\"format\":2,\"schema\":{\"fields\":{\"author\":\"text+keyword\",\"date\":\"date\",\"source\":\"text+keyword\"," \
    "\"tags\":\"text+keyword\"}},\"generation\":9,\"lang\":\"english\",\"segments\":"
    unsigned C = CODE(TRAWL_ECORRUPT);
    CASE(C, NULL, "%s", "");
    CASE(C, NULL, "%s", "not json");
    CASE(C, NULL, "%s", "[]");
    CASE(C, NULL, "%s", "{}");
    CASE(C, NULL, "%s", "null");
    CASE(C, NULL, "%s", "\"format\"");
    CASE(C, NULL, "%s",
         "{\"format\":2,\"schema\":{\"fields\":{\"author\":\"text+keyword\",\"date\":\"date\",\"source\":\"text+"
         "keyword\",\"tags\":\"text+keyword\"}},\"generation\":9,\"lang\":\"english\"}");
    CASE(C, NULL, "%s", HEAD "\"x\"}");
    CASE(C, NULL, "%s", HEAD "{}}");
    CASE(CODE(TRAWL_EVERSION), NULL, "%s",
         "{\"format\":3,\"schema\":{\"fields\":{\"author\":\"text+keyword\",\"date\":\"date\",\"source\":\"text+"
         "keyword\",\"tags\":\"text+keyword\"}},\"generation\":9,\"lang\":\"english\",\"segments\":[]}");
    /* Format 1 (before typed fields) is refused, naming the remedy. */
    CASE(CODE(TRAWL_EVERSION), "rebuild", "%s", "{\"format\":1,\"generation\":9,\"lang\":\"english\",\"segments\":[]}");
    /* The schema: required, an object, valid. */
    CASE(C, NULL, "%s", "{\"format\":2,\"generation\":9,\"lang\":\"english\",\"segments\":[]}");
    CASE(C, NULL, "%s", "{\"format\":2,\"generation\":9,\"lang\":\"english\",\"schema\":\"x\",\"segments\":[]}");
    CASE(C, "schema", "%s",
         "{\"format\":2,\"generation\":9,\"lang\":\"english\",\"schema\":{\"fields\":{\"a\":\"bogus\"}},"
         "\"segments\":[]}");
    CASE(C, NULL, "%s", "{\"format\":\"1\",\"generation\":9,\"lang\":\"english\",\"segments\":[]}");
    CASE(C, NULL, "%s",
         "{\"format\":2,\"schema\":{\"fields\":{\"author\":\"text+keyword\",\"date\":\"date\",\"source\":\"text+"
         "keyword\",\"tags\":\"text+keyword\"}},\"generation\":0,\"lang\":\"english\",\"segments\":[]}");
    CASE(C, NULL, "%s",
         "{\"format\":2,\"schema\":{\"fields\":{\"author\":\"text+keyword\",\"date\":\"date\",\"source\":\"text+"
         "keyword\",\"tags\":\"text+keyword\"}},\"generation\":-5,\"lang\":\"english\",\"segments\":[]}");
    CASE(C, NULL, "%s",
         "{\"format\":2,\"schema\":{\"fields\":{\"author\":\"text+keyword\",\"date\":\"date\",\"source\":\"text+"
         "keyword\",\"tags\":\"text+keyword\"}},\"generation\":9,\"lang\":7,\"segments\":[]}");
    CASE(C, NULL,
         "{\"format\":2,\"schema\":{\"fields\":{\"author\":\"text+keyword\",\"date\":\"date\",\"source\":\"text+"
         "keyword\",\"tags\":\"text+keyword\"}},\"generation\":9,\"lang\":\"%0100d\",\"segments\":[]}",
         0);
    CASE(C, NULL, "%s", HEAD "[1]}");
    CASE(C, NULL, "%s", HEAD "[{\"name\":5,\"docs\":1}]}");
    CASE(C, NULL, HEAD "[{\"name\":\"%s\"}]}", name0);
    CASE(C, NULL, HEAD "[{\"name\":\"%s\",\"docs\":-1}]}", name0);
    CASE(C, NULL, HEAD "[{\"name\":\"%s\",\"docs\":1099511627776}]}", name0);
    CASE(C, name0, HEAD "[{\"name\":\"%s\",\"docs\":%lld,\"deletes\":null}]}", name0, docs0 + 1);
    CASE(C, NULL, HEAD "[{\"name\":\"%s\",\"docs\":\"%lld\"}]}", name0, docs0);
    CASE(C, NULL, HEAD "[{\"name\":\"../%s\",\"docs\":%lld}]}", name0, docs0);
    CASE(C, NULL, HEAD "[{\"name\":\"../../../../../../etc/passwd\",\"docs\":1}]}");
    CASE(C, NULL, HEAD "[{\"name\":\"/etc/passwd\",\"docs\":1}]}");
    CASE(C, NULL, HEAD "[{\"name\":\"..\",\"docs\":1}]}");
    CASE(C, NULL, HEAD "[{\"name\":\".\",\"docs\":1}]}");
    CASE(C, NULL, HEAD "[{\"name\":\"\",\"docs\":1}]}");
    CASE(C, NULL, HEAD "[{\"name\":\"a\\\\b\",\"docs\":1}]}");
    CASE(C, NULL, HEAD "[{\"name\":\"seg\\u0001.tws\",\"docs\":1}]}");
    CASE(C, NULL, HEAD "[{\"name\":\"%0300d\",\"docs\":1}]}", 0);
    CASE(C, NULL, HEAD "[{\"name\":\"%s\",\"docs\":%lld,\"deletes\":\"../%s\"}]}", name0, docs0, dels[0]);
    CASE(C, NULL, HEAD "[{\"name\":\"%s\",\"docs\":%lld,\"deletes\":5}]}", name0, docs0);
    CASE(SEG_CODES, "seg-999999-0000.tws", HEAD "[{\"name\":\"seg-999999-0000.tws\",\"docs\":3,\"deletes\":null}]}");
    CASE(SEG_CODES, "LOCK", HEAD "[{\"name\":\"LOCK\",\"docs\":3,\"deletes\":null}]}");
    CASE(SEG_CODES, "subdir.tws", HEAD "[{\"name\":\"subdir.tws\",\"docs\":3,\"deletes\":null}]}");
    CASE(C, "MANIFEST", HEAD "[{\"name\":\"MANIFEST\",\"docs\":3}]}");
    CASE(C, "MANIFEST", HEAD "[{\"name\":\"%s\",\"docs\":%lld,\"deletes\":\"MANIFEST\"}]}", name0, docs0);
    CASE(C, "missing.del", HEAD "[{\"name\":\"%s\",\"docs\":%lld,\"deletes\":\"missing.del\"}]}", name0, docs0);
    CASE(C, name0,
         "{\"format\":2,\"schema\":{\"fields\":{\"author\":\"text+keyword\",\"date\":\"date\",\"source\":\"text+"
         "keyword\",\"tags\":\"text+keyword\"}},\"generation\":9,\"lang\":\"french\",\"segments\":[{\"name\":\"%s\","
         "\"docs\":%"
         "lld,\"deletes\":"
         "null}]}",
         name0, docs0);
    /* Parsed strictly: a missing, renamed or unknown key is corruption (a
     * segment without its "deletes" entry would bring deleted documents back). */
    CASE(C, NULL, HEAD "[{\"name\":\"%s\",\"docs\":%lld}]}", name0, docs0);
    CASE(C, NULL, HEAD "[{\"name\":\"%s\",\"docs\":%lld,\"deleted\":null}]}", name0, docs0);
    CASE(C, NULL, HEAD "[{\"name\":\"%s\",\"docs\":%lld,\"deletes\":null,\"x\":1}]}", name0, docs0);
    CASE(C, NULL, HEAD "[{\"name\":\"%s\",\"docs\":%lld,\"deletes\":null,\"deletes\":null}]}", name0, docs0);
    CASE(C, NULL,
         "{\"format\":2,\"schema\":{\"fields\":{\"author\":\"text+keyword\",\"date\":\"date\",\"source\":\"text+"
         "keyword\",\"tags\":\"text+keyword\"}},\"generation\":9,\"lang\":\"english\",\"extra\":0,\"segments\":[]}");
    CASE(C, NULL,
         "{\"format\":2,\"schema\":{\"fields\":{\"author\":\"text+keyword\",\"date\":\"date\",\"source\":\"text+"
         "keyword\",\"tags\":\"text+keyword\"}},\"generation\":9,\"language\":\"english\",\"segments\":[]}");
    CASE(C, NULL, "%s", "[1]");
    for (size_t i = 0; i < nc; i++) {
        write_manifest(path, cases[i].line, strlen(cases[i].line));
        snprintf(what, sizeof what, "MANIFEST line %s", cases[i].line);
        expect_open_fails(dir, cases[i].codes, cases[i].need ? cases[i].need : "MANIFEST", NULL, what);
    }
#undef CASE
#undef HEAD
    /* A NUL byte and deep nesting inside the checksummed line. */
    write_manifest(path, "{\"format\":1}\0{}", 15);
    expect_open_fails(dir, CODE(TRAWL_ECORRUPT), "MANIFEST", NULL, "MANIFEST with a NUL byte");
    size_t depth = 200000;
    char *deep = xmalloc(2 * depth);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    write_manifest(path, deep, 2 * depth);
    expect_open_fails(dir, CODE(TRAWL_ECORRUPT), "MANIFEST", NULL, "MANIFEST nested 200000 deep");
    free(deep);
    /* A checksum line with upper-case hex or a wrong length. */
    char text[8192];
    int n = snprintf(text, sizeof text, "%.*s\nxxh3 %016llX\n", (int)nl, (const char *)orig.p,
                     (unsigned long long)XXH3_64bits(orig.p, nl));
    if (strchr(text + nl, 'A') || strchr(text + nl, 'B') || strchr(text + nl, 'C') || strchr(text + nl, 'D') ||
        strchr(text + nl, 'E') || strchr(text + nl, 'F')) {
        spit(path, text, (size_t)n);
        trawl_index *idx = NULL;
        int rc = trawl_index_open(dir, &idx, NULL);
        CHECK(rc == TRAWL_OK || rc == TRAWL_ECORRUPT, "upper-case checksum: %d", rc);
        trawl_index_close(idx);
    }
    n = snprintf(text, sizeof text, "%.*s\nxxh3 %llx\n", (int)nl, (const char *)orig.p,
                 (unsigned long long)(XXH3_64bits(orig.p, nl) >> 8));
    spit(path, text, (size_t)n);
    expect_open_fails(dir, CODE(TRAWL_ECORRUPT), "MANIFEST", NULL, "MANIFEST with a 14-digit checksum");

    /* Same segment twice: its documents would count twice. */
    json_t *twice = json_deep_copy(good);
    json_array_append(json_object_get(twice, "segments"), seg0);
    char *line = json_dumps(twice, JSON_COMPACT);
    write_manifest(path, line, strlen(line));
    {
        trawl_index *idx = NULL;
        char *msg = NULL;
        int rc = trawl_index_open(dir, &idx, &msg);
        CHECK(rc == TRAWL_ECORRUPT, "a manifest naming %s twice opened (rc %d, %llu docs): %s", name0, rc,
              (unsigned long long)trawl_index_doc_count(idx), msg ? msg : "");
        trawl_free(msg);
        trawl_index_close(idx);
    }
    free(line);
    json_decref(twice);
    /* Unknown language without segments: opening may succeed; searching must fail cleanly. */
    static const char klingon[] =
        "{\"format\":2,\"schema\":{\"fields\":{\"author\":\"text+keyword\",\"date\":\"date\",\"source\":\"text+"
        "keyword\",\"tags\":\"text+keyword\"}},\"generation\":9,\"lang\":\"klingon\",\"segments\":[]}";
    write_manifest(path, klingon, strlen(klingon));
    {
        trawl_index *idx = NULL;
        int rc = trawl_index_open(dir, &idx, NULL);
        CHECK(rc == TRAWL_OK || rc == TRAWL_ECORRUPT, "klingon manifest: %d", rc);
        if (idx) {
            trawl_results *res = NULL;
            rc = trawl_search(idx, "alpha", NULL, &res);
            CHECK(rc == TRAWL_EINVAL || rc == TRAWL_ECORRUPT || (rc == TRAWL_OK && trawl_results_total(res) == 0),
                  "search with language klingon: %d", rc);
            trawl_results_free(res);
            trawl_index_close(idx);
        }
    }
    /* Deletions dropped behind a valid checksum: the replaced documents come
     * back to life, which the check must see (an id live twice). */
    {
        json_t *nodel = json_deep_copy(good);
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(nodel, "segments"), i, e) json_object_set_new(e, "deletes", json_null());
        char *nodel_text = json_dumps(nodel, JSON_COMPACT);
        write_manifest(path, nodel_text, strlen(nodel_text));
        char *report = NULL;
        int rc = trawl_index_check(dir, &report);
        CHECK(rc == TRAWL_ECORRUPT && report && strstr(report, "live twice"),
              "deletions dropped: check gave %d, report %s", rc, report ? report : "(none)");
        trawl_free(report);
        free(nodel_text);
        json_decref(nodel);
    }
    rmdir(sub);
    json_decref(good);
    free_list(dels);
    spit(path, orig.p, orig.len);
    free(orig.p);
    expect_sound(dir, "MANIFEST restored");
    printf("  MANIFEST: %zu truncations, %zu flips, %zu bad contents\n", orig.len - 1, orig.len - 1, nc + 6);
}

/* ---- queries over a possibly damaged index -------------------------------------- */

static const char *const queries[] = {"the",
                                      "search engine",
                                      "\"search engine\"",
                                      "\"the the\"",
                                      "alpha OR beta",
                                      "alpha -beta",
                                      "NOT gamma",
                                      "ru*",
                                      "w1*",
                                      "title:alpha",
                                      "body:(delta OR gamma)",
                                      "tags:tag",
                                      "caf\xc3\xa9 na\xc3\xafve",
                                      "w3q1",
                                      "+index +posting -commit",
                                      "\"lorem ipsum dolor\"",
                                      "zzzz",
                                      "running",
                                      "\xe6\x97\xa5\xe6\x9c\xac*",
                                      "t*"};
#define NQUERIES (sizeof queries / sizeof queries[0])

typedef struct probe {
    int failed;       /* some call failed with an error other than "not found"/"syntax" */
    char first[1200]; /* the first such failure */
} probe;

static void note(probe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(probe *p, const char *fmt, ...) {
    if (p->failed++) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->first, sizeof p->first, fmt, ap);
    va_end(ap);
}

/* Runs every query (and gets, stats) against an open index, recording
 * failures in pr. Checks the result accessors keep their contracts. */
static void probe_index(const trawl_index *idx, unsigned ndocs, probe *pr, rng *r) {
    trawl_options *o = trawl_options_new();
    if (!o) exit(2);
    for (size_t q = 0; q < NQUERIES; q++) {
        int mode = (int)(q % 4);
        trawl_options_set_snippets(o, mode == 0);
        trawl_options_set_count_only(o, mode == 1);
        trawl_options_set_or(o, mode == 2);
        trawl_options_set_explain(o, mode == 3);
        trawl_options_set_limit(o, mode == 2 ? 50 : 5);
        trawl_results *res = NULL;
        int rc = trawl_search(idx, queries[q], o, &res);
        if (rc != TRAWL_OK && rc != TRAWL_ESYNTAX)
            note(pr, "search '%s': %s: %s", queries[q], trawl_strerror(rc), res ? trawl_results_errmsg(res) : "");
        if (rc == TRAWL_OK && res) {
            size_t n = trawl_results_count(res);
            CHECK(n <= (mode == 2 ? 50u : 5u) && trawl_results_total(res) >= n && (mode != 1 || n == 0),
                  "search '%s': %zu hits of %llu", queries[q], n, (unsigned long long)trawl_results_total(res));
            for (size_t i = 0; i < n; i++) {
                const char *id = trawl_results_id(res, i);
                CHECK(id != NULL, "search '%s': hit %zu has no id", queries[q], i);
                /* A hit is a live document: get must find its id. */
                char *json = NULL;
                int grc = id ? trawl_index_get(idx, id, &json) : TRAWL_OK;
                if (grc != TRAWL_OK) note(pr, "search '%s' hit '%s': get gave %s", queries[q], id, trawl_strerror(grc));
                trawl_free(json);
                (void)trawl_results_score(res, i);
                if (mode == 0)
                    CHECK(trawl_results_title(res, i) && trawl_results_snippet(res, i, TRAWL_SNIPPET_HTML),
                          "search '%s': hit %zu lacks a title or snippet", queries[q], i);
                if (mode == 3)
                    CHECK(trawl_results_explain(res, i) != NULL, "search '%s': hit %zu lacks an explanation",
                          queries[q], i);
            }
            CHECK(trawl_results_id(res, n) == NULL, "search '%s': id past the end", queries[q]);
        }
        trawl_results_free(res);
    }
    trawl_options_free(o);
    for (int k = 0; k < 6; k++) {
        char id[32];
        snprintf(id, sizeof id, "d%u", k == 5 ? 999999u : (unsigned)below(r, ndocs));
        char *json = NULL;
        int rc = trawl_index_get(idx, id, &json);
        if (rc == TRAWL_OK)
            CHECK(json != NULL, "get('%s') gave OK and no text", id);
        else if (rc != TRAWL_ENOTFOUND)
            note(pr, "get('%s'): %s", id, trawl_strerror(rc));
        trawl_free(json);
    }
    char *stats = NULL;
    int rc = trawl_index_stats(idx, &stats);
    if (rc) note(pr, "stats: %s", trawl_strerror(rc));
    trawl_free(stats);
    (void)trawl_index_doc_count(idx);
}

typedef struct fuzz_stats {
    size_t refused, opened, check_failed;
    size_t bad; /* mutations that broke an expectation */
} fuzz_stats;

/* Records a mutation that broke an expectation: the first three of a batch
 * are printed, the batch fails once at its end (so that one engine bug does
 * not hide the next phases behind the failure limit). */
static void bad_mutation(fuzz_stats *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad_mutation(fuzz_stats *st, const char *fmt, ...) {
    if (st->bad++ >= 3) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("  FAILED: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- (e) deletion files ------------------------------------------------------------- */

static void deletes_damage(const char *dir, rng *r, unsigned ndocs) {
    char **dels = list_files(dir, ".del");
    CHECK(dels[0] != NULL, "no deletion file in %s", dir);
    for (size_t i = 0; dels[i]; i++) {
        char path[4096], what[4400];
        path_join(path, sizeof path, dir, dels[i]);
        blob orig = slurp(path);
        for (size_t n = 0; n < orig.len; n++) {
            spit(path, orig.p, n);
            snprintf(what, sizeof what, "%s truncated to %zu of %zu bytes", dels[i], n, orig.len);
            expect_open_fails(dir, CODE(TRAWL_ECORRUPT), dels[i], "deletes", what);
        }
        uint8_t *m = xmalloc(orig.len + 64);
        for (size_t k = 0; k < orig.len; k++) {
            memcpy(m, orig.p, orig.len);
            uint8_t x = (uint8_t)(1u << below(r, 8));
            m[k] ^= x;
            spit(path, m, orig.len);
            snprintf(what, sizeof what, "%s byte %zu ^= 0x%02x", dels[i], k, x);
            expect_open_fails(dir, CODE(TRAWL_ECORRUPT), dels[i], "deletes", what);
        }
        unlink(path);
        snprintf(what, sizeof what, "%s deleted", dels[i]);
        expect_open_fails(dir, CODE(TRAWL_ECORRUPT) | CODE(TRAWL_EIO), dels[i], NULL, what);
        /* Re-checksummed damage: a clean error, or an index that works. */
        size_t bad = 0, opened = 0;
        fuzz_stats st = {0, 0, 0, 0};
        for (int it = 0; it < 400; it++) {
            size_t len = orig.len - 8;
            memcpy(m, orig.p, len);
            int kind = (int)below(r, 4);
            if (kind == 0)
                m[below(r, len)] ^= (uint8_t)(1u << below(r, 8));
            else if (kind == 1)
                m[below(r, len)] = (uint8_t)rnd(r);
            else if (kind == 2 && len > 4)
                st32(m + below(r, len - 3), (uint32_t)rnd(r) % (2 * ndocs + 2));
            else
                len = below(r, len + 1);
            st64(m + len, XXH3_64bits(m, len));
            spit(path, m, len + 8);
            trawl_index *idx = NULL;
            char *msg = NULL;
            int rc = trawl_index_open(dir, &idx, &msg);
            if (!(rc == TRAWL_OK || (rc == TRAWL_ECORRUPT && msg && strstr(msg, dels[i]))))
                bad_mutation(&st, "%s re-checksummed mutation %d: open gave %d (%s) %s", dels[i], it, rc,
                             trawl_strerror(rc), msg ? msg : "");
            if (idx) {
                probe pr = {0, ""};
                probe_index(idx, ndocs, &pr, r);
                opened++;
                char *report = NULL;
                int crc = trawl_index_check(dir, &report);
                if (crc == TRAWL_OK && pr.failed)
                    bad_mutation(&st, "%s re-checksummed mutation %d: check passed but %s", dels[i], it, pr.first);
                trawl_free(report);
            } else {
                bad++;
            }
            trawl_free(msg);
            trawl_index_close(idx);
        }
        CHECK(st.bad == 0, "%s: %zu of 400 re-checksummed mutations broke an expectation (first ones above)", dels[i],
              st.bad);
        /* Sound bitmaps with a doc number past the segment are refused. */
        {
            uint8_t ser[64];
            /* A portable bitmap {70000} (past every segment of index A): cookie
             * 12346, 1 container, u16 key 1, u16 card-1 0, u32 offset 16, u16 value. */
            uint32_t v = 70000;
            st32(ser, 12346);
            st32(ser + 4, 1);
            ser[8] = (uint8_t)(v >> 16), ser[9] = (uint8_t)(v >> 24), ser[10] = 0, ser[11] = 0;
            st32(ser + 12, 16);
            ser[16] = (uint8_t)v, ser[17] = (uint8_t)(v >> 8);
            st64(ser + 18, XXH3_64bits(ser, 18));
            spit(path, ser, 26);
            snprintf(what, sizeof what, "%s deleting doc %u", dels[i], v);
            expect_open_fails(dir, CODE(TRAWL_ECORRUPT), dels[i], "deletes", what);
        }
        {
            /* Runs out of order: {70000} then {0, 1, 2} in one run container.
             * CRoaring's deserializer takes it, and its maximum() sees only
             * the last run; the doc number 70000 must still be refused. */
            static const uint8_t runs[] = {0x3B, 0x30, 0, 0,  /* cookie 12347, 1 container */
                                           0x01,              /* it is a run container */
                                           1,    0,    3, 0,  /* key 1, cardinality-1 3 */
                                           2,    0,           /* 2 runs */
                                           0x70, 0x11, 0, 0,  /* 65536 + 4464 = 70000, length-1 0 */
                                           0,    0,    2, 0}; /* 65536..65538 */
            uint8_t ser[64];
            memcpy(ser, runs, sizeof runs);
            ser[5] = 0; /* key 0: {4464} then {0, 1, 2} */
            st64(ser + sizeof runs, XXH3_64bits(ser, sizeof runs));
            spit(path, ser, sizeof runs + 8);
            snprintf(what, sizeof what, "%s with runs out of order (doc 4464 first)", dels[i]);
            expect_open_fails(dir, CODE(TRAWL_ECORRUPT), dels[i], "deletes", what);
        }
        free(m);
        spit(path, orig.p, orig.len);
        free(orig.p);
        printf("  %s: truncations, flips, deletion, %zu re-checksummed mutations refused, %zu opened\n", dels[i], bad,
               opened);
    }
    free_list(dels);
    expect_sound(dir, "deletion files restored");
}

/* ---- (f) structural damage behind valid checksums ---------------------------------- */

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#endif

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "\ntest_corruption: timed out (hang?) on: ";
    ssize_t w = write(2, msg, sizeof msg - 1);
    w = write(2, hang_desc, strnlen(hang_desc, sizeof hang_desc));
    w = write(2, "\n", 1);
    (void)w;
    _exit(3);
}

/* Prints what was being tried when the process dies (crash or sanitizer report). */
static void print_desc(void) {
    static const char msg[] = "\ntest_corruption: died while trying: ";
    ssize_t w = write(2, msg, sizeof msg - 1);
    w = write(2, hang_desc, strnlen(hang_desc, sizeof hang_desc));
    w = write(2, "\n", 1);
    (void)w;
}

#ifndef __SANITIZE_ADDRESS__
static void on_crash(int sig) {
    print_desc();
    signal(sig, SIG_DFL);
    raise(sig);
}
#endif

/* Installs the hang and crash reporters. Under ASan its own report comes
 * first, then the death callback names the mutation. */
static void install_reporters(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
#ifdef __SANITIZE_ADDRESS__
    __sanitizer_set_death_callback(print_desc);
#else
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGFPE, on_crash);
    signal(SIGILL, on_crash);
    signal(SIGABRT, on_crash);
#endif
}

typedef struct desc {
    char s[2048];
    size_t n;
} desc;

static void dadd(desc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dadd(desc *d, const char *fmt, ...) {
    if (d->n >= sizeof d->s - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(d->s + d->n, sizeof d->s - d->n, fmt, ap);
    va_end(ap);
    if (k > 0) d->n += (size_t)k < sizeof d->s - d->n ? (size_t)k : sizeof d->s - d->n - 1;
}

/* Applies one random edit to buf (len may change; cap is its capacity). */
static void mutate(rng *r, uint8_t *buf, size_t *len, size_t cap, unsigned ndocs, desc *d) {
    static const uint32_t ints[] = {0,          1,           2,           0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000,
                                    0x7fffffff, 0x80000000u, 0xffffffffu, 128,  127,  129,  31,    32,     33};
    size_t n = *len;
    int kind = (int)below(r, 10);
    if (n == 0) kind = 8;
    size_t at = below(r, n);
    switch (kind) {
        case 0:
        case 1: {
            unsigned bit = (unsigned)below(r, 8);
            buf[at] ^= (uint8_t)(1u << bit);
            dadd(d, " flip %zu.%u", at, bit);
            break;
        }
        case 2:
            buf[at] = (uint8_t)rnd(r);
            dadd(d, " byte %zu=%02x", at, buf[at]);
            break;
        case 3: {
            static const uint8_t special[] = {0, 0xff, 0x7f, 0x80, 1, 0x81};
            buf[at] = special[below(r, sizeof special)];
            dadd(d, " byte %zu=%02x", at, buf[at]);
            break;
        }
        case 4: { /* a 32-bit value, often near a meaningful count */
            if (n < 4) break;
            at = below(r, n - 3);
            if (below(r, 2)) at &= ~(size_t)3;
            uint32_t v = below(r, 2) ? ints[below(r, sizeof ints / sizeof ints[0])] : ndocs + (uint32_t)below(r, 5) - 2;
            st32(buf + at, v);
            dadd(d, " u32 %zu=%u", at, v);
            break;
        }
        case 5: { /* a varint-shaped run */
            size_t k = 1 + below(r, 5);
            if (at + k > n) k = n - at;
            for (size_t i = 0; i < k; i++) buf[at + i] = (uint8_t)(i + 1 < k ? 0x80 | rnd(r) : rnd(r) & 0x7f);
            dadd(d, " varint %zu+%zu", at, k);
            break;
        }
        case 6: { /* copy a range over another */
            size_t from = below(r, n), k = 1 + below(r, 16);
            if (from + k > n) k = n - from;
            if (at + k > n) k = n - at;
            memmove(buf + at, buf + from, k);
            dadd(d, " copy %zu->%zu+%zu", from, at, k);
            break;
        }
        case 7: { /* delete bytes */
            size_t k = 1 + below(r, below(r, 2) ? 4 : 64);
            if (at + k > n) k = n - at;
            memmove(buf + at, buf + at + k, n - at - k);
            *len = n - k;
            dadd(d, " delete %zu+%zu", at, k);
            break;
        }
        case 8: { /* insert bytes */
            size_t k = 1 + below(r, 8);
            at = below(r, n + 1);
            if (n + k > cap) break;
            memmove(buf + at + k, buf + at, n - at);
            for (size_t i = 0; i < k; i++) buf[at + i] = (uint8_t)rnd(r);
            *len = n + k;
            dadd(d, " insert %zu+%zu", at, k);
            break;
        }
        default: /* truncate */
            *len = below(r, n + 1);
            dadd(d, " truncate %zu", *len);
            break;
    }
}

/* Writes the mutated segment, opens, probes and checks; returns nothing but
 * records failures. keep_dir/keep_name: where to save a failing file. */
static void try_mutation(const char *dir, const char *segpath, const blob *file, unsigned ndocs, rng *r,
                         const char *segname, const desc *d, fuzz_stats *st, size_t *kept) {
    spit(segpath, file->p, file->len);
    snprintf(hang_desc, sizeof hang_desc, "%s", d->s);
    alarm(60);
    trawl_index *idx = NULL;
    char *msg = NULL;
    int rc = trawl_index_open(dir, &idx, &msg);
    int bad = 0;
    if (rc != TRAWL_OK) {
        st->refused++;
        if (!((rc == TRAWL_ECORRUPT || rc == TRAWL_EVERSION) && msg && strstr(msg, segname))) {
            bad_mutation(st, "%s: open gave %d (%s), message %s", d->s, rc, trawl_strerror(rc), msg ? msg : "(null)");
            bad = 1;
        }
    } else {
        st->opened++;
        probe pr = {0, ""};
        probe_index(idx, ndocs, &pr, r);
        char *report = NULL;
        int crc = trawl_index_check(dir, &report);
        st->check_failed += crc != TRAWL_OK;
        if (crc == TRAWL_OK && pr.failed) {
            bad_mutation(st, "%s: trawl_index_check found nothing wrong, yet %d call(s) failed, first: %s", d->s,
                         pr.failed, pr.first);
            bad = 1;
        }
        if (crc != TRAWL_OK && !(report && *report)) {
            bad_mutation(st, "%s: check failed (%d) with an empty report", d->s, crc);
            bad = 1;
        }
        trawl_free(report);
    }
    alarm(0);
    trawl_free(msg);
    trawl_index_close(idx);
    if (bad && st->bad == 1 && *kept < 20) { /* the first failing file of a batch */
        char keep[4096], name[64];
        snprintf(name, sizeof name, "failing-%zu.tws", (*kept)++);
        path_join(keep, sizeof keep, dir, "..");
        size_t l = strlen(keep);
        snprintf(keep + l, sizeof keep - l, "/%s", name);
        spit(keep, file->p, file->len);
        fprintf(stderr, "  (segment kept as %s; replay by copying it over %s)\n", keep, segpath);
    }
}

static size_t env_size(const char *name, size_t dflt) {
    const char *v = getenv(name);
    return v && *v ? (size_t)strtoull(v, NULL, 0) : dflt;
}

/* Runs `iterations` seeded mutations of each section and of the section
 * table. With TRAWL_CORRUPT_ONLY=<section>:<iteration> (as printed in a
 * failure) only that mutation runs, and its segment file is kept. */
static void structural_damage(const char *dir, unsigned ndocs, uint64_t seed, size_t iterations, size_t *kept) {
    const char *only = getenv("TRAWL_CORRUPT_ONLY");
    unsigned only_sec = 0;
    size_t only_it = 0;
    if (only && sscanf(only, "%u:%zu", &only_sec, &only_it) != 2) {
        fprintf(stderr, "TRAWL_CORRUPT_ONLY must be <section>:<iteration>\n");
        exit(2);
    }
    if (only && only_it >= iterations) iterations = only_it + 1;
    char **segs = list_files(dir, ".tws");
    CHECK(segs[0] && !segs[1], "expected one segment in %s", dir);
    if (!segs[0]) {
        free_list(segs);
        return;
    }
    char segpath[4096];
    path_join(segpath, sizeof segpath, dir, segs[0]);
    blob orig = slurp(segpath);
    layout lay;
    get_layout(&orig, &lay);
    blob sec[TW_SEC_COUNT];
    memset(sec, 0, sizeof sec);
    for (unsigned s = 1; s < TW_SEC_COUNT; s++) sec[s] = (blob){orig.p + lay.off[s], (size_t)lay.len[s]};
    /* Sanity: reassembling the sections gives the same file. */
    blob same = assemble(sec);
    CHECK(same.len == orig.len && memcmp(same.p, orig.p, orig.len) == 0, "assemble() does not reproduce %s", segs[0]);
    free(same.p);

    for (unsigned s = 1; s <= TW_SEC_COUNT; s++) { /* s == TW_SEC_COUNT: the section table */
        fuzz_stats st = {0, 0, 0, 0};
        const char *sname = s < TW_SEC_COUNT ? tw_section_name(s) : "section table";
        size_t cap = (s < TW_SEC_COUNT ? (size_t)lay.len[s] : 0) + 1024;
        uint8_t *buf = xmalloc(cap);
        size_t ran = 0;
        for (size_t it = 0; it < iterations; it++) {
            if (only && (only_sec != s || only_it != it)) continue;
            /* Each mutation has its own generator: any one can be replayed alone. */
            rng r = {seed ^ (0x100000001b3ull * s) ^ (0x9e3779b97f4a7c15ull * (it + 1))};
            desc d = {"", 0};
            dadd(&d, "TRAWL_CORRUPT_SEED=0x%llx TRAWL_CORRUPT_ONLY=%u:%zu (%s):", (unsigned long long)seed, s, it,
                 sname);
            ran++;
            blob file;
            if (s < TW_SEC_COUNT) {
                size_t len = (size_t)lay.len[s];
                memcpy(buf, sec[s].p, len);
                for (size_t k = 1 + below(&r, below(&r, 4) ? 2 : 6); k > 0; k--) mutate(&r, buf, &len, cap, ndocs, &d);
                blob ms[TW_SEC_COUNT];
                memcpy(ms, sec, sizeof ms);
                ms[s] = (blob){buf, len};
                file = assemble(ms);
            } else {
                /* Section table entries: offsets and lengths moved, then resealed. */
                file.len = orig.len;
                file.p = xmalloc(file.len);
                memcpy(file.p, orig.p, orig.len);
                for (size_t k = 1 + below(&r, 2); k > 0; k--) {
                    unsigned e = (unsigned)below(&r, TW_SEC_COUNT - 1);
                    uint8_t *ent = file.p + lay.table_off + (size_t)e * TW_SECTION_ENTRY;
                    int field = (int)below(&r, 3); /* 0 id, 1 offset, 2 length */
                    if (field == 0) {
                        st32(ent, (uint32_t)below(&r, 12));
                        dadd(&d, " entry %u id=%u", e, tw_ld32(ent));
                    } else {
                        uint64_t v = ld64(ent + 8 * (size_t)field);
                        int64_t delta =
                            below(&r, 4) ? (int64_t)below(&r, 33) - 16 : (int64_t)(rnd(&r) % orig.len) - (int64_t)v;
                        st64(ent + 8 * (size_t)field, v + (uint64_t)delta);
                        dadd(&d, " entry %u %s%+lld", e, field == 1 ? "offset" : "length", (long long)delta);
                    }
                }
                reseal(file.p, file.len);
            }
            if (only) { /* keep the file for a debugger */
                char keep[4096];
                path_join(keep, sizeof keep, dir, "../replay.tws");
                spit(keep, file.p, file.len);
                printf("  %s\n  mutated segment saved as %s\n", d.s, keep);
                fflush(stdout);
            }
            try_mutation(dir, segpath, &file, ndocs, &r, segs[0], &d, &st, kept);
            free(file.p);
        }
        free(buf);
        printf("  %-13s %zu mutations: %zu refused at open, %zu opened (%zu of them failed the check)\n", sname, ran,
               st.refused, st.opened, st.check_failed);
        fflush(stdout);
        CHECK(st.bad == 0, "%s: %zu of %zu mutations broke an expectation (the first ones are printed above)", sname,
              st.bad, ran);
    }
    hang_desc[0] = 0;
    spit(segpath, orig.p, orig.len);
    free(orig.p);
    free_list(segs);
    expect_sound(dir, "segment restored after structural damage");
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    char root[1024];
    snprintf(root, sizeof root, "%s/trawl-corrupt-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        fprintf(stderr, "mkdtemp %s: %s\n", root, strerror(errno));
        return 1;
    }
    install_reporters();
    uint64_t seed = env_size("TRAWL_CORRUPT_SEED", 0xC0FFEE);
    size_t iterations = env_size("TRAWL_CORRUPT_ITERATIONS", 1500);
    rng r = {seed};

    /* Index A: three commits with replacements (three segments, deletion files). */
    char a[1100], f[1100];
    path_join(a, sizeof a, root, "a");
    add_commit(a, &r, 0, 150, 1, 1);
    add_commit(a, &r, 100, 100, 2, 1); /* d100..d149 replaced */
    add_commit(a, &r, 0, 60, 3, 3);    /* every third of d0..d177 replaced */
    expect_sound(a, "index A as written");
    if (!getenv("TRAWL_CORRUPT_ONLY")) { /* replaying one structural mutation skips (a)-(e) */
        printf("segment files:\n");
        segment_damage(a, &r);
        printf("manifest:\n");
        manifest_damage(a, &r);
        printf("deletion files:\n");
        deletes_damage(a, &r, 200);
    }

    /* Index F: one segment, for structural damage. */
    path_join(f, sizeof f, root, "f");
    add_commit(f, &r, 0, 300, 1, 1);
    expect_sound(f, "index F as written");
    printf("structural damage behind valid checksums (seed 0x%llx):\n", (unsigned long long)seed);
    size_t kept = 0;
    structural_damage(f, 300, seed, iterations, &kept);

    if (failures == 0)
        rm_rf(root);
    else
        fprintf(stderr, "index directories kept in %s\n", root);
    printf("test_corruption: %s (%d failure(s))\n", failures ? "FAIL" : "ok", failures);
    return failures ? 1 : 0;
}
