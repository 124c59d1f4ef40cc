// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Page fault tracer (see pagefault.h).
 *
 * Hooks: tp_btf page_fault_user (x86) for every user fault; perf software
 * events page-faults-min / page-faults-maj (sample period 1, one per CPU,
 * attached by user space) for completion.
 *
 * Every fault is counted; the per-fault path is kept to a few array reads:
 *  - counts go to a per-CPU accumulator for the process that faulted last
 *    on that CPU (`cpu_acc`, one per half of the double buffer), folded
 *    into the per-process hash only when another process faults on that
 *    CPU; user space reads both (pagefault.c);
 *  - latency is timed on one fault in `time_every` per CPU (timing_period()):
 *    only those read the clock and keep a start in task storage, so a
 *    process that faults less often than that costs no task storage at
 *    all, and a completion looks into task storage only when the CPU's
 *    last timed fault is its task's (or, for 2 s after a timed fault was
 *    seen sleeping, always: it may complete on another CPU).  A timed
 *    fault that sleeps and completes on another CPU before anything else
 *    faults on its own CPU is not timed (it is counted).  The rows carry
 *    how many faults were timed;
 *  - one timed fault per `sample_every` completed faults goes to the ring
 *    buffer.
 */
#include "common.bpf.h"
#include "procs.bpf.h"
#include "pagefault.h"

const volatile __u32 sample_every = 1000;
const volatile __u32 time_every = 16;
bool completion_hooks = false;   /* set by user space once perf events are attached */
/* The overhead budget (set by user space each tick, a power of two): time
 * the latency of 1 in shed_every faults; the others are only counted. */
__u32 shed_every = 0;   /* 0 or 1: every fault */

struct pending {
	__u64 ts;                /* 0: no timed fault in flight */
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
	__uint(max_entries, 2);          /* index: active */
	__type(key, __u32);
	__type(value, struct pf_acc);
} cpu_acc SEC(".maps");

/* The task whose timed fault started last on this CPU and has not
 * completed here yet (0: none): a completion looks into task storage only
 * for that task, or while `strays_until` says a timed fault may complete
 * elsewhere. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} timed_task SEC(".maps");

/* jiffies until which every completion checks task storage (0: none): set
 * when another task faults on a CPU whose timed fault has not completed
 * (it sleeps, so it may resume on another CPU). */
__u64 strays_until = 0;

#define STRAY_JIFFIES_S 2

extern int CONFIG_HZ __kconfig __weak;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 128 << 10);
} events SEC(".maps");

/* Faults per timed fault on one CPU.  The one place the timing rate is
 * decided: a run-time factor (load shedding) multiplies it here. */
static __always_inline __u32 timing_period(void)
{
	/* the overhead budget stretches the period (shed_every: a power of two) */
	return time_every * (shed_every > 1 ? shed_every : 1);
}

/* task's process's accumulator on this CPU, in the half being written:
 * when another process's counts are in it, they are folded into the
 * hash first. */
static __always_inline struct pf_acc *acc_of(struct task_struct *task)
{
	__u32 half = active ? 1 : 0, tgid = task->tgid;
	struct pf_acc *a = bpf_map_lookup_elem(&cpu_acc, &half);
	struct pf_proc *p;

	if (!a)
		return NULL;
	if (a->tgid == tgid && a->n.comm[0])
		return a;
	if (a->n.comm[0]) {
		void *map = half ? (void *)&procs1 : (void *)&procs0;
		long err;

		p = bpf_map_lookup_elem(map, &a->tgid);
		if (!p) {
			err = bpf_map_update_elem(map, &a->tgid, &a->n, BPF_NOEXIST);
			if (!err)
				goto reset;
			if (err != -EEXIST)
				ks_count(KS_STAT_MAP_FULL);
			p = bpf_map_lookup_elem(map, &a->tgid);
		}
		if (p) {
			p->minor += a->n.minor;
			p->major += a->n.major;
			p->reads += a->n.reads;
			p->writes += a->n.writes;
			p->execs += a->n.execs;
			p->minor_lat_ns += a->n.minor_lat_ns;
			p->minor_timed += a->n.minor_timed;
			p->major_lat_ns += a->n.major_lat_ns;
			p->major_timed += a->n.major_timed;
		}
	}
reset:
	__builtin_memset(&a->n, 0, sizeof(a->n));
	a->tgid = tgid;
	BPF_CORE_READ_STR_INTO(&a->n.comm, task, group_leader, comm);
	if (!a->n.comm[0])
		a->n.comm[0] = '?';
	return a;
}

static __always_inline void emit(struct task_struct *task, __u64 now, __u64 address, __u64 lat,
				 __u32 type, __u32 error_code)
{
	struct pf_event *e;

	if (!ks_rate_ok())
		return;
	e = ks_reserve(&events, sizeof(*e));
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
int KS_PROG(page_fault_user, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pf_acc *c = acc_of(task);
	struct pending *pf;
	__u64 *tt;
	__u32 zero = 0;

	if (!c)
		return 0;
	if (error_code & PF_ERR_INSTR)
		c->n.execs++;
	else if (error_code & PF_ERR_WRITE)
		c->n.writes++;
	else
		c->n.reads++;
	if (!completion_hooks) {
		/* no completion: events are a plain 1 in sample_every of the faults */
		if (++c->since_event >= sample_every) {
			c->since_event = 0;
			emit(task, bpf_ktime_get_ns(), address, 0, PF_UNKNOWN, error_code);
		}
		return 0;
	}
	tt = bpf_map_lookup_elem(&timed_task, &zero);
	if (!tt)
		return 0;
	if (*tt && *tt != (__u64)task) {
		/* that task's timed fault sleeps: it may complete elsewhere */
		strays_until = bpf_jiffies64() + STRAY_JIFFIES_S * (CONFIG_HZ > 0 ? CONFIG_HZ : 1000);
		*tt = 0;
	}
	if (c->until_timed > 1) {
		c->until_timed--;
		return 0;
	}
	c->until_timed = timing_period();
	*tt = (__u64)task;
	pf = bpf_task_storage_get(&pendings, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!pf) {
		ks_count(KS_STAT_MAP_FULL);
		return 0;
	}
	pf->address = address;
	pf->error_code = error_code;
	pf->ts = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int completed(struct bpf_perf_event_data *ctx, __u32 type)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pf_acc *c = acc_of(task);
	struct pf_proc *p;
	struct pending *pf;
	__u64 now = 0, lat = 0, address = ctx->addr, *tt;
	__u32 error_code = 0, zero = 0;
	bool look = false;

	/* Pair with a timed fault that started on this task at this address:
	 * looked up only when this CPU's last timed fault is this task's, or
	 * while timed faults may be completing on other CPUs. */
	tt = bpf_map_lookup_elem(&timed_task, &zero);
	if (tt && *tt == (__u64)task) {
		*tt = 0;
		look = true;
	} else if (strays_until) {
		if (bpf_jiffies64() < strays_until)
			look = true;
		else
			strays_until = 0;
	}
	pf = look ? bpf_task_storage_get(&pendings, task, 0, 0) : NULL;
	if (pf && pf->ts) {
		if (pf->address == address) {
			now = bpf_ktime_get_ns();
			lat = now - pf->ts;
			error_code = pf->error_code;
		}
		pf->ts = 0;
	}
	if (!c)
		return 0;
	p = &c->n;
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
	/* The first timed fault once sample_every faults completed. */
	if (c->since_event < sample_every)
		c->since_event++;
	if (lat && c->since_event >= sample_every) {
		c->since_event = 0;
		emit(task, now, address, lat, type, error_code);
	}
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
