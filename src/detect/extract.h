/* Per-metric samples from the rows of one tick.
 *
 * The agent's tables hold many columns per row; detection and baselines
 * want one number per metric per tick.  The extractor reads a tick's rows
 * (live from the batch the collector built, or replayed from the database
 * in the same order, see src/analysis/replay.h) and emits named samples.
 * Pure: no I/O, time passed in.
 *
 * Naming: family.quantity_unit{label=value}, e.g.
 *     io.read_p95_us{device=vda}   net.rx_bytes_per_s{iface=eth0}
 *     mem.available_kb             psi.some_pct{resource=io}
 * The family (before the dot) plus the label is the metric's group for
 * correlation: every metric of one disk is one group.  Cardinality is
 * bounded: at most EXTRACT_MAX_LABELS disks and as many interfaces (the
 * first seen; later ones are counted in extract->labels_dropped), and the
 * metric list is fixed (docs/detection.md lists it).
 *
 * Where a table already stores a rate or a per-interval count, it is used
 * as is; cumulative counters are turned into rates here (features.h).
 * Values the kernel did not give (NULL: no I/O completed, so no latency)
 * give no sample: a missing latency is not a zero latency.
 */
#ifndef KS_EXTRACT_H
#define KS_EXTRACT_H

#include <stdbool.h>
#include <stdint.h>

#include "../store/batch.h"
#include "features.h"

#define EXTRACT_MAX_LABELS 8
/* tracers.syscall.slow_threshold's default (see syscall_slow_ns below). */
#define EXTRACT_SYSCALL_SLOW_NS 10000000
#define EXTRACT_NAME_MAX 96

struct metric_sample {
	int64_t ts;
	const char *name;       /* "io.read_p95_us{device=vda}" */
	const char *group;      /* "io{device=vda}" */
	const char *unit;       /* us, ms, pct, per_s, B/s, kB, kB/s, or "" (a count) */
	const char *what;       /* in words: "read p95 on vda" */
	double value;
};

typedef void (*extract_sample_fn)(void *ctx, const struct metric_sample *s);

/* The tables the extractor reads, in the order it wants them within a
 * tick (aggregate tables first, then event tables). */
extern const enum table_id extract_tables[];
extern const unsigned extract_ntables;

/* True for tables whose rows are discrete events (counted per tick) rather
 * than one row per tick and key. */
bool extract_is_event_table(enum table_id t);

struct extract {
	extract_sample_fn fn;
	void *ctx;
	/* syscall.slow_per_s counts the syscall_events rows whose latency,
	 * less the time asleep by choice (sleep_ns), is at least this: a
	 * read waiting 100 s for input is not a slow call. */
	int64_t syscall_slow_ns;
	int64_t prev_tick;                      /* 0 before the first tick */
	/* Subtracted from every row's timestamp: the wall clock's steps since
	 * the start (watch__clock_step), so that rates and seasons run on. */
	int64_t ts_shift;
	/* labels seen */
	char devices[EXTRACT_MAX_LABELS][32];
	char ifaces[EXTRACT_MAX_LABELS][32];
	unsigned ndevices, nifaces;
	uint64_t labels_dropped;
	/* per tick sums */
	uint64_t syscalls, syscall_errors, slow_syscalls, execs, exits;
	bool have_syscall_stats;
	/* state */
	struct counter_rate attempt_fails, estab_resets, in_errs, active_opens;
	struct trend available;
	uint64_t samples;                       /* emitted in all */
	struct batch_cols cols[T_COUNT];        /* the columns read, per table read */
};

/* Sets x up to call fn(ctx, sample) for every sample; syscall_slow_ns
 * starts at EXTRACT_SYSCALL_SLOW_NS (the caller may change it). */
void extract__init(struct extract *x, extract_sample_fn fn, void *ctx);

/* One row of table t; v holds its columns in schema order (schema.h). */
void extract__row(struct extract *x, enum table_id t, const struct batch_value *v);

/* Ends the tick at ts_ns: emits the samples that sum over the tick. */
void extract__end_tick(struct extract *x, int64_t ts_ns);

/* Feeds every row of every table the extractor reads from b, then ends
 * the tick at now_ns. */
void extract__batch(struct extract *x, const struct batch *b, int64_t now_ns);

#endif
