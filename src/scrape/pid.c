/* /proc/<pid>/{stat,status,cgroup} reader (see pid.h). */
#include "pid.h"
#include "../lib/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"

#define PF_KTHREAD 0x00200000

/* Copies a cgroup path, or "" when it does not fit: a path cut short
 * could name a parent or a sibling cgroup, and an action on it would
 * reach processes it was never meant for. */
static void keep_path(char *dst, size_t size, const char *src)
{
	if (strlen(src) >= size)
		dst[0] = '\0';
	else
		memcpy(dst, src, strlen(src) + 1);
}

int pid_info_read(const char *root, pid_t pid, struct pid_info *ret)
{
	char path[64], text[8192], *p, *comm, *save = NULL;
	struct pid_info info = { .pid = pid, .uid = -1 };
	unsigned long flags = 0;
	unsigned long long start_ticks = 0;
	long rss_pages = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((n = procfs_read(root, path, text, sizeof(text))) < 0)
		return (int)n;
	/* comm may contain spaces and parentheses: it runs from the first '('
	 * to the last ')'. */
	p = strrchr(text, ')');
	comm = strchr(text, '(');
	if (!p || !comm || comm > p || !p[1])
		return -EINVAL;
	*p = '\0';
	snprintf(info.comm, sizeof(info.comm), "%s", comm + 1);
	/* state ppid pgrp session tty tpgid flags ... (field 3 on); starttime is
	 * field 22, rss field 24 */
	if (sscanf(p + 2, "%c %d %*d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu %*u %ld",
		   &info.state, &info.ppid, &flags, &start_ticks, &rss_pages) != 5)
		return -EINVAL;
	{
		struct timespec boot;
		unsigned long long tick_ns = 1000000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK);

		/* starttime counts clock ticks since boot: more than a century of
		 * them is not a process of this boot (and would overflow). */
		if (start_ticks > 100ULL * 366 * 86400 * 1000000000ULL / tick_ns)
			return -EINVAL;
		clock_gettime(CLOCK_BOOTTIME, &boot);
		info.start_ns = clock_real_ns() - (boot.tv_sec * 1000000000LL + boot.tv_nsec) +
				(int64_t)(start_ticks * tick_ns);
	}
	info.kthread = flags & PF_KTHREAD;
	info.rss_bytes = rss_pages > 0 ? (uint64_t)rss_pages * (uint64_t)sysconf(_SC_PAGESIZE) : 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (procfs_read(root, path, text, sizeof(text)) > 0)
		info.uid = procfs_field(text, "Uid");

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (procfs_read(root, path, text, sizeof(text)) > 0) {
		for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

			char *ctl_save = NULL;

			if (!c2)
				continue;
			*c1 = '\0';        /* line: hierarchy id; c1 + 1: controllers */
			*c2 = '\0';
			if (!strcmp(line, "0") && c1[1] == '\0')
				keep_path(info.cgroup2, sizeof(info.cgroup2), c2 + 1);
			for (char *ctl = strtok_r(c1 + 1, ",", &ctl_save); ctl; ctl = strtok_r(NULL, ",", &ctl_save)) {
				if (!strcmp(ctl, "memory"))
					keep_path(info.memcg, sizeof(info.memcg), c2 + 1);
				else if (!strcmp(ctl, "cpu"))
					keep_path(info.cpucg, sizeof(info.cpucg), c2 + 1);
			}
		}
	}
	*ret = info;
	return 0;
}

const char *pid_info_cgroup(const struct pid_info *p)
{
	if (p->cgroup2[0] && strcmp(p->cgroup2, "/"))
		return p->cgroup2;
	if (p->memcg[0])
		return p->memcg;
	return p->cgroup2[0] ? p->cgroup2 : "/";
}
