/*
 * test_storedoc.c — tw_storedoc_texts (the title and snippet text of a stored
 * document, streamed through yajl) against the reference: a jansson tree of
 * the same text and the lookups the snippet code made before (title string,
 * "body" string, else the first other string key but "id").
 *
 * Inputs: hand-written edge cases (escapes, \u0000, surrogates, repeated
 * keys, non-string titles, nesting, huge numbers, bad UTF-8, trailing bytes,
 * arrays at the top), every line of sample/trends.jsonl, and 20,000 random
 * documents built from a small grammar that favours those cases.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storedoc.h"
#include "testutil.h"

static int failures;

static void reference(const char *json, size_t len, char **title, char **body, size_t *blen) {
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
    *body = NULL;
    *blen = 0;
    if (b) {
        *blen = json_string_length(b);
        *body = xmalloc(*blen + 1);
        memcpy(*body, json_string_value(b), *blen);
        (*body)[*blen] = 0;
    }
    json_decref(doc);
}

static void check_one(const char *json, size_t len) {
    char *t1, *b1, *t2, *b2;
    size_t l1, l2;
    reference(json, len, &t1, &b1, &l1);
    int rc = tw_storedoc_texts(json, len, &t2, &b2, &l2);
    CHECK(rc == 0, "rc %d for %.*s", rc, (int)len, json);
    if (rc == 0) {
        CHECK(strcmp(t1, t2) == 0, "title '%s' expected '%s' for %.*s", t2, t1, (int)len, json);
        CHECK((b1 == NULL) == (b2 == NULL) && l1 == l2 && (!b1 || memcmp(b1, b2, l1) == 0),
              "body '%s' (%zu) expected '%s' (%zu) for %.*s", b2 ? b2 : "(none)", l2, b1 ? b1 : "(none)", l1, (int)len,
              json);
    }
    free(t1);
    free(b1);
    free(t2);
    free(b2);
}

static const char *const cases[] = {
    "{\"id\":\"a\",\"title\":\"T\",\"body\":\"B\"}",
    "{\"id\":\"a\",\"body\":\"B\",\"title\":\"T\"}",
    "{\"id\":\"a\",\"title\":\"T\"}",
    "{\"id\":\"a\"}",
    "{}",
    "{\"title\":1,\"body\":null,\"x\":\"X\",\"y\":\"Y\"}",
    "{\"title\":[\"no\"],\"body\":{\"a\":\"nested\"},\"z\":[\"arr\"],\"w\":\"W\"}",
    "{\"id\":\"i\",\"title\":\"t\",\"x\":{\"body\":\"deep\",\"title\":\"deep\"},\"y\":\"Y\"}",
    "{\"title\":\"a\\nb\\t\\\"q\\\"\\\\\",\"body\":\"line\\none\"}",
    "{\"title\":\"caf\\u00e9\",\"body\":\"x\"}",
    "{\"title\":\"nul\\u0000here\",\"body\":\"x\"}",
    "{\"title\":\"lone \\ud800\",\"body\":\"x\"}",
    "{\"title\":\"pair \\ud83d\\ude00\",\"body\":\"x\"}",
    "{\"title\":\"T1\",\"title\":\"T2\",\"body\":\"B\"}",
    "{\"a\":1,\"b\":\"first\",\"a\":\"again\"}",
    "{\"n\":123456789012345678901234567890,\"body\":\"B\"}",
    "{\"n\":1e999,\"body\":\"B\"}",
    "{\"n\":-12.5e3,\"body\":\"B\"}",
    "{\"n\":9223372036854775807,\"body\":\"B\"}",
    "{\"n\":9223372036854775808,\"body\":\"B\"}",
    "{\"title\":\"T\"} trailing",
    "{\"title\":\"T\"}   ",
    "[\"title\",\"T\"]",
    "\"title\"",
    "{\"title\":\"T\",}",
    "{\"title\":\"\xc3\x28\"}",
    "{\"title\":\"ok\",\"body\":\"\xe2\x82\xac euro\"}",
    "{\"title\":\"ctl\x01\"}",
    "{\"body\":\"\",\"x\":\"X\"}",
    "{\"body\":5,\"id\":\"only id\"}",
    "{\"\":\"empty key\"}",
    "{\"id\":\"a\",\"ID\":\"upper\"}",
    "",
    "{",
    "{\"title\":\"T\" /* comment */}",
};

/* Appends a random JSON value of the small grammar to b. */
static void rand_value(rng *r, char *b, size_t cap, int depth) {
    static const char *const strs[] = {
        "\"plain\"",   "\"with \\\"quote\\\"\"", "\"\\u00e9t\\u00e9\"", "\"a\\nb\"",   "\"\"",
        "\"\\u0000\"", "\"\\ud800x\"",           "\"tab\\t\"",          "\"\xc3\xa9\""};
    static const char *const scal[] = {"1", "-2.5", "true", "false", "null", "1e5", "99999999999999999999"};
    size_t n = strlen(b);
    int k = (int)below(r, depth > 3 ? 2 : 4);
    if (k == 0)
        snprintf(b + n, cap - n, "%s", strs[below(r, sizeof strs / sizeof strs[0])]);
    else if (k == 1)
        snprintf(b + n, cap - n, "%s", scal[below(r, sizeof scal / sizeof scal[0])]);
    else if (k == 2) {
        snprintf(b + n, cap - n, "[");
        int m = (int)below(r, 3);
        for (int i = 0; i < m; i++) {
            if (i) strncat(b, ",", cap - strlen(b) - 1);
            rand_value(r, b, cap, depth + 1);
        }
        strncat(b, "]", cap - strlen(b) - 1);
    } else {
        static const char *const keys[] = {"\"id\"", "\"title\"", "\"body\"", "\"x\"", "\"y\"", "\"t\\u0069tle\""};
        snprintf(b + n, cap - n, "{");
        int m = (int)below(r, 5);
        for (int i = 0; i < m; i++) {
            if (i) strncat(b, ",", cap - strlen(b) - 1);
            strncat(b, keys[below(r, sizeof keys / sizeof keys[0])], cap - strlen(b) - 1);
            strncat(b, ":", cap - strlen(b) - 1);
            rand_value(r, b, cap, depth + 1);
        }
        strncat(b, "}", cap - strlen(b) - 1);
    }
}

int main(void) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_one(cases[i], strlen(cases[i]));
    /* Deep nesting around the limits of both parsers. */
    for (int depth = 500; depth <= 2100; depth += 400) {
        char *d = xmalloc(2 * (size_t)depth + 64);
        size_t n = (size_t)sprintf(d, "{\"body\":\"B\",\"x\":");
        for (int i = 0; i < depth; i++) d[n++] = '[';
        for (int i = 0; i < depth; i++) d[n++] = ']';
        d[n++] = '}';
        check_one(d, n);
        free(d);
    }
    const char *src = getenv("TRAWL_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/sample/trends.jsonl", src ? src : ".");
    FILE *f = fopen(path, "r");
    int lines = 0;
    if (f) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) > 0) {
            check_one(line, (size_t)n);
            lines++;
        }
        free(line);
        fclose(f);
    }
    CHECK(lines > 0, "no line read from %s", path);
    rng r = {20261129};
    char buf[8192];
    for (int i = 0; i < 20000; i++) {
        buf[0] = 0;
        rand_value(&r, buf, sizeof buf, 3 - (int)below(&r, 2) * 3); /* mostly objects at the top */
        check_one(buf, strlen(buf));
    }
    printf("test_storedoc: %zu cases, %d sample lines, 20000 random documents\n", sizeof cases / sizeof cases[0],
           lines);
    return failures ? 1 : 0;
}
