/*
 * fuzz_query.c — fuzz target for the query parser (query/parser.c, lexer.c)
 * and, differentially, for query execution (planner, cursors, fast paths,
 * kernels, phrase matching).
 *
 * Feeds arbitrary bytes to tw_query_parse in both default-operator modes and
 * formats every tree it returns. Besides crashes and sanitizer reports it
 * checks the parser's contract (return codes, error offsets <= size, AST
 * invariants, tw_query_format's length) and abort()s when one is broken.
 *
 * Then every query that parses (and has no NUL byte) is searched with
 * trawl_search on a small index (built once, on the first call: 160 documents
 * over a 30-word vocabulary in two commits, so lists are both bitmaps and
 * varint lists across two segments), and the result is compared with the
 * brute-force oracle of tests/oracle.h evaluating the very tree the parser
 * returned: the exact total, every hit, its score and the ranking (or_check),
 * or the same error code. So a mismatch points at execution, not at parsing.
 *
 * Built as a real libFuzzer binary (clang, TRAWL_BUILD_FUZZERS) and, always,
 * with driver.c as the ctest smoke test fuzz_query_smoke. State: the index
 * and the oracle corpus live in statics made on the first call; the scratch
 * directory is removed at exit.
 */
#include "ast.h"
#include "oracle.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_seed(size_t i, const uint8_t **data, size_t *len);

/* Seeds for driver.c: queries that reach every construct of the grammar. */
int fuzz_seed(size_t i, const uint8_t **data, size_t *len) {
    static const char *const seeds[] = {
        "a b OR c AND d",
        "title:(foo* OR \"bar baz\") -body:qux +x",
        "NOT (a OR (b c)) --d +-e",
        "http://x e-mail c++ 10:30 std::vector and or not",
        "f.g:\"a\\b\" _x:y* ((a)) a:b:c",
        "\"unterminated (x OR",
        "caf\xc3\xa9 \xff\xfe \x01\x7f *a a* ** ()",
    };

    if (i >= sizeof seeds / sizeof seeds[0]) return -1;
    *data = (const uint8_t *)seeds[i];
    *len = strlen(seeds[i]);
    return 0;
}

/* Checks the invariants of ast.h on a parsed tree; returns its leaf count. */
static size_t check(const tw_node *n, size_t size, int level) {
    size_t i, leaves = 0;

    if (!n || n->offset >= size || level > 2 * TW_QUERY_MAX_DEPTH + 3) abort();
    if (n->kind == TW_Q_BOOL) {
        if (n->nclauses == 0 || (n->nclauses == 1 && n->occurs[0] != TW_MUST_NOT) || n->field) abort();
        for (i = 0; i < n->nclauses; i++) {
            if ((unsigned)n->occurs[i] > TW_MUST_NOT) abort();
            leaves += check(n->clauses[i], size, level + 1);
        }
        return leaves;
    }
    if (n->kind == TW_Q_FILTER) {
        if (!n->field || n->fop < TW_F_EQ || n->fop > TW_F_YEAR || (n->fop != TW_F_RANGE && (!n->text || n->hi)))
            abort();
        if ((n->text && (n->text_len == 0 || n->text[n->text_len] != '\0')) ||
            (n->hi && (n->hi_len == 0 || n->hi[n->hi_len] != '\0')))
            abort();
        return 1;
    }
    if (n->kind != TW_Q_TERM && n->kind != TW_Q_PREFIX && n->kind != TW_Q_PHRASE) abort();
    if (!n->text || n->text_len == 0 || n->text_len > size || n->text[n->text_len] != '\0') abort();
    return 1;
}

/* The index and its oracle (see the header note). */
static struct {
    int ready;
    char dir[512];
    or_corpus c;
    trawl_index *ix;
} ex;

static const char *const vocab[] = {"the",         "quick",        "brown",
                                    "fox",         "alpha",        "beta",
                                    "gamma",       "delta",        "run",
                                    "running",     "runs",         "runner",
                                    "connect",     "connected",    "search",
                                    "searching",   "index",        "indexing",
                                    "caf\xc3\xa9", "na\xc3\xafve", "stra\xc3\x9f\x65",
                                    "e-mail",      "c++",          "42",
                                    "one",         "two",          "three",
                                    "rare",        "zeta",         "\xe6\x97\xa5\xe6\x9c\xac"};

static void remove_index(void) {
    trawl_index_close(ex.ix);
    ex.ix = NULL;
    if (ex.dir[0]) or_rmtree(ex.dir);
    or_corpus_free(&ex.c);
}

/* Text of n words drawn with a skew towards the first words of vocab. */
static void words(or_buf *b, or_rng *r, size_t n) {
    const size_t nv = sizeof vocab / sizeof vocab[0];
    or_buf_reset(b);
    for (size_t i = 0; i < n; i++) {
        size_t k = or_below(r, nv);
        if (or_chance(r, 0.5)) k = or_below(r, k + 1);
        if (i) or_buf_put(b, " ", 1);
        or_buf_puts(b, vocab[k]);
    }
}

static void build_index(void) {
    const char *tmp = getenv("TMPDIR");
    or_rng r = {0x71756572ull};
    or_buf t = {0}, b = {0};
    char id[32], *err = NULL;
    snprintf(ex.dir, sizeof ex.dir, "%s/trawl-fuzz-query-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(ex.dir)) or_die("mkdtemp");
    or_corpus_init(&ex.c, NULL);
    atexit(remove_index);
    for (int commit = 0; commit < 2; commit++) {
        or_rdoc *docs[80];
        for (size_t i = 0; i < 80; i++) {
            docs[i] = or_xcalloc(1, sizeof **docs);
            snprintf(id, sizeof id, "q%03zu", (size_t)commit * 80 + i);
            docs[i]->id = or_xstrdup(id);
            words(&t, &r, 1 + or_below(&r, 4));
            or_rdoc_add_str(docs[i], "title", t.p);
            words(&b, &r, 3 + or_below(&r, 25));
            or_rdoc_add_str(docs[i], "body", b.p);
            if (or_chance(&r, 0.3)) {
                const char *tags[2];
                words(&t, &r, 1);
                tags[0] = or_xstrdup(t.p);
                words(&t, &r, 2);
                tags[1] = t.p;
                or_rdoc_add(docs[i], "tags", OR_V_ARR, 2, tags);
                free((char *)tags[0]);
            }
        }
        if (or_index_docs(ex.dir, docs, 80, &r) != 0) or_die("indexing the fuzz_query corpus");
        for (size_t i = 0; i < 80; i++) {
            or_add(&ex.c, docs[i]);
            free(docs[i]);
        }
    }
    or_finish(&ex.c);
    or_buf_free(&t);
    or_buf_free(&b);
    if (trawl_index_open(ex.dir, &ex.ix, &err) != TRAWL_OK) or_die(err ? err : "trawl_index_open");
    ex.ready = 1;
}

/* The parser's tree as an oracle query: each BOOL a group whose clauses carry
 * their occur as an operator (MUST +, MUST_NOT -, SHOULD none, evaluated in
 * OR mode), each leaf as it is. */
static or_q *to_oracle(const tw_node *n) {
    if (n->kind != TW_Q_BOOL)
        return or_q_leaf(n->kind == TW_Q_PREFIX   ? OR_L_PREFIX
                         : n->kind == TW_Q_PHRASE ? OR_L_PHRASE
                                                  : OR_L_TERM,
                         n->field, n->text ? n->text : "*"); /* a filter: not evaluated (has_filter) */
    or_q *g = or_q_new(OR_Q_GROUP, NULL);
    for (size_t i = 0; i < n->nclauses; i++)
        or_q_add(g, to_oracle(n->clauses[i]),
                 n->occurs[i] == TW_MUST       ? OR_OP_PLUS
                 : n->occurs[i] == TW_MUST_NOT ? OR_OP_MINUS
                                               : OR_OP_NONE,
                 0);
    return g;
}

/* Does the tree hold a filter (which the oracle does not evaluate)? */
static int has_filter(const tw_node *n) {
    if (n->kind == TW_Q_FILTER) return 1;
    for (size_t i = 0; n->kind == TW_Q_BOOL && i < n->nclauses; i++)
        if (has_filter(n->clauses[i])) return 1;
    return 0;
}

/* Searches the query text (mode: default OR) and compares with the oracle on
 * the parsed tree; abort()s on a difference. */
static void execute(const char *text, const tw_query *q, int mode) {
    or_opts o;
    or_stats st;
    or_q *oq = to_oracle(tw_query_root(q));
    size_t nd = ex.c.ndocs;
    double *score = or_xcalloc(nd, sizeof *score);
    uint8_t *match = or_xcalloc(nd, 1);
    trawl_options *to = trawl_options_new();
    trawl_results *res = NULL;

    if (!to) or_die("trawl_options_new");
    memset(&st, 0, sizeof st);
    or_opts_default(&o);
    o.use_or = 1; /* SHOULD clauses are unmarked: see to_oracle */
    trawl_options_set_or(to, mode);
    trawl_options_set_limit(to, nd + 10);
    int orc = has_filter(tw_query_root(q)) ? 0 : or_q_eval(&ex.c, &o, oq, NULL, score, match);
    int rc = trawl_search(ex.ix, text, to, &res);
    if (has_filter(tw_query_root(q))) {
        /* Filters are checked against brute force in test_query_oracle: here only no crash. */
    } else if (orc < 0) {
        if (rc != orc) or_fail(&st, "trawl_search gives %d (%s), the oracle %d", rc, trawl_results_errmsg(res), orc);
    } else if (rc != TRAWL_OK) {
        or_fail(&st, "trawl_search fails (%s: %s), the oracle does not", trawl_strerror(rc), trawl_results_errmsg(res));
    } else {
        or_check(&st, &ex.c, "fuzz_query", res, score, match, NULL, 0, nd + 10);
    }
    trawl_results_free(res);
    trawl_options_free(to);
    or_q_free(oq);
    free(score);
    free(match);
    if (st.failures) {
        fprintf(stderr, "fuzz_query: mode %s, query [%s]: engine and oracle differ\n", mode ? "OR" : "AND", text);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int mode;
    /* The query as a C string, when it has no NUL byte (trawl_search's input);
     * long ones are left to the parser (the oracle is quadratic at worst). */
    char *text = NULL;
    if (size <= 2048 && !memchr(data, 0, size)) {
        text = or_xmalloc(size + 1);
        memcpy(text, data, size);
        text[size] = 0;
        if (!ex.ready) build_index();
    }

    for (mode = 0; mode < 2; mode++) {
        tw_query *q = NULL;
        tw_parse_error err;
        int rc = tw_query_parse((const char *)data, size, mode, &q, &err);

        if (rc == TRAWL_ESYNTAX || rc == TRAWL_ELIMIT) {
            if ((rc == TRAWL_ELIMIT) != (err.limit != 0)) abort();
            if (q || err.offset > size || !memchr(err.message, '\0', sizeof err.message) || !err.message[0]) abort();
            if (err.limit && size <= TW_QUERY_MAX_BYTES && err.offset >= size) abort();
        } else if (rc == 0) {
            size_t need, got;
            char *buf;
            if (!q || check(tw_query_root(q), size, 1) > TW_QUERY_MAX_CLAUSES) abort();
            need = tw_query_format(tw_query_root(q), NULL, 0);
            buf = malloc(need + 1);
            if (buf) {
                got = tw_query_format(tw_query_root(q), buf, need + 1);
                if (got != need || strlen(buf) != need) abort();
                free(buf);
            }
            if (text) execute(text, q, mode);
            tw_query_free(q);
        } else if (rc != TRAWL_ENOMEM) {
            abort();
        }
    }
    free(text);
    return 0;
}
