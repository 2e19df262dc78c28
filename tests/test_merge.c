/*
 * test_merge.c — merging changes no result, keeps files readers map, and
 * leaves readers of other processes working.
 *
 * A seeded synthetic corpus (oracle.h) is indexed in many small commits with
 * replacements and deletions (automatic merging off), so the index has many
 * segments with deletion bitmaps. 2500 random queries (words, AND/OR, prefixes,
 * phrases) are answered before any merge: the oracle is this index itself.
 *  1. A tiered merge to at most 3 segments while a reader R stays open: the old
 *     segment files still exist (R maps them), R answers as before, a new
 *     reader answers the same (same totals, same ids in the same order, scores
 *     within 1e-9 relative), no deleted document is left, `check` passes.
 *     Once R is closed, the writer's next collection removes the old files.
 *  2. A child process opens the index and answers the queries; the parent
 *     merges to one segment (the files are unlinked: the child is another
 *     process); the child answers them again from its unlinked files and must
 *     agree with itself and with the oracle.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oracle.h"

#define COMMITS 24
#define DOCS_PER_COMMIT 120
#define NQUERIES 2500
#define LIMIT 20

static long failures;
#define FAILF(...)                                                                                                     \
    do {                                                                                                               \
        failures++;                                                                                                    \
        if (failures < 30) {                                                                                           \
            fprintf(stderr, "FAIL: ");                                                                                 \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fputc('\n', stderr);                                                                                       \
        }                                                                                                              \
    } while (0)

typedef struct answer {
    uint64_t total;
    size_t n;
    char *ids[LIMIT];
    double scores[LIMIT];
} answer;

static char *queries[NQUERIES];

static void make_queries(or_rng *r, const or_vocab *v) {
    for (size_t q = 0; q < NQUERIES; q++) {
        or_buf b = {0};
        size_t nw = 1 + or_below(r, 3);
        double u = or_unit(r);
        for (size_t i = 0; i < nw; i++) {
            /* frequent words more often, as a real query log would have */
            size_t k = (size_t)((double)v->n * or_unit(r) * or_unit(r));
            const char *w = v->words[k < v->n ? k : v->n - 1];
            if (i) or_buf_put(&b, u < 0.3 ? " OR " : " ", u < 0.3 ? 4 : 1);
            if (u > 0.9 && i == 0 && strlen(w) > 2) {
                or_buf_put(&b, w, 2);
                or_buf_put(&b, "*", 1);
            } else if (u > 0.8 && u <= 0.9 && nw > 1 && i == 0) {
                or_buf_put(&b, "\"", 1);
                or_buf_put(&b, w, strlen(w));
                or_buf_put(&b, " ", 1);
                const char *w2 = v->words[or_below(r, v->n / 4 + 1)];
                or_buf_put(&b, w2, strlen(w2));
                or_buf_put(&b, "\"", 1);
            } else
                or_buf_put(&b, w, strlen(w));
        }
        queries[q] = b.p;
    }
}

/* Answers every query on idx into a[]. Returns 0 or -1 (reported). */
static int answer_all(const trawl_index *idx, answer *a) {
    trawl_options *o = trawl_options_new();
    trawl_options_set_limit(o, LIMIT);
    trawl_options_set_snippets(o, 0);
    int bad = 0;
    for (size_t q = 0; q < NQUERIES; q++) {
        trawl_results *res = NULL;
        int rc = trawl_search(idx, queries[q], o, &res);
        memset(&a[q], 0, sizeof a[q]);
        if (rc) {
            if (rc != TRAWL_ELIMIT) {
                FAILF("query '%s': %s", queries[q], res ? trawl_results_errmsg(res) : trawl_strerror(rc));
                bad = 1;
            }
            a[q].total = (uint64_t)-1;
        } else {
            a[q].total = trawl_results_total(res);
            a[q].n = trawl_results_count(res);
            for (size_t i = 0; i < a[q].n; i++) {
                a[q].ids[i] = or_xstrdup(trawl_results_id(res, i));
                a[q].scores[i] = trawl_results_score(res, i);
            }
        }
        trawl_results_free(res);
    }
    trawl_options_free(o);
    return bad ? -1 : 0;
}

static void free_answers(answer *a) {
    for (size_t q = 0; q < NQUERIES; q++)
        for (size_t i = 0; i < a[q].n; i++) free(a[q].ids[i]);
}

static int close_scores(double x, double y) {
    double m = x > y ? x : y;
    return x == y || (x - y < 1e-9 * m && y - x < 1e-9 * m);
}

/* Compares two answer sets: same totals, same ids in order (a swap only
 * between hits of equal scores), scores within 1e-9 relative. Returns the
 * number of queries that differ; *exact counts those identical in order. */
static long compare(const char *what, const answer *want, const answer *got, long *exact) {
    long bad = 0;
    *exact = 0;
    for (size_t q = 0; q < NQUERIES; q++) {
        const answer *w = &want[q], *g = &got[q];
        int ok = w->total == g->total && w->n == g->n, same = ok;
        for (size_t i = 0; ok && i < w->n; i++) {
            if (!close_scores(w->scores[i], g->scores[i])) ok = 0;
            if (strcmp(w->ids[i], g->ids[i]) != 0) {
                same = 0;
                int found = 0;
                for (size_t j = 0; j < g->n; j++)
                    if (strcmp(w->ids[i], g->ids[j]) == 0 && close_scores(w->scores[i], g->scores[j])) found = 1;
                if (!found) ok = 0;
            }
        }
        if (!ok) {
            bad++;
            FAILF("%s: query '%s': total %llu vs %llu, %zu vs %zu hits, first ids %s vs %s", what, queries[q],
                  (unsigned long long)w->total, (unsigned long long)g->total, w->n, g->n, w->n ? w->ids[0] : "-",
                  g->n ? g->ids[0] : "-");
        }
        *exact += same;
    }
    return bad;
}

static size_t count_files(const char *dir, const char *suffix) {
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name), sl = strlen(suffix);
        n += l > sl && strcmp(e->d_name + l - sl, suffix) == 0;
    }
    if (d) closedir(d);
    return n;
}

static int file_exists(const char *dir, const char *name) {
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static uint64_t json_count(const trawl_index *idx, const char *key) {
    char *js = NULL;
    uint64_t v = 0;
    if (trawl_index_stats(idx, &js) == 0) {
        json_t *j = json_loads(js, 0, NULL);
        v = (uint64_t)json_integer_value(json_object_get(j, key));
        json_decref(j);
    }
    trawl_free(js);
    return v;
}

/* Builds the index: COMMITS commits of new documents, replacements of
 * older ones and deletions, no automatic merging. */
static int build(const char *dir, or_rng *r, const or_vocab *v) {
    size_t nids = 0;
    for (int c = 0; c < COMMITS; c++) {
        trawl_writer *w;
        char *err = NULL;
        int rc = trawl_writer_open(dir, NULL, &w, &err);
        if (rc) {
            FAILF("open writer: %s", err);
            trawl_free(err);
            return rc;
        }
        trawl_writer_set_auto_merge(w, 0);
        for (int i = 0; i < DOCS_PER_COMMIT && rc == 0; i++) {
            char id[32];
            size_t k = c > 0 && or_chance(r, 0.2) ? or_below(r, nids) : nids++;
            snprintf(id, sizeof id, "doc-%05zu", k);
            or_rdoc d;
            memset(&d, 0, sizeof d);
            or_gen_doc(&d, id, v, r, or_chance(r, 0.2));
            rc = or_writer_add(w, &d, or_chance(r, 0.3));
            or_rdoc_free(&d);
            if (rc == 0 && c > 0 && or_chance(r, 0.08)) {
                snprintf(id, sizeof id, "doc-%05zu", or_below(r, nids));
                rc = trawl_writer_delete(w, id);
            }
        }
        if (rc == 0) rc = trawl_writer_commit(w);
        if (rc) FAILF("commit %d: %s", c, trawl_writer_errmsg(w));
        trawl_writer_close(w);
        if (rc) return rc;
    }
    return 0;
}

static trawl_index *open_index(const char *dir) {
    trawl_index *idx = NULL;
    char *err = NULL;
    if (trawl_index_open(dir, &idx, &err) != 0) FAILF("open %s: %s", dir, err);
    trawl_free(err);
    return idx;
}

/* Opens a writer, merges to at most max_segments, closes. */
static int merge(const char *dir, size_t max_segments) {
    trawl_writer *w;
    char *err = NULL;
    int rc = trawl_writer_open(dir, NULL, &w, &err);
    if (rc) {
        FAILF("open writer: %s", err);
        trawl_free(err);
        return rc;
    }
    rc = trawl_writer_merge(w, max_segments);
    if (rc) FAILF("merge: %s", trawl_writer_errmsg(w));
    trawl_writer_close(w);
    return rc;
}

/* Phase 2's child: answers, says so on `ready`, waits for `go`, answers
 * again from the same open index and compares with itself and the oracle. */
static int child(const char *dir, const answer *oracle, int ready, int go) {
    trawl_index *idx = open_index(dir);
    if (!idx) return 1;
    answer *a = or_xcalloc(NQUERIES, sizeof *a), *b = or_xcalloc(NQUERIES, sizeof *b);
    answer_all(idx, a);
    char c = 'r';
    if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1) return 1;
    answer_all(idx, b);
    long exact;
    long bad = compare("child, after the parent's merge", a, b, &exact) + compare("child vs oracle", oracle, b, &exact);
    free_answers(a);
    free_answers(b);
    free(a);
    free(b);
    trawl_index_close(idx);
    return bad || failures ? 1 : 0;
}

int main(void) {
    or_rng r = {or_seed(0x3e3e3e3eull)};
    or_vocab v;
    char dir[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/trawl-merge-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char idxdir[4200];
    snprintf(idxdir, sizeof idxdir, "%s/idx", dir);
    or_vocab_init(&v, &r, 1200);
    make_queries(&r, &v);
    answer *oracle = or_xcalloc(NQUERIES, sizeof *oracle), *got = or_xcalloc(NQUERIES, sizeof *got);
    if (build(idxdir, &r, &v) != 0) goto out;

    trawl_index *before = open_index(idxdir);
    if (!before) goto out;
    uint64_t live = trawl_index_doc_count(before), deleted = json_count(before, "deleted");
    size_t segs_before = (size_t)json_count(before, "segments");
    answer_all(before, oracle);
    long with_hits = 0;
    for (size_t q = 0; q < NQUERIES; q++) with_hits += oracle[q].n > 0;
    printf("index: %llu live documents, %llu deleted, %zu segments; %ld of %d queries with hits\n",
           (unsigned long long)live, (unsigned long long)deleted, segs_before, with_hits, NQUERIES);
    if (segs_before < 10 || deleted == 0 || with_hits < NQUERIES / 2)
        FAILF("the index or the queries are too weak for the test (segments %zu, deleted %llu)", segs_before,
              (unsigned long long)deleted);

    /* 1. Tiered merge to at most 3 segments while `before` stays open. */
    char first_seg[256] = "";
    {
        DIR *d = opendir(idxdir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL)
            if (strstr(e->d_name, ".tws") && (!first_seg[0] || strcmp(e->d_name, first_seg) < 0))
                snprintf(first_seg, sizeof first_seg, "%s", e->d_name);
        if (d) closedir(d);
    }
    if (merge(idxdir, 3) != 0) goto out;
    if (!file_exists(idxdir, first_seg)) FAILF("%s was removed while a reader of this process maps it", first_seg);
    long exact;
    answer_all(before, got);
    compare("open reader after the merge", oracle, got, &exact);
    free_answers(got);
    trawl_index *after = open_index(idxdir);
    if (!after) goto out;
    size_t segs_after = (size_t)json_count(after, "segments");
    if (segs_after > 3 || json_count(after, "deleted") != 0 || trawl_index_doc_count(after) != live)
        FAILF("after merge: %zu segments, %llu deleted, %llu live (expected <= 3, 0, %llu)", segs_after,
              (unsigned long long)json_count(after, "deleted"), (unsigned long long)trawl_index_doc_count(after),
              (unsigned long long)live);
    answer_all(after, got);
    long bad = compare("new reader after the merge", oracle, got, &exact);
    printf("merge to <= 3 segments: %zu -> %zu segments; %d queries, %ld differ, %ld identical in order\n", segs_before,
           segs_after, NQUERIES, bad, exact);
    free_answers(got);
    trawl_index_close(after);
    trawl_index_close(before);
    char *report = NULL;
    if (trawl_index_check(idxdir, &report) != 0) FAILF("check after merge: %s", report);
    trawl_free(report);
    /* The reader is gone: the next writer's collection removes the files. */
    {
        trawl_writer *w;
        if (trawl_writer_open(idxdir, NULL, &w, NULL) == 0) trawl_writer_close(w);
        if (file_exists(idxdir, first_seg)) FAILF("%s left after its last reader closed", first_seg);
        if (count_files(idxdir, ".tws") != segs_after)
            FAILF("%zu segment files for %zu segments", count_files(idxdir, ".tws"), segs_after);
    }

    /* 2. A reader in another process keeps working on unlinked files. */
    {
        int ready[2], go[2];
        if (pipe(ready) || pipe(go)) {
            perror("pipe");
            goto out;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) _exit(child(idxdir, oracle, ready[1], go[0]));
        char c;
        if (read(ready[0], &c, 1) != 1) FAILF("child did not get ready");
        merge(idxdir, 1);
        size_t nseg = count_files(idxdir, ".tws");
        if (nseg != 1) FAILF("after merge to one: %zu segment files (the other process's must not keep them)", nseg);
        if (write(go[1], "g", 1) != 1) FAILF("cannot signal the child");
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) FAILF("the reader in another process failed");
        trawl_index *one = open_index(idxdir);
        if (one) {
            answer_all(one, got);
            bad = compare("one segment", oracle, got, &exact);
            printf("merge to 1 segment with a reader in another process: %ld differ, %ld identical in order\n", bad,
                   exact);
            free_answers(got);
            trawl_index_close(one);
        }
    }
out:
    free_answers(oracle);
    free(oracle);
    free(got);
    for (size_t q = 0; q < NQUERIES; q++) free(queries[q]);
    or_vocab_free(&v);
    or_rmtree(dir);
    if (failures) {
        fprintf(stderr, "test_merge: %ld failures\n", failures);
        return 1;
    }
    printf("test_merge: ok\n");
    return 0;
}
