/* Contract shared by every tracer's kernel and user side: the per-CPU
 * counters each BPF object keeps in its `ks_stats` map.  Fixed-width fields
 * only; this header is included by BPF programs and by user space.
 */
#ifndef KS_BPF_COMMON_H
#define KS_BPF_COMMON_H

#ifndef __bpf__
#include <linux/types.h>
#endif

enum ks_stat {
	KS_STAT_DROPS,          /* ring buffer reservation failed (consumer behind) */
	KS_STAT_RATE_LIMITED,   /* dropped on purpose by the configured rate cap */
	KS_STAT_MAP_FULL,       /* a map update or a task-storage slot failed */
	KS_STAT_UNTRACKED,      /* seen but outside what the maps hold (e.g. syscall number >= SYSCALL_MAX) */
	KS_STAT_MAX,
};

#define KS_COMM_LEN 16

/* Who an event belongs to; filled in the kernel by ks_task_fill(). */
struct ks_task {
	__u64 cgroup_id;         /* cgroup v2 id */
	__u64 memcg_id;          /* v1 memory cgroup id (0: none) */
	__u32 pid;               /* thread group id */
	__u32 tid;
	char comm[KS_COMM_LEN];
};

#endif
