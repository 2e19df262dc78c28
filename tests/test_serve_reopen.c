/*
 * test_serve_reopen.c — `trawl serve`'s snapshots across reopens
 * (tools/serve_indexes.c over trawl_index_reopen).
 *
 * 1. A search holding the served snapshot keeps its commit while another
 *    writer deletes, adds, merges the index down to one segment (its files
 *    unlinked) and the server reopens: the held snapshot still counts and
 *    reads what its commit had, new searches see the new commit, and the old
 *    commit is closed when the holder lets go.
 * 2. Searches running in two threads while the main thread commits and
 *    reopens 25 times: every answer is 200 and its total is the count of
 *    some commit, never going back in time within a thread.
 * The oracle is the number of documents each commit holds, counted by the
 * test as it writes them. Leaks of snapshots are checked through the index's
 * count of open snapshots (and by LeakSanitizer in the sanitizer build).
 */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"
#include "testutil.h"

static int failures;

#define ROUNDS 25
#define PER_ROUND 10

static srv_server server;
static atomic_int stop_searching;
static atomic_int searches_done;
static atomic_int bad_answers;

static void add_docs(trawl_writer *w, int from, int n, const char *words) {
    for (int i = from; i < from + n; i++) {
        char doc[256];
        int len =
            snprintf(doc, sizeof doc, "{\"id\":\"d%d\",\"title\":\"t%d\",\"body\":\"%s w%d common\"}", i, i, words, i);
        CHECK(trawl_writer_add_json(w, doc, (size_t)len) == TRAWL_OK, "add d%d", i);
    }
}

/* Runs GET /indexes/r/search?q=QUERY&limit=10 through the request handler;
 * returns the status and sets *total (-1 when there is none). */
static int search(const char *query, long *total, int *snippets_ok) {
    srv_request rq;
    memset(&rq, 0, sizeof rq);
    rq.method = "GET";
    rq.path = "/indexes/r/search";
    rq.args[0].key = "q";
    rq.args[0].value = query;
    rq.args[1].key = "limit";
    rq.args[1].value = "10";
    rq.nargs = 2;
    srv_response rs;
    srv_dispatch(&server, &rq, &rs);
    int status = rs.status;
    *total = -1;
    *snippets_ok = 1;
    if (status == 200 && rs.json) {
        *total = (long)json_integer_value(json_object_get(rs.json, "total"));
        size_t i;
        json_t *h;
        json_array_foreach(json_object_get(rs.json, "hits"), i, h) {
            const char *sn = json_string_value(json_object_get(h, "snippet"));
            if (!sn || !strstr(sn, "<mark>")) *snippets_ok = 0;
        }
    }
    srv_response_clear(&rs);
    return status;
}

static void *searcher(void *arg) {
    (void)arg;
    long last = 0;
    while (!atomic_load(&stop_searching)) {
        long total;
        int snip;
        int st = search("common", &total, &snip);
        /* Every commit of phase 2 holds 150 + k * PER_ROUND matches. */
        if (st != 200 || total < last || total < 150 || (total - 150) % PER_ROUND != 0 || !snip) {
            fprintf(stderr, "searcher: status %d, total %ld after %ld, snippets %s\n", st, total, last,
                    snip ? "ok" : "missing");
            atomic_fetch_add(&bad_answers, 1);
        }
        if (total > last) last = total;
        atomic_fetch_add(&searches_done, 1);
    }
    return NULL;
}

/* Live documents matching query in the commit idx holds (exact total). */
static long count_in(const trawl_index *idx, const char *query) {
    trawl_options *o = trawl_options_new();
    trawl_options_set_limit(o, 10);
    trawl_results *r = NULL;
    long n = -1;
    if (trawl_search(idx, query, o, &r) == TRAWL_OK) {
        n = (long)trawl_results_total(r);
        for (size_t i = 0; i < trawl_results_count(r); i++) {
            const char *s = trawl_results_snippet(r, i, TRAWL_SNIPPET_PLAIN);
            CHECK(s && strstr(s, "common"), "held snapshot: hit %zu has no stored text", i);
        }
    }
    trawl_results_free(r);
    trawl_options_free(o);
    return n;
}

int main(void) {
    char dir[] = "/tmp/trawl-serve-reopen-XXXXXX";
    if (!mkdtemp(dir)) return 2;
    trawl_writer *w = NULL;
    char *msg = NULL;
    if (trawl_writer_open(dir, NULL, &w, &msg) != TRAWL_OK) {
        fprintf(stderr, "writer: %s\n", msg ? msg : "?");
        return 2;
    }
    add_docs(w, 0, 200, "alpha");
    CHECK(trawl_writer_commit(w) == TRAWL_OK, "first commit");

    srv_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_body = 1 << 20;
    cfg.max_query = 256;
    cfg.max_queue = 1 << 20;
    cfg.quiet = 1;
    if (srv_server_init(&server, &cfg) != 0) return 2;
    atomic_store(&server.state, SRV_READY);
    if (srv_index_add(&server, "r", dir, &msg) != TRAWL_OK) {
        fprintf(stderr, "serve: %s\n", msg ? msg : "?");
        return 2;
    }
    srv_index *ix = srv_index_get(&server, "r");
    CHECK(atomic_load(&ix->snaps_live) == 1, "%u snapshots open at start", atomic_load(&ix->snaps_live));

    /* --- 1. a held snapshot across delete + add + merge + reopen --- */
    srv_snap *held = srv_snap_get(ix);
    for (int i = 0; i < 50; i++) {
        char id[16];
        snprintf(id, sizeof id, "d%d", i);
        CHECK(trawl_writer_delete(w, id) == TRAWL_OK, "delete %s", id);
    }
    add_docs(w, 200, 100, "beta"); /* "common" now: 150 + 100 */
    CHECK(trawl_writer_commit(w) == TRAWL_OK, "second commit");
    CHECK(trawl_writer_merge(w, 1) == TRAWL_OK, "merge to one segment");
    CHECK(srv_index_reopen(ix, 0) == TRAWL_OK, "reopen");
    CHECK(atomic_load(&ix->reopens) == 1, "reopens %llu", (unsigned long long)atomic_load(&ix->reopens));
    CHECK(atomic_load(&ix->snaps_live) == 2, "%u snapshots open while one is held", atomic_load(&ix->snaps_live));
    srv_snap *now = srv_snap_get(ix);
    CHECK(now != held && now->generation > held->generation, "generation %llu after %llu",
          (unsigned long long)now->generation, (unsigned long long)held->generation);
    CHECK(now->documents == 250 && held->documents == 200, "documents %llu (new) %llu (held)",
          (unsigned long long)now->documents, (unsigned long long)held->documents);
    CHECK(now->segments == 1, "%llu segments after the merge", (unsigned long long)now->segments);
    srv_snap_release(now);
    long total;
    int snip;
    CHECK(search("alpha", &total, &snip) == 200 && total == 150 && snip, "new commit: alpha total %ld", total);
    CHECK(search("beta", &total, &snip) == 200 && total == 100, "new commit: beta total %ld", total);
    CHECK(count_in(held->idx, "alpha") == 200, "held snapshot: alpha total %ld", count_in(held->idx, "alpha"));
    CHECK(count_in(held->idx, "beta") == 0, "held snapshot sees beta");
    /* A forced reopen with nothing new installs nothing. */
    CHECK(srv_index_reopen(ix, 1) == TRAWL_OK, "forced reopen");
    CHECK(atomic_load(&ix->reopens) == 1, "a reopen without a new commit installed one");
    srv_snap_release(held);
    CHECK(atomic_load(&ix->snaps_live) == 1, "%u snapshots open after the holder let go", atomic_load(&ix->snaps_live));

    /* --- 2. searches in flight while commits and reopens go on --- */
    for (int i = 200; i < 300; i++) { /* back to 150 "common" matches */
        char id[16];
        snprintf(id, sizeof id, "d%d", i);
        CHECK(trawl_writer_delete(w, id) == TRAWL_OK, "delete %s", id);
    }
    CHECK(trawl_writer_commit(w) == TRAWL_OK, "third commit");
    CHECK(srv_index_reopen(ix, 0) == TRAWL_OK, "reopen");
    pthread_t th[2];
    for (int t = 0; t < 2; t++) pthread_create(&th[t], NULL, searcher, NULL);
    for (int k = 0; k < ROUNDS; k++) {
        add_docs(w, 1000 + k * PER_ROUND, PER_ROUND, "gamma");
        CHECK(trawl_writer_commit(w) == TRAWL_OK, "commit of round %d", k);
        CHECK(srv_index_reopen(ix, k % 2) == TRAWL_OK, "reopen of round %d", k);
    }
    /* Let the searchers see the last commit too. */
    for (int spin = 0; spin < 1000 && atomic_load(&searches_done) < 2 * ROUNDS; spin++) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&stop_searching, 1);
    for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
    CHECK(atomic_load(&bad_answers) == 0, "%d bad answers in %d searches", atomic_load(&bad_answers),
          atomic_load(&searches_done));
    CHECK(search("common", &total, &snip) == 200 && total == 150 + ROUNDS * PER_ROUND, "final total %ld", total);
    CHECK(atomic_load(&ix->snaps_live) == 1, "%u snapshots open at the end", atomic_load(&ix->snaps_live));
    CHECK(atomic_load(&ix->reopens) >= ROUNDS + 1, "reopens %llu", (unsigned long long)atomic_load(&ix->reopens));
    printf("test_serve_reopen: %d searches during %d commits and reopens\n", atomic_load(&searches_done), ROUNDS);

    srv_index_release(ix);
    srv_server_free(&server);
    trawl_writer_close(w);
    trawl_free(msg);
    rm_rf(dir);
    if (failures) fprintf(stderr, "test_serve_reopen: %d failures\n", failures);
    return failures ? 1 : 0;
}
