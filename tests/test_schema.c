/*
 * test_schema.c — index/schema: the default trend schema, parsing of schema
 * files (every accepted form and each error), the canonical print and its
 * round trip over random schemas (checked field by field against the
 * generating table), and equality.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "schema.h"
#include "testutil.h"

static int failures;

static unsigned types_of(const tw_schema *s, const char *name) {
    return tw_schema_types(s, name, strlen(name));
}

static void test_default(void) {
    tw_schema *s = NULL;
    CHECK(tw_schema_default(&s) == 0, "default");
    CHECK(types_of(s, "title") == TW_FT_TEXT && types_of(s, "body") == TW_FT_TEXT, "text fields");
    CHECK(types_of(s, "date") == TW_FT_DATE, "date");
    CHECK(types_of(s, "tags") == (TW_FT_TEXT | TW_FT_KEYWORD) &&
              types_of(s, "source") == (TW_FT_TEXT | TW_FT_KEYWORD) &&
              types_of(s, "author") == (TW_FT_TEXT | TW_FT_KEYWORD),
          "keyword fields");
    CHECK(types_of(s, "anything") == TW_FT_TEXT && types_of(s, "Date") == TW_FT_TEXT, "other fields are text");
    size_t len;
    char *p = tw_schema_print(s, &len);
    CHECK(p &&
              strcmp(p, "{\"default\":\"text\",\"fields\":{\"author\":\"text+keyword\",\"body\":\"text\",\"date\":"
                        "\"date\",\"source\":\"text+keyword\",\"tags\":\"text+keyword\",\"title\":\"text\"}}") == 0 &&
              len == strlen(p),
          "print: %s", p ? p : "(null)");
    free(p);
    tw_schema_free(s);
}

static void test_parse(void) {
    const char *good =
        "{\"fields\": {\"t\": \"text\", \"k\": \"keyword\", \"tk\": [\"keyword\", \"text\"], \"d\": "
        "\"date\", \"n\": \"number\", \"x\": \"none\", \"both\": \"text+keyword\"}, \"default\": \"none\"}";
    tw_schema *s = NULL;
    char err[256] = "";
    CHECK(tw_schema_parse(good, strlen(good), &s, err, sizeof err) == 0, "%s", err);
    if (s) {
        CHECK(types_of(s, "t") == TW_FT_TEXT && types_of(s, "k") == TW_FT_KEYWORD &&
                  types_of(s, "tk") == (TW_FT_TEXT | TW_FT_KEYWORD) && types_of(s, "d") == TW_FT_DATE &&
                  types_of(s, "n") == TW_FT_NUMBER && types_of(s, "x") == 0 &&
                  types_of(s, "both") == (TW_FT_TEXT | TW_FT_KEYWORD) && types_of(s, "other") == 0,
              "types");
        tw_schema *c = tw_schema_copy(s);
        CHECK(c && tw_schema_equal(s, c), "copy");
        tw_schema_free(c);
        tw_schema_free(s);
    }
    s = NULL;
    CHECK(tw_schema_parse("{}", 2, &s, err, sizeof err) == 0 && s && s->n == 0 && s->deflt == TW_FT_TEXT, "empty");
    tw_schema_free(s);

    static const struct {
        const char *text, *words;
    } bad[] = {
        {"", "invalid JSON"},
        {"[]", "a schema is a JSON object"},
        {"{\"field\": {}}", "unknown schema member \"field\""},
        {"{\"fields\": []}", "must be an object"},
        {"{\"fields\": {\"a\": \"txt\"}}", "schema field \"a\""},
        {"{\"fields\": {\"a\": 3}}", "schema field \"a\""},
        {"{\"fields\": {\"a\": []}}", "schema field \"a\""},
        {"{\"fields\": {\"a\": [\"text\", \"date\"]}}", "schema field \"a\""},
        {"{\"fields\": {\"\": \"text\"}}", "field names"},
        {"{\"fields\": {\"a\": \"text\", \"a\": \"date\"}}", "duplicate"},
        {"{\"default\": \"date\"}", "\"default\" must be"},
        {"{\"default\": 1}", "\"default\" must be"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = NULL;
        err[0] = 0;
        int rc = tw_schema_parse(bad[i].text, strlen(bad[i].text), &s, err, sizeof err);
        CHECK(rc == TRAWL_EINVAL && s == NULL && strstr(err, bad[i].words), "%s: rc %d, message \"%s\"", bad[i].text,
              rc, err);
    }
}

/* Random schemas: print, parse back, compare with the table they came from. */
static void test_round_trip(rng *r) {
    static const unsigned all[] = {0, TW_FT_TEXT, TW_FT_KEYWORD, TW_FT_TEXT | TW_FT_KEYWORD, TW_FT_DATE, TW_FT_NUMBER};
    for (int round = 0; round < 300; round++) {
        size_t n = below(r, 40);
        char names[40][48];
        unsigned types[40];
        char json[4096];
        size_t k = 0;
        unsigned deflt = all[below(r, 4)];
        k += (size_t)snprintf(json + k, sizeof json - k, "{\"default\":\"%s\",\"fields\":{", tw_types_name(deflt));
        for (size_t i = 0; i < n; i++) {
            snprintf(names[i], sizeof names[i], "f%zu\xc3\xa9%u", i, (unsigned)below(r, 1000));
            types[i] = all[below(r, 6)];
            k += (size_t)snprintf(json + k, sizeof json - k, "%s\"%s\":\"%s\"", i ? "," : "", names[i],
                                  tw_types_name(types[i]));
        }
        snprintf(json + k, sizeof json - k, "}}");
        tw_schema *s = NULL, *s2 = NULL;
        char err[256] = "";
        CHECK(tw_schema_parse(json, strlen(json), &s, err, sizeof err) == 0, "%s: %s", json, err);
        if (!s) continue;
        for (size_t i = 0; i < n; i++) CHECK(types_of(s, names[i]) == types[i], "field %s", names[i]);
        CHECK(types_of(s, "unlisted") == deflt, "default");
        size_t len;
        char *p = tw_schema_print(s, &len);
        CHECK(p != NULL, "print");
        if (p) {
            CHECK(tw_schema_parse(p, len, &s2, err, sizeof err) == 0 && tw_schema_equal(s, s2), "round trip %s", p);
            char *p2 = s2 ? tw_schema_print(s2, NULL) : NULL;
            CHECK(p2 && strcmp(p, p2) == 0, "canonical");
            free(p2);
            /* A changed type is a different schema. */
            if (n && s2) {
                s2->f[0].types = s2->f[0].types == TW_FT_DATE ? TW_FT_NUMBER : TW_FT_DATE;
                CHECK(!tw_schema_equal(s, s2), "changed schema equal");
            }
        }
        free(p);
        tw_schema_free(s);
        tw_schema_free(s2);
    }
    for (unsigned t = 0; t < 16; t++) {
        const char *name = tw_types_name(t);
        unsigned back;
        if (tw_types_valid(t))
            CHECK(tw_types_parse(name, strlen(name), &back) == 0 && back == t, "type %u", t);
        else
            CHECK(strcmp(name, "invalid") == 0, "type %u", t);
    }
}

int main(void) {
    rng r = {8};
    test_default();
    test_parse();
    test_round_trip(&r);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("schema: ok\n");
    return 0;
}
