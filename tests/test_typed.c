/*
 * test_typed.c — typed field storage end to end: random documents with
 * keyword (single and multi-valued), text+keyword, date and number (int and
 * double) fields go through the public writer (several segments, replaced
 * documents), and every segment's value dictionary, value bitmaps, counts,
 * per-document ordinals, columns, presence, min/max and key ranges are
 * compared with a brute-force model of the documents. Then a merge (rebuilt
 * from stored documents) must carry the same values. Also: number keys and
 * exact int/double comparison against long double, per-document errors for
 * values that do not fit their type, and a changed schema refused.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"
#include "engine.h"
#include "segment.h"
#include "testutil.h"
#include "trawl.h"
#include "typed.h"

static int failures;

#define NDOCS 2500
#define MAXTAGS 6

static const char *SCHEMA = "{\"fields\": {\"tags\": \"keyword\", \"cat\": \"text+keyword\", \"date\": \"date\", "
                            "\"n\": \"number\", \"x\": \"number\", \"skip\": \"none\"}}";

typedef struct mdoc {
    int live;
    char tags[MAXTAGS][24];
    int ntags;
    char cat[24]; /* "" = none */
    int has_date;
    int64_t date;
    int has_n;
    int64_t n;
    int has_x, x_is_double;
    double xd;
    int64_t xi;
} mdoc;

static mdoc docs[NDOCS * 2]; /* by version: every document added (replaced ones too) */

/* A random keyword value: some shared, case-distinct, some unique. */
static void rand_value(rng *r, char *out, size_t cap) {
    static const char *base[] = {"ai", "AI", "rust", "Rust", "cloud", "db", "vector databases", "x", "é-utf8", "z"};
    if (below(r, 5) == 0)
        snprintf(out, cap, "u%u", (unsigned)below(r, 5000));
    else
        snprintf(out, cap, "%s", base[below(r, sizeof base / sizeof base[0])]);
}

static void gen_doc(rng *r, mdoc *m) {
    memset(m, 0, sizeof *m);
    m->live = 1;
    m->ntags = (int)below(r, MAXTAGS);
    for (int i = 0; i < m->ntags; i++) rand_value(r, m->tags[i], sizeof m->tags[i]);
    if (below(r, 3)) rand_value(r, m->cat, sizeof m->cat);
    m->has_date = below(r, 5) != 0;
    m->date = TW_DATE_MIN + (int64_t)below(r, (size_t)(TW_DATE_MAX - TW_DATE_MIN));
    if (below(r, 3) == 0) m->date = 1700000000 + (int64_t)below(r, 1000); /* clustered */
    m->has_n = below(r, 2) != 0;
    m->n = (int64_t)rnd(r);
    if (below(r, 2)) m->n %= 1000;
    m->has_x = below(r, 4) != 0;
    m->x_is_double = below(r, 3) == 0;
    m->xd = ((double)(int64_t)rnd(r)) / (double)(1 + below(r, 1000000));
    m->xi = (int64_t)below(r, 2000) - 1000;
}

static char *doc_json(const mdoc *m, unsigned id, unsigned ver, rng *r) {
    size_t cap = 4096;
    char *j = xmalloc(cap);
    int n = snprintf(j, cap, "{\"id\":\"d%u\",\"ver\":\"v%u\",\"title\":\"doc %u\",\"tags\":", id, ver, id);
    if (m->ntags == 1 && below(r, 2))
        n += snprintf(j + n, cap - (size_t)n, "\"%s\"", m->tags[0]);
    else {
        n += snprintf(j + n, cap - (size_t)n, "[");
        for (int i = 0; i < m->ntags; i++) n += snprintf(j + n, cap - (size_t)n, "%s\"%s\"", i ? "," : "", m->tags[i]);
        n += snprintf(j + n, cap - (size_t)n, "%s]", m->ntags ? ",null" : "");
    }
    if (m->cat[0]) n += snprintf(j + n, cap - (size_t)n, ",\"cat\":\"%s\"", m->cat);
    if (m->has_date) {
        char dt[TW_DATE_TEXT_MAX];
        switch (below(r, 3)) {
            case 0: n += snprintf(j + n, cap - (size_t)n, ",\"date\":%" PRId64, m->date); break;
            case 1:
                tw_date_format(m->date, TW_DP_SECOND, dt, sizeof dt);
                n += snprintf(j + n, cap - (size_t)n, ",\"date\":\"%s\"", dt);
                break;
            default: {
                /* The same instant with an offset of +05:30. */
                tw_date_format(m->date + 19800, TW_DP_SECOND, dt, sizeof dt);
                if (dt[0] == '+' || dt[0] == '-') { /* beyond 9999 locally: say it in UTC */
                    tw_date_format(m->date, TW_DP_SECOND, dt, sizeof dt);
                    n += snprintf(j + n, cap - (size_t)n, ",\"date\":\"%s\"", dt);
                } else {
                    dt[strlen(dt) - 1] = 0; /* drop Z */
                    n += snprintf(j + n, cap - (size_t)n, ",\"date\":\"%s+05:30\"", dt);
                }
            }
        }
    } else if (below(r, 2)) {
        n += snprintf(j + n, cap - (size_t)n, ",\"date\":null");
    }
    if (m->has_n) n += snprintf(j + n, cap - (size_t)n, ",\"n\":%" PRId64, m->n);
    if (m->has_x) {
        if (m->x_is_double)
            n += snprintf(j + n, cap - (size_t)n, ",\"x\":%.17g%s", m->xd, floor(m->xd) == m->xd ? ".0" : "");
        else
            n += snprintf(j + n, cap - (size_t)n, ",\"x\":%" PRId64, m->xi);
    }
    n += snprintf(j + n, cap - (size_t)n, ",\"skip\":[1,{\"a\":2}],\"other\":\"words here\"}");
    return j;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct values of a keyword field over the docs of a segment, sorted. */
typedef struct vset {
    char **v;
    size_t n;
} vset;

static int doc_has(const mdoc *m, int multi, const char *v) {
    if (!multi) return m->cat[0] && strcmp(m->cat, v) == 0;
    for (int i = 0; i < m->ntags; i++)
        if (strcmp(m->tags[i], v) == 0) return 1;
    return 0;
}

static void check_keyword(const tw_segment *s, const mdoc **local, const char *field, int multi, rng *r) {
    const tw_kwfield *f = tw_segment_keyword(s, field);
    /* brute force: distinct values */
    vset vs = {xmalloc(sizeof(char *) * (s->ndocs * MAXTAGS + 1)), 0};
    for (uint32_t d = 0; d < s->ndocs; d++) {
        const mdoc *m = local[d];
        if (multi)
            for (int i = 0; i < m->ntags; i++) vs.v[vs.n++] = (char *)m->tags[i];
        else if (m->cat[0])
            vs.v[vs.n++] = (char *)m->cat;
    }
    qsort(vs.v, vs.n, sizeof *vs.v, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < vs.n; i++)
        if (i == 0 || strcmp(vs.v[i], vs.v[u - 1]) != 0) vs.v[u++] = vs.v[i];
    vs.n = u;
    if (vs.n == 0) {
        CHECK(f == NULL || f->nvalues == 0, "%s: field without values present", field);
        free(vs.v);
        return;
    }
    CHECK(f != NULL, "%s: keyword field missing", field);
    if (!f) {
        free(vs.v);
        return;
    }
    CHECK(f->nvalues == vs.n, "%s: %u values, want %zu", field, f->nvalues, vs.n);
    uint32_t with = 0;
    uint64_t pairs = 0;
    for (uint32_t o = 0; o < f->nvalues && o < vs.n; o++) {
        size_t len;
        const char *v = tw_kw_value(f, o, &len);
        CHECK(len == strlen(vs.v[o]) && memcmp(v, vs.v[o], len) == 0, "%s: value %u is %.*s, want %s", field, o,
              (int)len, v, vs.v[o]);
        uint32_t ord = 99999;
        CHECK(tw_kw_find(f, vs.v[o], strlen(vs.v[o]), &ord) == 1 && ord == o, "%s: find %s", field, vs.v[o]);
        tw_rview bm;
        char err[256];
        CHECK(tw_kw_bitmap(f, o, &bm, err, sizeof err) == 0, "%s: bitmap %u: %s", field, o, err);
        tw_riter it;
        tw_riter_init(&it, &bm);
        uint32_t cnt = 0;
        for (uint32_t d = 0; d < s->ndocs; d++) {
            int want = doc_has(local[d], multi, vs.v[o]);
            int got = !it.end && it.value == d;
            if (got) tw_riter_next(&it);
            cnt += want;
            if (want != got) {
                CHECK(0, "%s: value %s doc %u: bitmap %d, want %d", field, vs.v[o], d, got, want);
                break;
            }
        }
        CHECK(tw_kw_count(f, o) == cnt && bm.card == cnt, "%s: count of %s %u/%llu want %u", field, vs.v[o],
              tw_kw_count(f, o), (unsigned long long)bm.card, cnt);
        tw_rview_free(&bm);
        pairs += cnt;
    }
    /* Per doc ordinals: the doc's distinct values in order. */
    for (uint32_t d = 0; d < s->ndocs; d++) {
        uint32_t nv = tw_kw_doc_nvalues(f, d), k = 0;
        with += nv > 0;
        for (uint32_t o = 0; o < vs.n; o++) {
            if (!doc_has(local[d], multi, vs.v[o])) continue;
            CHECK(k < nv && tw_kw_doc_ord(f, d, k) == o, "%s: doc %u ordinal %u", field, d, k);
            k++;
        }
        CHECK(k == nv, "%s: doc %u has %u ordinals, want %u", field, d, nv, k);
    }
    CHECK(f->ndocs_with == with && f->npairs == pairs, "%s: with %u/%u pairs %llu/%llu", field, f->ndocs_with, with,
          (unsigned long long)f->npairs, (unsigned long long)pairs);
    /* Lower bounds of random probes. */
    for (int i = 0; i < 50; i++) {
        char probe[24];
        rand_value(r, probe, sizeof probe);
        if (below(r, 2)) probe[strlen(probe) - 1] = 0;
        uint32_t want = 0;
        while (want < vs.n && strcmp(vs.v[want], probe) < 0) want++;
        CHECK(tw_kw_lower_bound(f, probe, strlen(probe)) == want, "%s: lower bound of %s", field, probe);
    }
    uint32_t none;
    CHECK(tw_kw_find(f, "absent-value", 12, &none) == 0, "%s: absent found", field);
    free(vs.v);
}

/* The model value of doc m in column field as a tw_num; 0 when absent. */
static int model_num(const mdoc *m, const char *field, tw_num *v) {
    memset(v, 0, sizeof *v);
    if (strcmp(field, "date") == 0) {
        v->i = m->date;
        return m->has_date;
    }
    if (strcmp(field, "n") == 0) {
        v->i = m->n;
        return m->has_n;
    }
    v->is_double = m->x_is_double;
    v->d = m->xd;
    v->i = m->xi;
    return m->has_x;
}

static long double ld(const tw_num *v) {
    return v->is_double ? (long double)v->d : (long double)v->i;
}

static void check_column(const tw_segment *s, const mdoc **local, const char *field, rng *r) {
    const tw_colfield *c = tw_segment_column(s, field);
    uint32_t present = 0;
    int any_double = 0;
    for (uint32_t d = 0; d < s->ndocs; d++) {
        tw_num v;
        if (model_num(local[d], field, &v)) {
            present++;
            any_double |= v.is_double;
        }
    }
    if (!present) {
        CHECK(c == NULL || c->npresent == 0, "%s: column without values", field);
        return;
    }
    CHECK(c != NULL, "%s: column missing", field);
    if (!c) return;
    CHECK(c->npresent == present && c->ndocs == s->ndocs, "%s: present %u want %u", field, c->npresent, present);
    CHECK((int)c->kind == (any_double ? TW_NUM_DOUBLE : TW_NUM_INT), "%s: kind %u", field, c->kind);
    long double mn = INFINITY, mx = -INFINITY;
    for (uint32_t d = 0; d < s->ndocs; d++) {
        tw_num v, got;
        int has = model_num(local[d], field, &v);
        CHECK(tw_col_has(c, d) == has, "%s: doc %u presence", field, d);
        if (!has) continue;
        tw_col_num(c, tw_col_key(c, d), &got);
        /* A double column holds an int as the nearest double. */
        long double want = c->kind == TW_NUM_DOUBLE ? (long double)(v.is_double ? v.d : (double)v.i) : ld(&v);
        CHECK(ld(&got) == want, "%s: doc %u value %Lg want %Lg", field, d, ld(&got), want);
        if (want < mn) mn = want;
        if (want > mx) mx = want;
    }
    tw_num a, b;
    tw_col_num(c, c->min, &a);
    tw_col_num(c, c->max, &b);
    CHECK(ld(&a) == mn && ld(&b) == mx, "%s: min/max %Lg %Lg want %Lg %Lg", field, ld(&a), ld(&b), mn, mx);
    /* Random ranges (int and double bounds, inclusive or not) against brute force. */
    for (int q = 0; q < 200; q++) {
        tw_num lo, hi;
        uint32_t d1 = (uint32_t)below(r, s->ndocs), d2 = (uint32_t)below(r, s->ndocs);
        model_num(local[d1], field, &lo);
        model_num(local[d2], field, &hi);
        if (below(r, 3) == 0) {
            lo.is_double = 1;
            lo.d = (double)(lo.is_double ? lo.d : (double)lo.i) + (below(r, 2) ? 0.5 : -0.25);
        }
        if (below(r, 3) == 0) {
            hi.is_double = 1;
            hi.d = (hi.is_double ? hi.d : (double)hi.i) - 0.5;
        }
        int li = (int)below(r, 2), hi_i = (int)below(r, 2), use_lo = below(r, 5) != 0, use_hi = below(r, 5) != 0;
        uint64_t klo = 0, khi = 0;
        int ok = tw_col_range(c, use_lo ? &lo : NULL, li, use_hi ? &hi : NULL, hi_i, &klo, &khi);
        uint32_t got = 0, want = 0;
        for (uint32_t d = 0; d < s->ndocs; d++) {
            tw_num v;
            if (!model_num(local[d], field, &v)) continue;
            if (c->kind == TW_NUM_DOUBLE && !v.is_double) {
                v.is_double = 1;
                v.d = (double)v.i;
            }
            int in = 1;
            if (use_lo) in &= li ? tw_num_cmp(&v, &lo) >= 0 : tw_num_cmp(&v, &lo) > 0;
            if (use_hi) in &= hi_i ? tw_num_cmp(&v, &hi) <= 0 : tw_num_cmp(&v, &hi) < 0;
            want += in;
            uint64_t k = tw_col_key(c, d);
            got += ok && k >= klo && k <= khi;
        }
        CHECK(got == want, "%s: range query %d: %u docs, want %u", field, q, got, want);
    }
}

static void check_index(const char *dir, const char *when, rng *r) {
    trawl_index *idx;
    char *msg = NULL;
    int rc = trawl_index_open(dir, &idx, &msg);
    CHECK(rc == 0, "%s: open: %s", when, msg ? msg : "");
    trawl_free(msg);
    if (rc) return;
    uint32_t live = 0;
    for (uint32_t si = 0; si < idx->view.nsegs; si++) {
        const tw_vseg *vs = &idx->view.segs[si];
        const tw_segment *s = vs->seg;
        const mdoc **local = xmalloc(sizeof *local * (s->ndocs + 1));
        for (uint32_t d = 0; d < s->ndocs; d++) {
            char *json = NULL, err[256];
            size_t len;
            CHECK(tw_segment_stored(s, d, &json, &len, err, sizeof err) == 0, "stored: %s", err);
            const char *v = json ? strstr(json, "\"ver\":\"v") : NULL;
            unsigned k = v ? (unsigned)strtoul(v + 8, NULL, 10) : 0;
            free(json);
            local[d] = &docs[k];
            live += !(vs->deleted && roaring_bitmap_contains(vs->deleted, d));
        }
        CHECK(s->schema != NULL, "%s: segment without schema", when);
        check_keyword(s, local, "tags", 1, r);
        check_keyword(s, local, "cat", 0, r);
        check_column(s, local, "date", r);
        check_column(s, local, "n", r);
        check_column(s, local, "x", r);
        CHECK(tw_segment_keyword(s, "title") == NULL && tw_segment_column(s, "skip") == NULL &&
                  tw_segment_keyword(s, "skip") == NULL,
              "%s: untyped fields stored as typed", when);
        free(local);
    }
    CHECK(live == trawl_index_doc_count(idx), "%s: live %u", when, live);
    /* text+keyword: cat words are searchable; keyword-only tags are not text. */
    trawl_index_close(idx);
    char *report = NULL;
    CHECK(trawl_index_check(dir, &report) == 0, "%s: check: %s", when, report ? report : "");
    trawl_free(report);
}

static void test_numbers(rng *r) {
    for (int i = 0; i < 200000; i++) {
        tw_num a, b;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        a.is_double = (int)below(r, 2);
        b.is_double = (int)below(r, 2);
        int64_t base = (int64_t)rnd(r) >> below(r, 64);
        a.i = base + (int64_t)below(r, 3) - 1;
        b.i = base;
        a.d = (double)base + (double)((int)below(r, 5) - 2) * (below(r, 2) ? 0.5 : 1024);
        b.d = (double)base;
        long double x = ld(&a), y = ld(&b);
        int want = x < y ? -1 : x > y;
        int got = tw_num_cmp(&a, &b);
        CHECK((got > 0) - (got < 0) == want, "cmp %d %lld %.17g vs %d %lld %.17g", a.is_double, (long long)a.i, a.d,
              b.is_double, (long long)b.i, b.d);
        /* Keys of a double column preserve order. */
        int ex;
        uint64_t ka = tw_num_key(TW_NUM_DOUBLE, &a, 1, &ex), kb = tw_num_key(TW_NUM_DOUBLE, &b, 1, &ex);
        if (a.is_double && b.is_double) CHECK((a.d < b.d) == (ka < kb), "double key order %.17g %.17g", a.d, b.d);
    }
}

/* Documents whose values do not fit: refused one by one, the writer goes on. */
static void test_bad_values(const char *dir) {
    static const char *bad[] = {
        "{\"id\":\"b1\",\"tags\":[\"ok\",3]}",
        "{\"id\":\"b2\",\"tags\":{\"a\":1}}",
        "{\"id\":\"b3\",\"date\":\"2024-13-01\"}",
        "{\"id\":\"b4\",\"date\":\"yesterday\"}",
        "{\"id\":\"b5\",\"date\":[\"2024\"]}",
        "{\"id\":\"b6\",\"date\":1.5}",
        "{\"id\":\"b7\",\"date\":253402300800}",
        "{\"id\":\"b8\",\"n\":\"12\"}",
        "{\"id\":\"b9\",\"n\":[1,2]}",
        "{\"id\":\"b10\",\"n\":true}",
        "{\"id\":\"b11\",\"tags\":"
        "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
    };
    static const char *words[] = {"keyword value", "keyword value", "not a date", "not a date",  "one value",  "epoch",
                                  "epoch",         "JSON number",   "one value",  "JSON number", "longer than"};
    trawl_open_options *o = trawl_open_options_new();
    trawl_open_options_set_schema(o, SCHEMA);
    trawl_writer *w;
    char *msg = NULL;
    CHECK(trawl_writer_open_v2(dir, NULL, o, &w, &msg) == 0, "open: %s", msg ? msg : "");
    trawl_free(msg);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = trawl_writer_add_json(w, bad[i], strlen(bad[i]));
        CHECK(rc == TRAWL_EDOC && strstr(trawl_writer_errmsg(w), words[i]), "%s: rc %d, %s", bad[i], rc,
              trawl_writer_errmsg(w));
    }
    const char *good = "{\"id\":\"g\",\"date\":null,\"n\":-0,\"tags\":[],\"x\":1e2}";
    CHECK(trawl_writer_add_json(w, good, strlen(good)) == 0, "good: %s", trawl_writer_errmsg(w));
    CHECK(trawl_writer_commit(w) == 0, "commit");
    trawl_writer_close(w);
    /* Another schema on the existing index is refused; the same one is fine. */
    trawl_open_options_set_schema(o, "{\"fields\": {\"tags\": \"text\"}}");
    msg = NULL;
    CHECK(trawl_writer_open_v2(dir, NULL, o, &w, &msg) == TRAWL_EINVAL && msg && strstr(msg, "another schema"),
          "changed schema: %s", msg ? msg : "");
    trawl_free(msg);
    trawl_open_options_set_schema(o, "{\"fields\": {\"tags\": \"bogus\"}}");
    msg = NULL;
    CHECK(trawl_writer_open_v2(dir, NULL, o, &w, &msg) == TRAWL_EINVAL && msg && strstr(msg, "schema"),
          "bad schema: %s", msg ? msg : "");
    trawl_free(msg);
    trawl_open_options_set_schema(o, SCHEMA);
    msg = NULL;
    CHECK(trawl_writer_open_v2(dir, NULL, o, &w, &msg) == 0, "same schema: %s", msg ? msg : "");
    trawl_free(msg);
    trawl_writer_close(w);
    trawl_open_options_free(o);
}

int main(void) {
    rng r = {8088};
    test_numbers(&r);
    char tmpl[] = "/tmp/trawl-typed-XXXXXX";
    char *root = mkdtemp(tmpl);
    if (!root) return 2;
    char dir[512], dir2[512];
    snprintf(dir, sizeof dir, "%s/ix", root);
    snprintf(dir2, sizeof dir2, "%s/bad", root);

    trawl_open_options *o = trawl_open_options_new();
    trawl_open_options_set_schema(o, SCHEMA);
    trawl_open_options_set_ram_mb(o, 1);
    trawl_writer *w;
    char *msg = NULL;
    CHECK(trawl_writer_open_v2(dir, NULL, o, &w, &msg) == 0, "open: %s", msg ? msg : "");
    trawl_free(msg);
    trawl_writer_set_auto_merge(w, 0);
    unsigned ver = 0;
    for (unsigned round = 0; round < 3; round++) {
        unsigned n = round == 0 ? NDOCS : NDOCS / 5;
        for (unsigned i = 0; i < n; i++, ver++) {
            unsigned id = round == 0 ? i : (unsigned)below(&r, NDOCS); /* later rounds replace documents */
            gen_doc(&r, &docs[ver]);
            char *j = doc_json(&docs[ver], id, ver, &r);
            int rc = trawl_writer_add_json(w, j, strlen(j));
            CHECK(rc == 0, "add %s: %s", j, trawl_writer_errmsg(w));
            free(j);
        }
        CHECK(trawl_writer_commit(w) == 0, "commit: %s", trawl_writer_errmsg(w));
    }
    check_index(dir, "segments", &r);
    CHECK(trawl_writer_merge(w, 1) == 0, "merge: %s", trawl_writer_errmsg(w));
    trawl_writer_close(w);
    check_index(dir, "merged", &r);
    trawl_open_options_free(o);
    test_bad_values(dir2);
    rm_rf(root);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("typed: ok\n");
    return 0;
}
