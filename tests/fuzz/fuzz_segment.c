/*
 * fuzz_segment.c — fuzz target: edit scripts applied to a small valid segment.
 *
 * On the first call a small index (one segment, 140 short documents, so that
 * it has bitmap doc lists with array and run containers, varint doc lists,
 * records of one and of several fields, with and without term frequency data
 * and block maxima, a list of more than one 128-doc block, keyword and date
 * fields some documents lack, and a stored block) is written through the
 * public writer into a scratch directory and its segment is split into its
 * sections. Each
 * input is a script of edits on those sections; the segment is reassembled
 * with every checksum recomputed (so the edits reach the decoders behind the
 * checksums), optionally edited again as a whole file, and opened from memory
 * (tw_segment_open_mem: the validation of tw_segment_open without the file
 * write and reopen, about 20x faster) into an index (tw_index_from_segments).
 * Then either the open fails cleanly (TRAWL_ECORRUPT or TRAWL_EVERSION,
 * message naming the segment), or searches, gets, stats and the checks of
 * trawl_index_check (tw_index_check_open) run; nothing may crash, hang or
 * leak, and when the check finds nothing wrong every search and every get of
 * a hit's id must succeed. (tests/test_corruption.c covers the file path.)
 *
 * An input that starts with "TRAWLSEG" is instead a whole segment file: its
 * checksums are recomputed (where its section table can be found) and it is
 * opened as it is, so that libFuzzer's own mutations, guided by comparisons
 * and the dictionary (tests/fuzz/fuzz_segment.dict), reach the decoders too.
 * The seed corpus holds the pristine segment for this mode.
 *
 * The checks of trawl_index_check and the stats run on every input whose
 * searches or gets failed (the oracle) and, when all succeeded, on a quarter
 * of the inputs: those whose XXH3 hash is 0 mod 4. They walk every list and
 * cost more than all the rest of an input. A hash, not flag bits: mutations
 * keep such bits, and the corpus fills up with the inputs that have them
 * (1,164 of the 1,983 scripts of a campaign's corpus had the bits that once
 * chose the checks), so that most inputs were checked.
 *
 * Script: byte 0 = flags (bit 0: do not reseal after whole-file edits; bit 1
 * unused; bits 2-4 and 5-7: the two probe queries to run, see queries[]),
 * then
 * up to 32 edits of 5 bytes [op, section, offset lo, offset hi, arg], some
 * followed by operand bytes. Section 0 means the whole assembled file
 * (header, section table, footer included); 1..TW_SEC_COUNT-1 a section (the
 * byte mod TW_SEC_COUNT).
 *   op%10: 0 xor byte with arg | 1 set byte | 2 set u32 from 4 operand bytes |
 *   3 set an interesting u32 (arg picks it) | 4 insert arg%8+1 operand bytes |
 *   5 delete arg%64+1 bytes | 6 copy arg+1 bytes from the offset in 2 operand
 *   bytes | 7 truncate at offset | 8 write a varint of 4 operand bytes |
 *   9 swap the bytes at offset and offset+arg.
 *
 * State: libFuzzer calls LLVMFuzzerTestOneInput with no context, so the
 * pristine sections and the scratch directory live in one static struct,
 * built on the first call; the directory is removed at exit.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "engine.h"
#include "segment.h"
#include "segtest.h"
#include "trawl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_seed(size_t i, const uint8_t **data, size_t *len);
static void bail(void);

#define NDOCS 140u
#define MAX_EDITS 32
#define SLACK 4096 /* room for inserted bytes */

typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

static struct {
    int ready;
    char dir[512];
    char segname[64];
    char segpath[640];
    bytes sec[TW_SEC_COUNT];  /* pristine sections 1..TW_SEC_COUNT-1 */
    bytes work[TW_SEC_COUNT]; /* their edited copies, SLACK bytes larger */
} base;                       /* see the state note above */

static void die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_segment: %s: %s\n", what, detail ? detail : "");
    bail();
}

static void st32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void remove_base(void) {
    DIR *d = opendir(base.dir);
    if (d) {
        struct dirent *e;
        char p[1024];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(p, sizeof p, "%s/%s", base.dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(base.dir);
    for (unsigned s = 0; s < TW_SEC_COUNT; s++) {
        free(base.sec[s].p);
        free(base.work[s].p);
    }
}

/* Fails the run: removes the scratch directory (atexit does not run on
 * abort), then aborts so that the driver or libFuzzer records the input. */
static void bail(void) {
    remove_base();
    abort();
}

/* Words of the base documents: common ones (in most documents: bitmap doc
 * lists, "the" in every body: two 128-doc blocks, run containers) and rare
 * ones (in a few documents, some in both title and body: varint doc lists,
 * records of several fields). "quick brown" makes the phrase query match. */
static const char *const common[] = {"alpha", "beta", "quick brown", "running", "runs", "index", "search", "the"};
static const char *const rare[] = {"gamma", "fox", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "42"};

/* Writes the base index and splits its segment into sections. The documents
 * are short (about 850 tokens in all): every input's check walks them all. */
static void build_base(void) {
    const char *tmp = getenv("TMPDIR");
    struct stat st;
    if (!tmp || !*tmp)
        tmp = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(base.dir, sizeof base.dir, "%s/trawl-fuzz-seg-XXXXXX", tmp);
    if (!mkdtemp(base.dir)) die("mkdtemp", base.dir);
    atexit(remove_base);
    trawl_writer *w = NULL;
    char *msg = NULL;
    if (trawl_writer_open(base.dir, "english", &w, &msg) != TRAWL_OK) die("writer_open", msg);
    uint32_t x = 12345;
    for (unsigned d = 0; d < NDOCS; d++) {
        char doc[512], title[128] = "", body[128] = "the ", extra[96] = "";
        size_t tl = 0, bl = strlen(body), el = 0;
        for (unsigned k = 0; k < 1 + d % 2; k++) {
            x = x * 1103515245u + 12345u;
            tl += (size_t)snprintf(title + tl, sizeof title - tl, "%s ", common[(x >> 16) % 8]);
        }
        for (unsigned k = 0; k < d % 3; k++) {
            x = x * 1103515245u + 12345u;
            bl += (size_t)snprintf(body + bl, sizeof body - bl, "%s ", common[(x >> 16) % 8]);
        }
        if (d % 9 == 0) tl += (size_t)snprintf(title + tl, sizeof title - tl, "%s", rare[d / 9 % 5]);
        if (d % 7 == 0) bl += (size_t)snprintf(body + bl, sizeof body - bl, "%s", rare[d / 7 % 5]);
        /* Tags: t0..t8 (varint lists) and x on even docs (a bitmap whose
         * field has tf 1 everywhere); keyword and date fields (KEYWORDS and
         * COLUMNS sections) missing on some documents. */
        if (d % 4 != 3) el += (size_t)snprintf(extra + el, sizeof extra - el, ",\"source\":\"S%u\"", d % 3);
        if (d % 10 != 9)
            el += (size_t)snprintf(extra + el, sizeof extra - el, ",\"date\":%u",
                                   1700000000u + d * 3600u * (d % 7 ? 1u : 40u));
        snprintf(doc, sizeof doc, "{\"id\":\"d%u\",\"title\":\"%s\",\"body\":\"%s\",\"tags\":[\"t%u\"%s],\"n\":%u%s}",
                 d, title, body, d % 9, d % 2 ? "" : ",\"x\"", d, extra);
        if (trawl_writer_add_json(w, doc, strlen(doc)) != TRAWL_OK) die("add_json", trawl_writer_errmsg(w));
    }
    if (trawl_writer_commit(w) != TRAWL_OK) die("commit", trawl_writer_errmsg(w));
    trawl_writer_close(w);
    snprintf(base.segname, sizeof base.segname, "seg-000001-0000.tws");
    snprintf(base.segpath, sizeof base.segpath, "%s/%s", base.dir, base.segname);
    FILE *f = fopen(base.segpath, "rb");
    if (!f) die("cannot read", base.segpath);
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *file = malloc(n);
    if (!file || fread(file, 1, n, f) != n) die("cannot read", base.segpath);
    fclose(f);
    /* TRAWL_FUZZ_DUMP_SEGMENT=path writes the pristine segment there (how
     * tests/fuzz/corpus/fuzz_segment/pristine.tws was made). */
    const char *dump = getenv("TRAWL_FUZZ_DUMP_SEGMENT");
    FILE *df = dump ? fopen(dump, "wb") : NULL;
    if (df) {
        fwrite(file, 1, n, df);
        fclose(df);
    }
    /* The committed whole-segment seed must open: after a format change it
     * would stop at the version check, and that mode reach nothing (as it did
     * from format 2 until this check). Checked when the source tree is known
     * (ctest's smoke run). */
    const char *src = getenv("TRAWL_SOURCE_DIR");
    if (src && *src) {
        char seed[1024], err[512];
        tw_segment *ss = NULL;
        snprintf(seed, sizeof seed, "%s/tests/fuzz/corpus/fuzz_segment/pristine.tws", src);
        if (tw_segment_open(seed, &ss, err, sizeof err) != TRAWL_OK)
            die("the seed no longer opens; remake it with TRAWL_FUZZ_DUMP_SEGMENT=that path", err);
        tw_segment_close(ss);
    }
    uint64_t table = tw_ld64(file + n - TW_FOOTER_SIZE);
    for (unsigned i = 0; i < TW_SEC_COUNT - 1; i++) {
        const uint8_t *e = file + table + (size_t)i * TW_SECTION_ENTRY;
        unsigned id = tw_ld32(e);
        uint64_t off = tw_ld64(e + 8), len = tw_ld64(e + 16);
        if (id < 1 || id >= TW_SEC_COUNT || off + len > n) die("unexpected segment layout", base.segpath);
        base.sec[id].p = malloc(len ? len : 1);
        if (!base.sec[id].p) die("out of memory", NULL);
        memcpy(base.sec[id].p, file + off, len);
        base.sec[id].len = base.sec[id].cap = len;
        base.work[id].cap = len + SLACK;
        if (!(base.work[id].p = malloc(base.work[id].cap))) die("out of memory", NULL);
    }
    free(file);
    base.ready = 1;
}

/* A sound segment file from sections sec[1..TW_SEC_COUNT-1] (malloc'd into *out). */
static void assemble(const bytes *sec, bytes *out) {
    size_t size = TW_HEADER_SIZE;
    for (unsigned s = 1; s < TW_SEC_COUNT; s++) size = (size + 7) / 8 * 8 + sec[s].len;
    size = (size + 7) / 8 * 8;
    size_t table = size;
    size += (size_t)(TW_SEC_COUNT - 1) * TW_SECTION_ENTRY + TW_FOOTER_SIZE;
    out->p = calloc(1, size);
    if (!out->p) die("out of memory", NULL);
    out->len = out->cap = size;
    memcpy(out->p, TW_SEG_MAGIC, 8);
    st32(out->p + 8, TW_FORMAT_VERSION);
    st32(out->p + 12, TW_SEC_COUNT - 1);
    size_t off = TW_HEADER_SIZE;
    for (unsigned s = 1; s < TW_SEC_COUNT; s++) {
        off = (off + 7) / 8 * 8;
        if (sec[s].len) memcpy(out->p + off, sec[s].p, sec[s].len);
        uint8_t *e = out->p + table + (size_t)(s - 1) * TW_SECTION_ENTRY;
        st32(e, s);
        st64(e + 8, off);
        st64(e + 16, sec[s].len);
        off += sec[s].len;
    }
    uint8_t *foot = out->p + size - TW_FOOTER_SIZE;
    st64(foot, table);
    st32(foot + 8, TW_SEC_COUNT - 1);
    st32(foot + 12, TW_FORMAT_VERSION);
    memcpy(foot + 24, TW_SEG_END_MAGIC, 8);
    reseal(out->p, out->len);
}

/* Reads up to n operand bytes from the script (zeros past its end). */
static uint64_t operand(const uint8_t **sp, const uint8_t *end, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)(*sp < end ? *(*sp)++ : 0) << (8 * i);
    return v;
}

/* Applies one edit to b (whose capacity allows SLACK extra bytes). */
static void edit(bytes *b, unsigned op, size_t off, unsigned arg, const uint8_t **sp, const uint8_t *end) {
    static const uint32_t interesting[] = {0,          1,           NDOCS - 1, NDOCS, NDOCS + 1, 127, 128, 129,
                                           0x7fffffff, 0xffffffffu, 65535,     65536, 31,        32,  255, 256};
    size_t n = b->len;
    if (n)
        off %= n;
    else if (op % 10 == 4)
        off = 0;
    else
        return;
    switch (op % 10) {
        case 0: b->p[off] ^= (uint8_t)arg; break;
        case 1: b->p[off] = (uint8_t)arg; break;
        case 2:
            if (off + 4 <= n) st32(b->p + off, (uint32_t)operand(sp, end, 4));
            break;
        case 3:
            if (off + 4 <= n) st32(b->p + off, interesting[arg % (sizeof interesting / sizeof interesting[0])]);
            break;
        case 4: {
            size_t k = arg % 8 + 1;
            if (n + k > b->cap) break;
            memmove(b->p + off + k, b->p + off, n - off);
            for (size_t i = 0; i < k; i++) b->p[off + i] = (uint8_t)operand(sp, end, 1);
            b->len += k;
            break;
        }
        case 5: {
            size_t k = arg % 64 + 1;
            if (k > n - off) k = n - off;
            memmove(b->p + off, b->p + off + k, n - off - k);
            b->len -= k;
            break;
        }
        case 6: {
            size_t from = (size_t)operand(sp, end, 2) % n, k = (size_t)arg + 1;
            if (k > n - from) k = n - from;
            if (k > n - off) k = n - off;
            memmove(b->p + off, b->p + from, k);
            break;
        }
        case 7: b->len = off; break;
        case 8: {
            uint32_t v = (uint32_t)operand(sp, end, 4);
            while (off < n) {
                b->p[off++] = (uint8_t)(v >= 0x80 ? (v & 0x7f) | 0x80 : v);
                if (v < 0x80) break;
                v >>= 7;
            }
            break;
        }
        default: {
            size_t o2 = (off + arg) % n;
            uint8_t t = b->p[off];
            b->p[off] = b->p[o2];
            b->p[o2] = t;
            break;
        }
    }
}

static const char *const queries[] = {"the",         "alpha beta",           "\"quick brown\"", "ru*",
                                      "title:alpha", "alpha -beta OR gamma", "tags:t3",         "NOT fox"};

/* Reads every typed value of every segment through the typed.h accessors
 * (which must stay inside the file whatever opened): values, counts, value
 * bitmaps (a corrupt one is reported, not crashed on), ordinals, column keys,
 * presence, and key ranges. Returns the number of failed bitmap reads. */
static int probe_typed(const trawl_index *idx) {
    int failed = 0;
    uint64_t sink = 0;
    for (uint32_t si = 0; si < idx->view.nsegs; si++) {
        const tw_segment *s = idx->view.segs[si].seg;
        for (uint32_t i = 0; i < s->nkw; i++) {
            const tw_kwfield *f = &s->kw[i];
            for (uint32_t o = 0; o < f->nvalues; o++) {
                size_t len;
                const char *v = tw_kw_value(f, o, &len);
                uint32_t found;
                sink += tw_kw_count(f, o) + (uint64_t)tw_kw_find(f, v, len, &found);
                tw_rview bm;
                char err[256];
                if (tw_kw_bitmap(f, o, &bm, err, sizeof err) != 0) {
                    failed++;
                    continue;
                }
                sink += bm.card;
                tw_rview_free(&bm);
            }
            for (uint32_t d = 0; d < f->ndocs; d++)
                for (uint32_t k = 0, n = tw_kw_doc_nvalues(f, d); k < n; k++) sink += tw_kw_doc_ord(f, d, k);
        }
        for (uint32_t i = 0; i < s->ncols; i++) {
            const tw_colfield *c = &s->cols[i];
            uint64_t lo, hi;
            tw_num a = {0, 1700000000, 0}, b = {1, 0, 1.8e9};
            sink += (uint64_t)tw_col_range(c, &a, 1, &b, 0, &lo, &hi);
            for (uint32_t d = 0; d < c->ndocs; d++)
                if (tw_col_has(c, d)) sink += tw_col_key(c, d);
        }
    }
    return failed + (sink == 42);
}

/* Searches (the queries whose bit is set in qmask), gets and (when stats is
 * set) stats on an open index. Returns the number of calls that failed (other
 * than not-found/syntax); *first gets the first one. */
static int probe(const trawl_index *idx, unsigned qmask, int stats, char *first, size_t cap) {
    int failed = 0;
    trawl_options *o = trawl_options_new();
    if (!o) die("out of memory", NULL);
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        if (!(qmask >> q & 1)) continue;
        /* Snippets and gets decompress a stored block (LZ4, ~32 KiB), the
         * costly part: about six per input, so that the target runs
         * thousands of inputs a second. */
        trawl_options_set_snippets(o, q == 0);
        trawl_options_set_count_only(o, q % 4 == 1);
        trawl_options_set_explain(o, q == 2);
        trawl_options_set_limit(o, q == 0 ? 2 : 4);
        trawl_results *res = NULL;
        int rc = trawl_search(idx, queries[q], o, &res);
        if (rc != TRAWL_OK && rc != TRAWL_ESYNTAX && !failed++)
            snprintf(first, cap, "search '%s': %s", queries[q], res ? trawl_results_errmsg(res) : "");
        if (rc == TRAWL_OK) {
            size_t n = trawl_results_count(res);
            if (n > 4 || trawl_results_total(res) < n) die("result counts out of contract", queries[q]);
            for (size_t i = 0; i < n; i++) {
                const char *id = trawl_results_id(res, i);
                if (!id) die("a hit without an id", queries[q]);
                (void)trawl_results_score(res, i);
                if (q == 0 && (!trawl_results_title(res, i) || !trawl_results_snippet(res, i, TRAWL_SNIPPET_ANSI)))
                    die("a hit without title or snippet", queries[q]);
                if (i > 0 || q % 2) continue;
                char *json = NULL;
                int grc = trawl_index_get(idx, id, &json);
                if (grc != TRAWL_OK && !failed++)
                    snprintf(first, cap, "search '%s': hit '%s' not fetched: %s", queries[q], id, trawl_strerror(grc));
                trawl_free(json);
            }
        }
        trawl_results_free(res);
    }
    trawl_options_free(o);
    static const char *const ids[] = {"d139", "d140", ""};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char *json = NULL;
        int rc = trawl_index_get(idx, ids[i], &json);
        if (rc == TRAWL_OK && !json) die("get gave OK and no text", ids[i]);
        if (rc != TRAWL_OK && rc != TRAWL_ENOTFOUND && !failed++)
            snprintf(first, cap, "get('%s'): %s", ids[i], trawl_strerror(rc));
        trawl_free(json);
    }
    if (stats) {
        char *text = NULL;
        int rc = trawl_index_stats(idx, &text);
        if (rc && !failed++) snprintf(first, cap, "stats: %s", trawl_strerror(rc));
        trawl_free(text);
    }
    return failed;
}

/* Query contexts (each with an analyzer, costly to make) kept from one input
 * to the next: given to the index (in = 1), taken back before it is closed
 * (in = 0). Every index here has the same language. Reaches into struct
 * trawl_index (engine.h), as only a test may. */
static void pool_swap(trawl_index *idx, int in) {
    static struct tw_qctx *kept[8];
    static int nkept;
    if (in) {
        for (int k = 0; k < nkept && idx->npool < 8; k++) idx->pool[idx->npool++] = kept[k];
        nkept = 0;
    } else {
        while (idx->npool > 0 && nkept < 8) kept[nkept++] = idx->pool[--idx->npool];
    }
}

/* The segment an edit script makes (see the header note), in *file. */
static void apply_script(const uint8_t *data, size_t size, bytes *file) {
    bytes *sec = base.work; /* allocated once (build_base): allocations cost under ASan */
    for (unsigned s = 1; s < TW_SEC_COUNT; s++) {
        memcpy(sec[s].p, base.sec[s].p, base.sec[s].len);
        sec[s].len = base.sec[s].len;
    }
    const uint8_t *sp = data, *end = data + size;
    unsigned flags = sp < end ? *sp++ : 0;
    /* Section edits first, then the whole-file edits (kept for later). */
    const uint8_t *file_edits[MAX_EDITS];
    int nfile = 0;
    for (int k = 0; k < MAX_EDITS && end - sp >= 5; k++) {
        const uint8_t *e = sp;
        sp += 5;
        unsigned s = e[1] % TW_SEC_COUNT;
        if (s == 0) {
            file_edits[nfile++] = e;
            unsigned op = e[0] % 10;
            sp += op == 2 || op == 8 ? 4 : op == 6 ? 2 : op == 4 ? e[4] % 8 + 1 : 0; /* skip operands */
            if (sp > end) sp = end;
            continue;
        }
        edit(&sec[s], e[0], (size_t)e[2] | (size_t)e[3] << 8, e[4], &sp, end);
    }
    assemble(sec, file);
    for (int k = 0; k < nfile; k++) {
        const uint8_t *e = file_edits[k], *op_sp = e + 5;
        size_t off = (size_t)e[2] | (size_t)e[3] << 8;
        if (file->len == 0) break;
        if (e[0] % 2) /* odd op bytes count from the end: the table and footer */
            off = file->len - 1 - off % (file->len < 1024 ? file->len : 1024);
        file->cap = file->len; /* no growth of the whole file */
        edit(file, e[0] % 10 == 4 ? 0 : e[0], off, e[4], &op_sp, end);
    }
    if (nfile && !(flags & 1)) reseal(file->p, file->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!base.ready) build_base();
    bytes file;
    int raw = size >= 8 && memcmp(data, TW_SEG_MAGIC, 8) == 0;
    int full_check = XXH3_64bits(data, size) % 4 == 0; /* see the header note */
    /* Two of the eight queries (the same one twice at times): a search costs
     * about as much as the rest of an input. */
    unsigned pick = raw ? (unsigned)size : size ? data[0] : 0, qmask = 1u << (pick >> 2 & 7) | 1u << (pick >> 5 & 7);
    if (raw) { /* a whole segment: resealed, else used as it is */
        file.p = malloc(size);
        if (!file.p) die("out of memory", NULL);
        memcpy(file.p, data, size);
        file.len = file.cap = size;
        reseal(file.p, file.len);
    } else {
        apply_script(data, size, &file);
    }

    /* Opened from memory, through the same validation as a file (see the
     * header note); file.p is malloc'd to its exact size, so the sanitizers
     * see any read past the end. */
    tw_segment *seg = NULL;
    trawl_index *idx = NULL;
    char msg[1024] = "";
    int rc = tw_segment_open_mem(file.p, file.len, base.segname, &seg, msg, sizeof msg);
    if (rc == TRAWL_OK)
        rc = tw_index_from_segments(&seg, 1, "english", (uint32_t[]){NDOCS}, base.dir, NULL, &idx, msg, sizeof msg);
    if (rc != TRAWL_OK) {
        if ((rc != TRAWL_ECORRUPT && rc != TRAWL_EVERSION) || !strstr(msg, base.segname)) {
            fprintf(stderr, "fuzz_segment: open gave %d (%s): %s\n", rc, trawl_strerror(rc), msg);
            bail();
        }
        free(file.p);
        return 0;
    }
    pool_swap(idx, 1);
    char first[1024] = "";
    int failed = probe(idx, qmask, full_check, first, sizeof first);
    failed += probe_typed(idx);
    char *report = NULL;
    rc = failed || full_check ? tw_index_check_open(idx, &report) : TRAWL_OK;
    pool_swap(idx, 0);
    trawl_index_close(idx);
    free(file.p);
    if (rc == TRAWL_OK && failed) {
        fprintf(stderr, "fuzz_segment: the check found nothing wrong, yet %d call(s) failed: %s\n", failed, first);
        bail();
    }
    if (rc != TRAWL_OK && (!report || !*report)) die("check failed with an empty report", NULL);
    free(report);
    return 0;
}

/* Seeds: the pristine segment, and one edit in each section and the file. */
static const uint8_t seed_bytes[][16] = {
    {0},
    {0, 0, 5, 0x10, 0x00, 0x01},                         /* postings: xor */
    {0, 3, 4, 0x00, 0x00, 0x04},                         /* dictidx: interesting u32 */
    {0, 4, 3, 0x20, 0x00, 0x02, 'z', 'z', 'z'},          /* dict: insert */
    {0, 1, 8, 0x00, 0x01, 0x55},                         /* store: set byte */
    {1, 0, 0, 0x08, 0x00, 0x01},                         /* header version, not resealed */
    {0, 2, 7, 0x05, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff}, /* ids: u32 */
    {0, 0, 1, 0x00, 0x00, 0x40},                         /* meta: xor */
    {0, 8, 6, 0x09, 0x00, 0x00, 0x80, 0x80, 0x80, 0x01}, /* positions: varint */
    {0, 5, 2, 0x30, 0x00, 0x07},                         /* doclen: delete */
    {0, 1, 0, 0x10, 0x00, 0x40},                         /* whole file, near the end: xor, resealed */
};
static const size_t seed_len[] = {1, 6, 6, 9, 6, 6, 10, 6, 10, 6, 6};

int fuzz_seed(size_t i, const uint8_t **data, size_t *len) {
    if (i >= sizeof seed_len / sizeof seed_len[0]) return -1;
    *data = seed_bytes[i];
    *len = seed_len[i];
    return 0;
}
