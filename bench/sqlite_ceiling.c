/* sqlite_ceiling DB ROWS: the raw SQLite insert rate on this machine for the
 * syscall_events row shape (10 columns, timestamp index), through one
 * prepared statement in one transaction, WAL, synchronous=NORMAL — the
 * ceiling the agent's ingestion is compared with.  Prints "rows rows_per_s". */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long rows;
	double t0, t1;

	if (argc != 3)
		return 2;
	rows = atol(argv[2]);
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		return 1;
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		     "CREATE TABLE IF NOT EXISTS syscall_events (timestamp INTEGER NOT NULL, pid INTEGER, tid INTEGER,"
		     " comm TEXT, syscall_nr INTEGER, syscall_name TEXT, latency_ns INTEGER, ret INTEGER,"
		     " cgroup_id INTEGER, cgroup TEXT);"
		     "CREATE INDEX IF NOT EXISTS syscall_events_timestamp ON syscall_events(timestamp);",
		     NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO syscall_events VALUES (?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL);
	t0 = now();
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (long i = 0; i < rows; i++) {
		sqlite3_bind_int64(st, 1, 1795000000000000000LL + i * 2000);
		sqlite3_bind_int64(st, 2, 4242);
		sqlite3_bind_int64(st, 3, 4242);
		sqlite3_bind_text(st, 4, "sysloop", 7, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, 110);
		sqlite3_bind_text(st, 6, "getppid", 7, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, 300 + i % 200);
		sqlite3_bind_int64(st, 8, 4200);
		sqlite3_bind_int64(st, 9, 2627);
		sqlite3_bind_text(st, 10, "/process_api/ecd26aaa45261552dc0100b96e3295e7", 45, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return 1;
		sqlite3_reset(st);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	t1 = now();
	sqlite3_finalize(st);
	sqlite3_close(db);
	printf("%ld %.0f\n", rows, (double)rows / (t1 - t0));
	return 0;
}
