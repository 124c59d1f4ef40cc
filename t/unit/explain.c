/* Anomalies in words (src/detect/explain.h), on the alerts a quiet agent
 * raised for real incidents on a test host, whose first wording showed a
 * multiplier over a near-zero baseline ("13671140x its usual 63 B/s"),
 * negative zero ("usually -0.0%") and an unrounded baseline ("usually
 * -3.6e-09/s"); plus the ordinary cases and the rounding itself. */
#include <math.h>
#include <string.h>

#include "../../src/detect/anomaly.h"
#include "../../src/detect/explain.h"
#include "../lib/tap.h"

static char line[512];

static const char *say(const char *what, const char *unit, double value, double usual, bool hourly,
		       int kind, double low, double high)
{
	struct explain_input in = {
		.what = what, .unit = unit, .value = value, .usual = usual, .hourly = hourly,
		.expected = usual, .low = low, .high = high, .kind = kind,
	};

	explain_detection(&in, line, sizeof(line));
	return line;
}

static const char *fmt(double value, const char *unit)
{
	explain_format_value(value, unit, line, sizeof(line));
	return line;
}

int main(void)
{
	plan(23);

	/* The incidents' alerts, as they were worded before. */
	is_str(say("write throughput on vda", "B/s", 817 * 1048576.0, 63, false, ANOMALY_HIGH, 0, 2000),
	       "write throughput on vda is 817 MiB/s, usually idle",
	       "a 1.5 GB direct write over a 63 B/s baseline: 'usually idle', no multiplier");
	is_str(say("io pressure (some)", "pct", 75, 0.00058, false, ANOMALY_HIGH, 0, 0.01),
	       "io pressure (some) is 75%, usually 0%", "I/O pressure over a 0.0%% baseline: 'usually 0%%'");
	is_str(say("utilisation of vda", "pct", 78, -0.0004, false, ANOMALY_HIGH, 0, 0.1),
	       "utilisation of vda is 78%, usually 0%", "a -0.0%% baseline: 'usually 0%%', no negative zero");
	is_str(say("writes on vda", "per_s", 5949, -3.6e-09, false, ANOMALY_HIGH, 0, 1),
	       "writes on vda are 5949/s, usually 0/s", "a -3.6e-09/s baseline: 'usually 0/s'");
	is_str(say("the syscall error rate", "pct", 0.004, 7.7, false, ANOMALY_LOW, 3, 12),
	       "the syscall error rate is 0%, usually 7.7%", "a rate down to 0: no '0%% of its usual'");

	is_str(say("the trend of available memory", "kB/s", -5120, 0.2, false, ANOMALY_LOW, -300, 300),
	       "the trend of available memory is -5.0 MiB/s, usually 0 B/s", "a signed rate near 0 is not 'idle'");

	/* The ordinary cases. */
	is_str(say("read p95 on vda", "us", 22000, 2100, false, ANOMALY_HIGH, 0, 2500),
	       "read p95 on vda is 22 ms, 10x its usual 2.1 ms", "a multiplier over a real baseline");
	is_str(say("read p95 on vda", "us", 5200, 2100, false, ANOMALY_HIGH, 0, 2500),
	       "read p95 on vda is 5.2 ms, 2.5x its usual 2.1 ms", "with a decimal under 10x");
	is_str(say("available memory", "kB", 1048576, 4194304, true, ANOMALY_LOW, 3e6, 5e6),
	       "available memory is 1.0 GiB, 25% of its usual 4.0 GiB for this hour", "a share, this hour's");
	is_str(say("utilisation of vda", "pct", 48, 40, false, ANOMALY_HIGH, 20, 45.04),
	       "utilisation of vda is 48% (usually 40%), above anything recent (up to 45%)",
	       "close to usual: the range says why it was flagged");
	is_str(say("CPU busy", "pct", 30, 25, false, ANOMALY_PATTERN, 10, 50),
	       "CPU busy is 30% (usually 25%), after a run of unusual values", "a pattern, close to usual");
	is_str(say("failing syscalls", "per_s", 0.2, 0.1, false, ANOMALY_HIGH, 0, 0.15),
	       "failing syscalls are 0.2/s (usually 0.1/s), above anything recent (up to 0.15/s)",
	       "both negligible: no multiplier, the range says why");
	{
		struct explain_input in = { .what = "context switches", .unit = "per_s", .value = 90000,
					    .usual = NAN, .expected = 20000.4, .low = 1e4, .high = 3e4,
					    .kind = ANOMALY_HIGH };

		explain_detection(&in, line, sizeof(line));
		is_str(line, "context switches are 90000/s, expected about 20000/s, above anything recent (up to 30000/s)",
		       "no baseline yet: the detector's expectation");
	}
	{
		const char *cases[] = { "B/s", "pct", "per_s", "us", "kB", "" };
		bool one_line = true;

		for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			say("a metric with a long name in words", cases[i], -1e-9, 1e-9, true, ANOMALY_PATTERN, -1e-9, 1e-9);
			one_line &= !strchr(line, '\n') && strlen(line) < 120 && !strstr(line, "-0") && !strstr(line, "e-");
		}
		ok(one_line, "every unit: one short line, no negative zero, no exponent (last: %s)", line);
	}

	/* Rounding to the metric's resolution. */
	is_str(fmt(-1e-12, "pct"), "0%", "-1e-12%% reads 0%%");
	is_str(fmt(-0.04, "pct"), "0%", "-0.04%% reads 0%% (resolution 0.1%%)");
	is_str(fmt(-3.6e-9, "per_s"), "0/s", "-3.6e-09/s reads 0/s");
	is_str(fmt(0.3, "B/s"), "0 B/s", "0.3 B/s reads 0 B/s");
	ok(!signbit(explain_round(-0.0001, "us")), "explain_round never returns -0");
	is_str(fmt(7.7, "pct"), "7.7%", "7.7%% as is");
	is_str(fmt(2350, "us"), "2.4 ms", "2350 µs reads 2.4 ms");
	ok(explain_negligible(63, "B/s") && !explain_negligible(4096, "B/s"), "63 B/s is idle, 4 KiB/s is not");
	ok(explain_negligible(0.3, "pct") && !explain_negligible(2, "pct"), "0.3%% is negligible, 2%% is not");
	return done_testing();
}
