/* The HTML report of a capture: one self-contained file.
 *
 * report__write() reads a time range of the database and writes
 * DIR/index.html: the chart library (uPlot, built into the binary) and its
 * styles inlined, the data as one JSON document in the page, and a small
 * script that draws the views of the seed system's exploratory analysis
 * (event counts per type, syscall latency and the slowest syscalls, page
 * faults by type, I/O latency percentiles per disk, run-queue latency,
 * memory, load, block and network throughput, TCP states and retransmits,
 * process activity) plus CPU and pressure, with anomalies marked on the
 * charts of their metric and listed, and leak suspects when the
 * memory_growth_events table exists.  It opens offline, from a file.
 *
 * Anomalies come from the `anomalies` table; when the range has none (a
 * capture from `ksight run`, or detection was off), the report replays
 * the range through the agent's detectors (src/detect/watch.h) and marks
 * what they find, saying so.  Time series are averaged or maxed into at
 * most about 720 buckets.
 */
#ifndef KS_REPORT_H
#define KS_REPORT_H

#include <stdint.h>

#include "../store/store.h"

struct report_stats {
	unsigned charts, tables;
	uint64_t points;                /* non-null values over every chart series */
	uint64_t anomalies;
	bool replayed;                  /* anomalies found by replaying the range */
	int64_t bytes;                  /* size of index.html */
};

/* Writes dir/index.html (dir must exist) for [from_ns, to_ns] of s.
 * Returns 0 or a negative errno with err (STORE_ERR_MAX bytes) filled. */
int report__write(struct store *s, int64_t from_ns, int64_t to_ns, const char *dir,
		  struct report_stats *ret, char *err);

#endif
