/*
 * cursor.h — the cursor contract every query operator implements, and the
 * constructors of the operators.
 *
 * A cursor walks the matching documents of one segment in increasing doc-id
 * order. `doc` is the current document (TW_DOC_END when exhausted); next moves
 * to the following match, seek to the first match >= target (never backward);
 * score is the BM25 contribution at the current doc; max_score is an upper
 * bound of score over every document the cursor can match in its segment
 * (the pruning executors skip what cannot beat the k-th best hit); cost
 * estimates how many documents the cursor may visit (leaders in a conjunction
 * are the cheapest). A cursor that meets a malformed stream (positions) or
 * runs out of memory stops (doc becomes TW_DOC_END) and reports it through
 * tw_cursor_status — a composite reports the first failure of its children —
 * so a walk ends, then the executor asks for the status once. Posting lists,
 * Boolean operators and phrases all sit behind this contract.
 */
#ifndef TW_CURSOR_H
#define TW_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "segment.h"
#include "varint.h"

typedef struct tw_cursor tw_cursor;

typedef struct tw_cursor_ops {
    uint32_t (*next)(tw_cursor *c);
    uint32_t (*seek)(tw_cursor *c, uint32_t target);
    double (*score)(tw_cursor *c);
    /* Upper bound of score at any document of the segment (>= 0). */
    double (*max_score)(tw_cursor *c);
    /* 0, or the trawl_rc that stopped this cursor or one of its children;
     * NULL for a cursor without children: its `rc` is the status. */
    int (*status)(const tw_cursor *c);
    /* Appends one line per matching leaf at the current doc to out. */
    void (*explain)(tw_cursor *c, tw_buf *out);
    void (*free)(tw_cursor *c);
} tw_cursor_ops;

struct tw_cursor {
    const tw_cursor_ops *ops;
    uint32_t doc;
    uint64_t cost;
    int rc; /* 0, or why this cursor stopped early (TRAWL_ECORRUPT, TRAWL_ENOMEM) */
};

static inline uint32_t tw_next(tw_cursor *c) {
    return c->ops->next(c);
}
static inline uint32_t tw_seek(tw_cursor *c, uint32_t t) {
    return c->doc >= t ? c->doc : c->ops->seek(c, t);
}
static inline double tw_score(tw_cursor *c) {
    return c->ops->score(c);
}
static inline double tw_max_score(tw_cursor *c) {
    return c->ops->max_score(c);
}
/* 0, or the trawl_rc that cut the walk short (see the contract above). */
static inline int tw_cursor_status(const tw_cursor *c) {
    return c->ops->status ? c->ops->status(c) : c->rc;
}
static inline void tw_cursor_free(tw_cursor *c) {
    if (c) c->ops->free(c);
}

/* BM25 parameters of one (field, term-or-phrase) leaf in a segment. With
 * bm25f set (terms only, every field of the term alike) the fields of a term
 * are combined as BM25F instead of summed: tw_bm25f_tf per field, summed,
 * then saturated once by tw_bm25f_sat. */
typedef struct tw_bm25 {
    double weight; /* BM25: field weight × idf × (k1 + 1); BM25F: idf × (k1 + 1) */
    double k1;
    double norm0; /* BM25: k1 × (1 − b); BM25F: 1 − b */
    double norm1; /* BM25: k1 × b / avgdl; BM25F: b / avgdl */
    int bm25f;
    double field_weight; /* BM25F: w_f; BM25: for explain */
    /* for explain */
    double idf, avgdl;
    const char *label; /* "field:term" text, owned by the plan (NULL without explain) */
} tw_bm25;

static inline double tw_bm25_score(const tw_bm25 *p, uint32_t tf, uint32_t dl) {
    return p->weight * tf / (tf + p->norm0 + p->norm1 * dl);
}

/* BM25F: one field's weighted, length-normalized frequency
 * w_f · tf / (1 − b + b · dl / avgdl_f). */
static inline double tw_bm25f_tf(const tw_bm25 *p, uint32_t tf, uint32_t dl) {
    return p->field_weight * tf / (p->norm0 + p->norm1 * dl);
}

/* BM25F: the term's score from its summed frequency x > 0:
 * idf · x · (k1 + 1) / (x + k1). */
static inline double tw_bm25f_sat(const tw_bm25 *p, double x) {
    return p->weight * x / (x + p->k1);
}

/* How a term cursor scores one field: fi indexes post->f, field is the local
 * field number (for document lengths). */
typedef struct tw_fscore {
    uint32_t fi, field;
    tw_bm25 bm;
} tw_fscore;

#define TW_MAX_SCORED_FIELDS 64u

/* A term's score at one document from its frequencies tf[j] (0: absent) and
 * lengths dl[j] in the fields fs[0..nfs): the sum of each field's BM25, or
 * their BM25F when fs[0].bm.bm25f. Every executor scores terms with the same
 * operations in the same order as this. */
double tw_term_fields_score(const tw_fscore *fs, size_t nfs, const uint32_t *tf, const uint32_t *dl);

/* Upper bound of a term's score (tw_term_fields_score) over the docs of block b of its list *p in segment seg, from the
 * block maxima, with a margin for rounding. */
double tw_term_block_bound(const tw_segment *seg, const tw_postings *p, const tw_fscore *fs, size_t nfs, uint32_t b);
/* Largest tw_term_block_bound over every block of the list. */
double tw_term_bound(const tw_segment *seg, const tw_postings *p, const tw_fscore *fs, size_t nfs);

/* A term's posting list in segment s: visits the docs of *post (all of them,
 * or those of its filter field), scoring the sum over fs[0..n) (n <=
 * TW_MAX_SCORED_FIELDS) of each field's BM25. Borrows what *post points to
 * (the record stays open until the cursor is freed). NULL when out of memory. */
tw_cursor *tw_term_cursor(const tw_segment *s, tw_postings *post, const tw_fscore *fs, size_t n);

/* Rank, in its doc list, of a term cursor's current doc (term cursors only). */
uint32_t tw_term_cursor_rank(const tw_cursor *c);

/* Documents matching a phrase: terms[i] must occur at position p + offsets[i]
 * for some p, all in `field`; posts[i] are opened with that field as filter.
 * Takes ownership of the postings. The phrase frequency plays the role of tf.
 * A malformed position stream stops it with status TRAWL_ECORRUPT. */
tw_cursor *tw_phrase_cursor(const tw_segment *s, uint32_t field, size_t n, tw_postings *posts, const uint32_t *offsets,
                            const tw_bm25 *bm);

/* Phrase verification, the one routine behind the phrase cursor and the
 * phrase executor. Scratch buffers it grows (zero-initialize; free with
 * tw_phrase_buf_free). */
typedef struct tw_phrase_buf {
    uint32_t *pos, *cand;
    uint32_t pos_cap, cand_cap;
} tw_phrase_buf;
void tw_phrase_buf_free(tw_phrase_buf *b);

/* Phrase frequency at one document: the number of start positions p such
 * that term k occurs at p + off[k] for every k < n. Terms come in the order to
 * check them (rarest first): rd[k] reads the positions of term k in the
 * field, rank[k] is the document's rank in term k's list and tf[k] the term's
 * frequency there (0: no phrase). Readers move forward only: call with
 * increasing ranks. Returns the frequency (>= 0), TRAWL_ECORRUPT when a
 * position stream is malformed, or TRAWL_ENOMEM. */
int tw_phrase_freq(size_t n, tw_posreader *const *rd, const uint32_t *rank, const uint32_t *tf, const uint32_t *off,
                   tw_phrase_buf *b);

/* Boolean operators; they take ownership of their children (also on failure). */
tw_cursor *tw_and_cursor(tw_cursor **kids, size_t n);
tw_cursor *tw_or_cursor(tw_cursor **kids, size_t n);
/* Matches req; adds opt's score where opt also matches. */
tw_cursor *tw_reqopt_cursor(tw_cursor *req, tw_cursor *opt);
/* Matches req except where excl matches; score is req's. */
tw_cursor *tw_excl_cursor(tw_cursor *req, tw_cursor *excl);
/* Every document 0..ndocs-1, score 0. */
tw_cursor *tw_all_cursor(uint32_t ndocs);
/* No document. */
tw_cursor *tw_empty_cursor(void);

#endif
