/*
 * dirwalk.c — deterministic recursive listing of a directory tree (see
 * dirwalk.h): each directory's names are read, sorted with strcmp, then
 * visited depth-first.
 */
#include "dirwalk.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A malloc'd "a/b" (or "b" when a is empty; no doubled '/'), or NULL. */
static char *join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    int slash = la > 0 && a[la - 1] != '/';
    char *s = malloc(la + (size_t)slash + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    if (slash) s[la] = '/';
    memcpy(s + la + (size_t)slash, b, lb + 1);
    return s;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* Reads the visible entry names of dir into a sorted malloc'd array. Returns
 * 0, -1 when dir cannot be read (errno set), -2 when out of memory. */
static int read_names(const char *dir, char ***out, size_t *nout) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno != 0) rc = -1;
            break;
        }
        if (de->d_name[0] == '.') continue; /* ".", ".." and hidden entries */
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **grown = realloc(names, ncap * sizeof *grown);
            if (!grown) {
                rc = -2;
                break;
            }
            names = grown;
            cap = ncap;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = -2;
            break;
        }
        n++;
    }
    int saved = errno;
    closedir(d);
    if (rc != 0) {
        free_names(names, n);
        errno = saved;
        return rc;
    }
    if (n > 1) qsort(names, n, sizeof *names, cmp_names);
    *out = names;
    *nout = n;
    return 0;
}

/* Appends a file to the list; takes ownership of rel and path. -1 when out of memory. */
static int push(dirwalk_list *list, char *rel, char *path, uint64_t size) {
    if (list->n == list->cap) {
        size_t ncap = list->cap ? list->cap * 2 : 64;
        dirwalk_file *grown = realloc(list->files, ncap * sizeof *grown);
        if (!grown) return -1;
        list->files = grown;
        list->cap = ncap;
    }
    list->files[list->n++] = (dirwalk_file){rel, path, size};
    list->total_bytes += size;
    return 0;
}

/* Walks dir (whose path relative to the root is rel, "" for the root).
 * Returns 0, -1 if dir itself is unreadable (errno set), -2 out of memory. */
static int walk(const char *dir, const char *rel, int (*accept)(const char *), dirwalk_list *list) {
    char **names;
    size_t n;
    int rc = read_names(dir, &names, &n);
    if (rc != 0) return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *path = join(dir, names[i]);
        char *sub = join(rel, names[i]);
        if (!path || !sub) {
            free(path);
            free(sub);
            rc = -2;
            break;
        }
        struct stat st;
        if (lstat(path, &st) != 0) {
            fprintf(stderr, "trawl: %s: %s\n", path, strerror(errno));
            list->unreadable++;
        } else if (S_ISDIR(st.st_mode)) {
            int r = walk(path, sub, accept, list);
            if (r == -1) {
                fprintf(stderr, "trawl: %s: %s\n", path, strerror(errno));
                list->unreadable++;
            } else if (r == -2) {
                rc = -2;
            }
        } else if (accept(names[i])) {
            int usable = S_ISREG(st.st_mode);
            if (S_ISLNK(st.st_mode)) { /* follow links to files only */
                struct stat target;
                if (stat(path, &target) != 0) { /* dangling or looping: an input that cannot be read */
                    fprintf(stderr, "trawl: %s: %s\n", path, strerror(errno));
                    list->unreadable++;
                    usable = 0;
                } else {
                    usable = S_ISREG(target.st_mode);
                    if (usable) st = target;
                }
            }
            if (usable) {
                if (push(list, sub, path, (uint64_t)st.st_size) != 0)
                    rc = -2;
                else
                    path = sub = NULL; /* owned by the list now */
            }
        }
        free(path);
        free(sub);
    }
    free_names(names, n);
    return rc;
}

int dirwalk_collect(const char *root, int (*accept)(const char *name), dirwalk_list *list) {
    int rc = walk(root, "", accept, list);
    if (rc == -1)
        fprintf(stderr, "trawl: %s: %s\n", root, strerror(errno));
    else if (rc == -2)
        fprintf(stderr, "trawl: %s: out of memory\n", root);
    return rc == 0 ? 0 : -1;
}

void dirwalk_free(dirwalk_list *list) {
    for (size_t i = 0; i < list->n; i++) {
        free(list->files[i].rel);
        free(list->files[i].path);
    }
    free(list->files);
    memset(list, 0, sizeof *list);
}
