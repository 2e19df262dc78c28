/*
 * test_bm25_oracle.c — ranked search against a brute-force BM25 oracle.
 *
 * A seeded synthetic corpus (oracle.h: Zipfian words with English suffixes,
 * titles, bodies, tags arrays, a summary field in one commit only, values that
 * are not text) is indexed in three commits, so three segments whose
 * statistics must be combined. Random queries of 1-4 words, in AND, OR and auto
 * mode (auto: the AND ranking, then the rest of the OR one), BM25 or BM25F,
 * with or without the term-proximity bonus (or_prox_add: brute force over
 * the analyzer's token positions), with limits 10 and 50, offsets and non-default BM25 parameters and
 * field weights, are run through trawl_search and compared with the oracle's
 * exhaustive ranking (oracle.h or_check): same total, same ids in order (near
 * ties in either order), scores within 1e-6 relative. Explanations must be
 * present when asked for.
 *
 * Phase 2 re-adds some ids with new content in a fourth commit: the replaced
 * copies are no longer live, so every statistic (N_f, avgdl_f, df) and every
 * match must leave them out, and a replacement ranks after older documents on
 * ties.
 *
 * Phase 3 deletes, in a fifth commit, documents of every segment by id
 * (trawl_writer_delete), deletes an id and adds it again (the new copy lives),
 * adds new documents and deletes some of them in the same commit (gone), and
 * replaces more: the oracle drops the deleted documents, so N, df and avgdl
 * must count live documents only, and get must not find a deleted id.
 *
 * Set TRAWL_ORACLE_SEED to rerun with another corpus and queries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

#define COMMIT_DOCS_1 900
#define COMMIT_DOCS_2 700
#define COMMIT_DOCS_3 800
#define REPLACED_DOCS 150
#define PHASE1_QUERIES 260
#define PHASE2_QUERIES 90
#define DELETED_DOCS 250
#define PHASE3_QUERIES 90

typedef struct ctx {
    or_rng r;
    or_vocab v;
    or_corpus c;
    or_stats st;
    char dir[4096];
    size_t nids; /* ids doc-00000 .. doc-(nids-1) were generated */
    long queries, with_hits, nonempty_pages;
} ctx;

/* Appends to out a query word: a word of a random document (punctuation
 * stripped), a frequent word or a rare one; sometimes capitalized. */
static void pick_word(ctx *x, or_buf *out) {
    char w[256] = "";
    double u = or_unit(&x->r);

    if (u < 0.5) {
        for (int tries = 0; tries < 50 && !w[0]; tries++) {
            const or_doc *d = &x->c.docs[or_below(&x->r, x->c.ndocs)];
            const or_rfield *f;
            char *copy, *tok, *save = NULL, *words[512];
            size_t nw = 0;
            if (!d->live || d->raw.nf == 0) continue;
            f = &d->raw.f[or_below(&x->r, d->raw.nf)];
            if (f->type == OR_V_JSON || f->nvals == 0) continue;
            copy = or_xstrdup(f->vals[or_below(&x->r, f->nvals)]);
            for (tok = strtok_r(copy, " ", &save); tok && nw < 512; tok = strtok_r(NULL, " ", &save)) words[nw++] = tok;
            if (nw > 0) snprintf(w, sizeof w, "%s", words[or_below(&x->r, nw)]);
            free(copy);
            /* strip trailing punctuation */
            for (size_t n = strlen(w); n > 0 && strchr(",.;!?", w[n - 1]); n--) w[n - 1] = '\0';
        }
    }
    if (!w[0]) snprintf(w, sizeof w, "%s", u < 0.85 ? or_vocab_zipf(&x->v, &x->r) : or_vocab_uniform(&x->v, &x->r));
    if (w[0] >= 'a' && w[0] <= 'z' && or_chance(&x->r, 0.05)) w[0] = (char)(w[0] - 'a' + 'A');
    or_buf_puts(out, w);
}

/* Random BM25 parameters and field weights (or the defaults). */
static void pick_opts(ctx *x, or_opts *o) {
    static const double k1s[] = {0.5, 0.9, 2.0, 0.0};
    static const double bs[] = {0.3, 1.0, 0.0, 0.6};
    or_opts_default(o);
    o->use_or = (int)or_below(&x->r, 3); /* AND, OR, auto */
    o->bm25f = or_chance(&x->r, 0.5);
    if (or_chance(&x->r, 0.5)) { /* the proximity bonus, with random parameters */
        static const double ws[] = {0.1, 1.0, 4.0};
        static const unsigned wins[] = {1, 2, 5, 12};
        o->prox = 1;
        o->prox_w = ws[or_below(&x->r, 3)];
        o->prox_win = wins[or_below(&x->r, 4)];
    }
    if (or_chance(&x->r, 0.35)) {
        o->k1 = k1s[or_below(&x->r, 4)];
        o->b = bs[or_below(&x->r, 4)];
        if (or_chance(&x->r, 0.6)) {
            o->wname[o->nw] = "title";
            o->w[o->nw++] = or_chance(&x->r, 0.5) ? 1.0 : 3.5;
        }
        if (or_chance(&x->r, 0.5)) {
            o->wname[o->nw] = "tags";
            o->w[o->nw++] = or_chance(&x->r, 0.5) ? 0.5 : 2.25;
        }
        if (or_chance(&x->r, 0.4)) {
            o->wname[o->nw] = "body";
            o->w[o->nw++] = 1.7;
        }
        if (or_chance(&x->r, 0.2)) {
            o->wname[o->nw] = "summary";
            o->w[o->nw++] = 0.0;
        }
    }
}

/* Runs one random query against idx and the oracle. */
static void run_query(ctx *x, const trawl_index *idx, const char *phase, long qno) {
    static const size_t offsets[] = {0, 0, 0, 5, 10, 37};
    or_opts o;
    or_q *g = or_q_new(OR_Q_GROUP, NULL);
    or_buf qtext = {0}, label = {0};
    size_t nwords = 1 + or_below(&x->r, 4), i;
    size_t limit = or_chance(&x->r, 0.5) ? 10 : 50, offset = offsets[or_below(&x->r, 6)];
    int explain = or_chance(&x->r, 0.2), snippets = or_chance(&x->r, 0.2), rc, orc;
    trawl_options *to = trawl_options_new();
    trawl_results *res = NULL;
    double *score = or_xcalloc(x->c.ndocs, sizeof *score);
    uint8_t *match = or_xcalloc(x->c.ndocs, 1), *tier = or_xcalloc(x->c.ndocs, 1);

    pick_opts(x, &o);
    for (i = 0; i < nwords; i++) {
        or_buf w = {0};
        pick_word(x, &w);
        or_q_add(g, or_q_leaf(OR_L_TERM, NULL, w.p), OR_OP_NONE, 0);
        or_buf_free(&w);
    }
    or_q_render(g, &qtext);
    or_buf_printf(&label, "%s query %ld '%s' [", phase, qno, qtext.p);
    or_opts_describe(&o, &label);
    or_buf_printf(&label, " limit=%zu offset=%zu]", limit, offset);

    if (!to) or_die("trawl_options_new");
    if (or_opts_apply(&o, to) != TRAWL_OK) or_fail(&x->st, "%s: setting options failed", label.p);
    trawl_options_set_limit(to, limit);
    trawl_options_set_offset(to, offset);
    trawl_options_set_explain(to, explain);
    trawl_options_set_snippets(to, snippets);

    orc = or_q_eval_op(&x->c, &o, g, score, match, tier);
    rc = trawl_search(idx, qtext.p, to, &res);
    x->queries++;
    if (orc < 0) {
        or_fail(&x->st, "%s: oracle error %d (generator bug)", label.p, orc);
    } else if (rc != TRAWL_OK) {
        or_fail(&x->st, "%s: trawl_search: %s (%s), oracle expects success", label.p, trawl_strerror(rc),
                trawl_results_errmsg(res));
    } else {
        or_check(&x->st, &x->c, label.p, res, score, match, tier, offset, limit);
        if (trawl_results_total(res) > 0) x->with_hits++;
        if (trawl_results_count(res) > 0) x->nonempty_pages++;
        for (i = 0; i < trawl_results_count(res); i++) {
            const char *ex = trawl_results_explain(res, i);
            const char *title = trawl_results_title(res, i);
            if (explain && (!ex || !ex[0]))
                or_fail(&x->st, "%s: hit %zu: explain is %s with explain on", label.p, i, ex ? "empty" : "NULL");
            if (!explain && ex) or_fail(&x->st, "%s: hit %zu: explain is set with explain off", label.p, i);
            if (snippets && !title) or_fail(&x->st, "%s: hit %zu: title is NULL with snippets on", label.p, i);
        }
    }
    trawl_results_free(res);
    trawl_options_free(to);
    or_q_free(g);
    or_buf_free(&qtext);
    or_buf_free(&label);
    free(score);
    free(match);
    free(tier);
}

/* Generates n documents: fresh ids, or (replace) ids already used. */
static or_rdoc **gen_docs(ctx *x, size_t n, int with_summary, int replace) {
    or_rdoc **docs = or_xcalloc(n, sizeof *docs);
    for (size_t i = 0; i < n; i++) {
        char id[32];
        size_t k = replace ? or_below(&x->r, x->nids) : x->nids++;
        /* now and then the same id twice in one commit: the later copy wins */
        if (replace && i > 0 && or_chance(&x->r, 0.05))
            snprintf(id, sizeof id, "%s", docs[i - 1]->id);
        else
            snprintf(id, sizeof id, "doc-%05zu", k);
        docs[i] = or_xcalloc(1, sizeof **docs);
        or_gen_doc(docs[i], id, &x->v, &x->r, with_summary);
    }
    return docs;
}

/* Indexes docs as one commit and hands them to the oracle (which takes them). */
static int commit_docs(ctx *x, or_rdoc **docs, size_t n) {
    char idx[4200];
    int rc;
    snprintf(idx, sizeof idx, "%s/idx", x->dir);
    rc = or_index_docs(idx, docs, n, &x->r);
    for (size_t i = 0; i < n; i++) {
        or_add(&x->c, docs[i]);
        free(docs[i]);
    }
    free(docs);
    or_finish(&x->c);
    return rc;
}

/* The oracle's side of a deletion: the live copy of id, if any, is gone. */
static void oracle_delete(ctx *x, const char *id) {
    long k = or_doc_find(&x->c, id);
    if (k >= 0) x->c.docs[k].live = 0;
}

/* Phase 3's commit (see the head comment): deletions by id across segments
 * mixed with adds and replacements. Returns the trawl code. */
static int commit_deletes(ctx *x, char (*gone)[32], size_t *ngone) {
    char idx[4200], *err = NULL;
    trawl_writer *w = NULL;
    snprintf(idx, sizeof idx, "%s/idx", x->dir);
    int rc = trawl_writer_open(idx, NULL, &w, &err);
    if (rc) {
        or_fail(&x->st, "trawl_writer_open: %s", err ? err : trawl_strerror(rc));
        trawl_free(err);
        return rc;
    }
    *ngone = 0;
    for (size_t i = 0; i < DELETED_DOCS && rc == 0; i++) {
        char id[32];
        double u = or_unit(&x->r);
        or_rdoc *d = or_xcalloc(1, sizeof *d);
        if (u < 0.6) { /* a plain deletion of any id (some already replaced or deleted) */
            snprintf(id, sizeof id, "doc-%05zu", (size_t)or_below(&x->r, x->nids));
            rc = trawl_writer_delete(w, id);
            oracle_delete(x, id);
            if (*ngone < DELETED_DOCS) snprintf(gone[(*ngone)++], 32, "%s", id);
            free(d);
            d = NULL;
        } else if (u < 0.75) { /* deleted, then added again: the new copy lives */
            snprintf(id, sizeof id, "doc-%05zu", (size_t)or_below(&x->r, x->nids));
            rc = trawl_writer_delete(w, id);
            oracle_delete(x, id);
            or_gen_doc(d, id, &x->v, &x->r, 1);
            if (rc == 0) rc = or_writer_add(w, d, or_chance(&x->r, 0.3));
            or_add(&x->c, d);
        } else if (u < 0.9) { /* a new document, deleted in the same commit */
            snprintf(id, sizeof id, "doc-%05zu", x->nids++);
            or_gen_doc(d, id, &x->v, &x->r, 0);
            rc = or_writer_add(w, d, or_chance(&x->r, 0.3));
            if (rc == 0) rc = trawl_writer_delete(w, id);
            or_add(&x->c, d);
            oracle_delete(x, id);
            if (*ngone < DELETED_DOCS) snprintf(gone[(*ngone)++], 32, "%s", id);
        } else { /* a replacement */
            snprintf(id, sizeof id, "doc-%05zu", (size_t)or_below(&x->r, x->nids));
            or_gen_doc(d, id, &x->v, &x->r, 0);
            rc = or_writer_add(w, d, or_chance(&x->r, 0.3));
            or_add(&x->c, d);
        }
        free(d);
        if (rc) or_fail(&x->st, "phase 3 writer: %s", trawl_writer_errmsg(w));
    }
    if (rc == 0 && (rc = trawl_writer_commit(w)) != 0) or_fail(&x->st, "commit: %s", trawl_writer_errmsg(w));
    trawl_writer_close(w);
    or_finish(&x->c);
    return rc;
}

static trawl_index *open_index(ctx *x) {
    char idx[4200], *err = NULL;
    trawl_index *ix = NULL;
    int rc;
    snprintf(idx, sizeof idx, "%s/idx", x->dir);
    rc = trawl_index_open(idx, &ix, &err);
    if (rc) {
        or_fail(&x->st, "trawl_index_open: %s", err ? err : trawl_strerror(rc));
        trawl_free(err);
        return NULL;
    }
    if (trawl_index_doc_count(ix) != x->c.nlive)
        or_fail(&x->st, "doc count: engine %llu, oracle %zu", (unsigned long long)trawl_index_doc_count(ix),
                x->c.nlive);
    return ix;
}

int main(void) {
    ctx x;
    const char *tmp = getenv("TMPDIR");
    trawl_index *ix;
    uint64_t seed = or_seed(0xb25b25b25ull);
    long q;
    int rc = 0;

    memset(&x, 0, sizeof x);
    x.r.s = seed;
    snprintf(x.dir, sizeof x.dir, "%s/trawl-bm25-oracle-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(x.dir)) {
        perror("mkdtemp");
        return 1;
    }
    or_vocab_init(&x.v, &x.r, 1400);
    or_corpus_init(&x.c, NULL);

    rc = commit_docs(&x, gen_docs(&x, COMMIT_DOCS_1, 0, 0), COMMIT_DOCS_1);
    if (!rc) rc = commit_docs(&x, gen_docs(&x, COMMIT_DOCS_2, 1, 0), COMMIT_DOCS_2);
    if (!rc) rc = commit_docs(&x, gen_docs(&x, COMMIT_DOCS_3, 0, 0), COMMIT_DOCS_3);
    if (rc) {
        x.st.failures++;
        goto out;
    }
    printf("corpus: %zu documents, %zu distinct terms, %zu text fields, 3 commits\n", x.c.nlive, x.c.nterms,
           x.c.nfields);
    ix = open_index(&x);
    for (q = 0; ix && q < PHASE1_QUERIES; q++) run_query(&x, ix, "phase 1", q);
    trawl_index_close(ix);
    printf("phase 1: %ld queries, %ld with matches, %ld with a non-empty page, %ld failures\n", x.queries, x.with_hits,
           x.nonempty_pages, x.st.failures);
    if (x.with_hits < x.queries / 2)
        or_fail(&x.st, "only %ld of %ld queries matched anything: the test is too weak", x.with_hits, x.queries);

    /* Phase 2: a fourth commit replaces some documents. */
    {
        long before = x.st.failures, queries = x.queries;
        rc = commit_docs(&x, gen_docs(&x, REPLACED_DOCS, 1, 1), REPLACED_DOCS);
        if (rc) {
            x.st.failures++;
            goto out;
        }
        printf("phase 2: %zu live documents after replacing %d\n", x.c.nlive, REPLACED_DOCS);
        ix = open_index(&x);
        for (q = 0; ix && q < PHASE2_QUERIES; q++) run_query(&x, ix, "phase 2", q);
        trawl_index_close(ix);
        printf("phase 2: %ld queries, %ld failures\n", x.queries - queries, x.st.failures - before);
    }

    /* Phase 3: a fifth commit deletes documents of every segment. */
    {
        long before = x.st.failures, queries = x.queries;
        static char gone[DELETED_DOCS][32];
        size_t ngone = 0;
        rc = commit_deletes(&x, gone, &ngone);
        if (rc) {
            x.st.failures++;
            goto out;
        }
        printf("phase 3: %zu live documents after deleting (ids listed %zu times)\n", x.c.nlive, ngone);
        ix = open_index(&x);
        for (size_t i = 0; ix && i < ngone; i++) {
            char *json = NULL;
            int grc = trawl_index_get(ix, gone[i], &json);
            /* A deleted id may have been re-added later in the phase. */
            if ((grc == TRAWL_OK) != (or_doc_find(&x.c, gone[i]) >= 0 && x.c.docs[or_doc_find(&x.c, gone[i])].live))
                or_fail(&x.st, "get '%s' after its deletion: %d", gone[i], grc);
            trawl_free(json);
        }
        for (q = 0; ix && q < PHASE3_QUERIES; q++) run_query(&x, ix, "phase 3", q);
        trawl_index_close(ix);
        printf("phase 3: %ld queries, %ld failures\n", x.queries - queries, x.st.failures - before);
    }

out:
    or_corpus_free(&x.c);
    or_vocab_free(&x.v);
    or_rmtree(x.dir);
    if (x.st.failures) {
        fprintf(stderr, "test_bm25_oracle: %ld failures in %ld checks (seed %llu; rerun with TRAWL_ORACLE_SEED)\n",
                x.st.failures, x.st.checks, (unsigned long long)seed);
        return 1;
    }
    printf("test_bm25_oracle: %ld queries checked, all passed (seed %llu)\n", x.queries, (unsigned long long)seed);
    return 0;
}
