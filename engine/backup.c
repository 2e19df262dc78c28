/*
 * backup.c — trawl_backup: a consistent copy of an index's current commit,
 * taken while a writer may keep committing and merging.
 *
 * Committed files are never changed in place (a segment or deletion file is
 * written once under a new name, the MANIFEST replaced by a rename), so a
 * commit is copied by hard-linking (or, across file systems, copying) the
 * files its MANIFEST names and then writing that MANIFEST into the copy. If a
 * named file disappears meanwhile (a later commit or merge collected it), the
 * copy starts over from the then current MANIFEST. Once linked or open, a
 * file stays readable whatever the writer does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"

#define BACKUP_ATTEMPTS 50

/* Copies src to dst (created, not existing) and fsyncs it. 0, ENOENT when
 * src is gone, or another errno. */
static int copy_file(const char *src, const char *dst) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return errno;
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        int e = errno;
        close(in);
        return e;
    }
    char buf[1 << 16];
    int e = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            e = errno;
            break;
        }
        if (n == 0) break;
        for (ssize_t o = 0; o < n;) {
            ssize_t k = write(out, buf + o, (size_t)(n - o));
            if (k < 0 && errno == EINTR) continue;
            if (k < 0) {
                e = errno;
                break;
            }
            o += k;
        }
        if (e) break;
    }
    if (!e && fsync(out) != 0) e = errno;
    close(in);
    if (close(out) != 0 && !e) e = errno;
    if (e) unlink(dst);
    return e;
}

/* Links (or copies) dir/name to dest/name. 0, ENOENT when the source is
 * gone, or another errno. *linked is cleared when a copy was needed. */
static int take(const char *dir, const char *dest, const char *name, int *linked) {
    char *src = tw_path_join(dir, name), *dst = tw_path_join(dest, name);
    int e = 0;
    if (!src || !dst)
        e = ENOMEM;
    else if (link(src, dst) != 0) {
        e = errno;
        // NOLINTNEXTLINE(misc-redundant-expression): ENOTSUP and EOPNOTSUPP are one value on Linux only
        if (e == EXDEV || e == EPERM || e == EMLINK || e == ENOTSUP || e == EOPNOTSUPP) {
            *linked = 0;
            e = copy_file(src, dst);
        }
    }
    free(src);
    free(dst);
    return e;
}

/* Removes from dest the files a manifest names (an abandoned attempt). */
static void untake(const char *dest, const tw_manifest *m) {
    for (size_t i = 0; i < m->nsegs; i++)
        for (int k = 0; k < 2; k++) {
            const char *n = k ? m->segs[i].del : m->segs[i].name;
            char *p = n ? tw_path_join(dest, n) : NULL;
            if (p) unlink(p);
            free(p);
        }
}

/* Is dest absent or an empty directory? Creates it when absent. */
static int prepare_dest(const char *dest, char *err, size_t errcap) {
    if (mkdir(dest, 0755) == 0) return 0;
    if (errno != EEXIST) return tw_err(err, errcap, TRAWL_EIO, "%s: cannot create: %s", dest, strerror(errno));
    DIR *d = opendir(dest);
    if (!d) return tw_err(err, errcap, TRAWL_EIO, "%s: cannot read: %s", dest, strerror(errno));
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = 0;
    closedir(d);
    return empty ? 0 : tw_err(err, errcap, TRAWL_EINVAL, "%s: exists and is not empty", dest);
}

trawl_rc trawl_backup(const char *dir, const char *dest, char **errmsg) {
    char err[1024] = "";
    if (errmsg) *errmsg = NULL;
    if (!dir || !dest) return TRAWL_EINVAL;
    int rc = prepare_dest(dest, err, sizeof err), linked = 1;
    tw_manifest m;
    memset(&m, 0, sizeof m);
    for (int attempt = 0; rc == 0; attempt++) {
        if (attempt == BACKUP_ATTEMPTS) {
            rc = tw_err(err, sizeof err, TRAWL_EIO, "%s: the index changed %d times during the copy; try again", dir,
                        BACKUP_ATTEMPTS);
            break;
        }
        rc = tw_manifest_read(dir, &m, err, sizeof err);
        if (rc == TRAWL_ENOTFOUND) rc = tw_err(err, sizeof err, rc, "%s: not an index (no %s)", dir, TW_MANIFEST);
        if (rc) break;
        int gone = 0;
        for (size_t i = 0; i < m.nsegs && rc == 0 && !gone; i++)
            for (int k = 0; k < 2 && rc == 0 && !gone; k++) {
                const char *n = k ? m.segs[i].del : m.segs[i].name;
                if (!n) continue;
                int e = take(dir, dest, n, &linked);
                if (e == ENOENT)
                    gone = 1; /* collected after a newer commit: start over */
                else if (e)
                    rc = tw_err(err, sizeof err, e == ENOMEM ? TRAWL_ENOMEM : TRAWL_EIO, "%s/%s: cannot copy: %s", dir,
                                n, strerror(e));
            }
        if (rc == 0 && !gone) break;
        untake(dest, &m);
        tw_manifest_free(&m);
    }
    /* Linked files are as durable as the source's; copies were fsynced. */
    if (rc == 0) rc = tw_manifest_write(dest, &m, err, sizeof err);
    if (rc) untake(dest, &m);
    tw_manifest_free(&m);
    if (rc && errmsg) *errmsg = strdup(err[0] ? err : trawl_strerror(rc));
    return rc;
}
