// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Scheduler tracer: run-queue latency, context switches, on-CPU time.
 *
 * Hooks: tp_btf sched_wakeup, sched_wakeup_new, sched_switch.  Per-task
 * timestamps live in task storage; the run-queue histogram and counters in
 * a one-slot per-CPU array; per-process figures in per-CPU hashes keyed by
 * tgid, double-buffered by `active`.
 */
#include "common.bpf.h"
#include "procs.bpf.h"
#include "sched.h"

const volatile __u64 slow_ns = 10000000;
__u64 max_epoch = 0;

struct task_times {
	__u64 enqueued_ns;     /* runnable since; 0 when not waiting */
	__u64 oncpu_since;     /* running since; 0 when not running */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_times);
} times SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sched_totals);
} totals SEC(".maps");

KS_PROCS(struct sched_proc)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 10);
} events SEC(".maps");

static __always_inline struct sched_totals *get_totals(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&totals, &zero);
}

/* The per-process slot of task in the active map, created on first use. */
static __always_inline void enqueue(struct task_struct *p)
{
	struct task_times *t;
	struct sched_totals *tot;

	if (!p->pid)
		return;
	t = bpf_task_storage_get(&times, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t)
		ks_count(KS_STAT_MAP_FULL);
	if (t && !t->enqueued_ns)
		t->enqueued_ns = bpf_ktime_get_ns();
	tot = get_totals();
	if (tot)
		tot->wakeups++;
}

SEC("tp_btf/sched_wakeup")
int KS_PROG(sched_wakeup, struct task_struct *p)
{
	enqueue(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int KS_PROG(sched_wakeup_new, struct task_struct *p)
{
	enqueue(p);
	return 0;
}

static __always_inline void long_wait(struct task_struct *next, __u64 now, __u64 lat)
{
	struct sched_event *e;

	if (!ks_rate_ok())
		return;
	e = ks_reserve(&events, sizeof(*e));
	if (!e)
		return;
	e->ts_ns = now;
	e->latency_ns = lat;
	e->cpu = bpf_get_smp_processor_id();
	ks_task_fill(&e->task, next);
	ks_submit(&events, e);
}

SEC("tp_btf/sched_switch")
int KS_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct sched_totals *tot = get_totals();
	struct task_times *t;
	struct sched_proc *p;
	__u64 now = bpf_ktime_get_ns();
	bool involuntary = preempt || prev_state == 0;   /* TASK_RUNNING */

	if (!tot)
		return 0;
	tot->switches++;
	if (prev->pid) {
		if (involuntary)
			tot->involuntary++;
		else
			tot->voluntary++;
		t = bpf_task_storage_get(&times, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!t)
			ks_count(KS_STAT_MAP_FULL);
		p = proc_of(prev);
		if (t) {
			if (p && t->oncpu_since)
				p->oncpu_ns += now - t->oncpu_since;
			t->oncpu_since = 0;
			if (involuntary)
				t->enqueued_ns = now;   /* back on the run queue */
		}
		if (p) {
			if (involuntary)
				p->involuntary++;
			else
				p->voluntary++;
		}
	}
	if (!next->pid)
		return 0;
	t = bpf_task_storage_get(&times, next, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		ks_count(KS_STAT_MAP_FULL);
		return 0;
	}
	t->oncpu_since = now;
	if (t->enqueued_ns) {
		__u64 lat = now - t->enqueued_ns;
		__u32 b = hist_bucket(lat);

		t->enqueued_ns = 0;
		tot->runq_count++;
		tot->runq_sum_ns += lat;
		if (b < HIST_BUCKETS)
			tot->buckets[b]++;
		if (tot->max_epoch != max_epoch) {
			tot->max_epoch = max_epoch;
			tot->runq_max_ns = lat;
		} else if (lat > tot->runq_max_ns) {
			tot->runq_max_ns = lat;
		}
		p = proc_of(next);
		if (p)
			p->runq_wait_ns += lat;
		if (lat >= slow_ns)
			long_wait(next, now, lat);
	}
	return 0;
}
