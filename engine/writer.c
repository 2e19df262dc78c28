/*
 * writer.c — trawl_writer: documents in, committed segments out.
 *
 * Front of the write path: parses a document (JSON object or field arrays),
 * runs every text field through the analyzer into the accumulator, flushes the
 * accumulator to a segment file when it outgrows its memory budget, and on
 * commit writes the last segment, the deletion bitmaps of replaced documents
 * and a new manifest. Nothing is visible to readers before the manifest is
 * replaced; a writer closed without commit removes the files it wrote.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#include "accum.h"
#include "analyzer.h"
#include "engine.h"
#include "segwriter.h"

#define ID_MAX_BYTES 1024u
#define DOC_MAX_BYTES (64u << 20)
#define ARRAY_POSITION_GAP 100u
#define DEFAULT_RAM_BUDGET ((size_t)512 << 20)

typedef struct pending_seg {
    char *name;
    uint32_t docs;
} pending_seg;

struct trawl_writer {
    char *dir;
    int lockfd;
    tw_manifest man; /* the commit this writer builds on */
    tw_analyzer *an;
    tw_accum *acc;
    pending_seg *pend; /* flushed but not committed */
    size_t npend;
    uint32_t seq; /* segment counter within this generation */
    uint64_t pending_docs;
    size_t ram_budget;
    char errmsg[1024];
};

const char *trawl_writer_errmsg(const trawl_writer *w) { return w ? w->errmsg : "no writer"; }
uint64_t trawl_writer_pending(const trawl_writer *w) { return w ? w->pending_docs : 0; }

static int is_ours(const char *name) {
    size_t n = strlen(name);
    return (strncmp(name, "seg-", 4) == 0 && n > 4 && (strcmp(name + n - 4, ".tws") == 0 || strcmp(name + n - 4, ".del") == 0)) ||
           strcmp(name, TW_MANIFEST ".tmp") == 0 || (strncmp(name, "seg-", 4) == 0 && strstr(name, ".tmp"));
}

static int referenced(const tw_manifest *m, const char *name) {
    for (size_t i = 0; i < m->nsegs; i++)
        if (strcmp(m->segs[i].name, name) == 0 || (m->segs[i].del && strcmp(m->segs[i].del, name) == 0)) return 1;
    return 0;
}

/* Removes files of ours that the manifest does not name (left by a crashed or
 * rolled-back writer, or replaced by a later commit). Holds the lock. */
static void collect_garbage(trawl_writer *w) {
    DIR *d = opendir(w->dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_ours(e->d_name) || referenced(&w->man, e->d_name)) continue;
        int pending = 0;
        for (size_t i = 0; i < w->npend; i++)
            if (strcmp(w->pend[i].name, e->d_name) == 0) pending = 1;
        if (pending) continue;
        char *p = tw_path_join(w->dir, e->d_name);
        if (p) unlink(p);
        free(p);
    }
    closedir(d);
}

trawl_rc trawl_writer_open(const char *dir, const char *lang, trawl_writer **out, char **errmsg) {
    char err[1024] = "";
    int rc = 0;
    if (out) *out = NULL;
    if (errmsg) *errmsg = NULL;
    if (!dir || !out) return TRAWL_EINVAL;
    trawl_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->dir = strdup(dir))) {
        free(w);
        return TRAWL_ENOMEM;
    }
    w->lockfd = -1;
    w->ram_budget = DEFAULT_RAM_BUDGET;
    const char *env = getenv("TRAWL_RAM_MB");
    if (env && atol(env) > 0) w->ram_budget = (size_t)atol(env) << 20;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        rc = tw_seterr(err, sizeof err, TRAWL_EIO, "%s: cannot create directory: %s", dir, strerror(errno));
        goto fail;
    }
    char *lockpath = tw_path_join(dir, "LOCK");
    if (!lockpath) {
        rc = TRAWL_ENOMEM;
        goto fail;
    }
    w->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(lockpath);
    if (w->lockfd < 0) {
        rc = tw_seterr(err, sizeof err, TRAWL_EIO, "%s/LOCK: cannot open: %s", dir, strerror(errno));
        goto fail;
    }
    if (flock(w->lockfd, LOCK_EX | LOCK_NB) != 0) {
        rc = tw_seterr(err, sizeof err, errno == EWOULDBLOCK ? TRAWL_ELOCKED : TRAWL_EIO,
                       "%s: another writer holds the lock", dir);
        goto fail;
    }
    rc = tw_manifest_read(dir, &w->man, err, sizeof err);
    if (rc == TRAWL_ENOTFOUND) {
        rc = 0;
        snprintf(w->man.lang, sizeof w->man.lang, "%s", lang ? lang : "english");
    } else if (rc) {
        goto fail;
    } else if (lang && strcmp(lang, w->man.lang) != 0) {
        rc = tw_seterr(err, sizeof err, TRAWL_EINVAL, "%s: the index uses language '%s', not '%s'", dir, w->man.lang,
                       lang);
        goto fail;
    }
    int arc = tw_analyzer_new(w->man.lang, &w->an);
    if (arc) {
        rc = tw_seterr(err, sizeof err, arc == -2 ? TRAWL_ENOMEM : TRAWL_EINVAL, "unknown language '%s'", w->man.lang);
        goto fail;
    }
    snprintf(w->man.lang, sizeof w->man.lang, "%s", tw_analyzer_lang(w->an));
    if (!(w->acc = tw_accum_new())) {
        rc = TRAWL_ENOMEM;
        goto fail;
    }
    collect_garbage(w);
    *out = w;
    return 0;
fail:
    if (errmsg) *errmsg = strdup(err[0] ? err : trawl_strerror(rc));
    trawl_writer_close(w);
    return rc;
}

static void remove_pending(trawl_writer *w) {
    for (size_t i = 0; i < w->npend; i++) {
        char *p = tw_path_join(w->dir, w->pend[i].name);
        if (p) unlink(p);
        free(p);
        free(w->pend[i].name);
    }
    free(w->pend);
    w->pend = NULL;
    w->npend = 0;
}

void trawl_writer_close(trawl_writer *w) {
    if (!w) return;
    remove_pending(w);
    tw_accum_free(w->acc);
    tw_analyzer_free(w->an);
    tw_manifest_free(&w->man);
    if (w->lockfd >= 0) close(w->lockfd);
    free(w->dir);
    free(w);
}

/* Writes the accumulator out as a pending segment and starts a fresh one. */
static int flush(trawl_writer *w) {
    if (tw_accum_docs(w->acc) == 0) return 0;
    char name[96];
    snprintf(name, sizeof name, "seg-%06" PRIu64 "-%04u.tws", w->man.generation + 1, w->seq++);
    pending_seg *np = realloc(w->pend, sizeof *np * (w->npend + 1));
    if (!np) return tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
    w->pend = np;
    char *path = tw_path_join(w->dir, name), *nm = strdup(name);
    if (!path || !nm) {
        free(path);
        free(nm);
        return tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
    }
    unlink(path); /* a leftover of a rolled-back writer */
    int rc = tw_segment_write(w->acc, w->man.lang, path, NULL, w->errmsg, sizeof w->errmsg);
    free(path);
    if (rc) {
        free(nm);
        return rc;
    }
    w->pend[w->npend].name = nm;
    w->pend[w->npend].docs = tw_accum_docs(w->acc);
    w->npend++;
    tw_accum_free(w->acc);
    w->acc = tw_accum_new();
    return w->acc ? 0 : tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
}

typedef struct tok_ctx {
    tw_accum *acc;
    uint32_t field;
    int rc;
} tok_ctx;

static int on_token(void *c, const tw_token *t) {
    tok_ctx *x = c;
    x->rc = tw_accum_token(x->acc, x->field, t->term, t->len, t->pos);
    return x->rc ? 1 : 0;
}

/* Indexes one text field value (string or array of strings). */
static int index_value(trawl_writer *w, const char *name, json_t *v) {
    size_t n = 1;
    if (json_is_array(v)) {
        n = json_array_size(v);
        int any = 0;
        for (size_t i = 0; i < n; i++) any |= json_is_string(json_array_get(v, i));
        if (!any) return 0;
    } else if (!json_is_string(v)) {
        return 0;
    }
    int f = tw_accum_field(w->acc, name, strlen(name));
    if (f == -1) return tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ELIMIT, "more than %u text fields", TW_MAX_FIELDS);
    if (f < 0) return tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
    tok_ctx x = {w->acc, (uint32_t)f, 0};
    uint32_t base = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_is_array(v) ? json_array_get(v, i) : v;
        if (!json_is_string(s)) continue;
        uint32_t used = 0;
        int rc = tw_analyze(w->an, json_string_value(s), json_string_length(s), base, 1, on_token, &x, &used);
        if (rc == -2 || x.rc) return tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
        if (used > UINT32_MAX - base - ARRAY_POSITION_GAP)
            return tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ELIMIT, "field '%s' has too many tokens", name);
        base += used + ARRAY_POSITION_GAP;
    }
    if (tw_accum_end_field(w->acc, (uint32_t)f))
        return tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
    return 0;
}

/* Adds a parsed document; stored is the text kept in the document store. */
static int add_doc(trawl_writer *w, json_t *doc, const char *stored, size_t slen) {
    json_t *id = json_object_get(doc, "id");
    if (!json_is_string(id) || json_string_length(id) == 0)
        return tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_EDOC, "\"id\" must be a non-empty string");
    if (json_string_length(id) > ID_MAX_BYTES)
        return tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ELIMIT, "\"id\" is longer than %u bytes", ID_MAX_BYTES);
    /* Check every limit before the accumulator is touched: once a field is in,
     * the only failure left is running out of memory, which is sticky. */
    const char *key;
    json_t *v;
    size_t fresh = 0;
    json_object_foreach(doc, key, v) {
        if (strlen(key) > 255)
            return tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ELIMIT, "field name longer than 255 bytes");
        fresh += tw_accum_field_lookup(w->acc, key, strlen(key)) < 0;
    }
    if (tw_accum_nfields(w->acc) + fresh > TW_MAX_FIELDS)
        return tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ELIMIT, "more than %u fields", TW_MAX_FIELDS);
    if (tw_accum_begin_doc(w->acc, json_string_value(id), json_string_length(id), stored, slen) < 0)
        return tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
    int rc = 0;
    json_object_foreach(doc, key, v) {
        if (strcmp(key, "id") == 0 || !*key) continue;
        if ((rc = index_value(w, key, v)) != 0) break;
    }
    if (rc) return rc;
    tw_accum_end_doc(w->acc);
    w->pending_docs++;
    if (tw_accum_bytes(w->acc) >= w->ram_budget) return flush(w);
    return 0;
}

trawl_rc trawl_writer_add_json(trawl_writer *w, const char *json, size_t len) {
    if (!w || (!json && len)) return TRAWL_EINVAL;
    if (len > DOC_MAX_BYTES)
        return tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ELIMIT, "document larger than %u bytes", DOC_MAX_BYTES);
    while (len > 0 && (json[len - 1] == '\n' || json[len - 1] == '\r' || json[len - 1] == ' ' || json[len - 1] == '\t'))
        len--;
    while (len > 0 && (*json == ' ' || *json == '\t')) json++, len--;
    json_error_t je;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) return tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_EDOC, "invalid JSON at column %d: %s", je.column, je.text);
    int rc;
    if (!json_is_object(doc)) rc = tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_EDOC, "not a JSON object");
    else rc = add_doc(w, doc, json, len);
    json_decref(doc);
    return rc;
}

/* Copies s[0..len) into a malloc'd buffer with every invalid UTF-8 sequence
 * replaced by U+FFFD. */
static char *sanitize_utf8(const char *s, size_t len, size_t *outlen) {
    if (len > SIZE_MAX / 3 - 1) return NULL;
    char *out = malloc(len * 3 + 1), *o = out;
    if (!out) return NULL;
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n > 0 && cp != 0) {
            memcpy(o, s + i, (size_t)n);
            o += n;
            i += (size_t)n;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += n > 0 ? (size_t)n : 1;
        }
    }
    *o = 0;
    *outlen = (size_t)(o - out);
    return out;
}

trawl_rc trawl_writer_add_fields(trawl_writer *w, const char *id, size_t nfields, const char *const *names,
                                 const char *const *values, const size_t *lens) {
    if (!w || !id || (nfields && (!names || !values || !lens))) return TRAWL_EINVAL;
    json_t *doc = json_object();
    int rc = 0;
    size_t idlen;
    char *sid = sanitize_utf8(id, strlen(id), &idlen);
    if (!doc || !sid || json_object_set_new(doc, "id", json_stringn(sid, idlen))) rc = TRAWL_ENOMEM;
    free(sid);
    for (size_t i = 0; i < nfields && rc == 0; i++) {
        if (!names[i] || (!values[i] && lens[i])) {
            rc = tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_EINVAL, "field %zu has no name or value", i);
            break;
        }
        if (strcmp(names[i], "id") == 0) {
            rc = tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_EDOC, "field name \"id\" is reserved");
            break;
        }
        size_t n;
        char *v = sanitize_utf8(values[i] ? values[i] : "", lens[i], &n);
        if (!v || json_object_set_new(doc, names[i], json_stringn(v, n))) rc = TRAWL_ENOMEM;
        free(v);
    }
    char *stored = rc ? NULL : json_dumps(doc, JSON_COMPACT);
    if (!rc && !stored) rc = TRAWL_ENOMEM;
    if (rc == TRAWL_ENOMEM) tw_seterr(w->errmsg, sizeof w->errmsg, rc, "out of memory");
    if (!rc) {
        if (strlen(stored) > DOC_MAX_BYTES)
            rc = tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ELIMIT, "document larger than %u bytes", DOC_MAX_BYTES);
        else
            rc = add_doc(w, doc, stored, strlen(stored));
    }
    free(stored);
    json_decref(doc);
    return rc;
}

/* Marks, in the committed segments and the new ones, every document whose id
 * reappears later (in a newer segment or later in the same segment). */
static int compute_deletes(trawl_writer *w, tw_manifest *next) {
    size_t nold = w->man.nsegs, nall = nold + w->npend;
    tw_segment **segs = calloc(nall ? nall : 1, sizeof *segs);
    roaring_bitmap_t **del = calloc(nall ? nall : 1, sizeof *del);
    int *changed = calloc(nall ? nall : 1, sizeof *changed);
    int rc = 0;
    if (!segs || !del || !changed) {
        rc = tw_seterr(w->errmsg, sizeof w->errmsg, TRAWL_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nall && rc == 0; i++) {
        const char *name = i < nold ? w->man.segs[i].name : w->pend[i - nold].name;
        char *path = tw_path_join(w->dir, name);
        if (!path) {
            rc = TRAWL_ENOMEM;
            break;
        }
        rc = tw_segment_open(path, &segs[i], w->errmsg, sizeof w->errmsg);
        free(path);
        if (rc) break;
        if (i < nold && w->man.segs[i].del) {
            char *dp = tw_path_join(w->dir, w->man.segs[i].del);
            rc = dp ? tw_deletes_read(dp, segs[i]->ndocs, &del[i], w->errmsg, sizeof w->errmsg) : TRAWL_ENOMEM;
            free(dp);
        } else {
            del[i] = roaring_bitmap_create();
            if (!del[i]) rc = TRAWL_ENOMEM;
        }
    }
    /* For each new segment (in order), each of its ids kills older copies. */
    for (size_t i = nold; i < nall && rc == 0; i++) {
        tw_segment *s = segs[i];
        for (uint32_t k = 0; k < s->ndocs; k++) {
            /* ids sorted with the newest doc first among equals */
            uint32_t d = tw_ld32(s->id_sorted + 4 * (size_t)k);
            size_t len;
            const char *id = tw_segment_id(s, d, &len);
            if (k > 0) {
                size_t pl;
                const char *pid = tw_segment_id(s, tw_ld32(s->id_sorted + 4 * (size_t)(k - 1)), &pl);
                if (pl == len && memcmp(pid, id, len) == 0) {
                    roaring_bitmap_add(del[i], d);
                    changed[i] = 1;
                    continue;
                }
            }
            for (size_t j = 0; j < i; j++) {
                int64_t old = tw_segment_find_id(segs[j], id, len);
                /* Earlier copies within segment j are already deleted. */
                if (old >= 0 && !roaring_bitmap_contains(del[j], (uint32_t)old)) {
                    roaring_bitmap_add(del[j], (uint32_t)old);
                    changed[j] = 1;
                }
            }
        }
    }
    for (size_t i = 0; i < nall && rc == 0; i++) {
        const char *name = i < nold ? w->man.segs[i].name : w->pend[i - nold].name;
        uint32_t docs = segs[i]->ndocs;
        const char *delname = i < nold ? w->man.segs[i].del : NULL;
        char dn[160];
        if (changed[i]) {
            roaring_bitmap_run_optimize(del[i]);
            snprintf(dn, sizeof dn, "%.*s-%06" PRIu64 ".del", (int)(strlen(name) - 4), name, next->generation);
            char *dp = tw_path_join(w->dir, dn);
            rc = dp ? tw_deletes_write(dp, del[i], w->errmsg, sizeof w->errmsg) : TRAWL_ENOMEM;
            free(dp);
            delname = dn;
        }
        /* A segment whose every document is deleted leaves the index. */
        if (rc == 0 && roaring_bitmap_get_cardinality(del[i]) < docs)
            rc = tw_manifest_add(next, name, delname, docs);
    }
out:
    for (size_t i = 0; segs && del && i < nall; i++) {
        tw_segment_close(segs[i]);
        if (del[i]) roaring_bitmap_free(del[i]);
    }
    free(segs);
    free(del);
    free(changed);
    if (rc == TRAWL_ENOMEM) tw_seterr(w->errmsg, sizeof w->errmsg, rc, "out of memory");
    return rc;
}

trawl_rc trawl_writer_commit(trawl_writer *w) {
    if (!w) return TRAWL_EINVAL;
    int rc = flush(w);
    if (rc) return rc;
    if (w->npend == 0 && w->man.generation > 0) return 0;
    tw_manifest next;
    memset(&next, 0, sizeof next);
    next.generation = w->man.generation + 1;
    memcpy(next.lang, w->man.lang, sizeof next.lang);
    rc = compute_deletes(w, &next);
    if (rc == 0) rc = tw_manifest_write(w->dir, &next, w->errmsg, sizeof w->errmsg);
    if (rc) {
        tw_manifest_free(&next);
        return rc;
    }
    tw_manifest_free(&w->man);
    w->man = next;
    for (size_t i = 0; i < w->npend; i++) free(w->pend[i].name);
    free(w->pend);
    w->pend = NULL;
    w->npend = 0;
    w->seq = 0;
    w->pending_docs = 0;
    collect_garbage(w);
    return 0;
}
