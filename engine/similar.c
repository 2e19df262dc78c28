/*
 * similar.c — more like this (trawl_similar, trawl_similar_query): the most
 * characteristic terms of a stored document by tf-idf over its text fields,
 * run as an OR query with the document itself left out.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "docset.h"
#include "engine.h"

typedef struct occ {
    char *term, *word; /* analyzed term and the word of the text it came from */
    size_t order;      /* occurrence number, so the first word of a term is kept */
} occ;

typedef struct occs {
    occ *o;
    size_t n, cap;
    const char *text;
    int rc;
} occs;

typedef struct cand {
    char *term, *word;
    uint64_t tf, df;
    double score;
} cand;

static int on_token(void *ctx, const tw_token *t) {
    occs *x = ctx;
    if (x->n == x->cap) {
        size_t nc = x->cap ? 2 * x->cap : 256;
        occ *no = realloc(x->o, nc * sizeof *no);
        if (!no) return x->rc = TRAWL_ENOMEM, 1;
        x->o = no;
        x->cap = nc;
    }
    occ *o = &x->o[x->n];
    o->term = strndup(t->term, t->len);
    o->word = strndup(x->text + t->start, t->end - t->start);
    o->order = x->n;
    if (!o->term || !o->word) {
        free(o->term);
        free(o->word);
        return x->rc = TRAWL_ENOMEM, 1;
    }
    x->n++;
    return 0;
}

static int analyze_value(tw_analyzer *an, json_t *val, occs *x) {
    if (json_is_string(val)) {
        x->text = json_string_value(val);
        int rc = tw_analyze(an, x->text, json_string_length(val), 0, 1, on_token, x, NULL);
        return x->rc ? x->rc : rc < 0 ? rc : 0;
    }
    if (json_is_array(val)) {
        size_t i;
        json_t *e;
        json_array_foreach(val, i, e) {
            int rc = analyze_value(an, e, x);
            if (rc) return rc;
        }
    }
    return 0;
}

static int occ_cmp(const void *a, const void *b) {
    const occ *x = a, *y = b;
    int c = strcmp(x->term, y->term);
    return c ? c : (x->order < y->order ? -1 : x->order > y->order);
}

static int cand_cmp(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return strcmp(x->term, y->term);
}

/* Live documents of the view with term in any field. */
static int live_df(const tw_view *v, const char *term, uint64_t *df) {
    *df = 0;
    char err[256];
    for (uint32_t s = 0; s < v->nsegs; s++) {
        const tw_vseg *vs = &v->segs[s];
        tw_term_ref ref;
        int rc = tw_segment_lookup(vs->seg, TW_ANY_FIELD, term, strlen(term), &ref, err, sizeof err);
        if (rc < 0) return rc;
        if (rc == 0) continue;
        *df += ref.df;
        if (!vs->deleted) continue;
        tw_doclist dl;
        if ((rc = tw_doclist_open(vs->seg, &ref, &dl, err, sizeof err))) return rc;
        /* The view's deletions, borrowed (never freed here). */
        tw_docset del = {(roaring_bitmap_t *)vs->deleted, NULL, vs->del_view, vs->del_view.card};
        uint64_t gone = tw_doclist_count(v->kernels, &dl, &del);
        tw_doclist_close(&dl);
        *df -= gone < *df ? gone : *df;
    }
    return 0;
}

/* Finds the live document id: 0 and its segment and number, or TRAWL_ENOTFOUND. */
static int find_doc(const tw_view *v, const char *id, uint32_t *seg, uint32_t *doc) {
    for (uint32_t i = v->nsegs; i-- > 0;) {
        const tw_vseg *e = &v->segs[i];
        int64_t d = tw_segment_find_id(e->seg, id, strlen(id));
        if (d < 0 || (e->deleted && roaring_bitmap_contains(e->deleted, (uint32_t)d))) continue;
        *seg = i;
        *doc = (uint32_t)d;
        return 0;
    }
    return TRAWL_ENOTFOUND;
}

/* Builds the OR query of the nterms best terms of doc (seg, d) into *query. */
static int similar_query(const trawl_index *idx, uint32_t seg, uint32_t d, size_t nterms, char **query, char *err,
                         size_t errcap) {
    const tw_view *v = &idx->view;
    char *json = NULL;
    size_t jlen;
    int rc = tw_segment_stored(v->segs[seg].seg, d, &json, &jlen, err, errcap);
    if (rc) return rc;
    json_t *root = json_loadb(json, jlen, 0, NULL);
    free(json);
    if (!json_is_object(root)) {
        json_decref(root);
        return tw_err(err, errcap, TRAWL_ECORRUPT, "stored document is not a JSON object");
    }
    tw_qctx *ctx = tw_index_qctx_acquire(idx);
    occs x = {0};
    if (!ctx) rc = TRAWL_ENOMEM;
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (rc) break;
        if (!strcmp(key, "id") || tw_view_field(v, key) < 0) continue; /* only indexed text fields */
        rc = analyze_value(ctx->an, val, &x);
    }
    tw_index_qctx_release(idx, ctx);
    json_decref(root);
    cand *c = NULL;
    size_t nc = 0;
    if (!rc && x.n) {
        qsort(x.o, x.n, sizeof *x.o, occ_cmp);
        if (!(c = calloc(x.n, sizeof *c))) rc = TRAWL_ENOMEM;
        for (size_t i = 0; !rc && i < x.n;) {
            size_t j = i;
            while (j < x.n && !strcmp(x.o[j].term, x.o[i].term)) j++;
            uint64_t df;
            if ((rc = live_df(v, x.o[i].term, &df))) break;
            /* Some other document has it, not every one does, and it is more than one byte. */
            if (df >= 2 && df < v->live_docs && strlen(x.o[i].term) > 1) {
                c[nc].term = x.o[i].term;
                c[nc].word = x.o[i].word;
                x.o[i].term = x.o[i].word = NULL;
                c[nc].tf = j - i;
                c[nc].df = df;
                c[nc].score = (1.0 + log((double)(j - i))) * log((double)v->live_docs / (double)df);
                nc++;
            }
            i = j;
        }
    }
    for (size_t i = 0; i < x.n; i++) free(x.o[i].term), free(x.o[i].word);
    free(x.o);
    if (!rc) {
        qsort(c, nc, sizeof *c, cand_cmp);
        if (nc > nterms) nc = nterms; /* (the rest is freed below) */
        size_t len = 1;
        for (size_t i = 0; i < nc; i++) len += strlen(c[i].word) + 3;
        char *q = malloc(len);
        if (!q) {
            rc = TRAWL_ENOMEM;
        } else {
            size_t at = 0;
            for (size_t i = 0; i < nc; i++) at += (size_t)sprintf(q + at, "%s\"%s\"", i ? " " : "", c[i].word);
            q[at] = 0;
            *query = q;
        }
    }
    for (size_t i = 0; c && i < x.n; i++) free(c[i].term), free(c[i].word);
    free(c);
    if (rc == TRAWL_ENOMEM) tw_err(err, errcap, rc, "out of memory");
    return rc;
}

trawl_rc trawl_similar_query(const trawl_index *idx, const char *id, size_t nterms, char **query) {
    if (query) *query = NULL;
    if (!idx || !id || !query || nterms < 1 || nterms > 100) return TRAWL_EINVAL;
    uint32_t seg, doc;
    char err[512];
    if (find_doc(&idx->view, id, &seg, &doc)) return TRAWL_ENOTFOUND;
    return similar_query(idx, seg, doc, nterms, query, err, sizeof err);
}

trawl_rc trawl_similar(const trawl_index *idx, const char *id, size_t nterms, const trawl_options *options,
                       trawl_results **out) {
    if (out) *out = NULL;
    if (!out) return TRAWL_EINVAL;
    trawl_options *dflt = NULL;
    if (!options && !(options = dflt = trawl_options_new())) return TRAWL_ENOMEM;
    tw_params p = options->p;
    p.use_or = 1;
    p.auto_op = 0;
    tw_exclude ex = {0, 0, p.offset, p.limit};
    char *query = NULL, err[512] = "";
    int rc = 0;
    if (!idx || !id || nterms < 1 || nterms > 100)
        rc = tw_err(err, sizeof err, TRAWL_EINVAL, "no index or id, or a term count outside 1..100");
    else if (find_doc(&idx->view, id, &ex.seg, &ex.doc))
        rc = tw_err(err, sizeof err, TRAWL_ENOTFOUND, "no live document has the id '%s'", id);
    else
        rc = similar_query(idx, ex.seg, ex.doc, nterms, &query, err, sizeof err);
    /* Failures come back in a results object, as trawl_search's do. */
    if (rc)
        *out = tw_results_failed(rc, err);
    else
        rc = tw_search_params(idx, query, &p, &ex, out);
    free(query);
    trawl_options_free(dflt);
    return rc;
}
