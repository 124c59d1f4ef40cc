/* Rollup tiers: what becomes of rows as they age.
 *
 * Every table of schema.h belongs to one class:
 *
 *   metrics   per-tick tables (memory_metrics, syscall_stats, ...): kept raw
 *             for retention.raw, and rolled up into <table>_1m (one row per
 *             minute and key) and <table>_1h (per hour, from the minute rows).
 *   events    one row per event (process_events, syscall_events, ...): kept
 *             raw for retention.raw; <table>_1m and _1h count them per
 *             type and per command (the ROLLUP_TOP_COMMS busiest of the
 *             period, the rest as '(other)'), with latency sum and maximum.
 *   raw only  agent_cycles, baselines: retention.raw, no rollups (the newest
 *             baseline of each metric always stays).
 *   records   findings and audit trail (anomalies, agent_actions,
 *             memory_growth_events, runs, run_processes, boots): kept as long as
 *             the per-hour tier.
 *
 * A rollup table starts with the source table's columns, under the same
 * names, each holding its natural aggregate over the period: the mean of a
 * level (load1), the sum of a per-interval count (syscall_stats.count), the
 * last reading of a cumulative counter (block_stats.read_ios), the maximum
 * of a maximum, a ratio recomputed from its summed terms, and percentiles
 * read from the period's merged histogram (histblob.h), never averaged.
 * Then `samples` (source rows folded in) and the spread: X_min and X_max of
 * levels, X_max (the busiest interval) of counts, X_min (first reading) of
 * counters.  So a query written for the raw table runs on a rollup table
 * by changing its name, and readers that need exact merges use samples.
 *
 * Rollup SQL is generated here from a short declaration per table; the
 * retention engine (retention.h) runs it, readers plan which tier to read
 * with rollup__plan() and read several tiers as one with rollup__from().
 */
#ifndef KS_ROLLUP_H
#define KS_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/buf.h"
#include "schema.h"

struct store;

enum tier { TIER_RAW, TIER_MINUTE, TIER_HOUR, TIER_COUNT };

enum rollup_class { ROLLUP_METRICS, ROLLUP_EVENTS, ROLLUP_RAW_ONLY, ROLLUP_RECORDS };

/* Commands kept by name per period in event and per-process rollups. */
#define ROLLUP_TOP_COMMS 16
/* Name under which the rest are summed. */
#define ROLLUP_OTHER "(other)"

/* Length of a period of the tier: 60 s, 3600 s (0 for raw). */
int64_t tier__period_ns(enum tier tier);
/* "raw", "1m", "1h" */
const char *tier__name(enum tier tier);

enum rollup_class rollup__class(enum table_id t);

/* The rollup table of t at tier (TIER_MINUTE or TIER_HOUR); NULL when t
 * has none (raw only, records) or tier is TIER_RAW.  Lives as long as the
 * program. */
const struct table *rollup__table(enum table_id t, enum tier tier);

/* Every rollup table (for migration and `ksight schema`), *ret_n of them,
 * in schema order, minute before hour. */
const struct table *const *rollup__tables(size_t *ret_n);

/* Rolls the tier below into tier for one period: "INSERT INTO <t>_1m ...
 * SELECT ... WHERE timestamp >= ?1 AND timestamp < ?2 GROUP BY period,
 * keys".  ?1 and ?2 must be period boundaries. */
const char *rollup__insert_sql(enum table_id t, enum tier tier);

/* For tables that keep the busiest commands only (rollup__folds()): the
 * statements that fold the rest of the rows of one period into '(other)',
 * run in order with ?1, ?2 the period: collect the row ids into
 * temp.ks_fold, insert their merge, delete them.  NULL otherwise. */
bool rollup__folds(enum table_id t);
const char *rollup__fold_sql(enum table_id t, enum tier tier, int step);
#define ROLLUP_FOLD_STEPS 4
/* Created once per connection before folding. */
#define ROLLUP_FOLD_TEMP "CREATE TEMP TABLE IF NOT EXISTS ks_fold (id INTEGER PRIMARY KEY)"

/* Name of the table holding how far each tier table is complete. */
#define ROLLUP_MARKS "rollup_marks"
#define ROLLUP_MARKS_SQL \
	"CREATE TABLE IF NOT EXISTS " ROLLUP_MARKS " (name TEXT PRIMARY KEY, through_ns INTEGER NOT NULL)"

/* --- Reading across tiers --- */

/* Which rows of a table serve a reader: rows with timestamp below
 * hour_until from the hour table, in [hour_until, minute_until) from the
 * minute table, the rest raw.  Splits fall on period boundaries, so no
 * time is counted twice. */
struct tier_plan {
	enum tier tier;               /* the tier that fits the step */
	int64_t hour_until, minute_until;
	/* For a minute-tier plan that reads minute rows: the oldest minute
	 * row's time, INT64_MAX otherwise.  Minute rows below the minute mark
	 * only go, oldest first (as for the hour tier, struct hour_version),
	 * so every one after this time is there while it stays before it. */
	int64_t minute_first;
};

/* Plans a read of [since, until) of t at resolution step_ns: the coarsest
 * tier whose period is at most step_ns, coarser where the finer one has
 * already been pruned, raw where rollups are not complete yet (the last
 * minutes).  A table without rollups, or a database without them (an
 * older one, or `ksight run`'s) reads raw.  Returns 0 or a negative errno
 * (err filled). */
int rollup__plan(struct store *s, enum table_id t, int64_t since, int64_t until, int64_t step_ns,
		 struct tier_plan *ret, char *err);

/* What a reader caching values computed from the closed hours of t
 * (rows of t's hour table below its mark) compares to know they still
 * hold.  Rollups only add (and fold) rows of the hour past the mark, in
 * the transaction that moves it, so an hour's rows have larger rowids
 * than every earlier hour's; below the mark rows only go, when retention
 * prunes the oldest (by age or by the cap, from the oldest timestamp on),
 * and the first row pruned is the one with the smallest rowid.  So while
 * both fields are unchanged, every row below the mark is still there.
 * Zero for a table without an hour tier or with an empty one. */
struct hour_version {
	int64_t first_rowid, first_ns;
};

/* Fills *ret for t's hour table.  Returns 0 or a negative errno (err
 * filled). */
int rollup__hour_version(struct store *s, enum table_id t, struct hour_version *ret, char *err);

/* Appends to sql a parenthesised relation over t in the shape of its
 * rollup tables with the columns cols (NULL-terminated; "timestamp" comes
 * first by itself): the hour rows in [since, hour), minute rows in
 * [hour, minute) and raw rows, each presented as a rollup of one row
 * (samples 1, X_min = X_max = X ...), in [minute, until).  The bounds
 * are SQL expressions: parameters ("?4") for the caller to bind with a
 * tier_plan's splits, or numbers.  Asserts that t has rollups and that
 * every column exists. */
void rollup__from(struct buf *sql, enum table_id t, const char *const *cols, const char *since, const char *until,
		  const char *hour, const char *minute);

/* True when the rollup tables of t have a column called name. */
bool rollup__has_column(enum table_id t, const char *name);

#endif
