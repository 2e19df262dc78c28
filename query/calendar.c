/*
 * calendar.c — calendar bucketing (calendar.h) on the civil-date arithmetic
 * of index/datetime.h: buckets as consecutive integers, their first instants
 * and their labels.
 */
#include "calendar.h"

#include <stdio.h>
#include <string.h>

#include "datetime.h"
#include "error.h"

static int64_t floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int tw_cal_unit_parse(const char *s, tw_cal_unit *u) {
    static const char *const names[] = {"year", "quarter", "month", "week", "day"};
    if (!s) return TRAWL_EINVAL;
    for (int i = 0; i < 5; i++) {
        size_t n = strlen(names[i]), j;
        if (strlen(s) != n) continue;
        for (j = 0; j < n; j++) {
            char c = s[j];
            if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
            if (c != names[i][j]) break;
        }
        if (j == n) {
            *u = (tw_cal_unit)i;
            return 0;
        }
    }
    return TRAWL_EINVAL;
}

const char *tw_cal_unit_name(tw_cal_unit u) {
    switch (u) {
        case TW_CAL_YEAR: return "year";
        case TW_CAL_QUARTER: return "quarter";
        case TW_CAL_MONTH: return "month";
        case TW_CAL_WEEK: return "week";
        case TW_CAL_DAY: return "day";
    }
    return "?";
}

int tw_cal_offset_parse(const char *s, int32_t *seconds) {
    if (!s || !*s || !strcmp(s, "UTC") || !strcmp(s, "utc")) {
        *seconds = 0;
        return 0;
    }
    return tw_tz_parse(s, strlen(s), seconds) ? TRAWL_EINVAL : 0;
}

static int64_t clamp(int64_t t) {
    return t < TW_CAL_MIN ? TW_CAL_MIN : t > TW_CAL_MAX ? TW_CAL_MAX : t;
}

int64_t tw_cal_local_day(int64_t t, int32_t off) {
    return floordiv(clamp(t) + off, 86400);
}

int64_t tw_cal_bucket(int64_t t, tw_cal_unit u, int32_t off) {
    return tw_cal_bucket_of_day(tw_cal_local_day(t, off), u);
}

int64_t tw_cal_bucket_of_day(int64_t days, tw_cal_unit u) {
    int64_t y;
    unsigned m, d;
    switch (u) {
        case TW_CAL_DAY: return days;
        case TW_CAL_WEEK: return floordiv(days + 3, 7); /* 1970-01-01 was a Thursday */
        default: break;
    }
    tw_civil_from_days(days, &y, &m, &d);
    if (u == TW_CAL_YEAR) return y;
    if (u == TW_CAL_QUARTER) return 4 * y + (m - 1) / 3;
    return 12 * y + (m - 1);
}

/* First day (days since the epoch, local) of bucket b. */
static int64_t first_day(int64_t b, tw_cal_unit u) {
    switch (u) {
        case TW_CAL_YEAR: return tw_days_from_civil(b, 1, 1);
        case TW_CAL_QUARTER: return tw_days_from_civil(floordiv(b, 4), (unsigned)(3 * (b - 4 * floordiv(b, 4)) + 1), 1);
        case TW_CAL_MONTH: return tw_days_from_civil(floordiv(b, 12), (unsigned)(b - 12 * floordiv(b, 12) + 1), 1);
        case TW_CAL_WEEK: return 7 * b - 3;
        case TW_CAL_DAY: return b;
    }
    return 0;
}

int64_t tw_cal_bucket_start(int64_t b, tw_cal_unit u, int32_t off) {
    return first_day(b, u) * 86400 - off;
}

size_t tw_cal_bucket_label(int64_t b, tw_cal_unit u, char *buf, size_t cap) {
    int64_t y;
    unsigned m, d;
    int n = 0;
    switch (u) {
        case TW_CAL_YEAR: n = snprintf(buf, cap, "%04lld", (long long)b); break;
        case TW_CAL_QUARTER:
            n = snprintf(buf, cap, "%04lld-Q%d", (long long)floordiv(b, 4), (int)(b - 4 * floordiv(b, 4)) + 1);
            break;
        case TW_CAL_MONTH:
            n = snprintf(buf, cap, "%04lld-%02d", (long long)floordiv(b, 12), (int)(b - 12 * floordiv(b, 12)) + 1);
            break;
        case TW_CAL_WEEK: {
            /* The ISO year is the year of the week's Thursday; week 1 holds
             * the year's first Thursday. */
            int64_t thu = 7 * b;
            tw_civil_from_days(thu, &y, &m, &d);
            int64_t week = (thu - tw_days_from_civil(y, 1, 1)) / 7 + 1;
            n = snprintf(buf, cap, "%04lld-W%02d", (long long)y, (int)week);
            break;
        }
        case TW_CAL_DAY:
            tw_civil_from_days(b, &y, &m, &d);
            n = snprintf(buf, cap, "%04lld-%02u-%02u", (long long)y, m, d);
            break;
    }
    if (n < 0) n = 0;
    if (cap == 0) return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}
