/*
 * fastpath.c — conjunctions (and single terms) executed on bitmaps.
 *
 * Handles a plan whose root is one term, or a Boolean of MUST clauses that are
 * each one term, or one phrase (in one or every field), when every doc list in
 * the segment is a bitmap (short varint-coded lists go to the cursor executor,
 * which leads with them). Counting: tw_and_count over the term bitmaps, minus
 * the count that also intersects the segment's deletions. Ranking: tw_and
 * materializes the common doc ids with each list's rank, from which each
 * field's tf is one lookup. Phrases check positions only for those
 * candidates, field by field, rarest term first, reading positions forward.
 */
#include "fastpath.h"

#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "error.h"
#include "kernels.h"

#define MAX_AND_TERMS 32

typedef struct fterm {
    tw_postings post;
    tw_fscore fs[TW_MAX_SCORED_FIELDS];
    size_t nfs;
} fterm;

/* The term specs of a conjunctive root: musts[0..*nm) and excluded terms
 * nots[0..*nn). Returns 0 if root has another shape. */
static int conj_terms(const pnode *root, const spec **musts, size_t *nm, const spec **nots, size_t *nn, int *empty) {
    *empty = 0;
    *nm = *nn = 0;
    if (root->kind == P_LEAF) {
        if (root->nspecs != 1 || root->specs[0].phrase) return 0;
        musts[(*nm)++] = &root->specs[0];
        return 1;
    }
    if (root->kind != P_BOOL || root->n > MAX_AND_TERMS) return 0;
    for (size_t i = 0; i < root->n; i++) {
        const pnode *k = root->kids[i];
        int term = k->kind == P_LEAF && k->nspecs == 1 && !k->specs[0].phrase;
        if (root->occ[i] == TW_SHOULD || (k->kind != P_EMPTY && !term)) return 0;
        if (root->occ[i] == TW_MUST) {
            if (k->kind == P_EMPTY)
                *empty = 1;
            else
                musts[(*nm)++] = &k->specs[0];
        } else if (k->kind != P_EMPTY) {
            nots[(*nn)++] = &k->specs[0];
        }
    }
    return *nm > 0;
}

/* Upper bound of a term's score over the docs of block b (of its list) in
 * this segment, from the block maxima. */
static double block_bound(const tw_segment *seg, const tw_postings *p, const tw_fscore *fs, size_t nfs, uint32_t b) {
    double ub = 0;
    for (size_t j = 0; j < nfs; j++) {
        uint32_t maxtf, mindl;
        tw_pfield_block_bound(&p->f[fs[j].fi], b, seg->fields[fs[j].field].min_len, &maxtf, &mindl);
        ub += tw_bm25_score(&fs[j].bm, maxtf, mindl);
    }
    /* Margin for rounding: sums taken in another order may differ by an ulp. */
    return ub * (1 + 1e-9) + 1e-12;
}

/* Candidates are scored in batches, one (term, field) at a time, so that the
 * divisions of BM25 run as vector instructions. */
#define BATCH 256

/* sc[i] += w·tf[i]/(tf[i] + n0 + n1·dl[i]) wherever tf[i] > 0: the same
 * operations, in the same order, as tw_bm25_score, so scores are identical. */
TW_TARGET_CLONES("avx512f", "avx2", "default")
TW_VECTORIZE static void bm25_batch(double *restrict sc, const double *restrict tf, const double *restrict dl, size_t n,
                                    double w, double n0, double n1) {
    for (size_t i = 0; i < n; i++) {
        double x = w * tf[i] / (tf[i] + n0 + n1 * dl[i]);
        sc[i] += tf[i] > 0 ? x : 0.0;
    }
}

/* Scores candidates cq[0..m) (indices into the intersection) into sc: each
 * term's fields summed first, then the terms in query order — the order the
 * cursor executor adds them in, so scores are bit-identical. */
static void score_batch(const fterm *t, size_t n, const tw_segment *seg, const uint32_t *docs, uint32_t *const *ranks,
                        const uint32_t *cq, size_t m, double *sc) {
    double tf[BATCH], dl[BATCH], ts[BATCH];
    for (size_t c = 0; c < m; c++) sc[c] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < m; c++) ts[c] = 0;
        for (size_t j = 0; j < t[i].nfs; j++) {
            const tw_fscore *f = &t[i].fs[j];
            const tw_pfield *pf = &t[i].post.f[f->fi];
            for (size_t c = 0; c < m; c++) {
                tf[c] = tw_pfield_tf(pf, ranks[i][cq[c]]);
                dl[c] = tw_segment_doclen(seg, f->field, docs[cq[c]]);
            }
            bm25_batch(ts, tf, dl, m, f->bm.weight, f->bm.norm0, f->bm.norm1);
        }
        for (size_t c = 0; c < m; c++) sc[c] += ts[c];
    }
}

/* Candidates of n bitmaps: tw_and into the context's buffer (ids, then n
 * rank arrays of cap entries each). Returns 0 and *buf, or TRAWL_ENOMEM. */
static int intersect(const tw_kernels *k, tw_qctx *ctx, const tw_rview *const *views, size_t n, uint32_t **buf,
                     uint32_t **ranks, size_t *nout) {
    uint64_t cap = UINT32_MAX;
    for (size_t i = 0; i < n; i++)
        if (views[i]->card < cap) cap = views[i]->card;
    if (!(*buf = tw_qctx_buf(ctx, (size_t)(cap ? cap : 1) * (n + 1)))) return TRAWL_ENOMEM;
    for (size_t i = 0; i < n; i++) ranks[i] = *buf + (size_t)cap * (i + 1);
    if (tw_and(k, views, n, *buf, (size_t)cap, ranks, ctx->and_scratch, nout)) return TRAWL_ENOMEM;
    return 0;
}

/* ---- phrases ---- */

typedef struct phrase_field {
    const spec *s;         /* the phrase spec of this field */
    uint32_t field;        /* local field number */
    int fi[MAX_AND_TERMS]; /* per term: index of the field in its record */
    tw_posreader rd[MAX_AND_TERMS];
} phrase_field;

/* Phrase frequency at candidate q in field pf (0 if the phrase is absent), or
 * TRAWL_ENOMEM, or TRAWL_ECORRUPT for a position stream that does not decode. */
static int phrase_freq(phrase_field *pf, const tw_postings *post, size_t n, uint32_t *const *ranks, size_t q,
                       const size_t *order, uint32_t **pos, uint32_t *cap, uint32_t *cand) {
    /* Every term must be in the field at this doc. */
    for (size_t i = 0; i < n; i++)
        if (tw_pfield_tf(&post[i].f[pf->fi[i]], ranks[i][q]) == 0) return 0;
    uint32_t ncand = 0;
    for (size_t oi = 0; oi < n; oi++) {
        size_t i = order[oi];
        uint32_t tf = tw_pfield_tf(&post[i].f[pf->fi[i]], ranks[i][q]);
        if (tf > cap[i]) {
            uint32_t *np = realloc(pos[i], sizeof *np * tf);
            if (!np) return TRAWL_ENOMEM;
            pos[i] = np;
            cap[i] = tf;
        }
        int got = tw_posreader_get(&pf->rd[i], ranks[i][q], pos[i], cap[i]);
        if (got < 0) return TRAWL_ECORRUPT;
        uint32_t off = pf->s->terms[i].offset;
        if (oi == 0) {
            for (int k = 0; k < got; k++)
                if (pos[i][k] >= off) cand[ncand++] = pos[i][k] - off;
            continue;
        }
        uint32_t keep = 0, j = 0;
        for (uint32_t c = 0; c < ncand; c++) {
            uint64_t want = (uint64_t)cand[c] + off;
            while (j < (uint32_t)got && pos[i][j] < want) j++;
            if (j < (uint32_t)got && pos[i][j] == want) cand[keep++] = cand[c];
        }
        ncand = keep;
        if (ncand == 0) break;
    }
    return (int)ncand;
}

/* A root that is one phrase, in one field (qualified) or as one spec per field. */
static int phrase_segment(const tw_view *view, tw_qctx *ctx, uint32_t si, const pnode *root, tw_topk *top,
                          uint64_t *total, char *err, size_t errcap) {
    const tw_vseg *e = &view->segs[si];
    const spec *s0 = &root->specs[0];
    size_t n = s0->nterms, nspec = root->nspecs;
    if (n > MAX_AND_TERMS || nspec > TW_MAX_SCORED_FIELDS) return TW_FAST_NO;
    for (size_t j = 1; j < nspec; j++) {
        const spec *s = &root->specs[j];
        if (!s->phrase || s->nterms != n) return TW_FAST_NO;
        for (size_t i = 0; i < n; i++)
            if (strcmp(s->terms[i].text, s0->terms[i].text) != 0 || s->terms[i].offset != s0->terms[i].offset)
                return TW_FAST_NO;
    }
    /* Open each term's record once (through any field that has it). */
    tw_postings post[MAX_AND_TERMS];
    size_t opened = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const tw_term_ref *ref = NULL;
        for (size_t j = 0; j < nspec && !ref; j++)
            if (root->specs[j].terms[i].found[si]) ref = &root->specs[j].terms[i].refs[si];
        if (!ref) break; /* absent in every field: no match here */
        tw_postings tmp;
        /* A narrowed ref lacks the record's df: open it narrowed, drop the filter. */
        rc = tw_postings_open(e->seg, ref, 0, &tmp, err, errcap);
        if (rc) break;
        tmp.filter = -1;
        post[opened++] = tmp;
    }
    int bitmaps = opened == n;
    for (size_t i = 0; i < opened; i++) bitmaps &= (post[i].flags & TW_PF_BITMAP) != 0;
    if (rc || opened < n || !bitmaps) {
        for (size_t i = 0; i < opened; i++) tw_postings_close(&post[i]);
        return rc ? rc : opened < n ? 0 : TW_FAST_NO;
    }
    phrase_field *pf = calloc(nspec, sizeof *pf);
    uint32_t *pos[MAX_AND_TERMS] = {0}, cap[MAX_AND_TERMS] = {0}, *cand = NULL, *buf = NULL;
    uint32_t *ranks[MAX_AND_TERMS];
    size_t npf = 0, nout = 0, order[MAX_AND_TERMS];
    const tw_rview *views[MAX_AND_TERMS];
    if (!pf) rc = TRAWL_ENOMEM;
    for (size_t j = 0; j < nspec && rc == 0; j++) {
        const spec *s = &root->specs[j];
        int lf = e->field_map[s->fields[0].gfield], ok = lf >= 0;
        for (size_t i = 0; i < n && ok; i++) {
            pf[npf].fi[i] = ok ? tw_postings_field(&post[i], (uint32_t)lf) : -1;
            ok = pf[npf].fi[i] >= 0;
        }
        if (!ok) continue;
        pf[npf].s = s;
        pf[npf].field = (uint32_t)lf;
        for (size_t i = 0; i < n; i++) tw_posreader_init(&pf[npf].rd[i], &post[i].f[pf[npf].fi[i]]);
        npf++;
    }
    for (size_t i = 0; i < n; i++) {
        views[i] = &post[i].view;
        order[i] = i;
    }
    /* Rarest term first when checking positions. */
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && post[order[b]].df < post[order[b - 1]].df; b--) {
            size_t t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    if (rc == 0 && npf > 0) rc = intersect(view->kernels, ctx, views, n, &buf, ranks, &nout);
    uint64_t count = 0;
    for (size_t q = 0; q < nout && rc == 0; q++) {
        uint32_t doc = buf[q];
        if (e->deleted && roaring_bitmap_contains(e->deleted, doc)) continue;
        double score = 0;
        int any = 0;
        for (size_t j = 0; j < npf && rc == 0; j++) {
            uint32_t need = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t tf = tw_pfield_tf(&post[i].f[pf[j].fi[i]], ranks[i][q]);
                if (tf > need) need = tf;
            }
            if (need == 0) continue;
            uint32_t *nc = realloc(cand, sizeof *nc * need);
            if (!nc) {
                rc = TRAWL_ENOMEM;
                break;
            }
            cand = nc;
            int freq = phrase_freq(&pf[j], post, n, ranks, q, order, pos, cap, cand);
            if (freq == TRAWL_ENOMEM)
                rc = freq;
            else if (freq < 0)
                rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: positions section: stream invalid", e->seg->path);
            else if (freq > 0) {
                any = 1;
                score +=
                    tw_bm25_score(&pf[j].s->fields[0].bm, (uint32_t)freq, tw_segment_doclen(e->seg, pf[j].field, doc));
            }
        }
        if (!any) continue;
        count++;
        if (top->want) tw_topk_push(top, score, si, doc);
    }
    if (rc == 0) *total += count;
    free(cand);
    for (size_t i = 0; i < n; i++) free(pos[i]);
    free(pf);
    for (size_t i = 0; i < n; i++) tw_postings_close(&post[i]);
    return rc;
}

/* ---- disjunctions ---- */

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
                       size_t ns, const tw_rview *del, uint64_t *count, uint64_t *deleted) {
    /* One bitset for the union of a key's containers, one for its deletions. */
    uint64_t *bs = malloc(2 * 8192);
    uint32_t ci[MAX_AND_TERMS + 1] = {0}, si[MAX_AND_TERMS] = {0}, dci = 0;
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
    double bbound;  /* bound of the term over that block */
    double ub;      /* upper bound of the term's score in this segment */
    size_t clause;  /* position in the query, for the order of the final sum */
} mterm;

static int by_ub(const void *x, const void *y) {
    const mterm *a = x, *b = y;
    return a->ub < b->ub ? -1 : a->ub > b->ub;
}

/* Largest score the term can give in this segment: the largest block bound. */
static double term_bound(const tw_segment *seg, const tw_postings *p, const tw_fscore *fs, size_t nfs) {
    uint32_t nblocks = (p->df + TW_BLOCK - 1) / TW_BLOCK;
    double ub = 0;
    for (uint32_t b = 0; b < nblocks; b++) {
        double x = block_bound(seg, p, fs, nfs, b);
        if (x > ub) ub = x;
    }
    return ub;
}

/* A root that is a Boolean of SHOULD clauses, each one term. */
static int or_segment(const tw_view *view, uint32_t si, const pnode *root, tw_topk *top, uint64_t *total, char *err,
                      size_t errcap) {
    if (root->kind != P_BOOL || root->n > MAX_AND_TERMS) return TW_FAST_NO;
    for (size_t i = 0; i < root->n; i++) {
        const pnode *k = root->kids[i];
        if (root->occ[i] != TW_SHOULD) return TW_FAST_NO;
        if (k->kind != P_EMPTY && (k->kind != P_LEAF || k->nspecs != 1 || k->specs[0].phrase)) return TW_FAST_NO;
    }
    const tw_vseg *e = &view->segs[si];
    tw_postings post[MAX_AND_TERMS];
    tw_fscore *fs = malloc(sizeof *fs * TW_MAX_SCORED_FIELDS * MAX_AND_TERMS);
    size_t nfs[MAX_AND_TERMS], n = 0;
    if (!fs) return TRAWL_ENOMEM;
    for (size_t i = 0; i < root->n; i++) {
        if (root->kids[i]->kind == P_EMPTY) continue;
        if (tw_plan_open_term(view, si, &root->kids[i]->specs[0], &post[n], fs + n * TW_MAX_SCORED_FIELDS, &nfs[n], err,
                              errcap) == 1)
            n++;
    }
    int rc = 0;
    /* Exact count: the union of the doc lists (field filters need the cursors). */
    const tw_rview *views[MAX_AND_TERMS];
    const uint32_t *small[MAX_AND_TERMS];
    uint32_t nsmall[MAX_AND_TERMS], smallbuf[MAX_AND_TERMS][TW_INLINE_MAX_DF];
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
        return TW_FAST_NO;
    }
    uint64_t count = 0, dcount = 0;
    rc = union_count(views, nv, small, nsmall, ns, e->deleted ? &e->del_view : NULL, &count, &dcount);
    if (rc == 0) *total += count - dcount;
    if (rc || top->want == 0 || n == 0) {
        free(fs);
        return rc;
    }
    /* Top k by MaxScore: terms ascending by bound; the prefix whose bounds sum
     * to at most the heap's threshold cannot make a hit alone ("non-essential"),
     * so only docs of the other lists are visited, and non-essential terms are
     * added only while they could still lift the doc over the threshold. */
    mterm m[MAX_AND_TERMS];
    double prefix[MAX_AND_TERMS + 1];
    for (size_t i = 0; i < n; i++) {
        m[i].ub = term_bound(e->seg, &post[i], fs + i * TW_MAX_SCORED_FIELDS, nfs[i]);
        m[i].clause = i;
        m[i].post = &post[i];
        m[i].fs = fs + i * TW_MAX_SCORED_FIELDS;
        m[i].nfs = nfs[i];
        m[i].block = UINT32_MAX;
        m[i].cur = tw_term_cursor(e->seg, &post[i], fs + i * TW_MAX_SCORED_FIELDS, nfs[i]);
        if (!m[i].cur) rc = TRAWL_ENOMEM;
    }
    if (rc) {
        free(fs);
        goto out;
    }
    qsort(m, n, sizeof *m, by_ub);
    prefix[0] = 0;
    for (size_t i = 0; i < n; i++) prefix[i + 1] = prefix[i] + m[i].ub;
    size_t ess = 0; /* m[ess..n) are essential */
    double theta = tw_topk_threshold(top);
    while (ess < n && prefix[ess + 1] <= theta) ess++;
    for (;;) {
        uint32_t doc = TW_DOC_END;
        for (size_t i = ess; i < n; i++)
            if (m[i].cur->doc < doc) doc = m[i].cur->doc;
        if (doc == TW_DOC_END) break;
        /* Block-max check: the essential terms' bounds over their current
         * blocks plus every non-essential term's bound. */
        if (theta >= 0) {
            double bound = prefix[ess];
            for (size_t i = ess; i < n; i++)
                if (m[i].cur->doc == doc) {
                    uint32_t b = tw_term_cursor_rank(m[i].cur) / TW_BLOCK;
                    if (b != m[i].block) {
                        m[i].block = b;
                        m[i].bbound = block_bound(e->seg, m[i].post, m[i].fs, m[i].nfs, b);
                    }
                    bound += m[i].bbound;
                }
            if (bound <= theta) {
                for (size_t i = ess; i < n; i++)
                    if (m[i].cur->doc == doc) tw_next(m[i].cur);
                continue;
            }
        }
        double score = 0, part[MAX_AND_TERMS] = {0};
        for (size_t i = ess; i < n; i++)
            if (m[i].cur->doc == doc) {
                score += part[m[i].clause] = tw_score(m[i].cur);
                tw_next(m[i].cur);
            }
        for (size_t i = ess; i-- > 0;) {
            if (score + prefix[i + 1] <= theta) break;
            if (tw_seek(m[i].cur, doc) == doc) score += part[m[i].clause] = tw_score(m[i].cur);
        }
        if (score <= theta) continue;
        /* Every term was looked at: the final sum in query order, as the other
         * executors add it. */
        score = 0;
        for (size_t i = 0; i < n; i++) score += part[i];
        if (score <= theta) continue;
        if (e->deleted && roaring_bitmap_contains(e->deleted, doc)) continue;
        tw_topk_push(top, score, si, doc);
        double nt = tw_topk_threshold(top);
        if (nt > theta) {
            theta = nt;
            while (ess < n && prefix[ess + 1] <= theta) ess++;
        }
    }
    free(fs);
out:
    for (size_t i = 0; i < n; i++) tw_cursor_free(m[i].cur);
    return rc;
}

int tw_fast_segment(const tw_view *view, tw_qctx *ctx, uint32_t si, const pnode *root, tw_topk *top, uint64_t *total,
                    char *err, size_t errcap) {
    if (root->kind == P_LEAF && root->nspecs > 0 && root->specs[0].phrase)
        return phrase_segment(view, ctx, si, root, top, total, err, errcap);
    if (root->kind == P_BOOL && root->n > 0 && root->occ[0] == TW_SHOULD)
        return or_segment(view, si, root, top, total, err, errcap);
    const spec *specs[MAX_AND_TERMS], *nspecs[MAX_AND_TERMS];
    size_t n, nn;
    int empty;
    if (!conj_terms(root, specs, &n, nspecs, &nn, &empty)) return TW_FAST_NO;
    if (empty) return 0;
    const tw_vseg *e = &view->segs[si];
    fterm *t = calloc(n + nn, sizeof *t);
    tw_piter excl[MAX_AND_TERMS];
    size_t nexcl = 0;
    if (!t) return TRAWL_ENOMEM;
    int rc = 0, bitmaps = 1, filters = 0, absent = 0;
    for (size_t i = 0; i < n && rc == 0 && !absent; i++) {
        int r = tw_plan_open_term(view, si, specs[i], &t[i].post, t[i].fs, &t[i].nfs, err, errcap);
        if (r < 0)
            rc = r;
        else if (r == 0)
            absent = 1;
        else {
            bitmaps &= (t[i].post.flags & TW_PF_BITMAP) != 0;
            filters |= t[i].post.filter >= 0;
        }
    }
    /* Excluded terms are walked with iterators (field filters included). */
    for (size_t i = 0; i < nn && rc == 0 && !absent; i++) {
        fterm *x = &t[n + nexcl];
        int r = tw_plan_open_term(view, si, nspecs[i], &x->post, x->fs, &x->nfs, err, errcap);
        if (r < 0)
            rc = r;
        else if (r > 0) {
            tw_piter_init(&excl[nexcl], &x->post);
            nexcl++;
        }
    }
    if (rc == 0 && !absent && !bitmaps) rc = TW_FAST_NO;
    if (rc || absent) goto out;
    const tw_rview *views[MAX_AND_TERMS + 1];
    for (size_t i = 0; i < n; i++) views[i] = &t[i].post.view;
    const tw_kernels *k = view->kernels;
    if (top->want == 0 && !filters && nexcl == 0) {
        uint64_t c = 0, dc = 0;
        if (tw_and_count(k, views, n, ctx->and_scratch, &c)) rc = TRAWL_ENOMEM;
        if (rc == 0 && e->deleted && c) {
            views[n] = &e->del_view;
            if (tw_and_count(k, views, n + 1, ctx->and_scratch, &dc)) rc = TRAWL_ENOMEM;
        }
        *total += c - dc;
        goto out;
    }
    uint32_t *buf, *ranks[MAX_AND_TERMS];
    size_t nout = 0;
    if ((rc = intersect(k, ctx, views, n, &buf, ranks, &nout)) != 0) goto out;
    /* Every candidate is counted; those whose block bounds can beat the heap's
     * threshold are scored, a batch at a time. A term's bound changes only
     * when its rank enters a new 128-doc block. */
    uint64_t count = 0;
    uint32_t cur_block[MAX_AND_TERMS], cq[BATCH];
    double cur_bound[MAX_AND_TERMS], sc[BATCH], theta = tw_topk_threshold(top);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) cur_block[i] = UINT32_MAX;
    for (size_t q = 0; q <= nout; q++) {
        if (m == BATCH || (q == nout && m > 0)) {
            score_batch(t, n, e->seg, buf, ranks, cq, m, sc);
            for (size_t c = 0; c < m; c++)
                if (sc[c] > theta) {
                    tw_topk_push(top, sc[c], si, buf[cq[c]]);
                    theta = tw_topk_threshold(top);
                }
            m = 0;
        }
        if (q == nout) break;
        uint32_t doc = buf[q];
        if (e->deleted && roaring_bitmap_contains(e->deleted, doc)) continue;
        int keep = 1;
        for (size_t i = 0; i < n && filters && keep; i++)
            if (t[i].post.filter >= 0 && tw_pfield_tf(&t[i].post.f[t[i].post.filter], ranks[i][q]) == 0) keep = 0;
        for (size_t i = 0; i < nexcl && keep; i++)
            if (tw_piter_seek(&excl[i], doc) == doc) keep = 0;
        if (!keep) continue;
        count++;
        if (!top->want) continue;
        if (theta >= 0) {
            double bound = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t b = ranks[i][q] / TW_BLOCK;
                if (b != cur_block[i]) {
                    cur_block[i] = b;
                    cur_bound[i] = block_bound(e->seg, &t[i].post, t[i].fs, t[i].nfs, b);
                }
                bound += cur_bound[i];
            }
            if (bound <= theta) continue;
        }
        cq[m++] = (uint32_t)q;
    }
    *total += count;
out:
    free(t);
    return rc;
}
