/*
 * check.c — trawl_index_check: full validation of an index directory.
 *
 * Beyond what opening does (manifest and section checksums, fixed structures),
 * decodes every dictionary block in order, every posting record deeply (every
 * doc id, term frequency block and position stream), every stored block, and
 * cross-checks the counts: document frequencies against META, field lengths
 * against field statistics; and every typed field (value bitmaps against the
 * ordinal column, column values against count, min and max).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "engine.h"
#include "varint.h"

typedef struct check_ctx {
    const tw_segment *s;
    uint64_t postings, terms;
    char err[1024];
    int rc;
} check_ctx;

static int check_term(void *c, const char *term, size_t len, const tw_term_ref *ref) {
    check_ctx *x = c;
    tw_postings p;
    int rc = tw_postings_open(x->s, ref, 1, &p, x->err, sizeof x->err);
    if (rc == 0) {
        /* One walk over the list: doc ids, term frequencies against the
         * doc lengths and the block maxima, every position, the count. */
        rc = tw_postings_check(&p, x->err, sizeof x->err);
        for (uint32_t i = 0; i < p.nf; i++) x->postings += p.f[i].df;
        tw_postings_close(&p);
    }
    x->terms++;
    if (rc) x->rc = rc;
    return rc;
}

/* The id table: no id contains a NUL byte (ids come from JSON strings), and
 * the sorted table holds every document once, in id order, later documents
 * first among equal ids. */
static int check_ids(const tw_segment *s, char *err, size_t errcap) {
    uint8_t *seen = calloc(s->ndocs ? s->ndocs : 1, 1);
    if (!seen) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    int rc = 0;
    for (uint32_t d = 0; d < s->ndocs && rc == 0; d++) {
        size_t len;
        const char *id = tw_segment_id(s, d, &len);
        if (memchr(id, 0, len))
            rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: ids section: id of doc %u has a NUL byte", s->path, d);
    }
    for (uint32_t k = 0; k < s->ndocs && rc == 0; k++) {
        uint32_t d = tw_ld32(s->id_sorted + 4 * (size_t)k);
        if (seen[d]++) {
            rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: ids section: doc %u listed twice", s->path, d);
            break;
        }
        if (k == 0) continue;
        uint32_t p = tw_ld32(s->id_sorted + 4 * (size_t)(k - 1));
        size_t la, lb;
        const char *a = tw_segment_id(s, p, &la), *b = tw_segment_id(s, d, &lb);
        int cmp = memcmp(a, b, la < lb ? la : lb);
        if (cmp == 0) cmp = la < lb ? -1 : la > lb;
        if (cmp > 0 || (cmp == 0 && p < d))
            rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: ids section: sorted table out of order at %u", s->path, k);
    }
    free(seen);
    return rc;
}

/* A live document, for the check that no id is live twice. */
typedef struct live_id {
    uint64_t hash; /* XXH3 of the id */
    uint32_t seg, doc;
} live_id;

static int cmp_live_id(const void *a, const void *b) {
    const live_id *x = a, *y = b;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    if (x->seg != y->seg) return x->seg < y->seg ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

/* Every id is live in at most one document of the whole index (replaced and
 * deleted copies are in the deletion bitmaps). Ids are grouped by hash, and
 * documents with equal hashes compared by their ids. */
static int check_live_once(const trawl_index *idx, char *err, size_t errcap) {
    live_id *v = malloc(sizeof *v * (idx->view.live_docs ? idx->view.live_docs : 1));
    if (!v) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    size_t n = 0;
    for (uint32_t i = 0; i < idx->view.nsegs; i++) {
        const tw_vseg *e = &idx->view.segs[i];
        for (uint32_t d = 0; d < e->seg->ndocs; d++) {
            if (e->deleted && roaring_bitmap_contains(e->deleted, d)) continue;
            if (n == idx->view.live_docs) break; /* cannot happen: live_docs counts these */
            size_t len;
            const char *id = tw_segment_id(e->seg, d, &len);
            v[n++] = (live_id){XXH3_64bits(id, len), i, d};
        }
    }
    qsort(v, n, sizeof *v, cmp_live_id);
    int rc = 0;
    for (size_t a = 0; a < n && rc == 0;) {
        size_t b = a + 1;
        while (b < n && v[b].hash == v[a].hash) b++;
        for (size_t x = a; x < b && rc == 0; x++)
            for (size_t y = x + 1; y < b && rc == 0; y++) {
                size_t lx, ly;
                const char *ix = tw_segment_id(idx->view.segs[v[x].seg].seg, v[x].doc, &lx);
                const char *iy = tw_segment_id(idx->view.segs[v[y].seg].seg, v[y].doc, &ly);
                if (lx == ly && memcmp(ix, iy, lx) == 0)
                    rc = tw_err(err, errcap, TRAWL_ECORRUPT,
                                "%s: deletes section: id '%.*s' is live twice (%s doc %u and %s doc %u)", idx->dir,
                                (int)(lx > 200 ? 200 : lx), ix, idx->view.segs[v[x].seg].seg->path, v[x].doc,
                                idx->view.segs[v[y].seg].seg->path, v[y].doc);
            }
        a = b;
    }
    free(v);
    return rc;
}

static void report(char **buf, size_t *len, const char *line) {
    size_t n = strlen(line);
    char *nb = realloc(*buf, *len + n + 2);
    if (!nb) return;
    memcpy(nb + *len, line, n);
    nb[*len + n] = '\n';
    nb[*len + n + 1] = 0;
    *buf = nb;
    *len += n + 1;
}

int tw_index_check_open(const trawl_index *idx, char **rep) {
    size_t replen = *rep ? strlen(*rep) : 0;
    int first = 0;
    for (uint32_t i = 0; i < idx->view.nsegs; i++) {
        const tw_segment *s = idx->view.segs[i].seg;
        check_ctx x;
        memset(&x, 0, sizeof x);
        x.s = s;
        int r = tw_segment_each_term(s, check_term, &x, x.err, sizeof x.err);
        if (r == 0 && x.terms != s->nterms)
            r = tw_err(x.err, sizeof x.err, TRAWL_ECORRUPT, "%s: meta section: %llu terms, dictionary has %llu",
                       s->path, (unsigned long long)s->nterms, (unsigned long long)x.terms);
        if (r == 0 && x.postings != s->npostings)
            r = tw_err(x.err, sizeof x.err, TRAWL_ECORRUPT, "%s: meta section: %llu postings, lists hold %llu", s->path,
                       (unsigned long long)s->npostings, (unsigned long long)x.postings);
        if (r) report(rep, &replen, x.err);
        if (r && !first) first = r;
        for (uint32_t f = 0; f < s->nfields; f++) {
            uint64_t tokens = 0;
            uint32_t docs = 0;
            for (uint32_t d = 0; d < s->ndocs; d++) {
                uint32_t dl = tw_segment_doclen(s, f, d);
                tokens += dl;
                docs += dl > 0;
            }
            if (tokens != s->fields[f].tokens || docs != s->fields[f].docs) {
                char line[512];
                snprintf(line, sizeof line, "%s: doclen section: field '%s' totals differ from meta", s->path,
                         s->fields[f].name);
                report(rep, &replen, line);
                if (!first) first = TRAWL_ECORRUPT;
            }
        }
        char err[1024];
        if ((r = check_ids(s, err, sizeof err)) != 0) {
            report(rep, &replen, err);
            if (!first) first = r;
        }
        r = tw_segment_check_store(s, err, sizeof err);
        if (r) {
            report(rep, &replen, err);
            if (!first) first = r;
        }
        if ((r = tw_typed_check(s, err, sizeof err)) != 0) {
            report(rep, &replen, err);
            if (!first) first = r;
        }
    }
    char err[1024];
    int r = check_live_once(idx, err, sizeof err);
    if (r) {
        report(rep, &replen, err);
        if (!first) first = r;
    }
    return first;
}

trawl_rc trawl_index_check(const char *dir, char **out) {
    char *rep = NULL;
    size_t replen = 0;
    if (out) *out = NULL;
    if (!dir) return TRAWL_EINVAL;
    trawl_index *idx;
    char *msg;
    int rc = trawl_index_open(dir, &idx, &msg);
    if (rc) {
        report(&rep, &replen, msg ? msg : trawl_strerror(rc));
        free(msg);
        if (out)
            *out = rep;
        else
            free(rep);
        return rc;
    }
    int first = tw_index_check_open(idx, &rep);
    trawl_index_close(idx);
    if (out)
        *out = rep;
    else
        free(rep);
    return first;
}
