/* /metrics rendering (see metrics.h): the agent's own health and the
 * tracers' families; the scraped ones are in gauges.c. */
#include "metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../collect/budget.h"
#include "../collect/collector.h"
#include "../lib/prom.h"
#include "../version.h"

/* process_* as Prometheus client libraries name them, from /proc/self. */
static void self_metrics(struct prom *p, const struct snapshot *s)
{
	unsigned long utime = 0, stime = 0, vsize = 0;
	long rss_pages = 0, ticks = sysconf(_SC_CLK_TCK);
	char text[1024], *after;
	size_t fds = 0;
	FILE *f;
	DIR *d;

	if ((f = fopen("/proc/self/stat", "r"))) {
		size_t n = fread(text, 1, sizeof(text) - 1, f);

		text[n] = '\0';
		fclose(f);
		/* Fields after the command name, which may hold spaces. */
		if ((after = strrchr(text, ')')))
			sscanf(after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %*u %lu %ld",
			       &utime, &stime, &vsize, &rss_pages);
	}
	if ((d = opendir("/proc/self/fd"))) {
		struct dirent *e;

		while ((e = readdir(d)))
			fds += e->d_name[0] != '.';
		closedir(d);
	}
	prom_family(p, "process_cpu_seconds_total", PROM_COUNTER, "CPU time of the agent, user and system.");
	prom_sample(p, "", NULL, (double)(utime + stime) / (double)(ticks > 0 ? ticks : 100));
	prom_family(p, "process_resident_memory_bytes", PROM_GAUGE, "Resident set size of the agent.");
	prom_sample_u64(p, "", NULL, (uint64_t)rss_pages * (uint64_t)sysconf(_SC_PAGESIZE));
	prom_family(p, "process_virtual_memory_bytes", PROM_GAUGE, "Virtual memory size of the agent.");
	prom_sample_u64(p, "", NULL, vsize);
	prom_family(p, "process_open_fds", PROM_GAUGE, "Open file descriptors of the agent.");
	prom_sample_u64(p, "", NULL, fds);
	prom_family(p, "process_start_time_seconds", PROM_GAUGE, "When the agent started, seconds since the epoch.");
	prom_sample(p, "", NULL, (double)s->started_ns / 1e9);
}

static void collector_labels(struct prom_labels *l, const struct snapshot_collector *c)
{
	prom_labels_init(l);
	prom_label(l, "collector", c->name);
	prom_label(l, "kind", c->kind);
}

static void collector_metrics(struct prom *p, const struct snapshot *s)
{
	struct prom_labels l;

	prom_family(p, "ksight_collector_enabled", PROM_GAUGE,
		    "1 when the collector runs, 0 when it is off (see /api/health for why).");
	for (size_t i = 0; i < s->ncollectors; i++) {
		collector_labels(&l, &s->collectors[i]);
		prom_sample_u64(p, "", &l, s->collectors[i].enabled);
	}
	prom_family(p, "ksight_collector_configured", PROM_GAUGE,
		    "1 when the configuration turns the collector on (then enabled 0 means it could not start).");
	for (size_t i = 0; i < s->ncollectors; i++) {
		collector_labels(&l, &s->collectors[i]);
		prom_sample_u64(p, "", &l, s->collectors[i].configured);
	}
	prom_family(p, "ksight_collector_events_total", PROM_COUNTER,
		    "Events a tracer observed or rows a scraper produced since the agent started.");
	for (size_t i = 0; i < s->ncollectors; i++) {
		collector_labels(&l, &s->collectors[i]);
		prom_sample_u64(p, "", &l, s->collectors[i].events_total);
	}
	prom_family(p, "ksight_collector_drops_total", PROM_COUNTER,
		    "Events lost (ring buffer or map full) and failed collects of a tracer, failed reads of a scraper, since start.");
	for (size_t i = 0; i < s->ncollectors; i++) {
		collector_labels(&l, &s->collectors[i]);
		prom_sample_u64(p, "", &l, s->collectors[i].drops_total);
	}
	prom_family(p, "ksight_collector_rate_limited_total", PROM_COUNTER,
		    "Events a tracer dropped on purpose under its configured rate cap, since start.");
	for (size_t i = 0; i < s->ncollectors; i++) {
		if (strcmp(s->collectors[i].kind, "tracer"))
			continue;
		collector_labels(&l, &s->collectors[i]);
		prom_sample_u64(p, "", &l, s->collectors[i].rate_limited_total);
	}
	prom_family(p, "ksight_collector_cost_seconds_total", PROM_COUNTER,
		    "Time the collector thread spent reading this collector, since start.");
	for (size_t i = 0; i < s->ncollectors; i++) {
		collector_labels(&l, &s->collectors[i]);
		prom_sample(p, "", &l, s->collectors[i].cost_seconds_total);
	}
	prom_family(p, "ksight_collector_map_bytes", PROM_GAUGE, "Kernel memory held by a tracer's BPF maps.");
	for (size_t i = 0; i < s->ncollectors; i++) {
		if (strcmp(s->collectors[i].kind, "tracer") || !s->collectors[i].enabled)
			continue;
		collector_labels(&l, &s->collectors[i]);
		prom_sample_u64(p, "", &l, s->collectors[i].map_bytes);
	}
}

static void store_metrics(struct prom *p, const struct snapshot *s)
{
	const struct writer_stats *w = &s->store;

	prom_family(p, "ksight_store_rows_written_total", PROM_COUNTER, "Rows committed to the database.");
	prom_sample_u64(p, "", NULL, w->rows_written);
	prom_family(p, "ksight_store_rows_dropped_total", PROM_COUNTER,
		    "Rows discarded because the database refused writes past agent.queue_bytes.");
	prom_sample_u64(p, "", NULL, w->rows_dropped);
	prom_family(p, "ksight_store_write_errors_total", PROM_COUNTER, "Failed transactions (each one retried).");
	prom_sample_u64(p, "", NULL, w->write_errors);
	prom_family(p, "ksight_store_rows_queued", PROM_GAUGE, "Rows submitted and not yet committed.");
	prom_sample_u64(p, "", NULL, w->rows_queued);
	prom_family(p, "ksight_store_commit_seconds", PROM_SUMMARY, "Time to commit one batch (one transaction).");
	prom_sample(p, "_sum", NULL, w->write_ms_total / 1e3);
	prom_sample_u64(p, "_count", NULL, w->batches_written);
	prom_family(p, "ksight_store_commit_max_seconds", PROM_GAUGE, "Slowest commit since the agent started.");
	prom_sample(p, "", NULL, w->write_ms_max / 1e3);
	prom_family(p, "ksight_store_database_bytes", PROM_GAUGE, "Size of the database file and its WAL.");
	prom_sample(p, "", NULL, (double)s->db_bytes);
	if (!w->retaining)
		return;
	prom_family(p, "ksight_store_cap_bytes", PROM_GAUGE,
		    "retention.max_bytes in force (lowered while the filesystem is nearly full).");
	prom_sample(p, "", NULL, (double)w->retention.cap_bytes);
	prom_family(p, "ksight_store_rows_pruned_total", PROM_COUNTER, "Rows deleted by retention (age or the cap).");
	prom_sample_u64(p, "", NULL, w->retention.rows_pruned);
	prom_family(p, "ksight_store_bytes_freed_total", PROM_COUNTER,
		    "Bytes the database file gave back to the filesystem (incremental vacuum).");
	prom_sample_u64(p, "", NULL, w->retention.bytes_freed);
}

/* How far the detectors are from judging (watch.h's struct watch_learning). */
static void learning_metrics(struct prom *p, const struct snapshot *s)
{
	const struct snapshot_learning *l = &s->learning;
	struct prom_labels lb;

	if (!l->enabled)
		return;
	prom_family(p, "ksight_detect_learning_samples", PROM_GAUGE,
		    "Samples the median metric's detector has seen, at most the probation.");
	prom_sample_u64(p, "", NULL, l->samples);
	prom_family(p, "ksight_detect_learning_needed_samples", PROM_GAUGE,
		    "Samples a detector needs before it flags anything (the probation).");
	prom_sample_u64(p, "", NULL, l->needed);
	prom_family(p, "ksight_detect_metrics", PROM_GAUGE,
		    "Metrics with a detector, by state; seeded ones started from a stored baseline.");
	prom_labels_init(&lb);
	prom_label(&lb, "state", "learning");
	prom_sample_u64(p, "", &lb, l->metrics_learning);
	prom_labels_init(&lb);
	prom_label(&lb, "state", "ready");
	prom_sample_u64(p, "", &lb, l->metrics_ready);
	prom_labels_init(&lb);
	prom_label(&lb, "state", "seeded");
	prom_sample_u64(p, "", &lb, l->metrics_seeded);
}

/* The overhead budget (collect/budget.h): the share measured at the last
 * tick and each shedding tracer's sampling factor in force. */
static void budget_metrics(struct prom *p, struct collector *c)
{
	const struct budget *b = collector__budget(c);
	struct prom_labels l;

	prom_family(p, "ksight_overhead_percent", PROM_GAUGE,
		    "The agent's cost in the last interval: its BPF programs' run time plus its user and system time, "
		    "% of (interval x CPUs).");
	prom_sample(p, "", NULL, b->pct);
	prom_family(p, "ksight_overhead_budget_percent", PROM_GAUGE,
		    "agent.max_overhead_pct in force (0: no budget).");
	prom_sample(p, "", NULL, b->max_pct);
	prom_family(p, "ksight_sample_factor", PROM_GAUGE,
		    "1 at full fidelity; N when a tracer measures 1 in N under the overhead budget (docs/budget.md).");
	for (int i = 0; i < TRACER_COUNT; i++) {
		struct tracer *t = collector__tracer(c, i);

		if (!t->enabled || !t->ops->shed)
			continue;
		prom_labels_init(&l);
		prom_label(&l, "collector", t->ops->name);
		prom_sample_u64(p, "", &l, t->sample_factor);
	}
}

void metrics_render(struct prom *p, struct collector *c, const struct batch *b, const struct snapshot *s,
		    struct metrics_state *st)
{
	struct prom_labels l;

	prom_family(p, "ksight_build_info", PROM_GAUGE, "Always 1; the version of the running agent as a label.");
	prom_labels_init(&l);
	prom_label(&l, "version", KSIGHT_VERSION);
	prom_sample_u64(p, "", &l, 1);
	prom_family(p, "ksight_ticks_total", PROM_COUNTER, "Ticks (collect, scrape, commit) since the agent started.");
	prom_sample_u64(p, "", NULL, s->generation);
	if (c) {
		for (int i = 0; i < TRACER_COUNT; i++) {
			struct tracer *t = collector__tracer(c, i);

			if (t->enabled && t->ops->metrics)
				t->ops->metrics(t, p);
		}
		budget_metrics(p, c);
	}
	metrics_scraped(p, b, st);
	collector_metrics(p, s);
	store_metrics(p, s);
	learning_metrics(p, s);
	self_metrics(p, s);
}
