/*
 * jsondoc.c — one JSON document in, its top-level keys and texts out
 * (contract in jsondoc.h).
 *
 * The fast path runs only on text that a byte scan (prescan) finds free of
 * everything where yajl and jansson could disagree: control bytes other than
 * tab, newline and carriage return (yajl also takes \v and \f as blanks),
 * UTF-8 that is not strictly valid (yajl lets overlong forms and surrogates
 * through), and \u escapes of U+0000 or of unpaired surrogates (yajl turns
 * those into '?' or invalid UTF-8; jansson rejects them). During the parse the
 * callbacks hand the document back to jansson on anything else jansson might
 * reject: a duplicate key in any object, numbers jansson might not hold
 * (integers beyond 18 digits, reals that might overflow a double), nesting
 * deeper than FAST_MAX_DEPTH, a top level that is not an object. When yajl
 * itself rejects the text, jansson parses it too, to word the error. So the
 * fast path accepts only what json_loadb(JSON_REJECT_DUPLICATES) accepts, and
 * its strings are the same bytes (both decode escapes to the same UTF-8).
 */
#include "jsondoc.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <yajl/yajl_parse.h>

#include "error.h"

#define FAST_MAX_DEPTH 512u /* jansson allows 2048; deeper documents go to jansson */

typedef struct dupe {
    uint64_t hash; /* 0 = empty slot */
    uint32_t serial, len;
    size_t off; /* key bytes in keybuf */
} dupe;

struct tw_jparser {
    tw_jdoc *d;
    yajl_handle h;
    size_t end; /* input bytes up to the top level's closing brace, 0 until then */
    unsigned depth;
    int fallback; /* a callback gave up: let jansson decide */
    int oom;
    uint32_t next_serial;
    uint32_t serial[FAST_MAX_DEPTH + 1]; /* per open container: object serial, 0 for arrays */
    size_t cur;                          /* index of the top-level key being read, or SIZE_MAX */
    dupe *tab;                           /* keys of every object of the document */
    size_t tab_cap, tab_used;
    tw_buf keybuf;
};

void tw_jdoc_free(tw_jdoc *d) {
    if (!d) return;
    free(d->keys);
    free(d->strs);
    tw_buf_free(&d->scratch);
    if (d->p) {
        free(d->p->tab);
        tw_buf_free(&d->p->keybuf);
        free(d->p);
    }
    memset(d, 0, sizeof *d);
}

static void reset(tw_jdoc *d, const char *input, size_t len) {
    d->input = input;
    d->input_len = len;
    d->nkeys = 0;
    d->nstrs = 0;
    d->scratch.len = 0;
    d->err[0] = 0;
}

static int push_key(tw_jdoc *d, tw_jstr name) {
    if (d->nkeys == d->keys_cap) {
        size_t ncap = d->keys_cap ? d->keys_cap * 2 : 16;
        tw_jkey *nk = realloc(d->keys, ncap * sizeof *nk);
        if (!nk) return TRAWL_ENOMEM;
        d->keys = nk;
        d->keys_cap = ncap;
    }
    d->keys[d->nkeys++] = (tw_jkey){name, TW_JV_OTHER, d->nstrs, 0, TW_JS_NONE, {0, 0, 0}, 0, 0};
    return 0;
}

static int push_str(tw_jdoc *d, tw_jstr s) {
    if (d->nstrs == d->strs_cap) {
        size_t ncap = d->strs_cap ? d->strs_cap * 2 : 16;
        tw_jstr *ns = realloc(d->strs, ncap * sizeof *ns);
        if (!ns) return TRAWL_ENOMEM;
        d->strs = ns;
        d->strs_cap = ncap;
    }
    d->strs[d->nstrs++] = s;
    return 0;
}

/* A string handed over by the parser: a span of the input when it points
 * there, else a copy in scratch. Returns 0 or TRAWL_ENOMEM. */
static int make_str(tw_jdoc *d, const char *s, size_t n, tw_jstr *out) {
    if (s >= d->input && n <= d->input_len && (size_t)(s - d->input) <= d->input_len - n) {
        *out = (tw_jstr){(size_t)(s - d->input), n, 0};
        return 0;
    }
    *out = (tw_jstr){d->scratch.len, n, 1};
    tw_buf_put(&d->scratch, s, n);
    return d->scratch.oom ? TRAWL_ENOMEM : 0;
}

/* ------------------------------------------------------------------------ */
/* Prescan                                                                   */

/* Reads the 4 hex digits at s into *v. 0 or TRAWL_EDOC. */
static int hex4(const unsigned char *s, unsigned *v) {
    unsigned r = 0;
    for (int k = 0; k < 4; k++) {
        unsigned c = s[k], x;
        if (c >= '0' && c <= '9')
            x = c - '0';
        else if (c >= 'a' && c <= 'f')
            x = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            x = c - 'A' + 10;
        else
            return TRAWL_EDOC;
        r = r << 4 | x;
    }
    *v = r;
    return 0;
}

/* Length of the strictly valid UTF-8 sequence at s[0..n) (s[0] >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t k;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0xC2) return 0;
    if (c <= 0xDF)
        k = 2;
    else if (c <= 0xEF) {
        k = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c <= 0xF4) {
        k = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* beyond U+10FFFF */
    } else {
        return 0;
    }
    if (n < k || s[1] < lo || s[1] > hi) return 0;
    for (size_t j = 2; j < k; j++)
        if ((s[j] & 0xC0) != 0x80) return 0;
    return k;
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Is s[0..n) free of what the fast path leaves to jansson (see the top)? A
 * backslash always starts an escape here: outside strings it is an error
 * both parsers report, so the scan never misreads valid text. */
static int prescan(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            uint64_t low = (w - ONES * 0x20) & ~w & HIGHS; /* a byte < 0x20 */
            uint64_t bs = w ^ (ONES * 0x5C);
            bs = (bs - ONES) & ~bs & HIGHS; /* a backslash */
            if (!((w & HIGHS) | low | bs)) {
                i += 8;
                continue;
            }
        }
        unsigned c = s[i];
        if (c < 0x20) {
            if (c != '\t' && c != '\n' && c != '\r') return 0;
            i++;
        } else if (c == '\\') {
            if (n - i < 2) return 0;
            unsigned e = s[i + 1];
            if (e != 'u') {
                if (e < 0x20 || e >= 0x80) return 0;
                i += 2;
                continue;
            }
            unsigned v, v2;
            if (n - i < 6 || hex4(s + i + 2, &v)) return 0;
            if (v == 0 || (v >= 0xDC00 && v <= 0xDFFF)) return 0;
            if (v >= 0xD800 && v <= 0xDBFF) {
                if (n - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' || hex4(s + i + 8, &v2) || v2 < 0xDC00 ||
                    v2 > 0xDFFF)
                    return 0;
                i += 12;
            } else {
                i += 6;
            }
        } else if (c >= 0x80) {
            size_t k = utf8_len(s + i, n - i);
            if (!k) return 0;
            i += k;
        } else {
            i++;
        }
    }
    return 1;
}

/* Can jansson surely hold the JSON number s[0..n) (yajl's lexer has checked
 * its syntax)? Integers of up to 18 digits fit a long long; a real whose
 * decimal exponent is at most 300 cannot overflow a double. */
static int number_ok(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    size_t int_start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    size_t int_digits = i - int_start;
    int real = 0;
    if (i < n && s[i] == '.') {
        real = 1;
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {}
    }
    long exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        real = 1;
        int neg = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (exp < 100000) exp = exp * 10 + (s[i] - '0');
        if (neg) exp = -exp;
    }
    if (!real) return int_digits <= 18;
    int int_zero = int_digits == 1 && s[int_start] == '0';
    long e = (int_zero ? 0 : (long)int_digits) + exp;
    return int_digits <= 1000 && e <= 300;
}

/* ------------------------------------------------------------------------ */
/* yajl callbacks                                                            */

static int give_up(tw_jparser *p) {
    p->fallback = 1;
    return 0;
}

/* A scalar value (or the start of a container) at the current depth:
 * sc what it is (TW_JS_NONE for a container). */
static int value(tw_jparser *p, tw_jkind kind, tw_jscalar sc) {
    if (p->depth == 0) return give_up(p); /* the top level is not an object */
    if (p->depth == 1 && p->cur != SIZE_MAX) {
        p->d->keys[p->cur].kind = kind;
        p->d->keys[p->cur].scalar = sc;
    }
    /* An element of a top-level array that is no string (null aside). */
    if (p->depth == 2 && p->serial[2] == 0 && p->cur != SIZE_MAX && sc != TW_JS_NULL) p->d->keys[p->cur].nonstr++;
    return 1;
}

static int cb_null(void *c) {
    return value(c, TW_JV_OTHER, TW_JS_NULL);
}
static int cb_boolean(void *c, int b) {
    return value(c, TW_JV_OTHER, TW_JS_BOOL);
}

static int cb_number(void *c, const char *s, size_t n) {
    tw_jparser *p = c;
    if (!number_ok(s, n)) return give_up(c);
    if (p->depth == 1 && p->cur != SIZE_MAX) {
        tw_jstr num;
        if (make_str(p->d, s, n, &num)) {
            p->oom = 1;
            return 0;
        }
        p->d->keys[p->cur].num = num;
    }
    return value(c, TW_JV_OTHER, TW_JS_NUMBER);
}

static int cb_string(void *c, const unsigned char *s, size_t n) {
    tw_jparser *p = c;
    tw_jdoc *d = p->d;
    if (p->depth == 0) return give_up(p);
    int top = p->depth == 1,
        elem = p->depth == 2 && p->serial[2] == 0 && p->cur != SIZE_MAX && d->keys[p->cur].kind == TW_JV_ARRAY;
    if (!top && !elem) return 1;
    tw_jstr str;
    if (make_str(d, (const char *)s, n, &str) || push_str(d, str)) {
        p->oom = 1;
        return 0;
    }
    if (top) {
        d->keys[p->cur].kind = TW_JV_STRING;
        d->keys[p->cur].first = d->nstrs - 1;
        d->keys[p->cur].n = 1;
    } else {
        d->keys[p->cur].n++;
    }
    return 1;
}

static int open_container(tw_jparser *p, uint32_t serial) {
    if (p->depth >= FAST_MAX_DEPTH) return give_up(p);
    p->serial[++p->depth] = serial;
    return 1;
}

static int cb_start_map(void *c) {
    tw_jparser *p = c;
    if (p->depth > 0) value(p, TW_JV_OTHER, TW_JS_OBJECT);
    return open_container(p, ++p->next_serial);
}

static int cb_start_array(void *c) {
    tw_jparser *p = c;
    if (p->depth == 0) return give_up(p);
    if (p->depth == 1 && p->cur != SIZE_MAX) {
        tw_jkey *k = &p->d->keys[p->cur];
        k->kind = TW_JV_ARRAY;
        k->first = p->d->nstrs;
        k->n = 0;
        k->array = 1;
        k->scalar = TW_JS_NONE;
    }
    if (p->depth == 2 && p->serial[2] == 0 && p->cur != SIZE_MAX) p->d->keys[p->cur].nonstr++; /* nested array */
    return open_container(p, 0);
}

static int cb_end(void *c) {
    tw_jparser *p = c;
    /* yajl lets an unfinished token after the value through (`{...}"x`):
     * note where the value ends, to check that only blanks follow. */
    if (p->depth == 1) p->end = yajl_get_bytes_consumed(p->h);
    if (p->depth == 2 && p->cur != SIZE_MAX && p->d->keys[p->cur].kind == TW_JV_ARRAY && p->d->keys[p->cur].n == 0)
        p->d->keys[p->cur].kind = TW_JV_OTHER; /* no string element */
    p->depth--;
    return 1;
}

/* Records key s of the innermost object; gives up on a duplicate. */
static int cb_map_key(void *c, const unsigned char *s, size_t n) {
    tw_jparser *p = c;
    uint32_t serial = p->serial[p->depth];
    if (p->tab_used * 2 >= p->tab_cap) {
        size_t ncap = p->tab_cap ? p->tab_cap * 2 : 64;
        dupe *nt = calloc(ncap, sizeof *nt);
        if (!nt) {
            p->oom = 1;
            return 0;
        }
        for (size_t i = 0; i < p->tab_cap; i++) {
            if (!p->tab[i].hash) continue;
            size_t j = p->tab[i].hash & (ncap - 1);
            while (nt[j].hash) j = (j + 1) & (ncap - 1);
            nt[j] = p->tab[i];
        }
        free(p->tab);
        p->tab = nt;
        p->tab_cap = ncap;
    }
    uint64_t h = XXH3_64bits_withSeed(s, n, serial) | 1;
    size_t j = h & (p->tab_cap - 1);
    for (; p->tab[j].hash; j = (j + 1) & (p->tab_cap - 1)) {
        const dupe *e = &p->tab[j];
        if (e->hash == h && e->serial == serial && e->len == n && (n == 0 || memcmp(p->keybuf.p + e->off, s, n) == 0))
            return give_up(p);
    }
    if (n > UINT32_MAX) return give_up(p);
    p->tab[j] = (dupe){h, serial, (uint32_t)n, p->keybuf.len};
    p->tab_used++;
    tw_buf_put(&p->keybuf, s, n);
    if (p->keybuf.oom) {
        p->oom = 1;
        return 0;
    }
    if (p->depth == 1) {
        tw_jstr name;
        if (make_str(p->d, (const char *)s, n, &name) || push_key(p->d, name)) {
            p->oom = 1;
            return 0;
        }
        p->cur = p->d->nkeys - 1;
    }
    return 1;
}

static const yajl_callbacks callbacks = {
    cb_null, cb_boolean, NULL, NULL, cb_number, cb_string, cb_start_map, cb_map_key, cb_end, cb_start_array, cb_end,
};

/* Runs yajl over the text. 1 = read, 0 = let jansson decide, TRAWL_ENOMEM. */
static int fast_read(tw_jdoc *d) {
    tw_jparser *p = d->p;
    if (!p) {
        p = d->p = calloc(1, sizeof *p);
        if (!p) return TRAWL_ENOMEM;
    }
    p->d = d;
    p->depth = 0;
    p->fallback = 0;
    p->oom = 0;
    p->next_serial = 0;
    p->cur = SIZE_MAX;
    p->keybuf.len = 0;
    p->end = 0;
    if (p->tab_used) {
        /* Forget the last document's keys (a table grown by a document with
         * many keys is dropped rather than cleared for every document). */
        if (p->tab_cap > 1024) {
            free(p->tab);
            p->tab = NULL;
            p->tab_cap = 0;
        } else {
            memset(p->tab, 0, p->tab_cap * sizeof *p->tab);
        }
        p->tab_used = 0;
    }
    yajl_handle h = p->h = yajl_alloc(&callbacks, NULL, p);
    if (!h) return TRAWL_ENOMEM;
    /* prescan has already checked the UTF-8, more strictly. */
    yajl_config(h, yajl_dont_validate_strings, 1);
    yajl_status st = yajl_parse(h, (const unsigned char *)d->input, d->input_len);
    if (st == yajl_status_ok) st = yajl_complete_parse(h);
    yajl_free(h);
    p->h = NULL;
    if (p->oom) return TRAWL_ENOMEM;
    if (st != yajl_status_ok || p->fallback || p->next_serial == 0 || p->end == 0) return 0;
    for (size_t i = p->end; i < d->input_len; i++) {
        char c = d->input[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return 0;
    }
    return 1;
}

int tw_jdoc_read(tw_jdoc *d, const char *json, size_t len) {
    reset(d, json, len);
    if (prescan((const unsigned char *)json, len)) {
        int r = fast_read(d);
        if (r < 0) return r;
        if (r > 0) return 0;
        reset(d, json, len);
    }
    json_error_t je;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) return tw_err(d->err, sizeof d->err, TRAWL_EDOC, "invalid JSON at column %d: %s", je.column, je.text);
    int rc;
    if (!json_is_object(doc)) {
        rc = tw_err(d->err, sizeof d->err, TRAWL_EDOC, "not a JSON object");
    } else {
        rc = tw_jdoc_from_tree(d, doc, json, len);
    }
    json_decref(doc);
    return rc;
}

static int tree_str(tw_jdoc *d, const char *s, size_t n, tw_jstr *out) {
    *out = (tw_jstr){d->scratch.len, n, 1};
    tw_buf_put(&d->scratch, s, n);
    return d->scratch.oom ? TRAWL_ENOMEM : 0;
}

int tw_jdoc_from_tree(tw_jdoc *d, json_t *obj, const char *stored, size_t slen) {
    reset(d, stored, slen);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        tw_jstr name, s;
        if (tree_str(d, key, strlen(key), &name) || push_key(d, name)) return TRAWL_ENOMEM;
        tw_jkey *k = &d->keys[d->nkeys - 1];
        if (json_is_string(v)) {
            if (tree_str(d, json_string_value(v), json_string_length(v), &s) || push_str(d, s)) return TRAWL_ENOMEM;
            k->kind = TW_JV_STRING;
            k->first = d->nstrs - 1;
            k->n = 1;
        } else if (json_is_array(v)) {
            k->first = d->nstrs;
            k->array = 1;
            for (size_t i = 0; i < json_array_size(v); i++) {
                json_t *e = json_array_get(v, i);
                if (!json_is_string(e)) {
                    k->nonstr += !json_is_null(e);
                    continue;
                }
                if (tree_str(d, json_string_value(e), json_string_length(e), &s) || push_str(d, s)) return TRAWL_ENOMEM;
                k->n++;
            }
            k->kind = k->n ? TW_JV_ARRAY : TW_JV_OTHER;
        } else if (json_is_number(v)) {
            char num[64];
            int n = json_is_integer(v) ? snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v))
                                       : snprintf(num, sizeof num, "%.17g", json_real_value(v));
            /* A real keeps looking like one ("1e2" must not come back as an integer). */
            if (!json_is_integer(v) && !strpbrk(num, ".eEni") && n + 2 < (int)sizeof num) {
                memcpy(num + n, ".0", 3);
                n += 2;
            }
            if (tree_str(d, num, (size_t)n, &k->num)) return TRAWL_ENOMEM;
            k->scalar = TW_JS_NUMBER;
        } else {
            k->scalar = json_is_null(v) ? TW_JS_NULL : json_is_object(v) ? TW_JS_OBJECT : TW_JS_BOOL;
        }
    }
    return 0;
}
