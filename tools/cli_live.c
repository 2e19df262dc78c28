/*
 * cli_live.c — the commands that change an existing index without adding
 * documents: `trawl delete` (by id or by query) and `trawl merge`, and
 * `trawl backup`, which copies one. Each of the first two opens a writer on an
 * existing index (never creates one), does its work and commits once; on any
 * failure nothing is committed.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Opens a writer on the existing index dir (a directory without MANIFEST is
 * refused here, so that these commands never create an index). CLI_CONTINUE
 * with *w set, or an exit code after a message. */
static int open_existing(const char *dir, trawl_writer **w) {
    *w = NULL;
    size_t n = strlen(dir);
    char *mp = malloc(n + 10);
    if (!mp) return cli_error("out of memory");
    memcpy(mp, dir, n);
    memcpy(mp + n, "/MANIFEST", 10);
    struct stat st;
    int exists = stat(mp, &st) == 0;
    free(mp);
    if (!exists) return cli_error("%s: not an index (no MANIFEST)", dir);
    trawl_open_options *o;
    int st2 = cli_open_options(&o);
    if (st2 != CLI_CONTINUE) return st2;
    char *errmsg = NULL;
    trawl_rc rc = trawl_writer_open_v2(dir, NULL, o, w, &errmsg);
    trawl_open_options_free(o);
    if (rc != TRAWL_OK) return cli_lib_error(dir, rc, errmsg);
    trawl_free(errmsg);
    return CLI_CONTINUE;
}

/* Commits and closes w; the exit code. */
static int commit_close(trawl_writer *w, const char *dir) {
    trawl_rc rc = trawl_writer_commit(w);
    int code = CLI_EXIT_OK;
    if (rc != TRAWL_OK) {
        const char *m = trawl_writer_errmsg(w);
        code = cli_error("%s: commit failed: %s", dir, m && *m ? m : trawl_strerror(rc));
    } else if (trawl_writer_wait(w) != TRAWL_OK) { /* the merge the commit started */
        fprintf(stderr, "trawl: %s: warning: %s (the commit is durable)\n", dir, trawl_writer_errmsg(w));
    }
    trawl_writer_close(w);
    return code;
}

/* ------------------------------------------------------------------------ */
/* delete                                                                    */

enum { OPT_QUERY = 1 };

static const cli_opt delete_opts[] = {{OPT_QUERY, 0, "query", 1}};

static int on_delete_option(void *ctx, const cli_command *cmd, int key, const char *value) {
    (void)cmd;
    if (key == OPT_QUERY) *(const char **)ctx = value;
    return CLI_CONTINUE;
}

static int run_delete(const cli_command *cmd, int argc, char **argv) {
    const char *query = NULL;
    size_t npos;
    int st = cli_parse(cmd, argc, argv, delete_opts, 1, on_delete_option, &query, &npos);
    if (st != CLI_CONTINUE) return st;
    if (npos < 1) return cli_usage_error(cmd, "the index directory is required");
    if (query && npos > 1) return cli_usage_error(cmd, "give either ids or --query, not both");
    if (!query && npos < 2) return cli_usage_error(cmd, "give the ids to delete, or --query Q");
    const char *dir = argv[1];
    trawl_writer *w;
    if ((st = open_existing(dir, &w)) != CLI_CONTINUE) return st;
    trawl_rc rc = TRAWL_OK;
    uint64_t count = 0;
    if (query) {
        rc = trawl_writer_delete_query(w, query, &count);
    } else {
        for (size_t i = 2; i <= npos && rc == TRAWL_OK; i++) rc = trawl_writer_delete(w, argv[i]);
    }
    if (rc != TRAWL_OK) {
        const char *m = trawl_writer_errmsg(w);
        cli_error("%s: %s; nothing was deleted", dir, m && *m ? m : trawl_strerror(rc));
        trawl_writer_close(w);
        return CLI_EXIT_ERROR;
    }
    int code = commit_close(w, dir);
    if (code == CLI_EXIT_OK && query) printf("%llu\n", (unsigned long long)count);
    return code;
}

const cli_command cli_cmd_delete = {
    "delete",
    "delete documents by id or by query",
    "usage: trawl delete INDEX ID...\n"
    "       trawl delete INDEX --query Q\n"
    "\n"
    "Deletes from INDEX the documents with the given ids (ids not in the index\n"
    "are ignored), or every document the query Q matches (search syntax, AND as\n"
    "the default operator), in one commit; with --query, prints how many\n"
    "documents were deleted. Deleted documents leave results, totals, get and\n"
    "ranking statistics; their space is reclaimed when segments are merged.\n"
    "\n"
    "Options:\n"
    "      --query Q   delete the documents Q matches\n"
    "  -h, --help      show this help\n",
    run_delete,
};

/* ------------------------------------------------------------------------ */
/* merge                                                                     */

enum { OPT_MAX_SEGMENTS = 1 };

static const cli_opt merge_opts[] = {{OPT_MAX_SEGMENTS, 0, "max-segments", 1}};

static int on_merge_option(void *ctx, const cli_command *cmd, int key, const char *value) {
    if (key == OPT_MAX_SEGMENTS && cli_parse_size(value, 1, (size_t)1 << 30, (size_t *)ctx) != 0)
        return cli_usage_error(cmd, "--max-segments wants a whole number from 1, not '%s'", value);
    return CLI_CONTINUE;
}

static int run_merge(const cli_command *cmd, int argc, char **argv) {
    size_t max_segments = 0, npos;
    int st = cli_parse(cmd, argc, argv, merge_opts, 1, on_merge_option, &max_segments, &npos);
    if (st == CLI_CONTINUE) st = cli_want_positionals(cmd, npos, 1, 1);
    if (st != CLI_CONTINUE) return st;
    const char *dir = argv[1];
    trawl_writer *w;
    if ((st = open_existing(dir, &w)) != CLI_CONTINUE) return st;
    trawl_writer_set_auto_merge(w, 0);
    trawl_rc rc = trawl_writer_merge(w, max_segments);
    int code = CLI_EXIT_OK;
    if (rc != TRAWL_OK) {
        const char *m = trawl_writer_errmsg(w);
        code = cli_error("%s: merge failed (the index is unchanged): %s", dir, m && *m ? m : trawl_strerror(rc));
    }
    trawl_writer_close(w);
    return code;
}

const cli_command cli_cmd_merge = {
    "merge",
    "merge segments and drop deleted documents",
    "usage: trawl merge [--max-segments N] INDEX\n"
    "\n"
    "Merges the segments of INDEX in one commit: runs of adjacent segments of\n"
    "similar size (ten at a time) are rebuilt into one, and every segment with\n"
    "deleted documents is rewritten without them. With --max-segments N,\n"
    "adjacent segments are also joined until at most N remain (1: one segment).\n"
    "Documents keep their order; search results are the same before and after.\n"
    "Searches may run meanwhile; a reader opened before keeps its commit.\n"
    "\n"
    "Options:\n"
    "      --max-segments N   leave at most N segments\n"
    "  -h, --help             show this help\n",
    run_merge,
};

/* ------------------------------------------------------------------------ */
/* backup                                                                    */

/* The option handler of a command without options (never called). */
static int no_option(void *ctx, const cli_command *cmd, int key, const char *value) {
    (void)ctx, (void)key, (void)value;
    return cli_usage_error(cmd, "takes no options");
}

static int run_backup(const cli_command *cmd, int argc, char **argv) {
    size_t npos;
    int st = cli_parse(cmd, argc, argv, NULL, 0, no_option, NULL, &npos);
    if (st == CLI_CONTINUE) st = cli_want_positionals(cmd, npos, 2, 2);
    if (st != CLI_CONTINUE) return st;
    char *errmsg = NULL;
    trawl_rc rc = trawl_backup(argv[1], argv[2], &errmsg);
    if (rc != TRAWL_OK) return cli_lib_error(argv[1], rc, errmsg);
    return CLI_EXIT_OK;
}

const cli_command cli_cmd_backup = {
    "backup",
    "copy the current commit of an index",
    "usage: trawl backup INDEX DEST\n"
    "\n"
    "Copies the current commit of INDEX into DEST (a new or empty directory),\n"
    "consistently even while documents are being added or merged: hard links\n"
    "where the file system allows (committed files never change), copies\n"
    "otherwise; the MANIFEST is written last. DEST is an index of its own.\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help\n",
    run_backup,
};
