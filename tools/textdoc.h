/*
 * textdoc.h — splits a plain-text or Markdown file into the title and body
 * fields of one document, for `trawl index` on *.txt / *.md files.
 *
 * The title is the text of the first Markdown ATX heading (a line of 1 to 6
 * '#' then a space, up to 3 spaces of indentation; the '#'s, a closing '#'
 * sequence and the surrounding blanks removed), or, when the file has no
 * heading, its first non-blank line, trimmed. The body is the whole file
 * without the title line. A leading UTF-8 byte order mark is ignored.
 */
#ifndef TRAWL_TEXTDOC_H
#define TRAWL_TEXTDOC_H

#include <stddef.h>

typedef struct textdoc {
    const char *title; /* points into the parsed text; not NUL-terminated */
    size_t title_len;
    const char *body; /* into the parsed text, or into owned */
    size_t body_len;
    char *owned; /* malloc'd body when it had to be pieced together */
} textdoc;

/* Splits text[0..len) into *doc, which borrows text (keep it alive while doc
 * is used). Returns 0, or -1 when out of memory. Free with textdoc_free. */
int textdoc_parse(const char *text, size_t len, textdoc *doc);

/* Frees what textdoc_parse allocated; doc may be zeroed or parsed. */
void textdoc_free(textdoc *doc);

#endif
