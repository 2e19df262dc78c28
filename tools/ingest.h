/*
 * ingest.h — turns the inputs of `trawl index` into documents for a writer.
 *
 * Three kinds of input: JSON Lines (a file, a pipe, or "-" for stdin: one JSON
 * object a line, handed to trawl_writer_add_json), a single text document (a
 * file named *.txt or *.md: title from its first heading or first non-empty
 * line, body the rest, id the file's base name), and a directory (walked
 * recursively in byte-sorted order, hidden entries skipped; every *.txt / *.md
 * file inside becomes a text document whose id is its path relative to the
 * directory). Documents the library rejects as malformed are reported as
 * "FILE:LINE: reason" (or "FILE: reason") on stderr and skipped, or, in strict
 * mode, end the run.
 */
#ifndef TRAWL_INGEST_H
#define TRAWL_INGEST_H

#include <stdint.h>

#include "progress.h"
#include "trawl.h"

typedef struct ingest {
    trawl_writer *writer; /* borrowed */
    int strict;           /* the first malformed document fails the run */
    progress *prog;       /* borrowed; may be disabled but not NULL */
    uint64_t added;       /* documents the writer accepted */
    uint64_t skipped;     /* malformed lines and unreadable or rejected files */
    uint64_t bytes;       /* input bytes read */
} ingest;

/* Sets up an ingest over writer w. */
void ingest_init(ingest *in, trawl_writer *w, int strict, progress *prog);

/* Reads one input named on the command line ("-", a directory, a text file or a
 * JSON Lines file) into the writer. Returns 0 when the run may go on (skipped
 * documents included), -1 when it must fail: a strict-mode rejection, an input
 * that cannot be read, or a library failure other than a malformed document.
 * Every problem is reported on stderr before returning. */
int ingest_input(ingest *in, const char *path);

/* Is name a text-document file name (ends in .txt or .md, any case)? */
int ingest_is_text_name(const char *name);

#endif
