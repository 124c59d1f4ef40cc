/* Cumulative kernel counters -> per-interval deltas and rates.
 *
 * Scrapers of counter sources (/proc/stat, /proc/diskstats, /proc/net/dev,
 * /proc/net/snmp, /proc/vmstat, PSI totals) keep the previous reading and
 * store what changed since.  The rules are the same everywhere:
 *
 *   - no previous reading (first tick, new device): the delta is unknown;
 *   - a counter that went down (device re-created, driver reset, a 32-bit
 *     counter that wrapped) is a reset: the delta is unknown, never negative;
 *   - an interval that is not positive (the wall clock stepped back): the
 *     rate is unknown.
 *
 * "Unknown" is -1 here and SQL NULL in the store.
 *
 * Sources with one line per named thing (disks, interfaces) keep two
 * generations of readings, this tick's and the last (struct readings).
 */
#ifndef KS_COUNTER_H
#define KS_COUNTER_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../store/batch.h"

/* now - before, or -1 when the counter went backwards. */
static inline int64_t counter_delta(uint64_t now, uint64_t before)
{
	return now >= before ? (int64_t)(now - before) : -1;
}

/* Stores v, or NULL when v is negative (unknown or absent). */
static inline void put_int(struct batch *b, int64_t v)
{
	if (v < 0)
		batch__null(b);
	else
		batch__int(b, v);
}

/* Stores delta per second over interval_ns, or NULL when either is unknown. */
static inline void put_rate(struct batch *b, int64_t delta, int64_t interval_ns)
{
	if (delta < 0 || interval_ns <= 0)
		batch__null(b);
	else
		batch__real(b, (double)delta * 1e9 / (double)interval_ns);
}

/* Stores num / den * scale, or NULL when num is unknown or den is not
 * positive (a ratio over nothing, such as await with no completed I/O). */
static inline void put_ratio(struct batch *b, int64_t num, int64_t den, double scale)
{
	if (num < 0 || den <= 0)
		batch__null(b);
	else
		batch__real(b, (double)num / (double)den * scale);
}

/* This tick's readings and the last tick's, of things that each begin with
 * their NUL-terminated name (struct disk, struct iface: name is the first
 * member).  The arrays are elements of the scraper's own type, sized and
 * grown together, and swapped at the end of a tick, so a steady set of
 * devices costs no allocation.  A zeroed struct is empty; free with
 * readings_free().
 *
 *   readings_begin(&r);
 *   for each line: d = readings_add(&r, sizeof(*d)); parse into d;
 *   for i < r.ncur: prev = readings_prev(&r, sizeof(*d), name, i); ...
 *   readings_end(&r, now_ns);
 */
struct readings {
	void *prev, *cur;
	size_t nprev, ncur, cap;
	int64_t last_ns;                /* when prev was read */
	bool have_prev;                 /* false until the first tick ended */
};

/* Starts this tick's readings (the last tick's stay in prev). */
static inline void readings_begin(struct readings *r) { r->ncur = 0; }

/* Room for one more reading of size bytes, counted in r->ncur: the slot
 * (uninitialised) or NULL when out of memory. */
static inline void *readings_add(struct readings *r, size_t size)
{
	if (r->ncur == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		void *p = realloc(r->prev, cap * size);

		if (!p)
			return NULL;
		r->prev = p;
		if (!(p = realloc(r->cur, cap * size)))
			return NULL;
		r->cur = p;
		r->cap = cap;
	}
	return (char *)r->cur + r->ncur++ * size;
}

/* The i-th reading of this tick. */
static inline void *readings_cur(const struct readings *r, size_t size, size_t i)
{
	return (char *)r->cur + i * size;
}

/* The last tick's reading named name, or NULL (first tick, new device).
 * hint is where it usually is: this tick's index, since the kernel lists
 * devices in a stable order. */
static inline const void *readings_prev(const struct readings *r, size_t size, const char *name, size_t hint)
{
	if (!r->have_prev)
		return NULL;
	if (hint < r->nprev && !strcmp((const char *)r->prev + hint * size, name))
		return (const char *)r->prev + hint * size;
	for (size_t i = 0; i < r->nprev; i++)
		if (!strcmp((const char *)r->prev + i * size, name))
			return (const char *)r->prev + i * size;
	return NULL;
}

/* Ends the tick read at now_ns: this tick's readings become the last's. */
static inline void readings_end(struct readings *r, int64_t now_ns)
{
	void *t = r->prev;

	r->prev = r->cur;
	r->cur = t;
	r->nprev = r->ncur;
	r->last_ns = now_ns;
	r->have_prev = true;
}

/* Frees both arrays and leaves r empty (ready for reuse). */
static inline void readings_free(struct readings *r)
{
	free(r->prev);
	free(r->cur);
	memset(r, 0, sizeof(*r));
}

#endif
