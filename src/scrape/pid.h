/* One process as /proc describes it: what the remediation agent needs to
 * decide whether it may act on a process and where its cgroups are.
 * Reads under a root prefix like every /proc source. */
#ifndef KS_PID_H
#define KS_PID_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pid_info {
	pid_t pid;
	pid_t ppid;
	char comm[17];
	char state;                  /* R, S, D, Z ... */
	int64_t uid;                 /* real uid */
	bool kthread;                /* a kernel thread (PF_KTHREAD) */
	uint64_t rss_bytes;
	int64_t start_ns;            /* when it started, ns since the Unix epoch (10 ms resolution) */
	char cgroup2[512];           /* path in the cgroup2 hierarchy ("" if none) */
	char memcg[512];             /* path in the v1 memory hierarchy ("" if none) */
	char cpucg[512];             /* path in the v1 cpu hierarchy ("" if none) */
};

/* Fills *ret for pid; -ENOENT when it is gone. */
int pid_info_read(const char *root, pid_t pid, struct pid_info *ret);

/* The cgroup path to show and match on: the v2 path unless the process
 * sits at the v2 root of a hybrid host, then its v1 memory cgroup. */
const char *pid_info_cgroup(const struct pid_info *p);

#endif
