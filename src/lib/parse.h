/* Strict parsers for numbers, durations and sizes given by users.
 *
 * Each returns 0 and sets *ret only when the whole string is valid, else
 * -EINVAL (malformed) or -ERANGE (out of range), so callers can name the bad
 * flag or config key in their own message.
 */
#ifndef KS_PARSE_H
#define KS_PARSE_H

#include <stdbool.h>
#include <stdint.h>

int parse_u64(const char *s, uint64_t *ret);
int parse_i64(const char *s, int64_t *ret);
int parse_double(const char *s, double *ret);
/* "1500ms", "10s", "5m", "2h", "1d"; a bare number is seconds. */
int parse_duration_ns(const char *s, int64_t *ret);
/* "4096", "64k", "16M", "1G" (powers of 1024). */
int parse_size(const char *s, uint64_t *ret);
int parse_bool(const char *s, bool *ret);
/* A point in time as CSV files write it, to ns since the Unix epoch:
 * "2014-04-01 00:00:00" (NAB), ISO 8601 ("2014-04-01T00:00:00.25Z",
 * "...+02:00"; no zone means UTC), a date alone, or an epoch number whose
 * size gives the unit: under 1e11 seconds (decimals allowed), under 1e14
 * ms, under 1e17 us, else ns. */
int parse_time_ns(const char *s, int64_t *ret);

#endif
