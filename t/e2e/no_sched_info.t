#!/bin/sh
# A kernel without CONFIG_SCHED_INFO: the syscall tracer splits a slow
# call's time off the CPU from the wakeups a sched_wakeup program marks,
# instead of the kernel's run-queue accounting.  The syscall tracer's own
# test (t/bpf/syscall.c: every split against what its workloads measured)
# runs again with the accounting hidden from the run-time probe.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
exec env KSIGHT_HIDE_TRACEPOINTS=task_struct.sched_info "$TOP/.output/t/bpf/syscall.t"
