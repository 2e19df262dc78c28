/*
 * datetime.h — dates of typed fields: ISO 8601 text and epoch seconds, and
 * the proleptic Gregorian calendar arithmetic behind them.
 *
 * A date is an int64 count of seconds since 1970-01-01T00:00:00Z (UTC; leap
 * seconds do not exist). Accepted text (tw_date_parse):
 *
 *     YYYY                      the whole year
 *     YYYY-MM                   the whole month
 *     YYYY-MM-DD                the whole day
 *     YYYY-MM-DDThh:mm          the whole minute
 *     YYYY-MM-DDThh:mm:ss       one second
 *     YYYY-MM-DDThh:mm:ss.f...  (1 to 9 fraction digits, truncated to the second)
 *
 * A time may end with `Z` or an offset `+hh:mm` / `-hh:mm` (the local time
 * minus the offset is UTC); no offset means UTC. `T` may also be `t` or one
 * space, `Z` may be `z`. Years run 0000..9999, months 01..12, days 01..the
 * month's length, hours 00..23, minutes and seconds 00..59 (no leap second),
 * offsets up to ±23:59. Anything else is rejected, so every accepted text
 * names an instant between TW_DATE_MIN and TW_DATE_MAX.
 *
 * A text names a span [start, end): its first second and the first second
 * after it. A document's value is the start; a query range uses the span
 * (`date >= 2025-03` starts at start, `date <= 2025-03` ends before end).
 */
#ifndef TW_DATETIME_H
#define TW_DATETIME_H

#include <stddef.h>
#include <stdint.h>

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the dates a field holds. */
#define TW_DATE_MIN (-62167219200LL)
#define TW_DATE_MAX 253402300799LL

/* How much of a date a text gave (the unit of its span). */
typedef enum tw_date_prec {
    TW_DP_YEAR = 1,
    TW_DP_MONTH = 2,
    TW_DP_DAY = 3,
    TW_DP_MINUTE = 4,
    TW_DP_SECOND = 5 /* with or without a fraction */
} tw_date_prec;

/* Floor division and modulo for b > 0 (the calendar needs them for dates
 * before 1970). */
static inline int64_t tw_floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}
static inline int64_t tw_floormod(int64_t a, int64_t b) {
    return a - tw_floordiv(a, b) * b;
}

/* 1 for a Gregorian leap year, else 0. */
int tw_is_leap(int64_t year);
/* Days in month m (1..12) of year. */
unsigned tw_days_in_month(int64_t year, unsigned m);
/* Days since 1970-01-01 of the civil date (m 1..12, d 1..31; any year whose
 * days fit an int64 comfortably, |year| < 2^40). */
int64_t tw_days_from_civil(int64_t year, unsigned m, unsigned d);
/* The civil date of day z since 1970-01-01 (inverse of tw_days_from_civil). */
void tw_civil_from_days(int64_t z, int64_t *year, unsigned *m, unsigned *d);
/* ISO weekday of day z since 1970-01-01: 1 = Monday .. 7 = Sunday. */
unsigned tw_weekday_from_days(int64_t z);

/* Broken-down UTC time of t (what gmtime gives, without its limits; defined
 * for every int64, also the extreme keys of a damaged segment). */
typedef struct tw_civil {
    int64_t year;
    unsigned month, day, hour, minute, second; /* 1..12, 1..31, 0..23, 0..59, 0..59 */
} tw_civil;
void tw_civil_from_epoch(int64_t t, tw_civil *c);
/* Epoch seconds of a broken-down UTC time (fields in their ranges). */
int64_t tw_epoch_from_civil(const tw_civil *c);

/* Parses s[0..len) as described above. Returns 0 and *start, *end (may be
 * NULL), *prec (may be NULL); TRAWL_EINVAL when the text is no accepted date
 * (*why, if not NULL, gets a static reason). */
int tw_date_parse(const char *s, size_t len, int64_t *start, int64_t *end, tw_date_prec *prec, const char **why);

/* Parses a time zone offset "Z", "+hh:mm", "-hh:mm", "+hh" or "-hh" (up to
 * ±23:59) into seconds east of UTC. Returns 0 or TRAWL_EINVAL. */
int tw_tz_parse(const char *s, size_t len, int32_t *offset);

/* End of the span of prec that starts at t (t itself must start such a span
 * in UTC: for TW_DP_MONTH the first second of a month, ...). */
int64_t tw_date_span_end(int64_t t, tw_date_prec prec);

/* Longest text tw_date_format writes, with its NUL. */
#define TW_DATE_TEXT_MAX 32

/* Writes t as ISO 8601 UTC text cut to prec: "2024", "2024-03",
 * "2024-03-05", "2024-03-05T10:20Z" (minute) or "2024-03-05T10:20:30Z", into
 * buf (cap >= TW_DATE_TEXT_MAX recommended; always NUL-terminated when cap >
 * 0). Years outside 0000..9999 are written with a sign ("-0001", "+10000").
 * Returns the length written (without the NUL) or the length needed when cap
 * is too small, like snprintf. */
int tw_date_format(int64_t t, tw_date_prec prec, char *buf, size_t cap);

#endif
