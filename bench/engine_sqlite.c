/*
 * engine_sqlite.c — the SQLite FTS5 peer of trawl-bench, through the sqlite3 C
 * API in-process.
 *
 * Index: one file INDEX_DIR/fts5.db holding
 *   CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body,
 *                                        tokenize='porter unicode61')
 * filled in one transaction with a prepared INSERT, then merged into one b-tree
 * with FTS5's 'optimize' command (its time counts as indexing). The whole
 * document is stored (FTS5 keeps its content table), as trawl stores documents.
 * Index bytes = the database file size after commit (journal mode DELETE, so
 * nothing else remains).
 *
 * Queries: the words become FTS5 strings, each word double-quoted so that no
 * word can act as an operator:
 *   and    "w1" "w2"          or     "w1" OR "w2"
 *   phrase "w1 w2"            count  SELECT count(*) ... MATCH '"w1" "w2"'
 * Ranking is bm25(docs, 0, 2, 1): title weight 2 and body 1, as trawl's
 * defaults (the id column is UNINDEXED and weighted 0). k1 = 1.2 and b = 0.75
 * are FTS5's fixed values, the same as trawl's defaults.
 *
 * Ranked classes need the top K and the exact total. The default plan
 * (BENCH_FTS5_PLAN=scan) reads every match once with its bm25 score
 * (SELECT rowid, bm25(...) ... MATCH ?), keeps the best K in a heap in C and
 * counts the rest, then fetches the K ids by rowid. Alternatives, for checking
 * that the peer gets its fastest plan: "window" = one statement
 * SELECT id, count(*) OVER () FROM (SELECT id, bm25(...) AS score ... MATCH ?)
 * ORDER BY score LIMIT K (FTS5 refuses bm25 directly beside a window function); "two" = the
 * ORDER BY ... LIMIT K statement plus a separate count(*) statement.
 */
#include "bench.h"

#ifdef TRAWL_BENCH_HAVE_SQLITE

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FTS5_RANK "bm25(docs, 0.0, 2.0, 1.0)"

enum { PLAN_SCAN, PLAN_WINDOW, PLAN_TWO };

typedef struct fts5_handle {
    sqlite3 *db;
    sqlite3_stmt *scan;     /* rowid, score of every match */
    sqlite3_stmt *by_rowid; /* id of a rowid */
    sqlite3_stmt *window;   /* id, total of the best K */
    sqlite3_stmt *topk;     /* id of the best K */
    sqlite3_stmt *count;    /* count of matches */
    int plan;
    bench_mode mode; /* BENCH_DEFAULT: the top-K statement alone, no count */
    char *qbuf;      /* the MATCH expression being built */
    size_t qcap;
    struct hit {
        double score;
        sqlite3_int64 rowid;
    } * heap;
    size_t heapcap;
} fts5_handle;

/* Makes dir/fts5.db's path in buf. */
static int db_path(const char *dir, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "%s/fts5.db", dir);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

typedef struct build_ctx {
    sqlite3 *db;
    sqlite3_stmt *ins;
    uint64_t docs;
} build_ctx;

static int add_doc(void *vctx, const bench_doc *d, char *err, size_t errlen) {
    build_ctx *c = vctx;
    sqlite3_bind_text(c->ins, 1, d->id, (int)d->id_len, SQLITE_STATIC);
    sqlite3_bind_text(c->ins, 2, d->title, (int)d->title_len, SQLITE_STATIC);
    sqlite3_bind_text(c->ins, 3, d->body, (int)d->body_len, SQLITE_STATIC);
    int rc = sqlite3_step(c->ins);
    sqlite3_reset(c->ins);
    if (rc != SQLITE_DONE) {
        bench_seterr(err, errlen, "fts5 insert: %s", sqlite3_errmsg(c->db));
        return -1;
    }
    c->docs++;
    return 0;
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        bench_seterr(err, errlen, "sqlite: %s: %s", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Creates dir (when missing) and a new, empty dir/fts5.db in it, open in *db
 * (to be closed by the caller, even on failure). 0 or -1 with a message. */
static int open_new_db(const char *dir, sqlite3 **db, char *err, size_t errlen) {
    char path[4096];
    *db = NULL;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        bench_seterr(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (db_path(dir, path, sizeof path) != 0) {
        bench_seterr(err, errlen, "path too long");
        return -1;
    }
    remove(path);
    if (sqlite3_open(path, db) != SQLITE_OK) {
        bench_seterr(err, errlen, "%s: %s", path, *db ? sqlite3_errmsg(*db) : "cannot open");
        return -1;
    }
    return 0;
}

static int fts5_build(const char *corpus, const char *dir, uint64_t *docs, char *err, size_t errlen) {
    build_ctx c = {NULL, NULL, 0};
    int rc = -1;
    if (open_new_db(dir, &c.db, err, errlen) != 0) goto done;
    if (exec(c.db,
             "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body,"
             " tokenize='porter unicode61')",
             err, errlen) != 0)
        goto done;
    if (exec(c.db, "BEGIN", err, errlen) != 0) goto done;
    if (sqlite3_prepare_v2(c.db, "INSERT INTO docs(id, title, body) VALUES(?1, ?2, ?3)", -1, &c.ins, NULL) !=
        SQLITE_OK) {
        bench_seterr(err, errlen, "fts5 prepare: %s", sqlite3_errmsg(c.db));
        goto done;
    }
    if (bench_corpus_each(corpus, add_doc, &c, err, errlen) != 0) goto done;
    if (exec(c.db, "INSERT INTO docs(docs) VALUES('optimize')", err, errlen) != 0) goto done;
    if (exec(c.db, "COMMIT", err, errlen) != 0) goto done;
    *docs = c.docs;
    rc = 0;
done:
    sqlite3_finalize(c.ins);
    sqlite3_close(c.db);
    return rc;
}

static void fts5_close(void *h) {
    fts5_handle *f = h;
    if (!f) return;
    sqlite3_finalize(f->scan);
    sqlite3_finalize(f->by_rowid);
    sqlite3_finalize(f->window);
    sqlite3_finalize(f->topk);
    sqlite3_finalize(f->count);
    sqlite3_close(f->db);
    free(f->qbuf);
    free(f->heap);
    free(f);
}

static int fts5_open(const char *dir, void **h, char *err, size_t errlen) {
    char path[4096];
    *h = NULL;
    if (db_path(dir, path, sizeof path) != 0) {
        bench_seterr(err, errlen, "path too long");
        return -1;
    }
    fts5_handle *f = calloc(1, sizeof *f);
    if (!f) {
        bench_seterr(err, errlen, "out of memory");
        return -1;
    }
    const char *plan = getenv("BENCH_FTS5_PLAN");
    f->plan = !plan || strcmp(plan, "scan") == 0 ? PLAN_SCAN
              : strcmp(plan, "window") == 0      ? PLAN_WINDOW
              : strcmp(plan, "two") == 0         ? PLAN_TWO
                                                 : -1;
    if (f->plan < 0) {
        bench_seterr(err, errlen, "BENCH_FTS5_PLAN must be scan, window or two");
        fts5_close(f);
        return -1;
    }
    if (sqlite3_open_v2(path, &f->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        bench_seterr(err, errlen, "%s: %s", path, f->db ? sqlite3_errmsg(f->db) : "cannot open");
        fts5_close(f);
        return -1;
    }
    static const char *const sql[5] = {
        "SELECT rowid, " FTS5_RANK " FROM docs WHERE docs MATCH ?1",
        "SELECT id FROM docs WHERE rowid = ?1",
        "SELECT id, count(*) OVER () FROM (SELECT id, " FTS5_RANK " AS score FROM docs WHERE docs MATCH ?1)"
        " ORDER BY score LIMIT ?2",
        "SELECT id FROM docs WHERE docs MATCH ?1 ORDER BY " FTS5_RANK " LIMIT ?2",
        "SELECT count(*) FROM docs WHERE docs MATCH ?1",
    };
    sqlite3_stmt **st[5] = {&f->scan, &f->by_rowid, &f->window, &f->topk, &f->count};
    for (int i = 0; i < 5; i++) {
        if (sqlite3_prepare_v3(f->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, st[i], NULL) != SQLITE_OK) {
            bench_seterr(err, errlen, "fts5 prepare %s: %s", sql[i], sqlite3_errmsg(f->db));
            fts5_close(f);
            return -1;
        }
    }
    *h = f;
    return 0;
}

/* Builds the MATCH expression for q in f->qbuf. Returns 0 or -1 (OOM). */
static int build_match(fts5_handle *f, bench_class cls, const bench_query *q) {
    size_t need = 8;
    for (size_t i = 0; i < q->nwords; i++) need += strlen(q->words[i]) + 8;
    if (need > f->qcap) {
        char *nb = realloc(f->qbuf, need);
        if (!nb) return -1;
        f->qbuf = nb;
        f->qcap = need;
    }
    char *p = f->qbuf;
    if (cls == BENCH_PHRASE) *p++ = '"';
    for (size_t i = 0; i < q->nwords; i++) {
        if (i > 0) {
            if (cls == BENCH_OR) {
                memcpy(p, " OR ", 4);
                p += 4;
            } else {
                *p++ = ' ';
            }
        }
        if (cls != BENCH_PHRASE) *p++ = '"';
        size_t n = strlen(q->words[i]);
        memcpy(p, q->words[i], n);
        p += n;
        if (cls != BENCH_PHRASE) *p++ = '"';
    }
    if (cls == BENCH_PHRASE) *p++ = '"';
    *p = '\0';
    return 0;
}

/* Heap of the best K hits by score (FTS5's bm25 is lower = better): a max-heap
 * on score, so the root is the worst hit kept. */
static void heap_sift_down(struct hit *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].score > h[m].score) m = l;
        if (r < n && h[r].score > h[m].score) m = r;
        if (m == i) return;
        struct hit t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_sift_up(struct hit *h, size_t i) {
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p].score >= h[i].score) return;
        struct hit t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

static int cmp_hit(const void *a, const void *b) {
    const struct hit *x = a, *y = b;
    return x->score < y->score ? -1 : x->score > y->score ? 1 : (x->rowid > y->rowid) - (x->rowid < y->rowid);
}

static int step_error(fts5_handle *f, sqlite3_stmt *st, char *err, size_t errlen) {
    bench_seterr(err, errlen, "fts5 query %s: %s", f->qbuf, sqlite3_errmsg(f->db));
    sqlite3_reset(st);
    return -1;
}

static int run_scan(fts5_handle *f, sqlite3_stmt *scan, size_t k, bench_result *res, char *err, size_t errlen) {
    if (k > f->heapcap) {
        struct hit *nh = realloc(f->heap, k * sizeof *nh);
        if (!nh) {
            bench_seterr(err, errlen, "out of memory");
            return -1;
        }
        f->heap = nh;
        f->heapcap = k;
    }
    sqlite3_bind_text(scan, 1, f->qbuf, -1, SQLITE_STATIC);
    size_t n = 0;
    uint64_t total = 0;
    int rc;
    while ((rc = sqlite3_step(scan)) == SQLITE_ROW) {
        total++;
        struct hit h = {sqlite3_column_double(scan, 1), sqlite3_column_int64(scan, 0)};
        if (n < k) {
            f->heap[n] = h;
            heap_sift_up(f->heap, n++);
        } else if (k > 0 && h.score < f->heap[0].score) {
            f->heap[0] = h;
            heap_sift_down(f->heap, n, 0);
        }
    }
    if (rc != SQLITE_DONE) return step_error(f, scan, err, errlen);
    sqlite3_reset(scan);
    qsort(f->heap, n, sizeof *f->heap, cmp_hit);
    res->total = total;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(f->by_rowid, 1, f->heap[i].rowid);
        if (sqlite3_step(f->by_rowid) != SQLITE_ROW) return step_error(f, f->by_rowid, err, errlen);
        const char *id = (const char *)sqlite3_column_text(f->by_rowid, 0);
        int len = sqlite3_column_bytes(f->by_rowid, 0);
        if (bench_result_add(res, id ? id : "", id ? (size_t)len : 0) != 0) {
            sqlite3_reset(f->by_rowid);
            bench_seterr(err, errlen, "out of memory");
            return -1;
        }
        sqlite3_reset(f->by_rowid);
    }
    return 0;
}

/* Steps st (bound already) collecting column 0 as ids; column 1, if want_total,
 * is the total. */
static int collect_ids(fts5_handle *f, sqlite3_stmt *st, int want_total, bench_result *res, char *err, size_t errlen) {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        if (want_total) res->total = (uint64_t)sqlite3_column_int64(st, 1);
        if (bench_result_add(res, id ? id : "", id ? (size_t)len : 0) != 0) {
            sqlite3_reset(st);
            bench_seterr(err, errlen, "out of memory");
            return -1;
        }
    }
    if (rc != SQLITE_DONE) return step_error(f, st, err, errlen);
    sqlite3_reset(st);
    return 0;
}

static int run_count(fts5_handle *f, bench_result *res, char *err, size_t errlen) {
    sqlite3_bind_text(f->count, 1, f->qbuf, -1, SQLITE_STATIC);
    if (sqlite3_step(f->count) != SQLITE_ROW) return step_error(f, f->count, err, errlen);
    res->total = (uint64_t)sqlite3_column_int64(f->count, 0);
    sqlite3_reset(f->count);
    return 0;
}

static int fts5_run(void *h, bench_class cls, const bench_query *q, size_t k, bench_result *res, char *err,
                    size_t errlen) {
    fts5_handle *f = h;
    if (build_match(f, cls == BENCH_COUNT ? BENCH_AND : cls, q) != 0) {
        bench_seterr(err, errlen, "out of memory");
        return -1;
    }
    if (cls == BENCH_COUNT) return run_count(f, res, err, errlen);
    if (f->mode == BENCH_DEFAULT) { /* ORDER BY rank LIMIT K, as FTS5's users write it; no total */
        sqlite3_bind_text(f->topk, 1, f->qbuf, -1, SQLITE_STATIC);
        sqlite3_bind_int64(f->topk, 2, (sqlite3_int64)k);
        return collect_ids(f, f->topk, 0, res, err, errlen);
    }
    switch (f->plan) {
        case PLAN_WINDOW:
            sqlite3_bind_text(f->window, 1, f->qbuf, -1, SQLITE_STATIC);
            sqlite3_bind_int64(f->window, 2, (sqlite3_int64)k);
            return collect_ids(f, f->window, 1, res, err, errlen);
        case PLAN_TWO:
            sqlite3_bind_text(f->topk, 1, f->qbuf, -1, SQLITE_STATIC);
            sqlite3_bind_int64(f->topk, 2, (sqlite3_int64)k);
            if (collect_ids(f, f->topk, 0, res, err, errlen) != 0) return -1;
            return run_count(f, res, err, errlen);
        default: return run_scan(f, f->scan, k, res, err, errlen);
    }
}

static const char *fts5_version(void) {
    return sqlite3_libversion();
}

static void fts5_set_mode(void *h, bench_mode mode) {
    ((fts5_handle *)h)->mode = mode;
}

static const bench_engine fts5_engine = {"fts5",   fts5_version, fts5_build,   fts5_open,
                                         fts5_run, fts5_close,   fts5_set_mode};

const bench_engine *bench_engine_fts5(void) {
    return &fts5_engine;
}

/* ---- analytics (trawl-bench analytics) ----------------------------------
 *
 * Index: INDEX_DIR/fts5.db holding the text in an FTS5 table and the dated
 * fields in ordinary tables joined on rowid, as SQLite's users keep them:
 *   CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='porter unicode61')
 *   CREATE TABLE meta(rowid INTEGER PRIMARY KEY, id TEXT, date INTEGER, source TEXT, author TEXT)
 *   CREATE TABLE tags(doc INTEGER, tag TEXT, PRIMARY KEY(doc, tag)) WITHOUT ROWID
 *   CREATE INDEX meta_date ON meta(date)      -- for date ranges and sort
 * date is epoch seconds. One transaction, then FTS5 'optimize' (all counted);
 * no ANALYZE (not a default step). Queries (MATCH as in the FTS5 peer, "w1" "w2"):
 *   histogram  SELECT strftime('%Y-%m', m.date, 'unixepoch') AS mon, count(*)
 *              FROM docs JOIN meta m ON m.rowid = docs.rowid WHERE docs MATCH ?1
 *              GROUP BY mon ORDER BY mon
 *   facets     SELECT t.tag, count(*) AS c FROM docs JOIN tags t ON t.doc = docs.rowid
 *              WHERE docs MATCH ?1 GROUP BY t.tag ORDER BY c DESC, t.tag LIMIT ?2
 *              plus SELECT count(*) ... MATCH ?1 for the total
 *   and        the FTS5 peer's default plan (every match with its bm25, top K in C)
 *   and+filter the same plan over SELECT docs.rowid, bm25(...) FROM docs JOIN meta m
 *              ON m.rowid = docs.rowid WHERE docs MATCH ?1 AND m.date BETWEEN ?2 AND ?3
 *   sort       SELECT m.date FROM docs JOIN meta m ON m.rowid = docs.rowid
 *              WHERE docs MATCH ?1 ORDER BY m.date DESC LIMIT ?2, plus the count
 */

#define AN_RANK "bm25(docs, 2.0, 1.0)"

typedef struct an_handle {
    fts5_handle f; /* scan, by_rowid (id from meta) and count, as the FTS5 peer */
    sqlite3_stmt *hist, *facet, *filter, *sort;
} an_handle;

typedef struct an_build_ctx {
    sqlite3 *db;
    sqlite3_stmt *ins_text, *ins_meta, *ins_tag;
    uint64_t docs;
} an_build_ctx;

static int an_add_doc(void *vctx, const bench_doc *d, char *err, size_t errlen) {
    an_build_ctx *c = vctx;
    sqlite3_int64 rowid = (sqlite3_int64)c->docs + 1;
    sqlite3_bind_int64(c->ins_text, 1, rowid);
    sqlite3_bind_text(c->ins_text, 2, d->title, (int)d->title_len, SQLITE_STATIC);
    sqlite3_bind_text(c->ins_text, 3, d->body, (int)d->body_len, SQLITE_STATIC);
    int rc = sqlite3_step(c->ins_text);
    sqlite3_reset(c->ins_text);
    sqlite3_bind_int64(c->ins_meta, 1, rowid);
    sqlite3_bind_text(c->ins_meta, 2, d->id, (int)d->id_len, SQLITE_STATIC);
    if (d->has_date)
        sqlite3_bind_int64(c->ins_meta, 3, (sqlite3_int64)d->date);
    else
        sqlite3_bind_null(c->ins_meta, 3);
    sqlite3_bind_text(c->ins_meta, 4, d->source, (int)d->source_len, SQLITE_STATIC);
    sqlite3_bind_text(c->ins_meta, 5, d->author, (int)d->author_len, SQLITE_STATIC);
    if (rc == SQLITE_DONE) rc = sqlite3_step(c->ins_meta);
    sqlite3_reset(c->ins_meta);
    for (size_t i = 0; i < d->ntags && rc == SQLITE_DONE; i++) {
        sqlite3_bind_int64(c->ins_tag, 1, rowid);
        sqlite3_bind_text(c->ins_tag, 2, d->tags[i], (int)d->tag_len[i], SQLITE_STATIC);
        rc = sqlite3_step(c->ins_tag);
        sqlite3_reset(c->ins_tag);
    }
    if (rc != SQLITE_DONE) {
        bench_seterr(err, errlen, "sqlite insert: %s", sqlite3_errmsg(c->db));
        return -1;
    }
    c->docs++;
    return 0;
}

static int an_build(const char *corpus, const char *dir, uint64_t *docs, char *err, size_t errlen) {
    an_build_ctx c;
    memset(&c, 0, sizeof c);
    int rc = -1;
    if (open_new_db(dir, &c.db, err, errlen) != 0) goto done;
    if (exec(c.db,
             "CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='porter unicode61');"
             "CREATE TABLE meta(rowid INTEGER PRIMARY KEY, id TEXT, date INTEGER, source TEXT, author TEXT);"
             "CREATE TABLE tags(doc INTEGER, tag TEXT, PRIMARY KEY(doc, tag)) WITHOUT ROWID;"
             "BEGIN",
             err, errlen) != 0)
        goto done;
    if (sqlite3_prepare_v2(c.db, "INSERT INTO docs(rowid, title, body) VALUES(?1, ?2, ?3)", -1, &c.ins_text, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(c.db, "INSERT INTO meta(rowid, id, date, source, author) VALUES(?1, ?2, ?3, ?4, ?5)", -1,
                           &c.ins_meta, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c.db, "INSERT OR IGNORE INTO tags(doc, tag) VALUES(?1, ?2)", -1, &c.ins_tag, NULL) !=
            SQLITE_OK) {
        bench_seterr(err, errlen, "sqlite prepare: %s", sqlite3_errmsg(c.db));
        goto done;
    }
    if (bench_corpus_each(corpus, an_add_doc, &c, err, errlen) != 0) goto done;
    if (exec(c.db,
             "INSERT INTO docs(docs) VALUES('optimize');"
             "CREATE INDEX meta_date ON meta(date);"
             "COMMIT",
             err, errlen) != 0)
        goto done;
    *docs = c.docs;
    rc = 0;
done:
    sqlite3_finalize(c.ins_text);
    sqlite3_finalize(c.ins_meta);
    sqlite3_finalize(c.ins_tag);
    sqlite3_close(c.db);
    return rc;
}

static void an_close(void *h) {
    an_handle *a = h;
    if (!a) return;
    sqlite3_finalize(a->hist);
    sqlite3_finalize(a->facet);
    sqlite3_finalize(a->filter);
    sqlite3_finalize(a->sort);
    sqlite3_finalize(a->f.scan);
    sqlite3_finalize(a->f.by_rowid);
    sqlite3_finalize(a->f.count);
    sqlite3_close(a->f.db);
    free(a->f.qbuf);
    free(a->f.heap);
    free(a);
}

static int an_open(const char *dir, void **h, char *err, size_t errlen) {
    char path[4096];
    *h = NULL;
    if (db_path(dir, path, sizeof path) != 0) {
        bench_seterr(err, errlen, "path too long");
        return -1;
    }
    an_handle *a = calloc(1, sizeof *a);
    if (!a) {
        bench_seterr(err, errlen, "out of memory");
        return -1;
    }
    if (sqlite3_open_v2(path, &a->f.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        bench_seterr(err, errlen, "%s: %s", path, a->f.db ? sqlite3_errmsg(a->f.db) : "cannot open");
        an_close(a);
        return -1;
    }
    static const char *const sql[7] = {
        "SELECT rowid, " AN_RANK " FROM docs WHERE docs MATCH ?1",
        "SELECT id FROM meta WHERE rowid = ?1",
        "SELECT count(*) FROM docs WHERE docs MATCH ?1",
        "SELECT strftime('%Y-%m', m.date, 'unixepoch') AS mon, count(*) FROM docs JOIN meta m ON m.rowid = "
        "docs.rowid WHERE docs MATCH ?1 GROUP BY mon ORDER BY mon",
        "SELECT t.tag, count(*) AS c FROM docs JOIN tags t ON t.doc = docs.rowid WHERE docs MATCH ?1"
        " GROUP BY t.tag ORDER BY c DESC, t.tag LIMIT ?2",
        "SELECT docs.rowid, " AN_RANK " FROM docs JOIN meta m ON m.rowid = docs.rowid"
        " WHERE docs MATCH ?1 AND m.date BETWEEN ?2 AND ?3",
        "SELECT m.date FROM docs JOIN meta m ON m.rowid = docs.rowid WHERE docs MATCH ?1"
        " ORDER BY m.date DESC LIMIT ?2",
    };
    sqlite3_stmt **st[7] = {&a->f.scan, &a->f.by_rowid, &a->f.count, &a->hist, &a->facet, &a->filter, &a->sort};
    for (int i = 0; i < 7; i++) {
        if (sqlite3_prepare_v3(a->f.db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, st[i], NULL) != SQLITE_OK) {
            bench_seterr(err, errlen, "sqlite prepare %s: %s", sql[i], sqlite3_errmsg(a->f.db));
            an_close(a);
            return -1;
        }
    }
    *h = a;
    return 0;
}

/* Steps st (bound already): column 0 text and column 1 count become "KEY COUNT"
 * items; res->total gets the sum of the counts. */
static int collect_pairs(fts5_handle *f, sqlite3_stmt *st, bench_result *res, char *err, size_t errlen) {
    int rc;
    char item[512];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        int n = snprintf(item, sizeof item, "%s %lld", key ? key : "", (long long)sqlite3_column_int64(st, 1));
        if (n < 0 || (size_t)n >= sizeof item || bench_result_add(res, item, (size_t)n) != 0) {
            sqlite3_reset(st);
            bench_seterr(err, errlen, "out of memory or key too long");
            return -1;
        }
        res->total += (uint64_t)sqlite3_column_int64(st, 1);
    }
    if (rc != SQLITE_DONE) return step_error(f, st, err, errlen);
    sqlite3_reset(st);
    return 0;
}

static int an_run(void *h, bench_an_kind kind, const bench_query *q, const bench_an_params *p, bench_result *res,
                  char *err, size_t errlen) {
    an_handle *a = h;
    fts5_handle *f = &a->f;
    if (build_match(f, BENCH_AND, q) != 0) {
        bench_seterr(err, errlen, "out of memory");
        return -1;
    }
    switch (kind) {
        case BENCH_AN_HIST:
            /* The total is the sum of the buckets (every document has a date). */
            sqlite3_bind_text(a->hist, 1, f->qbuf, -1, SQLITE_STATIC);
            return collect_pairs(f, a->hist, res, err, errlen);
        case BENCH_AN_FACET:
            sqlite3_bind_text(a->facet, 1, f->qbuf, -1, SQLITE_STATIC);
            sqlite3_bind_int64(a->facet, 2, (sqlite3_int64)p->facet_n);
            if (collect_pairs(f, a->facet, res, err, errlen) != 0) return -1;
            return run_count(f, res, err, errlen);
        case BENCH_AN_AND: return run_scan(f, f->scan, p->k, res, err, errlen);
        case BENCH_AN_FILTER:
            sqlite3_bind_int64(a->filter, 2, (sqlite3_int64)p->lo);
            sqlite3_bind_int64(a->filter, 3, (sqlite3_int64)p->hi);
            return run_scan(f, a->filter, p->k, res, err, errlen);
        case BENCH_AN_SORT: {
            sqlite3_bind_text(a->sort, 1, f->qbuf, -1, SQLITE_STATIC);
            sqlite3_bind_int64(a->sort, 2, (sqlite3_int64)p->k);
            int rc;
            char item[32];
            while ((rc = sqlite3_step(a->sort)) == SQLITE_ROW) {
                int n = snprintf(item, sizeof item, "%lld", (long long)sqlite3_column_int64(a->sort, 0));
                if (bench_result_add(res, item, (size_t)n) != 0) {
                    sqlite3_reset(a->sort);
                    bench_seterr(err, errlen, "out of memory");
                    return -1;
                }
            }
            if (rc != SQLITE_DONE) return step_error(f, a->sort, err, errlen);
            sqlite3_reset(a->sort);
            return run_count(f, res, err, errlen);
        }
        default: bench_seterr(err, errlen, "sqlite: unknown workload"); return -1;
    }
}

static const bench_an_engine fts5_an = {"fts5", fts5_version, an_build, an_open, an_run, an_close};

const bench_an_engine *bench_an_fts5(void) {
    return &fts5_an;
}

#else /* !TRAWL_BENCH_HAVE_SQLITE */

const bench_engine *bench_engine_fts5(void) {
    return NULL;
}

const bench_an_engine *bench_an_fts5(void) {
    return NULL;
}

#endif
