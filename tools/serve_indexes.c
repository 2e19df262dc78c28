/*
 * serve_indexes.c — the registry of the named indexes `trawl serve` answers
 * for, and their snapshots.
 *
 * Each index holds a refcounted snapshot (an open trawl_index of one commit).
 * A search takes a reference to the current snapshot and keeps it to the end;
 * a reopen (SIGHUP, a commit by the server's own ingester, or a commit by
 * another process noticed through the directory's modification time) opens
 * the new commit with trawl_index_reopen (sharing every unchanged segment with
 * the current one) and swaps the pointer, and the old commit is closed when
 * its last search releases it. Indexes themselves are refcounted too, so that
 * DELETE /indexes/{name} may run while requests still use the index.
 * Also the handlers of the registry's routes: list, create, remove, stats,
 * health.
 */
#include "serve.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int srv_valid_name(const char *name, size_t len) {
    if (len == 0 || len > SRV_NAME_MAX || name[0] == '.') return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.'))
            return 0;
    }
    return 1;
}

/* Modification time of dir in nanoseconds, or -1. */
static int64_t dir_mtime(const char *dir) {
    struct stat st;
    if (stat(dir, &st) != 0) return -1;
    return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

/* A snapshot with one reference over idx (taken over; closed on failure), its
 * figures read once. NULL when memory is short. */
static srv_snap *snap_wrap(srv_index *ix, trawl_index *idx) {
    srv_snap *sn = calloc(1, sizeof *sn);
    if (!sn) {
        trawl_index_close(idx);
        return NULL;
    }
    sn->idx = idx;
    char *stats = NULL;
    if (trawl_index_stats(sn->idx, &stats) == TRAWL_OK) {
        json_t *j = json_loads(stats, 0, NULL);
        sn->generation = (uint64_t)json_integer_value(json_object_get(j, "generation"));
        sn->segments = (uint64_t)json_integer_value(json_object_get(j, "segments"));
        sn->bytes = (uint64_t)json_integer_value(json_object_get(j, "bytes"));
        json_decref(j);
    }
    trawl_free(stats);
    sn->documents = trawl_index_doc_count(sn->idx);
    atomic_init(&sn->refs, 1);
    sn->live = &ix->snaps_live;
    atomic_fetch_add(sn->live, 1);
    return sn;
}

/* Opens the current commit of dir as a snapshot with one reference, with
 * the server's open options. */
static int snap_open(srv_index *ix, const srv_server *s, const char *dir, srv_snap **out, char **errmsg) {
    trawl_index *idx = NULL;
    *out = NULL;
    int rc = trawl_index_open_v2(dir, s->cfg.open_options, &idx, errmsg);
    if (rc != TRAWL_OK) return rc;
    return (*out = snap_wrap(ix, idx)) ? TRAWL_OK : TRAWL_ENOMEM;
}

srv_snap *srv_snap_get(srv_index *ix) {
    pthread_mutex_lock(&ix->snap_mu);
    srv_snap *sn = ix->snap;
    atomic_fetch_add(&sn->refs, 1);
    pthread_mutex_unlock(&ix->snap_mu);
    return sn;
}

void srv_snap_release(srv_snap *sn) {
    if (sn && atomic_fetch_sub(&sn->refs, 1) == 1) {
        atomic_fetch_sub(sn->live, 1);
        trawl_index_close(sn->idx);
        free(sn);
    }
}

int srv_index_reopen(srv_index *ix, int force) {
    pthread_mutex_lock(&ix->reopen_mu);
    int64_t mt = dir_mtime(ix->dir);
    int rc = TRAWL_OK;
    if (force || mt != ix->dir_mtime_ns) {
        /* trawl_index_reopen shares every unchanged segment with the current
         * snapshot, which stays valid for the searches holding it: they keep
         * their commit, and the last one to finish closes it. */
        srv_snap *cur = srv_snap_get(ix), *sn = NULL;
        trawl_index *newer = NULL;
        rc = trawl_index_reopen(cur->idx, &newer);
        if (rc == TRAWL_OK && newer && !(sn = snap_wrap(ix, newer))) rc = TRAWL_ENOMEM;
        srv_snap_release(cur);
        if (rc == TRAWL_OK) {
            ix->dir_mtime_ns = mt;
            if (sn) { /* NULL: the commit is still the current one */
                pthread_mutex_lock(&ix->snap_mu);
                srv_snap *old = ix->snap;
                ix->snap = sn;
                pthread_mutex_unlock(&ix->snap_mu);
                srv_snap_release(old);
                atomic_fetch_add(&ix->reopens, 1);
            }
        } else {
            fprintf(stderr, "trawl serve: reopening %s: %s\n", ix->name, trawl_strerror(rc));
        }
    }
    pthread_mutex_unlock(&ix->reopen_mu);
    return rc;
}

int srv_index_add(srv_server *s, const char *name, const char *dir, char **errmsg) {
    *errmsg = NULL;
    srv_index *ix = calloc(1, sizeof *ix);
    if (!ix || !(ix->dir = strdup(dir))) {
        free(ix);
        return TRAWL_ENOMEM;
    }
    snprintf(ix->name, sizeof ix->name, "%s", name);
    pthread_mutex_init(&ix->snap_mu, NULL);
    pthread_mutex_init(&ix->reopen_mu, NULL);
    atomic_init(&ix->refs, 1);
    ix->dir_mtime_ns = dir_mtime(dir);
    ix->server = s;
    int rc = snap_open(ix, s, dir, &ix->snap, errmsg);
    if (rc == TRAWL_OK && srv_ingester_start(s, ix) != 0) rc = TRAWL_ENOMEM;
    if (rc == TRAWL_OK) {
        pthread_rwlock_wrlock(&s->reg_lock);
        int dup = 0;
        for (size_t i = 0; i < s->nidx; i++) dup |= strcmp(s->idx[i]->name, name) == 0;
        if (dup) {
            rc = TRAWL_EINVAL;
            char m[128];
            snprintf(m, sizeof m, "two indexes are named '%s'", name);
            *errmsg = strdup(m);
        } else if (s->nidx == s->capidx) {
            size_t cap = s->capidx ? 2 * s->capidx : 8;
            srv_index **n = realloc(s->idx, cap * sizeof *n);
            if (!n)
                rc = TRAWL_ENOMEM;
            else
                s->idx = n, s->capidx = cap;
        }
        if (rc == TRAWL_OK) s->idx[s->nidx++] = ix;
        pthread_rwlock_unlock(&s->reg_lock);
    }
    if (rc != TRAWL_OK) srv_index_release(ix);
    return rc;
}

srv_index *srv_index_get(srv_server *s, const char *name) {
    srv_index *found = NULL;
    pthread_rwlock_rdlock(&s->reg_lock);
    for (size_t i = 0; i < s->nidx; i++)
        if (strcmp(s->idx[i]->name, name) == 0) {
            found = s->idx[i];
            atomic_fetch_add(&found->refs, 1);
            break;
        }
    pthread_rwlock_unlock(&s->reg_lock);
    return found;
}

void srv_index_release(srv_index *ix) {
    if (!ix || atomic_fetch_sub(&ix->refs, 1) != 1) return;
    srv_ingester_free(ix);
    srv_snap_release(ix->snap);
    pthread_mutex_destroy(&ix->snap_mu);
    pthread_mutex_destroy(&ix->reopen_mu);
    free(ix->dir);
    free(ix);
}

int srv_index_list(srv_server *s, srv_index ***out, size_t *n) {
    pthread_rwlock_rdlock(&s->reg_lock);
    *n = s->nidx;
    *out = malloc((s->nidx ? s->nidx : 1) * sizeof **out);
    if (*out)
        for (size_t i = 0; i < s->nidx; i++) {
            (*out)[i] = s->idx[i];
            atomic_fetch_add(&s->idx[i]->refs, 1);
        }
    pthread_rwlock_unlock(&s->reg_lock);
    return *out ? 0 : -1;
}

void srv_reopen_all(srv_server *s, int force) {
    srv_index **list;
    size_t n;
    if (srv_index_list(s, &list, &n) != 0) return;
    for (size_t i = 0; i < n; i++) {
        srv_index_reopen(list[i], force);
        srv_index_release(list[i]);
    }
    free(list);
}

/* nftw callback: removes one entry (children come first with FTW_DEPTH). */
static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st, (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

int srv_index_create(srv_server *s, const char *name, char *msg, size_t msgcap) {
    if (!s->cfg.data_dir) {
        snprintf(msg, msgcap, "indexes can only be created when the server runs with --data DIR");
        return 403;
    }
    srv_index *old = srv_index_get(s, name);
    if (old) {
        srv_index_release(old);
        snprintf(msg, msgcap, "index '%s' exists", name);
        return 409;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", s->cfg.data_dir, name);
    if (mkdir(dir, 0777) != 0) {
        int e = errno;
        snprintf(msg, msgcap, "cannot create %s: %s", name, e == EEXIST ? "it exists" : strerror(e));
        return e == EEXIST ? 409 : 500;
    }
    trawl_writer *w = NULL;
    char *em = NULL;
    int rc = trawl_writer_open(dir, NULL, &w, &em);
    if (rc == TRAWL_OK) rc = trawl_writer_commit(w);
    if (rc != TRAWL_OK) snprintf(msg, msgcap, "cannot create %s: %s", name, em ? em : trawl_strerror(rc));
    trawl_writer_close(w);
    trawl_free(em);
    if (rc == TRAWL_OK) {
        rc = srv_index_add(s, name, dir, &em);
        if (rc != TRAWL_OK) snprintf(msg, msgcap, "cannot open %s: %s", name, em ? em : trawl_strerror(rc));
        trawl_free(em);
    }
    if (rc != TRAWL_OK) {
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return 500;
    }
    return 0;
}

int srv_index_remove(srv_server *s, const char *name, char *msg, size_t msgcap) {
    if (!s->cfg.data_dir) {
        snprintf(msg, msgcap, "indexes can only be removed when the server runs with --data DIR");
        return 403;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", s->cfg.data_dir, name);
    srv_index *ix = NULL;
    pthread_rwlock_wrlock(&s->reg_lock);
    for (size_t i = 0; i < s->nidx; i++)
        if (strcmp(s->idx[i]->name, name) == 0) {
            if (strcmp(s->idx[i]->dir, dir) != 0) break; /* served from elsewhere: not ours to remove */
            ix = s->idx[i];
            memmove(s->idx + i, s->idx + i + 1, (s->nidx - i - 1) * sizeof *s->idx);
            s->nidx--;
            break;
        }
    pthread_rwlock_unlock(&s->reg_lock);
    if (!ix) {
        srv_index *other = srv_index_get(s, name);
        if (other) {
            srv_index_release(other);
            snprintf(msg, msgcap, "index '%s' is not under --data; it is not removed over HTTP", name);
            return 409;
        }
        snprintf(msg, msgcap, "no index named '%s'", name);
        return 404;
    }
    srv_ingester_stop(ix); /* queued batches are committed and answered first */
    srv_index_release(ix);
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        snprintf(msg, msgcap, "removing %s: %s", name, strerror(errno));
        return 500;
    }
    return 0;
}

int srv_server_init(srv_server *s, const srv_config *cfg) {
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    atomic_init(&s->state, SRV_STARTING);
    return pthread_rwlock_init(&s->reg_lock, NULL) == 0 ? 0 : -1;
}

void srv_indexes_shutdown(srv_server *s) {
    pthread_rwlock_wrlock(&s->reg_lock);
    srv_index **list = s->idx;
    size_t n = s->nidx;
    s->idx = NULL;
    s->nidx = s->capidx = 0;
    pthread_rwlock_unlock(&s->reg_lock);
    for (size_t i = 0; i < n; i++) {
        srv_ingester_stop(list[i]);
        srv_index_release(list[i]);
    }
    free(list);
}

void srv_server_free(srv_server *s) {
    srv_indexes_shutdown(s);
    pthread_rwlock_destroy(&s->reg_lock);
}

/* ------------------------------------------------------------------------ */
/* Handlers                                                                  */

/* {name, documents, generation, segments, bytes} of ix's current commit. */
static json_t *index_summary(srv_index *ix) {
    srv_snap *sn = srv_snap_get(ix);
    json_t *o =
        json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", ix->name, "documents", (json_int_t)sn->documents, "generation",
                  (json_int_t)sn->generation, "segments", (json_int_t)sn->segments, "bytes", (json_int_t)sn->bytes);
    srv_snap_release(sn);
    return o;
}

void srv_h_list_indexes(srv_server *s, srv_request *rq, srv_response *rs) {
    (void)rq;
    srv_index **list;
    size_t n;
    if (srv_index_list(s, &list, &n) != 0) return;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (arr) json_array_append_new(arr, index_summary(list[i]));
        srv_index_release(list[i]);
    }
    free(list);
    rs->status = 200;
    rs->json = arr ? json_pack("{so}", "indexes", arr) : NULL;
}

/* Creating and removing indexes needs an admin key even on loopback. 0 when
 * one is configured, else the 403 is in rs. */
static int need_admin_key(const srv_server *s, srv_response *rs) {
    if (s->cfg.admin_key) return 0;
    srv_error(rs, 403, "forbidden", -1, "creating and removing indexes needs a server started with --admin-key");
    return -1;
}

void srv_h_create_index(srv_server *s, srv_request *rq, srv_response *rs) {
    char msg[512];
    if (need_admin_key(s, rs) != 0) return;
    int st = srv_index_create(s, rq->name, msg, sizeof msg);
    if (st) {
        srv_error(rs, st, st == 409 ? "index_exists" : st == 403 ? "forbidden" : "internal", -1, "%s", msg);
        return;
    }
    srv_index *ix = srv_index_get(s, rq->name);
    rs->status = 201;
    rs->json = ix ? index_summary(ix) : json_pack("{s:s}", "name", rq->name);
    srv_index_release(ix);
}

void srv_h_remove_index(srv_server *s, srv_request *rq, srv_response *rs) {
    char msg[512];
    if (need_admin_key(s, rs) != 0) return;
    int st = srv_index_remove(s, rq->name, msg, sizeof msg);
    if (st) {
        srv_error(rs, st,
                  st == 404   ? "index_not_found"
                  : st == 409 ? "conflict"
                  : st == 403 ? "forbidden"
                              : "internal",
                  -1, "%s", msg);
        return;
    }
    rs->status = 200;
    rs->json = json_pack("{s:s, s:b}", "name", rq->name, "deleted", 1);
}

void srv_h_stats(srv_server *s, srv_request *rq, srv_response *rs) {
    srv_index *ix = srv_index_get(s, rq->name);
    if (!ix) {
        srv_error(rs, 404, "index_not_found", -1, "no index named '%s'", rq->name);
        return;
    }
    srv_snap *sn = srv_snap_get(ix);
    char *stats = NULL;
    int rc = trawl_index_stats(sn->idx, &stats);
    srv_snap_release(sn);
    srv_index_release(ix);
    if (rc != TRAWL_OK) {
        srv_error(rs, 500, "internal", -1, "stats: %s", trawl_strerror(rc));
        return;
    }
    rs->status = 200;
    rs->text = strdup(stats);
    rs->text_len = rs->text ? strlen(rs->text) : 0;
    trawl_free(stats);
}

void srv_h_health(srv_server *s, srv_request *rq, srv_response *rs) {
    (void)rq;
    int state = atomic_load(&s->state);
    srv_index **list;
    size_t n;
    if (srv_index_list(s, &list, &n) != 0) return;
    json_t *idx = json_object();
    for (size_t i = 0; i < n; i++) {
        srv_snap *sn = srv_snap_get(list[i]);
        if (idx)
            json_object_set_new(idx, list[i]->name,
                                json_pack("{s:I, s:I}", "generation", (json_int_t)sn->generation, "documents",
                                          (json_int_t)sn->documents));
        srv_snap_release(sn);
        srv_index_release(list[i]);
    }
    free(list);
    rs->status = state == SRV_READY ? 200 : 503;
    rs->json = idx ? json_pack("{s:s, so}", "status",
                               state == SRV_READY      ? "ok"
                               : state == SRV_DRAINING ? "draining"
                                                       : "starting",
                               "indexes", idx)
                   : NULL;
}
