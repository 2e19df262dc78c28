/*
 * view.c — building the read-only view the query layer searches: segments
 * with their deletions, merged into global fields whose statistics count live
 * documents only (BM25's document frequencies and average lengths).
 */
#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trawl.h"

int tw_view_init(tw_view *v, const struct tw_kernels *k, const char *lang, uint32_t cap) {
    memset(v, 0, sizeof *v);
    v->kernels = k;
    snprintf(v->lang, sizeof v->lang, "%s", lang);
    v->cap = cap;
    v->segs = calloc(cap ? cap : 1, sizeof *v->segs);
    return v->segs ? 0 : TRAWL_ENOMEM;
}

int tw_view_add(tw_view *v, tw_segment *seg, roaring_bitmap_t *deleted) {
    if (!v->segs || v->nsegs >= v->cap) {
        tw_segment_close(seg);
        if (deleted) roaring_bitmap_free(deleted);
        return TRAWL_ENOMEM;
    }
    tw_vseg *e = &v->segs[v->nsegs++];
    e->seg = seg;
    e->deleted = deleted;
    v->live_docs += seg->ndocs - (deleted ? roaring_bitmap_get_cardinality(deleted) : 0);
    if (!deleted) return 0;
    /* A view of the deletions, for the bitmap executors. */
    size_t n = roaring_bitmap_portable_size_in_bytes(deleted), used;
    if (!(e->del_bytes = malloc(n ? n : 1))) return TRAWL_ENOMEM;
    roaring_bitmap_portable_serialize(deleted, (char *)e->del_bytes);
    int vr = tw_rview_parse(e->del_bytes, n, 1, &e->del_view, &used, NULL);
    return vr == 0 ? 0 : vr == TRAWL_ENOMEM ? TRAWL_ENOMEM : TRAWL_ECORRUPT;
}

void tw_view_clear(tw_view *v) {
    for (uint32_t i = 0; i < v->nsegs; i++) {
        tw_segment_close(v->segs[i].seg);
        if (v->segs[i].deleted) roaring_bitmap_free(v->segs[i].deleted);
        tw_rview_free(&v->segs[i].del_view);
        free(v->segs[i].del_bytes);
        free(v->segs[i].field_map);
    }
    free(v->segs);
    for (uint32_t f = 0; f < v->nfields; f++) free(v->field_names[f]);
    free(v->field_names);
    free(v->field_docs);
    free(v->field_tokens);
    memset(v, 0, sizeof *v);
}

int tw_view_field(const tw_view *v, const char *name) {
    for (uint32_t f = 0; f < v->nfields; f++)
        if (strcmp(v->field_names[f], name) == 0) return (int)f;
    return TRAWL_ENOTFOUND;
}

/* Global number of field name, added with zero statistics if new; or
 * TRAWL_ENOMEM. */
static int add_field(tw_view *v, const char *name) {
    int f = tw_view_field(v, name);
    if (f >= 0) return f;
    uint32_t n = v->nfields + 1;
    char **nn = realloc(v->field_names, sizeof *nn * n);
    if (nn) v->field_names = nn;
    uint64_t *nd = realloc(v->field_docs, sizeof *nd * n);
    if (nd) v->field_docs = nd;
    uint64_t *nt = realloc(v->field_tokens, sizeof *nt * n);
    if (nt) v->field_tokens = nt;
    if (!nn || !nd || !nt || !(v->field_names[v->nfields] = strdup(name))) return TRAWL_ENOMEM;
    v->field_docs[v->nfields] = 0;
    v->field_tokens[v->nfields] = 0;
    return (int)v->nfields++;
}

int tw_view_finish(tw_view *v) {
    for (uint32_t i = 0; i < v->nsegs; i++) {
        tw_segment *s = v->segs[i].seg;
        for (uint32_t f = 0; f < s->nfields; f++) {
            int g = add_field(v, s->fields[f].name);
            if (g < 0) return TRAWL_ENOMEM;
            v->field_docs[g] += s->fields[f].docs;
            v->field_tokens[g] += s->fields[f].tokens;
            /* Deleted documents do not count. */
            roaring_bitmap_t *del = v->segs[i].deleted;
            if (del) {
                roaring_uint32_iterator_t *it = roaring_create_iterator(del);
                if (!it) return TRAWL_ENOMEM;
                for (; it->has_value; roaring_advance_uint32_iterator(it)) {
                    uint32_t dl = tw_segment_doclen(s, f, it->current_value);
                    v->field_docs[g] -= dl > 0;
                    v->field_tokens[g] -= dl;
                }
                roaring_free_uint32_iterator(it);
            }
        }
    }
    for (uint32_t i = 0; i < v->nsegs; i++) {
        tw_vseg *e = &v->segs[i];
        e->field_map = malloc(sizeof *e->field_map * (v->nfields ? v->nfields : 1));
        if (!e->field_map) return TRAWL_ENOMEM;
        for (uint32_t g = 0; g < v->nfields; g++) e->field_map[g] = tw_segment_field(e->seg, v->field_names[g]);
    }
    return 0;
}
