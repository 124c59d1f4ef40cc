// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Floors for the tracers' hot paths, on the hooks the tracers use.
 *
 * Syscalls (raw_syscalls sys_enter / sys_exit):
 *  - empty programs: what any program on these tracepoints costs;
 *  - ktime programs: one clock read at entry and one at exit, nothing
 *    kept: the clock's own cost, which any per-call latency pays;
 *  - clock programs: an entry timestamp in task storage and the latency at
 *    exit, the least a per-call latency tracer with a per-task slot does;
 *  - slot programs: the syscall tracer's design without its histograms: the
 *    entry timestamp in a per-CPU slot, moved into task storage only when
 *    the task is switched out inside the call (sched_switch), and back on
 *    the CPU it resumes on.
 * Page faults (page_fault_user, the perf software events page-faults-min
 * and -maj, rss_stat): empty programs on all four, what the page-fault and
 * rss tracers' hooks cost before their programs do anything.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

__u64 sink;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} starts SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_enter, struct pt_regs *regs, long id)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_exit, struct pt_regs *regs, long ret)
{
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ktime_enter, struct pt_regs *regs, long id)
{
	sink += bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ktime_exit, struct pt_regs *regs, long ret)
{
	sink -= bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(clock_enter, struct pt_regs *regs, long id)
{
	__u64 *ts = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), 0,
					 BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (ts)
		*ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(clock_exit, struct pt_regs *regs, long ret)
{
	__u64 *ts = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), 0, 0);

	if (ts && *ts)
		sink += bpf_ktime_get_ns() - *ts;
	return 0;
}

/* ---- the per-CPU slot design ---- */

struct slot {
	__u64 ts;                /* entry time; 0: no call in the slot */
	__u64 task;              /* the task whose call it is */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slot);
} slots SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(slot_enter, struct pt_regs *regs, long id)
{
	__u32 zero = 0;
	struct slot *s = bpf_map_lookup_elem(&slots, &zero);

	if (s) {
		s->ts = bpf_ktime_get_ns();
		s->task = (__u64)bpf_get_current_task_btf();
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(slot_exit, struct pt_regs *regs, long ret)
{
	__u32 zero = 0;
	struct slot *s = bpf_map_lookup_elem(&slots, &zero);

	if (s && s->ts && s->task == (__u64)bpf_get_current_task_btf()) {
		sink += bpf_ktime_get_ns() - s->ts;
		s->ts = 0;
	}
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(slot_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 zero = 0;
	struct slot *s = bpf_map_lookup_elem(&slots, &zero);
	__u64 *ts;

	if (!s)
		return 0;
	if (s->ts && s->task == (__u64)prev) {
		ts = bpf_task_storage_get(&starts, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (ts)
			*ts = s->ts;
	}
	s->ts = 0;
	ts = bpf_task_storage_get(&starts, next, 0, 0);
	if (ts && *ts) {
		s->ts = *ts;
		s->task = (__u64)next;
		*ts = 0;
	}
	return 0;
}

/* ---- page faults ---- */

SEC("tp_btf/page_fault_user")
int BPF_PROG(fault_start, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	return 0;
}

SEC("perf_event")
int fault_done(struct bpf_perf_event_data *ctx)
{
	return 0;
}

SEC("tp_btf/rss_stat")
int BPF_PROG(fault_rss, struct mm_struct *mm, int member)
{
	return 0;
}

/* ---- the whole agent's hooks (--agent) ----
 * Empty programs on every hook the default agent attaches, as many on each
 * as it has (ksight agent, `bpftool link show`): three on sched_switch (the
 * proc, syscall and sched tracers), two on sched_wakeup and on
 * sched_process_exit, one on every other tracepoint; with fault_done on the
 * page-fault perf events and floor_enter/floor_exit on the syscalls.  What
 * a workload pays for the agent's hooks before any program does anything. */

#define EMPTY_TP(name, hook)                                            \
	SEC("tp_btf/" #hook)                                            \
	int name(unsigned long long *ctx) { return 0; }

EMPTY_TP(agent_switch1, sched_switch)
EMPTY_TP(agent_switch2, sched_switch)
EMPTY_TP(agent_switch3, sched_switch)
EMPTY_TP(agent_wakeup1, sched_wakeup)
EMPTY_TP(agent_wakeup2, sched_wakeup)
EMPTY_TP(agent_wakeup_new, sched_wakeup_new)
EMPTY_TP(agent_fork, sched_process_fork)
EMPTY_TP(agent_exec, sched_process_exec)
EMPTY_TP(agent_exit1, sched_process_exit)
EMPTY_TP(agent_exit2, sched_process_exit)
EMPTY_TP(agent_rq_issue, block_rq_issue)
EMPTY_TP(agent_rq_complete, block_rq_complete)
EMPTY_TP(agent_sock_state, inet_sock_set_state)
EMPTY_TP(agent_retransmit, tcp_retransmit_skb)
