/*
 * varint.h — LEB128 variable-length integers and a growable byte buffer,
 * shared by the segment writer (encode) and reader (bounds-checked decode).
 */
#ifndef TW_VARINT_H
#define TW_VARINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Growable byte buffer. On allocation failure `oom` is set and later appends
 * are ignored (sticky error: check once at the end). */
typedef struct tw_buf {
    uint8_t *p;
    size_t len, cap;
    int oom;
} tw_buf;

/* Room for extra more bytes at b->len. 0 or TRAWL_ENOMEM (sets oom). */
static inline int tw_buf_reserve(tw_buf *b, size_t extra) {
    if (b->oom) return TRAWL_ENOMEM;
    if (b->cap - b->len >= extra) return 0;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap - b->len < extra) {
        if (ncap > SIZE_MAX / 2) {
            b->oom = 1;
            return TRAWL_ENOMEM;
        }
        ncap *= 2;
    }
    uint8_t *np = realloc(b->p, ncap);
    if (!np) {
        b->oom = 1;
        return TRAWL_ENOMEM;
    }
    b->p = np;
    b->cap = ncap;
    return 0;
}

static inline void tw_buf_put(tw_buf *b, const void *src, size_t n) {
    if (n == 0 || tw_buf_reserve(b, n)) return;
    // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): tw_buf_reserve gave room
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static inline void tw_buf_u8(tw_buf *b, uint8_t v) {
    tw_buf_put(b, &v, 1);
}

static inline void tw_buf_le32(tw_buf *b, uint32_t v) {
    uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    tw_buf_put(b, t, 4);
}

static inline void tw_buf_le64(tw_buf *b, uint64_t v) {
    tw_buf_le32(b, (uint32_t)v);
    tw_buf_le32(b, (uint32_t)(v >> 32));
}

static inline void tw_buf_varint(tw_buf *b, uint64_t v) {
    if (tw_buf_reserve(b, 10)) return;
    uint8_t *p = b->p + b->len;
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    b->len = (size_t)(p - b->p);
}

static inline void tw_buf_align(tw_buf *b, size_t a) {
    static const uint8_t zeros[16] = {0};
    while (!b->oom && b->len % a) tw_buf_put(b, zeros, a - b->len % a > 16 ? 16 : a - b->len % a);
}

static inline void tw_buf_free(tw_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Decodes a varint from *pp (not past end) into *v. Returns 0, or
 * TRAWL_ECORRUPT if the varint is truncated or longer than 64 bits. Advances *pp on success. */
static inline int tw_get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v) {
    const uint8_t *p = *pp;
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (p >= end) return TRAWL_ECORRUPT;
        uint8_t c = *p++;
        r |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) {
            if (shift == 63 && c > 1) return TRAWL_ECORRUPT;
            *pp = p;
            *v = r;
            return 0;
        }
    }
    return TRAWL_ECORRUPT;
}

/* Same for a value that must fit in 32 bits. */
static inline int tw_get_varint32(const uint8_t **pp, const uint8_t *end, uint32_t *v) {
    uint64_t x;
    if (tw_get_varint(pp, end, &x) || x > UINT32_MAX) return TRAWL_ECORRUPT;
    *v = (uint32_t)x;
    return 0;
}

#endif
