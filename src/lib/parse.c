/* Strict user-input parsers (see parse.h). */
#include "parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*ret = v;
	return 0;
}

int parse_i64(const char *s, int64_t *ret)
{
	char *end;
	long long v;

	if (!s || !*s || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*ret = v;
	return 0;
}

int parse_double(const char *s, double *ret)
{
	char *end;
	double v;

	if (!s || !*s || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end || !isfinite(v))
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*ret = v;
	return 0;
}

int parse_duration_ns(const char *s, int64_t *ret)
{
	static const struct { const char *suffix; double ns; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		{ "m", 60e9 }, { "h", 3600e9 }, { "d", 86400e9 },
	};
	char *end;
	double v, mult = 1e9;
	size_t i;

	if (!s || !*s || *s == '-' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (*end) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(end, units[i].suffix))
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		mult = units[i].ns;
	}
	if (v * mult > 9.2e18)
		return -ERANGE;
	*ret = (int64_t)llround(v * mult);
	return 0;
}

int parse_size(const char *s, uint64_t *ret)
{
	char *end;
	double v, mult = 1;

	if (!s || !*s || *s == '-' || *s == ' ')
		return -EINVAL;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': mult = 1024.0; break;
		case 'm': case 'M': mult = 1024.0 * 1024; break;
		case 'g': case 'G': mult = 1024.0 * 1024 * 1024; break;
		default: return -EINVAL;
		}
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (v * mult > 1.8e19)
		return -ERANGE;
	*ret = (uint64_t)llround(v * mult);
	return 0;
}

int parse_bool(const char *s, bool *ret)
{
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on") || !strcmp(s, "1")) {
		*ret = true;
		return 0;
	}
	if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off") || !strcmp(s, "0")) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Exactly n digits at *p, advancing it. */
static int digits(const char **p, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return 0;
}

static int parse_epoch(const char *s, int64_t *ret)
{
	const char *p = s + (*s == '-');
	bool dot = false;
	double v;

	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		if (*p == '.' && !dot)
			dot = true;
		else if (*p < '0' || *p > '9')
			return -EINVAL;
	}
	if (dot) {
		if (parse_double(s, &v))
			return -EINVAL;
		if (fabs(v) >= 9.2e9)
			return -ERANGE;
		*ret = (int64_t)llround(v * 1e9);
		return 0;
	}
	{
		int64_t i, mult;
		int r = parse_i64(s, &i);
		uint64_t mag;

		if (r)
			return r;
		mag = i < 0 ? -(uint64_t)i : (uint64_t)i;
		mult = mag < 100000000000ULL ? 1000000000 : mag < 100000000000000ULL ? 1000000 :
		       mag < 100000000000000000ULL ? 1000 : 1;
		if (mult > 1 && mag > (uint64_t)INT64_MAX / (uint64_t)mult)
			return -ERANGE;
		*ret = i * mult;
		return 0;
	}
}

int parse_time_ns(const char *s, int64_t *ret)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	int year, mon, day, hour = 0, min = 0, sec = 0;
	int64_t frac_ns = 0, offset_s = 0, days;
	bool leap;

	if (!s || !*s)
		return -EINVAL;
	if (strlen(s) < 10 || s[4] != '-')
		return parse_epoch(s, ret);
	if (digits(&p, 4, &year) || *p++ != '-' || digits(&p, 2, &mon) || *p++ != '-' ||
	    digits(&p, 2, &day))
		return -EINVAL;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &hour) || *p++ != ':' || digits(&p, 2, &min))
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -EINVAL;
			if (*p == '.' || *p == ',') {
				int64_t scale = 100000000;

				if (p[1] < '0' || p[1] > '9')
					return -EINVAL;
				for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
					frac_ns += (*p - '0') * scale;
			}
		}
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om = 0;

			if (digits(&p, 2, &oh))
				return -EINVAL;
			if (*p == ':')
				p++;
			if (*p && digits(&p, 2, &om))
				return -EINVAL;
			if (oh > 23 || om > 59)
				return -EINVAL;
			offset_s = sign * (oh * 3600 + om * 60);
		}
	}
	if (*p)
		return -EINVAL;
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || (mon == 2 && day == 29 && !leap) ||
	    hour > 23 || min > 59 || sec > 60)
		return -EINVAL;
	days = days_from_civil(year, (unsigned)mon, (unsigned)day);
	if (days < -106000 || days > 106000)   /* about 1680..2260: int64 ns */
		return -ERANGE;
	*ret = ((days * 86400 + hour * 3600 + min * 60 + sec) - offset_s) * 1000000000LL + frac_ns;
	return 0;
}
