/* Fuzz target: the memory cgroup reader (src/scrape/memcg.c): a process's
 * /proc/PID/cgroup, the limits and usages on its path up a v1 memory
 * hierarchy or cgroup2, and MemAvailable from /proc/meminfo.
 *
 * Input, cut at NUL bytes (t/lib/fuzz.h): the cgroup file, then the
 * contents of these files in this order (a missing part is a missing
 * file): v1 memory.limit_in_bytes and memory.usage_in_bytes at the root,
 * in /a and in /a/b; cgroup2 memory.max and memory.current at the root, in
 * /a and in /a/b; /proc/meminfo.  The cgroup file decides which path is
 * walked. */
#include "../../src/scrape/memcg.h"
#include "../lib/fuzz.h"

#define V1 "/sys/fs/cgroup/memory"
#define V2 "/sys/fs/cgroup/unified"

static const char *const files[] = {
	"/proc/4242/cgroup",
	V1 "/memory.limit_in_bytes", V1 "/memory.usage_in_bytes",
	V1 "/a/memory.limit_in_bytes", V1 "/a/memory.usage_in_bytes",
	V1 "/a/b/memory.limit_in_bytes", V1 "/a/b/memory.usage_in_bytes",
	V2 "/memory.max", V2 "/memory.current",
	V2 "/a/memory.max", V2 "/a/memory.current",
	V2 "/a/b/memory.max", V2 "/a/b/memory.current",
	"/proc/meminfo",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char v1[4200], v2[4200];
	struct fuzz_parts parts;
	struct memcg_info info;

	fuzz_split(data, size, &parts);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		fuzz_write(files[i], i < parts.n ? parts.p[i] : NULL, i < parts.n ? parts.len[i] : 0);
	fuzz_path(V1, v1, sizeof(v1));
	fuzz_path(V2, v2, sizeof(v2));
	if (!memcg_read(fuzz_dir(), v1, v2, 4242, &info)) {
		if (info.version < 0 || info.version > 2 || strlen(info.path) >= sizeof(info.path) ||
		    strlen(info.limit_path) >= sizeof(info.limit_path))
			fuzz_die("memcg_read filled a field beyond its range");
		if (info.limit_bytes < -1 || (info.limit_bytes >= 0 && !info.limit_path[0]))
			fuzz_die("limit %lld without the cgroup that sets it", (long long)info.limit_bytes);
	}
	memcg_mem_available(fuzz_dir());
	return 0;
}
