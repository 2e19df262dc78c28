/*
 * segment.h — the on-disk segment: constants of the file format (see
 * docs/FORMAT.md), the reader (mmap + validation + lookups) and the posting
 * iterator every query cursor is built on.
 *
 * A segment is one immutable file: header, 8-byte-aligned sections, a section
 * table and a footer. Every section carries an XXH3-64 checksum, verified when
 * the segment is opened; every variable-length structure is bounds-checked
 * again when it is decoded, so no byte is used unchecked.
 */
#ifndef TW_SEGMENT_H
#define TW_SEGMENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <stdatomic.h>

#include "error.h"
#include "rview.h"
#include "schema.h"
#include "typed.h"

#define TW_SEG_MAGIC "TRAWLSEG"
#define TW_SEG_END_MAGIC "TRAWLEND"
#define TW_FORMAT_VERSION 2u
#define TW_HEADER_SIZE 16u
#define TW_FOOTER_SIZE 32u
#define TW_SECTION_ENTRY 32u
#define TW_DOC_END UINT32_MAX
#define TW_MAX_DOCS_PER_SEGMENT (UINT32_MAX - 1u)
#define TW_MAX_FIELDS 1024u
#define TW_BLOCK 128u        /* postings per tf / positions block */
#define TW_DICT_BLOCK 32u    /* terms per dictionary block */
#define TW_INLINE_MAX_DF 16u /* lists with df <= this are varint-coded, not bitmaps */
#define TW_STORE_BLOCK (32u * 1024u)

enum tw_section_id {
    TW_SEC_META = 1,      /* counts, language, field table with statistics */
    TW_SEC_DOCLEN = 2,    /* per field, u32 token count of every document */
    TW_SEC_DICT = 3,      /* front-coded term dictionary blocks */
    TW_SEC_DICTIDX = 4,   /* one fixed entry per dictionary block + first keys */
    TW_SEC_POSTINGS = 5,  /* per term: doc ids, term frequencies, positions pointer */
    TW_SEC_POSITIONS = 6, /* per term: block offsets + delta-coded positions */
    TW_SEC_IDS = 7,       /* external ids, and doc numbers sorted by id */
    TW_SEC_STORE = 8,     /* LZ4-compressed blocks of stored documents */
    TW_SEC_KEYWORDS = 9,  /* per keyword field: value dictionary, bitmaps, ordinal column */
    TW_SEC_COLUMNS = 10,  /* per date/number field: values column, presence, min/max */
    TW_SEC_COUNT = 11
};

/* Posting record flags. */
#define TW_PF_BITMAP 1u /* doc ids as a portable Roaring bitmap, else varint gaps */
/* Per-field flags in a posting record. */
#define TW_FF_TF_ONE 1u   /* the field has the term once in every doc of the list: no tf data */
#define TW_FF_BLOCKMAX 2u /* per 128-doc block: u8 max tf (255 = 255 or more), u16 min length */
#define TW_BLOCKMAX_ENTRY 3u
#define TW_ANY_FIELD UINT32_MAX

const char *tw_section_name(unsigned id);

typedef struct tw_field_info {
    char *name;
    uint32_t docs;    /* documents with at least one token in the field */
    uint64_t tokens;  /* total tokens in the field over all documents */
    uint32_t min_len; /* shortest non-empty length (computed on open; for score bounds) */
} tw_field_info;

typedef struct tw_dict_block {
    uint32_t dict_off, nterms;
    uint32_t first_ord; /* ordinal of the block's first term */
    uint64_t rec_base;
    const uint8_t *first_key;
    uint32_t first_key_len;
} tw_dict_block;

typedef struct tw_segment {
    char *path;         /* file path, for error messages */
    const uint8_t *map; /* the whole file, mmapped read-only (or the caller's bytes) */
    size_t size;
    int mapped; /* map is our mmap (tw_segment_open), not borrowed memory */
    struct {
        const uint8_t *p;
        size_t len;
    } sec[TW_SEC_COUNT];
    uint32_t ndocs, nfields;
    uint64_t nterms, npostings;
    char lang[48];
    tw_field_info *fields;
    tw_dict_block *blocks;
    /* Per block, the first 8 bytes of its first key, big-endian, zero-padded:
     * a dense array for the look-up's binary search (see find_block). */
    uint64_t *block_key8;
    uint32_t nblocks;
    const uint8_t *id_offs, *id_sorted, *id_pool; /* IDS section parts */
    size_t id_pool_len;
    uint32_t store_nblocks;
    const uint8_t *store_index, *store_data;
    size_t store_data_len;
    /* One bit per term: its doc list passed the deep check. Searches check a
     * list deeply the first time they use it; set bits are never cleared, and
     * several threads may set them at once. */
    _Atomic uint64_t *checked;
    /* The file's identity while it is held in the map registry (mapreg.h). */
    dev_t dev;
    ino_t ino;
    int held;
    /* References beyond the first (tw_segment_ref): indexes reopened from one
     * another share their unchanged segments. */
    _Atomic unsigned extra_refs;
    /* Typed fields (format version 2; none in version 1): the schema the
     * segment was written with (NULL in version 1), its keyword fields and
     * its date/number columns (typed.h). */
    tw_schema *schema;
    tw_kwfield *kw;
    uint32_t nkw;
    tw_colfield *cols;
    uint32_t ncols;
    /* Decompressed store blocks recently read, shared by every thread (and by
     * every index sharing the segment); see storecache.h. */
    struct tw_scache *scache;
    /* Derived analytics data (histogram buckets, value orders) built on first
     * use and shared likewise; see colcache.h. */
    struct tw_ccache *ccache;
} tw_segment;

/* Maps and validates the segment file at path: header, footer, section table,
 * every section's checksum, and the fixed structures (META, DOCLEN, DICTIDX,
 * IDS, STORE index). Returns 0 and *out; or a trawl_rc (TRAWL_ECORRUPT,
 * TRAWL_EIO, TRAWL_EVERSION, TRAWL_ENOMEM) with a message naming the file and
 * section in err. */
int tw_segment_open(const char *path, tw_segment **out, char *err, size_t errcap);
/* The same validation on a segment already in memory: data[0..size) (8-byte
 * aligned, as malloc gives) stays the caller's and must outlive the segment;
 * name stands for the path in messages. For tests and fuzzing, which would
 * otherwise write every input to a file and reopen it. */
int tw_segment_open_mem(const uint8_t *data, size_t size, const char *name, tw_segment **out, char *err, size_t errcap);
/* Lets go of the pages of s's file mapping that this process has touched
 * (its validation reads every byte): they stay in the page cache and come
 * back on the next access, but no longer count in the process's resident
 * memory. For the writer, which opens segments to look up a few ids or to
 * read them once; nothing for a segment in memory. */
void tw_segment_drop_pages(const tw_segment *s);
/* One more reference to s: tw_segment_close releases one, the last one
 * unmaps and frees. Thread-safe. */
void tw_segment_ref(tw_segment *s);
void tw_segment_close(tw_segment *s);

/* Reads and validates the KEYWORDS and COLUMNS sections of s (its META
 * already parsed) into s->kw and s->cols (typedopen.c): every offset, order,
 * ordinal and block header is checked, the presence bitmaps deeply. 0 or a
 * trawl_rc with a message. tw_typed_close frees what it made. */
int tw_typed_open(tw_segment *s, char *err, size_t errcap);
void tw_typed_close(tw_segment *s);
/* Deep check of the typed fields (for trawl check): every value bitmap
 * parsed fully and equal to the ordinal column, every column value finite
 * (dates within 0000..9999) and agreeing with the count, min and max. 0 or
 * TRAWL_ECORRUPT / ENOMEM with a message. */
int tw_typed_check(const tw_segment *s, char *err, size_t errcap);

/* Field number of name in this segment, or TRAWL_ENOTFOUND. */
int tw_segment_field(const tw_segment *s, const char *name);

static inline uint32_t tw_segment_doclen(const tw_segment *s, uint32_t field, uint32_t doc) {
    const uint8_t *p = s->sec[TW_SEC_DOCLEN].p + 4 * ((size_t)field * s->ndocs + doc);
    return tw_ld32(p);
}

/* A term's entry in the dictionary, or (field != TW_ANY_FIELD) one field of it. */
typedef struct tw_term_ref {
    uint32_t df;      /* documents in the list (in `field`, when one is set) */
    uint32_t field;   /* local field number, or TW_ANY_FIELD */
    uint64_t rec_off; /* offset of the posting record in TW_SEC_POSTINGS */
    uint32_t rec_len;
    uint32_t ord; /* ordinal of the term in the segment's dictionary */
} tw_term_ref;

/* Looks up the exact term: with field = TW_ANY_FIELD the whole record (df =
 * documents with the term in any field), otherwise the term in that field
 * (df = documents with the term in that field; absent if none). Returns 1 and
 * *ref when found, 0 when not, a negative trawl_rc when the dictionary is
 * malformed (message in err). */
int tw_segment_lookup(const tw_segment *s, uint32_t field, const char *term, size_t len, tw_term_ref *ref, char *err,
                      size_t errcap);

/* Calls fn for every term starting with prefix (in `field`, or any field with
 * TW_ANY_FIELD), in byte order; stops early if fn returns non-zero (and returns
 * that value). Negative trawl_rc on a malformed dictionary. */
typedef int (*tw_term_fn)(void *ctx, const char *term, size_t len, const tw_term_ref *ref);
int tw_segment_prefix(const tw_segment *s, uint32_t field, const char *prefix, size_t len, tw_term_fn fn, void *ctx,
                      char *err, size_t errcap);

/* Every dictionary entry in term order (ref->field = TW_ANY_FIELD); checks the
 * order. For check and stats. */
int tw_segment_each_term(const tw_segment *s, tw_term_fn fn, void *ctx, char *err, size_t errcap);

/* One field's part of a posting record: term frequencies aligned with the
 * record's doc list (0 where the field lacks the term) and positions. */
typedef struct tw_pfield {
    uint32_t field, df;
    uint32_t flags;           /* TW_FF_* */
    const uint8_t *tf_widths; /* one byte per 128-doc block, unless TW_FF_TF_ONE */
    const uint8_t *tf_data;
    uint32_t *tf_block_off;   /* byte offset of each tf block in tf_data (NULL for one block: 0) */
    const uint8_t *pos_table; /* u32 per block (NULL when one block) */
    const uint8_t *pos_data, *pos_end;
    const uint8_t *bmax; /* TW_FF_BLOCKMAX: TW_BLOCKMAX_ENTRY bytes per block, else NULL */
} tw_pfield;

/* Upper bound of the field's tf, and lower bound of the field's length, over
 * the docs of block b that have the term in the field. Without block maxima:
 * the largest tf the block's tf width can hold, and min_len. */
static inline void tw_pfield_block_bound(const tw_pfield *f, uint32_t b, uint32_t min_len, uint32_t *maxtf,
                                         uint32_t *mindl) {
    if (f->bmax) {
        const uint8_t *e = f->bmax + TW_BLOCKMAX_ENTRY * (size_t)b;
        *maxtf = e[0] == 255 ? UINT32_MAX : e[0];
        *mindl = (uint32_t)e[1] | ((uint32_t)e[2] << 8);
        return;
    }
    uint32_t w = (f->flags & TW_FF_TF_ONE) ? 1 : f->tf_widths[b];
    *maxtf = w >= 32 ? UINT32_MAX : (1u << w) - 1;
    *mindl = min_len;
}

/* A decoded posting record: one doc list shared by every field the term
 * occurs in, and per field its tf and positions. */
typedef struct tw_postings {
    const tw_segment *seg;
    uint32_t df; /* documents in the doc list (any field) */
    uint32_t flags;
    tw_rview view;     /* TW_PF_BITMAP */
    const uint8_t *bm; /* TW_PF_BITMAP: the portable serialization view reads */
    size_t bm_len;
    const uint8_t *gaps, *gaps_end; /* varint doc gaps otherwise */
    uint32_t nf;
    int filter;   /* index in f of the field iterators keep to, or < 0 for none */
    tw_pfield *f; /* nf fields, ascending field number */
} tw_postings;

/* Decodes the record of ref. With ref->field set, iterators only visit the
 * docs that have the term in that field (and tw_postings_field is that
 * field). deep = validate every doc id now; otherwise every doc id is validated
 * the first time the segment opens this record and remembered (so iterators
 * and kernels can trust ranks and doc ids). Returns 0, or a negative trawl_rc
 * with a message. */
int tw_postings_open(const tw_segment *s, const tw_term_ref *ref, int deep, tw_postings *p, char *err, size_t errcap);
void tw_postings_close(tw_postings *p);

/* Index in p->f of local field `field`, or TRAWL_ENOTFOUND. */
int tw_postings_field(const tw_postings *p, uint32_t field);

/* Term frequency in field f of the posting with the given rank (0 if absent). */
static inline uint32_t tw_pfield_tf(const tw_pfield *f, uint32_t rank) {
    if (f->flags & TW_FF_TF_ONE) return 1;
    uint32_t b = rank / TW_BLOCK, w = f->tf_widths[b];
    if (w == 0) return 0;
    uint64_t bit = (uint64_t)(rank % TW_BLOCK) * w;
    const uint8_t *q = f->tf_data + (b ? f->tf_block_off[b] : 0) + bit / 8;
    /* Up to 32 bits starting at bit%8: read 5 bytes (the writer pads each field). */
    uint64_t x = (uint64_t)q[0] | ((uint64_t)q[1] << 8) | ((uint64_t)q[2] << 16) | ((uint64_t)q[3] << 24) |
                 ((uint64_t)q[4] << 32);
    return (uint32_t)((x >> (bit % 8)) & ((1ULL << w) - 1));
}

/* Term frequency of the posting at rank in the filter field (or summed over
 * fields without a filter). */
uint32_t tw_postings_tf(const tw_postings *p, uint32_t rank);

/* Iterator over a posting list: doc ids in order with their rank. */
typedef struct tw_piter {
    const tw_postings *p;
    uint32_t doc;  /* current doc, TW_DOC_END when exhausted */
    uint32_t rank; /* index of doc in the record's doc list */
    tw_riter rit;
    const uint8_t *gp; /* varint lists */
} tw_piter;

void tw_piter_init(tw_piter *it, const tw_postings *p);
uint32_t tw_piter_next(tw_piter *it);
uint32_t tw_piter_seek(tw_piter *it, uint32_t target);

/* Decodes the positions, in field f (index into p->f), of the posting at rank
 * into out (capacity cap >= tf). Returns the count, TRAWL_ECORRUPT if
 * malformed, or TRAWL_EINVAL if cap is too small. */
int tw_postings_positions(const tw_postings *p, uint32_t f, uint32_t rank, uint32_t *out, uint32_t cap);

/* Reads one field's positions for ranks visited in increasing order: it
 * continues from where the last read stopped instead of skipping from the
 * start of the 128-doc block each time. */
typedef struct tw_posreader {
    const tw_pfield *f;
    uint32_t next_rank; /* rank whose positions start at q */
    const uint8_t *q;   /* NULL: no position yet */
} tw_posreader;

static inline void tw_posreader_init(tw_posreader *r, const tw_pfield *f) {
    r->f = f;
    r->next_rank = 0;
    r->q = NULL;
}

/* Positions of the posting at rank into out (cap >= its tf). Returns the count
 * (0 when the field lacks the term there), TRAWL_ECORRUPT if malformed, or
 * TRAWL_EINVAL if cap is below the tf. */
int tw_posreader_get(tw_posreader *r, uint32_t rank, uint32_t *out, uint32_t cap);

/* Full validation of a record beyond tw_postings_open, in one walk over its
 * doc list: the list holds p->df docs, each with the term in some field; per
 * field, the postings with a tf count to its df, no doc is shorter than its tf,
 * block maxima bound every tf and doc length of their block, and the position
 * stream (block offsets, gaps, no overflow) ends exactly with the last tf.
 * Returns 0 or TRAWL_ECORRUPT / TRAWL_ENOMEM with a message. */
int tw_postings_check(const tw_postings *p, char *err, size_t errcap);

/* External id of doc (not NUL-terminated). */
const char *tw_segment_id(const tw_segment *s, uint32_t doc, size_t *len);
/* Doc number with the given external id, or TRAWL_ENOTFOUND. */
int64_t tw_segment_find_id(const tw_segment *s, const char *id, size_t len);

/* The stored JSON text of doc in a malloc'd NUL-terminated buffer. Returns 0
 * or a negative trawl_rc with a message. */
int tw_segment_stored(const tw_segment *s, uint32_t doc, char **json, size_t *len, char *err, size_t errcap);
/* Decompresses and walks every stored block (for check). */
int tw_segment_check_store(const tw_segment *s, char *err, size_t errcap);

/* Bytes of each section, for stats. */
static inline size_t tw_segment_section_bytes(const tw_segment *s, unsigned id) {
    return id < TW_SEC_COUNT ? s->sec[id].len : 0;
}

#endif
