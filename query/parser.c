/*
 * parser.c — query text → tw_node tree (grammar and contract in ast.h).
 *
 * Second stage of query processing: lexer.c → parser → planner. Recursive
 * descent over tokens, with the nesting depth checked against
 * TW_QUERY_MAX_DEPTH before every recursion, so no input can exhaust the
 * stack; every token is read a bounded number of times, so time is linear in
 * the query. Operands of an expression wait on a scratch stack (malloc'd, freed
 * on return) until the expression is complete; then its BOOL node, clause
 * arrays and strings are placed in the query's arena and freed all at once by
 * tw_query_free. Also owns tw_query_format, the canonical S-expression.
 */
#include "ast.h"
#include "error.h"
#include "lexer.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Arena                                                                     */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
} arena_chunk;

struct tw_query {
    tw_node *root;
    arena_chunk *chunks; /* newest first */
};

/* The first chunk (header included) stays under 1 KiB: glibc's malloc
 * consolidates its fast bins before every larger request, which cost more
 * than parsing a one-word query. Longer queries grow by doubling. */
#define ARENA_FIRST_CHUNK (1000 - sizeof(arena_chunk))
#define ARENA_MAX_CHUNK 65536

/* Returns size bytes aligned to align (a power of two <= alignof(max_align_t))
 * that live until tw_query_free, or NULL when out of memory. */
static void *arena_alloc(tw_query *q, size_t size, size_t align) {
    arena_chunk *c = q->chunks;
    size_t at = 0;

    if (c) {
        at = (c->used + align - 1) & ~(align - 1);
        if (at > c->cap || c->cap - at < size) c = NULL;
    }
    if (!c) {
        size_t cap = q->chunks ? q->chunks->cap * 2 : ARENA_FIRST_CHUNK;
        if (cap > ARENA_MAX_CHUNK) cap = ARENA_MAX_CHUNK;
        if (cap < size) cap = size;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = q->chunks;
        c->used = 0;
        c->cap = cap;
        q->chunks = c;
        at = 0;
    }
    c->used = at + size;
    return (unsigned char *)c->data + at;
}

const tw_node *tw_query_root(const tw_query *query) {
    return query ? query->root : NULL;
}

void tw_query_free(tw_query *query) {
    arena_chunk *c, *next;

    if (!query) return;
    for (c = query->chunks; c; c = next) {
        next = c->next;
        free(c);
    }
    free(query);
}

/* ------------------------------------------------------------------------ */
/* Parser state                                                              */

enum { OP_NONE, OP_PLUS, OP_MINUS };

/* One operand of the expression being parsed. */
typedef struct item {
    tw_node *node;
    size_t offset;  /* where the operand starts (its operator, if any) */
    int op;         /* outermost unary operator: OP_NONE, OP_PLUS, OP_MINUS */
    tw_occur occur; /* filled when the expression is built */
} item;

/* What came right before the clause being parsed, for error messages. */
typedef struct before {
    const char *what; /* NULL (start of query), "(", or an operator: "OR" "AND" "NOT" "-" "+" */
    size_t offset;
} before;

typedef struct parser {
    const char *q;
    size_t len;
    size_t pos; /* where the next token starts */
    int default_or;
    tw_query *query;
    tw_parse_error *err;
    int rc;            /* 0, TRAWL_ESYNTAX, TRAWL_ELIMIT or TRAWL_ENOMEM; sticky */
    size_t depth;      /* open parentheses and unary operators */
    size_t leaves;     /* leaf nodes made so far */
    const char *field; /* field of the enclosing field:( ), or NULL */
    size_t field_len;
    item *stack; /* operands of the expressions being parsed */
    size_t nstack, capstack;
    tw_qtok last; /* the last token read, at last_pos in last_mode */
    size_t last_pos;
    tw_qlex_mode last_mode;
    int have_last;
} parser;

/* Records the first error: offset, limit flag and a printf-style message. */
static void fail(parser *p, size_t offset, int limit, const char *fmt, ...) {
    va_list ap;

    if (p->rc) return;
    p->rc = limit ? TRAWL_ELIMIT : TRAWL_ESYNTAX;
    p->err->offset = offset <= p->len ? offset : p->len;
    p->err->limit = limit;
    va_start(ap, fmt);
    tw_verr(p->err->message, sizeof p->err->message, p->rc, fmt, ap);
    va_end(ap);
}

static void fail_oom(parser *p) {
    if (p->rc) return;
    p->rc = TRAWL_ENOMEM;
    p->err->offset = 0;
    p->err->limit = 0;
    tw_err(p->err->message, sizeof p->err->message, p->rc, "out of memory");
}

/* Reads the token at p->pos without consuming it (p->pos = tok->end does).
 * The grammar looks at most tokens several times; the last one is cached. */
static void lex(parser *p, tw_qlex_mode mode, tw_qtok *tok) {
    if (!p->have_last || p->last_pos != p->pos || p->last_mode != mode) {
        tw_qlex(p->q, p->len, p->pos, mode, &p->last);
        p->last_pos = p->pos;
        p->last_mode = mode;
        p->have_last = 1;
    }
    *tok = p->last;
}

/* Copies q[start, start+len) into the arena with a NUL; NULL on OOM. */
static const char *arena_str(parser *p, size_t start, size_t len) {
    char *s = arena_alloc(p->query, len + 1, 1);

    if (!s) {
        fail_oom(p);
        return NULL;
    }
    memcpy(s, p->q + start, len);
    s[len] = '\0';
    return s;
}

static tw_node *new_node(parser *p, tw_node_kind kind, size_t offset) {
    tw_node *n = arena_alloc(p->query, sizeof *n, alignof(tw_node));

    if (!n) {
        fail_oom(p);
        return NULL;
    }
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->offset = offset;
    return n;
}

/* Enters one nesting level (a parenthesis or unary operator at offset);
 * fails with a limit error past TW_QUERY_MAX_DEPTH. Returns 0 if entered. */
static int enter(parser *p, size_t offset) {
    if (p->depth >= TW_QUERY_MAX_DEPTH) {
        fail(p, offset, 1, "query nests deeper than %d levels", TW_QUERY_MAX_DEPTH);
        return p->rc;
    }
    p->depth++;
    return 0;
}

static int push(parser *p, const item *it) {
    if (p->nstack == p->capstack) {
        size_t cap = p->capstack ? p->capstack * 2 : 64;
        item *s = realloc(p->stack, cap * sizeof *s);
        if (!s) {
            fail_oom(p);
            return p->rc;
        }
        p->stack = s;
        p->capstack = cap;
    }
    p->stack[p->nstack++] = *it;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Building nodes                                                            */

/* Makes a leaf of kind from the text q[start, start+len), with the current
 * field scope or field (if not NULL). Counts it against TW_QUERY_MAX_CLAUSES. */
static tw_node *make_leaf(parser *p, tw_node_kind kind, size_t offset, const char *field, size_t start, size_t len) {
    tw_node *n;

    if (++p->leaves > TW_QUERY_MAX_CLAUSES) {
        fail(p, offset, 1, "query has more than %d terms", TW_QUERY_MAX_CLAUSES);
        return NULL;
    }
    n = new_node(p, kind, offset);
    if (!n) return NULL;
    n->field = field ? field : p->field;
    n->text = arena_str(p, start, len);
    n->text_len = len;
    return n->text ? n : NULL;
}

/* Can child, a clause of a parent BOOL with this occur, be replaced by its own
 * clauses without changing what the parent matches? An OR inside an OR can.
 * An AND inside a MUST clause is left alone: a word of it may analyze to
 * nothing and be dropped later, and then the group's structure matters (the
 * planner merges such groups once it knows which words remain). */
static int mergeable(const tw_node *child, tw_occur occur) {
    size_t i, must = 0, should = 0;

    if (child->kind != TW_Q_BOOL || occur == TW_MUST_NOT) return 0;
    for (i = 0; i < child->nclauses; i++) {
        must += child->occurs[i] == TW_MUST;
        should += child->occurs[i] == TW_SHOULD;
    }
    (void)must;
    return occur == TW_SHOULD && should == child->nclauses;
}

/* Makes a BOOL at offset from n operands with their occur set, merging
 * mergeable child BOOLs. */
static tw_node *make_bool(parser *p, size_t offset, const item *its, size_t n) {
    size_t i, j, k = 0, total = 0;
    tw_node *b;

    for (i = 0; i < n; i++) total += mergeable(its[i].node, its[i].occur) ? its[i].node->nclauses : 1;
    b = new_node(p, TW_Q_BOOL, offset);
    if (!b) return NULL;
    b->clauses = arena_alloc(p->query, total * sizeof *b->clauses, alignof(tw_node *));
    b->occurs = arena_alloc(p->query, total * sizeof *b->occurs, alignof(tw_occur));
    if (!b->clauses || !b->occurs) {
        fail_oom(p);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        const tw_node *c = its[i].node;
        if (mergeable(c, its[i].occur)) {
            for (j = 0; j < c->nclauses; j++) {
                b->clauses[k] = c->clauses[j];
                b->occurs[k++] = c->occurs[j];
            }
        } else {
            b->clauses[k] = its[i].node;
            b->occurs[k++] = its[i].occur;
        }
    }
    b->nclauses = total;
    return b;
}

/* A BOOL with the single clause MUST_NOT child (a lone negation). */
static tw_node *make_not(parser *p, size_t offset, tw_node *child) {
    item it;

    it.node = child;
    it.offset = offset;
    it.op = OP_MINUS;
    it.occur = TW_MUST_NOT;
    return make_bool(p, offset, &it, 1);
}

/* ------------------------------------------------------------------------ */
/* Grammar                                                                   */

static tw_node *parse_or(parser *p, before ctx);

/* The spelling of an operator token, for messages. */
static const char *tok_name(const tw_qtok *t) {
    switch (t->kind) {
        case TW_QTOK_AND: return "AND";
        case TW_QTOK_OR: return "OR";
        case TW_QTOK_NOT: return "NOT";
        case TW_QTOK_MINUS: return "-";
        case TW_QTOK_PLUS: return "+";
        default: return "?";
    }
}

/* Reports the error for token t found where a clause must start, after ctx. */
static void fail_no_clause(parser *p, before ctx, const tw_qtok *t) {
    switch (t->kind) {
        case TW_QTOK_EOF:
            if (!ctx.what)
                fail(p, 0, 0, "empty query");
            else if (ctx.what[0] == '(')
                fail(p, ctx.offset, 0, "'(' is never closed");
            else
                fail(p, ctx.offset, 0, "nothing after '%s'", ctx.what);
            break;
        case TW_QTOK_RPAREN:
            if (!ctx.what)
                fail(p, t->offset, 0, "unmatched ')'");
            else if (ctx.what[0] == '(')
                fail(p, ctx.offset, 0, "empty parentheses");
            else
                fail(p, ctx.offset, 0, "nothing after '%s'", ctx.what);
            break;
        case TW_QTOK_BADQUOTE: fail(p, t->offset, 0, "'\"' is never closed"); break;
        default: /* AND, OR */
            if (!ctx.what || ctx.what[0] == '(')
                fail(p, t->offset, 0, "'%s' needs something before it", tok_name(t));
            else
                fail(p, t->offset, 0, "'%s' cannot follow '%s'", tok_name(t), ctx.what);
            break;
    }
}

/* Reports the field token f found inside the field named outer. */
static void fail_nested(parser *p, const tw_qtok *f, const char *outer) {
    int n = f->text_len < 40 ? (int)f->text_len : 40;

    fail(p, f->offset, 0, "field '%.*s' inside field '%.40s'", n, p->q + f->text, outer);
}

/* A word token → TERM, or PREFIX if it ends in a single '*'. */
static tw_node *word_leaf(parser *p, const tw_qtok *t, size_t offset, const char *field) {
    size_t stars = 0, len = t->text_len;

    while (stars < len && p->q[t->text + len - 1 - stars] == '*') stars++;
    if (stars == 0) return make_leaf(p, TW_Q_TERM, offset, field, t->text, len);
    if (stars == len) {
        fail(p, t->text, 0, "'*' must follow a word");
        return NULL;
    }
    if (stars > 1) {
        fail(p, t->text + len - stars, 0, "more than one '*' after a word");
        return NULL;
    }
    return make_leaf(p, TW_Q_PREFIX, offset, field, t->text, len - 1);
}

/* A phrase token → PHRASE; a phrase of separators only is an error. */
static tw_node *phrase_leaf(parser *p, const tw_qtok *t, size_t offset, const char *field) {
    size_t i;

    for (i = 0; i < t->text_len; i++)
        if (!tw_qlex_is_sep((unsigned char)p->q[t->text + i])) break;
    if (i == t->text_len) {
        fail(p, t->offset, 0, "empty phrase");
        return NULL;
    }
    return make_leaf(p, TW_Q_PHRASE, offset, field, t->text, t->text_len);
}

/* ------------------------------------------------------------------------ */
/* Filters                                                                   */

#define NO_VALUE ((size_t)-1)

/* Copies the quoted value q[start, start+len) (the bytes between the quotes,
 * checked by quoted_value) into the arena without its escapes; *out_len gets
 * the unescaped length. NULL on OOM. */
static const char *arena_unescape(parser *p, size_t start, size_t len, size_t *out_len) {
    char *s = arena_alloc(p->query, len + 1, 1);
    size_t n = 0;

    if (!s) {
        fail_oom(p);
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        if (p->q[start + i] == '\\') i++; /* quoted_value made sure a '"' or '\\' follows */
        s[n++] = p->q[start + i];
    }
    s[n] = '\0';
    *out_len = n;
    return s;
}

/* A filter leaf on field with operator fop, value q[vs, vs+vl) and (ranges)
 * upper bound q[hs, hs+hl); NO_VALUE for an open range end. vesc / hesc: the
 * value is a quoted one with backslash escapes to undo. */
static tw_node *make_filter(parser *p, tw_filter_op fop, size_t offset, const char *field, size_t vs, size_t vl,
                            int vesc, size_t hs, size_t hl, int hesc) {
    tw_node *n;

    if (++p->leaves > TW_QUERY_MAX_CLAUSES) {
        fail(p, offset, 1, "query has more than %d terms", TW_QUERY_MAX_CLAUSES);
        return NULL;
    }
    n = new_node(p, TW_Q_FILTER, offset);
    if (!n) return NULL;
    n->field = field;
    n->fop = fop;
    if (vs != NO_VALUE) {
        n->text_len = vl;
        if (!(n->text = vesc ? arena_unescape(p, vs, vl, &n->text_len) : arena_str(p, vs, vl))) return NULL;
    }
    if (hs != NO_VALUE) {
        n->hi_len = hl;
        if (!(n->hi = hesc ? arena_unescape(p, hs, hl, &n->hi_len) : arena_str(p, hs, hl))) return NULL;
    }
    return n;
}

/* A quoted filter value starting with the '"' at pos: the bytes up to the
 * next '"' not escaped by a backslash; inside, \" stands for '"' and \\ for
 * '\' (any other byte after a backslash is an error). Sets *vs, *vl (the raw
 * bytes between the quotes), *end (past the closing quote) and *esc (1 when
 * there is an escape to undo). Returns 0 or the error. */
static int quoted_value(parser *p, size_t pos, size_t *vs, size_t *vl, size_t *end, int *esc) {
    const unsigned char *s = (const unsigned char *)p->q;
    size_t i;

    *esc = 0;
    for (i = pos + 1; i < p->len && s[i] != '"'; i++) {
        if (s[i] != '\\') continue;
        if (i + 1 < p->len && (s[i + 1] == '"' || s[i + 1] == '\\')) {
            *esc = 1;
            i++;
            continue;
        }
        if (i + 1 >= p->len) {
            i = p->len; /* a backslash at the very end: the quote is never closed */
            break;
        }
        if (s[i + 1] >= 0x21 && s[i + 1] < 0x7f)
            fail(p, i, 0, "bad escape '\\%c' in a quoted value (only \\\" and \\\\ are escapes)", s[i + 1]);
        else
            fail(p, i, 0, "bad escape in a quoted value: '\\' followed by byte 0x%02x (only \\\" and \\\\ are escapes)",
                 s[i + 1]);
        return p->rc;
    }
    if (i >= p->len) {
        fail(p, pos, 0, "'\"' is never closed");
        return p->rc;
    }
    *vs = pos + 1;
    *vl = i - pos - 1;
    *end = i + 1;
    return 0;
}

/* The value of a filter, which must start at pos (right after its operator,
 * spelled op for messages, of the filter at offset): a word or a non-empty
 * quoted value (quoted_value). Sets *vs, *vl, *esc and moves p->pos past it;
 * returns 0 or the error. */
static int filter_value(parser *p, size_t pos, size_t offset, const char *field, const char *op, size_t *vs, size_t *vl,
                        int *esc) {
    tw_qtok t;

    *esc = 0;
    if (pos < p->len && p->q[pos] == '"') {
        size_t end;
        if (quoted_value(p, pos, vs, vl, &end, esc)) return p->rc;
        if (*vl == 0) {
            fail(p, pos, 0, "empty value after '%.40s%s'", field, op);
            return p->rc;
        }
        p->pos = end;
        return 0;
    }
    p->pos = pos;
    lex(p, TW_QLEX_VALUE, &t);
    if (t.offset != pos || t.kind != TW_QTOK_WORD) {
        fail(p, offset, 0, "a value must follow '%.40s%s' directly", field, op);
        return p->rc;
    }
    *vs = t.text;
    *vl = t.text_len;
    p->pos = t.end;
    return 0;
}

/* Can byte c end a bound inside [ ]? */
static int ends_bound(unsigned char c) {
    return tw_qlex_is_sep(c) || c == ']' || c == '"';
}

/* One bound of a range at or after pos (separators skipped): a phrase or
 * the bytes up to a separator, ']' or '"'; "*" alone is an open end (*vs =
 * NO_VALUE); *esc as for quoted_value. Sets *at to where the bound starts. Returns 0, or 1 when no
 * bound starts there (*at is then the next byte: len, ']' ...), or the error. */
static int range_bound(parser *p, size_t pos, size_t *at, size_t *vs, size_t *vl, size_t *end, int *esc) {
    const unsigned char *s = (const unsigned char *)p->q;
    size_t i;

    *esc = 0;
    while (pos < p->len && tw_qlex_is_sep(s[pos])) pos++;
    *at = pos;
    if (pos >= p->len || s[pos] == ']') return 1;
    if (s[pos] == '"') {
        if (quoted_value(p, pos, vs, vl, end, esc)) return p->rc;
        if (*vl == 0) {
            fail(p, pos, 0, "empty value in a range");
            return p->rc;
        }
        return 0;
    }
    for (i = pos; i < p->len && !ends_bound(s[i]); i++)
        ;
    *vs = pos;
    *vl = i - pos;
    *end = i;
    if (*vl == 1 && s[pos] == '*') *vs = NO_VALUE;
    return 0;
}

/* After "field:" (the token f) at '[': BOUND "TO" BOUND "]". */
static tw_node *parse_range(parser *p, const tw_qtok *f, const char *name) {
    const unsigned char *s = (const unsigned char *)p->q;
    size_t lb = f->end, at, lo = 0, lol = 0, hi = 0, hil = 0, end = 0, to;
    int r, loesc = 0, hiesc = 0;

    r = range_bound(p, lb + 1, &at, &lo, &lol, &end, &loesc);
    if (r > 1 || r < 0) return NULL;
    if (r == 1) {
        if (at < p->len)
            fail(p, lb, 0, "empty range");
        else
            fail(p, lb, 0, "'[' is never closed");
        return NULL;
    }
    to = end;
    while (to < p->len && tw_qlex_is_sep(s[to])) to++;
    if (to >= p->len) {
        fail(p, lb, 0, "'[' is never closed");
        return NULL;
    }
    if (!(to + 2 <= p->len && s[to] == 'T' && s[to + 1] == 'O' && (to + 2 == p->len || ends_bound(s[to + 2])))) {
        fail(p, to, 0, "expected 'TO' between the bounds of a range");
        return NULL;
    }
    r = range_bound(p, to + 2, &at, &hi, &hil, &end, &hiesc);
    if (r > 1 || r < 0) return NULL;
    if (r == 1) {
        if (at < p->len)
            fail(p, to, 0, "nothing after 'TO'");
        else
            fail(p, lb, 0, "'[' is never closed");
        return NULL;
    }
    while (end < p->len && tw_qlex_is_sep(s[end])) end++;
    if (end >= p->len) {
        fail(p, lb, 0, "'[' is never closed");
        return NULL;
    }
    if (s[end] != ']') {
        fail(p, end, 0, "expected ']' after the range's upper bound");
        return NULL;
    }
    p->pos = end + 1;
    return make_filter(p, TW_F_RANGE, f->offset, name, lo, lol, loesc, hi, hil, hiesc);
}

/* Is the token t a word of exactly four ASCII digits? */
static int four_digits(const parser *p, const tw_qtok *t) {
    if (t->kind != TW_QTOK_WORD || t->text_len != 4) return 0;
    for (size_t i = 0; i < 4; i++)
        if (p->q[t->text + i] < '0' || p->q[t->text + i] > '9') return 0;
    return 1;
}

/* After the comparison token c (name and operator, not consumed): the value. */
static tw_node *parse_cmp(parser *p, const tw_qtok *c) {
    static const char *const ops[] = {"", "", "<", "<=", ">", ">="};
    const char *name = arena_str(p, c->text, c->text_len);
    size_t vs = 0, vl = 0;
    int esc = 0;

    if (!name || filter_value(p, c->end, c->offset, name, ops[c->cmp], &vs, &vl, &esc)) return NULL;
    return make_filter(p, (tw_filter_op)c->cmp, c->offset, name, vs, vl, esc, NO_VALUE, 0, 0);
}

/* After '(' at lparen (already consumed, depth entered): or_expr ")". */
static tw_node *parse_group(parser *p, size_t lparen) {
    tw_node *n;
    tw_qtok t;
    before ctx;

    ctx.what = "(";
    ctx.offset = lparen;
    n = parse_or(p, ctx);
    if (p->rc) return NULL;
    lex(p, TW_QLEX_CLAUSE, &t);
    if (t.kind != TW_QTOK_RPAREN) { /* parse_or stops only at ')' or the end */
        fail(p, lparen, 0, "'(' is never closed");
        return NULL;
    }
    p->pos = t.end;
    p->depth--;
    return n;
}

/* After the field token f (consumed): WORD | WORD* | PHRASE | "(" or_expr ")",
 * starting right after the ':'. */
static tw_node *parse_field_value(parser *p, const tw_qtok *f) {
    const char *name;
    tw_node *n;
    tw_qtok t;

    name = arena_str(p, f->text, f->text_len);
    if (!name) return NULL;
    if (f->end < p->len && p->q[f->end] == '=') {
        size_t vs = 0, vl = 0;
        int esc = 0;
        if (filter_value(p, f->end + 1, f->offset, name, ":=", &vs, &vl, &esc)) return NULL;
        return make_filter(p, TW_F_EQ, f->offset, name, vs, vl, esc, NO_VALUE, 0, 0);
    }
    if (f->end < p->len && p->q[f->end] == '[') return parse_range(p, f, name);
    lex(p, TW_QLEX_VALUE, &t);
    if (t.offset == f->end && f->text_len == 4 && memcmp(name, "year", 4) == 0 && four_digits(p, &t)) {
        p->pos = t.end;
        return make_filter(p, TW_F_YEAR, f->offset, name, t.text, t.text_len, 0, NO_VALUE, 0, 0);
    }
    if (t.offset != f->end) /* the value must follow the ':' directly */
        t.kind = TW_QTOK_EOF;
    switch (t.kind) {
        case TW_QTOK_WORD: p->pos = t.end; return word_leaf(p, &t, f->offset, name);
        case TW_QTOK_PHRASE: p->pos = t.end; return phrase_leaf(p, &t, f->offset, name);
        case TW_QTOK_LPAREN:
            if (enter(p, t.offset)) return NULL;
            p->pos = t.end;
            p->field = name;
            p->field_len = f->text_len;
            n = parse_group(p, t.offset);
            p->field = NULL;
            p->field_len = 0;
            return n;
        case TW_QTOK_FIELD: fail_nested(p, &t, name); return NULL;
        case TW_QTOK_BADQUOTE: fail(p, t.offset, 0, "'\"' is never closed"); return NULL;
        default: /* EOF, ')' */ fail(p, f->offset, 0, "nothing after '%.40s:'", name); return NULL;
    }
}

/* primary := "(" or_expr ")" | [FIELD ":"] (WORD | WORD "*" | PHRASE | "(" or_expr ")") */
static tw_node *parse_primary(parser *p, before ctx) {
    tw_qtok t;

    lex(p, TW_QLEX_CLAUSE, &t);
    switch (t.kind) {
        case TW_QTOK_LPAREN:
            if (enter(p, t.offset)) return NULL;
            p->pos = t.end;
            return parse_group(p, t.offset);
        case TW_QTOK_WORD: p->pos = t.end; return word_leaf(p, &t, t.offset, NULL);
        case TW_QTOK_PHRASE: p->pos = t.end; return phrase_leaf(p, &t, t.offset, NULL);
        case TW_QTOK_FIELD:
            if (p->field) {
                fail_nested(p, &t, p->field);
                return NULL;
            }
            p->pos = t.end;
            return parse_field_value(p, &t);
        case TW_QTOK_CMP:
            if (p->field) {
                fail(p, t.offset, 0, "filter on '%.*s' inside field '%.40s'", t.text_len < 40 ? (int)t.text_len : 40,
                     p->q + t.text, p->field);
                return NULL;
            }
            return parse_cmp(p, &t);
        default: fail_no_clause(p, ctx, &t); return NULL;
    }
}

/* unary := ("-" | "NOT" | "+") unary | primary. Fills *out with the node, its
 * start offset and its outermost operator. Inner operators are applied here:
 * an inner '-'/NOT wraps its operand in a lone negation, an inner '+' is a no-op. */
static int parse_unary(parser *p, before ctx, item *out) {
    int ops[TW_QUERY_MAX_DEPTH];
    size_t offs[TW_QUERY_MAX_DEPTH];
    size_t nops = 0, i, start;
    tw_node *n;
    tw_qtok t;

    lex(p, TW_QLEX_CLAUSE, &t);
    start = t.offset;
    while (t.kind == TW_QTOK_MINUS || t.kind == TW_QTOK_PLUS || t.kind == TW_QTOK_NOT) {
        if (enter(p, t.offset)) return p->rc;
        ops[nops] = t.kind == TW_QTOK_PLUS ? OP_PLUS : OP_MINUS;
        offs[nops++] = t.offset;
        ctx.what = tok_name(&t);
        ctx.offset = t.offset;
        p->pos = t.end;
        lex(p, TW_QLEX_CLAUSE, &t);
    }
    n = parse_primary(p, ctx);
    if (!n) return p->rc;
    p->depth -= nops;
    for (i = nops; i > 1; i--) {
        if (ops[i - 1] == OP_MINUS) {
            n = make_not(p, offs[i - 1], n);
            if (!n) return p->rc;
        }
    }
    out->node = n;
    out->offset = start;
    out->op = nops ? ops[0] : OP_NONE;
    out->occur = TW_MUST;
    return 0;
}

/* and_expr := unary ( ["AND"] unary )*. Stops before OR, ')' or the end. */
static tw_node *parse_and(parser *p, before ctx) {
    size_t base = p->nstack, n, i;
    int pending_and = 0;
    tw_node *res;
    tw_qtok t;
    item it;

    for (;;) {
        if (parse_unary(p, ctx, &it) || push(p, &it)) return NULL;
        if (pending_and) {
            p->stack[p->nstack - 2].occur = TW_MUST; /* explicit AND: both neighbours MUST */
            p->stack[p->nstack - 1].occur = TW_MUST;
        } else {
            p->stack[p->nstack - 1].occur = p->default_or ? TW_SHOULD : TW_MUST;
        }
        lex(p, TW_QLEX_CLAUSE, &t);
        if (t.kind == TW_QTOK_OR || t.kind == TW_QTOK_RPAREN || t.kind == TW_QTOK_EOF) break;
        pending_and = t.kind == TW_QTOK_AND;
        if (pending_and) {
            ctx.what = "AND";
            ctx.offset = t.offset;
            p->pos = t.end;
        }
    }
    n = p->nstack - base;
    for (i = base; i < p->nstack; i++) {
        if (p->stack[i].op == OP_PLUS)
            p->stack[i].occur = TW_MUST;
        else if (p->stack[i].op == OP_MINUS)
            p->stack[i].occur = TW_MUST_NOT;
    }
    if (n == 1) {
        it = p->stack[base];
        res = it.op == OP_MINUS ? make_not(p, it.offset, it.node) : it.node;
    } else {
        /* The analyzer takes p->stack (grown by push, freed with the parser)
         * for a leak on an infeasible path (default_or both 0 and not 0). */
        res = make_bool(p, p->stack[base].offset, p->stack + base, n); // NOLINT(clang-analyzer-unix.Malloc)
    }
    p->nstack = base;
    return res;
}

/* or_expr := and_expr ( "OR" and_expr )*. Stops before ')' or the end. */
static tw_node *parse_or(parser *p, before ctx) {
    size_t base = p->nstack, n;
    tw_node *res;
    tw_qtok t;
    item it;

    for (;;) {
        lex(p, TW_QLEX_CLAUSE, &t);
        it.offset = t.offset;
        it.node = parse_and(p, ctx);
        if (!it.node) return NULL;
        it.op = OP_NONE;
        it.occur = TW_SHOULD;
        if (push(p, &it)) return NULL;
        lex(p, TW_QLEX_CLAUSE, &t);
        if (t.kind != TW_QTOK_OR) break;
        ctx.what = "OR";
        ctx.offset = t.offset;
        p->pos = t.end;
    }
    n = p->nstack - base;
    // NOLINTNEXTLINE(clang-analyzer-unix.Malloc): p->stack is the parser's, freed with it (as in parse_and)
    res = n == 1 ? p->stack[base].node : make_bool(p, p->stack[base].offset, p->stack + base, n);
    p->nstack = base;
    return res;
}

int tw_query_parse(const char *q, size_t len, int default_or, tw_query **out, tw_parse_error *err) {
    tw_parse_error local;
    parser p;
    tw_node *root;
    tw_qtok t;
    before ctx;

    if (!err) err = &local;
    memset(err, 0, sizeof *err);
    memset(&p, 0, sizeof p);
    p.err = err;
    p.len = len;
    if (out) *out = NULL;
    if (!out || (!q && len)) {
        fail(&p, 0, 0, "invalid arguments");
        return TRAWL_EINVAL;
    }
    if (len > TW_QUERY_MAX_BYTES) {
        fail(&p, TW_QUERY_MAX_BYTES, 1, "query is longer than %d bytes", TW_QUERY_MAX_BYTES);
        return p.rc;
    }
    p.q = q ? q : "";
    p.default_or = default_or != 0;
    p.query = malloc(sizeof *p.query);
    if (!p.query) {
        fail_oom(&p);
        return p.rc;
    }
    p.query->root = NULL;
    p.query->chunks = NULL;

    ctx.what = NULL;
    ctx.offset = 0;
    root = parse_or(&p, ctx);
    if (!p.rc) {
        lex(&p, TW_QLEX_CLAUSE, &t);
        if (t.kind == TW_QTOK_RPAREN) /* parse_or stops only at ')' or the end */
            fail(&p, t.offset, 0, "unmatched ')'");
    }
    free(p.stack);
    if (p.rc) {
        tw_query_free(p.query);
        return p.rc;
    }
    p.query->root = root;
    *out = p.query;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Canonical S-expression                                                    */

typedef struct writer {
    char *buf;
    size_t cap;
    size_t n; /* bytes needed so far */
} writer;

static void put(writer *w, const char *s, size_t len) {
    size_t i;

    for (i = 0; i < len; i++, w->n++)
        if (w->n + 1 < w->cap) w->buf[w->n] = s[i];
}

static void puts_(writer *w, const char *s) {
    put(w, s, strlen(s));
}

static void put_string(writer *w, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    size_t i;

    put(w, "\"", 1);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(w, e, 2);
        } else if (c < 0x20 || c == 0x7f) {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            put(w, e, 4);
        } else {
            put(w, (const char *)&c, 1);
        }
    }
    put(w, "\"", 1);
}

/* Recursion depth is the tree's depth, bounded by the parser's limits. */
static void format_node(writer *w, const tw_node *n) {
    static const char *const occur_names[] = {"must", "should", "must_not"};
    size_t i;

    if (!n) {
        puts_(w, "(null)");
        return;
    }
    switch (n->kind) {
        case TW_Q_TERM:
        case TW_Q_PREFIX:
        case TW_Q_PHRASE:
            puts_(w, n->kind == TW_Q_TERM ? "(term " : n->kind == TW_Q_PREFIX ? "(prefix " : "(phrase ");
            if (n->field) {
                puts_(w, n->field);
                put(w, " ", 1);
            }
            put_string(w, n->text ? n->text : "", n->text ? n->text_len : 0);
            put(w, ")", 1);
            break;
        case TW_Q_FILTER: {
            static const char *const fops[] = {"?", "eq", "lt", "le", "gt", "ge", "range", "year"};
            unsigned op = (unsigned)n->fop;
            puts_(w, "(filter ");
            puts_(w, n->field ? n->field : "?");
            put(w, " ", 1);
            puts_(w, op < 8 ? fops[op] : "?");
            put(w, " ", 1);
            if (n->text)
                put_string(w, n->text, n->text_len);
            else
                put(w, "*", 1);
            if (n->fop == TW_F_RANGE) {
                put(w, " ", 1);
                if (n->hi)
                    put_string(w, n->hi, n->hi_len);
                else
                    put(w, "*", 1);
            }
            put(w, ")", 1);
            break;
        }
        case TW_Q_BOOL:
            puts_(w, "(bool");
            for (i = 0; i < n->nclauses; i++) {
                unsigned oc = (unsigned)n->occurs[i];
                put(w, " (", 2);
                puts_(w, oc < 3 ? occur_names[oc] : "?");
                put(w, " ", 1);
                format_node(w, n->clauses[i]);
                put(w, ")", 1);
            }
            put(w, ")", 1);
            break;
        default: puts_(w, "(?)"); break;
    }
}

size_t tw_query_format(const tw_node *n, char *buf, size_t cap) {
    writer w;

    w.buf = buf;
    w.cap = buf ? cap : 0;
    w.n = 0;
    format_node(&w, n);
    if (w.cap) w.buf[w.n < w.cap ? w.n : w.cap - 1] = '\0';
    return w.n;
}
