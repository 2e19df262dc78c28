/*
 * util.c — trawl-bench helpers shared by every subcommand and adapter: query
 * files into word lists, JSON Lines corpora into documents (jansson), result
 * buffers, the clock, file sizes and tree removal, JSON string output.
 */
#include "bench.h"

#include <errno.h>
#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const class_names[BENCH_NCLASSES] = {"and", "or", "phrase", "count"};

const char *bench_class_name(bench_class c) {
    return (unsigned)c < BENCH_NCLASSES ? class_names[c] : "?";
}

int bench_class_parse(const char *s) {
    for (int i = 0; i < BENCH_NCLASSES; i++)
        if (strcmp(s, class_names[i]) == 0) return i;
    return -1;
}

void bench_seterr(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Is byte c part of a query word? ASCII letters and digits, and every
 * non-ASCII byte (so UTF-8 words stay whole). */
static int word_byte(unsigned char c) {
    return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Splits line[0..len) into lowercased words appended to q. Returns 0 or -1 (OOM). */
int bench_query_split(const char *line, size_t len, bench_query *q) {
    size_t i = 0, cap = 0;
    while (i < len) {
        while (i < len && !word_byte((unsigned char)line[i])) i++;
        size_t start = i;
        while (i < len && word_byte((unsigned char)line[i])) i++;
        if (i == start) break;
        if (q->nwords == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            char **nw = realloc(q->words, ncap * sizeof *nw);
            if (!nw) return -1;
            q->words = nw;
            cap = ncap;
        }
        char *w = malloc(i - start + 1);
        if (!w) return -1;
        for (size_t j = start; j < i; j++) {
            char c = line[j];
            w[j - start] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        w[i - start] = '\0';
        q->words[q->nwords++] = w;
    }
    return 0;
}

void bench_query_free(bench_query *q) {
    for (size_t i = 0; i < q->nwords; i++) free(q->words[i]);
    free(q->words);
    q->words = NULL;
    q->nwords = 0;
}

int bench_queries_load(const char *path, bench_queries *out, char *err, size_t errlen) {
    out->q = NULL;
    out->n = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        bench_seterr(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &linecap, f)) >= 0) {
        bench_query q = {NULL, 0};
        if (bench_query_split(line, (size_t)len, &q) != 0) {
            bench_query_free(&q);
            rc = -1;
            bench_seterr(err, errlen, "out of memory");
            break;
        }
        if (q.nwords == 0) {
            bench_query_free(&q);
            continue;
        }
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            bench_query *nq = realloc(out->q, ncap * sizeof *nq);
            if (!nq) {
                bench_query_free(&q);
                rc = -1;
                bench_seterr(err, errlen, "out of memory");
                break;
            }
            out->q = nq;
            cap = ncap;
        }
        out->q[out->n++] = q;
    }
    if (rc == 0 && ferror(f)) {
        bench_seterr(err, errlen, "%s: read error", path);
        rc = -1;
    }
    free(line);
    fclose(f);
    if (rc != 0) bench_queries_free(out);
    return rc;
}

void bench_queries_free(bench_queries *qs) {
    for (size_t i = 0; i < qs->n; i++) bench_query_free(&qs->q[i]);
    free(qs->q);
    qs->q = NULL;
    qs->n = 0;
}

void bench_result_reset(bench_result *r) {
    r->total = 0;
    r->n = 0;
    r->used = 0;
}

int bench_result_add(bench_result *r, const char *id, size_t len) {
    if (r->used + len + 1 > r->cap) {
        size_t ncap = r->cap ? r->cap : 256;
        while (ncap < r->used + len + 1) ncap *= 2;
        char *nb = realloc(r->buf, ncap);
        if (!nb) return -1;
        r->buf = nb;
        r->cap = ncap;
    }
    if (r->n == r->offcap) {
        size_t ncap = r->offcap ? r->offcap * 2 : 16;
        size_t *no = realloc(r->off, ncap * sizeof *no);
        if (!no) return -1;
        r->off = no;
        r->offcap = ncap;
    }
    memcpy(r->buf + r->used, id, len);
    r->buf[r->used + len] = '\0';
    r->off[r->n++] = r->used;
    r->used += len + 1;
    return 0;
}

void bench_result_free(bench_result *r) {
    free(r->buf);
    free(r->off);
    memset(r, 0, sizeof *r);
}

/* Reads field name of object o as a string: "" when missing, NULL when present
 * but not a string. */
static const char *str_field(json_t *o, const char *name, size_t *len) {
    json_t *v = json_object_get(o, name);
    if (!v) {
        *len = 0;
        return "";
    }
    if (!json_is_string(v)) return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

int bench_corpus_each(const char *path, bench_doc_fn fn, void *ctx, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        bench_seterr(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t linecap = 0;
    ssize_t len;
    int rc = 0;
    uint64_t lineno = 0;
    while (rc == 0 && (len = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        size_t n = (size_t)len;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        if (n == 0) continue;
        json_error_t jerr;
        json_t *o = json_loadb(line, n, JSON_ALLOW_NUL, &jerr);
        if (!o || !json_is_object(o)) {
            bench_seterr(err, errlen, "%s:%llu: not a JSON object (%s)", path, (unsigned long long)lineno,
                         o ? "wrong type" : jerr.text);
            json_decref(o);
            rc = -1;
            break;
        }
        bench_doc d;
        d.id = str_field(o, "id", &d.id_len);
        d.title = str_field(o, "title", &d.title_len);
        d.body = str_field(o, "body", &d.body_len);
        d.line = line;
        d.line_len = n;
        if (!d.id || d.id_len == 0 || !d.title || !d.body) {
            bench_seterr(err, errlen, "%s:%llu: needs a string \"id\" and string \"title\"/\"body\"", path,
                         (unsigned long long)lineno);
            rc = -1;
        } else {
            rc = fn(ctx, &d, err, errlen);
        }
        json_decref(o);
    }
    if (rc == 0 && ferror(f)) {
        bench_seterr(err, errlen, "%s: read error", path);
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Adds the apparent sizes of the files under path (recursing into directories,
 * not following symbolic links) to *total. */
static void tree_bytes(const char *path, uint64_t *total) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISREG(st.st_mode)) *total += (uint64_t)st.st_size;
    if (!S_ISDIR(st.st_mode)) return;
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *child = malloc(strlen(path) + strlen(e->d_name) + 2);
        if (!child) break;
        sprintf(child, "%s/%s", path, e->d_name);
        tree_bytes(child, total);
        free(child);
    }
    closedir(d);
}

uint64_t bench_path_bytes(const char *path) {
    uint64_t total = 0;
    tree_bytes(path, &total);
    return total;
}

int bench_rmtree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path);
    DIR *d = opendir(path);
    if (!d) return -1;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *child = malloc(strlen(path) + strlen(e->d_name) + 2);
        if (!child) {
            rc = -1;
            break;
        }
        sprintf(child, "%s/%s", path, e->d_name);
        if (bench_rmtree(child) != 0) rc = -1;
        free(child);
    }
    closedir(d);
    if (rmdir(path) != 0) rc = -1;
    return rc;
}

void bench_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}
