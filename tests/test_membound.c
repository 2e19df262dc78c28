/*
 * test_membound.c — the writer's memory budget bounds its peak resident memory.
 *
 * A child process opens a writer with a 32 MiB budget and one analysis thread
 * and adds generated documents (random words of a Zipf-like vocabulary of
 * 60,000 words, about 1 KB each, several times the budget in all), made one at
 * a time so that the generator holds nothing. It reports its resident memory
 * before the writer was opened and its peak (getrusage) after the commit; the
 * parent asserts peak - before <= 1.5 x budget (README, "Memory bound"). The
 * oracle that the budget was really exercised: the index has several
 * segments and a word every document holds counts every document, and a word
 * only the documents with a multiple-of-7 number hold counts those. Under
 * AddressSanitizer the shadow memory and quarantine make resident memory
 * meaningless: the run is shorter and the bound is only printed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trawl.h"
#include "testutil.h"

static int failures;

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define BUDGET_MB 32u
#define VOCAB 60000u

/* Resident memory of this process now, in KiB (VmRSS), or -1. */
static long rss_now_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) v = strtol(line + 6, NULL, 10);
    fclose(f);
    return v;
}

/* Word number k of the vocabulary, spelled in letters (never a stop word:
 * at least 4 letters, starting with 'q'). */
static void word(uint32_t k, char *out) {
    int n = 0;
    out[n++] = 'q';
    do {
        out[n++] = (char)('a' + k % 26);
        k /= 26;
    } while (k);
    while (n < 5) out[n++] = 'z';
    out[n] = 0;
}

/* The child: indexes ndocs documents into dir, writes "before peak" (KiB) to fd. */
static int child(const char *dir, uint32_t ndocs, int fd) {
    long before = rss_now_kib();
    trawl_open_options *o = trawl_open_options_new();
    if (!o || trawl_open_options_set_ram_mb(o, BUDGET_MB) || trawl_open_options_set_threads(o, 1)) return 1;
    trawl_writer *w;
    char *msg = NULL;
    if (trawl_writer_open_v2(dir, "english", o, &w, &msg) != 0) {
        fprintf(stderr, "open: %s\n", msg ? msg : "?");
        return 1;
    }
    trawl_open_options_free(o);
    trawl_writer_set_auto_merge(w, 0);
    rng r = {12345};
    char *doc = xmalloc(8192);
    for (uint32_t d = 0; d < ndocs; d++) {
        int n = snprintf(doc, 8192, "{\"id\":\"d%" PRIu32 "\",\"title\":\"everyone%s\",\"body\":\"", d,
                         d % 7 == 0 ? " sevenfold" : "");
        uint32_t words = 120 + (uint32_t)below(&r, 80);
        for (uint32_t i = 0; i < words; i++) {
            /* Zipf-like: the square of a uniform number favours low ranks. */
            double u = (double)(rnd(&r) >> 11) / (double)(1ull << 53);
            char wd[16];
            word((uint32_t)(u * u * VOCAB), wd);
            n += snprintf(doc + n, (size_t)(8192 - n), "%s%s", i ? " " : "", wd);
        }
        n += snprintf(doc + n, (size_t)(8192 - n), "\"}");
        if (trawl_writer_add_json(w, doc, (size_t)n) != 0) {
            fprintf(stderr, "add: %s\n", trawl_writer_errmsg(w));
            return 1;
        }
    }
    free(doc);
    if (trawl_writer_commit(w) != 0) {
        fprintf(stderr, "commit: %s\n", trawl_writer_errmsg(w));
        return 1;
    }
    trawl_writer_close(w);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char out[64];
    int k = snprintf(out, sizeof out, "%ld %ld\n", before, ru.ru_maxrss);
    return write(fd, out, (size_t)k) == k ? 0 : 1;
}

static uint64_t count(const trawl_index *idx, const char *q) {
    trawl_results *res = NULL;
    uint64_t n = trawl_search(idx, q, NULL, &res) == 0 ? trawl_results_total(res) : UINT64_MAX;
    trawl_results_free(res);
    return n;
}

int main(void) {
    char tmpl[] = "/tmp/trawl-membound-XXXXXX";
    char *base = mkdtemp(tmpl);
    if (!base) return 1;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/ix", base);
    uint32_t ndocs = UNDER_ASAN ? 8000 : 70000;
    int pfd[2];
    if (pipe(pfd) != 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        _exit(child(dir, ndocs, pfd[1]));
    }
    close(pfd[1]);
    char buf[64] = "";
    ssize_t got = read(pfd[0], buf, sizeof buf - 1);
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the indexing child failed (status %d)", st);
    long before = 0, peak = 0;
    CHECK(got > 0 && sscanf(buf, "%ld %ld", &before, &peak) == 2, "no report from the child");
    long limit = (long)BUDGET_MB * 1024 * 3 / 2;
    printf("budget %u MiB: resident before the writer %ld KiB, peak %ld KiB, growth %ld KiB (bound %ld KiB)\n",
           BUDGET_MB, before, peak, peak - before, limit);
    if (UNDER_ASAN)
        printf("AddressSanitizer: shadow memory and quarantine make the peak meaningless; bound not asserted\n");
    else
        CHECK(peak - before <= limit, "peak growth %ld KiB over 1.5 x %u MiB", peak - before, BUDGET_MB);

    /* The budget was exercised and nothing was lost. */
    size_t segs = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        segs += strncmp(e->d_name, "seg-", 4) == 0 && strstr(e->d_name, ".tws") != NULL;
    if (d) closedir(d);
    CHECK(segs >= (UNDER_ASAN ? 1u : 3u), "%zu segments: the budget did not cut any", segs);
    trawl_index *idx;
    char *msg = NULL;
    if (trawl_index_open(dir, &idx, &msg) == 0) {
        CHECK(count(idx, "everyone") == ndocs, "everyone: %" PRIu64 " of %" PRIu32, count(idx, "everyone"), ndocs);
        uint64_t seven = (ndocs + 6) / 7;
        CHECK(count(idx, "sevenfold") == seven, "sevenfold: %" PRIu64 " of %" PRIu64, count(idx, "sevenfold"), seven);
        trawl_index_close(idx);
    } else {
        CHECK(0, "open: %s", msg ? msg : "?");
    }
    free(msg);
    rm_rf(base);
    if (failures) return 1;
    printf("test_membound: ok (%zu segments)\n", segs);
    return 0;
}
