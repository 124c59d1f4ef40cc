/* Per-metric samples from a tick's rows (see extract.h). */
#include "extract.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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

/* The columns the extractor reads, per table (resolved in extract__init). */
enum { CPU_NAME, CPU_IDLE, CPU_IOWAIT, CPU_CTXT, CPU_FORKS, CPU_RUNNING, CPU_BLOCKED };
static const char *const cpu_cols[] = { [CPU_NAME] = "cpu", [CPU_IDLE] = "idle_pct", [CPU_IOWAIT] = "iowait_pct",
	[CPU_CTXT] = "ctxt_per_sec", [CPU_FORKS] = "forks_per_sec", [CPU_RUNNING] = "procs_running",
	[CPU_BLOCKED] = "procs_blocked", NULL };
enum { LOAD_1 };
static const char *const load_cols[] = { [LOAD_1] = "load1", NULL };
enum { MEM_AVAILABLE, MEM_USED, MEM_DIRTY, MEM_SWAP_USED };
static const char *const mem_cols[] = { [MEM_AVAILABLE] = "available_kb", [MEM_USED] = "used_kb",
	[MEM_DIRTY] = "dirty_kb", [MEM_SWAP_USED] = "swap_used_kb", NULL };
enum { VM_INTERVAL, VM_PGFAULT, VM_PGMAJFAULT, VM_PSWPIN, VM_PSWPOUT, VM_PGSCAN, VM_ALLOCSTALL, VM_OOM_KILL };
static const char *const vm_cols[] = { [VM_INTERVAL] = "interval_ms", [VM_PGFAULT] = "pgfault",
	[VM_PGMAJFAULT] = "pgmajfault", [VM_PSWPIN] = "pswpin", [VM_PSWPOUT] = "pswpout", [VM_PGSCAN] = "pgscan",
	[VM_ALLOCSTALL] = "allocstall", [VM_OOM_KILL] = "oom_kill", NULL };
enum { SCHED_P95, SCHED_P99, SCHED_INTERVAL, SCHED_SWITCHES, SCHED_INVOLUNTARY };
static const char *const sched_cols[] = { [SCHED_P95] = "runq_p95_us", [SCHED_P99] = "runq_p99_us",
	[SCHED_INTERVAL] = "interval_ns", [SCHED_SWITCHES] = "context_switches",
	[SCHED_INVOLUNTARY] = "involuntary_switches", NULL };
enum { SYS_COUNT, SYS_ERRORS };
static const char *const syscall_cols[] = { [SYS_COUNT] = "count", [SYS_ERRORS] = "errors", NULL };
enum { IOL_DEVICE, IOL_READ_P95, IOL_WRITE_P95 };
static const char *const iolat_cols[] = { [IOL_DEVICE] = "device", [IOL_READ_P95] = "read_p95_us",
	[IOL_WRITE_P95] = "write_p95_us", NULL };
enum { BLK_DEVICE, BLK_READ_IOPS, BLK_WRITE_IOPS, BLK_READ_BYTES, BLK_WRITE_BYTES, BLK_UTIL };
static const char *const block_cols[] = { [BLK_DEVICE] = "device_name", [BLK_READ_IOPS] = "read_iops",
	[BLK_WRITE_IOPS] = "write_iops", [BLK_READ_BYTES] = "read_bytes_per_sec",
	[BLK_WRITE_BYTES] = "write_bytes_per_sec", [BLK_UTIL] = "util_pct", NULL };
enum { NET_IFACE, NET_RX_BYTES, NET_TX_BYTES, NET_RX_PACKETS, NET_TX_PACKETS,
       NET_RX_ERRORS, NET_RX_DROPS, NET_TX_ERRORS, NET_TX_DROPS };     /* errors..drops: summed */
static const char *const net_cols[] = { [NET_IFACE] = "interface_name", [NET_RX_BYTES] = "rx_bytes_per_sec",
	[NET_TX_BYTES] = "tx_bytes_per_sec", [NET_RX_PACKETS] = "rx_packets_per_sec",
	[NET_TX_PACKETS] = "tx_packets_per_sec", [NET_RX_ERRORS] = "rx_errors_per_sec",
	[NET_RX_DROPS] = "rx_drops_per_sec", [NET_TX_ERRORS] = "tx_errors_per_sec",
	[NET_TX_DROPS] = "tx_drops_per_sec", NULL };
enum { TCP_ESTABLISHED, TCP_TIME_WAIT, TCP_SYN_RECV };
static const char *const tcp_cols[] = { [TCP_ESTABLISHED] = "established", [TCP_TIME_WAIT] = "time_wait",
	[TCP_SYN_RECV] = "syn_recv", NULL };
enum { RT_INTERVAL, RT_DELTA, RT_RATIO, RT_ATTEMPT_FAILS, RT_ESTAB_RESETS, RT_IN_ERRS, RT_ACTIVE_OPENS };
static const char *const retrans_cols[] = { [RT_INTERVAL] = "interval_ms", [RT_DELTA] = "retrans_segs_delta",
	[RT_RATIO] = "retransmit_ratio", [RT_ATTEMPT_FAILS] = "attempt_fails", [RT_ESTAB_RESETS] = "estab_resets",
	[RT_IN_ERRS] = "in_errs", [RT_ACTIVE_OPENS] = "active_opens", NULL };
enum { PSI_RESOURCE, PSI_SOME, PSI_FULL };
static const char *const psi_cols[] = { [PSI_RESOURCE] = "resource", [PSI_SOME] = "some_stall_pct",
	[PSI_FULL] = "full_stall_pct", NULL };
enum { PROC_EVENT };
static const char *const proc_cols[] = { [PROC_EVENT] = "event", NULL };
enum { SLOW_LATENCY, SLOW_SLEEP };
static const char *const slow_cols[] = { [SLOW_LATENCY] = "latency_ns", [SLOW_SLEEP] = "sleep_ns", NULL };
static const char *const no_cols[] = { NULL };

static const char *const *const columns_of[T_COUNT] = {
	[T_CPU_METRICS] = cpu_cols, [T_LOAD_METRICS] = load_cols, [T_MEMORY_METRICS] = mem_cols,
	[T_VMSTAT_METRICS] = vm_cols, [T_SCHED_EVENTS] = sched_cols, [T_SYSCALL_STATS] = syscall_cols,
	[T_IO_LATENCY_STATS] = iolat_cols, [T_BLOCK_STATS] = block_cols, [T_NETWORK_INTERFACE_STATS] = net_cols,
	[T_TCP_STATS] = tcp_cols, [T_TCP_RETRANSMIT_STATS] = retrans_cols, [T_PRESSURE_METRICS] = psi_cols,
	[T_PROCESS_EVENTS] = proc_cols, [T_SYSCALL_EVENTS] = slow_cols,
};

void extract__init(struct extract *x, extract_sample_fn fn, void *ctx)
{
	memset(x, 0, sizeof(*x));
	x->fn = fn;
	x->ctx = ctx;
	x->syscall_slow_ns = EXTRACT_SYSCALL_SLOW_NS;
	trend__init(&x->available, 60LL * 1000000000);
	for (unsigned k = 0; k < extract_ntables; k++)
		batch_cols__init(&x->cols[extract_tables[k]], extract_tables[k], columns_of[extract_tables[k]]);
}

/* Column k of r as a finite number. */
static bool num(const struct batch_row *r, unsigned k, double *ret)
{
	*ret = batch_row__real(r, k);
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

/* Emits column k of row r when it has a value, times scale. */
static void emit_col(struct extract *x, int64_t ts, const struct batch_row *r, unsigned k,
		     const char *family, const char *quantity, const char *label, const char *lv,
		     const char *unit, const char *what, double scale)
{
	double d;

	if (num(r, k, &d))
		emit(x, ts, family, quantity, label, lv, unit, what, d * scale);
}

/* The label's text (NUL-terminated in buf) if it is one of the first
 * EXTRACT_MAX_LABELS seen, else NULL. */
static const char *label_of(struct extract *x, const struct batch_row *r, unsigned k, char (*seen)[32],
			    unsigned *nseen, char *buf)
{
	if (!batch_row__text(r, k, buf, 32))
		return NULL;
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

static void counter(struct extract *x, int64_t ts, const struct batch_row *r, unsigned k, struct counter_rate *c,
		    const char *quantity, const char *what)
{
	const struct batch_value *v = batch_row__value(r, k);
	double rate;

	if (v->tag == V_INT && v->i >= 0 && counter_rate__update(c, (uint64_t)v->i, ts, &rate))
		emit(x, ts, "tcp", quantity, NULL, NULL, "per_s", what, rate);
}

void extract__row(struct extract *x, enum table_id t, const struct batch_value *v)
{
	const struct batch_row row = { &x->cols[t], v }, *r = &row;
	int64_t ts = batch_row__timestamp(r) - x->ts_shift;
	char label[32], what[64];
	const char *lv;
	double a, b, ms;

	switch (t) {
	case T_CPU_METRICS:
		if (!batch_row__text_is(r, CPU_NAME, "cpu"))
			break;
		if (num(r, CPU_IDLE, &a) && num(r, CPU_IOWAIT, &b))
			emit(x, ts, "cpu", "busy_pct", NULL, NULL, "pct", "CPU busy", 100 - a - b);
		emit_col(x, ts, r, CPU_IOWAIT, "cpu", "iowait_pct", NULL, NULL, "pct", "CPU iowait", 1);
		emit_col(x, ts, r, CPU_CTXT, "cpu", "ctxt_per_s", NULL, NULL, "per_s", "context switches", 1);
		emit_col(x, ts, r, CPU_FORKS, "cpu", "forks_per_s", NULL, NULL, "per_s", "process creation", 1);
		emit_col(x, ts, r, CPU_RUNNING, "cpu", "procs_running", NULL, NULL, "", "runnable threads", 1);
		emit_col(x, ts, r, CPU_BLOCKED, "cpu", "procs_blocked", NULL, NULL, "", "threads blocked on I/O", 1);
		break;
	case T_LOAD_METRICS:
		emit_col(x, ts, r, LOAD_1, "load", "load1", NULL, NULL, "", "1-minute load", 1);
		break;
	case T_MEMORY_METRICS:
		emit_col(x, ts, r, MEM_AVAILABLE, "mem", "available_kb", NULL, NULL, "kB", "available memory", 1);
		emit_col(x, ts, r, MEM_USED, "mem", "used_kb", NULL, NULL, "kB", "used memory", 1);
		emit_col(x, ts, r, MEM_DIRTY, "mem", "dirty_kb", NULL, NULL, "kB", "dirty memory", 1);
		emit_col(x, ts, r, MEM_SWAP_USED, "mem", "swap_used_kb", NULL, NULL, "kB", "swap used", 1);
		if (num(r, MEM_AVAILABLE, &a) && trend__update(&x->available, ts, a, &b))
			emit(x, ts, "mem", "available_trend_kb_per_s", NULL, NULL, "kB/s",
			     "the change of available memory over a minute", b);
		break;
	case T_VMSTAT_METRICS:
		if (!num(r, VM_INTERVAL, &ms) || ms <= 0)
			break;
		emit_col(x, ts, r, VM_PGFAULT, "vm", "pgfault_per_s", NULL, NULL, "per_s", "page faults", 1000 / ms);
		emit_col(x, ts, r, VM_PGMAJFAULT, "vm", "pgmajfault_per_s", NULL, NULL, "per_s", "major page faults",
			 1000 / ms);
		if (num(r, VM_PSWPIN, &a) && num(r, VM_PSWPOUT, &b))
			emit(x, ts, "vm", "swap_pages_per_s", NULL, NULL, "per_s", "swapping", (a + b) * 1000 / ms);
		emit_col(x, ts, r, VM_PGSCAN, "vm", "pgscan_per_s", NULL, NULL, "per_s", "page reclaim scanning",
			 1000 / ms);
		emit_col(x, ts, r, VM_ALLOCSTALL, "vm", "allocstall_per_s", NULL, NULL, "per_s", "allocation stalls",
			 1000 / ms);
		emit_col(x, ts, r, VM_OOM_KILL, "vm", "oom_kill_per_s", NULL, NULL, "per_s", "OOM kills", 1000 / ms);
		break;
	case T_SCHED_EVENTS:
		emit_col(x, ts, r, SCHED_P95, "sched", "runq_p95_us", NULL, NULL, "us", "run-queue latency p95", 1);
		emit_col(x, ts, r, SCHED_P99, "sched", "runq_p99_us", NULL, NULL, "us", "run-queue latency p99", 1);
		if (num(r, SCHED_INTERVAL, &ms) && ms > 0) {
			emit_col(x, ts, r, SCHED_SWITCHES, "sched", "ctxsw_per_s", NULL, NULL, "per_s",
				 "context switches", 1e9 / ms);
			emit_col(x, ts, r, SCHED_INVOLUNTARY, "sched", "involuntary_per_s", NULL, NULL, "per_s",
				 "preemptions", 1e9 / ms);
		}
		break;
	case T_SYSCALL_STATS:
		if (batch_row__value(r, SYS_COUNT)->tag == V_INT)
			x->syscalls += (uint64_t)batch_row__int(r, SYS_COUNT, 0);
		if (batch_row__value(r, SYS_ERRORS)->tag == V_INT)
			x->syscall_errors += (uint64_t)batch_row__int(r, SYS_ERRORS, 0);
		x->have_syscall_stats = true;
		break;
	case T_IO_LATENCY_STATS:
		if (!(lv = label_of(x, r, IOL_DEVICE, x->devices, &x->ndevices, label)))
			break;
		snprintf(what, sizeof(what), "read p95 on %s", lv);
		emit_col(x, ts, r, IOL_READ_P95, "io", "read_p95_us", "device", lv, "us", what, 1);
		snprintf(what, sizeof(what), "write p95 on %s", lv);
		emit_col(x, ts, r, IOL_WRITE_P95, "io", "write_p95_us", "device", lv, "us", what, 1);
		break;
	case T_BLOCK_STATS:
		if (!(lv = label_of(x, r, BLK_DEVICE, x->devices, &x->ndevices, label)))
			break;
		snprintf(what, sizeof(what), "reads on %s", lv);
		emit_col(x, ts, r, BLK_READ_IOPS, "io", "read_iops", "device", lv, "per_s", what, 1);
		snprintf(what, sizeof(what), "writes on %s", lv);
		emit_col(x, ts, r, BLK_WRITE_IOPS, "io", "write_iops", "device", lv, "per_s", what, 1);
		snprintf(what, sizeof(what), "read throughput on %s", lv);
		emit_col(x, ts, r, BLK_READ_BYTES, "io", "read_bytes_per_s", "device", lv, "B/s", what, 1);
		snprintf(what, sizeof(what), "write throughput on %s", lv);
		emit_col(x, ts, r, BLK_WRITE_BYTES, "io", "write_bytes_per_s", "device", lv, "B/s", what, 1);
		snprintf(what, sizeof(what), "utilisation of %s", lv);
		emit_col(x, ts, r, BLK_UTIL, "io", "util_pct", "device", lv, "pct", what, 1);
		break;
	case T_NETWORK_INTERFACE_STATS: {
		double e = 0, d;
		bool any = false;

		if (!(lv = label_of(x, r, NET_IFACE, x->ifaces, &x->nifaces, label)))
			break;
		snprintf(what, sizeof(what), "received on %s", lv);
		emit_col(x, ts, r, NET_RX_BYTES, "net", "rx_bytes_per_s", "iface", lv, "B/s", what, 1);
		snprintf(what, sizeof(what), "sent on %s", lv);
		emit_col(x, ts, r, NET_TX_BYTES, "net", "tx_bytes_per_s", "iface", lv, "B/s", what, 1);
		snprintf(what, sizeof(what), "packets received on %s", lv);
		emit_col(x, ts, r, NET_RX_PACKETS, "net", "rx_packets_per_s", "iface", lv, "per_s", what, 1);
		snprintf(what, sizeof(what), "packets sent on %s", lv);
		emit_col(x, ts, r, NET_TX_PACKETS, "net", "tx_packets_per_s", "iface", lv, "per_s", what, 1);
		for (unsigned k = NET_RX_ERRORS; k <= NET_TX_DROPS; k++)
			if (num(r, k, &d)) {
				e += d;
				any = true;
			}
		snprintf(what, sizeof(what), "errors and drops on %s", lv);
		if (any)
			emit(x, ts, "net", "errors_per_s", "iface", lv, "per_s", what, e);
		break;
	}
	case T_TCP_STATS:
		emit_col(x, ts, r, TCP_ESTABLISHED, "tcp", "established", NULL, NULL, "", "established TCP connections", 1);
		emit_col(x, ts, r, TCP_TIME_WAIT, "tcp", "time_wait", NULL, NULL, "", "TCP sockets in TIME_WAIT", 1);
		emit_col(x, ts, r, TCP_SYN_RECV, "tcp", "syn_recv", NULL, NULL, "", "half-open TCP connections", 1);
		break;
	case T_TCP_RETRANSMIT_STATS:
		if (num(r, RT_INTERVAL, &ms) && ms > 0)
			emit_col(x, ts, r, RT_DELTA, "tcp", "retrans_per_s", NULL, NULL, "per_s", "TCP retransmits",
				 1000 / ms);
		emit_col(x, ts, r, RT_RATIO, "tcp", "retransmit_pct", NULL, NULL, "pct", "the TCP retransmit rate", 100);
		counter(x, ts, r, RT_ATTEMPT_FAILS, &x->attempt_fails, "attempt_fails_per_s",
			"failed TCP connection attempts");
		counter(x, ts, r, RT_ESTAB_RESETS, &x->estab_resets, "estab_resets_per_s", "TCP connection resets");
		counter(x, ts, r, RT_IN_ERRS, &x->in_errs, "in_errs_per_s", "TCP segments received in error");
		counter(x, ts, r, RT_ACTIVE_OPENS, &x->active_opens, "active_opens_per_s", "outgoing TCP connections");
		break;
	case T_PRESSURE_METRICS: {
		const struct batch_value *res = batch_row__value(r, PSI_RESOURCE);

		if (res->tag != V_TEXT || res->len >= sizeof(label))
			break;
		batch_row__text(r, PSI_RESOURCE, label, sizeof(label));
		snprintf(what, sizeof(what), "%s pressure (some)", label);
		emit_col(x, ts, r, PSI_SOME, "psi", "some_pct", "resource", label, "pct", what, 1);
		snprintf(what, sizeof(what), "%s pressure (full)", label);
		if (strcmp(label, "cpu"))      /* cpu 'full' is 0 or absent at the system level */
			emit_col(x, ts, r, PSI_FULL, "psi", "full_pct", "resource", label, "pct", what, 1);
		break;
	}
	case T_PROCESS_EVENTS:
		if (batch_row__text_is(r, PROC_EVENT, "exec"))
			x->execs++;
		else if (batch_row__text_is(r, PROC_EVENT, "exit"))
			x->exits++;
		break;
	case T_SYSCALL_EVENTS: {
		/* Slow is what the call did not choose: on the CPU, waiting for
		 * it, blocked.  Rows from before the split count whole. */
		int64_t latency = batch_row__int(r, SLOW_LATENCY, 0);

		if (latency - batch_row__int(r, SLOW_SLEEP, 0) >= x->syscall_slow_ns)
			x->slow_syscalls++;
		break;
	}
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
	struct batch_cursor cur;

	for (unsigned k = 0; k < extract_ntables; k++) {
		enum table_id t = extract_tables[k];

		/* The cursor decodes whole rows; extract__row reads them
		 * through x->cols, as it reads replayed rows. */
		batch_cursor__init(&cur, b, t, no_cols);
		while (batch_cursor__next(&cur))
			extract__row(x, t, cur.values);
	}
	extract__end_tick(x, now_ns);
}
