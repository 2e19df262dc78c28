/*
 * test_api.c — contract points of the public API, checked through
 * include/trawl.h only, the way an embedding program meets them.
 *
 *  - trawl_writer_add_fields refuses (TRAWL_EDOC) ids and field names that are
 *    not valid UTF-8 — no two ids may collide by being rewritten — and empty
 *    or reserved names; the writer stays usable. Oracle: the documents the
 *    index holds after the commit are exactly the accepted ones.
 *  - A name repeated in add_fields keeps every value as an array. Oracle: the
 *    same document given to trawl_writer_add_json with a JSON array (stored
 *    text, matches and scores must agree).
 *  - Messages: a writer's and a results object's message says why the last
 *    call failed and is "" after a call that succeeded.
 *  - trawl_results_score is NaN out of range.
 *  - Counting accepts any offset and gives the exact total (oracle: the
 *    number of documents built to match); a search with limit 0 and an offset
 *    does too.
 *  - trawl_analyze stops on any non-zero return of the callback, negative
 *    ones included, and still returns TRAWL_OK.
 *  - Open options: bad values are refused; a 1 MiB budget writes several
 *    segments where the default writes one (stats), with the same results.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trawl.h"

static int failures;
#include "testutil.h"

static char root[4096];

static trawl_writer *open_writer(const char *dir, const trawl_open_options *o) {
    trawl_writer *w = NULL;
    char *msg = NULL;
    int rc = trawl_writer_open_v2(dir, NULL, o, &w, &msg);
    CHECK(rc == TRAWL_OK && w, "writer_open %s: %s", dir, msg ? msg : "");
    trawl_free(msg);
    if (!w) exit(1);
    return w;
}

static trawl_index *open_index(const char *dir) {
    trawl_index *idx = NULL;
    char *msg = NULL;
    int rc = trawl_index_open(dir, &idx, &msg);
    CHECK(rc == TRAWL_OK && idx, "index_open %s: %s", dir, msg ? msg : "");
    trawl_free(msg);
    if (!idx) exit(1);
    return idx;
}

/* Searches q; returns the total, and the score of id in *score (NaN if not a hit). */
static uint64_t search(const trawl_index *idx, const char *q, const char *id, double *score) {
    trawl_results *r = NULL;
    int rc = trawl_search(idx, q, NULL, &r);
    CHECK(rc == TRAWL_OK, "search '%s': %s", q, trawl_results_errmsg(r));
    CHECK(rc != TRAWL_OK || strcmp(trawl_results_errmsg(r), "") == 0, "search '%s' succeeded with message '%s'", q,
          trawl_results_errmsg(r));
    if (score) *score = NAN;
    for (size_t i = 0; score && i < trawl_results_count(r); i++)
        if (strcmp(trawl_results_id(r, i), id) == 0) *score = trawl_results_score(r, i);
    uint64_t total = trawl_results_total(r);
    trawl_results_free(r);
    return total;
}

static void subdir(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", root, name);
}

/* ---- add_fields: UTF-8, names, repeated names, messages ---- */

static void test_add_fields(void) {
    char dir[4200];
    subdir(dir, sizeof dir, "fields");
    trawl_writer *w = open_writer(dir, NULL);
    const char *names[] = {"title", "body"};
    const char *values[] = {"hello", "world"};
    const size_t lens[] = {5, 5};

    /* Ids that are not UTF-8: before, each became "a" + U+FFFD, one document. */
    static const char *const bad_ids[] = {
        "a\xff",
        "a\xfe",
        "a\x80",
        "a\xc0\xaf" /* overlong '/' */,
        "a\xed\xa0\x80" /* surrogate */,
        "a\xf4\x90\x80\x80" /* > U+10FFFF */,
        "a\xe2\x82" /* truncated */,
        "",
    };
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        int rc = trawl_writer_add_fields(w, bad_ids[i], 2, names, values, lens);
        CHECK(rc == TRAWL_EDOC, "id %zu (invalid UTF-8 or empty): rc %d (%s), want TRAWL_EDOC", i, rc,
              trawl_strerror(rc));
        CHECK(*trawl_writer_errmsg(w) != 0, "id %zu refused without a message", i);
    }
    CHECK(trawl_writer_pending(w) == 0, "%llu documents pending after refused ids",
          (unsigned long long)trawl_writer_pending(w));

    /* A success clears the message. */
    CHECK(trawl_writer_add_fields(w, "caf\xc3\xa9", 2, names, values, lens) == TRAWL_OK, "valid non-ASCII id: %s",
          trawl_writer_errmsg(w));
    CHECK(strcmp(trawl_writer_errmsg(w), "") == 0, "message after a successful add: '%s'", trawl_writer_errmsg(w));

    /* Invalid field names: TRAWL_EDOC (it was TRAWL_ENOMEM), the message names the problem. */
    static const char *const bad_names[] = {"b\xff", "\xc3", "", "id"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        const char *n2[] = {"title", bad_names[i]};
        int rc = trawl_writer_add_fields(w, "x", 2, n2, values, lens);
        CHECK(rc == TRAWL_EDOC, "field name %zu: rc %d (%s), want TRAWL_EDOC", i, rc, trawl_strerror(rc));
        CHECK(*trawl_writer_errmsg(w) != 0, "field name %zu refused without a message", i);
    }
    const char *null_names[] = {"title", NULL};
    CHECK(trawl_writer_add_fields(w, "x", 2, null_names, values, lens) == TRAWL_EINVAL, "NULL name");
    CHECK(trawl_writer_add_fields(w, NULL, 2, names, values, lens) == TRAWL_EINVAL, "NULL id");
    CHECK(*trawl_writer_errmsg(w) != 0, "NULL id refused without a message");
    CHECK(trawl_writer_pending(w) == 1, "%llu documents pending, want 1", (unsigned long long)trawl_writer_pending(w));

    /* Repeated names: an array; and the same document through add_json. */
    const char *rn[] = {"tag", "body", "tag", "tag"};
    const char *rv[] = {"alpha", "beta words", "gamma", "delta"};
    const size_t rl[] = {5, 10, 5, 5};
    CHECK(trawl_writer_add_fields(w, "rep", 4, rn, rv, rl) == TRAWL_OK, "repeated names: %s", trawl_writer_errmsg(w));
    const char *json = "{\"id\":\"arr\",\"tag\":[\"alpha\",\"gamma\",\"delta\"],\"body\":\"beta words\"}";
    CHECK(trawl_writer_add_json(w, json, strlen(json)) == TRAWL_OK, "add_json: %s", trawl_writer_errmsg(w));
    /* Values with invalid UTF-8 or NUL are stored as U+FFFD. */
    const char *vn[] = {"body"};
    const char *vv[] = {"x\xffy\0z"};
    const size_t vl[] = {5};
    CHECK(trawl_writer_add_fields(w, "vals", 1, vn, vv, vl) == TRAWL_OK, "value with invalid bytes: %s",
          trawl_writer_errmsg(w));
    CHECK(trawl_writer_add_json(w, "{\"id\":", 6) == TRAWL_EDOC, "truncated JSON");
    CHECK(*trawl_writer_errmsg(w) != 0, "bad JSON refused without a message");
    CHECK(trawl_writer_commit(w) == TRAWL_OK, "commit: %s", trawl_writer_errmsg(w));
    CHECK(strcmp(trawl_writer_errmsg(w), "") == 0, "message after a successful commit: '%s'", trawl_writer_errmsg(w));
    trawl_writer_close(w);

    trawl_index *idx = open_index(dir);
    CHECK(trawl_index_doc_count(idx) == 4, "%llu documents, want 4 (café, rep, arr, vals)",
          (unsigned long long)trawl_index_doc_count(idx));
    char *doc = NULL;
    CHECK(trawl_index_get(idx, "caf\xc3\xa9", &doc) == TRAWL_OK, "get café");
    trawl_free(doc);
    CHECK(trawl_index_get(idx, "a\xef\xbf\xbd", &doc) == TRAWL_ENOTFOUND, "a U+FFFD id exists");
    /* The stored arrays. */
    char *a = NULL, *b = NULL;
    CHECK(trawl_index_get(idx, "rep", &a) == TRAWL_OK && trawl_index_get(idx, "arr", &b) == TRAWL_OK, "get rep/arr");
    json_t *ja = a ? json_loads(a, 0, NULL) : NULL, *jb = b ? json_loads(b, 0, NULL) : NULL;
    CHECK(ja && jb && json_equal(json_object_get(ja, "tag"), json_object_get(jb, "tag")) &&
              json_equal(json_object_get(ja, "body"), json_object_get(jb, "body")),
          "stored %s vs %s", a ? a : "(null)", b ? b : "(null)");
    json_decref(ja);
    json_decref(jb);
    trawl_free(a);
    trawl_free(b);
    char *v = NULL;
    CHECK(trawl_index_get(idx, "vals", &v) == TRAWL_OK && v && strstr(v, "x\xef\xbf\xbdy\xef\xbf\xbdz"),
          "stored value %s", v ? v : "(null)");
    trawl_free(v);
    /* Every value indexed, with the same scores as the array. */
    static const char *const queries[] = {"tag:alpha", "tag:gamma", "tag:delta", "beta", "tag:(alpha gamma)"};
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        double sr, sa;
        uint64_t t = search(idx, queries[i], "rep", &sr);
        search(idx, queries[i], "arr", &sa);
        CHECK(t == 2 && !isnan(sr) && sr == sa, "'%s': total %llu, score rep %g, arr %g", queries[i],
              (unsigned long long)t, sr, sa);
    }
    /* Array values are 100 positions apart: no phrase across them. */
    CHECK(search(idx, "tag:\"alpha gamma\"", NULL, NULL) == 0, "a phrase across repeated values matched");
    CHECK(search(idx, "tag:beta", NULL, NULL) == 0, "tag:beta matched");

    /* Results messages and out-of-range accessors. */
    trawl_results *r = NULL;
    CHECK(trawl_search(idx, "tag:(alpha", NULL, &r) == TRAWL_ESYNTAX, "syntax error expected");
    CHECK(*trawl_results_errmsg(r) != 0, "syntax error without a message");
    trawl_results_free(r);
    CHECK(trawl_search(idx, "alpha", NULL, &r) == TRAWL_OK, "search alpha");
    size_t n = trawl_results_count(r);
    CHECK(n == 2, "%zu hits for alpha", n);
    for (size_t i = 0; i < n; i++) CHECK(!isnan(trawl_results_score(r, i)), "hit %zu score NaN", i);
    CHECK(isnan(trawl_results_score(r, n)) && isnan(trawl_results_score(r, (size_t)-1)),
          "out-of-range score %g, want NaN", trawl_results_score(r, n));
    CHECK(isnan(trawl_results_score(NULL, 0)), "score of NULL results");
    CHECK(trawl_results_id(r, n) == NULL && trawl_results_title(r, n) == NULL, "out-of-range id/title");
    trawl_results_free(r);
    trawl_index_close(idx);
}

/* ---- counting with an offset ---- */

static void test_count_offset(void) {
    char dir[4200];
    subdir(dir, sizeof dir, "count");
    trawl_writer *w = open_writer(dir, NULL);
    rng g = {42};
    uint64_t want = 0;
    for (int i = 0; i < 300; i++) {
        int has = below(&g, 3) == 0;
        want += (uint64_t)has;
        char json[256], id[32];
        snprintf(id, sizeof id, "c%d", i);
        snprintf(json, sizeof json, "{\"id\":\"%s\",\"body\":\"filler words %s%s\"}", id, has ? "needle " : "",
                 i % 2 ? "odd" : "even");
        CHECK(trawl_writer_add_json(w, json, strlen(json)) == TRAWL_OK, "add %s", id);
    }
    CHECK(trawl_writer_commit(w) == TRAWL_OK, "commit");
    trawl_writer_close(w);
    trawl_index *idx = open_index(dir);
    static const size_t offsets[] = {0, 5, 1000, 999999, 1000001, (size_t)-1};
    for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
        trawl_options *o = trawl_options_new();
        trawl_options_set_count_only(o, 1);
        trawl_options_set_limit(o, 0);
        trawl_options_set_offset(o, offsets[k]);
        trawl_results *r = NULL;
        int rc = trawl_search(idx, "needle", o, &r);
        CHECK(rc == TRAWL_OK && trawl_results_total(r) == want && trawl_results_count(r) == 0,
              "count with offset %zu: rc %d (%s), total %llu, want %llu", offsets[k], rc, trawl_results_errmsg(r),
              (unsigned long long)trawl_results_total(r), (unsigned long long)want);
        trawl_results_free(r);
        /* Limit 0 without count_only: the total, no hits (within the limit on offset + limit). */
        trawl_options_set_count_only(o, 0);
        rc = trawl_search(idx, "needle", o, &r);
        if (offsets[k] <= 1000000)
            CHECK(rc == TRAWL_OK && trawl_results_total(r) == want && trawl_results_count(r) == 0,
                  "limit 0 offset %zu: rc %d (%s) total %llu", offsets[k], rc, trawl_results_errmsg(r),
                  (unsigned long long)trawl_results_total(r));
        else
            CHECK(rc == TRAWL_ELIMIT && *trawl_results_errmsg(r), "limit 0 offset %zu: rc %d", offsets[k], rc);
        trawl_results_free(r);
        trawl_options_free(o);
    }
    trawl_index_close(idx);
}

/* ---- trawl_analyze: a callback stops with any non-zero value ---- */

typedef struct stop_ctx {
    int ret, calls;
} stop_ctx;

static int stop_at_second(void *ctx, const char *term, size_t len, uint32_t pos, size_t start, size_t end) {
    stop_ctx *c = ctx;
    return ++c->calls == 2 ? c->ret : 0;
}

static void test_analyze_stop(void) {
    /* Negative values too: they must not read as the library's own failures. */
    static const int rets[] = {1, -1, -2, -9, 77};
    for (size_t i = 0; i < sizeof rets / sizeof rets[0]; i++) {
        stop_ctx c = {rets[i], 0};
        int rc = trawl_analyze("english", "one two three four", 18, stop_at_second, &c);
        CHECK(rc == TRAWL_OK && c.calls == 2, "callback stopping with %d: rc %d after %d calls", rets[i], rc, c.calls);
    }
    stop_ctx c = {0, 0};
    CHECK(trawl_analyze("klingon", "x", 1, stop_at_second, &c) == TRAWL_EINVAL, "unknown language");
}

/* ---- open options ---- */

static void test_open_options(void) {
    trawl_open_options *o = trawl_open_options_new();
    CHECK(o != NULL, "open options");
    if (!o) return;
    CHECK(trawl_open_options_set_threads(o, -2) == TRAWL_EINVAL, "threads -2");
    CHECK(trawl_open_options_set_threads(NULL, 1) == TRAWL_EINVAL, "threads on NULL");
    CHECK(trawl_open_options_set_ram_mb(o, 0) == TRAWL_EINVAL, "ram 0");
    CHECK(trawl_open_options_set_ram_mb(o, 1048577) == TRAWL_EINVAL, "ram 1048577");
    CHECK(trawl_open_options_set_simd(o, "avx3") == TRAWL_EINVAL, "simd avx3");
    CHECK(trawl_open_options_set_simd(o, NULL) == TRAWL_EINVAL, "simd NULL");
    CHECK(trawl_open_options_set_simd(o, "auto") == TRAWL_OK, "simd auto");
    CHECK(trawl_open_options_set_simd(o, "SCALAR") == TRAWL_OK, "simd SCALAR");
    CHECK(trawl_open_options_set_threads(o, 100) == TRAWL_OK, "threads 100");
    CHECK(trawl_open_options_set_threads(o, -1) == TRAWL_OK, "threads -1 (default)");

    /* A 1 MiB budget with 0 and 3 threads: several segments, the same results. */
    char d0[4200], d3[4200], dd[4200];
    subdir(d0, sizeof d0, "ram0");
    subdir(d3, sizeof d3, "ram3");
    subdir(dd, sizeof dd, "ramdefault");
    CHECK(trawl_open_options_set_ram_mb(o, 1) == TRAWL_OK, "ram 1");
    const char *dirs[3] = {d0, d3, dd};
    for (int k = 0; k < 3; k++) {
        CHECK(trawl_open_options_set_threads(o, k == 0 ? 0 : 3) == TRAWL_OK, "threads");
        trawl_writer *w = open_writer(dirs[k], k < 2 ? o : NULL);
        rng g = {7};
        for (int i = 0; i < 4000; i++) {
            char json[2048];
            int len = snprintf(json, sizeof json, "{\"id\":\"d%d\",\"body\":\"", i);
            for (int j = 0; j < 60; j++)
                len += snprintf(json + len, sizeof json - (size_t)len, "w%u ", (unsigned)below(&g, 5000));
            len += snprintf(json + len, sizeof json - (size_t)len, "\"}");
            CHECK(trawl_writer_add_json(w, json, (size_t)len) == TRAWL_OK, "add: %s", trawl_writer_errmsg(w));
        }
        CHECK(trawl_writer_commit(w) == TRAWL_OK, "commit: %s", trawl_writer_errmsg(w));
        trawl_writer_close(w);
    }
    long segs[3] = {0};
    for (int k = 0; k < 3; k++) {
        trawl_index *idx = NULL;
        char *msg = NULL;
        CHECK(trawl_open_options_set_simd(o, k == 0 ? "scalar" : "auto") == TRAWL_OK, "simd");
        CHECK(trawl_index_open_v2(dirs[k], o, &idx, &msg) == TRAWL_OK, "open %s: %s", dirs[k], msg ? msg : "");
        trawl_free(msg);
        if (!idx) continue;
        if (k == 0) CHECK(strcmp(trawl_index_simd(idx), "scalar") == 0, "simd %s", trawl_index_simd(idx));
        char *stats = NULL;
        CHECK(trawl_index_stats(idx, &stats) == TRAWL_OK, "stats");
        json_t *js = stats ? json_loads(stats, 0, NULL) : NULL;
        segs[k] = (long)json_integer_value(json_object_get(js, "segments"));
        json_decref(js);
        trawl_free(stats);
        CHECK(trawl_index_doc_count(idx) == 4000, "%s: %llu documents", dirs[k],
              (unsigned long long)trawl_index_doc_count(idx));
        double s;
        uint64_t t = search(idx, "w1 w2", "d0", &s);
        static uint64_t t0;
        if (k == 0) t0 = t;
        CHECK(t == t0, "%s: total %llu, want %llu", dirs[k], (unsigned long long)t, (unsigned long long)t0);
        trawl_index_close(idx);
    }
    CHECK(segs[0] > 1 && segs[0] == segs[1] && segs[2] == 1,
          "segments: %ld (0 threads, 1 MiB), %ld (3 threads), %ld (default)", segs[0], segs[1], segs[2]);
    trawl_open_options_free(o);
    trawl_open_options_free(NULL);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/trawl_test_api_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_add_fields();
    test_count_offset();
    test_analyze_stop();
    test_open_options();
    rm_rf(root);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
