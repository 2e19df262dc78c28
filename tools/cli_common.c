/*
 * cli_common.c — helpers shared by the `trawl` subcommands: error reporting in
 * one format ("trawl: message" on stderr), language validation, opening an
 * index, and JSON output that never fails on odd bytes (invalid UTF-8 is
 * replaced, not dropped).
 */
#include "cli.h"
#include "jsonstr.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_error(const char *fmt, ...) {
    va_list ap;
    fputs("trawl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EXIT_ERROR;
}

int cli_lib_error(const char *what, int rc, char *errmsg) {
    const char *msg = errmsg && *errmsg ? errmsg : trawl_strerror(rc);
    /* Library messages often name the file already. */
    if (what && !strstr(msg, what))
        cli_error("%s: %s", what, msg);
    else
        cli_error("%s", msg);
    trawl_free(errmsg);
    return CLI_EXIT_ERROR;
}

int cli_check_lang(const cli_command *cmd, const char *lang) {
    const char *const *langs = trawl_languages();
    for (size_t i = 0; langs && langs[i]; i++)
        if (strcmp(langs[i], lang) == 0) return CLI_CONTINUE;
    fprintf(stderr, "trawl %s: unknown language '%s'; known:", cmd->name, lang);
    for (size_t i = 0; langs && langs[i]; i++) fprintf(stderr, " %s", langs[i]);
    fprintf(stderr, "\n\n%s", cmd->usage);
    return CLI_EXIT_USAGE;
}

int cli_open_index(const char *dir, trawl_index **out) {
    char *errmsg = NULL;
    trawl_open_options *o;
    *out = NULL;
    int st = cli_open_options(&o);
    if (st != CLI_CONTINUE) return st;
    trawl_rc rc = trawl_index_open_v2(dir, o, out, &errmsg);
    trawl_open_options_free(o);
    if (rc != TRAWL_OK) {
        *out = NULL;
        return cli_lib_error(dir, rc, errmsg);
    }
    trawl_free(errmsg);
    return CLI_CONTINUE;
}

json_t *cli_json_stringn(const char *s, size_t len) {
    return json_text(s, len);
}

json_t *cli_json_string(const char *s) {
    return cli_json_stringn(s, s ? strlen(s) : 0);
}

int cli_json_print(const json_t *v, int indent) {
    size_t flags = indent > 0 ? JSON_INDENT(indent) : JSON_COMPACT;
    if (json_dumpf(v, stdout, flags) != 0 || fputc('\n', stdout) == EOF) return -1;
    return 0;
}

void cli_print_indented(FILE *out, const char *s, int indent) {
    int at_line_start = 1;
    for (; *s; s++) {
        if (at_line_start) {
            fprintf(out, "%*s", indent, "");
            at_line_start = 0;
        }
        fputc(*s, out);
        if (*s == '\n') at_line_start = 1;
    }
    if (!at_line_start) fputc('\n', out);
}
