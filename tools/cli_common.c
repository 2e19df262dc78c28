/*
 * cli_common.c — helpers shared by the `trawl` subcommands: error reporting in
 * one format ("trawl: message" on stderr), language validation, opening an
 * index, and JSON output that never fails on odd bytes (invalid UTF-8 is
 * replaced, not dropped).
 */
#include "cli.h"

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

/* Length of the valid UTF-8 sequence at s[0..len) (1..4), or 0 if the bytes
 * there do not start one (bad lead, truncated, overlong, surrogate, > U+10FFFF). */
static size_t utf8_seq_len(const unsigned char *s, size_t len) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

json_t *cli_json_stringn(const char *s, size_t len) {
    if (!s) return json_null();
    json_t *v = json_stringn(s, len);
    if (v) return v;
    /* Invalid UTF-8 (or NUL bytes, which jansson accepts with stringn, so
     * this is only bad sequences): replace each bad byte by U+FFFD. */
    if (len > (SIZE_MAX - 1) / 3) return NULL;
    char *buf = malloc(len * 3 + 1);
    if (!buf) return NULL;
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq_len(u + i, len - i);
        if (n == 0) {
            memcpy(buf + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(buf + o, u + i, n);
            o += n;
            i += n;
        }
    }
    v = json_stringn(buf, o);
    free(buf);
    return v;
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
