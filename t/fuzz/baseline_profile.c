/* Fuzz target: the baseline profile text (src/detect/baseline.c), the JSON
 * [[hour, samples, median, p95], ...] the agent stores in the baselines
 * table and reads back at start (src/analysis/baseline_db.c).
 *
 * Input: the stored text.  A profile that parses must make a baseline whose
 * readers work, and whose profile written again parses to the same hours. */
#include "../../src/detect/baseline.h"
#include "../lib/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size), out[4096];
	struct baseline b, back;
	int len;

	memset(&b, 0, sizeof(b));
	b.n = BASELINE_MIN_SAMPLES;          /* ready, so the readers look at the hours */
	if (baseline__profile_parse(&b, text)) {
		for (int h = 0; h < 24; h++)
			if (b.hours[h].n || b.hours[h].median || b.hours[h].p95)
				fuzz_die("a refused profile left hour %d set", h);
		free(text);
		return 0;
	}
	for (int64_t ts = 0; ts < 86400LL * 1000000000; ts += 3600LL * 1000000000) {
		bool hourly;

		baseline__usual(&b, ts, &hourly);
	}
	len = baseline__profile_json(&b, out, sizeof(out));
	if (len > 0) {
		memset(&back, 0, sizeof(back));
		if (baseline__profile_parse(&back, out))
			fuzz_die("the profile written back does not parse: %s", out);
		if (!baseline__has_profile(&back))
			fuzz_die("the profile written back lost its hours: %s", out);
	}
	free(text);
	return 0;
}
