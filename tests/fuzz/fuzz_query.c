/*
 * fuzz_query.c — fuzz target for the query parser (query/parser.c, lexer.c).
 *
 * Feeds arbitrary bytes to tw_query_parse in both default-operator modes and
 * formats every tree it returns. Besides crashes and sanitizer reports it
 * checks the parser's contract (return codes, error offsets <= size, AST
 * invariants, tw_query_format's length) and abort()s when one is broken.
 * Built as a real libFuzzer binary (clang, TRAWL_BUILD_FUZZERS) and, always,
 * with driver.c as the ctest smoke test fuzz_query_smoke.
 */
#include "ast.h"

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
    if (n->kind != TW_Q_TERM && n->kind != TW_Q_PREFIX && n->kind != TW_Q_PHRASE) abort();
    if (!n->text || n->text_len == 0 || n->text_len > size || n->text[n->text_len] != '\0') abort();
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int mode;

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
            tw_query_free(q);
        } else if (rc != TRAWL_ENOMEM) {
            abort();
        }
    }
    return 0;
}
