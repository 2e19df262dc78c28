/*
 * typedacc.c — typed values of documents not yet written (contract in
 * typedacc.h): growable arrays per field and, for keyword fields, an
 * open-addressing hash table of the distinct values.
 */
#include "typedacc.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "error.h"
#include "varint.h"

typedef struct tfield {
    char *name;
    unsigned type;
    /* keyword: distinct values */
    uint32_t *slots; /* value + 1; 0 = empty */
    uint32_t cap, nvalues;
    uint32_t *voff; /* nvalues + 1 offsets into vbytes */
    uint32_t voff_cap;
    tw_buf vbytes;
    /* pairs (keyword) or values (date/number) */
    uint32_t *doc, *val;
    uint64_t *bits;
    uint8_t *isd;
    uint64_t n, ncap;
} tfield;

struct tw_tacc {
    int rc;
    tfield *f;
    uint32_t nf, fcap;
    uint64_t nominal;
};

tw_tacc *tw_tacc_new(void) {
    return calloc(1, sizeof(tw_tacc));
}

void tw_tacc_free(tw_tacc *t) {
    if (!t) return;
    for (uint32_t i = 0; i < t->nf; i++) {
        tfield *f = &t->f[i];
        free(f->name);
        free(f->slots);
        free(f->voff);
        tw_buf_free(&f->vbytes);
        free(f->doc);
        free(f->val);
        free(f->bits);
        free(f->isd);
    }
    free(t->f);
    free(t);
}

static int sticky(tw_tacc *t, int rc) {
    if (!t->rc) t->rc = rc;
    return rc;
}

int tw_tacc_field(tw_tacc *t, const char *name, size_t len, unsigned type) {
    if (t->rc) return t->rc;
    for (uint32_t i = 0; i < t->nf; i++)
        if (strlen(t->f[i].name) == len && memcmp(t->f[i].name, name, len) == 0)
            return t->f[i].type == type ? (int)i : TRAWL_EINVAL;
    if (t->nf >= TW_SCHEMA_MAX_FIELDS) return TRAWL_ELIMIT;
    if (t->nf == t->fcap) {
        uint32_t cap = t->fcap ? t->fcap * 2 : 8;
        tfield *nf = realloc(t->f, cap * sizeof *nf);
        if (!nf) return sticky(t, TRAWL_ENOMEM);
        t->f = nf;
        t->fcap = cap;
    }
    tfield *f = &t->f[t->nf];
    memset(f, 0, sizeof *f);
    f->name = malloc(len + 1);
    if (!f->name) return sticky(t, TRAWL_ENOMEM);
    memcpy(f->name, name, len);
    f->name[len] = 0;
    f->type = type;
    t->nominal += 64 + len;
    return (int)t->nf++;
}

/* Room for one more pair/value in f. */
static int grow(tw_tacc *t, tfield *f) {
    if (f->n < f->ncap) return 0;
    if (f->ncap >= ((uint64_t)1 << 32)) return sticky(t, TRAWL_ELIMIT);
    uint64_t cap = f->ncap ? f->ncap * 2 : 256;
    uint32_t *nd = realloc(f->doc, cap * sizeof *nd);
    if (!nd) return sticky(t, TRAWL_ENOMEM);
    f->doc = nd;
    if (f->type == TW_FT_KEYWORD) {
        uint32_t *nv = realloc(f->val, cap * sizeof *nv);
        if (!nv) return sticky(t, TRAWL_ENOMEM);
        f->val = nv;
    } else {
        uint64_t *nb = realloc(f->bits, cap * sizeof *nb);
        if (!nb) return sticky(t, TRAWL_ENOMEM);
        f->bits = nb;
        uint8_t *ni = realloc(f->isd, cap);
        if (!ni) return sticky(t, TRAWL_ENOMEM);
        f->isd = ni;
    }
    f->ncap = cap;
    return 0;
}

static int value_eq(const tfield *f, uint32_t v, const char *s, size_t len) {
    return f->voff[v + 1] - f->voff[v] == len && memcmp(f->vbytes.p + f->voff[v], s, len) == 0;
}

/* The value number of s in f, added when new; negative trawl_rc. */
static int64_t intern(tw_tacc *t, tfield *f, const char *s, size_t len) {
    if ((uint64_t)f->nvalues * 2 + 2 > f->cap) {
        uint32_t cap = f->cap ? f->cap * 2 : 64;
        uint32_t *ns = calloc(cap, sizeof *ns);
        if (!ns) return sticky(t, TRAWL_ENOMEM);
        for (uint32_t v = 0; v < f->nvalues; v++) {
            uint32_t i = (uint32_t)XXH3_64bits(f->vbytes.p + f->voff[v], f->voff[v + 1] - f->voff[v]) & (cap - 1);
            while (ns[i]) i = (i + 1) & (cap - 1);
            ns[i] = v + 1;
        }
        free(f->slots);
        f->slots = ns;
        f->cap = cap;
    }
    uint32_t i = (uint32_t)XXH3_64bits(s, len) & (f->cap - 1);
    for (; f->slots[i]; i = (i + 1) & (f->cap - 1))
        if (value_eq(f, f->slots[i] - 1, s, len)) return f->slots[i] - 1;
    if (f->vbytes.len + len > UINT32_MAX) return sticky(t, TRAWL_ELIMIT);
    if (f->nvalues + 2 > f->voff_cap) {
        uint32_t cap = f->voff_cap ? f->voff_cap * 2 : 64;
        uint32_t *no = realloc(f->voff, cap * sizeof *no);
        if (!no) return sticky(t, TRAWL_ENOMEM);
        f->voff = no;
        f->voff_cap = cap;
    }
    if (f->nvalues == 0) f->voff[0] = 0;
    tw_buf_put(&f->vbytes, s, len);
    if (f->vbytes.oom) return sticky(t, TRAWL_ENOMEM);
    f->voff[f->nvalues + 1] = (uint32_t)f->vbytes.len;
    f->slots[i] = ++f->nvalues;
    t->nominal += 32 + len;
    return f->nvalues - 1;
}

int tw_tacc_add_keyword(tw_tacc *t, uint32_t fi, uint32_t doc, const char *v, size_t len) {
    if (t->rc) return t->rc;
    if (fi >= t->nf || t->f[fi].type != TW_FT_KEYWORD || len == 0 || len > TW_KW_MAX_VALUE) return TRAWL_EINVAL;
    tfield *f = &t->f[fi];
    int64_t id = intern(t, f, v, len);
    if (id < 0) return (int)id;
    if (grow(t, f)) return t->rc;
    f->doc[f->n] = doc;
    f->val[f->n++] = (uint32_t)id;
    t->nominal += 8;
    return 0;
}

static int add_num(tw_tacc *t, uint32_t fi, uint32_t doc, uint64_t bits, int isd) {
    if (t->rc) return t->rc;
    if (fi >= t->nf || t->f[fi].type == TW_FT_KEYWORD || (isd && t->f[fi].type != TW_FT_NUMBER)) return TRAWL_EINVAL;
    tfield *f = &t->f[fi];
    if (f->n && f->doc[f->n - 1] >= doc) return TRAWL_EINVAL;
    if (grow(t, f)) return t->rc;
    f->doc[f->n] = doc;
    f->bits[f->n] = bits;
    f->isd[f->n++] = (uint8_t)isd;
    t->nominal += 16;
    return 0;
}

int tw_tacc_add_int(tw_tacc *t, uint32_t f, uint32_t doc, int64_t v) {
    return add_num(t, f, doc, (uint64_t)v, 0);
}

int tw_tacc_add_double(tw_tacc *t, uint32_t f, uint32_t doc, double v) {
    uint64_t bits;
    if (v == 0) v = 0.0; /* one zero */
    memcpy(&bits, &v, 8);
    return add_num(t, f, doc, bits, 1);
}

size_t tw_tacc_bytes(const tw_tacc *t) {
    return (size_t)t->nominal;
}

uint32_t tw_tacc_nfields(const tw_tacc *t) {
    return t->nf;
}
const char *tw_tacc_field_name(const tw_tacc *t, uint32_t f) {
    return t->f[f].name;
}
unsigned tw_tacc_field_type(const tw_tacc *t, uint32_t f) {
    return t->f[f].type;
}

void tw_tacc_keyword(const tw_tacc *t, uint32_t fi, tw_tacc_kw *out) {
    const tfield *f = &t->f[fi];
    static const uint32_t zero = 0;
    out->nvalues = f->nvalues;
    out->off = f->nvalues ? f->voff : &zero;
    out->bytes = (const char *)f->vbytes.p;
    out->npairs = f->n;
    out->pair_doc = f->doc;
    out->pair_value = f->val;
}

void tw_tacc_column(const tw_tacc *t, uint32_t fi, tw_tacc_col *out) {
    const tfield *f = &t->f[fi];
    out->n = f->n;
    out->doc = f->doc;
    out->bits = f->bits;
    out->is_double = f->isd;
}
