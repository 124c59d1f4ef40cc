/* Resolving cgroup ids seen by BPF programs to cgroup paths.
 *
 * BPF programs report two ids per task: its cgroup v2 id and its v1 memory
 * cgroup id (kernfs ids, equal to the inode numbers of the cgroup
 * directories).  The path shown is the v2 path, unless the task sits at the
 * v2 root of a hybrid system, where the v1 memory cgroup (the one with
 * memory limits) tells more.  Paths are cached; an unknown id triggers a
 * rescan of the hierarchy at most once a second.
 */
#ifndef KS_CGROUP_H
#define KS_CGROUP_H

#include <stdint.h>

struct cgroup_resolver;

/* Finds the cgroup mounts from root/proc/self/mountinfo. */
int cgroup_resolver__new(const char *root, struct cgroup_resolver **ret);

/* Returns the path to show ("/" for the root) or NULL when unknown, and
 * sets *ret_id to the id that path belongs to.  The string stays valid
 * until the resolver is freed. */
const char *cgroup_resolver__path(struct cgroup_resolver *r, uint64_t v2_id, uint64_t memcg_id,
				  uint64_t *ret_id);

/* Mount points found ("" when absent). */
const char *cgroup_resolver__v2_mount(const struct cgroup_resolver *r);
const char *cgroup_resolver__memcg_mount(const struct cgroup_resolver *r);
const char *cgroup_resolver__cpucg_mount(const struct cgroup_resolver *r);

struct cgroup_resolver *cgroup_resolver__free(struct cgroup_resolver *r);

#endif
