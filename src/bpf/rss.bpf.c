// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* RSS tracer: per-process resident memory by type, coalesced (see rss.h).
 *
 * Hooks: tp_btf rss_stat (every change of an mm's RSS counters: page
 * faults, unmaps, reclaim, swap) and sched_process_exit.
 *
 * rss_stat fires for the mm being changed, which need not be current's (a
 * process being reaped, khugepaged, another process's madvise), so the
 * process is found through mm->owner.  Events on an mm its owner does not
 * use yet or any more are skipped: during fork (dup_mmap runs before the
 * child's tgid is set and before child->mm points at it), while exec builds
 * the new mm, and while exit tears it down.  The four counters are read
 * from the mm on every event, so one event is enough to bring the state up
 * to date whatever member changed.
 *
 * Coalesced per CPU: an event on the mm this CPU handled last, whose
 * footprint is within coalesce_pages of what was last written to the hash
 * from this CPU, and before that process's next slot is due, only updates
 * this CPU's `recent` slot (no hash lookup, no atomics).  User space
 * overlays the slots on the hash when it reads it (rss.c), and the exit
 * record reads the mm's counters itself, so what user space sees is the
 * same as without coalescing; a jump is seen at most coalesce_pages late.
 */
#include "common.bpf.h"
#include "rss.h"

#define EEXIST 17

/* Set by user space before load. */
const volatile __u64 interval_ns = 1000000000ULL;
const volatile __u64 jump_pages = 2048;
const volatile __u64 coalesce_pages = 32;     /* 0: every event goes to the hash */

extern int CONFIG_HZ __kconfig __weak;

/* Nanoseconds per jiffy: the coalesced path keeps time with jiffies, a
 * plain load, where the clock (kvm-clock in a VM) costs far more. */
static __always_inline __u64 jiffy_ns(void)
{
	return CONFIG_HZ > 0 ? 1000000000ULL / (__u64)CONFIG_HZ : 4000000ULL;
}
/* The overhead budget (set by user space each tick): the per-process
 * interval is this many times longer. */
__u32 shed_interval_mult = 0;   /* 0 or 1: the configured interval */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 << 10);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);      /* tracers.rss.max_processes */
	__type(key, __u32);              /* tgid */
	__type(value, struct rss_state);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rss_recent);
} recent SEC(".maps");

/* percpu_counter.count: the folded value the kernel itself reports
 * (get_mm_counter), off by at most the per-CPU batches.  mm is a BTF
 * pointer here: a direct load, no helper call. */
#define counter(mm, i) ({ __s64 __v = (mm)->rss_stat[i].count; __v > 0 ? (__u64)__v : 0; })

static __always_inline __u64 footprint(const __u64 *pages)
{
	return pages[RSS_FILE] + pages[RSS_ANON] + pages[RSS_SHMEM] + pages[RSS_SWAP];
}

static __always_inline void push(struct rss_state *st, struct task_struct *task, __u32 tgid, __u32 kind,
				 __u64 ts)
{
	struct ks_rss_event *e;

	if (!ks_rate_ok())
		return;
	e = ks_reserve(&events, sizeof(*e));
	if (!e)
		return;
	e->ts_ns = ts;
	e->origin_ns = st->origin_ns;
	e->start_ns = st->start_ns;
	e->base_pages = st->base_pages;
	e->cgroup_id = ks_cgroup_v2_id(task);
	e->memcg_id = ks_memcg_id(task);
	for (int i = 0; i < RSS_MEMBERS; i++)
		e->pages[i] = st->pages[i];
	e->kind = kind;
	e->pid = tgid;
	e->seq = st->seq;
	e->pad = 0;
	BPF_CORE_READ_STR_INTO(&e->comm, task, group_leader, comm);
	st->push_pages = footprint(st->pages);
	st->pushed++;
	if (kind == RSS_JUMP)
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);    /* rare by design: tell user space now */
	else
		ks_submit(&events, e);
}

SEC("tp_btf/rss_stat")
int KS_PROG(handle_rss, struct mm_struct *mm, int member)
{
	struct task_struct *owner;
	struct rss_state *st;
	struct rss_recent *rc;
	__u64 pages[RSS_MEMBERS], now, fp, moved, due, interval;
	__u32 tgid, zero = 0, skipped = 0;

	/* Direct loads through the BTF pointers (the verifier makes them
	 * fault-safe), not helper calls: this runs on every fault. */
	if (bpf_core_field_exists(mm->owner))
		owner = mm->owner;
	else
		owner = bpf_get_current_task_btf();    /* no CONFIG_MEMCG: only current's own mm */
	if (!owner || owner->mm != mm)
		return 0;
	tgid = owner->tgid;
	pages[RSS_FILE] = counter(mm, MM_FILEPAGES);
	pages[RSS_ANON] = counter(mm, MM_ANONPAGES);
	pages[RSS_SWAP] = counter(mm, MM_SWAPENTS);
	pages[RSS_SHMEM] = counter(mm, MM_SHMEMPAGES);
	fp = footprint(pages);

	rc = bpf_map_lookup_elem(&recent, &zero);
	if (rc && rc->mm == (__u64)mm && rc->tgid == tgid &&
	    (fp > rc->fp_pages ? fp - rc->fp_pages : rc->fp_pages - fp) < coalesce_pages) {
		__u64 j = bpf_jiffies64();

		if (j < rc->due_jiffies) {
			for (int i = 0; i < RSS_MEMBERS; i++)
				rc->pages[i] = pages[i];
			/* the time of the write plus the jiffies since: within a jiffy */
			rc->last_ns = rc->written_ns + (j - rc->written_jiffies) * jiffy_ns();
			rc->skipped++;
			return 0;
		}
	}
	now = bpf_ktime_get_ns();
	interval = interval_ns * (shed_interval_mult ? shed_interval_mult : 1);

	st = bpf_map_lookup_elem(&procs, &tgid);
	if (!st) {
		struct rss_state fresh = {};
		long err;

		/* Not for a group that is exiting: its state is gone already. */
		if (owner->signal->live.counter == 0)
			return 0;
		fresh.mm = (__u64)mm;
		fresh.origin_ns = now;
		fresh.start_ns = owner->group_leader->start_time;
		fresh.next_due_ns = now + interval;
		fresh.last_ns = now;
		fresh.base_pages = fp;
		fresh.push_pages = fp;
		for (int i = 0; i < RSS_MEMBERS; i++)
			fresh.pages[i] = pages[i];
		fresh.seq = 1;
		err = bpf_map_update_elem(&procs, &tgid, &fresh, BPF_NOEXIST);
		if (err && err != -EEXIST)
			ks_count(KS_STAT_MAP_FULL);
		if (rc)
			rc->mm = 0;          /* written through: nothing pending here */
		return 0;
	}
	/* This CPU's pending changes for the same mm are in the state now. */
	if (rc && rc->mm == (__u64)mm && rc->tgid == tgid)
		skipped = rc->skipped;
	if (st->mm != (__u64)mm) {
		/* exec: a new program, a new baseline and sampling schedule */
		st->mm = (__u64)mm;
		st->origin_ns = now;
		st->next_due_ns = now + interval;
		st->base_pages = fp;
		st->push_pages = fp;
		st->seq = 0;
		st->pushed = 0;
	}
	due = st->next_due_ns;
	if (now >= due) {
		/* The first change after a slot ended: push how the slot ended
		 * (the state before this change, at the time of the change
		 * before it).  Slot boundaries stay on the origin's grid, so
		 * pushes do not drift. */
		__u64 next = now - (now - st->origin_ns) % interval + interval;

		if (__sync_val_compare_and_swap(&st->next_due_ns, due, next) == due)
			push(st, owner, tgid, RSS_SAMPLE, st->last_ns);
	}
	for (int i = 0; i < RSS_MEMBERS; i++)
		st->pages[i] = pages[i];
	st->last_ns = now;
	__sync_fetch_and_add(&st->seq, 1 + skipped);
	moved = fp > st->push_pages ? fp - st->push_pages : st->push_pages - fp;
	if (moved >= jump_pages)
		push(st, owner, tgid, RSS_JUMP, now);
	if (rc) {
		rc->mm = (__u64)mm;
		rc->tgid = tgid;
		rc->skipped = 0;
		rc->fp_pages = fp;
		rc->written_ns = now;
		rc->written_jiffies = bpf_jiffies64();
		/* whole jiffies before the slot ends: never late */
		rc->due_jiffies = rc->written_jiffies +
				  (st->next_due_ns > now ? (st->next_due_ns - now) / jiffy_ns() : 0);
		rc->last_ns = now;
		for (int i = 0; i < RSS_MEMBERS; i++)
			rc->pages[i] = pages[i];
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int KS_PROG(handle_exit, struct task_struct *task)
{
	struct mm_struct *mm;
	struct rss_state *st;
	__u32 tgid;

	/* Only the thread whose exit ends the group. */
	if (!ks_group_dead(ctx, task))
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	st = bpf_map_lookup_elem(&procs, &tgid);
	if (!st)
		return 0;
	/* The mm is still there (exit_mm comes later): its final counts,
	 * whatever the CPUs' coalescing slots held back. */
	mm = task->mm;
	if (mm && (__u64)mm == st->mm) {
		st->pages[RSS_FILE] = counter(mm, MM_FILEPAGES);
		st->pages[RSS_ANON] = counter(mm, MM_ANONPAGES);
		st->pages[RSS_SWAP] = counter(mm, MM_SWAPENTS);
		st->pages[RSS_SHMEM] = counter(mm, MM_SHMEMPAGES);
	}
	if (st->pushed)
		push(st, task, tgid, RSS_EXIT, bpf_ktime_get_ns());
	bpf_map_delete_elem(&procs, &tgid);
	return 0;
}
