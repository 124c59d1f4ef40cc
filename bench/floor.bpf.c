// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Floors for syscall tracing, on the same two hooks the syscall tracer uses:
 *  - empty programs: what any program on these tracepoints costs;
 *  - clock programs: an entry timestamp in task storage and the latency at
 *    exit, the least a per-call latency tracer can do (two clock reads). */
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
