/*
 * progress.h — the progress line `trawl index` draws on a terminal.
 *
 * One line on stderr, redrawn in place at most ten times a second: the input
 * being read, the percentage of its bytes read (when its size is known), a bar,
 * and running totals. Disabled (every call a no-op but the clock) when stderr
 * is not a terminal. Anything else written to stderr must call progress_clear
 * first so that messages never mix with the bar.
 */
#ifndef TRAWL_PROGRESS_H
#define TRAWL_PROGRESS_H

#include <stdint.h>
#include <time.h>

typedef struct progress {
    int enabled;           /* drawing at all (stderr is a terminal) */
    int drawn;             /* a line is on screen now */
    struct timespec start; /* when progress_init ran */
    double last_draw;      /* seconds since start of the last redraw */
    const char *label;     /* current input's name (borrowed) */
    uint64_t input_base;   /* total bytes read when the current input began */
    uint64_t input_size;   /* bytes in the current input, 0 = unknown */
} progress;

/* Starts the clock; draws only if enabled is non-zero. */
void progress_init(progress *p, int enabled);

/* Names the input now being read (label is borrowed until the next call),
 * its size in bytes (0 if unknown) and the bytes read before it. */
void progress_begin_input(progress *p, const char *label, uint64_t size, uint64_t bytes_so_far);

/* Reports the running totals; redraws if the last redraw is >= 0.1 s old. */
void progress_update(progress *p, uint64_t bytes_so_far, uint64_t docs);

/* Replaces the line with a status text (e.g. "committing...") until the next
 * update or clear; does nothing when disabled. */
void progress_status(progress *p, const char *text);

/* Erases the line if one is drawn. */
void progress_clear(progress *p);

/* Seconds since progress_init. */
double progress_elapsed(const progress *p);

#endif
