/*
 * cli_search.c — `trawl search`: runs one query against an index and prints
 * the hits as text (ranked lines with snippets, bold matches on a terminal) or
 * as one JSON object. Query syntax errors are shown with a caret under the
 * offending byte.
 */
#include "cli.h"

#include <string.h>
#include <unistd.h>

enum {
    OPT_LIMIT = 1,
    OPT_OFFSET,
    OPT_OR,
    OPT_JSON,
    OPT_EXPLAIN,
    OPT_K1,
    OPT_B,
    OPT_WEIGHT,
    OPT_OP,
    OPT_RANKING,
    OPT_FACET,
    OPT_HIST,
    OPT_TZ,
    OPT_FILTER,
    OPT_SORT,
    OPT_PROXIMITY
};

#define MAX_LIMIT 10000
#define MAX_OFFSET 100000000
#define MAX_K1 1000.0
#define MAX_WEIGHT 1e6

static const cli_opt search_opts[] = {
    {OPT_LIMIT, 'k', "limit", 1},
    {OPT_OFFSET, 0, "offset", 1},
    {OPT_OR, 0, "or", 0},
    {OPT_JSON, 0, "json", 0},
    {OPT_EXPLAIN, 0, "explain", 0},
    {OPT_K1, 0, "k1", 1},
    {OPT_B, 0, "b", 1},
    {OPT_WEIGHT, 0, "weight", 1},
    {OPT_OP, 0, "op", 1},
    {OPT_RANKING, 0, "ranking", 1},
    {OPT_FACET, 0, "facet", 1},
    {OPT_HIST, 0, "histogram", 1},
    {OPT_TZ, 0, "tz", 1},
    {OPT_FILTER, 0, "filter", 1},
    {OPT_SORT, 0, "sort", 1},
    {OPT_PROXIMITY, 0, "proximity", 1},
};

typedef struct search_args {
    trawl_options *opts; /* options are applied as they are parsed */
    size_t limit, offset;
    double k1, b;
    int json, explain;
    const char *hist, *tz; /* --histogram, --tz (applied once all options are read) */
    char *filter;          /* every --filter, each in parentheses, ANDed (malloc'd) */
    int sorted;            /* --sort given */
} search_args;

/* Adds --filter EXPR to the filters so far: "(f1) (f2)" (ANDed). */
static int add_filter(search_args *a, const cli_command *cmd, const char *value) {
    size_t old = a->filter ? strlen(a->filter) : 0, len = old + strlen(value) + 4;
    char *f = realloc(a->filter, len);
    if (!f) return cli_usage_error(cmd, "--filter: out of memory");
    snprintf(f + old, len - old, "%s(%s)", old ? " " : "", value);
    a->filter = f;
    if (trawl_options_set_filter(a->opts, f) != TRAWL_OK) return cli_usage_error(cmd, "--filter: out of memory");
    return CLI_CONTINUE;
}

/* Applies --weight FIELD=W. */
static int set_weight(search_args *a, const cli_command *cmd, const char *value) {
    const char *eq = strrchr(value, '=');
    double w;
    if (!eq || eq == value || cli_parse_double(eq + 1, 0.0, MAX_WEIGHT, &w) != 0)
        return cli_usage_error(cmd, "--weight wants FIELD=W with 0 <= W <= %g, not '%s'", MAX_WEIGHT, value);
    char field[256];
    size_t flen = (size_t)(eq - value);
    if (flen >= sizeof field) return cli_usage_error(cmd, "--weight: field name too long");
    memcpy(field, value, flen);
    field[flen] = '\0';
    if (trawl_options_set_field_weight(a->opts, field, w) != TRAWL_OK)
        return cli_usage_error(cmd, "--weight: invalid field weight '%s'", value);
    return CLI_CONTINUE;
}

/* Applies --proximity W[:N] (the window is 20 without N). */
static int set_proximity(search_args *a, const cli_command *cmd, const char *value) {
    char wtext[64];
    const char *colon = strchr(value, ':');
    size_t wlen = colon ? (size_t)(colon - value) : strlen(value);
    double w;
    size_t n = 20;
    if (wlen >= sizeof wtext) return cli_usage_error(cmd, "--proximity wants W[:N], not '%s'", value);
    memcpy(wtext, value, wlen);
    wtext[wlen] = '\0';
    if (cli_parse_double(wtext, 0.0, 1000.0, &w) != 0 || (colon && cli_parse_size(colon + 1, 1, 64, &n) != 0) ||
        trawl_options_set_proximity(a->opts, w, (unsigned)n) != TRAWL_OK)
        return cli_usage_error(cmd, "--proximity wants W[:N] with 0 < W <= 1000 and 1 <= N <= 64, not '%s'", value);
    return CLI_CONTINUE;
}

static int on_option(void *ctx, const cli_command *cmd, int key, const char *value) {
    search_args *a = ctx;
    switch (key) {
        case OPT_LIMIT:
            if (cli_parse_size(value, 0, MAX_LIMIT, &a->limit) != 0)
                return cli_usage_error(cmd, "-k wants a number from 0 to %d, not '%s'", MAX_LIMIT, value);
            return CLI_CONTINUE;
        case OPT_OFFSET:
            if (cli_parse_size(value, 0, MAX_OFFSET, &a->offset) != 0)
                return cli_usage_error(cmd, "--offset wants a number from 0 to %d, not '%s'", MAX_OFFSET, value);
            return CLI_CONTINUE;
        case OPT_OR: trawl_options_set_or(a->opts, 1); return CLI_CONTINUE;
        case OPT_JSON: a->json = 1; return CLI_CONTINUE;
        case OPT_EXPLAIN: a->explain = 1; return CLI_CONTINUE;
        case OPT_K1:
            if (cli_parse_double(value, 0.0, MAX_K1, &a->k1) != 0)
                return cli_usage_error(cmd, "--k1 wants a number from 0 to %g, not '%s'", MAX_K1, value);
            return CLI_CONTINUE;
        case OPT_B:
            if (cli_parse_double(value, 0.0, 1.0, &a->b) != 0)
                return cli_usage_error(cmd, "--b wants a number from 0 to 1, not '%s'", value);
            return CLI_CONTINUE;
        case OPT_WEIGHT: return set_weight(a, cmd, value);
        case OPT_FILTER: return add_filter(a, cmd, value);
        case OPT_SORT:
            if (trawl_options_set_sort(a->opts, value) != TRAWL_OK)
                return cli_usage_error(cmd, "--sort wants FIELD, FIELD:asc or FIELD:desc, not '%s'", value);
            a->sorted = 1;
            return CLI_CONTINUE;
        case OPT_OP:
            if (strcmp(value, "and") == 0)
                trawl_options_set_op(a->opts, TRAWL_OP_AND);
            else if (strcmp(value, "or") == 0)
                trawl_options_set_op(a->opts, TRAWL_OP_OR);
            else if (strcmp(value, "auto") == 0)
                trawl_options_set_op(a->opts, TRAWL_OP_AUTO);
            else
                return cli_usage_error(cmd, "--op wants and, or or auto, not '%s'", value);
            return CLI_CONTINUE;
        case OPT_RANKING:
            if (strcmp(value, "bm25") == 0)
                trawl_options_set_ranking(a->opts, TRAWL_RANKING_BM25);
            else if (strcmp(value, "bm25f") == 0)
                trawl_options_set_ranking(a->opts, TRAWL_RANKING_BM25F);
            else if (strcmp(value, "bm25-prox") == 0)
                trawl_options_set_ranking(a->opts, TRAWL_RANKING_BM25_PROX);
            else if (strcmp(value, "bm25f-prox") == 0)
                trawl_options_set_ranking(a->opts, TRAWL_RANKING_BM25F_PROX);
            else
                return cli_usage_error(cmd, "--ranking wants bm25f, bm25, bm25f-prox or bm25-prox, not '%s'", value);
            return CLI_CONTINUE;
        case OPT_PROXIMITY: return set_proximity(a, cmd, value);
        case OPT_FACET: return cli_add_facet(cmd, a->opts, value);
        case OPT_HIST: a->hist = value; return CLI_CONTINUE;
        case OPT_TZ: a->tz = value; return CLI_CONTINUE;
    }
    return cli_usage_error(cmd, "internal: unhandled option");
}

/* Prints a syntax error with the query and a caret under byte offset off. */
static void print_syntax_error(const char *query, long off, const char *msg) {
    size_t qlen = strlen(query);
    if (off < 0 || (size_t)off > qlen) off = (long)qlen;
    fprintf(stderr, "trawl: syntax error at offset %ld: %s\n  ", off, msg);
    for (const char *p = query; *p; p++) fputc(*p == '\n' || *p == '\r' ? ' ' : *p, stderr);
    fputs("\n  ", stderr);
    /* One column per character (UTF-8 continuation bytes take none); tabs are
     * echoed so the caret lines up whatever the tab width. */
    for (long i = 0; i < off; i++) {
        unsigned char c = (unsigned char)query[i];
        if ((c & 0xC0) == 0x80) continue;
        fputc(c == '\t' ? '\t' : ' ', stderr);
    }
    fputs("^\n", stderr);
}

/* Writes s (NULL: nothing) on one line of stdout, control characters shown
 * as spaces. */
static void print_oneline(const char *s) {
    for (; s && *s; s++) putchar((unsigned char)*s < 0x20 ? ' ' : *s);
}

/* The text form: a header, then rank, score, id and title, the snippet and
 * (with --explain) the breakdown of each hit. */
static void print_text(const trawl_results *r, const search_args *a) {
    size_t n = trawl_results_count(r);
    trawl_snippet_style style = isatty(STDOUT_FILENO) ? TRAWL_SNIPPET_ANSI : TRAWL_SNIPPET_PLAIN;
    printf("%zu hits (total %llu) in %.2f ms\n", n, (unsigned long long)trawl_results_total(r),
           (double)trawl_results_took_us(r) / 1000.0);
    for (size_t i = 0; i < n; i++) {
        const char *title = trawl_results_title(r, i);
        printf("%zu. %.4f  ", a->offset + i + 1, trawl_results_score(r, i));
        if (a->sorted) {
            const char *sv = trawl_results_sort_value(r, i);
            putchar('[');
            print_oneline(sv ? sv : "-");
            fputs("]  ", stdout);
        }
        print_oneline(trawl_results_id(r, i));
        if (title && *title) {
            fputs("  ", stdout);
            print_oneline(title);
        }
        putchar('\n');
        const char *snippet = trawl_results_snippet(r, i, style);
        if (snippet && *snippet) cli_print_indented(stdout, snippet, 4);
        const char *explain = trawl_results_explain(r, i);
        if (a->explain && explain && *explain) cli_print_indented(stdout, explain, 6);
    }
}

/* Adds key: value to obj, where value is a new reference (NULL = out of memory).
 * Returns 0 or -1. */
static int put(json_t *obj, const char *key, json_t *value) {
    return value ? json_object_set_new(obj, key, value) : -1;
}

/* The JSON form: one object with the query, totals and hits. Returns 0 or -1. */
static int print_json(const trawl_results *r, const char *query, const search_args *a) {
    json_t *root = json_object(), *hits = json_array();
    int bad = !root || !hits;
    if (!bad)
        bad = put(root, "query", cli_json_string(query)) ||
              put(root, "total", json_integer((json_int_t)trawl_results_total(r))) ||
              put(root, "took_us", json_integer((json_int_t)trawl_results_took_us(r))) ||
              put(root, "offset", json_integer((json_int_t)a->offset));
    size_t n = trawl_results_count(r);
    for (size_t i = 0; i < n && !bad; i++) {
        json_t *hit = json_object();
        const char *title = trawl_results_title(r, i);
        bad = !hit || put(hit, "id", cli_json_string(trawl_results_id(r, i))) ||
              put(hit, "score", json_real(trawl_results_score(r, i))) ||
              put(hit, "title", cli_json_string(title ? title : "")) ||
              put(hit, "snippet", cli_json_string(trawl_results_snippet(r, i, TRAWL_SNIPPET_HTML)));
        if (!bad && a->explain) bad = put(hit, "explain", cli_json_string(trawl_results_explain(r, i)));
        if (!bad && a->sorted) {
            const char *sv = trawl_results_sort_value(r, i);
            bad = put(hit, "sort_value", sv ? cli_json_string(sv) : json_null());
        }
        if (!hit || json_array_append_new(hits, hit) != 0) bad = 1;
    }
    if (!bad) bad = cli_analytics_json(root, r, a->hist != NULL) != 0;
    if (!bad) {
        bad = json_object_set(root, "hits", hits) != 0;
        if (!bad) bad = cli_json_print(root, 0) != 0;
    }
    json_decref(hits);
    json_decref(root);
    return bad ? -1 : 0;
}

static int run_search(const cli_command *cmd, int argc, char **argv) {
    search_args a = {0};
    a.limit = 10;
    a.k1 = -1.0;
    a.b = -1.0;
    a.opts = trawl_options_new();
    if (!a.opts) return cli_error("out of memory");
    size_t npos;
    int st = cli_parse(cmd, argc, argv, search_opts, sizeof search_opts / sizeof search_opts[0], on_option, &a, &npos);
    if (st == CLI_CONTINUE) st = cli_want_positionals(cmd, npos, 2, 2);
    if (st == CLI_CONTINUE && (a.k1 >= 0 || a.b >= 0) &&
        trawl_options_set_bm25(a.opts, a.k1 >= 0 ? a.k1 : 1.2, a.b >= 0 ? a.b : 0.75) != TRAWL_OK)
        st = cli_usage_error(cmd, "invalid BM25 parameters");
    if (st == CLI_CONTINUE && a.tz && !a.hist) st = cli_usage_error(cmd, "--tz goes with --histogram");
    if (st == CLI_CONTINUE && a.hist) st = cli_set_histogram(cmd, a.opts, a.hist, a.tz);
    if (st != CLI_CONTINUE) {
        trawl_options_free(a.opts);
        free(a.filter);
        return st;
    }
    const char *dir = argv[1], *query = argv[2];
    trawl_options_set_limit(a.opts, a.limit);
    trawl_options_set_offset(a.opts, a.offset);
    trawl_options_set_explain(a.opts, a.explain);
    if (a.limit == 0) trawl_options_set_count_only(a.opts, 1);

    trawl_index *idx;
    if ((st = cli_open_index(dir, &idx)) != CLI_CONTINUE) {
        trawl_options_free(a.opts);
        free(a.filter);
        return st;
    }
    trawl_results *r = NULL;
    trawl_rc rc = trawl_search(idx, query, a.opts, &r);
    int code = CLI_EXIT_OK;
    if (rc != TRAWL_OK) {
        const char *msg = r ? trawl_results_errmsg(r) : NULL;
        if (!msg || !*msg) msg = trawl_strerror(rc);
        if (rc == TRAWL_ESYNTAX && r && trawl_results_error_offset(r) >= 0) /* else: in --filter */
            print_syntax_error(query, trawl_results_error_offset(r), msg);
        else
            cli_error("%s", msg);
        code = CLI_EXIT_ERROR;
    } else if (a.json) {
        if (print_json(r, query, &a) != 0) code = cli_error("cannot write the JSON output");
    } else {
        print_text(r, &a);
        cli_print_facets_text(r);
        cli_print_histogram_text(r);
    }
    trawl_results_free(r);
    trawl_index_close(idx);
    trawl_options_free(a.opts);
    free(a.filter);
    return code;
}

const cli_command cli_cmd_search = {
    "search",
    "search an index",
    "usage: trawl search [OPTIONS] INDEX QUERY\n"
    "\n"
    "Prints the best hits for QUERY in INDEX, ranked by BM25. Query syntax:\n"
    "  word  word*  \"a phrase\"  field:word  title:(a OR b)  a AND b  a OR b\n"
    "  -word  NOT word  +word  (grouping)\n"
    "Filters on keyword, date and number fields (no score):\n"
    "  tags:=ai  source:=\"The Register\"  date:[2024-01 TO 2024-06]  date>=2025-03\n"
    "  date<2020  n:[10 TO *]  year:2024\n"
    "Terms are ANDed unless --or is given. Put -- before a QUERY that starts\n"
    "with '-': trawl search INDEX -- '-draft report'.\n"
    "\n"
    "Options:\n"
    "  -k, --limit N       hits to print, 0..10000 (default 10; 0 only counts)\n"
    "      --offset N      skip the first N hits (paging)\n"
    "      --or            OR the terms instead of ANDing them (= --op or)\n"
    "      --op OP         default operator: and (default), or, or auto (documents\n"
    "                      with every term first, then those with some)\n"
    "      --json          print one JSON object {query, total, took_us, offset,\n"
    "                      hits: [{id, score, title, snippet, explain?, sort_value?}]}\n"
    "      --explain       show how each score was computed\n"
    "      --filter EXPR   only documents EXPR matches (filters, query syntax),\n"
    "                      ANDed with QUERY; repeatable\n"
    "      --sort F[:asc|desc]  rank by the value of keyword/date/number field F\n"
    "                      (then score, then index order; no value last)\n"
    "      --k1 X          BM25 term-frequency saturation (default 1.2)\n"
    "      --b X           BM25 length normalization, 0..1 (default 0.75)\n"
    "      --weight F=W    weight of field F in unqualified terms (repeatable;\n"
    "                      default title=2, others 1)\n"
    "      --ranking R     bm25f (default) or bm25 (a sum of per-field BM25s);\n"
    "                      bm25f-prox or bm25-prox add a bonus for query words\n"
    "                      found close together\n"
    "      --proximity W[:N]  that bonus's weight W (0 < W <= 1000, default 0.15)\n"
    "                      and window N in positions (1..64, default 20)\n"
    "      --facet F[:N]   the N (default 10) most frequent values of keyword\n"
    "                      field F over all matches, or the min and max of a\n"
    "                      date or number field (repeatable); JSON: facets\n"
    "      --histogram F[:UNIT]  per year, quarter, month (default), week or day\n"
    "                      of date field F: matches and all documents, drawn as\n"
    "                      bars under the hits; JSON: histogram\n"
    "      --tz OFFSET     read --histogram's buckets at a fixed offset from\n"
    "                      UTC, e.g. +05:30 or -08:00 (default UTC)\n"
    "  -h, --help          show this help\n",
    run_search,
};
