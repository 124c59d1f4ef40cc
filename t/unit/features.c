/* Feature engineering and baselines against known truth: rolling
 * statistics equal brute force on random data, counter rates follow the
 * reset rules, a trend's slope is a line's slope, exact baselines of known
 * values, online baselines converge to the distribution they are fed, and
 * the time-of-day profile round-trips through its JSON. */
#include <stdlib.h>

#include "../../src/detect/baseline.h"
#include "../../src/detect/features.h"
#include "../lib/tap.h"

static double brute_median(const double *v, int n)
{
	double s[1000];

	memcpy(s, v, n * sizeof(double));
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && s[j - 1] > s[j]; j--) {
			double t = s[j];

			s[j] = s[j - 1];
			s[j - 1] = t;
		}
	return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

static double gauss(void)
{
	double u1 = (rand() + 1.0) / (RAND_MAX + 2.0), u2 = (rand() + 1.0) / (RAND_MAX + 2.0);

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

int main(void)
{
	struct rolling *r = rolling__new(50);
	struct rolling_stats st;
	double v[2000], dev[50] = { 0 }, rate, slope;
	int bad_med = 0, bad_mad = 0, bad_mean = 0;
	struct counter_rate c = { 0 };
	struct trend tr;
	struct baseline b;

	plan(24);
	srand(7);
	for (int i = 0; i < 2000; i++) {
		/* Ties and repeats too: a quarter of the values are small integers. */
		v[i] = i % 4 ? gauss() * 10 : (double)(rand() % 3);
		rolling__update(r, v[i], &st);
		int lo = i >= 49 ? i - 49 : 0, n = i - lo + 1;
		double med = brute_median(v + lo, n), mean = 0;

		for (int k = 0; k < n; k++) {
			dev[k] = fabs(v[lo + k] - med);
			mean += v[lo + k] / n;
		}
		bad_med += fabs(st.median - med) > 1e-9;
		bad_mad += fabs(st.mad - brute_median(dev, n)) > 1e-9;
		bad_mean += fabs(st.mean - mean) > 1e-6;
	}
	is(bad_med, 0, "rolling median equals brute force over 2000 samples (window 50)");
	is(bad_mad, 0, "rolling MAD equals brute force");
	is(bad_mean, 0, "rolling mean equals brute force");
	is(st.n, 50, "the window holds 50 samples");
	rolling__free(r);

	ok(!counter_rate__update(&c, 100, 1000000000, &rate), "counter: first reading has no rate");
	ok(counter_rate__update(&c, 300, 3000000000, &rate) && rate == 100, "200 in 2 s is 100/s (%g)", rate);
	ok(!counter_rate__update(&c, 50, 4000000000, &rate), "a counter that went down is a reset: unknown");
	ok(counter_rate__update(&c, 60, 5000000000, &rate) && rate == 10, "and the next reading has a rate again");
	ok(!counter_rate__update(&c, 70, 5000000000, &rate), "no time passed: unknown");

	trend__init(&tr, 60LL * 1000000000);
	{
		int early = 0;
		bool got;

		for (int i = 0; i < 30; i++)
			early += trend__update(&tr, (int64_t)i * 1000000000, 500 - 3.0 * i, &slope);
		is(early, 0, "trend: no slope before half the 60 s span is covered");
		got = trend__update(&tr, 30LL * 1000000000, 500 - 90, &slope);
		ok(got && fabs(slope + 3) < 1e-9, "a line falling 3 per second has slope -3 (%g)", slope);
	}
	for (int i = 31; i < 200; i++)
		trend__update(&tr, (int64_t)i * 1000000000, 100 + 0.5 * i, &slope);
	within(slope, 0.5 - 1e-9, 0.5 + 1e-9, "after the line turns, the 60 s window sees only the new slope");

	{
		double vals[1001];
		int64_t ts[1001];

		for (int i = 0; i < 1001; i++) {
			vals[(i * 7919) % 1001] = i + 1;        /* 1..1001 shuffled */
			ts[i] = (int64_t)i * 1000000000;
		}
		baseline__from_values(&b, vals, ts, 1001, 0);
		is(b.median, 501, "exact baseline: median of 1..1001 is 501");
		is(b.mad, 250, "MAD is 250");
		within(b.p05, 51 - 1e-9, 51 + 1e-9, "p05 is 51");
		within(b.p95, 951 - 1e-9, 951 + 1e-9, "p95 is 951");
		ok(!baseline__has_profile(&b), "17 minutes of data: no time-of-day profile");
	}

	{
		/* Online, with decay: Gaussian(100, 10) for 3 hours of 1 s
		 * samples, and a different level in hour 2 for the profile. */
		double hourly_ok;
		char json[2048];
		struct baseline back;
		bool hourly;

		baseline__init(&b, 86400, 0);
		for (int i = 0; i < 4 * 3600; i++)
			baseline__update(&b, (int64_t)i * 1000000000, (i / 3600 == 2 ? 200 : 100) + 10 * gauss());
		within(b.median, 97, 110, "online median of 3 hours at 100 and 1 at 200 is about 100 (%g)", b.median);
		hourly_ok = baseline__usual(&b, 2LL * 3600 * 1000000000 + 5, &hourly);
		ok(hourly && fabs(hourly_ok - 200) < 3, "hour 2's usual value is its own median, about 200 (%g)", hourly_ok);
		hourly_ok = baseline__usual(&b, 3LL * 3600 * 1000000000 + 5, &hourly);
		ok(hourly && fabs(hourly_ok - 100) < 3, "hour 3's is about 100 (%g)", hourly_ok);
		within(b.mad, 5, 12, "the online MAD is near the Gaussian's 6.7 within each hour, widened by the mix (%g)", b.mad);
		ok(baseline__profile_json(&b, json, sizeof(json)) > 0 && baseline__profile_parse(&back, json) == 0 &&
		   fabs(back.hours[2].median - b.hours[2].median) < 1e-6 * b.hours[2].median &&
		   back.hours[5].n == 0, "the profile round-trips through JSON: %.60s...", json);
	}

	{
		/* Stored profiles come from the database: whatever is there,
		 * parsing must refuse it cleanly.  An entry cut short used to
		 * leave the %n of its sscanf unset, and the parser stepped by
		 * an uninitialised length (the agent crashed at start). */
		static const char *const bad[] = {
			"[[1,1,1,1", "[[1,1,1,1]", "[[1,1,1,1],[2,2,2", "[[24,1,1,1]]", "[[-1,1,1,1]]",
			"[[1,-5,1,1]]", "[[1,nan,1,1]]", "[[1,1,inf,1]]", "[[1,1,1,-inf]]", "[x]",
		};
		struct baseline back;
		int refused = 0, cleared = 0;

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			memset(&back, 0x55, sizeof(back));
			refused += baseline__profile_parse(&back, bad[i]) == -EINVAL;
			cleared += back.hours[1].n == 0 && back.hours[1].median == 0 && back.hours[2].p95 == 0;
		}
		is(refused, sizeof(bad) / sizeof(bad[0]), "malformed stored profiles are refused (cut short, bad hour, "
		   "negative count, not finite)");
		is(cleared, sizeof(bad) / sizeof(bad[0]), "... and leave no hour set");
	}
	return done_testing();
}
