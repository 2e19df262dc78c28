/*
 * index.c — trawl_index: an open, immutable snapshot of one commit.
 *
 * Reads the manifest, opens (and validates) every segment and deletion bitmap
 * it names into the view the query layer searches (which merges the
 * segments' field tables into global fields with statistics over live
 * documents, see query/view.c), and keeps a pool of query contexts. Also
 * serves get-by-id and statistics.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"
#include "engine.h"
#include "kernels.h"
#include "mergepolicy.h"
#include "openopts.h"

tw_qctx *tw_index_qctx_acquire(const trawl_index *cidx) {
    trawl_index *idx = (trawl_index *)cidx; /* the pool is the one mutable part */
    tw_qctx *c = NULL;
    pthread_mutex_lock(&idx->pool_lock);
    if (idx->npool > 0) c = idx->pool[--idx->npool];
    pthread_mutex_unlock(&idx->pool_lock);
    return c ? c : tw_qctx_new(idx->view.lang);
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
    tw_qctx_free(c);
}

void trawl_index_close(trawl_index *idx) {
    if (!idx) return;
    for (int k = 0; k < idx->npool; k++) tw_qctx_free(idx->pool[k]);
    pthread_mutex_destroy(&idx->pool_lock);
    /* Every allocated entry: an open that failed part-way has named more
     * segments than its view holds. */
    for (uint32_t i = 0; i < idx->names_cap; i++) {
        free(idx->seg_names[i]);
        free(idx->del_names[i]);
    }
    free(idx->seg_names);
    free(idx->del_names);
    tw_view_clear(&idx->view);
    free(idx->dir);
    free(idx);
}

/* A new, empty index named dir (for messages) with room for nsegs segments in
 * language lang, searched with the kernels o selects. NULL when out of memory. */
static trawl_index *index_new_k(const char *dir, const struct tw_kernels *k, const char *lang, uint32_t nsegs) {
    trawl_index *idx = calloc(1, sizeof *idx);
    if (!idx) return NULL;
    pthread_mutex_init(&idx->pool_lock, NULL);
    if (!(idx->dir = strdup(dir)) || !(idx->seg_names = calloc(nsegs ? nsegs : 1, sizeof *idx->seg_names)) ||
        !(idx->del_names = calloc(nsegs ? nsegs : 1, sizeof *idx->del_names)) ||
        tw_view_init(&idx->view, k, lang, nsegs) != 0) {
        trawl_index_close(idx);
        return NULL;
    }
    idx->names_cap = nsegs;
    return idx;
}

static trawl_index *index_new(const char *dir, const trawl_open_options *o, const char *lang, uint32_t nsegs) {
    return index_new_k(dir, tw_kernels_get(tw_open_simd(o)), lang, nsegs);
}

/* The view segment of old (may be NULL) made from the file `name`, or -1. */
static int64_t old_segment(const trawl_index *old, const char *name) {
    for (uint32_t i = 0; old && i < old->view.nsegs; i++)
        if (strcmp(old->seg_names[i], name) == 0) return i;
    return -1;
}

/* Opens the commit dir/MANIFEST names, searched with kernels k. Segments that
 * `old` (may be NULL) has open are shared with it, as are their deletions
 * when the same file holds them. Sets *retry when a file it names is gone (a
 * writer replaced the commit meanwhile). *out is NULL (and 0 returned) when
 * `old` is given and the commit is still its own. */
static int open_once(const char *dir, const struct tw_kernels *k, const trawl_index *old, trawl_index **out, char *err,
                     size_t errcap, int *retry) {
    tw_manifest m;
    *out = NULL;
    int rc = tw_manifest_read(dir, &m, err, errcap);
    if (rc == TRAWL_ENOTFOUND)
        return tw_err(err, errcap, rc, "%s: not an index (no %s): %s", dir, TW_MANIFEST,
                      errno == ENOENT ? "no such file" : strerror(errno));
    if (rc) return rc;
    if (old && m.generation == old->generation) {
        tw_manifest_free(&m);
        return 0;
    }
    trawl_index *idx = index_new_k(dir, k, m.lang, (uint32_t)m.nsegs);
    if (!idx) {
        tw_manifest_free(&m);
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    idx->generation = m.generation;
    for (size_t i = 0; i < m.nsegs && rc == 0; i++) {
        int64_t o = old_segment(old, m.segs[i].name);
        tw_segment *seg;
        roaring_bitmap_t *deleted = NULL;
        if (old && o >= 0) { /* unchanged: shared (o >= 0 only when there is an old snapshot) */
            seg = old->view.segs[o].seg;
            tw_segment_ref(seg);
        } else {
            char *path = tw_path_join(dir, m.segs[i].name);
            if (!path) {
                rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
                break;
            }
            rc = tw_segment_open(path, &seg, err, errcap);
            if (rc == TRAWL_EIO && errno == ENOENT) *retry = 1;
            free(path);
            if (rc) break;
        }
        if (!(idx->seg_names[i] = strdup(m.segs[i].name)) ||
            (m.segs[i].del && !(idx->del_names[i] = strdup(m.segs[i].del)))) {
            rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        } else if (seg->ndocs != m.segs[i].docs || strcmp(seg->lang, m.lang) != 0 ||
                   !tw_schema_equal(seg->schema, m.schema)) {
            rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s/%s: meta section: does not match the manifest", dir,
                        m.segs[i].name);
        } else if (m.segs[i].del && old && o >= 0 && old->del_names[o] &&
                   strcmp(old->del_names[o], m.segs[i].del) == 0) {
            if (!(deleted = roaring_bitmap_copy(old->view.segs[o].deleted)))
                rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        } else if (m.segs[i].del) {
            char *dp = tw_path_join(dir, m.segs[i].del);
            rc = dp ? tw_deletes_read(dp, seg->ndocs, &deleted, err, errcap)
                    : tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
            if (rc && errno == ENOENT) *retry = 1;
            free(dp);
        }
        if (rc) {
            tw_segment_close(seg);
            break;
        }
        /* The view owns the segment and its deletions from here. */
        rc = tw_view_add(&idx->view, seg, deleted);
        if (rc == TRAWL_ENOMEM)
            tw_err(err, errcap, rc, "out of memory");
        else if (rc)
            tw_err(err, errcap, rc, "%s/%s: deletes section: bitmap invalid", dir, m.segs[i].del);
    }
    tw_manifest_free(&m);
    if (rc == 0 && (rc = tw_view_finish(&idx->view)) != 0) tw_err(err, errcap, rc, "out of memory");
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
    trawl_index *idx = index_new(name, o, lang, n);
    if (!idx) {
        for (uint32_t i = 0; i < n; i++) tw_segment_close(segs[i]);
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    idx->generation = 1;
    int rc = 0;
    for (uint32_t i = 0; i < n; i++) {
        int r = tw_view_add(&idx->view, segs[i], NULL); /* takes the segment over, also on failure */
        if (r && !rc) rc = tw_err(err, errcap, r, "out of memory");
    }
    /* What open_once checks against the manifest. */
    for (uint32_t i = 0; i < n && rc == 0; i++)
        if (strcmp(segs[i]->lang, lang) != 0 || (docs && segs[i]->ndocs != docs[i]))
            rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: meta section: does not match the manifest", segs[i]->path);
    if (rc == 0 && (rc = tw_view_finish(&idx->view)) != 0) tw_err(err, errcap, rc, "out of memory");
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
    return idx ? tw_simd_name(idx->view.kernels->level) : "?";
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
        rc = open_once(dir, tw_kernels_get(tw_open_simd(options)), NULL, out, err, sizeof err, &retry);
        if (rc == 0 || !retry) break;
    }
    if (rc && errmsg) *errmsg = strdup(err[0] ? err : trawl_strerror(rc));
    return rc;
}

trawl_rc trawl_index_reopen(const trawl_index *idx, trawl_index **newer) {
    if (newer) *newer = NULL;
    if (!idx || !newer) return TRAWL_EINVAL;
    char err[1024] = "";
    int rc = 0;
    for (int attempt = 0; attempt < 5; attempt++) {
        int retry = 0;
        rc = open_once(idx->dir, idx->view.kernels, idx, newer, err, sizeof err, &retry);
        if (rc == 0 || !retry) break;
    }
    return rc;
}

uint64_t trawl_index_doc_count(const trawl_index *idx) {
    return idx ? idx->view.live_docs : 0;
}

trawl_rc trawl_index_get(const trawl_index *idx, const char *id, char **json) {
    if (!idx || !id || !json) return TRAWL_EINVAL;
    *json = NULL;
    size_t len = strlen(id);
    /* Newest segment first; a live copy exists in at most one segment. */
    for (uint32_t i = idx->view.nsegs; i-- > 0;) {
        const tw_vseg *e = &idx->view.segs[i];
        int64_t d = tw_segment_find_id(e->seg, id, len);
        if (d < 0 || (e->deleted && roaring_bitmap_contains(e->deleted, (uint32_t)d))) continue;
        char err[512];
        size_t n;
        return tw_segment_stored(e->seg, (uint32_t)d, json, &n, err, sizeof err);
    }
    return TRAWL_ENOTFOUND;
}

/* Adds "schema" (the index's field types) and "typed_fields" (per keyword,
 * date and number field: its type, live documents with a value, and distinct
 * live values for keywords, smallest and largest value for dates and
 * numbers, over live documents) to root. Allocation failures leave parts out. */
static void add_typed_stats(json_t *root, const tw_view *v) {
    const tw_schema *sc = v->segs[0].seg->schema;
    char *st = tw_schema_print(sc, NULL);
    json_t *sj = st ? json_loads(st, 0, NULL) : NULL;
    free(st);
    if (sj) json_object_set_new(root, "schema", sj);
    json_t *typed = json_object();
    if (!typed) return;
    for (uint32_t i = 0; i < v->nsegs; i++) {
        const tw_segment *s = v->segs[i].seg;
        const roaring_bitmap_t *del = v->segs[i].deleted;
        for (uint32_t k = 0; k < s->nkw; k++) {
            const tw_kwfield *f = &s->kw[k];
            json_t *e = json_object_get(typed, f->name), *vals;
            if (!e) {
                e = json_pack("{s:s,s:I,s:{}}", "type", tw_types_name(tw_schema_types(sc, f->name, strlen(f->name))),
                              "documents", (json_int_t)0, "values");
                if (!e || json_object_set_new(typed, f->name, e)) continue;
            }
            vals = json_object_get(e, "values");
            uint32_t *live = calloc((size_t)f->nvalues + 1, sizeof *live);
            if (!live) continue;
            uint64_t with = 0;
            for (uint32_t d = 0; d < f->ndocs; d++) {
                uint32_t n = tw_kw_doc_nvalues(f, d);
                if (!n || (del && roaring_bitmap_contains(del, d))) continue;
                with++;
                for (uint32_t q = 0; q < n; q++) live[tw_kw_doc_ord(f, d, q)]++;
            }
            for (uint32_t o = 0; o < f->nvalues; o++) {
                size_t len;
                const char *val = tw_kw_value(f, o, &len);
                if (live[o]) json_object_setn_new(vals, val, len, json_true());
            }
            free(live);
            json_object_set_new(e, "documents",
                                json_integer(json_integer_value(json_object_get(e, "documents")) + (json_int_t)with));
        }
        for (uint32_t k = 0; k < s->ncols; k++) {
            const tw_colfield *c = &s->cols[k];
            json_t *e = json_object_get(typed, c->name);
            if (!e) {
                e = json_pack("{s:s,s:I}", "type", tw_types_name(c->type), "documents", (json_int_t)0);
                if (!e || json_object_set_new(typed, c->name, e)) continue;
            }
            uint64_t with = 0;
            for (uint32_t d = 0; d < c->ndocs; d++) {
                if (!tw_col_has(c, d) || (del && roaring_bitmap_contains(del, d))) continue;
                with++;
                tw_num x;
                uint64_t key = tw_col_key(c, d);
                tw_col_num(c, key, &x);
                json_t *mn = json_object_get(e, "min_key"), *mx = json_object_get(e, "max_key");
                /* Across segments values are compared as numbers (a column may be int or double). */
                if (!mn ||
                    (json_is_integer(mn) && !x.is_double ? x.i < json_integer_value(mn)
                                                         : (x.is_double ? x.d : (double)x.i) < json_number_value(mn)))
                    json_object_set_new(e, "min_key", x.is_double ? json_real(x.d) : json_integer((json_int_t)x.i));
                if (!mx ||
                    (json_is_integer(mx) && !x.is_double ? x.i > json_integer_value(mx)
                                                         : (x.is_double ? x.d : (double)x.i) > json_number_value(mx)))
                    json_object_set_new(e, "max_key", x.is_double ? json_real(x.d) : json_integer((json_int_t)x.i));
            }
            json_object_set_new(e, "documents",
                                json_integer(json_integer_value(json_object_get(e, "documents")) + (json_int_t)with));
        }
    }
    /* Keyword value sets become counts; column extremes become values. */
    const char *name;
    json_t *e;
    json_object_foreach(typed, name, e) {
        json_t *vals = json_object_get(e, "values");
        if (vals) {
            json_object_set_new(e, "distinct_values", json_integer((json_int_t)json_object_size(vals)));
            json_object_del(e, "values");
        }
        json_t *mn = json_object_get(e, "min_key"), *mx = json_object_get(e, "max_key");
        if (mn && mx && strcmp(json_string_value(json_object_get(e, "type")), "date") == 0) {
            char a[TW_DATE_TEXT_MAX], b[TW_DATE_TEXT_MAX];
            tw_date_format(json_integer_value(mn), TW_DP_SECOND, a, sizeof a);
            tw_date_format(json_integer_value(mx), TW_DP_SECOND, b, sizeof b);
            json_object_set_new(e, "min", json_string(a));
            json_object_set_new(e, "max", json_string(b));
        } else if (mn && mx) {
            json_object_set(e, "min", mn);
            json_object_set(e, "max", mx);
        }
        json_object_del(e, "min_key");
        json_object_del(e, "max_key");
    }
    json_object_set_new(root, "typed_fields", typed);
}

trawl_rc trawl_index_stats(const trawl_index *idx, char **out) {
    if (!idx || !out) return TRAWL_EINVAL;
    *out = NULL;
    const tw_view *v = &idx->view;
    uint64_t docs = 0, terms = 0, postings = 0, bytes = 0, deleted = 0;
    uint64_t sec[TW_SEC_COUNT] = {0};
    for (uint32_t i = 0; i < v->nsegs; i++) {
        const tw_segment *s = v->segs[i].seg;
        docs += s->ndocs;
        terms += s->nterms;
        postings += s->npostings;
        bytes += s->size;
        deleted += v->segs[i].deleted ? roaring_bitmap_get_cardinality(v->segs[i].deleted) : 0;
        for (unsigned k = 1; k < TW_SEC_COUNT; k++) sec[k] += tw_segment_section_bytes(s, k);
    }
    json_t *root = json_object(), *secs = json_object(), *fields = json_array();
    if (!root || !secs || !fields) {
        json_decref(root);
        json_decref(secs);
        json_decref(fields);
        return TRAWL_ENOMEM;
    }
    json_object_set_new(root, "documents", json_integer((json_int_t)v->live_docs));
    json_object_set_new(root, "deleted", json_integer((json_int_t)deleted));
    json_object_set_new(root, "segments", json_integer(v->nsegs));
    json_object_set_new(root, "generation", json_integer((json_int_t)idx->generation));
    json_object_set_new(root, "language", json_string(v->lang));
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
    for (uint32_t f = 0; f < v->nfields; f++) {
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(v->field_names[f]));
        json_object_set_new(e, "documents", json_integer((json_int_t)v->field_docs[f]));
        json_object_set_new(e, "tokens", json_integer((json_int_t)v->field_tokens[f]));
        json_object_set_new(e, "avg_length",
                            json_real(v->field_docs[f] ? (double)v->field_tokens[f] / (double)v->field_docs[f] : 0));
        if (v->nsegs)
            json_object_set_new(e, "types",
                                json_string(tw_types_name(tw_schema_types(v->segs[0].seg->schema, v->field_names[f],
                                                                          strlen(v->field_names[f])))));
        json_array_append_new(fields, e);
    }
    json_object_set_new(root, "fields", fields);
    if (v->nsegs) add_typed_stats(root, v);
    /* Per segment, in doc order: file, documents, deleted, bytes; and what
     * the default merge policy (tiers of ten, 30% deleted) would do now. */
    json_t *segl = json_array();
    tw_mp_seg *shape = calloc(v->nsegs ? v->nsegs : 1, sizeof *shape);
    tw_mp_merge *plan = calloc(v->nsegs ? v->nsegs : 1, sizeof *plan);
    if (!segl || !shape || !plan) {
        json_decref(segl);
        free(shape);
        free(plan);
        json_decref(root);
        return TRAWL_ENOMEM;
    }
    for (uint32_t i = 0; i < v->nsegs; i++) {
        const tw_segment *sg = v->segs[i].seg;
        uint64_t del = v->segs[i].deleted ? roaring_bitmap_get_cardinality(v->segs[i].deleted) : 0;
        shape[i] = (tw_mp_seg){sg->size, sg->ndocs, (uint32_t)del};
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(idx->seg_names && idx->seg_names[i] ? idx->seg_names[i] : ""));
        json_object_set_new(e, "documents", json_integer((json_int_t)sg->ndocs));
        json_object_set_new(e, "deleted", json_integer((json_int_t)del));
        json_object_set_new(e, "bytes", json_integer((json_int_t)sg->size));
        json_array_append_new(segl, e);
    }
    tw_mp_params mp;
    tw_mp_defaults(&mp);
    size_t nm = tw_merge_plan(shape, v->nsegs, &mp, plan), joined = 0;
    for (size_t k = 0; k < nm; k++) joined += plan[k].count;
    free(shape);
    free(plan);
    json_object_set_new(root, "segment_list", segl);
    json_t *ms = json_object();
    json_object_set_new(ms, "pending_merges", json_integer((json_int_t)nm));
    json_object_set_new(ms, "segments_to_merge", json_integer((json_int_t)joined));
    json_object_set_new(root, "merge", ms);
    (void)docs;
    *out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return *out ? 0 : TRAWL_ENOMEM;
}
