/* Anomalies in words (see explain.h). */
#include "explain.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "anomaly.h"

#define RATIO_SHOWN 1.5         /* a multiplier or a share is shown past this factor */

static bool unit_is(const char *unit, const char *name)
{
	return unit && !strcmp(unit, name);
}

static bool is_throughput(const char *unit)
{
	return unit_is(unit, "B/s") || unit_is(unit, "kB/s");
}

double explain_resolution(const char *unit)
{
	if (unit_is(unit, "us") || unit_is(unit, "B/s") || unit_is(unit, "kB") || unit_is(unit, "kB/s"))
		return 1;
	if (unit_is(unit, "ms"))
		return 0.001;
	if (unit_is(unit, "pct"))
		return 0.1;
	return 0.01;            /* per_s and counts: averages of integers */
}

double explain_round(double value, const char *unit)
{
	double res = explain_resolution(unit), r;

	if (!isfinite(value))
		return value;
	r = round(value / res) * res;
	return r == 0 ? 0 : r;  /* no -0 */
}

bool explain_negligible(double value, const char *unit)
{
	double floor_;

	if (unit_is(unit, "B/s"))
		floor_ = 1024;
	else if (unit_is(unit, "pct") || unit_is(unit, "per_s") || !unit || !*unit)
		floor_ = 0.5;
	else
		floor_ = explain_resolution(unit);
	return fabs(explain_round(value, unit)) < floor_;
}

static double to_base(double v, const char *unit)
{
	return unit_is(unit, "kB") || unit_is(unit, "kB/s") ? v * 1024 : v;
}

void explain_format_value(double value, const char *unit, char *buf, size_t size)
{
	double a;

	if (!unit)
		unit = "";
	if (!isfinite(value)) {
		snprintf(buf, size, "unknown");
		return;
	}
	value = explain_round(value, unit);
	a = fabs(value);
	if (unit_is(unit, "us") || unit_is(unit, "ms")) {
		double us = unit_is(unit, "ms") ? value * 1000 : value;

		a = fabs(us);
		if (a < 1000)
			snprintf(buf, size, "%.0f µs", us);
		else if (a < 1e6)
			snprintf(buf, size, a < 1e4 ? "%.1f ms" : "%.0f ms", us / 1e3);
		else
			snprintf(buf, size, "%.1f s", us / 1e6);
	} else if (unit_is(unit, "pct")) {
		snprintf(buf, size, a < 10 && a != floor(a) ? "%.1f%%" : "%.0f%%", value);
	} else if (unit_is(unit, "kB") || is_throughput(unit)) {
		static const char *const sfx[] = { "B", "KiB", "MiB", "GiB", "TiB" };
		double v = to_base(value, unit);
		int k = 0;

		for (a = fabs(v); a >= 1024 && k < 4; k++, a /= 1024, v /= 1024)
			;
		snprintf(buf, size, a < 10 && k ? "%.1f %s%s" : "%.0f %s%s", v, sfx[k],
			 strchr(unit, '/') ? "/s" : "");
	} else if (unit_is(unit, "per_s")) {
		snprintf(buf, size, a >= 100 || a == floor(a) ? "%.0f/s" : "%.2g/s", value);
	} else {
		snprintf(buf, size, a >= 100 || a == floor(a) ? "%.0f" : "%.3g", value);
	}
}

/* ", usually idle", ", usually 0%", ", 10x its usual 2.1 ms", " (usually 40%)"...
 * Returns true when the comparison shows by itself that the value is
 * unusual. */
static bool compare(const struct explain_input *in, char *buf, size_t size)
{
	const char *hour = in->hourly ? " for this hour" : "";
	double value = explain_round(in->value, in->unit), usual = explain_round(in->usual, in->unit);
	double ratio;
	char text[32];

	explain_format_value(usual, in->unit, text, sizeof(text));
	if (explain_negligible(usual, in->unit)) {
		if (explain_negligible(value, in->unit)) {
			snprintf(buf, size, " (usually %s%s)", text, hour);
			return false;
		}
		/* Only a throughput is idle: a trend (kB/s) near 0 is steady. */
		snprintf(buf, size, ", usually %s%s", unit_is(in->unit, "B/s") && value > 0 ? "idle" : text, hour);
		return true;
	}
	if (explain_negligible(value, in->unit) && usual > 0) {
		snprintf(buf, size, ", usually %s%s", text, hour);
		return true;
	}
	ratio = usual > 0 && value >= 0 ? value / usual : NAN;
	if (isfinite(ratio) && ratio >= RATIO_SHOWN) {
		snprintf(buf, size, ", %.*fx its usual %s%s", ratio < 10 ? 1 : 0, ratio, text, hour);
		return true;
	}
	if (isfinite(ratio) && ratio <= 1 / RATIO_SHOWN) {
		snprintf(buf, size, ", %.0f%% of its usual %s%s", ratio * 100, text, hour);
		return true;
	}
	snprintf(buf, size, " (usually %s%s)", text, hour);
	return false;
}

/* "TCP retransmits are", "reads on vda are", but "read throughput on vda
 * is": plural when a word of the subject (before " on ", " of ", " in " or
 * " (") ends in s but not ss ("process creation" stays singular). */
static bool plural(const char *what)
{
	static const char *const cuts[] = { " on ", " of ", " in ", " (" };
	size_t end = strlen(what);

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		const char *c = strstr(what, cuts[i]);

		if (c && (size_t)(c - what) < end)
			end = (size_t)(c - what);
	}
	for (size_t i = 0; i < end; i++) {
		bool word_end = i + 1 == end || what[i + 1] == ' ';

		if (word_end && what[i] == 's' && !(i > 0 && what[i - 1] == 's'))
			return true;
	}
	return false;
}

void explain_detection(const struct explain_input *in, char *buf, size_t size)
{
	char value[32], part[96], lim[32];
	bool shown;
	size_t len;

	explain_format_value(in->value, in->unit, value, sizeof(value));
	if (isfinite(in->usual)) {
		shown = compare(in, part, sizeof(part));
	} else {
		explain_format_value(in->expected, in->unit, lim, sizeof(lim));
		snprintf(part, sizeof(part), ", expected about %s", lim);
		shown = false;
	}
	snprintf(buf, size, "%s %s %s%s", in->what, plural(in->what) ? "are" : "is", value, part);
	if (shown)
		return;
	len = strlen(buf);
	if (in->kind == ANOMALY_HIGH) {
		explain_format_value(in->high, in->unit, lim, sizeof(lim));
		snprintf(buf + len, size - len, ", above anything recent (up to %s)", lim);
	} else if (in->kind == ANOMALY_LOW) {
		explain_format_value(in->low, in->unit, lim, sizeof(lim));
		snprintf(buf + len, size - len, ", below anything recent (down to %s)", lim);
	} else if (in->kind == ANOMALY_PATTERN) {
		snprintf(buf + len, size - len, ", after a run of unusual values");
	}
}
