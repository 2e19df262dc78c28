/*
 * datetime.c — ISO 8601 dates and the proleptic Gregorian calendar (contract
 * in datetime.h). The day-count conversions work in 400-year eras (146097
 * days each), with years starting on March 1 so that the leap day is the
 * last day of a year.
 */
#include "datetime.h"

#include <stdio.h>

#include "error.h"

int tw_is_leap(int64_t year) {
    return (tw_floormod(year, 4) == 0 && tw_floormod(year, 100) != 0) || tw_floormod(year, 400) == 0;
}

unsigned tw_days_in_month(int64_t year, unsigned m) {
    static const unsigned len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12) return 0;
    return m == 2 ? 28u + (unsigned)tw_is_leap(year) : len[m - 1];
}

int64_t tw_days_from_civil(int64_t year, unsigned m, unsigned d) {
    int64_t y = m <= 2 ? year - 1 : year; /* the March-based year */
    int64_t era = tw_floordiv(y, 400);
    int64_t yoe = y - era * 400;                          /* 0..399 */
    int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9; /* 0 = March .. 11 = February */
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;    /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  /* 0..146096 */
    return era * 146097 + doe - 719468;                   /* 719468: days from 0000-03-01 to 1970-01-01 */
}

void tw_civil_from_days(int64_t z, int64_t *year, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = tw_floordiv(z, 146097);
    int64_t doe = z - era * 146097;                                      /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365 */
    int64_t mp = (5 * doy + 2) / 153;                                    /* 0..11 */
    unsigned dd = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    unsigned mm = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (mm <= 2);
    *m = mm;
    *d = dd;
}

unsigned tw_weekday_from_days(int64_t z) {
    /* 1970-01-01 was a Thursday (4). */
    return (unsigned)(tw_floormod(z + 3, 7) + 1);
}

void tw_civil_from_epoch(int64_t t, tw_civil *c) {
    /* t % 86400 and t / 86400 cannot overflow, unlike days * 86400 for the
     * extreme keys a damaged segment may hold. */
    int64_t secs = t % 86400, days = t / 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    tw_civil_from_days(days, &c->year, &c->month, &c->day);
    c->hour = (unsigned)(secs / 3600);
    c->minute = (unsigned)(secs / 60 % 60);
    c->second = (unsigned)(secs % 60);
}

int64_t tw_epoch_from_civil(const tw_civil *c) {
    return tw_days_from_civil(c->year, c->month, c->day) * 86400 + (int64_t)c->hour * 3600 + (int64_t)c->minute * 60 +
           c->second;
}

/* Reads exactly n decimal digits at s[*i..); returns the value or -1. */
static int64_t digits(const char *s, size_t len, size_t *i, unsigned n) {
    if (len - *i < n) return -1;
    int64_t v = 0;
    for (unsigned k = 0; k < n; k++) {
        char ch = s[*i + k];
        if (ch < '0' || ch > '9') return -1;
        v = v * 10 + (ch - '0');
    }
    *i += n;
    return v;
}

#define FAIL(msg)                                                                                                      \
    do {                                                                                                               \
        if (why) *why = msg;                                                                                           \
        return TRAWL_EINVAL;                                                                                           \
    } while (0)

/* Parses an offset at s[*i..len) to the end of the text; "Z" or ±hh:mm
 * (allow_short: also ±hh). Returns 0 and *off, or TRAWL_EINVAL. */
static int parse_offset(const char *s, size_t len, size_t *i, int allow_short, int32_t *off) {
    if (*i >= len) return TRAWL_EINVAL;
    char c = s[*i];
    if (c == 'Z' || c == 'z') {
        (*i)++;
        *off = 0;
        return *i == len ? 0 : TRAWL_EINVAL;
    }
    if (c != '+' && c != '-') return TRAWL_EINVAL;
    (*i)++;
    int64_t hh = digits(s, len, i, 2), mm = 0;
    if (hh < 0 || hh > 23) return TRAWL_EINVAL;
    if (*i < len || !allow_short) {
        if (*i >= len || s[*i] != ':') return TRAWL_EINVAL;
        (*i)++;
        mm = digits(s, len, i, 2);
        if (mm < 0 || mm > 59) return TRAWL_EINVAL;
    }
    if (*i != len) return TRAWL_EINVAL;
    *off = (int32_t)((c == '-' ? -1 : 1) * (hh * 3600 + mm * 60));
    return 0;
}

int tw_tz_parse(const char *s, size_t len, int32_t *offset) {
    size_t i = 0;
    return parse_offset(s, len, &i, 1, offset);
}

int64_t tw_date_span_end(int64_t t, tw_date_prec prec) {
    tw_civil c;
    t = t < TW_DATE_MIN ? TW_DATE_MIN : t > TW_DATE_MAX ? TW_DATE_MAX : t;
    switch (prec) {
        case TW_DP_YEAR: tw_civil_from_epoch(t, &c); return tw_days_from_civil(c.year + 1, 1, 1) * 86400;
        case TW_DP_MONTH:
            tw_civil_from_epoch(t, &c);
            return c.month == 12 ? tw_days_from_civil(c.year + 1, 1, 1) * 86400
                                 : tw_days_from_civil(c.year, c.month + 1, 1) * 86400;
        case TW_DP_DAY: return t + 86400;
        case TW_DP_MINUTE: return t + 60;
        case TW_DP_SECOND: break;
    }
    return t + 1;
}

int tw_date_parse(const char *s, size_t len, int64_t *start, int64_t *end, tw_date_prec *prec, const char **why) {
    size_t i = 0;
    tw_civil c = {0, 1, 1, 0, 0, 0};
    tw_date_prec p = TW_DP_YEAR;
    int64_t v = digits(s, len, &i, 4);
    if (v < 0) FAIL("a date starts with a four-digit year");
    c.year = v;
    if (i < len) {
        if (s[i] != '-') FAIL("expected '-' after the year");
        i++;
        v = digits(s, len, &i, 2);
        if (v < 1 || v > 12) FAIL("the month must be 01 to 12");
        c.month = (unsigned)v;
        p = TW_DP_MONTH;
    }
    if (i < len) {
        if (s[i] != '-') FAIL("expected '-' after the month");
        i++;
        v = digits(s, len, &i, 2);
        if (v < 1 || v > (int64_t)tw_days_in_month(c.year, c.month)) FAIL("no such day in that month");
        c.day = (unsigned)v;
        p = TW_DP_DAY;
    }
    int32_t off = 0;
    if (i < len) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') FAIL("expected 'T' before the time");
        i++;
        v = digits(s, len, &i, 2);
        if (v < 0 || v > 23) FAIL("the hour must be 00 to 23");
        c.hour = (unsigned)v;
        if (i >= len || s[i] != ':') FAIL("expected ':' after the hour");
        i++;
        v = digits(s, len, &i, 2);
        if (v < 0 || v > 59) FAIL("the minute must be 00 to 59");
        c.minute = (unsigned)v;
        p = TW_DP_MINUTE;
        if (i < len && s[i] == ':') {
            i++;
            v = digits(s, len, &i, 2);
            if (v < 0 || v > 59) FAIL("the second must be 00 to 59");
            c.second = (unsigned)v;
            p = TW_DP_SECOND;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                i++;
                size_t f0 = i;
                while (i < len && s[i] >= '0' && s[i] <= '9') i++;
                if (i == f0 || i - f0 > 9) FAIL("a fraction of a second has 1 to 9 digits");
            }
        }
        if (i < len && parse_offset(s, len, &i, 0, &off) != 0) FAIL("expected 'Z' or an offset like +02:00");
    }
    if (i != len) FAIL("unexpected text after the date");
    int64_t t0 = tw_epoch_from_civil(&c);
    int64_t e0 = tw_date_span_end(t0, p);
    t0 -= off;
    e0 -= off;
    /* An offset may move an instant just beyond 0000..9999. */
    if (t0 < TW_DATE_MIN || t0 > TW_DATE_MAX) FAIL("the date lies outside the years 0000 to 9999 in UTC");
    if (start) *start = t0;
    if (end) *end = e0;
    if (prec) *prec = p;
    return 0;
}

int tw_date_format(int64_t t, tw_date_prec prec, char *buf, size_t cap) {
    tw_civil c;
    tw_civil_from_epoch(t, &c);
    char y[24];
    if (c.year >= 0 && c.year <= 9999)
        snprintf(y, sizeof y, "%04lld", (long long)c.year);
    else
        snprintf(y, sizeof y, "%+05lld", (long long)c.year);
    switch (prec) {
        case TW_DP_YEAR: return snprintf(buf, cap, "%s", y);
        case TW_DP_MONTH: return snprintf(buf, cap, "%s-%02u", y, c.month);
        case TW_DP_DAY: return snprintf(buf, cap, "%s-%02u-%02u", y, c.month, c.day);
        case TW_DP_MINUTE: return snprintf(buf, cap, "%s-%02u-%02uT%02u:%02uZ", y, c.month, c.day, c.hour, c.minute);
        case TW_DP_SECOND: break;
    }
    return snprintf(buf, cap, "%s-%02u-%02uT%02u:%02u:%02uZ", y, c.month, c.day, c.hour, c.minute, c.second);
}
