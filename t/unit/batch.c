/* Reading batches by column name (store/batch.h): the cursor walks rows in
 * order and its typed getters give what the writer put, NULL and text
 * included; a column set refuses names its table lacks; the typed
 * collector_stats writer stores what it is given, with NULL for an empty
 * reason and no map bytes. */
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "../../src/store/batch.h"
#include "../lib/tap.h"

static void put_process_event(struct batch *b, int64_t ts, const char *event, int64_t pid, const char *comm)
{
	batch__row(b, T_PROCESS_EVENTS);
	for (unsigned c = 0; c < schema_tables[T_PROCESS_EVENTS].ncolumns; c++) {
		const char *name = schema_tables[T_PROCESS_EVENTS].columns[c].name;

		if (!strcmp(name, "timestamp"))
			batch__int(b, ts);
		else if (!strcmp(name, "event"))
			batch__text(b, event);
		else if (!strcmp(name, "pid"))
			batch__int(b, pid);
		else if (!strcmp(name, "comm"))
			batch__text(b, comm);
		else
			batch__null(b);
	}
	batch__end(b);
}

/* Runs batch_cols__init with a name table t lacks in a child: true when
 * the child died of the assertion. */
static bool unknown_column_aborts(void)
{
	static const char *const names[] = { "pid", "no_such_column", NULL };
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct batch_cols c;

		setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
		/* stderr holds the assertion message: keep the TAP log clean */
		if (!freopen("/dev/null", "w", stderr))
			_exit(2);
		batch_cols__init(&c, T_PROCESS_EVENTS, names);
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

int main(void)
{
	enum { EVENT, PID, COMM, EXIT_CODE };
	static const char *const names[] = { [EVENT] = "event", [PID] = "pid", [COMM] = "comm",
					     [EXIT_CODE] = "exit_code", NULL };
	struct batch b;
	struct batch_cursor cur;
	const struct batch_row *r = &cur.row;
	struct batch_value v;
	char text[8];
	unsigned widest = 0;

	plan(28);
	batch__init(&b);
	put_process_event(&b, 100, "exec", 42, "workload");
	put_process_event(&b, 200, "exit", 43, NULL);

	batch_cursor__init(&cur, &b, T_PROCESS_EVENTS, names);
	is(batch_cursor__rows(&cur), 2, "the cursor sees both rows");
	ok(batch_cursor__next(&cur), "first row");
	is(batch_row__timestamp(r), 100, "timestamp of the first row");
	ok(batch_row__text_is(r, EVENT, "exec"), "text_is matches the text written");
	ok(!batch_row__text_is(r, EVENT, "exe"), "text_is does not match a prefix");
	is(batch_row__int(r, PID, -1), 42, "int getter");
	is(batch_row__real(r, PID), 42.0, "an integer read as a real");
	ok(batch_row__text(r, COMM, text, sizeof(text)), "text getter on text");
	is_str(text, "workloa", "text cut to the buffer, NUL-terminated");
	ok(batch_row__is_null(r, EXIT_CODE), "a NULL column is NULL");
	is(batch_row__int(r, EXIT_CODE, -7), -7, "int getter gives the default for NULL");
	ok(isnan(batch_row__real(r, EXIT_CODE)), "real getter gives NAN for NULL");
	ok(isnan(batch_row__real(r, EVENT)), "real getter gives NAN for text");

	ok(batch_cursor__next(&cur), "second row");
	is(batch_row__int(r, PID, -1), 43, "int of the second row");
	ok(!batch_row__text(r, COMM, text, sizeof(text)) && !text[0], "text getter on NULL: false and empty");
	ok(!batch_cursor__next(&cur), "no third row");

	batch_cursor__init(&cur, NULL, T_PROCESS_EVENTS, names);
	ok(!batch_cursor__next(&cur) && batch_cursor__rows(&cur) == 0, "a NULL batch has no rows");
	batch_cursor__init(&cur, &b, T_LOAD_METRICS, (const char *const[]){ "load1", NULL });
	ok(!batch_cursor__next(&cur), "a table without rows has none");

	ok(unknown_column_aborts(), "a column the table lacks is refused (assert)");
	for (int t = 0; t < T_COUNT; t++)
		if (schema_tables[t].ncolumns > widest)
			widest = schema_tables[t].ncolumns;
	ok(widest <= BATCH_COLUMNS_MAX, "every table fits the cursor (%u columns at most)", widest);

	batch__clear(&b);
	batch__collector_stats(&b, &(struct collector_stats_row){
		.timestamp = 5, .collector = "proc", .kind = "tracer", .enabled = true, .reason = "",
		.events = 10, .drops = 1, .rate_limited = 2, .events_total = 30, .drops_total = 3,
		.cost_ms = 0.5, .map_bytes = 0 });
	batch__collector_stats(&b, &(struct collector_stats_row){
		.timestamp = 6, .collector = "rss", .kind = "tracer", .reason = "tracepoint missing",
		.map_bytes = 4096 });
	is(b.tables[T_COLLECTOR_STATS].rows, 2, "two collector_stats rows");
	ok(batch__value(&b, T_COLLECTOR_STATS, 0, "reason", &v) && v.tag == V_NULL, "an empty reason is NULL");
	ok(batch__value(&b, T_COLLECTOR_STATS, 0, "map_bytes", &v) && v.tag == V_NULL, "no map bytes is NULL");
	ok(batch__value(&b, T_COLLECTOR_STATS, 0, "rate_limited", &v) && v.tag == V_INT && v.i == 2,
	   "rate_limited in its column");
	ok(batch__value(&b, T_COLLECTOR_STATS, 0, "cost_ms", &v) && v.tag == V_REAL && v.r == 0.5,
	   "cost_ms in its column");
	ok(batch__value(&b, T_COLLECTOR_STATS, 1, "reason", &v) && v.tag == V_TEXT &&
	   v.len == strlen("tracepoint missing"), "a reason is stored");
	ok(batch__value(&b, T_COLLECTOR_STATS, 1, "enabled", &v) && v.tag == V_INT && v.i == 0 &&
	   batch__value(&b, T_COLLECTOR_STATS, 1, "map_bytes", &v) && v.i == 4096,
	   "enabled 0 and map_bytes stored");
	batch__free(&b);
	return done_testing();
}
