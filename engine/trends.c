/*
 * trends.c — emerging terms and bursts (trawl_index_trends,
 * trawl_index_bursts) and their request object: the document sets of the
 * window and background from the date column, the query's match set, the
 * dictionary walk of query/trends.c, Kleinberg's automaton of query/burst.c,
 * and the JSON answers.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "ast.h"
#include "burst.h"
#include "calendar.h"
#include "datetime.h"
#include "docset.h"
#include "engine.h"
#include "trends.h"

struct trawl_trends {
    char *field;
    char *w_from, *w_to, *b_from, *b_to; /* as given (NULL: open) */
    int has_window, has_background;
    size_t limit;
    uint64_t min_docs;
    int chi2;
    tw_cal_unit unit;
    int32_t tz;
    double s, gamma;
};

trawl_trends *trawl_trends_new(void) {
    trawl_trends *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    if (!(t->field = strdup("date"))) {
        free(t);
        return NULL;
    }
    t->limit = 20;
    t->min_docs = 3;
    t->unit = TW_CAL_MONTH;
    t->s = 2;
    t->gamma = 1;
    return t;
}

void trawl_trends_free(trawl_trends *t) {
    if (!t) return;
    free(t->field);
    free(t->w_from);
    free(t->w_to);
    free(t->b_from);
    free(t->b_to);
    free(t);
}

trawl_rc trawl_trends_set_field(trawl_trends *t, const char *field) {
    if (!t || !field || !*field) return TRAWL_EINVAL;
    char *f = strdup(field);
    if (!f) return TRAWL_ENOMEM;
    free(t->field);
    t->field = f;
    return TRAWL_OK;
}

/* Replaces *from / *to with copies of a / b (NULL or "" = open). */
static trawl_rc set_range(char **from, char **to, const char *a, const char *b) {
    char *x = a && *a ? strdup(a) : NULL, *y = b && *b ? strdup(b) : NULL;
    if ((a && *a && !x) || (b && *b && !y)) {
        free(x);
        free(y);
        return TRAWL_ENOMEM;
    }
    free(*from);
    free(*to);
    *from = x;
    *to = y;
    return TRAWL_OK;
}

trawl_rc trawl_trends_set_window(trawl_trends *t, const char *from, const char *to) {
    if (!t) return TRAWL_EINVAL;
    trawl_rc rc = set_range(&t->w_from, &t->w_to, from, to);
    if (!rc) t->has_window = 1;
    return rc;
}

trawl_rc trawl_trends_set_background(trawl_trends *t, const char *from, const char *to) {
    if (!t) return TRAWL_EINVAL;
    trawl_rc rc = set_range(&t->b_from, &t->b_to, from, to);
    if (!rc) t->has_background = 1;
    return rc;
}

trawl_rc trawl_trends_set_limit(trawl_trends *t, size_t n) {
    if (!t || n < 1 || n > 10000) return TRAWL_EINVAL;
    t->limit = n;
    return TRAWL_OK;
}

trawl_rc trawl_trends_set_min_docs(trawl_trends *t, uint64_t m) {
    if (!t || m < 1) return TRAWL_EINVAL;
    t->min_docs = m;
    return TRAWL_OK;
}

trawl_rc trawl_trends_set_score(trawl_trends *t, const char *name) {
    if (!t || !name) return TRAWL_EINVAL;
    if (!strcmp(name, "jlh"))
        t->chi2 = 0;
    else if (!strcmp(name, "chi2"))
        t->chi2 = 1;
    else
        return TRAWL_EINVAL;
    return TRAWL_OK;
}

trawl_rc trawl_trends_set_unit(trawl_trends *t, const char *unit, const char *tz) {
    tw_cal_unit u;
    int32_t off;
    if (!t || tw_cal_unit_parse(unit, &u) || tw_cal_offset_parse(tz, &off)) return TRAWL_EINVAL;
    t->unit = u;
    t->tz = off;
    return TRAWL_OK;
}

trawl_rc trawl_trends_set_burst_params(trawl_trends *t, double s, double gamma) {
    if (!t || !(s > 1 && s <= 1e6) || !(gamma >= 0 && gamma <= 1e6)) return TRAWL_EINVAL;
    t->s = s;
    t->gamma = gamma;
    return TRAWL_OK;
}

/* A date range given as text: [*from, *to) in epoch seconds, each end the
 * start of the first text's span and the end of the second's (open ends:
 * INT64_MIN / INT64_MAX). */
static int parse_range(const char *a, const char *b, int64_t *from, int64_t *to, const char *what, char *err,
                       size_t errcap) {
    const char *why = "";
    *from = INT64_MIN;
    *to = INT64_MAX;
    if (a && tw_date_parse(a, strlen(a), from, NULL, NULL, &why))
        return tw_err(err, errcap, TRAWL_EINVAL, "%s start '%s' is not a date: %s", what, a, why);
    if (b && tw_date_parse(b, strlen(b), NULL, to, NULL, &why))
        return tw_err(err, errcap, TRAWL_EINVAL, "%s end '%s' is not a date: %s", what, b, why);
    if (*from >= *to)
        return tw_err(err, errcap, TRAWL_EINVAL, "%s is empty: '%s' is not before the end of '%s'", what, a, b);
    return 0;
}

/* JSON date text of t, or null for an open end. */
static json_t *jdate(int64_t t) {
    if (t == INT64_MIN || t == INT64_MAX) return json_null();
    char buf[TW_DATE_TEXT_MAX];
    tw_date_format(t, TW_DP_SECOND, buf, sizeof buf);
    return json_string(buf);
}

/* Hands a message back through errmsg (when not NULL); returns rc. */
static trawl_rc fail(int rc, const char *msg, char **errmsg) {
    if (errmsg) *errmsg = strdup(msg);
    return (trawl_rc)rc;
}

static void free_sets(roaring_bitmap_t **m, uint32_t n) {
    tw_match_sets_free(m, n);
}

/* New per-segment bitmaps of every live document. */
static int all_live(const tw_view *v, roaring_bitmap_t ***out) {
    roaring_bitmap_t **m = calloc(v->nsegs ? v->nsegs : 1, sizeof *m);
    if (!m) return TRAWL_ENOMEM;
    for (uint32_t s = 0; s < v->nsegs; s++) {
        if (!(m[s] = roaring_bitmap_create())) {
            free_sets(m, v->nsegs);
            return TRAWL_ENOMEM;
        }
        roaring_bitmap_add_range(m[s], 0, v->segs[s].seg->ndocs);
        if (v->segs[s].deleted) roaring_bitmap_andnot_inplace(m[s], v->segs[s].deleted);
    }
    *out = m;
    return 0;
}

/* The query's own terms, analyzed as the planner analyzes them: words and
 * phrases folded and stemmed (exact terms), prefixes folded only (every term
 * starting with one). Clauses under MUST_NOT are left out (their terms are in
 * no foreground document). */
typedef struct qterms {
    char **t;
    size_t *len;
    unsigned char *prefix;
    size_t n, cap;
    int oom, as_prefix;
} qterms;

static int qterm_tok(void *c, const tw_token *tok) {
    qterms *q = c;
    if (q->n == q->cap) {
        size_t nc = q->cap ? 2 * q->cap : 16;
        char **t = realloc(q->t, nc * sizeof *t);
        if (t) q->t = t;
        size_t *l = t ? realloc(q->len, nc * sizeof *l) : NULL;
        if (l) q->len = l;
        unsigned char *pf = l ? realloc(q->prefix, nc) : NULL;
        if (!pf) {
            q->oom = 1;
            return 1;
        }
        q->prefix = pf;
        q->cap = nc;
    }
    char *x = malloc(tok->len + 1);
    if (!x) {
        q->oom = 1;
        return 1;
    }
    memcpy(x, tok->term, tok->len);
    x[tok->len] = 0;
    q->t[q->n] = x;
    q->len[q->n] = tok->len;
    q->prefix[q->n++] = (unsigned char)q->as_prefix;
    return 0;
}

static void qterms_collect(tw_analyzer *an, const tw_node *n, qterms *q) {
    switch (n->kind) {
        case TW_Q_TERM:
        case TW_Q_PHRASE:
        case TW_Q_PREFIX:
            q->as_prefix = n->kind == TW_Q_PREFIX;
            if (tw_analyze(an, n->text, n->text_len, 0, n->kind != TW_Q_PREFIX, qterm_tok, q, NULL) < 0) q->oom = 1;
            break;
        case TW_Q_BOOL:
            for (size_t i = 0; i < n->nclauses && !q->oom; i++)
                if (n->occurs[i] != TW_MUST_NOT) qterms_collect(an, n->clauses[i], q);
            break;
        default: break;
    }
}

static void qterms_free(qterms *q) {
    for (size_t i = 0; i < q->n; i++) free(q->t[i]);
    free(q->t);
    free(q->len);
    free(q->prefix);
}

/* Is term one of the query's own (equal to a word's term, or starting with a
 * prefix)? */
static int is_query_term(const qterms *q, const char *term) {
    size_t tl = strlen(term);
    for (size_t i = 0; i < q->n; i++)
        if (q->prefix[i] ? tl >= q->len[i] && !memcmp(term, q->t[i], q->len[i])
                         : tl == q->len[i] && !memcmp(term, q->t[i], tl))
            return 1;
    return 0;
}

/* Removes (and frees) the query's own terms from t[0..*n). */
static void drop_query_terms(tw_trend_term *t, size_t *n, const qterms *q) {
    size_t m = 0;
    for (size_t i = 0; i < *n; i++) {
        if (is_query_term(q, t[i].term)) {
            free(t[i].term);
            continue;
        }
        t[m++] = t[i];
    }
    *n = m;
}

trawl_rc trawl_index_trends(const trawl_index *idx, const char *query, const trawl_trends *t, char **json,
                            char **errmsg) {
    if (json) *json = NULL;
    if (errmsg) *errmsg = NULL;
    if (!idx || !t || !json) return TRAWL_EINVAL;
    char err[1024] = "";
    const tw_view *v = &idx->view;
    if (!t->has_window) return fail(TRAWL_EINVAL, "emerging terms need a window (trawl_trends_set_window)", errmsg);
    int64_t wf, wt, bf = INT64_MIN, bt = INT64_MAX;
    int rc = parse_range(t->w_from, t->w_to, &wf, &wt, "the window", err, sizeof err);
    if (!rc && t->has_background) rc = parse_range(t->b_from, t->b_to, &bf, &bt, "the background", err, sizeof err);
    if (rc) return fail(rc, err, errmsg);
    uint32_t n = v->nsegs;
    roaring_bitmap_t **match = NULL, **win = calloc(n ? n : 1, sizeof *win), **bg = NULL;
    tw_docset *fg = calloc(n ? n : 1, sizeof *fg), *bgs = calloc(n ? n : 1, sizeof *bgs),
              *fgbg = calloc(n ? n : 1, sizeof *fgbg);
    if (!win || !fg || !bgs || !fgbg) rc = tw_err(err, sizeof err, TRAWL_ENOMEM, "out of memory");
    tw_qctx *ctx = rc ? NULL : tw_index_qctx_acquire(idx);
    if (!rc && !ctx) rc = tw_err(err, sizeof err, TRAWL_ENOMEM, "out of memory");
    long erroff;
    tw_params p;
    tw_params_default(&p);
    if (!rc) rc = tw_match_sets(idx, &p, ctx, query, &match, err, sizeof err, &erroff);
    qterms qt = {0};
    if (!rc && ctx && query && *query) {
        /* The query parsed above, so it parses again. */
        tw_query *pq = NULL;
        if (tw_query_parse(query, strlen(query), p.use_or, &pq, NULL) == 0)
            qterms_collect(ctx->an, tw_query_root(pq), &qt);
        tw_query_free(pq);
        if (qt.oom) rc = tw_err(err, sizeof err, TRAWL_ENOMEM, "out of memory");
    }
    tw_index_qctx_release(idx, ctx);
    if (!rc) rc = tw_date_range_docs(v, t->field, wf, wt, win, err, sizeof err);
    if (!rc && t->has_background) {
        if (!(bg = calloc(n ? n : 1, sizeof *bg))) {
            rc = TRAWL_ENOMEM;
            tw_err(err, sizeof err, rc, "out of memory");
        } else
            rc = tw_date_range_docs(v, t->field, bf, bt, bg, err, sizeof err);
    } else if (!rc && (rc = all_live(v, &bg))) {
        tw_err(err, sizeof err, rc, "out of memory");
    }
    int inside = 1; /* is the foreground inside the background in every segment? */
    for (uint32_t s = 0; !rc && s < n; s++) {
        roaring_bitmap_and_inplace(win[s], match[s]);
        roaring_bitmap_t *f = win[s], *both = roaring_bitmap_and(f, bg[s]);
        win[s] = NULL;
        if (both && roaring_bitmap_get_cardinality(both) != roaring_bitmap_get_cardinality(f)) inside = 0;
        rc = tw_docset_init(&fg[s], f);
        if (!rc) rc = tw_docset_init(&fgbg[s], both);
        if (!rc) rc = tw_docset_init(&bgs[s], bg[s]);
        bg[s] = NULL;
        if (!rc && !both) rc = TRAWL_ENOMEM;
        if (rc) tw_err(err, sizeof err, rc, "out of memory");
    }
    tw_trend_term *terms = NULL;
    size_t nterms = 0;
    uint64_t fgsize = 0, bgsize = 0;
    if (!rc) {
        tw_trend_sets sets = {fg, bgs, inside ? NULL : fgbg};
        rc = tw_trend_terms(v, &sets, t->min_docs, &terms, &nterms, &fgsize, &bgsize, err, sizeof err);
        if (!rc) drop_query_terms(terms, &nterms, &qt);
    }
    qterms_free(&qt);
    json_t *root = NULL;
    if (!rc) {
        size_t nsel = 0;
        if (tw_trend_terms_select(terms, nterms, t->chi2, t->limit, &nsel)) rc = TRAWL_ENOMEM;
        root = rc ? NULL : json_object();
        json_t *w = json_object(), *b = json_object(), *arr = json_array();
        if (!root || !w || !b || !arr) {
            json_decref(w);
            json_decref(b);
            json_decref(arr);
            rc = TRAWL_ENOMEM;
        } else {
            json_object_set_new(root, "field", json_string(t->field));
            json_object_set_new(root, "query", query ? json_string(query) : json_null());
            json_object_set_new(w, "from", jdate(wf));
            json_object_set_new(w, "to", jdate(wt));
            json_object_set_new(w, "docs", json_integer((json_int_t)fgsize));
            json_object_set_new(b, "from", jdate(bf));
            json_object_set_new(b, "to", jdate(bt));
            json_object_set_new(b, "docs", json_integer((json_int_t)bgsize));
            json_object_set_new(root, "window", w);
            json_object_set_new(root, "background", b);
            json_object_set_new(root, "score", json_string(t->chi2 ? "chi2" : "jlh"));
            json_object_set_new(root, "min_docs", json_integer((json_int_t)t->min_docs));
            json_object_set_new(root, "terms", arr);
            size_t listed = 0;
            for (size_t i = 0; i < nsel && listed < t->limit; i++) {
                double sc = t->chi2 ? terms[i].chi2 : terms[i].jlh;
                if (!(sc > 0) || !isfinite(sc)) continue;
                json_t *e = json_object();
                if (!e || json_array_append_new(arr, e)) {
                    rc = TRAWL_ENOMEM;
                    break;
                }
                json_object_set_new(e, "term", json_string(terms[i].term));
                json_object_set_new(e, "window_docs", json_integer((json_int_t)terms[i].fg_df));
                json_object_set_new(e, "background_docs", json_integer((json_int_t)terms[i].bg_df));
                json_object_set_new(e, "jlh", json_real(terms[i].jlh));
                json_object_set_new(e, "chi2", isfinite(terms[i].chi2) ? json_real(terms[i].chi2) : json_real(0));
                listed++;
            }
        }
        if (!rc && !(*json = json_dumps(root, JSON_COMPACT))) rc = TRAWL_ENOMEM;
        if (rc) tw_err(err, sizeof err, rc, "out of memory");
    }
    json_decref(root);
    tw_trend_terms_free(terms, nterms);
    for (uint32_t s = 0; s < n; s++) {
        if (fg) tw_docset_free(&fg[s]);
        if (bgs) tw_docset_free(&bgs[s]);
        if (fgbg) tw_docset_free(&fgbg[s]);
        if (win && win[s]) roaring_bitmap_free(win[s]);
        if (bg && bg[s]) roaring_bitmap_free(bg[s]);
    }
    free(fg);
    free(bgs);
    free(fgbg);
    free(win);
    free(bg);
    if (match) free_sets(match, n);
    return rc ? fail(rc, err, errmsg) : TRAWL_OK;
}

typedef struct one_term {
    char term[TW_MAX_TERM_BYTES + 1];
    int count;
} one_term;

static int on_term(void *ctx, const tw_token *tok) {
    one_term *o = ctx;
    if (o->count++ == 0) {
        memcpy(o->term, tok->term, tok->len);
        o->term[tok->len] = 0;
    }
    return 0;
}

/* Per segment the live documents with term in any field. */
static int term_docs(const tw_view *v, const char *term, roaring_bitmap_t **out, char *err, size_t errcap) {
    for (uint32_t s = 0; s < v->nsegs; s++) {
        if (!(out[s] = roaring_bitmap_create())) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        const tw_vseg *vs = &v->segs[s];
        tw_term_ref ref;
        int rc = tw_segment_lookup(vs->seg, TW_ANY_FIELD, term, strlen(term), &ref, err, errcap);
        if (rc < 0) return rc;
        if (rc == 0) continue;
        tw_postings p;
        if ((rc = tw_postings_open(vs->seg, &ref, 0, &p, err, errcap))) return rc;
        tw_piter it;
        tw_piter_init(&it, &p);
        for (uint32_t d = it.doc; d != TW_DOC_END; d = tw_piter_next(&it)) roaring_bitmap_add(out[s], d);
        tw_postings_close(&p);
        if (vs->deleted) roaring_bitmap_andnot_inplace(out[s], vs->deleted);
    }
    return 0;
}

trawl_rc trawl_index_bursts(const trawl_index *idx, const char *term, const trawl_trends *t, char **json,
                            char **errmsg) {
    if (json) *json = NULL;
    if (errmsg) *errmsg = NULL;
    if (!idx || !t || !json || !term) return TRAWL_EINVAL;
    const tw_view *v = &idx->view;
    char err[1024] = "";
    one_term o = {{0}, 0};
    int rc = 0;
    tw_qctx *ctx = tw_index_qctx_acquire(idx);
    if (!ctx) return fail(TRAWL_ENOMEM, "out of memory", errmsg);
    rc = tw_analyze(ctx->an, term, strlen(term), 0, 1, on_term, &o, NULL);
    tw_index_qctx_release(idx, ctx);
    if (rc < 0) return fail(rc, "out of memory", errmsg);
    if (o.count != 1) {
        tw_err(err, sizeof err, TRAWL_EINVAL, "'%s' is not one word (it analyzes to %d terms)", term, o.count);
        return fail(TRAWL_EINVAL, err, errmsg);
    }
    roaring_bitmap_t **docs = calloc(v->nsegs ? v->nsegs : 1, sizeof *docs);
    if (!docs) return fail(TRAWL_ENOMEM, "out of memory", errmsg);
    rc = term_docs(v, o.term, docs, err, sizeof err);
    tw_histogram h = {0};
    if (!rc)
        rc = tw_histogram_compute(v, (const roaring_bitmap_t *const *)docs, t->field, t->unit, t->tz, 1, &h, err,
                                  sizeof err);
    free_sets(docs, v->nsegs);
    uint64_t *r = NULL, *d = NULL;
    tw_burst *b = NULL;
    size_t nb = 0;
    if (!rc) {
        r = malloc((h.n ? h.n : 1) * sizeof *r);
        d = malloc((h.n ? h.n : 1) * sizeof *d);
        if (!r || !d) {
            rc = TRAWL_ENOMEM;
            tw_err(err, sizeof err, rc, "out of memory");
        }
        for (size_t i = 0; !rc && r && d && i < h.n; i++) r[i] = h.b[i].matches, d[i] = h.b[i].docs;
        if (!rc && (rc = tw_bursts(r, d, h.n, t->s, t->gamma, NULL, &b, &nb)))
            tw_err(err, sizeof err, rc, "burst detection failed");
    }
    json_t *root = NULL;
    if (!rc) {
        root = json_object();
        json_t *hist = json_array(), *arr = json_array();
        if (!root || !hist || !arr) {
            json_decref(hist);
            json_decref(arr);
            rc = TRAWL_ENOMEM;
        } else {
            json_object_set_new(root, "term", json_string(o.term));
            json_object_set_new(root, "field", json_string(t->field));
            json_object_set_new(root, "unit", json_string(tw_cal_unit_name(t->unit)));
            json_object_set_new(root, "s", json_real(t->s));
            json_object_set_new(root, "gamma", json_real(t->gamma));
            json_object_set_new(root, "histogram", hist);
            json_object_set_new(root, "bursts", arr);
            for (size_t i = 0; !rc && i < h.n; i++) {
                json_t *e = json_object();
                if (!e || json_array_append_new(hist, e)) rc = TRAWL_ENOMEM;
                json_object_set_new(e, "bucket", json_string(h.b[i].label));
                json_object_set_new(e, "start", jdate(h.b[i].start));
                json_object_set_new(e, "docs", json_integer((json_int_t)h.b[i].docs));
                json_object_set_new(e, "term_docs", json_integer((json_int_t)h.b[i].matches));
            }
            for (size_t i = 0; !rc && i < nb; i++) {
                json_t *e = json_object();
                if (!e || json_array_append_new(arr, e)) rc = TRAWL_ENOMEM;
                uint64_t tr = 0, td = 0;
                for (size_t k = b[i].start; k <= b[i].end; k++) tr += r[k], td += d[k];
                int64_t end =
                    tw_cal_bucket_start(tw_cal_bucket(h.b[b[i].end].start, t->unit, t->tz) + 1, t->unit, t->tz);
                json_object_set_new(e, "start", json_string(h.b[b[i].start].label));
                json_object_set_new(e, "end", json_string(h.b[b[i].end].label));
                json_object_set_new(e, "from", jdate(h.b[b[i].start].start));
                json_object_set_new(e, "to", jdate(end));
                json_object_set_new(e, "weight", json_real(b[i].weight));
                json_object_set_new(e, "term_docs", json_integer((json_int_t)tr));
                json_object_set_new(e, "docs", json_integer((json_int_t)td));
            }
        }
        if (!rc && !(*json = json_dumps(root, JSON_COMPACT))) rc = TRAWL_ENOMEM;
        if (rc) tw_err(err, sizeof err, rc, "out of memory");
    }
    json_decref(root);
    free(b);
    free(r);
    free(d);
    tw_histogram_free(&h);
    return rc ? fail(rc, err, errmsg) : TRAWL_OK;
}
