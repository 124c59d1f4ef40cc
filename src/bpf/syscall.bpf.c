// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Syscall tracer: per-syscall latency histograms and slow-call events, each
 * slow call's latency split by where the time went (see syscall.h).
 *
 * Hooks: tp_btf raw_syscalls sys_enter / sys_exit and sched_switch.
 *
 * The fast path touches no per-task state.  A call's entry time lives in a
 * per-CPU slot tagged with its task: most calls end on the CPU they started
 * on without leaving it, and cost a slot write at entry and a slot read at
 * exit (a per-CPU array lookup each, which the verifier inlines).  Only when
 * a task is switched out inside a call does sched_switch move the call into
 * the task's storage, with the time and the state it left in; when the task
 * is switched back in (on whichever CPU), the call moves into that CPU's
 * slot and the time it spent off the CPU is added to one of its parts: run
 * queue (preempted, or woken and waiting for a CPU), blocked (D state) or
 * sleep (S state, waiting by choice).  The wait for a CPU, after a wakeup
 * or a preemption, counts as run queue: the kernel's own run-queue
 * accounting (CONFIG_SCHED_INFO: sched_info.run_delay, the time the task
 * has waited on run queues, which grows by each wait when the task gets a
 * CPU) says how much of the time off the CPU that was, once the task is
 * back on one (settle()), with no wakeup hook and no timestamp kept per
 * wakeup.  On a kernel without it, a sched_wakeup program marks when a
 * parked call's task was woken.  On-CPU time is the rest: latency minus
 * the three.
 *
 * A call is tagged with its task's user register frame (the `regs` the
 * syscall tracepoints pass, at the top of the task's kernel stack: one per
 * task, and free to read, where a helper call for the task would not be);
 * sched_switch finds the same address with bpf_task_pt_regs().
 *
 * Why the slot stays consistent: only these programs touch it, the syscall
 * tracepoints run their programs with preemption disabled, and every
 * context switch passes through sched_switch, which leaves the slot either
 * empty or holding the call of the task switched in.  A call whose task
 * dies inside it (exit, exit_group, a fatal signal while in do_exit) is
 * dropped at its last switch-out (TASK_DEAD); it never returned, so it is
 * not counted, as before.  Calls under way when the tracer attached are not
 * counted either (their exit finds no entry).
 *
 * On a busy machine a task is, rarely, switched back in without this
 * sched_switch program seeing it (about once in a few thousand parked
 * calls under load 10, no recursion miss counted, cause not found): its call stays
 * parked and its exit finds the slot empty.  So an exit that finds no call
 * in the slot looks in the task's storage (for the traced process only
 * when a pid filter is set): the call is counted whole, and the time from
 * its switch-out to its exit goes to the run queue as far as the kernel
 * counted it waiting there, and to its reason for leaving for the rest.
 *
 * Histograms and totals are per-CPU arrays indexed directly, so the hot
 * path does no map updates, only increments of preallocated slots.
 *
 * Under the overhead budget (collect/budget.h) user space sets shed_shift:
 * then only about 1 call in 2^shed_shift is timed, picked per CPU by a
 * xorshift generator (not every Nth, which would alias with a loop of N
 * different calls).  A call not timed reads no clock: its entry tags the
 * slot with its task's regs | 1 and its number, its exit counts it.  So
 * totals.count and .errors stay exact; .timed says how many calls the
 * histogram, sum and max cover.  A call not timed that leaves the CPU
 * loses its tag (sched_switch clears the slot) and is counted at exit from
 * the syscall number in its registers.
 */
#include "common.bpf.h"
#include "syscall.h"

const volatile __u64 slow_ns = 10000000;     /* ring buffer event above this */
const volatile __u32 target_tgid = 0;        /* 0: every process */

/* Bumped by user space at every tick: the interval totals.max_ns belongs to. */
__u64 max_epoch = 0;

/* Set by user space before load: the kernel keeps run-queue accounting
 * (CONFIG_SCHED_INFO).  Without it the sched_wakeup program below is
 * loaded and marks when a parked call's task was woken. */
const volatile bool has_sched_info = true;

/* Set by user space at every tick (the overhead budget): time about one call
 * in 2^shed_shift (0: every call); read once per call. */
__u32 shed_shift = 0;

/* The kernel's task states (include/linux/sched.h; not in BTF). */
#define KS_TASK_RUNNING         0x0000
#define KS_TASK_UNINTERRUPTIBLE 0x0002
#define KS_TASK_DEAD            0x0080
#define KS_TASK_NOLOAD          0x0400
#define KS_TASK_RTLOCK_WAIT     0x1000

/* A call in progress.  What every call touches comes first, together; the
 * split of a call that left the CPU after it.  pend_* are valid only while
 * switched is set (unpark() sets both), so a slot's stale values are never
 * read. */
struct call {
	__u64 start_ns;          /* entry time; 0: no call */
	__u64 task;              /* whose call it is: the address of its user pt_regs */
	__u32 nr;
	__u32 switched;          /* off_ns is valid: the call left the CPU */
	__u32 rng;               /* xorshift state picking the calls timed under shed_shift */
	__u32 untimed;           /* the task's call is not timed (start_ns 0): count it at exit */
	__u32 pend_reason;       /* why it last left the CPU, not split yet; OFF_REASONS: nothing pending */
	__u32 pad;
	__u64 off_ns[OFF_REASONS];   /* time off the CPU so far, by reason */
	__u64 pend_off_ns;       /* the last time off the CPU, not split yet */
	__u64 pend_run_delay;    /* the task's sched_info.run_delay when it left */
};

/* A call whose task was switched out inside it. */
struct parked {
	struct call call;        /* call.start_ns 0: nothing parked */
	__u64 out_ns;            /* switched out at */
	__u64 run_delay;         /* the task's sched_info.run_delay then */
	__u64 woken_ns;          /* without sched_info: the first wakeup after out_ns; 0: none yet */
	__u32 reason;            /* enum off_reason at switch-out */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct call);
} cpu_call SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct parked);
} parked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSCALL_MAX * HIST_BUCKETS);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSCALL_MAX);
	__type(key, __u32);
	__type(value, struct syscall_totals);
} totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

static __always_inline struct call *this_cpu_call(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cpu_call, &zero);
}

/* The scheduler programs come first: the framework attaches programs in
 * this order, so no call can start before its switches are followed. */

/* Why a task left the CPU inside a call. */
static __always_inline __u32 off_reason(bool preempt, unsigned int state)
{
	if (preempt || state == KS_TASK_RUNNING)
		return OFF_RUNQ;
	if ((state & (KS_TASK_UNINTERRUPTIBLE | KS_TASK_RTLOCK_WAIT)) && !(state & KS_TASK_NOLOAD))
		return OFF_BLOCKED;
	return OFF_SLEEP;   /* interruptible, idle (D without load), stopped, traced */
}

/* Splits the call's last time off the CPU, if not yet done: to the run
 * queue as far as the kernel counted task waiting there (its run_delay
 * grows by each wait when the task gets a CPU, so this runs once task is
 * back on one: at its exit or its next switch-out), the rest to why it
 * left. */
static __always_inline void settle(struct call *c, struct task_struct *task)
{
	__u64 off = c->pend_off_ns, runq;
	__u32 reason = c->pend_reason;

	if (reason >= OFF_REASONS)
		return;
	runq = task->sched_info.run_delay - c->pend_run_delay;
	if (runq > off)
		runq = off;
	c->off_ns[reason] += off - runq;
	c->off_ns[OFF_RUNQ] += runq;
	c->pend_reason = OFF_REASONS;
}

/* Moves task's parked call, if any, into the slot c (tagged with regs) and
 * keeps the time it spent off the CPU to be split (now: the time, or 0 to
 * read the clock).  True when there was one. */
static __always_inline bool unpark(struct call *c, struct task_struct *task, __u64 regs, __u64 now)
{
	struct parked *p = bpf_task_storage_get(&parked, task, 0, 0);
	__u64 off, runq;

	if (!p || !p->call.start_ns)
		return false;
	if (!now)
		now = bpf_ktime_get_ns();
	off = now > p->out_ns ? now - p->out_ns : 0;
	*c = p->call;
	c->task = regs;
	p->call.start_ns = 0;
	if (!c->switched) {
		c->switched = 1;
		c->off_ns[OFF_RUNQ] = c->off_ns[OFF_BLOCKED] = c->off_ns[OFF_SLEEP] = 0;
	}
	c->pend_reason = OFF_REASONS;
	if (p->reason >= OFF_REASONS)
		return true;
	if (p->reason == OFF_RUNQ) {
		c->off_ns[OFF_RUNQ] += off;     /* preempted: all of it waiting for a CPU */
		return true;
	}
	/* The has_sched_info tests are what lets this object load on a kernel
	 * without task_struct.sched_info: libbpf poisons those reads there,
	 * and they must be dead code. */
	if (has_sched_info) {
		c->pend_off_ns = off;
		c->pend_run_delay = p->run_delay;
		c->pend_reason = p->reason;
		return true;
	}
	/* without the kernel's accounting: from the wakeup sched_wakeup saw */
	runq = p->woken_ns > p->out_ns && p->woken_ns < now ? now - p->woken_ns : 0;
	if (runq > off)
		runq = off;
	c->off_ns[p->reason] += off - runq;
	c->off_ns[OFF_RUNQ] += runq;
	return true;
}

SEC("tp_btf/sched_switch")
int KS_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct call *c = this_cpu_call();
	struct parked *p;
	__u64 now = 0;

	if (!c)
		return 0;
	if (c->start_ns) {
		if (c->task != (__u64)bpf_task_pt_regs(prev))
			ks_count(KS_STAT_UNTRACKED);   /* a switch was missed: drop the stale call */
		else if (!(prev_state & KS_TASK_DEAD)) {
			p = bpf_task_storage_get(&parked, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
			if (p) {
				if (has_sched_info && c->switched)
					settle(c, prev);
				now = bpf_ktime_get_ns();
				p->call = *c;
				p->out_ns = now;
				p->run_delay = has_sched_info ? prev->sched_info.run_delay : 0;
				p->woken_ns = 0;
				p->reason = off_reason(preempt, prev_state);
			} else {
				ks_count(KS_STAT_MAP_FULL);
			}
		}
		c->start_ns = 0;
	}
	c->task = 0;                 /* a call not timed loses its tag: counted at exit from its regs */
	c->untimed = 0;
	if (!next->pid)
		return 0;            /* the idle task makes no calls */
	unpark(c, next, (__u64)bpf_task_pt_regs(next), now);
	return 0;
}

/* Only on a kernel without CONFIG_SCHED_INFO (has_sched_info). */
SEC("tp_btf/sched_wakeup")
int KS_PROG(sched_wakeup, struct task_struct *task)
{
	struct parked *p = bpf_task_storage_get(&parked, task, 0, 0);

	if (p && p->call.start_ns && !p->woken_ns)
		p->woken_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_enter")
int KS_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct call *c;
	__u32 shift;

	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	c = this_cpu_call();
	if (!c)
		return 0;
	shift = shed_shift;
	if (shift) {
		__u32 x = c->rng ? c->rng : 0x9e3779b9u;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		c->rng = x;
		if (x & ((1u << (shift & 31)) - 1)) {
			c->start_ns = 0;         /* not timed: counted at exit */
			c->task = (__u64)regs;
			c->nr = (__u32)id;
			c->untimed = 1;
			return 0;
		}
	}
	c->start_ns = bpf_ktime_get_ns();
	c->task = (__u64)regs;
	c->nr = (__u32)id;
	c->switched = 0;
	c->untimed = 0;
	return 0;
}

/* Counts a call that was not timed. */
static __always_inline void count_untimed(__u32 nr, long ret)
{
	struct syscall_totals *t;

	if (nr >= SYSCALL_MAX) {
		ks_count(KS_STAT_UNTRACKED);
		return;
	}
	t = bpf_map_lookup_elem(&totals, &nr);
	if (!t)
		return;
	t->count++;
	if (ret < 0)
		t->errors++;
}

/* The number of the call regs belongs to (the syscall tracepoints' own
 * syscall_get_nr()), for a call the slot lost; SYSCALL_MAX when unknown. */
static __always_inline __u32 regs_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return (__u32)BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	return (__u32)BPF_CORE_READ((struct user_pt_regs *)regs, regs[8]);
#else
	return SYSCALL_MAX;
#endif
}

SEC("tp_btf/sys_exit")
int KS_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	struct syscall_totals *t;
	struct syscall_event *e;
	struct call *c = this_cpu_call();
	__u64 now, lat, off, *slot;
	__u32 nr, idx;

	if (!c)
		return 0;
	if (c->untimed && c->task == (__u64)regs) {
		c->task = 0;                 /* not timed, never left the CPU */
		c->untimed = 0;
		count_untimed(c->nr, ret);
		return 0;
	}
	if (!c->start_ns || c->task != (__u64)regs) {
		/* Not in the slot: a call not timed that left the CPU, a call
		 * under way at attach, or one whose switch back in no program
		 * saw (it happens, rarely, on a busy machine: the call stays
		 * parked).  Only tasks we trace look. */
		if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
			return 0;
		if (!unpark(c, bpf_get_current_task_btf(), (__u64)regs, 0)) {
			count_untimed(regs_nr(regs), ret);
			return 0;
		}
	}
	now = bpf_ktime_get_ns();
	lat = now - c->start_ns;
	c->start_ns = 0;
	nr = c->nr;
	if (nr >= SYSCALL_MAX) {
		ks_count(KS_STAT_UNTRACKED);   /* e.g. x32 syscalls */
		return 0;
	}
	idx = nr * HIST_BUCKETS + hist_bucket(lat);
	slot = bpf_map_lookup_elem(&hist, &idx);
	if (slot)
		(*slot)++;
	t = bpf_map_lookup_elem(&totals, &nr);
	if (t) {
		t->count++;
		t->timed++;
		t->sum_ns += lat;
		if (ret < 0)
			t->errors++;
		if (t->max_epoch != max_epoch) {
			t->max_epoch = max_epoch;
			t->max_ns = lat;
		} else if (lat > t->max_ns) {
			t->max_ns = lat;
		}
	}
	if (lat < slow_ns || !ks_rate_ok())
		return 0;
	e = ks_reserve(&events, sizeof(*e));
	if (!e)
		return 0;
	e->ts_ns = now;
	e->latency_ns = lat;
	if (c->switched) {
		if (has_sched_info)
			settle(c, bpf_get_current_task_btf());
		e->runq_ns = c->off_ns[OFF_RUNQ];
		e->blocked_ns = c->off_ns[OFF_BLOCKED];
		e->sleep_ns = c->off_ns[OFF_SLEEP];
	} else {
		e->runq_ns = e->blocked_ns = e->sleep_ns = 0;
	}
	off = e->runq_ns + e->blocked_ns + e->sleep_ns;
	e->oncpu_ns = lat > off ? lat - off : 0;
	e->ret = ret;
	e->nr = nr;
	e->pad = 0;
	ks_task_fill(&e->task, bpf_get_current_task_btf());
	ks_submit(&events, e);
	return 0;
}
