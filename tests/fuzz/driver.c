/*
 * driver.c — a main() for fuzz targets when libFuzzer is not available.
 *
 * Every tests/fuzz/fuzz_*.c defines LLVMFuzzerTestOneInput. Linked with this
 * file (any compiler; see tests/CMakeLists.txt) it becomes a deterministic
 * smoke test for ctest: ~200,000 inputs made by seeded pseudo-random mutations
 * of the target's seeds. A target may give seeds by defining
 *
 *     int fuzz_seed(size_t i, const uint8_t **data, size_t *len);
 *
 * which returns 0 and points *data and *len at seed i, or -1 when i is past the
 * last seed (the driver declares it weak). The files of the target's committed
 * seed corpus, $TRAWL_SOURCE_DIR/tests/fuzz/corpus/NAME for the program
 * NAME_smoke, are seeds too (so every regression input there runs in ctest);
 * without any seed, generic ones are used.
 * Each input is passed in a malloc'd buffer of exactly its size, so that the
 * sanitizers catch reads past the end. A crash, a sanitizer report or an
 * abort() in the target fails the test; reproduce it with the same seed, find
 * the input with -d, and replay it with a file argument.
 *
 * Usage: fuzz_NAME_smoke [-n iterations] [-s seed] [-d dump_file] [file...]
 *   files       run the target once on each file's bytes, then exit
 *   -n N        iterations (default 200000, or env TRAWL_FUZZ_ITERATIONS)
 *   -s S        PRNG seed (default fixed, or env TRAWL_FUZZ_SEED)
 *   -d FILE     write every input to FILE before running it (slow; after a
 *               crash FILE holds the input that crashed)
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_seed(size_t i, const uint8_t **data, size_t *len) __attribute__((weak));

#define FUZZ_MAX_INPUT 65536 /* mutations never grow an input past this */
#define RESTART_ABOVE 8192   /* larger inputs are usually dropped for a fresh seed */
#define MAX_SEEDS 256

typedef struct input {
    uint8_t *p;
    size_t len;
} input;

typedef struct seeds {
    input s[MAX_SEEDS];
    int owned[MAX_SEEDS]; /* s[i].p is malloc'd (read from a file) */
    size_t n;
} seeds;

static uint64_t rnd(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t below(uint64_t *s, size_t n) {
    return n ? (size_t)(rnd(s) % n) : 0;
}

/* Makes room for n more bytes at offset at (shifting the tail); returns 0, or
 * -1 if the input would exceed FUZZ_MAX_INPUT. cur->p has FUZZ_MAX_INPUT bytes. */
static int open_gap(input *cur, size_t at, size_t n) {
    if (cur->len + n > FUZZ_MAX_INPUT) return -1;
    memmove(cur->p + at + n, cur->p + at, cur->len - at);
    cur->len += n;
    return 0;
}

/* Applies one random mutation to cur (whose buffer holds FUZZ_MAX_INPUT bytes). */
static void mutate(uint64_t *rs, input *cur, const seeds *sd) {
    static const uint8_t interesting[] = {0,   0xff, 0x7f, 0x80, ' ', '\t', '\n', '(', ')', '"', ':', '*',
                                          '-', '+',  '\\', '{',  '}', '[',  ']',  ',', '.', '0', '9', 'A'};
    static const uint64_t ints[] = {0,      1,      0x7f,       0x80,       0xff,       0x100,
                                    0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0xffffffffffffffffull};
    size_t at = below(rs, cur->len + 1), n, i;

    switch (below(rs, 11)) {
        case 0: /* flip a bit */
            if (cur->len) cur->p[at % cur->len] ^= (uint8_t)(1u << below(rs, 8));
            break;
        case 1: /* random byte */
            if (cur->len) cur->p[at % cur->len] = (uint8_t)rnd(rs);
            break;
        case 2: /* interesting byte */
            if (cur->len) cur->p[at % cur->len] = interesting[below(rs, sizeof interesting)];
            break;
        case 3: /* insert an interesting or random byte */
            if (open_gap(cur, at, 1) == 0)
                cur->p[at] = below(rs, 2) ? interesting[below(rs, sizeof interesting)] : (uint8_t)rnd(rs);
            break;
        case 4: /* delete a range */
            if (cur->len) {
                at %= cur->len;
                n = 1 + below(rs, below(rs, 2) ? 4 : cur->len - at);
                if (n > cur->len - at) n = cur->len - at;
                memmove(cur->p + at, cur->p + at + n, cur->len - at - n);
                cur->len -= n;
            }
            break;
        case 5: /* duplicate a range somewhere */
            if (cur->len) {
                size_t from = below(rs, cur->len);
                n = 1 + below(rs, cur->len - from);
                if (open_gap(cur, at, n) == 0)
                    for (i = 0; i < n; i++) /* source bytes at or after the gap moved right by n */
                        cur->p[at + i] = cur->p[from + i < at ? from + i : from + i + n];
            }
            break;
        case 6: /* splice in part of a seed */
            if (sd->n) {
                const input *s = &sd->s[below(rs, sd->n)];
                size_t from = below(rs, s->len + 1);
                n = below(rs, s->len - from + 1);
                if (open_gap(cur, at, n) == 0) memcpy(cur->p + at, s->p + from, n);
            }
            break;
        case 7: /* truncate */ cur->len = below(rs, cur->len + 1); break;
        case 8: { /* overwrite with a little-endian integer of 1, 2, 4 or 8 bytes */
            uint64_t v = ints[below(rs, sizeof ints / sizeof ints[0])];
            n = (size_t)1 << below(rs, 4);
            if (below(rs, 2)) v = v + 1 - 2 * (rnd(rs) & 1);
            if (cur->len >= n) {
                at = below(rs, cur->len - n + 1);
                for (i = 0; i < n; i++) cur->p[at + i] = (uint8_t)(v >> (8 * i));
            }
            break;
        }
        case 9: /* repeat the whole input (reaches size limits) */
            n = cur->len;
            for (i = 1 + below(rs, 8); i > 0 && n && open_gap(cur, cur->len, n) == 0; i--)
                memcpy(cur->p + cur->len - n, cur->p, n);
            break;
        default: /* swap two bytes */
            if (cur->len > 1) {
                size_t a = below(rs, cur->len), b = below(rs, cur->len);
                uint8_t t = cur->p[a];
                cur->p[a] = cur->p[b];
                cur->p[b] = t;
            }
            break;
    }
}

/* Runs the target on a fresh exact-size copy of data (dumped first if asked). */
static void run_one(const uint8_t *data, size_t len, const char *dump) {
    uint8_t *copy = malloc(len ? len : 1);

    if (!copy) {
        fprintf(stderr, "fuzz driver: out of memory\n");
        exit(2);
    }
    if (len) memcpy(copy, data, len);
    if (dump) {
        FILE *f = fopen(dump, "wb");
        if (f) {
            fwrite(data, 1, len, f);
            fclose(f);
        }
    }
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
}

/* Reads a whole file into a malloc'd buffer; returns 0 or -1. */
static int read_file(const char *path, uint8_t **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    size_t cap = 4096, n = 0, got;
    uint8_t *p = malloc(cap);

    if (!f || !p) {
        if (f) fclose(f);
        free(p);
        return -1;
    }
    while ((got = fread(p + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *q = realloc(p, cap * 2);
            if (!q) {
                free(p);
                fclose(f);
                return -1;
            }
            p = q;
            cap *= 2;
        }
    }
    fclose(f);
    *data = p;
    *len = n;
    return 0;
}

/* Adds every file of dir (the target's committed seed corpus, see
 * tests/fuzz/corpus/), in name order so runs repeat; a missing directory adds
 * nothing. */
static void corpus_seeds(seeds *sd, const char *dir) {
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort), k;

    for (k = 0; k < n; k++) {
        uint8_t *data = NULL;
        size_t len = 0;
        size_t plen = strlen(dir) + strlen(names[k]->d_name) + 2;
        char *path = malloc(plen);
        if (path && names[k]->d_name[0] != '.' && sd->n < MAX_SEEDS) {
            snprintf(path, plen, "%s/%s", dir, names[k]->d_name);
            if (read_file(path, &data, &len) == 0 && len <= FUZZ_MAX_INPUT) {
                sd->owned[sd->n] = 1;
                sd->s[sd->n].p = data;
                sd->s[sd->n++].len = len;
            } else {
                free(data); /* NULL when unreadable */
            }
        }
        free(path);
        free(names[k]);
    }
    free(names);
}

static void collect_seeds(seeds *sd, const char *argv0) {
    static const char *const generic[] = {"", "a", "{\"a\": [1, 2.5, \"x\"]}", "hello world", "\x00\x01\xff"};
    const uint8_t *data;
    size_t len, i;

    const char *src = getenv("TRAWL_SOURCE_DIR"), *base = strrchr(argv0, '/');
    char dir[4096];
    size_t n;

    sd->n = 0;
    /* The seed corpus of this target: TRAWL_SOURCE_DIR/tests/fuzz/corpus/NAME
     * for a program NAME_smoke (so committed regression inputs run here too). */
    base = base ? base + 1 : argv0;
    n = strlen(base);
    if (src && n > 6 && strcmp(base + n - 6, "_smoke") == 0) {
        snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%.*s", src, (int)(n - 6), base);
        corpus_seeds(sd, dir);
    }
    if (fuzz_seed)
        for (i = 0; sd->n < MAX_SEEDS && fuzz_seed(i, &data, &len) == 0; i++) {
            sd->s[sd->n].p = (uint8_t *)data;
            sd->s[sd->n++].len = len;
        }
    if (sd->n == 0)
        for (i = 0; i < sizeof generic / sizeof generic[0]; i++) {
            sd->s[sd->n].p = (uint8_t *)generic[i];
            sd->s[sd->n++].len = i == 4 ? 3 : strlen(generic[i]);
        }
}

int main(int argc, char **argv) {
    const char *env_n = getenv("TRAWL_FUZZ_ITERATIONS"), *env_s = getenv("TRAWL_FUZZ_SEED");
    unsigned long long iterations = env_n ? strtoull(env_n, NULL, 0) : 200000;
    uint64_t seed = env_s ? strtoull(env_s, NULL, 0) : 0x7261776cull;
    const char *dump = NULL;
    seeds *sd = calloc(1, sizeof *sd);
    input cur;
    unsigned long long it;
    size_t longest = 0, i;
    int a, nfiles = 0;

    if (!sd) return 2;
    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "-n") == 0 && a + 1 < argc)
            iterations = strtoull(argv[++a], NULL, 0);
        else if (strcmp(argv[a], "-s") == 0 && a + 1 < argc)
            seed = strtoull(argv[++a], NULL, 0);
        else if (strcmp(argv[a], "-d") == 0 && a + 1 < argc)
            dump = argv[++a];
        else if (argv[a][0] == '-') {
            fprintf(stderr, "usage: %s [-n iterations] [-s seed] [-d dump_file] [file...]\n", argv[0]);
            return 2;
        }
    }
    for (a = 1; a < argc; a++) { /* replay mode */
        uint8_t *data;
        size_t len;
        if (argv[a][0] == '-') {
            a++;
            continue;
        }
        if (read_file(argv[a], &data, &len)) {
            fprintf(stderr, "cannot read %s\n", argv[a]);
            return 2;
        }
        run_one(data, len, NULL);
        free(data);
        printf("ran %s (%zu bytes)\n", argv[a], len);
        nfiles++;
    }
    if (nfiles) {
        free(sd);
        return 0;
    }

    collect_seeds(sd, argv[0]);
    cur.p = malloc(FUZZ_MAX_INPUT);
    cur.len = 0;
    if (!cur.p) return 2;
    for (i = 0; i < sd->n; i++) /* every seed as it is, first */
        run_one(sd->s[i].p, sd->s[i].len, dump);
    for (it = 0; it < iterations; it++) {
        size_t m;
        if (it % 8 == 0 || (cur.len > RESTART_ABOVE && below(&seed, 4))) {
            const input *s = &sd->s[below(&seed, sd->n)];
            memcpy(cur.p, s->p, s->len < FUZZ_MAX_INPUT ? s->len : FUZZ_MAX_INPUT);
            cur.len = s->len < FUZZ_MAX_INPUT ? s->len : FUZZ_MAX_INPUT;
        }
        for (m = 1 + below(&seed, 4); m > 0; m--) mutate(&seed, &cur, sd);
        if (cur.len > longest) longest = cur.len;
        run_one(cur.p, cur.len, dump);
    }
    printf("fuzz smoke: %llu inputs from %zu seeds, longest %zu bytes: no crash\n", iterations, sd->n, longest);
    free(cur.p);
    for (i = 0; i < sd->n; i++)
        if (sd->owned[i]) free(sd->s[i].p);
    free(sd);
    return 0;
}
