/* Scheduler tracer: contract between sched.bpf.c and sched.c.
 *
 * Run-queue latency is the time a task waits between becoming runnable
 * (wakeup, or preemption while still runnable) and running.  Per-process
 * figures live in two hash maps that swap every tick (`active`), so user
 * space reads and clears a map the programs no longer write.
 */
#ifndef KS_SCHED_H
#define KS_SCHED_H

#include "common.h"
#include "hist.h"


struct sched_totals {
	__u64 runq_count;
	__u64 runq_sum_ns;
	__u64 runq_max_ns;
	__u64 max_epoch;
	__u64 switches;
	__u64 voluntary;
	__u64 involuntary;
	__u64 wakeups;
	__u64 buckets[HIST_BUCKETS];
};

/* Counters first, comm last: the layout tracer__drain_procs() reads. */
struct sched_proc {
	__u64 oncpu_ns;
	__u64 voluntary;
	__u64 involuntary;
	__u64 runq_wait_ns;
	char comm[KS_COMM_LEN];
};

struct sched_event {
	__u64 ts_ns;
	__u64 latency_ns;
	__u32 cpu;
	__u32 pad;
	struct ks_task task;
};

#endif
