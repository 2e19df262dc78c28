/*
 * cli_analytics.c — the CLI side of facets and date histograms shared by the
 * commands that search: parsing --facet F[:N] and --histogram F:UNIT, and
 * printing the results as text (value lists, histogram bars) or adding them
 * to a command's JSON object.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FACET_N 10000

int cli_add_facet(const cli_command *cmd, trawl_options *o, const char *value) {
    char field[256];
    size_t n = 10;
    const char *colon = strrchr(value, ':');
    size_t flen = colon ? (size_t)(colon - value) : strlen(value);
    if (colon && cli_parse_size(colon + 1, 1, MAX_FACET_N, &n) != 0)
        return cli_usage_error(cmd, "--facet wants FIELD[:N] with 1 <= N <= %d, not '%s'", MAX_FACET_N, value);
    if (flen == 0 || flen >= sizeof field) return cli_usage_error(cmd, "--facet wants FIELD[:N], not '%s'", value);
    memcpy(field, value, flen);
    field[flen] = '\0';
    if (trawl_options_add_facet(o, field, n) != TRAWL_OK)
        return cli_usage_error(cmd, "--facet: cannot add '%s' (at most 64 facets)", value);
    return CLI_CONTINUE;
}

int cli_set_histogram(const cli_command *cmd, trawl_options *o, const char *spec, const char *tz) {
    const char *colon = strrchr(spec, ':');
    char field[256];
    const char *unit = colon ? colon + 1 : "month";
    size_t flen = colon ? (size_t)(colon - spec) : strlen(spec);
    if (flen == 0 || flen >= sizeof field)
        return cli_usage_error(cmd, "--histogram wants FIELD[:UNIT], not '%s'", spec);
    memcpy(field, spec, flen);
    field[flen] = '\0';
    if (trawl_options_set_histogram(o, field, unit, tz) != TRAWL_OK)
        return cli_usage_error(cmd,
                               "--histogram wants FIELD[:year|quarter|month|week|day] and --tz a fixed offset "
                               "such as +05:30 (not '%s'%s%s)",
                               spec, tz ? ", --tz " : "", tz ? tz : "");
    return CLI_CONTINUE;
}

/* Writes s with control characters as spaces. */
static void put_clean(const char *s) {
    for (; s && *s; s++) putchar((unsigned char)*s < 0x20 ? ' ' : *s);
}

void cli_print_facets_text(const trawl_results *r) {
    for (size_t f = 0; f < trawl_results_facet_count(r); f++) {
        printf("\nfacet %s (%s, %llu matching documents with a value)\n", trawl_results_facet_field(r, f),
               trawl_results_facet_type(r, f), (unsigned long long)trawl_results_facet_docs(r, f));
        const char *mn = trawl_results_facet_min(r, f), *mx = trawl_results_facet_max(r, f);
        if (mn && mx) printf("  min %s\n  max %s\n", mn, mx);
        size_t w = 0;
        for (size_t i = 0; i < trawl_results_facet_values(r, f); i++) {
            size_t l = strlen(trawl_results_facet_value(r, f, i));
            if (l > w) w = l;
        }
        if (w > 40) w = 40;
        for (size_t i = 0; i < trawl_results_facet_values(r, f); i++) {
            const char *v = trawl_results_facet_value(r, f, i);
            fputs("  ", stdout);
            put_clean(v);
            for (size_t l = strlen(v); l < w; l++) putchar(' ');
            printf("  %llu\n", (unsigned long long)trawl_results_facet_value_count(r, f, i));
        }
    }
}

void cli_print_histogram_text(const trawl_results *r) {
    size_t n = trawl_results_histogram_count(r);
    if (!n) return;
    uint64_t top = 0;
    for (size_t i = 0; i < n; i++)
        if (trawl_results_histogram_matches(r, i) > top) top = trawl_results_histogram_matches(r, i);
    int tty = isatty(STDOUT_FILENO);
    static const char *const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    const int width = 40;
    printf("\nhistogram (bucket, bar of matches, matches / all documents, share)\n");
    for (size_t i = 0; i < n; i++) {
        uint64_t m = trawl_results_histogram_matches(r, i), d = trawl_results_histogram_docs(r, i);
        printf("  %-10s ", trawl_results_histogram_label(r, i));
        /* Bar length in eighths of a character, scaled to the largest bucket. */
        uint64_t units = top ? (m * (uint64_t)width * 8 + top / 2) / top : 0;
        if (m && !units) units = 1;
        int cols = 0;
        for (uint64_t k = 0; k < units / 8; k++, cols++) fputs(tty ? "█" : "#", stdout);
        if (units % 8) {
            fputs(tty ? eighths[units % 8] : "#", stdout);
            cols++;
        }
        for (; cols < width; cols++) putchar(' ');
        printf(" %llu / %llu", (unsigned long long)m, (unsigned long long)d);
        if (d) printf("  %.1f%%", 100.0 * (double)m / (double)d);
        putchar('\n');
    }
    if (tty) {
        /* A sparkline of the matches, one character per bucket. */
        static const char *const spark[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
        fputs("  ", stdout);
        for (size_t i = 0; i < n && i < 200; i++) {
            uint64_t m = trawl_results_histogram_matches(r, i);
            fputs(top ? spark[m * 7 / top] : spark[0], stdout);
        }
        putchar('\n');
    }
}

static int put(json_t *obj, const char *key, json_t *value) {
    return value ? json_object_set_new(obj, key, value) : -1;
}

int cli_analytics_json(json_t *root, const trawl_results *r, int with_histogram) {
    size_t nf = trawl_results_facet_count(r);
    if (nf) {
        json_t *facets = json_array();
        if (put(root, "facets", facets)) return -1;
        for (size_t f = 0; f < nf; f++) {
            json_t *o = json_object(), *vals = json_array();
            if (!o || json_array_append_new(facets, o)) {
                json_decref(vals);
                return -1;
            }
            const char *mn = trawl_results_facet_min(r, f), *mx = trawl_results_facet_max(r, f);
            int num = !strcmp(trawl_results_facet_type(r, f), "number");
            if (put(o, "field", cli_json_string(trawl_results_facet_field(r, f))) ||
                put(o, "type", cli_json_string(trawl_results_facet_type(r, f))) ||
                put(o, "docs", json_integer((json_int_t)trawl_results_facet_docs(r, f))) || put(o, "values", vals))
                return -1;
            if (strcmp(trawl_results_facet_type(r, f), "keyword") != 0) {
                /* Numbers as JSON numbers (their text is exact), dates as strings. */
                json_t *jmin = !mn ? json_null() : num ? json_loads(mn, JSON_DECODE_ANY, NULL) : cli_json_string(mn);
                json_t *jmax = !mx ? json_null() : num ? json_loads(mx, JSON_DECODE_ANY, NULL) : cli_json_string(mx);
                if (put(o, "min", jmin)) {
                    json_decref(jmax);
                    return -1;
                }
                if (put(o, "max", jmax)) return -1;
            }
            for (size_t i = 0; i < trawl_results_facet_values(r, f); i++) {
                json_t *e = json_object();
                if (!e || json_array_append_new(vals, e) ||
                    put(e, "value", cli_json_string(trawl_results_facet_value(r, f, i))) ||
                    put(e, "count", json_integer((json_int_t)trawl_results_facet_value_count(r, f, i))))
                    return -1;
            }
        }
    }
    if (with_histogram) {
        json_t *h = json_array();
        if (put(root, "histogram", h)) return -1;
        for (size_t i = 0; i < trawl_results_histogram_count(r); i++) {
            json_t *e = json_object();
            if (!e || json_array_append_new(h, e) ||
                put(e, "bucket", cli_json_string(trawl_results_histogram_label(r, i))) ||
                put(e, "start", json_integer((json_int_t)trawl_results_histogram_start(r, i))) ||
                put(e, "matches", json_integer((json_int_t)trawl_results_histogram_matches(r, i))) ||
                put(e, "docs", json_integer((json_int_t)trawl_results_histogram_docs(r, i))))
                return -1;
        }
    }
    return 0;
}
