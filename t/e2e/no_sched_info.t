#!/bin/sh
# A kernel without CONFIG_SCHED_INFO: the syscall tracer splits a slow
# call's time off the CPU from the wakeups a sched_wakeup program marks,
# instead of the kernel's run-queue accounting.  The syscall tracer's own
# test (t/bpf/syscall.c: every split against what its workloads measured)
# runs again with the accounting hidden from the run-time probe.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
# the build the binary under test comes from (.output-san with SANITIZE=1)
BUILD=$TOP/.output
[ -z "${KSIGHT:-}" ] || [ ! -x "$(dirname "$KSIGHT")/t/bpf/syscall.t" ] || BUILD=$(dirname "$KSIGHT")
exec env KSIGHT_HIDE_TRACEPOINTS=task_struct.sched_info "$BUILD/t/bpf/syscall.t"
