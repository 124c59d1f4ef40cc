/* Retention: rollups, age limits and the byte cap, in small steps.
 *
 * The writer thread (writer.h) owns the read-write connection; between
 * batches it calls retention__step(), which does one bounded piece of work
 * in its own short transaction and returns, so a tick is never held up by
 * more than one step (about 20 ms at most; the delete batch adapts):
 *
 *   1. roll one table's next complete minute of raw rows into <t>_1m, or
 *      its next complete hour of minute rows into <t>_1h (rollup.h);
 *   2. delete rows past their tier's age (retention.raw, .minute, .hour;
 *      records as long as the hour tier), a few thousand at a time through
 *      the timestamp index, never raw rows that are not rolled up yet;
 *   3. over the byte cap, delete the oldest rows first: raw (already rolled
 *      up), then minute rollups, then hour rollups and records;
 *   4. give freed pages back to the filesystem (incremental vacuum) when
 *      over the cap or when much of the file is free.
 *
 * Age is judged by a clock that advances with CLOCK_MONOTONIC but never
 * runs ahead of the wall clock: a wall clock stepped back makes it wait
 * (nothing is deleted early), one stepped forward does not make it jump
 * (rows are not deleted because of a wrong date).  Timestamps stay wall
 * clock.
 */
#ifndef KS_RETENTION_H
#define KS_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* Default cap: this, or 10% of the filesystem, whichever is smaller. */
#define RETENTION_CAP_MAX (2LL << 30)
/* A minute is rolled up this long after it ends (late rows of a tick). */
#define RETENTION_MARGIN_NS (10 * 1000000000LL)

struct retention_config {
	int64_t raw_ns, minute_ns, hour_ns;   /* how long each tier is kept */
	uint64_t max_bytes;                   /* 0: min(RETENTION_CAP_MAX, 10% of the filesystem) */
	/* The clock ages are judged by: returns CLOCK_REALTIME ns and sets
	 * *ret_mono to CLOCK_MONOTONIC ns.  NULL: the system's.  Tests and
	 * benchmarks simulate time with it. */
	int64_t (*clock)(void *ctx, int64_t *ret_mono);
	void *clock_ctx;
};

struct retention_stats {
	uint64_t rows_pruned;         /* since open */
	uint64_t rows_rolled_up;      /* rollup rows written */
	uint64_t bytes_freed;         /* file bytes given back to the filesystem */
	uint64_t steps;
	double ms, step_ms_max;       /* time in steps, the longest one */
	double rollup_ms, prune_ms, vacuum_ms;   /* of which rolling up, deleting, giving pages back */
	int64_t cap_bytes;            /* the cap in force now (configured, or lowered when the filesystem is nearly full) */
	int64_t db_bytes;             /* file and WAL at the last check */
	int64_t minute_mark, hour_mark;   /* rollups are complete before these (the oldest table's) */
	double convert_ms;            /* > 0: open turned on incremental vacuum with a VACUUM that took this long */
	int last_error;
	char last_error_msg[STORE_ERR_MAX];
};

struct retention;

/* Prepares retention on s, open read-write: loads the rollup marks, sets
 * WAL limits that fit the cap, and turns an older file without incremental
 * vacuum into one (a VACUUM: as long as rewriting the file takes; if that
 * fails, for lack of space say, retention still runs but the file shrinks
 * only by reuse).  s must outlive the retention; after this only the
 * thread calling retention__step may use s.  *ret owns the state; free it
 * with retention__close(). */
int retention__open(struct store *s, const struct retention_config *cfg, struct retention **ret, char *err);

/* Does at most one piece of work.  Returns 1 when it did something (call
 * again soon), 0 when there is nothing to do for *ret_wait_ns (by the
 * retention's clock; new rows may make work sooner), or a negative errno
 * (err filled; call again later). */
int retention__step(struct retention *r, int64_t *ret_wait_ns, char *err);

void retention__stats(const struct retention *r, struct retention_stats *ret);

/* NULL is fine.  Returns NULL. */
struct retention *retention__close(struct retention *r);

#endif
