/*
 * writer.c — trawl_writer: documents in, committed segments out.
 *
 * Front of the write path. trawl_writer_add_json reads the document in the
 * caller's thread (jsondoc: yajl, jansson for anything unusual) and checks it
 * — JSON, "id", field names, the field limit — so that a bad document is
 * refused at once; then it joins a batch. Full batches are analyzed by the
 * pipe's threads (docpipe) and come back in order to this thread, which feeds
 * them to the accumulator during later calls; the accumulator is flushed to a
 * segment file whenever it outgrows its memory budget. So document numbers,
 * segment cuts and every byte written are those of a one-document-at-a-time
 * writer. On commit the pipe is drained, the last segment written, the
 * deletion bitmaps of replaced documents and a new manifest. Nothing is
 * visible to readers before the manifest is replaced; a writer closed without
 * commit removes the files it wrote.
 *
 * Errors: TRAWL_EDOC / TRAWL_ELIMIT (and TRAWL_ENOMEM while reading) refuse
 * only the document given. A failure while accumulating or flushing earlier
 * documents (out of memory, a segment that cannot be written) surfaces in a
 * later add or in the commit, and is sticky: every later add and commit
 * returns it, and the writer can only be closed.
 *
 * Threads and memory budget come from the trawl_open_options given to
 * trawl_writer_open_v2 (openopts.h): by default one analysis thread per
 * online CPU when there are two or more, up to TW_MAX_WRITER_THREADS, and
 * 256 MiB (see acc_budget for how the budget is shared).
 *
 * After a commit the merge policy runs in a background thread (merge.c);
 * the state the two share is in writer.h, guarded by the writer's mutex.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>
#include <xxhash.h>

#include "accum.h"
#include "analyzer.h"
#include "docpipe.h"
#include "engine.h"
#include "jsondoc.h"
#include "openopts.h"
#include "mapreg.h"
#include "mergepolicy.h"
#include "query.h"
#include "datetime.h"
#include "schema.h"
#include "segwriter.h"
#include "typedacc.h"
#include "writer.h"

#define ID_MAX_BYTES 1024u
#define DOC_MAX_BYTES TRAWL_MAX_DOC_BYTES
#define BATCH_DOCS 4096u
const char *trawl_writer_errmsg(const trawl_writer *w) {
    return w ? w->errmsg : "no writer";
}
uint64_t trawl_writer_pending(const trawl_writer *w) {
    return w ? w->pending_docs : 0;
}

static int referenced(const tw_manifest *m, const char *name) {
    for (size_t i = 0; i < m->nsegs; i++)
        if (strcmp(m->segs[i].name, name) == 0 || (m->segs[i].del && strcmp(m->segs[i].del, name) == 0)) return 1;
    return 0;
}

/* Adds name to r's busy list (r->mu held). 0 or TRAWL_ENOMEM. */
static int busy_add(trawl_writer *r, const char *name) {
    if (r->nbusy == r->busy_cap) {
        size_t cap = r->busy_cap ? r->busy_cap * 2 : 16;
        char **nb = realloc(r->busy, cap * sizeof *nb);
        if (!nb) return TRAWL_ENOMEM;
        r->busy = nb;
        r->busy_cap = cap;
    }
    if (!(r->busy[r->nbusy] = strdup(name))) return TRAWL_ENOMEM;
    r->nbusy++;
    return 0;
}

/* Removes name from r's busy list (r->mu held). */
void tw_writer_busy_del(trawl_writer *r, const char *name) {
    for (size_t i = 0; i < r->nbusy; i++)
        if (strcmp(r->busy[i], name) == 0) {
            free(r->busy[i]);
            r->busy[i] = r->busy[--r->nbusy];
            return;
        }
}

void tw_writer_lock(trawl_writer *r) {
    if (r->mu_ok) pthread_mutex_lock(&r->mu);
}
void tw_writer_unlock(trawl_writer *r) {
    if (r->mu_ok) pthread_mutex_unlock(&r->mu);
}

/* Removes files of ours (tw_indexdir_is_ours: exact patterns) that the
 * manifest does not name and that are not this writer's pending segments:
 * left by a crashed or rolled-back writer, or replaced by a later commit.
 * Nothing else is ever removed. Holds the lock, and w->mu when a background
 * merge may run. */
void tw_writer_collect_garbage(trawl_writer *w) {
    DIR *d = opendir(w->dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!tw_indexdir_is_ours(e->d_name) || referenced(&w->man, e->d_name)) continue;
        int pending = 0;
        for (size_t i = 0; i < w->nbusy; i++)
            if (strcmp(w->busy[i], e->d_name) == 0) pending = 1;
        if (pending) continue;
        char *p = tw_path_join(w->dir, e->d_name);
        struct stat st;
        /* A segment file some reader of this process still maps waits for a
         * later collection. */
        if (p && !(stat(p, &st) == 0 && tw_mapreg_held(st.st_dev, st.st_ino))) unlink(p);
        free(p);
    }
    closedir(d);
}

trawl_rc trawl_writer_open(const char *dir, const char *lang, trawl_writer **out, char **errmsg) {
    return trawl_writer_open_v2(dir, lang, NULL, out, errmsg);
}

/* The memory model of the writer's budget B (trawl_open_options ram_mb):
 * peak RSS stays within 1.5 B (plus the program and its mapped input). What
 * is alive at the peak, while a segment is built from a full accumulator:
 *  - the accumulator and the typed values, charged at what they really hold
 *    (tw_accum_bytes, tw_tacc_bytes): at most the returned share A;
 *  - the segment being built (POSTINGS, POSITIONS, DICT, typed sections and
 *    the builders' scratch; the store is already compressed inside the
 *    accumulator): measured at up to about 0.6 A in the heap, reckoned A
 *    with the allocator's overhead and the pages of freed builders that
 *    threads' arenas keep;
 *  - the analysis pipe: max_pending + 2 batches of batch_bytes text, each
 *    about PIPE_BATCH_FACTOR times that once analyzed;
 *  - the analyzers' stem caches (4 MiB each, touched as words come) and the
 *    rest: FIXED_BYTES, which covers three analysis threads.
 * So A = (1.5 B - pipe - fixed) / 2, at least 1 MiB (a budget too small
 * for its fixed costs is not met). A depends on B only, never on the number
 * of threads, so segments are cut at the same documents whatever it is. */
#define PIPE_BATCH_FACTOR 6u
#define FIXED_BYTES ((size_t)24 << 20)
static size_t acc_budget(size_t budget, size_t batch_bytes, size_t max_pending) {
    size_t fixed = (max_pending + 2) * batch_bytes * PIPE_BATCH_FACTOR + FIXED_BYTES;
    size_t top = budget / 2 * 3;
    size_t a = top > fixed ? (top - fixed) / 2 : 0;
    return a < ((size_t)1 << 20) ? (size_t)1 << 20 : a;
}

/* Makes the accumulator and the analysis pipe (w->threads threads) and sizes
 * the batches and the accumulator's share of the budget (see the memory
 * model at acc_budget). 0 or TRAWL_ENOMEM. */
int tw_writer_start(trawl_writer *w) {
    if (!(w->acc = tw_accum_new()) || !(w->tacc = tw_tacc_new()) || !(w->pipe = tw_pipe_new(w->man.lang, w->threads)) ||
        !w->man.schema || !(w->schema_text = tw_schema_print(w->man.schema, NULL)))
        return TRAWL_ENOMEM;
    size_t budget = w->ram_budget;
    w->batch_bytes = budget / 256;
    if (w->batch_bytes < ((size_t)16 << 10)) w->batch_bytes = (size_t)16 << 10;
    if (w->batch_bytes > ((size_t)256 << 10)) w->batch_bytes = (size_t)256 << 10;
    /* A batch in the pipe takes about PIPE_BATCH_FACTOR times its text once
     * analyzed (terms, positions, spans): the queue holds at most 1/64 of
     * the budget in text. */
    w->max_pending = budget / 64 / w->batch_bytes;
    if (w->max_pending > 16) w->max_pending = 16;
    if (w->max_pending < 1) w->max_pending = 1;
    w->acc_budget = acc_budget(budget, w->batch_bytes, w->max_pending);
    w->acc_budget_merging = acc_budget(budget / 2, w->batch_bytes, w->max_pending);
    return 0;
}

/* Settles the schema of the writer's index (w->man read, or empty for a new
 * index): the options' schema file text, if any, must parse and, for an
 * existing index, equal the index's schema; a new index without one gets the
 * default schema. 0 or TRAWL_EINVAL / ENOMEM with a message in err. */
static int writer_schema(trawl_writer *w, const trawl_open_options *o, const char *dir, char *err, size_t errcap) {
    tw_schema *given = NULL;
    if (o && o->schema) {
        char serr[512];
        int rc = tw_schema_parse(o->schema, strlen(o->schema), &given, serr, sizeof serr);
        if (rc) return tw_err(err, errcap, rc, "schema: %s", serr);
    }
    if (w->man.schema) {
        int same = !given || tw_schema_equal(given, w->man.schema);
        if (!same) {
            char *have = tw_schema_print(w->man.schema, NULL);
            tw_err(err, errcap, TRAWL_EINVAL,
                   "%s: the index was created with another schema (%s); a schema cannot change", dir,
                   have ? have : "?");
            free(have);
        }
        tw_schema_free(given);
        return same ? 0 : TRAWL_EINVAL;
    }
    if (!given && tw_schema_default(&given) != 0) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    w->man.schema = given;
    return 0;
}

trawl_rc trawl_writer_open_v2(const char *dir, const char *lang, const trawl_open_options *options, trawl_writer **out,
                              char **errmsg) {
    char err[1024] = "";
    int rc = 0;
    if (out) *out = NULL;
    if (errmsg) *errmsg = NULL;
    if (!dir || !out) return TRAWL_EINVAL;
    trawl_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->dir = strdup(dir))) {
        free(w);
        return TRAWL_ENOMEM;
    }
    w->lockfd = -1;
    w->root = w;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w->dir);
        free(w);
        return TRAWL_ENOMEM;
    }
    w->mu_ok = 1;
    w->ram_budget = tw_open_ram_bytes(options);
    if (options && options->schema) { /* a bad schema leaves no directory behind */
        tw_schema *sc = NULL;
        char serr[512];
        rc = tw_schema_parse(options->schema, strlen(options->schema), &sc, serr, sizeof serr);
        tw_schema_free(sc);
        if (rc) {
            tw_err(err, sizeof err, rc, "schema: %s", serr);
            goto fail;
        }
    }
    for (unsigned k = 0; k < FIELD_CACHE; k++) w->fcache[k] = -1;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        rc = tw_err(err, sizeof err, TRAWL_EIO, "%s: cannot create directory: %s", dir, strerror(errno));
        goto fail;
    }
    /* A directory that is not (and is not becoming) an index is left as it
     * is, without even a LOCK file; checked again under the lock. */
    char *mpath = tw_path_join(dir, TW_MANIFEST);
    struct stat mst;
    int no_manifest = mpath && stat(mpath, &mst) != 0 && errno == ENOENT;
    free(mpath);
    if (no_manifest && (rc = tw_indexdir_check_new(dir, &w->creating, err, sizeof err)) != 0) goto fail;
    char *lockpath = tw_path_join(dir, "LOCK");
    if (!lockpath) {
        rc = TRAWL_ENOMEM;
        goto fail;
    }
    w->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(lockpath);
    if (w->lockfd < 0) {
        rc = tw_err(err, sizeof err, TRAWL_EIO, "%s/LOCK: cannot open: %s", dir, strerror(errno));
        goto fail;
    }
    if (flock(w->lockfd, LOCK_EX | LOCK_NB) != 0) {
        rc = tw_err(err, sizeof err, errno == EWOULDBLOCK ? TRAWL_ELOCKED : TRAWL_EIO,
                    "%s: another writer holds the lock", dir);
        goto fail;
    }
    rc = tw_manifest_read(dir, &w->man, err, sizeof err);
    if (rc == TRAWL_ENOTFOUND) {
        rc = tw_indexdir_check_new(dir, &w->creating, err, sizeof err);
        if (rc == 0 && !w->creating) rc = tw_indexdir_mark_creating(dir, err, sizeof err);
        if (rc) goto fail;
        w->creating = 1;
        snprintf(w->man.lang, sizeof w->man.lang, "%s", lang ? lang : "english");
    } else if (rc) {
        goto fail;
    } else if (lang && strcmp(lang, w->man.lang) != 0) {
        rc =
            tw_err(err, sizeof err, TRAWL_EINVAL, "%s: the index uses language '%s', not '%s'", dir, w->man.lang, lang);
        goto fail;
    }
    if ((rc = writer_schema(w, options, dir, err, sizeof err)) != 0) goto fail;
    tw_analyzer *an;
    rc = tw_analyzer_new(w->man.lang, &an);
    if (rc) {
        tw_err(err, sizeof err, rc, rc == TRAWL_EINVAL ? "unknown language '%s'" : "out of memory", w->man.lang);
        goto fail;
    }
    snprintf(w->man.lang, sizeof w->man.lang, "%s", tw_analyzer_lang(an));
    tw_analyzer_free(an);
    w->threads = tw_open_threads(options);
    w->auto_merge = 1;
    if ((rc = tw_writer_start(w)) != 0) goto fail;
    if (!w->creating) tw_indexdir_unmark_creating(dir); /* left by a crash just after a first commit */
    tw_writer_collect_garbage(w);
    w->opened = 1;
    *out = w;
    return 0;
fail:
    if (errmsg) *errmsg = strdup(err[0] ? err : trawl_strerror(rc));
    trawl_writer_close(w);
    return rc;
}

static void ns_free(nameset *s) {
    free(s->slots);
    free(s->ents);
    tw_buf_free(&s->bytes);
    memset(s, 0, sizeof *s);
}

static void ns_clear(nameset *s) {
    if (s->slots) memset(s->slots, 0, s->cap * sizeof *s->slots);
    s->n = 0;
    s->bytes.len = 0;
}

/* Slot of name in s: where it is, or the empty slot where it would go. */
static size_t ns_slot(const nameset *s, const char *name, size_t len) {
    size_t mask = s->cap - 1, i = XXH3_64bits(name, len) & mask;
    for (uint32_t e; (e = s->slots[i]) != 0; i = (i + 1) & mask)
        if (s->ents[e - 1].len == len && memcmp(s->bytes.p + s->ents[e - 1].off, name, len) == 0) break;
    return i;
}

static int ns_has(const nameset *s, const char *name, size_t len) {
    return s->n > 0 && s->slots[ns_slot(s, name, len)] != 0;
}

/* Adds name to s. 0 or TRAWL_ENOMEM. */
static int ns_add(nameset *s, const char *name, size_t len) {
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        uint32_t *ns = calloc(ncap, sizeof *ns);
        void *ne = realloc(s->ents, ncap / 2 * sizeof *s->ents);
        if (!ns || !ne) {
            free(ns);
            if (ne) s->ents = ne;
            return TRAWL_ENOMEM;
        }
        s->ents = ne;
        free(s->slots);
        s->slots = ns;
        s->cap = ncap;
        for (size_t k = 0; k < s->n; k++) {
            size_t i = XXH3_64bits(s->bytes.p + s->ents[k].off, s->ents[k].len) & (ncap - 1);
            while (s->slots[i]) i = (i + 1) & (ncap - 1);
            s->slots[i] = (uint32_t)k + 1;
        }
    }
    size_t i = ns_slot(s, name, len);
    if (s->slots[i]) return 0;
    s->ents[s->n].off = s->bytes.len;
    s->ents[s->n].len = len;
    tw_buf_put(&s->bytes, name, len);
    if (s->bytes.oom) return TRAWL_ENOMEM;
    s->slots[i] = (uint32_t)++s->n;
    return 0;
}

static void remove_pending(trawl_writer *w) {
    for (size_t i = 0; i < w->npend; i++) {
        char *p = tw_path_join(w->dir, w->pend[i].name);
        if (p) unlink(p);
        free(p);
        tw_writer_lock(w->root);
        tw_writer_busy_del(w->root, w->pend[i].name);
        tw_writer_unlock(w->root);
        free(w->pend[i].name);
    }
    free(w->pend);
    w->pend = NULL;
    w->npend = 0;
}

static void free_dels(trawl_writer *w) {
    for (size_t i = 0; i < w->ndels; i++) free(w->dels[i].id);
    free(w->dels);
    w->dels = NULL;
    w->ndels = w->dels_cap = 0;
}

void trawl_writer_close(trawl_writer *w) {
    if (!w) return;
    atomic_store(&w->mstop, 1);
    tw_merge_join(w); /* (its failure, if any, is the caller's to ask for with trawl_writer_wait) */
    free_dels(w);
    /* Files a reader of this process mapped at the last collection may be
     * free now (a writer with a lock and a commit only). */
    if (w->opened && w->man.generation > 0 && !w->fail) tw_writer_collect_garbage(w);
    tw_pipe_free(w->pipe);
    remove_pending(w);
    tw_accum_free(w->acc);
    tw_tacc_free(w->tacc);
    free(w->schema_text);
    tw_buf_free(&w->trec);
    tw_jdoc_free(&w->jd);
    ns_free(&w->maybe_fields);
    free(w->post);
    free(w->fpost);
    tw_manifest_free(&w->man);
    if (w->lockfd >= 0) close(w->lockfd);
    for (size_t i = 0; i < w->nbusy; i++) free(w->busy[i]);
    free(w->busy);
    if (w->mu_ok) pthread_mutex_destroy(&w->mu);
    free(w->dir);
    free(w);
}

/* Writes the accumulator out as a pending segment and starts a fresh one. On
 * failure the accumulator is unchanged. */
int tw_writer_flush(trawl_writer *w) {
    if (tw_accum_docs(w->acc) == 0) return 0;
    char name[96];
    pending_seg *np = realloc(w->pend, sizeof *np * (w->npend + 1));
    if (!np) return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
    w->pend = np;
    /* The name is unique among this writer's commits and merges, and busy
     * (safe from garbage collection) before the file exists. */
    trawl_writer *r = w->root;
    tw_writer_lock(r);
    snprintf(name, sizeof name, "seg-%06" PRIu64 "-%04u.tws", r->man.generation + 1, r->seq++);
    int brc = busy_add(r, name);
    tw_writer_unlock(r);
    char *path = brc ? NULL : tw_path_join(w->dir, name), *nm = strdup(name);
    tw_accum *fresh = tw_accum_new();
    tw_tacc *tfresh = tw_tacc_new();
    int rc = 0;
    if (!path || !nm || !fresh || !tfresh) {
        rc = TRAWL_ENOMEM;
        tw_err(w->errmsg, sizeof w->errmsg, rc, "out of memory");
    } else {
        unlink(path); /* a leftover of a rolled-back writer */
        rc = tw_segment_write(w->acc, w->tacc, w->man.lang, w->schema_text, path, NULL, w->errmsg, sizeof w->errmsg);
    }
    free(path);
    if (rc) {
        tw_writer_lock(r);
        tw_writer_busy_del(r, name);
        tw_writer_unlock(r);
        free(nm);
        tw_accum_free(fresh);
        tw_tacc_free(tfresh);
        return rc;
    }
    tw_tacc_free(w->tacc);
    w->tacc = tfresh;
    w->pend[w->npend].name = nm;
    w->pend[w->npend].docs = tw_accum_docs(w->acc);
    w->npend++;
    tw_accum_free(w->acc);
    w->acc = fresh;
    return 0;
}

/* Makes rc (a failure while accumulating accepted documents) sticky, with the
 * message now in errmsg (or msg when given). Returns rc. */
static int fail(trawl_writer *w, int rc, const char *msg) {
    if (msg) snprintf(w->errmsg, sizeof w->errmsg, "%s", msg);
    w->fail = rc;
    snprintf(w->failmsg, sizeof w->failmsg, "%s", w->errmsg);
    return rc;
}

/* The accumulator's number for the k-th text field of a document, named
 * name: the one the k-th field of an earlier document had when the names
 * agree, else a lookup (register: register it when new). TRAWL_ENOTFOUND
 * (lookup only), or tw_accum_field's error. */
static int field_number(trawl_writer *w, uint32_t k, const char *name, size_t len, int reg) {
    if (k < FIELD_CACHE && w->fcache[k] >= 0 && tw_accum_field_is(w->acc, (uint32_t)w->fcache[k], name, len))
        return w->fcache[k];
    int f = reg ? tw_accum_field(w->acc, name, len) : tw_accum_field_lookup(w->acc, name, len);
    if (k < FIELD_CACHE && f >= 0) w->fcache[k] = f;
    return f;
}

/* Lays the analysis output of b out as w->post (every posting of the batch,
 * in order) and w->fpost (per batch field: first posting, count, tokens).
 * Field numbers are the accumulator's as it stands: guesses for prefetching.
 * 0, TRAWL_ENOMEM, or TRAWL_ECORRUPT (a record that does not decode). */
static int index_postings(trawl_writer *w, const tw_batch *b) {
    if (b->nfields > w->fpost_cap) {
        size_t cap = w->fpost_cap ? w->fpost_cap : 256;
        while (cap < b->nfields) cap *= 2;
        fpost *nf = realloc(w->fpost, cap * sizeof *nf);
        if (!nf) return TRAWL_ENOMEM;
        w->fpost = nf;
        w->fpost_cap = cap;
    }
    tw_arec_reader rd;
    tw_arec_reader_init(&rd, b->out.p, b->out.len);
    size_t np = 0;
    for (uint32_t d = 0; d < b->ndocs; d++) {
        for (uint32_t k = 0; k < b->docs[d].n; k++) {
            uint32_t fi = b->docs[d].first + k, ntoks, nterms;
            if (tw_arec_next_field(&rd, &ntoks, &nterms)) return TRAWL_ECORRUPT;
            const tw_bfield *bf = &b->fields[fi];
            int guess = field_number(w, k, tw_batch_ptr(b, bf->name), bf->name.len, 0);
            w->fpost[fi] = (fpost){np, nterms, ntoks};
            if (np + nterms > w->post_cap) {
                size_t cap = w->post_cap ? w->post_cap : 4096;
                while (cap < np + nterms) cap *= 2;
                tw_posting *nq = realloc(w->post, cap * sizeof *nq);
                if (!nq) return TRAWL_ENOMEM;
                w->post = nq;
                w->post_cap = cap;
            }
            for (uint32_t t = 0; t < nterms; t++) {
                tw_posting *q = &w->post[np++];
                if (tw_arec_next_term(&rd, q)) return TRAWL_ECORRUPT;
                q->hint = 0;
                q->field = guess < 0 ? 0 : (uint32_t)guess;
            }
        }
    }
    w->npost = np;
    return 0;
}

/* The typed-value record of a document (built by extract_typed, read by
 * add_typed; it never leaves memory): entries of
 *   u8 kind ('k' keyword, 'i' int64, 'd' double), u32 name length, name,
 *   then for 'k' u32 length + value bytes, else 8 value bytes
 * in the machine's byte order. */
static void trec_entry(tw_buf *r, char kind, const char *name, size_t nlen, const void *v, size_t vlen) {
    uint32_t n32 = (uint32_t)nlen, v32 = (uint32_t)vlen;
    tw_buf_u8(r, (uint8_t)kind);
    tw_buf_put(r, &n32, 4);
    tw_buf_put(r, name, nlen);
    if (kind == 'k') tw_buf_put(r, &v32, 4);
    tw_buf_put(r, v, vlen);
}

/* Adds the typed values of record p[0..len) to w->tacc as document doc.
 * 0 or a sticky failure. */
static int add_typed(trawl_writer *w, uint32_t doc, const uint8_t *p, size_t len) {
    const uint8_t *end = p + len;
    while (p < end) {
        char kind = (char)*p++;
        uint32_t nlen, vlen = 8;
        memcpy(&nlen, p, 4);
        const char *name = (const char *)p + 4;
        p += 4 + nlen;
        if (kind == 'k') {
            memcpy(&vlen, p, 4);
            p += 4;
        }
        int f = tw_tacc_field(w->tacc, name, nlen,
                              kind == 'k'                                                ? TW_FT_KEYWORD
                              : tw_schema_types(w->man.schema, name, nlen) == TW_FT_DATE ? TW_FT_DATE
                                                                                         : TW_FT_NUMBER);
        int rc = f;
        if (f >= 0) {
            if (kind == 'k') {
                rc = tw_tacc_add_keyword(w->tacc, (uint32_t)f, doc, (const char *)p, vlen);
            } else if (kind == 'i') {
                int64_t v;
                memcpy(&v, p, 8);
                rc = tw_tacc_add_int(w->tacc, (uint32_t)f, doc, v);
            } else {
                double v;
                memcpy(&v, p, 8);
                rc = tw_tacc_add_double(w->tacc, (uint32_t)f, doc, v);
            }
        }
        if (rc < 0)
            return fail(w, rc,
                        rc == TRAWL_ENOMEM   ? "out of memory"
                        : rc == TRAWL_ELIMIT ? "too many typed values in one segment"
                                             : "inconsistent typed values");
        p += vlen;
    }
    return 0;
}

/* Feeds the analyzed batch b to the accumulator, flushing a segment after
 * any document that brings it to the budget. 0 or a sticky failure. */
static int accumulate(trawl_writer *w, tw_batch *b) {
    if (b->rc == TRAWL_ELIMIT) return fail(w, TRAWL_ELIMIT, "a text field has too many tokens");
    int rc = b->rc ? b->rc : index_postings(w, b);
    if (rc == TRAWL_ECORRUPT) return fail(w, rc, "the analysis of a batch does not decode");
    if (rc) return fail(w, rc, "out of memory");
    for (uint32_t d = 0; d < b->ndocs && rc == 0; d++) {
        const tw_bdoc *doc = &b->docs[d];
        int64_t dn = tw_accum_begin_doc(w->acc, tw_batch_ptr(b, doc->id), doc->id.len, tw_batch_ptr(b, doc->text),
                                        doc->text.len);
        if (dn < 0) {
            rc = dn == TRAWL_ELIMIT ? fail(w, TRAWL_ELIMIT, "too many documents in one segment")
                                    : fail(w, (int)dn, "out of memory");
            break;
        }
        if (doc->typed_len && (rc = add_typed(w, (uint32_t)dn, b->typed.p + doc->typed_off, doc->typed_len)) != 0)
            break;
        for (uint32_t k = 0; k < doc->n && rc == 0; k++) {
            uint32_t fi = doc->first + k;
            const tw_bfield *bf = &b->fields[fi];
            int f = field_number(w, k, tw_batch_ptr(b, bf->name), bf->name.len, 1);
            if (f == TRAWL_ELIMIT)
                rc = fail(w, f, "too many text fields");
            else if (f < 0)
                rc = fail(w, f, "out of memory");
            else if (w->fpost[fi].n && /* w->post is NULL when no field has a token: NULL + 0 is undefined */
                     (rc = tw_accum_add_postings(w->acc, (uint32_t)f, w->post + w->fpost[fi].first, w->fpost[fi].n,
                                                 w->npost - w->fpost[fi].first)) != 0)
                rc = fail(w, rc, rc == TRAWL_ELIMIT ? "a posting list outgrew 4 GiB" : "out of memory");
            else
                tw_accum_end_field(w->acc, (uint32_t)f, w->fpost[fi].ntoks);
        }
        if (rc) break;
        tw_accum_end_doc(w->acc);
        /* While a background merge runs it has half of the budget. */
        size_t share = atomic_load(&w->mactive) ? w->acc_budget_merging : w->acc_budget;
        if (tw_accum_bytes(w->acc) + tw_tacc_bytes(w->tacc) >= share) {
            if ((rc = tw_writer_flush(w)) != 0) {
                rc = fail(w, rc, NULL);
                break;
            }
            /* Hints of the postings ahead point into the old accumulator. */
            size_t next = doc->n ? w->fpost[doc->first + doc->n - 1].first + w->fpost[doc->first + doc->n - 1].n : 0;
            for (size_t i = next; i < w->npost; i++) w->post[i].hint = 0;
        }
    }
    return rc;
}

/* Accumulates the analyzed batches: those ready, and waiting for more while
 * too many are queued; with all set, every submitted batch. */
static int pump(trawl_writer *w, int all) {
    for (;;) {
        size_t n = tw_pipe_pending(w->pipe);
        int wait = all ? n > 0 : n > w->max_pending;
        tw_batch *b = tw_pipe_take(w->pipe, wait);
        if (!b) return 0;
        int rc = accumulate(w, b);
        tw_pipe_recycle(w->pipe, b);
        if (rc) return rc;
    }
}

/* Brings every accepted document into the accumulator. */
int tw_writer_drain(trawl_writer *w) {
    if (tw_pipe_submit(w->pipe)) return fail(w, TRAWL_ENOMEM, "out of memory");
    return pump(w, 1);
}

static int key_is(const tw_jdoc *d, const tw_jkey *k, const char *s) {
    size_t n = strlen(s);
    return k->name.len == n && memcmp(tw_jdoc_bytes(d, k->name), s, n) == 0;
}

static int is_text_field(const tw_jdoc *d, const tw_jkey *k) {
    return k->kind != TW_JV_OTHER && k->name.len > 0 && !key_is(d, k, "id");
}

/* Checks the document read into w->jd as the accumulator would take it: an
 * "id", field names, the field limit (every key counts as a field the
 * accumulator does not have yet). Sets *id. 0 or TRAWL_EDOC / ELIMIT. */
static int check_doc(trawl_writer *w, const tw_jkey **id) {
    const tw_jdoc *d = &w->jd;
    *id = NULL;
    for (size_t k = 0; k < d->nkeys; k++)
        if (key_is(d, &d->keys[k], "id")) *id = &d->keys[k];
    if (!*id || (*id)->kind != TW_JV_STRING || d->strs[(*id)->first].len == 0)
        return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EDOC, "\"id\" must be a non-empty string");
    if (d->strs[(*id)->first].len > ID_MAX_BYTES)
        return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ELIMIT, "\"id\" is longer than %u bytes", ID_MAX_BYTES);
    size_t fresh = 0;
    for (size_t k = 0; k < d->nkeys; k++) {
        const tw_jkey *key = &d->keys[k];
        if (key->name.len > 255)
            return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ELIMIT, "field name longer than 255 bytes");
        fresh += !ns_has(&w->maybe_fields, tw_jdoc_bytes(d, key->name), key->name.len);
    }
    if (w->maybe_fields.n + fresh > TW_MAX_FIELDS) {
        /* The superset says no: ask the accumulator itself, once it holds
         * every document accepted so far, and start the superset afresh. */
        int rc = tw_writer_drain(w);
        if (rc) return rc;
        fresh = 0;
        for (size_t k = 0; k < d->nkeys; k++)
            fresh += tw_accum_field_lookup(w->acc, tw_jdoc_bytes(d, d->keys[k].name), d->keys[k].name.len) < 0;
        ns_clear(&w->maybe_fields);
        for (uint32_t f = 0; f < tw_accum_nfields(w->acc); f++) {
            const char *name = tw_accum_field_name(w->acc, f);
            if (ns_add(&w->maybe_fields, name, strlen(name)))
                return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
        }
        if (tw_accum_nfields(w->acc) + fresh > TW_MAX_FIELDS)
            return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ELIMIT, "more than %u fields", TW_MAX_FIELDS);
    }
    return 0;
}

/* Parses the JSON number text s[0..len) (valid JSON syntax): an int64 when
 * it is written as an integer that fits, else a double. 0, or TRAWL_EDOC
 * when it is not finite. */
static int parse_number(const char *s, size_t len, tw_num *out) {
    char buf[512];
    if (len >= sizeof buf) len = sizeof buf - 1; /* (jsondoc only lets shorter numbers through the fast path) */
    memcpy(buf, s, len);
    buf[len] = 0;
    memset(out, 0, sizeof *out);
    if (!strpbrk(buf, ".eE")) {
        errno = 0;
        char *e;
        long long v = strtoll(buf, &e, 10);
        if (errno == 0 && *e == 0) {
            out->i = v;
            return 0;
        }
    }
    char *e;
    double d = strtod(buf, &e);
    if (*e != 0 || !isfinite(d)) return TRAWL_EDOC;
    out->is_double = 1;
    out->d = d;
    return 0;
}

/* The field name of key k, quoted for a message (cut to 80 bytes). */
#define KEYNAME(d, k) (int)((k)->name.len > 80 ? 80 : (k)->name.len), tw_jdoc_bytes(d, (k)->name)

/* Checks the typed values of the document in w->jd against the schema and
 * encodes them into w->trec (see trec_entry). 0, or TRAWL_EDOC with a
 * message naming the field and the value that does not fit, or TRAWL_ENOMEM. */
static int extract_typed(trawl_writer *w, const tw_jkey *id) {
    const tw_jdoc *d = &w->jd;
    tw_buf *r = &w->trec;
    r->len = 0;
    r->oom = 0;
    for (size_t i = 0; i < d->nkeys; i++) {
        const tw_jkey *k = &d->keys[i];
        if (k == id || k->name.len == 0) continue;
        const char *name = tw_jdoc_bytes(d, k->name);
        unsigned t = tw_schema_types(w->man.schema, name, k->name.len);
        if (!(t & (TW_FT_KEYWORD | TW_FT_DATE | TW_FT_NUMBER)) || k->scalar == TW_JS_NULL) continue;
        if (t & TW_FT_KEYWORD) {
            /* A text+keyword field takes what text takes (its strings; other
             * values are ignored, a string too long to be a keyword is text
             * only); a keyword field takes strings only. */
            int lenient = (t & TW_FT_TEXT) != 0;
            if (!lenient && (k->scalar != TW_JS_NONE || k->nonstr))
                return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EDOC,
                              "field \"%.*s\": a keyword value must be a string or an array of strings", KEYNAME(d, k));
            for (size_t j = 0; j < k->n; j++) {
                tw_jstr v = d->strs[k->first + j];
                if (v.len == 0 || (lenient && v.len > TW_KW_MAX_VALUE)) continue; /* an empty string is no value */
                if (v.len > TW_KW_MAX_VALUE)
                    return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EDOC,
                                  "field \"%.*s\": a keyword value is longer than %u bytes", KEYNAME(d, k),
                                  TW_KW_MAX_VALUE);
                trec_entry(r, 'k', name, k->name.len, tw_jdoc_bytes(d, v), v.len);
            }
            continue;
        }
        const char *what = t == TW_FT_DATE ? "date" : "number";
        if (k->array)
            return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EDOC,
                          "field \"%.*s\": a %s field holds one value, not an array", KEYNAME(d, k), what);
        if (t == TW_FT_DATE && k->kind == TW_JV_STRING) {
            tw_jstr v = d->strs[k->first];
            int64_t at;
            const char *why = "";
            if (tw_date_parse(tw_jdoc_bytes(d, v), v.len, &at, NULL, NULL, &why) != 0)
                return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EDOC, "field \"%.*s\": \"%.*s\" is not a date (%s)",
                              KEYNAME(d, k), (int)(v.len > 40 ? 40 : v.len), tw_jdoc_bytes(d, v), why);
            trec_entry(r, 'i', name, k->name.len, &at, 8);
            continue;
        }
        tw_num n;
        if (k->scalar != TW_JS_NUMBER)
            return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EDOC,
                          t == TW_FT_DATE
                              ? "field \"%.*s\": a date is an ISO 8601 string or a JSON integer (epoch seconds)"
                              : "field \"%.*s\": a number field takes a JSON number",
                          KEYNAME(d, k));
        const char *txt = tw_jdoc_bytes(d, k->num);
        if (parse_number(txt, k->num.len, &n) != 0)
            return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EDOC, "field \"%.*s\": number %.*s out of range",
                          KEYNAME(d, k), (int)(k->num.len > 40 ? 40 : k->num.len), txt);
        if (t == TW_FT_DATE) {
            if (n.is_double || n.i < TW_DATE_MIN || n.i > TW_DATE_MAX)
                return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EDOC,
                              "field \"%.*s\": %.*s is no epoch second of the years 0000 to 9999", KEYNAME(d, k),
                              (int)(k->num.len > 40 ? 40 : k->num.len), txt);
            trec_entry(r, 'i', name, k->name.len, &n.i, 8);
        } else if (n.is_double) {
            trec_entry(r, 'd', name, k->name.len, &n.d, 8);
        } else {
            trec_entry(r, 'i', name, k->name.len, &n.i, 8);
        }
    }
    return r->oom ? tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory") : 0;
}

/* Checks the document in w->jd and queues it. */
static int add_doc(trawl_writer *w) {
    const tw_jkey *id;
    int rc = check_doc(w, &id);
    if (rc) return rc;
    if ((rc = extract_typed(w, id)) != 0) return rc;
    const tw_jdoc *d = &w->jd;
    for (size_t k = 0; k < d->nkeys; k++)
        if (is_text_field(d, &d->keys[k]) &&
            ns_add(&w->maybe_fields, tw_jdoc_bytes(d, d->keys[k].name), d->keys[k].name.len))
            return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
    /* A batch holds about batch_bytes of text: a document that does not fit
     * starts the next batch. */
    tw_batch *b = tw_pipe_current(w->pipe);
    if (b && b->ndocs > 0 && (b->text.cap - b->text.len < d->input_len || b->ndocs >= BATCH_DOCS)) {
        if (tw_pipe_submit(w->pipe)) return fail(w, TRAWL_ENOMEM, "out of memory");
        b = tw_pipe_current(w->pipe);
    }
    if (b && b->text.cap == 0) {
        size_t cap = d->input_len > w->batch_bytes ? d->input_len : w->batch_bytes;
        if ((b->text.p = malloc(cap)) != NULL) b->text.cap = cap;
    }
    rc = b && b->text.p ? tw_batch_add(b, d, id, w->man.schema, w->trec.p, w->trec.len) : TRAWL_ENOMEM;
    if (rc == TRAWL_ELIMIT)
        return tw_err(w->errmsg, sizeof w->errmsg, rc, "the document does not fit in a batch (4 GiB)");
    if (rc) return tw_err(w->errmsg, sizeof w->errmsg, rc, "out of memory");
    w->pending_docs++;
    return pump(w, 0);
}

/* The sticky failure, if any, as the result of a call. */
int tw_writer_failed(trawl_writer *w) {
    if (w->fail) snprintf(w->errmsg, sizeof w->errmsg, "%s", w->failmsg);
    return w->fail;
}

/* The end of a public call that returns rc: the message says why it failed
 * (the code's name when nothing more precise was written) and is empty when
 * it succeeded. Returns rc. */
int tw_writer_settle(trawl_writer *w, int rc) {
    if (rc == 0)
        tw_err_clear(w->errmsg, sizeof w->errmsg);
    else if (!w->errmsg[0])
        tw_err(w->errmsg, sizeof w->errmsg, rc, "%s", trawl_strerror(rc));
    return rc;
}

/* trawl_writer_add_json once the writer is known to be usable. */
static int add_json(trawl_writer *w, const char *json, size_t len) {
    if (!json && len) return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EINVAL, "no JSON text");
    if (len > DOC_MAX_BYTES)
        return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ELIMIT, "document larger than %u bytes", DOC_MAX_BYTES);
    while (len > 0 && (json[len - 1] == '\n' || json[len - 1] == '\r' || json[len - 1] == ' ' || json[len - 1] == '\t'))
        len--;
    while (len > 0 && (*json == ' ' || *json == '\t')) json++, len--;
    /* A raw NUL is never valid JSON text (jansson would let one pass after a
     * number, and the stored text would then read as cut short). */
    const char *nul = len ? memchr(json, 0, len) : NULL;
    if (nul)
        return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EDOC, "invalid JSON at column %zu: NUL byte",
                      (size_t)(nul - json) + 1);
    int rc = tw_jdoc_read(&w->jd, json ? json : "", len);
    if (rc == TRAWL_EDOC) return tw_err(w->errmsg, sizeof w->errmsg, rc, "%s", w->jd.err);
    if (rc) return tw_err(w->errmsg, sizeof w->errmsg, rc, "out of memory");
    return add_doc(w);
}

trawl_rc trawl_writer_add_json(trawl_writer *w, const char *json, size_t len) {
    if (!w) return TRAWL_EINVAL;
    if (tw_writer_failed(w)) return w->fail;
    tw_err_clear(w->errmsg, sizeof w->errmsg);
    return tw_writer_settle(w, add_json(w, json, len));
}

/* Copies s[0..len) into a malloc'd buffer with every invalid UTF-8 sequence
 * and every NUL byte replaced by U+FFFD. */
static char *sanitize_utf8(const char *s, size_t len, size_t *outlen) {
    if (len > SIZE_MAX / 3 - 1) return NULL;
    char *out = malloc(len * 3 + 1), *o = out;
    if (!out) return NULL;
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n > 0 && cp != 0) {
            memcpy(o, s + i, (size_t)n);
            o += n;
            i += (size_t)n;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += n > 0 ? (size_t)n : 1;
        }
    }
    *o = 0;
    *outlen = (size_t)(o - out);
    return out;
}

/* Is s[0..len) valid UTF-8 (no overlong form, surrogate or code point past
 * U+10FFFF)? */
static int valid_utf8(const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0) return 0;
        i += (size_t)n;
    }
    return 1;
}

/* Adds value v (a new reference, which this takes) to doc under name: as is
 * for a new name; a repeated name keeps every value, in order, in an array.
 * 0 or TRAWL_ENOMEM. */
static int put_value(json_t *doc, const char *name, json_t *v) {
    json_t *old = json_object_get(doc, name);
    if (!v) return TRAWL_ENOMEM;
    if (!old) return json_object_set_new(doc, name, v) ? TRAWL_ENOMEM : 0;
    if (json_is_array(old)) return json_array_append_new(old, v) ? TRAWL_ENOMEM : 0;
    json_t *arr = json_array();
    if (!arr || json_array_append(arr, old) || json_array_append_new(arr, v)) {
        json_decref(arr);
        return TRAWL_ENOMEM;
    }
    return json_object_set_new(doc, name, arr) ? TRAWL_ENOMEM : 0;
}

trawl_rc trawl_writer_add_fields(trawl_writer *w, const char *id, size_t nfields, const char *const *names,
                                 const char *const *values, const size_t *lens) {
    if (!w) return TRAWL_EINVAL;
    if (tw_writer_failed(w)) return w->fail;
    tw_err_clear(w->errmsg, sizeof w->errmsg);
    if (!id || (nfields && (!names || !values || !lens)))
        return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EINVAL, "no id, or no arrays of names, values and lengths");
    if (!*id || !valid_utf8(id, strlen(id)))
        return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EDOC, "the id must be a non-empty UTF-8 string");
    json_t *doc = json_object();
    int rc = doc && !json_object_set_new(doc, "id", json_string(id)) ? 0 : TRAWL_ENOMEM;
    for (size_t i = 0; i < nfields && rc == 0; i++) {
        if (!names[i] || (!values[i] && lens[i])) {
            rc = tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EINVAL, "field %zu has no name or value", i);
            break;
        }
        if (!*names[i] || !valid_utf8(names[i], strlen(names[i]))) {
            rc = tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EDOC, "field %zu: the name must be a non-empty UTF-8 string",
                        i);
            break;
        }
        if (strcmp(names[i], "id") == 0) {
            rc = tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EDOC, "field name \"id\" is reserved");
            break;
        }
        size_t n;
        char *v = sanitize_utf8(values[i] ? values[i] : "", lens[i], &n);
        rc = v ? put_value(doc, names[i], json_stringn(v, n)) : TRAWL_ENOMEM;
        free(v);
    }
    char *stored = rc ? NULL : json_dumps(doc, JSON_COMPACT);
    if (!rc && !stored) rc = TRAWL_ENOMEM;
    if (rc == TRAWL_ENOMEM) tw_err(w->errmsg, sizeof w->errmsg, rc, "out of memory");
    if (!rc) {
        if (strlen(stored) > DOC_MAX_BYTES)
            rc = tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ELIMIT, "document larger than %u bytes", DOC_MAX_BYTES);
        else if (tw_jdoc_from_tree(&w->jd, doc, stored, strlen(stored)))
            rc = tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
        else
            rc = add_doc(w);
    }
    free(stored);
    json_decref(doc);
    return tw_writer_settle(w, rc);
}

/* Records a deletion of id (len bytes) before the documents added so far. */
static int record_delete(trawl_writer *w, const char *id, size_t len) {
    if (w->ndels == w->dels_cap) {
        size_t cap = w->dels_cap ? w->dels_cap * 2 : 64;
        pending_del *nd = realloc(w->dels, cap * sizeof *nd);
        if (!nd) return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
        w->dels = nd;
        w->dels_cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
    memcpy(copy, id, len);
    copy[len] = 0;
    w->dels[w->ndels].id = copy; /* (field by field: cppcheck lost copy in a compound literal) */
    w->dels[w->ndels].len = len;
    w->dels[w->ndels++].before = w->pending_docs;
    return 0;
}

trawl_rc trawl_writer_delete(trawl_writer *w, const char *id) {
    if (!w || !id) return TRAWL_EINVAL;
    if (tw_writer_failed(w)) return w->fail;
    tw_err_clear(w->errmsg, sizeof w->errmsg);
    size_t len = strlen(id);
    if (len == 0) return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_EINVAL, "the id is empty");
    if (len > ID_MAX_BYTES)
        return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ELIMIT, "id longer than %u bytes", ID_MAX_BYTES);
    return tw_writer_settle(w, record_delete(w, id, len));
}

typedef struct query_del {
    trawl_writer *w;
    const trawl_index *idx;
    uint64_t n;
} query_del;

static int on_query_match(void *ctx, uint32_t si, uint32_t d) {
    query_del *q = ctx;
    size_t len;
    const char *id = tw_segment_id(q->idx->view.segs[si].seg, d, &len);
    q->n++;
    return record_delete(q->w, id, len);
}

trawl_rc trawl_writer_delete_query(trawl_writer *w, const char *query, uint64_t *count) {
    if (count) *count = 0;
    if (!w || !query) return TRAWL_EINVAL;
    if (tw_writer_failed(w)) return w->fail;
    tw_err_clear(w->errmsg, sizeof w->errmsg);
    tw_writer_lock(w);
    uint64_t gen = w->man.generation;
    tw_writer_unlock(w);
    if (gen == 0) return 0; /* nothing committed: nothing matches */
    /* The writer holds the lock, so the directory's commit is w->man. */
    trawl_index *idx;
    char *msg = NULL;
    int rc = trawl_index_open(w->dir, &idx, &msg);
    if (rc) {
        tw_err(w->errmsg, sizeof w->errmsg, rc, "%s", msg ? msg : trawl_strerror(rc));
        free(msg);
        return rc;
    }
    size_t before = w->ndels;
    query_del q = {w, idx, 0};
    tw_qctx *qc = tw_index_qctx_acquire(idx);
    rc = qc ? tw_query_matches(&idx->view, qc, query, 0, on_query_match, &q, w->errmsg, sizeof w->errmsg)
            : tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
    tw_index_qctx_release(idx, qc);
    trawl_index_close(idx);
    if (rc) { /* all or nothing */
        for (size_t i = before; i < w->ndels; i++) free(w->dels[i].id);
        w->ndels = before;
        return tw_writer_settle(w, rc);
    }
    if (count) *count = q.n;
    return 0;
}

/* Marks, in the committed segments and the new ones, every document whose id
 * reappears later (in a newer segment or later in the same segment). */
static int compute_deletes(trawl_writer *w, tw_manifest *next) {
    size_t nold = w->man.nsegs, nall = nold + w->npend;
    tw_segment **segs = calloc(nall ? nall : 1, sizeof *segs);
    roaring_bitmap_t **del = calloc(nall ? nall : 1, sizeof *del);
    int *changed = calloc(nall ? nall : 1, sizeof *changed);
    int rc = 0;
    if (!segs || !del || !changed) {
        rc = tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nall && rc == 0; i++) {
        const char *name = i < nold ? w->man.segs[i].name : w->pend[i - nold].name;
        char *path = tw_path_join(w->dir, name);
        if (!path) {
            rc = TRAWL_ENOMEM;
            break;
        }
        rc = tw_segment_open(path, &segs[i], w->errmsg, sizeof w->errmsg);
        free(path);
        if (rc) break;
        tw_segment_drop_pages(segs[i]); /* only ids are looked up: the rest need not stay resident */
        if (i < nold && w->man.segs[i].del) {
            char *dp = tw_path_join(w->dir, w->man.segs[i].del);
            rc = dp ? tw_deletes_read(dp, segs[i]->ndocs, &del[i], w->errmsg, sizeof w->errmsg) : TRAWL_ENOMEM;
            free(dp);
        } else {
            del[i] = roaring_bitmap_create();
            if (!del[i]) rc = TRAWL_ENOMEM;
        }
    }
    /* For each new segment (in order), each of its ids kills older copies. */
    for (size_t i = nold; i < nall && rc == 0; i++) {
        tw_segment *s = segs[i];
        for (uint32_t k = 0; k < s->ndocs; k++) {
            /* ids sorted with the newest doc first among equals */
            uint32_t d = tw_ld32(s->id_sorted + 4 * (size_t)k);
            size_t len;
            const char *id = tw_segment_id(s, d, &len);
            if (k > 0) {
                size_t pl;
                const char *pid = tw_segment_id(s, tw_ld32(s->id_sorted + 4 * (size_t)(k - 1)), &pl);
                if (pl == len && memcmp(pid, id, len) == 0) {
                    roaring_bitmap_add(del[i], d);
                    changed[i] = 1;
                    continue;
                }
            }
            for (size_t j = 0; j < i; j++) {
                int64_t old = tw_segment_find_id(segs[j], id, len);
                /* Earlier copies within segment j are already deleted. */
                if (old >= 0 && !roaring_bitmap_contains(del[j], (uint32_t)old)) {
                    roaring_bitmap_add(del[j], (uint32_t)old);
                    changed[j] = 1;
                }
            }
        }
    }
    /* Explicit deletions: every committed copy, and the new copies added
     * before the call (a new segment's newest copy of an id is the one its id
     * table finds; older copies in it are deleted above). */
    uint64_t base = 0; /* documents in the new segments before segment i */
    for (size_t i = 0; i < nall && rc == 0; i++) {
        for (size_t k = 0; k < w->ndels; k++) {
            int64_t d = tw_segment_find_id(segs[i], w->dels[k].id, w->dels[k].len);
            if (d < 0 || roaring_bitmap_contains(del[i], (uint32_t)d)) continue;
            if (i >= nold && base + (uint64_t)d >= w->dels[k].before) continue;
            roaring_bitmap_add(del[i], (uint32_t)d);
            changed[i] = 1;
        }
        if (i >= nold) base += segs[i]->ndocs;
    }
    for (size_t i = 0; i < nall && rc == 0; i++) {
        const char *name = i < nold ? w->man.segs[i].name : w->pend[i - nold].name;
        uint32_t docs = segs[i]->ndocs;
        const char *delname = i < nold ? w->man.segs[i].del : NULL;
        char dn[160];
        if (changed[i]) {
            roaring_bitmap_run_optimize(del[i]);
            snprintf(dn, sizeof dn, "%.*s-%06" PRIu64 ".del", (int)(strlen(name) - 4), name, next->generation);
            char *dp = tw_path_join(w->dir, dn);
            rc = dp ? tw_deletes_write(dp, del[i], w->errmsg, sizeof w->errmsg) : TRAWL_ENOMEM;
            free(dp);
            delname = dn;
        }
        /* A segment whose every document is deleted leaves the index. */
        if (rc == 0 && roaring_bitmap_get_cardinality(del[i]) < docs) rc = tw_manifest_add(next, name, delname, docs);
    }
out:
    for (size_t i = 0; segs && del && i < nall; i++) {
        tw_segment_close(segs[i]);
        if (del[i]) roaring_bitmap_free(del[i]);
    }
    free(segs);
    free(del);
    free(changed);
    if (rc == TRAWL_ENOMEM) tw_err(w->errmsg, sizeof w->errmsg, rc, "out of memory");
    return rc;
}

/* After tw_manifest_write failed: is the MANIFEST of generation gen in place
 * all the same (the rename done, a later step failed)? Then the commit is
 * visible and its files must be kept as committed ones. */
int tw_writer_manifest_installed(const trawl_writer *w, uint64_t gen) {
    tw_manifest disk;
    char err[256];
    int in = tw_manifest_read(w->dir, &disk, err, sizeof err) == 0 && disk.generation == gen;
    tw_manifest_free(&disk);
    return in;
}

/* Appends to msg (cap bytes) that the failed write of the manifest still
 * installed it. */
void tw_writer_note_installed(char *msg, size_t cap) {
    size_t n = strlen(msg);
    snprintf(msg + n, cap - n, " (the commit is in place but may not be durable)");
}

/* Makes next (a manifest written to disk) w's commit: its segments and
 * generation replace w->man's; lang and schema stay (w->mu held). The schema
 * pointer is never touched: the adding thread reads it without w->mu while a
 * background merge publishes. */
void tw_writer_adopt(trawl_writer *w, tw_manifest *next) {
    tw_manifest_free_segs(&w->man);
    w->man.segs = next->segs;
    w->man.nsegs = next->nsegs;
    w->man.generation = next->generation;
    next->segs = NULL;
    next->nsegs = 0;
    tw_manifest_free(next);
}

/* An empty manifest of the generation after w's, with w's lang and schema.
 * 0 or TRAWL_ENOMEM. */
int tw_writer_next_manifest(const trawl_writer *w, tw_manifest *next) {
    memset(next, 0, sizeof *next);
    next->generation = w->man.generation + 1;
    memcpy(next->lang, w->man.lang, sizeof next->lang);
    return (next->schema = tw_schema_copy(w->man.schema)) != NULL ? 0 : TRAWL_ENOMEM;
}

/* Commits what was added and deleted (the body of trawl_writer_commit, without
 * the merge after it). */
int tw_writer_commit_pending(trawl_writer *w) {
    if (tw_writer_failed(w)) return w->fail;
    int rc = tw_writer_drain(w);
    if (rc) return rc;
    rc = tw_writer_flush(w);
    if (rc) return rc;
    tw_writer_lock(w);
    if (w->npend == 0 && w->ndels == 0 && w->man.generation > 0) {
        tw_writer_unlock(w);
        return 0;
    }
    tw_manifest next;
    if (tw_writer_next_manifest(w, &next) != 0) {
        tw_writer_unlock(w);
        tw_manifest_free(&next);
        return tw_err(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
    }
    rc = compute_deletes(w, &next);
    int wrc = 0;
    if (rc == 0 && (wrc = tw_manifest_write(w->dir, &next, w->errmsg, sizeof w->errmsg)) != 0) {
        if (tw_writer_manifest_installed(w, next.generation))
            tw_writer_note_installed(w->errmsg, sizeof w->errmsg); /* adopt it below, and report the failure */
        else
            rc = wrc;
    }
    if (rc) {
        tw_writer_unlock(w);
        tw_manifest_free(&next);
        return rc;
    }
    tw_writer_adopt(w, &next);
    for (size_t i = 0; i < w->npend; i++) {
        tw_writer_busy_del(w, w->pend[i].name);
        free(w->pend[i].name);
    }
    free(w->pend);
    w->pend = NULL;
    w->npend = 0;
    w->pending_docs = 0;
    free_dels(w);
    if (w->creating) tw_indexdir_unmark_creating(w->dir);
    w->creating = 0;
    if (wrc == 0) tw_writer_collect_garbage(w);
    tw_writer_unlock(w);
    return wrc;
}

trawl_rc trawl_writer_commit(trawl_writer *w) {
    if (!w) return TRAWL_EINVAL;
    if (tw_writer_failed(w)) return w->fail;
    tw_err_clear(w->errmsg, sizeof w->errmsg);
    int rc = tw_merge_report(w);
    if (rc) return rc;
    rc = tw_writer_commit_pending(w);
    /* The commit is durable whatever the merge does; the merge runs in a
     * thread of the writer's while adds and commits go on. */
    if (rc == 0 && w->auto_merge) tw_merge_start(w);
    return tw_writer_settle(w, rc);
}
