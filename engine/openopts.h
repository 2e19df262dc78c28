/*
 * openopts.h — the layout of trawl_open_options (opaque in the public API)
 * and what the writer and the index read from it: the settings a program
 * gives when it opens a writer or an index. The library takes them from here
 * only, never from the environment.
 */
#ifndef TW_OPENOPTS_H
#define TW_OPENOPTS_H

#include <stddef.h>

#include "kernels.h"
#include "trawl.h"

#define TW_MAX_WRITER_THREADS 8u
#define TW_DEFAULT_RAM_MB 256u
#define TW_MAX_RAM_MB ((size_t)1 << 20)

struct trawl_open_options {
    int threads;   /* analysis threads; -1: one per online CPU when there are two or more */
    size_t ram_mb; /* writer memory budget in MiB */
    int simd;      /* a tw_simd_level, or -1 for the best the CPU has */
    char *schema;  /* schema file text for a new index (owned), or NULL for the default */
};

/* The writer's analysis threads under o (NULL: defaults): o's count capped at
 * TW_MAX_WRITER_THREADS, or by default one per online CPU when there are two
 * or more (none on one CPU), at most TW_MAX_WRITER_THREADS. */
unsigned tw_open_threads(const trawl_open_options *o);

/* The writer's memory budget in bytes under o (NULL: TW_DEFAULT_RAM_MB MiB). */
size_t tw_open_ram_bytes(const trawl_open_options *o);

/* The SIMD level an index opened under o uses (NULL: tw_simd_best()); its
 * kernels are tw_kernels_get of it. */
tw_simd_level tw_open_simd(const trawl_open_options *o);

#endif
