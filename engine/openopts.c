/*
 * openopts.c — trawl_open_options: threads, memory budget and SIMD level
 * given when a writer or an index is opened (contract in include/trawl.h and
 * openopts.h).
 */
#include "openopts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

trawl_open_options *trawl_open_options_new(void) {
    trawl_open_options *o = malloc(sizeof *o);
    if (!o) return NULL;
    o->threads = -1;
    o->ram_mb = TW_DEFAULT_RAM_MB;
    o->simd = -1;
    o->schema = NULL;
    return o;
}

void trawl_open_options_free(trawl_open_options *o) {
    if (o) free(o->schema);
    free(o);
}

trawl_rc trawl_open_options_set_schema(trawl_open_options *o, const char *schema_json) {
    if (!o) return TRAWL_EINVAL;
    char *c = schema_json ? strdup(schema_json) : NULL;
    if (schema_json && !c) return TRAWL_ENOMEM;
    free(o->schema);
    o->schema = c;
    return TRAWL_OK;
}

trawl_rc trawl_open_options_set_threads(trawl_open_options *o, int n) {
    if (!o || n < -1) return TRAWL_EINVAL;
    o->threads = n;
    return TRAWL_OK;
}

trawl_rc trawl_open_options_set_ram_mb(trawl_open_options *o, size_t mb) {
    if (!o || mb < 1 || mb > TW_MAX_RAM_MB) return TRAWL_EINVAL;
    o->ram_mb = mb;
    return TRAWL_OK;
}

/* Is s "auto" in any ASCII case? */
static int is_auto(const char *s) {
    static const char want[] = "auto";
    for (size_t i = 0; i < sizeof want; i++) {
        char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        if (c != want[i]) return 0;
    }
    return 1;
}

trawl_rc trawl_open_options_set_simd(trawl_open_options *o, const char *level) {
    tw_simd_level l;
    if (!o || tw_simd_parse(level, &l) != 0) return TRAWL_EINVAL;
    o->simd = is_auto(level) ? -1 : (int)l;
    return TRAWL_OK;
}

unsigned tw_open_threads(const trawl_open_options *o) {
    if (o && o->threads >= 0)
        return (unsigned)o->threads > TW_MAX_WRITER_THREADS ? TW_MAX_WRITER_THREADS : (unsigned)o->threads;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 2) return 0;
    return ncpu > (long)TW_MAX_WRITER_THREADS ? TW_MAX_WRITER_THREADS : (unsigned)ncpu;
}

size_t tw_open_ram_bytes(const trawl_open_options *o) {
    size_t mb = o ? o->ram_mb : TW_DEFAULT_RAM_MB;
    return mb > SIZE_MAX >> 20 ? SIZE_MAX : mb << 20; /* a 32-bit size_t holds less than 1 TiB */
}

tw_simd_level tw_open_simd(const trawl_open_options *o) {
    return o && o->simd >= 0 ? (tw_simd_level)o->simd : tw_simd_best();
}
