/*
 * cli.h — shared declarations of the `trawl` command-line program.
 *
 * The program is a thin shell over the public API (include/trawl.h): trawl.c
 * dispatches argv[1] to one entry of a table of subcommands; each subcommand
 * lives in its own cli_*.c file and exports one constant cli_command. This
 * header holds that contract, the argument parser (cli_args.c) every command
 * uses, and the small helpers for errors, languages and JSON output
 * (cli_common.c).
 *
 * Exit codes: 0 success, 1 an error (library, I/O, bad input), 2 a usage error.
 */
#ifndef TRAWL_CLI_H
#define TRAWL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "trawl.h"

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_ERROR = 1,
    CLI_EXIT_USAGE = 2,
    /* Not an exit code: cli_parse's "go on with the command". */
    CLI_CONTINUE = -1
};

/* ------------------------------------------------------------------------ */
/* Subcommands                                                               */

typedef struct cli_command cli_command;

/* Runs the subcommand. argv[0] is the subcommand's name, argv[1..argc) its
 * arguments (argv may be permuted by cli_parse). Returns the exit code. */
typedef int (*cli_run_fn)(const cli_command *self, int argc, char **argv);

struct cli_command {
    const char *name;    /* as typed after `trawl` */
    const char *summary; /* one line for `trawl help` */
    const char *usage;   /* full help text, ends with a newline */
    cli_run_fn run;
};

/* One constant per subcommand; the dispatch table in trawl.c lists them. */
extern const cli_command cli_cmd_index;   /* cli_index.c */
extern const cli_command cli_cmd_search;  /* cli_search.c */
extern const cli_command cli_cmd_analyze; /* cli_misc.c */
extern const cli_command cli_cmd_stats;   /* cli_misc.c */
extern const cli_command cli_cmd_check;   /* cli_misc.c */
extern const cli_command cli_cmd_get;     /* cli_misc.c */
extern const cli_command cli_cmd_serve;   /* serve.c */
extern const cli_command cli_cmd_delete;  /* cli_live.c */
extern const cli_command cli_cmd_merge;   /* cli_live.c */
extern const cli_command cli_cmd_backup;  /* cli_live.c */
extern const cli_command cli_cmd_trends;  /* cli_trends.c */
extern const cli_command cli_cmd_similar; /* cli_similar.c */

/* ------------------------------------------------------------------------ */
/* Argument parsing (cli_args.c)                                             */

/* One option a subcommand accepts. -h/--help is implicit for every command. */
typedef struct cli_opt {
    int key;               /* handed to the handler; any value the command likes */
    char short_name;       /* 'k' for -k; 0 when there is none */
    const char *long_name; /* "limit" for --limit; NULL when there is none */
    int takes_value;       /* 1: needs a value (--x V, --x=V, -xV, -x V) */
} cli_opt;

/* Called once per option occurrence, in command-line order; value is NULL for
 * flags. Returns CLI_CONTINUE to go on, or an exit code (after printing a
 * message, normally through cli_usage_error) to stop the parse. */
typedef int (*cli_opt_fn)(void *ctx, const cli_command *cmd, int key, const char *value);

/* Parses argv[1..argc) of cmd: every argument starting with '-' (except a lone
 * "-") is an option wherever it appears, "--" ends the options, everything else
 * is a positional. Positionals are moved, in order, to argv[1..1+*npos).
 * Returns CLI_CONTINUE when the command should run; otherwise the exit code to
 * return at once: CLI_EXIT_OK after printing the usage for -h/--help, or
 * CLI_EXIT_USAGE (message and usage on stderr) for an unknown option, a
 * missing value, or whatever the handler rejects. */
int cli_parse(const cli_command *cmd, int argc, char **argv, const cli_opt *opts, size_t nopts, cli_opt_fn handler,
              void *ctx, size_t *npos);

/* Prints "trawl CMD: <message>" and the usage of cmd on stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Checks that exactly / at least n positionals were given; on failure prints a
 * usage error and returns CLI_EXIT_USAGE, else CLI_CONTINUE. */
int cli_want_positionals(const cli_command *cmd, size_t got, size_t min, size_t max);

/* Parses a whole decimal integer in [min, max] (no sign, no spaces). Returns 0
 * on success with *out set, -1 otherwise (nothing printed). */
int cli_parse_size(const char *s, size_t min, size_t max, size_t *out);

/* Parses a whole finite decimal number in [min, max]. Returns 0 or -1. */
int cli_parse_double(const char *s, double min, double max, double *out);

/* ------------------------------------------------------------------------ */
/* Common helpers (cli_common.c)                                             */

/* Prints "trawl: <message>" on stderr; returns CLI_EXIT_ERROR. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports a library failure that came with an optional malloc'd message:
 * prints "trawl: <what>: <errmsg or trawl_strerror(rc)>" (leaving out
 * "<what>: " when the message already contains what), frees errmsg with
 * trawl_free, returns CLI_EXIT_ERROR. what may be NULL. */
int cli_lib_error(const char *what, int rc, char *errmsg);

/* Returns CLI_CONTINUE if lang is a name trawl_languages() lists, else prints a
 * usage error naming the accepted languages and returns CLI_EXIT_USAGE. */
int cli_check_lang(const cli_command *cmd, const char *lang);

/* Opens the index in dir with the settings of the environment
 * (cli_open_options); on failure prints the message and returns
 * CLI_EXIT_USAGE (a bad variable) or CLI_EXIT_ERROR with *out NULL, else
 * CLI_CONTINUE. */
int cli_open_index(const char *dir, trawl_index **out);

/* ------------------------------------------------------------------------ */
/* Environment (cli_env.c)                                                   */

/* Open options from TRAWL_THREADS (0..1024), TRAWL_RAM_MB (1..1048576) and
 * TRAWL_SIMD (scalar, sse4.1, avx2, avx512, auto); unset or empty variables
 * keep the defaults. CLI_CONTINUE with *out set (trawl_open_options_free it),
 * or, after a message on stderr, CLI_EXIT_USAGE for a bad value or
 * CLI_EXIT_ERROR when out of memory. */
int cli_open_options(trawl_open_options **out);

/* A JSON string holding s[0..len): the bytes as they are when they are valid
 * UTF-8, otherwise with every invalid byte replaced by U+FFFD. s NULL gives
 * JSON null. Returns NULL only when out of memory. */
json_t *cli_json_stringn(const char *s, size_t len);
json_t *cli_json_string(const char *s);

/* Writes the JSON value followed by a newline to stdout (compact unless
 * indent > 0). Returns 0, or -1 on a write or memory failure. */
int cli_json_print(const json_t *v, int indent);

/* Writes s to out with each line prefixed by indent spaces; a final newline is
 * added when s lacks one. */
void cli_print_indented(FILE *out, const char *s, int indent);

/* ------------------------------------------------------------------------ */
/* Facets and histograms (cli_analytics.c)                                   */

/* Applies --facet FIELD[:N] (N 1..10000, default 10) to o; CLI_CONTINUE or a
 * usage error. */
int cli_add_facet(const cli_command *cmd, trawl_options *o, const char *value);
/* Applies --histogram FIELD[:UNIT] (default month) with --tz tz (NULL: UTC)
 * to o; CLI_CONTINUE or a usage error. */
int cli_set_histogram(const cli_command *cmd, trawl_options *o, const char *spec, const char *tz);
/* Prints r's facets / histogram (bars scaled to the largest bucket, and a
 * sparkline on a terminal) as text on stdout; nothing when there are none. */
void cli_print_facets_text(const trawl_results *r);
void cli_print_histogram_text(const trawl_results *r);
/* Adds "facets" (when any) and, with with_histogram, "histogram" to root.
 * Returns 0 or -1 when out of memory. */
int cli_analytics_json(json_t *root, const trawl_results *r, int with_histogram);

#endif
