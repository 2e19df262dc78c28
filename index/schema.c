/*
 * schema.c — field types and the schema file (contract and file format in
 * schema.h). Parsing uses jansson; printing builds the canonical text by hand
 * so that its bytes are fixed (the manifest compares them).
 */
#include "schema.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int tw_types_valid(unsigned types) {
    return types == 0 || types == TW_FT_TEXT || types == TW_FT_KEYWORD || types == (TW_FT_TEXT | TW_FT_KEYWORD) ||
           types == TW_FT_DATE || types == TW_FT_NUMBER;
}

const char *tw_types_name(unsigned types) {
    switch (types) {
        case 0: return "none";
        case TW_FT_TEXT: return "text";
        case TW_FT_KEYWORD: return "keyword";
        case TW_FT_TEXT | TW_FT_KEYWORD: return "text+keyword";
        case TW_FT_DATE: return "date";
        case TW_FT_NUMBER: return "number";
        default: return "invalid";
    }
}

int tw_types_parse(const char *s, size_t len, unsigned *types) {
    static const unsigned all[] = {0, TW_FT_TEXT, TW_FT_KEYWORD, TW_FT_TEXT | TW_FT_KEYWORD, TW_FT_DATE, TW_FT_NUMBER};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *n = tw_types_name(all[i]);
        if (strlen(n) == len && memcmp(n, s, len) == 0) {
            *types = all[i];
            return 0;
        }
    }
    return TRAWL_EINVAL;
}

void tw_schema_free(tw_schema *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) free(s->f[i].name);
    free(s->f);
    free(s);
}

static int cmp_field(const void *a, const void *b) {
    const tw_schema_field *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, n);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Appends name[0..len) with types to s (capacity cap); 0 or TRAWL_ENOMEM. */
static int add_field(tw_schema *s, size_t cap, const char *name, size_t len, unsigned types) {
    if (s->n == cap) return TRAWL_ENOMEM;
    char *c = malloc(len + 1);
    if (!c) return TRAWL_ENOMEM;
    memcpy(c, name, len);
    c[len] = 0;
    s->f[s->n].name = c;
    s->f[s->n].len = len;
    s->f[s->n].types = types;
    s->n++;
    return 0;
}

int tw_schema_default(tw_schema **out) {
    static const struct {
        const char *name;
        unsigned types;
    } def[] = {{"author", TW_FT_TEXT | TW_FT_KEYWORD},
               {"body", TW_FT_TEXT},
               {"date", TW_FT_DATE},
               {"source", TW_FT_TEXT | TW_FT_KEYWORD},
               {"tags", TW_FT_TEXT | TW_FT_KEYWORD},
               {"title", TW_FT_TEXT}};
    size_t n = sizeof def / sizeof def[0];
    *out = NULL;
    tw_schema *s = calloc(1, sizeof *s);
    if (!s) return TRAWL_ENOMEM;
    s->deflt = TW_FT_TEXT;
    s->f = calloc(n, sizeof *s->f);
    if (!s->f) {
        free(s);
        return TRAWL_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        if (add_field(s, n, def[i].name, strlen(def[i].name), def[i].types) != 0) {
            tw_schema_free(s);
            return TRAWL_ENOMEM;
        }
    qsort(s->f, s->n, sizeof *s->f, cmp_field);
    *out = s;
    return 0;
}

/* The types a JSON value names (a string, or an array of "text" and
 * "keyword"). 0 and *types, or TRAWL_EINVAL. */
static int value_types(json_t *v, unsigned *types) {
    if (json_is_string(v)) return tw_types_parse(json_string_value(v), json_string_length(v), types);
    if (!json_is_array(v) || json_array_size(v) == 0) return TRAWL_EINVAL;
    unsigned t = 0;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        unsigned one;
        if (!json_is_string(e) || tw_types_parse(json_string_value(e), json_string_length(e), &one) != 0)
            return TRAWL_EINVAL;
        if (one != TW_FT_TEXT && one != TW_FT_KEYWORD) return TRAWL_EINVAL;
        t |= one;
    }
    *types = t;
    return 0;
}

int tw_schema_parse(const char *json, size_t len, tw_schema **out, char *err, size_t errcap) {
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return tw_err(err, errcap, TRAWL_EINVAL, "invalid JSON at line %d, column %d: %s", je.line, je.column, je.text);
    int rc = 0;
    tw_schema *s = NULL;
    if (!json_is_object(root)) {
        rc = tw_err(err, errcap, TRAWL_EINVAL, "a schema is a JSON object");
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "fields") != 0 && strcmp(key, "default") != 0) {
            rc = tw_err(err, errcap, TRAWL_EINVAL, "unknown schema member \"%s\" (expected \"fields\" and \"default\")",
                        key);
            goto done;
        }
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
        goto done;
    }
    s->deflt = TW_FT_TEXT;
    json_t *d = json_object_get(root, "default");
    if (d) {
        unsigned t;
        if (value_types(d, &t) != 0 || (t & (TW_FT_DATE | TW_FT_NUMBER))) {
            rc = tw_err(err, errcap, TRAWL_EINVAL,
                        "schema \"default\" must be \"text\", \"keyword\", \"text+keyword\" or \"none\"");
            goto done;
        }
        s->deflt = t;
    }
    json_t *fields = json_object_get(root, "fields");
    if (fields) {
        if (!json_is_object(fields)) {
            rc = tw_err(err, errcap, TRAWL_EINVAL, "schema \"fields\" must be an object of field name: type");
            goto done;
        }
        size_t n = json_object_size(fields);
        if (n > TW_SCHEMA_MAX_FIELDS) {
            rc = tw_err(err, errcap, TRAWL_EINVAL, "a schema names at most %u fields", TW_SCHEMA_MAX_FIELDS);
            goto done;
        }
        s->f = calloc(n ? n : 1, sizeof *s->f);
        if (!s->f) {
            rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
            goto done;
        }
        size_t klen;
        json_object_keylen_foreach(fields, key, klen, val) {
            unsigned t;
            if (klen == 0 || klen > TW_SCHEMA_MAX_NAME || memchr(key, 0, klen)) {
                rc = tw_err(err, errcap, TRAWL_EINVAL, "schema field names are 1 to %u bytes without NUL",
                            TW_SCHEMA_MAX_NAME);
                goto done;
            }
            if (value_types(val, &t) != 0) {
                rc = tw_err(err, errcap, TRAWL_EINVAL,
                            "schema field \"%s\": the type must be \"text\", \"keyword\", \"text+keyword\", "
                            "\"date\", \"number\" or \"none\"",
                            key);
                goto done;
            }
            if (add_field(s, n, key, klen, t) != 0) {
                rc = tw_err(err, errcap, TRAWL_ENOMEM, "out of memory");
                goto done;
            }
        }
        qsort(s->f, s->n, sizeof *s->f, cmp_field);
    }
done:
    json_decref(root);
    if (rc != 0) {
        tw_schema_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

char *tw_schema_print(const tw_schema *s, size_t *len) {
    /* json_dumps with JSON_COMPACT | JSON_SORT_KEYS gives the canonical text. */
    json_t *root = json_object(), *fields = json_object();
    char *out = NULL;
    if (!root || !fields) goto done;
    if (json_object_set_new(root, "default", json_string(tw_types_name(s->deflt))) != 0) goto done;
    for (size_t i = 0; i < s->n; i++)
        if (json_object_setn_new(fields, s->f[i].name, s->f[i].len, json_string(tw_types_name(s->f[i].types))) != 0)
            goto done;
    if (json_object_set(root, "fields", fields) != 0) goto done;
    out = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
done:
    json_decref(fields);
    json_decref(root);
    if (out && len) *len = strlen(out);
    return out;
}

unsigned tw_schema_types(const tw_schema *s, const char *name, size_t len) {
    size_t lo = 0, hi = s->n;
    tw_schema_field key = {(char *)name, len, 0};
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_field(&s->f[mid], &key);
        if (c == 0) return s->f[mid].types;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return s->deflt;
}

int tw_schema_equal(const tw_schema *a, const tw_schema *b) {
    /* Fields listed with the default type are the same as unlisted ones. */
    for (size_t i = 0; i < a->n; i++)
        if (tw_schema_types(b, a->f[i].name, a->f[i].len) != a->f[i].types) return 0;
    for (size_t i = 0; i < b->n; i++)
        if (tw_schema_types(a, b->f[i].name, b->f[i].len) != b->f[i].types) return 0;
    return a->deflt == b->deflt;
}

tw_schema *tw_schema_copy(const tw_schema *s) {
    tw_schema *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->deflt = s->deflt;
    c->f = calloc(s->n ? s->n : 1, sizeof *c->f);
    if (!c->f) {
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++)
        if (add_field(c, s->n, s->f[i].name, s->f[i].len, s->f[i].types) != 0) {
            tw_schema_free(c);
            return NULL;
        }
    return c;
}
