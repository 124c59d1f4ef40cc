/* Syscall tracer: contract between syscall.bpf.c and syscall.c.
 *
 * In the kernel, per syscall number: a log-linear latency histogram (per-CPU
 * array indexed nr * HIST_BUCKETS + bucket) and totals (count, errors, sum,
 * interval max), over every call; under the overhead budget only a sample
 * of the calls is timed (shed_shift), and the counts stay exact.  Syscalls slower than the threshold are
 * also sent one by one through the ring buffer, with their latency split
 * four ways: on the CPU, waiting for a CPU (run queue: preempted, or woken
 * and not yet running), blocked uninterruptibly (D state: disk, page cache,
 * locks) and sleeping by choice (S state: input, timers, children,
 * futexes).  The four add up to the latency.
 */
#ifndef KS_SYSCALL_H
#define KS_SYSCALL_H

#include "common.h"
#include "hist.h"

#define SYSCALL_MAX 512          /* syscall numbers traced: 0 .. SYSCALL_MAX-1 */

struct syscall_totals {
	__u64 count;             /* every call (exact, also under sampling) */
	__u64 errors;            /* returned a negative errno (exact) */
	__u64 timed;             /* calls timed: what the histogram, sum_ns and max_ns cover */
	__u64 sum_ns;
	__u64 max_ns;            /* largest in interval max_epoch */
	__u64 max_epoch;
};

/* Why a task left the CPU inside a call (index of the parts below). */
enum off_reason {
	OFF_RUNQ,                /* preempted, or woken and waiting for a CPU */
	OFF_BLOCKED,             /* TASK_UNINTERRUPTIBLE (not TASK_IDLE) */
	OFF_SLEEP,               /* TASK_INTERRUPTIBLE, idle, stopped, traced */
	OFF_REASONS,
};

struct syscall_event {
	__u64 ts_ns;             /* CLOCK_MONOTONIC at exit */
	__u64 latency_ns;        /* entry to exit = oncpu + runq + blocked + sleep */
	__u64 oncpu_ns;
	__u64 runq_ns;
	__u64 blocked_ns;
	__u64 sleep_ns;
	__s64 ret;
	__u32 nr;
	__u32 pad;
	struct ks_task task;
};

#ifndef __bpf__
#include <stdint.h>
/* The name of syscall nr on this architecture, or NULL. */
const char *syscall_name(uint32_t nr);
#endif

#endif
