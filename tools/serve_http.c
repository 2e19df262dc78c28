/*
 * serve_http.c — the libmicrohttpd side of `trawl serve`.
 *
 * libmicrohttpd parses HTTP; this file collects each request's body (refusing
 * one larger than the limit with 413, from Content-Length before reading it
 * when it is given), gathers the query arguments and headers into an
 * srv_request, answers CORS preflights, hands the request to srv_dispatch and
 * turns the srv_response into an HTTP response with the CORS, Allow and
 * Retry-After headers. An ingestion request is suspended until its batch is
 * durable, then resumed and answered. When a request completes, its latency
 * and status go to the metrics and one access-log line goes to stderr.
 */
#include "serve_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* What one request carries between libmicrohttpd's calls. */
typedef struct conn_ctx {
    srv_http *h;
    struct MHD_Connection *conn;
    uint64_t start_ns;
    char *buf;
    size_t len, cap;
    int too_large;
    int route, status;
    size_t bytes_out;
    srv_batch *batch; /* an ingestion waiting for its commit */
    char method[16];
    char logpath[512]; /* the path and the query's argument names */
} conn_ctx;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Is origin one of the allowed CORS origins? */
static int origin_allowed(const srv_config *c, const char *origin) {
    if (!origin) return 0;
    for (size_t i = 0; i < c->norigins; i++)
        if (strcmp(c->origins[i], "*") == 0 || strcmp(c->origins[i], origin) == 0) return 1;
    return 0;
}

/* Adds the CORS headers of an allowed Origin to r. */
static void add_cors(conn_ctx *x, struct MHD_Response *r) {
    const char *origin = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Origin");
    if (!origin_allowed(&x->h->s->cfg, origin)) return;
    MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
    MHD_add_response_header(r, "Vary", "Origin");
}

/* Sends rs on x's connection; returns libmicrohttpd's verdict. */
static enum MHD_Result send_response(conn_ctx *x, srv_response *rs) {
    struct MHD_Response *r;
    const char *type = rs->content_type ? rs->content_type : "application/json";
    if (rs->json) {
        char *text = json_dumps(rs->json, JSON_COMPACT);
        if (!text) return MHD_NO;
        size_t n = strlen(text);
        /* A final newline makes curl output readable. */
        char *t2 = realloc(text, n + 2);
        if (t2) {
            text = t2;
            text[n++] = '\n';
            text[n] = '\0';
        }
        x->bytes_out = n;
        r = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE);
        if (!r) free(text);
    } else if (rs->text) {
        x->bytes_out = rs->text_len;
        r = MHD_create_response_from_buffer(rs->text_len, rs->text, MHD_RESPMEM_MUST_FREE);
        if (r) rs->text = NULL;
    } else {
        x->bytes_out = rs->text_len;
        r = MHD_create_response_from_buffer(rs->text_len, (void *)rs->static_text, MHD_RESPMEM_PERSISTENT);
    }
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    if (rs->allow) MHD_add_response_header(r, "Allow", rs->allow);
    if (rs->retry_after) {
        char ra[24];
        snprintf(ra, sizeof ra, "%u", rs->retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    if (rs->status == 413 || rs->status == 503) MHD_add_response_header(r, "Connection", "close");
    add_cors(x, r);
    x->status = rs->status;
    enum MHD_Result ok = MHD_queue_response(x->conn, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Sends one error. */
static enum MHD_Result send_error(conn_ctx *x, int status, const char *code, const char *msg) {
    srv_response rs = {0};
    srv_error(&rs, status, code, -1, "%s", msg);
    enum MHD_Result ok = send_response(x, &rs);
    srv_response_clear(&rs);
    return ok;
}

typedef struct arg_collect {
    srv_request *rq;
    conn_ctx *x;
    size_t logused;
} arg_collect;

/* Iterator over the query arguments: keeps them in the request. */
static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    srv_request *rq = cls;
    if (rq->nargs == SRV_MAX_ARGS) {
        rq->too_many_args = 1;
        return MHD_NO;
    }
    rq->args[rq->nargs].key = key;
    rq->args[rq->nargs++].value = value;
    return MHD_YES;
}

/* Iterator over the query arguments: their names for the access log. */
static enum MHD_Result log_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind, (void)value;
    arg_collect *a = cls;
    size_t room = sizeof a->x->logpath - a->logused;
    int n =
        snprintf(a->x->logpath + a->logused, room, "%s%s=", a->logused && strchr(a->x->logpath, '?') ? "&" : "?", key);
    if (n < 0 || (size_t)n >= room) return MHD_NO;
    a->logused += (size_t)n;
    return MHD_YES;
}

/* Completion callback of an ingestion batch (ingester thread). */
static void batch_done(srv_batch *b, void *arg) {
    (void)b;
    conn_ctx *x = arg;
    MHD_resume_connection(x->conn);
}

/* Answers an OPTIONS request (CORS preflight). */
static enum MHD_Result preflight(conn_ctx *x, const char *url) {
    int status;
    const char *allow = NULL;
    srv_match("GET", url, NULL, &status, &allow);
    if (status == 404) {
        srv_match("POST", url, NULL, &status, &allow);
        if (status == 404) return send_error(x, 404, "not_found", "no route for this path");
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    const char *origin = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Origin");
    if (origin_allowed(&x->h->s->cfg, origin)) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(r, "Vary", "Origin");
        MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
        MHD_add_response_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type");
        MHD_add_response_header(r, "Access-Control-Max-Age", "600");
    }
    x->status = 204;
    enum MHD_Result ok = MHD_queue_response(x->conn, 204, r);
    MHD_destroy_response(r);
    return ok;
}

/* Runs the complete request through srv_dispatch and answers it (or
 * suspends it for ingestion). */
static enum MHD_Result handle(conn_ctx *x, const char *url, const char *method) {
    srv_request rq;
    memset(&rq, 0, sizeof rq);
    rq.method = method;
    rq.path = url;
    MHD_get_connection_values(x->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &rq);
    rq.authorization = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Authorization");
    rq.content_type = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "Content-Type");
    rq.body = x->buf ? x->buf : "";
    rq.body_len = x->len;
    rq.body_owned = x->buf;
    srv_response rs;
    x->route = srv_dispatch(x->h->s, &rq, &rs);
    if (rq.body_owned == NULL) x->buf = NULL; /* taken by the handler */
    if (rs.pending) {
        x->batch = rs.pending;
        rs.pending = NULL;
        srv_response_clear(&rs);
        MHD_suspend_connection(x->conn);
        srv_ingest_enqueue(x->batch, batch_done, x);
        return MHD_YES;
    }
    enum MHD_Result ok = send_response(x, &rs);
    srv_response_clear(&rs);
    return ok;
}

/* libmicrohttpd's access handler: called once with the headers, then once
 * per piece of body, then once more when the body is complete (and again
 * after a resume). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    (void)version;
    srv_http *h = cls;
    conn_ctx *x = *con_cls;
    if (!x) {
        x = calloc(1, sizeof *x);
        if (!x) return MHD_NO;
        x->h = h;
        x->conn = conn;
        x->start_ns = now_ns();
        int st;
        const char *allow;
        int ri = srv_match(method, url, NULL, &st, &allow); /* the metrics label of early answers */
        x->route = ri >= 0 ? ri : SRV_ROUTE_OTHER;
        snprintf(x->method, sizeof x->method, "%s", method);
        arg_collect a = {NULL, x, 0};
        int n = snprintf(x->logpath, sizeof x->logpath, "%s", url);
        a.logused = n < 0 ? 0 : (size_t)n < sizeof x->logpath ? (size_t)n : sizeof x->logpath - 1;
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, log_arg, &a);
        *con_cls = x;
        atomic_fetch_add(&h->s->metrics.in_flight, 1);
        if (atomic_load(&h->s->state) == SRV_DRAINING && strcmp(url, "/health") != 0)
            return send_error(x, 503, "shutting_down", "the server is shutting down");
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            unsigned long long v = strtoull(cl, &end, 10);
            if (*end == '\0' && v > h->s->cfg.max_body) {
                x->too_large = 1;
                char m[96];
                snprintf(m, sizeof m, "the body is larger than %zu bytes", h->s->cfg.max_body);
                return send_error(x, 413, "payload_too_large", m);
            }
        }
        return MHD_YES;
    }
    if (x->batch) { /* resumed: the batch is durable or failed */
        srv_response rs = {0};
        int st;
        rs.json = srv_batch_result(x->batch, &st);
        rs.status = st;
        srv_batch_free(x->batch);
        x->batch = NULL;
        if (!rs.json) srv_error(&rs, 500, "internal", -1, "out of memory");
        enum MHD_Result ok = send_response(x, &rs);
        srv_response_clear(&rs);
        return ok;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (x->too_large) return MHD_YES;
        if (x->len + n > h->s->cfg.max_body) {
            x->too_large = 1;
            free(x->buf);
            x->buf = NULL;
            x->len = x->cap = 0;
            return MHD_YES;
        }
        if (x->len + n + 1 > x->cap) {
            size_t cap = x->cap ? x->cap : 4096;
            while (cap < x->len + n + 1) cap *= 2;
            char *nb = realloc(x->buf, cap);
            if (!nb) return MHD_NO;
            x->buf = nb;
            x->cap = cap;
        }
        memcpy(x->buf + x->len, upload_data, n);
        x->len += n;
        x->buf[x->len] = '\0';
        return MHD_YES;
    }
    if (x->status) return MHD_YES; /* answered already (413 from Content-Length) */
    if (x->too_large) {
        char m[96];
        snprintf(m, sizeof m, "the body is larger than %zu bytes", h->s->cfg.max_body);
        return send_error(x, 413, "payload_too_large", m);
    }
    if (strcmp(method, "OPTIONS") == 0) return preflight(x, url);
    return handle(x, url, method);
}

/* libmicrohttpd's completion callback: metrics, access log, cleanup. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)conn, (void)toe;
    srv_http *h = cls;
    conn_ctx *x = *con_cls;
    if (!x) return;
    uint64_t us = (now_ns() - x->start_ns) / 1000;
    srv_metrics_record(&h->s->metrics, x->route, x->status, us);
    if (!h->s->cfg.quiet) {
        char ts[32], line[800];
        struct timespec now;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        int n = snprintf(line, sizeof line, "%s.%03ldZ %s %s %d %lluus %zuB\n", ts, now.tv_nsec / 1000000, x->method,
                         x->logpath, x->status, (unsigned long long)us, x->bytes_out);
        if (n > 0) {
            size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
            /* One write per line keeps lines whole between threads. */
            ssize_t w = write(STDERR_FILENO, line, len);
            (void)w;
        }
    }
    if (x->batch) srv_batch_free(x->batch);
    free(x->buf);
    free(x);
    *con_cls = NULL;
    atomic_fetch_sub(&h->s->metrics.in_flight, 1);
}

int srv_http_start(srv_http *h, srv_server *s, int listen_fd, const srv_http_options *o) {
    h->s = s;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (o->thread_per_connection)
        flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    else
        flags |= MHD_USE_EPOLL;
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)o->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)o->header_bytes,
        o->thread_per_connection ? MHD_OPTION_END : MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads, MHD_OPTION_END);
    return h->daemon ? 0 : -1;
}

int srv_http_quiesce(srv_http *h) {
    return h->daemon ? MHD_quiesce_daemon(h->daemon) : -1;
}

void srv_http_stop(srv_http *h) {
    if (h->daemon) MHD_stop_daemon(h->daemon);
    h->daemon = NULL;
}
