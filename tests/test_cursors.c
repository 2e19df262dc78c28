/*
 * test_cursors.c — the cursor contract (query/cursor.h) on a real index.
 *
 *  1. Bounds: for every query shape (terms, conjunctions, disjunctions,
 *     exclusions, phrases, fields, prefixes), the cursor tree of every
 *     segment is walked to its end, and at every document its score must not
 *     exceed its max_score (the bound the pruning executors rely on); the
 *     status after the walk is 0.
 *  2. Errors through the contract: the positions section of the segment is
 *     overwritten with bytes that do not decode (and the file re-sealed so
 *     the checksums pass). A phrase cursor then stops with status
 *     TRAWL_ECORRUPT, and a phrase search reports TRAWL_ECORRUPT through the
 *     public API — with the cursor executor (exhaustive) and with the bitmap
 *     phrase executor — while term queries, which read no positions, still
 *     succeed.
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ast.h"
#include "cursor.h"
#include "engine.h"
#include "plan.h"
#include "query.h"
#include "segtest.h"
#include "testutil.h"

static int failures;

static const char *const vocab[] = {"alpha", "beta",  "gamma", "delta", "epsilon", "zeta",
                                    "eta",   "theta", "iota",  "kappa", "lambda",  "omega"};
#define NV (sizeof vocab / sizeof vocab[0])

/* Skewed words: low indexes are common, so lists span several blocks. */
static const char *word(rng *r) {
    size_t a = below(r, NV), b = below(r, NV);
    return vocab[a < b ? a : b];
}

static void fill(rng *r, char *out, size_t cap, size_t n) {
    size_t len = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && len + 16 < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? " " : "", word(r));
}

/* An index of ndocs random documents in dir. */
static void build(const char *dir, int ndocs) {
    trawl_writer *w = NULL;
    char *err = NULL;
    int rc = trawl_writer_open(dir, "english", &w, &err);
    if (rc) {
        fprintf(stderr, "writer: %s\n", err ? err : trawl_strerror(rc));
        exit(1);
    }
    rng r = {42};
    char title[256], body[2048], json[2600];
    for (int i = 0; i < ndocs; i++) {
        fill(&r, title, sizeof title, 2 + below(&r, 6));
        fill(&r, body, sizeof body, 5 + below(&r, 60));
        int n = snprintf(json, sizeof json, "{\"id\":\"d%d\",\"title\":\"%s\",\"body\":\"%s\"}", i, title, body);
        if ((rc = trawl_writer_add_json(w, json, (size_t)n)) != 0) break;
    }
    if (rc == 0) rc = trawl_writer_commit(w);
    if (rc) {
        fprintf(stderr, "writer: %s\n", trawl_writer_errmsg(w));
        exit(1);
    }
    trawl_writer_close(w);
    trawl_free(err);
}

/* Walks the cursor tree of query q on every segment: score <= max_score at
 * every document, status 0 at the end. Returns the number of matches, or -1
 * when a walk ended with a failure status (stored in *status). */
static long walk(const trawl_index *idx, const char *q, int *status) {
    const tw_view *v = &idx->view;
    tw_qctx *qc = tw_index_qctx_acquire(idx);
    tw_params prm;
    tw_params_default(&prm);
    tw_query *pq = NULL;
    tw_parse_error perr;
    tw_plan *plan = NULL;
    char err[512] = "";
    long erroff, n = 0;
    *status = 0;
    CHECK(qc != NULL, "query context");
    int rc = qc ? tw_query_parse(q, strlen(q), 0, &pq, &perr) : TRAWL_ENOMEM;
    CHECK(rc == 0, "parse '%s': %d", q, rc);
    if (rc == 0) rc = tw_plan_build(v, &prm, qc->an, tw_query_root(pq), &plan, err, sizeof err, &erroff);
    CHECK(rc == 0, "plan '%s': %s", q, err);
    for (uint32_t s = 0; rc == 0 && plan->root && s < v->nsegs; s++) {
        tw_cursor *cur = tw_plan_cursor(v, s, plan->root, &rc, err, sizeof err);
        CHECK(cur != NULL, "cursor of '%s': %s", q, err);
        if (!cur) break;
        double ub = tw_max_score(cur), top = 0;
        CHECK(isfinite(ub) && ub >= 0, "'%s': max_score %g", q, ub);
        for (uint32_t d = cur->doc; d != TW_DOC_END; d = tw_next(cur)) {
            double sc = tw_score(cur);
            CHECK(sc <= ub, "'%s' segment %u doc %u: score %.17g above max_score %.17g", q, s, d, sc, ub);
            if (sc > top) top = sc;
            n++;
        }
        /* Matches score above 0: the bound check is not vacuous. */
        CHECK(n == 0 || top > 0, "'%s': no positive score", q);
        if ((*status = tw_cursor_status(cur)) != 0) n = -1;
        tw_cursor_free(cur);
        if (n < 0) break;
    }
    tw_plan_free(plan);
    tw_query_free(pq);
    tw_index_qctx_release(idx, qc);
    return n;
}

/* Overwrites the positions section of the segment file at path with bytes
 * that are no valid position stream, and re-seals it. */
static void break_positions(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    size_t len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = xmalloc(len);
    if (fread(p, 1, len, f) != len) exit(1);
    fclose(f);
    uint64_t table_off = tw_ld64(p + len - TW_FOOTER_SIZE);
    const uint8_t *e = p + table_off + (size_t)(TW_SEC_POSITIONS - 1) * TW_SECTION_ENTRY;
    CHECK(tw_ld32(e) == TW_SEC_POSITIONS, "section table entry %u", tw_ld32(e));
    uint64_t off = tw_ld64(e + 8), sl = tw_ld64(e + 16);
    CHECK(sl > 0 && off + sl <= len, "positions section at %llu, %llu bytes", (unsigned long long)off,
          (unsigned long long)sl);
    memset(p + off, 0xFF, (size_t)sl);
    reseal(p, len);
    f = fopen(path, "wb");
    if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0) exit(1);
    free(p);
}

static int search(const trawl_index *idx, const char *q, int exhaustive, uint64_t *total) {
    trawl_options *o = trawl_options_new();
    trawl_options_set_exhaustive(o, exhaustive);
    trawl_options_set_snippets(o, 0);
    trawl_results *r = NULL;
    int rc = trawl_search(idx, q, o, &r);
    *total = trawl_results_total(r);
    trawl_results_free(r);
    trawl_options_free(o);
    return rc;
}

int main(void) {
    char dir[] = "/tmp/trawl-cursors.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    build(dir, 1500);
    trawl_index *idx = NULL;
    char *msg = NULL;
    int rc = trawl_index_open(dir, &idx, &msg);
    if (rc) {
        fprintf(stderr, "open: %s\n", msg ? msg : trawl_strerror(rc));
        return 1;
    }
    static const char *const queries[] = {"alpha",
                                          "omega",
                                          "alpha beta",
                                          "alpha beta gamma delta",
                                          "alpha OR beta OR kappa",
                                          "alpha -beta",
                                          "(alpha OR lambda) gamma",
                                          "\"alpha beta\"",
                                          "\"beta alpha gamma\"",
                                          "title:alpha",
                                          "title:\"alpha beta\" OR body:omega",
                                          "al* beta",
                                          "e*",
                                          "alpha (beta OR \"gamma delta\") -omega"};
    int status;
    long phrase_matches = 0;
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        long n = walk(idx, queries[i], &status);
        CHECK(n >= 0 && status == 0, "'%s': status %d", queries[i], status);
        CHECK(n > 0, "'%s' matches nothing: a weak test", queries[i]);
        if (i == 7) phrase_matches = n;
    }
    uint64_t total_before = 0;
    CHECK(search(idx, "\"alpha beta\"", 0, &total_before) == 0, "phrase search before the damage");
    CHECK((long)total_before == phrase_matches, "phrase total %llu, cursor walk %ld", (unsigned long long)total_before,
          phrase_matches);
    trawl_index_close(idx);
    rm_rf(dir);

    /* A smaller index for the damage: lists of at most one 128-doc block,
     * whose position streams have no block table (which the planner checks
     * when it opens a list): all of the section is position varints. */
    strcpy(dir, "/tmp/trawl-cursors.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    build(dir, 100);

    /* The damage: every segment's positions. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls %s/*.tws", dir);
    FILE *ls = popen(cmd, "r");
    char path[512];
    int nseg = 0;
    while (ls && fgets(path, sizeof path, ls)) {
        path[strcspn(path, "\n")] = 0;
        break_positions(path);
        nseg++;
    }
    if (ls) pclose(ls);
    CHECK(nseg > 0, "no segment file in %s", dir);

    rc = trawl_index_open(dir, &idx, &msg);
    CHECK(rc == 0, "open after the damage: %s", msg ? msg : "");
    if (rc == 0) {
        long n = walk(idx, "\"alpha beta\"", &status);
        CHECK(n == -1 && status == TRAWL_ECORRUPT, "phrase cursor on broken positions: %ld matches, status %d", n,
              status);
        uint64_t total;
        for (int ex = 0; ex <= 1; ex++) {
            rc = search(idx, "\"alpha beta\"", ex, &total);
            CHECK(rc == TRAWL_ECORRUPT, "phrase search (exhaustive %d) on broken positions: rc %d", ex, rc);
        }
        rc = search(idx, "alpha beta", 0, &total);
        CHECK(rc == 0 && total > 0, "term search without positions: rc %d, total %llu", rc, (unsigned long long)total);
        n = walk(idx, "alpha OR beta", &status);
        CHECK(n > 0 && status == 0, "term cursors without positions: %ld, status %d", n, status);
        trawl_index_close(idx);
    }
    trawl_free(msg);
    rm_rf(dir);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("ok: cursor bounds and statuses\n");
    return 0;
}
