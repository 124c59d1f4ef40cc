/* Baselines in the database: the latest snapshot of every metric.
 *
 * The `baselines` table is append-only (the agent adds a snapshot every
 * detect.save_every, `ksight baseline learn` adds one per run); the
 * current baseline of a metric is its newest row, whoever wrote it.
 */
#ifndef KS_BASELINE_DB_H
#define KS_BASELINE_DB_H

#include <stdint.h>

#include "../detect/baseline.h"
#include "../store/store.h"

struct baseline_row {
	int64_t saved_ns;               /* the row's timestamp */
	const char *metric, *source, *unit;
	const char *profile;            /* JSON or NULL */
	struct baseline bl;             /* statistics and hours; online state empty */
};

/* Calls fn for the newest row of every metric, by metric name; a non-zero
 * return stops and is returned.  Strings are valid during the call only.
 * A database without the table (older than schema v2) has no baselines:
 * returns 0 without calling fn. */
int baseline_db__latest(struct store *s, int (*fn)(void *ctx, const struct baseline_row *row), void *ctx,
			char *err);

#endif
