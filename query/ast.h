/*
 * ast.h — the parsed form of a query, before analysis and planning.
 *
 * The parser (parser.c) turns query text into this tree; the planner analyzes
 * the raw words with the index's analyzer and builds cursors from it. Words are
 * kept raw (as typed, unanalyzed) so that one parse serves any language.
 *
 * Grammar (OR binds loosest; juxtaposition = the default operator):
 *   query   := or_expr EOF
 *   or_expr := and_expr ( "OR" and_expr )*
 *   and_expr:= unary ( ["AND"] unary )*
 *   unary   := ("-" | "NOT" | "+") unary | primary
 *   primary := "(" or_expr ")" | [FIELD ":"] ( WORD | WORD "*" | PHRASE | "(" or_expr ")" ) | filter
 *   filter  := FIELD ":=" VALUE                       keyword equality (tags:=ai, source:="The Register")
 *            | FIELD ":[" BOUND "TO" BOUND "]"         inclusive range, BOUND = VALUE | "*" (open end)
 *            | NAME ("<" | "<=" | ">" | ">=") VALUE    one-sided range (date>=2025-03)
 *            | "year:" DDDD                            the year DDDD of the date field "date"
 *   VALUE   := WORD | PHRASE  (taken as is: no analysis, no operators, no '*' meaning)
 * A filter restricts without scoring (its score is 0). In a filter every part
 * follows the previous one directly (no space after ':=', '<=' ...), except
 * inside [ ]: there separators split the bounds and "TO" (upper case) between
 * them; a bound is a phrase or the bytes up to a separator, ']' or '"'.
 * "year:" followed by anything other than exactly four digits is an ordinary
 * field term. Filters cannot appear inside field:( ). Values stay text here;
 * the planner converts them against the field's type (filter.h).
 * AND, OR, NOT are operators only in upper case. A field prefix applies to every
 * term inside it, e.g. title:(a OR b); field prefixes do not nest.
 *
 * Lexical details (lexer.h): separators are ASCII space and control bytes; a
 * '-' or '+' is an operator only at the start of a clause (e-mail, c++ are
 * words); a field is [A-Za-z_][A-Za-z0-9_.]* directly followed by ':' (but not
 * by "://" or "::", so http://x and std::x are words; 10:30 is a word); a
 * trailing '*' makes a prefix query, a '*' elsewhere is a word byte. After
 * "field:" the value is taken as is: title:-x is the term "-x", title:NOT the
 * term "NOT".
 *
 * Tree shape: an or_expr of n>1 operands is a BOOL of n SHOULD clauses; an
 * and_expr of n>1 operands is a BOOL whose clauses are MUST (default AND) or
 * SHOULD (default OR), MUST for both neighbours of an explicit AND and for +x,
 * MUST_NOT for -x / NOT x. One operand collapses to itself, except a lone
 * negation, which is a BOOL with one MUST_NOT clause. A SHOULD clause whose
 * BOOL has only SHOULD clauses is merged into its parent. A MUST group is not:
 * its words may analyze to nothing, and dropping one then depends on the
 * group (the planner merges MUST groups after analysis). So every BOOL has at
 * least two clauses or is a lone negation.
 */
#ifndef TW_AST_H
#define TW_AST_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum tw_node_kind {
    TW_Q_TERM,   /* one raw word; may analyze into 0..n terms (n>1 acts as a phrase) */
    TW_Q_PREFIX, /* word*: every indexed term starting with the folded, unstemmed word */
    TW_Q_PHRASE, /* "quoted words": terms at consecutive positions in one field */
    TW_Q_BOOL,   /* clauses with occur MUST / SHOULD / MUST_NOT */
    TW_Q_FILTER, /* a typed-field filter (fop): matches without scoring */
} tw_node_kind;

/* The operator of a TW_Q_FILTER node. */
typedef enum tw_filter_op {
    TW_F_EQ = 1, /* field:=value */
    TW_F_LT,     /* field<value */
    TW_F_LE,     /* field<=value */
    TW_F_GT,     /* field>value */
    TW_F_GE,     /* field>=value */
    TW_F_RANGE,  /* field:[text TO hi] (inclusive; NULL text or hi: open end) */
    TW_F_YEAR    /* year:DDDD (field is "year"; text the four digits) */
} tw_filter_op;

typedef enum tw_occur {
    TW_MUST = 0,    /* the clause must match (AND, +x, default operator AND) */
    TW_SHOULD = 1,  /* optional, adds to the score (OR, default operator OR) */
    TW_MUST_NOT = 2 /* the clause must not match (-x, NOT x) */
} tw_occur;

typedef struct tw_node tw_node;

struct tw_node {
    tw_node_kind kind;
    const char *field; /* NUL-terminated field name, or NULL for every text field
                        * (always NULL on a BOOL: its leaves carry the field) */
    size_t offset;     /* byte offset of the node in the query text (for errors):
                        * a leaf's field name if it has its own prefix, else its
                        * word or opening quote; a BOOL's first operand or operator */
    /* TW_Q_TERM, TW_Q_PREFIX, TW_Q_PHRASE: the raw text (NUL-terminated; for a
     * prefix without the '*'; for a phrase the bytes between the quotes, which
     * may include NUL bytes: use text_len). Never empty.
     * TW_Q_FILTER: the value (EQ, LT..GE, YEAR) or the range's lower bound
     * (RANGE; NULL for '*'); never empty when not NULL. */
    const char *text;
    size_t text_len;
    /* TW_Q_FILTER only: the operator, and the range's upper bound (RANGE;
     * NULL for '*'). field is always set on a filter. */
    tw_filter_op fop;
    const char *hi;
    size_t hi_len;
    /* TW_Q_BOOL: nclauses children with their occur. A BOOL is satisfied when all
     * MUST clauses match, no MUST_NOT clause matches, and (if there is no MUST
     * clause) at least one SHOULD clause matches. A BOOL of MUST_NOT clauses only
     * matches every document the clauses do not. */
    size_t nclauses;
    tw_node **clauses;
    tw_occur *occurs;
};

/* Limits against hostile queries. The depth is the nesting of parentheses
 * (including field:( ) and unary operators (-, +, NOT) around a clause; a tree
 * from tw_query_parse is therefore at most 2 * TW_QUERY_MAX_DEPTH + 3 levels deep. */
#define TW_QUERY_MAX_BYTES 16384
#define TW_QUERY_MAX_DEPTH 32
#define TW_QUERY_MAX_CLAUSES 1024 /* leaf nodes in one query */

typedef struct tw_query tw_query; /* owns every node and string (an arena) */

typedef struct tw_parse_error {
    size_t offset;     /* byte offset in the query text, <= len */
    char message[128]; /* NUL-terminated, without the offset, e.g. "nothing after 'OR'" */
    int limit;         /* 1 if a TW_QUERY_MAX_* limit was exceeded (TRAWL_ELIMIT), 0 for a syntax error */
} tw_parse_error;

/* Parses q[0..len). default_or selects the operator between juxtaposed clauses
 * (0: MUST, 1: SHOULD). On success returns 0 and *out (free with
 * tw_query_free); its root is never NULL. On a syntax error returns
 * TRAWL_ESYNTAX, on a limit TRAWL_ELIMIT (err->limit set), and fills *err; also
 * TRAWL_ENOMEM, and TRAWL_EINVAL when out is NULL or q is NULL with len > 0. An empty query (or one with
 * only separators) is a syntax error at offset 0. err may be NULL. Any bytes are
 * accepted (q may hold NULs and invalid UTF-8); time and memory are linear in
 * len. The tree and all its strings live until tw_query_free. */
int tw_query_parse(const char *q, size_t len, int default_or, tw_query **out, tw_parse_error *err);
const tw_node *tw_query_root(const tw_query *query);
void tw_query_free(tw_query *query);

/* Writes a canonical S-expression of the tree into buf (for tests and
 * --explain), e.g. the tree of  a -title:"b c"  is
 *   (bool (must (term "a")) (must_not (phrase title "b c")))
 * Grammar:
 *   node   := "(" kind [" " FIELD] " " STRING ")"            kind: term prefix phrase
 *           | "(bool" (" (" occur " " node ")")+ ")"       occur: must should must_not
 *           | "(filter " FIELD " " fop " " VALUE [" " VALUE] ")"
 *             fop: eq lt le gt ge range year; VALUE := STRING | "*" (an open range end);
 *             a range has both bounds, e.g. (filter date range "2024" *)
 *   STRING := '"' bytes '"', where '"' is written \", '\' is written \\, and
 *             bytes 0x00-0x1f and 0x7f are written \xHH (lower-case hex);
 *             all other bytes (UTF-8 included) are written as they are.
 * A prefix's text is shown without its '*'. A NULL node is written (null).
 * Writes at most cap bytes including a terminating NUL (none if cap is 0) and
 * returns the length it needs without the NUL (like snprintf). */
size_t tw_query_format(const tw_node *n, char *buf, size_t cap);

#endif
