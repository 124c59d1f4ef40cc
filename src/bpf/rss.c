/* RSS tracer, user side: samples -> leak detector -> memory_growth_events.
 *
 * Every process the kernel side reports gets a leak_series (detect/leak.h)
 * fed with its footprint (RSS + swap).  Samples arrive from the ring buffer
 * (one per interval slot, plus jumps); each tick the `procs` hash is read
 * once to pick up changes no push reported (the last change of a slot when
 * nothing follows), and to notice processes whose state vanished (an exit
 * record lost to a full ring buffer); then every series is advanced to the
 * tick and judged.
 *
 * Which verdicts become rows ('watching', 'suspect', 'resolved', 'exited')
 * and the headroom each row carries are the detector's call
 * (detect/leak_suspect.h); this file reads the kernel side, feeds the
 * detector, and reads what the rows need from the system: the memory
 * cgroup's limit and usage at that moment (scrape/memcg.h), or MemAvailable
 * when no limit applies; for a watched process every tick, since it is a
 * suspect at once when it would reach that limit before its patience ends.
 *
 * Each series knows when its process's life began (detect/leak.h: the
 * warm-up horizon): its start, or its exec when this tracer saw the process
 * before.  The agent leaves itself out: its own growth in its first
 * minutes is expected, and its memory is bounded and reported elsewhere
 * (ksight_* metrics, collector_stats).
 */
#include "rss.h"
#include "rss_tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include "../config/config.h"
#include "../detect/leak.h"
#include "../detect/leak_suspect.h"
#include "../lib/clock.h"
#include "../lib/prom.h"
#include "../lib/u64map.h"
#include "../scrape/cgroup.h"
#include "../scrape/memcg.h"
#include "../scrape/procfs.h"
#include "../store/batch.h"
#include "rss.skel.h"
#include "tracer.h"

#define BATCH_ENTRIES 1024

struct rss_proc {
	uint32_t pid;
	uint32_t fed_seq;              /* seq of the latest change fed */
	uint32_t gen;                  /* tick that last saw its state in the hash */
	uint64_t origin_ns, start_ns;  /* CLOCK_MONOTONIC, from the kernel */
	uint64_t cgroup_id, memcg_id;
	__u64 pages[RSS_MEMBERS];
	char comm[KS_COMM_LEN + 1];
	struct leak_series *series;
	struct leak_suspect leak;      /* what its latest row said */
	struct memcg_info memcg;       /* as read for the latest row */
	bool memcg_known;
	double ttl_s;                  /* time to limit in the latest row (< 0: none) ... */
	int64_t ttl_mono_ns;           /* ... as of then (CLOCK_MONOTONIC) */
};

struct rss_priv {
	struct rss_bpf *skel;
	struct leak_params params;
	struct u64map procs;           /* tgid -> struct rss_proc * */
	uint32_t gen;
	uint64_t page_size;
	const char *root;
	struct cgroup_resolver *cgroups;   /* for the mount points */
	struct rss_tracer_counters counters;
	uint32_t self;                 /* our own tgid: never tracked */
	uint32_t *keys;
	struct rss_state *values;
	int ncpus;
	struct rss_recent *recent;     /* the kernel's per-CPU coalescing slots, read each tick */
};

static const char *const hooks[] = { "rss_stat", "sched_process_exit", NULL };

static uint64_t footprint_bytes(const struct rss_priv *p, const __u64 *pages)
{
	return (pages[RSS_FILE] + pages[RSS_ANON] + pages[RSS_SHMEM] + pages[RSS_SWAP]) * p->page_size;
}

static struct rss_proc *proc_free(struct rss_proc *r)
{
	if (r) {
		leak_series__free(r->series);
		free(r);
	}
	return NULL;
}

/* ---- rows ---- */

static void put_int_or_null(struct batch *b, int64_t v, bool known)
{
	if (known)
		batch__int(b, v);
	else
		batch__null(b);
}

/* The headroom of r at verdict v, its memory cgroup read again first when
 * refresh_limit (or never read). */
static void headroom(struct rss_priv *p, struct rss_proc *r, const struct leak_verdict *v, bool refresh_limit,
		     struct leak_headroom *h)
{
	int64_t limit;

	if (refresh_limit || !r->memcg_known) {
		struct memcg_info m;

		if (!memcg_read(p->root, cgroup_resolver__memcg_mount(p->cgroups),
				cgroup_resolver__v2_mount(p->cgroups), (int)r->pid, &m)) {
			r->memcg = m;
			r->memcg_known = true;
		}
	}
	limit = r->memcg_known ? r->memcg.limit_bytes : -1;
	leak_headroom(v, (int64_t)footprint_bytes(p, r->pages), limit, r->memcg_known ? r->memcg.usage_bytes : -1,
		      limit >= 0 ? -1 : memcg_mem_available(p->root), h);
}

/* Appends one memory_growth_events row for r with verdict v. */
static void write_row(struct tracer *t, struct rss_proc *r, const struct leak_verdict *v, enum leak_row row,
		      bool refresh_limit)
{
	struct rss_priv *p = t->priv;
	struct tracer_sink *sink = t->sink;
	struct batch *b = sink__batch(sink);
	int64_t offset = sink__clock_offset(sink);
	struct leak_headroom h;
	const char *path = NULL;
	uint64_t cgid = 0, resolved_id;
	bool cgid_known = false;

	headroom(p, r, v, refresh_limit, &h);
	if (r->memcg_known && r->memcg.version) {
		path = r->memcg.path;
		if (r->memcg.version == 1 && r->memcg_id) {
			cgid = r->memcg_id;
			cgid_known = true;
		} else if (r->memcg.version == 2 && r->cgroup_id) {
			cgid = r->cgroup_id;
			cgid_known = true;
		}
	} else if (r->cgroup_id) {
		path = sink__cgroup(sink, r->cgroup_id, r->memcg_id, &resolved_id);
		cgid = resolved_id;
		cgid_known = true;
	}

	batch__row(b, T_MEMORY_GROWTH_EVENTS);
	batch__int(b, clock_real_ns());
	batch__int(b, r->pid);
	batch__text(b, r->comm[0] ? r->comm : NULL);
	batch__int(b, (int64_t)r->start_ns + offset);
	put_int_or_null(b, (int64_t)cgid, cgid_known);
	batch__text(b, path);
	batch__text(b, leak_row_status(row));
	batch__text(b, leak_pattern_name(v->pattern));
	batch__real(b, v->rate);
	batch__int(b, (int64_t)((r->pages[RSS_ANON] + r->pages[RSS_FILE] + r->pages[RSS_SHMEM]) * p->page_size));
	batch__int(b, (int64_t)(r->pages[RSS_ANON] * p->page_size));
	batch__int(b, (int64_t)(r->pages[RSS_FILE] * p->page_size));
	batch__int(b, (int64_t)(r->pages[RSS_SHMEM] * p->page_size));
	batch__int(b, (int64_t)(r->pages[RSS_SWAP] * p->page_size));
	batch__real(b, v->confidence);
	put_int_or_null(b, h.limit_bytes, h.limit_bytes >= 0);
	batch__text(b, h.source);
	put_int_or_null(b, h.headroom_bytes, h.headroom_bytes >= 0);
	/* a projection only while growing */
	r->ttl_s = -1;
	r->ttl_mono_ns = clock_mono_ns();
	if (h.time_to_limit_s >= 0 && (row == LEAK_ROW_SUSPECT || row == LEAK_ROW_WATCHING)) {
		batch__real(b, h.time_to_limit_s);
		r->ttl_s = h.time_to_limit_s;
	} else {
		batch__null(b);
	}
	batch__int(b, v->growth_start_ns + offset);
	batch__int(b, v->samples);
	batch__end(b);
	sink__rows_added(sink);
	p->counters.rows++;
}

/* Writes what changed in r's verdict since its latest row. */
static void report(struct tracer *t, struct rss_proc *r, int64_t now_mono)
{
	struct rss_priv *p = t->priv;
	struct leak_verdict v;
	struct leak_headroom h = { .time_to_limit_s = -1 };
	enum leak_row row;
	int64_t t0 = clock_mono_ns();
	bool fresh = false;

	leak_series__verdict(r->series, &v);
	p->counters.detector_ns += (uint64_t)(clock_mono_ns() - t0);
	/* A watched process is a suspect at once when it would reach its
	 * limit before its patience ends: that needs the limit now. */
	if (leak_suspect__wants_limit(&r->leak, &v)) {
		headroom(p, r, &v, true, &h);
		fresh = true;
	}
	row = leak_suspect__judge(&r->leak, &v, h.time_to_limit_s, now_mono);
	if (row != LEAK_ROW_NONE)
		write_row(t, r, &v, row, !fresh);
}

/* The process is gone (exit, exec, or pid reuse): close its suspicion. */
static void finish(struct tracer *t, struct rss_proc *r)
{
	struct leak_verdict v;

	if (!r->leak.suspect && !r->leak.watching)
		return;
	v = r->leak.reported;
	leak_series__refresh(r->series);
	leak_series__verdict(r->series, &v);
	if (leak_suspect__exit(&r->leak, &v) == LEAK_ROW_EXITED)
		write_row(t, r, &v, LEAK_ROW_EXITED, false);
}

/* The state for tgid under this origin, (re)started when the process is
 * new, exec'd (new origin) or a reused pid (new start time). */
static struct rss_proc *track(struct tracer *t, uint32_t pid, uint64_t start_ns, uint64_t origin_ns,
			      uint64_t base_pages)
{
	struct rss_priv *p = t->priv;
	struct rss_proc *r = u64map_get(&p->procs, pid);
	uint64_t born_ns = start_ns;

	if (r && r->start_ns == start_ns && r->origin_ns == origin_ns)
		return r;
	if (pid == p->self)
		return NULL;
	if (r) {
		/* The same process with a new mm: it exec'd, a new program's
		 * life begins. */
		if (r->start_ns == start_ns)
			born_ns = origin_ns;
		finish(t, r);
		leak_series__free(r->series);
		memset(r, 0, sizeof(*r));
	} else {
		r = calloc(1, sizeof(*r));
		if (!r)
			return NULL;
		u64map_put(&p->procs, pid, r);
	}
	r->pid = pid;
	r->start_ns = start_ns;
	r->origin_ns = origin_ns;
	r->gen = p->gen;
	r->series = leak_series__new(&p->params, (int64_t)origin_ns, (int64_t)born_ns,
				     (int64_t)(base_pages * p->page_size));
	if (!r->series) {
		u64map_del(&p->procs, pid);
		free(r);
		return NULL;
	}
	p->counters.tracked = p->procs.len;
	return r;
}

static void untrack(struct tracer *t, struct rss_proc *r)
{
	struct rss_priv *p = t->priv;

	finish(t, r);
	u64map_del(&p->procs, r->pid);
	proc_free(r);
	p->counters.tracked = p->procs.len;
}

static void feed(struct tracer *t, struct rss_proc *r, uint64_t ts_ns, const __u64 *pages)
{
	struct rss_priv *p = t->priv;
	int64_t t0 = clock_mono_ns();

	memcpy(r->pages, pages, sizeof(r->pages));
	leak_series__add(r->series, (int64_t)ts_ns, (int64_t)footprint_bytes(p, pages));
	p->counters.detector_ns += (uint64_t)(clock_mono_ns() - t0);
}

static int on_event(struct tracer *t, const void *data, size_t size)
{
	struct rss_priv *p = t->priv;
	const struct ks_rss_event *e = data;
	struct rss_proc *r;

	if (size < sizeof(*e))
		return 0;
	t->events++;
	if (e->kind == RSS_EXIT) {
		p->counters.exits++;
		r = u64map_get(&p->procs, e->pid);
		if (r && r->start_ns == e->start_ns) {
			memcpy(r->pages, e->pages, sizeof(r->pages));
			untrack(t, r);
		}
		return 0;
	}
	if (e->kind == RSS_JUMP)
		p->counters.jumps++;
	else
		p->counters.samples++;
	r = track(t, e->pid, e->start_ns, e->origin_ns, e->base_pages);
	if (!r)
		return 0;
	memcpy(r->comm, e->comm, KS_COMM_LEN);
	r->comm[KS_COMM_LEN] = '\0';
	r->cgroup_id = e->cgroup_id;
	r->memcg_id = e->memcg_id;
	feed(t, r, e->ts_ns, e->pages);
	r->fed_seq = e->seq;
	return 0;
}

/* A process first met in the hash: its name from /proc. */
static void read_comm(struct rss_priv *p, struct rss_proc *r)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/comm", r->pid);
	n = procfs_read(p->root, path, r->comm, sizeof(r->comm));
	if (n > 0 && r->comm[n - 1] == '\n')
		r->comm[n - 1] = '\0';
	else if (n < 0)
		r->comm[0] = '\0';
}

/* Adds to st (tgid's state as read from the hash) the changes a CPU's
 * coalescing slot holds back: newer pages and time, and their count. */
static void overlay_recent(const struct rss_priv *p, uint32_t tgid, struct rss_state *st)
{
	for (int c = 0; c < p->ncpus; c++) {
		const struct rss_recent *rc = &p->recent[c];

		if (rc->mm != st->mm || rc->tgid != tgid || !rc->skipped || rc->last_ns <= st->last_ns)
			continue;
		memcpy(st->pages, rc->pages, sizeof(st->pages));
		st->last_ns = rc->last_ns;
		st->seq += rc->skipped;
	}
}

/* One pass over the kernel's hash: changes no push reported, and which
 * processes still have state.  Returns 0, or a negative errno when the
 * hash could not be read whole (then nothing is swept). */
static int read_hash(struct tracer *t, int64_t now_mono)
{
	struct rss_priv *p = t->priv;
	int fd = bpf_map__fd(p->skel->maps.procs);
	uint64_t step = p->params.step_bytes;
	uint32_t out_batch = 0, zero = 0;
	void *in_batch = NULL;

	/* The slots first: a change they hold back and the hash has since
	 * absorbed is then older than the hash's own and ignored. */
	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.recent), &zero, p->recent))
		memset(p->recent, 0, (size_t)p->ncpus * sizeof(*p->recent));
	for (;;) {
		__u32 count = BATCH_ENTRIES;
		int err = bpf_map_lookup_batch(fd, in_batch, &out_batch, p->keys, p->values, &count, NULL);

		if (err < 0 && err != -ENOENT)
			return err;
		for (__u32 i = 0; i < count; i++) {
			struct rss_state *st = &p->values[i];
			struct rss_proc *r = u64map_get(&p->procs, p->keys[i]);
			uint64_t fp, base = st->base_pages * p->page_size;

			overlay_recent(p, p->keys[i], st);
			fp = footprint_bytes(p, st->pages);

			if (!r || r->start_ns != st->start_ns || r->origin_ns != st->origin_ns) {
				/* Not followed yet: only once it moved and its
				 * first slot is over. */
				if ((fp > base ? fp - base : base - fp) < step || (uint64_t)now_mono < st->next_due_ns)
					continue;
				r = track(t, p->keys[i], st->start_ns, st->origin_ns, st->base_pages);
				if (!r)
					continue;
				read_comm(p, r);
			}
			r->gen = p->gen;
			if (st->seq != r->fed_seq && (uint64_t)now_mono >= st->next_due_ns) {
				feed(t, r, st->last_ns, st->pages);
				r->fed_seq = st->seq;
				p->counters.flushed++;
			}
		}
		if (err == -ENOENT)
			return 0;
		in_batch = &out_batch;
	}
}

static int rss_collect(struct tracer *t, struct batch *b, int64_t now_ns)
{
	struct rss_priv *p = t->priv;
	int64_t now_mono = clock_mono_ns(), t0;
	uint64_t key;
	void *value;

	(void)b;
	(void)now_ns;
	p->gen++;
	if (read_hash(t, now_mono) == 0) {
		/* Gone from the hash: exited (its exit record was lost) or
		 * replaced.  Deleting while iterating is not allowed, so one
		 * at a time. */
		for (bool again = true; again;) {
			again = false;
			for (size_t i = 0; u64map_next(&p->procs, &i, &key, &value);) {
				struct rss_proc *r = value;

				if (r->gen != p->gen) {
					p->counters.swept++;
					untrack(t, r);
					again = true;
					break;
				}
			}
		}
	}
	for (size_t i = 0; u64map_next(&p->procs, &i, &key, &value);) {
		struct rss_proc *r = value;

		t0 = clock_mono_ns();
		leak_series__advance(r->series, now_mono);
		p->counters.detector_ns += (uint64_t)(clock_mono_ns() - t0);
		report(t, r, now_mono);
	}
	return 0;
}

static int rss_open(struct tracer *t, const struct config *cfg)
{
	struct rss_priv *p = t->priv;
	long page = sysconf(_SC_PAGESIZE);

	p->page_size = page > 0 ? (uint64_t)page : 4096;
	p->root = cfg->root;
	leak_params_default(&p->params);
	p->params.resolution_ns = cfg->rss_interval_ns;
	p->params.min_growth_bytes = cfg->leak_min_growth_bytes;
	p->params.quiet_ns = cfg->leak_quiet_ns;
	p->params.warmup_ns = cfg->leak_warmup_ns;
	p->self = (uint32_t)getpid();
	p->keys = calloc(BATCH_ENTRIES, sizeof(*p->keys));
	p->values = calloc(BATCH_ENTRIES, sizeof(*p->values));
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0)
		return -EINVAL;
	p->recent = calloc((size_t)p->ncpus, sizeof(*p->recent));
	if (!p->keys || !p->values || !p->recent || cgroup_resolver__new(cfg->root, &p->cgroups))
		return -ENOMEM;
	p->skel = rss_bpf__open();
	if (!p->skel)
		return -errno;
	p->skel->rodata->ks_exit_has_group_dead = tracer_hook_args("sched_process_exit") >= 2;
	p->skel->rodata->ks_rate_cap = tracer_rate_cap_per_cpu(cfg->tracers[TRACER_rss].rate_cap);
	p->skel->rodata->ks_wakeup_bytes = cfg->ringbuf_wakeup_bytes;
	p->skel->rodata->interval_ns = (uint64_t)cfg->rss_interval_ns;
	p->skel->rodata->jump_pages = (cfg->rss_jump_bytes + p->page_size - 1) / p->page_size;
	bpf_map__set_max_entries(p->skel->maps.procs, (uint32_t)cfg->rss_max_processes);
	t->skeleton = p->skel->skeleton;
	return 0;
}

static int rss_start(struct tracer *t)
{
	struct rss_priv *p = t->priv;

	return tracer__add_ringbuf(t, p->skel->maps.events, on_event);
}

static void rss_destroy(struct tracer *t)
{
	struct rss_priv *p = t->priv;
	uint64_t key;
	void *value;

	for (size_t i = 0; u64map_next(&p->procs, &i, &key, &value);)
		proc_free(value);
	u64map_free(&p->procs);
	cgroup_resolver__free(p->cgroups);
	free(p->keys);
	free(p->values);
	free(p->recent);
	rss_bpf__destroy(p->skel);
}

void rss_tracer_counters(const struct tracer *t, struct rss_tracer_counters *ret)
{
	const struct rss_priv *p = t->priv;

	if (!p) {
		memset(ret, 0, sizeof(*ret));
		return;
	}
	*ret = p->counters;
	ret->tracked = p->procs.len;
}

bool rss_tracer_tracks(const struct tracer *t, uint32_t tgid)
{
	const struct rss_priv *p = t->priv;

	return p && u64map_get(&p->procs, tgid);
}

/* The leak detector now, as gauges without a pid label: how many processes
 * it suspects and watches, and the shortest time to limit among suspects
 * (+Inf when none): the projection of each one's latest row, less the time
 * since (so it counts down at the rate the row was written with). */
static void rss_metrics(struct tracer *t, struct prom *p)
{
	struct rss_priv *priv = t->priv;
	int64_t now = clock_mono_ns();
	uint64_t suspects = 0, watching = 0, key;
	double ttl_min = INFINITY;
	void *value;

	for (size_t i = 0; u64map_next(&priv->procs, &i, &key, &value);) {
		const struct rss_proc *r = value;

		suspects += r->leak.suspect;
		watching += r->leak.watching;
		if (r->leak.suspect && r->ttl_s >= 0) {
			double left = r->ttl_s - (double)(now - r->ttl_mono_ns) / 1e9;

			ttl_min = fmin(ttl_min, left > 0 ? left : 0);
		}
	}
	prom_family(p, "ksight_leak_suspects", PROM_GAUGE, "Processes the leak detector suspects of a leak now.");
	prom_sample_u64(p, "", NULL, suspects);
	prom_family(p, "ksight_leak_watching", PROM_GAUGE,
		    "Processes with leak-shaped growth the detector watches (maybe a warm-up, not suspects yet).");
	prom_sample_u64(p, "", NULL, watching);
	prom_family(p, "ksight_leak_tracked_processes", PROM_GAUGE, "Processes whose RSS the leak detector follows.");
	prom_sample_u64(p, "", NULL, priv->procs.len);
	prom_family(p, "ksight_leak_time_to_limit_min_seconds", PROM_GAUGE,
		    "Shortest projected time until a suspect reaches its memory limit (+Inf when no suspect has one).");
	prom_sample(p, "", NULL, ttl_min);
}

/* The overhead budget: a per-process interval factor times longer. */
static void rss_shed(struct tracer *t, uint32_t factor)
{
	struct rss_priv *p = t->priv;

	p->skel->bss->shed_interval_mult = factor;
}

const struct tracer_ops rss_tracer = {
	.name = "rss",
	.summary = "RSS per process (kmem:rss_stat) -> leak detector -> memory_growth_events",
	.hooks = hooks,
	.priv_size = sizeof(struct rss_priv),
	.open = rss_open,
	.start = rss_start,
	.collect = rss_collect,
	.metrics = rss_metrics,
	.shed = rss_shed,
	.destroy = rss_destroy,
};
