/*
 * cli_args.c — the argument parser every `trawl` subcommand uses.
 *
 * Options may come before, between or after the positionals: anything that
 * starts with '-' (except a lone "-", which names stdin) is an option, and
 * "--" makes every later argument a positional. Long options take their value
 * as --name=V or --name V; short ones as -xV or -x V, and flags may be grouped
 * (-ab). -h and --help print the command's usage on stdout. Also here: strict
 * parsers for the numbers options carry.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_usage_error(const cli_command *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "trawl %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n\n%s", cmd->usage);
    return CLI_EXIT_USAGE;
}

int cli_want_positionals(const cli_command *cmd, size_t got, size_t min, size_t max) {
    if (got < min) return cli_usage_error(cmd, "missing argument%s", min - got > 1 ? "s" : "");
    if (got > max) return cli_usage_error(cmd, "too many arguments (%zu given, at most %zu expected)", got, max);
    return CLI_CONTINUE;
}

/* The option of opts whose long name is name[0..len), or NULL. */
static const cli_opt *find_long(const cli_opt *opts, size_t nopts, const char *name, size_t len) {
    for (size_t i = 0; i < nopts; i++) {
        const char *ln = opts[i].long_name;
        if (ln && strlen(ln) == len && memcmp(ln, name, len) == 0) return &opts[i];
    }
    return NULL;
}

/* The option of opts whose short name is c, or NULL. */
static const cli_opt *find_short(const cli_opt *opts, size_t nopts, char c) {
    for (size_t i = 0; i < nopts; i++)
        if (opts[i].short_name && opts[i].short_name == c) return &opts[i];
    return NULL;
}

/* Handles one long option argument ("--name" or "--name=value"); *i indexes it
 * in argv and is advanced past a separate value. Returns CLI_CONTINUE or an
 * exit code. */
static int parse_long(const cli_command *cmd, int argc, char **argv, int *i, const cli_opt *opts, size_t nopts,
                      cli_opt_fn handler, void *ctx) {
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (len == 4 && memcmp(arg, "help", 4) == 0 && !eq) {
        fputs(cmd->usage, stdout);
        return CLI_EXIT_OK;
    }
    const cli_opt *o = find_long(opts, nopts, arg, len);
    if (!o) return cli_usage_error(cmd, "unknown option '--%.*s'", (int)len, arg);
    const char *value = NULL;
    if (o->takes_value) {
        if (eq) {
            value = eq + 1;
        } else if (*i + 1 < argc) {
            value = argv[++*i];
        } else {
            return cli_usage_error(cmd, "option '--%s' needs a value", o->long_name);
        }
    } else if (eq) {
        return cli_usage_error(cmd, "option '--%s' takes no value", o->long_name);
    }
    return handler(ctx, cmd, o->key, value);
}

/* Handles one argument of short options ("-k", "-k5", "-ab"); like parse_long. */
static int parse_short(const cli_command *cmd, int argc, char **argv, int *i, const cli_opt *opts, size_t nopts,
                       cli_opt_fn handler, void *ctx) {
    const char *arg = argv[*i];
    for (size_t j = 1; arg[j]; j++) {
        char c = arg[j];
        if (c == 'h') {
            fputs(cmd->usage, stdout);
            return CLI_EXIT_OK;
        }
        const cli_opt *o = find_short(opts, nopts, c);
        if (!o) return cli_usage_error(cmd, "unknown option '-%c'", c);
        if (!o->takes_value) {
            int st = handler(ctx, cmd, o->key, NULL);
            if (st != CLI_CONTINUE) return st;
            continue;
        }
        const char *value;
        if (arg[j + 1]) {
            value = arg + j + 1;
        } else if (*i + 1 < argc) {
            value = argv[++*i];
        } else {
            return cli_usage_error(cmd, "option '-%c' needs a value", c);
        }
        return handler(ctx, cmd, o->key, value);
    }
    return CLI_CONTINUE;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, const cli_opt *opts, size_t nopts, cli_opt_fn handler,
              void *ctx, size_t *npos) {
    /* Positionals are compacted into argv[1..w): w never passes i, so nothing
     * unread is overwritten. */
    int w = 1;
    int options_done = 0;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            argv[w++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_done = 1;
            continue;
        }
        int st = arg[1] == '-' ? parse_long(cmd, argc, argv, &i, opts, nopts, handler, ctx)
                               : parse_short(cmd, argc, argv, &i, opts, nopts, handler, ctx);
        if (st != CLI_CONTINUE) return st;
    }
    *npos = (size_t)(w - 1);
    return CLI_CONTINUE;
}

int cli_parse_size(const char *s, size_t min, size_t max, size_t *out) {
    if (!s || *s < '0' || *s > '9') return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) return -1;
    *out = (size_t)v;
    return 0;
}

int cli_parse_double(const char *s, double min, double max, double *out) {
    if (!s || *s == '\0' || *s == ' ' || *s == '\t') return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max) return -1;
    *out = v;
    return 0;
}
