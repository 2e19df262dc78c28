/*
 * segwriter.h — writes an accumulator out as one segment file (format in
 * docs/FORMAT.md; constants in segment.h).
 */
#ifndef TW_SEGWRITER_H
#define TW_SEGWRITER_H

#include <stddef.h>
#include <stdint.h>

#include "accum.h"
#include "segment.h"
#include "typedacc.h"

typedef struct tw_seg_summary {
    uint64_t bytes, docs, terms, postings;
    uint64_t section_bytes[TW_SEC_COUNT];
} tw_seg_summary;

/* Writes a's documents to a new file at path (which must not exist), fsyncs
 * it, and fills *sum (may be NULL). typed holds their typed values (NULL:
 * none); lang and schema (the schema's canonical JSON, tw_schema_print) are
 * recorded in the segment's META. Returns 0
 * or a trawl_rc with a message in err; on failure no file is left behind.
 * Uses helper threads (up to one per online CPU, joined before it returns);
 * a is only read. The bytes written do not depend on the number of threads. */
int tw_segment_write(const tw_accum *a, const tw_tacc *typed, const char *lang, const char *schema, const char *path,
                     tw_seg_summary *sum, char *err, size_t errcap);

#endif
