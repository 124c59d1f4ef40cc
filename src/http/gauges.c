/* /metrics from the tick's scraped rows (see metrics.h).
 *
 * One declarative table maps a column of a scraper's table to a metric
 * family: the kernel's gauges stay gauges, the kernel's own counters
 * (diskstats, /proc/net/dev, /proc/net/snmp, PSI totals) become counters,
 * and the columns that only exist as per-interval deltas (vmstat) are
 * summed since the agent started.  Rows of tables with one row per device,
 * interface, CPU or resource carry that name as a label: as many series as
 * the host has of them.  Rates and percentiles the rows also hold are left
 * out: Prometheus computes them from the counters.
 */
#include <stdio.h>

#include "../lib/prom.h"
#include "../store/batch.h"
#include "metrics.h"

enum conv {
	AS_IS,
	KB,              /* kB -> bytes */
	SECTORS,         /* 512-byte sectors -> bytes */
	MS,              /* ms -> seconds */
	US,              /* us -> seconds */
	PCT,             /* percent -> ratio */
	DELTA,           /* per-interval count, summed since start */
	DELTA_KB,        /* per-interval KiB, summed since start, in bytes */
};

struct gauge {
	enum table_id table;
	const char *column;
	const char *metric;
	enum prom_type type;
	enum conv conv;
	const char *key;           /* column naming the row (a label), NULL: one row per tick */
	const char *label;         /* that label's name */
	const char *extra_name;    /* a fixed label, e.g. mode="user" */
	const char *extra_value;
	const char *only;          /* take only the row whose key is this, unlabelled */
	const char *help;
};

#define G(t, col, name, conv, help) { t, col, name, PROM_GAUGE, conv, NULL, NULL, NULL, NULL, NULL, help }
#define C(t, col, name, conv, help) { t, col, name, PROM_COUNTER, conv, NULL, NULL, NULL, NULL, NULL, help }
#define GK(t, col, name, conv, key, label, help) { t, col, name, PROM_GAUGE, conv, key, label, NULL, NULL, NULL, help }
#define CK(t, col, name, conv, key, label, help) { t, col, name, PROM_COUNTER, conv, key, label, NULL, NULL, NULL, help }
#define GX(t, col, name, conv, key, label, xn, xv, help) \
	{ t, col, name, PROM_GAUGE, conv, key, label, xn, xv, NULL, help }
#define CX(t, col, name, conv, key, label, xn, xv, help) \
	{ t, col, name, PROM_COUNTER, conv, key, label, xn, xv, NULL, help }
#define GONLY(t, col, name, key, only, help) { t, col, name, PROM_GAUGE, AS_IS, key, NULL, NULL, NULL, only, help }

#define MEM(col, name, help) G(T_MEMORY_METRICS, col, "ksight_memory_" name, KB, help)
#define CPU(col, mode) \
	GX(T_CPU_METRICS, col, "ksight_cpu_usage_ratio", PCT, "cpu", "cpu", "mode", mode, \
	   "Share of CPU time over the last interval per mode (/proc/stat); cpu=\"cpu\" is all CPUs.")
#define DISK_C(col, name, conv, help) CK(T_BLOCK_STATS, col, "ksight_disk_" name, conv, "device_name", "device", help)
#define NET(col, name, help) CK(T_NETWORK_INTERFACE_STATS, col, "ksight_network_" name, AS_IS, "interface_name", "interface", help)
#define TCPS(col) \
	GX(T_TCP_STATS, col, "ksight_tcp_sockets", AS_IS, NULL, NULL, "state", col, \
	   "TCP sockets (IPv4 and IPv6) per state.")
#define SNMP(col, name, help) C(T_TCP_RETRANSMIT_STATS, col, "ksight_tcp_" name, AS_IS, help)
#define VM(col, name, conv, help) C(T_VMSTAT_METRICS, col, "ksight_vmstat_" name, conv, help)

static const struct gauge gauges[] = {
	MEM("total_kb", "total_bytes", "MemTotal."),
	MEM("free_kb", "free_bytes", "MemFree."),
	MEM("available_kb", "available_bytes", "MemAvailable: memory available for new work without swapping."),
	MEM("used_kb", "used_bytes", "Used memory as free(1) computes it: total - free - buffers - cache."),
	MEM("buffers_kb", "buffers_bytes", "Buffers."),
	MEM("cached_kb", "cached_bytes", "Cached (page cache)."),
	MEM("shared_kb", "shared_bytes", "Shmem."),
	MEM("slab_kb", "slab_bytes", "Slab."),
	MEM("sreclaimable_kb", "slab_reclaimable_bytes", "SReclaimable."),
	MEM("active_kb", "active_bytes", "Active."),
	MEM("inactive_kb", "inactive_bytes", "Inactive."),
	MEM("anon_kb", "anon_bytes", "AnonPages."),
	MEM("mapped_kb", "mapped_bytes", "Mapped."),
	MEM("dirty_kb", "dirty_bytes", "Dirty."),
	MEM("writeback_kb", "writeback_bytes", "Writeback."),
	MEM("committed_as_kb", "committed_bytes", "Committed_AS."),
	MEM("commit_limit_kb", "commit_limit_bytes", "CommitLimit."),
	MEM("swap_total_kb", "swap_total_bytes", "SwapTotal."),
	MEM("swap_free_kb", "swap_free_bytes", "SwapFree."),
	G(T_MEMORY_METRICS, "hugepages_total", "ksight_memory_hugepages", AS_IS, "HugePages_Total."),
	G(T_MEMORY_METRICS, "hugepages_free", "ksight_memory_hugepages_free", AS_IS, "HugePages_Free."),

	G(T_LOAD_METRICS, "load1", "ksight_load1", AS_IS, "1-minute load average."),
	G(T_LOAD_METRICS, "load5", "ksight_load5", AS_IS, "5-minute load average."),
	G(T_LOAD_METRICS, "load15", "ksight_load15", AS_IS, "15-minute load average."),
	G(T_LOAD_METRICS, "runnable", "ksight_sched_runnable", AS_IS, "Runnable scheduling entities (/proc/loadavg)."),
	G(T_LOAD_METRICS, "threads", "ksight_threads", AS_IS, "Scheduling entities in total (/proc/loadavg)."),
	G(T_LOAD_METRICS, "uptime_s", "ksight_uptime_seconds", AS_IS, "Seconds since boot (/proc/uptime)."),
	G(T_LOAD_METRICS, "cpus", "ksight_cpus_online", AS_IS, "Online CPUs."),

	CPU("user_pct", "user"),
	CPU("nice_pct", "nice"),
	CPU("system_pct", "system"),
	CPU("idle_pct", "idle"),
	CPU("iowait_pct", "iowait"),
	CPU("irq_pct", "irq"),
	CPU("softirq_pct", "softirq"),
	CPU("steal_pct", "steal"),
	GONLY(T_CPU_METRICS, "procs_running", "ksight_procs_running", "cpu", "cpu", "Runnable threads (/proc/stat)."),
	GONLY(T_CPU_METRICS, "procs_blocked", "ksight_procs_blocked", "cpu", "cpu", "Threads blocked on I/O (/proc/stat)."),

	DISK_C("read_ios", "reads_completed_total", AS_IS, "Reads completed (/proc/diskstats)."),
	DISK_C("read_merges", "reads_merged_total", AS_IS, "Adjacent reads merged."),
	DISK_C("read_sectors", "read_bytes_total", SECTORS, "Bytes read."),
	DISK_C("read_ticks", "read_time_seconds_total", MS, "Time spent on reads, summed over requests."),
	DISK_C("write_ios", "writes_completed_total", AS_IS, "Writes completed."),
	DISK_C("write_merges", "writes_merged_total", AS_IS, "Adjacent writes merged."),
	DISK_C("write_sectors", "written_bytes_total", SECTORS, "Bytes written."),
	DISK_C("write_ticks", "write_time_seconds_total", MS, "Time spent on writes, summed over requests."),
	DISK_C("io_ticks", "io_time_seconds_total", MS, "Time the device had I/O in flight."),
	DISK_C("time_in_queue", "io_time_weighted_seconds_total", MS, "Time spent by all requests, weighted by requests in flight."),
	DISK_C("discard_ios", "discards_completed_total", AS_IS, "Discards completed."),
	DISK_C("flush_ios", "flush_requests_total", AS_IS, "Flushes completed."),
	GK(T_BLOCK_STATS, "in_flight", "ksight_disk_io_now", AS_IS, "device_name", "device", "Requests in flight now."),

	NET("rx_bytes", "receive_bytes_total", "Bytes received (/proc/net/dev)."),
	NET("rx_packets", "receive_packets_total", "Packets received."),
	NET("rx_errors", "receive_errors_total", "Receive errors."),
	NET("rx_drops", "receive_drop_total", "Received packets dropped."),
	NET("tx_bytes", "transmit_bytes_total", "Bytes sent."),
	NET("tx_packets", "transmit_packets_total", "Packets sent."),
	NET("tx_errors", "transmit_errors_total", "Transmit errors."),
	NET("tx_drops", "transmit_drop_total", "Packets dropped on transmit."),

	TCPS("established"), TCPS("syn_sent"), TCPS("syn_recv"), TCPS("fin_wait1"), TCPS("fin_wait2"),
	TCPS("time_wait"), TCPS("close"), TCPS("close_wait"), TCPS("last_ack"), TCPS("listen"), TCPS("closing"),

	SNMP("retrans_segs", "retransmitted_segments_total", "RetransSegs since boot (/proc/net/snmp)."),
	SNMP("out_segs", "segments_sent_total", "OutSegs since boot."),
	SNMP("in_segs", "segments_received_total", "InSegs since boot."),
	SNMP("active_opens", "active_opens_total", "Connections opened by connect() since boot."),
	SNMP("passive_opens", "passive_opens_total", "Connections accepted since boot."),
	SNMP("attempt_fails", "attempt_fails_total", "Connection attempts that failed since boot."),
	SNMP("estab_resets", "established_resets_total", "Established connections reset since boot."),
	SNMP("in_errs", "receive_errors_total", "Segments received in error since boot."),
	SNMP("out_rsts", "resets_sent_total", "Segments sent with RST since boot."),
	G(T_TCP_RETRANSMIT_STATS, "curr_estab", "ksight_tcp_current_established", AS_IS,
	  "Connections in ESTABLISHED or CLOSE_WAIT now."),

	CX(T_PRESSURE_METRICS, "some_total_us", "ksight_pressure_stalled_seconds_total", US, "resource", "resource",
	   "kind", "some", "Time some (kind=\"some\") or all non-idle (kind=\"full\") tasks stalled on the resource (PSI)."),
	CX(T_PRESSURE_METRICS, "full_total_us", "ksight_pressure_stalled_seconds_total", US, "resource", "resource",
	   "kind", "full", ""),

	VM("pgfault", "page_faults_total", DELTA, "Page faults, minor and major, since the agent started (/proc/vmstat)."),
	VM("pgmajfault", "major_page_faults_total", DELTA, "Major page faults since the agent started."),
	VM("pswpin", "pages_swapped_in_total", DELTA, "Pages swapped in since the agent started."),
	VM("pswpout", "pages_swapped_out_total", DELTA, "Pages swapped out since the agent started."),
	VM("pgpgin", "paged_in_bytes_total", DELTA_KB, "Bytes paged in from block devices since the agent started."),
	VM("pgpgout", "paged_out_bytes_total", DELTA_KB, "Bytes paged out to block devices since the agent started."),
	VM("pgscan", "pages_scanned_total", DELTA, "Pages scanned by reclaim since the agent started."),
	VM("pgsteal", "pages_reclaimed_total", DELTA, "Pages reclaimed since the agent started."),
	VM("oom_kill", "oom_kills_total", DELTA, "Processes killed by the OOM killer since the agent started."),
	VM("allocstall", "allocation_stalls_total", DELTA, "Allocations stalled in direct reclaim since the agent started."),
	VM("thp_fault_alloc", "thp_fault_allocs_total", DELTA, "Transparent huge pages allocated at fault time since the agent started."),
};

#define NGAUGES (sizeof(gauges) / sizeof(gauges[0]))

/* A table's first rows are held this long, until its second fill shows
 * how often it comes. */
#define FIRST_GAP_TICKS 30

static bool read_by_gauges(enum table_id t)
{
	for (size_t g = 0; g < NGAUGES; g++)
		if (gauges[g].table == t)
			return true;
	return false;
}

/* Copies the tables of b that the gauges read and b filled into st->held;
 * drops the held rows of a table that has not come for two of its gaps
 * and a tick. */
static void hold(struct metrics_state *st, const struct batch *b)
{
	st->ticks++;
	for (int t = 0; t < T_COUNT; t++) {
		const struct batch_table *from = &b->tables[t];
		struct batch_table *to = &st->held.tables[t];

		if (from->rows && read_by_gauges(t)) {
			st->gap[t] = to->rows ? st->ticks - st->held_tick[t] : 0;
			st->held_tick[t] = st->ticks;
			buf_reset(&to->data);
			buf_add(&to->data, from->data.data, from->data.len);
			to->rows = from->rows;
		} else if (to->rows &&
			   st->ticks - st->held_tick[t] > 2 * (st->gap[t] ? st->gap[t] : FIRST_GAP_TICKS) + 1) {
			buf_free(&to->data);
			to->rows = 0;
		}
	}
}

void metrics_state__free(struct metrics_state *st)
{
	batch__free(&st->held);
}

void metrics_scraped(struct prom *p, const struct batch *b, struct metrics_state *st)
{
	enum { VALUE, KEY };
	struct batch_cursor cur;
	const struct batch_row *r = &cur.row;
	int slot = 0;

	/* The deltas add from this tick's rows only. */
	for (size_t g = 0; b && g < NGAUGES; g++) {
		const struct gauge *e = &gauges[g];
		const char *const names[] = { [VALUE] = e->column, [KEY] = e->key, NULL };

		if (e->conv != DELTA && e->conv != DELTA_KB)
			continue;
		if (slot >= METRICS_SUMS_MAX)
			break;
		batch_cursor__init(&cur, b, e->table, names);
		while (batch_cursor__next(&cur)) {
			const struct batch_value *v = batch_row__value(r, VALUE);

			if (e->only && !batch_row__text_is(r, KEY, e->only))
				continue;
			if (v->tag == V_INT && v->i > 0)
				st->value[slot] += (uint64_t)v->i * (e->conv == DELTA_KB ? 1024 : 1);
		}
		slot++;
	}
	if (b)
		hold(st, b);
	if (!p)
		return;
	slot = 0;
	for (size_t g = 0; g < NGAUGES; g++) {
		const struct gauge *e = &gauges[g];
		const char *const names[] = { [VALUE] = e->column, [KEY] = e->key, NULL };
		bool delta = e->conv == DELTA || e->conv == DELTA_KB;
		int this_slot = delta ? slot++ : -1;

		if (this_slot >= METRICS_SUMS_MAX)
			continue;
		batch_cursor__init(&cur, &st->held, e->table, names);
		while (batch_cursor__next(&cur)) {
			const struct batch_value *v = batch_row__value(r, VALUE);
			struct prom_labels l;
			double x;

			if (v->tag == V_NULL || v->tag == V_TEXT || (e->only && !batch_row__text_is(r, KEY, e->only)))
				continue;
			prom_labels_init(&l);
			if (e->key && e->label) {
				char name[128];

				batch_row__text(r, KEY, name, sizeof(name));
				prom_label(&l, e->label, name);
			}
			if (e->extra_name)
				prom_label(&l, e->extra_name, e->extra_value);
			prom_family(p, e->metric, e->type, e->help);
			if (delta) {
				prom_sample_u64(p, "", &l, st->value[this_slot]);
				continue;
			}
			x = batch_row__real(r, VALUE);
			switch (e->conv) {
			case KB: x *= 1024; break;
			case SECTORS: x *= 512; break;
			case MS: x /= 1e3; break;
			case US: x /= 1e6; break;
			case PCT: x /= 100; break;
			default: break;
			}
			if (v->tag == V_INT && x >= 0 && e->conv != MS && e->conv != US && e->conv != PCT)
				prom_sample_u64(p, "", &l, (uint64_t)x);
			else
				prom_sample(p, "", &l, x);
		}
	}
}
