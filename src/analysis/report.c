/* The HTML report of a capture (see report.h). */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../detect/extract.h"
#include "../detect/watch.h"
#include "../http/assets.h"
#include "../lib/json.h"
#include "../store/rollup.h"
#include "replay.h"

#define MAX_SERIES 32
#define MAX_DEVICES 8

#define MAX_RELATIONS 32

struct report {
	struct store *s;
	int64_t from, to, bucket;       /* ns */
	enum tier tier;                 /* of the per-tick charts (memory_metrics') */
	char *relations[MAX_RELATIONS]; /* tiered() strings, freed at the end */
	int nrelations;
	struct json j;
	struct buf data;
	struct report_stats *st;
	char *err;
	int rc;
};

/* ---- charts: SQL whose first column is x (s since the epoch), the others series ---- */

struct chart_q {
	int ncols;
	char *names[MAX_SERIES + 1];
	double *cols[MAX_SERIES + 1];
	size_t n, cap;
};

static int chart_columns(void *ctx, int ncols, const char *const *names)
{
	struct chart_q *q = ctx;

	q->ncols = ncols > MAX_SERIES + 1 ? MAX_SERIES + 1 : ncols;
	for (int c = 0; c < q->ncols; c++)
		q->names[c] = strdup(names[c]);
	return 0;
}

static int chart_row(void *ctx, int ncols, const struct batch_value *v)
{
	struct chart_q *q = ctx;

	(void)ncols;
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 256;
		for (int c = 0; c < q->ncols; c++)
			if (!(q->cols[c] = realloc(q->cols[c], q->cap * sizeof(double))))
				return -ENOMEM;
	}
	for (int c = 0; c < q->ncols; c++)
		q->cols[c][q->n] = v[c].tag == V_INT ? (double)v[c].i : v[c].tag == V_REAL ? v[c].r : NAN;
	q->n++;
	return 0;
}

static void chart_q_free(struct chart_q *q)
{
	for (int c = 0; c < q->ncols; c++) {
		free(q->names[c]);
		free(q->cols[c]);
	}
}

static void sqlf(struct buf *b, const char *fmt, va_list ap)
{
	buf_reset(b);
	buf_vprintf(b, fmt, ap);
}

/* A chart: section, id, title, unit, the metric name prefixes whose
 * anomalies it marks ("io.read_p95_us{device=vda}", or "" for none),
 * then the SQL (printf format). */
static void chart(struct report *r, const char *section, const char *title, const char *unit,
		  const char *match, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void chart(struct report *r, const char *section, const char *title, const char *unit,
		  const char *match, const char *fmt, ...)
{
	struct chart_q q = { 0 };
	struct store_query_cb cb = { chart_columns, chart_row, &q };
	struct buf sql = BUF_INIT;
	struct json *j = &r->j;
	char err[STORE_ERR_MAX];
	va_list ap;

	if (r->rc)
		return;
	va_start(ap, fmt);
	sqlf(&sql, fmt, ap);
	va_end(ap);
	if (store__query(r->s, sql.data, &cb, err)) {
		/* A table this database does not have: the view is left out. */
		if (!strstr(err, "no such table")) {
			snprintf(r->err, STORE_ERR_MAX, "%s", err);
			r->rc = -EIO;
		}
		goto cleanup;
	}
	if (q.ncols < 2 || q.n == 0)
		goto cleanup;
	json_obj_begin(j);
	json_key(j, "section"); json_str(j, section);
	json_key(j, "title"); json_str(j, title);
	json_key(j, "unit"); json_str(j, unit);
	json_key(j, "match"); json_str(j, match);
	json_key(j, "x");
	json_arr_begin(j);
	for (size_t i = 0; i < q.n; i++)
		json_double(j, q.cols[0][i]);
	json_arr_end(j);
	json_key(j, "series");
	json_arr_begin(j);
	for (int c = 1; c < q.ncols; c++) {
		json_obj_begin(j);
		json_key(j, "label"); json_str(j, q.names[c]);
		json_key(j, "data");
		json_arr_begin(j);
		for (size_t i = 0; i < q.n; i++) {
			json_double(j, q.cols[c][i]);
			r->st->points += isfinite(q.cols[c][i]);
		}
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	r->st->charts++;
cleanup:
	chart_q_free(&q);
	buf_free(&sql);
}

/* ---- tables: any SQL, columns as named ---- */

struct table_q {
	struct json *j;
	bool started;
};

static int table_columns(void *ctx, int ncols, const char *const *names)
{
	struct table_q *q = ctx;

	json_key(q->j, "columns");
	json_arr_begin(q->j);
	for (int c = 0; c < ncols; c++)
		json_str(q->j, names[c]);
	json_arr_end(q->j);
	json_key(q->j, "rows");
	json_arr_begin(q->j);
	q->started = true;
	return 0;
}

static int table_row(void *ctx, int ncols, const struct batch_value *v)
{
	struct table_q *q = ctx;

	json_arr_begin(q->j);
	for (int c = 0; c < ncols; c++) {
		switch (v[c].tag) {
		case V_INT: json_int(q->j, v[c].i); break;
		case V_REAL: json_double(q->j, v[c].r); break;
		case V_TEXT: json_strn(q->j, v[c].s, v[c].len); break;
		default: json_null(q->j); break;
		}
	}
	json_arr_end(q->j);
	return 0;
}

static void table(struct report *r, const char *section, const char *title, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void table(struct report *r, const char *section, const char *title, const char *fmt, ...)
{
	struct buf sql = BUF_INIT, out = BUF_INIT;
	struct json j;
	struct table_q q = { &j, false };
	struct store_query_cb cb = { table_columns, table_row, &q };
	char err[STORE_ERR_MAX];
	va_list ap;

	if (r->rc)
		return;
	va_start(ap, fmt);
	sqlf(&sql, fmt, ap);
	va_end(ap);
	json_init(&j, &out);
	json_obj_begin(&j);
	json_key(&j, "section"); json_str(&j, section);
	json_key(&j, "title"); json_str(&j, title);
	if (store__query(r->s, sql.data, &cb, err)) {
		if (!strstr(err, "no such table")) {
			snprintf(r->err, STORE_ERR_MAX, "%s", err);
			r->rc = -EIO;
		}
	} else if (q.started) {
		json_arr_end(&j);
		json_obj_end(&j);
		/* Spliced into the document as one value. */
		json_obj_begin(&r->j);
		json_obj_end(&r->j);
		r->data.len -= 2;
		buf_add(&r->data, out.data, out.len);
		r->st->tables++;
	}
	buf_free(&out);
	buf_free(&sql);
}

/* ---- anomalies ---- */

struct replayed {
	struct watch *w;
	struct batch out;
};

static void replay_row(void *ctx, enum table_id t, const struct batch_value *v)
{
	struct replayed *p = ctx;

	watch__row(p->w, t, v);
}

static void replay_tick(void *ctx, int64_t ts)
{
	struct replayed *p = ctx;

	watch__end_tick(p->w, ts, &p->out);
}

/* The anomalies columns the report shows, and their JSON keys. */
static const char *const anomaly_cols[] = { "timestamp", "metric", "value", "expected", "low", "high", "usual",
					    "score", "confidence", "severity", "kind", "correlated",
					    "correlated_metrics", "explanation", NULL };
static const char *const anomaly_keys[] = { "ts", "metric", "value", "expected", "low", "high", "usual",
					    "score", "confidence", "severity", "kind", "correlated",
					    "correlated_metrics", "explanation" };

static void anomaly_json(struct json *j, const struct batch_row *r)
{
	json_obj_begin(j);
	for (unsigned k = 0; k < r->cols->n; k++) {
		const struct batch_value *v = batch_row__value(r, k);

		json_key(j, anomaly_keys[k]);
		if (v->tag == V_INT)
			json_int(j, v->i);
		else if (v->tag == V_REAL)
			json_double(j, v->r);
		else if (v->tag == V_TEXT)
			json_strn(j, v->s, v->len);
		else
			json_null(j);
	}
	json_obj_end(j);
}

struct stored_anomalies {
	struct report *r;
	struct batch_cols cols;
};

/* A stored row: every column of anomalies in schema order. */
static int stored_anomaly(void *ctx, int ncols, const struct batch_value *v)
{
	struct stored_anomalies *sa = ctx;
	const struct batch_row row = { &sa->cols, v };

	(void)ncols;
	anomaly_json(&sa->r->j, &row);
	sa->r->st->anomalies++;
	return 0;
}

static void anomalies(struct report *r)
{
	const struct table *tab = &schema_tables[T_ANOMALIES];
	struct stored_anomalies sa = { .r = r };
	struct store_query_cb cb = { NULL, stored_anomaly, &sa };
	struct buf sql = BUF_INIT;
	char err[STORE_ERR_MAX];
	int64_t exists = 0;

	batch_cols__init(&sa.cols, T_ANOMALIES, anomaly_cols);
	json_key(&r->j, "anomalies");
	json_arr_begin(&r->j);
	store__query_int(r->s, "SELECT count(*) FROM sqlite_master WHERE name = 'anomalies'", &exists, NULL);
	if (exists) {
		buf_adds(&sql, "SELECT ");
		for (unsigned c = 0; c < tab->ncolumns; c++)
			buf_printf(&sql, "%s%s", c ? ", " : "", tab->columns[c].name);
		buf_printf(&sql, " FROM anomalies WHERE timestamp BETWEEN %lld AND %lld ORDER BY timestamp LIMIT 5000",
			   (long long)r->from, (long long)r->to);
		if (store__query(r->s, sql.data, &cb, err)) {
			snprintf(r->err, STORE_ERR_MAX, "%s", err);
			r->rc = -EIO;
		}
	}
	if (!r->rc && r->st->anomalies == 0) {
		struct replayed p = { .w = watch__new(NULL) };
		struct replay_cb rcb = { replay_row, replay_tick, &p };

		batch__init(&p.out);
		if (!p.w) {
			r->rc = -ENOMEM;
		} else if ((r->rc = replay__run(r->s, r->from, r->to, &rcb, r->err)) == 0) {
			struct batch_cursor cur;

			watch__finish(p.w, r->to, &p.out);
			r->st->replayed = true;
			batch_cursor__init(&cur, &p.out, T_ANOMALIES, anomaly_cols);
			while (batch_cursor__next(&cur)) {
				anomaly_json(&r->j, &cur.row);
				r->st->anomalies++;
			}
		}
		watch__free(p.w);
		batch__free(&p.out);
	}
	json_arr_end(&r->j);
	buf_free(&sql);
}

/* ---- per-device views ---- */

struct names {
	char name[MAX_DEVICES][64];
	int n;
};

static int name_row(void *ctx, int ncols, const struct batch_value *v)
{
	struct names *n = ctx;

	if (ncols > 0 && v[0].tag == V_TEXT && n->n < MAX_DEVICES)
		snprintf(n->name[n->n++], 64, "%.*s", (int)v[0].len, v[0].s);
	return 0;
}

/* s as the inside of a SQL string literal: quotes doubled.  Device and
 * interface names come from the data and may hold a quote. */
static const char *sql_text(const char *s, char *out, size_t size)
{
	size_t o = 0;

	for (; *s && o + 2 < size; s++) {
		if (*s == '\'')
			out[o++] = '\'';
		out[o++] = *s;
	}
	out[o] = '\0';
	return out;
}

/* The names the query fmt (with %s for relation) lists, in n. */
static void names_ofx(struct report *r, struct names *n, const char *fmt, const char *relation)
	__attribute__((format(printf, 3, 0)));
static void names_ofx(struct report *r, struct names *n, const char *fmt, const char *relation)
{
	struct store_query_cb cb = { NULL, name_row, n };
	struct buf q = BUF_INIT;

	n->n = 0;
	buf_printf(&q, fmt, relation);
	store__query(r->s, q.data, &cb, NULL);
	buf_free(&q);
}

/* ---- the document ---- */

/* The rows of t over the report's range as one relation in the shape of
 * its rollup tables (columns cols), read from the tier that fits the
 * bucket (store/rollup.h): a capture of a few hours reads raw rows, a
 * week the minute rollups, months the hour rollups.  Owned by r. */
static const char *tiered(struct report *r, enum table_id t, const char *const *cols)
{
	struct tier_plan plan;
	struct buf sql = BUF_INIT;
	char since[24], until[24], hour[24], minute[24];

	if (r->rc || r->nrelations == MAX_RELATIONS ||
	    (r->rc = rollup__plan(r->s, t, r->from, r->to + 1, r->bucket, &plan, r->err)))
		return "(SELECT NULL AS timestamp WHERE 0)";
	if (t == T_MEMORY_METRICS)
		r->tier = plan.tier;
	snprintf(since, sizeof(since), "%lld", (long long)r->from);
	snprintf(until, sizeof(until), "%lld", (long long)r->to + 1);
	snprintf(hour, sizeof(hour), "%lld", (long long)plan.hour_until);
	snprintf(minute, sizeof(minute), "%lld", (long long)plan.minute_until);
	rollup__from(&sql, t, cols, since, until, hour, minute);
	r->relations[r->nrelations] = sql.data;     /* the buffer's memory, handed over */
	return r->relations[r->nrelations++];
}

#define COLS(...) (const char *const[]){ __VA_ARGS__, NULL }

#define W "timestamp BETWEEN %lld AND %lld"
#define X "(timestamp / %lld) * %lld / 1e9"
#define RX (long long)r->bucket, (long long)r->bucket
#define RW (long long)r->from, (long long)r->to

/* The report has no agent configuration: slow means the default threshold. */
#define SLOW_NS ((long long)EXTRACT_SYSCALL_SLOW_NS)

static void views(struct report *r)
{
	struct names dev = { 0 }, ifs = { 0 };
	char match[256], title[128], lit[256];
	int64_t split = 0;
	const char *inv;

	store__query_int(r->s, "SELECT count(*) FROM pragma_table_info('syscall_events') WHERE name = 'sleep_ns'",
			 &split, NULL);
	inv = split ? "(latency_ns - coalesce(sleep_ns, 0))" : "latency_ns";

	json_key(&r->j, "charts");
	json_arr_begin(&r->j);

	chart(r, "Events", "Event counts per type (per bucket)", "", "proc.",
	      "SELECT x, sum((k = 0) * n) AS syscall_slow, sum((k = 1) * n) AS page_fault_sampled,"
	      " sum((k = 2) * n) AS process, sum((k = 3) * n) AS runq_slow, sum((k = 4) * n) AS tcp_retransmit FROM ("
	      " SELECT " X " AS x, 0 AS k, count AS n FROM %s"
	      " UNION ALL SELECT " X ", 1, count FROM %s"
	      " UNION ALL SELECT " X ", 2, count FROM %s"
	      " UNION ALL SELECT " X ", 3, count FROM %s"
	      " UNION ALL SELECT " X ", 4, count FROM %s"
	      ") GROUP BY x ORDER BY x",
	      RX, tiered(r, T_SYSCALL_EVENTS, COLS("count")), RX, tiered(r, T_PAGE_FAULT_EVENTS, COLS("count")),
	      RX, tiered(r, T_PROCESS_EVENTS, COLS("count")), RX, tiered(r, T_SCHED_LATENCY_EVENTS, COLS("count")),
	      RX, tiered(r, T_TCP_RETRANSMIT_EVENTS, COLS("count")));
	chart(r, "Syscalls", "Syscall rate and errors", "/s", "syscall.calls_per_s syscall.errors_per_s",
	      "SELECT x, sum(c) / (%lld / 1e9) AS calls_per_s, sum(e) / (%lld / 1e9) AS errors_per_s FROM ("
	      " SELECT " X " AS x, count AS c, errors AS e FROM %s) GROUP BY x ORDER BY x",
	      (long long)r->bucket, (long long)r->bucket, RX, tiered(r, T_SYSCALL_STATS, COLS("count", "errors")));
	chart(r, "Syscalls", "Syscall latency: slowest syscall's percentiles per interval", "us", "syscall.",
	      "SELECT " X " AS x, max(p50_ns) / 1e3 AS p50_us, max(p95_ns) / 1e3 AS p95_us,"
	      " max(p99_ns) / 1e3 AS p99_us FROM %s GROUP BY 1 ORDER BY 1",
	      RX, tiered(r, T_SYSCALL_STATS, COLS("p50_ns", "p95_ns", "p99_ns")));
	chart(r, "Page faults", "Page faults by type", "/s", "vm.pgfault_per_s vm.pgmajfault_per_s",
	      "SELECT " X " AS x, avg((pgfault - pgmajfault) * 1000.0 / interval_ms) AS minor_per_s,"
	      " avg(pgmajfault * 1000.0 / interval_ms) AS major_per_s FROM %s"
	      " WHERE interval_ms > 0 GROUP BY 1 ORDER BY 1",
	      RX, tiered(r, T_VMSTAT_METRICS, COLS("pgfault", "pgmajfault", "interval_ms")));

	{
		const char *io = tiered(r, T_IO_LATENCY_STATS,
					COLS("device", "read_count", "write_count", "read_p50_us", "read_p95_us", "read_p99_us",
					     "write_p50_us", "write_p95_us", "write_p99_us"));

		if (!r->rc)
			names_ofx(r, &dev, "SELECT device FROM %s GROUP BY device ORDER BY sum(read_count + write_count) DESC",
				  io);
		for (int i = 0; i < dev.n; i++) {
			snprintf(title, sizeof(title), "I/O latency percentiles on %s", dev.name[i]);
			snprintf(match, sizeof(match), "io.read_p95_us{device=%s} io.write_p95_us{device=%s}", dev.name[i],
				 dev.name[i]);
			chart(r, "Disks", title, "us", match,
			      "SELECT " X " AS x, max(read_p50_us) AS read_p50, max(read_p95_us) AS read_p95,"
			      " max(read_p99_us) AS read_p99, max(write_p50_us) AS write_p50, max(write_p95_us) AS write_p95,"
			      " max(write_p99_us) AS write_p99 FROM %s WHERE device = '%s'"
			      " GROUP BY 1 ORDER BY 1", RX, io, sql_text(dev.name[i], lit, sizeof(lit)));
		}
	}
	chart(r, "Scheduler", "Run-queue latency", "us", "sched.runq",
	      "SELECT " X " AS x, max(runq_p50_us) AS p50, max(runq_p95_us) AS p95, max(runq_p99_us) AS p99"
	      " FROM %s GROUP BY 1 ORDER BY 1", RX, tiered(r, T_SCHED_EVENTS, COLS("runq_p50_us", "runq_p95_us", "runq_p99_us")));
	chart(r, "CPU", "CPU time", "%", "cpu.",
	      "SELECT " X " AS x, avg(user_pct) AS user, avg(system_pct) AS system, avg(iowait_pct) AS iowait,"
	      " avg(steal_pct) AS steal FROM %s WHERE cpu = 'cpu' GROUP BY 1 ORDER BY 1",
	      RX, tiered(r, T_CPU_METRICS, COLS("cpu", "user_pct", "system_pct", "iowait_pct", "steal_pct")));
	chart(r, "Memory", "Memory usage and available", "MiB", "mem.",
	      "SELECT " X " AS x, avg(used_kb) / 1024 AS used, avg(available_kb) / 1024 AS available,"
	      " avg(cache_kb) / 1024 AS cache, avg(free_kb) / 1024 AS free, avg(swap_used_kb) / 1024 AS swap_used"
	      " FROM %s GROUP BY 1 ORDER BY 1",
	      RX, tiered(r, T_MEMORY_METRICS, COLS("used_kb", "available_kb", "cache_kb", "free_kb", "swap_used_kb")));
	chart(r, "Load", "Load averages", "", "load.",
	      "SELECT " X " AS x, avg(load1) AS load1, avg(load5) AS load5, avg(load15) AS load15"
	      " FROM %s GROUP BY 1 ORDER BY 1", RX, tiered(r, T_LOAD_METRICS, COLS("load1", "load5", "load15")));
	chart(r, "Pressure", "Pressure stall (share of each interval with some task stalled)", "%", "psi.",
	      "SELECT " X " AS x, avg(CASE WHEN resource = 'cpu' THEN some_stall_pct END) AS cpu,"
	      " avg(CASE WHEN resource = 'memory' THEN some_stall_pct END) AS memory,"
	      " avg(CASE WHEN resource = 'io' THEN some_stall_pct END) AS io"
	      " FROM %s GROUP BY 1 ORDER BY 1", RX, tiered(r, T_PRESSURE_METRICS, COLS("resource", "some_stall_pct")));

	{
		const char *bs = tiered(r, T_BLOCK_STATS, COLS("device_name", "read_sectors", "write_sectors",
							      "read_bytes_per_sec", "write_bytes_per_sec"));

		if (!r->rc)
			names_ofx(r, &dev, "SELECT device_name FROM %s GROUP BY device_name"
				  " ORDER BY max(read_sectors + write_sectors) DESC", bs);
		else
			dev.n = 0;
		for (int i = 0; i < dev.n; i++) {
			snprintf(title, sizeof(title), "Block throughput on %s", dev.name[i]);
			snprintf(match, sizeof(match), "io.read_bytes_per_s{device=%s} io.write_bytes_per_s{device=%s}"
				 " io.util_pct{device=%s}", dev.name[i], dev.name[i], dev.name[i]);
			chart(r, "Disks", title, "MiB/s", match,
			      "SELECT " X " AS x, avg(read_bytes_per_sec) / 1048576 AS read, avg(write_bytes_per_sec) / 1048576"
			      " AS write FROM %s WHERE device_name = '%s' GROUP BY 1 ORDER BY 1",
			      RX, bs, sql_text(dev.name[i], lit, sizeof(lit)));
		}
	}
	{
		const char *ns = tiered(r, T_NETWORK_INTERFACE_STATS, COLS("interface_name", "rx_bytes", "tx_bytes",
									   "rx_bytes_per_sec", "tx_bytes_per_sec"));

		if (!r->rc)
			names_ofx(r, &ifs, "SELECT interface_name FROM %s GROUP BY interface_name"
				  " ORDER BY max(rx_bytes + tx_bytes) DESC", ns);
		for (int i = 0; i < ifs.n; i++) {
			snprintf(title, sizeof(title), "Network throughput on %s", ifs.name[i]);
			snprintf(match, sizeof(match), "net.rx_bytes_per_s{iface=%s} net.tx_bytes_per_s{iface=%s}"
				 " net.errors_per_s{iface=%s}", ifs.name[i], ifs.name[i], ifs.name[i]);
			chart(r, "Network", title, "KiB/s", match,
			      "SELECT " X " AS x, avg(rx_bytes_per_sec) / 1024 AS rx, avg(tx_bytes_per_sec) / 1024 AS tx"
			      " FROM %s WHERE interface_name = '%s' GROUP BY 1 ORDER BY 1",
			      RX, ns, sql_text(ifs.name[i], lit, sizeof(lit)));
		}
	}
	chart(r, "TCP", "TCP connection states", "", "tcp.established tcp.time_wait tcp.syn_recv",
	      "SELECT " X " AS x, avg(established) AS established, avg(time_wait) AS time_wait,"
	      " avg(syn_sent) AS syn_sent, avg(syn_recv) AS syn_recv, avg(close_wait) AS close_wait,"
	      " avg(listen) AS listen FROM %s GROUP BY 1 ORDER BY 1",
	      RX, tiered(r, T_TCP_STATS, COLS("established", "time_wait", "syn_sent", "syn_recv", "close_wait", "listen")));
	chart(r, "TCP", "TCP retransmits", "per bucket", "tcp.retrans tcp.attempt tcp.estab",
	      "SELECT " X " AS x, sum(retrans_segs_delta) AS retransmitted_segments,"
	      " max(estab_resets) - min(estab_resets) AS resets FROM %s GROUP BY 1 ORDER BY 1",
	      RX, tiered(r, T_TCP_RETRANSMIT_STATS, COLS("retrans_segs_delta", "estab_resets")));
	chart(r, "Processes", "Process activity (per bucket)", "", "proc. cpu.forks_per_s",
	      "SELECT " X " AS x, sum((event = 'fork') * count) AS forks, sum((event = 'exec') * count) AS execs,"
	      " sum((event = 'exit') * count) AS exits FROM %s GROUP BY 1 ORDER BY 1",
	      RX, tiered(r, T_PROCESS_EVENTS, COLS("event", "count")));
	json_arr_end(&r->j);

	json_key(&r->j, "tables");
	json_arr_begin(&r->j);
	/* Slow calls rank by the time they did not choose: on the CPU, waiting
	 * for it, blocked (latency less sleep_ns; databases from before the
	 * split count whole).  A read waiting 100 s for input is not slow: it
	 * is in the "waiting" table instead. */
	table(r, "Syscalls", "Slow syscalls: time not asleep by choice (on CPU + run queue + blocked)",
	      "SELECT CASE WHEN x < 20e6 THEN '10-20 ms' WHEN x < 50e6 THEN '20-50 ms'"
	      " WHEN x < 100e6 THEN '50-100 ms' WHEN x < 200e6 THEN '100-200 ms'"
	      " WHEN x < 500e6 THEN '200-500 ms' WHEN x < 1e9 THEN '0.5-1 s'"
	      " WHEN x < 5e9 THEN '1-5 s' ELSE '5 s and more' END AS time, count(*) AS calls"
	      " FROM (SELECT %s AS x FROM syscall_events WHERE " W ") WHERE x >= %lld GROUP BY 1 ORDER BY min(x)",
	      inv, RW, SLOW_NS);
	table(r, "Syscalls", "Top slow syscalls",
	      "SELECT syscall_name AS syscall, count(*) AS slow_calls, round(max(%s) / 1e6, 1) AS max_ms,"
	      " round(avg(%s) / 1e6, 1) AS avg_ms, round(sum(%s) / 1e6, 1) AS oncpu_ms, round(sum(%s) / 1e6, 1) AS runq_ms,"
	      " round(sum(%s) / 1e6, 1) AS blocked_ms, sum(ret < 0) AS errors FROM syscall_events WHERE " W
	      " AND %s >= %lld GROUP BY 1 ORDER BY sum(%s) DESC LIMIT 15",
	      inv, inv, split ? "oncpu_ns" : "NULL", split ? "runq_ns" : "NULL", split ? "blocked_ns" : "NULL", RW, inv,
	      SLOW_NS, inv);
	table(r, "Syscalls", "Slowest calls",
	      "SELECT datetime(timestamp / 1000000000, 'unixepoch') AS time, comm, pid, syscall_name AS syscall,"
	      " round(%s / 1e6, 1) AS not_asleep_ms, round(latency_ns / 1e6, 1) AS latency_ms,"
	      " round(%s / 1e6, 1) AS oncpu_ms, round(%s / 1e6, 1) AS runq_ms, round(%s / 1e6, 1) AS blocked_ms,"
	      " round(%s / 1e6, 1) AS sleep_ms, ret FROM syscall_events WHERE " W " AND %s >= %lld"
	      " ORDER BY %s DESC LIMIT 15",
	      inv, split ? "oncpu_ns" : "NULL", split ? "runq_ns" : "NULL", split ? "blocked_ns" : "NULL",
	      split ? "sleep_ns" : "NULL", RW, inv, SLOW_NS, inv);
	if (split)
		table(r, "Syscalls", "Waiting, not slow: calls that spent their time asleep by choice (input, timers, children)",
		      "SELECT syscall_name AS syscall, count(*) AS calls, round(max(latency_ns) / 1e6, 1) AS max_ms,"
		      " round(sum(sleep_ns) / 1e9, 1) AS asleep_s FROM syscall_events WHERE " W " AND %s < %lld"
		      " GROUP BY 1 ORDER BY 2 DESC LIMIT 15", RW, inv, SLOW_NS);
	table(r, "Page faults", "Sampled page faults by type",
	      "SELECT coalesce(fault_type, 'unknown') AS type, count(*) AS sampled,"
	      " round(avg(latency_ns) / 1e3, 1) AS avg_us FROM page_fault_events WHERE " W " GROUP BY 1 ORDER BY 2 DESC", RW);
	table(r, "Processes", "Most executed commands",
	      "SELECT comm, count(*) AS execs FROM process_events WHERE " W " AND event = 'exec'"
	      " GROUP BY 1 ORDER BY 2 DESC LIMIT 15", RW);
	table(r, "Processes", "Most CPU",
	      "SELECT comm, round(sum(oncpu_ns) / 1e9, 2) AS cpu_s, round(sum(runq_wait_ns) / 1e9, 3) AS runq_wait_s"
	      " FROM process_cpu_stats WHERE " W " GROUP BY 1 ORDER BY 2 DESC LIMIT 15", RW);
	table(r, "Leaks", "Leak suspects (memory_growth_events)",
	      "SELECT * FROM memory_growth_events WHERE " W " ORDER BY timestamp DESC LIMIT 50", RW);
	table(r, "Capture", "Rows per table",
	      "SELECT 'memory_metrics' AS table_name, count(*) AS rows FROM memory_metrics WHERE " W
	      " UNION ALL SELECT 'syscall_events', count(*) FROM syscall_events WHERE " W
	      " UNION ALL SELECT 'syscall_stats', count(*) FROM syscall_stats WHERE " W
	      " UNION ALL SELECT 'page_fault_events', count(*) FROM page_fault_events WHERE " W
	      " UNION ALL SELECT 'io_latency_stats', count(*) FROM io_latency_stats WHERE " W
	      " UNION ALL SELECT 'sched_events', count(*) FROM sched_events WHERE " W
	      " UNION ALL SELECT 'process_events', count(*) FROM process_events WHERE " W
	      " UNION ALL SELECT 'block_stats', count(*) FROM block_stats WHERE " W
	      " UNION ALL SELECT 'network_interface_stats', count(*) FROM network_interface_stats WHERE " W
	      " UNION ALL SELECT 'tcp_stats', count(*) FROM tcp_stats WHERE " W,
	      RW, RW, RW, RW, RW, RW, RW, RW, RW, RW);
	json_arr_end(&r->j);
}

static const char page_css[] =
	"body{font:14px system-ui,sans-serif;margin:0 24px 48px;color:#222;background:#fff}"
	"h1{font-size:22px;margin:18px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}"
	".meta{color:#555}.chart{display:inline-block;vertical-align:top;margin:6px 12px 12px 0}"
	".chart h3{font-size:14px;margin:4px 0}.chart.flagged h3{color:#b00}"
	"table{border-collapse:collapse;margin:6px 0 14px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}"
	"th{background:#f4f4f4}tr.alert td{background:#fde8e8}.bar{background:#4a7bd0;height:10px;display:inline-block}";

static const char page_js[] =
	"(function(){\n"
	"const D=JSON.parse(document.getElementById('data').textContent);\n"
	"const colors=['#1f77b4','#d62728','#2ca02c','#ff7f0e','#9467bd','#8c564b','#e377c2','#17becf'];\n"
	"const root=document.getElementById('report');\n"
	"function el(t,a,txt){const e=document.createElement(t);if(a)for(const k in a)e.setAttribute(k,a[k]);if(txt!=null)e.textContent=txt;return e;}\n"
	"const sections={};\n"
	"function section(name){if(!sections[name]){const s=el('section',{id:'s-'+name.replace(/\\W/g,'')});s.appendChild(el('h2',null,name));root.appendChild(s);sections[name]=s;}return sections[name];}\n"
	"function matches(c,m){return c.match&&c.match.split(' ').some(p=>p&&m.startsWith(p));}\n"
	"function num(v){return v==null?'':Math.abs(v)<1e-9?0:+v.toPrecision(4);}\n"
	"let total=0,drawn=0;\n"
	"const plots=[];\n"
	"section('Anomalies');\n"
	"for(const c of D.charts){\n"
	"  const box=el('div',{class:'chart'});const h=el('h3',null,c.title+(c.unit?' ('+c.unit+')':''));box.appendChild(h);\n"
	"  section(c.section).appendChild(box);\n"
	"  const marks=D.anomalies.filter(a=>matches(c,a.metric));\n"
	"  if(marks.length){box.classList.add('flagged');h.textContent+=' \\u2014 '+marks.length+' anomal'+(marks.length>1?'ies':'y');}\n"
	"  const data=[c.x].concat(c.series.map(s=>s.data));\n"
	"  let pts=0;for(const s of c.series)for(const v of s.data)if(v!==null)pts++;total+=pts;\n"
	"  box.dataset.points=pts;box.dataset.marks=marks.length;\n"
	"  const opts={width:560,height:220,series:[{}].concat(c.series.map((s,i)=>({label:s.label,stroke:colors[i%colors.length],width:1.5,spanGaps:false}))),\n"
	"    axes:[{},{size:72}],scales:{x:{time:true}},\n"
	"    hooks:{draw:[u=>{const ctx=u.ctx;ctx.save();for(const a of D.anomalies){const t=a.ts/1e9;if(t<u.scales.x.min||t>u.scales.x.max)continue;\n"
	"      const mine=matches(c,a.metric);if(!mine&&a.severity!=='alert')continue;const x=Math.round(u.valToPos(t,'x',true));\n"
	"      ctx.strokeStyle=mine?'rgba(220,0,0,0.9)':'rgba(220,0,0,0.25)';ctx.lineWidth=mine?2:1;ctx.beginPath();ctx.moveTo(x,u.bbox.top);ctx.lineTo(x,u.bbox.top+u.bbox.height);ctx.stroke();}\n"
	"      ctx.restore();}]}};\n"
	"  plots.push([box,new uPlot(opts,data,box)]);\n"
	"}\n"
	"const as=section('Anomalies');\n"
	"as.appendChild(el('p',{class:'meta'},D.anomalies.length?(D.anomalies.length+' anomalies'+(D.anomalies_replayed?' (found by replaying this range through the agent\\u2019s detectors: the database had none)':' (from the anomalies table)')+'; alerts are several metric groups abnormal together, notices one metric alone'):'No anomalies in this range.'));\n"
	"if(D.anomalies.length){const t=el('table');const hr=el('tr');for(const k of ['time','severity','metric','value','usual','score','explanation'])hr.appendChild(el('th',null,k));t.appendChild(hr);\n"
	"  for(const a of D.anomalies.slice(0,500)){const r=el('tr',{class:a.severity});const cells=[new Date(a.ts/1e6).toISOString().replace('T',' ').slice(0,19),a.severity,a.metric,num(a.value),num(a.usual),a.score.toFixed(2),a.explanation];\n"
	"    for(const v of cells)r.appendChild(el('td',null,v));t.appendChild(r);}as.appendChild(t);}\n"
	"for(const tb of D.tables){const s=section(tb.section);s.appendChild(el('h3',null,tb.title));\n"
	"  if(!tb.rows.length){s.appendChild(el('p',{class:'meta'},'none in this range'));continue;}\n"
	"  const t=el('table',{class:'data'});const hr=el('tr');for(const c of tb.columns)hr.appendChild(el('th',null,c));t.appendChild(hr);\n"
	"  const num=tb.columns.length==2&&tb.rows.every(r=>typeof r[1]==='number');const mx=num?Math.max(...tb.rows.map(r=>r[1])):0;\n"
	"  for(const row of tb.rows){const r=el('tr');for(const v of row)r.appendChild(el('td',null,v==null?'':v));\n"
	"    if(num){const td=el('td');const b=el('span',{class:'bar'});b.style.width=Math.round(200*row[1]/(mx||1))+'px';td.appendChild(b);r.appendChild(td);}t.appendChild(r);}\n"
	"  s.appendChild(t);}\n"
	"function inked(c){try{const x=c.getContext('2d').getImageData(0,0,c.width,c.height).data;let n=0;for(let i=3;i<x.length;i+=4)if(x[i])n++;return n;}catch(e){return -1;}}\n"
	"setTimeout(()=>{for(const [box,u] of plots){const n=inked(u.ctx.canvas);box.dataset.inked=n;if(n>0)drawn++;}\n"
	"  const st=document.getElementById('status');st.dataset.charts=plots.length;st.dataset.drawn=drawn;st.dataset.points=total;st.dataset.anomalies=D.anomalies.length;\n"
	"  st.textContent=plots.length+' charts, '+drawn+' drawn, '+total+' points, '+D.anomalies.length+' anomalies';},50);\n"
	"})();\n";

/* Creates "DIR/.index.html.RANDOM.tmp" for writing: O_EXCL|O_NOFOLLOW, so
 * a file or symlink someone planted in DIR (a shared output directory,
 * ksight run as root) is never written through, and a random name, so it
 * cannot be planted in advance.  Mode 0666 less the umask. */
static int create_tmp(const char *dir, char *tmp, size_t size, FILE **ret)
{
	for (int attempt = 0; attempt < 16; attempt++) {
		unsigned char r[8];
		int fd;

		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return errno ? -errno : -EIO;
		if ((size_t)snprintf(tmp, size, "%s/.index.html.%02x%02x%02x%02x%02x%02x%02x%02x.tmp", dir, r[0], r[1],
				     r[2], r[3], r[4], r[5], r[6], r[7]) >= size)
			return -ENAMETOOLONG;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return -errno;
		if (!(*ret = fdopen(fd, "w"))) {
			int rc = -errno;

			close(fd);
			unlink(tmp);
			return rc;
		}
		return 0;
	}
	return -EEXIST;
}

/* Rewrites every '<' in b as the JSON escape \u003c (buf aborts when out
 * of memory).  Returns 0. */
static int escape_lt(struct buf *b)
{
	struct buf out = BUF_INIT;
	size_t start = 0;

	if (!memchr(b->data, '<', b->len))
		return 0;
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '<') {
			buf_add(&out, b->data + start, i - start);
			buf_adds(&out, "\\u003c");
			start = i + 1;
		}
	buf_add(&out, b->data + start, b->len - start);
	buf_free(b);
	*b = out;
	return 0;
}

static int write_all(FILE *f, const void *data, size_t len)
{
	return fwrite(data, 1, len, f) == len ? 0 : -EIO;
}

int report__write(struct store *s, int64_t from_ns, int64_t to_ns, const char *dir,
		  struct report_stats *ret, char *err)
{
	const struct asset *js = asset_find("/vendor/uPlot.iife.min.js");
	const struct asset *css = asset_find("/vendor/uPlot.min.css");
	struct report_stats st = { 0 };
	struct report r = { .s = s, .from = from_ns, .to = to_ns, .data = BUF_INIT, .st = &st, .err = err };
	char path[PATH_MAX], tmp[PATH_MAX];
	int64_t span = to_ns - from_ns;
	FILE *f = NULL;
	int rc;

	if (!js || !css) {
		snprintf(err, STORE_ERR_MAX, "the chart library is not built into this binary");
		return -ENOENT;
	}
	/* Whole seconds, about 720 buckets over the range. */
	r.bucket = (span / 720 / 1000000000 + 1) * 1000000000LL;
	json_init(&r.j, &r.data);
	json_obj_begin(&r.j);
	json_key(&r.j, "meta");
	json_obj_begin(&r.j);
	json_key(&r.j, "database"); json_str(&r.j, store__path(s));
	json_key(&r.j, "from"); json_int(&r.j, from_ns);
	json_key(&r.j, "to"); json_int(&r.j, to_ns);
	json_key(&r.j, "bucket_s"); json_int(&r.j, r.bucket / 1000000000);
	json_obj_end(&r.j);
	views(&r);
	json_key(&r.j, "tier");
	json_str(&r.j, tier__name(r.tier));
	if (!r.rc)
		anomalies(&r);
	json_key(&r.j, "anomalies_replayed");
	json_bool(&r.j, st.replayed);
	json_obj_end(&r.j);
	if ((rc = r.rc))
		goto cleanup;
	/* The JSON sits in a <script> element: no '<' may appear in it, or a
	 * process named "<!--<script>" (or "</script>") ends or changes the
	 * element.  '<' only occurs inside JSON strings, where \u003c means
	 * the same character. */
	if ((rc = escape_lt(&r.data)))
		goto cleanup;
	snprintf(path, sizeof(path), "%s/index.html", dir);
	if ((rc = create_tmp(dir, tmp, sizeof(tmp), &f))) {
		snprintf(err, STORE_ERR_MAX, "cannot create a temporary file in %.200s: %s", dir, strerror(-rc));
		goto cleanup;
	}
	fprintf(f, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<title>KernelSight report</title>\n<style>");
	rc = write_all(f, css->data, css->len);
	fprintf(f, "%s</style>\n<script>", page_css);
	if (!rc)
		rc = write_all(f, js->data, js->len);
	fprintf(f, "</script>\n</head><body>\n<h1>KernelSight report</h1>\n"
		"<p class=\"meta\" id=\"range\"></p><p class=\"meta\" id=\"status\">charts not drawn (JavaScript is off?)</p>\n"
		"<div id=\"report\"></div>\n<script id=\"data\" type=\"application/json\">");
	if (!rc)
		rc = write_all(f, r.data.data, r.data.len);
	fprintf(f, "</script>\n<script>\n(function(){const D=JSON.parse(document.getElementById('data').textContent);"
		"const d=t=>new Date(t/1e6).toISOString().replace('T',' ').slice(0,19)+' UTC';"
		"document.getElementById('range').textContent=D.meta.database+': '+d(D.meta.from)+' to '+d(D.meta.to)"
		"+', '+D.meta.bucket_s+' s buckets'+(D.tier==='raw'?'':', from the per-'+(D.tier==='1m'?'minute':'hour')+' rollups');})();\n"
		"%s</script>\n</body></html>\n", page_js);
	if (!rc && (ferror(f) || fflush(f)))
		rc = -EIO;
	st.bytes = ftell(f);
	if (fclose(f) && !rc)
		rc = -errno;
	f = NULL;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		snprintf(err, STORE_ERR_MAX, "cannot write %.200s: %s", path, strerror(-rc));
		goto cleanup;
	}
	if (ret)
		*ret = st;
cleanup:
	for (int i = 0; i < r.nrelations; i++)
		free(r.relations[i]);
	buf_free(&r.data);
	return rc;
}
