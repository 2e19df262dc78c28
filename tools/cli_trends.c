/*
 * cli_trends.c — `trawl trends`: the emerging terms of a time window
 * (trawl_index_trends) or the bursts of one term (--bursts,
 * trawl_index_bursts), printed as a table or as the library's JSON.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

enum {
    OPT_WINDOW = 1,
    OPT_BACKGROUND,
    OPT_LIMIT,
    OPT_MIN_DOCS,
    OPT_SCORE,
    OPT_FIELD,
    OPT_BURSTS,
    OPT_UNIT,
    OPT_TZ,
    OPT_S,
    OPT_GAMMA,
    OPT_JSON
};

static const cli_opt trends_opts[] = {
    {OPT_WINDOW, 0, "window", 1}, {OPT_BACKGROUND, 0, "background", 1},
    {OPT_LIMIT, 'n', "limit", 1}, {OPT_MIN_DOCS, 0, "min-docs", 1},
    {OPT_SCORE, 0, "score", 1},   {OPT_FIELD, 0, "field", 1},
    {OPT_BURSTS, 0, "bursts", 1}, {OPT_UNIT, 0, "unit", 1},
    {OPT_TZ, 0, "tz", 1},         {OPT_S, 0, "s", 1},
    {OPT_GAMMA, 0, "gamma", 1},   {OPT_JSON, 0, "json", 0},
};

typedef struct trends_args {
    trawl_trends *t;
    const char *window, *background, *bursts, *unit, *tz;
    double s, gamma;
    int json;
} trends_args;

/* Applies A..B (either side may be empty) with set. */
static int set_range(const cli_command *cmd, trawl_trends *t, const char *opt, const char *value,
                     trawl_rc (*set)(trawl_trends *, const char *, const char *)) {
    const char *dots = strstr(value, "..");
    char a[64] = "", b[64] = "";
    if (!dots || (size_t)(dots - value) >= sizeof a || strlen(dots + 2) >= sizeof b)
        return cli_usage_error(cmd, "%s wants FROM..TO (dates, either may be empty), not '%s'", opt, value);
    memcpy(a, value, (size_t)(dots - value));
    memcpy(b, dots + 2, strlen(dots + 2) + 1); /* fits: checked above */
    if (set(t, a, b) != TRAWL_OK) return cli_error("out of memory");
    return CLI_CONTINUE;
}

static int on_option(void *ctx, const cli_command *cmd, int key, const char *value) {
    trends_args *a = ctx;
    size_t n;
    switch (key) {
        case OPT_WINDOW: a->window = value; return set_range(cmd, a->t, "--window", value, trawl_trends_set_window);
        case OPT_BACKGROUND:
            a->background = value;
            return set_range(cmd, a->t, "--background", value, trawl_trends_set_background);
        case OPT_LIMIT:
            if (cli_parse_size(value, 1, 10000, &n) || trawl_trends_set_limit(a->t, n))
                return cli_usage_error(cmd, "-n wants a number from 1 to 10000, not '%s'", value);
            return CLI_CONTINUE;
        case OPT_MIN_DOCS:
            if (cli_parse_size(value, 1, SIZE_MAX, &n) || trawl_trends_set_min_docs(a->t, n))
                return cli_usage_error(cmd, "--min-docs wants a number of 1 or more, not '%s'", value);
            return CLI_CONTINUE;
        case OPT_SCORE:
            if (trawl_trends_set_score(a->t, value))
                return cli_usage_error(cmd, "--score wants jlh or chi2, not '%s'", value);
            return CLI_CONTINUE;
        case OPT_FIELD:
            if (trawl_trends_set_field(a->t, value)) return cli_usage_error(cmd, "--field wants a field name");
            return CLI_CONTINUE;
        case OPT_BURSTS: a->bursts = value; return CLI_CONTINUE;
        case OPT_UNIT: a->unit = value; return CLI_CONTINUE;
        case OPT_TZ: a->tz = value; return CLI_CONTINUE;
        case OPT_S:
            if (cli_parse_double(value, 1.0, 1e6, &a->s) || a->s <= 1.0)
                return cli_usage_error(cmd, "--s wants a number above 1, not '%s'", value);
            return CLI_CONTINUE;
        case OPT_GAMMA:
            if (cli_parse_double(value, 0.0, 1e6, &a->gamma))
                return cli_usage_error(cmd, "--gamma wants a number of 0 or more, not '%s'", value);
            return CLI_CONTINUE;
        case OPT_JSON: a->json = 1; return CLI_CONTINUE;
    }
    return cli_usage_error(cmd, "internal: unhandled option");
}

static const char *str(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "*";
}

static long long num(json_t *o, const char *k) {
    return (long long)json_integer_value(json_object_get(o, k));
}

/* The table of emerging terms. */
static void print_terms(json_t *root) {
    json_t *w = json_object_get(root, "window"), *b = json_object_get(root, "background");
    const char *score = str(root, "score");
    printf("window %s .. %s: %lld documents; background %s .. %s: %lld documents\n", str(w, "from"), str(w, "to"),
           num(w, "docs"), str(b, "from"), str(b, "to"), num(b, "docs"));
    printf("%-24s %10s %12s %12s %12s\n", "term", "window", "background", "jlh", "chi2");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(root, "terms"), i, e) {
        printf("%-24s %10lld %12lld %12.4f %12.2f\n", str(e, "term"), num(e, "window_docs"), num(e, "background_docs"),
               json_real_value(json_object_get(e, "jlh")), json_real_value(json_object_get(e, "chi2")));
    }
    if (!json_array_size(json_object_get(root, "terms")))
        printf("(no term passes --min-docs with a positive %s)\n", score);
}

/* The bursts of a term. */
static void print_bursts(json_t *root) {
    json_t *bursts = json_object_get(root, "bursts");
    printf("bursts of '%s' by %s (s %g, gamma %g): %zu\n", str(root, "term"), str(root, "unit"),
           json_real_value(json_object_get(root, "s")), json_real_value(json_object_get(root, "gamma")),
           json_array_size(bursts));
    printf("%-10s %-10s %10s %10s %10s\n", "start", "end", "weight", "term docs", "docs");
    size_t i;
    json_t *e;
    json_array_foreach(bursts, i, e) {
        printf("%-10s %-10s %10.2f %10lld %10lld\n", str(e, "start"), str(e, "end"),
               json_real_value(json_object_get(e, "weight")), num(e, "term_docs"), num(e, "docs"));
    }
}

static int run_trends(const cli_command *cmd, int argc, char **argv) {
    trends_args a = {0};
    a.s = 2;
    a.gamma = 1;
    if (!(a.t = trawl_trends_new())) return cli_error("out of memory");
    size_t npos;
    int st = cli_parse(cmd, argc, argv, trends_opts, sizeof trends_opts / sizeof trends_opts[0], on_option, &a, &npos);
    if (st == CLI_CONTINUE) st = cli_want_positionals(cmd, npos, 1, 2);
    if (st == CLI_CONTINUE && !a.bursts && !a.window)
        st = cli_usage_error(cmd, "--window (or --bursts TERM) is required");
    if (st == CLI_CONTINUE && a.bursts && (a.window || a.background || npos > 1))
        st = cli_usage_error(cmd, "--bursts takes no QUERY, --window or --background");
    if (st == CLI_CONTINUE && (a.unit || a.tz) && trawl_trends_set_unit(a.t, a.unit ? a.unit : "month", a.tz))
        st = cli_usage_error(cmd, "--unit wants year, quarter, month, week or day and --tz an offset such as +05:30");
    if (st == CLI_CONTINUE && trawl_trends_set_burst_params(a.t, a.s, a.gamma))
        st = cli_usage_error(cmd, "invalid --s or --gamma");
    trawl_index *idx = NULL;
    if (st == CLI_CONTINUE) st = cli_open_index(argv[1], &idx);
    if (st != CLI_CONTINUE) {
        trawl_trends_free(a.t);
        return st;
    }
    char *out = NULL, *msg = NULL;
    trawl_rc rc = a.bursts ? trawl_index_bursts(idx, a.bursts, a.t, &out, &msg)
                           : trawl_index_trends(idx, npos > 1 ? argv[2] : NULL, a.t, &out, &msg);
    int code = CLI_EXIT_OK;
    if (rc) {
        code = cli_lib_error(a.bursts ? "bursts" : "trends", rc, msg);
    } else if (a.json) {
        puts(out);
    } else {
        json_t *root = json_loads(out, 0, NULL);
        if (!root)
            code = cli_error("out of memory");
        else if (a.bursts)
            print_bursts(root);
        else
            print_terms(root);
        json_decref(root);
    }
    trawl_free(out);
    trawl_index_close(idx);
    trawl_trends_free(a.t);
    return code;
}

const cli_command cli_cmd_trends = {
    "trends",
    "emerging terms of a time window, or bursts of a term",
    "usage: trawl trends [OPTIONS] INDEX [QUERY] --window FROM..TO\n"
    "       trawl trends [OPTIONS] INDEX --bursts TERM\n"
    "\n"
    "Lists the terms most over-represented in the documents dated inside the\n"
    "window (only those matching QUERY when one is given) against the\n"
    "background (every document unless --background is given), with their\n"
    "window and background document counts and scores (JLH and chi-square as\n"
    "in Elasticsearch's significant_terms; formulas in the README). Dates are\n"
    "YYYY, YYYY-MM, YYYY-MM-DD or date-times; a partial date covers its whole\n"
    "span (2025-01..2025-06 is January to June inclusive); either end may be\n"
    "left empty (2024..).\n"
    "\n"
    "With --bursts TERM, finds the bursts of TERM over time: Kleinberg's\n"
    "two-state automaton over the per-bucket counts of documents with the term\n"
    "and of all documents; prints each burst's first and last bucket and weight.\n"
    "\n"
    "Options:\n"
    "      --window A..B      the time window (required for emerging terms)\n"
    "      --background C..D  the background (default: every document)\n"
    "  -n, --limit N          terms to list, 1..10000 (default 20)\n"
    "      --min-docs M       fewest window documents a listed term is in (default 3)\n"
    "      --score S          rank by jlh (default) or chi2\n"
    "      --field F          the date field (default date)\n"
    "      --bursts TERM      the bursts of TERM instead of emerging terms\n"
    "      --unit U           bursts: year, quarter, month (default), week or day\n"
    "      --tz OFFSET        bursts: buckets at a fixed offset from UTC (+05:30)\n"
    "      --s X              bursts: burst-state rate ratio, > 1 (default 2)\n"
    "      --gamma X          bursts: cost factor of entering a burst (default 1)\n"
    "      --json             print the JSON object of trawl_index_trends or\n"
    "                         trawl_index_bursts (see the README)\n"
    "  -h, --help             show this help\n",
    run_trends,
};
