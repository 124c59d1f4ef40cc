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

#include "../store/batch.h"
#include "snapshot.h"

struct collector;
struct prom;

/* What /metrics carries from one tick to the next; zeroed by the owner,
 * freed with metrics_state__free.
 *  - value: per-interval deltas of the scraped tables summed since the
 *    start (so they can be exposed as counters);
 *  - held: the newest rows of each table the families read.  A scraper
 *    that runs every Nth tick (scrapers.net_tcp every 10 s) fills its
 *    table one tick in N; its families stay on /metrics in between (a
 *    scrape must not find them missing), for up to two of its gaps and a
 *    tick, so that a scraper that stops takes them away. */
#define METRICS_SUMS_MAX 32
struct metrics_state {
	uint64_t value[METRICS_SUMS_MAX];
	struct batch held;
	uint64_t ticks;                     /* batches seen */
	uint64_t held_tick[T_COUNT];        /* the tick its rows in held are from */
	uint64_t gap[T_COUNT];              /* ticks between its last two fills; 0: one fill so far */
};

void metrics_state__free(struct metrics_state *st);

/* Adds the tick's scraped rows in b (NULL: none) to st, and appends the
 * families built from the rows st holds to p (NULL: only adds). */
void metrics_scraped(struct prom *p, const struct batch *b, struct metrics_state *st);

/* Appends every family for snapshot s (whose collector fields are already
 * filled) of collector c and batch b. */
void metrics_render(struct prom *p, struct collector *c, const struct batch *b, const struct snapshot *s,
		    struct metrics_state *st);

#endif
