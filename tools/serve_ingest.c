/*
 * serve_ingest.c — document ingestion of `trawl serve` with group commit.
 *
 * Each index has one ingester: a thread that owns the index's only writer
 * (opened on first use and kept). POST /indexes/{name}/documents turns its body
 * into a batch and queues it; the thread takes every batch waiting (after at
 * most commit_delay_ms more, to let concurrent requests join), adds their
 * documents, commits once — one fsync for the whole group — reopens the
 * index so new searches see the commit, and only then completes each batch
 * with its counts and the new generation. A request is thus answered only
 * when its documents are durable. Segments are merged (the library's tiered
 * policy) once the queue has been idle for a moment, not after every commit. The queue is bounded in bytes: a batch that
 * does not fit is refused (429) before it is read into the queue.
 */
#include "serve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct srv_ingester {
    srv_server *s;
    srv_index *ix; /* the owner; not referenced */
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* the ingester waits on it for batches */
    pthread_cond_t idle_cv; /* srv_ingest_quiesce waits on it */
    srv_batch *head, *tail;
    size_t reserved; /* bytes admitted and not yet completed */
    int stop, joined;
    pthread_t thread;
    trawl_writer *w; /* the ingester thread's only */
    int merge_due;   /* commits since the last merge (ingester thread only) */
    int busy;        /* a group, or the merge after it, is running (mu) */
    int merge_now;   /* a quiesce waits: merge without the idle delay (mu) */
};

/* How long the queue must stay empty before segments are merged (ms). */
#define SRV_MERGE_IDLE_MS 250

int srv_ingest_admit(srv_index *ix, size_t len) {
    srv_ingester *g = ix->ingester;
    int ok;
    pthread_mutex_lock(&g->mu);
    ok = !g->stop && (g->reserved == 0 || g->reserved + len <= g->s->cfg.max_queue);
    if (ok) g->reserved += len;
    pthread_mutex_unlock(&g->mu);
    return ok ? 0 : -1;
}

/* Gives back a reservation of len bytes. */
static void unreserve(srv_ingester *g, size_t len) {
    pthread_mutex_lock(&g->mu);
    g->reserved -= len < g->reserved ? len : g->reserved;
    pthread_mutex_unlock(&g->mu);
}

srv_batch *srv_batch_new(srv_index *ix, char *body, size_t len) {
    srv_batch *b = body ? calloc(1, sizeof *b) : NULL;
    if (!b) {
        free(body);
        unreserve(ix->ingester, len);
        return NULL;
    }
    b->body = body;
    b->len = len;
    b->ix = ix;
    atomic_fetch_add(&ix->refs, 1);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    return b;
}

srv_batch *srv_batch_new_delete(srv_index *ix, int kind, json_t *target, size_t len) {
    srv_batch *b = calloc(1, sizeof *b);
    if (!b) {
        unreserve(ix->ingester, len);
        return NULL;
    }
    b->kind = kind;
    b->target = json_incref(target);
    b->len = len;
    b->ix = ix;
    atomic_fetch_add(&ix->refs, 1);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    return b;
}

void srv_batch_free(srv_batch *b) {
    if (!b) return;
    free(b->body);
    json_decref(b->target);
    json_decref(b->failed);
    srv_index_release(b->ix);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
}

/* Finishes b: gives back its reservation, then tells its owner. */
static void complete(srv_ingester *g, srv_batch *b) {
    unreserve(g, b->len);
    b->done(b, b->done_arg);
}

void srv_ingest_enqueue(srv_batch *b, srv_batch_done_fn done, void *arg) {
    srv_ingester *g = b->ix->ingester;
    b->done = done;
    b->done_arg = arg;
    pthread_mutex_lock(&g->mu);
    if (g->stop) {
        pthread_mutex_unlock(&g->mu);
        b->status = 503;
        snprintf(b->message, sizeof b->message, "index '%s' is shutting down or was removed", b->ix->name);
        complete(g, b);
        return;
    }
    if (g->tail)
        g->tail->next = b;
    else
        g->head = b;
    g->tail = b;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* done callback of srv_ingest_wait. */
static void wake(srv_batch *b, void *arg) {
    (void)arg;
    pthread_mutex_lock(&b->mu);
    b->finished = 1;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

void srv_ingest_wait(srv_batch *b) {
    srv_ingest_enqueue(b, wake, NULL);
    pthread_mutex_lock(&b->mu);
    while (!b->finished) pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

json_t *srv_batch_result(const srv_batch *b, int *status) {
    *status = b->status;
    if (b->status != 200) {
        srv_response r = {0};
        srv_error(&r, b->status,
                  b->code            ? b->code
                  : b->status == 400 ? "malformed_json"
                  : b->status == 409 ? "index_locked"
                                     : "ingest",
                  -1, "%s", b->message);
        return r.json;
    }
    if (b->kind != SRV_BATCH_ADD)
        return json_pack("{s:I, s:I}", "deleted", (json_int_t)b->deleted, "generation", (json_int_t)b->generation);
    return json_pack("{s:I, s:I, s:o, s:I}", "added", (json_int_t)b->added, "replaced", (json_int_t)b->replaced,
                     "failed", b->failed ? json_incref(b->failed) : json_array(), "generation",
                     (json_int_t)b->generation);
}

/* Records that document `line` of b failed with msg. */
static void fail_line(srv_batch *b, size_t line, const char *msg) {
    if (!b->failed) b->failed = json_array();
    if (b->failed)
        json_array_append_new(
            b->failed, json_pack("{s:I, s:o}", "line", (json_int_t)line, "error", srv_json_stringn(msg, strlen(msg))));
}

typedef struct group {
    srv_ingester *g;
    srv_snap *snap;   /* the commit before this group: was an id there? */
    json_t *state;    /* ids touched in this group: true added, false deleted */
    uint64_t changes; /* adds and deletes given to the writer */
    int fatal;        /* the writer failed: the whole group fails */
    char fatal_msg[256];
} group;

/* Is id live at this point of the group (added in it, or in the last commit
 * and not deleted in it)? */
static int is_live(group *gr, const char *id) {
    json_t *st = json_object_get(gr->state, id);
    if (st) return json_is_true(st);
    char *old = NULL;
    int live = trawl_index_get(gr->snap->idx, id, &old) == TRAWL_OK;
    trawl_free(old);
    return live;
}

/* Records a writer failure: the whole group fails. */
static void writer_failed(group *gr) {
    gr->fatal = 500;
    snprintf(gr->fatal_msg, sizeof gr->fatal_msg, "writer: %s", trawl_writer_errmsg(gr->g->w));
}

/* Deletes the ids of b (an array of strings checked by the handler). */
static void delete_ids(group *gr, srv_batch *b) {
    size_t i;
    json_t *v;
    json_array_foreach(b->target, i, v) {
        const char *id = json_string_value(v);
        if (!id || !*id || gr->fatal) continue;
        int live = is_live(gr, id);
        if (trawl_writer_delete(gr->g->w, id) != TRAWL_OK) {
            writer_failed(gr);
            return;
        }
        gr->changes++;
        b->deleted += live;
        json_object_set_new(gr->state, id, json_false());
    }
    if (b->want_found && b->deleted == 0) {
        b->status = 404;
        b->code = "document_not_found";
        snprintf(b->message, sizeof b->message, "no document with this id");
    }
}

/* Deletes what the query of b matches in the last commit. */
static void delete_query(group *gr, srv_batch *b) {
    uint64_t n = 0;
    int rc = trawl_writer_delete_query(gr->g->w, json_string_value(b->target), &n);
    if (rc == TRAWL_ESYNTAX || rc == TRAWL_ELIMIT || rc == TRAWL_EINVAL) {
        b->status = 400;
        b->code = rc == TRAWL_ESYNTAX ? "query_syntax" : rc == TRAWL_ELIMIT ? "query_limit" : "bad_query";
        snprintf(b->message, sizeof b->message, "%s", trawl_writer_errmsg(gr->g->w));
        return;
    }
    if (rc != TRAWL_OK) {
        writer_failed(gr);
        return;
    }
    b->deleted = n;
    gr->changes += n;
}

/* Adds one document (text[0..len)) of batch b; line numbers count from 1. */
static void add_doc(group *gr, srv_batch *b, const char *text, size_t len, size_t line) {
    if (gr->fatal) return;
    int rc = trawl_writer_add_json(gr->g->w, text, len);
    if (rc == TRAWL_EDOC || rc == TRAWL_ELIMIT) {
        fail_line(b, line, trawl_writer_errmsg(gr->g->w));
        return;
    }
    if (rc != TRAWL_OK) {
        writer_failed(gr);
        return;
    }
    gr->changes++;
    /* The writer accepted it, so it is an object with a string id. */
    json_t *doc = json_loadb(text, len, 0, NULL);
    const char *id = json_string_value(json_object_get(doc, "id"));
    int replaced = 0;
    if (id) {
        replaced = is_live(gr, id);
        json_object_set_new(gr->state, id, json_true());
    }
    json_decref(doc);
    if (replaced)
        b->replaced++;
    else
        b->added++;
}

/* Adds every document of b: a JSON array of objects, or JSON Lines. */
static void add_batch(group *gr, srv_batch *b) {
    const char *p = b->body, *end = b->body + b->len;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    if (p < end && *p == '[') {
        json_error_t err;
        json_t *arr = json_loadb(b->body, b->len, 0, &err);
        if (!json_is_array(arr)) {
            b->status = 400;
            snprintf(b->message, sizeof b->message, "the body is not a JSON array: %s (line %d, column %d)", err.text,
                     err.line, err.column);
            json_decref(arr);
            return;
        }
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
            if (!json_is_object(v)) {
                fail_line(b, i + 1, "not a JSON object");
                continue;
            }
            char *text = json_dumps(v, JSON_COMPACT);
            if (!text) {
                fail_line(b, i + 1, "out of memory");
                continue;
            }
            add_doc(gr, b, text, strlen(text), i + 1);
            free(text);
        }
        json_decref(arr);
        return;
    }
    size_t line = 0;
    for (p = b->body; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        line++;
        const char *a = p;
        while (a < e && (*a == ' ' || *a == '\t' || *a == '\r')) a++;
        if (a < e) add_doc(gr, b, p, (size_t)(e - p), line);
        p = nl ? nl + 1 : end;
    }
}

/* Processes one group of batches (a list linked by next). */
static void run_group(srv_ingester *g, srv_batch *list) {
    srv_index *ix = g->ix;
    group gr = {g, NULL, NULL, 0, 0, {0}};
    if (!g->w) {
        char *msg = NULL;
        int rc = trawl_writer_open_v2(ix->dir, NULL, g->s->cfg.open_options, &g->w, &msg);
        if (rc != TRAWL_OK) {
            gr.fatal = rc == TRAWL_ELOCKED ? 409 : 500;
            snprintf(gr.fatal_msg, sizeof gr.fatal_msg, "cannot open a writer on '%s': %s", ix->name,
                     msg ? msg : trawl_strerror(rc));
            g->w = NULL;
        }
        trawl_free(msg);
        /* Merges wait until the queue is idle (merge_when_idle), not in the
         * acknowledgement path of every commit. */
        if (g->w) trawl_writer_set_auto_merge(g->w, 0);
    }
    gr.snap = srv_snap_get(ix);
    gr.state = json_object();
    uint64_t bytes = 0, added = 0;
    for (srv_batch *b = list; b && !gr.fatal; b = b->next) {
        b->status = 200;
        if (b->kind == SRV_BATCH_ADD) {
            add_batch(&gr, b);
            bytes += b->len;
        } else if (b->kind == SRV_BATCH_DELETE_IDS) {
            delete_ids(&gr, b);
        } else {
            delete_query(&gr, b);
        }
    }
    added = gr.changes;
    srv_snap_release(gr.snap);
    json_decref(gr.state);
    if (!gr.fatal && added > 0 && trawl_writer_commit(g->w) != TRAWL_OK) {
        gr.fatal = 500;
        snprintf(gr.fatal_msg, sizeof gr.fatal_msg, "commit failed: %s", trawl_writer_errmsg(g->w));
    }
    if (gr.fatal) {
        /* Nothing of this group is durable; a failed writer can only be closed. */
        if (g->w) trawl_writer_close(g->w);
        g->w = NULL;
    } else if (added > 0) {
        atomic_fetch_add(&ix->commits, 1);
        g->merge_due = 1;
        srv_index_reopen(ix, 1);
    }
    srv_snap *sn = srv_snap_get(ix);
    uint64_t gen = sn->generation;
    srv_snap_release(sn);
    atomic_fetch_add(&ix->ingest_bytes, bytes);
    while (list) {
        srv_batch *b = list;
        list = b->next;
        b->next = NULL;
        if (gr.fatal) {
            b->status = gr.fatal == 409 ? 409 : 500;
            b->code = NULL;
            snprintf(b->message, sizeof b->message, "%s", gr.fatal_msg);
            b->added = b->replaced = b->deleted = 0;
        } else if (b->status == 200) {
            atomic_fetch_add(&ix->docs_deleted, b->deleted);
            b->generation = gen;
            atomic_fetch_add(&ix->docs_added, b->added);
            atomic_fetch_add(&ix->docs_replaced, b->replaced);
            atomic_fetch_add(&ix->docs_failed, b->failed ? json_array_size(b->failed) : 0);
        }
        complete(g, b);
    }
}

/* Called with g->mu held after a group: when commits were made and no batch
 * arrives for SRV_MERGE_IDLE_MS, merges segments by the library's tiered
 * policy (a commit of its own) and reopens the index. Returns with g->mu held. */
static void merge_when_idle(srv_ingester *g) {
    if (!g->merge_due || !g->w || g->stop) return;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += (long)SRV_MERGE_IDLE_MS * 1000000L;
    dl.tv_sec += dl.tv_nsec / 1000000000L;
    dl.tv_nsec %= 1000000000L;
    while (!g->head && !g->stop && !g->merge_now && pthread_cond_timedwait(&g->cv, &g->mu, &dl) != ETIMEDOUT) {}
    if (g->head || g->stop) return;
    g->merge_due = 0;
    pthread_mutex_unlock(&g->mu);
    if (trawl_writer_merge(g->w, 0) == TRAWL_OK) {
        atomic_fetch_add(&g->ix->merges, 1);
        srv_index_reopen(g->ix, 1);
    } else {
        /* The commits are durable; a writer that failed can only be closed. */
        fprintf(stderr, "trawl serve: merging %s: %s\n", g->ix->name, trawl_writer_errmsg(g->w));
        trawl_writer_close(g->w);
        g->w = NULL;
    }
    pthread_mutex_lock(&g->mu);
}

/* The ingester thread: waits for batches, lets more join for a bounded
 * delay, runs them as one group, merges when idle; on stop, drains the
 * queue first. */
static void *ingester_main(void *arg) {
    srv_ingester *g = arg;
    unsigned delay = g->s->cfg.commit_delay_ms;
    pthread_mutex_lock(&g->mu);
    for (;;) {
        while (!g->head && !g->stop) pthread_cond_wait(&g->cv, &g->mu);
        if (!g->head) break;
        if (delay && !g->stop) {
            struct timespec dl;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_nsec += (long)(delay % 1000) * 1000000L;
            dl.tv_sec += delay / 1000 + dl.tv_nsec / 1000000000L;
            dl.tv_nsec %= 1000000000L;
            while (!g->stop && pthread_cond_timedwait(&g->cv, &g->mu, &dl) != ETIMEDOUT) {}
        }
        srv_batch *list = g->head;
        g->head = g->tail = NULL;
        g->busy = 1;
        pthread_mutex_unlock(&g->mu);
        run_group(g, list);
        pthread_mutex_lock(&g->mu);
        merge_when_idle(g);
        g->busy = 0;
        pthread_cond_broadcast(&g->idle_cv);
    }
    g->busy = 0;
    pthread_cond_broadcast(&g->idle_cv);
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int srv_ingester_start(srv_server *s, srv_index *ix) {
    srv_ingester *g = calloc(1, sizeof *g);
    if (!g) return -1;
    g->s = s;
    g->ix = ix;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    pthread_cond_init(&g->idle_cv, NULL);
    if (pthread_create(&g->thread, NULL, ingester_main, g) != 0) {
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->cv);
        pthread_cond_destroy(&g->idle_cv);
        free(g);
        return -1;
    }
    ix->ingester = g;
    return 0;
}

void srv_ingester_stop(srv_index *ix) {
    srv_ingester *g = ix->ingester;
    if (!g) return;
    pthread_mutex_lock(&g->mu);
    int join = !g->joined;
    g->stop = 1;
    g->joined = 1;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    if (!join) return;
    pthread_join(g->thread, NULL);
    if (g->w) trawl_writer_close(g->w);
    g->w = NULL;
}

void srv_ingester_free(srv_index *ix) {
    srv_ingester *g = ix->ingester;
    if (!g) return;
    srv_ingester_stop(ix);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    pthread_cond_destroy(&g->idle_cv);
    free(g);
    ix->ingester = NULL;
}

void srv_ingest_quiesce(srv_index *ix) {
    srv_ingester *g = ix->ingester;
    if (!g) return;
    pthread_mutex_lock(&g->mu);
    g->merge_now++;
    pthread_cond_broadcast(&g->cv);
    while (!g->stop && (g->head || g->busy)) pthread_cond_wait(&g->idle_cv, &g->mu);
    g->merge_now--;
    pthread_mutex_unlock(&g->mu);
}
