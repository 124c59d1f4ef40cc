// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Scheduler tracer: run-queue latency, context switches, on-CPU time.
 *
 * Hooks: tp_btf sched_switch; sched_wakeup and sched_wakeup_new only count.
 *
 * No clock is read and no timestamp kept per wakeup: the kernel already
 * accounts each task's time (CONFIG_SCHED_INFO, sched/stats.h), and the
 * programs take differences of its counters.  At every switch-out of a
 * task (prev), against what the task's storage saw at its last one:
 *  - on-CPU time: se.sum_exec_runtime (what CLOCK_THREAD_CPUTIME_ID reads);
 *  - run-queue waits: sched_info.pcount counts the times it got a CPU, and
 *    sched_info.run_delay sums the time it waited on a run queue before
 *    each (from its wakeup or preemption, including any wait on a run queue
 *    it migrated from).  A slice is almost always one wait: its wait goes to
 *    the histogram.  When more than one arrival is behind (a task switched
 *    out without this program seeing it), their sum goes in as one.
 * So a wait is recorded when the task that waited leaves the CPU again,
 * not when it gets the CPU; a long-wait event says when it got the CPU
 * (the switch-out's time less the slice's on-CPU time).  On-CPU time is
 * the scheduler's task clock: without IRQ and steal time where the kernel
 * accounts them apart.  A task preempted in the middle of going to sleep
 * (its state already not running) waits without the kernel counting it,
 * so that wait is not counted here either.
 *
 * Per switch this is one task-storage lookup and one per-process slot;
 * per wakeup one counter.  A task first seen after it started before the
 * tracer attached only takes its snapshot: what it did before is not
 * counted.  Per-CPU totals are a one-slot per-CPU array; per-process
 * figures per-CPU hashes keyed by tgid, double-buffered by `active`.
 */
#include "common.bpf.h"
#include "procs.bpf.h"
#include "sched.h"

const volatile __u64 slow_ns = 10000000;
/* The kernel's monotonic time of the first switch this program saw (set
 * here, not by user space, whose clock a time namespace may offset): a task
 * started after it is counted from its first slice. */
__u64 attached_ns = 0;
__u64 max_epoch = 0;

/* What a task's counters were at its last switch-out. */
struct task_seen {
	__u64 sum_exec_runtime;
	__u64 run_delay;
	__u64 pcount;
	__u64 valid;           /* 0: a fresh slot, nothing seen yet */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_seen);
} seen SEC(".maps");

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

static __always_inline void count_wakeup(void)
{
	struct sched_totals *tot = get_totals();

	if (tot)
		tot->wakeups++;
}

SEC("tp_btf/sched_wakeup")
int KS_PROG(sched_wakeup, struct task_struct *p)
{
	count_wakeup();
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int KS_PROG(sched_wakeup_new, struct task_struct *p)
{
	count_wakeup();
	return 0;
}

/* A wait of lat ns that ended when task got the CPU, `ran` ns before now
 * (the slice it has just run): the event's time is when it got the CPU. */
static __always_inline void long_wait(struct task_struct *task, __u64 lat, __u64 ran)
{
	struct sched_event *e;
	__u64 now = bpf_ktime_get_ns();

	if (!ks_rate_ok())
		return;
	e = ks_reserve(&events, sizeof(*e));
	if (!e)
		return;
	e->ts_ns = now > ran ? now - ran : now;
	e->latency_ns = lat;
	e->cpu = bpf_get_smp_processor_id();
	ks_task_fill(&e->task, task);
	ks_submit(&events, e);
}

/* Adds `arrivals` waits that took lat ns together to the totals (one,
 * but for a switch this program did not see: then each at their mean). */
static __always_inline void add_wait(struct sched_totals *tot, __u64 lat, __u64 arrivals)
{
	__u32 b;

	tot->runq_count += arrivals;
	tot->runq_sum_ns += lat;
	if (arrivals > 1)
		lat /= arrivals;
	b = hist_bucket(lat);
	if (b < HIST_BUCKETS)
		tot->buckets[b] += arrivals;
	if (tot->max_epoch != max_epoch) {
		tot->max_epoch = max_epoch;
		tot->runq_max_ns = lat;
	} else if (lat > tot->runq_max_ns) {
		tot->runq_max_ns = lat;
	}
}

SEC("tp_btf/sched_switch")
int KS_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct sched_totals *tot = get_totals();
	struct task_seen *t;
	struct sched_proc *p;
	__u64 ran, delay, arrivals, sum, run_delay, pcount;
	bool involuntary = preempt || prev_state == 0;   /* TASK_RUNNING */

	if (!tot)
		return 0;
	tot->switches++;
	if (!prev->pid)
		return 0;            /* the idle task */
	if (involuntary)
		tot->involuntary++;
	else
		tot->voluntary++;
	p = proc_of(prev);
	if (p) {
		if (involuntary)
			p->involuntary++;
		else
			p->voluntary++;
	}
	t = bpf_task_storage_get(&seen, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		ks_count(KS_STAT_MAP_FULL);
		return 0;
	}
	sum = prev->se.sum_exec_runtime;
	run_delay = prev->sched_info.run_delay;
	pcount = prev->sched_info.pcount;
	if (!t->valid && !attached_ns)
		__sync_val_compare_and_swap(&attached_ns, 0, bpf_ktime_get_ns());
	if (!t->valid && prev->start_time < attached_ns) {
		/* started before the tracer: from now on */
		t->valid = 1;
		t->sum_exec_runtime = sum;
		t->run_delay = run_delay;
		t->pcount = pcount;
		return 0;
	}
	t->valid = 1;
	ran = sum - t->sum_exec_runtime;
	delay = run_delay - t->run_delay;
	arrivals = pcount - t->pcount;
	t->sum_exec_runtime = sum;
	t->run_delay = run_delay;
	t->pcount = pcount;
	if (p) {
		p->oncpu_ns += ran;
		p->runq_wait_ns += delay;
	}
	if (!arrivals)
		return 0;
	add_wait(tot, delay, arrivals);
	if (arrivals == 1 && delay >= slow_ns)
		long_wait(prev, delay, ran);
	return 0;
}
