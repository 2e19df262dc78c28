/*
 * cli_similar.c — `trawl similar`: the documents most like a stored one
 * (trawl_similar: its most characteristic terms by tf-idf run as an OR
 * query, the document itself left out), as text or JSON.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_LIMIT = 1, OPT_TERMS, OPT_JSON };

static const cli_opt similar_opts[] = {
    {OPT_LIMIT, 'k', "limit", 1},
    {OPT_TERMS, 0, "terms", 1},
    {OPT_JSON, 0, "json", 0},
};

typedef struct similar_args {
    size_t limit, terms;
    int json;
} similar_args;

static int on_option(void *ctx, const cli_command *cmd, int key, const char *value) {
    similar_args *a = ctx;
    switch (key) {
        case OPT_LIMIT:
            if (cli_parse_size(value, 1, 10000, &a->limit) != 0)
                return cli_usage_error(cmd, "-k wants a number from 1 to 10000, not '%s'", value);
            return CLI_CONTINUE;
        case OPT_TERMS:
            if (cli_parse_size(value, 1, 100, &a->terms) != 0)
                return cli_usage_error(cmd, "--terms wants a number from 1 to 100, not '%s'", value);
            return CLI_CONTINUE;
        case OPT_JSON: a->json = 1; return CLI_CONTINUE;
    }
    return cli_usage_error(cmd, "internal: unhandled option");
}

static int put(json_t *obj, const char *key, json_t *value) {
    return value ? json_object_set_new(obj, key, value) : -1;
}

static int print_json(const trawl_results *r, const char *id, const char *query) {
    json_t *root = json_object(), *hits = json_array();
    int bad = !root || !hits || put(root, "id", cli_json_string(id)) || put(root, "query", cli_json_string(query)) ||
              put(root, "total", json_integer((json_int_t)trawl_results_total(r)));
    for (size_t i = 0; !bad && i < trawl_results_count(r); i++) {
        json_t *h = json_object();
        const char *title = trawl_results_title(r, i);
        bad = !h || json_array_append_new(hits, h) || put(h, "id", cli_json_string(trawl_results_id(r, i))) ||
              put(h, "score", json_real(trawl_results_score(r, i))) ||
              put(h, "title", cli_json_string(title ? title : ""));
    }
    if (!bad) bad = json_object_set(root, "hits", hits) || cli_json_print(root, 0);
    json_decref(hits);
    json_decref(root);
    return bad ? -1 : 0;
}

static int run_similar(const cli_command *cmd, int argc, char **argv) {
    similar_args a = {10, 25, 0};
    size_t npos;
    int st =
        cli_parse(cmd, argc, argv, similar_opts, sizeof similar_opts / sizeof similar_opts[0], on_option, &a, &npos);
    if (st == CLI_CONTINUE) st = cli_want_positionals(cmd, npos, 2, 2);
    if (st != CLI_CONTINUE) return st;
    const char *dir = argv[1], *id = argv[2];
    trawl_index *idx;
    if ((st = cli_open_index(dir, &idx)) != CLI_CONTINUE) return st;
    trawl_options *o = trawl_options_new();
    if (!o) {
        trawl_index_close(idx);
        return cli_error("out of memory");
    }
    trawl_options_set_limit(o, a.limit);
    trawl_options_set_snippets(o, 1);
    char *query = NULL;
    trawl_results *r = NULL;
    int code = CLI_EXIT_OK;
    trawl_rc rc = trawl_similar_query(idx, id, a.terms, &query);
    if (rc == TRAWL_ENOTFOUND)
        code = cli_error("no document with id '%s'", id);
    else if (rc)
        code = cli_lib_error("similar", rc, NULL);
    else if ((rc = trawl_similar(idx, id, a.terms, o, &r)) != TRAWL_OK)
        code = cli_error("%s", r ? trawl_results_errmsg(r) : trawl_strerror(rc));
    else if (a.json) {
        if (print_json(r, id, query)) code = cli_error("cannot write the JSON output");
    } else {
        printf("like %s: %s\n", id, query);
        printf("%zu hits (total %llu)\n", trawl_results_count(r), (unsigned long long)trawl_results_total(r));
        for (size_t i = 0; i < trawl_results_count(r); i++) {
            const char *title = trawl_results_title(r, i);
            printf("%zu. %.4f  %s", i + 1, trawl_results_score(r, i), trawl_results_id(r, i));
            if (title && *title) printf("  %s", title);
            putchar('\n');
        }
    }
    trawl_results_free(r);
    trawl_free(query);
    trawl_options_free(o);
    trawl_index_close(idx);
    return code;
}

const cli_command cli_cmd_similar = {
    "similar",
    "documents like a stored one (more like this)",
    "usage: trawl similar [OPTIONS] INDEX ID\n"
    "\n"
    "Finds the documents most like the one with id ID: its most characteristic\n"
    "terms by tf-idf over its text fields, (1 + ln tf) * ln(N / df) with tf its\n"
    "occurrences in the document, N the documents, df those with the term, are\n"
    "run as an OR query, the document itself left out.\n"
    "\n"
    "Options:\n"
    "  -k, --limit N   hits to print, 1..10000 (default 10)\n"
    "      --terms N   terms of the query, 1..100 (default 25)\n"
    "      --json      print {id, query, total, hits: [{id, score, title}]}\n"
    "  -h, --help      show this help\n",
    run_similar,
};
