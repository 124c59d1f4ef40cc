/* Syscall tracer, user side: per-interval latency distribution per syscall
 * -> syscall_stats, slow calls with their latency split (on CPU, run queue,
 * blocked, sleep) -> syscall_events.
 *
 * The kernel keeps cumulative per-CPU counters; every tick this side reads
 * the totals of all syscalls (one batch lookup), then the histograms of only
 * those that ran, and stores the difference from the previous reading, so
 * nothing is reset in the kernel and no increment is lost.
 *
 * Under the overhead budget (tracer ops->shed) only a sample of the calls
 * is timed: count and errors stay exact, the `timed` column says how many
 * calls the histogram, total_ns, percentiles and max cover.
 */
#include "syscall.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../lib/prom.h"
#include "../lib/u64map.h"
#include "../store/batch.h"
#include "syscall.skel.h"
#include "syscall_names.h"
#include "tracer.h"

struct syscall_priv {
	struct syscall_bpf *skel;
	int ncpus;
	int64_t last_tick_ns;
	uint64_t prev_count[SYSCALL_MAX];
	uint64_t prev_errors[SYSCALL_MAX];
	uint64_t prev_timed[SYSCALL_MAX];
	uint64_t prev_sum[SYSCALL_MAX];
	struct u64map prev_hist;          /* nr -> uint64_t[HIST_BUCKETS] */
	struct syscall_totals *totals;    /* SYSCALL_MAX * ncpus */
	uint64_t *hist;                   /* HIST_BUCKETS * ncpus */
};

/* sched_switch follows a call off the CPU and back (with sched_wakeup on a
 * kernel without CONFIG_SCHED_INFO). */
static const char *const hooks[] = { "sys_enter", "sys_exit", "sched_switch", "sched_wakeup", NULL };

const char *syscall_name(uint32_t nr)
{
	if (nr < sizeof(syscall_names) / sizeof(syscall_names[0]) && syscall_names[nr])
		return syscall_names[nr];
	return NULL;
}

static void put_name(struct batch *b, uint32_t nr)
{
	const char *name = syscall_name(nr);
	char buf[32];

	if (!name) {
		snprintf(buf, sizeof(buf), "syscall_%u", nr);
		name = buf;
	}
	batch__text(b, name);
}

static int on_event(struct tracer *t, const void *data, size_t size)
{
	const struct syscall_event *e = data;
	struct tracer_sink *sink = t->sink;
	struct batch *b = sink__batch(sink);

	if (size < sizeof(*e))
		return 0;
	batch__row(b, T_SYSCALL_EVENTS);
	batch__int(b, sink__to_real(sink, e->ts_ns));
	sink__put_task(b, &e->task);
	batch__int(b, e->nr);
	put_name(b, e->nr);
	batch__int(b, (int64_t)e->latency_ns);
	batch__int(b, e->ret);
	sink__put_cgroup(sink, b, &e->task);
	batch__int(b, (int64_t)e->oncpu_ns);
	batch__int(b, (int64_t)e->runq_ns);
	batch__int(b, (int64_t)e->blocked_ns);
	batch__int(b, (int64_t)e->sleep_ns);
	batch__end(b);
	sink__rows_added(sink);
	return 0;
}

/* Sums the per-CPU histogram of nr into out (cumulative). */
static int read_hist(struct syscall_priv *p, uint32_t nr, uint64_t *out)
{
	int fd = bpf_map__fd(p->skel->maps.hist);
	uint32_t first = nr * HIST_BUCKETS, prev = first - 1, next, keys[HIST_BUCKETS];
	__u32 count = HIST_BUCKETS;
	int err;

	err = bpf_map_lookup_batch(fd, first ? &prev : NULL, &next, keys, p->hist, &count, NULL);
	if (err && errno != ENOENT)
		return -errno;
	memset(out, 0, HIST_BUCKETS * sizeof(*out));
	for (uint32_t i = 0; i < count && i < HIST_BUCKETS; i++) {
		uint32_t bucket = keys[i] - first;

		if (keys[i] < first || bucket >= HIST_BUCKETS)
			continue;
		for (int c = 0; c < p->ncpus; c++)
			out[bucket] += p->hist[i * (size_t)p->ncpus + c];
	}
	return 0;
}

static int syscall_collect(struct tracer *t, struct batch *b, int64_t now_ns)
{
	struct syscall_priv *p = t->priv;
	int fd = bpf_map__fd(p->skel->maps.totals);
	uint32_t keys[SYSCALL_MAX], next;
	__u32 count = SYSCALL_MAX;
	uint64_t epoch = p->skel->bss->max_epoch;
	int64_t interval = p->last_tick_ns ? t->mono_ns - p->last_tick_ns : 0;
	uint64_t cur[HIST_BUCKETS], delta[HIST_BUCKETS];

	if (bpf_map_lookup_batch(fd, NULL, &next, keys, p->totals, &count, NULL) && errno != ENOENT)
		return -errno;
	/* Later calls start a new interval for max_ns. */
	p->skel->bss->max_epoch = epoch + 1;
	p->last_tick_ns = t->mono_ns;

	for (uint32_t i = 0; i < count; i++) {
		uint32_t nr = keys[i];
		uint64_t n = 0, errors = 0, timed = 0, sum = 0, max = 0, dn, dtimed;
		uint64_t *prev;

		if (nr >= SYSCALL_MAX)
			continue;
		for (int c = 0; c < p->ncpus; c++) {
			const struct syscall_totals *v = &p->totals[i * (size_t)p->ncpus + c];

			n += v->count;
			errors += v->errors;
			timed += v->timed;
			sum += v->sum_ns;
			if (v->max_epoch == epoch && v->max_ns > max)
				max = v->max_ns;
		}
		dn = n - p->prev_count[nr];
		if (!dn)
			continue;
		dtimed = timed - p->prev_timed[nr];
		prev = u64map_get(&p->prev_hist, nr);
		if (!prev) {
			prev = calloc(HIST_BUCKETS, sizeof(*prev));
			if (!prev)
				return -ENOMEM;
			u64map_put(&p->prev_hist, nr, prev);
		}
		if (!dtimed) {
			/* No call timed (sampled out under the budget): the
			 * histogram did not move; skip reading it. */
			memset(delta, 0, sizeof(delta));
		} else {
			if (read_hist(p, nr, cur))
				continue;
			for (int k = 0; k < HIST_BUCKETS; k++)
				delta[k] = cur[k] - prev[k];
			memcpy(prev, cur, sizeof(cur));
		}
		t->events += dn;

		batch__row(b, T_SYSCALL_STATS);
		batch__int(b, now_ns);
		batch__int(b, interval);
		batch__int(b, nr);
		put_name(b, nr);
		batch__int(b, (int64_t)dn);
		batch__int(b, (int64_t)(errors - p->prev_errors[nr]));
		batch__int(b, (int64_t)(sum - p->prev_sum[nr]));
		{
			double pct[3];

			hist_percentiles(delta, dtimed, max, pct);
			for (int q = 0; q < 3; q++)
				batch__int(b, (int64_t)pct[q]);
		}
		if (max)
			batch__int(b, (int64_t)max);
		else
			batch__null(b);
		batch__hist(b, delta);      /* rollups merge these (store/rollup.h) */
		batch__int(b, (int64_t)dtimed);
		batch__end(b);
		p->prev_count[nr] = n;
		p->prev_timed[nr] = timed;
		p->prev_errors[nr] = errors;
		p->prev_sum[nr] = sum;
	}
	return 0;
}

/* Syscalls with a histogram of their own in /metrics. */
#define METRICS_TOP 32

static int by_time_desc(const void *a, const void *b, void *ctx)
{
	const uint64_t *sum = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return sum[x] < sum[y] ? 1 : sum[x] > sum[y] ? -1 : (x > y) - (x < y);
}

static const char *metric_name(uint32_t nr, char *buf, size_t len)
{
	const char *name = syscall_name(nr);

	if (name)
		return name;
	snprintf(buf, len, "syscall_%u", nr);
	return buf;
}

/* /metrics, from the cumulative readings collect keeps: every syscall
 * together at the native layout; calls and errors of each syscall that ran
 * (at most SYSCALL_MAX label values); and a histogram at powers of four for
 * the METRICS_TOP syscalls with the most time spent since start (re-ranked
 * every tick, so the set changes as the workload does). */
static void syscall_metrics(struct tracer *t, struct prom *p)
{
	struct syscall_priv *sp = t->priv;
	uint64_t all[HIST_BUCKETS] = { 0 }, *hist;
	uint32_t ran[SYSCALL_MAX], nran = 0;
	double all_sum = 0;
	struct prom_labels l;
	char buf[32];

	for (uint32_t nr = 0; nr < SYSCALL_MAX; nr++) {
		if (!(hist = u64map_get(&sp->prev_hist, nr)))
			continue;
		for (int k = 0; k < HIST_BUCKETS; k++)
			all[k] += hist[k];
		all_sum += (double)sp->prev_sum[nr];
		ran[nran++] = nr;
	}
	prom_family(p, "ksight_syscall_latency_seconds", PROM_HISTOGRAM,
		    "Latency of every syscall (entry to exit), all syscalls together.");
	tracer_metrics_hist(p, NULL, all, all_sum, HIST_NATIVE);
	prom_family(p, "ksight_syscall_calls_total", PROM_COUNTER, "Syscalls completed, per syscall.");
	for (uint32_t i = 0; i < nran; i++) {
		prom_labels_init(&l);
		prom_label(&l, "syscall", metric_name(ran[i], buf, sizeof(buf)));
		prom_sample_u64(p, "", &l, sp->prev_count[ran[i]]);
	}
	prom_family(p, "ksight_syscall_errors_total", PROM_COUNTER, "Syscalls that returned an error, per syscall.");
	for (uint32_t i = 0; i < nran; i++) {
		prom_labels_init(&l);
		prom_label(&l, "syscall", metric_name(ran[i], buf, sizeof(buf)));
		prom_sample_u64(p, "", &l, sp->prev_errors[ran[i]]);
	}
	prom_family(p, "ksight_syscall_timed_total", PROM_COUNTER,
		    "Syscalls whose latency was measured, per syscall: the calls the latency histograms cover (fewer "
		    "than ksight_syscall_calls_total while the overhead budget samples).");
	for (uint32_t i = 0; i < nran; i++) {
		prom_labels_init(&l);
		prom_label(&l, "syscall", metric_name(ran[i], buf, sizeof(buf)));
		prom_sample_u64(p, "", &l, sp->prev_timed[ran[i]]);
	}
	qsort_r(ran, nran, sizeof(ran[0]), by_time_desc, sp->prev_sum);
	prom_family(p, "ksight_syscall_latency_by_syscall_seconds", PROM_HISTOGRAM,
		    "Latency of the 32 syscalls with the most time spent since start, buckets at powers of four from 1.024 us.");
	for (uint32_t i = 0; i < nran && i < METRICS_TOP; i++) {
		prom_labels_init(&l);
		prom_label(&l, "syscall", metric_name(ran[i], buf, sizeof(buf)));
		tracer_metrics_hist(p, &l, u64map_get(&sp->prev_hist, ran[i]), (double)sp->prev_sum[ran[i]],
				    HIST_POW4_FROM_1US);
	}
}

/* The overhead budget: time about one call in `factor` (a power of two),
 * from the next call on; counts stay exact. */
static void syscall_shed(struct tracer *t, uint32_t factor)
{
	struct syscall_priv *p = t->priv;
	uint32_t shift = 0;

	while (shift < 30 && (1u << (shift + 1)) <= factor)
		shift++;
	p->skel->bss->shed_shift = shift;
}

static int syscall_open(struct tracer *t, const struct config *cfg)
{
	struct syscall_priv *p = t->priv;

	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0)
		return p->ncpus ? p->ncpus : -EINVAL;
	p->totals = calloc((size_t)SYSCALL_MAX * p->ncpus, sizeof(*p->totals));
	p->hist = calloc((size_t)HIST_BUCKETS * p->ncpus, sizeof(*p->hist));
	if (!p->totals || !p->hist)
		return -ENOMEM;
	p->skel = syscall_bpf__open();
	if (!p->skel)
		return -errno;
	p->skel->rodata->ks_rate_cap = tracer_rate_cap_per_cpu(cfg->tracers[TRACER_syscall].rate_cap);
	p->skel->rodata->ks_wakeup_bytes = cfg->ringbuf_wakeup_bytes;
	p->skel->rodata->slow_ns = (uint64_t)cfg->syscall_slow_ns;
	p->skel->rodata->target_tgid = (uint32_t)cfg->syscall_pid;
	/* The kernel's run-queue accounting splits a parked call's time off
	 * the CPU; without it, a sched_wakeup program marks the wakeups. */
	p->skel->rodata->has_sched_info = tracer_field_exists("task_struct", "sched_info");
	bpf_program__set_autoload(p->skel->progs.sched_wakeup, !p->skel->rodata->has_sched_info);
	t->skeleton = p->skel->skeleton;
	return 0;
}

static int syscall_start(struct tracer *t)
{
	struct syscall_priv *p = t->priv;

	return tracer__add_ringbuf(t, p->skel->maps.events, on_event);
}

static void syscall_destroy(struct tracer *t)
{
	struct syscall_priv *p = t->priv;
	void *prev;

	syscall_bpf__destroy(p->skel);
	for (size_t i = 0; u64map_next(&p->prev_hist, &i, NULL, &prev);)
		free(prev);
	u64map_free(&p->prev_hist);
	free(p->totals);
	free(p->hist);
}

const struct tracer_ops syscall_tracer = {
	.name = "syscall",
	.summary = "per-syscall latency distribution -> syscall_stats, slow calls split into on-CPU, run queue, "
		   "blocked and sleep time -> syscall_events",
	.hooks = hooks,
	.priv_size = sizeof(struct syscall_priv),
	.open = syscall_open,
	.start = syscall_start,
	.collect = syscall_collect,
	.metrics = syscall_metrics,
	.shed = syscall_shed,
	.destroy = syscall_destroy,
};
