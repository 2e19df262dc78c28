/*
 * fuzz_docs.c — fuzz target: a JSON Lines buffer through the whole write path.
 *
 * The input is split at '\n'; each line goes to trawl_writer_add_json (the
 * slice is not NUL-terminated), then the writer commits, the index is opened,
 * searched for a few words of the accepted documents, every accepted id is
 * fetched, and trawl_index_check runs. Malformed JSON, deep nesting, huge
 * strings, invalid UTF-8, NUL bytes and odd ids must give clear errors
 * (TRAWL_EDOC / TRAWL_ELIMIT with a message) and never a crash or a leak.
 *
 * Oracle: jansson parses each line independently (with the writer's
 * documented trimming and duplicate-key rule); a line is accepted exactly
 * when it is a JSON object with a non-empty string "id" and no raw NUL byte
 * (a limit may still refuse it with TRAWL_ELIMIT, and a value that does not
 * fit a typed field of the default schema — read from index/schema.h, not
 * hard-coded — with a message naming that field; an accepted date field holds
 * null, a string or an integer, an accepted number field null or a number).
 * After the commit the index holds one live
 * document per accepted id — the last one added — whose stored text is the
 * trimmed line, and the index passes trawl_index_check.
 *
 * State: libFuzzer calls LLVMFuzzerTestOneInput with no context, so the
 * scratch directory's path is kept in a static buffer, created on the first
 * call and removed at exit.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema.h"
#include "trawl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_seed(size_t i, const uint8_t **data, size_t *len);
static void bail(void);

static char scratch_dir[512]; /* see the state note above */
static tw_schema *schema;     /* the default schema, made on the first call */

/* Does the writer's message em refuse a value of a typed (non-text-only)
 * field of the schema that doc holds (not null)? */
static int typed_refusal(const char *em, json_t *doc) {
    for (size_t i = 0; i < schema->n; i++) {
        const tw_schema_field *f = &schema->f[i];
        json_t *v = json_object_get(doc, f->name);
        char prefix[TW_SCHEMA_MAX_NAME + 16];
        if (f->types == TW_FT_TEXT || !v || json_is_null(v)) continue;
        snprintf(prefix, sizeof prefix, "field \"%s\":", f->name);
        if (strncmp(em, prefix, strlen(prefix)) == 0) return 1;
    }
    return 0;
}

/* The name of a typed field of the schema whose value in an accepted doc has
 * a JSON type that field cannot take, or NULL. */
static const char *misfit(json_t *doc) {
    for (size_t i = 0; i < schema->n; i++) {
        const tw_schema_field *f = &schema->f[i];
        json_t *v = json_object_get(doc, f->name);
        if (!v || json_is_null(v)) continue;
        if ((f->types & TW_FT_DATE) && !json_is_string(v) && !json_is_integer(v)) return f->name;
        if ((f->types & TW_FT_NUMBER) && !json_is_number(v)) return f->name;
    }
    return NULL;
}

static void fail(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_docs: %s: %s\n", what, detail ? detail : "");
    bail();
}

/* Removes every file in the scratch directory (it holds no subdirectories). */
static void clear_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

static void remove_scratch(void) {
    tw_schema_free(schema);
    schema = NULL;
    if (!scratch_dir[0]) return;
    clear_dir(scratch_dir);
    rmdir(scratch_dir);
}

/* Fails the run: removes the scratch directory (atexit does not run on
 * abort), then aborts so that the driver or libFuzzer records the input. */
static void bail(void) {
    remove_scratch();
    abort();
}

/* The scratch index directory: tmpfs when available (commits fsync). */
static const char *scratch(void) {
    if (scratch_dir[0]) return scratch_dir;
    const char *base = getenv("TMPDIR");
    struct stat st;
    if (!base || !*base)
        base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(scratch_dir, sizeof scratch_dir, "%s/trawl-fuzz-docs-XXXXXX", base);
    if (!mkdtemp(scratch_dir)) fail("mkdtemp", scratch_dir);
    atexit(remove_scratch);
    return scratch_dir;
}

typedef struct accepted {
    char *id;         /* NUL-free: jansson refuses \u0000 */
    const char *text; /* trimmed line inside the input */
    size_t len;
} accepted;

/* The writer's trimming: trailing \n \r space tab, leading space tab. */
static void trim(const char **p, size_t *n) {
    while (*n > 0 && ((*p)[*n - 1] == '\n' || (*p)[*n - 1] == '\r' || (*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
    while (*n > 0 && (**p == ' ' || **p == '\t')) (*p)++, (*n)--;
}

/* A few words taken from the string values of doc (for searching). */
static void collect_words(json_t *doc, char words[][32], size_t *nw, size_t max) {
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        if (*nw >= max) return;
        if (!json_is_string(v) || strcmp(key, "id") == 0) continue;
        const char *s = json_string_value(v);
        size_t i = 0, n = json_string_length(v);
        while (i < n && !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            i++;
        size_t k = 0;
        while (i < n && k < 31 &&
               ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            words[*nw][k++] = s[i++];
        if (k) {
            words[*nw][k] = 0;
            (*nw)++;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *dir = scratch();
    clear_dir(dir);
    if (!schema && tw_schema_default(&schema) != TRAWL_OK) fail("default schema", NULL);
    trawl_writer *w = NULL;
    char *msg = NULL;
    if (trawl_writer_open(dir, "english", &w, &msg) != TRAWL_OK) fail("writer_open", msg);
    accepted *acc = NULL;
    size_t nacc = 0, cap = 0, nw = 0;
    char words[8][32];
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *line = p;
        p += n + (nl != NULL);
        int rc = trawl_writer_add_json(w, line, n);
        /* The oracle's view of the line. */
        const char *t = line;
        size_t tn = n;
        trim(&t, &tn);
        json_t *doc = json_loadb(t, tn, JSON_REJECT_DUPLICATES, NULL);
        json_t *id = json_object_get(doc, "id");
        /* A raw NUL byte is refused whatever jansson makes of it. */
        int valid = json_is_object(doc) && json_is_string(id) && json_string_length(id) > 0 && !memchr(t, 0, tn);
        if (rc == TRAWL_OK) {
            if (!valid) {
                fprintf(stderr, "fuzz_docs: add_json accepted a line jansson refuses: [%.*s]\n", (int)n, line);
                bail();
            }
            const char *bad = misfit(doc);
            if (bad) {
                fprintf(stderr, "fuzz_docs: add_json accepted a value field '%s' cannot hold: [%.*s]\n", bad, (int)n,
                        line);
                bail();
            }
            if (nacc == cap) {
                cap = cap ? 2 * cap : 16;
                accepted *na = realloc(acc, cap * sizeof *acc);
                if (!na) fail("out of memory", NULL);
                acc = na;
            }
            acc[nacc].id = strdup(json_string_value(id));
            if (!acc[nacc].id) fail("out of memory", NULL);
            acc[nacc].text = t;
            acc[nacc++].len = tn;
            collect_words(doc, words, &nw, 8);
        } else {
            const char *em = trawl_writer_errmsg(w);
            if (rc != TRAWL_EDOC && rc != TRAWL_ELIMIT) {
                fprintf(stderr, "fuzz_docs: add_json gave %d (%s)\n", rc, em);
                bail();
            }
            if (!em || !*em) fail("add_json failed without a message", NULL);
            /* A value that does not fit a typed field refuses the line, with a
             * message naming the field. */
            if (valid && rc != TRAWL_ELIMIT && !typed_refusal(em, doc)) {
                fprintf(stderr, "fuzz_docs: add_json refused a line jansson accepts (%s): [%.*s]\n", em, (int)n, line);
                bail();
            }
        }
        json_decref(doc);
    }
    if (trawl_writer_pending(w) != nacc)
        fail("pending count differs from the documents accepted", trawl_writer_errmsg(w));
    if (trawl_writer_commit(w) != TRAWL_OK) fail("commit", trawl_writer_errmsg(w));
    trawl_writer_close(w);

    trawl_index *idx = NULL;
    msg = NULL;
    if (trawl_index_open(dir, &idx, &msg) != TRAWL_OK) fail("index_open", msg);
    /* One live document per distinct id: the last one added. */
    uint64_t live = 0;
    for (size_t i = 0; i < nacc; i++) {
        size_t later = i + 1;
        while (later < nacc && strcmp(acc[later].id, acc[i].id) != 0) later++;
        if (later < nacc) continue; /* replaced */
        live++;
        char *json = NULL;
        int rc = trawl_index_get(idx, acc[i].id, &json);
        if (rc != TRAWL_OK || !json || strlen(json) != acc[i].len || memcmp(json, acc[i].text, acc[i].len) != 0) {
            fprintf(stderr, "fuzz_docs: get('%s') gave %d: %zu bytes: %s\nexpected %zu bytes: %.*s\n", acc[i].id, rc,
                    json ? strlen(json) : 0, json ? json : "(null)", acc[i].len, (int)acc[i].len, acc[i].text);
            bail();
        }
        trawl_free(json);
    }
    if (trawl_index_doc_count(idx) != live) {
        fprintf(stderr, "fuzz_docs: %llu documents, expected %llu\n", (unsigned long long)trawl_index_doc_count(idx),
                (unsigned long long)live);
        bail();
    }
    char *json = NULL;
    if (trawl_index_get(idx, "no such id \x01", &json) != TRAWL_ENOTFOUND) fail("get of an unknown id", json);
    for (size_t i = 0; i < nw; i++) {
        trawl_results *res = NULL;
        int rc = trawl_search(idx, words[i], NULL, &res);
        if (rc != TRAWL_OK && rc != TRAWL_ESYNTAX && rc != TRAWL_ELIMIT)
            fail("search", res ? trawl_results_errmsg(res) : words[i]);
        if (rc == TRAWL_OK) {
            if (trawl_results_total(res) > live || trawl_results_count(res) > trawl_results_total(res))
                fail("search counts", words[i]);
            /* Every hit is a live document that get can fetch. */
            for (size_t k = 0; k < trawl_results_count(res); k++) {
                const char *hid = trawl_results_id(res, k);
                char *hj = NULL;
                if (!hid || trawl_index_get(idx, hid, &hj) != TRAWL_OK) fail("a hit's id is not found by get", hid);
                trawl_free(hj);
            }
        }
        trawl_results_free(res);
    }
    trawl_index_close(idx);
    char *report = NULL;
    if (trawl_index_check(dir, &report) != TRAWL_OK) fail("an index the writer produced fails the check", report);
    trawl_free(report);
    for (size_t i = 0; i < nacc; i++) free(acc[i].id);
    free(acc);
    return 0;
}

/* Seeds: typical documents, edge cases of the JSON and of the limits. */
static const char *const seeds[] = {
    "{\"id\": \"a\", \"title\": \"Hello world\", \"body\": \"The quick brown fox\"}\n"
    "{\"id\": \"b\", \"title\": \"Second\", \"tags\": [\"x\", \"y\", 3], \"n\": 1.5, \"o\": {\"k\": \"v\"}}\n"
    "{\"id\": \"a\", \"title\": \"Hello again\"}\n",
    "{\"id\": \"caf\\u00e9\", \"body\": \"na\\u00efve \\ud83d\\ude00 caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\"}\r\n"
    "  {\"id\":\"x y\",\"body\":\"\"}  \n",
    "{\"id\": \"\", \"t\": \"empty id\"}\n{\"t\": \"no id\"}\n{\"id\": 5}\n[1, 2]\n\"str\"\nnull\n",
    "{\"id\": \"dup\", \"a\": \"1\", \"a\": \"2\"}\n{\"id\": \"bad\\u0000nul\"}\n{\"id\": \"u\", \"b\": "
    "\"\xff\xfe\"}\n",
    "{\"id\": \"deep\", \"x\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"d\"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}\n",
    "{\"id\": \"t\", \"body\": \"trailing garbage\"} x\n{\"id\": \"u\", \"body\": \"unterminated\n{\"id\": \"v\",}\n",
    "{\"id\": \"long\", \"body\": "
    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa word\"}\n",
    "{\"id\": \"f\", \"\": \"empty key\", \"id2\": \"x\", \"title\": [\"a b\", \"c d\"], \"t2\": [1, null, \"e\"]}\n",
};

int fuzz_seed(size_t i, const uint8_t **data, size_t *len) {
    static const size_t n = sizeof seeds / sizeof seeds[0];
    if (i < n) {
        *data = (const uint8_t *)seeds[i];
        *len = strlen(seeds[i]);
        return 0;
    }
    if (i == n) { /* deep nesting and a long string: built once */
        static char big[12000];
        if (!big[0]) {
            size_t k = 0;
            k += (size_t)snprintf(big, sizeof big, "{\"id\": \"n\", \"x\": ");
            for (int d = 0; d < 3000; d++) big[k++] = '[';
            for (int d = 0; d < 3000; d++) big[k++] = ']';
            k += (size_t)snprintf(big + k, sizeof big - k, "}\n{\"id\": \"s\", \"body\": \"");
            while (k < sizeof big - 8) big[k] = k % 9 == 0 ? ' ' : (char)('a' + k % 26), k++;
            memcpy(big + k, " z\"}\n", 6);
        }
        *data = (const uint8_t *)big;
        *len = strlen(big);
        return 0;
    }
    return -1;
}
