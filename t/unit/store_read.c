/* Prepared reads of the store (what the HTTP API uses): statements cached
 * per connection, bound parameters, data_version seeing another
 * connection's commits, and the deadline that stops a long query. */
#include <sqlite3.h>

#include "../../src/lib/clock.h"
#include "../../src/store/store.h"
#include "../lib/tap.h"

static char dir[] = "/tmp/ksight-unit.XXXXXX";

static void add_rows(struct store *w, int64_t first_ts, int n)
{
	struct batch b;
	char err[STORE_ERR_MAX];

	batch__init(&b);
	for (int i = 0; i < n; i++) {
		batch__row(&b, T_LOAD_METRICS);
		batch__int(&b, first_ts + i);
		batch__real(&b, i / 10.0);
		for (unsigned c = 2; c < schema_tables[T_LOAD_METRICS].ncolumns; c++)
			batch__null(&b);
		batch__end(&b);
	}
	if (store__write_batch(w, &b, err))
		bail_out(err);
	batch__free(&b);
}

int main(void)
{
	char path[128], err[STORE_ERR_MAX];
	struct store *w, *r;
	struct store_stmt *st, *again, *other;
	int64_t v1, v2, v3, sum = 0;
	int rc, rows = 0;

	plan(14);
	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	snprintf(path, sizeof(path), "%s/r.db", dir);
	if (store__open(path, STORE_READ_WRITE, &w, err))
		bail_out(err);
	add_rows(w, 1000, 100);
	if (store__open(path, STORE_READ_ONLY, &r, err))
		bail_out(err);

	ok(store__prepare(r, "SELECT timestamp, load1 FROM load_metrics WHERE timestamp >= ?1 ORDER BY timestamp LIMIT ?2",
			  &st, err) == 0, "prepare on a read-only connection");
	store_stmt__bind_int(st, 1, 1090);
	store_stmt__bind_int(st, 2, 5);
	while ((rc = store_stmt__step(st, err)) == 1) {
		sum += store_stmt__int(st, 0);
		rows++;
	}
	is(rc, 0, "stepped to the end");
	is(rows, 5, "LIMIT bound as a parameter");
	is(sum, 1090 + 1091 + 1092 + 1093 + 1094, "the rows the bound range selects");
	is(store__prepare(r, "SELECT timestamp, load1 FROM load_metrics WHERE timestamp >= ?1 ORDER BY timestamp LIMIT ?2",
			  &again, err), -EBUSY, "the same statement while in use: -EBUSY, not a shared cursor");
	store_stmt__done(st);
	ok(store__prepare(r, "SELECT timestamp, load1 FROM load_metrics WHERE timestamp >= ?1 ORDER BY timestamp LIMIT ?2",
			  &again, err) == 0 && again == st, "after done, the cached statement comes back");
	store_stmt__bind_int(again, 2, 5);
	ok(store_stmt__step(again, err) == 0, "its bindings were cleared (?1 is NULL again: no row)");
	store_stmt__done(again);
	is(store__prepare(r, "SELECT nope FROM nowhere", &other, err), -EINVAL, "bad SQL: -EINVAL");


	v1 = store__data_version(r);
	v2 = store__data_version(r);
	add_rows(w, 5000, 1);
	v3 = store__data_version(r);
	ok(v1 >= 0 && v1 == v2, "data_version stays while nothing is committed");
	ok(v3 != v2, "and changes when another connection commits");

	/* Fill the cache past its size: the oldest idle statements make room. */
	for (int i = 0; i < STORE_STMT_CACHE + 10; i++) {
		char sql[64];

		snprintf(sql, sizeof(sql), "SELECT %d", i);
		if (store__prepare(r, sql, &other, err))
			break;
		rc = store_stmt__step(other, err);
		rows = (int)store_stmt__int(other, 0);
		store_stmt__done(other);
		if (rc != 1 || rows != i)
			break;
		if (i == STORE_STMT_CACHE + 9)
			ok(1, "%d distinct statements through a cache of %d", i + 1, STORE_STMT_CACHE);
	}

	/* A query that would run for minutes stops at the deadline. */
	ok(store__prepare(r, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
			  &st, err) == 0, "an endless query prepares");
	store__set_deadline(r, clock_mono_ns() + 50 * NSEC_PER_MSEC);
	is(store_stmt__step(st, err), -ETIMEDOUT, "past its deadline it returns -ETIMEDOUT: %s", err);
	store_stmt__done(st);
	store__set_deadline(r, 0);
	ok(store__prepare(r, "SELECT count(*) FROM load_metrics", &st, err) == 0 && store_stmt__step(st, err) == 1 &&
	   store_stmt__int(st, 0) == 101, "without a deadline the connection works on");
	store_stmt__done(st);

	store__close(r);
	store__close(w);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path))
		diag("cleanup failed");
	return done_testing();
}
