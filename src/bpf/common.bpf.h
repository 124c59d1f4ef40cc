/* Kernel-side helpers shared by every tracer.
 *
 * Including this header gives a BPF object:
 *  - `ks_stats`, a per-CPU array of enum ks_stat counters that user space
 *    sums every tick, so no loss is ever silent;
 *  - `ks_rate_cap`, a per-CPU token bucket (events/s per CPU, 0 = no cap);
 *  - ring buffer reserve/submit wrappers that count failures and batch
 *    wakeups (the consumer is woken only when ks_wakeup_bytes are waiting;
 *    the collector also drains every tick).  A ring's declared size is its
 *    maximum: the framework shrinks it to agent.ringbuf_bytes;
 *  - cgroup ids of a task for both cgroup hierarchies;
 *  - `ks_costs` and KS_PROG: programs that time themselves on a sample, for
 *    the overhead budget.
 */
#ifndef KS_COMMON_BPF_H
#define KS_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "common.h"

#ifndef EEXIST
#define EEXIST 17
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by user space before load. */
const volatile __u64 ks_rate_cap = 0;          /* events per second per CPU */
const volatile __u64 ks_wakeup_bytes = 65536;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KS_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ks_stats SEC(".maps");

struct ks_bucket {
	__u64 tokens;      /* in 1e-9 events */
	__u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ks_bucket);
} ks_buckets SEC(".maps");

/* Self-timing, what the overhead budget reads (docs/budget.md).  While
 * user space sets `every` = N > 0 in each CPU's slot, about one run in N of
 * a KS_PROG program is timed, and adds N x its run time to that CPU's
 * estimate, which user space sums (tracer__run_ns).  The gap to the next
 * timed run is drawn uniformly from 1 .. 2N-1 (mean N), so that no periodic
 * pattern of runs (enter/exit pairs, say) is always or never timed.  With
 * every = 0 a run costs one per-CPU load and a branch.  It replaces the
 * kernel's BPF_ENABLE_STATS, which reads the clock twice around every run
 * and needs CAP_SYS_ADMIN, which the service does not have. */
struct ks_cost {
	__u32 every;       /* N: set by user space; 0 = off */
	__u32 countdown;   /* runs until the next timed one */
	__u64 est_ns;      /* estimated run time of every program on this CPU */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ks_cost);
} ks_costs SEC(".maps");

/* Returns the start time of a run to be timed, or 0. */
static __always_inline __u64 ks_cost_begin(void)
{
	__u32 zero = 0;
	struct ks_cost *c = bpf_map_lookup_elem(&ks_costs, &zero);

	if (!c || !c->every)
		return 0;
	if (c->countdown > 1) {
		c->countdown--;
		return 0;
	}
	c->countdown = 1 + bpf_get_prandom_u32() % (2 * c->every - 1);
	return bpf_ktime_get_ns();
}

static __always_inline void ks_cost_end(__u64 t0)
{
	__u32 zero = 0;
	struct ks_cost *c;
	__u64 t1, t2;

	if (!t0)
		return;
	/* t1 - t0 holds one clock read besides the body: t2 - t1 is one. */
	t1 = bpf_ktime_get_ns();
	t2 = bpf_ktime_get_ns();
	c = bpf_map_lookup_elem(&ks_costs, &zero);
	if (c && t1 - t0 > t2 - t1)
		c->est_ns += (t1 - t0 - (t2 - t1)) * c->every;
}

/* BPF_PROG (bpf_tracing.h) with self-timing around the body: every tracer
 * program is declared with it, as `int KS_PROG(name, args...)`. */
#define KS_PROG(name, args...)						\
name(unsigned long long *ctx);						\
static __always_inline int ____##name(unsigned long long *ctx, ##args);	\
int name(unsigned long long *ctx)					\
{									\
	__u64 __ks_t0 = ks_cost_begin();				\
	int __ks_ret;							\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")		\
	__ks_ret = ____##name(___bpf_ctx_cast(args));			\
	_Pragma("GCC diagnostic pop")					\
	ks_cost_end(__ks_t0);						\
	return __ks_ret;						\
}									\
static __always_inline int ____##name(unsigned long long *ctx, ##args)

static __always_inline void ks_count(__u32 stat)
{
	__u64 *c = bpf_map_lookup_elem(&ks_stats, &stat);

	if (c)
		(*c)++;
}

/* True when the rate cap allows one more event on this CPU. */
static __always_inline bool ks_rate_ok(void)
{
	__u32 zero = 0;
	struct ks_bucket *b;
	__u64 now, elapsed, full;

	if (!ks_rate_cap)
		return true;
	b = bpf_map_lookup_elem(&ks_buckets, &zero);
	if (!b)
		return true;
	now = bpf_ktime_get_ns();
	elapsed = now - b->last_ns;
	if (elapsed > 1000000000ULL)
		elapsed = 1000000000ULL;
	full = ks_rate_cap * 1000000000ULL;   /* one second of burst */
	b->tokens += elapsed * ks_rate_cap;
	if (b->tokens > full)
		b->tokens = full;
	b->last_ns = now;
	if (b->tokens < 1000000000ULL) {
		ks_count(KS_STAT_RATE_LIMITED);
		return false;
	}
	b->tokens -= 1000000000ULL;
	return true;
}

/* Reserves size bytes in rb, counting a drop when it is full. */
#define ks_reserve(rb, size) ({                                          \
	void *__p = bpf_ringbuf_reserve(rb, size, 0);                    \
	if (!__p)                                                        \
		ks_count(KS_STAT_DROPS);                                 \
	__p;                                                             \
})

/* Submits with a wakeup only once ks_wakeup_bytes (at most half the ring)
 * are waiting: the consumer drains in batches instead of once per record. */
static __always_inline void ks_submit(void *rb, void *event)
{
	__u64 threshold = bpf_ringbuf_query(rb, BPF_RB_RING_SIZE) / 2;
	__u64 flags;

	if (ks_wakeup_bytes < threshold)
		threshold = ks_wakeup_bytes;
	flags = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) >= threshold ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(event, flags);
}

/* The slot for key in hash map `map`, inserted from init when absent; NULL
 * (counted as map full) when there is no room. */
static __always_inline void *ks_lookup_or_init(void *map, const void *key, const void *init)
{
	void *slot = bpf_map_lookup_elem(map, key);

	if (slot)
		return slot;
	/* EEXIST: another CPU inserted it first; the lookup below finds it.
	 * Anything else (full, no memory, bucket busy) is a loss. */
	long err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);

	if (err && err != -EEXIST) {
		ks_count(KS_STAT_MAP_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(map, key);
}

/* The cgroup v2 id of task (the kernfs id, which is the inode number of its
 * directory under the cgroup2 mount). */
static __always_inline __u64 ks_cgroup_v2_id(struct task_struct *task)
{
	return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
}

/* The id of task's memory cgroup on a v1 hierarchy (or the same cgroup as
 * v2 on a pure v2 system); 0 when the kernel has no memory controller. */
static __always_inline __u64 ks_memcg_id(struct task_struct *task)
{
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return 0;
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct css_set *cset = BPF_CORE_READ(task, cgroups);
	struct cgroup_subsys_state *css;

	if (id < 0 || id >= CGROUP_SUBSYS_COUNT)
		return 0;
	bpf_core_read(&css, sizeof(css), &cset->subsys[id]);
	if (!css)
		return 0;
	return BPF_CORE_READ(css, cgroup, kn, id);
}

/* Set by user space when sched_process_exit passes group_dead (6.16+):
 * then it says which exiting thread ends its group.  Older kernels only
 * have signal->live, which two threads exiting together can both see at 0. */
const volatile bool ks_exit_has_group_dead = false;

/* In a sched_process_exit program: true for the thread whose exit ends its
 * thread group (the process). */
#define ks_group_dead(ctx, task)                                                 \
	(ks_exit_has_group_dead ? (bool)((unsigned long long *)(ctx))[1]         \
				: BPF_CORE_READ(task, signal, live.counter) == 0)

/* Who runs: the owner of an event. */
static __always_inline void ks_task_fill(struct ks_task *k, struct task_struct *task)
{
	k->pid = BPF_CORE_READ(task, tgid);
	k->tid = BPF_CORE_READ(task, pid);
	k->cgroup_id = ks_cgroup_v2_id(task);
	k->memcg_id = ks_memcg_id(task);
	BPF_CORE_READ_STR_INTO(&k->comm, task, comm);
}

#endif
