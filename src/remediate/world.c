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

/* --- reading rows by column name --- */

struct cols {
	const struct table *t;
	int idx[24];
};

static bool cols_find(struct cols *c, const char *table, const char *const *names)
{
	c->t = schema_find(table);
	for (int i = 0; names[i]; i++)
		c->idx[i] = c->t ? schema_column(c->t, names[i]) : -1;
	return c->t != NULL;
}

static double num(const struct batch_value *v, int idx)
{
	if (idx < 0)
		return NAN;
	if (v[idx].tag == V_INT)
		return (double)v[idx].i;
	if (v[idx].tag == V_REAL)
		return v[idx].r;
	return NAN;
}

static void text(const struct batch_value *v, int idx, char *out, size_t size)
{
	if (idx >= 0 && v[idx].tag == V_TEXT)
		snprintf(out, size, "%.*s", (int)v[idx].len, v[idx].s);
	else
		out[0] = '\0';
}

static bool text_is(const struct batch_value *v, int idx, const char *s)
{
	return idx >= 0 && v[idx].tag == V_TEXT && v[idx].len == strlen(s) && !memcmp(v[idx].s, s, v[idx].len);
}

/* Visits every row of table c->t in b. */
#define FOR_ROWS(b, c, v)                                                              \
	for (size_t _pos = 0, _r = 0;                                                  \
	     (c)->t && _r < (b)->tables[schema_id((c)->t)].rows &&                     \
	     (batch__read_row((b), schema_id((c)->t), &_pos, (v)), 1); _r++)

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

void world__feed(struct world *w, const struct batch *b, int64_t now_ns)
{
	struct batch_value v[64];
	struct cols c;

	w->now_ns = now_ns;

	static const char *const growth[] = { "pid", "comm", "process_start", "cgroup", "status", "pattern",
		"growth_rate_bytes_per_s", "rss_bytes", "confidence", "limit_bytes", "limit_source", "headroom_bytes",
		"time_to_limit_s", NULL };
	if (cols_find(&c, "memory_growth_events", growth)) {
		FOR_ROWS(b, &c, v) {
			struct suspect s = { 0 };

			s.pid = (uint32_t)num(v, c.idx[0]);
			if (!text_is(v, c.idx[4], "suspect")) {
				remove_suspect(w, s.pid);
				continue;
			}
			text(v, c.idx[1], s.comm, sizeof(s.comm));
			s.process_start = (int64_t)num(v, c.idx[2]);
			text(v, c.idx[3], s.cgroup, sizeof(s.cgroup));
			text(v, c.idx[5], s.pattern, sizeof(s.pattern));
			s.rate = num(v, c.idx[6]);
			s.rss_bytes = (int64_t)num(v, c.idx[7]);
			s.confidence = num(v, c.idx[8]);
			s.limit_bytes = isnan(num(v, c.idx[9])) ? -1 : (int64_t)num(v, c.idx[9]);
			text(v, c.idx[10], s.limit_source, sizeof(s.limit_source));
			s.headroom_bytes = isnan(num(v, c.idx[11])) ? -1 : (int64_t)num(v, c.idx[11]);
			s.time_to_limit_s = num(v, c.idx[12]);
			s.first_seen_ns = s.updated_ns = now_ns;
			world__put_suspect(w, &s);
		}
	}

	static const char *const exits[] = { "event", "pid", NULL };
	if (cols_find(&c, "process_events", exits)) {
		FOR_ROWS(b, &c, v)
			if (text_is(v, c.idx[0], "exit"))
				remove_suspect(w, (uint32_t)num(v, c.idx[1]));
	}

	/* Only alerts: a notice (one metric alone) does not page anyone. */
	static const char *const anomalies[] = { "timestamp", "metric", "value", "low", "high", "score",
		"explanation", "severity", NULL };
	if (cols_find(&c, "anomalies", anomalies)) {
		FOR_ROWS(b, &c, v) {
			struct anomaly_seen a = { 0 };

			if (!text_is(v, c.idx[7], "alert"))
				continue;
			a.time_ns = (int64_t)num(v, c.idx[0]);
			text(v, c.idx[1], a.metric, sizeof(a.metric));
			a.value = num(v, c.idx[2]);
			a.low = num(v, c.idx[3]);
			a.high = num(v, c.idx[4]);
			a.score = num(v, c.idx[5]);
			text(v, c.idx[6], a.explanation, sizeof(a.explanation));
			world__put_anomaly(w, &a);
		}
	}
	while (w->nanomalies && w->anomalies[0].time_ns < now_ns - ANOMALY_KEEP_NS) {
		memmove(&w->anomalies[0], &w->anomalies[1], (w->nanomalies - 1) * sizeof(w->anomalies[0]));
		w->nanomalies--;
	}

	static const char *const psi[] = { "resource", "some_avg10", NULL };
	if (cols_find(&c, "pressure_metrics", psi)) {
		FOR_ROWS(b, &c, v) {
			if (text_is(v, c.idx[0], "cpu"))
				w->psi_some_avg10[PSI_CPU] = num(v, c.idx[1]);
			else if (text_is(v, c.idx[0], "memory"))
				w->psi_some_avg10[PSI_MEMORY] = num(v, c.idx[1]);
			else if (text_is(v, c.idx[0], "io"))
				w->psi_some_avg10[PSI_IO] = num(v, c.idx[1]);
		}
	}

	static const char *const cpu[] = { "cpu", "idle_pct", NULL };
	if (cols_find(&c, "cpu_metrics", cpu)) {
		FOR_ROWS(b, &c, v)
			if (text_is(v, c.idx[0], "cpu"))
				w->cpu_busy_pct = 100 - num(v, c.idx[1]);
	}

	static const char *const mem[] = { "total_kb", "available_kb", NULL };
	if (cols_find(&c, "memory_metrics", mem)) {
		FOR_ROWS(b, &c, v) {
			w->mem_total_kb = (int64_t)num(v, c.idx[0]);
			w->mem_available_kb = (int64_t)num(v, c.idx[1]);
		}
	}

	static const char *const pcpu[] = { "pid", "comm", "oncpu_ns", "runq_wait_ns", NULL };
	if (cols_find(&c, "process_cpu_stats", pcpu) && b->tables[schema_id(c.t)].rows) {
		char comm[17];

		w->ntop_cpu = w->ntop_runq = 0;
		w->processes_seen = b->tables[schema_id(c.t)].rows;
		FOR_ROWS(b, &c, v) {
			uint32_t pid = (uint32_t)num(v, c.idx[0]);

			text(v, c.idx[1], comm, sizeof(comm));
			keep_top(w->top_cpu, &w->ntop_cpu, pid, comm, num(v, c.idx[2]));
			keep_top(w->top_runq, &w->ntop_runq, pid, comm, num(v, c.idx[3]));
		}
	}

	static const char *const faults[] = { "pid", "comm", "minor", "major", NULL };
	if (cols_find(&c, "page_fault_stats", faults) && b->tables[schema_id(c.t)].rows) {
		char comm[17];

		w->ntop_faults = 0;
		FOR_ROWS(b, &c, v) {
			double n = num(v, c.idx[2]) + num(v, c.idx[3]);

			text(v, c.idx[1], comm, sizeof(comm));
			if (!isnan(n))
				keep_top(w->top_faults, &w->ntop_faults, (uint32_t)num(v, c.idx[0]), comm, n);
		}
	}

	static const char *const retrans[] = { "pid", "comm", NULL };
	if (cols_find(&c, "tcp_retransmit_events", retrans) && b->tables[schema_id(c.t)].rows) {
		char comm[17];

		w->ntop_retrans = 0;
		FOR_ROWS(b, &c, v) {
			uint32_t pid = isnan(num(v, c.idx[0])) ? 0 : (uint32_t)num(v, c.idx[0]);
			size_t i;

			if (!pid)
				continue;
			for (i = 0; i < w->ntop_retrans && w->top_retrans[i].pid != pid; i++)
				;
			if (i < w->ntop_retrans) {
				w->top_retrans[i].value++;
			} else {
				text(v, c.idx[1], comm, sizeof(comm));
				keep_top(w->top_retrans, &w->ntop_retrans, pid, comm, 1);
			}
		}
	}

	static const char *const io[] = { "device", "read_p95_us", "write_p95_us", NULL };
	if (cols_find(&c, "io_latency_stats", io)) {
		FOR_ROWS(b, &c, v) {
			char dev[32];
			double p = fmax(num(v, c.idx[1]), num(v, c.idx[2]));
			size_t d;

			if (isnan(p))
				continue;
			text(v, c.idx[0], dev, sizeof(dev));
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
}
