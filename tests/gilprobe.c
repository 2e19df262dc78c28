/*
 * gilprobe.c — a test shim for the Python binding's thread tests
 * (bindings/python/tests/test_threads.py), preloaded (LD_PRELOAD) into a
 * python3 process. It interposes clock_gettime (trawl_search calls it to time
 * the search) and fsync (a commit calls it), and when the caller is code of
 * libtrawl it records whether the calling thread held the Python GIL at that
 * moment (PyGILState_Check, found in the process). The test so knows, without
 * any timing, whether a library call ran with or without the GIL.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Built with hidden visibility by default, like the library: what the
 * process must see is exported explicitly. */
#define PROBE_API __attribute__((visibility("default")))

static atomic_long held_calls, free_calls;

/* Counts a call of libtrawl (ret: the caller's return address) as made with
 * or without the GIL; ignores every other caller. */
static void probe(void *ret) {
    Dl_info info;
    if (!dladdr(ret, &info) || !info.dli_fname || !strstr(info.dli_fname, "libtrawl.so")) return;
    int (*check)(void);
    *(void **)&check = dlsym(RTLD_DEFAULT, "PyGILState_Check");
    if (!check) return;
    if (check())
        atomic_fetch_add(&held_calls, 1);
    else
        atomic_fetch_add(&free_calls, 1);
}

PROBE_API int clock_gettime(clockid_t id, struct timespec *ts) {
    int (*real)(clockid_t, struct timespec *);
    *(void **)&real = dlsym(RTLD_NEXT, "clock_gettime");
    probe(__builtin_return_address(0));
    return real(id, ts);
}

PROBE_API int fsync(int fd) {
    int (*real)(int);
    *(void **)&real = dlsym(RTLD_NEXT, "fsync");
    probe(__builtin_return_address(0));
    return real(fd);
}

/* For the test (through ctypes): calls of libtrawl seen with the GIL held,
 * and without it, since the last reset. */
PROBE_API long gilprobe_held(void);
PROBE_API long gilprobe_free(void);
PROBE_API void gilprobe_reset(void);

long gilprobe_held(void) {
    return atomic_load(&held_calls);
}

long gilprobe_free(void) {
    return atomic_load(&free_calls);
}

void gilprobe_reset(void) {
    atomic_store(&held_calls, 0);
    atomic_store(&free_calls, 0);
}
