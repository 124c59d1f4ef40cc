/* Page fault tracer, user side: per interval and process ->
 * page_fault_stats, sampled faults -> page_fault_events.
 *
 * start() opens the perf software events page-faults-min and -maj on every
 * CPU and attaches the completion programs; when that is not possible (no
 * perf events, perf_event_paranoid, ...) the tracer keeps counting faults
 * by access type and says why minor/major and latency are missing.
 */
#include "pagefault.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../config/config.h"
#include "../lib/prom.h"
#include "../store/batch.h"
#include "pagefault.skel.h"
#include "tracer.h"

#define PERF_LINKS_MAX 1024

struct pagefault_priv {
	struct pagefault_bpf *skel;
	int ncpus;
	int64_t last_tick_ns;
	bool completion;                  /* wanted by the config */
	struct bpf_link *perf_links[PERF_LINKS_MAX];
	size_t nperf;
	struct pf_proc total;             /* every fault since start (for /metrics) */
};

static const char *const hooks[] = { "page_fault_user", NULL };

static const char *access_name(uint32_t error_code)
{
	if (error_code & PF_ERR_INSTR)
		return "exec";
	return error_code & PF_ERR_WRITE ? "write" : "read";
}

static int on_event(struct tracer *t, const void *data, size_t size)
{
	const struct pf_event *e = data;
	struct tracer_sink *sink = t->sink;
	struct batch *b = sink__batch(sink);
	/* A completion without a seen start (a kernel-mode fault on a user
	 * address) has no access type. */
	bool access_known = e->type == PF_UNKNOWN || e->latency_ns;

	if (size < sizeof(*e))
		return 0;
	batch__row(b, T_PAGE_FAULT_EVENTS);
	batch__int(b, sink__to_real(sink, e->ts_ns));
	sink__put_task(b, &e->task);
	batch__text(b, e->type == PF_MAJOR ? "major" : e->type == PF_MINOR ? "minor" : NULL);
	batch__text(b, access_known ? access_name(e->error_code) : NULL);
	batch__int(b, (int64_t)e->address);
	if (e->latency_ns)
		batch__int(b, (int64_t)e->latency_ns);
	else
		batch__null(b);
	sink__put_cgroup(sink, b, &e->task);
	batch__end(b);
	sink__rows_added(sink);
	return 0;
}

static void put_avg(struct batch *b, uint64_t sum, uint64_t n)
{
	if (n)
		batch__real(b, (double)sum / (double)n / 1e3);
	else
		batch__null(b);
}

struct procs_ctx {
	struct batch *b;
	int64_t now_ns, interval;
	bool typed;                  /* minor/major known (perf events attached) */
};

/* One page_fault_stats row; counters in struct pf_proc order. */
static void proc_row(struct tracer *t, uint32_t pid, const uint64_t *n, const char *comm, void *ctx)
{
	const struct pf_proc *sum = (const void *)n;   /* same layout: counters first */
	struct procs_ctx *pc = ctx;
	struct batch *b = pc->b;

	struct pagefault_priv *p = t->priv;

	t->events += pc->typed ? sum->minor + sum->major : sum->reads + sum->writes + sum->execs;
	p->total.minor += sum->minor;
	p->total.major += sum->major;
	p->total.reads += sum->reads;
	p->total.writes += sum->writes;
	p->total.execs += sum->execs;
	p->total.minor_lat_ns += sum->minor_lat_ns;
	p->total.minor_timed += sum->minor_timed;
	p->total.major_lat_ns += sum->major_lat_ns;
	p->total.major_timed += sum->major_timed;
	batch__row(b, T_PAGE_FAULT_STATS);
	batch__int(b, pc->now_ns);
	batch__int(b, pc->interval);
	batch__int(b, pid);
	batch__text(b, comm);
	if (pc->typed) {
		batch__int(b, (int64_t)sum->minor);
		batch__int(b, (int64_t)sum->major);
	} else {
		batch__null(b);
		batch__null(b);
	}
	batch__int(b, (int64_t)sum->reads);
	batch__int(b, (int64_t)sum->writes);
	batch__int(b, (int64_t)sum->execs);
	put_avg(b, sum->minor_lat_ns, sum->minor_timed);
	put_avg(b, sum->major_lat_ns, sum->major_timed);
	if (pc->typed) {
		batch__int(b, (int64_t)sum->minor_timed);
		batch__int(b, (int64_t)sum->major_timed);
	} else {
		batch__null(b);
		batch__null(b);
	}
	batch__end(b);
}

/* The per-CPU accumulators of one half (struct pf_acc on every CPU): read
 * them, then empty them for when the half is active again, keeping each
 * CPU's countdowns. */
static int read_accs(struct pagefault_priv *p, uint32_t half, struct pf_acc *accs)
{
	int fd = bpf_map__fd(p->skel->maps.cpu_acc), err;

	if (bpf_map_lookup_elem(fd, &half, accs))
		return -errno;
	{
		struct pf_acc empty[p->ncpus];

		memset(empty, 0, sizeof(empty));
		for (int c = 0; c < p->ncpus; c++) {
			empty[c].until_timed = accs[c].until_timed;
			empty[c].since_event = accs[c].since_event;
		}
		err = bpf_map_update_elem(fd, &half, empty, BPF_ANY);
	}
	return err ? -errno : 0;
}

struct acc_ctx {
	struct procs_ctx *pc;
	struct pf_acc *accs;
	int ncpus;
};

static void add_acc(uint64_t *n, const struct pf_acc *a)
{
	const uint64_t *v = (const void *)&a->n;

	for (int i = 0; i < PF_COUNTERS; i++)
		n[i] += v[i];
}

/* A hash row, with what the accumulators still held for the same process. */
static void proc_row_acc(struct tracer *t, uint32_t pid, const uint64_t *n, const char *comm, void *ctx)
{
	struct acc_ctx *ac = ctx;
	uint64_t sum[PF_COUNTERS];

	memcpy(sum, n, sizeof(sum));
	for (int c = 0; c < ac->ncpus; c++) {
		struct pf_acc *a = &ac->accs[c];

		if (a->n.comm[0] && a->tgid == pid) {
			add_acc(sum, a);
			a->n.comm[0] = 0;        /* taken */
		}
	}
	proc_row(t, pid, sum, comm, ac->pc);
}

static int pagefault_collect(struct tracer *t, struct batch *b, int64_t now_ns)
{
	struct pagefault_priv *p = t->priv;
	uint32_t was = p->skel->bss->active;
	struct procs_ctx pc = { b, now_ns, p->last_tick_ns ? t->mono_ns - p->last_tick_ns : 0,
				p->skel->bss->completion_hooks };
	struct pf_acc *accs = calloc((size_t)p->ncpus, sizeof(*accs));
	struct acc_ctx ac = { &pc, accs, p->ncpus };
	int err;

	if (!accs)
		return -ENOMEM;
	p->skel->bss->active = !was;
	p->last_tick_ns = t->mono_ns;
	err = read_accs(p, was, accs);
	if (err)
		memset(accs, 0, (size_t)p->ncpus * sizeof(*accs));
	err = tracer__drain_procs(t, was ? p->skel->maps.procs1 : p->skel->maps.procs0, PF_COUNTERS, proc_row_acc,
				  &ac);
	/* Processes only the accumulators saw this interval (one row each,
	 * their CPUs summed). */
	for (int c = 0; c < p->ncpus; c++) {
		uint64_t sum[PF_COUNTERS] = { 0 };
		char comm[KS_COMM_LEN + 1] = "";

		if (!accs[c].n.comm[0])
			continue;
		memcpy(comm, accs[c].n.comm, KS_COMM_LEN);
		for (int d = c; d < p->ncpus; d++) {
			if (accs[d].n.comm[0] && accs[d].tgid == accs[c].tgid) {
				add_acc(sum, &accs[d]);
				if (d != c)
					accs[d].n.comm[0] = 0;
			}
		}
		accs[c].n.comm[0] = 0;
		proc_row(t, accs[c].tgid, sum, comm, &pc);
	}
	free(accs);
	return err;
}

/* /metrics: faults since start by access type, and by minor/major with
 * their latency when the completion events are attached (otherwise those
 * families are absent, not zero). */
static void pagefault_metrics(struct tracer *t, struct prom *p)
{
	struct pagefault_priv *pp = t->priv;
	const struct pf_proc *tot = &pp->total;
	struct prom_labels l;

	prom_family(p, "ksight_page_faults_by_access_total", PROM_COUNTER,
		    "User page faults by access: read, write or instruction fetch (exec).");
	prom_labels_init(&l);
	prom_label(&l, "access", "read");
	prom_sample_u64(p, "", &l, tot->reads);
	prom_labels_init(&l);
	prom_label(&l, "access", "write");
	prom_sample_u64(p, "", &l, tot->writes);
	prom_labels_init(&l);
	prom_label(&l, "access", "exec");
	prom_sample_u64(p, "", &l, tot->execs);
	if (!pp->skel->bss->completion_hooks)
		return;
	prom_family(p, "ksight_page_faults_total", PROM_COUNTER, "Page faults completed, minor or major (needed I/O).");
	prom_labels_init(&l);
	prom_label(&l, "type", "minor");
	prom_sample_u64(p, "", &l, tot->minor);
	prom_labels_init(&l);
	prom_label(&l, "type", "major");
	prom_sample_u64(p, "", &l, tot->major);
	prom_family(p, "ksight_page_fault_latency_seconds", PROM_SUMMARY,
		    "Page fault entry to completion, over the faults timed (one in tracers.pagefault.time_every per CPU).");
	prom_labels_init(&l);
	prom_label(&l, "type", "minor");
	prom_sample(p, "_sum", &l, (double)tot->minor_lat_ns / 1e9);
	prom_sample_u64(p, "_count", &l, tot->minor_timed);
	prom_labels_init(&l);
	prom_label(&l, "type", "major");
	prom_sample(p, "_sum", &l, (double)tot->major_lat_ns / 1e9);
	prom_sample_u64(p, "_count", &l, tot->major_timed);
}

static int pagefault_open(struct tracer *t, const struct config *cfg)
{
	struct pagefault_priv *p = t->priv;

	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0)
		return -EINVAL;
	p->skel = pagefault_bpf__open();
	if (!p->skel)
		return -errno;
	p->completion = cfg->pagefault_completion;
	p->skel->rodata->ks_rate_cap = tracer_rate_cap_per_cpu(cfg->tracers[TRACER_pagefault].rate_cap);
	p->skel->rodata->ks_wakeup_bytes = cfg->ringbuf_wakeup_bytes;
	p->skel->rodata->sample_every = (uint32_t)cfg->pagefault_sample_every;
	p->skel->rodata->time_every = (uint32_t)cfg->pagefault_time_every;
	bpf_map__set_max_entries(p->skel->maps.procs0, (uint32_t)cfg->max_processes);
	bpf_map__set_max_entries(p->skel->maps.procs1, (uint32_t)cfg->max_processes);
	t->skeleton = p->skel->skeleton;
	return 0;
}

/* Attaches prog to a sample-every-event software counter on every CPU. */
static int attach_perf(struct pagefault_priv *p, struct bpf_program *prog, uint64_t config)
{
	for (int cpu = 0; cpu < p->ncpus; cpu++) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.size = sizeof(attr),
			.config = config,
			.sample_period = 1,
		};
		int fd = (int)syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		struct bpf_link *link;

		if (fd < 0) {
			if (errno == ENODEV)
				continue;          /* possible but offline CPU */
			return -errno;
		}
		link = bpf_program__attach_perf_event(prog, fd);
		if (!link) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (p->nperf == PERF_LINKS_MAX) {
			bpf_link__destroy(link);
			return -E2BIG;
		}
		p->perf_links[p->nperf++] = link;
	}
	return 0;
}

static void detach_perf(struct pagefault_priv *p)
{
	for (size_t i = 0; i < p->nperf; i++)
		bpf_link__destroy(p->perf_links[i]);
	p->nperf = 0;
}

static int pagefault_start(struct tracer *t)
{
	struct pagefault_priv *p = t->priv;
	int err = 0;

	if (p->completion) {
		err = attach_perf(p, p->skel->progs.on_minor_fault, PERF_COUNT_SW_PAGE_FAULTS_MIN);
		if (!err)
			err = attach_perf(p, p->skel->progs.on_major_fault, PERF_COUNT_SW_PAGE_FAULTS_MAJ);
		if (err) {
			detach_perf(p);
			snprintf(t->note, sizeof(t->note),
				 "no perf software events (%s): minor/major and latency unknown", strerror(-err));
		}
	} else {
		snprintf(t->note, sizeof(t->note),
			 "tracers.pagefault.completion is off: minor/major and latency unknown");
	}
	p->skel->bss->completion_hooks = p->nperf > 0;
	return tracer__add_ringbuf(t, p->skel->maps.events, on_event);
}

/* The overhead budget: time 1 in factor (a power of two) of the faults. */
static void pagefault_shed(struct tracer *t, uint32_t factor)
{
	struct pagefault_priv *p = t->priv;

	p->skel->bss->shed_every = factor;
}

static void pagefault_destroy(struct tracer *t)
{
	struct pagefault_priv *p = t->priv;

	detach_perf(p);
	pagefault_bpf__destroy(p->skel);
}

const struct tracer_ops pagefault_tracer = {
	.name = "pagefault",
	.summary = "page faults by process, type and access -> page_fault_stats, sampled page_fault_events",
	.hooks = hooks,
	.priv_size = sizeof(struct pagefault_priv),
	.open = pagefault_open,
	.start = pagefault_start,
	.collect = pagefault_collect,
	.metrics = pagefault_metrics,
	.shed = pagefault_shed,
	.destroy = pagefault_destroy,
};
