/*
 * compat.h — the one place for compiler-specific attributes.
 *
 * trawl builds with GCC (12+) and Clang (14+). Both accept the GNU attribute
 * syntax but not the same attributes: GCC's optimize("...") is unknown to
 * Clang (an error under -Werror), and the x86 target attributes exist only on
 * x86-64. Library code and tests use these macros instead of writing
 * __attribute__ directly, so that a new compiler or architecture needs changes
 * here only. GCC/Clang builtins common to both (__builtin_popcountll,
 * __builtin_ctzll, __builtin_prefetch, __builtin_cpu_supports) are used
 * directly.
 *
 *   TW_TARGET_ISA("avx2,popcnt")  compile one function for an instruction set
 *                                 (x86-64 only; the caller checks the CPU)
 *   TW_TARGET_CLONES(...)         compile a function once per listed target and
 *                                 pick one at load time (x86-64 GNU/Linux);
 *                                 empty elsewhere
 *   TW_VECTORIZE                  ask for loop vectorization of one function
 *                                 (GCC's -ftree-vectorize; Clang vectorizes at
 *                                 -O2 already, so nothing there)
 *   TW_PRINTF_FMT(f, a)           printf-style format check: argument f is the
 *                                 format, a the first variadic argument
 *   TW_UNUSED                     a static function or variable that some
 *                                 translation units do not use
 *   TW_LIKELY(x) / TW_UNLIKELY(x) branch hints
 */
#ifndef TW_COMPAT_H
#define TW_COMPAT_H

#if !defined(__GNUC__)
#error "trawl needs GCC or Clang (GNU C attributes and builtins)"
#endif

#if defined(__x86_64__)
#define TW_TARGET_ISA(isa) __attribute__((target(isa)))
#else
#define TW_TARGET_ISA(isa)
#endif

/* target_clones needs ifunc support (glibc) and, for Clang, version 14. Not
 * under ThreadSanitizer: an ifunc resolver runs before its runtime is up. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TW_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define TW_TSAN 1
#endif
#if defined(__x86_64__) && defined(__linux__) && (!defined(__clang__) || __clang_major__ >= 14) && !defined(TW_TSAN)
#define TW_TARGET_CLONES(...) __attribute__((target_clones(__VA_ARGS__)))
#else
#define TW_TARGET_CLONES(...)
#endif

#if defined(__clang__)
#define TW_VECTORIZE
#else
#define TW_VECTORIZE __attribute__((optimize("tree-vectorize")))
#endif

#define TW_PRINTF_FMT(f, a) __attribute__((format(printf, f, a)))
#define TW_UNUSED __attribute__((unused))
#define TW_LIKELY(x) __builtin_expect(!!(x), 1)
#define TW_UNLIKELY(x) __builtin_expect(!!(x), 0)

#endif
