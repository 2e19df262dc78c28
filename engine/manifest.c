/*
 * manifest.c — the index directory's commit record and its durable files.
 *
 * MANIFEST is one line of JSON naming the format, generation, language and
 * live segments (each with its optional deletion bitmap file), then a line
 * "xxh3 <16 hex digits>" checksumming the first line. A commit replaces it
 * atomically: write MANIFEST.tmp, fsync, rename over MANIFEST, fsync the
 * directory. Readers that open the old or the new manifest both see a complete
 * commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "analyzer.h"
#include "engine.h"

#define MANIFEST_MAX (64u << 20)

char *tw_path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

void tw_manifest_free_segs(tw_manifest *m) {
    for (size_t i = 0; i < m->nsegs; i++) {
        free(m->segs[i].name);
        free(m->segs[i].del);
    }
    free(m->segs);
    m->segs = NULL;
    m->nsegs = 0;
}

void tw_manifest_free(tw_manifest *m) {
    tw_manifest_free_segs(m);
    tw_schema_free(m->schema);
    m->schema = NULL;
}

int tw_manifest_add(tw_manifest *m, const char *name, const char *del, uint32_t docs) {
    tw_manifest_seg *ns = realloc(m->segs, sizeof *ns * (m->nsegs + 1));
    if (!ns) return TRAWL_ENOMEM;
    m->segs = ns;
    tw_manifest_seg *s = &m->segs[m->nsegs];
    s->name = strdup(name);
    s->del = del ? strdup(del) : NULL;
    s->docs = docs;
    if (!s->name || (del && !s->del)) {
        free(s->name);
        free(s->del);
        return TRAWL_ENOMEM;
    }
    m->nsegs++;
    return 0;
}

/* Reads a whole small file. */
static int read_file(const char *path, size_t max, char **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? TRAWL_ENOTFOUND : TRAWL_EIO;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (cap - n < 4096) {
            if (cap >= max) {
                rc = TRAWL_ELIMIT;
                break;
            }
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                rc = TRAWL_ENOMEM;
                break;
            }
            buf = nb;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) {
            if (ferror(f)) rc = TRAWL_EIO;
            break;
        }
    }
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    if (!buf && !(buf = malloc(1))) return TRAWL_ENOMEM;
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
}

/* Does object o have exactly the keys of the NULL-terminated list (each once)? */
static int exact_keys(json_t *o, const char *const *keys) {
    size_t n = 0;
    for (; keys[n]; n++)
        if (!json_object_get(o, keys[n])) return 0;
    return json_object_size(o) == n;
}

/* A file name we accept in a manifest: plain, no path separators. */
static int safe_name(const char *s) {
    if (!s || !*s || strlen(s) > 200 || s[0] == '.') return 0;
    for (const char *p = s; *p; p++)
        if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20) return 0;
    return 1;
}

int tw_manifest_read(const char *dir, tw_manifest *m, char *err, size_t errcap) {
    memset(m, 0, sizeof *m);
    char *path = tw_path_join(dir, TW_MANIFEST);
    if (!path) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    char *text;
    size_t len;
    int rc = read_file(path, MANIFEST_MAX, &text, &len);
    if (rc == TRAWL_ENOTFOUND) {
        free(path);
        return rc;
    }
    if (rc) {
        rc = tw_err(err, errcap, rc, "%s: cannot read: %s", path,
                    rc == TRAWL_EIO ? strerror(errno) : trawl_strerror(rc));
        free(path);
        return rc;
    }
    char *nl = memchr(text, '\n', len);
    uint64_t want = 0;
    char hex[17];
    if (!nl || sscanf(nl + 1, "xxh3 %16[0-9a-f]", hex) != 1 || strlen(hex) != 16) {
        rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: manifest section: checksum line missing", path);
        goto out;
    }
    want = strtoull(hex, NULL, 16);
    if (XXH3_64bits(text, (size_t)(nl - text)) != want) {
        rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: manifest section: checksum mismatch", path);
        goto out;
    }
    json_error_t je;
    json_t *root = json_loadb(text, (size_t)(nl - text), JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: manifest section: %s", path, je.text);
        goto out;
    }
    json_t *fmt = json_object_get(root, "format"), *gen = json_object_get(root, "generation"),
           *lang = json_object_get(root, "lang"), *segs = json_object_get(root, "segments"),
           *schema = json_object_get(root, "schema");
    static const char *const top_keys[] = {"format", "generation", "lang", "schema", "segments", NULL};
    if (json_is_object(root) && json_is_integer(fmt) && json_integer_value(fmt) == 1) {
        rc = tw_err(err, errcap, TRAWL_EVERSION,
                    "%s: index format 1 (written before typed fields); this build reads format %u: rebuild the "
                    "index with `trawl index`",
                    path, TW_FORMAT_VERSION);
        json_decref(root);
        goto out;
    }
    static const char *const seg_keys[] = {"name", "docs", "deletes", NULL};
    if (!json_is_object(root) || !exact_keys(root, top_keys)) {
        rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: manifest section: unknown or missing keys", path);
        json_decref(root);
        goto out;
    }
    if (!json_is_integer(fmt) || !json_is_integer(gen) || !json_is_string(lang) || !json_is_array(segs) ||
        json_integer_value(gen) < 1 || strlen(json_string_value(lang)) >= TW_LANG_MAX) {
        rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: manifest section: missing or invalid fields", path);
        json_decref(root);
        goto out;
    }
    if (json_integer_value(fmt) != TW_FORMAT_VERSION) {
        rc = tw_err(err, errcap, TRAWL_EVERSION, "%s: manifest format %lld, this build reads %u", path,
                    (long long)json_integer_value(fmt), TW_FORMAT_VERSION);
        json_decref(root);
        goto out;
    }
    if (!tw_language_ok(json_string_value(lang))) {
        rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: manifest section: unknown language '%s'", path,
                    json_string_value(lang));
        json_decref(root);
        goto out;
    }
    {
        char *st = json_is_object(schema) ? json_dumps(schema, JSON_COMPACT) : NULL;
        char serr[256] = "";
        int src = st ? tw_schema_parse(st, strlen(st), &m->schema, serr, sizeof serr) : TRAWL_ECORRUPT;
        free(st);
        if (src) {
            rc = tw_err(err, errcap, src == TRAWL_ENOMEM ? TRAWL_ENOMEM : TRAWL_ECORRUPT,
                        "%s: manifest section: schema invalid%s%s", path, serr[0] ? ": " : "", serr);
            json_decref(root);
            goto out;
        }
    }
    m->generation = (uint64_t)json_integer_value(gen);
    snprintf(m->lang, sizeof m->lang, "%s", json_string_value(lang)); /* (a known language: it fits) */
    size_t i;
    json_t *e;
    json_array_foreach(segs, i, e) {
        json_t *name = json_object_get(e, "name"), *del = json_object_get(e, "deletes"),
               *docs = json_object_get(e, "docs");
        /* Every segment names its deletions ("deletes": null when none): a
         * missing or renamed key must not bring deleted documents back. */
        if (!json_is_object(e) || !exact_keys(e, seg_keys) || !json_is_string(name) ||
            !safe_name(json_string_value(name)) || !json_is_integer(docs) || json_integer_value(docs) < 0 ||
            json_integer_value(docs) > (json_int_t)TW_MAX_DOCS_PER_SEGMENT ||
            (!json_is_null(del) && (!json_is_string(del) || !safe_name(json_string_value(del))))) {
            rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: manifest section: segment %zu invalid", path, i);
            break;
        }
        for (size_t k = 0; k < m->nsegs && rc == 0; k++)
            if (strcmp(m->segs[k].name, json_string_value(name)) == 0 ||
                (json_is_string(del) && m->segs[k].del && strcmp(m->segs[k].del, json_string_value(del)) == 0))
                rc = tw_err(err, errcap, TRAWL_ECORRUPT, "%s: manifest section: segment %zu named twice", path, i);
        if (rc) break;
        rc = tw_manifest_add(m, json_string_value(name), json_is_string(del) ? json_string_value(del) : NULL,
                             (uint32_t)json_integer_value(docs));
        if (rc) {
            tw_err(err, errcap, rc, "out of memory");
            break;
        }
    }
    json_decref(root);
    if (rc) {
        tw_manifest_free(m);
        memset(m, 0, sizeof *m); /* a failed read leaves no generation behind */
    }
out:
    free(text);
    free(path);
    return rc;
}

int tw_fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return TRAWL_EIO;
    int rc = fsync(fd);
    close(fd);
    return rc ? TRAWL_EIO : 0;
}

int tw_write_file_durable(const char *dir, const char *name, const void *data, size_t len, char *err, size_t errcap) {
    char tmpname[256];
    snprintf(tmpname, sizeof tmpname, "%s.tmp", name);
    char *tmp = tw_path_join(dir, tmpname), *dst = tw_path_join(dir, name);
    int rc = 0;
    if (!tmp || !dst) {
        rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        goto out;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = tw_err(err, errcap, TRAWL_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t k = write(fd, p, left);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) break;
        p += k;
        left -= (size_t)k;
    }
    if (left > 0 || fsync(fd) != 0) {
        rc = tw_err(err, errcap, TRAWL_EIO, "%s: write failed: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) != 0 || rename(tmp, dst) != 0 || tw_fsync_dir(dir) != 0) {
        rc = tw_err(err, errcap, TRAWL_EIO, "%s: cannot install: %s", dst, strerror(errno));
        unlink(tmp);
    }
out:
    free(tmp);
    free(dst);
    return rc;
}

int tw_manifest_write(const char *dir, const tw_manifest *m, char *err, size_t errcap) {
    json_t *root = json_object(), *segs = json_array();
    int bad = !root || !segs;
    if (!bad) {
        bad |= json_object_set_new(root, "format", json_integer(TW_FORMAT_VERSION));
        bad |= json_object_set_new(root, "generation", json_integer((json_int_t)m->generation));
        bad |= json_object_set_new(root, "lang", json_string(m->lang));
        char *st = m->schema ? tw_schema_print(m->schema, NULL) : NULL;
        json_t *sj = st ? json_loads(st, 0, NULL) : NULL;
        free(st);
        bad |= !sj || json_object_set_new(root, "schema", sj);
        for (size_t i = 0; i < m->nsegs && !bad; i++) {
            json_t *e = json_object();
            bad |= !e;
            if (e) {
                bad |= json_object_set_new(e, "name", json_string(m->segs[i].name));
                bad |= json_object_set_new(e, "docs", json_integer(m->segs[i].docs));
                bad |= json_object_set_new(e, "deletes", m->segs[i].del ? json_string(m->segs[i].del) : json_null());
                bad |= json_array_append_new(segs, e);
            }
        }
        bad |= json_object_set(root, "segments", segs);
    }
    char *line = bad ? NULL : json_dumps(root, JSON_COMPACT);
    json_decref(segs);
    json_decref(root);
    if (!line) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    size_t n = strlen(line);
    char *text = malloc(n + 32);
    if (!text) {
        free(line);
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    int tl = snprintf(text, n + 32, "%s\nxxh3 %016" PRIx64 "\n", line, (uint64_t)XXH3_64bits(line, n));
    free(line);
    int rc = tw_write_file_durable(dir, TW_MANIFEST, text, (size_t)tl, err, errcap);
    free(text);
    return rc;
}

int tw_deletes_read(const char *path, uint32_t ndocs, roaring_bitmap_t **out, char *err, size_t errcap) {
    *out = NULL;
    char *buf;
    size_t len;
    int rc = read_file(path, (size_t)1 << 31, &buf, &len);
    if (rc)
        return tw_err(err, errcap, rc == TRAWL_ENOTFOUND ? TRAWL_ECORRUPT : rc, "%s: deletes section: cannot read: %s",
                      path, trawl_strerror(rc));
    if (len < 8 || XXH3_64bits(buf, len - 8) != tw_ld64((const uint8_t *)buf + len - 8)) {
        free(buf);
        return tw_err(err, errcap, TRAWL_ECORRUPT, "%s: deletes section: checksum mismatch", path);
    }
    /* Every value checked (sorted, counts right, below ndocs) before CRoaring
     * sees the bytes. */
    tw_rview v;
    size_t used;
    const char *why = "malformed";
    rc = tw_rview_parse((const uint8_t *)buf, len - 8, 1, &v, &used, &why);
    if (rc == TRAWL_ENOMEM) {
        free(buf);
        return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    }
    int ok = rc == 0 && used == len - 8 && v.card < ndocs + (uint64_t)1 &&
             (v.n == 0 || ((uint32_t)v.c[v.n - 1].key << 16) < ndocs);
    if (ok && v.n) {
        tw_riter it;
        tw_riter_init(&it, &v);
        ok = !tw_riter_seek(&it, ndocs);
    }
    tw_rview_free(&v);
    roaring_bitmap_t *r = ok ? roaring_bitmap_portable_deserialize_safe(buf, len - 8) : NULL;
    free(buf);
    if (!r)
        return tw_err(err, errcap, TRAWL_ECORRUPT, "%s: deletes section: bitmap invalid (%s)", path,
                      ok ? "unreadable" : why);
    *out = r;
    return 0;
}

int tw_deletes_write(const char *path, const roaring_bitmap_t *r, char *err, size_t errcap) {
    size_t n = roaring_bitmap_portable_size_in_bytes(r);
    char *buf = malloc(n + 8);
    if (!buf) return tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
    roaring_bitmap_portable_serialize(r, buf);
    uint64_t h = XXH3_64bits(buf, n);
    for (int i = 0; i < 8; i++) buf[n + (size_t)i] = (char)(h >> (8 * i));
    const char *slash = strrchr(path, '/');
    int rc;
    if (!slash) {
        rc = tw_write_file_durable(".", path, buf, n + 8, err, errcap);
    } else {
        char *dir = strndup(path, (size_t)(slash - path));
        rc = dir ? tw_write_file_durable(dir, slash + 1, buf, n + 8, err, errcap)
                 : tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        free(dir);
    }
    free(buf);
    return rc;
}
