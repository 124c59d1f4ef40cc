/* Process lifecycle tracer, user side: ring buffer records -> process_events.
 *
 * When following one tree (ksight run), exit records are sent from the
 * task's last context switch, with its complete CPU time (see proc.bpf.c);
 * the agent reads them at sched_process_exit, which undercounts processes
 * that live only a few milliseconds.
 *
 * The CPU split follows the kernel's cputime_adjust(): the precise total
 * (sum_exec_runtime) is divided between user and system in the ratio of the
 * tick-sampled utime/stime, so user + system equals the real runtime.
 */
#include "proc_tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>

#include "../config/config.h"
#include "../lib/prom.h"
#include "../store/batch.h"
#include "proc.skel.h"
#include "tracer.h"

struct proc_priv {
	struct proc_bpf *skel;
	void (*consumer)(void *ctx, const struct proc_record *r);
	void *consumer_ctx;
	uint64_t kinds[PROC_EXIT + 1];    /* records per enum proc_kind since start */
};

static struct proc_follow_opts follow_opts;

void proc_tracer_follow(const struct proc_follow_opts *opts)
{
	follow_opts = *opts;
}

void proc_tracer_set_consumer(struct tracer *t, void (*fn)(void *ctx, const struct proc_record *r),
			      void *ctx)
{
	struct proc_priv *p = t->priv;

	p->consumer = fn;
	p->consumer_ctx = ctx;
}

int proc_tracer_followed(struct tracer *t, uint32_t *pids, size_t max)
{
	struct proc_priv *p = t->priv;
	int fd = bpf_map__fd(p->skel->maps.followed);
	uint32_t key, next;
	size_t n = 0;
	int rc;

	/* A hash map walk.  When the current key is deleted meanwhile, the
	 * kernel restarts from the first key, so a pid may be listed twice;
	 * the walk is bounded by the map's size. */
	for (rc = bpf_map_get_next_key(fd, NULL, &next); rc == 0 && n < FOLLOWED_MAX;
	     rc = bpf_map_get_next_key(fd, &key, &next)) {
		if (n < max)
			pids[n] = next;
		n++;
		key = next;
	}
	if (rc && errno != ENOENT)
		return -errno;
	return (int)n;
}

static const char *const hooks[] = {
	"sched_process_fork", "sched_process_exec", "sched_process_exit", NULL,
};

void proc_record_decode(const void *data, size_t size, int64_t offset_ns, struct proc_record *r)
{
	const struct ks_proc_event *h = data;

	memset(r, 0, sizeof(*r));
	r->kind = h->kind;
	r->time_ns = (int64_t)h->ts_ns + offset_ns;
	r->pid = h->pid;
	r->ppid = h->ppid;
	r->uid = h->uid;
	r->cgroup_id = h->cgroup_id;
	r->memcg_id = h->memcg_id;
	memcpy(r->comm, h->comm, sizeof(h->comm));
	r->comm[sizeof(r->comm) - 1] = '\0';

	if (h->kind == PROC_EXEC && size >= sizeof(struct ks_proc_exec_event)) {
		const struct ks_proc_exec_event *e = data;
		uint32_t n = e->args_len < PROC_ARGS_LEN ? e->args_len : PROC_ARGS_LEN;
		size_t len = 0;

		memcpy(r->filename, e->filename, sizeof(e->filename));
		r->filename[sizeof(r->filename) - 1] = '\0';
		/* argv is NUL-separated; join with spaces and drop the final NUL. */
		while (n > 0 && e->args[n - 1] == '\0')
			n--;
		for (uint32_t i = 0; i < n && len + 1 < sizeof(r->argv); i++)
			r->argv[len++] = e->args[i] ? e->args[i] : ' ';
		r->argv_known = e->args_len > 0 || e->args_size == 0;
		if (e->args_size > e->args_len && len + 4 < sizeof(r->argv)) {
			memcpy(r->argv + len, "...", 3);
			len += 3;
			r->argv_truncated = true;
		}
		r->argv[len] = '\0';
	} else if (h->kind == PROC_EXIT && size >= sizeof(struct ks_proc_exit_event)) {
		const struct ks_proc_exit_event *e = data;
		uint64_t ticks = e->utime_ns + e->stime_ns;

		r->start_ns = (int64_t)e->start_ns + offset_ns;
		r->duration_ns = (int64_t)(h->ts_ns - e->start_ns);
		if (e->exit_code & 0x7f) {
			r->signal = (int)(e->exit_code & 0x7f);
			r->exit_code = -1;
		} else {
			r->exit_code = (int)((e->exit_code >> 8) & 0xff);
		}
		if (ticks == 0) {
			r->cpu_user_ns = e->runtime_ns;
		} else {
			r->cpu_user_ns = (uint64_t)((double)e->runtime_ns * (double)e->utime_ns / (double)ticks);
			r->cpu_system_ns = e->runtime_ns - r->cpu_user_ns;
		}
		r->peak_rss_bytes = e->maxrss_pages * e->page_size;
		r->minor_faults = e->min_flt;
		r->major_faults = e->maj_flt;
	}
}

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case PROC_FORK: return "fork";
	case PROC_EXEC: return "exec";
	default: return "exit";
	}
}

static int on_event(struct tracer *t, const void *data, size_t size)
{
	struct proc_priv *p = t->priv;
	struct tracer_sink *sink = t->sink;
	struct batch *b = sink__batch(sink);
	struct proc_record r;
	uint64_t cgid;
	const char *cgpath;

	if (size < sizeof(struct ks_proc_event))
		return 0;
	t->events++;
	proc_record_decode(data, size, sink__clock_offset(sink), &r);
	if (r.kind <= PROC_EXIT)
		p->kinds[r.kind]++;
	if (p->consumer) {
		p->consumer(p->consumer_ctx, &r);
		return 0;
	}
	cgpath = sink__cgroup(sink, r.cgroup_id, r.memcg_id, &cgid);

	batch__row(b, T_PROCESS_EVENTS);
	batch__int(b, r.time_ns);
	batch__text(b, kind_name(r.kind));
	batch__int(b, r.pid);
	batch__int(b, r.ppid);
	batch__int(b, r.uid);
	batch__text(b, r.comm);
	if (r.kind == PROC_EXEC) {
		batch__text(b, r.filename);
		batch__text(b, r.argv_known ? r.argv : NULL);
	} else {
		batch__null(b);
		batch__null(b);
	}
	if (r.kind == PROC_EXIT) {
		if (r.exit_code >= 0)
			batch__int(b, r.exit_code);
		else
			batch__null(b);
		batch__int(b, r.signal);
		batch__int(b, r.duration_ns);
		batch__int(b, (int64_t)r.cpu_user_ns);
		batch__int(b, (int64_t)r.cpu_system_ns);
		batch__int(b, (int64_t)r.peak_rss_bytes);
		batch__int(b, (int64_t)r.minor_faults);
		batch__int(b, (int64_t)r.major_faults);
	} else {
		for (int i = 0; i < 8; i++)
			batch__null(b);
	}
	batch__int(b, (int64_t)cgid);
	batch__text(b, cgpath);
	batch__end(b);
	sink__rows_added(sink);
	return 0;
}

/* /metrics: process events since start, by kind. */
static void proc_metrics(struct tracer *t, struct prom *p)
{
	struct proc_priv *pp = t->priv;
	struct prom_labels l;

	prom_family(p, "ksight_process_events_total", PROM_COUNTER,
		    "Process lifecycle events: fork, exec, exit (threads folded into their process).");
	for (uint32_t kind = PROC_FORK; kind <= PROC_EXIT; kind++) {
		prom_labels_init(&l);
		prom_label(&l, "event", kind_name(kind));
		prom_sample_u64(p, "", &l, pp->kinds[kind]);
	}
}

static int proc_open(struct tracer *t, const struct config *cfg)
{
	struct proc_priv *p = t->priv;

	p->skel = proc_bpf__open();
	if (!p->skel)
		return -errno;
	p->skel->rodata->ks_rate_cap = tracer_rate_cap_per_cpu(cfg->tracers[TRACER_proc].rate_cap);
	p->skel->rodata->ks_wakeup_bytes = cfg->ringbuf_wakeup_bytes;
	p->skel->rodata->ks_exit_has_group_dead = tracer_hook_args("sched_process_exit") >= 2;
	p->skel->rodata->follow = follow_opts.root_pid != 0;
	if (!follow_opts.root_pid)
		bpf_map__set_max_entries(p->skel->maps.followed, 1);   /* unused */
	p->skel->rodata->exclude_shells = follow_opts.exclude_shells;
	p->skel->rodata->root_pid = follow_opts.root_pid;
	/* Exact CPU times cost a program on every context switch (one
	 * comparison unless the task is dead): always for a followed tree,
	 * and for the agent unless tracers.proc.exact_cpu is off.  Exits wait
	 * there only microseconds, so the agent's map can be small. */
	p->skel->rodata->exact_cpu = (follow_opts.root_pid != 0 || cfg->proc_exact_cpu) &&
				     tracer_hook_exists("sched_switch");
	bpf_program__set_autoload(p->skel->progs.handle_switch, p->skel->rodata->exact_cpu);
	if (!p->skel->rodata->exact_cpu)
		bpf_map__set_max_entries(p->skel->maps.exiting, 1);   /* unused */
	else if (!follow_opts.root_pid)
		bpf_map__set_max_entries(p->skel->maps.exiting, 1024);
	t->skeleton = p->skel->skeleton;
	return 0;
}

static int proc_start(struct tracer *t)
{
	struct proc_priv *p = t->priv;
	uint32_t root = follow_opts.root_pid;
	uint8_t one = 1;

	if (root && bpf_map__update_elem(p->skel->maps.followed, &root, sizeof(root), &one, sizeof(one), BPF_ANY))
		return -errno;
	return tracer__add_ringbuf(t, p->skel->maps.events, on_event);
}

static void proc_destroy(struct tracer *t)
{
	struct proc_priv *p = t->priv;

	proc_bpf__destroy(p->skel);
}

const struct tracer_ops proc_tracer = {
	.name = "proc",
	.summary = "process fork, exec and exit -> process_events",
	.hooks = hooks,
	.priv_size = sizeof(struct proc_priv),
	.open = proc_open,
	.start = proc_start,
	.metrics = proc_metrics,
	.destroy = proc_destroy,
};
