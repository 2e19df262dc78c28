/*
 * util.c — trawl-bench helpers shared by every subcommand and adapter: query
 * files into word lists, JSON Lines corpora into documents (jansson), result
 * buffers, the clock and latency percentiles, the work directory, file sizes
 * and tree removal, JSON string output.
 */
#include "bench.h"

#include <errno.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
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

/* Days since 1970-01-01 of the civil date y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads exactly n decimal digits at *p (advancing it) into *v; -1 if not digits. */
static int digits(const char **p, int n, int *v) {
    *v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return -1;
        *v = *v * 10 + (c - '0');
    }
    *p += n;
    return 0;
}

int bench_parse_date(const char *s, int64_t *out) {
    int y, mo, d, h = 0, mi = 0, se = 0;
    const char *p = s;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d)) return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return -1;
    int64_t off = 0;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi)) return -1;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &se)) return -1;
            if (*p == '.')
                for (p++; *p >= '0' && *p <= '9'; p++) {}
        }
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om)) return -1;
            off = sign * (oh * 3600 + om * 60);
        }
    }
    if (*p) return -1;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
    return 0;
}

/* The civil date and time of day of epoch seconds t (UTC). */
static void civil(int64_t t, int64_t *y, int *m, int *d, int64_t *sec) {
    int64_t days = (t >= 0 ? t : t - 86399) / 86400;
    *sec = t - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void bench_month(int64_t t, char *buf) {
    int64_t y, sec;
    int m, d;
    civil(t, &y, &m, &d, &sec);
    unsigned yy = (unsigned)((y % 10000 + 10000) % 10000), mm = (unsigned)m;
    buf[0] = (char)('0' + yy / 1000);
    buf[1] = (char)('0' + yy / 100 % 10);
    buf[2] = (char)('0' + yy / 10 % 10);
    buf[3] = (char)('0' + yy % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + mm / 10);
    buf[6] = (char)('0' + mm % 10);
    buf[7] = '\0';
}

void bench_iso(int64_t t, char *buf) {
    int64_t y, sec;
    int m, d;
    civil(t, &y, &m, &d, &sec);
    snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)(y % 10000), m % 100, d % 100, (int)(sec / 3600) % 100,
             (int)(sec / 60 % 60), (int)(sec % 60));
}

/* Fills d's dated fields from the JSON object o (see bench_doc); the tag
 * pointer arrays are grown in *tv, *tl (capacity *cap) and reused. Returns 0 or
 * -1 (out of memory). A field of the wrong type is treated as missing. */
static int doc_meta(json_t *o, bench_doc *d, const char ***tv, size_t **tl, size_t *cap) {
    json_t *v = json_object_get(o, "date");
    if (json_is_integer(v)) {
        d->has_date = 1;
        d->date = (int64_t)json_integer_value(v);
    } else if (json_is_string(v) && bench_parse_date(json_string_value(v), &d->date) == 0) {
        d->has_date = 1;
    }
    size_t len;
    const char *s = str_field(o, "source", &len);
    d->source = s ? s : "";
    d->source_len = s ? len : 0;
    s = str_field(o, "author", &len);
    d->author = s ? s : "";
    d->author_len = s ? len : 0;
    json_t *t = json_object_get(o, "tags");
    size_t n = json_is_array(t) ? json_array_size(t) : json_is_string(t) ? 1 : 0;
    if (n > *cap) {
        size_t ncap = n * 2;
        const char **nv = realloc((void *)*tv, ncap * sizeof *nv);
        if (!nv) return -1;
        *tv = nv;
        size_t *nl = realloc(*tl, ncap * sizeof *nl);
        if (!nl) return -1;
        *tl = nl;
        *cap = ncap;
    }
    d->ntags = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_is_array(t) ? json_array_get(t, i) : t;
        if (!json_is_string(e)) continue;
        (*tv)[d->ntags] = json_string_value(e);
        (*tl)[d->ntags++] = json_string_length(e);
    }
    d->tags = *tv;
    d->tag_len = *tl;
    return 0;
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
    const char **tagv = NULL;
    size_t *taglen = NULL, tagcap = 0;
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
        memset(&d, 0, sizeof d);
        if (doc_meta(o, &d, &tagv, &taglen, &tagcap) != 0) {
            bench_seterr(err, errlen, "out of memory");
            json_decref(o);
            rc = -1;
            break;
        }
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
    free(tagv);
    free(taglen);
    fclose(f);
    return rc;
}

uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile p (0..1] of sorted[0..n), n > 0, in microseconds. */
static double percentile_us(const uint64_t *sorted, size_t n, double p) {
    size_t rank = (size_t)ceil(p * (double)n);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return (double)sorted[rank - 1] / 1e3;
}

void bench_latency_summary(uint64_t *lat, size_t n, bench_latency *out) {
    memset(out, 0, sizeof *out);
    if (n == 0) return;
    qsort(lat, n, sizeof *lat, cmp_u64);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += lat[i];
    out->p50_us = percentile_us(lat, n, 0.50);
    out->p90_us = percentile_us(lat, n, 0.90);
    out->p99_us = percentile_us(lat, n, 0.99);
    out->mean_us = (double)sum / (double)n / 1e3;
}

int bench_workdir(char *buf, size_t cap, int *made) {
    const char *wd = getenv("BENCH_WORKDIR");
    *made = 0;
    if (wd && *wd) {
        if ((size_t)snprintf(buf, cap, "%s", wd) >= cap) {
            fprintf(stderr, "trawl-bench: BENCH_WORKDIR too long\n");
            return -1;
        }
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "trawl-bench: %s: %s\n", buf, strerror(errno));
            return -1;
        }
        return 0;
    }
    snprintf(buf, cap, "/tmp/trawl-bench.XXXXXX");
    if (!mkdtemp(buf)) {
        fprintf(stderr, "trawl-bench: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    *made = 1;
    return 0;
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
