/*
 * serve.h — shared declarations of `trawl serve`, the HTTP server over trawl
 * indexes.
 *
 * The server is split by concept, each file over the public API only
 * (include/trawl.h): serve.c (command line, listening socket, signals,
 * drain), serve_http.c (libmicrohttpd glue: bodies, limits, CORS, access log),
 * serve_routes.c (the route table, keys and the request handler that does not
 * know about sockets: srv_dispatch), serve_search.c (search, documents, stats),
 * serve_indexes.c (the registry of named indexes, refcounted snapshots,
 * reopen, create/remove), serve_ingest.c (one writer per index, group
 * commit), serve_metrics.c (Prometheus counters), serve_page.c (the search
 * page) and serve_openapi.c (the API description).
 *
 * Requests reach srv_dispatch as an srv_request (method, decoded path, query
 * arguments, a few headers and the whole body) and leave as an srv_response
 * (status plus a JSON value or a text body). Ingestion answers later: the
 * handler returns a pending batch that the HTTP layer hands to the index's
 * ingester once the connection is suspended.
 */
#ifndef TRAWL_SERVE_H
#define TRAWL_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "trawl.h"

/* ------------------------------------------------------------------------ */
/* Limits and configuration                                                  */

#define SRV_NAME_MAX 64       /* index names: [A-Za-z0-9_-.], not starting with '.' */
#define SRV_MAX_LIMIT 1000    /* largest "limit" of a search */
#define SRV_MAX_OFFSET 100000 /* largest "offset" of a search */
#define SRV_MAX_ARGS 32       /* query-string arguments kept per request */
#define SRV_MAX_ORIGINS 16    /* --cors-origin values */
#define SRV_MAX_FIELDS 64     /* "fields" asked per search */

typedef struct srv_config {
    const char *admin_key, *search_key; /* NULL: not set */
    const char *origins[SRV_MAX_ORIGINS];
    size_t norigins;
    const char *data_dir;                   /* --data: where PUT /indexes/{name} creates; NULL: none */
    size_t max_body;                        /* bytes of a request body (413 above) */
    size_t max_query;                       /* bytes of a search query (414 above) */
    size_t max_queue;                       /* bytes of ingestion waiting per index (429 above) */
    unsigned commit_delay_ms;               /* how long a group commit waits for more batches */
    const trawl_open_options *open_options; /* writer threads, RAM, SIMD; NULL: defaults */
    int quiet;                              /* no access log */
} srv_config;

/* ------------------------------------------------------------------------ */
/* Indexes (serve_indexes.c)                                                 */

/* One commit of an index as searches see it. Refcounted: a search holds its
 * snapshot until it is done, while a reopen installs a newer one. */
typedef struct srv_snap {
    trawl_index *idx;
    atomic_uint refs;
    uint64_t generation, documents, segments, bytes;
    atomic_uint *live; /* the owning index's count of open snapshots */
} srv_snap;

typedef struct srv_ingester srv_ingester;
typedef struct srv_server srv_server;

typedef struct srv_index {
    srv_server *server; /* the owner */
    char name[SRV_NAME_MAX + 1];
    char *dir;
    atomic_uint refs;        /* the registry's reference plus one per user */
    pthread_mutex_t snap_mu; /* guards snap (the pointer swap) */
    srv_snap *snap;
    pthread_mutex_t reopen_mu; /* one reopen at a time */
    int64_t dir_mtime_ns;      /* of dir at the last reopen (commits by others) */
    srv_ingester *ingester;    /* created with the index */
    atomic_uint_fast64_t commits, ingest_bytes, docs_added, docs_replaced, docs_failed, docs_deleted, merges,
        reopens;            /* reopens: new commits installed */
    atomic_uint snaps_live; /* snapshots open: the current one plus older ones searches still hold */
} srv_index;

/* Opens the index in dir under name (validated by the caller) and adds it to
 * the registry. Returns TRAWL_OK, or a code with *errmsg (malloc'd, to free). */
int srv_index_add(srv_server *s, const char *name, const char *dir, char **errmsg);

/* The index called name with a reference taken (srv_index_release it), or
 * NULL. */
srv_index *srv_index_get(srv_server *s, const char *name);
void srv_index_release(srv_index *ix);

/* Names and references of every index, in registry order: *out is a malloc'd
 * array of *n references (release each, then free the array). */
int srv_index_list(srv_server *s, srv_index ***out, size_t *n);

/* The current snapshot with a reference taken; release with srv_snap_release
 * (before the index's own reference: the snapshot counts itself in it). */
srv_snap *srv_snap_get(srv_index *ix);
void srv_snap_release(srv_snap *sn);

/* Opens the latest commit of the index directory with trawl_index_reopen
 * (unchanged segments shared) and installs it if it differs from the current
 * one (force: look even when the directory's mtime is unchanged). Searches
 * holding the old snapshot keep it; the last one closes it.
 * Returns TRAWL_OK or a code (the old snapshot stays). */
int srv_index_reopen(srv_index *ix, int force);

/* Reopens every index whose directory changed (or all when force). */
void srv_reopen_all(srv_server *s, int force);

/* Is name a valid index name (no path separators, no leading dot)? */
int srv_valid_name(const char *name, size_t len);

/* Creates DATA/name as an empty index and serves it. 0, or an HTTP status
 * (409 exists, 500 failure) with msg filled. */
int srv_index_create(srv_server *s, const char *name, char *msg, size_t msgcap);

/* Stops serving name and removes its directory from DATA. 0, or an HTTP
 * status (404, 409 not under --data, 500) with msg filled. */
int srv_index_remove(srv_server *s, const char *name, char *msg, size_t msgcap);

/* Stops every ingester (after its queue is committed) and frees the registry. */
void srv_indexes_shutdown(srv_server *s);

/* ------------------------------------------------------------------------ */
/* Ingestion (serve_ingest.c)                                                */

typedef struct srv_batch srv_batch;
typedef void (*srv_batch_done_fn)(srv_batch *b, void *arg);

/* One POST of documents: its body is owned by the batch, its results are set
 * by the ingester before done is called (from the ingester's thread). */
/* What a batch asks for. */
enum { SRV_BATCH_ADD = 0, SRV_BATCH_DELETE_IDS, SRV_BATCH_DELETE_QUERY };

struct srv_batch {
    int kind;
    char *body;     /* ADD: the documents */
    size_t len;     /* bytes of body (or of the request, for deletes) */
    json_t *target; /* DELETE_IDS: array of id strings; DELETE_QUERY: the query string */
    int want_found; /* DELETE_IDS of one id: 404 when it was not there */
    srv_index *ix;  /* referenced */
    /* results */
    int status;       /* 200, or an HTTP error status with message */
    const char *code; /* error code for status != 200 (NULL: from the status) */
    char message[256];
    uint64_t added, replaced, deleted, generation;
    json_t *failed; /* [{"line", "error"}] */
    srv_batch_done_fn done;
    void *done_arg;
    srv_batch *next;
    /* for srv_batch_wait */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int finished;
};

/* Starts the ingester of ix (its thread opens the writer on first use). */
int srv_ingester_start(srv_server *s, srv_index *ix);
/* Stops it: queued batches are committed and answered first; later batches
 * are refused. Idempotent. */
void srv_ingester_stop(srv_index *ix);
/* Stops it if needed and frees it (when the index's last reference goes). */
void srv_ingester_free(srv_index *ix);

/* Reserves room for len bytes in ix's queue. 0, or -1 when the queue is full
 * (answer 429). A reservation is given back when its batch completes. */
int srv_ingest_admit(srv_index *ix, size_t len);

/* A new batch taking ownership of body (malloc'd), or NULL when body is NULL
 * or memory is short (the body is then freed and the reservation returned). */
srv_batch *srv_batch_new(srv_index *ix, char *body, size_t len);

/* A new deletion batch: kind SRV_BATCH_DELETE_IDS with target an array of id
 * strings, or SRV_BATCH_DELETE_QUERY with target a query string (a reference
 * is taken). len is what was admitted. NULL when memory is short (the
 * reservation is returned). */
srv_batch *srv_batch_new_delete(srv_index *ix, int kind, json_t *target, size_t len);

/* Queues b; done(b, arg) is called once b is durable (or failed). */
void srv_ingest_enqueue(srv_batch *b, srv_batch_done_fn done, void *arg);

/* Queues b and waits for it (for callers without an event loop). */
void srv_ingest_wait(srv_batch *b);
/* Waits until the ingester of ix is quiet: nothing queued, no group running,
 * and the merge a group may call for done (run at once, without the idle
 * delay, while someone waits here). For callers that need a settled index
 * between requests, such as the HTTP fuzz target. */
void srv_ingest_quiesce(srv_index *ix);

/* The JSON answer of a completed batch (a new reference) and its status. */
json_t *srv_batch_result(const srv_batch *b, int *status);
void srv_batch_free(srv_batch *b);

/* ------------------------------------------------------------------------ */
/* Metrics (serve_metrics.c)                                                 */

enum { SRV_NSTATUS = 20, SRV_NBUCKETS = 16, SRV_NROUTES_MAX = 24 };

typedef struct srv_metrics {
    atomic_uint_fast64_t requests[SRV_NROUTES_MAX][SRV_NSTATUS];
    atomic_uint_fast64_t latency[SRV_NROUTES_MAX][SRV_NBUCKETS + 1]; /* last: +Inf */
    atomic_uint_fast64_t latency_sum_us[SRV_NROUTES_MAX];
    atomic_int in_flight;
    atomic_uint_fast64_t connections_refused;
} srv_metrics;

/* Counts one request of route r (index in the route table, or the "other"
 * row) that ended with status after us microseconds. */
void srv_metrics_record(srv_metrics *m, int route, int status, uint64_t us);

/* The Prometheus text exposition of the server's metrics (malloc'd). */
char *srv_metrics_text(srv_server *s, size_t *len);

/* ------------------------------------------------------------------------ */
/* The server                                                                */

enum { SRV_STARTING = 0, SRV_READY = 1, SRV_DRAINING = 2 };

struct srv_server {
    srv_config cfg;
    pthread_rwlock_t reg_lock; /* guards idx[] and nidx */
    srv_index **idx;
    size_t nidx, capidx;
    atomic_int state;
    srv_metrics metrics;
};

/* Initializes s with cfg (copied); 0 or -1. */
int srv_server_init(srv_server *s, const srv_config *cfg);
/* Stops the ingesters and frees everything. */
void srv_server_free(srv_server *s);

/* ------------------------------------------------------------------------ */
/* Requests and routes (serve_routes.c)                                      */

typedef struct srv_arg {
    const char *key, *value;
} srv_arg;

typedef struct srv_request {
    const char *method;
    const char *path; /* decoded, without the query string */
    srv_arg args[SRV_MAX_ARGS];
    size_t nargs;
    int too_many_args;
    const char *authorization; /* header values or NULL */
    const char *content_type;
    const char *body;
    size_t body_len;
    char *body_owned; /* the malloc'd buffer behind body, or NULL; a handler may take it (set NULL) */
    /* set by srv_dispatch from the path */
    char name[SRV_NAME_MAX + 1];
    const char *id; /* the rest of the path after .../documents/ */
    size_t id_len;  /* bytes of the id (less than strlen(id) when the route goes on after {id}) */
} srv_request;

typedef struct srv_response {
    int status;
    json_t *json;            /* the body as JSON (owned), or */
    char *text;              /* a malloc'd body, or */
    const char *static_text; /* a static body */
    size_t text_len;
    const char *content_type; /* default application/json */
    unsigned retry_after;     /* seconds; 0 = no header */
    const char *allow;        /* Allow header (405, OPTIONS) */
    srv_batch *pending;       /* ingestion: answer when this completes */
} srv_response;

/* Which key a route needs. */
typedef enum srv_key { SRV_KEY_NONE = 0, SRV_KEY_READ, SRV_KEY_ADMIN } srv_key;

typedef void (*srv_handler)(srv_server *s, srv_request *rq, srv_response *rs);

typedef struct srv_route {
    const char *method;
    const char *pattern; /* "/indexes/{name}/documents/{id}": {id} takes the rest, less a fixed tail */
    srv_handler handler;
    srv_key key;
    const char *metric;  /* route label in /metrics */
    const char *summary; /* one line for /openapi.json */
} srv_route;

extern const srv_route srv_routes[];
extern const size_t srv_nroutes;
#define SRV_ROUTE_OTHER ((int)srv_nroutes) /* metrics row of unmatched requests */

/* Handles one complete request: matches the route (404/405), checks the key
 * (401/403) and runs the handler. Returns the index of the route in srv_routes
 * (SRV_ROUTE_OTHER when none matched). rs is zeroed first; the caller frees it
 * with srv_response_clear. */
int srv_dispatch(srv_server *s, srv_request *rq, srv_response *rs);

/* Route lookup for a method and path; *status is 0 when found, else 404/405 (and
 * *allow lists the methods the path accepts for 405). */
int srv_match(const char *method, const char *path, srv_request *rq, int *status, const char **allow);

/* The one way errors are written: {"error": {"code", "message", "position"?}}
 * (position < 0: left out). */
void srv_error(srv_response *rs, int status, const char *code, long position, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Frees what rs holds. */
void srv_response_clear(srv_response *rs);

/* The value of query argument key, or NULL. */
const char *srv_arg_get(const srv_request *rq, const char *key);

/* Parses s, a whole decimal number (digits only) in [min, max], into *out;
 * 0, or -1 (nothing stored). */
int srv_parse_size(const char *s, size_t min, size_t max, size_t *out);

/* Constant-time equality of a presented key and a configured one. */
int srv_key_equal(const char *given, size_t given_len, const char *want);

/* A JSON string of s[0..len) with invalid UTF-8 replaced (NULL out of memory). */
json_t *srv_json_stringn(const char *s, size_t len);

/* Handlers (serve_search.c) */
void srv_h_search(srv_server *s, srv_request *rq, srv_response *rs);
/* Emerging terms and bursts (serve_trends.c) */
void srv_h_trends(srv_server *s, srv_request *rq, srv_response *rs);
void srv_h_document(srv_server *s, srv_request *rq, srv_response *rs);
/* More like this (serve_similar.c) */
void srv_h_similar(srv_server *s, srv_request *rq, srv_response *rs);
void srv_h_stats(srv_server *s, srv_request *rq, srv_response *rs);
void srv_h_add_documents(srv_server *s, srv_request *rq, srv_response *rs);
void srv_h_delete_documents(srv_server *s, srv_request *rq, srv_response *rs);
void srv_h_list_indexes(srv_server *s, srv_request *rq, srv_response *rs);
void srv_h_create_index(srv_server *s, srv_request *rq, srv_response *rs);
void srv_h_remove_index(srv_server *s, srv_request *rq, srv_response *rs);
void srv_h_health(srv_server *s, srv_request *rq, srv_response *rs);
void srv_h_metrics(srv_server *s, srv_request *rq, srv_response *rs);
void srv_h_openapi(srv_server *s, srv_request *rq, srv_response *rs);
void srv_h_page(srv_server *s, srv_request *rq, srv_response *rs);

/* The embedded search page (serve_page.c). */
extern const char srv_page_html[];

/* The OpenAPI 3.0 description of every route in srv_routes (serve_openapi.c). */
json_t *srv_openapi(void);

#endif
