/*
 * test_reopen.c — trawl_index_reopen: snapshots and sharing.
 *
 * An index of several commits (oracle.h's generated documents) is opened as
 * R1 and 300 queries answered. Then:
 *  - reopening R1 with nothing committed gives NULL;
 *  - a commit adds, replaces and deletes documents; R2 = reopen(R1) answers
 *    exactly like a fresh trawl_index_open (the oracle), shares every
 *    unchanged segment with R1 (same mapping) and opens only the new one;
 *  - R1 still answers exactly as before the commit (a reader opened at
 *    generation G sees G), also after a merge and after R2 is closed;
 *  - after a merge, reopen(R2) equals a fresh open again; R1 closed first,
 *    the segments it shared stay usable by the others (reference counts;
 *    ASan would see a use after free).
 * Also prints the time of a full open and of a reopen after one small commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "oracle.h"

#define NQ 300
static long failures;
#define FAILF(...) (failures++, fprintf(stderr, "FAIL: " __VA_ARGS__), fputc('\n', stderr))

static char *queries[NQ];

/* One answer: total and the first ids, as one string. */
static char *answer(const trawl_index *idx, const char *q) {
    trawl_options *o = trawl_options_new();
    trawl_options_set_limit(o, 10);
    trawl_options_set_snippets(o, 0);
    trawl_results *r = NULL;
    or_buf b = {0};
    char head[64];
    if (trawl_search(idx, q, o, &r) == TRAWL_OK) {
        snprintf(head, sizeof head, "%llu:", (unsigned long long)trawl_results_total(r));
        or_buf_put(&b, head, strlen(head));
        for (size_t i = 0; i < trawl_results_count(r); i++) {
            char sc[48];
            snprintf(sc, sizeof sc, " %.9g ", trawl_results_score(r, i));
            or_buf_put(&b, trawl_results_id(r, i), strlen(trawl_results_id(r, i)));
            or_buf_put(&b, sc, strlen(sc));
        }
    } else
        or_buf_put(&b, "error", 5);
    trawl_results_free(r);
    trawl_options_free(o);
    return b.p;
}

static void answers(const trawl_index *idx, char **out) {
    for (int q = 0; q < NQ; q++) out[q] = answer(idx, queries[q]);
}

static void free_answers(char **a) {
    for (int q = 0; q < NQ; q++) free(a[q]), a[q] = NULL;
}

static long differ(char **a, char **b) {
    long n = 0;
    for (int q = 0; q < NQ; q++) n += strcmp(a[q], b[q]) != 0;
    return n;
}

static int commit_docs(const char *dir, or_rng *r, const or_vocab *v, size_t first, size_t n, size_t replace,
                       const char *del) {
    trawl_writer *w;
    if (trawl_writer_open(dir, NULL, &w, NULL) != TRAWL_OK) return -1;
    trawl_writer_set_auto_merge(w, 0);
    int rc = 0;
    for (size_t i = 0; i < n + replace && rc == 0; i++) {
        char id[32];
        snprintf(id, sizeof id, "doc-%06zu", i < n ? first + i : or_below(r, first));
        or_rdoc d;
        memset(&d, 0, sizeof d);
        or_gen_doc(&d, id, v, r, 0);
        rc = or_writer_add(w, &d, 0);
        or_rdoc_free(&d);
    }
    if (rc == 0 && del) rc = trawl_writer_delete(w, del);
    if (rc == 0) rc = trawl_writer_commit(w);
    trawl_writer_close(w);
    return rc;
}

static trawl_index *fresh(const char *dir) {
    trawl_index *ix = NULL;
    if (trawl_index_open(dir, &ix, NULL) != TRAWL_OK) FAILF("open %s", dir);
    return ix;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void) {
    or_rng r = {or_seed(0x7e0be7ull)};
    or_vocab v;
    char dir[4096], idx[4200];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/trawl-reopen-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return 1;
    snprintf(idx, sizeof idx, "%s/idx", dir);
    or_vocab_init(&v, &r, 1000);
    for (int q = 0; q < NQ; q++) {
        char b[256];
        snprintf(b, sizeof b, "%s%s%s", v.words[or_below(&r, v.n / 3)], q % 3 ? " OR " : " ",
                 v.words[or_below(&r, v.n)]);
        queries[q] = or_xstrdup(b);
    }
    char *a1[NQ] = {0}, *a2[NQ] = {0}, *a3[NQ] = {0};
    size_t ndocs = 0;
    for (int c = 0; c < 4; c++, ndocs += 3000)
        if (commit_docs(idx, &r, &v, ndocs, 3000, c ? 200 : 0, NULL)) FAILF("commit %d", c);
    trawl_index *r1 = fresh(idx), *r2 = NULL, *r3;
    if (!r1) goto out;
    answers(r1, a1);
    if (trawl_index_reopen(r1, &r2) != TRAWL_OK || r2) FAILF("reopen with nothing committed gave an index");

    /* A small commit: adds, replaces, deletes. */
    if (commit_docs(idx, &r, &v, ndocs, 100, 50, "doc-000007")) FAILF("small commit");
    ndocs += 100;
    double t0 = now();
    if (trawl_index_reopen(r1, &r2) != TRAWL_OK || !r2) FAILF("reopen after a commit gave no index");
    double t_reopen = now() - t0;
    t0 = now();
    r3 = fresh(idx);
    double t_open = now() - t0;
    if (!r2 || !r3) goto out;
    printf("open %.3f ms, reopen after a commit of 150 documents %.3f ms (%u segments, %llu documents)\n", t_open * 1e3,
           t_reopen * 1e3, r3->view.nsegs, (unsigned long long)trawl_index_doc_count(r3));
    uint32_t shared = 0;
    for (uint32_t i = 0; i < r2->view.nsegs; i++)
        for (uint32_t k = 0; k < r1->view.nsegs; k++) shared += r2->view.segs[i].seg == r1->view.segs[k].seg;
    if (shared != r1->view.nsegs || r2->view.nsegs != r1->view.nsegs + 1)
        FAILF("reopen shares %u of %u segments (new index has %u)", shared, r1->view.nsegs, r2->view.nsegs);
    if (trawl_index_doc_count(r2) != trawl_index_doc_count(r3)) FAILF("reopened and fresh doc counts differ");
    answers(r2, a2);
    answers(r3, a3);
    if (differ(a2, a3)) FAILF("reopened index: %ld of %d answers differ from a fresh open", differ(a2, a3), NQ);
    if (differ(a2, a1) == 0) FAILF("the commit changed no answer: the test is too weak");
    free_answers(a3);
    answers(r1, a3);
    if (differ(a1, a3)) FAILF("R1 changed after the commit: %ld answers", differ(a1, a3));
    free_answers(a3);
    trawl_index_close(r3);

    /* A merge: R1 keeps its snapshot; reopen(R2) follows; R1 closed first. */
    {
        trawl_writer *w;
        if (trawl_writer_open(idx, NULL, &w, NULL) != TRAWL_OK || trawl_writer_merge(w, 2) != TRAWL_OK) FAILF("merge");
        trawl_writer_close(w);
    }
    trawl_index *r4 = NULL;
    if (trawl_index_reopen(r2, &r4) != TRAWL_OK || !r4) FAILF("reopen after the merge");
    answers(r1, a3);
    if (differ(a1, a3)) FAILF("R1 changed after the merge: %ld answers", differ(a1, a3));
    free_answers(a3);
    trawl_index_close(r1);
    r1 = NULL;
    answers(r2, a3);
    if (differ(a2, a3)) FAILF("R2 changed after R1 closed: %ld answers", differ(a2, a3));
    free_answers(a3);
    trawl_index_close(r2);
    r2 = NULL;
    if (r4) {
        answers(r4, a3);
        if (differ(a2, a3)) FAILF("after the merge: %ld answers differ", differ(a2, a3));
        free_answers(a3);
        trawl_index_close(r4);
    }
    free_answers(a2);
out:
    free_answers(a1);
    free_answers(a2);
    free_answers(a3);
    trawl_index_close(r1);
    trawl_index_close(r2);
    for (int q = 0; q < NQ; q++) free(queries[q]);
    or_vocab_free(&v);
    or_rmtree(dir);
    if (failures) {
        fprintf(stderr, "test_reopen: %ld failures\n", failures);
        return 1;
    }
    printf("test_reopen: ok\n");
    return 0;
}
