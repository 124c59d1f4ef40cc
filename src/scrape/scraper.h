/* The scraper framework: one scraper per /proc or /sys source.
 *
 * A scraper is one file, src/scrape/<name>.c, named after what it reads (as
 * netdata names its collectors), defining `const struct scraper_ops
 * <name>_scraper`, plus one row in SCRAPERS() below.  Every tick the
 * collector calls ops->scrape, which reads under s->root (procfs.h) and
 * appends rows.  Counter sources keep the previous reading in s->priv to
 * store rates, with the reset rules of counter.h.
 */
#ifndef KS_SCRAPER_H
#define KS_SCRAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

struct batch;

#define SCRAPERS(X) \
	X(meminfo) \
	X(loadavg) \
	X(stat) \
	X(diskstats) \
	X(net_dev) \
	X(net_tcp) \
	X(net_snmp) \
	X(pressure) \
	X(vmstat)

enum scraper_id {
#define X(name) SCRAPER_##name,
	SCRAPERS(X)
#undef X
	SCRAPER_COUNT
};

struct scraper;

struct scraper_ops {
	const char *name;             /* config key and collector_stats name */
	const char *summary;
	size_t priv_size;
	/* Appends this tick's rows; returns rows added or a negative errno
	 * (the collector records the error and keeps going). */
	int (*scrape)(struct scraper *s, struct batch *b, int64_t now_ns);
	void (*destroy)(struct scraper *s);   /* optional */
	/* Optional, run once by scraper__open: a negative errno means the
	 * source cannot exist on this system (kernel built without it); the
	 * scraper is then disabled with s->reason saying why. */
	int (*probe)(struct scraper *s);
	/* Default of scrapers.<name>.interval: how often the agent runs it
	 * (0: every tick).  For sources whose reading costs more than the
	 * change it records is worth each tick (net_tcp). */
	int64_t interval_ns;
};

struct scraper {
	const struct scraper_ops *ops;
	const char *root;             /* filesystem prefix, "" for the live system */
	void *priv;
	bool enabled;
	enum source_state state;      /* SOURCE_ON exactly when enabled, else the kind of reason */
	char reason[200];             /* disabled: why; enabled: why the last read failed, or "" */
	uint64_t rows, rows_total;    /* per interval / since start */
	uint64_t errors, errors_total;
	double cost_ms;
	/* The clock intervals and rates are measured on, during a scrape:
	 * CLOCK_MONOTONIC in the agent, so that a step of the wall clock does
	 * not turn into a rate; the test's now_ns under scraper__run(). */
	int64_t mono_ns;
	/* Run on one tick in every_ticks (0 or 1: every tick); ticks_left
	 * counts down the ticks still to skip. */
	uint32_t every_ticks, ticks_left;
};

extern const struct scraper_ops *const scraper_table[SCRAPER_COUNT];

int scraper_find(const char *name);
/* Sets up s for source id reading under root.  Returns 0, or a negative
 * errno with s disabled, s->reason filled and s->state SOURCE_OFF_MISSING
 * (the probe says the source cannot exist here) or SOURCE_OFF_FAILED (s must
 * still be destroyed). */
int scraper__open(struct scraper *s, enum scraper_id id, const char *root);
/* Runs one scrape at wall-clock time now_ns (the rows' timestamp) and
 * monotonic time mono_ns (what intervals are measured on), counting rows
 * and errors.  With s->every_ticks > 1 only the first call of every
 * every_ticks does anything (the others add no row and cost nothing). */
void scraper__run_at(struct scraper *s, struct batch *b, int64_t now_ns, int64_t mono_ns);
/* scraper__run_at() with one clock for both (tests with made-up times). */
void scraper__run(struct scraper *s, struct batch *b, int64_t now_ns);
void scraper__end_interval(struct scraper *s);
void scraper__destroy(struct scraper *s);

#endif
