/*
 * merge.c — runs of the tiered merge policy (mergepolicy.c) for a writer:
 * automatically in a background thread of the writer's own after each
 * commit, or on request (trawl_writer_merge).
 *
 * A run plans merges on the current commit, rebuilds each run of adjacent
 * segments from their stored documents with a writer of its own (no lock
 * held), then publishes the merged segments as a commit of its own under the
 * writer's mutex: the generation after whatever was committed meanwhile, the
 * merged segments in the place of their inputs, and the deletions made in
 * the inputs since the run read them carried over to the merged segments.
 * The background thread loops while the policy finds more to merge, keeps a
 * failure for the next call to report, and stops at close.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "mergepolicy.h"
#include "segment.h"
#include "writer.h"

/* One execution of the merge policy: the commit it read (snap: its segments,
 * names copied), the inputs it opened, the plan, and the writer of its own
 * that builds the merged segments (outputs of merge k: m->pend[out[k] ..
 * out[k + 1])). Owned by the thread that runs it. */
typedef struct mjob {
    tw_manifest snap;
    tw_segment **segs;      /* opened for the planned inputs only */
    roaring_bitmap_t **del; /* deletions at snap (NULL: none) */
    tw_mp_merge *plan;
    size_t nm;
    size_t *out;
    trawl_writer *m;
    char err[900];
} mjob;

static void mjob_free(mjob *j) {
    for (size_t i = 0; i < j->snap.nsegs; i++) {
        if (j->segs) tw_segment_close(j->segs[i]);
        if (j->del && j->del[i]) roaring_bitmap_free(j->del[i]);
    }
    free(j->segs);
    free(j->del);
    free(j->plan);
    free(j->out);
    tw_manifest_free(&j->snap);
    trawl_writer_close(j->m); /* removes the new files of a merge not published */
    memset(j, 0, sizeof *j);
}

/* Plans merges of w's current commit with p: copies its segment list (under
 * w->mu), then, without the lock, sizes each segment (file size, deletions)
 * and opens the inputs of the merges planned. j->nm = 0 when there is
 * nothing to merge. 0 or a trawl_rc with the reason in j->err. A file that
 * vanished meanwhile (a newer commit dropped its segment or replaced its
 * deletions) is MERGE_AGAIN: plan again. */
#define MERGE_AGAIN 1
static int merge_prepare(trawl_writer *w, const tw_mp_params *p, mjob *j) {
    memset(j, 0, sizeof *j);
    int rc = 0;
    tw_writer_lock(w);
    for (size_t i = 0; i < w->man.nsegs && rc == 0; i++)
        rc = tw_manifest_add(&j->snap, w->man.segs[i].name, w->man.segs[i].del, w->man.segs[i].docs);
    j->snap.generation = w->man.generation;
    tw_writer_unlock(w);
    size_t n = j->snap.nsegs;
    if (rc || n == 0) return rc ? tw_err(j->err, sizeof j->err, rc, "out of memory") : 0;
    j->segs = calloc(n, sizeof *j->segs);
    j->del = calloc(n, sizeof *j->del);
    j->plan = calloc(n, sizeof *j->plan);
    tw_mp_seg *shape = calloc(n, sizeof *shape);
    if (!j->segs || !j->del || !j->plan || !shape) {
        free(shape);
        return tw_err(j->err, sizeof j->err, TRAWL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const tw_manifest_seg *sg = &j->snap.segs[i];
        char *path = tw_path_join(w->dir, sg->name), *dp = sg->del ? tw_path_join(w->dir, sg->del) : NULL;
        struct stat st;
        if (!path || (sg->del && !dp))
            rc = tw_err(j->err, sizeof j->err, TRAWL_ENOMEM, "out of memory");
        else if (stat(path, &st) != 0)
            rc = errno == ENOENT ? MERGE_AGAIN
                                 : tw_err(j->err, sizeof j->err, TRAWL_EIO, "%s: %s", path, strerror(errno));
        else if (dp && (access(dp, F_OK) != 0 ||
                        (rc = tw_deletes_read(dp, sg->docs, &j->del[i], j->err, sizeof j->err)) != 0))
            rc = access(dp, F_OK) != 0 ? MERGE_AGAIN : rc;
        if (rc == 0)
            shape[i] = (tw_mp_seg){(uint64_t)st.st_size, sg->docs,
                                   j->del[i] ? (uint32_t)roaring_bitmap_get_cardinality(j->del[i]) : 0};
        free(path);
        free(dp);
    }
    j->nm = rc ? 0 : tw_merge_plan(shape, n, p, j->plan);
    free(shape);
    for (size_t k = 0; k < j->nm && rc == 0; k++)
        for (size_t i = j->plan[k].first; i < j->plan[k].first + j->plan[k].count && rc == 0; i++) {
            char *path = tw_path_join(w->dir, j->snap.segs[i].name);
            rc = path ? tw_segment_open(path, &j->segs[i], j->err, sizeof j->err) : TRAWL_ENOMEM;
            if (rc == TRAWL_EIO && path && access(path, F_OK) != 0) rc = MERGE_AGAIN;
            free(path);
            if (rc == 0 && j->segs[i]->ndocs != j->snap.segs[i].docs)
                rc = tw_err(j->err, sizeof j->err, TRAWL_ECORRUPT, "%s: %u documents, the manifest says %u",
                            j->snap.segs[i].name, j->segs[i]->ndocs, j->snap.segs[i].docs);
            if (rc == 0) tw_segment_drop_pages(j->segs[i]);
        }
    if (rc == TRAWL_ENOMEM && !j->err[0]) tw_err(j->err, sizeof j->err, rc, "out of memory");
    return rc;
}

/* Appends to m (a writer without lock or manifest of its own) the live
 * documents of segment s (deletions del, may be NULL) in doc order, from
 * their stored text: analyzed again exactly as when they were added. */
static int feed_segment(trawl_writer *m, const tw_segment *s, const roaring_bitmap_t *del) {
    for (uint32_t d = 0; d < s->ndocs; d++) {
        if (del && roaring_bitmap_contains(del, d)) continue;
        char *json;
        size_t len;
        int rc = tw_segment_stored(s, d, &json, &len, m->errmsg, sizeof m->errmsg);
        if (rc) return rc;
        rc = trawl_writer_add_json(m, json, len);
        free(json);
        if (rc) return rc;
    }
    return 0;
}

/* Builds the merged segments of j's plan (no lock held): each run of adjacent
 * inputs is rebuilt, its live documents in order, deleted ones dropped, by a
 * writer of j's own (budget: ram_budget; an explicit merge, p->max_merge_bytes
 * 0, gets what its largest run needs). 0 or a trawl_rc with j->err. */
static int merge_build(trawl_writer *w, const tw_mp_params *p, mjob *j, size_t ram_budget) {
    trawl_writer *m = j->m = calloc(1, sizeof *m);
    if (!m || !(m->dir = strdup(w->dir)) || !(j->out = calloc(j->nm + 1, sizeof *j->out)))
        return tw_err(j->err, sizeof j->err, TRAWL_ENOMEM, "out of memory");
    m->lockfd = -1;
    m->root = w;
    m->man.generation = j->snap.generation;
    memcpy(m->man.lang, w->man.lang, sizeof m->man.lang);
    m->man.schema = tw_schema_copy(w->man.schema); /* (writer_start fails without it) */
    m->ram_budget = ram_budget;
    for (size_t q = 0; q < j->nm && !p->max_merge_bytes; q++) {
        uint64_t sum = 0;
        for (size_t i = j->plan[q].first; i < j->plan[q].first + j->plan[q].count; i++) sum += j->segs[i]->size;
        if (sum * 4 + ((size_t)16 << 20) > m->ram_budget) m->ram_budget = sum * 4 + ((size_t)16 << 20);
    }
    m->threads = w->threads;
    for (unsigned k = 0; k < FIELD_CACHE; k++) m->fcache[k] = -1;
    int rc = tw_writer_start(m);
    for (size_t k = 0; k < j->nm && rc == 0; k++) {
        j->out[k] = m->npend;
        for (size_t i = j->plan[k].first; i < j->plan[k].first + j->plan[k].count && rc == 0; i++) {
            rc = feed_segment(m, j->segs[i], j->del[i]);
            tw_segment_drop_pages(j->segs[i]);
        }
        if (rc == 0) rc = tw_writer_drain(m);
        if (rc == 0) rc = tw_writer_flush(m);
    }
    j->out[j->nm] = m->npend;
    if (rc) snprintf(j->err, sizeof j->err, "%.880s", m->errmsg[0] ? m->errmsg : trawl_strerror(rc));
    return rc;
}

/* The position in w->man of the segment named name, or -1. */
static long seg_index(const trawl_writer *w, const char *name) {
    for (size_t i = 0; i < w->man.nsegs; i++)
        if (strcmp(w->man.segs[i].name, name) == 0) return (long)i;
    return -1;
}

/* The documents of merge k's output, numbered across its outputs, that were
 * deleted in its inputs after the merge read them (w->mu held): by a newer
 * deletion bitmap of an input, or because the input has left the index
 * (every document of it deleted). Into *gone (created). 0 or a trawl_rc. */
static int carried_deletes(trawl_writer *w, mjob *j, size_t k, roaring_bitmap_t **gone) {
    if (!(*gone = roaring_bitmap_create())) return TRAWL_ENOMEM;
    uint32_t x = 0;
    for (size_t i = j->plan[k].first; i < j->plan[k].first + j->plan[k].count; i++) {
        const tw_manifest_seg *then = &j->snap.segs[i];
        long c = seg_index(w, then->name);
        const char *now_del = c >= 0 ? w->man.segs[c].del : NULL;
        roaring_bitmap_t *now = NULL;
        int all = c < 0, rc = 0;
        if (!all && now_del && (!then->del || strcmp(now_del, then->del) != 0)) {
            char *dp = tw_path_join(w->dir, now_del);
            rc = dp ? tw_deletes_read(dp, then->docs, &now, j->err, sizeof j->err) : TRAWL_ENOMEM;
            free(dp);
            if (rc) return rc;
        }
        for (uint32_t d = 0; d < then->docs; d++) {
            if (j->del[i] && roaring_bitmap_contains(j->del[i], d)) continue;
            if (all || (now && roaring_bitmap_contains(now, d))) roaring_bitmap_add(*gone, x);
            x++;
        }
        if (now) roaring_bitmap_free(now);
    }
    return 0;
}

/* Publishes j's merged segments as a commit (w->mu held): the manifest after
 * w's current one, each merge's outputs in the place of its inputs (which
 * stay adjacent: commits only append segments or drop wholly deleted ones),
 * with the deletions made since the merge read its inputs carried over to
 * the outputs. 0 or a trawl_rc with j->err; a manifest that is in place
 * despite a failure is adopted (and the failure reported). */
static int merge_publish(trawl_writer *w, mjob *j) {
    tw_manifest next;
    int rc = tw_writer_next_manifest(w, &next), installed = 0;
    trawl_writer *m = j->m;
    char *done = calloc(j->nm ? j->nm : 1, 1);
    if (!done) rc = TRAWL_ENOMEM;
    for (size_t c = 0; c < w->man.nsegs && rc == 0; c++) {
        const tw_manifest_seg *sg = &w->man.segs[c];
        size_t k = j->nm;
        for (size_t q = 0; q < j->nm && k == j->nm; q++)
            for (size_t i = j->plan[q].first; i < j->plan[q].first + j->plan[q].count; i++)
                if (strcmp(j->snap.segs[i].name, sg->name) == 0) k = q;
        if (k == j->nm) { /* not merged */
            rc = tw_manifest_add(&next, sg->name, sg->del, sg->docs);
            continue;
        }
        if (done[k]) continue; /* a later input of a merge placed at its first */
        done[k] = 1;
        roaring_bitmap_t *gone = NULL;
        rc = carried_deletes(w, j, k, &gone);
        uint64_t base = 0;
        for (size_t o = j->out[k]; o < j->out[k + 1] && rc == 0; o++) {
            uint32_t docs = m->pend[o].docs;
            uint64_t dead = roaring_bitmap_range_cardinality(gone, base, base + docs);
            char dn[160];
            const char *delname = NULL;
            if (dead > 0 && dead < docs) {
                roaring_bitmap_t *mine = roaring_bitmap_create();
                if (!mine) rc = TRAWL_ENOMEM;
                for (uint64_t x = base; mine && x < base + docs; x++)
                    if (roaring_bitmap_contains(gone, (uint32_t)x)) roaring_bitmap_add(mine, (uint32_t)(x - base));
                if (rc == 0) {
                    const char *nm = m->pend[o].name;
                    snprintf(dn, sizeof dn, "%.*s-%06" PRIu64 ".del", (int)(strlen(nm) - 4), nm, next.generation);
                    char *dp = tw_path_join(w->dir, dn);
                    roaring_bitmap_run_optimize(mine);
                    rc = dp ? tw_deletes_write(dp, mine, j->err, sizeof j->err) : TRAWL_ENOMEM;
                    free(dp);
                    delname = dn;
                }
                if (mine) roaring_bitmap_free(mine);
            }
            if (rc == 0 && dead < docs) rc = tw_manifest_add(&next, m->pend[o].name, delname, docs);
            base += docs;
        }
        if (gone) roaring_bitmap_free(gone);
    }
    free(done);
    if (rc == 0 && (rc = tw_manifest_write(w->dir, &next, j->err, sizeof j->err)) != 0 &&
        tw_writer_manifest_installed(w, next.generation)) {
        tw_writer_note_installed(j->err, sizeof j->err);
        installed = 1; /* the merge is in place: keep its files */
    }
    if (rc == 0 || installed) {
        tw_writer_adopt(w, &next);
        for (size_t i = 0; i < m->npend; i++) {
            tw_writer_busy_del(w, m->pend[i].name);
            free(m->pend[i].name);
        }
        m->npend = 0; /* the manifest owns the files now (or they are garbage) */
        if (rc == 0) tw_writer_collect_garbage(w);
    } else {
        tw_manifest_free(&next);
    }
    if (rc == TRAWL_ENOMEM && !j->err[0]) tw_err(j->err, sizeof j->err, rc, "out of memory");
    return rc;
}

static atomic_uint test_delay_ms;

void tw_writer_test_merge_delay(unsigned ms) {
    atomic_store(&test_delay_ms, ms);
}

/* One round of the policy p on w's current commit, published as a commit of
 * its own: *merged tells whether anything was merged. ram_budget is the
 * merge writer's. 0 or a trawl_rc with its message in err. */
static int merge_round(trawl_writer *w, const tw_mp_params *p, size_t ram_budget, int *merged, char *err,
                       size_t errcap) {
    *merged = 0;
    mjob j;
    int rc = MERGE_AGAIN;
    for (int tries = 0; rc == MERGE_AGAIN && tries < 5; tries++) {
        if (tries) mjob_free(&j);
        rc = merge_prepare(w, p, &j);
    }
    if (rc == MERGE_AGAIN) rc = tw_err(j.err, sizeof j.err, TRAWL_EIO, "the index kept changing under the merge");
    if (rc == 0 && j.nm > 0) rc = merge_build(w, p, &j, ram_budget);
    unsigned delay = atomic_load(&test_delay_ms);
    if (rc == 0 && j.nm > 0 && delay) {
        struct timespec ts = {(time_t)(delay / 1000), (long)(delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (rc == 0 && j.nm > 0) {
        tw_writer_lock(w);
        rc = merge_publish(w, &j);
        tw_writer_unlock(w);
        *merged = rc == 0;
    }
    if (rc) snprintf(err, errcap, "%s", j.err[0] ? j.err : trawl_strerror(rc));
    mjob_free(&j);
    return rc;
}

/* The automatic merge's policy: within the half of the budget it has while
 * it runs (a merged segment takes about three times its file size to build). */
static void auto_params(const trawl_writer *w, tw_mp_params *p) {
    tw_mp_defaults(p);
    p->max_merge_bytes = w->ram_budget / 8;
}

/* The background merge thread: rounds of the policy until there is nothing
 * to merge, a round fails (the failure is kept for the next call to
 * report) or the writer is closing. */
static void *merge_thread(void *arg) {
    trawl_writer *w = arg;
    tw_mp_params p;
    auto_params(w, &p);
    char err[900] = "";
    int rc = 0, merged = 1;
    while (rc == 0 && merged && !atomic_load(&w->mstop))
        rc = merge_round(w, &p, w->ram_budget / 2, &merged, err, sizeof err);
    tw_writer_lock(w);
    if (rc) {
        w->merge_rc = rc;
        snprintf(w->merge_msg, sizeof w->merge_msg, "%s", err);
    }
    tw_writer_unlock(w);
    atomic_store(&w->mactive, 0);
    return NULL;
}

/* Waits for the background merge, if one was started. */
void tw_merge_join(trawl_writer *w) {
    if (!w->mjoinable) return;
    pthread_join(w->mthread, NULL);
    w->mjoinable = 0;
}

/* Starts a background merge unless one is running (a finished one is
 * joined first). Without a thread, the merge waits for a later commit. */
void tw_merge_start(trawl_writer *w) {
    if (w->mjoinable && atomic_load(&w->mactive)) return;
    tw_merge_join(w);
    atomic_store(&w->mactive, 1);
    if (pthread_create(&w->mthread, NULL, merge_thread, w) == 0)
        w->mjoinable = 1;
    else
        atomic_store(&w->mactive, 0);
}

/* The failure of a finished background merge, once: its code, with the
 * message in errmsg; or 0. */
int tw_merge_report(trawl_writer *w) {
    tw_writer_lock(w);
    int rc = w->merge_rc;
    if (rc) snprintf(w->errmsg, sizeof w->errmsg, "background merge failed: %s", w->merge_msg);
    w->merge_rc = 0;
    tw_writer_unlock(w);
    return rc;
}

void trawl_writer_set_auto_merge(trawl_writer *w, int on) {
    if (w) w->auto_merge = on != 0;
}

trawl_rc trawl_writer_wait(trawl_writer *w) {
    if (!w) return TRAWL_EINVAL;
    tw_merge_join(w);
    tw_err_clear(w->errmsg, sizeof w->errmsg);
    return tw_writer_settle(w, tw_merge_report(w));
}

trawl_rc trawl_writer_merge(trawl_writer *w, size_t max_segments) {
    if (!w) return TRAWL_EINVAL;
    tw_merge_join(w);
    if (tw_writer_failed(w)) return w->fail;
    tw_err_clear(w->errmsg, sizeof w->errmsg);
    int rc = tw_merge_report(w);
    if (rc) return rc;
    rc = tw_writer_commit_pending(w);
    if (rc) return tw_writer_settle(w, rc);
    tw_mp_params p;
    tw_mp_defaults(&p);
    p.max_deleted = 0; /* an explicit merge drops every deleted document */
    p.max_segments = max_segments;
    int merged;
    rc = merge_round(w, &p, w->ram_budget, &merged, w->errmsg, sizeof w->errmsg);
    if (rc && strncmp(w->errmsg, "merge: ", 7) != 0) {
        char tmp[sizeof w->errmsg];
        snprintf(tmp, sizeof tmp, "merge: %.1000s", w->errmsg);
        memcpy(w->errmsg, tmp, sizeof tmp);
    }
    return tw_writer_settle(w, rc);
}
