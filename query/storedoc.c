/*
 * storedoc.c — title and snippet text of a stored document (contract in
 * storedoc.h).
 *
 * Parsing the whole stored document into a jansson tree took about a third
 * of the time of a search with snippets: every string is copied a byte at a
 * time and every key hashed. Here yajl streams the text and only the top
 * level's keys are looked at; strings without escapes are not even copied
 * until they are known to be wanted.
 */
#include "storedoc.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <yajl/yajl_parse.h>

#include "trawl.h"

#define SD_MAX_DEPTH 512u /* jansson allows 2048; deeper documents go to jansson */
#define SD_KEYS 64u       /* top-level keys tracked for repeats; more go to jansson */

enum { K_OTHER = 0, K_ID, K_TITLE, K_BODY };

typedef struct sd {
    unsigned depth;
    int started;  /* the top level opened as an object */
    int kind;     /* of the top-level key whose value comes next */
    int fallback; /* let jansson decide */
    int oom;
    uint64_t keys[SD_KEYS]; /* hashes of the top-level keys so far */
    size_t nkeys;
    char *title, *body, *first; /* copies of the wanted strings */
    size_t body_len, first_len;
} sd;

static char *copy(const unsigned char *s, size_t n) {
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = 0;
    }
    return c;
}

/* A value other than a string or a container at the current place. */
static void scalar(sd *x) {
    if (x->depth == 1) x->kind = K_OTHER;
}

static int on_null(void *c) {
    scalar(c);
    return 1;
}
static int on_bool(void *c, int b) {
    (void)b;
    scalar(c);
    return 1;
}
/* jansson refuses integers beyond int64 and reals beyond double's range:
 * any number that could be one of those goes to jansson. */
static int on_number(void *c, const char *s, size_t n) {
    sd *x = c;
    if (n > 15 || memchr(s, 'e', n) || memchr(s, 'E', n)) {
        x->fallback = 1;
        return 0;
    }
    scalar(x);
    return 1;
}

static int on_string(void *c, const unsigned char *s, size_t n) {
    sd *x = c;
    if (x->depth != 1) return 1;
    char **slot = NULL;
    if (x->kind == K_TITLE)
        slot = &x->title;
    else if (x->kind == K_BODY)
        slot = &x->body, x->body_len = n;
    else if (x->kind == K_OTHER && !x->first)
        slot = &x->first, x->first_len = n;
    if (slot && !(*slot = copy(s, n))) {
        x->oom = 1;
        return 0;
    }
    return 1;
}

static int on_start(void *c) {
    sd *x = c;
    if (x->depth == 0) x->started = 1;
    if (++x->depth > SD_MAX_DEPTH) {
        x->fallback = 1;
        return 0;
    }
    return 1;
}

static int on_start_array(void *c) {
    sd *x = c;
    if (x->depth == 0) { /* not an object: jansson words it */
        x->fallback = 1;
        return 0;
    }
    return on_start(c);
}

static int on_end(void *c) {
    ((sd *)c)->depth--;
    return 1;
}

static int on_key(void *c, const unsigned char *s, size_t n) {
    sd *x = c;
    if (x->depth != 1) return 1;
    uint64_t h = XXH3_64bits(s, n);
    for (size_t i = 0; i < x->nkeys; i++)
        if (x->keys[i] == h) { /* a repeated key (or a hash collision): jansson decides */
            x->fallback = 1;
            return 0;
        }
    if (x->nkeys == SD_KEYS) {
        x->fallback = 1;
        return 0;
    }
    x->keys[x->nkeys++] = h;
    x->kind = n == 2 && !memcmp(s, "id", 2)      ? K_ID
              : n == 5 && !memcmp(s, "title", 5) ? K_TITLE
              : n == 4 && !memcmp(s, "body", 4)  ? K_BODY
                                                 : K_OTHER;
    return 1;
}

static const yajl_callbacks callbacks = {on_null,  on_bool, NULL,   NULL,           on_number, on_string,
                                         on_start, on_key,  on_end, on_start_array, on_end};

/* The jansson path: the reference semantics. */
static int by_jansson(const char *json, size_t len, char **title, char **body, size_t *body_len) {
    json_t *doc = json_loadb(json, len, 0, NULL);
    const char *t = "";
    json_t *jt = doc ? json_object_get(doc, "title") : NULL;
    if (json_is_string(jt)) t = json_string_value(jt);
    json_t *b = doc ? json_object_get(doc, "body") : NULL;
    if (!json_is_string(b) && doc) {
        const char *key;
        json_t *val;
        b = NULL;
        json_object_foreach(doc, key, val) {
            if (json_is_string(val) && strcmp(key, "id") != 0 && strcmp(key, "title") != 0) {
                b = val;
                break;
            }
        }
    }
    *title = strdup(t);
    if (b) {
        *body_len = json_string_length(b);
        *body = copy((const unsigned char *)json_string_value(b), *body_len);
    }
    json_decref(doc);
    return !*title || (b && !*body) ? TRAWL_ENOMEM : 0;
}

int tw_storedoc_texts(const char *json, size_t len, char **title, char **body, size_t *body_len) {
    *title = *body = NULL;
    *body_len = 0;
    sd x;
    memset(&x, 0, sizeof x);
    /* yajl turns a \u0000 or a lone surrogate into text where jansson refuses
     * the document: any \u escape goes to jansson. */
    for (const char *p = json, *end = json + len; (p = memchr(p, '\\', (size_t)(end - p))) != NULL; p += 2)
        if (p + 1 < end && p[1] == 'u') {
            x.fallback = 1;
            break;
        }
    if (!x.fallback) {
        yajl_handle h = yajl_alloc(&callbacks, NULL, &x);
        if (!h) return TRAWL_ENOMEM;
        yajl_status st = yajl_parse(h, (const unsigned char *)json, len);
        if (st == yajl_status_ok) st = yajl_complete_parse(h);
        yajl_free(h);
        if (x.oom) {
            free(x.title);
            free(x.body);
            free(x.first);
            return TRAWL_ENOMEM;
        }
        if (st != yajl_status_ok || !x.started) x.fallback = 1;
    }
    if (x.fallback) {
        free(x.title);
        free(x.body);
        free(x.first);
        return by_jansson(json, len, title, body, body_len);
    }
    *title = x.title ? x.title : strdup("");
    if (x.body) {
        *body = x.body;
        *body_len = x.body_len;
        free(x.first);
    } else {
        *body = x.first;
        *body_len = x.first_len;
    }
    return *title ? 0 : (free(*body), *body = NULL, TRAWL_ENOMEM);
}
