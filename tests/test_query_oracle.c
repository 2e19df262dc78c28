/*
 * test_query_oracle.c — query operators against a brute-force matcher.
 *
 * A seeded synthetic corpus (oracle.h) is indexed in three commits. Query
 * trees are generated — terms, hyphenated words (several tokens: a phrase),
 * phrases (taken from documents, so that they match, or random; some spanning
 * two elements of an array, which must not match), prefixes, words that
 * analyze to nothing, field-qualified leaves and field:( ) groups, +x, -x,
 * NOT x, explicit AND, OR and parentheses — printed as query text, searched
 * in AND, OR and auto mode with a limit above the number of documents, and compared
 * with the oracle's evaluation of the same tree (oracle.h or_q_eval): the exact
 * set of matching ids (= total), every score within 1e-6 relative, the order.
 * Unknown fields (and the id and non-text fields, which are not text fields)
 * must fail with TRAWL_ESYNTAX.
 *
 * The oracle gets its semantics from the tree the generator built, never from
 * the engine's parser: how a query is written decides the occurrence of each
 * clause (see or_q_occur), and the oracle applies the rules of the
 * specification to that.
 *
 * Set TRAWL_ORACLE_SEED to rerun with another corpus and queries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

#define COMMIT_DOCS_1 600
#define COMMIT_DOCS_2 450
#define COMMIT_DOCS_3 550
#define RANDOM_QUERIES 420

typedef struct ctx {
    or_rng r;
    or_vocab v;
    or_corpus c;
    or_stats st;
    char dir[4096];
    trawl_index *ix;
    long queries, with_hits, errors, dropped, partial;
} ctx;

static const char *const text_fields[] = {"title", "body", "tags", "summary"};
/* Fields that must be unknown to search: never seen, the id, not text. */
static const char *const bad_fields[] = {"nosuch", "id", "year", "meta", "flags", "Title"};
/* Words with no letters or digits: they analyze to nothing. */
static const char *const junk_words[] = {"!!", "...", ";", "&", "~", "#", "@@", "?!", "%"};

/* ------------------------------------------------------------------------ */
/* Sampling text from the corpus                                             */

/* Splits a copy of s at spaces into words[] (at most max); returns the count.
 * The words point into *copy, which the caller frees. */
static size_t split_words(const char *s, char **copy, char **words, size_t max) {
    size_t n = 0;
    char *save = NULL, *tok;
    *copy = or_xstrdup(s);
    for (tok = strtok_r(*copy, " ", &save); tok && n < max; tok = strtok_r(NULL, " ", &save)) words[n++] = tok;
    return n;
}

/* A random text field value (element for arrays) of a random live document:
 * of field `field` if not NULL. Returns NULL if none was found in a few tries.
 * *f_out and *elem_out identify the value. */
static const char *sample_value(ctx *x, const char *field, const or_rfield **f_out, size_t *elem_out) {
    for (int tries = 0; tries < 60; tries++) {
        const or_doc *d = &x->c.docs[or_below(&x->r, x->c.ndocs)];
        size_t i, cand[OR_MAX_RFIELDS], nc = 0;
        if (!d->live) continue;
        for (i = 0; i < d->raw.nf; i++)
            if (d->raw.f[i].type != OR_V_JSON && d->raw.f[i].nvals > 0 &&
                (!field || strcmp(d->raw.f[i].name, field) == 0))
                cand[nc++] = i;
        if (nc == 0) continue;
        {
            const or_rfield *f = &d->raw.f[cand[or_below(&x->r, nc)]];
            size_t e = or_below(&x->r, f->nvals);
            if (!f->vals[e][0]) continue;
            if (f_out) *f_out = f;
            if (elem_out) *elem_out = e;
            return f->vals[e];
        }
    }
    return NULL;
}

static void strip_punct(char *w) {
    for (size_t n = strlen(w); n > 0 && strchr(",.;!?", w[n - 1]); n--) w[n - 1] = '\0';
}

/* A single query word into out (cap bytes): from a document (field if set)
 * or the vocabulary; trailing punctuation removed; never empty. */
static void sample_word(ctx *x, const char *field, char *out, size_t cap) {
    const char *val = or_chance(&x->r, 0.7) ? sample_value(x, field, NULL, NULL) : NULL;
    out[0] = '\0';
    if (val) {
        char *copy, *words[512];
        size_t n = split_words(val, &copy, words, 512);
        if (n) snprintf(out, cap, "%s", words[or_below(&x->r, n)]);
        free(copy);
        strip_punct(out);
    }
    if (!out[0])
        snprintf(out, cap, "%s", or_chance(&x->r, 0.8) ? or_vocab_zipf(&x->v, &x->r) : or_vocab_uniform(&x->v, &x->r));
}

/* Phrase text: consecutive words of a document's field (so that it matches),
 * words spanning two array elements, or random vocabulary words. */
static void sample_phrase(ctx *x, const char *field, or_buf *out) {
    double u = or_unit(&x->r);
    const or_rfield *f = NULL;
    size_t e = 0;
    const char *val;

    if (u < 0.1) { /* across two elements of an array: must never match as such */
        val = sample_value(x, field ? field : "tags", &f, &e);
        if (val && f->type == OR_V_ARR && e + 1 < f->nvals && f->vals[e + 1][0]) {
            char *c1, *c2, *w1[512], *w2[512];
            size_t n1 = split_words(f->vals[e], &c1, w1, 512), n2 = split_words(f->vals[e + 1], &c2, w2, 512);
            if (n1 && n2) {
                or_buf_puts(out, w1[n1 - 1]);
                or_buf_puts(out, " ");
                or_buf_puts(out, w2[0]);
            }
            free(c1);
            free(c2);
            if (out->n) return;
        }
    }
    if (u < 0.7 && (val = sample_value(x, field, NULL, NULL)) != NULL) {
        char *copy, *words[512];
        size_t n = split_words(val, &copy, words, 512), len = 2 + or_below(&x->r, 3), start, i;
        if (n >= 2) {
            if (len > n) len = n;
            start = or_below(&x->r, n - len + 1);
            for (i = 0; i < len; i++) {
                if (i) or_buf_puts(out, or_chance(&x->r, 0.1) ? " , " : " ");
                or_buf_puts(out, words[start + i]);
            }
        }
        free(copy);
        if (out->n) return;
    }
    or_buf_puts(out, or_vocab_zipf(&x->v, &x->r));
    or_buf_puts(out, " ");
    or_buf_puts(out, or_vocab_zipf(&x->v, &x->r));
}

/* A prefix: the start (3+ bytes) of an ASCII word of a document, or of a
 * vocabulary word; hyphenated words are cut at the hyphen. */
static void sample_prefix(ctx *x, const char *field, char *out, size_t cap) {
    char w[256];
    size_t n, i, keep;
    int ascii = 1;

    sample_word(x, field, w, sizeof w);
    for (i = 0; w[i]; i++) ascii &= (unsigned char)w[i] < 0x80;
    if (!ascii) snprintf(w, sizeof w, "%s", or_vocab_zipf(&x->v, &x->r));
    if (strchr(w, '-')) *strchr(w, '-') = '\0';
    n = strlen(w);
    keep = n <= 3 ? n : 3 + or_below(&x->r, n - 2);
    if (keep == 0) snprintf(w, sizeof w, "ka"), keep = 2;
    w[keep] = '\0';
    snprintf(out, cap, "%s", w);
}

/* ------------------------------------------------------------------------ */
/* Random query trees                                                        */

static const char *pick_field(ctx *x, int allow_bad) {
    if (allow_bad && or_chance(&x->r, 0.03)) return bad_fields[or_below(&x->r, OR_NELEM(bad_fields))];
    return text_fields[or_below(&x->r, OR_NELEM(text_fields))];
}

static or_q *gen_leaf(ctx *x, const char *scope, int allow_bad) {
    const char *field = NULL, *src;
    double u = or_unit(&x->r);
    char w[256];

    if (!scope && or_chance(&x->r, 0.35)) field = pick_field(x, allow_bad);
    src = field ? field : scope;
    if (src && or_field_find(&x->c, src) < 0) src = NULL; /* unknown field: sample anywhere */
    if (u < 0.48) {
        sample_word(x, src, w, sizeof w);
        return or_q_leaf(OR_L_TERM, field, w);
    }
    if (u < 0.72) {
        or_buf b = {0};
        or_q *q;
        sample_phrase(x, src, &b);
        q = or_q_leaf(OR_L_PHRASE, field, b.p);
        or_buf_free(&b);
        return q;
    }
    if (u < 0.87) {
        sample_prefix(x, src, w, sizeof w);
        return or_q_leaf(OR_L_PREFIX, field, w);
    }
    if (u < 0.93) { /* a hyphenated word: several tokens, a phrase */
        snprintf(w, sizeof w, "%s-%s", or_vocab_zipf(&x->v, &x->r), or_vocab_zipf(&x->v, &x->r));
        return or_q_leaf(OR_L_TERM, field, w);
    }
    /* analyzes to nothing: the clause is dropped */
    snprintf(w, sizeof w, "%s", junk_words[or_below(&x->r, OR_NELEM(junk_words))]);
    return or_q_leaf(or_chance(&x->r, 0.2) ? OR_L_PREFIX : OR_L_TERM, field, w);
}

static or_q *gen_expr(ctx *x, int depth, const char *scope, int allow_bad);

static or_q *gen_primary(ctx *x, int depth, const char *scope, int allow_bad) {
    if (depth < 3 && or_chance(&x->r, 0.22)) {
        const char *field = !scope && or_chance(&x->r, 0.35) ? pick_field(x, allow_bad) : NULL;
        or_q *p = or_q_new(OR_Q_PAREN, field);
        or_q_add(p, gen_expr(x, depth + 1, field ? field : scope, allow_bad), OR_OP_NONE, 0);
        return p;
    }
    return gen_leaf(x, scope, allow_bad);
}

/* An and_expr: clauses side by side with operators and some explicit ANDs. */
static or_q *gen_and(ctx *x, int depth, const char *scope, int allow_bad) {
    size_t n = 1 + or_below(&x->r, 4), i;
    or_q *g;

    if (n == 1 && or_chance(&x->r, 0.6)) return gen_primary(x, depth, scope, allow_bad);
    g = or_q_new(OR_Q_GROUP, NULL);
    for (i = 0; i < n; i++) {
        double u = or_unit(&x->r);
        int op = u < 0.55 ? OR_OP_NONE : u < 0.72 ? OR_OP_MINUS : u < 0.8 ? OR_OP_NOT : OR_OP_PLUS;
        or_q_add(g, gen_primary(x, depth, scope, allow_bad), op, or_chance(&x->r, 0.2));
    }
    return g;
}

/* An or_expr: and_exprs joined by OR (sometimes), else one and_expr. */
static or_q *gen_expr(ctx *x, int depth, const char *scope, int allow_bad) {
    if (depth < 2 && or_chance(&x->r, 0.3)) {
        size_t n = 2 + or_below(&x->r, 2);
        or_q *o = or_q_new(OR_Q_OR, NULL);
        for (size_t i = 0; i < n; i++) or_q_add(o, gen_and(x, depth, scope, allow_bad), OR_OP_NONE, 0);
        return o;
    }
    return gen_and(x, depth, scope, allow_bad);
}

/* ------------------------------------------------------------------------ */
/* Running a query                                                           */

/* Searches q (printed) with options o (and limit/offset) and compares with
 * the oracle; expect_rc is checked when not OR_OK. Returns the engine total. */
static uint64_t check_query(ctx *x, const char *what, const or_q *q, const or_opts *o, size_t limit, size_t offset) {
    or_buf text = {0}, label = {0};
    double *score = or_xcalloc(x->c.ndocs, sizeof *score);
    uint8_t *match = or_xcalloc(x->c.ndocs, 1), *tier = or_xcalloc(x->c.ndocs, 1);
    trawl_options *to = trawl_options_new();
    trawl_results *res = NULL;
    uint64_t total = 0;
    int orc, rc;

    if (!to) or_die("trawl_options_new");
    or_q_render(q, &text);
    or_buf_printf(&label, "%s '%s' [", what, text.p);
    or_opts_describe(o, &label);
    or_buf_printf(&label, " limit=%zu offset=%zu]", limit, offset);
    if (or_opts_apply(o, to) != TRAWL_OK) or_fail(&x->st, "%s: setting options failed", label.p);
    trawl_options_set_limit(to, limit);
    trawl_options_set_offset(to, offset);
    trawl_options_set_snippets(to, 0);

    orc = or_q_eval_op(&x->c, o, q, score, match, tier);
    rc = trawl_search(x->ix, text.p, to, &res);
    x->queries++;
    if (orc < 0) {
        x->errors++;
        x->st.checks++;
        if (rc != orc)
            or_fail(&x->st, "%s: trawl_search returns %d (%s: %s), oracle expects %d (%s)", label.p, rc,
                    trawl_strerror(rc), trawl_results_errmsg(res), orc, trawl_strerror(orc));
        else if (trawl_results_errmsg(res)[0] == '\0')
            or_fail(&x->st, "%s: error %s without a message", label.p, trawl_strerror(rc));
    } else if (rc != TRAWL_OK) {
        or_fail(&x->st, "%s: trawl_search: %s (%s), oracle expects success", label.p, trawl_strerror(rc),
                trawl_results_errmsg(res));
    } else {
        if (orc == OR_DROPPED) x->dropped++; /* match[] is all zero: nothing may match */
        or_check(&x->st, &x->c, label.p, res, score, match, tier, offset, limit);
        total = trawl_results_total(res);
        x->with_hits += total > 0;
        x->partial += total > 0 && total < x->c.nlive;
        /* Counting only takes its own paths (no scoring, short lists walked
         * directly): the same total as the oracle's. */
        uint64_t want = 0;
        for (size_t d = 0; d < x->c.ndocs; d++) want += x->c.docs[d].live && match[d];
        trawl_results *cnt = NULL;
        trawl_options_set_count_only(to, 1);
        rc = trawl_search(x->ix, text.p, to, &cnt);
        x->st.checks++;
        if (rc != TRAWL_OK || trawl_results_total(cnt) != want || trawl_results_count(cnt) != 0)
            or_fail(&x->st, "%s: count only: rc %d, total %llu, %zu hits; oracle total %llu", label.p, rc,
                    (unsigned long long)trawl_results_total(cnt), trawl_results_count(cnt), (unsigned long long)want);
        trawl_results_free(cnt);
    }
    trawl_results_free(res);
    trawl_options_free(to);
    or_buf_free(&text);
    or_buf_free(&label);
    free(score);
    free(match);
    free(tier);
    return total;
}

static void random_opts(ctx *x, or_opts *o) {
    or_opts_default(o);
    o->use_or = (int)or_below(&x->r, 3); /* AND, OR, auto */
    o->bm25f = or_chance(&x->r, 0.5);
    if (or_chance(&x->r, 0.25)) {
        o->k1 = or_chance(&x->r, 0.5) ? 0.7 : 1.9;
        o->b = or_chance(&x->r, 0.5) ? 0.4 : 1.0;
        o->wname[o->nw] = "title";
        o->w[o->nw++] = or_chance(&x->r, 0.5) ? 0.5 : 4.0;
        if (or_chance(&x->r, 0.5)) {
            o->wname[o->nw] = "tags";
            o->w[o->nw++] = 3.0;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Hand-written cases                                                        */

static or_q *T(const char *field, const char *text) {
    return or_q_leaf(OR_L_TERM, field, text);
}

static or_q *PH(const char *field, const char *text) {
    return or_q_leaf(OR_L_PHRASE, field, text);
}

static or_q *PX(const char *field, const char *text) {
    return or_q_leaf(OR_L_PREFIX, field, text);
}

static or_q *PAREN(const char *field, or_q *kid) {
    or_q *p = or_q_new(OR_Q_PAREN, field);
    or_q_add(p, kid, OR_OP_NONE, 0);
    return p;
}

/* A GROUP of n (op, kid) pairs; and_join applies to every joint if set. */
static or_q *G(int and_join, size_t n, ...) {
    or_q *g = or_q_new(OR_Q_GROUP, NULL);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        int op = va_arg(ap, int);
        or_q *kid = va_arg(ap, or_q *);
        or_q_add(g, kid, op, and_join);
    }
    va_end(ap);
    return g;
}

static or_q *OR2(or_q *a, or_q *b) {
    or_q *o = or_q_new(OR_Q_OR, NULL);
    or_q_add(o, a, OR_OP_NONE, 0);
    or_q_add(o, b, OR_OP_NONE, 0);
    return o;
}

/* Two consecutive words of the body of the first document with 3+ words. */
static void body_phrase(ctx *x, char *out, size_t cap) {
    for (size_t d = 0; d < x->c.ndocs; d++) {
        for (size_t i = 0; i < x->c.docs[d].raw.nf; i++) {
            const or_rfield *f = &x->c.docs[d].raw.f[i];
            char *copy, *w[8];
            size_t n;
            if (strcmp(f->name, "body") || f->type != OR_V_STR) continue;
            n = split_words(f->vals[0], &copy, w, 8);
            if (n >= 3 && !strpbrk(w[1], "-,.;!?") && !strpbrk(w[2], "-,.;!?")) {
                snprintf(out, cap, "%s %s", w[1], w[2]);
                free(copy);
                return;
            }
            free(copy);
        }
    }
    snprintf(out, cap, "%s %s", x->v.words[0], x->v.words[1]);
}

static void fixed_cases(ctx *x) {
    const char *a = x->v.words[0], *b = x->v.words[1], *c = x->v.words[4], *d = x->v.words[12];
    char ph[256], pre[8], hy[256];
    or_opts o;
    int mode;

    body_phrase(x, ph, sizeof ph);
    snprintf(pre, sizeof pre, "%.3s", x->v.words[2]);
    snprintf(hy, sizeof hy, "%s-%s", a, c);
    for (mode = 0; mode < 3; mode++) {
        or_q *cases[64];
        size_t n = 0, i, nested = 0;
        or_opts_default(&o);
        o.use_or = mode;
        cases[n++] = G(0, 2, OR_OP_NONE, T(NULL, a), OR_OP_MINUS, T(NULL, b)); /* a -b */
        cases[n++] = G(0, 2, OR_OP_NONE, T(NULL, a), OR_OP_NOT, T(NULL, b));   /* a NOT b */
        cases[n++] = G(0, 1, OR_OP_MINUS, T(NULL, a));                         /* -a */
        cases[n++] = G(0, 2, OR_OP_NOT, T(NULL, a), OR_OP_MINUS, T(NULL, b));  /* NOT a -b */
        cases[n++] = G(0, 2, OR_OP_PLUS, T(NULL, a), OR_OP_NONE, T(NULL, b));  /* +a b */
        cases[n++] = G(0, 3, OR_OP_NONE, T(NULL, a), OR_OP_PLUS, T(NULL, b), OR_OP_NONE, T(NULL, c));
        cases[n++] = G(0, 3, OR_OP_NONE, T(NULL, a), OR_OP_NONE, T(NULL, b), OR_OP_MINUS, T(NULL, c));
        cases[n++] = G(1, 2, OR_OP_NONE, T(NULL, a), OR_OP_NONE, T(NULL, d)); /* a AND d */
        cases[n++] = G(0, 1, OR_OP_NONE, T("title", a));                      /* title:a */
        cases[n++] = T("tags", b);
        cases[n++] = T("summary", c);
        cases[n++] = PH("body", ph); /* body:"x y" */
        cases[n++] = PH(NULL, ph);
        cases[n++] = G(0, 2, OR_OP_NONE, PAREN(NULL, OR2(T(NULL, a), T(NULL, b))), OR_OP_NONE, T(NULL, c));
        cases[n++] = OR2(T(NULL, a), G(0, 2, OR_OP_NONE, T(NULL, b), OR_OP_NONE, T(NULL, c))); /* a OR b c */
        cases[n++] = OR2(G(1, 2, OR_OP_NONE, T(NULL, a), OR_OP_NONE, T(NULL, b)), T(NULL, c));
        cases[n++] = PAREN("title", OR2(T(NULL, a), T(NULL, b))); /* title:(a OR b) */
        cases[n++] = PAREN("body", G(0, 2, OR_OP_NONE, PH(NULL, ph), OR_OP_MINUS, T(NULL, a)));
        cases[n++] = G(0, 2, OR_OP_NONE, T(NULL, "!!"), OR_OP_NONE, T(NULL, a)); /* !! a */
        cases[n++] = G(0, 2, OR_OP_NONE, T(NULL, a), OR_OP_NONE, T(NULL, "..."));
        cases[n++] = T(NULL, "..."); /* nothing left */
        cases[n++] = G(0, 2, OR_OP_MINUS, T(NULL, a), OR_OP_NONE, T("title", "&"));
        cases[n++] = PX(NULL, pre);
        cases[n++] = PX("title", pre);
        cases[n++] = G(0, 2, OR_OP_NONE, PX(NULL, pre), OR_OP_MINUS, T(NULL, a));
        cases[n++] = T(NULL, hy); /* a phrase */
        nested = n;
        cases[n++] = T(NULL, "nestedmarker"); /* only inside non-text values: never matches */
        cases[n++] = G(0, 2, OR_OP_NONE, T(NULL, a), OR_OP_NONE, T(NULL, a)); /* counts twice */
        cases[n++] = G(0, 3, OR_OP_NONE, T(NULL, a), OR_OP_NONE,
                       PAREN(NULL, G(0, 2, OR_OP_MINUS, T(NULL, b), OR_OP_MINUS, T(NULL, c))), OR_OP_NONE, T(NULL, d));
        cases[n++] = OR2(T(NULL, a), G(0, 1, OR_OP_MINUS, T(NULL, b))); /* a OR -b */
        /* a required group whose only required clause is dropped: +(+!! -b) is +(-b) */
        cases[n++] = G(0, 2, OR_OP_NONE, T(NULL, c), OR_OP_PLUS,
                       PAREN(NULL, G(0, 2, OR_OP_PLUS, T(NULL, "!!"), OR_OP_MINUS, T(NULL, b))));
        cases[n++] = G(0, 2, OR_OP_NONE, T(NULL, c), OR_OP_NONE,
                       PAREN(NULL, G(1, 2, OR_OP_NONE, T(NULL, "..."), OR_OP_MINUS, T(NULL, b))));
        /* errors: not a text field */
        cases[n++] = T("nosuch", a);
        cases[n++] = T("id", "doc-00001");
        cases[n++] = T("year", "1999");
        cases[n++] = T("meta", "nestedmarker");
        cases[n++] = G(0, 2, OR_OP_NONE, T(NULL, a), OR_OP_MINUS, T("nosuch", b));
        cases[n++] = PAREN("nosuch", OR2(T(NULL, a), T(NULL, b)));
        cases[n++] = T("nosuch", "...");
        for (i = 0; i < n; i++) {
            char what[64];
            uint64_t total;
            snprintf(what, sizeof what, "fixed case %zu", i);
            total = check_query(x, what, cases[i], &o, x->c.ndocs + 10, 0);
            if (i == nested && total != 0)
                or_fail(&x->st, "'nestedmarker' (only in non-text values) matched %llu documents",
                        (unsigned long long)total);
            or_q_free(cases[i]);
        }
    }
}

/* ------------------------------------------------------------------------ */

static int index_corpus(ctx *x) {
    static const size_t sizes[3] = {COMMIT_DOCS_1, COMMIT_DOCS_2, COMMIT_DOCS_3};
    char idx[4200];
    size_t next = 0;
    snprintf(idx, sizeof idx, "%s/idx", x->dir);
    for (int k = 0; k < 3; k++) {
        or_rdoc **docs = or_xcalloc(sizes[k], sizeof *docs);
        int rc;
        for (size_t i = 0; i < sizes[k]; i++) {
            char id[32];
            snprintf(id, sizeof id, "doc-%05zu", next++);
            docs[i] = or_xcalloc(1, sizeof **docs);
            or_gen_doc(docs[i], id, &x->v, &x->r, k == 1);
        }
        rc = or_index_docs(idx, docs, sizes[k], &x->r);
        for (size_t i = 0; i < sizes[k]; i++) {
            or_add(&x->c, docs[i]);
            free(docs[i]);
        }
        free(docs);
        if (rc) return rc;
    }
    or_finish(&x->c);
    return 0;
}

int main(void) {
    ctx x;
    const char *tmp = getenv("TMPDIR");
    uint64_t seed = or_seed(0x9e7c0ffeeull);
    char idx[4200], *err = NULL;
    int rc;

    memset(&x, 0, sizeof x);
    x.r.s = seed;
    snprintf(x.dir, sizeof x.dir, "%s/trawl-query-oracle-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(x.dir)) {
        perror("mkdtemp");
        return 1;
    }
    or_vocab_init(&x.v, &x.r, 1200);
    or_corpus_init(&x.c, NULL);
    rc = index_corpus(&x);
    snprintf(idx, sizeof idx, "%s/idx", x.dir);
    if (rc == 0 && (rc = trawl_index_open(idx, &x.ix, &err)) != 0)
        or_fail(&x.st, "trawl_index_open: %s", err ? err : trawl_strerror(rc));
    trawl_free(err);
    if (rc) {
        x.st.failures++;
    } else {
        long q;
        printf("corpus: %zu documents, %zu distinct terms, %zu text fields, 3 commits\n", x.c.nlive, x.c.nterms,
               x.c.nfields);
        if (trawl_index_doc_count(x.ix) != x.c.nlive)
            or_fail(&x.st, "doc count: engine %llu, oracle %zu", (unsigned long long)trawl_index_doc_count(x.ix),
                    x.c.nlive);
        fixed_cases(&x);
        printf("fixed cases: %ld queries, %ld failures\n", x.queries, x.st.failures);
        for (q = 0; q < RANDOM_QUERIES; q++) {
            or_opts o;
            or_q *t;
            char what[64];
            size_t limit = x.c.ndocs + 10, offset = 0;
            random_opts(&x, &o);
            t = gen_expr(&x, 0, NULL, 1);
            if (or_chance(&x.r, 0.15)) { /* a page from the middle */
                offset = or_below(&x.r, 20);
                limit = 1 + or_below(&x.r, 30);
            }
            snprintf(what, sizeof what, "random query %ld", q);
            check_query(&x, what, t, &o, limit, offset);
            or_q_free(t);
        }
        printf("%ld queries: %ld with matches (%ld partial), %ld errors expected, %ld dropped entirely\n", x.queries,
               x.with_hits, x.partial, x.errors, x.dropped);
        if (x.partial < x.queries / 3)
            or_fail(&x.st, "only %ld of %ld queries matched some but not all documents: the test is too weak",
                    x.partial, x.queries);
    }
    trawl_index_close(x.ix);
    or_corpus_free(&x.c);
    or_vocab_free(&x.v);
    or_rmtree(x.dir);
    if (x.st.failures) {
        fprintf(stderr, "test_query_oracle: %ld failures in %ld checks (seed %llu; rerun with TRAWL_ORACLE_SEED)\n",
                x.st.failures, x.st.checks, (unsigned long long)seed);
        return 1;
    }
    printf("test_query_oracle: %ld queries checked, all passed (seed %llu)\n", x.queries, (unsigned long long)seed);
    return 0;
}
