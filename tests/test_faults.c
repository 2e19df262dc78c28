/*
 * test_faults.c — fault injection in the style of SQLite's fault tests: the
 * Nth allocation, write, fsync or rename fails, for every N along a small
 * commit and along a small merge, and disk full (RLIMIT_FSIZE) while
 * indexing and while merging.
 *
 * This test is linked with -Wl,--wrap for malloc, calloc, realloc, write,
 * pwrite, fsync and rename (tests/CMakeLists.txt), so every such call the
 * library makes goes through the counters below; armed, the Nth call of one
 * kind fails (NULL / -1 with EIO). After each run, disarmed: the call that
 * saw the failure returned an error code (nothing aborted), trawl check
 * passes, and the index holds exactly the previous commit or (only when the
 * failure came after the new MANIFEST was in place) exactly the new one; a
 * commit that returned TRAWL_OK must be the new one. The oracle is the two
 * document sets, compared byte for byte with get.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "trawl.h"

static int failures;

/* ---- the wrapped calls ---- */

enum { F_ALLOC, F_WRITE, F_FSYNC, F_RENAME, F_KINDS };
static const char *const kind_name[F_KINDS] = {"allocation", "write", "fsync", "rename"};
/* Atomic: the writer's own threads (segment builds, merges) call them too. */
static atomic_long counts[F_KINDS];
static long fail_at[F_KINDS];
static atomic_int armed, hit;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t k);
void *__real_realloc(void *p, size_t n);
ssize_t __real_write(int fd, const void *p, size_t n);
ssize_t __real_pwrite(int fd, const void *p, size_t n, off_t off);
int __real_fsync(int fd);
int __real_rename(const char *a, const char *b);

/* Counts a call of kind k; 1 when it is to fail. */
static int fault(int k) {
    if (!armed) return 0;
    if (atomic_fetch_add(&counts[k], 1) + 1 != fail_at[k]) return 0;
    hit = 1;
    return 1;
}

void *__wrap_malloc(size_t n);
void *__wrap_malloc(size_t n) {
    return fault(F_ALLOC) ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t k);
void *__wrap_calloc(size_t n, size_t k) {
    return fault(F_ALLOC) ? NULL : __real_calloc(n, k);
}
void *__wrap_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n) {
    return fault(F_ALLOC) ? NULL : __real_realloc(p, n);
}
ssize_t __wrap_write(int fd, const void *p, size_t n);
ssize_t __wrap_write(int fd, const void *p, size_t n) {
    if (fault(F_WRITE)) return errno = EIO, -1;
    return __real_write(fd, p, n);
}
ssize_t __wrap_pwrite(int fd, const void *p, size_t n, off_t off);
ssize_t __wrap_pwrite(int fd, const void *p, size_t n, off_t off) {
    if (fault(F_WRITE)) return errno = EIO, -1;
    return __real_pwrite(fd, p, n, off);
}
int __wrap_fsync(int fd);
int __wrap_fsync(int fd) {
    if (fault(F_FSYNC)) return errno = EIO, -1;
    return __real_fsync(fd);
}
int __wrap_rename(const char *a, const char *b);
int __wrap_rename(const char *a, const char *b) {
    if (fault(F_RENAME)) return errno = EIO, -1;
    return __real_rename(a, b);
}

static void arm(int kind, long n) {
    for (int k = 0; k < F_KINDS; k++) atomic_store(&counts[k], 0);
    memset(fail_at, 0, sizeof fail_at);
    fail_at[kind] = n;
    hit = 0;
    armed = 1;
}

/* ---- documents and states ---- */

#define BASE_DOCS 60

typedef struct state {
    char *doc[2 * BASE_DOCS]; /* JSON per id number, NULL when absent */
} state;

static char *make_doc(int id, int version) {
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"id\":\"f%03d\",\"title\":\"title %d v%d\",\"body\":\"words about fault %d and version %d of the "
             "quick brown fox number %d\"}",
             id, id, version, id % 7, version, id);
    return strdup(buf);
}

static void state_free(state *s) {
    for (int i = 0; i < 2 * BASE_DOCS; i++) free(s->doc[i]);
    memset(s, 0, sizeof *s);
}

static trawl_writer *open_writer(const char *dir, int auto_merge) {
    trawl_open_options *o = trawl_open_options_new();
    trawl_open_options_set_threads(o, 0); /* one thread: the Nth call is the same call every run */
    trawl_writer *w = NULL;
    int rc = trawl_writer_open_v2(dir, NULL, o, &w, NULL);
    trawl_open_options_free(o);
    if (rc == TRAWL_OK) trawl_writer_set_auto_merge(w, auto_merge);
    return rc == TRAWL_OK ? w : NULL;
}

/* Builds the base index in dir (rebuilt from nothing): `commits` commits of
 * BASE_DOCS / commits documents, then one deletion; its state in *s. */
static void build_base(const char *dir, int commits, state *s) {
    rm_rf(dir);
    state_free(s);
    int per = BASE_DOCS / commits;
    for (int c = 0; c < commits; c++) {
        trawl_writer *w = open_writer(dir, 0);
        if (!w) {
            fprintf(stderr, "cannot open a writer on %s\n", dir);
            exit(2);
        }
        for (int i = c * per; i < (c + 1) * per; i++) {
            s->doc[i] = make_doc(i, 0);
            trawl_writer_add_json(w, s->doc[i], strlen(s->doc[i]));
        }
        if (c == commits - 1) {
            trawl_writer_delete(w, "f001");
            free(s->doc[1]);
            s->doc[1] = NULL;
        }
        if (trawl_writer_commit(w) != TRAWL_OK) {
            fprintf(stderr, "base commit failed: %s\n", trawl_writer_errmsg(w));
            exit(2);
        }
        trawl_writer_close(w);
    }
}

/* Copies the files of directory from into a fresh directory to (no fsync:
 * the copies only need to outlive this process). */
static void copy_dir(const char *from, const char *to) {
    rm_rf(to);
    mkdir(to, 0755);
    DIR *d = opendir(from);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char a[4400], b[4400], buf[65536];
        snprintf(a, sizeof a, "%s/%s", from, e->d_name);
        snprintf(b, sizeof b, "%s/%s", to, e->d_name);
        FILE *in = fopen(a, "rb"), *out = fopen(b, "wb");
        size_t n;
        while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
        if (in) fclose(in);
        if (out) fclose(out);
    }
    if (d) closedir(d);
}

/* Does the index in dir hold exactly s? (checked, opened, every id got) */
static int holds(const char *dir, const state *s) {
    trawl_index *ix = NULL;
    if (trawl_index_open(dir, &ix, NULL) != TRAWL_OK) return 0;
    int ok = 1;
    uint64_t n = 0;
    for (int i = 0; i < 2 * BASE_DOCS && ok; i++) {
        char id[16], *json = NULL;
        snprintf(id, sizeof id, "f%03d", i);
        int g = trawl_index_get(ix, id, &json);
        ok = s->doc[i] ? g == TRAWL_OK && strcmp(json, s->doc[i]) == 0 : g == TRAWL_ENOTFOUND;
        n += s->doc[i] != NULL;
        trawl_free(json);
    }
    ok = ok && trawl_index_doc_count(ix) == n;
    trawl_index_close(ix);
    return ok;
}

/* The small commit on a base of one commit: replaces some documents, adds
 * others, deletes two. next gets the state it makes. Returns the first
 * failing trawl code, or TRAWL_OK. */
static int small_commit(const char *dir, const state *base, state *next) {
    for (int i = 0; i < 2 * BASE_DOCS; i++) next->doc[i] = base->doc[i] ? strdup(base->doc[i]) : NULL;
    trawl_writer *w = open_writer(dir, 1);
    int rc = w ? TRAWL_OK : TRAWL_EIO;
    for (int i = 40; i < 80 && rc == TRAWL_OK; i += 2) {
        free(next->doc[i]);
        next->doc[i] = make_doc(i, 1);
        rc = trawl_writer_add_json(w, next->doc[i], strlen(next->doc[i]));
    }
    if (rc == TRAWL_OK) rc = trawl_writer_delete(w, "f000");
    if (rc == TRAWL_OK) rc = trawl_writer_delete(w, "f042");
    free(next->doc[0]);
    free(next->doc[42]);
    next->doc[0] = next->doc[42] = NULL;
    if (rc == TRAWL_OK) rc = trawl_writer_commit(w);
    trawl_writer_close(w);
    return rc;
}

static int small_merge(const char *dir) {
    trawl_writer *w = open_writer(dir, 0);
    if (!w) return TRAWL_EIO;
    int rc = trawl_writer_merge(w, 1);
    trawl_writer_close(w);
    return rc;
}

static int sound(const char *dir) {
    char *report = NULL;
    int rc = trawl_index_check(dir, &report);
    if (rc) fprintf(stderr, "  check: %s", report ? report : trawl_strerror(rc));
    trawl_free(report);
    return rc == TRAWL_OK;
}

/* Every N for every kind along the small commit (merge: along the merge of
 * a three-segment base to one). */
static void inject(const char *dir, int merge) {
    char basedir[4400];
    snprintf(basedir, sizeof basedir, "%s.base", dir);
    state base = {{0}};
    build_base(basedir, merge ? 3 : 1, &base);
    for (int k = 0; k < F_KINDS; k++) {
        long n, failed_calls = 0, new_states = 0;
        for (n = 1; n < 200000; n++) {
            state next = {{0}};
            copy_dir(basedir, dir);
            arm(k, n);
            int rc = merge ? small_merge(dir) : small_commit(dir, &base, &next);
            armed = 0;
            int was_hit = hit;
            const state *want_new = merge ? &base : &next;
            if (!sound(dir)) {
                failures++;
                fprintf(stderr, "%s %s %ld: the index is not sound (rc %d)\n", merge ? "merge" : "commit", kind_name[k],
                        n, rc);
            } else if (rc == TRAWL_OK && !holds(dir, want_new)) {
                failures++;
                fprintf(stderr, "%s %s %ld: returned OK but the index is not the new commit\n",
                        merge ? "merge" : "commit", kind_name[k], n);
            } else if (rc != TRAWL_OK && !holds(dir, &base) && !holds(dir, want_new)) {
                failures++;
                fprintf(stderr, "%s %s %ld: failed (%d) and the index is neither the old nor the new commit\n",
                        merge ? "merge" : "commit", kind_name[k], n, rc);
            }
            failed_calls += rc != TRAWL_OK;
            new_states += rc != TRAWL_OK && holds(dir, want_new) && !holds(dir, &base);
            state_free(&next);
            if (!was_hit) break; /* the run made fewer than n such calls */
            if (failures > 20) break;
        }
        printf("  %s, %s: N = 1..%ld, %ld runs failed cleanly (%ld of them after the new MANIFEST was in place)\n",
               merge ? "merge" : "commit", kind_name[k], n - 1, failed_calls, new_states);
        if (n - 1 == 0) {
            failures++;
            fprintf(stderr, "no %s happened along the %s: the wrapping does not work\n", kind_name[k],
                    merge ? "merge" : "commit");
        }
    }
    state_free(&base);
    rm_rf(basedir);
}

/* Disk full: in a child limited to `limit` bytes per file (SIGXFSZ ignored,
 * so writes fail with EFBIG), the commit of many documents (merge: the merge
 * to one segment) must fail with an error code; the index keeps its state. */
static void disk_full(const char *dir, int merge) {
    state base = {{0}};
    build_base(dir, merge ? 3 : 1, &base);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {merge ? 3000 : 20000, merge ? 3000 : 20000};
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &rl);
        int rc;
        if (merge) {
            rc = small_merge(dir);
        } else {
            trawl_writer *w = open_writer(dir, 1);
            rc = w ? TRAWL_OK : TRAWL_EIO;
            for (int i = 0; i < 3000 && rc == TRAWL_OK; i++) {
                char *d = make_doc(1000 + i, 2);
                char id[16];
                snprintf(id, sizeof id, "\"f%03d\"", i % 100);
                rc = trawl_writer_add_json(w, d, strlen(d));
                free(d);
            }
            if (rc == TRAWL_OK) rc = trawl_writer_commit(w);
            if (rc != TRAWL_OK) fprintf(stderr, "  (expected) %s\n", w ? trawl_writer_errmsg(w) : "open failed");
            trawl_writer_close(w);
        }
        _exit(rc == TRAWL_OK ? 0 : rc == TRAWL_EIO ? 10 : 11);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 10, "disk full during %s: child %s %d (want exit 10: TRAWL_EIO)",
          merge ? "merge" : "indexing", WIFEXITED(status) ? "exited" : "killed by signal",
          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    CHECK(sound(dir) && holds(dir, &base), "disk full during %s: the previous commit is not intact",
          merge ? "merge" : "indexing");
    printf("  disk full during %s: clean error, previous commit intact\n", merge ? "merge" : "indexing");
    state_free(&base);
}

int main(void) {
    char dir[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/trawl-faults-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char idx[4200];
    snprintf(idx, sizeof idx, "%s/idx", dir);
    const char *only = getenv("TRAWL_FAULT_ONLY"); /* "commit K N" or "merge K N": one run, for debugging */
    if (only) {
        char what[16];
        int k;
        long n;
        if (sscanf(only, "%15s %d %ld", what, &k, &n) == 3) {
            state base = {{0}}, next = {{0}};
            int merge = strcmp(what, "merge") == 0;
            build_base(idx, merge ? 3 : 1, &base);
            arm(k, n);
            int rc = merge ? small_merge(idx) : small_commit(idx, &base, &next);
            armed = 0;
            printf("rc %d, hit %d, sound %d\n", rc, hit, sound(idx));
            state_free(&base);
            state_free(&next);
        }
        return 0;
    }
    inject(idx, 0);
    inject(idx, 1);
    disk_full(idx, 0);
    disk_full(idx, 1);
    rm_rf(dir);
    if (failures) {
        fprintf(stderr, "test_faults: %d failures\n", failures);
        return 1;
    }
    printf("test_faults: ok\n");
    return 0;
}
