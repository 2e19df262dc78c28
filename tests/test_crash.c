/*
 * test_crash.c — kill -9 of `trawl index` at random moments, again and again.
 *
 * Each round writes a batch of JSON Lines (new documents and new versions of
 * earlier ones), starts `trawl index` on it (TRAWL_RAM_MB=1, so several
 * segments per commit, and the writer's automatic merges run after commits)
 * and sends SIGKILL after a random delay drawn around the time a whole run
 * takes (every fifth run is left to finish, and timed), so kills land while reading, flushing segments, committing, merging,
 * or after the end. After every kill:
 *  - trawl_index_check passes;
 *  - the batch is visible entirely or not at all (a run that exited 0 must be
 *    visible): probed by its first new id, then every expected document is
 *    compared byte for byte with `get`, the document count must match, and no
 *    new id of an invisible batch may be found;
 *  - a writer opened and closed again (its collection) leaves in the
 *    directory only LOCK, MANIFEST and the files the MANIFEST names.
 * The oracle is the model of committed batches kept here.
 *
 * TRAWL_CRASH_ROUNDS sets the number of rounds (default 50; a fresh index every
 * 100 rounds); tests/kill_loop.sh
 * runs it with any number. TRAWL_BIN names the trawl program (set by ctest).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "trawl.h"

static int failures;

#define DOCS_PER_BATCH 400
#define MAX_IDS 2000000

static char **content; /* committed JSON line per id number, or NULL */
static size_t nids;    /* ids d0000000 .. nids-1 have been used */
static size_t nlive;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A batch: ids and lines. */
typedef struct batch {
    size_t n, first_new; /* first_new: index in the batch of its first new id */
    size_t *id;
    char **line;
} batch;

static void gen_batch(rng *r, batch *b) {
    static const char *const words[] = {"amber",  "basalt", "cobalt", "delta",  "ember", "fjord",  "garnet",
                                        "harbor", "indigo", "jasper", "kelp",   "lumen", "marble", "nectar",
                                        "onyx",   "quartz", "russet", "sienna", "topaz", "umber",  "violet"};
    b->n = DOCS_PER_BATCH;
    b->id = xmalloc(sizeof *b->id * b->n);
    b->line = xmalloc(sizeof *b->line * b->n);
    b->first_new = (size_t)-1;
    for (size_t i = 0; i < b->n; i++) {
        int replace = nids > 0 && below(r, 10) < 3;
        size_t id = replace ? below(r, nids) : nids++;
        if (!replace && b->first_new == (size_t)-1) b->first_new = i;
        b->id[i] = id;
        size_t nw = 100 + below(r, 300), cap = nw * 8 + 128, o = 0;
        char *s = xmalloc(cap);
        o += (size_t)snprintf(s + o, cap - o, "{\"id\":\"d%07zu\",\"v\":%llu,\"title\":\"%s %s\",\"body\":\"", id,
                              (unsigned long long)(rnd(r) % 1000000000u), words[below(r, 21)], words[below(r, 21)]);
        for (size_t k = 0; k < nw; k++)
            o += (size_t)snprintf(s + o, cap - o, "%s%s", k ? " " : "", words[below(r, 21)]);
        snprintf(s + o, cap - o, "\"}");
        b->line[i] = s;
    }
}

static void free_batch(batch *b) {
    for (size_t i = 0; i < b->n; i++) free(b->line[i]);
    free(b->line);
    free(b->id);
}

static void write_batch(const batch *b, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    for (size_t i = 0; i < b->n; i++) fprintf(f, "%s\n", b->line[i]);
    fclose(f);
}

/* Applies a committed batch to the model (later lines win). */
static void apply(const batch *b) {
    for (size_t i = 0; i < b->n; i++) {
        if (!content[b->id[i]]) nlive++;
        free(content[b->id[i]]);
        content[b->id[i]] = strdup(b->line[i]);
    }
}

/* Runs trawl index on path, killing it after delay seconds (< 0: never).
 * Returns 1 if it exited 0, 0 if killed or failed; *took: its run time. */
static int run_indexer(const char *bin, const char *idx, const char *path, double delay, double *took) {
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        setenv("TRAWL_RAM_MB", "1", 1);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 2);
        execl(bin, "trawl", "index", "-q", "-o", idx, path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (delay >= 0) {
        struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    *took = now_s() - t0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Every entry of idx is LOCK, MANIFEST or a file the MANIFEST names. */
static void check_no_strays(const char *idx, int round) {
    char mp[4400];
    snprintf(mp, sizeof mp, "%s/MANIFEST", idx);
    json_error_t je;
    FILE *f = fopen(mp, "r");
    char line[1 << 16];
    json_t *m = f && fgets(line, sizeof line, f) ? json_loads(line, 0, &je) : NULL;
    if (f) fclose(f);
    CHECK(m != NULL, "round %d: MANIFEST unreadable", round);
    if (!m) return;
    DIR *d = opendir(idx);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "LOCK") || !strcmp(n, "MANIFEST")) continue;
        int named = 0;
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(m, "segments"), i, s) {
            const char *nm = json_string_value(json_object_get(s, "name"));
            const char *dl = json_string_value(json_object_get(s, "deletes"));
            named |= (nm && !strcmp(nm, n)) || (dl && !strcmp(dl, n));
        }
        CHECK(named, "round %d: stray file %s left after a writer's open", round, n);
    }
    if (d) closedir(d);
    json_decref(m);
}

/* Checks the index against the model; returns whether batch b is visible. */
static int verify(const char *idx, const batch *b, int round) {
    char *report = NULL;
    int rc = trawl_index_check(idx, &report);
    CHECK(rc == TRAWL_OK, "round %d: check: %s", round, report ? report : trawl_strerror(rc));
    trawl_free(report);
    trawl_index *ix = NULL;
    char *err = NULL;
    rc = trawl_index_open(idx, &ix, &err);
    CHECK(rc == TRAWL_OK, "round %d: open: %s", round, err ? err : "");
    trawl_free(err);
    if (!ix) return 0;
    int visible = 0;
    if (b && b->first_new != (size_t)-1) {
        char id[32], *json = NULL;
        snprintf(id, sizeof id, "d%07zu", b->id[b->first_new]);
        visible = trawl_index_get(ix, id, &json) == TRAWL_OK;
        trawl_free(json);
    }
    if (visible) apply(b);
    CHECK(trawl_index_doc_count(ix) == nlive, "round %d: %llu documents, model has %zu (batch %s)", round,
          (unsigned long long)trawl_index_doc_count(ix), nlive, visible ? "visible" : "not visible");
    size_t bad = 0;
    for (size_t k = 0; k < nids; k++) {
        char id[32], *json = NULL;
        snprintf(id, sizeof id, "d%07zu", k);
        int g = trawl_index_get(ix, id, &json);
        if (content[k] ? (g != TRAWL_OK || strcmp(json, content[k]) != 0) : g != TRAWL_ENOTFOUND) bad++;
        trawl_free(json);
    }
    CHECK(bad == 0, "round %d: %zu documents differ from the model (batch %s)", round, bad,
          visible ? "visible" : "not visible");
    trawl_index_close(ix);
    return visible;
}

int main(void) {
    const char *bin = getenv("TRAWL_BIN");
    if (!bin || !*bin) {
        fprintf(stderr, "SKIP: TRAWL_BIN must name the trawl program\n");
        return 77;
    }
    const char *env = getenv("TRAWL_CRASH_ROUNDS");
    int rounds = env && *env ? atoi(env) : 50;
    const char *se = getenv("TRAWL_CRASH_SEED");
    rng r = {se && *se ? strtoull(se, NULL, 0) : (uint64_t)time(NULL)};
    uint64_t seed = r.s;
    char dir[4096], idx[4200], path[4200];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/trawl-crash-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(idx, sizeof idx, "%s/idx", dir);
    snprintf(path, sizeof path, "%s/batch.jsonl", dir);
    content = calloc(MAX_IDS, sizeof *content);
    if (!content) return 2;

    /* A first commit, not killed. */
    batch b;
    double took, avg = 0;
    gen_batch(&r, &b);
    write_batch(&b, path);
    CHECK(run_indexer(bin, idx, path, -1, &took), "the first run failed");
    CHECK(verify(idx, &b, 0), "the first batch is not visible");
    free_batch(&b);
    avg = took;
    int completed = 0, killed_visible = 0, killed_invisible = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int round = 1; round <= rounds && failures == 0; round++) {
        /* Long runs start a fresh index every 100 rounds, so that a round
         * (which checks every document) keeps its cost. */
        if (round % 100 == 0) {
            rm_rf(idx);
            for (size_t k = 0; k < nids; k++) free(content[k]), content[k] = NULL;
            nids = nlive = 0;
            gen_batch(&r, &b);
            write_batch(&b, path);
            CHECK(run_indexer(bin, idx, path, -1, &took), "round %d: the first run of a fresh index failed", round);
            CHECK(verify(idx, &b, round), "round %d: the first batch of a fresh index is not visible", round);
            free_batch(&b);
        }
        gen_batch(&r, &b);
        write_batch(&b, path);
        /* Up to 1.3 times the usual run, measured on every fifth round,
         * which runs to its end. */
        double delay = round % 5 == 0 ? -1 : (double)below(&r, 1000) / 1000.0 * avg * 1.3;
        int ok = run_indexer(bin, idx, path, delay, &took);
        if (ok && delay < 0) avg = 0.5 * avg + 0.5 * took;
        int visible = verify(idx, &b, round);
        CHECK(!ok || visible, "round %d: the run exited 0 but its batch is not visible", round);
        completed += ok;
        killed_visible += !ok && visible;
        killed_invisible += !ok && !visible;
        /* A writer's open cleans what the killed one left. */
        trawl_writer *w = NULL;
        CHECK(trawl_writer_open(idx, NULL, &w, NULL) == TRAWL_OK, "round %d: writer open", round);
        trawl_writer_close(w);
        check_no_strays(idx, round);
        free_batch(&b);
        if (rounds > 50 && round % 50 == 0)
            printf("  round %d: %d completed, %d killed after their commit, %d killed before\n", round, completed,
                   killed_visible, killed_invisible);
    }
    printf(
        "%d rounds (seed %llu): %d runs completed, %d killed after their commit, %d killed before it; %zu documents\n",
        rounds, (unsigned long long)seed, completed, killed_visible, killed_invisible, nlive);
    if (killed_invisible == 0 && rounds >= 20) {
        failures++;
        fprintf(stderr, "no run was killed before its commit: the test is too weak\n");
    }
    for (size_t k = 0; k < nids; k++) free(content[k]);
    free(content);
    if (!getenv("TRAWL_CRASH_KEEP")) rm_rf(dir);
    if (failures) {
        fprintf(stderr, "test_crash: %d failures (seed %llu; rerun with TRAWL_CRASH_SEED)\n", failures,
                (unsigned long long)seed);
        return 1;
    }
    printf("test_crash: ok\n");
    return 0;
}
