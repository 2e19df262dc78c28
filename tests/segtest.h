/*
 * segtest.h — helpers for tests that damage segment files on purpose: store a
 * little-endian u64, and re-seal a file (recompute every section checksum the
 * section table describes, and the footer's) so that structural damage gets
 * past the checksums and reaches the decoders.
 */
#ifndef TW_SEGTEST_H
#define TW_SEGTEST_H

#include <stdint.h>
#include <stdlib.h>
#include <xxhash.h>

#include "segment.h"

static inline void st64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Recomputes, in place, every checksum the table's entries describe (where
 * they lie inside the file) and the footer's checksum of header + table. A
 * file too damaged to find its table is left as it is. */
static inline void reseal(uint8_t *p, size_t len) {
    if (len < TW_HEADER_SIZE + TW_FOOTER_SIZE) return;
    uint64_t table_off = tw_ld64(p + len - TW_FOOTER_SIZE);
    size_t tsize = (size_t)(TW_SEC_COUNT - 1) * TW_SECTION_ENTRY;
    if (table_off < TW_HEADER_SIZE || table_off > len - TW_FOOTER_SIZE || len - TW_FOOTER_SIZE - table_off != tsize)
        return;
    for (unsigned i = 0; i < TW_SEC_COUNT - 1; i++) {
        uint8_t *e = p + table_off + (size_t)i * TW_SECTION_ENTRY;
        uint64_t off = tw_ld64(e + 8), l = tw_ld64(e + 16);
        if (off <= len && l <= len - off) st64(e + 24, XXH3_64bits(p + off, (size_t)l));
    }
    XXH3_state_t *xs = XXH3_createState();
    if (!xs) exit(2);
    XXH3_64bits_reset(xs);
    XXH3_64bits_update(xs, p, TW_HEADER_SIZE);
    XXH3_64bits_update(xs, p + table_off, tsize);
    st64(p + len - TW_FOOTER_SIZE + 16, XXH3_64bits_digest(xs));
    XXH3_freeState(xs);
}

#endif
