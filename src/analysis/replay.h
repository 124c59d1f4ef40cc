/* Replays stored rows in tick order, as the agent saw them live.
 *
 * Baseline learning, the feature export and the report judge stored data
 * with the same extractor and detectors the agent runs on live batches
 * (src/detect/extract.h, watch.h).  replay__run reads the extractor's
 * tables between two times in one query ordered by timestamp and calls
 * on_row for every row (columns in schema order) and on_tick for the end
 * of every tick.  A tick is the rows sharing one timestamp (the collector
 * stamps a tick's rows with one time); event rows (process_events,
 * syscall_events) belong to the first tick at or after them.
 */
#ifndef KS_REPLAY_H
#define KS_REPLAY_H

#include <stdint.h>

#include "../store/rollup.h"
#include "../store/store.h"

struct replay_cb {
	void (*on_row)(void *ctx, enum table_id t, const struct batch_value *v);
	void (*on_tick)(void *ctx, int64_t ts_ns);
	void *ctx;
};

/* Replays rows with from_ns <= timestamp <= to_ns.  Returns 0, or a
 * negative errno with the reason in err (STORE_ERR_MAX bytes). */
int replay__run(struct store *s, int64_t from_ns, int64_t to_ns, const struct replay_cb *cb, char *err);

/* As replay__run, reading the tier that still holds the range: raw rows
 * where they remain, then per-minute rollups where raw rows were pruned,
 * per-hour rollups before those (a rollup row is one tick at the start
 * of its period; event tables, whose rollups are counts, replay raw rows
 * only).  *ret_tier is the coarsest tier read. */
int replay__run_tiered(struct store *s, int64_t from_ns, int64_t to_ns, const struct replay_cb *cb,
		       enum tier *ret_tier, char *err);

/* The first and last timestamps of the per-tick tables (memory_metrics,
 * load_metrics, cpu_metrics); -ENOENT when there are none. */
int replay__span(struct store *s, int64_t *ret_first, int64_t *ret_last, char *err);

#endif
