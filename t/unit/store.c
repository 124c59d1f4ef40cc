/* The store on real SQLite files and :memory: — schema creation and
 * migration, batch round trip, and refusal of files that are not ours. */
#include <fcntl.h>
#include <sqlite3.h>

#include "../../src/store/rollup.h"
#include "../../src/store/store.h"
#include "../lib/tap.h"

static char dir[] = "/tmp/ksight-unit.XXXXXX";

static const char *path_in(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void sql(const char *db, const char *statements)
{
	sqlite3 *h;

	if (sqlite3_open(db, &h) != SQLITE_OK || sqlite3_exec(h, statements, NULL, NULL, NULL) != SQLITE_OK)
		bail_out(sqlite3_errmsg(h));
	sqlite3_close(h);
}

static int64_t qint(struct store *s, const char *q)
{
	int64_t v = -1;
	char err[STORE_ERR_MAX];

	if (store__query_int(s, q, &v, err))
		diag("%s: %s", q, err);
	return v;
}

struct rows {
	int n;
	char text[256];
};

static int grab(void *ctx, int ncols, const struct batch_value *v)
{
	struct rows *r = ctx;

	if (r->n++ == 0 && ncols >= 3)
		snprintf(r->text, sizeof(r->text), "%lld|%.*s|%s", (long long)v[0].i, (int)v[1].len, v[1].s,
			 v[2].tag == V_NULL ? "NULL" : "set");
	return 0;
}

/* Collects the detail column of EXPLAIN QUERY PLAN rows. */
static int plan_detail(void *ctx, int ncols, const struct batch_value *v)
{
	char *out = ctx;
	size_t n = strlen(out);

	if (ncols >= 4 && v[3].tag == V_TEXT)
		snprintf(out + n, 512 - n, "%s%.*s", n ? "; " : "", (int)v[3].len, v[3].s);
	return 0;
}

static const char *query_plan(struct store *s, const char *q)
{
	static char out[512];
	char sql[1024], err[STORE_ERR_MAX];
	struct store_query_cb cb = { NULL, plan_detail, out };

	out[0] = '\0';
	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", q);
	if (store__query(s, sql, &cb, err))
		diag("%s: %s", q, err);
	return out;
}

int main(void)
{
	char err[STORE_ERR_MAX];
	struct store *s;
	struct batch b;
	struct rows r = { 0 };
	struct store_query_cb cb = { NULL, grab, &r };
	size_t nrollups;
	int rc;

	plan(30);
	if (!mkdtemp(dir))
		bail_out("mkdtemp");

	/* fresh in-memory database: every table, version, app id */
	ok(store__open(":memory:", STORE_READ_WRITE, &s, err) == 0, "open :memory:");
	is(qint(s, "PRAGMA user_version"), SCHEMA_VERSION, "user_version is the schema version");
	is(qint(s, "PRAGMA application_id"), SCHEMA_APPLICATION_ID, "application_id marks it as ours");
	ok(store__set_cache_bytes(s, 512 << 10) == 0 && qint(s, "PRAGMA cache_size") == -512,
	   "store__set_cache_bytes(512K): cache_size -512 (KiB)");
	ok(store__set_cache_bytes(s, 1000) == 0 && qint(s, "PRAGMA cache_size") == -64,
	   "under 64 KiB it keeps 64 KiB");
	rollup__tables(&nrollups);
	/* Tables of schema.h, their rollup tiers, and rollup_marks. */
	is(qint(s, "select count(*) from sqlite_master where type='table'"), T_COUNT + (int64_t)nrollups + 1,
	   "one table per declaration and rollup tier, and rollup_marks");
	is(qint(s, "select count(*) from sqlite_master where type='index' and name like '%_timestamp'"),
	   T_COUNT + (int64_t)nrollups,
	   "a timestamp index per table");
	is(qint(s, "select count(*) from sqlite_master where type='index' and name like '%\\_pid' escape '\\'"),
	   (int64_t)schema_nindexes, "and the (pid, timestamp) indexes of schema v4");
	/* /api/process's queries (src/http/process.c): by pid, not by scanning time. */
	{
		const char *p = query_plan(s, "SELECT max(timestamp) FROM process_events WHERE pid = 1 AND "
					   "timestamp <= 5 AND event IN ('fork', 'exec')");

		ok(strstr(p, "process_events_pid (pid=? AND timestamp<?)") != NULL,
		   "a process's start is looked up through process_events_pid: %s", p);
		p = query_plan(s, "SELECT timestamp, oncpu_ns FROM process_cpu_stats WHERE pid = 1 AND timestamp >= 2 "
			       "AND timestamp <= 5 ORDER BY timestamp DESC LIMIT 3600");
		ok(strstr(p, "process_cpu_stats_pid") != NULL, "and its CPU series through process_cpu_stats_pid: %s", p);
	}

	/* batch round trip */
	batch__init(&b);
	for (int i = 0; i < 1000; i++) {
		batch__row(&b, T_PROCESS_EVENTS);
		batch__int(&b, 1000 + i);
		batch__text(&b, "exec");
		for (unsigned c = 2; c < schema_tables[T_PROCESS_EVENTS].ncolumns; c++)
			batch__null(&b);
		batch__end(&b);
	}
	batch__row(&b, T_LOAD_METRICS);
	batch__int(&b, 5);
	batch__real(&b, 0.5);
	for (unsigned c = 2; c < schema_tables[T_LOAD_METRICS].ncolumns; c++)
		batch__null(&b);
	batch__end(&b);
	is(b.rows, 1001, "batch counts rows over tables");
	ok(store__write_batch(s, &b, err) == 0, "write one batch");
	is(qint(s, "select count(*) from process_events"), 1000, "1000 process rows stored");
	is(qint(s, "select sum(timestamp) from process_events"), 1000 * 1000 + 999 * 1000 / 2, "values intact");
	store__query(s, "select timestamp, event, pid from process_events order by timestamp limit 1", &cb, err);
	is_str(r.text, "1000|exec|NULL", "text and NULL values round-trip");
	{
		struct batch_value v;

		ok(batch__value(&b, T_LOAD_METRICS, 0, "load1", &v) && v.tag == V_REAL && v.r == 0.5,
		   "batch__value finds a column by name");
	}
	batch__free(&b);

	/* malformed SQL */
	rc = store__query(s, "selec nothing", NULL, err);
	ok(rc == -EINVAL && strstr(err, "syntax error"), "bad SQL returns SQLite's message: %s", err);
	store__close(s);

	/* read-only connections refuse writes */
	ok(store__open(path_in("a.db"), STORE_READ_WRITE, &s, err) == 0, "create a database file");
	store__close(s);
	ok(store__open(path_in("a.db"), STORE_READ_ONLY, &s, err) == 0, "open it read-only");
	rc = store__query(s, "delete from process_events", NULL, err);
	ok(rc != 0, "a read-only connection refuses DELETE: %s", err);
	store__close(s);

	/* missing file, read-only */
	rc = store__open(path_in("missing.db"), STORE_READ_ONLY, &s, err);
	ok(rc == -ENOENT && strstr(err, "no database"), "missing database: %s", err);

	/* not SQLite */
	{
		int fd = open(path_in("text.db"), O_CREAT | O_WRONLY, 0644);

		if (fd < 0 || write(fd, "hello, this is not a database at all, just text\n", 48) != 48)
			bail_out("write");
		close(fd);
	}
	rc = store__open(path_in("text.db"), STORE_READ_WRITE, &s, err);
	ok(rc == -EINVAL && strstr(err, "not a KernelSight database"), "a text file is refused: %s", err);
	{
		char buf[64] = "";
		int fd = open(path_in("text.db"), O_RDONLY);

		ok(read(fd, buf, sizeof(buf)) == 48 && !strncmp(buf, "hello", 5), "and left untouched");
		close(fd);
	}

	/* someone else's SQLite */
	sql(path_in("other.db"), "create table users(id integer, name text); insert into users values (1, 'x');");
	rc = store__open(path_in("other.db"), STORE_READ_WRITE, &s, err);
	ok(rc == -EINVAL && strstr(err, "not a KernelSight one"), "another application's database is refused: %s", err);
	rc = store__open(path_in("other.db"), STORE_READ_ONLY, &s, err);
	ok(rc == -EINVAL, "also for readers");

	/* newer schema */
	{
		char q[256];

		snprintf(q, sizeof(q), "PRAGMA application_id = %d; PRAGMA user_version = 999; create table x(a);",
			 SCHEMA_APPLICATION_ID);
		sql(path_in("newer.db"), q);
		snprintf(q, sizeof(q), "PRAGMA application_id = %d; PRAGMA user_version = 0;"
			 "create table load_metrics(timestamp integer not null, load1 real);"
			 "insert into load_metrics values (7, 1.5);", SCHEMA_APPLICATION_ID);
		sql(path_in("old.db"), q);
	}
	rc = store__open(path_in("newer.db"), STORE_READ_WRITE, &s, err);
	ok(rc == -EPROTONOSUPPORT && strstr(err, "newer ksight"), "a newer schema is refused: %s", err);

	/* migration from an older version: missing column and table are added */
	if (!ok(store__open(path_in("old.db"), STORE_READ_WRITE, &s, err) == 0, "an older database opens"))
		bail_out(err);
	is(qint(s, "select count(*) from pragma_table_info('load_metrics')"),
	   schema_tables[T_LOAD_METRICS].ncolumns, "missing columns were added");
	is(qint(s, "select timestamp from load_metrics"), 7, "existing rows kept");
	is(qint(s, "select count(*) from sqlite_master where type='index' and name like '%\\_pid' escape '\\'"),
	   (int64_t)schema_nindexes, "the pid indexes were added");
	store__close(s);

	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			diag("cleanup failed");
	}
	return done_testing();
}
