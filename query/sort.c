/*
 * sort.c — top-k by a field's value (order and contract in sort.h): walks
 * the whole plan's cursor in each segment, reads each match's value from the
 * segment's column or keyword ordinals (O(1) per document), and keeps a
 * bounded heap whose root is the worst hit kept.
 */
#include "sort.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "datetime.h"
#include "error.h"
#include "filter.h"
#include "prox.h"
#include "trawl.h"
#include "typed.h"

typedef struct sitem {
    double score;
    uint32_t seg, doc;
    int has;
    tw_num num;     /* date / number */
    const char *kw; /* keyword: the smallest value (in the mapped segment) */
    size_t kwlen;
} sitem;

typedef struct sorter {
    unsigned type; /* TW_FT_KEYWORD, TW_FT_DATE or TW_FT_NUMBER */
    int desc;
    sitem *h;
    size_t n, want;
} sorter;

/* Compares the values of a and b (both present) in ascending order. */
static int value_cmp(const sorter *s, const sitem *a, const sitem *b) {
    if (s->type == TW_FT_KEYWORD) {
        size_t m = a->kwlen < b->kwlen ? a->kwlen : b->kwlen;
        int c = m ? memcmp(a->kw, b->kw, m) : 0;
        if (c) return c;
        return a->kwlen < b->kwlen ? -1 : a->kwlen > b->kwlen;
    }
    return tw_num_cmp(&a->num, &b->num);
}

/* By value only: <0 when a comes first, >0 when b does, 0 when it is the score's turn. */
static int value_order(const sorter *s, const sitem *a, const sitem *b) {
    if (a->has != b->has) return a->has ? -1 : 1;
    if (!a->has) return 0;
    int c = value_cmp(s, a, b);
    return s->desc ? -c : c;
}

/* Does a come before b in the sort order? */
static int better(const sorter *s, const sitem *a, const sitem *b) {
    int c = value_order(s, a, b);
    if (c) return c < 0;
    if (a->score != b->score) return a->score > b->score;
    if (a->seg != b->seg) return a->seg < b->seg;
    return a->doc < b->doc;
}

static void down(const sorter *s, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->n && better(s, &s->h[m], &s->h[l])) m = l;
        if (r < s->n && better(s, &s->h[m], &s->h[r])) m = r;
        if (m == i) return;
        sitem t = s->h[i];
        s->h[i] = s->h[m];
        s->h[m] = t;
        i = m;
    }
}

static void push(sorter *s, const sitem *x) {
    if (s->n < s->want) {
        size_t i = s->n++;
        s->h[i] = *x;
        while (i > 0) {
            size_t parent = (i - 1) / 2;
            if (!better(s, &s->h[parent], &s->h[i])) break;
            sitem t = s->h[i];
            s->h[i] = s->h[parent];
            s->h[parent] = t;
            i = parent;
        }
    } else if (s->want && better(s, x, &s->h[0])) {
        s->h[0] = *x;
        down(s, 0);
    }
}

/* The value of doc d of a segment into x (x->has 0 when it has none). */
static void read_value(const sorter *s, const tw_kwfield *kw, const tw_colfield *col, uint32_t d, sitem *x) {
    x->has = 0;
    if (s->type == TW_FT_KEYWORD) {
        if (kw && tw_kw_doc_nvalues(kw, d) > 0) {
            x->kw = tw_kw_value(kw, tw_kw_doc_ord(kw, d, 0), &x->kwlen);
            x->has = 1;
        }
    } else if (col && tw_col_has(col, d)) {
        tw_col_num(col, tw_col_key(col, d), &x->num);
        x->has = 1;
    }
}

/* The text of a kept item's value (malloc'd), or NULL without one; *oom on failure. */
static char *value_text(const sorter *s, const sitem *x, int *oom) {
    char buf[TW_DATE_TEXT_MAX + 32];
    if (!x->has) return NULL;
    char *t;
    if (s->type == TW_FT_KEYWORD)
        t = strndup(x->kw, x->kwlen);
    else {
        if (s->type == TW_FT_DATE)
            tw_date_format(x->num.i, TW_DP_SECOND, buf, sizeof buf);
        else if (x->num.is_double)
            snprintf(buf, sizeof buf, "%.17g", x->num.d);
        else
            snprintf(buf, sizeof buf, "%" PRId64, x->num.i);
        t = strdup(buf);
    }
    if (!t) *oom = 1;
    return t;
}

int tw_sort_run(const tw_view *v, const tw_plan *plan, const tw_params *p, size_t want, tw_hit *hits, size_t *n,
                uint64_t *total, char *err, size_t errcap) {
    sorter s;
    memset(&s, 0, sizeof s);
    *n = 0;
    s.type = tw_filter_field_type(v, p->sort_field);
    s.desc = p->sort_desc;
    if (!s.type) {
        if (tw_view_field(v, p->sort_field) >= 0)
            return tw_err(err, errcap, TRAWL_ESYNTAX,
                          "cannot sort by '%.60s': a text field (sort needs a keyword, date or number field)",
                          p->sort_field);
        return tw_err(err, errcap, TRAWL_ESYNTAX,
                      "cannot sort by '%.60s': no keyword, date or number field by that name", p->sort_field);
    }
    s.want = want;
    s.h = malloc(sizeof *s.h * (want ? want : 1));
    if (!s.h) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    int rc = 0;
    for (uint32_t si = 0; si < v->nsegs && rc == 0 && (plan->root || plan->match_all); si++) {
        const tw_vseg *e = &v->segs[si];
        const tw_kwfield *kw = s.type == TW_FT_KEYWORD ? tw_segment_keyword(e->seg, p->sort_field) : NULL;
        const tw_colfield *col = s.type != TW_FT_KEYWORD ? tw_segment_column(e->seg, p->sort_field) : NULL;
        tw_prox *px = NULL; /* the proximity bonus joins the score (ties) */
        if (want && plan->root && (rc = tw_prox_open(v, si, plan->root, p, &px, err, errcap)) != 0) break;
        tw_cursor *cur = tw_plan_seg_cursor(v, plan, si, &rc, err, errcap);
        if (!cur) {
            tw_prox_free(px);
            break;
        }
        uint64_t count = 0;
        int prc = 0;
        for (uint32_t d = cur->doc; d != TW_DOC_END; d = tw_next(cur)) {
            if (e->deleted && roaring_bitmap_contains(e->deleted, d)) continue;
            count++;
            if (!want) continue;
            sitem x;
            x.seg = si;
            x.doc = d;
            read_value(&s, kw, col, d, &x);
            /* A value that loses to the worst kept one needs no score. */
            if (s.n == s.want && value_order(&s, &x, &s.h[0]) > 0) continue;
            x.score = tw_score(cur);
            if (px && (prc = tw_prox_score(px, d, x.score, -1.0, &x.score)) != 0) break;
            push(&s, &x);
        }
        rc = prc ? prc : tw_cursor_status(cur);
        tw_cursor_free(cur);
        tw_prox_free(px);
        if (rc == TRAWL_ECORRUPT)
            rc = tw_err(err, errcap, rc, "%s: positions section: stream invalid", e->seg->path);
        else if (rc)
            rc = tw_err(err, errcap, rc, "out of memory");
        *total += count;
    }
    if (rc == 0) {
        /* Pop the worst kept hit into the last free place, best ends first. */
        int oom = 0;
        size_t kept = s.n;
        for (size_t i = kept; i-- > 0;) {
            sitem x = s.h[0];
            s.h[0] = s.h[--s.n];
            down(&s, 0);
            memset(&hits[i], 0, sizeof hits[i]);
            hits[i].score = x.score;
            hits[i].seg = x.seg;
            hits[i].doc = x.doc;
            hits[i].sort_value = value_text(&s, &x, &oom);
        }
        *n = kept;
        if (oom) rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    free(s.h);
    return rc;
}
