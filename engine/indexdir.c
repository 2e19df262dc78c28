/*
 * indexdir.c — what the writer may create and remove in an index directory.
 *
 * The writer owns only names of its own exact patterns (tw_indexdir_is_ours);
 * it never removes anything else. It creates an index only in a directory that
 * is new or empty, or that is a trawl index (has a MANIFEST), or that is the
 * leftover of an interrupted creation: a new index carries the marker file
 * CREATING from the writer's open until its first commit, so segment files
 * written before a crash of that first commit can be told from the segments
 * of an index whose MANIFEST was lost (which the writer refuses to touch).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"

/* Skips at least min decimal digits at *p. 1 if there were enough. */
static int digits(const char **p, int min) {
    int n = 0;
    while (**p >= '0' && **p <= '9') (*p)++, n++;
    return n >= min;
}

int tw_indexdir_is_ours(const char *name) {
    if (strcmp(name, TW_MANIFEST ".tmp") == 0 || strcmp(name, TW_CREATING ".tmp") == 0) return 1;
    const char *p = name;
    if (strncmp(p, "seg-", 4) != 0) return 0;
    p += 4;
    if (!digits(&p, 6) || *p++ != '-' || !digits(&p, 4)) return 0;
    int del = 0;
    if (*p == '-') { /* a deletion bitmap: seg-G-N-G2.del */
        p++;
        if (!digits(&p, 6)) return 0;
        del = 1;
    }
    if (strncmp(p, del ? ".del" : ".tws", 4) != 0) return 0;
    p += 4;
    return *p == 0 || strcmp(p, ".tmp") == 0;
}

int tw_indexdir_check_new(const char *dir, int *creating, char *err, size_t errcap) {
    *creating = 0;
    DIR *d = opendir(dir);
    if (!d) return tw_err(err, errcap, TRAWL_EIO, "%s: cannot read directory: %s", dir, strerror(errno));
    char foreign[256] = "", ours[256] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, "LOCK") == 0) continue;
        if (strcmp(n, TW_CREATING) == 0)
            *creating = 1;
        else if (!tw_indexdir_is_ours(n)) {
            if (!foreign[0]) snprintf(foreign, sizeof foreign, "%s", n);
        } else if (!ours[0])
            snprintf(ours, sizeof ours, "%s", n);
    }
    closedir(d);
    if (foreign[0])
        return tw_err(err, errcap, TRAWL_EINVAL,
                      "%s: not a trawl index (no %s) and not empty (it holds '%s'): refusing to write there", dir,
                      TW_MANIFEST, foreign);
    if (ours[0] && !*creating)
        return tw_err(err, errcap, TRAWL_ECORRUPT,
                      "%s: holds index files ('%s') but no %s: the index is damaged or its %s was lost; "
                      "refusing to write there (nothing was changed)",
                      dir, ours, TW_MANIFEST, TW_MANIFEST);
    return 0;
}

int tw_indexdir_mark_creating(const char *dir, char *err, size_t errcap) {
    static const char text[] = "trawl: index being created; removed by its first commit\n";
    return tw_write_file_durable(dir, TW_CREATING, text, sizeof text - 1, err, errcap);
}

void tw_indexdir_unmark_creating(const char *dir) {
    char *p = tw_path_join(dir, TW_CREATING);
    if (p && unlink(p) == 0) tw_fsync_dir(dir);
    free(p);
}
