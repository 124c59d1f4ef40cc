/* cgroup id -> path resolution (see cgroup.h). */
#include "cgroup.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/clock.h"
#include "../lib/u64map.h"
#include "procfs.h"

struct hierarchy {
	char mount[512];
	struct u64map paths;        /* id -> char * (relative path) */
	int64_t last_scan_ns;
};

struct cgroup_resolver {
	struct hierarchy v2, memcg;
	char cpucg_mount[512];
};

static void parse_mounts(struct cgroup_resolver *r, const char *root)
{
	char *text = malloc(1 << 20);
	char *line, *save = NULL;

	if (!text || procfs_read(root, "/proc/self/mountinfo", text, 1 << 20) < 0) {
		free(text);
		return;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char mnt[512], fstype[64], super[512];
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
		    sscanf(dash + 3, "%63s %*s %511s", fstype, super) != 2)
			continue;
		if (!strcmp(fstype, "cgroup2") && !r->v2.mount[0])
			procfs_path(root, mnt, r->v2.mount, sizeof(r->v2.mount));
		else if (!strcmp(fstype, "cgroup") && !r->memcg.mount[0]) {
			/* super options: rw,memory or rw,cpu,memory ... */
			for (char *opt = strtok(super, ","); opt; opt = strtok(NULL, ",")) {
				if (!strcmp(opt, "memory"))
					procfs_path(root, mnt, r->memcg.mount, sizeof(r->memcg.mount));
				else if (!strcmp(opt, "cpu") && !r->cpucg_mount[0])
					procfs_path(root, mnt, r->cpucg_mount, sizeof(r->cpucg_mount));
			}
		}
	}
	free(text);
}

int cgroup_resolver__new(const char *root, struct cgroup_resolver **ret)
{
	struct cgroup_resolver *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	parse_mounts(r, root);
	*ret = r;
	return 0;
}

static struct hierarchy *scanning;

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *rel = path + strlen(scanning->mount);
	char *old;

	(void)ftw;
	if (type != FTW_D)
		return 0;
	old = u64map_put(&scanning->paths, (uint64_t)st->st_ino, strdup(*rel ? rel : "/"));
	free(old);
	return 0;
}

static void rescan(struct hierarchy *h)
{
	int64_t now = clock_mono_ns();

	if (!h->mount[0] || now - h->last_scan_ns < NSEC_PER_SEC)
		return;
	h->last_scan_ns = now;
	scanning = h;
	nftw(h->mount, visit, 32, FTW_PHYS | FTW_MOUNT);
	scanning = NULL;
}

static const char *lookup(struct hierarchy *h, uint64_t id)
{
	const char *path;

	if (!id || !h->mount[0])
		return NULL;
	path = u64map_get(&h->paths, id);
	if (!path) {
		rescan(h);
		path = u64map_get(&h->paths, id);
	}
	return path;
}

const char *cgroup_resolver__path(struct cgroup_resolver *r, uint64_t v2_id, uint64_t memcg_id,
				  uint64_t *ret_id)
{
	const char *v2 = lookup(&r->v2, v2_id);
	const char *mem;

	*ret_id = v2_id;
	if (v2 && strcmp(v2, "/"))
		return v2;
	mem = memcg_id && memcg_id != v2_id ? lookup(&r->memcg, memcg_id) : NULL;
	if (mem) {
		*ret_id = memcg_id;
		return mem;
	}
	return v2;
}

const char *cgroup_resolver__v2_mount(const struct cgroup_resolver *r) { return r->v2.mount; }
const char *cgroup_resolver__memcg_mount(const struct cgroup_resolver *r) { return r->memcg.mount; }
const char *cgroup_resolver__cpucg_mount(const struct cgroup_resolver *r) { return r->cpucg_mount; }

static void free_paths(struct hierarchy *h)
{
	void *path;

	for (size_t i = 0; u64map_next(&h->paths, &i, NULL, &path);)
		free(path);
	u64map_free(&h->paths);
}

struct cgroup_resolver *cgroup_resolver__free(struct cgroup_resolver *r)
{
	if (!r)
		return NULL;
	free_paths(&r->v2);
	free_paths(&r->memcg);
	free(r);
	return NULL;
}
