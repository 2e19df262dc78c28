/*
 * docset.c — document sets in two forms and light doc lists (docset.h).
 */
#include "docset.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kernels.h"
#include "varint.h"

int tw_docset_init(tw_docset *s, roaring_bitmap_t *bm) {
    memset(s, 0, sizeof *s);
    if (!bm) return 0;
    s->bm = bm;
    s->card = roaring_bitmap_get_cardinality(bm);
    if (!s->card) return 0;
    roaring_bitmap_run_optimize(bm);
    size_t n = roaring_bitmap_portable_size_in_bytes(bm);
    if (!(s->bytes = malloc(n))) return TRAWL_ENOMEM;
    roaring_bitmap_portable_serialize(bm, (char *)s->bytes);
    size_t used;
    int rc = tw_rview_parse(s->bytes, n, 0, &s->view, &used, NULL);
    return rc == TRAWL_ENOMEM ? rc : rc ? TRAWL_ECORRUPT : 0;
}

void tw_docset_free(tw_docset *s) {
    if (s->bm) roaring_bitmap_free(s->bm);
    tw_rview_free(&s->view);
    free(s->bytes);
    memset(s, 0, sizeof *s);
}

int tw_doclist_open(const tw_segment *s, const tw_term_ref *ref, tw_doclist *dl, char *err, size_t errcap) {
    memset(dl, 0, sizeof *dl);
    dl->seg = s;
    const uint8_t *base = s->sec[TW_SEC_POSTINGS].p;
    size_t seclen = s->sec[TW_SEC_POSTINGS].len;
    if (ref->rec_off > seclen || ref->rec_len > seclen - ref->rec_off || ref->rec_len < 2)
        return tw_err_section(err, errcap, TRAWL_ECORRUPT, s->path, "postings", "record out of bounds");
    const uint8_t *q = base + ref->rec_off, *end = q + ref->rec_len;
    uint8_t flags = *q++;
    uint64_t nf, n;
    if ((flags & ~TW_PF_BITMAP) || tw_get_varint(&q, end, &nf) || nf == 0)
        return tw_err_section(err, errcap, TRAWL_ECORRUPT, s->path, "postings", "bad record header");
    if (flags & TW_PF_BITMAP) {
        size_t used;
        if (tw_get_varint(&q, end, &n) || n > (size_t)(end - q))
            return tw_err_section(err, errcap, TRAWL_ECORRUPT, s->path, "postings", "bitmap size invalid");
        int rc = tw_rview_parse(q, (size_t)n, 0, &dl->view, &used, NULL);
        if (rc == TRAWL_ENOMEM) return rc;
        if (rc) return tw_err_section(err, errcap, TRAWL_ECORRUPT, s->path, "postings", "bitmap invalid");
        dl->bitmap = 1;
        dl->df = (uint32_t)dl->view.card;
        return 0;
    }
    if (tw_get_varint(&q, end, &n) || n == 0 || n > TW_INLINE_MAX_DF)
        return tw_err_section(err, errcap, TRAWL_ECORRUPT, s->path, "postings", "doc count invalid");
    dl->gaps = q;
    dl->gaps_end = end;
    dl->df = (uint32_t)n;
    return 0;
}

void tw_doclist_close(tw_doclist *dl) {
    tw_rview_free(&dl->view);
    memset(dl, 0, sizeof *dl);
}

uint64_t tw_doclist_count(const struct tw_kernels *k, const tw_doclist *dl, const tw_docset *set) {
    if (!set->card) return 0;
    if (dl->bitmap) {
        const tw_rview *in[2] = {&dl->view, &set->view};
        uint64_t c = 0;
        if (tw_and_count(k, in, 2, NULL, &c)) return 0;
        return c;
    }
    const uint8_t *q = dl->gaps;
    uint64_t next = 0, g, c = 0;
    for (uint32_t i = 0; i < dl->df; i++) {
        if (tw_get_varint(&q, dl->gaps_end, &g)) break;
        next += g;
        if (next >= dl->seg->ndocs) break;
        c += roaring_bitmap_contains(set->bm, (uint32_t)next);
        next++;
    }
    return c;
}
