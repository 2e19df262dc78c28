/*
 * index.c — trawl_index: an open, immutable snapshot of one commit.
 *
 * Reads the manifest, opens (and validates) every segment and deletion bitmap
 * it names, and merges the segments' field tables into global fields with
 * statistics over live documents, which BM25 uses. Also serves get-by-id and
 * statistics.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "engine.h"
#include "kernels.h"
#include "openopts.h"

int tw_index_field(const trawl_index *idx, const char *name) {
    for (uint32_t f = 0; f < idx->nfields; f++)
        if (strcmp(idx->field_names[f], name) == 0) return (int)f;
    return TRAWL_ENOTFOUND;
}

static void qctx_free(tw_qctx *c) {
    if (!c) return;
    tw_analyzer_free(c->an);
    free(c->and_scratch);
    free(c->buf);
    free(c);
}

tw_qctx *tw_index_qctx_acquire(const trawl_index *cidx) {
    trawl_index *idx = (trawl_index *)cidx; /* the pool is the one mutable part */
    tw_qctx *c = NULL;
    pthread_mutex_lock(&idx->pool_lock);
    if (idx->npool > 0) c = idx->pool[--idx->npool];
    pthread_mutex_unlock(&idx->pool_lock);
    if (c) return c;
    if (!(c = calloc(1, sizeof *c)) || tw_analyzer_new(idx->lang, &c->an) != 0 ||
        !(c->and_scratch = malloc(TW_AND_SCRATCH_BYTES))) {
        qctx_free(c);
        return NULL;
    }
    return c;
}

void tw_index_qctx_release(const trawl_index *cidx, tw_qctx *c) {
    trawl_index *idx = (trawl_index *)cidx;
    if (!c) return;
    pthread_mutex_lock(&idx->pool_lock);
    if (idx->npool < (int)(sizeof idx->pool / sizeof idx->pool[0])) {
        idx->pool[idx->npool++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&idx->pool_lock);
    qctx_free(c);
}

uint32_t *tw_qctx_buf(tw_qctx *c, size_t n) {
    if (n > c->buf_cap) {
        size_t cap = c->buf_cap ? c->buf_cap : 4096;
        while (cap < n) cap *= 2;
        uint32_t *nb = realloc(c->buf, sizeof *nb * cap);
        if (!nb) return NULL;
        c->buf = nb;
        c->buf_cap = cap;
    }
    return c->buf;
}

void trawl_index_close(trawl_index *idx) {
    if (!idx) return;
    for (int k = 0; k < idx->npool; k++) qctx_free(idx->pool[k]);
    pthread_mutex_destroy(&idx->pool_lock);
    for (uint32_t i = 0; i < idx->nsegs; i++) {
        tw_segment_close(idx->segs[i].seg);
        if (idx->segs[i].deleted) roaring_bitmap_free(idx->segs[i].deleted);
        tw_rview_free(&idx->segs[i].del_view);
        free(idx->segs[i].del_bytes);
        free(idx->segs[i].field_map);
    }
    free(idx->segs);
    for (uint32_t f = 0; f < idx->nfields; f++) free(idx->field_names[f]);
    free(idx->field_names);
    free(idx->field_docs);
    free(idx->field_tokens);
    free(idx->dir);
    free(idx);
}

/* Global number of field name, added when new. TRAWL_ENOMEM. */
static int add_field(trawl_index *idx, const char *name) {
    int f = tw_index_field(idx, name);
    if (f >= 0) return f;
    uint32_t n = idx->nfields + 1;
    char **nn = realloc(idx->field_names, sizeof *nn * n);
    if (nn) idx->field_names = nn;
    uint64_t *nd = realloc(idx->field_docs, sizeof *nd * n);
    if (nd) idx->field_docs = nd;
    uint64_t *nt = realloc(idx->field_tokens, sizeof *nt * n);
    if (nt) idx->field_tokens = nt;
    if (!nn || !nd || !nt || !(idx->field_names[idx->nfields] = strdup(name))) return TRAWL_ENOMEM;
    idx->field_docs[idx->nfields] = 0;
    idx->field_tokens[idx->nfields] = 0;
    return (int)idx->nfields++;
}

/* Builds the global field table and each segment's map into it. */
static int build_fields(trawl_index *idx) {
    for (uint32_t i = 0; i < idx->nsegs; i++) {
        tw_segment *s = idx->segs[i].seg;
        for (uint32_t f = 0; f < s->nfields; f++) {
            int g = add_field(idx, s->fields[f].name);
            if (g < 0) return TRAWL_ENOMEM;
            idx->field_docs[g] += s->fields[f].docs;
            idx->field_tokens[g] += s->fields[f].tokens;
            /* Deleted documents do not count. */
            roaring_bitmap_t *del = idx->segs[i].deleted;
            if (del) {
                roaring_uint32_iterator_t *it = roaring_create_iterator(del);
                if (!it) return TRAWL_ENOMEM;
                for (; it->has_value; roaring_advance_uint32_iterator(it)) {
                    uint32_t dl = tw_segment_doclen(s, f, it->current_value);
                    idx->field_docs[g] -= dl > 0;
                    idx->field_tokens[g] -= dl;
                }
                roaring_free_uint32_iterator(it);
            }
        }
    }
    for (uint32_t i = 0; i < idx->nsegs; i++) {
        tw_iseg *e = &idx->segs[i];
        e->field_map = malloc(sizeof *e->field_map * (idx->nfields ? idx->nfields : 1));
        if (!e->field_map) return TRAWL_ENOMEM;
        for (uint32_t g = 0; g < idx->nfields; g++) e->field_map[g] = tw_segment_field(e->seg, idx->field_names[g]);
    }
    return 0;
}

/* Opens the commit dir/MANIFEST names, with the settings of o. Sets *retry
 * when a file it names is gone (a writer replaced the commit meanwhile). */
static int open_once(const char *dir, const trawl_open_options *o, trawl_index **out, char *err, size_t errcap,
                     int *retry) {
    tw_manifest m;
    int rc = tw_manifest_read(dir, &m, err, errcap);
    if (rc == TRAWL_ENOTFOUND)
        return tw_err(err, errcap, rc, "%s: not an index (no %s): %s", dir, TW_MANIFEST,
                      errno == ENOENT ? "no such file" : strerror(errno));
    if (rc) return rc;
    trawl_index *idx = calloc(1, sizeof *idx);
    if (!idx || !(idx->dir = strdup(dir)) || !(idx->segs = calloc(m.nsegs ? m.nsegs : 1, sizeof *idx->segs))) {
        tw_manifest_free(&m);
        trawl_index_close(idx);
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&idx->pool_lock, NULL);
    idx->kernels = tw_kernels_get(tw_open_simd(o));
    idx->generation = m.generation;
    memcpy(idx->lang, m.lang, sizeof idx->lang);
    for (size_t i = 0; i < m.nsegs && rc == 0; i++) {
        char *path = tw_path_join(dir, m.segs[i].name);
        if (!path) {
            rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
            break;
        }
        tw_iseg *e = &idx->segs[idx->nsegs];
        rc = tw_segment_open(path, &e->seg, err, errcap);
        if (rc == TRAWL_EIO && errno == ENOENT) *retry = 1;
        free(path);
        if (rc) break;
        idx->nsegs++;
        if (e->seg->ndocs != m.segs[i].docs || strcmp(e->seg->lang, m.lang) != 0) {
            rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s/%s: meta section: does not match the manifest", dir,
                        m.segs[i].name);
            break;
        }
        if (m.segs[i].del) {
            char *dp = tw_path_join(dir, m.segs[i].del);
            rc = dp ? tw_deletes_read(dp, e->seg->ndocs, &e->deleted, err, errcap)
                    : tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
            if (rc && errno == ENOENT) *retry = 1;
            free(dp);
            if (rc) break;
            /* A view of the deletions, for the bitmap executors. */
            size_t n = roaring_bitmap_portable_size_in_bytes(e->deleted), used;
            if (!(e->del_bytes = malloc(n ? n : 1))) {
                rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
                break;
            }
            roaring_bitmap_portable_serialize(e->deleted, (char *)e->del_bytes);
            int vr = tw_rview_parse(e->del_bytes, n, 1, &e->del_view, &used, NULL);
            if (vr) {
                rc = vr == TRAWL_ENOMEM ? tw_err(err, errcap, TRAWL_ENOMEM, "out of memory")
                                        : tw_err(err, errcap, TRAWL_ECORRUPT, "%s/%s: deletes section: bitmap invalid",
                                                 dir, m.segs[i].del);
                break;
            }
        }
        idx->live_docs += e->seg->ndocs - (e->deleted ? roaring_bitmap_get_cardinality(e->deleted) : 0);
    }
    tw_manifest_free(&m);
    if (rc == 0 && (rc = build_fields(idx)) != 0) tw_err(err, errcap, rc, "out of memory");
    if (rc) {
        trawl_index_close(idx);
        return rc;
    }
    *out = idx;
    return 0;
}

int tw_index_from_segments(tw_segment **segs, uint32_t n, const char *lang, const uint32_t *docs, const char *name,
                           const trawl_open_options *o, trawl_index **out, char *err, size_t errcap) {
    *out = NULL;
    trawl_index *idx = calloc(1, sizeof *idx);
    if (!idx || !(idx->dir = strdup(name)) || !(idx->segs = calloc(n ? n : 1, sizeof *idx->segs))) {
        for (uint32_t i = 0; i < n; i++) tw_segment_close(segs[i]);
        trawl_index_close(idx);
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&idx->pool_lock, NULL);
    idx->kernels = tw_kernels_get(tw_open_simd(o));
    idx->generation = 1;
    for (uint32_t i = 0; i < n; i++) {
        idx->segs[idx->nsegs++].seg = segs[i];
        idx->live_docs += segs[i]->ndocs;
    }
    int rc = 0;
    snprintf(idx->lang, sizeof idx->lang, "%s", lang);
    /* What open_once checks against the manifest. */
    for (uint32_t i = 0; i < n && rc == 0; i++)
        if (strcmp(segs[i]->lang, lang) != 0 || (docs && segs[i]->ndocs != docs[i]))
            rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: meta section: does not match the manifest", segs[i]->path);
    if (rc == 0 && (rc = build_fields(idx)) != 0) tw_err(err, errcap, rc, "out of memory");
    if (rc) {
        trawl_index_close(idx);
        return rc;
    }
    *out = idx;
    return 0;
}

trawl_rc trawl_index_open(const char *dir, trawl_index **out, char **errmsg) {
    return trawl_index_open_v2(dir, NULL, out, errmsg);
}

const char *trawl_index_simd(const trawl_index *idx) {
    return idx ? tw_simd_name(idx->kernels->level) : "?";
}

trawl_rc trawl_index_open_v2(const char *dir, const trawl_open_options *options, trawl_index **out, char **errmsg) {
    char err[1024] = "";
    if (out) *out = NULL;
    if (errmsg) *errmsg = NULL;
    if (!dir || !out) return TRAWL_EINVAL;
    int rc = 0;
    /* A writer may replace the manifest and remove old files between our
     * reading the manifest and opening them: read it again. */
    for (int attempt = 0; attempt < 5; attempt++) {
        int retry = 0;
        rc = open_once(dir, options, out, err, sizeof err, &retry);
        if (rc == 0 || !retry) break;
    }
    if (rc && errmsg) *errmsg = strdup(err[0] ? err : trawl_strerror(rc));
    return rc;
}

uint64_t trawl_index_doc_count(const trawl_index *idx) {
    return idx ? idx->live_docs : 0;
}

trawl_rc trawl_index_get(const trawl_index *idx, const char *id, char **json) {
    if (!idx || !id || !json) return TRAWL_EINVAL;
    *json = NULL;
    size_t len = strlen(id);
    /* Newest segment first; a live copy exists in at most one segment. */
    for (uint32_t i = idx->nsegs; i-- > 0;) {
        const tw_iseg *e = &idx->segs[i];
        int64_t d = tw_segment_find_id(e->seg, id, len);
        if (d < 0 || (e->deleted && roaring_bitmap_contains(e->deleted, (uint32_t)d))) continue;
        char err[512];
        size_t n;
        return tw_segment_stored(e->seg, (uint32_t)d, json, &n, err, sizeof err);
    }
    return TRAWL_ENOTFOUND;
}

trawl_rc trawl_index_stats(const trawl_index *idx, char **out) {
    if (!idx || !out) return TRAWL_EINVAL;
    *out = NULL;
    uint64_t docs = 0, terms = 0, postings = 0, bytes = 0, deleted = 0;
    uint64_t sec[TW_SEC_COUNT] = {0};
    for (uint32_t i = 0; i < idx->nsegs; i++) {
        const tw_segment *s = idx->segs[i].seg;
        docs += s->ndocs;
        terms += s->nterms;
        postings += s->npostings;
        bytes += s->size;
        deleted += idx->segs[i].deleted ? roaring_bitmap_get_cardinality(idx->segs[i].deleted) : 0;
        for (unsigned k = 1; k < TW_SEC_COUNT; k++) sec[k] += tw_segment_section_bytes(s, k);
    }
    json_t *root = json_object(), *secs = json_object(), *fields = json_array();
    if (!root || !secs || !fields) {
        json_decref(root);
        json_decref(secs);
        json_decref(fields);
        return TRAWL_ENOMEM;
    }
    json_object_set_new(root, "documents", json_integer((json_int_t)idx->live_docs));
    json_object_set_new(root, "deleted", json_integer((json_int_t)deleted));
    json_object_set_new(root, "segments", json_integer(idx->nsegs));
    json_object_set_new(root, "generation", json_integer((json_int_t)idx->generation));
    json_object_set_new(root, "language", json_string(idx->lang));
    json_object_set_new(root, "terms", json_integer((json_int_t)terms));
    json_object_set_new(root, "postings", json_integer((json_int_t)postings));
    json_object_set_new(root, "bytes", json_integer((json_int_t)bytes));
    for (unsigned k = 1; k < TW_SEC_COUNT; k++)
        json_object_set_new(secs, tw_section_name(k), json_integer((json_int_t)sec[k]));
    json_object_set_new(root, "section_bytes", secs);
    /* Doc ids + term frequencies, and with the dictionary, per posting. */
    double per = postings ? 8.0 * (double)sec[TW_SEC_POSTINGS] / (double)postings : 0;
    double per_all =
        postings ? 8.0 * (double)(sec[TW_SEC_POSTINGS] + sec[TW_SEC_DICT] + sec[TW_SEC_DICTIDX]) / (double)postings : 0;
    json_object_set_new(root, "bits_per_posting", json_real(per));
    json_object_set_new(root, "bits_per_posting_with_dictionary", json_real(per_all));
    for (uint32_t f = 0; f < idx->nfields; f++) {
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(idx->field_names[f]));
        json_object_set_new(e, "documents", json_integer((json_int_t)idx->field_docs[f]));
        json_object_set_new(e, "tokens", json_integer((json_int_t)idx->field_tokens[f]));
        json_object_set_new(
            e, "avg_length",
            json_real(idx->field_docs[f] ? (double)idx->field_tokens[f] / (double)idx->field_docs[f] : 0));
        json_array_append_new(fields, e);
    }
    json_object_set_new(root, "fields", fields);
    (void)docs;
    *out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return *out ? 0 : TRAWL_ENOMEM;
}
