/*
 * shortkey.h — equality and hashing of short byte strings (terms, field
 * names), inline, for the hash tables of the write path: the analysis
 * threads' per-field tables and the accumulator's term table, where a
 * library call per token costs more than the work itself.
 */
#ifndef TW_SHORTKEY_H
#define TW_SHORTKEY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Are s[0..n) and t[0..n) equal? Reads no byte outside them. */
static inline int tw_same_bytes(const void *sp, const void *tp, size_t n) {
    const unsigned char *s = sp, *t = tp;
    if (n >= 8 && n <= 16) {
        uint64_t x, y, u, v;
        memcpy(&x, s, 8), memcpy(&y, t, 8), memcpy(&u, s + n - 8, 8), memcpy(&v, t + n - 8, 8);
        return ((x ^ y) | (u ^ v)) == 0;
    }
    if (n >= 4 && n < 8) {
        uint32_t a, b, c, d;
        memcpy(&a, s, 4), memcpy(&b, t, 4), memcpy(&c, s + n - 4, 4), memcpy(&d, t + n - 4, 4);
        return ((a ^ b) | (c ^ d)) == 0;
    }
    if (n < 4) {
        for (size_t i = 0; i < n; i++)
            if (s[i] != t[i]) return 0;
        return 1;
    }
    return memcmp(s, t, n) == 0;
}

static inline uint64_t tw_mix64(uint64_t h) {
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

/* A 64-bit hash of s[0..n) whose every bit depends on every byte (the
 * tables use the low bits as the slot and the high half as a tag). Not for
 * anything stored: it may change between versions. */
static inline uint64_t tw_hash_bytes(const void *sp, size_t n) {
    const unsigned char *s = sp;
    uint64_t h = 0x9E3779B97F4A7C15ull * (n + 1), w;
    while (n > 8) {
        memcpy(&w, s, 8);
        h = tw_mix64(h ^ w);
        s += 8;
        n -= 8;
    }
    /* The last 1..8 bytes (or none). */
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4), memcpy(&b, s + n - 4, 4);
        w = (uint64_t)a << 32 | b;
    } else {
        w = n ? (uint64_t)s[0] << 16 | (uint64_t)s[n / 2] << 8 | s[n - 1] : 0;
    }
    return tw_mix64(h ^ w);
}

#endif
