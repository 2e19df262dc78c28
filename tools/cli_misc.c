/*
 * cli_misc.c — the small inspection commands of `trawl`:
 *   analyze  show the tokens and terms the analyzer makes of a text
 *   stats    index statistics, as a table or raw JSON
 *   check    deep validation of an index (exit 1 when unsound)
 *   get      print one stored document
 * Each is a thin wrapper over one public API call.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_LANG = 1, OPT_JSON };

/* A command without options of its own (beyond -h). */
static int no_option(void *ctx, const cli_command *cmd, int key, const char *value) {
    return cli_usage_error(cmd, "internal: unhandled option");
}

/* ------------------------------------------------------------------------ */
/* analyze                                                                   */

static const cli_opt analyze_opts[] = {
    {OPT_LANG, 0, "lang", 1},
    {OPT_JSON, 0, "json", 0},
};

typedef struct analyze_args {
    const char *lang;
    int json;
} analyze_args;

static int analyze_option(void *ctx, const cli_command *cmd, int key, const char *value) {
    analyze_args *a = ctx;
    if (key == OPT_JSON) {
        a->json = 1;
        return CLI_CONTINUE;
    }
    a->lang = value;
    return cli_check_lang(cmd, value);
}

/* State of one analysis: the text (for the token bytes) and the JSON array
 * being built (NULL for text output). */
typedef struct analyze_ctx {
    const char *text;
    json_t *tokens;
    int failed; /* out of memory while building JSON */
} analyze_ctx;

/* trawl_token_fn: prints one token line or appends one JSON object. */
static int on_token(void *vctx, const char *term, size_t term_len, uint32_t position, size_t start, size_t end) {
    analyze_ctx *c = vctx;
    const char *tok = c->text + start;
    size_t tok_len = end - start;
    if (!c->tokens) {
        printf("%u\t%zu-%zu\t%.*s\t%.*s\n", (unsigned)position, start, end, (int)tok_len, tok, (int)term_len, term);
        return 0;
    }
    json_t *o = json_object();
    json_t *vtok = cli_json_stringn(tok, tok_len), *vterm = cli_json_stringn(term, term_len);
    json_t *vpos = json_integer(position), *vs = json_integer((json_int_t)start), *ve = json_integer((json_int_t)end);
    if (!o || !vtok || !vterm || !vpos || !vs || !ve || json_object_set_new(o, "position", vpos) ||
        json_object_set_new(o, "start", vs) || json_object_set_new(o, "end", ve) ||
        json_object_set_new(o, "token", vtok) || json_object_set_new(o, "term", vterm) ||
        json_array_append_new(c->tokens, o)) {
        c->failed = 1;
        return 1;
    }
    return 0;
}

/* Reads all of stdin into a malloc'd NUL-terminated buffer; NULL on failure. */
static char *read_stdin(size_t *len) {
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, stdin);
        if (n < cap - 1) break;
        char *grown = realloc(buf, cap * 2);
        if (!grown) {
            free(buf);
            return NULL;
        }
        buf = grown;
        cap *= 2;
    }
    if (!buf || ferror(stdin)) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int run_analyze(const cli_command *cmd, int argc, char **argv) {
    analyze_args a = {0};
    size_t npos;
    int st = cli_parse(cmd, argc, argv, analyze_opts, sizeof analyze_opts / sizeof analyze_opts[0], analyze_option, &a,
                       &npos);
    if (st == CLI_CONTINUE) st = cli_want_positionals(cmd, npos, 1, 1);
    if (st != CLI_CONTINUE) return st;
    char *owned = NULL;
    const char *text = argv[1];
    size_t len = strlen(text);
    if (strcmp(text, "-") == 0) {
        if (!(owned = read_stdin(&len))) return cli_error("cannot read standard input");
        text = owned;
    }
    analyze_ctx c = {text, NULL, 0};
    if (a.json && !(c.tokens = json_array())) {
        free(owned);
        return cli_error("out of memory");
    }
    trawl_rc rc = trawl_analyze(a.lang, text, len, on_token, &c);
    int code = CLI_EXIT_OK;
    if (c.failed)
        code = cli_error("out of memory");
    else if (rc != TRAWL_OK)
        code = cli_error("analyze: %s", trawl_strerror(rc));
    else if (c.tokens && cli_json_print(c.tokens, 0) != 0)
        code = cli_error("cannot write the JSON output");
    json_decref(c.tokens);
    free(owned);
    return code;
}

const cli_command cli_cmd_analyze = {
    "analyze",
    "show how a text is split into tokens and terms",
    "usage: trawl analyze [--lang L] [--json] TEXT\n"
    "\n"
    "Analyzes TEXT (or standard input when TEXT is -) the way the indexer does\n"
    "and prints one line per token, tab-separated:\n"
    "  POSITION  START-END (byte offsets)  TOKEN (bytes START..END of TEXT)  TERM\n"
    "\n"
    "Options:\n"
    "      --lang L   analysis language (default english; 'none' = no stemming)\n"
    "      --json     print a JSON array of {position, start, end, token, term}\n"
    "  -h, --help     show this help\n",
    run_analyze,
};

/* ------------------------------------------------------------------------ */
/* stats                                                                     */

static const cli_opt stats_opts[] = {
    {OPT_JSON, 0, "json", 0},
};

static int stats_option(void *ctx, const cli_command *cmd, int key, const char *value) {
    *(int *)ctx = 1;
    return CLI_CONTINUE;
}

/* A row of the stats table. */
typedef struct stat_row {
    char *key;
    char *value;
} stat_row;

typedef struct stat_table {
    stat_row *rows;
    size_t n, cap;
    int failed;
} stat_table;

/* Appends a row built from key and value (copied). */
static void table_add(stat_table *t, const char *key, const char *value) {
    if (t->failed) return;
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 32;
        stat_row *grown = realloc(t->rows, ncap * sizeof *grown);
        if (!grown) {
            t->failed = 1;
            return;
        }
        t->rows = grown;
        t->cap = ncap;
    }
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        t->failed = 1;
        return;
    }
    t->rows[t->n].key = k; /* (not a compound literal: cppcheck lost track of k and v in one) */
    t->rows[t->n++].value = v;
}

/* Flattens v into rows: nested keys joined with '.', array items as [i]. */
static void flatten(stat_table *t, const char *prefix, const json_t *v) {
    char key[512];
    char buf[64];
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach((json_t *)v, k, child) {
            snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", k);
            flatten(t, key, child);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) {
            snprintf(key, sizeof key, "%s[%zu]", prefix, i);
            flatten(t, key, child);
        }
    } else if (json_is_string(v)) {
        table_add(t, prefix, json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        table_add(t, prefix, buf);
    } else if (json_is_real(v)) {
        snprintf(buf, sizeof buf, "%.4g", json_real_value(v));
        table_add(t, prefix, buf);
    } else {
        table_add(t, prefix, json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null");
    }
}

/* Prints the stats JSON text as an aligned two-column table. Returns 0 or -1. */
static int print_stats_table(const char *text) {
    json_error_t err;
    json_t *root = json_loads(text, 0, &err);
    if (!root) return -1;
    stat_table t = {0};
    flatten(&t, "", root);
    json_decref(root);
    size_t width = 0;
    for (size_t i = 0; i < t.n; i++)
        if (strlen(t.rows[i].key) > width) width = strlen(t.rows[i].key);
    for (size_t i = 0; i < t.n; i++) printf("%-*s  %s\n", (int)width, t.rows[i].key, t.rows[i].value);
    for (size_t i = 0; i < t.n; i++) {
        free(t.rows[i].key);
        free(t.rows[i].value);
    }
    free(t.rows);
    return t.failed ? -1 : 0;
}

static int run_stats(const cli_command *cmd, int argc, char **argv) {
    int json = 0;
    size_t npos;
    int st =
        cli_parse(cmd, argc, argv, stats_opts, sizeof stats_opts / sizeof stats_opts[0], stats_option, &json, &npos);
    if (st == CLI_CONTINUE) st = cli_want_positionals(cmd, npos, 1, 1);
    if (st != CLI_CONTINUE) return st;
    trawl_index *idx;
    if ((st = cli_open_index(argv[1], &idx)) != CLI_CONTINUE) return st;
    char *text = NULL;
    trawl_rc rc = trawl_index_stats(idx, &text);
    int code = CLI_EXIT_OK;
    if (rc != TRAWL_OK)
        code = cli_lib_error(argv[1], rc, NULL);
    else if (json)
        printf("%s\n", text);
    else if (print_stats_table(text) != 0)
        code = cli_error("%s: cannot read the statistics", argv[1]);
    trawl_free(text);
    trawl_index_close(idx);
    return code;
}

const cli_command cli_cmd_stats = {
    "stats",
    "show index statistics",
    "usage: trawl stats [--json] INDEX\n"
    "\n"
    "Prints the statistics of INDEX (documents, segments, terms, postings, bytes\n"
    "per section, bits per posting; per segment its file, documents, deleted\n"
    "documents and bytes; merge.pending_merges: the merges the default policy\n"
    "would run now) as a table, nested keys joined with '.'.\n"
    "\n"
    "Options:\n"
    "      --json     print the statistics as the library's JSON object\n"
    "  -h, --help     show this help\n",
    run_stats,
};

/* ------------------------------------------------------------------------ */
/* check                                                                     */

static int run_check(const cli_command *cmd, int argc, char **argv) {
    size_t npos;
    int st = cli_parse(cmd, argc, argv, NULL, 0, no_option, NULL, &npos);
    if (st == CLI_CONTINUE) st = cli_want_positionals(cmd, npos, 1, 1);
    if (st != CLI_CONTINUE) return st;
    const char *dir = argv[1];
    char *report = NULL;
    trawl_rc rc = trawl_index_check(dir, &report);
    int code = CLI_EXIT_OK;
    if (rc == TRAWL_OK) {
        printf("ok: %s is sound\n", dir);
        if (report && *report) cli_print_indented(stdout, report, 2);
    } else {
        if (report && *report) cli_print_indented(stdout, report, 0);
        code = cli_error("%s: %s", dir, trawl_strerror(rc));
    }
    trawl_free(report);
    return code;
}

const cli_command cli_cmd_check = {
    "check",
    "verify every checksum and structure of an index",
    "usage: trawl check INDEX\n"
    "\n"
    "Decodes and verifies every posting list, dictionary block and stored block\n"
    "of INDEX. Prints \"ok: ...\" and exits 0 when the index is sound; prints one\n"
    "line per problem and exits 1 otherwise.\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help\n",
    run_check,
};

/* ------------------------------------------------------------------------ */
/* get                                                                       */

static int run_get(const cli_command *cmd, int argc, char **argv) {
    size_t npos;
    int st = cli_parse(cmd, argc, argv, NULL, 0, no_option, NULL, &npos);
    if (st == CLI_CONTINUE) st = cli_want_positionals(cmd, npos, 2, 2);
    if (st != CLI_CONTINUE) return st;
    trawl_index *idx;
    if ((st = cli_open_index(argv[1], &idx)) != CLI_CONTINUE) return st;
    char *json = NULL;
    trawl_rc rc = trawl_index_get(idx, argv[2], &json);
    int code = CLI_EXIT_OK;
    if (rc == TRAWL_OK)
        printf("%s\n", json);
    else if (rc == TRAWL_ENOTFOUND)
        code = cli_error("%s: no document with id '%s'", argv[1], argv[2]);
    else
        code = cli_lib_error(argv[1], rc, NULL);
    trawl_free(json);
    trawl_index_close(idx);
    return code;
}

const cli_command cli_cmd_get = {
    "get",
    "print a stored document",
    "usage: trawl get INDEX ID\n"
    "\n"
    "Prints the stored document with id ID as a JSON object (exit 1 when there\n"
    "is none). Put -- before an ID that starts with '-'.\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help\n",
    run_get,
};
