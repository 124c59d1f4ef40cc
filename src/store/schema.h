/* The database schema, declared once.
 *
 * Every table KernelSight writes is described here: its columns, their types
 * and one line of documentation each.  The store creates missing tables and
 * adds missing columns from these declarations (see store.c), batches encode
 * rows in exactly this column order, and `ksight schema` prints the docs.
 *
 * Conventions: the first column of every table is `timestamp`, ns since the
 * Unix epoch.  Every table has an index on timestamp and nothing else until a
 * query plan asks for more.  Changing a declaration means bumping
 * SCHEMA_VERSION.  BLOB columns hold latency histograms (histblob.h).
 *
 * Version 2 added the slow-call split (syscall_events oncpu_ns, runq_ns,
 * blocked_ns, sleep_ns); version 3 the histogram columns, the rollup tiers
 * (rollup.h) and the boots table; version 4 the overhead budget's columns
 * (collector_stats state, sample_factor, overhead_pct; syscall_stats
 * timed); version 5 the (pid, timestamp) indexes of schema_indexes.  Older
 * files are migrated on open: missing tables, columns and indexes are added.
 */
#ifndef KS_SCHEMA_H
#define KS_SCHEMA_H

/* Stored in PRAGMA application_id: marks a file as a KernelSight database. */
#define SCHEMA_APPLICATION_ID 0x4b53474e /* "KSGN" */
#define SCHEMA_VERSION 5

enum col_type { COL_INT, COL_REAL, COL_TEXT, COL_BLOB };

struct column {
	const char *name;
	enum col_type type;
	const char *doc;
};

struct table {
	const char *name;
	const char *doc;
	const struct column *columns;
	unsigned ncolumns;
};

enum table_id {
	T_COLLECTOR_STATS,
	T_PROCESS_EVENTS,
	T_MEMORY_METRICS,
	T_LOAD_METRICS,
	T_SYSCALL_EVENTS,
	T_SYSCALL_STATS,
	T_IO_LATENCY_STATS,
	T_SCHED_EVENTS,
	T_SCHED_LATENCY_EVENTS,
	T_PROCESS_CPU_STATS,
	T_PAGE_FAULT_EVENTS,
	T_PAGE_FAULT_STATS,
	T_TCP_RETRANSMIT_EVENTS,
	T_CPU_METRICS,
	T_BLOCK_STATS,
	T_NETWORK_INTERFACE_STATS,
	T_TCP_STATS,
	T_TCP_RETRANSMIT_STATS,
	T_PRESSURE_METRICS,
	T_VMSTAT_METRICS,
	T_AGENT_ACTIONS,
	T_AGENT_CYCLES,
	T_ANOMALIES,
	T_BASELINES,
	T_MEMORY_GROWTH_EVENTS,
	T_RUN_PROCESSES,
	T_RUNS,
	T_BOOTS,
	T_COUNT
};

extern const struct table schema_tables[T_COUNT];

/* An index beyond the timestamp one, added because a reader's query plan
 * asked for it (each names the reader). */
struct schema_index {
	const char *name;
	enum table_id table;
	const char *columns;          /* "pid, timestamp" */
};

/* The per-process readers (/api/process: one pid's timeline; the start and
 * end of a process) look rows up by pid and time: (pid, timestamp) on the
 * tables they read.  Added in schema version 4. */
extern const struct schema_index schema_indexes[];
extern const unsigned schema_nindexes;

/* Returns the table called name, or NULL. */
const struct table *schema_find(const char *name);

/* Index of column `name` in t, or -1. */
int schema_column(const struct table *t, const char *name);

/* The id of table t (a pointer into schema_tables). */
static inline enum table_id schema_id(const struct table *t) { return (enum table_id)(t - schema_tables); }

#endif
