/*
 * test_storeblocks.c — stored documents read back from store blocks that are
 * decompressed only as far as the wanted document (and cached in part),
 * against the documents as added (the oracle: the texts the test wrote).
 *
 * Documents of very mixed sizes (a few bytes to 100 KB, so that blocks hold
 * from one to hundreds of entries and a large document ends its block) are
 * written in one segment, then read through trawl_index_get in several
 * orders, each on a freshly opened index (an empty block cache): forward,
 * backward, random, and every document after the last of its block (a
 * partial block extended, then read whole), and from several threads at once
 * on one index.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "trawl.h"

static int failures;

#define NDOCS 3000

static char *docs[NDOCS];

/* Document i: its id and a body of a random size from a random alphabet
 * (incompressible runs and repeats, so that LZ4 blocks vary). */
static char *make_doc(rng *r, size_t i) {
    size_t kind = below(r, 100), n;
    if (kind < 60)
        n = below(r, 200);
    else if (kind < 95)
        n = 200 + below(r, 3000);
    else if (kind < 99)
        n = 10000 + below(r, 30000);
    else
        n = 60000 + below(r, 40000);
    char *d = xmalloc(n + 64);
    int k = snprintf(d, 64, "{\"id\":\"d%05zu\",\"body\":\"", i);
    static const char abc[] = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789.,";
    size_t m = below(r, sizeof abc - 2) + 2;
    for (size_t j = 0; j < n; j++) d[k + j] = abc[below(r, 4) ? below(r, m) : j % 7];
    memcpy(d + k + n, "\"}", 3);
    return d;
}

static void check_doc(const trawl_index *ix, size_t i, const char *how) {
    char id[16], *json = NULL;
    snprintf(id, sizeof id, "d%05zu", i);
    trawl_rc rc = trawl_index_get(ix, id, &json);
    CHECK(rc == TRAWL_OK && json && strcmp(json, docs[i]) == 0, "%s: document %zu (rc %d) differs", how, i, (int)rc);
    trawl_free(json);
}

static trawl_index *open_fresh(const char *dir) {
    trawl_index *ix = NULL;
    char *err = NULL;
    if (trawl_index_open(dir, &ix, &err) != TRAWL_OK) {
        fprintf(stderr, "open %s: %s\n", dir, err ? err : "?");
        exit(1);
    }
    return ix;
}

typedef struct reader {
    const trawl_index *ix;
    uint64_t seed;
} reader;

static void *read_random(void *arg) {
    reader *rd = arg;
    rng r = {rd->seed};
    for (int k = 0; k < 4000; k++) check_doc(rd->ix, below(&r, NDOCS), "threads");
    return NULL;
}

int main(void) {
    rng r = {0x5b10c5ull};
    char dir[4096], idx[4200];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/trawl-storeblocks-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return 1;
    snprintf(idx, sizeof idx, "%s/idx", dir);
    trawl_writer *w;
    if (trawl_writer_open(idx, NULL, &w, NULL) != TRAWL_OK) return 1;
    trawl_writer_set_auto_merge(w, 0);
    for (size_t i = 0; i < NDOCS; i++) {
        docs[i] = make_doc(&r, i);
        CHECK(trawl_writer_add_json(w, docs[i], strlen(docs[i])) == TRAWL_OK, "add %zu", i);
    }
    CHECK(trawl_writer_commit(w) == TRAWL_OK, "commit");
    trawl_writer_close(w);

    trawl_index *ix = open_fresh(idx);
    for (size_t i = 0; i < NDOCS; i++) check_doc(ix, i, "forward");
    trawl_index_close(ix);

    ix = open_fresh(idx);
    for (size_t i = NDOCS; i-- > 0;) check_doc(ix, i, "backward");
    trawl_index_close(ix);

    ix = open_fresh(idx);
    for (int k = 0; k < 3 * NDOCS; k++) check_doc(ix, below(&r, NDOCS), "random");
    trawl_index_close(ix);

    /* Strides: the first reads of a block are early documents, later ones
     * extend the part held. */
    ix = open_fresh(idx);
    for (size_t s = 0; s < 7; s++)
        for (size_t i = s; i < NDOCS; i += 7) check_doc(ix, i, "strided");
    trawl_index_close(ix);

    ix = open_fresh(idx);
    pthread_t t[4];
    reader rd[4];
    for (int k = 0; k < 4; k++) {
        rd[k] = (reader){ix, 1000u + (uint64_t)k};
        pthread_create(&t[k], NULL, read_random, &rd[k]);
    }
    for (int k = 0; k < 4; k++) pthread_join(t[k], NULL);
    trawl_index_close(ix);

    for (size_t i = 0; i < NDOCS; i++) free(docs[i]);
    rm_rf(dir);
    if (failures) fprintf(stderr, "%d failures\n", failures);
    return failures ? 1 : 0;
}
