/*
 * planner.c — turns a parsed query into a plan (see plan.h) and a plan node
 * into a segment's cursor tree.
 *
 * Every leaf word is analyzed like the indexed text (prefixes folded but not
 * stemmed); a word of several tokens becomes a phrase. An unqualified term is
 * one spec scored over every text field from the term's single doc list; a
 * phrase is one spec per field. Terms are looked up once per segment here, and
 * their global document frequencies give each field's idf.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "gstats.h"
#include "kernels.h"
#include "plan.h"
#include "segfilter.h"
#include "trawl.h"

typedef struct planner {
    const tw_view *view;
    const tw_params *opt;
    tw_analyzer *an;
    int rc;
    char *err;
    size_t errcap;
    long erroff;
    highlight hl;
    size_t expansions; /* prefix expansions so far, over every prefix of the query */
} planner;

typedef struct tokvec {
    char **terms;
    size_t *lens;
    uint32_t *pos;
    size_t n;
    int oom;
} tokvec;

static int collect_tok(void *c, const tw_token *t) {
    tokvec *v = c;
    if (v->n >= TW_MAX_PHRASE_TERMS) return 1;
    char *s = malloc(t->len + 1);
    if (!s) {
        v->oom = 1;
        return 1;
    }
    memcpy(s, t->term, t->len);
    s[t->len] = 0;
    v->terms[v->n] = s;
    v->lens[v->n] = t->len;
    v->pos[v->n] = t->pos;
    v->n++;
    return 0;
}

static void tokvec_free(tokvec *v) {
    for (size_t i = 0; i < v->n; i++) free(v->terms[i]);
    free(v->terms);
    free(v->lens);
    free(v->pos);
}

static int tokvec_init(tokvec *v) {
    memset(v, 0, sizeof *v);
    v->terms = calloc(TW_MAX_PHRASE_TERMS, sizeof *v->terms);
    v->lens = calloc(TW_MAX_PHRASE_TERMS, sizeof *v->lens);
    v->pos = calloc(TW_MAX_PHRASE_TERMS, sizeof *v->pos);
    return v->terms && v->lens && v->pos ? 0 : TRAWL_ENOMEM;
}

/* Records the first failure: rc, the query offset it concerns (-1: none) and
 * the message fmt with its one string argument. Returns rc. */
static int fail(planner *p, int rc, long off, const char *fmt, const char *arg) {
    if (!p->rc) {
        p->rc = rc;
        p->erroff = off;
        tw_err(p->err, p->errcap, rc, fmt, arg);
    }
    return rc;
}
#define OOM(p) fail(p, TRAWL_ENOMEM, -1, "%s", "out of memory")

static void spec_free(spec *s, uint32_t nsegs) {
    for (size_t i = 0; s->terms && i < s->nterms; i++) {
        if (s->terms[i].posts && s->terms[i].found)
            for (uint32_t k = 0; k < nsegs; k++)
                if (s->terms[i].found[k]) tw_postings_close(&s->terms[i].posts[k]);
        free(s->terms[i].refs); /* the block of refs, posts, found and text (init_term) */
    }
    free(s->terms);
    for (size_t i = 0; i < s->nfields; i++) free(s->fields[i].label);
    free(s->fields);
    free(s->fdf);
}

static void pnode_free(pnode *n, uint32_t nsegs) {
    if (!n) return;
    for (size_t i = 0; i < n->nspecs; i++) spec_free(&n->specs[i], nsegs);
    free(n->specs);
    tw_filter_free(n->fbm, nsegs);
    tw_fprep_free(n->fprep);
    for (size_t i = 0; i < n->n; i++) pnode_free(n->kids[i], nsegs);
    free(n->kids);
    free(n->occ);
    free(n);
}

/* Adds a copy of s to the set *arr of *n strings. 0 or TRAWL_ENOMEM. */
static int add_highlight(char ***arr, size_t *n, const char *s) {
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*arr)[i], s) == 0) return 0;
    char **na = realloc(*arr, sizeof *na * (*n + 1));
    if (!na) return TRAWL_ENOMEM;
    *arr = na;
    if (!(na[*n] = strdup(s))) return TRAWL_ENOMEM;
    (*n)++;
    return 0;
}

static double idf(uint64_t n, uint64_t df) {
    return log(1.0 + ((double)n - (double)df + 0.5) / ((double)df + 0.5));
}

/* Live documents with global field g and their tokens: the supplied
 * statistics' when they have the field, else the view's. */
static void field_stats(const planner *p, uint32_t g, uint64_t *docs, uint64_t *tokens) {
    const tw_gfield *f = p->opt->gstats ? tw_gstats_field(p->opt->gstats, p->view->field_names[g]) : NULL;
    *docs = f ? f->docs : p->view->field_docs[g];
    *tokens = f ? f->tokens : p->view->field_tokens[g];
}

/* The idf of term[0..len) in global field g whose live document frequency
 * in the view is df (> 0): recorded when collecting, and computed from the
 * supplied statistics where they have the term and field. Sets p->rc on
 * failure (out of memory while recording). */
static double term_idf(planner *p, uint32_t g, const char *term, size_t len, uint64_t df) {
    const char *fname = p->view->field_names[g];
    if (p->opt->collect && tw_gstats_add_term(p->opt->collect, fname, term, len, df)) OOM(p);
    const tw_gterm *t = p->opt->gstats ? tw_gstats_term(p->opt->gstats, fname, term, len) : NULL;
    uint64_t n, tokens;
    field_stats(p, g, &n, &tokens);
    return idf(n, t ? t->df : df);
}

/* Fills a field's BM25F constants for a term of idf term_idf. */
static void finish_field_bm25f(planner *p, sfield *f, double term_idf) {
    uint64_t n, tokens;
    field_stats(p, f->gfield, &n, &tokens);
    double avgdl = n ? (double)tokens / (double)n : 1.0;
    double k1 = p->opt->k1, b = p->opt->b;
    f->bm.k1 = k1;
    f->bm.weight = term_idf * (k1 + 1);
    f->bm.norm0 = 1 - b;
    f->bm.norm1 = avgdl > 0 ? b / avgdl : 0;
    f->bm.bm25f = 1;
    f->bm.field_weight = tw_params_weight(p->opt, p->view->field_names[f->gfield]);
    f->bm.idf = term_idf;
    f->bm.avgdl = avgdl;
    f->bm.label = f->label;
}

/* BM25F's idf of an unqualified term[0..len) found in dfany live documents
 * of the view (in any field): from N live documents, or the supplied
 * statistics' documents and their entry for the term under the pseudo-field
 * "*" where they have one; recorded under "*" when collecting. */
static double term_idf_any(planner *p, const char *term, size_t len, uint64_t dfany) {
    if (p->opt->collect && tw_gstats_add_term(p->opt->collect, "*", term, len, dfany)) OOM(p);
    const tw_gterm *t = p->opt->gstats ? tw_gstats_term(p->opt->gstats, "*", term, len) : NULL;
    uint64_t n = p->opt->gstats && p->opt->gstats->docs ? p->opt->gstats->docs : p->view->live_docs;
    return idf(n, t ? t->df : dfany);
}

/* Fills a field's BM25 constants; idf_sum is the (summed) idf. */
static void finish_field(planner *p, sfield *f, double idf_sum) {
    const tw_view *view = p->view;
    uint64_t n, tokens;
    field_stats(p, f->gfield, &n, &tokens);
    double avgdl = n ? (double)tokens / (double)n : 1.0;
    double k1 = p->opt->k1, b = p->opt->b, fw = tw_params_weight(p->opt, view->field_names[f->gfield]);
    f->bm.k1 = k1;
    f->bm.weight = fw * idf_sum * (k1 + 1);
    f->bm.norm0 = k1 * (1 - b);
    f->bm.norm1 = avgdl > 0 ? k1 * b / avgdl : 0;
    f->bm.field_weight = fw;
    f->bm.idf = idf_sum;
    f->bm.avgdl = avgdl;
    f->bm.label = f->label;
}

static char *make_label(const char *field, const tokvec *v) {
    size_t len = strlen(field) + 4;
    for (size_t i = 0; i < v->n; i++) len += v->lens[i] + 1;
    char *l = malloc(len), *o = l;
    if (!l) return NULL;
    o += sprintf(o, "%s:%s", field, v->n > 1 ? "\"" : "");
    for (size_t i = 0; i < v->n; i++) {
        if (i) *o++ = ' ';
        memcpy(o, v->terms[i], v->lens[i]);
        o += v->lens[i];
    }
    if (v->n > 1) *o++ = '"';
    *o = 0;
    return l;
}

static int push_spec(planner *p, pnode *leaf, spec *s) {
    spec *ns = realloc(leaf->specs, sizeof *ns * (leaf->nspecs + 1));
    if (!ns) {
        spec_free(s, p->view->nsegs);
        return OOM(p);
    }
    leaf->specs = ns;
    leaf->specs[leaf->nspecs++] = *s;
    return 0;
}

/* Fills t for the term text[0..len) at offset, with zeroed per-segment refs
 * and found flags, and open-record slots when posts (a term spec). One
 * allocation holds them all and the text; t->refs owns it. */
static int init_term(planner *p, pterm_ref *t, const char *text, size_t len, uint32_t offset, int posts) {
    size_t ns = p->view->nsegs ? p->view->nsegs : 1;
    size_t nposts = posts ? ns : 0;
    unsigned char *b = calloc(1, ns * sizeof *t->refs + nposts * sizeof *t->posts + ns + len + 1);
    if (!b) return OOM(p);
    t->refs = (tw_term_ref *)b;
    b += ns * sizeof *t->refs;
    if (posts) {
        t->posts = (tw_postings *)b;
        b += ns * sizeof *t->posts;
    }
    t->found = b;
    t->text = (char *)b + ns;
    memcpy(t->text, text, len);
    t->len = len;
    t->offset = offset;
    return 0;
}

/* For each field index fis[j] of the open record post (or -1), how many of
 * the segment's deleted documents have the term in that field: document
 * frequencies count live documents only. */
static int deleted_in_fields(planner *p, uint32_t si, const tw_postings *post, const int *fis, size_t nf, uint32_t *dd,
                             uint32_t *dany) {
    const tw_vseg *e = &p->view->segs[si];
    memset(dd, 0, sizeof *dd * nf);
    if (dany) *dany = 0;
    if (!e->deleted) return 0;
    if (post->flags & TW_PF_BITMAP) {
        const tw_rview *v[2] = {&post->view, &e->del_view};
        size_t cap = e->del_view.card < post->view.card ? (size_t)e->del_view.card : (size_t)post->view.card;
        uint32_t *buf = malloc(sizeof *buf * 2 * (cap ? cap : 1)), *ranks[2];
        size_t nout = 0;
        if (!buf) return OOM(p);
        ranks[0] = buf + cap;
        ranks[1] = NULL;
        if (tw_and(p->view->kernels, v, 2, buf, cap, ranks, NULL, &nout)) {
            free(buf);
            return OOM(p);
        }
        for (size_t q = 0; q < nout; q++)
            for (size_t j = 0; j < nf; j++) dd[j] += fis[j] >= 0 && tw_pfield_tf(&post->f[fis[j]], ranks[0][q]) > 0;
        if (dany) *dany = (uint32_t)nout;
        free(buf);
        return 0;
    }
    tw_piter it;
    for (tw_piter_init(&it, post); it.doc != TW_DOC_END; tw_piter_next(&it))
        if (roaring_bitmap_contains(e->deleted, it.doc)) {
            for (size_t j = 0; j < nf; j++) dd[j] += fis[j] >= 0 && tw_pfield_tf(&post->f[fis[j]], it.rank) > 0;
            if (dany) ++*dany;
        }
    return 0;
}

/* A term (one token) scored in fields[0..nf) (qualified: one named field). */
static int add_term_spec(planner *p, pnode *leaf, const char *term, size_t len, const uint32_t *fields, uint32_t nf,
                         int qualified) {
    const tw_view *view = p->view;
    spec s;
    memset(&s, 0, sizeof s);
    s.qualified = qualified;
    s.nterms = 1;
    s.terms = calloc(1, sizeof *s.terms);
    s.fields = calloc(nf ? nf : 1, sizeof *s.fields);
    s.fdf = calloc((size_t)(view->nsegs ? view->nsegs : 1) * (nf ? nf : 1), sizeof *s.fdf);
    if (!s.terms || !s.fields || !s.fdf || init_term(p, &s.terms[0], term, len, 0, 1) || !s.terms[0].posts) {
        spec_free(&s, p->view->nsegs);
        return OOM(p);
    }
    s.nfields = nf;
    for (uint32_t j = 0; j < nf; j++) s.fields[j].gfield = fields[j];
    pterm_ref *t = &s.terms[0];
    uint64_t dfany = 0; /* live documents with the term in any field */
    for (uint32_t si = 0; si < view->nsegs; si++) {
        const tw_vseg *e = &view->segs[si];
        int r = tw_segment_lookup(e->seg, TW_ANY_FIELD, term, len, &t->refs[si], p->err, p->errcap);
        if (r < 0) {
            spec_free(&s, p->view->nsegs);
            return p->rc = r;
        }
        if (r == 0) continue;
        tw_postings post;
        if ((r = tw_postings_open(e->seg, &t->refs[si], 0, &post, p->err, p->errcap)) != 0) {
            spec_free(&s, p->view->nsegs);
            return p->rc = r;
        }
        t->posts[si] = post;
        int fis[TW_MAX_FIELDS];
        uint32_t dd[TW_MAX_FIELDS];
        for (uint32_t j = 0; j < nf; j++) {
            int lf = e->field_map[fields[j]];
            fis[j] = lf < 0 ? -1 : tw_postings_field(&post, (uint32_t)lf);
        }
        uint32_t dany = 0;
        if (deleted_in_fields(p, si, &post, fis, nf, dd, &dany)) {
            tw_postings_close(&t->posts[si]);
            spec_free(&s, p->view->nsegs);
            return p->rc;
        }
        for (uint32_t j = 0; j < nf; j++) {
            uint32_t df = fis[j] < 0 ? 0 : post.f[fis[j]].df - dd[j];
            s.fdf[(size_t)si * nf + j] = df;
            s.fields[j].df += df;
            t->found[si] |= df > 0;
        }
        if (t->found[si]) dfany += post.df - dany;
        if (!t->found[si]) tw_postings_close(&t->posts[si]);
    }
    /* BM25F: one idf for the term, from the live documents having it in any
     * field; a qualified term has its field's idf, as in BM25. */
    double fidf = 0;
    if (p->opt->bm25f && qualified && nf == 1 && s.fields[0].df > 0 && view->field_docs[fields[0]] > 0)
        fidf = term_idf(p, fields[0], term, len, s.fields[0].df);
    else if (p->opt->bm25f && !qualified && dfany > 0)
        fidf = term_idf_any(p, term, len, dfany);
    /* Keep the fields that have the term. */
    size_t keep = 0;
    for (uint32_t j = 0; j < nf; j++) {
        if (s.fields[j].df == 0 || view->field_docs[fields[j]] == 0) continue;
        sfield *f = &s.fields[keep];
        *f = s.fields[j];
        tokvec one = {(char *[]){(char *)term}, (size_t[]){len}, (uint32_t[]){0}, 1, 0};
        /* Labels are for explanations only. */
        if (p->opt->explain && !(f->label = make_label(view->field_names[f->gfield], &one))) {
            s.nfields = keep;
            spec_free(&s, p->view->nsegs);
            return OOM(p);
        }
        if (p->opt->bm25f)
            finish_field_bm25f(p, f, fidf);
        else
            finish_field(p, f, term_idf(p, f->gfield, term, len, f->df));
        for (uint32_t si = 0; si < view->nsegs; si++) s.fdf[(size_t)si * nf + keep] = s.fdf[(size_t)si * nf + j];
        keep++;
        if (p->rc) {
            s.nfields = keep;
            spec_free(&s, p->view->nsegs);
            return p->rc;
        }
    }
    /* fdf rows keep their stride nf; only the first `keep` columns are used. */
    s.nfields = keep;
    if (keep == 0) {
        spec_free(&s, p->view->nsegs);
        return 0;
    }
    s.fdf_stride = nf;
    return push_spec(p, leaf, &s);
}

/* A phrase of the tokens v in field gfield. */
static int add_phrase_spec(planner *p, pnode *leaf, uint32_t gfield, const tokvec *v) {
    const tw_view *view = p->view;
    if (view->field_docs[gfield] == 0) return 0;
    spec s;
    memset(&s, 0, sizeof s);
    s.phrase = 1;
    s.nterms = v->n;
    s.terms = calloc(v->n, sizeof *s.terms);
    s.fields = calloc(1, sizeof *s.fields);
    if (!s.terms || !s.fields) {
        spec_free(&s, p->view->nsegs);
        return OOM(p);
    }
    s.nfields = 1;
    s.fields[0].gfield = gfield;
    double idf_sum = 0;
    int missing = 0;
    for (size_t i = 0; i < v->n; i++) {
        pterm_ref *t = &s.terms[i];
        if (init_term(p, t, v->terms[i], v->lens[i], v->pos[i] - v->pos[0], 0)) {
            spec_free(&s, p->view->nsegs);
            return p->rc;
        }
        uint64_t df = 0;
        for (uint32_t si = 0; si < view->nsegs; si++) {
            int lf = view->segs[si].field_map[gfield];
            if (lf < 0) continue;
            int r =
                tw_segment_lookup(view->segs[si].seg, (uint32_t)lf, t->text, t->len, &t->refs[si], p->err, p->errcap);
            if (r < 0) {
                spec_free(&s, p->view->nsegs);
                return p->rc = r;
            }
            t->found[si] = r > 0;
            if (r > 0 && view->segs[si].deleted) {
                /* Live documents only. */
                tw_postings post;
                uint32_t dd = 0;
                if ((r = tw_postings_open(view->segs[si].seg, &t->refs[si], 0, &post, p->err, p->errcap)) != 0) {
                    spec_free(&s, p->view->nsegs);
                    return p->rc = r;
                }
                int fi = post.filter;
                r = deleted_in_fields(p, si, &post, &fi, 1, &dd, NULL);
                tw_postings_close(&post);
                if (r) {
                    spec_free(&s, p->view->nsegs);
                    return p->rc;
                }
                t->found[si] = t->refs[si].df > dd;
                if (t->found[si]) df += t->refs[si].df - dd;
            } else if (t->found[si]) {
                df += t->refs[si].df;
            }
        }
        if (df == 0) {
            missing = 1;
            if (!p->opt->collect) break;
            continue;
        }
        idf_sum += term_idf(p, gfield, t->text, t->len, df);
    }
    if (missing || p->rc) { /* a missing word: no match */
        spec_free(&s, p->view->nsegs);
        return p->rc;
    }
    if (p->opt->explain && !(s.fields[0].label = make_label(view->field_names[gfield], v))) {
        spec_free(&s, p->view->nsegs);
        return OOM(p);
    }
    finish_field(p, &s.fields[0], idf_sum);
    return push_spec(p, leaf, &s);
}

typedef struct prefix_ctx {
    char **seen;
    size_t nseen, cap;
    int over;      /* 1: this prefix's limit, 2: the query's total */
    int oom;       /* out of memory */
    size_t *total; /* the planner's expansion count over all prefixes */
} prefix_ctx;

static int on_prefix(void *c, const char *term, size_t len, const tw_term_ref *ref) {
    prefix_ctx *x = c;
    for (size_t i = 0; i < x->nseen; i++)
        if (strlen(x->seen[i]) == len && memcmp(x->seen[i], term, len) == 0) return 0;
    if (x->nseen >= TW_MAX_PREFIX_TERMS) {
        x->over = 1;
        return 1;
    }
    if (*x->total >= TW_MAX_QUERY_EXPANSIONS) {
        x->over = 2;
        return 1;
    }
    if (x->nseen == x->cap) {
        size_t nc = x->cap ? 2 * x->cap : 16;
        char **ns = realloc(x->seen, sizeof *ns * nc);
        if (!ns) return x->oom = 1;
        x->seen = ns;
        x->cap = nc;
    }
    if (!(x->seen[x->nseen] = strndup(term, len))) return x->oom = 1;
    x->nseen++;
    ++*x->total;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fields a leaf applies to: the named one, or every text field. A named
 * field this index lacks is an error, except when it is known to the
 * collection: while recording statistics (the collection is the sum of
 * indexes, one of which may have the field), or when the supplied statistics
 * have it. Then the leaf applies to no field here and matches nothing. */
static int leaf_fields(planner *p, const tw_node *n, uint32_t *out, uint32_t *count) {
    if (n->field) {
        int f = tw_view_field(p->view, n->field);
        if (f < 0 && (p->opt->collect || (p->opt->gstats && tw_gstats_field(p->opt->gstats, n->field)))) {
            *count = 0;
            return 0;
        }
        if (f < 0) return fail(p, TRAWL_ESYNTAX, (long)n->offset, "unknown field '%s'", n->field);
        out[0] = (uint32_t)f;
        *count = 1;
    } else {
        /* By name: scores are summed over fields in this order, and the
         * view numbers fields in the order its segments first name them, so
         * this makes a document's score the same bits in any index holding
         * it (partitions of a collection tie exactly as one index does). */
        for (uint32_t f = 0; f < p->view->nfields; f++) {
            uint32_t j = f;
            for (; j > 0 && strcmp(p->view->field_names[out[j - 1]], p->view->field_names[f]) > 0; j--)
                out[j] = out[j - 1];
            out[j] = f;
        }
        *count = p->view->nfields;
    }
    return 0;
}

static pnode *new_node(planner *p, int kind) {
    pnode *x = calloc(1, sizeof *x);
    if (!x)
        OOM(p);
    else
        x->kind = kind;
    return x;
}

static pnode *plan_prefix(planner *p, const tw_node *n, const uint32_t *fields, uint32_t nf, int positive) {
    tokvec v;
    if (tokvec_init(&v)) {
        tokvec_free(&v);
        OOM(p);
        return NULL;
    }
    tw_analyze(p->an, n->text, n->text_len, 0, 0, collect_tok, &v, NULL);
    if (v.oom)
        OOM(p);
    else if (v.n > 1)
        fail(p, TRAWL_ESYNTAX, (long)n->offset, "a prefix must be a single word: '%s*'", n->text);
    pnode *leaf = NULL;
    if (!p->rc && v.n == 1 && (leaf = new_node(p, P_LEAF))) {
        if (positive && add_highlight(&p->hl.prefixes, &p->hl.nprefixes, v.terms[0])) OOM(p);
        /* Expansions over every segment, in the leaf's fields. */
        prefix_ctx x = {NULL, 0, 0, 0, 0, &p->expansions};
        for (uint32_t s = 0; s < p->view->nsegs && !p->rc && !x.over && !x.oom; s++)
            for (uint32_t k = 0; k < nf && !p->rc && !x.over && !x.oom; k++) {
                int lf = p->view->segs[s].field_map[fields[k]];
                if (lf < 0) continue;
                int r = tw_segment_prefix(p->view->segs[s].seg, (uint32_t)lf, v.terms[0], v.lens[0], on_prefix, &x,
                                          p->err, p->errcap);
                if (r < 0) p->rc = r;
            }
        if (x.oom && !p->rc) OOM(p);
        if (x.over == 1)
            fail(p, TRAWL_ELIMIT, (long)n->offset, "prefix '%s*' matches too many terms (limit 1024)", n->text);
        else if (x.over)
            fail(p, TRAWL_ELIMIT, (long)n->offset,
                 "prefixes match too many terms in all (limit 4096 per query), the last being '%s*'", n->text);
        /* In byte order, the order their scores are summed in: the order the
         * segments yield them in depends on how the index is divided. */
        if (x.nseen > 1) qsort(x.seen, x.nseen, sizeof *x.seen, cmp_str);
        for (size_t i = 0; i < x.nseen && !p->rc; i++)
            add_term_spec(p, leaf, x.seen[i], strlen(x.seen[i]), fields, nf, n->field != NULL);
        for (size_t i = 0; i < x.nseen; i++) free(x.seen[i]);
        free(x.seen);
    }
    tokvec_free(&v);
    if (p->rc) {
        pnode_free(leaf, p->view->nsegs);
        return NULL;
    }
    if (leaf && leaf->nspecs == 0) leaf->kind = P_EMPTY;
    return leaf;
}

static pnode *plan_words(planner *p, const tw_node *n, const uint32_t *fields, uint32_t nf, int positive) {
    tokvec v;
    if (tokvec_init(&v)) {
        tokvec_free(&v);
        OOM(p);
        return NULL;
    }
    tw_analyze(p->an, n->text, n->text_len, 0, 1, collect_tok, &v, NULL);
    pnode *leaf = NULL;
    if (v.oom)
        OOM(p);
    else if (v.n == TW_MAX_PHRASE_TERMS)
        fail(p, TRAWL_ELIMIT, (long)n->offset, "%s", "a phrase may have at most 63 words");
    else if (v.n > 0 && (leaf = new_node(p, P_LEAF))) {
        for (size_t i = 0; i < v.n && positive; i++)
            if (add_highlight(&p->hl.terms, &p->hl.nterms, v.terms[i])) OOM(p);
        if (v.n == 1)
            add_term_spec(p, leaf, v.terms[0], v.lens[0], fields, nf, n->field != NULL);
        else
            for (uint32_t k = 0; k < nf && !p->rc; k++) add_phrase_spec(p, leaf, fields[k], &v);
        if (leaf->nspecs == 0) leaf->kind = P_EMPTY;
    }
    tokvec_free(&v);
    if (p->rc) {
        pnode_free(leaf, p->view->nsegs);
        return NULL;
    }
    return leaf; /* NULL: the words analyze to nothing; the clause is dropped */
}

/* A conjunction: a BOOL with a MUST clause and no SHOULD clause. */
static int is_and_group(const pnode *k) {
    size_t must = 0, should = 0;
    for (size_t j = 0; k->kind == P_BOOL && j < k->n; j++) {
        must += k->occ[j] == TW_MUST;
        should += k->occ[j] == TW_SHOULD;
    }
    return k->kind == P_BOOL && must > 0 && should == 0;
}

/* Splices into b the clauses of every MUST clause of b that is a
 * conjunction: same matches, same scores, and flat conjunctions run on the
 * bitmap fast path. Done after analysis, when dropped words are gone. */
static void merge_and_groups(planner *p, pnode *b) {
    size_t total = 0, merges = 0;
    for (size_t i = 0; i < b->n; i++) {
        int merge = b->occ[i] == TW_MUST && is_and_group(b->kids[i]);
        total += merge ? b->kids[i]->n : 1;
        merges += merge;
    }
    if (!merges) return;
    pnode **kids = calloc(total, sizeof *kids);
    tw_occur *occ = calloc(total, sizeof *occ);
    if (!kids || !occ) {
        free(kids);
        free(occ);
        return; /* unmerged is still correct */
    }
    size_t o = 0;
    for (size_t i = 0; i < b->n; i++) {
        pnode *k = b->kids[i];
        if (b->occ[i] == TW_MUST && is_and_group(k)) {
            for (size_t j = 0; j < k->n; j++) {
                kids[o] = k->kids[j];
                occ[o++] = k->occ[j];
            }
            k->n = 0;
            pnode_free(k, p->view->nsegs);
        } else {
            kids[o] = k;
            occ[o++] = b->occ[i];
        }
    }
    free(b->kids);
    free(b->occ);
    b->kids = kids;
    b->occ = occ;
    b->n = o;
}

static pnode *plan(planner *p, const tw_node *n, int positive) {
    if (p->rc) return NULL;
    if (n->kind == TW_Q_FILTER) {
        tw_fprep *fp = NULL;
        int rc = tw_filter_prepare(p->view, n, &fp, p->err, p->errcap);
        if (rc < 0) {
            p->rc = rc;
            p->erroff = (long)n->offset;
            return NULL;
        }
        if (rc == 0) { /* evaluated to bitmaps later, unless it becomes part of the plan's filter */
            pnode *f = new_node(p, P_FILTER);
            if (!f) {
                tw_fprep_free(fp);
                return NULL;
            }
            f->fprep = fp;
            return f;
        }
        /* else year:DDDD on an index with a text field "year": a term */
    }
    if (n->kind == TW_Q_BOOL) {
        pnode *b = new_node(p, P_BOOL);
        if (!b) return NULL;
        b->kids = calloc(n->nclauses ? n->nclauses : 1, sizeof *b->kids);
        b->occ = calloc(n->nclauses ? n->nclauses : 1, sizeof *b->occ);
        if (!b->kids || !b->occ) OOM(p);
        for (size_t i = 0; i < n->nclauses && !p->rc; i++) {
            pnode *k = plan(p, n->clauses[i], positive && n->occurs[i] != TW_MUST_NOT);
            if (!k) continue;
            // OOM sets p->rc, which ends the loop: kids and occ are not NULL here.
            b->kids[b->n] = k;             // NOLINT(clang-analyzer-core.NullDereference)
            b->occ[b->n++] = n->occurs[i]; // NOLINT(clang-analyzer-core.NullDereference)
        }
        if (p->rc || b->n == 0) {
            pnode_free(b, p->view->nsegs);
            return NULL;
        }
        merge_and_groups(p, b);
        return b;
    }
    uint32_t *fields = malloc(sizeof *fields * (p->view->nfields + 1));
    uint32_t nf = 0;
    pnode *r = NULL;
    if (!fields)
        OOM(p);
    else if (leaf_fields(p, n, fields, &nf) == 0)
        r = n->kind == TW_Q_PREFIX ? plan_prefix(p, n, fields, nf, positive) : plan_words(p, n, fields, nf, positive);
    free(fields);
    return r;
}

/* ---- cursors for one segment ---- */

typedef struct seg_ctx {
    const tw_view *view;
    uint32_t si;
    int rc;
    char *err;
    size_t errcap;
} seg_ctx;

static tw_cursor *build(seg_ctx *c, const pnode *n);

int tw_plan_open_term(const tw_view *view, uint32_t si, const spec *s, tw_postings *post, tw_fscore *fs, size_t *nfs,
                      char *err, size_t errcap) {
    const tw_vseg *e = &view->segs[si];
    const pterm_ref *t = &s->terms[0];
    *nfs = 0;
    if (!t->found[si]) return 0;
    const uint32_t *fdf = s->fdf + (size_t)si * s->fdf_stride;
    *post = t->posts[si];
    if (s->qualified) {
        /* Only the docs with the term in that field. */
        if (fdf[0] == 0) return 0;
        post->filter = tw_postings_field(post, (uint32_t)e->field_map[s->fields[0].gfield]);
    }
    for (size_t j = 0; j < s->nfields && *nfs < TW_MAX_SCORED_FIELDS; j++) {
        if (fdf[j] == 0) continue;
        int lf = e->field_map[s->fields[j].gfield];
        int k = tw_postings_field(post, (uint32_t)lf);
        if (k < 0) continue;
        fs[*nfs].fi = (uint32_t)k;
        fs[*nfs].field = (uint32_t)lf;
        fs[*nfs].bm = s->fields[j].bm;
        (*nfs)++;
    }
    return 1;
}

static tw_cursor *build_term(seg_ctx *c, const spec *s) {
    tw_postings post;
    tw_fscore fs[TW_MAX_SCORED_FIELDS];
    size_t nfs;
    int rc = tw_plan_open_term(c->view, c->si, s, &post, fs, &nfs, c->err, c->errcap);
    if (rc <= 0) {
        c->rc = rc;
        return NULL;
    }
    tw_cursor *cur = tw_term_cursor(c->view->segs[c->si].seg, &post, fs, nfs);
    if (!cur) c->rc = TRAWL_ENOMEM;
    return cur;
}

static tw_cursor *build_phrase(seg_ctx *c, const spec *s) {
    const tw_vseg *e = &c->view->segs[c->si];
    int lf = e->field_map[s->fields[0].gfield];
    if (lf < 0) return NULL;
    for (size_t i = 0; i < s->nterms; i++)
        if (!s->terms[i].found[c->si]) return NULL;
    tw_postings posts[TW_MAX_PHRASE_TERMS];
    uint32_t offs[TW_MAX_PHRASE_TERMS];
    for (size_t i = 0; s->terms && i < s->nterms; i++) {
        int rc = tw_postings_open(e->seg, &s->terms[i].refs[c->si], 0, &posts[i], c->err, c->errcap);
        if (rc) {
            for (size_t k = 0; k < i; k++) tw_postings_close(&posts[k]);
            c->rc = rc;
            return NULL;
        }
        offs[i] = s->terms[i].offset;
    }
    tw_cursor *cur = tw_phrase_cursor(e->seg, (uint32_t)lf, s->nterms, posts, offs, &s->fields[0].bm);
    if (!cur) c->rc = TRAWL_ENOMEM;
    return cur;
}

static tw_cursor *build(seg_ctx *c, const pnode *n) {
    if (c->rc) return NULL;
    if (n->kind == P_EMPTY) return tw_empty_cursor();
    if (n->kind == P_FILTER) {
        tw_cursor *f = tw_bitmap_cursor(n->fbm[c->si]);
        if (!f) c->rc = TRAWL_ENOMEM;
        return f;
    }
    if (n->kind == P_LEAF) {
        tw_cursor **kids = malloc(sizeof *kids * n->nspecs);
        size_t k = 0;
        if (!kids) {
            c->rc = TRAWL_ENOMEM;
            return NULL;
        }
        for (size_t i = 0; i < n->nspecs && !c->rc; i++) {
            tw_cursor *x = n->specs[i].phrase ? build_phrase(c, &n->specs[i]) : build_term(c, &n->specs[i]);
            if (x) kids[k++] = x;
        }
        tw_cursor *r = c->rc ? NULL : tw_or_cursor(kids, k);
        if (c->rc)
            for (size_t i = 0; i < k; i++) tw_cursor_free(kids[i]);
        free(kids);
        if (!r && !c->rc) c->rc = TRAWL_ENOMEM;
        return r;
    }
    tw_cursor **must = calloc(n->n, sizeof *must), **should = calloc(n->n, sizeof *should),
              **nots = calloc(n->n, sizeof *nots);
    size_t nm = 0, ns = 0, nn = 0;
    if (!must || !should || !nots) c->rc = TRAWL_ENOMEM;
    for (size_t i = 0; i < n->n && !c->rc; i++) {
        tw_cursor *x = build(c, n->kids[i]);
        if (!x) break;
        if (n->occ[i] == TW_MUST)
            must[nm++] = x;
        else if (n->occ[i] == TW_SHOULD)
            should[ns++] = x;
        else
            nots[nn++] = x;
    }
    tw_cursor *r = NULL;
    if (c->rc) {
        for (size_t i = 0; i < nm; i++) tw_cursor_free(must[i]);
        for (size_t i = 0; i < ns; i++) tw_cursor_free(should[i]);
        for (size_t i = 0; i < nn; i++) tw_cursor_free(nots[i]);
    } else {
        if (nm) {
            r = tw_and_cursor(must, nm);
            if (r && ns) r = tw_reqopt_cursor(r, tw_or_cursor(should, ns));
        } else if (ns) {
            r = tw_or_cursor(should, ns);
        } else {
            r = tw_all_cursor(c->view->segs[c->si].seg->ndocs);
        }
        if (r && nn) r = tw_excl_cursor(r, tw_or_cursor(nots, nn));
        if (!r) c->rc = TRAWL_ENOMEM;
    }
    free(must);
    free(should);
    free(nots);
    return r;
}

tw_cursor *tw_plan_cursor(const tw_view *view, uint32_t si, const pnode *n, int *rc, char *err, size_t errcap) {
    seg_ctx c = {view, si, 0, err, errcap};
    tw_cursor *cur = build(&c, n);
    *rc = cur ? 0 : (c.rc ? c.rc : TRAWL_ENOMEM);
    return cur;
}

void tw_plan_free(tw_plan *p) {
    if (!p) return;
    pnode_free(p->root, p->nsegs);
    for (uint32_t s = 0; s < p->nsegs && p->filt; s++) tw_segfilter_clear(&p->filt[s]);
    free(p->filt);
    for (size_t i = 0; i < p->hl.nterms; i++) free(p->hl.terms[i]);
    for (size_t i = 0; i < p->hl.nprefixes; i++) free(p->hl.prefixes[i]);
    free(p->hl.terms);
    free(p->hl.prefixes);
    free(p);
}

tw_cursor *tw_plan_seg_cursor(const tw_view *view, const tw_plan *plan, uint32_t si, int *rc, char *err,
                              size_t errcap) {
    tw_cursor *cur;
    *rc = 0;
    if (plan->match_all) {
        const roaring_bitmap_t *full = plan->filt ? tw_segfilter_full(&plan->filt[si]) : NULL;
        cur = !plan->filt ? tw_all_cursor(view->segs[si].seg->ndocs) : full ? tw_bitmap_cursor(full) : NULL;
    } else if (!plan->root) {
        cur = tw_empty_cursor();
    } else {
        cur = tw_plan_cursor(view, si, plan->root, rc, err, errcap);
        if (!cur) return NULL;
        /* The filter scores 0: the score is the root's exactly. */
        if (plan->filt) cur = tw_segfilter_cursor(&plan->filt[si], cur);
    }
    if (!cur && !*rc) *rc = TRAWL_ENOMEM;
    return cur;
}

/* The documents of segment si that plan node n matches (deleted ones
 * included), as a new bitmap: filters and Booleans on bitmaps, term and
 * phrase leaves by walking their cursors. NULL with p->rc set on failure. */
static roaring_bitmap_t *node_bitmap(planner *p, uint32_t si, const pnode *n) {
    const tw_view *v = p->view;
    roaring_bitmap_t *b = NULL;
    if (p->rc) return NULL;
    if (n->kind == P_FILTER) {
        b = n->fbm ? roaring_bitmap_copy(n->fbm[si]) : tw_fprep_bitmap(n->fprep, si);
    } else if (n->kind == P_EMPTY) {
        b = roaring_bitmap_create();
    } else if (n->kind == P_LEAF) {
        int rc;
        tw_cursor *cur = tw_plan_cursor(v, si, n, &rc, p->err, p->errcap);
        if (!cur) {
            p->rc = rc;
            return NULL;
        }
        b = roaring_bitmap_create();
        for (uint32_t d = cur->doc; b && d != TW_DOC_END; d = tw_next(cur)) roaring_bitmap_add(b, d);
        if ((rc = tw_cursor_status(cur)) != 0) fail(p, rc, -1, "%s", "a positions stream is invalid");
        tw_cursor_free(cur);
        if (p->rc) {
            if (b) roaring_bitmap_free(b);
            return NULL;
        }
    } else {
        roaring_bitmap_t *must = NULL, *should = NULL, *nots = NULL;
        for (size_t i = 0; i < n->n && !p->rc; i++) {
            roaring_bitmap_t *k = node_bitmap(p, si, n->kids[i]);
            if (!k) break;
            roaring_bitmap_t **acc = n->occ[i] == TW_MUST ? &must : n->occ[i] == TW_SHOULD ? &should : &nots;
            if (!*acc)
                *acc = k;
            else {
                if (n->occ[i] == TW_MUST)
                    roaring_bitmap_and_inplace(*acc, k);
                else
                    roaring_bitmap_or_inplace(*acc, k);
                roaring_bitmap_free(k);
            }
        }
        if (!p->rc) {
            if (must)
                b = must, must = NULL;
            else if (should)
                b = should, should = NULL;
            else if ((b = roaring_bitmap_create()) != NULL)
                roaring_bitmap_add_range(b, 0, v->segs[si].seg->ndocs);
            if (b && nots) roaring_bitmap_andnot_inplace(b, nots);
        }
        if (must) roaring_bitmap_free(must);
        if (should) roaring_bitmap_free(should);
        if (nots) roaring_bitmap_free(nots);
        if (p->rc) {
            if (b) roaring_bitmap_free(b);
            return NULL;
        }
    }
    if (!b) OOM(p);
    return b;
}

/* The plan's filter, created (every document, no predicate) on first use.
 * 0 or TRAWL_ENOMEM (reported). */
static int filt_get(planner *p, tw_plan *pl) {
    const tw_view *v = p->view;
    if (pl->filt) return 0;
    if (!(pl->filt = calloc(v->nsegs ? v->nsegs : 1, sizeof *pl->filt))) return OOM(p);
    for (uint32_t s = 0; s < v->nsegs; s++) pl->filt[s].ndocs = v->segs[s].seg->ndocs;
    return 0;
}

/* ANDs (or, with negate, ANDs NOT) the per-segment bitmaps add into the
 * bitmap part of the plan's filter. */
static int filt_combine(planner *p, tw_plan *pl, roaring_bitmap_t **add, int negate) {
    if (filt_get(p, pl)) return p->rc;
    for (uint32_t s = 0; s < p->view->nsegs; s++)
        if (tw_segfilter_and(&pl->filt[s], add[s], negate)) return OOM(p);
    return 0;
}

/* ANDs (or ANDs NOT) a prepared filter leaf into the plan's filter: a
 * keyword filter into its bitmap part, a date/number range as a predicate
 * (segfilter.h). */
static int filt_add_leaf(planner *p, tw_plan *pl, const tw_fprep *f, int negate) {
    if (f->bm) return filt_combine(p, pl, f->bm, negate);
    if (filt_get(p, pl)) return p->rc;
    for (uint32_t s = 0; s < p->view->nsegs; s++)
        if (tw_segfilter_add_pred(&pl->filt[s], &f->pred[s], negate)) return OOM(p);
    return 0;
}

/* Evaluates every filter leaf left in the tree under n (not moved into the
 * plan's filter) to its per-segment bitmaps, for the cursors. */
static void materialize(planner *p, pnode *n) {
    if (!n || p->rc) return;
    if (n->kind == P_FILTER && !n->fbm) {
        const tw_view *v = p->view;
        if (!(n->fbm = calloc(v->nsegs ? v->nsegs : 1, sizeof *n->fbm))) {
            OOM(p);
            return;
        }
        for (uint32_t s = 0; s < v->nsegs; s++)
            if (!(n->fbm[s] = tw_fprep_bitmap(n->fprep, s))) {
                OOM(p);
                return;
            }
    }
    for (size_t i = 0; i < n->n; i++) materialize(p, n->kids[i]);
}

/* Moves the root-level filter clauses into the plan's filter: a filter root
 * (the query matches what the filter allows), the MUST filters of a BOOL
 * root (unless they are its only MUST clauses and it has SHOULD ones: those
 * must then match) and its MUST_NOT filters. What remains runs on the
 * executors, which AND the filter. */
static void extract_filters(planner *p, tw_plan *pl) {
    pnode *r = pl->root;
    uint32_t ns = p->view->nsegs;
    if (!r) return;
    if (r->kind == P_FILTER) {
        filt_add_leaf(p, pl, r->fprep, 0);
        pnode_free(r, ns);
        pl->root = NULL;
        pl->match_all = 1;
        return;
    }
    if (r->kind != P_BOOL) return;
    size_t must = 0, mustf = 0, should = 0, kept = 0;
    for (size_t i = 0; i < r->n; i++) {
        must += r->occ[i] == TW_MUST;
        mustf += r->occ[i] == TW_MUST && r->kids[i]->kind == P_FILTER;
        should += r->occ[i] == TW_SHOULD;
    }
    int take_must = must > mustf || should == 0;
    for (size_t i = 0; i < r->n && !p->rc; i++) {
        pnode *k = r->kids[i];
        if (k->kind == P_FILTER && ((r->occ[i] == TW_MUST && take_must) || r->occ[i] == TW_MUST_NOT)) {
            filt_add_leaf(p, pl, k->fprep, r->occ[i] == TW_MUST_NOT);
            pnode_free(k, ns);
        } else {
            r->kids[kept] = k;
            r->occ[kept++] = r->occ[i];
        }
    }
    if (p->rc) { /* the clauses not yet moved stay in the tree, freed with it */
        r->n = kept;
        return;
    }
    r->n = kept;
    if (kept == 0) {
        pnode_free(r, ns);
        pl->root = NULL;
        pl->match_all = 1;
    } else if (kept == 1 && r->occ[0] != TW_MUST_NOT) {
        pl->root = r->kids[0];
        r->n = 0;
        pnode_free(r, ns);
    }
}

/* ANDs (negate: ANDs NOT) into the plan's filter what plan node n (NULL:
 * nothing) matches: a filter leaf as itself, another node as its bitmaps. */
static void filt_node(planner *p, tw_plan *pl, const pnode *n, int negate) {
    if (n && n->kind == P_FILTER) {
        filt_add_leaf(p, pl, n->fprep, negate);
        return;
    }
    roaring_bitmap_t **bm = calloc(p->view->nsegs ? p->view->nsegs : 1, sizeof *bm);
    if (!bm) {
        OOM(p);
        return;
    }
    for (uint32_t s = 0; s < p->view->nsegs && !p->rc; s++)
        if (!(bm[s] = n ? node_bitmap(p, s, n) : roaring_bitmap_create()) && !p->rc) OOM(p);
    if (!p->rc) filt_combine(p, pl, bm, negate);
    tw_filter_free(bm, p->view->nsegs);
}

/* Plans the filter parameter (query text, AND) and ANDs what it matches
 * into the plan's filter. Its errors carry no offset into the query. */
static void add_filter_param(planner *p, tw_plan *pl, const char *text) {
    tw_query *fq = NULL;
    tw_parse_error perr;
    int rc = tw_query_parse(text, strlen(text), 0, &fq, &perr);
    if (rc) {
        if (rc == TRAWL_ENOMEM)
            OOM(p);
        else {
            p->rc = rc;
            tw_err(p->err, p->errcap, rc, "filter: %s (at byte %zu of the filter)", perr.message, perr.offset);
        }
        return;
    }
    pnode *root = plan(p, tw_query_root(fq), 0);
    if (p->rc) {
        p->erroff = -1;
        if (strncmp(p->err, "filter: ", 8) != 0) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", p->err);
            tw_err(p->err, p->errcap, p->rc, "filter: %s", msg);
        }
    }
    if (!p->rc && root && root->kind == P_FILTER) {
        filt_add_leaf(p, pl, root->fprep, 0);
    } else if (!p->rc && root && root->kind == P_BOOL) {
        /* What node_bitmap computes, one clause at a time: the MUST clauses
         * (SHOULD ones then do not restrict) or else the union of the SHOULD
         * clauses, minus each MUST_NOT clause. Filter leaves among them go
         * in as themselves (a range as a predicate). */
        size_t must = 0, should = 0;
        for (size_t i = 0; i < root->n; i++) {
            must += root->occ[i] == TW_MUST;
            should += root->occ[i] == TW_SHOULD;
        }
        if (!must && should) { /* the SHOULD clauses as one bitmap */
            pnode sh = *root;
            sh.n = 0;
            sh.kids = calloc(should, sizeof *sh.kids);
            sh.occ = calloc(should, sizeof *sh.occ);
            if (!sh.kids || !sh.occ) OOM(p);
            for (size_t i = 0; i < root->n && !p->rc; i++)
                if (root->occ[i] == TW_SHOULD) sh.kids[sh.n] = root->kids[i], sh.occ[sh.n++] = TW_SHOULD;
            filt_node(p, pl, &sh, 0);
            free(sh.kids);
            free(sh.occ);
        }
        for (size_t i = 0; i < root->n && !p->rc; i++)
            if (root->occ[i] != TW_SHOULD) filt_node(p, pl, root->kids[i], root->occ[i] == TW_MUST_NOT);
    } else if (!p->rc) {
        filt_node(p, pl, root, 0); /* NULL (no words): nothing */
    }
    pnode_free(root, p->view->nsegs);
    tw_query_free(fq);
}

int tw_plan_build(const tw_view *view, const tw_params *prm, tw_analyzer *an, const tw_node *q, tw_plan **out,
                  char *err, size_t errcap, long *erroff) {
    *out = NULL;
    *erroff = -1;
    tw_plan *pl = calloc(1, sizeof *pl);
    if (!pl) return TRAWL_ENOMEM;
    planner p;
    memset(&p, 0, sizeof p);
    p.view = view;
    p.opt = prm;
    p.an = an;
    p.err = err;
    p.errcap = errcap;
    p.erroff = -1;
    pl->nsegs = view->nsegs;
    if (q)
        pl->root = plan(&p, q, 1);
    else
        pl->match_all = 1; /* no query: every document */
    if (!p.rc) extract_filters(&p, pl);
    if (!p.rc && prm->filter && prm->filter[0]) add_filter_param(&p, pl, prm->filter);
    if (!p.rc) materialize(&p, pl->root);
    pl->hl = p.hl;
    if (p.rc) {
        *erroff = p.erroff;
        tw_plan_free(pl);
        return p.rc;
    }
    *out = pl;
    return 0;
}
