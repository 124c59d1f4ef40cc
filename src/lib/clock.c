/* Clock reads and the monotonic-to-wall-clock offset (see clock.h). */
#include "clock.h"

#include <time.h>

static int64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

int64_t clock_real_ns(void) { return read_ns(CLOCK_REALTIME); }
int64_t clock_mono_ns(void) { return read_ns(CLOCK_MONOTONIC); }

int64_t clock_mono_to_real_offset(void)
{
	int64_t best_width = INT64_MAX, best = 0;

	for (int i = 0; i < 8; i++) {
		int64_t m1 = read_ns(CLOCK_MONOTONIC);
		int64_t r = read_ns(CLOCK_REALTIME);
		int64_t m2 = read_ns(CLOCK_MONOTONIC);

		if (m2 - m1 < best_width) {
			best_width = m2 - m1;
			best = r - (m1 + (m2 - m1) / 2);
		}
	}
	return best;
}
