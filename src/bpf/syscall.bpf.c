// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Syscall tracer: per-syscall latency histograms and slow-call events.
 *
 * Hooks: tp_btf raw_syscalls sys_enter / sys_exit.  The entry time lives in
 * task storage (the purpose-built per-task slot, cheaper than a hash keyed by
 * tid); histograms and totals are per-CPU arrays indexed directly, so the
 * hot path does no map updates, only increments of preallocated slots.
 */
#include "common.bpf.h"
#include "syscall.h"

const volatile __u64 slow_ns = 10000000;     /* ring buffer event above this */
const volatile __u32 target_tgid = 0;        /* 0: every process */

/* Bumped by user space at every tick: the interval totals.max_ns belongs to. */
__u64 max_epoch = 0;

struct start {
	__u64 ts;
	__u64 nr;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct start);
} starts SEC(".maps");

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

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct start *s;

	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	s = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s) {
		ks_count(KS_STAT_MAP_FULL);
		return 0;
	}
	s->ts = bpf_ktime_get_ns();
	s->nr = id;
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct syscall_totals *t;
	struct syscall_event *e;
	struct start *s;
	__u64 now, lat, *slot;
	__u32 nr, idx;

	s = bpf_task_storage_get(&starts, task, 0, 0);
	if (!s || !s->ts)
		return 0;
	now = bpf_ktime_get_ns();
	lat = now - s->ts;
	s->ts = 0;
	nr = (__u32)s->nr;
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
	e->ret = ret;
	e->nr = nr;
	ks_task_fill(&e->task, task);
	ks_submit(&events, e);
	return 0;
}
