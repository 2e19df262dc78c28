/*
 * textdoc.c — title/body split of a text or Markdown document (see textdoc.h).
 * Works on byte ranges of the file's text; copies only when the title line
 * sits in the middle of the text and the body must be pieced together.
 */
#include "textdoc.h"

#include <stdlib.h>
#include <string.h>

static int is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims blanks from both ends of [*s, *e). */
static void trim(const char **s, const char **e) {
    while (*s < *e && is_blank(**s)) (*s)++;
    while (*e > *s && is_blank((*e)[-1])) (*e)--;
}

/* If the line [s, e) is an ATX heading with non-empty text, stores that text
 * in [*ts, *te) and returns 1; returns 0 otherwise. */
static int heading_text(const char *s, const char *e, const char **ts, const char **te) {
    int indent = 0;
    while (s < e && *s == ' ' && indent < 3) {
        s++;
        indent++;
    }
    int hashes = 0;
    while (s < e && *s == '#') {
        s++;
        hashes++;
    }
    if (hashes < 1 || hashes > 6 || (s < e && *s != ' ' && *s != '\t' && *s != '\r')) return 0;
    trim(&s, &e);
    /* A closing sequence: blanks, then '#'s, at the end of the line. */
    const char *c = e;
    while (c > s && c[-1] == '#') c--;
    if (c < e && (c == s || c[-1] == ' ' || c[-1] == '\t')) {
        e = c;
        trim(&s, &e);
    }
    if (s == e) return 0;
    *ts = s;
    *te = e;
    return 1;
}

/* The end of the line starting at s (the '\n' or end). */
static const char *line_end(const char *s, const char *end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    return nl ? nl : end;
}

int textdoc_parse(const char *text, size_t len, textdoc *doc) {
    memset(doc, 0, sizeof *doc);
    const char *begin = text, *end = text + len;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) begin += 3;

    /* Find the title line: the first heading, else the first non-blank line. */
    const char *line_s = NULL, *line_e = NULL; /* the title line, without '\n' */
    const char *ts = NULL, *te = NULL;         /* its title text */
    const char *first_s = NULL, *first_e = NULL;
    for (const char *s = begin; s < end;) {
        const char *e = line_end(s, end);
        if (heading_text(s, e, &ts, &te)) {
            line_s = s;
            line_e = e;
            break;
        }
        if (!first_s) {
            const char *a = s, *b = e;
            trim(&a, &b);
            if (a < b) {
                first_s = s;
                first_e = e;
            }
        }
        s = e < end ? e + 1 : end;
    }
    if (!line_s && first_s) {
        line_s = first_s;
        line_e = first_e;
        ts = first_s;
        te = first_e;
        trim(&ts, &te);
    }
    if (!line_s) { /* nothing but blanks */
        doc->title = begin;
        doc->body = begin;
        doc->body_len = (size_t)(end - begin);
        return 0;
    }
    doc->title = ts;
    doc->title_len = (size_t)(te - ts);

    /* The body: what precedes the title line plus what follows it. */
    const char *after = line_e < end ? line_e + 1 : end;
    int pre_blank = 1;
    for (const char *p = begin; p < line_s; p++)
        if (!is_blank(*p) && *p != '\n') pre_blank = 0;
    if (pre_blank) {
        doc->body = after;
        doc->body_len = (size_t)(end - after);
        return 0;
    }
    size_t pre_len = (size_t)(line_s - begin), post_len = (size_t)(end - after);
    doc->owned = malloc(pre_len + post_len + 1);
    if (!doc->owned) return -1;
    memcpy(doc->owned, begin, pre_len);
    memcpy(doc->owned + pre_len, after, post_len);
    doc->body = doc->owned;
    doc->body_len = pre_len + post_len;
    return 0;
}

void textdoc_free(textdoc *doc) {
    free(doc->owned);
    memset(doc, 0, sizeof *doc);
}
