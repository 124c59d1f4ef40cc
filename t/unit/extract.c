/* The extractor on synthetic batches with known answers, through its public
 * API only (extract__init, extract__batch): each table's columns become
 * the named samples of extract.h with the right value, unit and group;
 * rates are derived from per-interval counts and cumulative counters;
 * NULL gives no sample; only the all-CPU row counts; labels stop at
 * EXTRACT_MAX_LABELS; per-tick sums (syscalls, slow syscalls, execs,
 * exits) come out at the end of the tick over the time since the last. */
#include <assert.h>

#include "../../src/detect/extract.h"
#include "../../src/store/batch.h"
#include "../lib/tap.h"

#define S 1000000000LL
#define T0 (1700000000LL * S)

/* ---- rows by column name ---- */

struct cell {
	const char *name;
	double num;
	const char *text;
};

#define N(name, v) { name, v, NULL }
#define TXT(name, s) { name, 0, s }
#define ROW(b, t, ts, ...) \
	put_row(b, t, ts, (const struct cell[]){ __VA_ARGS__ }, \
		sizeof((const struct cell[]){ __VA_ARGS__ }) / sizeof(struct cell))

/* One row of t at ts: the named cells, NULL in every other column. */
static void put_row(struct batch *b, enum table_id t, int64_t ts, const struct cell *cells, size_t n)
{
	const struct table *tab = &schema_tables[t];
	size_t used = 0;

	batch__row(b, t);
	batch__int(b, ts);
	for (unsigned c = 1; c < tab->ncolumns; c++) {
		const struct cell *v = NULL;

		for (size_t k = 0; k < n; k++)
			if (!strcmp(cells[k].name, tab->columns[c].name))
				v = &cells[k];
		if (!v) {
			batch__null(b);
			continue;
		}
		used++;
		if (tab->columns[c].type == COL_TEXT)
			batch__text(b, v->text);
		else if (tab->columns[c].type == COL_INT)
			batch__int(b, (int64_t)v->num);
		else
			batch__real(b, v->num);
	}
	batch__end(b);
	if (used != n) {
		printf("Bail out! a cell of this test names no column of %s\n", tab->name);
		exit(1);
	}
}

/* ---- what the extractor emitted ---- */

struct got {
	int64_t ts;
	char name[EXTRACT_NAME_MAX], group[EXTRACT_NAME_MAX], unit[16];
	double value;
};

static struct got got[512];
static size_t ngot;

static void collect(void *ctx, const struct metric_sample *s)
{
	struct got *g = &got[ngot++];

	(void)ctx;
	assert(ngot <= sizeof(got) / sizeof(got[0]));
	g->ts = s->ts;
	snprintf(g->name, sizeof(g->name), "%s", s->name);
	snprintf(g->group, sizeof(g->group), "%s", s->group);
	snprintf(g->unit, sizeof(g->unit), "%s", s->unit);
	g->value = s->value;
}

static const struct got *find(const char *name)
{
	for (size_t i = 0; i < ngot; i++)
		if (!strcmp(got[i].name, name))
			return &got[i];
	return NULL;
}

static size_t count_prefix(const char *prefix)
{
	size_t n = 0;

	for (size_t i = 0; i < ngot; i++)
		n += !strncmp(got[i].name, prefix, strlen(prefix));
	return n;
}

/* name was emitted once at ts with value (within 1e-9 relative). */
static void sample_is(const char *name, int64_t ts, double value)
{
	const struct got *g = find(name);

	ok(g && g->ts == ts && fabs(g->value - value) <= 1e-9 * fmax(1, fabs(value)), "%s = %g", name, value);
	if (g && (g->ts != ts || fabs(g->value - value) > 1e-9 * fmax(1, fabs(value))))
		diag("got %g at %lld", g->value, (long long)(g->ts - T0));
	else if (!g)
		diag("no sample named %s", name);
}

int main(void)
{
	struct batch b;
	struct extract x;
	const struct got *g;
	char name[64];

	plan(37);
	batch__init(&b);
	extract__init(&x, collect, NULL);

	/* ---- tick 1 at T0 ---- */
	ROW(&b, T_CPU_METRICS, T0, TXT("cpu", "cpu"), N("idle_pct", 70), N("iowait_pct", 5), N("ctxt_per_sec", 1000),
	    N("procs_running", 3));
	ROW(&b, T_CPU_METRICS, T0, TXT("cpu", "cpu0"), N("idle_pct", 10), N("iowait_pct", 0));
	ROW(&b, T_MEMORY_METRICS, T0, N("available_kb", 1000000), N("used_kb", 500000));
	ROW(&b, T_VMSTAT_METRICS, T0, N("interval_ms", 500), N("pgfault", 100), N("pgmajfault", 3), N("pswpin", 1),
	    N("pswpout", 3));
	ROW(&b, T_IO_LATENCY_STATS, T0, TXT("device", "vda"), N("read_p95_us", 250));
	for (int k = 0; k < 9; k++) {
		snprintf(name, sizeof(name), "dev%d", k);
		ROW(&b, T_BLOCK_STATS, T0, TXT("device_name", name), N("read_iops", 10 + k), N("util_pct", 50));
	}
	ROW(&b, T_NETWORK_INTERFACE_STATS, T0, TXT("interface_name", "eth0"), N("rx_bytes_per_sec", 5000),
	    N("rx_errors_per_sec", 1), N("tx_drops_per_sec", 2));
	ROW(&b, T_NETWORK_INTERFACE_STATS, T0, TXT("interface_name", "lo"), N("rx_bytes_per_sec", 10));
	ROW(&b, T_TCP_RETRANSMIT_STATS, T0, N("interval_ms", 1000), N("retrans_segs_delta", 7),
	    N("retransmit_ratio", 0.02), N("attempt_fails", 100));
	ROW(&b, T_PRESSURE_METRICS, T0, TXT("resource", "cpu"), N("some_stall_pct", 3), N("full_stall_pct", 1));
	ROW(&b, T_PRESSURE_METRICS, T0, TXT("resource", "io"), N("some_stall_pct", 4), N("full_stall_pct", 2));
	ROW(&b, T_SYSCALL_STATS, T0, N("count", 1000), N("errors", 10));
	ROW(&b, T_PROCESS_EVENTS, T0, TXT("event", "exec"));
	ngot = 0;
	extract__batch(&x, &b, T0);

	sample_is("cpu.busy_pct", T0, 25);
	sample_is("cpu.iowait_pct", T0, 5);
	sample_is("cpu.ctxt_per_s", T0, 1000);
	sample_is("cpu.procs_running", T0, 3);
	ok(!find("cpu.forks_per_s") && !find("cpu.procs_blocked"), "NULL columns give no sample");
	is(count_prefix("cpu.busy_pct"), 1, "only the all-CPU row counts (cpu0 is left out)");
	g = find("cpu.busy_pct");
	ok(g && !strcmp(g->group, "cpu") && !strcmp(g->unit, "pct"), "cpu.busy_pct: group cpu, unit pct");
	sample_is("mem.available_kb", T0, 1000000);
	sample_is("mem.used_kb", T0, 500000);
	/* vmstat holds counts per interval_ms: per second is count * 1000 / 500. */
	sample_is("vm.pgfault_per_s", T0, 200);
	sample_is("vm.pgmajfault_per_s", T0, 6);
	sample_is("vm.swap_pages_per_s", T0, 8);
	sample_is("io.read_p95_us{device=vda}", T0, 250);
	ok(!find("io.write_p95_us{device=vda}"), "a latency the kernel did not give is no sample (not zero)");
	g = find("io.read_p95_us{device=vda}");
	ok(g && !strcmp(g->group, "io{device=vda}") && !strcmp(g->unit, "us"), "a device's metrics are its group");
	sample_is("io.read_iops{device=dev0}", T0, 10);
	sample_is("io.util_pct{device=dev6}", T0, 50);
	/* vda and dev0..dev6 are the first EXTRACT_MAX_LABELS devices. */
	is(count_prefix("io.read_iops{"), EXTRACT_MAX_LABELS - 1, "devices past the first %d are left out",
	   EXTRACT_MAX_LABELS);
	ok(!find("io.read_iops{device=dev7}") && !find("io.read_iops{device=dev8}"), "dev7 and dev8 have no samples");
	sample_is("net.rx_bytes_per_s{iface=eth0}", T0, 5000);
	sample_is("net.errors_per_s{iface=eth0}", T0, 3);
	ok(find("net.rx_bytes_per_s{iface=lo}") && !find("net.errors_per_s{iface=lo}"),
	   "no error column at all gives no error sample");
	sample_is("tcp.retrans_per_s", T0, 7);
	sample_is("tcp.retransmit_pct", T0, 2);
	ok(!find("tcp.attempt_fails_per_s"), "a cumulative counter gives no rate at its first reading");
	sample_is("psi.some_pct{resource=cpu}", T0, 3);
	ok(!find("psi.full_pct{resource=cpu}"), "no 'full' for cpu pressure");
	sample_is("psi.full_pct{resource=io}", T0, 2);
	ok(!find("syscall.calls_per_s") && !find("proc.execs_per_s"), "no per-tick rate at the first tick");

	/* ---- tick 2 at T0 + 2 s ---- */
	batch__clear(&b);
	ROW(&b, T_TCP_RETRANSMIT_STATS, T0 + 2 * S, N("interval_ms", 2000), N("attempt_fails", 110));
	ROW(&b, T_SYSCALL_STATS, T0 + 2 * S, N("count", 600), N("errors", 10));
	ROW(&b, T_SYSCALL_STATS, T0 + 2 * S, N("count", 400), N("errors", 0));
	for (int k = 0; k < 4; k++)
		ROW(&b, T_SYSCALL_EVENTS, T0 + 2 * S, N("latency_ns", 20000000));
	/* Slow is latency less sleep_ns, at least 10 ms: a 2 s wait for input
	 * is not slow, 20 ms with 5 asleep is, 12 ms with 3 asleep is not. */
	ROW(&b, T_SYSCALL_EVENTS, T0 + 2 * S, N("latency_ns", 2000000000), N("sleep_ns", 1999000000));
	ROW(&b, T_SYSCALL_EVENTS, T0 + 2 * S, N("latency_ns", 20000000), N("sleep_ns", 5000000));
	ROW(&b, T_SYSCALL_EVENTS, T0 + 2 * S, N("latency_ns", 12000000), N("sleep_ns", 3000000));
	for (int k = 0; k < 3; k++)
		ROW(&b, T_PROCESS_EVENTS, T0 + 2 * S, TXT("event", "exec"));
	ROW(&b, T_PROCESS_EVENTS, T0 + 2 * S, TXT("event", "exit"));
	ROW(&b, T_PROCESS_EVENTS, T0 + 2 * S, TXT("event", "fork"));
	ngot = 0;
	extract__batch(&x, &b, T0 + 2 * S);

	/* attempt_fails went 100 -> 110 in 2 s. */
	sample_is("tcp.attempt_fails_per_s", T0 + 2 * S, 5);
	/* The tick's sums over the 2 s since the last tick. */
	sample_is("syscall.calls_per_s", T0 + 2 * S, 500);
	sample_is("syscall.errors_per_s", T0 + 2 * S, 5);
	sample_is("syscall.error_pct", T0 + 2 * S, 1);
	sample_is("syscall.slow_per_s", T0 + 2 * S, 2.5);   /* 5 slow calls of 7 rows */
	sample_is("proc.execs_per_s", T0 + 2 * S, 1.5);
	sample_is("proc.exits_per_s", T0 + 2 * S, 0.5);
	ok(!find("mem.available_kb") && !find("cpu.busy_pct"), "a table without rows this tick gives no sample");

	batch__free(&b);
	return done_testing();
}
