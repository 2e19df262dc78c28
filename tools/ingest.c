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

/* A document over the size limit, skipped without being held: reported as
 * "FILE:LINE: reason" (line 0: the whole file). Returns 0 to go on, -1 in
 * strict mode. */
static int oversized(ingest *in, const char *file, uint64_t line) {
    progress_clear(in->prog);
    if (line > 0)
        fprintf(stderr, "%s:%llu: line longer than %u bytes (the document limit): skipped\n", file,
                (unsigned long long)line, TRAWL_MAX_DOC_BYTES);
    else
        fprintf(stderr, "%s: file larger than %u bytes (the document limit): skipped\n", file, TRAWL_MAX_DOC_BYTES);
    if (in->strict) return -1;
    in->skipped++;
    return 0;
}

/* Longest line kept: the document limit plus a byte order mark and a CRLF (the
 * writer then applies the limit exactly). */
#define LINE_MAX_BYTES ((size_t)TRAWL_MAX_DOC_BYTES + 5)
#define READ_BLOCK ((size_t)64 << 10)

/* Reads a stream line by line holding at most LINE_MAX_BYTES of a line: a
 * longer line is consumed and dropped as it is read. */
typedef struct linereader {
    FILE *f;
    char *blk; /* read-ahead block */
    size_t bpos, blen;
    char *line; /* the current line, with its '\n' if any */
    size_t len, cap;
} linereader;

/* Reads the next line into r->line / r->len. Returns 1 (a line), 2 (a line
 * over the limit, dropped; r->len is 0), 0 at the end of the stream, -1 on a
 * read error or out of memory (errno set). *consumed gets the bytes read. */
static int next_line(linereader *r, uint64_t *consumed) {
    int over = 0, any = 0;
    r->len = 0;
    *consumed = 0;
    for (;;) {
        if (r->bpos == r->blen) {
            errno = 0;
            r->blen = fread(r->blk, 1, READ_BLOCK, r->f);
            r->bpos = 0;
            if (r->blen == 0) {
                if (ferror(r->f)) {
                    if (errno == 0) errno = EIO;
                    return -1;
                }
                return any ? 1 + over : 0;
            }
        }
        any = 1;
        const char *p = r->blk + r->bpos, *nl = memchr(p, '\n', r->blen - r->bpos);
        size_t take = nl ? (size_t)(nl - p) + 1 : r->blen - r->bpos;
        r->bpos += take;
        *consumed += take;
        if (!over && r->len + take > LINE_MAX_BYTES) {
            over = 1; /* drop what we hold, and the rest of the line as it comes */
            r->len = 0;
            free(r->line);
            r->line = NULL;
            r->cap = 0;
        }
        if (!over) {
            if (r->len + take > r->cap) {
                size_t ncap = r->cap ? r->cap : 4096;
                while (ncap < r->len + take) ncap *= 2;
                if (ncap > LINE_MAX_BYTES) ncap = LINE_MAX_BYTES;
                char *nb = realloc(r->line, ncap);
                if (!nb) {
                    errno = ENOMEM;
                    return -1;
                }
                r->line = nb;
                r->cap = ncap;
            }
            if (take) memcpy(r->line + r->len, p, take); /* (r->line is NULL until the first byte) */
            r->len += take;
        }
        if (nl) return 1 + over;
    }
}

/* Feeds every line of the JSON Lines stream f (named name in messages, size
 * bytes long or 0 if unknown) to the writer. Returns 0 or -1 as ingest_input. */
static int ingest_jsonl(ingest *in, FILE *f, const char *name, uint64_t size) {
    linereader r = {f, malloc(READ_BLOCK), 0, 0, NULL, 0, 0};
    uint64_t lineno = 0;
    int rc = 0, read_errno = 0;
    if (!r.blk) {
        progress_clear(in->prog);
        cli_error("%s: out of memory", name);
        return -1;
    }
    progress_begin_input(in->prog, name, size, in->bytes);
    for (;;) {
        uint64_t consumed;
        int got = next_line(&r, &consumed);
        in->bytes += consumed;
        if (got < 0) read_errno = errno;
        if (got <= 0) break;
        lineno++;
        if (got == 2) {
            if (oversized(in, name, lineno) != 0) {
                rc = -1;
                break;
            }
            continue;
        }
        size_t len = r.len;
        const char *text = r.line;
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
    if (rc == 0 && read_errno) {
        progress_clear(in->prog);
        cli_error("%s: read error: %s", name, strerror(read_errno));
        rc = -1;
    }
    free(r.line);
    free(r.blk);
    return rc;
}

/* Reads the file path, at most max bytes, into a malloc'd buffer. Returns 0,
 * 1 when the file holds more than max bytes (nothing kept), or -1 (errno set). */
static int slurp(const char *path, size_t max, char **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
        fclose(f);
        return 1;
    }
    for (;;) {
        if (cap - n < 65536) {
            if (cap > max) { /* read past the limit: too large (a growing file, a device) */
                rc = 1;
                break;
            }
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > max + 65536) ncap = max + 65536;
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
    if (rc == 0 && n > max) rc = 1;
    int saved = errno;
    fclose(f);
    if (rc != 0) {
        free(buf);
        errno = saved;
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Adds the text document in file path with the given id. An unreadable file is
 * skipped with a message when skip_unreadable (and not strict), else fails
 * the run. A file over the document limit is skipped like a malformed
 * document. Returns 0 or -1 as ingest_input. */
static int ingest_text(ingest *in, const char *path, const char *id, int skip_unreadable) {
    char *text;
    size_t len;
    int got = slurp(path, TRAWL_MAX_DOC_BYTES, &text, &len);
    if (got == 1) return oversized(in, path, 0);
    if (got != 0) {
        int err = errno;
        progress_clear(in->prog);
        cli_error("%s: %s", path, strerror(err));
        if (!skip_unreadable || in->strict || err == ENOMEM) return -1;
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
    if (in->strict && list.unreadable > 0) { /* each reported by dirwalk */
        dirwalk_free(&list);
        return -1;
    }
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
