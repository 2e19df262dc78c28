/*
 * fuzz_http.c — fuzz target: the request handler of `trawl serve` without
 * sockets (route matching, keys, parameter and body parsing, ingestion).
 *
 * Input format: a first line "METHOD TARGET" (TARGET: a path with an optional
 * ?query string, split at & and = without percent-decoding, the way
 * libmicrohttpd hands arguments over after decoding), then header lines
 * "Name: value" (Authorization and Content-Type are used) up to an empty
 * line, then the body. The request goes to srv_dispatch on a server with an
 * admin key, a search key and a --data directory holding one small index;
 * an ingestion batch is queued and waited for.
 *
 * Oracle: every answer is a status the API documents; an error answer
 * (>= 400) is {"error": {"code": string, "message": string}}; a route that
 * srv_match finds for the method and path is the route that answered; a
 * successful search has at most limit hits and total >= hits; a deletion
 * reports a count; a successful ingestion reports added + replaced + failed lines <= lines (or array
 * elements: commas + 1) in the body.
 *
 * State: the server lives across inputs (libFuzzer gives no context); after
 * each input, indexes created by PUT are removed and the fuzzed index is
 * rebuilt when ingestion made it large. Removed at exit.
 */
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_seed(size_t i, const uint8_t **data, size_t *len);

#define ADMIN "admin-key-fuzz"
#define SEARCH "search-key-fuzz"

static char scratch_dir[512];
static char data_dir[600];
static srv_server server;
static int ready;

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st, (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void cleanup(void) {
    if (ready) srv_server_free(&server);
    ready = 0;
    if (scratch_dir[0]) nftw(scratch_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_http: %s: %s\n", what, detail ? detail : "");
    if (scratch_dir[0]) nftw(scratch_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    abort();
}

/* Creates the index "f" under the data directory with a few documents. */
static void make_index(void) {
    char msg[256];
    if (srv_index_create(&server, "f", msg, sizeof msg) != 0) die("create f", msg);
    srv_index *ix = srv_index_get(&server, "f");
    static const char docs[] = "{\"id\":\"a\",\"title\":\"alpha beta\",\"body\":\"gamma delta alpha\"}\n"
                               "{\"id\":\"b/c\",\"title\":\"beta\",\"body\":\"epsilon caf\\u00e9\"}\n"
                               "{\"id\":\"d\",\"body\":\"alpha alpha alpha\"}\n";
    char *body = malloc(sizeof docs);
    memcpy(body, docs, sizeof docs);
    if (srv_ingest_admit(ix, sizeof docs - 1) != 0) die("admit", NULL);
    srv_batch *b = srv_batch_new(ix, body, sizeof docs - 1);
    if (!b) die("batch", NULL);
    srv_ingest_wait(b);
    if (b->status != 200 || b->added != 3) die("seeding f", b->message);
    srv_batch_free(b);
    srv_index_release(ix);
}

static void setup(void) {
    const char *base = getenv("TMPDIR");
    struct stat st;
    if (!base || !*base)
        base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(scratch_dir, sizeof scratch_dir, "%s/trawl-fuzz-http-XXXXXX", base);
    if (!mkdtemp(scratch_dir)) die("mkdtemp", scratch_dir);
    snprintf(data_dir, sizeof data_dir, "%s/data", scratch_dir);
    if (mkdir(data_dir, 0777) != 0) die("mkdir", data_dir);
    srv_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.admin_key = ADMIN;
    cfg.search_key = SEARCH;
    cfg.data_dir = data_dir;
    cfg.max_body = 1 << 20;
    cfg.max_query = 256;
    cfg.max_queue = 1 << 20;
    cfg.commit_delay_ms = 0;
    cfg.quiet = 1;
    if (srv_server_init(&server, &cfg) != 0) die("init", NULL);
    atomic_store(&server.state, SRV_READY);
    ready = 1;
    atexit(cleanup);
    make_index();
}

/* After each input: only "f" stays, and it stays small. */
static void tidy(void) {
    srv_index **list;
    size_t n;
    char msg[256];
    if (srv_index_list(&server, &list, &n) != 0) die("list", NULL);
    int rebuild = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = list[i]->name;
        int is_f = strcmp(name, "f") == 0;
        srv_ingest_quiesce(list[i]); /* no merge left running into the next input */
        if (is_f) {
            srv_snap *sn = srv_snap_get(list[i]);
            rebuild = sn->segments > 16;
            srv_snap_release(sn);
        }
        char keep[SRV_NAME_MAX + 1];
        snprintf(keep, sizeof keep, "%s", name);
        srv_index_release(list[i]);
        if (!is_f && srv_index_remove(&server, keep, msg, sizeof msg) != 0) die("remove", msg);
    }
    free(list);
    srv_index *f = srv_index_get(&server, "f");
    if (f) srv_index_release(f);
    if (!f || rebuild) {
        if (f && srv_index_remove(&server, "f", msg, sizeof msg) != 0) die("remove f", msg);
        make_index();
    }
}

static int documented_status(int st) {
    static const int ok[] = {200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413, 414, 415, 429, 500, 501, 503};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (ok[i] == st) return 1;
    return 0;
}

/* Checks an answer against the oracle described at the top. */
static void check_answer(const srv_request *rq, int route, int status, json_t *j, size_t body_lines) {
    if (!documented_status(status)) die("undocumented status", rq->path);
    if (status >= 400) {
        json_t *e = json_object_get(j, "error");
        if (!json_is_string(json_object_get(e, "code")) || !json_is_string(json_object_get(e, "message")))
            die("error answer without code and message", rq->path);
        return;
    }
    if (route >= (int)srv_nroutes) die("a success without a route", rq->path);
    int st;
    const char *allow = NULL;
    if (srv_match(rq->method, rq->path, NULL, &st, &allow) != route) die("srv_match disagrees", rq->path);
    const char *metric = srv_routes[route].metric;
    if (strcmp(metric, "search") == 0 && j) {
        size_t hits = json_array_size(json_object_get(j, "hits"));
        json_int_t total = json_integer_value(json_object_get(j, "total"));
        json_int_t limit = json_integer_value(json_object_get(j, "limit"));
        if ((json_int_t)hits > limit || (json_int_t)hits > total) die("search counts", rq->path);
    }
    if (strcmp(metric, "documents_delete") == 0 && j) {
        json_t *d = json_object_get(j, "deleted");
        if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > 100000)
            die("deletion count", rq->path);
    }
    if (strcmp(metric, "documents_add") == 0 && j) {
        json_int_t n = json_integer_value(json_object_get(j, "added")) +
                       json_integer_value(json_object_get(j, "replaced")) +
                       (json_int_t)json_array_size(json_object_get(j, "failed"));
        if (n > (json_int_t)body_lines + 1) die("ingestion counts more documents than lines", rq->path);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) setup();
    /* Copy into a NUL-terminated buffer to cut into strings. */
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    srv_request rq;
    memset(&rq, 0, sizeof rq);
    char *p = buf, *end = buf + size;
    char *nl = memchr(p, '\n', (size_t)(end - p));
    char *line_end = nl ? nl : end;
    *line_end = '\0';
    char *sp = strchr(p, ' ');
    if (!sp) {
        free(buf);
        return 0;
    }
    *sp = '\0';
    rq.method = p;
    char *target = sp + 1;
    char *qs = strchr(target, '?');
    if (qs) {
        *qs++ = '\0';
        while (qs && *qs) {
            char *amp = strchr(qs, '&');
            if (amp) *amp++ = '\0';
            char *eq = strchr(qs, '=');
            if (eq) *eq++ = '\0';
            if (rq.nargs == SRV_MAX_ARGS) {
                rq.too_many_args = 1;
                break;
            }
            rq.args[rq.nargs].key = qs;
            rq.args[rq.nargs++].value = eq;
            qs = amp;
        }
    }
    rq.path = target;
    p = nl ? nl + 1 : end;
    while (p < end) { /* headers up to an empty line */
        nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        *e = '\0';
        if (e > p && e[-1] == '\r') e[-1] = '\0';
        if (!*p) {
            p = nl ? nl + 1 : end;
            break;
        }
        if (strncmp(p, "Authorization: ", 15) == 0) rq.authorization = p + 15;
        if (strncmp(p, "Content-Type: ", 14) == 0) rq.content_type = p + 14;
        p = nl ? nl + 1 : end;
    }
    rq.body = p;
    rq.body_len = (size_t)(end - p);
    size_t lines = 0;
    for (const char *c = rq.body; c < end; c++) lines += *c == '\n' || *c == ',';
    srv_response rs;
    int route = srv_dispatch(&server, &rq, &rs);
    int status = rs.status;
    json_t *answer = rs.json ? json_incref(rs.json) : NULL;
    if (rs.pending) {
        srv_batch *b = rs.pending;
        rs.pending = NULL;
        srv_ingest_wait(b);
        json_decref(answer);
        answer = srv_batch_result(b, &status);
        srv_batch_free(b);
    }
    if (rs.text && route < (int)srv_nroutes && strcmp(srv_routes[route].metric, "document") == 0) {
        json_t *doc = json_loadb(rs.text, rs.text_len, 0, NULL);
        if (!json_is_object(doc)) die("a stored document that is not a JSON object", rs.text);
        json_decref(doc);
    }
    check_answer(&rq, route, status, answer, lines);
    json_decref(answer);
    srv_response_clear(&rs);
    free(buf);
    tidy();
    return 0;
}

static const char *const seeds[] = {
    "GET /indexes/f/search?q=alpha&limit=2&offset=0&op=or&highlight=false\nAuthorization: Bearer " SEARCH "\n\n",
    "POST /indexes/f/search\nAuthorization: Bearer " SEARCH "\nContent-Type: application/json\n\n"
    "{\"q\": \"alpha OR \\\"beta gamma\\\"\", \"limit\": 5, \"fields\": [\"title\"], \"explain\": true}",
    "POST /indexes/f/search\nAuthorization: Bearer " ADMIN "\n\n{\"q\": \"(alpha\", \"facets\": [\"x\"]}",
    "POST /indexes/f/documents\nAuthorization: Bearer " ADMIN "\nContent-Type: application/x-ndjson\n\n"
    "{\"id\":\"n1\",\"body\":\"new words\"}\n{\"id\":\"a\",\"title\":\"replaced\"}\nnot json\n{\"id\":5}\n",
    "POST /indexes/f/documents\nAuthorization: Bearer " ADMIN "\n\n[{\"id\":\"x\",\"t\":\"y\"}, 3, {\"no\":\"id\"}]",
    "GET /indexes/f/documents/b/c\nAuthorization: Bearer " SEARCH "\n\n",
    "PUT /indexes/tmp1\nAuthorization: Bearer " ADMIN "\n\n",
    "DELETE /indexes/f\nAuthorization: Bearer " ADMIN "\n\n",
    "PUT /indexes/..\nAuthorization: Bearer " ADMIN "\n\n",
    "GET /indexes/f/stats\nAuthorization: Bearer " SEARCH "\n\n",
    "GET /health\n\n",
    "GET /metrics\nAuthorization: Bearer " SEARCH "\n\n",
    "GET /openapi.json\n\n",
    "GET /\n\n",
    "BREW /indexes/f/documents/delete\n\n",
    "POST /indexes/f/documents/delete\nAuthorization: Bearer " ADMIN "\n\n{\"ids\": [\"a\", \"zz\"]}",
    "POST /indexes/f/documents/delete\nAuthorization: Bearer " ADMIN "\n\n{\"query\": \"gamma OR epsilon\"}",
    "DELETE /indexes/f/documents/b/c\nAuthorization: Bearer " ADMIN "\n\n",
    "GET /indexes\nAuthorization: Bearer wrong\n\n",
};

int fuzz_seed(size_t i, const uint8_t **data, size_t *len) {
    if (i >= sizeof seeds / sizeof seeds[0]) return -1;
    *data = (const uint8_t *)seeds[i];
    *len = strlen(seeds[i]);
    return 0;
}
