/*
 * cli_env.c — the environment variables of the `trawl` program.
 *
 * The library reads no environment; the program turns TRAWL_THREADS,
 * TRAWL_RAM_MB and TRAWL_SIMD into a trawl_open_options for the writer and
 * index it opens. A variable that is unset or empty keeps the library's
 * default; any other value must be valid, or the command stops with a usage
 * error (exit 2) before it does anything.
 */
#include "cli.h"

#include <stdlib.h>

#define CLI_MAX_THREADS 1024u
#define CLI_MAX_RAM_MB 1048576u

/* The value of variable name, or NULL when it is unset or empty. */
static const char *env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int cli_open_options(trawl_open_options **out) {
    *out = NULL;
    trawl_open_options *o = trawl_open_options_new();
    if (!o) return cli_error("out of memory");
    const char *v;
    size_t n;
    int st = CLI_CONTINUE;
    if ((v = env("TRAWL_THREADS")) != NULL &&
        (cli_parse_size(v, 0, CLI_MAX_THREADS, &n) != 0 || trawl_open_options_set_threads(o, (int)n) != TRAWL_OK)) {
        fprintf(stderr, "trawl: TRAWL_THREADS='%s': expected a whole number from 0 to %u\n", v, CLI_MAX_THREADS);
        st = CLI_EXIT_USAGE;
    }
    if (st == CLI_CONTINUE && (v = env("TRAWL_RAM_MB")) != NULL &&
        (cli_parse_size(v, 1, CLI_MAX_RAM_MB, &n) != 0 || trawl_open_options_set_ram_mb(o, n) != TRAWL_OK)) {
        fprintf(stderr, "trawl: TRAWL_RAM_MB='%s': expected a whole number of MiB from 1 to %u\n", v, CLI_MAX_RAM_MB);
        st = CLI_EXIT_USAGE;
    }
    if (st == CLI_CONTINUE && (v = env("TRAWL_SIMD")) != NULL && trawl_open_options_set_simd(o, v) != TRAWL_OK) {
        fprintf(stderr, "trawl: TRAWL_SIMD='%s': expected scalar, sse4.1, avx2, avx512 or auto\n", v);
        st = CLI_EXIT_USAGE;
    }
    if (st != CLI_CONTINUE) {
        trawl_open_options_free(o);
        return st;
    }
    *out = o;
    return CLI_CONTINUE;
}
