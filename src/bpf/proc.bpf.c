// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Process lifecycle tracer: fork, exec and exit of processes (see proc.h).
 *
 * Hooks: tp_btf sched_process_fork / sched_process_exec / sched_process_exit,
 * and sched_switch with exact_cpu.
 *
 * With `follow` set (ksight run), only the process user space put in
 * `followed` and its descendants are reported: the fork hook adds children
 * of followed processes, the exit hook removes them, so unrelated processes
 * cost one hash lookup and nothing in user space.
 *
 * With `exact_cpu` (ksight run), the exit record is completed and sent at the
 * task's last context switch (sched_switch with prev_state TASK_DEAD), when
 * the scheduler has brought its runtime up to date: at sched_process_exit a
 * process that lived a millisecond shows a fraction of its CPU time.
 *
 * With `exclude_shells`, records of sh/bash/dash/zsh processes are dropped
 * here, except for `root_pid` (the job itself always has its records), and
 * the ppid of every record is the nearest ancestor that is not a hidden
 * shell, so the reported tree stays connected.
 *
 * Fields are read with direct loads through the BTF pointers the hooks
 * pass (the verifier makes them fault-safe), not one helper call each.
 */
#include "common.bpf.h"
#include "proc.h"

const volatile bool follow = false;
const volatile bool exclude_shells = false;
const volatile __u32 root_pid = 0;
const volatile bool exact_cpu = false;

#define KS_TASK_DEAD 0x80       /* TASK_DEAD, a macro the BTF does not carry */

#define SHELL_WALK_MAX 16       /* nested shells skipped when looking for a ppid */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FOLLOWED_MAX);
	__type(key, __u32);      /* tgid */
	__type(value, __u8);
} followed SEC(".maps");

/* Exit records waiting for their task's last context switch (exact_cpu). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);      /* tid of the group's last thread */
	__type(value, struct ks_proc_exit_event);
} exiting SEC(".maps");

static __always_inline bool is_followed(__u32 tgid)
{
	return !follow || bpf_map_lookup_elem(&followed, &tgid);
}

static __always_inline bool is_shell(const char *comm)
{
	/* sh, bash, dash, zsh */
	if (comm[0] == 's' && comm[1] == 'h' && comm[2] == 0)
		return true;
	if (comm[0] == 'b' && comm[1] == 'a' && comm[2] == 's' && comm[3] == 'h' && comm[4] == 0)
		return true;
	if (comm[0] == 'd' && comm[1] == 'a' && comm[2] == 's' && comm[3] == 'h' && comm[4] == 0)
		return true;
	if (comm[0] == 'z' && comm[1] == 's' && comm[2] == 'h' && comm[3] == 0)
		return true;
	return false;
}

/* A shell whose records are dropped: every shell but the job's root. */
static __always_inline bool is_hidden_shell(const char *comm, __u32 tgid)
{
	return exclude_shells && tgid != root_pid && is_shell(comm);
}

/* The parent's tgid; with exclude_shells, the nearest ancestor that is not
 * a hidden shell. */
static __always_inline __u32 parent_tgid(struct task_struct *task)
{
	struct task_struct *p = task->real_parent;
	__u32 tgid = p->tgid;

	if (!exclude_shells)
		return tgid;
	for (int i = 0; i < SHELL_WALK_MAX; i++) {
		char comm[KS_COMM_LEN];

		BPF_CORE_READ_STR_INTO(&comm, p, comm);
		if (!is_hidden_shell(comm, tgid) || tgid <= 1)
			break;
		p = p->real_parent;
		tgid = p->tgid;
	}
	return tgid;
}

/* Adds task's own CPU time and faults to a record of its group. */
static __always_inline void add_own(struct ks_proc_exit_event *e, struct task_struct *task)
{
	e->runtime_ns += task->se.sum_exec_runtime;
	e->utime_ns += task->utime;
	e->stime_ns += task->stime;
	e->min_flt += task->min_flt;
	e->maj_flt += task->maj_flt;
}

static __always_inline void fill_header(struct ks_proc_event *e, struct task_struct *task, __u32 kind)
{
	e->ts_ns = bpf_ktime_get_ns();
	e->kind = kind;
	e->pid = task->tgid;
	e->ppid = parent_tgid(task);
	e->uid = task->real_cred->uid.val;
	e->cgroup_id = ks_cgroup_v2_id(task);
	e->memcg_id = ks_memcg_id(task);
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
}

SEC("tp_btf/sched_process_fork")
int KS_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct ks_proc_event *e;
	__u32 child_tgid = child->tgid;
	__u8 one = 1;

	if (child->pid != child_tgid)
		return 0;               /* a new thread, not a new process */
	if (follow) {
		__u32 parent_tgid = parent->tgid;

		if (!bpf_map_lookup_elem(&followed, &parent_tgid))
			return 0;
		if (bpf_map_update_elem(&followed, &child_tgid, &one, BPF_ANY))
			ks_count(KS_STAT_MAP_FULL);
	}
	if (is_hidden_shell(child->comm, child_tgid))
		return 0;
	if (!ks_rate_ok())
		return 0;
	e = ks_reserve(&events, sizeof(*e));
	if (!e)
		return 0;
	fill_header(e, child, PROC_FORK);
	ks_submit(&events, e);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int KS_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ks_proc_exec_event *e;
	unsigned long arg_start, arg_end, size;
	const char *filename;
	__u32 tgid = task->tgid;
	long n;

	if (!is_followed(tgid))
		return 0;
	if (is_hidden_shell(task->comm, tgid))
		return 0;
	if (!ks_rate_ok())
		return 0;
	e = ks_reserve(&events, sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->hdr, task, PROC_EXEC);
	filename = BPF_CORE_READ(bprm, filename);
	n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), filename);
	e->filename_len = n > 0 ? n - 1 : 0;

	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	size = arg_end - arg_start;
	e->args_size = size;
	if (size > PROC_ARGS_LEN)
		size = PROC_ARGS_LEN;
	e->args_len = 0;
	if (size > 0 && bpf_probe_read_user(e->args, size, (void *)arg_start) == 0)
		e->args_len = size;
	ks_submit(&events, e);
	return 0;
}

/* The kernel's accounting of the whole thread group: threads already
 * released are summed in signal; a zombie leader is not yet.  With self,
 * task's own counters are added too; without, the caller adds them later. */
static __always_inline void fill_exit(struct ks_proc_exit_event *e, struct task_struct *task, bool self)
{
	struct signal_struct *sig = task->signal;
	struct task_struct *leader = task->group_leader;

	fill_header(&e->hdr, task, PROC_EXIT);
	e->start_ns = leader->start_time;
	e->exit_code = task->exit_code;
	e->page_size = 4096;
	if (bpf_core_enum_value_exists(enum page_size_enum, __PAGE_SIZE))
		e->page_size = bpf_core_enum_value(enum page_size_enum, __PAGE_SIZE);
	e->runtime_ns = sig->sum_sched_runtime;
	e->utime_ns = sig->utime;
	e->stime_ns = sig->stime;
	e->min_flt = sig->min_flt;
	e->maj_flt = sig->maj_flt;
	if (leader != task) {
		e->runtime_ns += leader->se.sum_exec_runtime;
		e->utime_ns += leader->utime;
		e->stime_ns += leader->stime;
		e->min_flt += leader->min_flt;
		e->maj_flt += leader->maj_flt;
	}
	if (self)
		add_own(e, task);
	e->maxrss_pages = sig->maxrss;
}

/* Sends a copy of src; with task (at its last context switch), stamped now
 * and with task's own, final counters added. */
static __always_inline void submit_exit(const struct ks_proc_exit_event *src, struct task_struct *task)
{
	struct ks_proc_exit_event *e;

	if (!ks_rate_ok())
		return;
	e = ks_reserve(&events, sizeof(*e));
	if (!e)
		return;
	__builtin_memcpy(e, src, sizeof(*e));
	if (task) {
		e->hdr.ts_ns = bpf_ktime_get_ns();
		add_own(e, task);
	}
	ks_submit(&events, e);
}

SEC("tp_btf/sched_process_exit")
int KS_PROG(handle_exit, struct task_struct *task)
{
	struct ks_proc_exit_event e = {};
	__u32 tgid = task->tgid, tid = task->pid;
	bool hidden;

	/* Only the thread whose exit ends the group. */
	if (!ks_group_dead(ctx, task))
		return 0;
	if (follow && !bpf_map_lookup_elem(&followed, &tgid))
		return 0;
	hidden = is_hidden_shell(task->comm, tgid);
	if (exact_cpu && !hidden) {
		/* Finished at the task's last context switch (handle_switch):
		 * its runtime is only brought up to date by the scheduler, so
		 * here it lacks everything since the last tick or switch, which
		 * for a short process is most of it, and the exit itself. */
		fill_exit(&e, task, false);
		if (bpf_map_update_elem(&exiting, &tid, &e, BPF_ANY) == 0)
			return 0;
		ks_count(KS_STAT_MAP_FULL);
	}
	if (follow)
		bpf_map_delete_elem(&followed, &tgid);
	if (hidden)
		return 0;
	fill_exit(&e, task, true);
	submit_exit(&e, NULL);
	return 0;
}

/* The last context switch of an exiting task whose exit record waits in
 * `exiting` (exact_cpu): its runtime is final now.  Every other switch
 * costs one comparison. */
SEC("tp_btf/sched_switch")
int KS_PROG(handle_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct ks_proc_exit_event *pending;
	__u32 tid, tgid;

	if (prev_state != KS_TASK_DEAD)
		return 0;
	tid = prev->pid;
	pending = bpf_map_lookup_elem(&exiting, &tid);
	if (!pending)
		return 0;
	submit_exit(pending, prev);
	bpf_map_delete_elem(&exiting, &tid);
	if (follow) {
		tgid = prev->tgid;
		bpf_map_delete_elem(&followed, &tgid);
	}
	return 0;
}
