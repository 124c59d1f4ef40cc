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
 * SCHEMA_VERSION.
 */
#ifndef KS_SCHEMA_H
#define KS_SCHEMA_H

/* Stored in PRAGMA application_id: marks a file as a KernelSight database. */
#define SCHEMA_APPLICATION_ID 0x4b53474e /* "KSGN" */
#define SCHEMA_VERSION 2

enum col_type { COL_INT, COL_REAL, COL_TEXT };

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
	T_RUN_PROCESSES,
	T_RUNS,
	T_COUNT
};

extern const struct table schema_tables[T_COUNT];

/* Returns the table called name, or NULL. */
const struct table *schema_find(const char *name);

#endif
