/*
 * jsonstr.c — JSON strings from text that may hold invalid UTF-8 (stored
 * fields, titles, snippets, messages): jansson refuses such bytes, so each
 * bad byte is replaced by U+FFFD, sequences judged by utf8proc.
 */
#include "jsonstr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

json_t *json_text(const char *s, size_t len) {
    if (!s) return json_null();
    json_t *v = json_stringn(s, len);
    if (v || len > (SIZE_MAX - 1) / 3) return v;
    char *buf = malloc(len * 3 + 1);
    if (!buf) return NULL;
    size_t o = 0;
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        size_t rest = len - i;
        utf8proc_ssize_t n = utf8proc_iterate(u + i, rest > 4 ? 4 : (utf8proc_ssize_t)rest, &cp);
        if (n <= 0) {
            memcpy(buf + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(buf + o, u + i, (size_t)n);
            o += (size_t)n;
            i += (size_t)n;
        }
    }
    v = json_stringn(buf, o);
    free(buf);
    return v;
}
