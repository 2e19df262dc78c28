/*
 * error.h — the library's one internal error scheme.
 *
 * Every internal function that can fail returns a trawl_rc value (TRAWL_OK, 0,
 * or one of the negative TRAWL_E* codes of include/trawl.h) — never a
 * file-local -1/-2 — or, when it returns a count or an index, that value when
 * >= 0 and a negative trawl_rc otherwise. A function that also explains a
 * failure takes a caller's buffer (char *err, size_t errcap) and fills it with
 * tw_err, the one message formatter, which returns the code so that a failure
 * is reported in one statement:
 *
 *     if (!p) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
 *
 * Handles (writer, results) keep such a buffer and clear it on success.
 */
#ifndef TW_ERROR_H
#define TW_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#include "trawl.h"

/* A static string naming rc (trawl_strerror's words; "unknown error" for a
 * value that is no trawl_rc). */
const char *tw_strerror(int rc);

/* Formats a printf-style message into buf (cut to cap bytes, always
 * NUL-terminated when cap > 0; nothing is written when buf is NULL or cap 0)
 * and returns rc. */
int tw_err(char *buf, size_t cap, trawl_rc rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* tw_err with the arguments of the format in ap. Returns rc. */
int tw_verr(char *buf, size_t cap, trawl_rc rc, const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/* tw_err for a problem found in a section of a file: the message reads
 * "<path>: <section> section: <message>". Returns rc. */
int tw_err_section(char *buf, size_t cap, trawl_rc rc, const char *path, const char *section, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Empties buf (the message of a handle whose last call succeeded). */
static inline void tw_err_clear(char *buf, size_t cap) {
    if (buf && cap) buf[0] = 0;
}

#endif
