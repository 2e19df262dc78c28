/*
 * exec_or.c — the disjunction executor: a plan whose root is a Boolean of
 * SHOULD clauses, each one term without a field filter. The exact total is
 * the size of the union of the doc lists (one 16-bit container at a time
 * through a bitset, ANDed with the plan's filter bitmap when there is one),
 * minus the deleted documents in it; the top hits come
 * from MaxScore over the terms' cursors: their max_score bounds split the
 * terms into essential and non-essential ones, and block bounds skip the
 * documents that cannot beat the k-th best score so far.
 */
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "error.h"
#include "exec.h"
#include "prox.h"
#include "segfilter.h"
#include "trawl.h"

/* Sets the bits of container c in the 1024-word bitset bs. */
static void or_container(uint64_t *bs, const tw_container *c) {
    if (c->type == TW_C_BITSET) {
        for (uint32_t w = 0; w < 1024; w++) bs[w] |= tw_ld64(c->data + 8 * w);
    } else if (c->type == TW_C_ARRAY) {
        for (uint32_t i = 0; i < c->card; i++) {
            uint32_t v = tw_ld16(c->data + 2 * i);
            bs[v >> 6] |= 1ULL << (v & 63);
        }
    } else {
        for (uint32_t r = 0; r < c->nruns; r++) {
            uint32_t lo = tw_ld16(c->data + 4 * r), hi = lo + tw_ld16(c->data + 4 * r + 2);
            for (uint32_t v = lo; v <= hi && v < 65536; v++) bs[v >> 6] |= 1ULL << (v & 63);
        }
    }
}

/* |v[0] ∪ ... ∪ v[n-1]|, and how many of those are also in del (may be NULL),
 * one 16-bit key at a time through a bitset. Short (varint) lists come as
 * sorted arrays small[i][0..nsmall[i]). */
static int union_count(const tw_rview *const *v, size_t n, const uint32_t *const *small, const uint32_t *nsmall,
                       size_t ns, const tw_rview *del, const tw_rview *keep, uint64_t *count, uint64_t *deleted) {
    /* One bitset for the union of a key's containers, one for its deletions
     * (then for the filter's documents). */
    uint64_t *bs = malloc(2 * 8192);
    uint32_t ci[TW_EXEC_MAX_TERMS + 1] = {0}, si[TW_EXEC_MAX_TERMS] = {0}, dci = 0, kci = 0;
    if (!bs) return TRAWL_ENOMEM;
    uint64_t *dm = bs + 1024;
    uint64_t c = 0, dc = 0;
    for (;;) {
        /* Smallest pending key over every input. */
        uint32_t key = UINT32_MAX;
        for (size_t i = 0; i < n; i++)
            if (ci[i] < v[i]->n && v[i]->c[ci[i]].key < key) key = v[i]->c[ci[i]].key;
        for (size_t i = 0; i < ns; i++)
            if (si[i] < nsmall[i] && (small[i][si[i]] >> 16) < key) key = small[i][si[i]] >> 16;
        if (key == UINT32_MAX) break;
        memset(bs, 0, 8192);
        for (size_t i = 0; i < n; i++)
            if (ci[i] < v[i]->n && v[i]->c[ci[i]].key == key) or_container(bs, &v[i]->c[ci[i]++]);
        for (size_t i = 0; i < ns; i++)
            for (; si[i] < nsmall[i] && (small[i][si[i]] >> 16) == key; si[i]++) {
                uint32_t lo = small[i][si[i]] & 0xFFFF;
                bs[lo >> 6] |= 1ULL << (lo & 63);
            }
        if (keep) { /* only the filter's documents count */
            while (kci < keep->n && keep->c[kci].key < key) kci++;
            memset(dm, 0, 8192);
            if (kci < keep->n && keep->c[kci].key == key) or_container(dm, &keep->c[kci]);
            for (uint32_t w = 0; w < 1024; w++) bs[w] &= dm[w];
        }
        for (uint32_t w = 0; w < 1024; w++) c += (uint64_t)__builtin_popcountll(bs[w]);
        if (del) {
            while (dci < del->n && del->c[dci].key < key) dci++;
            if (dci < del->n && del->c[dci].key == key) {
                /* Count union ∩ deleted. */
                memset(dm, 0, 8192);
                or_container(dm, &del->c[dci]);
                for (uint32_t w = 0; w < 1024; w++) dc += (uint64_t)__builtin_popcountll(bs[w] & dm[w]);
            }
        }
    }
    free(bs);
    *count = c;
    *deleted = dc;
    return 0;
}

typedef struct mterm {
    tw_cursor *cur;
    const tw_postings *post;
    const tw_fscore *fs;
    size_t nfs;
    uint32_t block; /* block of the cached bound */
    uint32_t pbit;  /* its bit among the proximity scorer's terms (0: none) */
    double bbound;  /* bound of the term over that block */
    double ub;      /* upper bound of the term's score in this segment */
    size_t clause;  /* position in the query, for the order of the final sum */
} mterm;

/* Bound of the proximity bonus at a document whose present terms are among
 * mask (0 without proximity). */
static inline double pbound(const tw_prox *px, uint32_t mask) {
    return px ? tw_prox_bound_mask(px, mask) : 0;
}

static int by_ub(const void *x, const void *y) {
    const mterm *a = x, *b = y;
    return a->ub < b->ub ? -1 : a->ub > b->ub;
}

/* A root that is a Boolean of SHOULD clauses, each one term. */
int tw_exec_or(const tw_exec *x) {
    const tw_view *view = x->v;
    uint32_t si = x->si;
    const pnode *root = x->root;
    tw_topk *top = x->top;
    uint64_t *total = x->total;
    char *err = x->err;
    size_t errcap = x->errcap;
    if (root->kind != P_BOOL || root->n > TW_EXEC_MAX_TERMS) return TW_EXEC_DECLINE;
    for (size_t i = 0; i < root->n; i++) {
        const pnode *k = root->kids[i];
        if (root->occ[i] != TW_SHOULD) return TW_EXEC_DECLINE;
        if (k->kind != P_EMPTY && (k->kind != P_LEAF || k->nspecs != 1 || k->specs[0].phrase)) return TW_EXEC_DECLINE;
    }
    const tw_vseg *e = &view->segs[si];
    tw_postings post[TW_EXEC_MAX_TERMS];
    tw_fscore *fs = malloc(sizeof *fs * TW_MAX_SCORED_FIELDS * TW_EXEC_MAX_TERMS);
    size_t nfs[TW_EXEC_MAX_TERMS], n = 0, kid[TW_EXEC_MAX_TERMS];
    if (!fs) return TRAWL_ENOMEM;
    for (size_t i = 0; i < root->n; i++) {
        if (root->kids[i]->kind == P_EMPTY) continue;
        if (tw_plan_open_term(view, si, &root->kids[i]->specs[0], &post[n], fs + n * TW_MAX_SCORED_FIELDS, &nfs[n], err,
                              errcap) == 1)
            kid[n++] = i;
    }
    int rc = 0;
    /* Exact count: the union of the doc lists (field filters need the cursors). */
    const tw_rview *views[TW_EXEC_MAX_TERMS];
    const uint32_t *small[TW_EXEC_MAX_TERMS];
    uint32_t nsmall[TW_EXEC_MAX_TERMS], smallbuf[TW_EXEC_MAX_TERMS][TW_INLINE_MAX_DF];
    size_t nv = 0, ns = 0;
    int filters = 0;
    for (size_t i = 0; i < n; i++) {
        filters |= post[i].filter >= 0;
        if (post[i].flags & TW_PF_BITMAP) {
            views[nv++] = &post[i].view;
        } else {
            tw_piter it;
            uint32_t k = 0;
            for (tw_piter_init(&it, &post[i]); it.doc != TW_DOC_END && k < TW_INLINE_MAX_DF; tw_piter_next(&it))
                smallbuf[ns][k++] = it.doc;
            small[ns] = smallbuf[ns];
            nsmall[ns++] = k;
        }
    }
    if (filters) {
        free(fs);
        return TW_EXEC_DECLINE;
    }
    uint64_t count = 0, dcount = 0;
    /* The union is large: the filter as its full bitmap. */
    const tw_rview *fview = x->filt ? tw_segfilter_full_view(x->filt) : NULL;
    const roaring_bitmap_t *filt = x->filt ? tw_segfilter_full(x->filt) : NULL;
    if (x->filt && (!fview || !filt)) {
        free(fs);
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    rc = union_count(views, nv, small, nsmall, ns, e->deleted ? &e->del_view : NULL, fview, &count, &dcount);
    if (rc == 0) *total += count - dcount;
    if (rc || top->want == 0 || n == 0) {
        free(fs);
        return rc;
    }
    /* Top k by MaxScore: terms ascending by bound; the prefix whose bounds sum
     * to at most the heap's threshold cannot make a hit alone ("non-essential"),
     * so only docs of the other lists are visited, and non-essential terms are
     * added only while they could still lift the doc over the threshold. */
    mterm m[TW_EXEC_MAX_TERMS];
    double prefix[TW_EXEC_MAX_TERMS + 1];
    for (size_t i = 0; i < n; i++) {
        m[i].clause = i;
        m[i].post = &post[i];
        m[i].fs = fs + i * TW_MAX_SCORED_FIELDS;
        m[i].nfs = nfs[i];
        m[i].block = UINT32_MAX;
        m[i].pbit = x->prox ? tw_prox_bit(x->prox, &root->kids[kid[i]]->specs[0]) : 0;
        m[i].cur = tw_term_cursor(e->seg, &post[i], fs + i * TW_MAX_SCORED_FIELDS, nfs[i]);
        if (!m[i].cur) rc = TRAWL_ENOMEM;
        m[i].ub = m[i].cur ? tw_max_score(m[i].cur) : 0;
    }
    if (rc) {
        free(fs);
        goto out;
    }
    qsort(m, n, sizeof *m, by_ub);
    /* Proximity (x->prox): a document's bonus is bounded by the pairs of the
     * terms it may hold, pbound(mask); nonmask[i] holds the bits of m[0..i). */
    const tw_prox *px = x->prox;
    uint32_t nonmask[TW_EXEC_MAX_TERMS + 1];
    prefix[0] = 0;
    nonmask[0] = 0;
    for (size_t i = 0; i < n; i++) {
        prefix[i + 1] = prefix[i] + m[i].ub;
        nonmask[i + 1] = nonmask[i] | m[i].pbit;
    }
    size_t ess = 0; /* m[ess..n) are essential */
    double theta = tw_topk_threshold(top);
    while (ess < n && prefix[ess + 1] + pbound(px, nonmask[ess + 1]) <= theta) ess++;
    for (;;) {
        uint32_t doc = TW_DOC_END;
        for (size_t i = ess; i < n; i++)
            if (m[i].cur->doc < doc) doc = m[i].cur->doc;
        if (doc == TW_DOC_END) break;
        if (filt && !roaring_bitmap_contains(filt, doc)) { /* not allowed by the filter */
            for (size_t i = ess; i < n; i++)
                if (m[i].cur->doc == doc) tw_next(m[i].cur);
            continue;
        }
        /* Block-max check: the essential terms' bounds over their current
         * blocks plus every non-essential term's bound. */
        if (theta >= 0) {
            double bound = prefix[ess];
            uint32_t mask = nonmask[ess];
            for (size_t i = ess; i < n; i++)
                if (m[i].cur->doc == doc) {
                    mask |= m[i].pbit;
                    uint32_t b = tw_term_cursor_rank(m[i].cur) / TW_BLOCK;
                    if (b != m[i].block) {
                        m[i].block = b;
                        m[i].bbound = tw_term_block_bound(e->seg, m[i].post, m[i].fs, m[i].nfs, b);
                    }
                    bound += m[i].bbound;
                }
            if (bound + pbound(px, mask) <= theta) {
                for (size_t i = ess; i < n; i++)
                    if (m[i].cur->doc == doc) tw_next(m[i].cur);
                continue;
            }
        }
        double score = 0, part[TW_EXEC_MAX_TERMS] = {0};
        uint32_t present = 0;
        int cut = 0;
        for (size_t i = ess; i < n; i++)
            if (m[i].cur->doc == doc) {
                present |= m[i].pbit;
                score += part[m[i].clause] = tw_score(m[i].cur);
                tw_next(m[i].cur);
            }
        for (size_t i = ess; i-- > 0;) {
            if (score + prefix[i + 1] + pbound(px, present | nonmask[i + 1]) <= theta) {
                cut = 1;
                break;
            }
            if (tw_seek(m[i].cur, doc) == doc) {
                present |= m[i].pbit;
                score += part[m[i].clause] = tw_score(m[i].cur);
            }
        }
        if (cut) continue;
        double pmax = pbound(px, present); /* what proximity may add here */
        if (score + pmax <= theta) continue;
        /* Every term was looked at: the final sum in query order, as the other
         * executors add it. */
        score = 0;
        for (size_t i = 0; i < n; i++) score += part[i];
        if (score + pmax <= theta) continue;
        if (e->deleted && roaring_bitmap_contains(e->deleted, doc)) continue;
        if (x->prox) {
            int r = tw_prox_score(x->prox, doc, score, theta, &score);
            if (r < 0) {
                rc = r == TRAWL_ECORRUPT ? tw_err(err, errcap, r, "%s: positions section: stream invalid", e->seg->path)
                                         : r;
                break;
            }
            if (r) continue;
        }
        if (score <= theta) continue;
        tw_topk_push(top, score, si, doc);
        double nt = tw_topk_threshold(top);
        if (nt > theta) {
            theta = nt;
            while (ess < n && prefix[ess + 1] + pmax <= theta) ess++;
        }
    }
    free(fs);
out:
    for (size_t i = 0; i < n; i++) tw_cursor_free(m[i].cur);
    return rc;
}
