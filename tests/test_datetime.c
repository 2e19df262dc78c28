/*
 * test_datetime.c — index/datetime: the calendar against libc's timegm and
 * gmtime over random instants (years 0000..9999), ISO 8601 parsing of every
 * accepted form (values and spans checked against timegm), rejection of
 * malformed texts, formatting round trips, and time zone offsets.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "datetime.h"
#include "error.h"
#include "testutil.h"

static int failures;

/* The oracle: libc's timegm of a broken-down UTC time. */
static int64_t oracle(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = (int)(y - 1900);
    tm.tm_mon = (int)mo - 1;
    tm.tm_mday = (int)d;
    tm.tm_hour = (int)h;
    tm.tm_min = (int)mi;
    tm.tm_sec = (int)s;
    return (int64_t)timegm(&tm);
}

static void test_calendar(rng *r) {
    for (int i = 0; i < 200000; i++) {
        int64_t t = TW_DATE_MIN + (int64_t)below(r, (size_t)(TW_DATE_MAX - TW_DATE_MIN + 1));
        if (i < 4) t = i == 0 ? TW_DATE_MIN : i == 1 ? TW_DATE_MAX : i == 2 ? 0 : -1;
        time_t tt = (time_t)t;
        struct tm g;
        CHECK(gmtime_r(&tt, &g) != NULL, "gmtime %lld", (long long)t);
        tw_civil c;
        tw_civil_from_epoch(t, &c);
        CHECK(c.year == g.tm_year + 1900LL && c.month == (unsigned)g.tm_mon + 1 && c.day == (unsigned)g.tm_mday &&
                  c.hour == (unsigned)g.tm_hour && c.minute == (unsigned)g.tm_min && c.second == (unsigned)g.tm_sec,
              "civil of %lld: %lld-%u-%u %u:%u:%u vs gmtime %d-%d-%d %d:%d:%d", (long long)t, (long long)c.year,
              c.month, c.day, c.hour, c.minute, c.second, g.tm_year + 1900, g.tm_mon + 1, g.tm_mday, g.tm_hour,
              g.tm_min, g.tm_sec);
        CHECK(tw_epoch_from_civil(&c) == t, "round trip %lld", (long long)t);
        int64_t days = tw_floordiv(t, 86400);
        unsigned wd = g.tm_wday == 0 ? 7u : (unsigned)g.tm_wday;
        CHECK(tw_weekday_from_days(days) == wd, "weekday of %lld", (long long)t);
        CHECK(tw_days_in_month(c.year, c.month) >= c.day, "day in month");
    }
    /* Every day's successor, across leap years and centuries. */
    for (int64_t z = tw_days_from_civil(1595, 1, 1); z < tw_days_from_civil(2405, 1, 1); z++) {
        int64_t y;
        unsigned m, d;
        tw_civil_from_days(z, &y, &m, &d);
        if (tw_days_from_civil(y, m, d) != z) {
            CHECK(0, "day %lld", (long long)z);
            break;
        }
    }
    CHECK(tw_is_leap(2000) && !tw_is_leap(1900) && tw_is_leap(2024) && !tw_is_leap(2023) && tw_is_leap(0), "leap");
}

static void test_parse_random(rng *r) {
    static const char *offs[] = {"", "Z", "z", "+00:00", "+02:00", "-05:30", "+23:59", "-23:59", "+14:00"};
    for (int i = 0; i < 100000; i++) {
        int64_t y = (int64_t)below(r, 10000);
        unsigned mo = 1 + (unsigned)below(r, 12), d = 1 + (unsigned)below(r, tw_days_in_month(y, mo));
        unsigned h = (unsigned)below(r, 24), mi = (unsigned)below(r, 60), s = (unsigned)below(r, 60);
        int form = (int)below(r, 7);
        const char *off = offs[below(r, sizeof offs / sizeof offs[0])];
        char text[80];
        int64_t want, want_end;
        tw_date_prec wp;
        int offsec = 0;
        if (form >= 3 && off[0] && off[0] != 'Z' && off[0] != 'z') {
            int oh = (off[1] - '0') * 10 + (off[2] - '0'), om = (off[4] - '0') * 10 + (off[5] - '0');
            offsec = (off[0] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        }
        switch (form) {
            case 0:
                snprintf(text, sizeof text, "%04lld", (long long)y);
                want = oracle(y, 1, 1, 0, 0, 0);
                want_end = oracle(y + 1, 1, 1, 0, 0, 0);
                wp = TW_DP_YEAR;
                break;
            case 1:
                snprintf(text, sizeof text, "%04lld-%02u", (long long)y, mo);
                want = oracle(y, mo, 1, 0, 0, 0);
                want_end = oracle(y, mo + 1, 1, 0, 0, 0); /* timegm normalizes month 13 */
                wp = TW_DP_MONTH;
                break;
            case 2:
                snprintf(text, sizeof text, "%04lld-%02u-%02u", (long long)y, mo, d);
                want = oracle(y, mo, d, 0, 0, 0);
                want_end = want + 86400;
                wp = TW_DP_DAY;
                break;
            case 3:
                snprintf(text, sizeof text, "%04lld-%02u-%02uT%02u:%02u%s", (long long)y, mo, d, h, mi, off);
                want = oracle(y, mo, d, h, mi, 0) - offsec;
                want_end = want + 60;
                wp = TW_DP_MINUTE;
                break;
            case 4:
                snprintf(text, sizeof text, "%04lld-%02u-%02uT%02u:%02u:%02u%s", (long long)y, mo, d, h, mi, s, off);
                want = oracle(y, mo, d, h, mi, s) - offsec;
                want_end = want + 1;
                wp = TW_DP_SECOND;
                break;
            case 5:
                snprintf(text, sizeof text, "%04lld-%02u-%02u %02u:%02u:%02u.%0*u%s", (long long)y, mo, d, h, mi, s,
                         1 + (int)below(r, 9), (unsigned)below(r, 10), off);
                want = oracle(y, mo, d, h, mi, s) - offsec;
                want_end = want + 1;
                wp = TW_DP_SECOND;
                break;
            default:
                snprintf(text, sizeof text, "%04lld-%02u-%02ut%02u:%02u:%02u.999999999%s", (long long)y, mo, d, h, mi,
                         s, off);
                want = oracle(y, mo, d, h, mi, s) - offsec;
                want_end = want + 1;
                wp = TW_DP_SECOND;
                break;
        }
        int64_t a = 0, b = 0;
        tw_date_prec p = 0;
        const char *why = NULL;
        int rc = tw_date_parse(text, strlen(text), &a, &b, &p, &why);
        int inrange = want >= TW_DATE_MIN && want <= TW_DATE_MAX;
        if (!inrange) {
            CHECK(rc == TRAWL_EINVAL, "%s accepted outside 0000..9999", text);
            continue;
        }
        CHECK(rc == 0 && a == want && b == want_end && p == wp,
              "%s: rc %d (%s) got [%lld, %lld) prec %d want [%lld, %lld) prec %d", text, rc, why ? why : "",
              (long long)a, (long long)b, (int)p, (long long)want, (long long)want_end, (int)wp);
        /* Formatting at the parsed precision (in UTC) parses back to the same start. */
        if (rc == 0 && offsec == 0) {
            char buf[TW_DATE_TEXT_MAX];
            int n = tw_date_format(a, p, buf, sizeof buf);
            int64_t a2 = 0;
            tw_date_prec p2 = 0;
            CHECK(n > 0 && tw_date_parse(buf, (size_t)n, &a2, NULL, &p2, NULL) == 0 && a2 == a && p2 == p,
                  "format of %s gave %s", text, buf);
        }
    }
}

static void test_parse_fixed(void) {
    static const char *bad[] = {"",
                                "24",
                                "20245",
                                "2024-",
                                "2024-1",
                                "2024-00",
                                "2024-13",
                                "2023-02-29",
                                "2024-02-30",
                                "2024-04-31",
                                "2024-01-01T",
                                "2024-01-01T24:00",
                                "2024-01-01T10",
                                "2024-01-01T10:60",
                                "2024-01-01T10:00:60",
                                "2024-01-01T10:00:00.",
                                "2024-01-01T10:00:00.1234567890",
                                "2024-01-01T10:00+2:00",
                                "2024-01-01T10:00+24:00",
                                "2024-01-01T10:00+02:60",
                                "2024-01-01T10:00+0200",
                                "2024-01-01T10:00Zx",
                                "2024-01-01Z",
                                "2024-01-01 ",
                                " 2024",
                                "-2024",
                                "+2024-01-01",
                                "0000-01-01T00:00+00:01",
                                "9999-12-31T23:59-00:01",
                                "2024/01/01",
                                "１９９９"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        CHECK(tw_date_parse(bad[i], strlen(bad[i]), NULL, NULL, NULL, &why) == TRAWL_EINVAL && why, "\"%s\" accepted",
              bad[i]);
    }
    int64_t a, b;
    CHECK(tw_date_parse("2024-02-29", 10, &a, &b, NULL, NULL) == 0 && a == 1709164800 && b == 1709251200,
          "leap day %lld %lld", (long long)a, (long long)b);
    CHECK(tw_date_parse("1970-01-01T01:00+01:00", 22, &a, NULL, NULL, NULL) == 0 && a == 0, "offset %lld",
          (long long)a);
    CHECK(tw_date_parse("0000", 4, &a, NULL, NULL, NULL) == 0 && a == TW_DATE_MIN, "year 0");
    CHECK(tw_date_parse("9999-12-31T23:59:59Z", 20, &a, &b, NULL, NULL) == 0 && a == TW_DATE_MAX && b == a + 1,
          "last second");
    CHECK(tw_date_parse("1969-12-31T23:59:59.5Z", 22, &a, NULL, NULL, NULL) == 0 && a == -1, "fraction truncates");

    char buf[TW_DATE_TEXT_MAX];
    tw_date_format(1709164800 + 3723, TW_DP_SECOND, buf, sizeof buf);
    CHECK(strcmp(buf, "2024-02-29T01:02:03Z") == 0, "%s", buf);
    tw_date_format(1709164800 + 3723, TW_DP_MINUTE, buf, sizeof buf);
    CHECK(strcmp(buf, "2024-02-29T01:02Z") == 0, "%s", buf);
    tw_date_format(TW_DATE_MIN - 1, TW_DP_DAY, buf, sizeof buf);
    CHECK(strcmp(buf, "-0001-12-31") == 0, "%s", buf);
    tw_date_format(TW_DATE_MAX + 1, TW_DP_YEAR, buf, sizeof buf);
    CHECK(strcmp(buf, "+10000") == 0, "%s", buf);
    CHECK(tw_date_format(0, TW_DP_SECOND, buf, 5) == 20 && strcmp(buf, "1970") == 0, "truncation %s", buf);

    int32_t off;
    CHECK(tw_tz_parse("Z", 1, &off) == 0 && off == 0, "Z");
    CHECK(tw_tz_parse("+05:30", 6, &off) == 0 && off == 19800, "+05:30 %d", off);
    CHECK(tw_tz_parse("-08", 3, &off) == 0 && off == -28800, "-08 %d", off);
    CHECK(tw_tz_parse("+24:00", 6, &off) == TRAWL_EINVAL, "+24:00");
    CHECK(tw_tz_parse("05:00", 5, &off) == TRAWL_EINVAL, "05:00");
    CHECK(tw_tz_parse("+05:", 4, &off) == TRAWL_EINVAL, "+05:");

    /* Span ends at each precision agree with the oracle. */
    CHECK(tw_date_span_end(oracle(2023, 12, 1, 0, 0, 0), TW_DP_MONTH) == oracle(2024, 1, 1, 0, 0, 0), "december");
    CHECK(tw_date_span_end(oracle(2024, 2, 1, 0, 0, 0), TW_DP_MONTH) == oracle(2024, 3, 1, 0, 0, 0), "february");
    CHECK(tw_date_span_end(oracle(1900, 1, 1, 0, 0, 0), TW_DP_YEAR) == oracle(1901, 1, 1, 0, 0, 0), "1900");
}

/* Every int64 key (a damaged segment may hold any) converts without
 * overflow: the civil time is in range and agrees with the day count. */
static void test_extreme_keys(void) {
    static const int64_t keys[] = {INT64_MIN,       INT64_MIN + 1, TW_DATE_MIN - 1,
                                   TW_DATE_MAX + 1, INT64_MAX - 1, INT64_MAX};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        tw_civil c;
        tw_civil_from_epoch(keys[i], &c);
        int64_t day = keys[i] / 86400 - (keys[i] % 86400 < 0);
        int64_t sod = keys[i] - (keys[i] / 86400) * 86400; /* |remainder| < 86400: no overflow */
        if (sod < 0) sod += 86400;
        CHECK(c.month >= 1 && c.month <= 12 && c.day >= 1 && c.day <= 31 && c.hour < 24 && c.minute < 60 &&
                  c.second < 60,
              "key %lld: fields out of range", (long long)keys[i]);
        CHECK(tw_days_from_civil(c.year, c.month, c.day) == day, "key %lld: day mismatch", (long long)keys[i]);
        CHECK((int64_t)c.hour * 3600 + c.minute * 60 + c.second == sod, "key %lld: time of day", (long long)keys[i]);
        int64_t end = tw_date_span_end(keys[i], TW_DP_YEAR);
        CHECK(end == (keys[i] < 0 ? -62135596800LL : 253402300800LL), "span end of %lld: %lld", (long long)keys[i],
              (long long)end);
        char buf[64];
        tw_date_format(keys[i], TW_DP_SECOND, buf, sizeof buf);
    }
}

int main(void) {
    rng r = {20261129};
    test_extreme_keys();
    test_calendar(&r);
    test_parse_random(&r);
    test_parse_fixed();
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("datetime: ok\n");
    return 0;
}
