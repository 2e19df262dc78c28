/*
 * test_parser.c — tests of the query parser (query/parser.c, query/lexer.c).
 *
 * 1. A hand-written table: query text and default operator → the S-expression
 *    worked out by hand from the grammar in ast.h, or the error offset.
 * 2. Exact cases: node offsets, NUL bytes and invalid UTF-8, formatting into
 *    small buffers, the TW_QUERY_MAX_* limits (at and one past each).
 * 3. Random token soup: 100,000 queries from an alphabet of words, operators,
 *    quotes, parentheses, fields, stars and junk bytes must parse or fail with
 *    an offset <= len; every tree that parses must satisfy the AST invariants
 *    and, printed back as explicit query text, parse to the same tree.
 * 4. An independent oracle: random VALID trees in normal form are printed as
 *    query text (with random surface variation: -x / NOT x, +x, AND, redundant
 *    parentheses, field:(...) groups, whitespace), parsed, and compared with
 *    the generated tree and the offsets where its leaves were printed.
 */
#include "ast.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct stats {
    long checks;
    long failures;
} stats;

static void failf(stats *st, const char *fmt, ...) {
    va_list ap;

    st->failures++;
    if (st->failures > 40) return;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

/* Prints q[0..len) with C escapes for diagnostics into out (cap bytes). */
static const char *show(const char *q, size_t len, char *out, size_t cap) {
    size_t i, n = 0;

    for (i = 0; i < len && n + 5 < cap; i++) {
        unsigned char c = (unsigned char)q[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
    }
    out[n] = '\0';
    return out;
}

/* Formats the tree into a malloc'd string (checks tw_query_format's length). */
static char *format_alloc(stats *st, const tw_node *n) {
    size_t need = tw_query_format(n, NULL, 0);
    char *buf = malloc(need + 1);
    size_t again;

    if (!buf) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    again = tw_query_format(n, buf, need + 1);
    if (again != need || strlen(buf) != need)
        failf(st, "tw_query_format length %zu, then %zu, strlen %zu", need, again, strlen(buf));
    return buf;
}

/* ------------------------------------------------------------------------ */
/* 1. Hand-written table                                                     */

typedef struct tcase {
    const char *q;
    int default_or;
    const char *want; /* expected S-expression, or NULL for an error */
    size_t err_offset;
} tcase;

#define T_A(q, s)                                                                                                      \
    { q, 0, s, 0 }
#define T_O(q, s)                                                                                                      \
    { q, 1, s, 0 }
#define E_A(q, off)                                                                                                    \
    { q, 0, NULL, off }
#define E_O(q, off)                                                                                                    \
    { q, 1, NULL, off }

static const tcase cases[] = {
    /* leaves */
    T_A("a", "(term \"a\")"),
    T_A("  a  ", "(term \"a\")"),
    T_A("\"a b\"", "(phrase \"a b\")"),
    T_A("foo*", "(prefix \"foo\")"),
    T_A("title:foo", "(term title \"foo\")"),
    T_A("title:\"a b\"", "(phrase title \"a b\")"),
    T_A("title:foo*", "(prefix title \"foo\")"),
    T_A("foo.bar:x", "(term foo.bar \"x\")"),
    T_A("_f9:x", "(term _f9 \"x\")"),
    T_A("9a:x", "(term \"9a:x\")"),
    T_A("*a", "(term \"*a\")"),
    T_A("a*b", "(term \"a*b\")"),
    T_A("a:b*c", "(term a \"b*c\")"),
    T_A("title:-x", "(term title \"-x\")"),
    T_A("title:NOT", "(term title \"NOT\")"),
    T_A("title:OR*", "(prefix title \"OR\")"),
    T_A("NOT*", "(prefix \"NOT\")"),
    T_A("+a", "(term \"a\")"),
    T_A("((a))", "(term \"a\")"),
    T_A("\"a\\b\"", "(phrase \"a\\\\b\")"),
    T_A("caf\xc3\xa9", "(term \"caf\xc3\xa9\")"),
    T_A("\xff\xfe", "(term \"\xff\xfe\")"),
    T_A("\"say \x01 \x7f\"", "(phrase \"say \\x01 \\x7f\")"),
    /* words that contain operator characters */
    T_A("e-mail c++", "(bool (must (term \"e-mail\")) (must (term \"c++\")))"),
    T_A("http://x 10:30 std::x", "(bool (must (term \"http://x\")) (must (term \"10:30\")) (must (term \"std::x\")))"),
    T_A("and or not", "(bool (must (term \"and\")) (must (term \"or\")) (must (term \"not\")))"),
    T_A("ANDx ORy", "(bool (must (term \"ANDx\")) (must (term \"ORy\")))"),
    T_A("a\tb\nc\x01"
        "d",
        "(bool (must (term \"a\")) (must (term \"b\")) (must (term \"c\")) (must (term \"d\")))"),
    T_A("a\"b\"", "(bool (must (term \"a\")) (must (phrase \"b\")))"),
    T_A("a:\"b c\"d", "(bool (must (phrase a \"b c\")) (must (term \"d\")))"),
    T_A("a(b)", "(bool (must (term \"a\")) (must (term \"b\")))"),
    /* default operator, AND, OR */
    T_A("a b", "(bool (must (term \"a\")) (must (term \"b\")))"),
    T_O("a b", "(bool (should (term \"a\")) (should (term \"b\")))"),
    T_A("a OR b", "(bool (should (term \"a\")) (should (term \"b\")))"),
    T_O("a OR b", "(bool (should (term \"a\")) (should (term \"b\")))"),
    T_A("a AND b", "(bool (must (term \"a\")) (must (term \"b\")))"),
    T_O("a AND b", "(bool (must (term \"a\")) (must (term \"b\")))"),
    T_O("a b AND c d", "(bool (should (term \"a\")) (must (term \"b\")) (must (term \"c\")) (should (term \"d\")))"),
    T_A("a b AND c d", "(bool (must (term \"a\")) (must (term \"b\")) (must (term \"c\")) (must (term \"d\")))"),
    T_O("a AND b c", "(bool (must (term \"a\")) (must (term \"b\")) (should (term \"c\")))"),
    T_O("a AND b AND c", "(bool (must (term \"a\")) (must (term \"b\")) (must (term \"c\")))"),
    /* precedence: OR binds loosest */
    T_A("a b OR c", "(bool (should (bool (must (term \"a\")) (must (term \"b\")))) (should (term \"c\")))"),
    T_A("a OR b c", "(bool (should (term \"a\")) (should (bool (must (term \"b\")) (must (term \"c\")))))"),
    T_O("a OR b c", "(bool (should (term \"a\")) (should (term \"b\")) (should (term \"c\")))"),
    T_A("a OR b AND c", "(bool (should (term \"a\")) (should (bool (must (term \"b\")) (must (term \"c\")))))"),
    T_A("a AND b OR c AND d", "(bool (should (bool (must (term \"a\")) (must (term \"b\")))) "
                              "(should (bool (must (term \"c\")) (must (term \"d\")))))"),
    T_A("a (b OR c) OR d",
        "(bool (should (bool (must (term \"a\")) (must (bool (should (term \"b\")) (should (term \"c\")))))) "
        "(should (term \"d\")))"),
    /* negation and required */
    T_A("-a", "(bool (must_not (term \"a\")))"),
    T_A("NOT a", "(bool (must_not (term \"a\")))"),
    T_A("a -b", "(bool (must (term \"a\")) (must_not (term \"b\")))"),
    T_O("a -b", "(bool (should (term \"a\")) (must_not (term \"b\")))"),
    T_A("a NOT b", "(bool (must (term \"a\")) (must_not (term \"b\")))"),
    T_O("a AND NOT b", "(bool (must (term \"a\")) (must_not (term \"b\")))"),
    T_O("+a b", "(bool (must (term \"a\")) (should (term \"b\")))"),
    T_A("-a -b", "(bool (must_not (term \"a\")) (must_not (term \"b\")))"),
    T_A("- a", "(bool (must_not (term \"a\")))"),
    T_A("--a", "(bool (must_not (bool (must_not (term \"a\")))))"),
    T_A("NOT -a", "(bool (must_not (bool (must_not (term \"a\")))))"),
    T_A("-+a", "(bool (must_not (term \"a\")))"),
    T_A("+-a", "(bool (must_not (term \"a\")))"),
    T_A("x +-a", "(bool (must (term \"x\")) (must (bool (must_not (term \"a\")))))"),
    T_A("a OR -b", "(bool (should (term \"a\")) (should (bool (must_not (term \"b\")))))"),
    T_A("-a:b", "(bool (must_not (term a \"b\")))"),
    T_A("-\"a b\"", "(bool (must_not (phrase \"a b\")))"),
    T_A("NOT(a OR b)", "(bool (must_not (bool (should (term \"a\")) (should (term \"b\")))))"),
    T_A("a -(b c)", "(bool (must (term \"a\")) (must_not (bool (must (term \"b\")) (must (term \"c\")))))"),
    /* groups and merging */
    T_A("a OR (b OR c)", "(bool (should (term \"a\")) (should (term \"b\")) (should (term \"c\")))"),
    T_A("(a OR b) OR c", "(bool (should (term \"a\")) (should (term \"b\")) (should (term \"c\")))"),
    T_A("a (b OR c)", "(bool (must (term \"a\")) (must (bool (should (term \"b\")) (should (term \"c\")))))"),
    T_A("a (b c)", "(bool (must (term \"a\")) (must (bool (must (term \"b\")) (must (term \"c\")))))"),
    T_O("a (b c)", "(bool (should (term \"a\")) (should (term \"b\")) (should (term \"c\")))"),
    T_A("a OR (b c)", "(bool (should (term \"a\")) (should (bool (must (term \"b\")) (must (term \"c\")))))"),
    T_A("a (b -c)", "(bool (must (term \"a\")) (must (bool (must (term \"b\")) (must_not (term \"c\")))))"),
    T_A("a (-c)", "(bool (must (term \"a\")) (must (bool (must_not (term \"c\")))))"),
    T_A("a (-b -c)", "(bool (must (term \"a\")) (must (bool (must_not (term \"b\")) (must_not (term \"c\")))))"),
    T_O("+a (b +c)", "(bool (must (term \"a\")) (should (bool (should (term \"b\")) (must (term \"c\")))))"),
    T_O("a AND (b c)", "(bool (must (term \"a\")) (must (bool (should (term \"b\")) (should (term \"c\")))))"),
    T_O("+a +(+b c)", "(bool (must (term \"a\")) (must (bool (must (term \"b\")) (should (term \"c\")))))"),
    T_A("(a OR b) (c OR d)", "(bool (must (bool (should (term \"a\")) (should (term \"b\")))) "
                             "(must (bool (should (term \"c\")) (should (term \"d\")))))"),
    T_O("(a OR b) (c OR d)",
        "(bool (should (term \"a\")) (should (term \"b\")) (should (term \"c\")) (should (term \"d\")))"),
    /* field groups */
    T_A("title:(a OR b)", "(bool (should (term title \"a\")) (should (term title \"b\")))"),
    T_A("title:(a b) c",
        "(bool (must (bool (must (term title \"a\")) (must (term title \"b\")))) (must (term \"c\")))"),
    T_A("title:(a \"b c\" d* -e)",
        "(bool (must (term title \"a\")) (must (phrase title \"b c\")) (must (prefix title \"d\")) "
        "(must_not (term title \"e\")))"),
    T_A("-title:(a)", "(bool (must_not (term title \"a\")))"),
    /* filters: keyword equality, ranges, comparisons, year */
    T_A("tags:=ai", "(filter tags eq \"ai\")"),
    T_A("source:=\"The Register\"", "(filter source eq \"The Register\")"),
    T_A("tags:=a*b-c", "(filter tags eq \"a*b-c\")"),
    T_A("tags:=OR", "(filter tags eq \"OR\")"),
    T_A("tags:=-x", "(filter tags eq \"-x\")"),
    T_A("date:[2024-01-01 TO 2024-06-30]", "(filter date range \"2024-01-01\" \"2024-06-30\")"),
    T_A("date:[ 2024  TO\t2025 ]", "(filter date range \"2024\" \"2025\")"),
    T_A("date:[* TO 2020]", "(filter date range * \"2020\")"),
    T_A("n:[-5 TO *]", "(filter n range \"-5\" *)"),
    T_A("n:[* TO *]", "(filter n range * *)"),
    T_A("n:[\"*\" TO \"a b\"]", "(filter n range \"*\" \"a b\")"),
    T_A("d:[2024-01-01T10:00+02:00 TO 2024-02]", "(filter d range \"2024-01-01T10:00+02:00\" \"2024-02\")"),
    T_A("date>=2025-03", "(filter date ge \"2025-03\")"),
    T_A("date>2025", "(filter date gt \"2025\")"),
    T_A("date<=2025", "(filter date le \"2025\")"),
    T_A("date<2020", "(filter date lt \"2020\")"),
    T_A("n<-1.5e3", "(filter n lt \"-1.5e3\")"),
    T_A("f.x_1>=\"a b\"", "(filter f.x_1 ge \"a b\")"),
    T_A("year:2024", "(filter year year \"2024\")"),
    T_A("year:202", "(term year \"202\")"),
    T_A("year:20245", "(term year \"20245\")"),
    T_A("year:2024*", "(prefix year \"2024\")"),
    T_A("year:(2024)", "(term year \"2024\")"),
    T_A("title:a<b", "(term title \"a<b\")"),
    T_A("9<3 <x", "(bool (must (term \"9<3\")) (must (term \"<x\")))"),
    T_A("vector date>=2025 -tags:=ai",
        "(bool (must (term \"vector\")) (must (filter date ge \"2025\")) (must_not (filter tags eq \"ai\")))"),
    T_A("a OR year:2024", "(bool (should (term \"a\")) (should (filter year year \"2024\")))"),
    T_A("(tags:=a OR tags:=b) NOT date<2020",
        "(bool (must (bool (should (filter tags eq \"a\")) (should (filter tags eq \"b\")))) "
        "(must_not (filter date lt \"2020\")))"),
    T_A("date:[2024 TO 2025]x", "(bool (must (filter date range \"2024\" \"2025\")) (must (term \"x\")))"),
    /* backslash escapes in quoted filter values: \" and \\ */
    T_A("tags:=\"a\\\"b\"", "(filter tags eq \"a\\\"b\")"),
    T_A("tags:=\"\\\"\"", "(filter tags eq \"\\\"\")"),
    T_A("tags:=\"a\\\\b\"", "(filter tags eq \"a\\\\b\")"),
    T_A("tags:=\"\\\\\" x", "(bool (must (filter tags eq \"\\\\\")) (must (term \"x\")))"),
    T_A("tags:=a\\b", "(filter tags eq \"a\\\\b\")"),
    T_A("f>=\"x\\\"y\"", "(filter f ge \"x\\\"y\")"),
    T_A("n:[\"a\\\"\" TO \"\\\\b\"]", "(filter n range \"a\\\"\" \"\\\\b\")"),
    T_A("\"a\\\" b", "(bool (must (phrase \"a\\\\\")) (must (term \"b\")))"),
    /* filter errors with their offsets */
    E_A("tags:=", 0),
    E_A("x tags:= ai", 2),
    E_A("tags:=\"\"", 6),
    E_A("tags:=\"ab", 6),
    E_A("tags:=(a)", 0),
    E_A("date>=", 0),
    E_A("a date> 2020", 2),
    E_A("date<\"\"", 5),
    E_A("date:[", 5),
    E_A("date:[]", 5),
    E_A("date:[ ]", 5),
    E_A("date:[2024", 5),
    E_A("date:[2024]", 10),
    E_A("date:[2024 2025]", 11),
    E_A("date:[2024 to 2025]", 11),
    E_A("date:[2024 TOx 2025]", 11),
    E_A("date:[2024 TO]", 11),
    E_A("date:[2024 TO ", 5),
    E_A("date:[2024 TO 2025", 5),
    E_A("date:[2024 TO 2025 x]", 19),
    E_A("date:[\"\" TO 2025]", 6),
    E_A("date:[2024 TO \"x]", 14),
    E_A("title:(a date>2020)", 9),
    E_A("title:(tags:=a)", 7),
    E_A("tags:=a)", 7),
    E_A("tags:=\"a\\b\"", 8),
    E_A("tags:=\"a\\", 6),
    E_A("tags:=\"\\\"", 6),
    E_A("tags:=\"a\\\\\\\"", 6),
    E_A("date:[\"a\\x\" TO b]", 8),
    E_A("date:[a TO \"b\\\"]", 11),
    /* syntax errors with their offsets */
    E_A("", 0),
    E_A("   ", 0),
    E_A("a:b:c", 2),
    E_A("a OR", 2),
    E_A("a OR ", 2),
    E_A("NOT", 0),
    E_A("-", 0),
    E_A("a -", 2),
    E_A("a +", 2),
    E_A("()", 0),
    E_A("a ( )", 2),
    E_A("(a", 0),
    E_A("((a)", 0),
    E_A("a)", 1),
    E_A("(a))", 3),
    E_A(")", 0),
    E_A("\"abc", 0),
    E_A("a \"b", 2),
    E_A("a\"b", 1),
    E_A("\"\"", 0),
    E_A("x \" \t\"", 2),
    E_A("*", 0),
    E_A("a *", 2),
    E_A("a**", 1),
    E_A("**", 0),
    E_A("\"a\"*", 3),
    E_A("(a)*", 3),
    E_A("OR a", 0),
    E_A("AND", 0),
    E_A("(OR a)", 1),
    E_A("a OR OR b", 5),
    E_A("a AND OR b", 6),
    E_A("a AND", 2),
    E_O("a AND AND b", 6),
    E_A("(a OR)", 3),
    E_A("NOT OR a", 4),
    E_A("title:", 0),
    E_A("x title: y", 2),
    E_A("title:)", 0),
    E_A("a:()", 2),
    E_A("title:(a body:b)", 9),
    E_A("title:(a (body:b))", 10),
    E_A("title:\"abc", 6),
    E_A("title:(a", 6),
};

static void test_table(stats *st) {
    size_t i;
    char shown[256];

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tcase *c = &cases[i];
        tw_query *q = NULL;
        tw_parse_error err;
        int rc = tw_query_parse(c->q, strlen(c->q), c->default_or, &q, &err);
        st->checks++;
        show(c->q, strlen(c->q), shown, sizeof shown);
        if (c->want) {
            if (rc != 0) {
                failf(st, "[%s] (%s): want %s, got rc %d at %zu: %s", shown, c->default_or ? "OR" : "AND", c->want, rc,
                      err.offset, err.message);
                continue;
            }
            char *got = format_alloc(st, tw_query_root(q));
            if (strcmp(got, c->want) != 0)
                failf(st, "[%s] (%s):\n  want %s\n  got  %s", shown, c->default_or ? "OR" : "AND", c->want, got);
            free(got);
            tw_query_free(q);
        } else {
            if (rc != TRAWL_ESYNTAX) {
                char *got = rc == 0 ? format_alloc(st, tw_query_root(q)) : NULL;
                failf(st, "[%s]: want a syntax error at %zu, got rc %d %s", shown, c->err_offset, rc, got ? got : "");
                free(got);
                tw_query_free(q);
                continue;
            }
            if (err.offset != c->err_offset || err.limit != 0 || err.message[0] == '\0')
                failf(st, "[%s]: want error at %zu (limit 0), got at %zu (limit %d): %s", shown, c->err_offset,
                      err.offset, err.limit, err.message);
            if (q != NULL) failf(st, "[%s]: *out not NULL after an error", shown);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* 2. Exact cases                                                            */

/* Parses q[0..len) and compares with want (NULL: expect error at err_off). */
static void expect(stats *st, const char *q, size_t len, int default_or, const char *want, size_t err_off, int limit) {
    tw_query *tq = NULL;
    tw_parse_error err;
    int rc = tw_query_parse(q, len, default_or, &tq, &err);
    char shown[200];

    st->checks++;
    show(q, len < 60 ? len : 60, shown, sizeof shown);
    if (want) {
        if (rc != 0) {
            failf(st, "[%s] len %zu: want %s, got rc %d at %zu: %s", shown, len, want, rc, err.offset, err.message);
            return;
        }
        char *got = format_alloc(st, tw_query_root(tq));
        if (strcmp(got, want) != 0) failf(st, "[%s] len %zu:\n  want %s\n  got  %s", shown, len, want, got);
        free(got);
        tw_query_free(tq);
    } else if (rc != (limit ? TRAWL_ELIMIT : TRAWL_ESYNTAX) || err.offset != err_off || err.limit != limit) {
        failf(st, "[%s] len %zu: want rc %d at %zu limit %d, got rc %d at %zu limit %d: %s", shown, len,
              limit ? TRAWL_ELIMIT : TRAWL_ESYNTAX, err_off, limit, rc, err.offset, err.limit, rc ? err.message : "");
        tw_query_free(tq);
    }
}

/* Collects leaf offsets in order. */
static void leaf_offsets(const tw_node *n, size_t *out, size_t *k, size_t cap) {
    size_t i;

    if (n->kind != TW_Q_BOOL) {
        if (*k < cap) out[*k] = n->offset;
        (*k)++;
        return;
    }
    for (i = 0; i < n->nclauses; i++) leaf_offsets(n->clauses[i], out, k, cap);
}

static void test_offsets(stats *st) {
    static const struct {
        const char *q;
        size_t root;
        size_t leaves[4];
        size_t nleaves;
    } oc[] = {
        {"  a", 2, {2}, 1},
        {"x  title:ab  \"p q\"", 0, {0, 3, 13}, 3},
        {"title:(a  b*)", 7, {7, 10}, 2},
        {"a -b", 0, {0, 3}, 2},
        {" -b", 1, {2}, 1},
        {"(a) OR ((b))", 0, {1, 9}, 2},
        {"NOT  \"x y\"", 0, {5}, 1},
    };
    size_t i, j;

    for (i = 0; i < sizeof oc / sizeof oc[0]; i++) {
        tw_query *q;
        tw_parse_error err;
        size_t offs[8], k = 0;
        st->checks++;
        if (tw_query_parse(oc[i].q, strlen(oc[i].q), 0, &q, &err) != 0) {
            failf(st, "offsets [%s]: parse error %s", oc[i].q, err.message);
            continue;
        }
        if (tw_query_root(q)->offset != oc[i].root)
            failf(st, "offsets [%s]: root offset want %zu got %zu", oc[i].q, oc[i].root, tw_query_root(q)->offset);
        leaf_offsets(tw_query_root(q), offs, &k, 8);
        if (k != oc[i].nleaves) {
            failf(st, "offsets [%s]: want %zu leaves got %zu", oc[i].q, oc[i].nleaves, k);
        } else {
            for (j = 0; j < k; j++)
                if (offs[j] != oc[i].leaves[j])
                    failf(st, "offsets [%s]: leaf %zu want offset %zu got %zu", oc[i].q, j, oc[i].leaves[j], offs[j]);
        }
        tw_query_free(q);
    }
}

static void test_bytes(stats *st) {
    /* NUL bytes inside len: a separator outside quotes, text inside them. */
    expect(st, "a\0b", 3, 0, "(bool (must (term \"a\")) (must (term \"b\")))", 0, 0);
    expect(st, "\"a\0b\"", 5, 0, "(phrase \"a\\x00b\")", 0, 0);
    expect(st, "\0\0\0", 3, 0, NULL, 0, 0);
    expect(st, "title:\0x", 8, 0, NULL, 0, 0);
    /* the bytes after len are never looked at */
    {
        /* A bad escape is named in the message. */
        tw_query *q = NULL;
        tw_parse_error err;
        int rc = tw_query_parse("tags:=\"a\\nb\"", 12, 0, &q, &err);
        st->checks++;
        if (rc != TRAWL_ESYNTAX || !strstr(err.message, "bad escape '\\n'"))
            failf(st, "bad escape: rc %d, message %s", rc, rc ? err.message : "");
        tw_query_free(q);
    }
    expect(st, "ab\"", 2, 0, "(term \"ab\")", 0, 0);
    expect(st, "a OR b", 4, 0, NULL, 2, 0);
    expect(st, "title:x", 6, 0, NULL, 0, 0);
    expect(st, "foo*", 3, 0, "(term \"foo\")", 0, 0);
    /* NULL text is only valid when empty */
    expect(st, NULL, 0, 0, NULL, 0, 0);
    {
        tw_query *q = (tw_query *)&st; /* must be reset to NULL */
        tw_parse_error err;
        int rc = tw_query_parse(NULL, 3, 0, &q, &err);
        st->checks++;
        if (rc != TRAWL_EINVAL || q != NULL) failf(st, "NULL text with len 3: rc %d", rc);
        /* err may be NULL */
        rc = tw_query_parse("a OR", 4, 0, &q, NULL);
        if (rc != TRAWL_ESYNTAX || q != NULL) failf(st, "err NULL: rc %d", rc);
        rc = tw_query_parse("a", 1, 0, &q, NULL);
        if (rc != 0 || q == NULL) failf(st, "err NULL on success: rc %d", rc);
        tw_query_free(q);
        tw_query_free(NULL);
        if (tw_query_root(NULL) != NULL) failf(st, "tw_query_root(NULL) is not NULL");
    }
}

static void test_format(stats *st) {
    tw_query *q;
    tw_parse_error err;
    char small[8];
    const char *full = "(bool (must (term \"a\")) (must_not (phrase title \"b c\")))";
    size_t n, cap;

    st->checks++;
    if (tw_query_parse("a -title:\"b c\"", 14, 0, &q, &err) != 0) {
        failf(st, "format: parse failed: %s", err.message);
        return;
    }
    for (cap = 0; cap <= strlen(full) + 1; cap++) {
        char buf[128];
        memset(buf, 'Z', sizeof buf);
        n = tw_query_format(tw_query_root(q), buf, cap);
        if (n != strlen(full)) failf(st, "format cap %zu: returned %zu want %zu", cap, n, strlen(full));
        if (cap > 0 && (strlen(buf) != cap - 1 && strlen(buf) != strlen(full)))
            failf(st, "format cap %zu: wrote %zu bytes", cap, strlen(buf));
        if (cap > 0 && strncmp(buf, full, strlen(buf)) != 0) failf(st, "format cap %zu: wrote %s", cap, buf);
        if (cap == 0 && buf[0] != 'Z') failf(st, "format cap 0 wrote into the buffer");
    }
    n = tw_query_format(NULL, small, sizeof small);
    if (n != 6 || strcmp(small, "(null)") != 0) failf(st, "format NULL: %zu %s", n, small);
    tw_query_free(q);
}

/* Builds count copies of piece followed by tail into a malloc'd buffer. */
static char *repeat(const char *head, const char *piece, size_t count, const char *tail, size_t *len) {
    size_t hl = strlen(head), pl = strlen(piece), tl = strlen(tail), i;
    char *s = malloc(hl + pl * count + tl + 1);

    if (!s) exit(1);
    memcpy(s, head, hl);
    for (i = 0; i < count; i++) memcpy(s + hl + i * pl, piece, pl);
    memcpy(s + hl + count * pl, tail, tl + 1);
    *len = hl + pl * count + tl;
    return s;
}

/* Counts leaves and checks a parse of s succeeds with want leaves. */
static void expect_ok_leaves(stats *st, const char *what, const char *s, size_t len, int default_or, size_t want) {
    tw_query *q;
    tw_parse_error err;
    size_t k = 0, offs[1];

    st->checks++;
    if (tw_query_parse(s, len, default_or, &q, &err) != 0) {
        failf(st, "%s: want success, got error at %zu: %s", what, err.offset, err.message);
        return;
    }
    leaf_offsets(tw_query_root(q), offs, &k, 0);
    if (k != want) failf(st, "%s: want %zu leaves, got %zu", what, want, k);
    tw_query_free(q);
}

static void test_limits(stats *st) {
    size_t len, d;
    char *s;

    /* bytes: exactly TW_QUERY_MAX_BYTES parses, one more is a limit error */
    s = repeat("", "a ", TW_QUERY_MAX_CLAUSES, "", &len);
    s = realloc(s, TW_QUERY_MAX_BYTES + 2);
    memset(s + len, ' ', TW_QUERY_MAX_BYTES + 1 - len);
    s[TW_QUERY_MAX_BYTES - 1] = 'b'; /* the 1024th word ends the text */
    s[2 * (TW_QUERY_MAX_CLAUSES - 1)] = ' ';
    expect_ok_leaves(st, "max bytes", s, TW_QUERY_MAX_BYTES, 0, TW_QUERY_MAX_CLAUSES);
    expect(st, s, TW_QUERY_MAX_BYTES + 1, 0, NULL, TW_QUERY_MAX_BYTES, 1);
    free(s);

    /* leaves: 1024 parse (flat, OR'd, in a field group), 1025 fail at the 1025th */
    s = repeat("", "a ", TW_QUERY_MAX_CLAUSES, "", &len);
    expect_ok_leaves(st, "max leaves", s, len, 0, TW_QUERY_MAX_CLAUSES);
    free(s);
    s = repeat("", "a OR ", TW_QUERY_MAX_CLAUSES - 1, "b", &len);
    expect_ok_leaves(st, "max leaves OR", s, len, 1, TW_QUERY_MAX_CLAUSES);
    free(s);
    s = repeat("t:(", "\"x y\" ", TW_QUERY_MAX_CLAUSES, ")", &len);
    expect_ok_leaves(st, "max leaves field", s, len, 0, TW_QUERY_MAX_CLAUSES);
    free(s);
    s = repeat("", "a ", TW_QUERY_MAX_CLAUSES, "b", &len);
    expect(st, s, len, 0, NULL, 2 * TW_QUERY_MAX_CLAUSES, 1);
    free(s);
    s = repeat("", "ti:x* ", TW_QUERY_MAX_CLAUSES + 5, "", &len);
    expect(st, s, len, 1, NULL, 6 * TW_QUERY_MAX_CLAUSES, 1);
    free(s);

    /* depth: parentheses, operators, field groups and mixtures */
    for (d = TW_QUERY_MAX_DEPTH; d <= TW_QUERY_MAX_DEPTH + 1; d++) {
        int over = d > TW_QUERY_MAX_DEPTH;
        char *close = repeat("", ")", d, "", &len);
        char what[64];
        snprintf(what, sizeof what, "%zu parentheses", d);
        s = repeat("", "(", d, "", &len);
        s = realloc(s, 3 * d + 4);
        strcat(s, "a");
        strcat(s, close);
        if (over)
            expect(st, s, strlen(s), 0, NULL, TW_QUERY_MAX_DEPTH, 1);
        else
            expect(st, s, strlen(s), 0, "(term \"a\")", 0, 0);
        free(s);
        s = repeat("", "-", d, "a", &len);
        if (over)
            expect(st, s, len, 0, NULL, TW_QUERY_MAX_DEPTH, 1);
        else
            expect_ok_leaves(st, "max '-'", s, len, 0, 1);
        free(s);
        s = repeat("", "NOT ", d, "a", &len);
        if (over)
            expect(st, s, len, 0, NULL, 4 * TW_QUERY_MAX_DEPTH, 1);
        else
            expect_ok_leaves(st, "max NOT", s, len, 0, 1);
        free(s);
        s = repeat("x:(", "-(", (d - 1) / 2, "", &len); /* 1 + 2*((d-1)/2) levels ... */
        s = realloc(s, len + d + 8);
        if ((d - 1) % 2) strcat(s, "+");
        strcat(s, "a");
        strcat(s, close + (d - 1) / 2 + ((d - 1) % 2)); /* ... closed by as many ')' as '(' */
        if (over)
            expect(st, s, strlen(s), 0, NULL, strlen(s) - 1 - (d - 1) / 2 - 1 - 1, 1);
        else
            expect_ok_leaves(st, what, s, strlen(s), 0, 1);
        free(s);
        free(close);
    }
    /* hostile nesting far past the limit: a quick error, no deep recursion */
    s = repeat("", "(", 100000, "", &len);
    expect(st, s, TW_QUERY_MAX_BYTES, 0, NULL, TW_QUERY_MAX_DEPTH, 1);
    expect(st, s, TW_QUERY_MAX_BYTES + 1, 0, NULL, TW_QUERY_MAX_BYTES, 1);
    free(s);
    s = repeat("", "-", TW_QUERY_MAX_BYTES, "", &len);
    expect(st, s, len, 0, NULL, TW_QUERY_MAX_DEPTH, 1);
    free(s);
    s = repeat("", "a:", TW_QUERY_MAX_BYTES / 2, "", &len);
    expect(st, s, len, 0, NULL, 2, 0);
    free(s);
}

/* ------------------------------------------------------------------------ */
/* Random numbers (splitmix64; the state is passed around, no globals)       */

static uint64_t rnd(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t below(uint64_t *s, size_t n) {
    return (size_t)(rnd(s) % n);
}

/* ------------------------------------------------------------------------ */
/* 3. Random token soup                                                      */

/* A growable byte buffer. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) exit(1);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s) {
    sb_put(b, s, strlen(s));
}

/* Checks the AST invariants of ast.h; counts leaves. */
static int check_tree(stats *st, const tw_node *n, size_t len, size_t *leaves, int level, const char *shown) {
    size_t i;

    if (!n) {
        failf(st, "[%s]: NULL node", shown);
        return -1;
    }
    if (level > 2 * TW_QUERY_MAX_DEPTH + 3) {
        failf(st, "[%s]: tree deeper than the documented bound", shown);
        return -1;
    }
    if (n->offset >= len) {
        failf(st, "[%s]: node offset %zu >= len %zu", shown, n->offset, len);
        return -1;
    }
    if (n->kind == TW_Q_BOOL) {
        size_t must = 0, should = 0;
        if (n->field || n->nclauses == 0 || !n->clauses || !n->occurs) {
            failf(st, "[%s]: malformed BOOL", shown);
            return -1;
        }
        if (n->nclauses == 1 && n->occurs[0] != TW_MUST_NOT) {
            failf(st, "[%s]: single-clause BOOL that is not a negation", shown);
            return -1;
        }
        for (i = 0; i < n->nclauses; i++) {
            const tw_node *c = n->clauses[i];
            if (n->occurs[i] != TW_MUST && n->occurs[i] != TW_SHOULD && n->occurs[i] != TW_MUST_NOT) {
                failf(st, "[%s]: bad occur %d", shown, (int)n->occurs[i]);
                return -1;
            }
            if (check_tree(st, c, len, leaves, level + 1, shown)) return -1;
            if (c->kind == TW_Q_BOOL) { /* no mergeable child left */
                size_t j;
                must = should = 0;
                for (j = 0; j < c->nclauses; j++) {
                    must += c->occurs[j] == TW_MUST;
                    should += c->occurs[j] == TW_SHOULD;
                }
                (void)must; /* AND groups under MUST stay: the planner merges them */
                if (n->occurs[i] == TW_SHOULD && should == c->nclauses) {
                    failf(st, "[%s]: a BOOL that should have been merged", shown);
                    return -1;
                }
            }
        }
        return 0;
    }
    if (n->kind == TW_Q_FILTER) {
        if (!n->field || n->fop < TW_F_EQ || n->fop > TW_F_YEAR || (n->fop != TW_F_RANGE && !n->text) ||
            (n->text && (n->text_len == 0 || n->text[n->text_len] != '\0')) ||
            (n->hi && (n->hi_len == 0 || n->hi[n->hi_len] != '\0')) || (n->fop != TW_F_RANGE && n->hi)) {
            failf(st, "[%s]: malformed filter", shown);
            return -1;
        }
        (*leaves)++;
        return 0;
    }
    if (n->kind != TW_Q_TERM && n->kind != TW_Q_PREFIX && n->kind != TW_Q_PHRASE) {
        failf(st, "[%s]: bad kind %d", shown, (int)n->kind);
        return -1;
    }
    if (!n->text || n->text_len == 0 || n->text[n->text_len] != '\0' || n->text_len > len) {
        failf(st, "[%s]: bad leaf text", shown);
        return -1;
    }
    if (n->field) {
        const char *f = n->field;
        if (!((*f >= 'a' && *f <= 'z') || (*f >= 'A' && *f <= 'Z') || *f == '_') ||
            strspn(f, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") != strlen(f)) {
            failf(st, "[%s]: bad field name %s", shown, f);
            return -1;
        }
    }
    (*leaves)++;
    return 0;
}

/* Appends a filter value quoted, with '"' and '\\' escaped by a backslash. */
static void put_quoted(sbuf *b, const char *v, size_t len) {
    sb_puts(b, "\"");
    for (size_t i = 0; i < len; i++) {
        if (v[i] == '"' || v[i] == '\\') sb_puts(b, "\\");
        sb_put(b, v + i, 1);
    }
    sb_puts(b, "\"");
}

/* Prints a parsed tree back as query text that says every occur explicitly
 * (for a parse with default OR): SHOULD bare, MUST as +x, MUST_NOT as -x. */
static void reprint(sbuf *b, const tw_node *n, int top) {
    size_t i;

    switch (n->kind) {
        case TW_Q_BOOL:
            if (!top) sb_puts(b, "(");
            for (i = 0; i < n->nclauses; i++) {
                if (i) sb_puts(b, " ");
                sb_puts(b, n->occurs[i] == TW_MUST ? "+" : n->occurs[i] == TW_MUST_NOT ? "-" : "");
                reprint(b, n->clauses[i], 0);
            }
            if (!top) sb_puts(b, ")");
            break;
        case TW_Q_FILTER: {
            static const char *const cmp[] = {"", ":=", "<", "<=", ">", ">=", ":[", ":"};
            sb_puts(b, n->field);
            sb_puts(b, cmp[n->fop]);
            if (n->fop == TW_F_YEAR) {
                sb_put(b, n->text, n->text_len);
            } else if (n->fop == TW_F_RANGE) {
                const char *v[2] = {n->text, n->hi};
                size_t l[2] = {n->text_len, n->hi_len};
                for (i = 0; i < 2; i++) {
                    if (i) sb_puts(b, " TO ");
                    if (!v[i]) {
                        sb_puts(b, "*");
                        continue;
                    }
                    put_quoted(b, v[i], l[i]);
                }
                sb_puts(b, "]");
            } else {
                put_quoted(b, n->text, n->text_len);
            }
            break;
        }
        default: {
            /* field:(:x) cannot be written field::x, which is the word "field::x";
             * field:[x and field:=x start filters */
            int group = n->field && n->kind != TW_Q_PHRASE &&
                        (n->text[0] == ':' || n->text[0] == '/' || n->text[0] == '[' || n->text[0] == '=');
            if (n->field) {
                sb_puts(b, n->field);
                sb_puts(b, group ? ":(" : ":");
            }
            if (n->kind == TW_Q_PHRASE) sb_puts(b, "\"");
            sb_put(b, n->text, n->text_len);
            sb_puts(b, n->kind == TW_Q_PHRASE ? "\"" : n->kind == TW_Q_PREFIX ? "*" : "");
            if (group) sb_puts(b, ")");
            break;
        }
    }
}

static void test_soup(stats *st, uint64_t seed, long iterations) {
    static const char *const alphabet[] = {
        "a",    "foo", "OR",     "AND",       "NOT",    "and",     "-",        "+",     "\"",     "(",   ")",
        ":",    "*",   "title:", "x*",        "e-mail", "\"a b\"", "http://x", "10:30", " ",      " ",   " ",
        "\t",   "\n",  "\xff",   "\xc3\xa9",  "body:(", "-a",      "+b",       "a:b:c", "**",     "\\",  "\x7f",
        "\x01", "c++", "f.g:",   "::",        "\"\"",   "((",      "))",       "NOT(",  "tags:=", "d:[", " TO ",
        "]",    "d>=", "n<",     "year:2024", "=",      "[",       "*",        "x>",
    };
    const size_t nalpha = sizeof alphabet / sizeof alphabet[0];
    uint64_t rs = seed;
    long it, ok = 0, errors = 0, reparsed = 0;
    sbuf b = {0}, r = {0};
    char shown[400];

    for (it = 0; it < iterations; it++) {
        size_t ntok = below(&rs, 1 + below(&rs, 40)), i, leaves = 0;
        int mode = (int)below(&rs, 2);
        tw_query *q;
        tw_parse_error err;
        char *text;
        int rc;

        b.len = 0;
        for (i = 0; i < ntok; i++) {
            size_t k = below(&rs, nalpha + 1);
            if (k == nalpha)
                sb_put(&b, "\0", 1); /* a NUL byte inside len */
            else
                sb_puts(&b, alphabet[k]);
            if (below(&rs, 3) == 0) sb_puts(&b, " ");
        }
        /* an exact-size copy, so that reading past len is caught by ASan */
        text = malloc(b.len ? b.len : 1);
        if (!text) exit(1);
        if (b.len) memcpy(text, b.p, b.len);
        show(text, b.len < 90 ? b.len : 90, shown, sizeof shown);
        rc = tw_query_parse(text, b.len, mode, &q, &err);
        st->checks++;
        if (rc == TRAWL_ESYNTAX || rc == TRAWL_ELIMIT) {
            errors++;
            if ((rc == TRAWL_ELIMIT) != (err.limit != 0))
                failf(st, "[%s]: rc %d with limit flag %d", shown, rc, err.limit);
            if (err.offset > b.len || err.message[0] == '\0' || memchr(err.message, 0, sizeof err.message) == NULL)
                failf(st, "[%s]: bad error: offset %zu len %zu msg %s", shown, err.offset, b.len, err.message);
            if (q) failf(st, "[%s]: *out set on error", shown);
        } else if (rc != 0) {
            failf(st, "[%s]: rc %d", shown, rc);
        } else {
            ok++;
            if (check_tree(st, tw_query_root(q), b.len, &leaves, 1, shown) == 0 && leaves > TW_QUERY_MAX_CLAUSES)
                failf(st, "[%s]: %zu leaves", shown, leaves);
            /* printed back explicitly, it must parse to the same tree */
            char *want = format_alloc(st, tw_query_root(q));
            tw_query *q2;
            r.len = 0;
            reprint(&r, tw_query_root(q), 1);
            rc = tw_query_parse(r.p, r.len, 1, &q2, &err);
            if (rc == 0) {
                char *got = format_alloc(st, tw_query_root(q2));
                reparsed++;
                if (strcmp(want, got) != 0)
                    failf(st, "[%s] reprinted as [%s]:\n  want %s\n  got  %s", shown, r.p, want, got);
                free(got);
                tw_query_free(q2);
            } else if (!(rc == TRAWL_ELIMIT && err.limit)) { /* explicit text may nest deeper */
                failf(st, "[%s] reprinted as [%s]: error at %zu: %s", shown, r.p, err.offset, err.message);
            }
            free(want);
            tw_query_free(q);
        }
        free(text);
    }
    printf("soup: %ld queries, %ld parsed (%ld reparsed), %ld errors\n", iterations, ok, reparsed, errors);
    if (ok < iterations / 20 || errors < iterations / 20)
        failf(st, "soup: too few of one outcome (%ld ok, %ld errors): the alphabet is off", ok, errors);
    free(b.p);
    free(r.p);
}

/* ------------------------------------------------------------------------ */
/* 4. Oracle: random valid trees → text → parse → same tree                  */

#define GEN_MAX_KIDS 4
#define GEN_POOL 2048

typedef struct gnode {
    tw_node_kind kind;
    const char *field; /* leaf: its field (own or from the group) */
    int own_field;     /* leaf printed as field:value */
    const char *text;  /* leaf text (prefix: without '*') */
    size_t n;
    struct gnode *kids[GEN_MAX_KIDS];
    tw_occur occ[GEN_MAX_KIDS];
    const char *group_field; /* BOOL printed as field:( ... ) */
    size_t offset;           /* leaf: where it was printed */
} gnode;

typedef struct gen {
    uint64_t rs;
    int mode; /* default operator: 0 AND, 1 OR */
    gnode pool[GEN_POOL];
    size_t used;
    sbuf out;
    gnode *leaves[GEN_POOL];
    size_t nleaves;
} gen;

static const char *const gen_fields[] = {"title", "body", "a.b", "_x", "f2"};
/* Words that are words anywhere. */
static const char *const gen_words[] = {
    "a",   "b",   "foo",          "bar",  "e-mail", "c++",  "10:30", "http://x", "std::vector", "and",
    "or",  "not", "caf\xc3\xa9",  "x*y",  "*z",     "a.b",  "q?",    "{x}",      "[y]",         "AND1",
    "ORb", "nOT", "\xe2\x82\xac", "a\\b", "x-",     "\xff", "12",    "x:/y",     "9:a",
};
/* Words that are words only right after "field:". */
static const char *const gen_value_words[] = {"-x", "+y", "AND", "OR", "NOT", "-", "+a+", "NOT-"};
static const char *const gen_prefixes[] = {"fo", "e-m", "c+", "caf\xc3", "x*y", "12", "\xff"};
static const char *const gen_phrases[] = {
    "a b", "x", "  lead", "New York", "a-b c", "\xff\xfe", "(p)", "x OR y", "t:v", "*", "a\\b", "tab\there", "-",
};

#define PICK(g, arr) ((arr)[below(&(g)->rs, sizeof(arr) / sizeof((arr)[0]))])

static gnode *gen_alloc(gen *g) {
    gnode *n = &g->pool[g->used++];
    memset(n, 0, sizeof *n);
    return n;
}

static gnode *gen_leaf(gen *g, const char *field) {
    gnode *n = gen_alloc(g);
    size_t k = below(&g->rs, 10);

    n->field = field;
    if (!field && below(&g->rs, 3) == 0) {
        n->field = PICK(g, gen_fields);
        n->own_field = 1;
    }
    if (k < 5) {
        n->kind = TW_Q_TERM;
        n->text = n->own_field && below(&g->rs, 3) == 0 ? PICK(g, gen_value_words) : PICK(g, gen_words);
        if (n->own_field && n->text[0] == '[') n->text = "y]"; /* field:[ starts a range filter */
    } else if (k < 7) {
        n->kind = TW_Q_PREFIX;
        n->text = PICK(g, gen_prefixes);
    } else {
        n->kind = TW_Q_PHRASE;
        n->text = PICK(g, gen_phrases);
    }
    return n;
}

static int all_should(const gnode *n) {
    size_t i;
    for (i = 0; i < n->n; i++)
        if (n->occ[i] != TW_SHOULD) return 0;
    return 1;
}

/* Would the parser merge child (a clause with occur oc) into its parent? */
static int gen_mergeable(const gnode *c, tw_occur oc) {
    size_t i, must = 0, should = 0;

    if (c->kind != TW_Q_BOOL || oc == TW_MUST_NOT) return 0;
    for (i = 0; i < c->n; i++) {
        must += c->occ[i] == TW_MUST;
        should += c->occ[i] == TW_SHOULD;
    }
    return oc == TW_SHOULD ? should == c->n : (must > 0 && should == 0);
}

/* A random tree in the parser's normal form, printable in mode g->mode. */
static gnode *gen_tree(gen *g, int levels, const char *field) {
    gnode *n;
    size_t i;
    int shape;

    if (levels == 0 || g->used + GEN_MAX_KIDS + 2 >= GEN_POOL || below(&g->rs, 3) == 0) return gen_leaf(g, field);
    n = gen_alloc(g);
    n->kind = TW_Q_BOOL;
    if (!field && below(&g->rs, 5) == 0) field = n->group_field = PICK(g, gen_fields);
    shape = (int)below(&g->rs, 6); /* 0: lone negation, 1-2: all SHOULD, else mixed */
    n->n = shape == 0 ? 1 : 2 + below(&g->rs, GEN_MAX_KIDS - 1);
    for (i = 0; i < n->n; i++) {
        gnode *c;
        if (shape == 0)
            n->occ[i] = TW_MUST_NOT;
        else if (shape <= 2)
            n->occ[i] = TW_SHOULD;
        else if (g->mode == 0)
            n->occ[i] = below(&g->rs, 3) ? TW_MUST : TW_MUST_NOT;
        else
            n->occ[i] = (tw_occur)below(&g->rs, 3);
        c = gen_tree(g, levels - 1, field);
        if (gen_mergeable(c, n->occ[i])) c = gen_leaf(g, field);
        n->kids[i] = c;
    }
    return n;
}

/* Expected S-expression (the documented format, written independently). */
static void gen_sexpr(sbuf *b, const gnode *n) {
    static const char *const occ[] = {"must", "should", "must_not"};
    const char *s;
    size_t i;

    if (n->kind == TW_Q_BOOL) {
        sb_puts(b, "(bool");
        for (i = 0; i < n->n; i++) {
            sb_puts(b, " (");
            sb_puts(b, occ[n->occ[i]]);
            sb_puts(b, " ");
            gen_sexpr(b, n->kids[i]);
            sb_puts(b, ")");
        }
        sb_puts(b, ")");
        return;
    }
    sb_puts(b, n->kind == TW_Q_TERM ? "(term " : n->kind == TW_Q_PREFIX ? "(prefix " : "(phrase ");
    if (n->field) {
        sb_puts(b, n->field);
        sb_puts(b, " ");
    }
    sb_puts(b, "\"");
    for (s = n->text; *s; s++) {
        char e[8];
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            snprintf(e, sizeof e, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            snprintf(e, sizeof e, "\\x%02x", c);
        else
            snprintf(e, sizeof e, "%c", c);
        sb_puts(b, e);
    }
    sb_puts(b, "\")");
}

static void gen_space(gen *g) {
    static const char *const sp[] = {" ", " ", " ", "  ", "\t", "\n", " \r\n "};
    sb_puts(&g->out, PICK(g, sp));
}

static void gen_body(gen *g, const gnode *n);

static void gen_print_leaf(gen *g, gnode *n) {
    n->offset = g->out.len;
    g->leaves[g->nleaves++] = n;
    if (n->own_field) {
        sb_puts(&g->out, n->field);
        sb_puts(&g->out, ":");
    }
    if (n->kind == TW_Q_PHRASE) sb_puts(&g->out, "\"");
    sb_puts(&g->out, n->text);
    sb_puts(&g->out, n->kind == TW_Q_PHRASE ? "\"" : n->kind == TW_Q_PREFIX ? "*" : "");
}

/* Prints n as a parenthesized group: ( body ) or field:( body ). */
static void gen_group(gen *g, const gnode *n) {
    if (n->group_field) {
        sb_puts(&g->out, n->group_field);
        sb_puts(&g->out, ":");
    }
    sb_puts(&g->out, below(&g->rs, 2) ? "(" : "( ");
    gen_body(g, n);
    sb_puts(&g->out, below(&g->rs, 2) ? ")" : " )");
}

/* Prints n where a unary operand (a primary, or after an operator) goes. */
static void gen_operand(gen *g, gnode *n, int after_op) {
    int extra = below(&g->rs, 10) == 0;

    if (extra) sb_puts(&g->out, "(");
    if (n->kind != TW_Q_BOOL)
        gen_print_leaf(g, n);
    else if (after_op && !n->group_field && n->n == 1 && below(&g->rs, 2)) {
        sb_puts(&g->out, below(&g->rs, 2) ? "-" : "NOT "); /* chained: --x, +-x, NOT -x */
        gen_operand(g, n->kids[0], 1);
    } else
        gen_group(g, n);
    if (extra) sb_puts(&g->out, ")");
}

/* Prints n where an and_expr goes (an operand of OR, or a whole query). */
static void gen_and_expr(gen *g, gnode *n) {
    if (n->kind == TW_Q_BOOL && !n->group_field && !all_should(n) && below(&g->rs, 2))
        gen_body(g, n);
    else
        gen_operand(g, n, 0);
}

/* Prints the clauses of BOOL n so that they parse to n in mode g->mode. */
static void gen_body(gen *g, const gnode *n) {
    int and_after[GEN_MAX_KIDS] = {0};
    size_t i;

    if (all_should(n) && n->n > 1 && (g->mode == 0 || below(&g->rs, 2))) {
        for (i = 0; i < n->n; i++) {
            if (i) {
                gen_space(g);
                sb_puts(&g->out, "OR");
                gen_space(g);
            }
            gen_and_expr(g, n->kids[i]);
        }
        return;
    }
    for (i = 0; i + 1 < n->n; i++)
        and_after[i] = n->occ[i] != TW_SHOULD && n->occ[i + 1] != TW_SHOULD && below(&g->rs, 3) == 0;
    for (i = 0; i < n->n; i++) {
        int by_and = and_after[i] || (i > 0 && and_after[i - 1]);
        int op = 1;
        if (i) {
            gen_space(g);
            if (and_after[i - 1]) {
                sb_puts(&g->out, "AND");
                gen_space(g);
            }
        }
        if (n->occ[i] == TW_MUST_NOT)
            sb_puts(&g->out, below(&g->rs, 2) ? "-" : "NOT ");
        else if (n->occ[i] == TW_MUST && ((g->mode == 0 || by_and) ? below(&g->rs, 2) : 1))
            sb_puts(&g->out, "+");
        else
            op = 0;
        gen_operand(g, n->kids[i], op);
    }
}

static void test_oracle(stats *st, uint64_t seed, long iterations) {
    gen *g = calloc(1, sizeof *g);
    sbuf want = {0};
    long it, compared = 0;
    size_t maxlen = 0;

    if (!g) exit(1);
    g->rs = seed;
    for (it = 0; it < iterations; it++) {
        gnode *root;
        tw_query *q;
        tw_parse_error err;
        char *got, *text;
        size_t offs[GEN_POOL], k = 0, i;

        g->mode = (int)(it & 1);
        g->used = 0;
        g->nleaves = 0;
        g->out.len = 0;
        want.len = 0;
        root = gen_tree(g, 1 + (int)below(&g->rs, 4), NULL);
        if (below(&g->rs, 4) == 0) gen_space(g);
        gen_and_expr(g, root);
        if (below(&g->rs, 4) == 0) gen_space(g);
        gen_sexpr(&want, root);
        if (g->out.len > maxlen) maxlen = g->out.len;

        text = malloc(g->out.len);
        if (!text) exit(1);
        memcpy(text, g->out.p, g->out.len);
        st->checks++;
        if (tw_query_parse(text, g->out.len, g->mode, &q, &err) != 0) {
            failf(st, "oracle (%s) [%s]: error at %zu: %s\n  want %s", g->mode ? "OR" : "AND", g->out.p, err.offset,
                  err.message, want.p);
            free(text);
            continue;
        }
        got = format_alloc(st, tw_query_root(q));
        if (strcmp(got, want.p) != 0) {
            failf(st, "oracle (%s) [%s]:\n  want %s\n  got  %s", g->mode ? "OR" : "AND", g->out.p, want.p, got);
        } else {
            compared++;
            leaf_offsets(tw_query_root(q), offs, &k, GEN_POOL);
            for (i = 0; i < k && i < g->nleaves; i++)
                if (offs[i] != g->leaves[i]->offset) {
                    failf(st, "oracle [%s]: leaf %zu at offset %zu, parser says %zu", g->out.p, i, g->leaves[i]->offset,
                          offs[i]);
                    break;
                }
        }
        free(got);
        free(text);
        tw_query_free(q);
    }
    printf("oracle: %ld generated queries matched (longest %zu bytes)\n", compared, maxlen);
    free(want.p);
    free(g->out.p);
    free(g);
}

int main(void) {
    stats st = {0, 0};
    const char *env = getenv("TRAWL_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : 20240611u;

    printf("seed %llu (set TRAWL_TEST_SEED to change)\n", (unsigned long long)seed);
    test_table(&st);
    printf("table: %zu cases\n", sizeof cases / sizeof cases[0]);
    test_offsets(&st);
    test_bytes(&st);
    test_format(&st);
    test_limits(&st);
    test_soup(&st, seed, 100000);
    test_oracle(&st, seed ^ 0x5eed, 40000);
    printf("%ld checks, %ld failures\n", st.checks, st.failures);
    return st.failures ? 1 : 0;
}
