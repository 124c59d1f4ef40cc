/* ksight export --table: one table of the database (or a rollup tier) as
 * Parquet files in a Hive-style layout, for DuckDB, Trino or Spark to query
 * across many hosts:
 *
 *   DIR/table=NAME/host=H/date=YYYY-MM-DD/part-N.parquet
 *
 * One file per UTC day and host per export; N is the timestamp (ns) of the
 * file's first row, so that exporting the same rows again (a re-run after a
 * crash) replaces a file instead of adding a duplicate.  Each file is
 * written under a temporary name and renamed when complete (parquet.h), so a
 * reader never sees half a file.  Every file carries the table's columns
 * plus `host` and `boot_id` (from the `boots` table: the boot during which
 * the row was taken; NULL for rows older than the database's first boots
 * row).
 *
 * --since-last keeps, per table and host, the newest timestamp exported in
 * DIR/.ksight-export/<table>/<host> and exports only newer rows; that file is
 * replaced atomically after every Parquet file of the run is in place.  On a
 * database an agent is writing, rows of the last EXPORT_SETTLE_NS are left
 * for the next run, since rows of a tick can still be on their way.
 */
#ifndef KS_CMD_EXPORT_TABLE_H
#define KS_CMD_EXPORT_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

#define EXPORT_SETTLE_NS (10 * 1000000000LL)

struct export_table_opts {
	const char *table;           /* a table or view of the database */
	const char *out_dir;         /* created when missing */
	const char *host;            /* NULL: the newest boots row's host, else uname -n */
	const struct cli_range *range;
	bool since_last;
	bool quiet;                  /* no per-file progress lines */
};

/* Runs the export on ses's database (opened here, read-only).  Prints its
 * progress and errors ("ksight export: ...") and returns an exit code. */
int export_table__run(struct session *ses, const struct export_table_opts *o);

#endif
