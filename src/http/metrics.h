/* /metrics: what the agent knows, in the Prometheus text format.
 *
 * Rendered once per tick in the collector thread (snapshot.c calls
 * metrics_render) and served from the snapshot, so a scrape costs a copy of
 * memory, never a database query.  Four sources:
 *
 *  - the tracers' ops->metrics: counters and histograms cumulative since the
 *    tracer started (bucket layouts in tracer.h);
 *  - the tick's scraped rows (gauges.c): gauges as the kernel reports them,
 *    the kernel's own counters as counters, per-interval deltas summed since
 *    the agent started;
 *  - the agent's health: collectors, store, its own process;
 *  - an extra hook (the HTTP server's counters).
 *
 * Label cardinality is bounded by what the host has, never by what it runs:
 * no pid, comm, address or port label.  README.md lists every family.
 */
#ifndef KS_HTTP_METRICS_H
#define KS_HTTP_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "snapshot.h"

struct batch;
struct collector;
struct prom;

/* Per-interval deltas of the scraped tables summed since the start (so they
 * can be exposed as counters); zeroed by the owner, kept between ticks. */
#define METRICS_SUMS_MAX 32
struct metrics_sums {
	uint64_t value[METRICS_SUMS_MAX];
};

/* Appends the families built from the tick's scraped rows in b (NULL: none)
 * to p; sums carries the running totals of delta columns, which p NULL only
 * updates. */
void metrics_scraped(struct prom *p, const struct batch *b, struct metrics_sums *sums);

/* Appends every family for snapshot s (whose collector fields are already
 * filled) of collector c and batch b. */
void metrics_render(struct prom *p, struct collector *c, const struct batch *b, const struct snapshot *s,
		    struct metrics_sums *sums);

#endif
