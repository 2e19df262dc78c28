/*
 * test_calendar.c — calendar bucketing (query/calendar.h) against the C
 * library: for random instants from 1600 to 2400 and random fixed offsets,
 * the year, quarter, month and day of gmtime_r(t + offset), the ISO week of
 * strftime("%G-W%V"), and for every bucket its first instant found by brute
 * force (the bucket changes there and not one second before).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "datetime.h"
#include "error.h"

static int failures;
#include "testutil.h"

static void ref_label(int64_t t, int32_t off, tw_cal_unit u, char *buf, size_t cap) {
    time_t tt = (time_t)(t + off);
    struct tm tm;
    gmtime_r(&tt, &tm);
    switch (u) {
        case TW_CAL_YEAR: strftime(buf, cap, "%Y", &tm); break;
        case TW_CAL_QUARTER: snprintf(buf, cap, "%04d-Q%d", tm.tm_year + 1900, tm.tm_mon / 3 + 1); break;
        case TW_CAL_MONTH: strftime(buf, cap, "%Y-%m", &tm); break;
        case TW_CAL_WEEK: strftime(buf, cap, "%G-W%V", &tm); break;
        case TW_CAL_DAY: strftime(buf, cap, "%Y-%m-%d", &tm); break;
    }
}

static void test_parse(void) {
    tw_cal_unit u;
    int32_t off;
    CHECK(tw_cal_unit_parse("Month", &u) == 0 && u == TW_CAL_MONTH, "month");
    CHECK(tw_cal_unit_parse("week", &u) == 0 && u == TW_CAL_WEEK, "week");
    CHECK(tw_cal_unit_parse("months", &u) == TRAWL_EINVAL, "months");
    CHECK(tw_cal_unit_parse("", &u) == TRAWL_EINVAL, "empty");
    CHECK(tw_cal_offset_parse("+05:30", &off) == 0 && off == 19800, "+05:30 %d", off);
    CHECK(tw_cal_offset_parse("-08:00", &off) == 0 && off == -28800, "-08:00 %d", off);
    CHECK(tw_cal_offset_parse("+02", &off) == 0 && off == 7200, "+02 %d", off);
    CHECK(tw_cal_offset_parse("Z", &off) == 0 && off == 0, "Z");
    CHECK(tw_cal_offset_parse(NULL, &off) == 0 && off == 0, "NULL");
    CHECK(tw_cal_offset_parse("+24:00", &off) == TRAWL_EINVAL, "+24:00");
    CHECK(tw_cal_offset_parse("UTC", &off) == 0 && off == 0, "UTC");
    CHECK(tw_cal_offset_parse("+05:60", &off) == TRAWL_EINVAL, "+05:60");
    CHECK(tw_cal_offset_parse("05:00", &off) == TRAWL_EINVAL, "05:00");
    CHECK(tw_cal_offset_parse("Europe/Paris", &off) == TRAWL_EINVAL, "zone name");
}

int main(void) {
    test_parse();
    /* Civil dates round-trip over every day of 1500..2500 and against gmtime. */
    int64_t lo = tw_days_from_civil(1500, 1, 1), hi = tw_days_from_civil(2500, 12, 31);
    for (int64_t dd = lo; dd <= hi; dd++) {
        int64_t y;
        unsigned m, d;
        tw_civil_from_days(dd, &y, &m, &d);
        CHECK(tw_days_from_civil(y, m, d) == dd, "round trip %lld", (long long)dd);
        if (dd % 97 == 0) {
            time_t tt = (time_t)(dd * 86400);
            struct tm tm;
            gmtime_r(&tt, &tm);
            CHECK(tm.tm_year + 1900 == y && (unsigned)tm.tm_mon + 1 == m && (unsigned)tm.tm_mday == d,
                  "civil %lld: %lld-%u-%u", (long long)dd, (long long)y, m, d);
        }
    }
    rng r = {42};
    const int64_t tmin = tw_days_from_civil(1600, 1, 1) * 86400, tmax = tw_days_from_civil(2400, 1, 1) * 86400;
    for (int i = 0; i < 200000; i++) {
        int64_t t = tmin + (int64_t)(rnd(&r) % (uint64_t)(tmax - tmin));
        if (i % 4 == 0) t -= t % 86400; /* many instants on midnights */
        int32_t off = 0;
        if (i % 3 == 1) off = (int32_t)(rnd(&r) % (2 * 18 * 4 + 1)) * 900 - 18 * 3600;
        for (int u = TW_CAL_YEAR; u <= TW_CAL_DAY; u++) {
            char want[40], got[40];
            ref_label(t, off, (tw_cal_unit)u, want, sizeof want);
            int64_t b = tw_cal_bucket(t, (tw_cal_unit)u, off);
            tw_cal_bucket_label(b, (tw_cal_unit)u, got, sizeof got);
            CHECK(!strcmp(want, got), "t=%lld off=%d unit=%s: %s != %s", (long long)t, off,
                  tw_cal_unit_name((tw_cal_unit)u), got, want);
            int64_t s = tw_cal_bucket_start(b, (tw_cal_unit)u, off);
            CHECK(s <= t && tw_cal_bucket(s, (tw_cal_unit)u, off) == b &&
                      tw_cal_bucket(s - 1, (tw_cal_unit)u, off) == b - 1,
                  "start of %lld (%s): %lld", (long long)b, got, (long long)s);
            /* The next bucket starts where this one ends. */
            int64_t e = tw_cal_bucket_start(b + 1, (tw_cal_unit)u, off);
            CHECK(e > t && tw_cal_bucket(e - 1, (tw_cal_unit)u, off) == b, "end of %s", got);
        }
    }
    /* Extremes clamp instead of overflowing. */
    CHECK(tw_cal_bucket(INT64_MAX, TW_CAL_DAY, TW_CAL_MAX_OFFSET) ==
              tw_cal_bucket(TW_CAL_MAX, TW_CAL_DAY, TW_CAL_MAX_OFFSET),
          "clamp max");
    CHECK(tw_cal_bucket(INT64_MIN, TW_CAL_YEAR, -TW_CAL_MAX_OFFSET) < -90000, "clamp min");
    char buf[40];
    tw_cal_bucket_label(tw_cal_bucket(INT64_MIN, TW_CAL_WEEK, 0), TW_CAL_WEEK, buf, sizeof buf);
    CHECK(strlen(buf) > 0, "label at the minimum");
    if (failures) fprintf(stderr, "%d failures\n", failures);
    return failures != 0;
}
