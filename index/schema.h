/*
 * schema.h — field types: which fields of a document are analyzed text,
 * exact keyword values, dates or numbers, and the schema file that says so.
 *
 * A schema maps field names to a set of types (TW_FT_* bits): text,
 * keyword, text+keyword, date, number, or none (stored only, not indexed);
 * fields it does not name get its default (text unless said otherwise). It is
 * fixed when an index is created and recorded in the manifest and in every
 * segment's META section, in the canonical JSON that tw_schema_print writes.
 *
 * Schema file (JSON object; every member optional):
 *
 *     {"fields": {"title": "text", "date": "date", "tags": "text+keyword",
 *                 "price": "number", "raw": "none"},
 *      "default": "text"}
 *
 * A type is one of "text", "keyword", "date", "number", "none", or
 * "text+keyword" (also written ["text", "keyword"]). Field names are 1..255
 * bytes; at most TW_SCHEMA_MAX_FIELDS fields. The default may be "text",
 * "keyword", "text+keyword" or "none" (not "date"/"number": unknown fields
 * would then fail on ordinary text). Unknown members are errors, so that a
 * misspelt key is not silently ignored.
 *
 * The default schema (an index created without a schema file) is the trend
 * document schema: title, body text; date date; tags, source, author
 * text+keyword; everything else text.
 */
#ifndef TW_SCHEMA_H
#define TW_SCHEMA_H

#include <stddef.h>

/* Type bits. Valid sets: 0 (none), TEXT, KEYWORD, TEXT|KEYWORD, DATE, NUMBER. */
#define TW_FT_TEXT 1u
#define TW_FT_KEYWORD 2u
#define TW_FT_DATE 4u
#define TW_FT_NUMBER 8u

#define TW_SCHEMA_MAX_FIELDS 1024u
#define TW_SCHEMA_MAX_NAME 255u

typedef struct tw_schema_field {
    char *name; /* NUL-terminated, no NUL inside */
    size_t len;
    unsigned types; /* TW_FT_* */
} tw_schema_field;

typedef struct tw_schema {
    tw_schema_field *f; /* n fields, sorted bytewise by name, distinct */
    size_t n;
    unsigned deflt; /* types of every field not listed */
} tw_schema;

/* Is types one of the valid sets above? */
int tw_types_valid(unsigned types);
/* The name of a valid type set ("text", "text+keyword", "none", ...), or
 * "invalid". Static string. */
const char *tw_types_name(unsigned types);
/* Parses a type name (as in the file) into *types. 0 or TRAWL_EINVAL. */
int tw_types_parse(const char *s, size_t len, unsigned *types);

/* A new copy of the default trend schema in *out. 0 or TRAWL_ENOMEM. */
int tw_schema_default(tw_schema **out);

/* Parses a schema file's text json[0..len). Returns 0 and *out (free with
 * tw_schema_free); TRAWL_EINVAL with a message in err (invalid JSON with its
 * line and column, unknown member, bad type, bad or repeated name, ...);
 * TRAWL_ENOMEM. */
int tw_schema_parse(const char *json, size_t len, tw_schema **out, char *err, size_t errcap);

/* The canonical JSON text of s, malloc'd and NUL-terminated (length in *len
 * if not NULL): {"default":"text","fields":{"name":"type",...}} with the
 * fields in byte order and no blanks, so that equal schemas print equal
 * bytes and tw_schema_parse reads it back. NULL on allocation failure. */
char *tw_schema_print(const tw_schema *s, size_t *len);

/* Types of the field name[0..len) under s (its entry, else the default). */
unsigned tw_schema_types(const tw_schema *s, const char *name, size_t len);

/* 1 when a and b give every field the same types, else 0. */
int tw_schema_equal(const tw_schema *a, const tw_schema *b);

/* A deep copy, or NULL on allocation failure. */
tw_schema *tw_schema_copy(const tw_schema *s);

void tw_schema_free(tw_schema *s);

#endif
