/* The engine's audit trail: agent_actions rows (one per step of an
 * action: decided, executing, done or failed, verified, undone, explained)
 * and one agent_cycles row per cycle, plus the recent actions and cycles
 * kept in memory for /api/agent/status (under e->lock, since HTTP threads
 * read them).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../store/batch.h"
#include "engine_state.h"

static void remember_action(struct engine *e, uint64_t id, int64_t now, const struct rule *r, const char *status,
			    pid_t pid, const char *comm, const char *result)
{
	struct action_summary *a = NULL;

	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->nactions; i++)
		if (e->actions[i].id == id)
			a = &e->actions[i];
	if (!a) {
		if (e->nactions == RECENT_ACTIONS) {
			memmove(&e->actions[0], &e->actions[1], (RECENT_ACTIONS - 1) * sizeof(e->actions[0]));
			e->nactions--;
		}
		a = &e->actions[e->nactions++];
		memset(a, 0, sizeof(*a));
		a->id = id;
		a->time_ns = now;
		snprintf(a->rule, sizeof(a->rule), "%s", r ? r->name : "");
		snprintf(a->action, sizeof(a->action), "%s", r ? action_name(r->action) : "");
		if (pid > 0)
			snprintf(a->target, sizeof(a->target), "%d (%s)", (int)pid, comm ? comm : "?");
		else
			snprintf(a->target, sizeof(a->target), "host");
	}
	snprintf(a->status, sizeof(a->status), "%s", status);
	if (result)
		snprintf(a->result, sizeof(a->result), "%s", result);
	pthread_mutex_unlock(&e->lock);
}

void engine_action_row(struct engine *e, struct batch *b, int64_t now, uint64_t id, const char *status,
		       const struct rule *r, enum trigger_kind trig, pid_t pid, const char *comm, const char *cgroup,
		       const char *explanation, const char *projection, const char *evidence, const char *result,
		       const char *llm)
{
	batch__row(b, T_AGENT_ACTIONS);
	batch__int(b, now);
	batch__int(b, (int64_t)id);
	batch__int(b, (int64_t)e->cycle);
	batch__text(b, status);
	batch__text(b, mode_name(e->mode));
	batch__text(b, r ? r->name : NULL);
	batch__text(b, r ? action_name(r->action) : NULL);
	batch__text(b, trigger_name(trig));
	if (pid > 0)
		batch__int(b, pid);
	else
		batch__null(b);
	batch__text(b, comm);
	batch__text(b, cgroup);
	batch__text(b, explanation);
	batch__text(b, projection);
	batch__text(b, evidence);
	batch__text(b, result);
	batch__text(b, llm);
	batch__end(b);
	remember_action(e, id, now, r, status, pid, comm, result);
}

void engine_cycle_row(struct engine *e, struct batch *b, int64_t now, const char *trigger, int decisions,
		      const int64_t us[6])
{
	char summary[768];
	size_t leaks = 0;

	for (size_t i = 0; i < e->nfindings; i++)
		leaks += e->findings[i].kind == TRIGGER_LEAK;
	snprintf(summary, sizeof(summary), "%zu finding(s) (%zu leak, %zu other), %d decision(s), %zu pending; %s; %s",
		 e->nfindings, leaks, e->nfindings - leaks, decisions, e->npending, e->fs_projection, e->io_trend);
	batch__row(b, T_AGENT_CYCLES);
	batch__int(b, now);
	batch__int(b, (int64_t)e->cycle);
	batch__text(b, trigger);
	batch__text(b, mode_name(e->mode));
	batch__int(b, (int64_t)e->nfindings);
	batch__int(b, decisions);
	for (int i = 0; i < 6; i++)
		batch__int(b, us[i]);
	batch__int(b, (int64_t)e->world.processes_seen);
	batch__text(b, summary);
	batch__end(b);

	pthread_mutex_lock(&e->lock);
	if (e->ncycles == RECENT_CYCLES) {
		memmove(&e->cycles[0], &e->cycles[1], (RECENT_CYCLES - 1) * sizeof(e->cycles[0]));
		e->ncycles--;
	}
	e->npending_shown = e->npending;
	e->cycles[e->ncycles] = (struct cycle_summary){ e->cycle, now, "", (int)e->nfindings, decisions,
							 { us[0], us[1], us[2], us[3], us[4], us[5] } };
	snprintf(e->cycles[e->ncycles].trigger, sizeof(e->cycles[0].trigger), "%s", trigger);
	e->ncycles++;
	pthread_mutex_unlock(&e->lock);
}
