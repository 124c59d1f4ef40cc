/* parse_time_ns: the date-time and epoch forms found in CSV files, checked
 * against values computed independently (date -u -d ... +%s). */
#include <errno.h>

#include "../../src/lib/parse.h"
#include "../lib/tap.h"

#define S 1000000000LL

static int64_t t(const char *s)
{
	int64_t v = -1;

	return parse_time_ns(s, &v) ? INT64_MIN : v;
}

int main(void)
{
	int64_t v;

	plan(20);
	is(t("2014-04-01 00:00:00"), 1396310400 * S, "NAB's form");
	is(t("2014-04-01T00:05:00"), 1396310700 * S, "ISO 8601 with T");
	is(t("2014-04-01T00:05:00.250Z"), 1396310700 * S + 250000000, "fraction and Z");
	is(t("2014-04-01 00:00:00.000000"), 1396310400 * S, "NAB's windows.json form (microseconds)");
	is(t("2014-04-01T02:00:00+02:00"), 1396310400 * S, "a +02:00 offset");
	is(t("2014-03-31T19:00:00-0500"), 1396310400 * S, "a -0500 offset");
	is(t("2014-04-01"), 1396310400 * S, "a date alone");
	is(t("2000-02-29 12:00:00"), 951825600 * S, "a leap day");
	is(t("1969-12-31 23:59:59"), -1 * S, "before 1970");
	is(t("1396310400"), 1396310400 * S, "epoch seconds");
	is(t("1396310400.5"), 1396310400 * S + 500000000, "epoch seconds with a fraction");
	is(t("1396310400000"), 1396310400 * S, "epoch ms");
	is(t("1396310400000000"), 1396310400 * S, "epoch us");
	is(t("1396310400000000000"), 1396310400 * S, "epoch ns");
	is(parse_time_ns("2014-13-01 00:00:00", &v), -EINVAL, "month 13: -EINVAL");
	is(parse_time_ns("2013-02-29", &v), -EINVAL, "29 February of a common year: -EINVAL");
	is(parse_time_ns("2014-04-01 00:00:00 UTC", &v), -EINVAL, "trailing text: -EINVAL");
	is(parse_time_ns("", &v), -EINVAL, "empty: -EINVAL");
	is(parse_time_ns("12:00", &v), -EINVAL, "a time alone: -EINVAL");
	is(parse_time_ns("99999999999.5", &v), -ERANGE, "epoch seconds past 2262: -ERANGE");
	return done_testing();
}
