/* The RSS tracer's user-side API: what it did since it started and whom
 * it follows, for tests and the bench.  (rss.h is the contract with the
 * kernel side; this is not part of it.)
 */
#ifndef KS_RSS_TRACER_H
#define KS_RSS_TRACER_H

#include <stdbool.h>
#include <stdint.h>

struct tracer;

/* What the user side did since it started (for tests and the bench). */
struct rss_tracer_counters {
	uint64_t samples;        /* RSS_SAMPLE records */
	uint64_t jumps;          /* RSS_JUMP records */
	uint64_t exits;          /* RSS_EXIT records */
	uint64_t flushed;        /* changes picked up from the hash at a tick */
	uint64_t swept;          /* processes dropped because their state vanished */
	uint64_t rows;           /* memory_growth_events rows written */
	uint64_t tracked;        /* processes followed now */
	uint64_t detector_ns;    /* time spent in the leak detector */
};

void rss_tracer_counters(const struct tracer *t, struct rss_tracer_counters *ret);

/* True when the user side holds state for tgid. */
bool rss_tracer_tracks(const struct tracer *t, uint32_t tgid);

#endif
