/*
 * lexer.c — query text → tokens (see lexer.h for the byte classes).
 *
 * Sits between the raw query text and the parser (parser.c). It knows only the
 * shape of tokens; what a '*' at the end of a word or a keyword means in a
 * given place is the parser's business. Every read is bounded by len, so any
 * bytes (NULs, invalid UTF-8) are safe.
 */
#include "lexer.h"

#include "ast.h"

#include <string.h>

int tw_qlex_is_sep(unsigned char c) {
    return c <= 0x20 || c == 0x7f;
}

/* Can c end a word? Separators and the always-special ( ) ". */
static int ends_word(unsigned char c) {
    return tw_qlex_is_sep(c) || c == '(' || c == ')' || c == '"';
}

static int is_name_start(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(unsigned char c) {
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '.';
}

/* If a field prefix "name:" starts at pos, returns the offset of its ':',
 * otherwise 0 (a ':' can never be at offset 0 of a field prefix). */
static size_t field_colon(const unsigned char *s, size_t len, size_t pos) {
    size_t i;

    if (!is_name_start(s[pos])) return 0;
    for (i = pos + 1; i < len && is_name_char(s[i]); i++)
        ;
    if (i >= len || s[i] != ':') return 0;
    if (i + 1 < len && (s[i + 1] == '/' || s[i + 1] == ':')) return 0;
    return i;
}

void tw_qlex(const char *q, size_t len, size_t pos, tw_qlex_mode mode, tw_qtok *tok) {
    const unsigned char *s = (const unsigned char *)q;
    size_t i, colon;

    while (pos < len && tw_qlex_is_sep(s[pos])) pos++;
    memset(tok, 0, sizeof *tok);
    tok->offset = pos;
    tok->end = pos;
    tok->text = pos;
    if (pos >= len) {
        tok->kind = TW_QTOK_EOF;
        return;
    }
    switch (s[pos]) {
        case '(':
            tok->kind = TW_QTOK_LPAREN;
            tok->end = pos + 1;
            return;
        case ')':
            tok->kind = TW_QTOK_RPAREN;
            tok->end = pos + 1;
            return;
        case '"': {
            const unsigned char *close = memchr(s + pos + 1, '"', len - pos - 1);
            if (!close) {
                tok->kind = TW_QTOK_BADQUOTE;
                tok->end = len;
                return;
            }
            tok->kind = TW_QTOK_PHRASE;
            tok->text = pos + 1;
            tok->text_len = (size_t)(close - s) - (pos + 1);
            tok->end = (size_t)(close - s) + 1;
            return;
        }
        case '-':
        case '+':
            if (mode == TW_QLEX_CLAUSE) {
                tok->kind = s[pos] == '-' ? TW_QTOK_MINUS : TW_QTOK_PLUS;
                tok->end = pos + 1;
                return;
            }
            break;
        default: break;
    }
    if (mode == TW_QLEX_CLAUSE && is_name_start(s[pos])) {
        for (i = pos + 1; i < len && is_name_char(s[i]); i++)
            ;
        if (i < len && (s[i] == '<' || s[i] == '>')) {
            int eq = i + 1 < len && s[i + 1] == '=';
            tok->kind = TW_QTOK_CMP;
            tok->text_len = i - pos;
            tok->cmp = s[i] == '<' ? (eq ? TW_F_LE : TW_F_LT) : (eq ? TW_F_GE : TW_F_GT);
            tok->end = i + 1 + (size_t)eq;
            return;
        }
    }
    colon = field_colon(s, len, pos);
    if (colon) {
        tok->kind = TW_QTOK_FIELD;
        tok->text_len = colon - pos;
        tok->end = colon + 1;
        return;
    }
    for (i = pos; i < len && !ends_word(s[i]); i++)
        ;
    tok->kind = TW_QTOK_WORD;
    tok->text_len = i - pos;
    tok->end = i;
    if (mode == TW_QLEX_CLAUSE) {
        if (tok->text_len == 2 && memcmp(s + pos, "OR", 2) == 0)
            tok->kind = TW_QTOK_OR;
        else if (tok->text_len == 3 && memcmp(s + pos, "AND", 3) == 0)
            tok->kind = TW_QTOK_AND;
        else if (tok->text_len == 3 && memcmp(s + pos, "NOT", 3) == 0)
            tok->kind = TW_QTOK_NOT;
    }
}
