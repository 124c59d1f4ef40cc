/* OBSERVE: the host model fed from batches (see world.h). */
#include "world.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../store/batch.h"

#define ANOMALY_KEEP_NS (300 * 1000000000LL)

void world__init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	for (int i = 0; i < 3; i++)
		w->psi_some_avg10[i] = NAN;
	w->cpu_busy_pct = NAN;
	w->mem_total_kb = w->mem_available_kb = -1;
}

void world__mark_seen(struct world *w)
{
	for (size_t i = 0; i < w->nsuspects; i++)
		w->suspects[i].fresh = false;
	for (size_t i = 0; i < w->nanomalies; i++)
		w->anomalies[i].fresh = false;
	w->new_finding = false;
}

void world__clock_step(struct world *w, int64_t step_ns)
{
	for (size_t i = 0; i < w->nsuspects; i++) {
		w->suspects[i].first_seen_ns += step_ns;
		w->suspects[i].updated_ns += step_ns;
	}
	for (size_t i = 0; i < w->nanomalies; i++)
		w->anomalies[i].time_ns += step_ns;
}

const struct suspect *world__suspect(const struct world *w, uint32_t pid)
{
	for (size_t i = 0; i < w->nsuspects; i++)
		if (w->suspects[i].pid == pid)
			return &w->suspects[i];
	return NULL;
}

static void remove_suspect(struct world *w, uint32_t pid)
{
	for (size_t i = 0; i < w->nsuspects; i++) {
		if (w->suspects[i].pid != pid)
			continue;
		w->suspects[i] = w->suspects[--w->nsuspects];
		return;
	}
}

void world__put_suspect(struct world *w, const struct suspect *s)
{
	for (size_t i = 0; i < w->nsuspects; i++) {
		if (w->suspects[i].pid == s->pid) {
			int64_t first = w->suspects[i].first_seen_ns;
			/* A suspect that became surer or changed its shape may now
			 * match a rule it did not: look at once, not at the next
			 * interval (the detector writes such updates seldom). */
			bool fresh = w->suspects[i].fresh || s->confidence >= w->suspects[i].confidence + 0.1 ||
				     strcmp(s->pattern, w->suspects[i].pattern) != 0;

			w->new_finding |= fresh;
			w->suspects[i] = *s;
			w->suspects[i].first_seen_ns = first;
			w->suspects[i].fresh = fresh;
			return;
		}
	}
	if (w->nsuspects == WORLD_SUSPECTS_MAX)
		return;
	w->suspects[w->nsuspects] = *s;
	w->suspects[w->nsuspects].fresh = true;
	w->nsuspects++;
	w->new_finding = true;
}

void world__put_anomaly(struct world *w, const struct anomaly_seen *a)
{
	if (w->nanomalies == WORLD_ANOMALIES_MAX) {
		memmove(&w->anomalies[0], &w->anomalies[1], (WORLD_ANOMALIES_MAX - 1) * sizeof(w->anomalies[0]));
		w->nanomalies--;
	}
	w->anomalies[w->nanomalies] = *a;
	w->anomalies[w->nanomalies].fresh = true;
	w->nanomalies++;
	w->new_finding = true;
}

static void keep_top(struct proc_load *top, size_t *n, uint32_t pid, const char *comm, double value)
{
	size_t i;

	if (isnan(value) || value <= 0)
		return;
	if (*n < WORLD_TOP)
		i = (*n)++;
	else if (value <= top[WORLD_TOP - 1].value)
		return;
	else
		i = WORLD_TOP - 1;
	top[i].pid = pid;
	snprintf(top[i].comm, sizeof(top[i].comm), "%s", comm);
	top[i].value = value;
	/* insertion: keep descending order */
	while (i > 0 && top[i].value > top[i - 1].value) {
		struct proc_load tmp = top[i];

		top[i] = top[i - 1];
		top[i - 1] = tmp;
		i--;
	}
}

/* The columns world__feed reads, per table. */
enum { G_PID, G_COMM, G_START, G_CGROUP, G_STATUS, G_PATTERN, G_RATE, G_RSS, G_CONFIDENCE, G_LIMIT,
       G_LIMIT_SOURCE, G_HEADROOM, G_TTL };
static const char *const growth_cols[] = { [G_PID] = "pid", [G_COMM] = "comm", [G_START] = "process_start",
	[G_CGROUP] = "cgroup", [G_STATUS] = "status", [G_PATTERN] = "pattern",
	[G_RATE] = "growth_rate_bytes_per_s", [G_RSS] = "rss_bytes", [G_CONFIDENCE] = "confidence",
	[G_LIMIT] = "limit_bytes", [G_LIMIT_SOURCE] = "limit_source", [G_HEADROOM] = "headroom_bytes",
	[G_TTL] = "time_to_limit_s", NULL };
enum { E_EVENT, E_PID };
static const char *const exit_cols[] = { [E_EVENT] = "event", [E_PID] = "pid", NULL };
enum { A_TIME, A_METRIC, A_VALUE, A_LOW, A_HIGH, A_SCORE, A_EXPLANATION, A_SEVERITY };
static const char *const anomaly_cols[] = { [A_TIME] = "timestamp", [A_METRIC] = "metric", [A_VALUE] = "value",
	[A_LOW] = "low", [A_HIGH] = "high", [A_SCORE] = "score", [A_EXPLANATION] = "explanation",
	[A_SEVERITY] = "severity", NULL };
enum { P_RESOURCE, P_SOME_AVG10 };
static const char *const psi_cols[] = { [P_RESOURCE] = "resource", [P_SOME_AVG10] = "some_avg10", NULL };
enum { C_CPU, C_IDLE };
static const char *const cpu_cols[] = { [C_CPU] = "cpu", [C_IDLE] = "idle_pct", NULL };
enum { M_TOTAL, M_AVAILABLE };
static const char *const mem_cols[] = { [M_TOTAL] = "total_kb", [M_AVAILABLE] = "available_kb", NULL };
enum { PC_PID, PC_COMM, PC_ONCPU, PC_RUNQ };
static const char *const pcpu_cols[] = { [PC_PID] = "pid", [PC_COMM] = "comm", [PC_ONCPU] = "oncpu_ns",
	[PC_RUNQ] = "runq_wait_ns", NULL };
enum { F_PID, F_COMM, F_MINOR, F_MAJOR };
static const char *const fault_cols[] = { [F_PID] = "pid", [F_COMM] = "comm", [F_MINOR] = "minor",
	[F_MAJOR] = "major", NULL };
enum { R_PID, R_COMM };
static const char *const retrans_cols[] = { [R_PID] = "pid", [R_COMM] = "comm", NULL };
enum { IO_DEVICE, IO_READ_P95, IO_WRITE_P95 };
static const char *const io_cols[] = { [IO_DEVICE] = "device", [IO_READ_P95] = "read_p95_us",
	[IO_WRITE_P95] = "write_p95_us", NULL };

void world__feed(struct world *w, const struct batch *b, int64_t now_ns)
{
	struct batch_cursor cur;
	const struct batch_row *r = &cur.row;

	w->now_ns = now_ns;

	batch_cursor__init(&cur, b, T_MEMORY_GROWTH_EVENTS, growth_cols);
	while (batch_cursor__next(&cur)) {
		struct suspect s = { 0 };

		s.pid = (uint32_t)batch_row__int(r, G_PID, 0);
		if (!batch_row__text_is(r, G_STATUS, "suspect")) {
			remove_suspect(w, s.pid);
			continue;
		}
		batch_row__text(r, G_COMM, s.comm, sizeof(s.comm));
		s.process_start = batch_row__int(r, G_START, 0);
		batch_row__text(r, G_CGROUP, s.cgroup, sizeof(s.cgroup));
		batch_row__text(r, G_PATTERN, s.pattern, sizeof(s.pattern));
		s.rate = batch_row__real(r, G_RATE);
		s.rss_bytes = batch_row__int(r, G_RSS, 0);
		s.confidence = batch_row__real(r, G_CONFIDENCE);
		s.limit_bytes = batch_row__int(r, G_LIMIT, -1);
		batch_row__text(r, G_LIMIT_SOURCE, s.limit_source, sizeof(s.limit_source));
		s.headroom_bytes = batch_row__int(r, G_HEADROOM, -1);
		s.time_to_limit_s = batch_row__real(r, G_TTL);
		s.first_seen_ns = s.updated_ns = now_ns;
		world__put_suspect(w, &s);
	}

	batch_cursor__init(&cur, b, T_PROCESS_EVENTS, exit_cols);
	while (batch_cursor__next(&cur))
		if (batch_row__text_is(r, E_EVENT, "exit"))
			remove_suspect(w, (uint32_t)batch_row__int(r, E_PID, 0));

	/* Only alerts: a notice (one metric alone) does not page anyone. */
	batch_cursor__init(&cur, b, T_ANOMALIES, anomaly_cols);
	while (batch_cursor__next(&cur)) {
		struct anomaly_seen a = { 0 };

		if (!batch_row__text_is(r, A_SEVERITY, "alert"))
			continue;
		a.time_ns = batch_row__int(r, A_TIME, 0);
		batch_row__text(r, A_METRIC, a.metric, sizeof(a.metric));
		a.value = batch_row__real(r, A_VALUE);
		a.low = batch_row__real(r, A_LOW);
		a.high = batch_row__real(r, A_HIGH);
		a.score = batch_row__real(r, A_SCORE);
		batch_row__text(r, A_EXPLANATION, a.explanation, sizeof(a.explanation));
		world__put_anomaly(w, &a);
	}
	while (w->nanomalies && w->anomalies[0].time_ns < now_ns - ANOMALY_KEEP_NS) {
		memmove(&w->anomalies[0], &w->anomalies[1], (w->nanomalies - 1) * sizeof(w->anomalies[0]));
		w->nanomalies--;
	}

	batch_cursor__init(&cur, b, T_PRESSURE_METRICS, psi_cols);
	while (batch_cursor__next(&cur)) {
		if (batch_row__text_is(r, P_RESOURCE, "cpu"))
			w->psi_some_avg10[PSI_CPU] = batch_row__real(r, P_SOME_AVG10);
		else if (batch_row__text_is(r, P_RESOURCE, "memory"))
			w->psi_some_avg10[PSI_MEMORY] = batch_row__real(r, P_SOME_AVG10);
		else if (batch_row__text_is(r, P_RESOURCE, "io"))
			w->psi_some_avg10[PSI_IO] = batch_row__real(r, P_SOME_AVG10);
	}

	batch_cursor__init(&cur, b, T_CPU_METRICS, cpu_cols);
	while (batch_cursor__next(&cur))
		if (batch_row__text_is(r, C_CPU, "cpu"))
			w->cpu_busy_pct = 100 - batch_row__real(r, C_IDLE);

	batch_cursor__init(&cur, b, T_MEMORY_METRICS, mem_cols);
	while (batch_cursor__next(&cur)) {
		w->mem_total_kb = batch_row__int(r, M_TOTAL, -1);
		w->mem_available_kb = batch_row__int(r, M_AVAILABLE, -1);
	}

	batch_cursor__init(&cur, b, T_PROCESS_CPU_STATS, pcpu_cols);
	if (batch_cursor__rows(&cur)) {
		char comm[17];

		w->ntop_cpu = w->ntop_runq = 0;
		w->processes_seen = batch_cursor__rows(&cur);
		while (batch_cursor__next(&cur)) {
			uint32_t pid = (uint32_t)batch_row__int(r, PC_PID, 0);

			batch_row__text(r, PC_COMM, comm, sizeof(comm));
			keep_top(w->top_cpu, &w->ntop_cpu, pid, comm, batch_row__real(r, PC_ONCPU));
			keep_top(w->top_runq, &w->ntop_runq, pid, comm, batch_row__real(r, PC_RUNQ));
		}
	}

	batch_cursor__init(&cur, b, T_PAGE_FAULT_STATS, fault_cols);
	if (batch_cursor__rows(&cur)) {
		char comm[17];

		w->ntop_faults = 0;
		while (batch_cursor__next(&cur)) {
			double n = batch_row__real(r, F_MINOR) + batch_row__real(r, F_MAJOR);

			batch_row__text(r, F_COMM, comm, sizeof(comm));
			if (!isnan(n))
				keep_top(w->top_faults, &w->ntop_faults, (uint32_t)batch_row__int(r, F_PID, 0), comm, n);
		}
	}

	batch_cursor__init(&cur, b, T_TCP_RETRANSMIT_EVENTS, retrans_cols);
	if (batch_cursor__rows(&cur)) {
		char comm[17];

		w->ntop_retrans = 0;
		while (batch_cursor__next(&cur)) {
			uint32_t pid = (uint32_t)batch_row__int(r, R_PID, 0);
			size_t i;

			if (!pid)
				continue;
			for (i = 0; i < w->ntop_retrans && w->top_retrans[i].pid != pid; i++)
				;
			if (i < w->ntop_retrans) {
				w->top_retrans[i].value++;
			} else {
				batch_row__text(r, R_COMM, comm, sizeof(comm));
				keep_top(w->top_retrans, &w->ntop_retrans, pid, comm, 1);
			}
		}
	}

	batch_cursor__init(&cur, b, T_IO_LATENCY_STATS, io_cols);
	while (batch_cursor__next(&cur)) {
		char dev[32];
		double p = fmax(batch_row__real(r, IO_READ_P95), batch_row__real(r, IO_WRITE_P95));
		size_t d;

		if (isnan(p))
			continue;
		batch_row__text(r, IO_DEVICE, dev, sizeof(dev));
		for (d = 0; d < w->ndisks && strcmp(w->disks[d].device, dev); d++)
			;
		if (d == w->ndisks) {
			if (w->ndisks == WORLD_DISKS)
				continue;
			memset(&w->disks[d], 0, sizeof(w->disks[d]));
			snprintf(w->disks[d].device, sizeof(w->disks[d].device), "%s", dev);
			w->ndisks++;
		}
		if (w->disks[d].n == WORLD_HISTORY) {
			memmove(&w->disks[d].p95_us[0], &w->disks[d].p95_us[1], (WORLD_HISTORY - 1) * sizeof(double));
			w->disks[d].n--;
		}
		w->disks[d].p95_us[w->disks[d].n++] = p;
	}
}
