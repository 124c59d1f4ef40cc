/* Per-process figures kept in the kernel, read once per tick.
 *
 * KS_PROCS(value_type) declares two per-CPU hashes keyed by tgid that swap
 * roles every tick through the global `active` (user space flips it, then
 * reads and empties the other half with tracer__drain_procs(), so no
 * increment races a reset), and proc_of(task), which returns task's slot in
 * the half being written, creating it with the command name of the
 * process.  value_type holds u64 counters first and `char comm[16]` last.
 *
 * The maps are preallocated: an insert from sched_switch or a fault must
 * not depend on the allocator.  User space sizes them with
 * agent.max_processes before load.
 */
#ifndef KS_PROCS_BPF_H
#define KS_PROCS_BPF_H

#include "common.bpf.h"

#define KS_PROCS(value_type)                                                              \
	__u32 active = 0;                                                                 \
                                                                                          \
	struct procs_map {                                                                \
		__uint(type, BPF_MAP_TYPE_PERCPU_HASH);                                   \
		__uint(max_entries, 8192);                                                \
		__type(key, __u32);                                                       \
		__type(value, value_type);                                                \
	};                                                                                \
	struct procs_map procs0 SEC(".maps");                                             \
	struct procs_map procs1 SEC(".maps");                                             \
                                                                                          \
	static __always_inline value_type *proc_of(struct task_struct *task)             \
	{                                                                                 \
		__u32 tgid = task->tgid;                                                  \
		void *map = active ? (void *)&procs1 : (void *)&procs0;                   \
		value_type *p = bpf_map_lookup_elem(map, &tgid), init = {};               \
                                                                                          \
		if (p)                                                                    \
			return p;                                                         \
		BPF_CORE_READ_STR_INTO(&init.comm, task, group_leader, comm);             \
		return ks_lookup_or_init(map, &tgid, &init);                              \
	}

#endif
