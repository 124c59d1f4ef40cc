/* A restart carries on: what an earlier agent on the same database left in
 * agent_actions and memory_growth_events becomes the engine's state again
 * (see engine__restore in engine.h).
 *
 * Nothing new is stored for this: the audit trail already has every
 * decision (rule, target, time) and every execution, and the leak suspects
 * are rows.  A cooldown is the latest decision of its (rule, process) plus
 * the rule's cooldown in the policy now in force, so a rule whose cooldown
 * was changed keeps the new length, and a rule that is gone has none.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/clock.h"
#include "../scrape/pid.h"
#include "../store/store.h"
#include "engine_state.h"

struct restore {
	struct engine *e;
	int64_t now;
	struct engine_restored *got;
};

static void text_of(const struct batch_value *v, char *out, size_t size)
{
	size_t n = v->tag == V_TEXT ? v->len : 0;

	if (n >= size)
		n = size - 1;
	memcpy(out, v->s ? v->s : "", n);
	out[n] = '\0';
}

static int64_t int_of(const struct batch_value *v, int64_t null)
{
	return v->tag == V_INT ? v->i : v->tag == V_REAL ? (int64_t)v->r : null;
}

static double real_of(const struct batch_value *v)
{
	return v->tag == V_REAL ? v->r : v->tag == V_INT ? (double)v->i : NAN;
}

static const struct rule *rule_named(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (!strcmp(p->rules[i].name, name))
			return &p->rules[i];
	return NULL;
}

/* rule, target pid (0: host-wide), time of its latest decision */
static int on_decision(void *ctx, int ncols, const struct batch_value *v)
{
	struct restore *r = ctx;
	const struct rule *rule;
	char name[64];

	(void)ncols;
	text_of(&v[0], name, sizeof(name));
	if (!(rule = rule_named(r->e->p, name)) || int_of(&v[2], 0) + rule->cooldown_ns <= r->now)
		return 0;
	engine_cooldown_set(r->e, name, (pid_t)int_of(&v[1], 0), int_of(&v[2], 0) + rule->cooldown_ns);
	r->got->cooldowns++;
	return 0;
}

static int on_execution(void *ctx, int ncols, const struct batch_value *v)
{
	struct restore *r = ctx;

	(void)ncols;
	engine_budget_count(r->e, int_of(&v[0], 0));
	r->got->budget_used++;
	return 0;
}

/* The latest row of a process that was a suspect, if it still runs. */
static int on_suspect(void *ctx, int ncols, const struct batch_value *v)
{
	struct restore *r = ctx;
	struct suspect s = { 0 };
	struct pid_info info;

	(void)ncols;
	s.pid = (uint32_t)int_of(&v[0], 0);
	s.process_start = int_of(&v[1], 0);
	if (!s.pid || pid_info_read(r->e->root, (pid_t)s.pid, &info) ||
	    llabs(info.start_ns - s.process_start) > NSEC_PER_SEC)
		return 0;                   /* gone, or its pid is someone else's now */
	text_of(&v[2], s.comm, sizeof(s.comm));
	text_of(&v[3], s.cgroup, sizeof(s.cgroup));
	text_of(&v[4], s.pattern, sizeof(s.pattern));
	s.rate = real_of(&v[5]);
	s.confidence = real_of(&v[6]);
	s.rss_bytes = int_of(&v[7], 0);
	s.limit_bytes = int_of(&v[8], -1);
	s.headroom_bytes = int_of(&v[9], -1);
	s.time_to_limit_s = real_of(&v[10]);
	text_of(&v[11], s.limit_source, sizeof(s.limit_source));
	s.first_seen_ns = s.updated_ns = int_of(&v[12], r->now);
	world__put_suspect(&r->e->world, &s);
	r->got->suspects++;
	return 0;
}

static bool has_table(struct store *store, const char *name, char *err)
{
	char sql[160];
	int64_t n = 0;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", name);
	return !store__query_int(store, sql, &n, err) && n > 0;
}

int engine__restore(struct engine *e, struct store *store, int64_t now_ns, struct engine_restored *ret, char *err)
{
	struct engine_restored got = { 0 };
	struct restore r = { e, now_ns, &got };
	int64_t longest = 0, last_id = 0;
	char sql[768];
	int rc = 0;

	e->world.now_ns = now_ns;
	for (size_t i = 0; i < e->p->nrules; i++)
		if (e->p->rules[i].cooldown_ns > longest)
			longest = e->p->rules[i].cooldown_ns;
	if (has_table(store, "agent_actions", err)) {
		/* A decision's first row is 'observed', 'recommended' or
		 * 'executing' (decide.c); the cooldown started then. */
		snprintf(sql, sizeof(sql),
			 "SELECT rule, coalesce(target_pid, 0), max(timestamp) FROM agent_actions"
			 " WHERE status IN ('observed', 'recommended', 'executing') AND rule IS NOT NULL"
			 " AND timestamp > %lld GROUP BY rule, coalesce(target_pid, 0)",
			 (long long)(now_ns - longest));
		if ((rc = store__query(store, sql, &(struct store_query_cb){ NULL, on_decision, &r }, err)))
			goto out;
		/* What the hourly budget counts: actions other than notify that ran. */
		snprintf(sql, sizeof(sql),
			 "SELECT timestamp FROM agent_actions WHERE status = 'executing' AND action <> 'notify'"
			 " AND timestamp > %lld ORDER BY timestamp",
			 (long long)(now_ns - 3600 * NSEC_PER_SEC));
		if ((rc = store__query(store, sql, &(struct store_query_cb){ NULL, on_execution, &r }, err)))
			goto out;
		rc = store__query_int(store, "SELECT coalesce(max(action_id), 0) FROM agent_actions", &last_id, err);
		if (rc)
			goto out;
		if ((uint64_t)last_id > e->next_id)
			e->next_id = (uint64_t)last_id;
	}
	if (has_table(store, "memory_growth_events", err)) {
		rc = store__query(store,
				  "SELECT pid, process_start, comm, cgroup, pattern, growth_rate_bytes_per_s, confidence,"
				  " rss_bytes, limit_bytes, headroom_bytes, time_to_limit_s, limit_source, timestamp"
				  " FROM memory_growth_events m WHERE status = 'suspect' AND timestamp ="
				  " (SELECT max(timestamp) FROM memory_growth_events"
				  "  WHERE pid = m.pid AND process_start = m.process_start)",
				  &(struct store_query_cb){ NULL, on_suspect, &r }, err);
	}
out:
	got.last_id = e->next_id;
	if (ret)
		*ret = got;
	return rc;
}
