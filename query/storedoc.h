/*
 * storedoc.h — the texts a hit shows, read from its stored document: the
 * title and the text its snippet is made from.
 */
#ifndef TW_STOREDOC_H
#define TW_STOREDOC_H

#include <stddef.h>

/* From the stored document json[0..len) (a JSON object text), the value of
 * its "title" key when that is a string (else "") into *title, and the text
 * to make the snippet from into *body (*body_len bytes; NULL when there is
 * none): the "body" string, else the first string-valued key other than "id"
 * and "title", in document order. Both malloc'd (NUL-terminated).
 * The answer is exactly that of jansson's json_loadb(json, len, 0) followed
 * by those lookups (a text jansson refuses gives "" and NULL): ordinary
 * documents are streamed through yajl without building a tree, and anything
 * yajl might judge differently (a \u escape, a parse error, a repeated
 * top-level key, deep nesting) is decided by jansson. Returns 0 or
 * TRAWL_ENOMEM. */
int tw_storedoc_texts(const char *json, size_t len, char **title, char **body, size_t *body_len);

#endif
