/* Fuzz target: the process reader (src/scrape/pid.c) on /proc/PID/stat,
 * status and cgroup.  Input: the three files, cut at NUL bytes
 * (t/lib/fuzz.h); a missing part is a missing file. */
#include "../../src/scrape/pid.h"
#include "../lib/fuzz.h"

static const char *const files[] = { "/proc/4242/stat", "/proc/4242/status", "/proc/4242/cgroup" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_parts parts;
	struct pid_info info;

	fuzz_split(data, size, &parts);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		fuzz_write(files[i], i < parts.n ? parts.p[i] : NULL, i < parts.n ? parts.len[i] : 0);
	if (pid_info_read(fuzz_dir(), 4242, &info))
		return 0;
	if (info.pid != 4242 || strlen(info.comm) >= sizeof(info.comm) || strlen(info.cgroup2) >= sizeof(info.cgroup2) ||
	    strlen(info.memcg) >= sizeof(info.memcg) || strlen(info.cpucg) >= sizeof(info.cpucg))
		fuzz_die("pid_info_read filled a field beyond its size");
	if (!pid_info_cgroup(&info))
		fuzz_die("pid_info_cgroup gave NULL");
	return 0;
}
