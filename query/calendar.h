/*
 * calendar.h — calendar bucketing of instants for date histograms and bursts:
 * an instant (int64 seconds since 1970-01-01T00:00:00Z) falls in a year,
 * quarter, month, ISO 8601 week (Monday to Sunday) or day of the proleptic
 * Gregorian calendar, read at a fixed offset from UTC. Buckets of one unit are
 * numbered by consecutive integers, so the buckets between two are a range.
 *
 * Only fixed offsets are supported (no IANA zone rules: those need the C
 * library's process-wide TZ state, which a thread-safe library cannot touch).
 */
#ifndef TW_CALENDAR_H
#define TW_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

typedef enum tw_cal_unit {
    TW_CAL_YEAR = 0,
    TW_CAL_QUARTER = 1,
    TW_CAL_MONTH = 2,
    TW_CAL_WEEK = 3, /* ISO 8601 week, Monday first */
    TW_CAL_DAY = 4
} tw_cal_unit;

/* Instants outside [TW_CAL_MIN, TW_CAL_MAX] (years -100000..100000, about)
 * are clamped to it before bucketing. */
#define TW_CAL_MAX ((int64_t)3155695200000)
#define TW_CAL_MIN (-TW_CAL_MAX)
/* Largest accepted offset from UTC, in seconds (23:59, as index/datetime.h). */
#define TW_CAL_MAX_OFFSET (23 * 3600 + 59 * 60)

/* Parses "year", "quarter", "month", "week" or "day" (ASCII case-insensitive)
 * into *u. Returns 0 or TRAWL_EINVAL. */
int tw_cal_unit_parse(const char *s, tw_cal_unit *u);
/* Lower-case name of u ("?" when out of range). */
const char *tw_cal_unit_name(tw_cal_unit u);

/* Parses a fixed offset from UTC: "Z", "UTC", "+hh:mm", "-hh:mm", "+hh",
 * "-hh" (tw_tz_parse of index/datetime.h, at most TW_CAL_MAX_OFFSET) into
 * *seconds east of UTC. NULL or "" means UTC. Returns 0 or TRAWL_EINVAL. */
int tw_cal_offset_parse(const char *s, int32_t *seconds);

/* Number of the bucket of unit u holding instant t read at offset off
 * (seconds east of UTC, |off| <= TW_CAL_MAX_OFFSET): year → y, quarter →
 * 4y + q-1, month → 12y + m-1, week → weeks since the Monday 1969-12-29,
 * day → days since 1970-01-01 (all of local time). */
int64_t tw_cal_bucket(int64_t t, tw_cal_unit u, int32_t off);

/* The local day of instant t at offset off: days since 1970-01-01 of local
 * time (t clamped as above). Every unit's bucket is a function of it:
 * tw_cal_bucket(t, u, off) == tw_cal_bucket_of_day(tw_cal_local_day(t, off), u). */
int64_t tw_cal_local_day(int64_t t, int32_t off);
/* The bucket of unit u holding local day `day`. */
int64_t tw_cal_bucket_of_day(int64_t day, tw_cal_unit u);

/* First instant (UTC seconds) of bucket b of unit u at offset off: the
 * smallest t with tw_cal_bucket(t, u, off) == b. */
int64_t tw_cal_bucket_start(int64_t b, tw_cal_unit u, int32_t off);

/* Writes the label of bucket b into buf (cap >= 32 always suffices):
 * "2024", "2024-Q2", "2024-05", "2024-W07" (ISO week-numbering year and
 * week), "2024-05-03". Returns the length. */
size_t tw_cal_bucket_label(int64_t b, tw_cal_unit u, char *buf, size_t cap);

#endif
