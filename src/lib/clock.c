/* Clock reads, the monotonic-to-wall-clock offset and wall-clock steps
 * (see clock.h). */
#include "clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The test shift of the wall clock (ns); 0 outside tests. */
static _Atomic int64_t test_shift_ns;

static int64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static int64_t read_real(void)
{
	return read_ns(CLOCK_REALTIME) + atomic_load_explicit(&test_shift_ns, memory_order_relaxed);
}

int64_t clock_real_ns(void) { return read_real(); }
int64_t clock_mono_ns(void) { return read_ns(CLOCK_MONOTONIC); }

int64_t clock_mono_to_real_offset(void)
{
	int64_t best_width = INT64_MAX, best = 0;

	for (int i = 0; i < 8; i++) {
		int64_t m1 = read_ns(CLOCK_MONOTONIC);
		int64_t r = read_real();
		int64_t m2 = read_ns(CLOCK_MONOTONIC);

		if (m2 - m1 < best_width) {
			best_width = m2 - m1;
			best = r - (m1 + (m2 - m1) / 2);
		}
	}
	return best;
}

/* $KSIGHT_TEST_CLOCK_FILE: whole seconds to add to the wall clock. */
static void read_test_shift(void)
{
	const char *path = getenv("KSIGHT_TEST_CLOCK_FILE");
	long long s;
	FILE *f;

	if (!path || !path[0] || !(f = fopen(path, "re")))
		return;
	if (fscanf(f, "%lld", &s) == 1 && s > -(1LL << 32) && s < (1LL << 32))
		atomic_store_explicit(&test_shift_ns, s * NSEC_PER_SEC, memory_order_relaxed);
	fclose(f);
}

int64_t clock_steps__check(struct clock_steps *s)
{
	int64_t offset, mono, step, slew;

	read_test_shift();
	offset = clock_mono_to_real_offset();
	mono = clock_mono_ns();
	if (!s->checked_mono_ns) {
		s->offset_ns = offset;
		s->checked_mono_ns = mono;
		return 0;
	}
	step = offset - s->offset_ns;
	slew = (mono - s->checked_mono_ns) / 2000 + CLOCK_STEP_MIN_NS;   /* 500 ppm + margin */
	s->offset_ns = offset;
	s->checked_mono_ns = mono;
	if (step <= slew && step >= -slew)
		return 0;
	s->steps++;
	s->total_ns += step;
	s->last_step_ns = step;
	s->last_at_ns = mono + offset;
	return step;
}
