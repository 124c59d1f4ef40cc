// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The floor for syscall tracing: empty programs on the same two hooks the
 * syscall tracer uses.  What any tracer on these tracepoints costs at least. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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
