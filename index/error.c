/*
 * error.c — the one formatter of error messages (contract in error.h).
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

/* Writes "<path>: <section> section: " when path is not NULL, then the
 * formatted message, into buf. */
static void vformat(char *buf, size_t cap, const char *path, const char *section, const char *fmt, va_list ap) {
    if (!buf || !cap) return;
    int n = path ? snprintf(buf, cap, "%s: %s section: ", path, section ? section : "?") : 0;
    if (n < 0) {
        buf[0] = 0;
        return;
    }
    if ((size_t)n >= cap) return; /* the prefix alone fills buf (cut by snprintf) */
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): ap is started by every caller (tw_err, tw_err_section) or is theirs (tw_verr)
    if (vsnprintf(buf + n, cap - (size_t)n, fmt, ap) < 0) buf[n] = 0;
}

const char *tw_strerror(int rc) {
    switch (rc) {
#define TW_RC_CASE_(name, value, msg)                                                                                  \
    case value: return msg;
        TRAWL_ERRORS(TW_RC_CASE_)
#undef TW_RC_CASE_
    }
    return "unknown error";
}

int tw_err(char *buf, size_t cap, trawl_rc rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vformat(buf, cap, NULL, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int tw_verr(char *buf, size_t cap, trawl_rc rc, const char *fmt, va_list ap) {
    vformat(buf, cap, NULL, NULL, fmt, ap);
    return rc;
}

int tw_err_section(char *buf, size_t cap, trawl_rc rc, const char *path, const char *section, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vformat(buf, cap, path ? path : "?", section, fmt, ap);
    va_end(ap);
    return rc;
}
