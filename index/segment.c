/*
 * segment.c — segment reader: maps a segment file, validates it, and serves
 * dictionary lookups, posting lists, ids and stored documents (contract in
 * segment.h, format in docs/FORMAT.md).
 *
 * Validation happens in two layers. On open: magic, version, footer, section
 * table, the checksum of every section, and the fixed-size structures (META,
 * DOCLEN, DICTIDX, IDS, STORE index) — so later lookups can trust those. On use:
 * every variable-length structure (dictionary blocks, posting records, position
 * streams, stored blocks) is decoded with bounds checks, so even a file that
 * passed its checksums but was written wrong cannot make the reader misbehave.
 */
#include "segment.h"
#include "mapreg.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "error.h"
#include "colcache.h"
#include "storecache.h"
#include "varint.h"

#define IDX_ENTRY 24u
#define STORE_ENTRY 24u

static const char *const section_names[TW_SEC_COUNT] = {
    "header", "meta", "doclen", "dict", "dictidx", "postings", "positions", "ids", "store", "keywords", "columns"};

const char *tw_section_name(unsigned id) {
    return id < TW_SEC_COUNT ? section_names[id] : "unknown";
}

/* (The comma expression shows the static analyzer that the result is never 0.) */
#define CORRUPT(s, sec, ...) (tw_err_section(err, errcap, TRAWL_ECORRUPT, (s)->path, sec, __VA_ARGS__), TRAWL_ECORRUPT)

void tw_segment_ref(tw_segment *s) {
    atomic_fetch_add(&s->extra_refs, 1);
}

void tw_segment_close(tw_segment *s) {
    if (!s) return;
    if (atomic_load(&s->extra_refs) > 0 && atomic_fetch_sub(&s->extra_refs, 1) > 0) return;
    if (s->mapped && s->map && s->size) munmap((void *)s->map, s->size);
    if (s->held) tw_mapreg_release(s->dev, s->ino);
    if (s->fields)
        for (uint32_t f = 0; f < s->nfields; f++) free(s->fields[f].name);
    free(s->fields);
    free(s->blocks);
    free(s->block_key8);
    free((void *)s->checked);
    tw_scache_free(s->scache);
    tw_ccache_free(s->ccache);
    tw_typed_close(s);
    free(s->path);
    free(s);
}

static int parse_meta(tw_segment *s, char *err, size_t errcap) {
    const uint8_t *p = s->sec[TW_SEC_META].p, *end = p + s->sec[TW_SEC_META].len;
    uint64_t nd, nf, nt, np, ll;
    if (tw_get_varint(&p, end, &nd) || tw_get_varint(&p, end, &nf) || tw_get_varint(&p, end, &nt) ||
        tw_get_varint(&p, end, &np) || tw_get_varint(&p, end, &ll))
        return CORRUPT(s, "meta", "truncated counts");
    if (nd > TW_MAX_DOCS_PER_SEGMENT || nf > TW_MAX_FIELDS || ll >= sizeof s->lang || ll > (size_t)(end - p))
        return CORRUPT(s, "meta", "count out of range");
    s->ndocs = (uint32_t)nd;
    s->nfields = (uint32_t)nf;
    s->nterms = nt;
    s->npostings = np;
    memcpy(s->lang, p, ll);
    s->lang[ll] = 0;
    p += ll;
    s->fields = calloc(nf ? nf : 1, sizeof *s->fields);
    if (!s->fields) return tw_err_section(err, errcap, TRAWL_ENOMEM, s->path, "meta", "out of memory");
    for (uint32_t f = 0; f < nf; f++) {
        uint64_t nl, docs, tokens;
        if (tw_get_varint(&p, end, &nl) || nl == 0 || nl > (size_t)(end - p))
            return CORRUPT(s, "meta", "field %u name truncated", f);
        s->fields[f].name = strndup((const char *)p, nl);
        if (!s->fields[f].name) return tw_err_section(err, errcap, TRAWL_ENOMEM, s->path, "meta", "out of memory");
        if (strlen(s->fields[f].name) != nl) return CORRUPT(s, "meta", "field %u name has a NUL byte", f);
        p += nl;
        if (tw_get_varint(&p, end, &docs) || tw_get_varint(&p, end, &tokens) || docs > nd)
            return CORRUPT(s, "meta", "field %u statistics invalid", f);
        s->fields[f].docs = (uint32_t)docs;
        s->fields[f].tokens = tokens;
    }
    /* Version 2: the schema's canonical JSON text. */
    uint64_t sl;
    if (tw_get_varint(&p, end, &sl) || sl == 0 || sl > (size_t)(end - p)) return CORRUPT(s, "meta", "schema truncated");
    char serr[256];
    int src = tw_schema_parse((const char *)p, (size_t)sl, &s->schema, serr, sizeof serr);
    if (src == TRAWL_ENOMEM) return tw_err_section(err, errcap, TRAWL_ENOMEM, s->path, "meta", "out of memory");
    if (src) return CORRUPT(s, "meta", "schema invalid: %s", serr);
    p += sl;
    if (p != end) return CORRUPT(s, "meta", "trailing bytes");
    if (s->sec[TW_SEC_DOCLEN].len != (uint64_t)nd * nf * 4)
        return CORRUPT(s, "doclen", "size %zu, expected %llu", s->sec[TW_SEC_DOCLEN].len,
                       (unsigned long long)nd * nf * 4);
    for (uint32_t f = 0; f < nf; f++) {
        const uint8_t *dl = s->sec[TW_SEC_DOCLEN].p + 4 * (size_t)f * nd;
        uint32_t mn = UINT32_MAX;
        for (uint32_t d = 0; d < nd; d++) {
            uint32_t v = tw_ld32(dl + 4 * (size_t)d);
            if (v && v < mn) mn = v;
        }
        s->fields[f].min_len = mn == UINT32_MAX ? 1 : mn;
    }
    return 0;
}

/* The first 8 bytes of key[0..len), big-endian, zero-padded. Two keys whose
 * key8 differ compare as their key8 do (a key ending early pads with 0, below
 * any byte the other has there, as a proper prefix sorts first); equal key8
 * say nothing. */
static uint64_t key8(const uint8_t *key, size_t len) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++) v = v << 8 | (i < len ? key[i] : 0);
    return v;
}

static int parse_dictidx(tw_segment *s, char *err, size_t errcap) {
    const uint8_t *p = s->sec[TW_SEC_DICTIDX].p;
    size_t len = s->sec[TW_SEC_DICTIDX].len;
    if (len < 4) return CORRUPT(s, "dictidx", "truncated");
    uint32_t nb = tw_ld32(p);
    if ((len - 4) / IDX_ENTRY < nb) return CORRUPT(s, "dictidx", "block table truncated");
    const uint8_t *keys = p + 4 + (size_t)nb * IDX_ENTRY;
    size_t keys_len = len - 4 - (size_t)nb * IDX_ENTRY;
    s->blocks = calloc(nb ? nb : 1, sizeof *s->blocks);
    s->block_key8 = calloc(nb ? nb : 1, sizeof *s->block_key8);
    if (!s->blocks || !s->block_key8)
        return tw_err_section(err, errcap, TRAWL_ENOMEM, s->path, "dictidx", "out of memory");
    uint64_t terms = 0;
    for (uint32_t b = 0; b < nb; b++) {
        const uint8_t *e = p + 4 + (size_t)b * IDX_ENTRY;
        tw_dict_block *d = &s->blocks[b];
        d->dict_off = tw_ld32(e);
        d->nterms = tw_ld32(e + 4);
        d->rec_base = tw_ld64(e + 8);
        uint32_t ko = tw_ld32(e + 16), kl = tw_ld32(e + 20);
        if (d->dict_off > s->sec[TW_SEC_DICT].len || (b > 0 && d->dict_off <= s->blocks[b - 1].dict_off))
            return CORRUPT(s, "dictidx", "block %u offset invalid", b);
        if (d->nterms == 0 || d->nterms > TW_DICT_BLOCK || d->rec_base > s->sec[TW_SEC_POSTINGS].len)
            return CORRUPT(s, "dictidx", "block %u header invalid", b);
        if (ko > keys_len || kl > keys_len - ko || kl < 1 || kl > 255)
            return CORRUPT(s, "dictidx", "block %u key out of range", b);
        d->first_key = keys + ko;
        d->first_key_len = kl;
        s->block_key8[b] = key8(d->first_key, kl);
        d->first_ord = (uint32_t)terms;
        terms += d->nterms;
        if (terms > UINT32_MAX) return CORRUPT(s, "dictidx", "too many terms");
    }
    s->nblocks = nb;
    if (terms != s->nterms)
        return CORRUPT(s, "dictidx", "term count %llu, meta says %llu", (unsigned long long)terms,
                       (unsigned long long)s->nterms);
    s->checked = calloc((size_t)(terms / 64 + 1), sizeof *s->checked);
    if (!s->checked) return tw_err_section(err, errcap, TRAWL_ENOMEM, s->path, "dictidx", "out of memory");
    return 0;
}

static int parse_ids(tw_segment *s, char *err, size_t errcap) {
    const uint8_t *p = s->sec[TW_SEC_IDS].p;
    size_t len = s->sec[TW_SEC_IDS].len;
    if (len < 4 || tw_ld32(p) != s->ndocs) return CORRUPT(s, "ids", "document count mismatch");
    size_t nd = s->ndocs;
    if ((len - 4) / 4 < 2 * nd + 1) return CORRUPT(s, "ids", "tables truncated");
    s->id_offs = p + 4;
    s->id_sorted = s->id_offs + 4 * (nd + 1);
    s->id_pool = s->id_sorted + 4 * nd;
    s->id_pool_len = len - 4 - 4 * (2 * nd + 1);
    uint32_t prev = 0;
    for (size_t d = 0; d <= nd; d++) {
        uint32_t o = tw_ld32(s->id_offs + 4 * d);
        if (o < prev || o > s->id_pool_len || (d > 0 && o == prev))
            return CORRUPT(s, "ids", "offset of doc %zu invalid", d);
        prev = o;
    }
    if (prev != s->id_pool_len) return CORRUPT(s, "ids", "pool size mismatch");
    for (size_t d = 0; d < nd; d++)
        if (tw_ld32(s->id_sorted + 4 * d) >= nd) return CORRUPT(s, "ids", "sorted entry %zu out of range", d);
    return 0;
}

static int parse_store(tw_segment *s, char *err, size_t errcap) {
    const uint8_t *p = s->sec[TW_SEC_STORE].p;
    size_t len = s->sec[TW_SEC_STORE].len;
    if (len < 8) return CORRUPT(s, "store", "truncated");
    uint32_t nb = tw_ld32(p);
    if ((len - 8) / STORE_ENTRY < nb) return CORRUPT(s, "store", "block index truncated");
    s->store_nblocks = nb;
    s->store_index = p + 8;
    s->store_data = s->store_index + (size_t)nb * STORE_ENTRY;
    s->store_data_len = len - 8 - (size_t)nb * STORE_ENTRY;
    uint64_t expect = 0;
    for (uint32_t b = 0; b < nb; b++) {
        const uint8_t *e = s->store_index + (size_t)b * STORE_ENTRY;
        uint32_t first = tw_ld32(e), clen = tw_ld32(e + 4), ulen = tw_ld32(e + 8);
        uint64_t off = tw_ld64(e + 16);
        /* LZ4 expands at most about 255 times: a larger claimed size is damage. */
        if (off != expect || clen > s->store_data_len - off || ulen == 0 || ulen > (uint32_t)LZ4_MAX_INPUT_SIZE ||
            (uint64_t)ulen > 255ull * clen + 64 || first >= s->ndocs || (b == 0 && first != 0) ||
            (b > 0 && first <= tw_ld32(e - STORE_ENTRY)))
            return CORRUPT(s, "store", "block %u header invalid", b);
        expect = off + clen;
    }
    if (expect != s->store_data_len || (nb == 0 && s->ndocs > 0))
        return CORRUPT(s, "store", "block data size mismatch");
    return 0;
}

/* A new segment named path, or NULL (message in err) when out of memory. */
static tw_segment *segment_new(const char *path, char *err, size_t errcap) {
    tw_segment *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path)) || !(s->scache = tw_scache_new()) || !(s->ccache = tw_ccache_new())) {
        if (s) tw_scache_free(s->scache);
        if (s) free(s->path);
        free(s);
        tw_err_section(err, errcap, TRAWL_ENOMEM, path, "header", "out of memory");
        return NULL;
    }
    return s;
}

/* Validates the segment bytes s->map[0..s->size) — header, footer, section
 * table, every checksum, the fixed structures — and fills the rest of s.
 * Shared by the file and memory paths. Returns 0 or a trawl_rc (message). */
static int segment_validate(tw_segment *s, char *err, size_t errcap) {
    const char *path = s->path;
    int rc;
    if (s->size < TW_HEADER_SIZE + TW_FOOTER_SIZE)
        return CORRUPT(s, "header", "file truncated (%llu bytes)", (unsigned long long)s->size);
    const uint8_t *m = s->map;
    if (memcmp(m, TW_SEG_MAGIC, 8) != 0) return CORRUPT(s, "header", "bad magic (not a trawl segment)");
    if (tw_ld32(m + 8) == 1)
        return tw_err_section(err, errcap, TRAWL_EVERSION, path, "header",
                              "format version 1 (written before typed fields), this build reads %u: rebuild the "
                              "index with `trawl index`",
                              TW_FORMAT_VERSION);
    if (tw_ld32(m + 8) != TW_FORMAT_VERSION)
        return tw_err_section(err, errcap, TRAWL_EVERSION, path, "header", "format version %u, this build reads %u",
                              tw_ld32(m + 8), TW_FORMAT_VERSION);
    const uint8_t *foot = m + s->size - TW_FOOTER_SIZE;
    if (memcmp(foot + 24, TW_SEG_END_MAGIC, 8) != 0) return CORRUPT(s, "footer", "bad end magic (file truncated?)");
    uint64_t table_off = tw_ld64(foot);
    uint32_t nsec = tw_ld32(foot + 8);
    if (nsec != TW_SEC_COUNT - 1 || tw_ld32(m + 12) != nsec || tw_ld32(foot + 12) != TW_FORMAT_VERSION ||
        table_off < TW_HEADER_SIZE || table_off > s->size - TW_FOOTER_SIZE ||
        s->size - TW_FOOTER_SIZE - table_off != (uint64_t)nsec * TW_SECTION_ENTRY)
        return CORRUPT(s, "footer", "section table location invalid");
    XXH3_state_t *xs = XXH3_createState();
    if (!xs) return tw_err_section(err, errcap, TRAWL_ENOMEM, path, "footer", "out of memory");
    XXH3_64bits_reset(xs);
    XXH3_64bits_update(xs, m, TW_HEADER_SIZE);
    XXH3_64bits_update(xs, m + table_off, (size_t)nsec * TW_SECTION_ENTRY);
    uint64_t hsum = XXH3_64bits_digest(xs);
    XXH3_freeState(xs);
    if (hsum != tw_ld64(foot + 16)) return CORRUPT(s, "footer", "header/section table checksum mismatch");
    uint64_t prev_end = TW_HEADER_SIZE;
    for (uint32_t i = 0; i < nsec; i++) {
        const uint8_t *e = m + table_off + (size_t)i * TW_SECTION_ENTRY;
        uint32_t id = tw_ld32(e);
        uint64_t off = tw_ld64(e + 8), len = tw_ld64(e + 16), sum = tw_ld64(e + 24);
        if (id != i + 1 || off < prev_end || off > table_off || len > table_off - off)
            return CORRUPT(s, tw_section_name(id < TW_SEC_COUNT ? id : 0), "location invalid");
        if (XXH3_64bits(m + off, (size_t)len) != sum) return CORRUPT(s, tw_section_name(id), "checksum mismatch");
        s->sec[id].p = m + off;
        s->sec[id].len = (size_t)len;
        prev_end = off + len;
    }
    if ((rc = parse_meta(s, err, errcap)) || (rc = parse_dictidx(s, err, errcap)) || (rc = parse_ids(s, err, errcap)) ||
        (rc = parse_store(s, err, errcap)) || (rc = tw_typed_open(s, err, errcap)))
        return rc;
    if ((uintptr_t)s->sec[TW_SEC_DOCLEN].p % 4 != 0) return CORRUPT(s, "doclen", "misaligned");
    return 0;
}

int tw_segment_open(const char *path, tw_segment **out, char *err, size_t errcap) {
    *out = NULL;
    tw_segment *s = segment_new(path, err, errcap);
    if (!s) return TRAWL_ENOMEM;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = tw_err_section(err, errcap, TRAWL_EIO, path, "header", "cannot open: %s", strerror(errno));
        tw_segment_close(s);
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = tw_err_section(err, errcap, TRAWL_EIO, path, "header", "cannot stat: %s", strerror(errno));
        close(fd);
        tw_segment_close(s);
        return rc;
    }
    int rc = 0;
    if ((uint64_t)st.st_size < TW_HEADER_SIZE + TW_FOOTER_SIZE) {
        rc = CORRUPT(s, "header", "file truncated (%lld bytes)", (long long)st.st_size);
    } else {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED)
            rc = tw_err_section(err, errcap, TRAWL_EIO, path, "header", "mmap failed: %s", strerror(errno));
        else {
            s->map = m;
            s->size = (size_t)st.st_size;
            s->mapped = 1;
            if ((rc = tw_mapreg_hold(st.st_dev, st.st_ino)) != 0)
                tw_err_section(err, errcap, rc, path, "header", "out of memory");
            else
                s->dev = st.st_dev, s->ino = st.st_ino, s->held = 1;
        }
    }
    close(fd);
    if (rc == 0) rc = segment_validate(s, err, errcap);
    if (rc) {
        tw_segment_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void tw_segment_drop_pages(const tw_segment *s) {
    if (s && s->mapped && s->map && s->size) (void)madvise((void *)s->map, s->size, MADV_DONTNEED);
}

int tw_segment_open_mem(const uint8_t *data, size_t size, const char *name, tw_segment **out, char *err,
                        size_t errcap) {
    *out = NULL;
    tw_segment *s = segment_new(name, err, errcap);
    if (!s) return TRAWL_ENOMEM;
    s->map = data;
    s->size = size;
    int rc = segment_validate(s, err, errcap);
    if (rc) {
        tw_segment_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int tw_segment_field(const tw_segment *s, const char *name) {
    for (uint32_t f = 0; f < s->nfields; f++)
        if (strcmp(s->fields[f].name, name) == 0) return (int)f;
    return TRAWL_ENOTFOUND;
}

static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

/* The bytes of dictionary block b: its first in *p, the end returned. */
static const uint8_t *block_bytes(const tw_segment *s, uint32_t b, const uint8_t **p) {
    const uint8_t *dict = s->sec[TW_SEC_DICT].p;
    *p = dict + s->blocks[b].dict_off;
    return b + 1 < s->nblocks ? dict + s->blocks[b + 1].dict_off : dict + s->sec[TW_SEC_DICT].len;
}

/* One front-coded dictionary entry: the previous key's first `shared` bytes
 * then sfx[0..suffix), and its posting reference. */
typedef struct dict_entry {
    uint64_t shared, suffix, df, rlen;
    const uint8_t *sfx;
} dict_entry;

/* Reads entry i of block b from *pp (before end; prev: the previous key's
 * length) with every check, advancing *pp and the record offset *rec. 0 or
 * TRAWL_ECORRUPT with a message. */
static int dict_entry_read(const tw_segment *s, uint32_t b, uint32_t i, const uint8_t **pp, const uint8_t *end,
                           size_t prev, uint64_t *rec, dict_entry *e, char *err, size_t errcap) {
    const tw_dict_block *d = &s->blocks[b];
    const uint8_t *p = *pp;
    size_t plen = s->sec[TW_SEC_POSTINGS].len;
    uint64_t delta;
    if (tw_get_varint(&p, end, &e->shared) || tw_get_varint(&p, end, &e->suffix) || e->shared > prev ||
        e->suffix > 256 - e->shared || e->suffix > (size_t)(end - p) || (i == 0 && e->shared != 0) ||
        e->shared + e->suffix == 0)
        return CORRUPT(s, "dict", "block %u entry %u key invalid", b, i);
    e->sfx = p;
    p += e->suffix;
    if (tw_get_varint(&p, end, &e->df) || tw_get_varint(&p, end, &delta) || tw_get_varint(&p, end, &e->rlen) ||
        e->df == 0 || e->df > s->ndocs || delta > plen || *rec + delta > plen || e->rlen > plen - (*rec + delta) ||
        e->rlen == 0 || (i > 0 && delta == 0))
        return CORRUPT(s, "dict", "block %u entry %u posting reference invalid", b, i);
    if (i == 0 && key_cmp(e->sfx, e->suffix, d->first_key, d->first_key_len) != 0)
        return CORRUPT(s, "dict", "block %u first key differs from index", b);
    *rec += delta;
    *pp = p;
    return 0;
}

/* Walks dictionary block b, calling fn(ctx, key, klen, ref) for each entry.
 * fn returns 0 to go on, 1 to stop (success), other values are passed back. */
typedef int (*entry_fn)(void *ctx, const uint8_t *key, size_t klen, const tw_term_ref *ref);

static int walk_block(const tw_segment *s, uint32_t b, entry_fn fn, void *ctx, char *err, size_t errcap) {
    const tw_dict_block *d = &s->blocks[b];
    const uint8_t *p, *end = block_bytes(s, b, &p);
    uint8_t key[256];
    size_t klen = 0;
    uint64_t rec = d->rec_base;
    for (uint32_t i = 0; i < d->nterms; i++) {
        dict_entry e;
        int rc = dict_entry_read(s, b, i, &p, end, klen, &rec, &e, err, errcap);
        if (rc) return rc;
        memcpy(key + e.shared, e.sfx, e.suffix);
        klen = e.shared + e.suffix;
        tw_term_ref ref = {(uint32_t)e.df, TW_ANY_FIELD, rec, (uint32_t)e.rlen, d->first_ord + i};
        rc = fn(ctx, key, klen, &ref);
        if (rc) return rc;
    }
    if (p != end) return CORRUPT(s, "dict", "block %u has trailing bytes", b);
    return 0;
}

/* Index of the last block whose first key <= key, or -1. The search reads
 * the dense key8 array and the keys themselves only on a tie. */
static int64_t find_block(const tw_segment *s, const uint8_t *key, size_t klen) {
    int64_t lo = 0, hi = (int64_t)s->nblocks - 1, ans = -1;
    uint64_t k8 = key8(key, klen);
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        const tw_dict_block *d = &s->blocks[mid];
        uint64_t m8 = s->block_key8[mid];
        if (m8 < k8 || (m8 == k8 && key_cmp(d->first_key, d->first_key_len, key, klen) <= 0)) {
            ans = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return ans;
}

/* Narrows a whole-record ref to one field: reads the record's field table.
 * Returns 1 if the field has the term (ref updated), 0 if not, <0 if corrupt. */
static int narrow(const tw_segment *s, tw_term_ref *ref, uint32_t field, char *err, size_t errcap) {
    if (field == TW_ANY_FIELD) return 1;
    tw_postings p;
    int rc = tw_postings_open(s, ref, 0, &p, err, errcap);
    if (rc) return rc;
    int k = tw_postings_field(&p, field);
    if (k >= 0) {
        ref->df = p.f[k].df;
        ref->field = field;
    }
    tw_postings_close(&p);
    return k >= 0;
}

/* Looks key[0..klen) up in dictionary block b with the checks of walk_block,
 * without rebuilding each key: the front coding tells how each key compares
 * with the one sought. m is how many leading bytes the previous key (smaller
 * than key) shares with key. An entry sharing fewer than m bytes with the
 * previous one is greater than key (its byte at `shared` exceeds the previous
 * key's, which equals key's); one sharing more is still smaller (it keeps the
 * previous key's smaller byte at m); only one sharing exactly m bytes is
 * compared, from byte m. Returns 1 (found, *ref set), 0, or a negative
 * trawl_rc (corrupt block, message in err). */
static int block_find(const tw_segment *s, uint32_t b, const uint8_t *key, size_t klen, tw_term_ref *ref, char *err,
                      size_t errcap) {
    const tw_dict_block *d = &s->blocks[b];
    const uint8_t *p, *end = block_bytes(s, b, &p);
    size_t cur = 0, m = 0; /* length of the previous key; its common prefix with key */
    uint64_t rec = d->rec_base;
    for (uint32_t i = 0; i < d->nterms; i++) {
        dict_entry e;
        int rc = dict_entry_read(s, b, i, &p, end, cur, &rec, &e, err, errcap);
        if (rc) return rc;
        cur = e.shared + e.suffix;
        size_t shared = e.shared, suffix = e.suffix;
        const uint8_t *sfx = e.sfx;
        if (shared < m) return 0; /* past key */
        if (shared > m) continue; /* still before key */
        /* The entry is key[0..m) + sfx[0..suffix): compare from byte m. */
        size_t rest = klen - m, n = suffix < rest ? suffix : rest, j = 0;
        while (j < n && sfx[j] == key[m + j]) j++;
        if (j < n) {
            if (sfx[j] > key[m + j]) return 0;
            m += j;
            continue;
        }
        if (suffix == rest) {
            *ref = (tw_term_ref){(uint32_t)e.df, TW_ANY_FIELD, rec, (uint32_t)e.rlen, d->first_ord + i};
            return 1;
        }
        if (suffix > rest) return 0; /* key is a proper prefix of the entry */
        m += j;                      /* the entry is a proper prefix of key */
    }
    if (p != end) return CORRUPT(s, "dict", "block %u has trailing bytes", b);
    return 0;
}

int tw_segment_lookup(const tw_segment *s, uint32_t field, const char *term, size_t len, tw_term_ref *ref, char *err,
                      size_t errcap) {
    if (len == 0 || len > 255 || (field != TW_ANY_FIELD && field >= s->nfields)) return 0;
    int64_t b = find_block(s, (const uint8_t *)term, len);
    if (b < 0) return 0;
    int rc = block_find(s, (uint32_t)b, (const uint8_t *)term, len, ref, err, errcap);
    if (rc <= 0) return rc;
    return narrow(s, ref, field, err, errcap);
}

typedef struct prefix_ctx {
    const tw_segment *s;
    const uint8_t *key;
    size_t klen;
    uint32_t field;
    tw_term_fn fn;
    void *ctx;
    int done;
    int user_rc;
    char *err;
    size_t errcap;
} prefix_ctx;

static int prefix_fn(void *c, const uint8_t *key, size_t klen, const tw_term_ref *ref) {
    prefix_ctx *x = c;
    if (klen >= x->klen && memcmp(key, x->key, x->klen) == 0) {
        tw_term_ref r = *ref;
        int has = narrow(x->s, &r, x->field, x->err, x->errcap);
        if (has < 0) return has;
        int rc = has ? x->fn(x->ctx, (const char *)key, klen, &r) : 0;
        if (rc) {
            x->done = 1;
            x->user_rc = rc;
            return 1;
        }
        return 0;
    }
    if (key_cmp(key, klen, x->key, x->klen) > 0) {
        x->done = 1;
        return 1;
    }
    return 0;
}

int tw_segment_prefix(const tw_segment *s, uint32_t field, const char *prefix, size_t len, tw_term_fn fn, void *ctx,
                      char *err, size_t errcap) {
    if (len > 255 || (field != TW_ANY_FIELD && field >= s->nfields)) return 0;
    int64_t b = find_block(s, (const uint8_t *)prefix, len);
    if (b < 0) b = 0;
    prefix_ctx x = {s, (const uint8_t *)prefix, len, field, fn, ctx, 0, 0, err, errcap};
    for (uint32_t i = (uint32_t)b; i < s->nblocks && !x.done; i++) {
        int rc = walk_block(s, i, prefix_fn, &x, err, errcap);
        if (rc < 0) return rc;
    }
    return x.user_rc;
}

typedef struct each_ctx {
    tw_term_fn fn;
    void *ctx;
    uint8_t prevkey[256];
    size_t prevlen;
    int user_rc;
    int disorder; /* keys out of order were found */
} each_ctx;

static int each_fn(void *c, const uint8_t *key, size_t klen, const tw_term_ref *ref) {
    each_ctx *x = c;
    if (x->prevlen && key_cmp(x->prevkey, x->prevlen, key, klen) >= 0) {
        x->disorder = 1;
        return TRAWL_ECORRUPT;
    }
    memcpy(x->prevkey, key, klen);
    x->prevlen = klen;
    int rc = x->fn(x->ctx, (const char *)key, klen, ref);
    if (rc) x->user_rc = rc;
    return rc ? 1 : 0;
}

int tw_segment_each_term(const tw_segment *s, tw_term_fn fn, void *ctx, char *err, size_t errcap) {
    each_ctx x;
    memset(&x, 0, sizeof x);
    x.fn = fn;
    x.ctx = ctx;
    for (uint32_t b = 0; b < s->nblocks && !x.user_rc; b++) {
        int rc = walk_block(s, b, each_fn, &x, err, errcap);
        if (x.disorder) return CORRUPT(s, "dict", "keys out of order in block %u", b);
        if (rc < 0) return rc;
    }
    return x.user_rc;
}

/* ---- posting records ---- */

void tw_postings_close(tw_postings *p) {
    if (!p) return;
    tw_rview_free(&p->view);
    for (uint32_t i = 0; p->f && i < p->nf; i++) free(p->f[i].tf_block_off);
    free(p->f);
    p->f = NULL;
    p->nf = 0;
}

int tw_postings_field(const tw_postings *p, uint32_t field) {
    for (uint32_t i = 0; i < p->nf; i++)
        if (p->f[i].field == field) return (int)i;
    return TRAWL_ENOTFOUND;
}

uint32_t tw_postings_tf(const tw_postings *p, uint32_t rank) {
    if (p->filter >= 0) return tw_pfield_tf(&p->f[p->filter], rank);
    uint32_t tf = 0;
    for (uint32_t i = 0; i < p->nf; i++) tf += tw_pfield_tf(&p->f[i], rank);
    return tf;
}

/* Parses one field's part of a record at *q. deep: also check the positions
 * block table (once per record: a record that passed is marked checked, and
 * its bytes are immutable). */
static int parse_field(const tw_segment *s, tw_postings *p, tw_pfield *f, const uint8_t **qp, const uint8_t *end,
                       uint32_t prev_field, int deep, char *err, size_t errcap, uint64_t at) {
    const uint8_t *q = *qp;
    uint64_t field, df;
    if (tw_get_varint(&q, end, &field) || tw_get_varint(&q, end, &df) || q >= end || field >= s->nfields ||
        (prev_field != TW_ANY_FIELD && field <= prev_field) || df == 0 || df > p->df)
        return CORRUPT(s, "postings", "field table of record at %llu invalid", (unsigned long long)at);
    f->field = (uint32_t)field;
    f->df = (uint32_t)df;
    f->flags = *q++;
    if (f->flags & ~(TW_FF_TF_ONE | TW_FF_BLOCKMAX) || ((f->flags & TW_FF_TF_ONE) && df != p->df))
        return CORRUPT(s, "postings", "field flags of record at %llu invalid", (unsigned long long)at);
    uint32_t nblocks = (p->df + TW_BLOCK - 1) / TW_BLOCK;
    if (!(f->flags & TW_FF_TF_ONE)) {
        if ((size_t)(end - q) < nblocks) goto bad_tf;
        f->tf_widths = q;
        q += nblocks;
        /* Block 0 starts at tf_data: a one-block list needs no offsets. */
        if (nblocks > 1) {
            f->tf_block_off = malloc(sizeof *f->tf_block_off * nblocks);
            if (!f->tf_block_off)
                return tw_err_section(err, errcap, TRAWL_ENOMEM, s->path, "postings", "out of memory");
        }
        f->tf_data = q;
        /* Every block but the last holds TW_BLOCK (128) tfs: 16·w bytes. */
        size_t off = 0;
        unsigned any = 0; /* OR of the widths: above 31 iff one is */
        for (uint32_t b = 0; b + 1 < nblocks; b++) {
            unsigned w = f->tf_widths[b];
            any |= w;
            f->tf_block_off[b] = (uint32_t)off;
            off += (size_t)w * (TW_BLOCK / 8);
        }
        if (nblocks > 0) {
            unsigned w = f->tf_widths[nblocks - 1];
            any |= w;
            if (nblocks > 1) f->tf_block_off[nblocks - 1] = (uint32_t)off;
            off += ((size_t)(p->df - (nblocks - 1) * TW_BLOCK) * w + 7) / 8;
        }
        if (any > 31) goto bad_tf;
        if ((size_t)(end - q) < off + 4) goto bad_tf;
        q += off + 4;
    }
    if (f->flags & TW_FF_BLOCKMAX) {
        size_t need = (size_t)nblocks * TW_BLOCKMAX_ENTRY;
        if ((size_t)(end - q) < need)
            return CORRUPT(s, "postings", "block maxima of record at %llu truncated", (unsigned long long)at);
        f->bmax = q;
        q += need;
    }
    uint64_t poff, plen;
    size_t qlen = s->sec[TW_SEC_POSITIONS].len;
    if (tw_get_varint(&q, end, &poff) || tw_get_varint(&q, end, &plen) || poff > qlen || plen > qlen - poff)
        return CORRUPT(s, "postings", "positions reference of record at %llu invalid", (unsigned long long)at);
    const uint8_t *pb = s->sec[TW_SEC_POSITIONS].p + poff;
    size_t table = nblocks > 1 ? 4 * (size_t)nblocks : 0;
    if (plen < table) return CORRUPT(s, "positions", "block table at %llu truncated", (unsigned long long)poff);
    f->pos_table = table ? pb : NULL;
    f->pos_data = pb + table;
    f->pos_end = pb + plen;
    for (uint32_t b = 0; deep && b < nblocks && table; b++)
        if (tw_ld32(pb + 4 * b) > plen - table || (b > 0 && tw_ld32(pb + 4 * b) < tw_ld32(pb + 4 * (b - 1))))
            return CORRUPT(s, "positions", "block table at %llu invalid", (unsigned long long)poff);
    *qp = q;
    return 0;
bad_tf:
    return CORRUPT(s, "postings", "term frequencies of record at %llu invalid", (unsigned long long)at);
}

int tw_postings_open(const tw_segment *s, const tw_term_ref *ref, int deep, tw_postings *p, char *err, size_t errcap) {
    memset(p, 0, sizeof *p);
    p->seg = s;
    p->filter = -1;
    unsigned long long at = (unsigned long long)ref->rec_off;
    if (ref->ord >= s->nterms) return CORRUPT(s, "dict", "term ordinal %u out of range", ref->ord);
    _Atomic uint64_t *word = &s->checked[ref->ord / 64];
    uint64_t bit = 1ULL << (ref->ord % 64);
    int first_use = !(atomic_load_explicit(word, memory_order_acquire) & bit);
    deep |= first_use;
    const uint8_t *q = s->sec[TW_SEC_POSTINGS].p + ref->rec_off, *end = q + ref->rec_len;
    uint64_t nf;
    if (ref->rec_len < 2) return CORRUPT(s, "postings", "record at %llu too short", at);
    p->flags = *q++;
    if (p->flags & ~TW_PF_BITMAP) return CORRUPT(s, "postings", "unknown flags at %llu", at);
    if (tw_get_varint(&q, end, &nf) || nf == 0 || nf > s->nfields)
        return CORRUPT(s, "postings", "field count of record at %llu invalid", at);
    /* The doc list's length is checked against the dictionary's df unless the
     * ref was narrowed to one field (then it carries that field's df). */
    if (p->flags & TW_PF_BITMAP) {
        uint64_t n;
        size_t used;
        const char *why = "";
        if (tw_get_varint(&q, end, &n) || n > (size_t)(end - q))
            return CORRUPT(s, "postings", "bitmap size invalid at %llu", at);
        int rc = tw_rview_parse(q, (size_t)n, deep, &p->view, &used, &why);
        if (rc == TRAWL_ENOMEM) return tw_err_section(err, errcap, rc, s->path, "postings", "out of memory");
        if (rc || used != n || p->view.card == 0 || p->view.card > s->ndocs ||
            (ref->field == TW_ANY_FIELD && p->view.card != ref->df)) {
            tw_postings_close(p);
            return CORRUPT(s, "postings", "bitmap at %llu: %s", at, rc ? why : "cardinality differs from dictionary");
        }
        p->df = (uint32_t)p->view.card;
        p->bm = q;
        p->bm_len = (size_t)n;
        /* Doc ids must be below ndocs: the last container's last value
         * (checked on the record's first use, like its containers). */
        tw_riter it;
        if (deep) tw_riter_init(&it, &p->view);
        if (deep && tw_riter_seek(&it, s->ndocs)) {
            tw_postings_close(p);
            return CORRUPT(s, "postings", "bitmap at %llu holds a doc id >= %u", at, s->ndocs);
        }
        q += n;
    } else {
        uint64_t cnt, next = 0, g;
        if (tw_get_varint(&q, end, &cnt) || cnt == 0 || cnt > TW_INLINE_MAX_DF ||
            (ref->field == TW_ANY_FIELD && cnt != ref->df))
            return CORRUPT(s, "postings", "doc count at %llu invalid", at);
        p->gaps = q;
        for (uint64_t i = 0; i < cnt; i++) {
            if (tw_get_varint(&q, end, &g) || next + g >= s->ndocs)
                return CORRUPT(s, "postings", "doc list at %llu invalid", at);
            next += g + 1;
        }
        p->df = (uint32_t)cnt;
        p->gaps_end = q;
    }
    p->f = calloc(nf, sizeof *p->f);
    if (!p->f) {
        tw_postings_close(p);
        tw_err_section(err, errcap, TRAWL_ENOMEM, s->path, "postings", "out of memory");
        return TRAWL_ENOMEM; /* (not tw_err_section's result: the analyzer could not see it is never 0) */
    }
    uint32_t prev = TW_ANY_FIELD;
    for (uint32_t i = 0; i < nf; i++) {
        p->nf = i + 1;
        int rc = parse_field(s, p, &p->f[i], &q, end, prev, deep, err, errcap, at);
        if (rc) {
            tw_postings_close(p);
            return rc;
        }
        prev = p->f[i].field;
    }
    if (q != end) {
        tw_postings_close(p);
        return CORRUPT(s, "postings", "record at %llu has trailing bytes", at);
    }
    if (ref->field != TW_ANY_FIELD) {
        p->filter = tw_postings_field(p, ref->field);
        if (p->filter < 0 || p->f[p->filter].df != ref->df) {
            tw_postings_close(p);
            return CORRUPT(s, "postings", "record at %llu lacks field %u", at, ref->field);
        }
    }
    if (first_use) atomic_fetch_or_explicit(word, bit, memory_order_release);
    return 0;
}

static uint32_t piter_raw_next(tw_piter *it) {
    if (it->doc == TW_DOC_END) return TW_DOC_END;
    if (it->p->flags & TW_PF_BITMAP) {
        if (!tw_riter_next(&it->rit)) return it->doc = TW_DOC_END;
        it->rank++;
        return it->doc = it->rit.value;
    }
    uint64_t g;
    if (it->rank + 1 >= it->p->df || tw_get_varint(&it->gp, it->p->gaps_end, &g)) return it->doc = TW_DOC_END;
    it->rank++;
    return it->doc = it->doc + 1 + (uint32_t)g;
}

/* With a field filter, moves on to the first doc that has the term in it. */
static uint32_t piter_filter(tw_piter *it) {
    const tw_postings *p = it->p;
    if (p->filter < 0) return it->doc;
    const tw_pfield *f = &p->f[p->filter];
    if (f->flags & TW_FF_TF_ONE) return it->doc;
    while (it->doc != TW_DOC_END && tw_pfield_tf(f, it->rank) == 0) piter_raw_next(it);
    return it->doc;
}

void tw_piter_init(tw_piter *it, const tw_postings *p) {
    memset(it, 0, sizeof *it);
    it->p = p;
    if (p->flags & TW_PF_BITMAP) {
        tw_riter_init(&it->rit, &p->view);
        it->doc = it->rit.end ? TW_DOC_END : it->rit.value;
    } else {
        it->gp = p->gaps;
        uint64_t g = 0;
        if (p->df == 0 || tw_get_varint(&it->gp, p->gaps_end, &g))
            it->doc = TW_DOC_END;
        else
            it->doc = (uint32_t)g;
    }
    piter_filter(it);
}

uint32_t tw_piter_next(tw_piter *it) {
    piter_raw_next(it);
    return piter_filter(it);
}

uint32_t tw_piter_seek(tw_piter *it, uint32_t target) {
    if (it->doc >= target) return it->doc;
    if (it->p->flags & TW_PF_BITMAP) {
        if (!tw_riter_seek(&it->rit, target)) return it->doc = TW_DOC_END;
        it->rank = tw_riter_rank(&it->rit);
        it->doc = it->rit.value;
    } else {
        while (it->doc < target) piter_raw_next(it);
    }
    return piter_filter(it);
}

/* Skips k varints at q (not past end); NULL if the stream ends first. */
static const uint8_t *skip_varints(const uint8_t *q, const uint8_t *end, uint64_t k) {
    /* Eight bytes at a time while a whole word's terminators fit in k. */
    while (k >= 8 && end - q >= 8) {
        uint64_t w = tw_ld64(q);
        uint64_t ends = (uint64_t)__builtin_popcountll(~w & 0x8080808080808080ULL);
        /* Take the word only if it ends no varint past the k-th. */
        if (ends > k || (ends == k && (w >> 63))) break;
        k -= ends;
        q += 8;
    }
    while (k > 0) {
        if (q >= end) return NULL;
        k -= (*q++ & 0x80) == 0;
    }
    return q;
}

int tw_posreader_get(tw_posreader *r, uint32_t rank, uint32_t *out, uint32_t cap) {
    const tw_pfield *f = r->f;
    uint32_t b = rank / TW_BLOCK, from;
    const uint8_t *q;
    if (r->q && rank >= r->next_rank && r->next_rank / TW_BLOCK == b) {
        q = r->q;
        from = r->next_rank;
    } else {
        q = f->pos_data + (f->pos_table ? tw_ld32(f->pos_table + 4 * b) : 0);
        from = b * TW_BLOCK;
    }
    uint64_t skip = 0;
    if (f->flags & TW_FF_TF_ONE)
        skip = rank - from;
    else
        for (uint32_t k = from; k < rank; k++) skip += tw_pfield_tf(f, k);
    if (!(q = skip_varints(q, f->pos_end, skip))) return TRAWL_ECORRUPT;
    uint32_t tf = tw_pfield_tf(f, rank), pos = 0;
    if (tf > cap) return TRAWL_EINVAL;
    for (uint32_t k = 0; k < tf; k++) {
        uint32_t g;
        if (tw_get_varint32(&q, f->pos_end, &g) || (k > 0 && g == 0) || g > UINT32_MAX - pos) return TRAWL_ECORRUPT;
        pos += g;
        out[k] = pos;
    }
    r->q = q;
    r->next_rank = rank + 1;
    return (int)tf;
}

int tw_postings_positions(const tw_postings *p, uint32_t fi, uint32_t rank, uint32_t *out, uint32_t cap) {
    tw_posreader r;
    tw_posreader_init(&r, &p->f[fi]);
    return tw_posreader_get(&r, rank, out, cap);
}

/* Position reader state of one field during tw_postings_check. */
typedef struct pcheck {
    const uint8_t *q; /* next byte of the field's position stream */
    uint32_t docs;    /* postings with the term in the field so far */
} pcheck;

int tw_postings_check(const tw_postings *p, char *err, size_t errcap) {
    const tw_segment *s = p->seg;
    pcheck small[16], *pc = small; /* one per field: on the stack for the usual few */
    if (p->nf > sizeof small / sizeof small[0] && !(pc = malloc(sizeof *pc * p->nf)))
        return tw_err_section(err, errcap, TRAWL_ENOMEM, s->path, "postings", "out of memory");
    for (uint32_t i = 0; i < p->nf; i++) pc[i] = (pcheck){p->f[i].pos_data, 0};
    /* One walk over the doc list, every field at each posting. */
    tw_postings unfiltered = *p;
    unfiltered.filter = -1;
    tw_piter it;
    uint32_t n = 0;
    int rc = 0;
    for (tw_piter_init(&it, &unfiltered); it.doc != TW_DOC_END && rc == 0; tw_piter_next(&it), n++) {
        uint32_t r = it.rank, any = 0;
        for (uint32_t i = 0; i < p->nf && rc == 0; i++) {
            const tw_pfield *f = &p->f[i];
            pcheck *c = &pc[i];
            if (r % TW_BLOCK == 0 && f->pos_table && f->pos_data + tw_ld32(f->pos_table + 4 * (r / TW_BLOCK)) != c->q) {
                rc = CORRUPT(s, "positions", "block %u offset wrong", r / TW_BLOCK);
                break;
            }
            uint32_t tf = tw_pfield_tf(f, r);
            if (tf == 0) continue;
            any = 1;
            c->docs++;
            uint64_t pos = 0;
            for (uint32_t k = 0; k < tf && rc == 0; k++) {
                uint32_t g;
                if (tw_get_varint32(&c->q, f->pos_end, &g) || (k > 0 && g == 0))
                    rc = CORRUPT(s, "positions", "stream invalid at posting %u", r);
                else if ((pos += g) > UINT32_MAX)
                    rc = CORRUPT(s, "positions", "position overflow at posting %u", r);
            }
            if (rc) break;
            /* A document is never shorter, in a field, than the term's tf
             * there; block maxima bound every doc of their block. */
            uint32_t dl = tw_segment_doclen(s, f->field, it.doc), maxtf, mindl;
            if (dl < tf) {
                rc = CORRUPT(s, "doclen", "doc %u shorter than a term frequency", it.doc);
                break;
            }
            if (!f->bmax) continue;
            tw_pfield_block_bound(f, r / TW_BLOCK, 0, &maxtf, &mindl);
            if (tf > maxtf || dl < mindl)
                rc = CORRUPT(s, "postings", "block maximum of field %u does not bound posting %u", f->field, r);
        }
        /* Every doc of the list has the term in at least one field. */
        if (rc == 0 && !any) rc = CORRUPT(s, "postings", "posting %u has the term in no field", r);
    }
    if (rc == 0 && n != p->df) rc = CORRUPT(s, "postings", "list length %u, df %u", n, p->df);
    for (uint32_t i = 0; i < p->nf && rc == 0; i++) {
        const tw_pfield *f = &p->f[i];
        if (pc[i].q != f->pos_end)
            rc = CORRUPT(s, "positions", "trailing bytes in a stream");
        else if (pc[i].docs != f->df)
            rc = CORRUPT(s, "postings", "field %u df %u, tf data has %u", f->field, f->df, pc[i].docs);
    }
    if (pc != small) free(pc);
    return rc;
}

const char *tw_segment_id(const tw_segment *s, uint32_t doc, size_t *len) {
    uint32_t a = tw_ld32(s->id_offs + 4 * (size_t)doc), b = tw_ld32(s->id_offs + 4 * ((size_t)doc + 1));
    *len = b - a;
    return (const char *)s->id_pool + a;
}

int64_t tw_segment_find_id(const tw_segment *s, const char *id, size_t len) {
    size_t lo = 0, hi = s->ndocs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t d = tw_ld32(s->id_sorted + 4 * mid);
        size_t l;
        const char *x = tw_segment_id(s, d, &l);
        if (key_cmp((const uint8_t *)x, l, (const uint8_t *)id, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->ndocs) {
        uint32_t d = tw_ld32(s->id_sorted + 4 * lo);
        size_t l;
        const char *x = tw_segment_id(s, d, &l);
        if (l == len && memcmp(x, id, len) == 0) return d;
    }
    return TRAWL_ENOTFOUND;
}

/* Decompresses store block b into a new tw_sblock (one reference), from its
 * start until entry `want` (a length prefix, then the document's bytes) is
 * held whole, or the whole block when want >= its number of entries, and
 * indexes where the entries held start. LZ4 stops decoding at the requested
 * size, so a document early in its block costs only the bytes before its end:
 * a first guess from the document's rank in the block, then (rarely) a longer
 * one once the entry's length prefix tells where it ends. A block whose
 * entries do not add up to its documents exactly, as far as it was read, is
 * corrupt. */
static int load_block(const tw_segment *s, uint32_t b, uint32_t want, tw_sblock **out, char *err, size_t errcap) {
    const uint8_t *e = s->store_index + (size_t)b * STORE_ENTRY;
    uint32_t clen = tw_ld32(e + 4), ulen = tw_ld32(e + 8);
    uint64_t off = tw_ld64(e + 16);
    uint32_t first = tw_ld32(e), next = b + 1 < s->store_nblocks ? tw_ld32(e + STORE_ENTRY) : s->ndocs;
    if (next < first || next > s->ndocs) return CORRUPT(s, "store", "block %u starts at the wrong document", b);
    tw_sblock *blk = tw_sblock_new(b, ulen, next - first);
    if (!blk) return tw_err_section(err, errcap, TRAWL_ENOMEM, s->path, "store", "out of memory");
    uint32_t ndocs = blk->ndocs, nfull = 0, pos = 0;
    if (want > ndocs) want = ndocs; /* the whole block */
    /* The first guess: the end of entry `want` if entries were of equal size, plus a margin. */
    uint64_t guess = (uint64_t)ulen * (want + 1) / (ndocs ? ndocs : 1);
    uint32_t target = want >= ndocs || guess + guess / 8 + 256 >= ulen ? ulen : (uint32_t)(guess + guess / 8 + 256);
    const uint8_t *data = (const uint8_t *)blk->data;
    for (;;) {
        int got = LZ4_decompress_safe_partial((const char *)s->store_data + off, blk->data, (int)clen, (int)target,
                                              (int)ulen);
        if (got != (int)target) {
            tw_sblock_release(blk);
            return CORRUPT(s, "store", "block %u does not decompress", b);
        }
        /* Index the entries now held whole, from where the last round stopped. */
        uint64_t need = 0; /* the end of the first entry not held, when its prefix is */
        while (nfull < ndocs) {
            const uint8_t *p = data + pos;
            uint64_t n;
            if (tw_get_varint(&p, data + target, &n)) {
                if (target == ulen || target - pos >= 10) { /* not a truncated prefix: damage */
                    tw_sblock_release(blk);
                    return CORRUPT(s, "store", "block %u entry invalid", b);
                }
                break;
            }
            if (n > (size_t)(data + ulen - p)) {
                tw_sblock_release(blk);
                return CORRUPT(s, "store", "block %u entry invalid", b);
            }
            if (n > (size_t)(data + target - p)) {
                need = (uint64_t)(p - data) + n;
                break;
            }
            blk->off[nfull++] = pos;
            pos = (uint32_t)(p + n - data);
        }
        if (nfull > want || nfull == ndocs || target == ulen) break;
        /* Further: to the end of the entry begun, or twice as far, whichever is more. */
        uint64_t t2 = 2 * (uint64_t)target;
        if (need > t2) t2 = need;
        target = t2 >= ulen ? ulen : (uint32_t)t2;
    }
    blk->off[nfull] = pos;
    blk->nfull = nfull;
    blk->avail = target;
    if (nfull <= want && nfull < ndocs) {
        tw_sblock_release(blk);
        return CORRUPT(s, "store", "block %u holds fewer than its %u documents", b, ndocs);
    }
    if (nfull == ndocs && pos != ulen) {
        tw_sblock_release(blk);
        return CORRUPT(s, "store", "block %u holds more than its %u documents", b, ndocs);
    }
    *out = blk;
    return 0;
}

int tw_segment_stored(const tw_segment *s, uint32_t doc, char **json, size_t *len, char *err, size_t errcap) {
    if (doc >= s->ndocs) return CORRUPT(s, "store", "doc %u out of range", doc);
    /* Last block whose first doc <= doc. */
    uint32_t lo = 0, hi = s->store_nblocks;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (tw_ld32(s->store_index + (size_t)mid * STORE_ENTRY) <= doc)
            lo = mid;
        else
            hi = mid;
    }
    uint32_t k = doc - tw_ld32(s->store_index + (size_t)lo * STORE_ENTRY);
    /* From the segment's cache of decompressed blocks when the cached part
     * holds entry k, else decompressed here (far enough) and offered to it. */
    tw_sblock *blk = s->scache ? tw_scache_get(s->scache, lo) : NULL;
    if (blk && blk->nfull <= k) {
        tw_sblock_release(blk);
        blk = NULL;
    }
    if (!blk) {
        int rc = load_block(s, lo, k, &blk, err, errcap);
        if (rc) return rc;
        if (s->scache) tw_scache_put(s->scache, blk);
    }
    /* Entry k: its length prefix at off[k] (checked by load_block), then the bytes. */
    const uint8_t *p = (const uint8_t *)blk->data, *end = p;
    uint64_t n = 0;
    if (k < blk->nfull) p += blk->off[k], end += blk->off[k + 1];
    if (k >= blk->nfull || tw_get_varint(&p, end, &n) || n != (size_t)(end - p)) {
        tw_sblock_release(blk);
        return CORRUPT(s, "store", "block %u entry invalid", lo);
    }
    char *out = malloc(n + 1);
    if (!out) {
        tw_sblock_release(blk);
        return tw_err_section(err, errcap, TRAWL_ENOMEM, s->path, "store", "out of memory");
    }
    memcpy(out, p, n);
    out[n] = 0;
    tw_sblock_release(blk);
    *json = out;
    *len = n;
    return 0;
}

int tw_segment_check_store(const tw_segment *s, char *err, size_t errcap) {
    uint32_t d = 0;
    for (uint32_t b = 0; b < s->store_nblocks; b++) {
        tw_sblock *blk = NULL; /* not through the cache: every block once, whole */
        int rc = load_block(s, b, UINT32_MAX, &blk, err, errcap);
        if (rc) return rc;
        if (!blk) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory"); /* load_block sets it on success */
        if (tw_ld32(s->store_index + (size_t)b * STORE_ENTRY) != d) {
            tw_sblock_release(blk);
            return CORRUPT(s, "store", "block %u starts at the wrong document", b);
        }
        const uint8_t *p = (const uint8_t *)blk->data, *end = p + blk->len;
        while (p < end) {
            uint64_t n;
            if (tw_get_varint(&p, end, &n) || n > (size_t)(end - p)) {
                tw_sblock_release(blk);
                return CORRUPT(s, "store", "block %u entry invalid", b);
            }
            p += n;
            d++;
        }
        tw_sblock_release(blk);
    }
    if (d != s->ndocs) return CORRUPT(s, "store", "holds %u documents, expected %u", d, s->ndocs);
    return 0;
}
