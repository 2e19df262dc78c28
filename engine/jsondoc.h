/*
 * jsondoc.h — reads one JSON document into the flat description the writer
 * indexes: its top-level keys in document order, each with the kind of its
 * value and its text (a string, or the string elements of an array).
 *
 * Front of the write path (JSON text → jsondoc → analysis → accumulator). The
 * fast path streams the text through yajl (no tree, no allocation per value);
 * anything it is not certain to judge exactly as jansson would (invalid or
 * unusual input: control bytes, bad UTF-8, \u0000 or surrogate escapes, huge
 * numbers, duplicate keys, deep nesting, a top level that is not an object)
 * goes to jansson with JSON_REJECT_DUPLICATES, which decides and words the
 * error. So the documents accepted, their content and the error messages are
 * exactly those of json_loadb.
 */
#ifndef TW_JSONDOC_H
#define TW_JSONDOC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "varint.h"

/* A decoded string: bytes [off, off + len) of the input text, or of the
 * scratch buffer when in_scratch (a string with escapes, or any string of a
 * document that came through jansson). Never contains a NUL byte. */
typedef struct tw_jstr {
    size_t off, len;
    int in_scratch;
} tw_jstr;

typedef enum tw_jkind {
    TW_JV_OTHER = 0,  /* number, true, false, null, object, or an array without strings */
    TW_JV_STRING = 1, /* one string: strs[first] */
    TW_JV_ARRAY = 2   /* an array; strs[first .. first + n) are its string elements in order */
} tw_jkind;

/* What a key's value is beyond its strings (for typed fields). */
typedef enum tw_jscalar {
    TW_JS_NONE = 0,   /* a string or an array */
    TW_JS_NUMBER = 1, /* a number: its JSON text in num */
    TW_JS_NULL = 2,
    TW_JS_BOOL = 3,
    TW_JS_OBJECT = 4
} tw_jscalar;

typedef struct tw_jkey {
    tw_jstr name;
    tw_jkind kind;
    size_t first, n;
    tw_jscalar scalar; /* TW_JS_NONE for a string or an array */
    tw_jstr num;       /* scalar == TW_JS_NUMBER: the number's JSON text */
    int array;         /* the value is an array (kind may still be OTHER) */
    size_t nonstr;     /* array elements that are neither strings nor null */
} tw_jkey;

typedef struct tw_jparser tw_jparser; /* yajl handle and duplicate-key table */

/* The last document read. Reused from one document to the next. */
typedef struct tw_jdoc {
    const char *input; /* the text given to the last read (borrowed) */
    size_t input_len;
    tw_jkey *keys;
    size_t nkeys, keys_cap;
    tw_jstr *strs;
    size_t nstrs, strs_cap;
    tw_buf scratch;
    tw_jparser *p;
    char err[256]; /* why the last read failed */
} tw_jdoc;

/* Frees what d holds (d itself is the caller's); the zeroed struct is a valid
 * empty reader and so is the struct after this call. */
void tw_jdoc_free(tw_jdoc *d);

/* Reads json[0..len) (no surrounding blanks expected). Returns 0 when it is a
 * JSON object, with d->keys describing it; TRAWL_EDOC with a message in d->err
 * when it is not valid JSON (json_loadb's words, "invalid JSON at column N:
 * ...") or not an object ("not a JSON object"); TRAWL_ENOMEM. The strings that
 * point into the input are valid while json is. */
int tw_jdoc_read(tw_jdoc *d, const char *json, size_t len);

/* Describes the jansson object obj the same way (all strings in scratch);
 * input = stored, which the description does not point into. 0 or TRAWL_ENOMEM. */
int tw_jdoc_from_tree(tw_jdoc *d, json_t *obj, const char *stored, size_t slen);

/* The bytes of s. */
static inline const char *tw_jdoc_bytes(const tw_jdoc *d, tw_jstr s) {
    return s.in_scratch ? (const char *)d->scratch.p + s.off : d->input + s.off;
}

#endif
