/*
 * ingest.c — reads the inputs of `trawl index` into a trawl_writer (see
 * ingest.h): JSON Lines streams line by line, text documents whole, and
 * directories through dirwalk. Owns the policy for rejected documents: report
 * "FILE:LINE: reason", then skip, or stop the run in strict mode.
 */
#include "ingest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "dirwalk.h"
#include "textdoc.h"

void ingest_init(ingest *in, trawl_writer *w, int strict, progress *prog) {
    memset(in, 0, sizeof *in);
    in->writer = w;
    in->strict = strict;
    in->prog = prog;
}

int ingest_is_text_name(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && dot != name && (strcasecmp(dot, ".txt") == 0 || strcasecmp(dot, ".md") == 0);
}

/* Handles a document the writer refused with rc. file and line (0 = the whole
 * file) locate it. Returns 0 to go on (skipped), -1 to end the run. */
static int rejected(ingest *in, const char *file, uint64_t line, trawl_rc rc) {
    const char *msg = trawl_writer_errmsg(in->writer);
    if (!msg || !*msg) msg = trawl_strerror(rc);
    progress_clear(in->prog);
    int malformed = rc == TRAWL_EDOC || rc == TRAWL_ELIMIT;
    const char *prefix = malformed ? "" : "trawl: ";
    if (line > 0)
        fprintf(stderr, "%s%s:%llu: %s\n", prefix, file, (unsigned long long)line, msg);
    else
        fprintf(stderr, "%s%s: %s\n", prefix, file, msg);
    if (!malformed || in->strict) return -1;
    in->skipped++;
    return 0;
}

/* Is line[0..len) only blanks? */
static int is_blank_line(const char *line, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n') return 0;
    return 1;
}

/* Feeds every line of the JSON Lines stream f (named name in messages, size
 * bytes long or 0 if unknown) to the writer. Returns 0 or -1 as ingest_input. */
static int ingest_jsonl(ingest *in, FILE *f, const char *name, uint64_t size) {
    char *line = NULL;
    size_t cap = 0;
    uint64_t lineno = 0;
    int rc = 0, read_errno = 0;
    progress_begin_input(in->prog, name, size, in->bytes);
    for (;;) {
        errno = 0;
        ssize_t got = getline(&line, &cap, f);
        if (got < 0) {
            read_errno = errno;
            break;
        }
        lineno++;
        in->bytes += (uint64_t)got;
        size_t len = (size_t)got;
        const char *text = line;
        if (lineno == 1 && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
            text += 3; /* a byte order mark */
            len -= 3;
        }
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r')) len--;
        if (is_blank_line(text, len)) continue;
        trawl_rc arc = trawl_writer_add_json(in->writer, text, len);
        if (arc == TRAWL_OK)
            in->added++;
        else if (rejected(in, name, lineno, arc) != 0) {
            rc = -1;
            break;
        }
        progress_update(in->prog, in->bytes, in->added);
    }
    if (rc == 0 && (ferror(f) || read_errno == ENOMEM)) {
        progress_clear(in->prog);
        cli_error("%s: read error: %s", name, strerror(read_errno ? read_errno : EIO));
        rc = -1;
    }
    free(line);
    return rc;
}

/* Reads the whole file path into a malloc'd buffer. Returns 0 or -1 (errno set). */
static int slurp(const char *path, char **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (cap - n < 65536) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *grown = realloc(buf, ncap);
            if (!grown) {
                errno = ENOMEM;
                rc = -1;
                break;
            }
            buf = grown;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                if (errno == 0) errno = EIO;
                rc = -1;
            }
            break;
        }
    }
    int saved = errno;
    fclose(f);
    if (rc != 0) {
        free(buf);
        errno = saved;
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Adds the text document in file path with the given id. An unreadable file is
 * skipped with a message when skip_unreadable, else fails the run. Returns 0
 * or -1 as ingest_input. */
static int ingest_text(ingest *in, const char *path, const char *id, int skip_unreadable) {
    char *text;
    size_t len;
    if (slurp(path, &text, &len) != 0) {
        int err = errno;
        progress_clear(in->prog);
        cli_error("%s: %s", path, strerror(err));
        if (!skip_unreadable || err == ENOMEM) return -1;
        in->skipped++;
        return 0;
    }
    in->bytes += len;
    textdoc doc;
    if (textdoc_parse(text, len, &doc) != 0) {
        free(text);
        progress_clear(in->prog);
        cli_error("%s: out of memory", path);
        return -1;
    }
    static const char *const names[2] = {"title", "body"};
    const char *values[2] = {doc.title, doc.body};
    size_t lens[2] = {doc.title_len, doc.body_len};
    trawl_rc arc = trawl_writer_add_fields(in->writer, id, 2, names, values, lens);
    int rc = 0;
    if (arc == TRAWL_OK)
        in->added++;
    else
        rc = rejected(in, path, 0, arc);
    textdoc_free(&doc);
    free(text);
    progress_update(in->prog, in->bytes, in->added);
    return rc;
}

/* Adds every text document under the directory root. */
static int ingest_dir(ingest *in, const char *root) {
    dirwalk_list list = {0};
    progress_clear(in->prog);
    if (dirwalk_collect(root, ingest_is_text_name, &list) != 0) {
        dirwalk_free(&list);
        return -1;
    }
    in->skipped += list.unreadable;
    progress_begin_input(in->prog, root, list.total_bytes, in->bytes);
    int rc = 0;
    for (size_t i = 0; i < list.n && rc == 0; i++) rc = ingest_text(in, list.files[i].path, list.files[i].rel, 1);
    dirwalk_free(&list);
    return rc;
}

int ingest_input(ingest *in, const char *path) {
    if (strcmp(path, "-") == 0) return ingest_jsonl(in, stdin, "<stdin>", 0);
    struct stat st;
    if (stat(path, &st) != 0) {
        progress_clear(in->prog);
        cli_error("%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) return ingest_dir(in, path);
    if (S_ISREG(st.st_mode) && ingest_is_text_name(path)) {
        const char *slash = strrchr(path, '/');
        const char *id = slash ? slash + 1 : path;
        progress_begin_input(in->prog, path, (uint64_t)st.st_size, in->bytes);
        return ingest_text(in, path, id, 0);
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        progress_clear(in->prog);
        cli_error("%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = ingest_jsonl(in, f, path, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
    fclose(f);
    return rc;
}
