/* Scheduler tracer, user side: per interval -> sched_events (run-queue
 * latency distribution, context switches), process_cpu_stats (per process
 * that ran), and long run-queue waits -> sched_latency_events.
 */
#include "sched.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../lib/prom.h"
#include "../store/batch.h"
#include "sched.skel.h"
#include "tracer.h"

struct sched_priv {
	struct sched_bpf *skel;
	int ncpus;
	int64_t last_tick_ns;
	struct sched_totals prev;
	uint64_t from_idle;               /* last exported, kept monotonic */
	struct sched_totals *values;      /* ncpus */
};

static const char *const hooks[] = { "sched_wakeup", "sched_wakeup_new", "sched_switch", NULL };
/* The kernel's own run-queue accounting (CONFIG_SCHED_INFO), which the
 * programs read instead of keeping timestamps. */
static const char *const fields[] = { "task_struct.sched_info", NULL };

static int on_event(struct tracer *t, const void *data, size_t size)
{
	const struct sched_event *e = data;
	struct tracer_sink *sink = t->sink;
	struct batch *b = sink__batch(sink);

	if (size < sizeof(*e))
		return 0;
	batch__row(b, T_SCHED_LATENCY_EVENTS);
	batch__int(b, sink__to_real(sink, e->ts_ns));
	sink__put_task(b, &e->task);
	batch__int(b, (int64_t)e->latency_ns);
	batch__int(b, e->cpu);
	sink__put_cgroup(sink, b, &e->task);
	batch__end(b);
	sink__rows_added(sink);
	return 0;
}

static void totals_row(struct tracer *t, struct batch *b, int64_t now_ns, int64_t interval, uint64_t epoch)
{
	struct sched_priv *p = t->priv;
	struct sched_totals cur = { 0 }, *prev = &p->prev;
	uint32_t zero = 0;
	uint64_t max = 0, delta[HIST_BUCKETS], n;

	if (bpf_map__lookup_elem(p->skel->maps.totals, &zero, sizeof(zero), p->values,
				 sizeof(*p->values) * (size_t)p->ncpus, 0))
		return;
	for (int c = 0; c < p->ncpus; c++) {
		const struct sched_totals *v = &p->values[c];

		cur.runq_count += v->runq_count;
		cur.runq_sum_ns += v->runq_sum_ns;
		cur.switches += v->switches;
		cur.voluntary += v->voluntary;
		cur.involuntary += v->involuntary;
		cur.wakeups += v->wakeups;
		for (int k = 0; k < HIST_BUCKETS; k++)
			cur.buckets[k] += v->buckets[k];
		if (v->max_epoch == epoch && v->runq_max_ns > max)
			max = v->runq_max_ns;
	}
	n = cur.runq_count - prev->runq_count;
	for (int k = 0; k < HIST_BUCKETS; k++)
		delta[k] = cur.buckets[k] - prev->buckets[k];
	t->events += cur.switches - prev->switches;

	batch__row(b, T_SCHED_EVENTS);
	batch__int(b, now_ns);
	batch__int(b, interval);
	batch__int(b, (int64_t)n);
	if (n) {
		double pct[3];

		hist_percentiles(delta, n, max, pct);
		for (int q = 0; q < 3; q++)
			batch__real(b, pct[q] / 1e3);
		batch__real(b, (double)max / 1e3);
	} else {
		for (int i = 0; i < 4; i++)
			batch__null(b);
	}
	batch__int(b, (int64_t)(cur.switches - prev->switches));
	batch__int(b, (int64_t)(cur.voluntary - prev->voluntary));
	batch__int(b, (int64_t)(cur.involuntary - prev->involuntary));
	batch__int(b, (int64_t)(cur.wakeups - prev->wakeups));
	batch__hist(b, delta);          /* rollups merge these (store/rollup.h) */
	batch__end(b);
	*prev = cur;
}

struct procs_ctx {
	struct batch *b;
	int64_t now_ns, interval;
};

/* One process_cpu_stats row; counters in struct sched_proc order. */
static void proc_row(struct tracer *t, uint32_t pid, const uint64_t *n, const char *comm, void *ctx)
{
	struct procs_ctx *pc = ctx;
	struct batch *b = pc->b;

	(void)t;
	if (!n[0] && !n[1] && !n[2])
		return;
	batch__row(b, T_PROCESS_CPU_STATS);
	batch__int(b, pc->now_ns);
	batch__int(b, pc->interval);
	batch__int(b, pid);
	batch__text(b, comm);
	for (int i = 0; i < 4; i++)      /* oncpu_ns, voluntary, involuntary, runq_wait_ns */
		batch__int(b, (int64_t)n[i]);
	batch__end(b);
}

static int sched_collect(struct tracer *t, struct batch *b, int64_t now_ns)
{
	struct sched_priv *p = t->priv;
	uint64_t epoch = p->skel->bss->max_epoch;
	uint32_t was = p->skel->bss->active;
	int64_t interval = p->last_tick_ns ? t->mono_ns - p->last_tick_ns : 0;

	/* New events go to the other map and the next interval's maximum. */
	p->skel->bss->active = !was;
	p->skel->bss->max_epoch = epoch + 1;
	p->last_tick_ns = t->mono_ns;
	totals_row(t, b, now_ns, interval, epoch);
	{
		struct procs_ctx pc = { b, now_ns, interval };

		return tracer__drain_procs(t, was ? p->skel->maps.procs1 : p->skel->maps.procs0, 4, proc_row, &pc);
	}
}

/* /metrics: the run-queue latency histogram at the native layout and the
 * switch and wakeup counters, cumulative (collect keeps the last reading). */
static void sched_metrics(struct tracer *t, struct prom *p)
{
	struct sched_priv *sp = t->priv;
	const struct sched_totals *cur = &sp->prev;
	struct prom_labels l;

	/* A difference of counters read one CPU at a time may step back by an
	 * event in flight; a counter must not. */
	if (cur->switches >= cur->voluntary + cur->involuntary &&
	    cur->switches - cur->voluntary - cur->involuntary > sp->from_idle)
		sp->from_idle = cur->switches - cur->voluntary - cur->involuntary;

	prom_family(p, "ksight_runqueue_latency_seconds", PROM_HISTOGRAM,
		    "Run-queue latency: from becoming runnable (wakeup or preemption) to running.");
	tracer_metrics_hist(p, NULL, (const uint64_t *)cur->buckets, (double)cur->runq_sum_ns, HIST_NATIVE);
	prom_family(p, "ksight_context_switches_total", PROM_COUNTER,
		    "Context switches by what the CPU left: a task that blocked (voluntary), a task "
		    "preempted while runnable (involuntary), or the idle task (from_idle).");
	prom_labels_init(&l);
	prom_label(&l, "kind", "voluntary");
	prom_sample_u64(p, "", &l, cur->voluntary);
	prom_labels_init(&l);
	prom_label(&l, "kind", "involuntary");
	prom_sample_u64(p, "", &l, cur->involuntary);
	prom_labels_init(&l);
	prom_label(&l, "kind", "from_idle");
	prom_sample_u64(p, "", &l, sp->from_idle);
	prom_family(p, "ksight_wakeups_total", PROM_COUNTER, "Task wakeups (sched_wakeup and sched_wakeup_new).");
	prom_sample_u64(p, "", NULL, cur->wakeups);
}

static int sched_open(struct tracer *t, const struct config *cfg)
{
	struct sched_priv *p = t->priv;

	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0)
		return -EINVAL;
	p->values = calloc((size_t)p->ncpus, sizeof(*p->values));
	if (!p->values)
		return -ENOMEM;
	p->skel = sched_bpf__open();
	if (!p->skel)
		return -errno;
	p->skel->rodata->ks_rate_cap = tracer_rate_cap_per_cpu(cfg->tracers[TRACER_sched].rate_cap);
	p->skel->rodata->ks_wakeup_bytes = cfg->ringbuf_wakeup_bytes;
	p->skel->rodata->slow_ns = (uint64_t)cfg->sched_slow_ns;
	bpf_map__set_max_entries(p->skel->maps.procs0, (uint32_t)cfg->max_processes);
	bpf_map__set_max_entries(p->skel->maps.procs1, (uint32_t)cfg->max_processes);
	t->skeleton = p->skel->skeleton;
	return 0;
}

static int sched_start(struct tracer *t)
{
	struct sched_priv *p = t->priv;

	return tracer__add_ringbuf(t, p->skel->maps.events, on_event);
}

static void sched_destroy(struct tracer *t)
{
	struct sched_priv *p = t->priv;

	sched_bpf__destroy(p->skel);
	free(p->values);
}

const struct tracer_ops sched_tracer = {
	.name = "sched",
	.summary = "run-queue latency and context switches -> sched_events, process_cpu_stats",
	.hooks = hooks,
	.fields = fields,
	.priv_size = sizeof(struct sched_priv),
	.open = sched_open,
	.start = sched_start,
	.collect = sched_collect,
	.metrics = sched_metrics,
	.destroy = sched_destroy,
};
