/* The tracer sink's helpers (see sink.h). */
#include "sink.h"

#include <string.h>

#include "../scrape/cgroup.h"
#include "../store/batch.h"
#include "common.h"

const char *sink__cgroup(const struct tracer_sink *s, uint64_t v2_id, uint64_t memcg_id, uint64_t *ret_id)
{
	if (!s->cgroups) {
		*ret_id = v2_id;
		return NULL;
	}
	return cgroup_resolver__path(s->cgroups, v2_id, memcg_id, ret_id);
}

void sink__put_task(struct batch *b, const struct ks_task *k)
{
	batch__int(b, k->pid);
	batch__int(b, k->tid);
	batch__textn(b, k->comm, strnlen(k->comm, sizeof(k->comm)));
}

void sink__put_cgroup(const struct tracer_sink *s, struct batch *b, const struct ks_task *k)
{
	uint64_t id;
	const char *path = sink__cgroup(s, k->cgroup_id, k->memcg_id, &id);

	batch__int(b, (int64_t)id);
	batch__text(b, path);
}
