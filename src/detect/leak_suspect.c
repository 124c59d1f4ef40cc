/* Leak suspects: when a verdict is worth a row (see leak_suspect.h). */
#include "leak_suspect.h"

#include <math.h>

const char *leak_row_status(enum leak_row row)
{
	switch (row) {
	case LEAK_ROW_SUSPECT: return "suspect";
	case LEAK_ROW_RESOLVED: return "resolved";
	case LEAK_ROW_EXITED: return "exited";
	case LEAK_ROW_WATCHING: return "watching";
	default: return NULL;
	}
}

bool leak_suspect__wants_limit(const struct leak_suspect *s, const struct leak_verdict *v)
{
	return v->watching && !s->suspect;
}

enum leak_row leak_suspect__judge(struct leak_suspect *s, struct leak_verdict *v, double time_to_limit_s,
				  int64_t now_ns)
{
	enum leak_row row = LEAK_ROW_NONE;

	/* Urgency overrides patience; a suspect is not demoted. */
	if (v->watching && (s->suspect || (time_to_limit_s >= 0 &&
					   time_to_limit_s * 1e9 < (double)(v->patience_end_ns - now_ns)))) {
		v->leak = true;
		v->watching = false;
		v->confidence = fmax(0.5, v->evidence);
	}
	if (v->leak) {
		const struct leak_verdict *old = &s->reported;
		int64_t since = now_ns - s->reported_ns;
		double moved = old->rate > 0 ? fabs(v->rate - old->rate) / old->rate : 1;

		if (!s->suspect || v->pattern != old->pattern ||
		    (since >= LEAK_SUSPECT_UPDATE_NS &&
		     (moved >= LEAK_SUSPECT_RATE_CHANGE || fabs(v->confidence - old->confidence) >= LEAK_SUSPECT_CONF_CHANGE)) ||
		    (since >= LEAK_SUSPECT_SETTLE_NS && moved >= LEAK_SUSPECT_RATE_SETTLE))
			row = LEAK_ROW_SUSPECT;
	} else if (v->watching) {
		if (!s->watching || v->pattern != s->reported.pattern)
			row = LEAK_ROW_WATCHING;
	} else if (s->suspect || s->watching) {
		row = LEAK_ROW_RESOLVED;
	}
	if (row != LEAK_ROW_NONE) {
		s->suspect = row == LEAK_ROW_SUSPECT;
		s->watching = row == LEAK_ROW_WATCHING;
		s->reported = *v;
		s->reported_ns = now_ns;
	}
	return row;
}

enum leak_row leak_suspect__exit(struct leak_suspect *s, struct leak_verdict *v)
{
	if (!s->suspect && !s->watching)
		return LEAK_ROW_NONE;
	v->leak = false;
	v->watching = false;
	if (v->pattern == LEAK_NONE)
		v->pattern = s->reported.pattern;
	s->suspect = s->watching = false;
	return LEAK_ROW_EXITED;
}

void leak_headroom(const struct leak_verdict *v, int64_t footprint_bytes, int64_t cgroup_limit,
		   int64_t cgroup_usage, int64_t mem_available, struct leak_headroom *ret)
{
	*ret = (struct leak_headroom){ .limit_bytes = -1, .headroom_bytes = -1, .time_to_limit_s = -1 };
	if (cgroup_limit >= 0) {
		int64_t used = cgroup_usage >= 0 ? cgroup_usage : footprint_bytes;

		ret->source = "cgroup";
		ret->limit_bytes = cgroup_limit;
		ret->headroom_bytes = cgroup_limit > used ? cgroup_limit - used : 0;
		ret->time_to_limit_s = leak_time_to_limit(v, (double)used, (double)cgroup_limit);
	} else if (mem_available >= 0) {
		ret->source = "memavailable";
		ret->headroom_bytes = mem_available;
		ret->time_to_limit_s = leak_time_to_limit(v, 0, (double)mem_available);
	}
}
