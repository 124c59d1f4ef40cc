/* The memory cgroup of a process and the limit that applies to it.
 *
 * Reads root/proc/<pid>/cgroup for the process's memory cgroup, then walks
 * from it up to the root of the hierarchy reading each level's limit:
 * memory.limit_in_bytes on a cgroup v1 memory controller (hybrid systems),
 * memory.max on cgroup2.  The smallest limit on that path applies, and the
 * usage of the cgroup that sets it (memory.usage_in_bytes,
 * memory.current) is what grows towards it.  Used by the leak detector to
 * project when a leaking process will hit its limit.
 */
#ifndef KS_MEMCG_H
#define KS_MEMCG_H

#include <stdint.h>

/* Limits at or above this are "unlimited" (v1 reports PAGE_COUNTER_MAX
 * pages as 0x7ffffffffffff000). */
#define MEMCG_UNLIMITED (1LL << 60)

struct memcg_info {
	int version;                /* 1: v1 memory controller, 2: cgroup2, 0: none found */
	char path[512];             /* the process's memory cgroup, "/" for the root */
	int64_t limit_bytes;        /* smallest limit from path up to the root; -1: unlimited */
	int64_t usage_bytes;        /* usage of the cgroup that sets the limit; -1: unknown */
	char limit_path[512];       /* the cgroup that sets the limit ("" when unlimited) */
};

/* Fills *ret for process pid.  v1_mount and v2_mount are the mount points
 * of the v1 memory hierarchy and of cgroup2, already under root ("" when
 * absent; cgroup_resolver__memcg_mount() and __v2_mount() give them).  The
 * v1 memory controller wins when the process has a cgroup there.  Returns
 * 0, -ENOENT when the process is gone, or another negative errno; *ret is
 * set only on success. */
int memcg_read(const char *root, const char *v1_mount, const char *v2_mount, int pid, struct memcg_info *ret);

/* MemAvailable from root/proc/meminfo, in bytes, or a negative errno. */
int64_t memcg_mem_available(const char *root);

#endif
