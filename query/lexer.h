/*
 * lexer.h — splits query text into tokens for the query parser (parser.c).
 *
 * First stage of query processing: text → lexer → parser → AST (ast.h) →
 * planner. The lexer is stateless: tw_qlex reads one token at a byte offset, so
 * the parser can look at the next token in the mode its grammar position needs.
 *
 * Bytes: separators are ASCII space and control characters (0x00-0x20, 0x7f);
 * '(' ')' '"' always end a word; every other byte (including invalid UTF-8) is
 * a word byte. Inside a quoted phrase every byte up to the closing '"' is text.
 * A field prefix is [A-Za-z_][A-Za-z0-9_.]* followed by ':', unless the ':' is
 * followed by '/' or ':' (so "http://x" and "std::x" stay words). At the start
 * of a clause, such a name directly followed by '<', '<=', '>' or '>=' is a
 * comparison (TW_QTOK_CMP); the value follows the operator directly.
 */
#ifndef TW_QUERY_LEXER_H
#define TW_QUERY_LEXER_H

#include <stddef.h>

typedef enum tw_qtok_kind {
    TW_QTOK_EOF,      /* end of input (offset = len) */
    TW_QTOK_LPAREN,   /* ( */
    TW_QTOK_RPAREN,   /* ) */
    TW_QTOK_WORD,     /* a word; may end in '*' (the parser decides what that means) */
    TW_QTOK_PHRASE,   /* "...": text is the bytes between the quotes */
    TW_QTOK_FIELD,    /* name: — text is the name without the ':' */
    TW_QTOK_MINUS,    /* '-' at the start of a clause */
    TW_QTOK_PLUS,     /* '+' at the start of a clause */
    TW_QTOK_AND,      /* the word AND at the start of a clause */
    TW_QTOK_OR,       /* the word OR */
    TW_QTOK_NOT,      /* the word NOT */
    TW_QTOK_BADQUOTE, /* a '"' with no closing quote (offset = the quote) */
    TW_QTOK_CMP       /* name< name<= name> name>= (clause mode): text is the name, cmp the operator */
} tw_qtok_kind;

/* Where the parser is: at the start of a clause, '-' '+' AND OR NOT are
 * operators; right after "field:" they are ordinary word bytes / words. */
typedef enum tw_qlex_mode { TW_QLEX_CLAUSE, TW_QLEX_VALUE } tw_qlex_mode;

typedef struct tw_qtok {
    tw_qtok_kind kind;
    size_t offset;   /* first byte of the token (after separators) */
    size_t end;      /* one past the token's last byte: where the next token starts */
    size_t text;     /* WORD, PHRASE, FIELD: offset of the text in the query */
    size_t text_len; /* its length in bytes */
    int cmp;         /* TW_QTOK_CMP: TW_F_LT, TW_F_LE, TW_F_GT or TW_F_GE (ast.h) */
} tw_qtok;

/* Reads the token that starts at or after pos in q[0..len) (pos <= len),
 * skipping separators, into *tok. Never fails: an unclosed quote is reported as
 * TW_QTOK_BADQUOTE. Time is linear in the bytes of the token (and the
 * separators before it). */
void tw_qlex(const char *q, size_t len, size_t pos, tw_qlex_mode mode, tw_qtok *tok);

/* Is byte c a separator between tokens? */
int tw_qlex_is_sep(unsigned char c);

#endif
