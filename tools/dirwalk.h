/*
 * dirwalk.h — lists the files of a directory tree for `trawl index`, in a
 * deterministic order.
 *
 * The walk is depth-first; within each directory, entries are visited in
 * byte-wise (strcmp) order of their names, so the same tree always yields the
 * same list whatever the locale or file system. Entries whose names start with
 * '.' are skipped; symbolic links are followed to regular files but never into
 * directories (no cycles).
 */
#ifndef TRAWL_DIRWALK_H
#define TRAWL_DIRWALK_H

#include <stddef.h>
#include <stdint.h>

typedef struct dirwalk_file {
    char *rel;     /* path relative to the root, '/'-separated (malloc'd) */
    char *path;    /* the root joined with rel, for opening (malloc'd) */
    uint64_t size; /* bytes, as stat saw them */
} dirwalk_file;

typedef struct dirwalk_list {
    dirwalk_file *files;
    size_t n, cap;
    uint64_t total_bytes; /* sum of the sizes */
    uint64_t unreadable;  /* directories or entries that could not be read */
} dirwalk_list;

/* Appends to *list (zero it first) every regular file under root whose name
 * accept() approves. Entries that cannot be read are reported on stderr as
 * "trawl: PATH: reason", counted in list->unreadable and skipped. Returns 0, or
 * -1 when the root itself cannot be read or memory runs out (reported). */
int dirwalk_collect(const char *root, int (*accept)(const char *name), dirwalk_list *list);

/* Frees every string and the array. */
void dirwalk_free(dirwalk_list *list);

#endif
