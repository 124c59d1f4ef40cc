/* Memory cgroup limits through the root prefix (t/fixtures/memcg): the v1
 * memory controller of a hybrid system with the limit set on a parent, a
 * cgroup2-only process, the unlimited root, a process that is gone, and
 * MemAvailable. */
#include "../src/scrape/cgroup.h"
#include "../src/scrape/memcg.h"
#include "../lib/tap.h"

int main(void)
{
	const char *root = tap_src("t/fixtures/memcg");
	struct cgroup_resolver *r;
	struct memcg_info m;
	const char *v1, *v2;

	plan(21);
	ok(cgroup_resolver__new(root, &r) == 0, "mounts read from the fixture's mountinfo");
	v1 = cgroup_resolver__memcg_mount(r);
	v2 = cgroup_resolver__v2_mount(r);
	ok(strstr(v1, "t/fixtures/memcg/sys/fs/cgroup/memory") != NULL, "v1 memory mount under the root: %s", v1);
	ok(strstr(v2, "t/fixtures/memcg/sys/fs/cgroup/unified") != NULL, "cgroup2 mount under the root: %s", v2);

	is(memcg_read(root, v1, v2, 100, &m), 0, "hybrid: read");
	is(m.version, 1, "hybrid: the v1 memory controller");
	is_str(m.path, "/svc/web", "hybrid: its memory cgroup");
	is(m.limit_bytes, 1073741824, "hybrid: 1 GiB, set on the parent (the child is unlimited)");
	is_str(m.limit_path, "/svc", "hybrid: the parent sets it");
	is(m.usage_bytes, 524288000, "hybrid: usage of the cgroup that sets the limit");

	is(memcg_read(root, v1, v2, 200, &m), 0, "cgroup2 only: read");
	is(m.version, 2, "cgroup2 only: no memory line for v1, so cgroup2");
	is_str(m.path, "/app/worker", "cgroup2 only: its cgroup");
	is(m.limit_bytes, 2147483648LL, "cgroup2 only: memory.max of the parent (the child says max)");
	is(m.usage_bytes, 1610612736, "cgroup2 only: memory.current of the parent");

	is(memcg_read(root, "", v2, 100, &m), 0, "no v1 mount: read");
	is(m.version, 2, "no v1 mount: cgroup2 path used");

	is(memcg_read(root, v1, v2, 300, &m), 0, "root cgroup: read");
	ok(m.limit_bytes == -1 && m.usage_bytes == -1 && !m.limit_path[0], "root cgroup: unlimited");

	is(memcg_read(root, v1, v2, 400, &m), -ENOENT, "a process that is gone: -ENOENT");
	is(memcg_mem_available(root), 4000000LL * 1024, "MemAvailable in bytes");
	is(memcg_mem_available("/nonexistent"), -ENOENT, "no meminfo: -ENOENT");
	cgroup_resolver__free(r);
	return done_testing();
}
