/* Fuzz target: the cgroup mount finder (src/scrape/cgroup.c) on
 * /proc/self/mountinfo.  Input: the file.
 *
 * Resolving ids walks the mounts found with nftw, which on fuzzed mount
 * points could be any directory of this machine: only id 0 (never
 * resolved, no walk) is asked for. */
#include "../../src/scrape/cgroup.h"
#include "../lib/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgroup_resolver *r = NULL;
	uint64_t id;

	fuzz_write("/proc/self/mountinfo", data, size);
	if (cgroup_resolver__new(fuzz_dir(), &r))
		return 0;
	/* Mount points are NUL-terminated and under the root prefix. */
	if (strlen(cgroup_resolver__v2_mount(r)) >= 512 || strlen(cgroup_resolver__memcg_mount(r)) >= 512 ||
	    strlen(cgroup_resolver__cpucg_mount(r)) >= 512)
		fuzz_die("a mount point overflows its buffer");
	cgroup_resolver__path(r, 0, 0, &id);
	cgroup_resolver__free(r);
	return 0;
}
