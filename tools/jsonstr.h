/*
 * jsonstr.h — JSON strings from text that may hold invalid UTF-8, shared by
 * the command line and `trawl serve`.
 */
#ifndef TRAWL_JSONSTR_H
#define TRAWL_JSONSTR_H

#include <jansson.h>
#include <stddef.h>

/* A new JSON string of s[0..len): JSON null for s == NULL; each byte that does
 * not start a valid UTF-8 sequence (utf8proc's rules) becomes U+FFFD. NULL
 * when out of memory. */
json_t *json_text(const char *s, size_t len);

#endif
