/*
 * embed.c — the smallest program that embeds trawl: index two documents into a
 * fresh index directory, then search it and print the ranked hits.
 *
 *   build/examples/embed /tmp/embed-index "search engine"
 */
#include <stdio.h>
#include <string.h>

#include "trawl.h"

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "embed-index";
    const char *query = argc > 2 ? argv[2] : "search engine";
    char *err = NULL;
    trawl_writer *w;
    if (trawl_writer_open(dir, NULL, &w, &err) != TRAWL_OK) {
        fprintf(stderr, "open for writing: %s\n", err);
        trawl_free(err);
        return 1;
    }
    const char *docs[] = {
        "{\"id\":\"a\",\"title\":\"Search engines\",\"body\":\"An inverted index maps terms to documents.\"}",
        "{\"id\":\"b\",\"title\":\"Databases\",\"body\":\"A search engine ranks documents with BM25.\"}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        if (trawl_writer_add_json(w, docs[i], strlen(docs[i])) != TRAWL_OK)
            fprintf(stderr, "document %zu: %s\n", i, trawl_writer_errmsg(w));
    if (trawl_writer_commit(w) != TRAWL_OK) {
        fprintf(stderr, "commit: %s\n", trawl_writer_errmsg(w));
        trawl_writer_close(w);
        return 1;
    }
    trawl_writer_close(w);

    trawl_index *idx;
    if (trawl_index_open(dir, &idx, &err) != TRAWL_OK) {
        fprintf(stderr, "open: %s\n", err);
        trawl_free(err);
        return 1;
    }
    trawl_results *r;
    if (trawl_search(idx, query, NULL, &r) != TRAWL_OK) {
        fprintf(stderr, "search: %s\n", trawl_results_errmsg(r));
        trawl_results_free(r);
        trawl_index_close(idx);
        return 1;
    }
    printf("%llu hits\n", (unsigned long long)trawl_results_total(r));
    for (size_t i = 0; i < trawl_results_count(r); i++)
        printf("%.4f %s  %s\n", trawl_results_score(r, i), trawl_results_id(r, i),
               trawl_results_snippet(r, i, TRAWL_SNIPPET_PLAIN));
    trawl_results_free(r);
    trawl_index_close(idx);
    return 0;
}
