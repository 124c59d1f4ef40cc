/* VERIFY: did the action help?
 *
 * A pending action is looked at again once its `settle` time has passed
 * (after a terminate's grace period and SIGKILL): memory came back for a
 * leak (the cgroup's usage, else MemAvailable), the anomaly's score or the
 * stall fell for the others.  The verdict is one agent_actions row; a
 * reversible action that made things worse is undone.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/clock.h"
#include "../scrape/procfs.h"
#include "engine_state.h"

double engine_cgroup_usage(const struct engine *e, const char *cgroup)
{
	char path[700], text[64];

	if (!cgroup || !cgroup[0] || !strcmp(cgroup, "/"))
		return NAN;
	if (e->cg2[0]) {
		snprintf(path, sizeof(path), "%s%s/memory.current", e->cg2, cgroup);
		if (procfs_read("", path, text, sizeof(text)) > 0)
			return atof(text);
	}
	if (e->memcg[0]) {
		snprintf(path, sizeof(path), "%s%s/memory.usage_in_bytes", e->memcg, cgroup);
		if (procfs_read("", path, text, sizeof(text)) > 0)
			return atof(text);
	}
	return NAN;
}

static double current_of(struct engine *e, const struct pending *pd)
{
	if (pd->trigger == TRIGGER_LEAK) {
		double u = engine_cgroup_usage(e, pd->cgroup);

		return isnan(u) ? (double)e->world.mem_available_kb * -1024.0 : u;
	}
	if (pd->trigger == TRIGGER_ANOMALY) {
		double score = 0;      /* no recent anomaly on the metric: it is back to normal */

		for (size_t i = 0; i < e->world.nanomalies; i++)
			if (!strcmp(e->world.anomalies[i].metric, pd->metric) &&
			    e->world.anomalies[i].time_ns > e->world.now_ns - 30 * NSEC_PER_SEC)
				score = fmax(score, e->world.anomalies[i].score);
		return score;
	}
	return e->world.psi_some_avg10[(int)pd->metric[0]];
}

static void verify_one(struct engine *e, struct batch *b, int64_t now, struct pending *pd)
{
	double after = current_of(e, pd), gain = pd->before - after;
	bool alive = pd->pid > 0 && act__alive(pd->pidfd);
	bool effective, worse;
	char result[ACT_TEXT_MAX + 64], before_s[32], after_s[32];
	const char *status;

	if (pd->trigger == TRIGGER_LEAK) {
		/* Memory came back: at least half of what the process held. */
		effective = gain >= 0.5 * pd->rss_before || (pd->rule->action == ACTION_TERMINATE && !alive && gain > 0);
		worse = gain < -0.1 * pd->rss_before;
		engine_human_bytes(fabs(pd->before), before_s, sizeof(before_s));
		engine_human_bytes(fabs(after), after_s, sizeof(after_s));
		snprintf(result, sizeof(result), "%s %s -> %s%s", pd->before >= 0 ? "cgroup memory" : "MemAvailable",
			 before_s, after_s, pd->pid > 0 ? (alive ? "; the process is still running" : "; the process is gone") : "");
	} else {
		effective = after < pd->before * 0.8;
		worse = after > pd->before * 1.1;
		snprintf(result, sizeof(result), "%s %.2f -> %.2f", pd->trigger == TRIGGER_ANOMALY ? "anomaly score"
												   : "pressure",
			 pd->before, after);
	}
	status = effective ? "effective" : "ineffective";
	engine_action_row(e, b, now, pd->id, status, pd->rule, pd->trigger, pd->pid, pd->comm, pd->cgroup, NULL, NULL,
			  NULL, result, NULL);
	engine_say(e, ENGINE_SAY_INFO, "[%s]: %s %s: %s", pd->rule->name, action_name(pd->rule->action), status,
		   result);
	if (worse && pd->undo.valid) {
		char undone[ACT_TEXT_MAX];
		int rc = act__undo(&pd->undo, pd->pidfd, undone);

		engine_action_row(e, b, now, pd->id, rc ? "failed" : "undone", pd->rule, pd->trigger, pd->pid, pd->comm,
				  pd->cgroup, NULL, NULL, NULL, undone, NULL);
	}
}

/* Moves pending actions along: SIGKILL after a terminate's grace, VERIFY
 * after settle.  Returns the time spent verifying. */
int64_t engine_advance_pending(struct engine *e, struct batch *b, int64_t now)
{
	int64_t t0 = clock_mono_ns();

	for (size_t i = 0; i < e->npending;) {
		struct pending *pd = &e->pending[i];
		char result[ACT_TEXT_MAX];

		if (pd->kill_at_ns && now >= pd->kill_at_ns) {
			pd->kill_at_ns = 0;
			if (act__alive(pd->pidfd)) {
				int rc = act__kill(pd->pidfd, pd->pid, result);

				engine_action_row(e, b, now, pd->id, rc ? "failed" : "done", pd->rule, pd->trigger,
						  pd->pid, pd->comm, pd->cgroup, NULL, NULL, NULL, result, NULL);
			}
		}
		if (now >= pd->verify_at_ns) {
			verify_one(e, b, now, pd);
			if (pd->pidfd >= 0)
				close(pd->pidfd);
			e->pending[i] = e->pending[--e->npending];
			continue;
		}
		i++;
	}
	return clock_mono_ns() - t0;
}
