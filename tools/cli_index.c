/*
 * cli_index.c — `trawl index`: builds or extends an index from JSON Lines
 * files, stdin, text files and directories, then commits once.
 *
 * Opens one writer, hands every input to ingest.c, and commits only if the
 * whole run succeeded; on any failure the writer is closed without a commit, so
 * the index keeps its previous state. Ends with a one-line summary on stderr.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "progress.h"

enum { OPT_LANG = 1, OPT_STRICT, OPT_OUTPUT, OPT_QUIET, OPT_SCHEMA };

static const cli_opt index_opts[] = {
    {OPT_LANG, 0, "lang", 1},     {OPT_STRICT, 0, "strict", 0}, {OPT_OUTPUT, 'o', "output", 1},
    {OPT_QUIET, 'q', "quiet", 0}, {OPT_SCHEMA, 0, "schema", 1},
};

typedef struct index_args {
    const char *lang;   /* NULL: the index's own (english for a new one) */
    const char *output; /* the index directory */
    const char *schema; /* schema file, or NULL */
    int strict;
    int quiet;
} index_args;

static int on_option(void *ctx, const cli_command *cmd, int key, const char *value) {
    index_args *a = ctx;
    switch (key) {
        case OPT_LANG: a->lang = value; return cli_check_lang(cmd, value);
        case OPT_STRICT: a->strict = 1; return CLI_CONTINUE;
        case OPT_OUTPUT:
            if (!*value) return cli_usage_error(cmd, "the index directory (-o) must not be empty");
            a->output = value;
            return CLI_CONTINUE;
        case OPT_QUIET: a->quiet = 1; return CLI_CONTINUE;
        case OPT_SCHEMA:
            if (!*value) return cli_usage_error(cmd, "the schema file (--schema) must not be empty");
            a->schema = value;
            return CLI_CONTINUE;
    }
    return cli_usage_error(cmd, "internal: unhandled option");
}

/* Reads the schema file path into a malloc'd NUL-terminated text, or NULL
 * with a message printed. */
static char *read_schema(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("%s: cannot read the schema file: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len + 1 < cap) break;
        if (cap > ((size_t)16 << 20)) {
            free(buf);
            fclose(f);
            cli_error("%s: the schema file is larger than 16 MiB", path);
            return NULL;
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        cli_error("%s: cannot read the schema file", path);
        return NULL;
    }
    buf[len] = 0;
    if (strlen(buf) != len) {
        free(buf);
        cli_error("%s: the schema file holds a NUL byte", path);
        return NULL;
    }
    return buf;
}

/* Prints the end-of-run line. */
static void print_summary(const ingest *in, double seconds) {
    double rate = seconds > 0 ? (double)in->added / seconds : 0.0;
    fprintf(stderr, "trawl: indexed %llu document%s, skipped %llu, read %.2f MB in %.2f s (%.0f docs/s)\n",
            (unsigned long long)in->added, in->added == 1 ? "" : "s", (unsigned long long)in->skipped,
            (double)in->bytes / 1e6, seconds, rate);
}

static int run_index(const cli_command *cmd, int argc, char **argv) {
    index_args a = {0};
    size_t npos;
    int st = cli_parse(cmd, argc, argv, index_opts, sizeof index_opts / sizeof index_opts[0], on_option, &a, &npos);
    if (st != CLI_CONTINUE) return st;
    if (!a.output) return cli_usage_error(cmd, "the index directory is required (-o INDEX)");
    if ((st = cli_want_positionals(cmd, npos, 1, (size_t)argc)) != CLI_CONTINUE) return st;

    trawl_writer *w = NULL;
    char *errmsg = NULL;
    trawl_open_options *o;
    if ((st = cli_open_options(&o)) != CLI_CONTINUE) return st;
    if (a.schema) {
        char *text = read_schema(a.schema);
        trawl_rc src = text ? trawl_open_options_set_schema(o, text) : TRAWL_EIO;
        free(text);
        if (src != TRAWL_OK) {
            trawl_open_options_free(o);
            return src == TRAWL_EIO ? CLI_EXIT_ERROR : cli_lib_error(a.schema, src, NULL);
        }
    }
    trawl_rc rc = trawl_writer_open_v2(a.output, a.lang, o, &w, &errmsg);
    trawl_open_options_free(o);
    if (rc != TRAWL_OK) return cli_lib_error(a.output, rc, errmsg);
    trawl_free(errmsg);

    progress prog;
    progress_init(&prog, !a.quiet && isatty(STDERR_FILENO));
    ingest in;
    ingest_init(&in, w, a.strict, &prog);
    int failed = 0;
    for (size_t i = 1; i <= npos && !failed; i++) failed = ingest_input(&in, argv[i]) != 0;
    if (failed) {
        progress_clear(&prog);
        trawl_writer_close(w);
        return cli_error("nothing was committed to %s", a.output);
    }
    progress_status(&prog, "committing...");
    rc = trawl_writer_commit(w);
    progress_clear(&prog);
    if (rc != TRAWL_OK) {
        cli_error("%s: commit failed: %s", a.output,
                  trawl_writer_errmsg(w) && *trawl_writer_errmsg(w) ? trawl_writer_errmsg(w) : trawl_strerror(rc));
        trawl_writer_close(w);
        return CLI_EXIT_ERROR;
    }
    /* The commit is durable; the merge it started runs until here. */
    if (!a.quiet) progress_status(&prog, "merging...");
    if (trawl_writer_wait(w) != TRAWL_OK)
        fprintf(stderr, "trawl: %s: warning: %s (the commit is durable)\n", a.output, trawl_writer_errmsg(w));
    progress_clear(&prog);
    trawl_writer_close(w);
    if (!a.quiet) print_summary(&in, progress_elapsed(&prog));
    return CLI_EXIT_OK;
}

const cli_command cli_cmd_index = {
    "index",
    "add JSON Lines, text files or directories to an index",
    "usage: trawl index [--lang L] [--schema FILE] [--strict] [-q] -o INDEX INPUT...\n"
    "\n"
    "Adds documents to the index directory INDEX (created if needed) and commits\n"
    "them at the end, all at once. Each INPUT is:\n"
    "  -              JSON Lines read from standard input\n"
    "  a directory    every *.txt and *.md file below it (sorted, hidden entries\n"
    "                 skipped); id = path relative to the directory, title = first\n"
    "                 Markdown heading or else first non-empty line, body = the rest\n"
    "  FILE.txt/.md   one such text document, id = the file's name\n"
    "  any other file JSON Lines: one object a line with a non-empty string \"id\";\n"
    "                 every other field is indexed by its type in the schema\n"
    "\n"
    "A malformed line (or a value that does not fit its field's type) is reported\n"
    "as FILE:LINE: reason and skipped; blank lines are ignored. A document whose\n"
    "id is already indexed replaces it.\n"
    "\n"
    "Options:\n"
    "  -o, --output INDEX  the index directory (required)\n"
    "      --lang L        analysis language of a new index (default english;\n"
    "                      'none' disables stemming); must match an existing index\n"
    "      --schema FILE   field types of a new index (JSON: {\"fields\": {\"NAME\":\n"
    "                      \"text|keyword|text+keyword|date|number|none\"}, \"default\":\n"
    "                      \"text\"}); default: title, body text; date date; tags,\n"
    "                      source, author text+keyword; others text. An existing\n"
    "                      index keeps its schema (a different one is an error)\n"
    "      --strict        fail at the first malformed document or unreadable\n"
    "                      input (also inside a directory), committing nothing\n"
    "  -q, --quiet         no progress line and no summary\n"
    "  -h, --help          show this help\n",
    run_index,
};
