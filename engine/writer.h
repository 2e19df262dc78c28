/*
 * writer.h — the writer's state, shared by its two halves: writer.c (documents
 * in, commits out) and merge.c (the merge policy's runs, in the background
 * after commits or on request). Internal to engine/.
 */
#ifndef TW_WRITER_H
#define TW_WRITER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "accum.h"
#include "docpipe.h"
#include "engine.h"
#include "jsondoc.h"
#include "typedacc.h"

#define FIELD_CACHE 16u /* field numbers remembered by position in the document */

typedef struct pending_seg {
    char *name;
    uint32_t docs;
} pending_seg;

/* A deletion by id, applied at the commit to every copy committed before and
 * every copy among the first `before` documents added since. */
typedef struct pending_del {
    char *id;
    size_t len;
    uint64_t before;
} pending_del;

/* Where the postings of one field of a batch are in the posting array. */
typedef struct fpost {
    size_t first;
    uint32_t n, ntoks;
} fpost;

/* A set of field names. */
typedef struct nameset {
    uint32_t *slots; /* entry + 1; 0 = empty */
    size_t cap;
    struct {
        size_t off, len;
    } * ents;
    size_t n, ents_cap;
    tw_buf bytes;
} nameset;

struct trawl_writer {
    char *dir;
    int lockfd;
    tw_manifest man; /* the commit this writer builds on */
    tw_accum *acc;
    tw_tacc *tacc;     /* typed values of the documents in acc */
    char *schema_text; /* canonical JSON of w->man.schema, recorded in every segment */
    tw_buf trec;       /* the typed values of the document being added (encoded below) */
    pending_seg *pend; /* flushed but not committed */
    size_t npend;
    uint32_t seq; /* segment name counter (never reset: names of commits and merges never meet) */
    uint64_t pending_docs;
    size_t ram_budget;
    size_t acc_budget;    /* what the accumulator and typed values may hold (acc_budget()) */
    tw_jdoc jd;           /* the document being added */
    tw_pipe *pipe;        /* documents accepted but not yet in acc */
    size_t batch_bytes;   /* text a batch holds (a larger document has a batch of its own) */
    size_t max_pending;   /* batches submitted and not yet accumulated, at most */
    nameset maybe_fields; /* text fields that may be in acc: a superset */
    tw_posting *post;     /* the postings of the batch being accumulated */
    size_t npost, post_cap;
    fpost *fpost; /* per field of that batch */
    size_t fpost_cap;
    int fcache[FIELD_CACHE]; /* see field_number */
    pending_del *dels;       /* deletions to apply at the commit, in call order */
    size_t ndels, dels_cap;
    int creating;     /* a new index: the CREATING marker is to go with the first commit */
    unsigned threads; /* analysis threads of the pipe */
    int auto_merge;   /* run the merge policy after each commit */
    int opened;       /* trawl_writer_open succeeded (the lock and the manifest are ours) */
    /* Background merges (merge_thread). mu guards man's segments and
     * generation, seq, busy and the merge state below (man's lang and schema
     * never change after the open). A merge's own writer has root set to the
     * writer it works for, whose mu, names and busy list it uses. */
    trawl_writer *root;
    pthread_mutex_t mu;
    int mu_ok;
    char **busy; /* segment files being written or pending: in no manifest yet, not garbage */
    size_t nbusy, busy_cap;
    pthread_t mthread;
    int mjoinable;      /* mthread started and not joined */
    atomic_int mactive; /* a background merge is running */
    atomic_int mstop;   /* close: start no further merge */
    int merge_rc;       /* failure of a background merge not reported yet */
    char merge_msg[900];
    size_t acc_budget_merging; /* acc_budget while a background merge has its half of the budget */
    int fail;                  /* sticky failure of the accumulation, or 0 */
    char failmsg[1024];
    char errmsg[1024];
};

/* Lock and unlock r->mu (no-ops for a writer without one). */
void tw_writer_lock(trawl_writer *r);
void tw_writer_unlock(trawl_writer *r);
/* Removes name from r's list of files being written (r->mu held). */
void tw_writer_busy_del(trawl_writer *r, const char *name);
/* Removes unreferenced files of ours (see writer.c); w->mu held. */
void tw_writer_collect_garbage(trawl_writer *w);
/* Makes w's accumulator and pipe and sizes its budget shares. 0 or TRAWL_ENOMEM. */
int tw_writer_start(trawl_writer *w);
/* Writes the accumulator out as a pending segment. 0 or a trawl_rc. */
int tw_writer_flush(trawl_writer *w);
/* Brings every accepted document into the accumulator. 0 or a sticky failure. */
int tw_writer_drain(trawl_writer *w);
/* The sticky failure (its message into errmsg), or 0. */
int tw_writer_failed(trawl_writer *w);
/* The end of a public call returning rc: sets or clears errmsg. Returns rc. */
int tw_writer_settle(trawl_writer *w, int rc);
/* Commits what was added and deleted (no merge). 0 or a trawl_rc. */
int tw_writer_commit_pending(trawl_writer *w);
/* Is the MANIFEST of generation gen in place (after a failed write)? */
int tw_writer_manifest_installed(const trawl_writer *w, uint64_t gen);
/* Appends "the commit is in place but may not be durable" to msg. */
void tw_writer_note_installed(char *msg, size_t cap);
/* Makes the written manifest next w's commit (takes its segments; w->mu held). */
void tw_writer_adopt(trawl_writer *w, tw_manifest *next);
/* An empty manifest of the generation after w's. 0 or TRAWL_ENOMEM. */
int tw_writer_next_manifest(const trawl_writer *w, tw_manifest *next);
/* Waits for w's background merge thread, if one was started (merge.c). */
void tw_merge_join(trawl_writer *w);
/* Starts a background merge unless one runs (merge.c). */
void tw_merge_start(trawl_writer *w);
/* A failed background merge's code, once, with its message in errmsg; or 0 (merge.c). */
int tw_merge_report(trawl_writer *w);

#endif
