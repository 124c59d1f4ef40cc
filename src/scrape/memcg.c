/* Memory cgroup limits of a process (see memcg.h). */
#include "memcg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

/* Reads one number (or "max") from dir/file.  Returns 0 and sets *ret
 * (-1 for "max" or a value >= MEMCG_UNLIMITED), or a negative errno. */
static int read_value(const char *dir, const char *file, int64_t *ret)
{
	char path[1200], text[64], *end;
	long long v;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	n = procfs_read("", path, text, sizeof(text));
	if (n < 0)
		return (int)n;
	if (!strncmp(text, "max", 3)) {
		*ret = -1;
		return 0;
	}
	errno = 0;
	v = strtoll(text, &end, 10);
	if (end == text || errno)
		return -EINVAL;
	*ret = v >= MEMCG_UNLIMITED ? -1 : v;
	return 0;
}

/* Finds the process's cgroup path in its /proc/<pid>/cgroup text (lines
 * "id:controllers:path"): for v1 the line whose controllers include
 * memory, for v2 the line "0::path".  Modifies text. */
static int find_path(char *text, int version, char *out, size_t size)
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *ctls, *save2 = NULL;
		/* An empty path is the root. */
		const char *path = c2 && c2[1] ? c2 + 1 : "/";

		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		ctls = c1 + 1;
		if (version == 2 && !strcmp(line, "0") && !*ctls) {
			snprintf(out, size, "%s", path);
			return 0;
		}
		if (version != 1)
			continue;
		for (char *ctl = strtok_r(ctls, ",", &save2); ctl; ctl = strtok_r(NULL, ",", &save2))
			if (!strcmp(ctl, "memory")) {
				snprintf(out, size, "%s", path);
				return 0;
			}
	}
	return -ENOENT;
}

/* Walks path up to the root of the hierarchy mounted at mount. */
static void walk_limits(const char *mount, int version, struct memcg_info *m)
{
	const char *limit_file = version == 1 ? "memory.limit_in_bytes" : "memory.max";
	const char *usage_file = version == 1 ? "memory.usage_in_bytes" : "memory.current";
	char rel[512];

	m->limit_bytes = -1;
	m->usage_bytes = -1;
	m->limit_path[0] = '\0';
	snprintf(rel, sizeof(rel), "%s", m->path);
	for (;;) {
		char dir[1100];
		int64_t limit, usage;
		char *slash;

		snprintf(dir, sizeof(dir), "%s%s", mount, strcmp(rel, "/") ? rel : "");
		if (!read_value(dir, limit_file, &limit) && limit >= 0 &&
		    (m->limit_bytes < 0 || limit < m->limit_bytes)) {
			m->limit_bytes = limit;
			m->usage_bytes = read_value(dir, usage_file, &usage) ? -1 : usage;
			snprintf(m->limit_path, sizeof(m->limit_path), "%s", rel);
		}
		if (!strcmp(rel, "/") || !rel[0])
			break;
		slash = strrchr(rel, '/');
		if (slash == rel)
			strcpy(rel, "/");
		else if (slash)
			*slash = '\0';
		else
			break;
	}
}

int memcg_read(const char *root, const char *v1_mount, const char *v2_mount, int pid, struct memcg_info *ret)
{
	char file[64], text[4096], copy[4096];
	struct memcg_info m = { 0 };
	ssize_t n;

	snprintf(file, sizeof(file), "/proc/%d/cgroup", pid);
	n = procfs_read(root, file, text, sizeof(text));
	if (n < 0)
		return n == -ENOENT || n == -ESRCH ? -ENOENT : (int)n;
	m.limit_bytes = m.usage_bytes = -1;
	memcpy(copy, text, (size_t)n + 1);
	if (v1_mount && v1_mount[0] && !find_path(copy, 1, m.path, sizeof(m.path))) {
		m.version = 1;
		walk_limits(v1_mount, 1, &m);
	} else {
		memcpy(copy, text, (size_t)n + 1);
		if (v2_mount && v2_mount[0] && !find_path(copy, 2, m.path, sizeof(m.path))) {
			m.version = 2;
			walk_limits(v2_mount, 2, &m);
		}
	}
	*ret = m;
	return 0;
}

int64_t memcg_mem_available(const char *root)
{
	char text[8192];
	ssize_t n = procfs_read(root, "/proc/meminfo", text, sizeof(text));
	int64_t kb;

	if (n < 0)
		return n;
	kb = procfs_field(text, "MemAvailable");
	/* Over 1 EiB is not a reading (and kb * 1024 would overflow). */
	return kb < 0 || kb > 1LL << 50 ? -EINVAL : kb * 1024;
}
