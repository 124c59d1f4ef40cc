// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Page fault tracer (see pagefault.h).
 *
 * Hooks: tp_btf page_fault_user (x86) for every user fault; perf software
 * events page-faults-min / page-faults-maj (sample period 1, one per CPU,
 * attached by user space) for completion.  One sampled event in
 * `sample_every` completed faults goes to the ring buffer.
 */
#include "common.bpf.h"
#include "procs.bpf.h"
#include "pagefault.h"

const volatile __u32 sample_every = 1000;
bool completion_hooks = false;   /* set by user space once perf events are attached */
/* The overhead budget (set by user space each tick, a power of two): time
 * the latency of 1 in shed_every faults; the others are only counted. */
__u32 shed_every = 0;   /* 0 or 1: every fault */

struct pending {
	__u64 ts;
	__u64 address;
	__u32 error_code;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending);
} pendings SEC(".maps");

KS_PROCS(struct pf_proc)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sample_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 128 << 10);
} events SEC(".maps");

static __always_inline bool sampled(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&sample_count, &zero);

	if (!n || ++*n < sample_every)
		return false;
	*n = 0;
	return ks_rate_ok();
}

static __always_inline void emit(struct task_struct *task, __u64 now, __u64 address, __u64 lat,
				 __u32 type, __u32 error_code)
{
	struct pf_event *e = ks_reserve(&events, sizeof(*e));

	if (!e)
		return;
	e->ts_ns = now;
	e->address = address;
	e->latency_ns = lat;
	e->type = type;
	e->error_code = error_code;
	ks_task_fill(&e->task, task);
	ks_submit(&events, e);
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(page_fault_user, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pf_proc *p = proc_of(task);
	struct pending *pf;
	__u64 now = bpf_ktime_get_ns();

	if (p) {
		if (error_code & PF_ERR_INSTR)
			p->execs++;
		else if (error_code & PF_ERR_WRITE)
			p->writes++;
		else
			p->reads++;
	}
	if (!completion_hooks) {
		if (sampled())
			emit(task, now, address, 0, PF_UNKNOWN, error_code);
		return 0;
	}
	if (shed_every > 1 && (bpf_get_prandom_u32() & (shed_every - 1)))
		return 0;   /* not timed: its completion finds no start and counts it untimed */
	pf = bpf_task_storage_get(&pendings, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!pf)
		ks_count(KS_STAT_MAP_FULL);
	if (pf) {
		pf->ts = now;
		pf->address = address;
		pf->error_code = error_code;
	}
	return 0;
}

static __always_inline int completed(struct bpf_perf_event_data *ctx, __u32 type)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pf_proc *p = proc_of(task);
	struct pending *pf;
	__u64 now = bpf_ktime_get_ns(), lat = 0, address = ctx->addr;
	__u32 error_code = 0;

	pf = bpf_task_storage_get(&pendings, task, 0, 0);
	/* Pair with the fault that started on this task at this address. */
	if (pf && pf->ts && pf->address == address) {
		lat = now - pf->ts;
		error_code = pf->error_code;
		pf->ts = 0;
	}
	if (p) {
		if (type == PF_MAJOR) {
			p->major++;
			if (lat) {
				p->major_lat_ns += lat;
				p->major_timed++;
			}
		} else {
			p->minor++;
			if (lat) {
				p->minor_lat_ns += lat;
				p->minor_timed++;
			}
		}
	}
	if (sampled())
		emit(task, now, address, lat, type, error_code);
	return 0;
}

SEC("perf_event")
int on_minor_fault(struct bpf_perf_event_data *ctx)
{
	return completed(ctx, PF_MINOR);
}

SEC("perf_event")
int on_major_fault(struct bpf_perf_event_data *ctx)
{
	return completed(ctx, PF_MAJOR);
}
