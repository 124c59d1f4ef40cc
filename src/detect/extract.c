/* Per-metric samples from a tick's rows (see extract.h). */
#include "extract.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_COLUMNS 40

const enum table_id extract_tables[] = {
	T_CPU_METRICS, T_LOAD_METRICS, T_MEMORY_METRICS, T_VMSTAT_METRICS, T_SCHED_EVENTS,
	T_SYSCALL_STATS, T_IO_LATENCY_STATS, T_BLOCK_STATS, T_NETWORK_INTERFACE_STATS,
	T_TCP_STATS, T_TCP_RETRANSMIT_STATS, T_PRESSURE_METRICS,
	T_PROCESS_EVENTS, T_SYSCALL_EVENTS,
};
const unsigned extract_ntables = sizeof(extract_tables) / sizeof(extract_tables[0]);

bool extract_is_event_table(enum table_id t)
{
	return t == T_PROCESS_EVENTS || t == T_SYSCALL_EVENTS;
}

/* Column index of name in table t; the extractor reads only columns that
 * exist (asserted). */
static unsigned column(enum table_id t, const char *name)
{
	int c = schema_column(&schema_tables[t], name);

	assert(c >= 0);
	return (unsigned)c;
}

/* The index of a column, looked up once (the schema is constant). */
#define COL(t, name) ({ static int col_ = -1; if (col_ < 0) col_ = (int)column(t, name); (unsigned)col_; })

void extract__init(struct extract *x, extract_sample_fn fn, void *ctx)
{
	memset(x, 0, sizeof(*x));
	x->fn = fn;
	x->ctx = ctx;
	trend__init(&x->available, 60LL * 1000000000);
}

static bool num(const struct batch_value *v, double *ret)
{
	if (v->tag == V_INT)
		*ret = (double)v->i;
	else if (v->tag == V_REAL)
		*ret = v->r;
	else
		return false;
	return isfinite(*ret);
}

static void emit(struct extract *x, int64_t ts, const char *family, const char *quantity,
		 const char *label, const char *label_value, const char *unit, const char *what,
		 double value)
{
	char name[EXTRACT_NAME_MAX], group[EXTRACT_NAME_MAX];
	struct metric_sample s = { .ts = ts, .name = name, .group = group, .unit = unit, .what = what,
				   .value = value };

	if (!isfinite(value))
		return;
	if (label) {
		snprintf(name, sizeof(name), "%s.%s{%s=%s}", family, quantity, label, label_value);
		snprintf(group, sizeof(group), "%s{%s=%s}", family, label, label_value);
	} else {
		snprintf(name, sizeof(name), "%s.%s", family, quantity);
		snprintf(group, sizeof(group), "%s", family);
	}
	x->samples++;
	x->fn(x->ctx, &s);
}

/* Emits column col of row v when it has a value, times scale. */
static void emit_col(struct extract *x, int64_t ts, const struct batch_value *v, unsigned col,
		     const char *family, const char *quantity, const char *label, const char *lv,
		     const char *unit, const char *what, double scale)
{
	double d;

	if (num(&v[col], &d))
		emit(x, ts, family, quantity, label, lv, unit, what, d * scale);
}

/* The label's text (NUL-terminated in buf) if it is one of the first
 * EXTRACT_MAX_LABELS seen, else NULL. */
static const char *label_of(struct extract *x, const struct batch_value *v, char (*seen)[32],
			    unsigned *nseen, char *buf)
{
	size_t len;

	if (v->tag != V_TEXT)
		return NULL;
	len = v->len < 31 ? v->len : 31;
	memcpy(buf, v->s, len);
	buf[len] = '\0';
	for (unsigned i = 0; i < *nseen; i++)
		if (!strcmp(seen[i], buf))
			return buf;
	if (*nseen == EXTRACT_MAX_LABELS) {
		x->labels_dropped++;
		return NULL;
	}
	strcpy(seen[(*nseen)++], buf);
	return buf;
}

static bool text_is(const struct batch_value *v, const char *s)
{
	return v->tag == V_TEXT && v->len == strlen(s) && !memcmp(v->s, s, v->len);
}

static void counter(struct extract *x, int64_t ts, const struct batch_value *v, struct counter_rate *c,
		    const char *quantity, const char *what)
{
	double rate;

	if (v->tag == V_INT && v->i >= 0 && counter_rate__update(c, (uint64_t)v->i, ts, &rate))
		emit(x, ts, "tcp", quantity, NULL, NULL, "per_s", what, rate);
}

void extract__row(struct extract *x, enum table_id t, const struct batch_value *v)
{
	int64_t ts = v[0].i;
	char label[32], what[64];
	const char *lv;
	double a, b, ms;

	switch (t) {
	case T_CPU_METRICS:
		if (!text_is(&v[COL(t, "cpu")], "cpu"))
			break;
		if (num(&v[COL(t, "idle_pct")], &a) && num(&v[COL(t, "iowait_pct")], &b))
			emit(x, ts, "cpu", "busy_pct", NULL, NULL, "pct", "CPU busy", 100 - a - b);
		emit_col(x, ts, v, COL(t, "iowait_pct"), "cpu", "iowait_pct", NULL, NULL, "pct", "CPU iowait", 1);
		emit_col(x, ts, v, COL(t, "ctxt_per_sec"), "cpu", "ctxt_per_s", NULL, NULL, "per_s",
			 "context switches", 1);
		emit_col(x, ts, v, COL(t, "forks_per_sec"), "cpu", "forks_per_s", NULL, NULL, "per_s",
			 "process creation", 1);
		emit_col(x, ts, v, COL(t, "procs_running"), "cpu", "procs_running", NULL, NULL, "",
			 "runnable threads", 1);
		emit_col(x, ts, v, COL(t, "procs_blocked"), "cpu", "procs_blocked", NULL, NULL, "",
			 "threads blocked on I/O", 1);
		break;
	case T_LOAD_METRICS:
		emit_col(x, ts, v, COL(t, "load1"), "load", "load1", NULL, NULL, "", "1-minute load", 1);
		break;
	case T_MEMORY_METRICS:
		emit_col(x, ts, v, COL(t, "available_kb"), "mem", "available_kb", NULL, NULL, "kB",
			 "available memory", 1);
		emit_col(x, ts, v, COL(t, "used_kb"), "mem", "used_kb", NULL, NULL, "kB", "used memory", 1);
		emit_col(x, ts, v, COL(t, "dirty_kb"), "mem", "dirty_kb", NULL, NULL, "kB", "dirty memory", 1);
		emit_col(x, ts, v, COL(t, "swap_used_kb"), "mem", "swap_used_kb", NULL, NULL, "kB", "swap used", 1);
		if (num(&v[COL(t, "available_kb")], &a) && trend__update(&x->available, ts, a, &b))
			emit(x, ts, "mem", "available_trend_kb_per_s", NULL, NULL, "kB/s",
			     "the change of available memory over a minute", b);
		break;
	case T_VMSTAT_METRICS:
		if (!num(&v[COL(t, "interval_ms")], &ms) || ms <= 0)
			break;
		emit_col(x, ts, v, COL(t, "pgfault"), "vm", "pgfault_per_s", NULL, NULL, "per_s",
			 "page faults", 1000 / ms);
		emit_col(x, ts, v, COL(t, "pgmajfault"), "vm", "pgmajfault_per_s", NULL, NULL, "per_s",
			 "major page faults", 1000 / ms);
		if (num(&v[COL(t, "pswpin")], &a) && num(&v[COL(t, "pswpout")], &b))
			emit(x, ts, "vm", "swap_pages_per_s", NULL, NULL, "per_s", "swapping", (a + b) * 1000 / ms);
		emit_col(x, ts, v, COL(t, "pgscan"), "vm", "pgscan_per_s", NULL, NULL, "per_s",
			 "page reclaim scanning", 1000 / ms);
		emit_col(x, ts, v, COL(t, "allocstall"), "vm", "allocstall_per_s", NULL, NULL, "per_s",
			 "allocation stalls", 1000 / ms);
		emit_col(x, ts, v, COL(t, "oom_kill"), "vm", "oom_kill_per_s", NULL, NULL, "per_s",
			 "OOM kills", 1000 / ms);
		break;
	case T_SCHED_EVENTS:
		emit_col(x, ts, v, COL(t, "runq_p95_us"), "sched", "runq_p95_us", NULL, NULL, "us",
			 "run-queue latency p95", 1);
		emit_col(x, ts, v, COL(t, "runq_p99_us"), "sched", "runq_p99_us", NULL, NULL, "us",
			 "run-queue latency p99", 1);
		if (num(&v[COL(t, "interval_ns")], &ms) && ms > 0) {
			emit_col(x, ts, v, COL(t, "context_switches"), "sched", "ctxsw_per_s", NULL, NULL, "per_s",
				 "context switches", 1e9 / ms);
			emit_col(x, ts, v, COL(t, "involuntary_switches"), "sched", "involuntary_per_s", NULL, NULL,
				 "per_s", "preemptions", 1e9 / ms);
		}
		break;
	case T_SYSCALL_STATS:
		if (v[COL(t, "count")].tag == V_INT)
			x->syscalls += (uint64_t)v[COL(t, "count")].i;
		if (v[COL(t, "errors")].tag == V_INT)
			x->syscall_errors += (uint64_t)v[COL(t, "errors")].i;
		x->have_syscall_stats = true;
		break;
	case T_IO_LATENCY_STATS:
		if (!(lv = label_of(x, &v[COL(t, "device")], x->devices, &x->ndevices, label)))
			break;
		snprintf(what, sizeof(what), "read p95 on %s", lv);
		emit_col(x, ts, v, COL(t, "read_p95_us"), "io", "read_p95_us", "device", lv, "us", what, 1);
		snprintf(what, sizeof(what), "write p95 on %s", lv);
		emit_col(x, ts, v, COL(t, "write_p95_us"), "io", "write_p95_us", "device", lv, "us", what, 1);
		break;
	case T_BLOCK_STATS:
		if (!(lv = label_of(x, &v[COL(t, "device_name")], x->devices, &x->ndevices, label)))
			break;
		snprintf(what, sizeof(what), "reads on %s", lv);
		emit_col(x, ts, v, COL(t, "read_iops"), "io", "read_iops", "device", lv, "per_s", what, 1);
		snprintf(what, sizeof(what), "writes on %s", lv);
		emit_col(x, ts, v, COL(t, "write_iops"), "io", "write_iops", "device", lv, "per_s", what, 1);
		snprintf(what, sizeof(what), "read throughput on %s", lv);
		emit_col(x, ts, v, COL(t, "read_bytes_per_sec"), "io", "read_bytes_per_s", "device", lv, "B/s", what, 1);
		snprintf(what, sizeof(what), "write throughput on %s", lv);
		emit_col(x, ts, v, COL(t, "write_bytes_per_sec"), "io", "write_bytes_per_s", "device", lv, "B/s", what, 1);
		snprintf(what, sizeof(what), "utilisation of %s", lv);
		emit_col(x, ts, v, COL(t, "util_pct"), "io", "util_pct", "device", lv, "pct", what, 1);
		break;
	case T_NETWORK_INTERFACE_STATS: {
		double e = 0, d;
		bool any = false;

		if (!(lv = label_of(x, &v[COL(t, "interface_name")], x->ifaces, &x->nifaces, label)))
			break;
		snprintf(what, sizeof(what), "received on %s", lv);
		emit_col(x, ts, v, COL(t, "rx_bytes_per_sec"), "net", "rx_bytes_per_s", "iface", lv, "B/s", what, 1);
		snprintf(what, sizeof(what), "sent on %s", lv);
		emit_col(x, ts, v, COL(t, "tx_bytes_per_sec"), "net", "tx_bytes_per_s", "iface", lv, "B/s", what, 1);
		snprintf(what, sizeof(what), "packets received on %s", lv);
		emit_col(x, ts, v, COL(t, "rx_packets_per_sec"), "net", "rx_packets_per_s", "iface", lv, "per_s", what, 1);
		snprintf(what, sizeof(what), "packets sent on %s", lv);
		emit_col(x, ts, v, COL(t, "tx_packets_per_sec"), "net", "tx_packets_per_s", "iface", lv, "per_s", what, 1);
		static const char *const bad[] = { "rx_errors_per_sec", "rx_drops_per_sec", "tx_errors_per_sec",
						   "tx_drops_per_sec" };
		for (unsigned i = 0; i < 4; i++)
			if (num(&v[column(t, bad[i])], &d)) {
				e += d;
				any = true;
			}
		snprintf(what, sizeof(what), "errors and drops on %s", lv);
		if (any)
			emit(x, ts, "net", "errors_per_s", "iface", lv, "per_s", what, e);
		break;
	}
	case T_TCP_STATS:
		emit_col(x, ts, v, COL(t, "established"), "tcp", "established", NULL, NULL, "",
			 "established TCP connections", 1);
		emit_col(x, ts, v, COL(t, "time_wait"), "tcp", "time_wait", NULL, NULL, "", "TCP sockets in TIME_WAIT", 1);
		emit_col(x, ts, v, COL(t, "syn_recv"), "tcp", "syn_recv", NULL, NULL, "", "half-open TCP connections", 1);
		break;
	case T_TCP_RETRANSMIT_STATS:
		if (num(&v[COL(t, "interval_ms")], &ms) && ms > 0)
			emit_col(x, ts, v, COL(t, "retrans_segs_delta"), "tcp", "retrans_per_s", NULL, NULL, "per_s",
				 "TCP retransmits", 1000 / ms);
		emit_col(x, ts, v, COL(t, "retransmit_ratio"), "tcp", "retransmit_pct", NULL, NULL, "pct",
			 "the TCP retransmit rate", 100);
		counter(x, ts, &v[COL(t, "attempt_fails")], &x->attempt_fails, "attempt_fails_per_s",
			"failed TCP connection attempts");
		counter(x, ts, &v[COL(t, "estab_resets")], &x->estab_resets, "estab_resets_per_s",
			"TCP connection resets");
		counter(x, ts, &v[COL(t, "in_errs")], &x->in_errs, "in_errs_per_s", "TCP segments received in error");
		counter(x, ts, &v[COL(t, "active_opens")], &x->active_opens, "active_opens_per_s",
			"outgoing TCP connections");
		break;
	case T_PRESSURE_METRICS: {
		const struct batch_value *r = &v[COL(t, "resource")];

		if (r->tag != V_TEXT || r->len >= sizeof(label))
			break;
		memcpy(label, r->s, r->len);
		label[r->len] = '\0';
		snprintf(what, sizeof(what), "%s pressure (some)", label);
		emit_col(x, ts, v, COL(t, "some_stall_pct"), "psi", "some_pct", "resource", label, "pct", what, 1);
		snprintf(what, sizeof(what), "%s pressure (full)", label);
		if (strcmp(label, "cpu"))      /* cpu 'full' is 0 or absent at the system level */
			emit_col(x, ts, v, COL(t, "full_stall_pct"), "psi", "full_pct", "resource", label, "pct", what, 1);
		break;
	}
	case T_PROCESS_EVENTS:
		if (text_is(&v[COL(t, "event")], "exec"))
			x->execs++;
		else if (text_is(&v[COL(t, "event")], "exit"))
			x->exits++;
		break;
	case T_SYSCALL_EVENTS:
		x->slow_syscalls++;
		break;
	default:
		break;
	}
}

void extract__end_tick(struct extract *x, int64_t ts)
{
	double secs = x->prev_tick ? (double)(ts - x->prev_tick) / 1e9 : 0;

	if (secs > 0) {
		if (x->have_syscall_stats) {
			emit(x, ts, "syscall", "calls_per_s", NULL, NULL, "per_s", "syscalls", x->syscalls / secs);
			emit(x, ts, "syscall", "errors_per_s", NULL, NULL, "per_s", "failing syscalls",
			     x->syscall_errors / secs);
			if (x->syscalls)
				emit(x, ts, "syscall", "error_pct", NULL, NULL, "pct", "the syscall error rate",
				     100.0 * x->syscall_errors / x->syscalls);
			emit(x, ts, "syscall", "slow_per_s", NULL, NULL, "per_s", "slow syscalls",
			     x->slow_syscalls / secs);
		}
		emit(x, ts, "proc", "execs_per_s", NULL, NULL, "per_s", "program executions", x->execs / secs);
		emit(x, ts, "proc", "exits_per_s", NULL, NULL, "per_s", "process exits", x->exits / secs);
	}
	if (ts > x->prev_tick)
		x->prev_tick = ts;
	x->syscalls = x->syscall_errors = x->slow_syscalls = x->execs = x->exits = 0;
	x->have_syscall_stats = false;
}

void extract__batch(struct extract *x, const struct batch *b, int64_t now_ns)
{
	struct batch_value v[MAX_COLUMNS];

	for (unsigned k = 0; k < extract_ntables; k++) {
		enum table_id t = extract_tables[k];
		unsigned ncols = schema_tables[t].ncolumns;
		size_t pos = 0;

		assert(ncols <= MAX_COLUMNS);
		for (uint32_t r = 0; r < b->tables[t].rows; r++) {
			for (unsigned c = 0; c < ncols; c++)
				batch__read(b, t, &pos, &v[c]);
			extract__row(x, t, v);
		}
	}
	extract__end_tick(x, now_ns);
}
