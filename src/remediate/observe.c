/* OBSERVE and EXPLAIN: what is wrong, and who is responsible.
 *
 * OBSERVE turns the world model (world.c, fed every tick) into this cycle's
 * findings: leak suspects, the newest recent anomaly of each metric, and
 * pressure stalls.  EXPLAIN gives each finding one sentence for the audit
 * trail and the processes most responsible: the suspect itself for a leak,
 * the top processes of the resource an anomaly's metric or a pressure
 * stall is about.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../lib/clock.h"
#include "engine_state.h"

void engine_observe(struct engine *e)
{
	struct world *w = &e->world;
	double psi_need[3] = { PRESSURE_FLOOR, PRESSURE_FLOOR, PRESSURE_FLOOR };

	e->nfindings = 0;
	for (size_t i = 0; i < w->nsuspects && e->nfindings < FINDINGS_MAX; i++) {
		if (w->suspects[i].confidence < 0.5)
			continue;
		e->findings[e->nfindings++] = (struct finding){ .kind = TRIGGER_LEAK, .suspect = &w->suspects[i] };
	}
	/* The newest anomaly per metric. */
	for (size_t i = w->nanomalies; i-- > 0 && e->nfindings < FINDINGS_MAX;) {
		const struct anomaly_seen *a = &w->anomalies[i];
		bool dup = false;

		if (a->score < 0.5 || a->time_ns < w->now_ns - (e->p->interval_ns > 60 * NSEC_PER_SEC ?
								e->p->interval_ns : 60 * NSEC_PER_SEC))
			continue;
		for (size_t f = 0; f < e->nfindings; f++)
			dup |= e->findings[f].kind == TRIGGER_ANOMALY && !strcmp(e->findings[f].anomaly->metric, a->metric);
		if (!dup)
			e->findings[e->nfindings++] = (struct finding){ .kind = TRIGGER_ANOMALY, .anomaly = a };
	}
	for (size_t r = 0; r < e->p->nrules; r++) {
		const struct rule *rule = &e->p->rules[r];

		if (rule->trigger != TRIGGER_PRESSURE)
			continue;
		for (int k = 0; k < 3; k++)
			if (!strcmp(rule->resource, psi_name(k)) && rule->min_some_avg10 < psi_need[k])
				psi_need[k] = rule->min_some_avg10;
	}
	for (int k = 0; k < 3 && e->nfindings < FINDINGS_MAX; k++)
		if (!isnan(w->psi_some_avg10[k]) && w->psi_some_avg10[k] >= psi_need[k])
			e->findings[e->nfindings++] = (struct finding){ .kind = TRIGGER_PRESSURE, .psi_resource = k,
									.psi = w->psi_some_avg10[k] };
}

static bool has(const char *s, const char *part) { return s && strstr(s, part); }

void engine_explain(struct engine *e)
{
	struct world *w = &e->world;

	for (size_t i = 0; i < e->nfindings; i++) {
		struct finding *f = &e->findings[i];
		char rate[32], rss[32], limit[32], limit_text[64] = ", no cgroup limit";

		switch (f->kind) {
		case TRIGGER_LEAK: {
			const struct suspect *s = f->suspect;

			engine_human_bytes(s->rate, rate, sizeof(rate));
			engine_human_bytes((double)s->rss_bytes, rss, sizeof(rss));
			if (s->limit_bytes > 0) {
				engine_human_bytes((double)s->limit_bytes, limit, sizeof(limit));
				snprintf(limit_text, sizeof(limit_text), " of a %s cgroup limit", limit);
			}
			snprintf(f->sentence, sizeof(f->sentence),
				 "pid %u (%s) in %s grows %s/s (%s, confidence %.2f); resident %s%s",
				 s->pid, s->comm, s->cgroup[0] ? s->cgroup : "/", rate, s->pattern, s->confidence, rss,
				 limit_text);
			f->contrib = NULL;
			f->ncontrib = 0;
			break;
		}
		case TRIGGER_ANOMALY: {
			const struct anomaly_seen *a = f->anomaly;

			if (has(a->metric, "fault")) {
				f->contrib = w->top_faults;
				f->ncontrib = w->ntop_faults;
			} else if (has(a->metric, "retrans") || has(a->metric, "tcp")) {
				f->contrib = w->top_retrans;
				f->ncontrib = w->ntop_retrans;
			} else if (has(a->metric, "runq") || has(a->metric, "sched") || has(a->metric, "cpu") ||
				   has(a->metric, "load")) {
				f->contrib = w->top_runq;
				f->ncontrib = w->ntop_runq;
			} else {
				f->contrib = w->top_cpu;
				f->ncontrib = w->ntop_cpu;
			}
			if (a->explanation[0])
				snprintf(f->sentence, sizeof(f->sentence), "%s", a->explanation);
			else
				snprintf(f->sentence, sizeof(f->sentence), "%s is %g, outside its usual %g..%g (score %.2f)",
					 a->metric, a->value, a->low, a->high, a->score);
			break;
		}
		case TRIGGER_PRESSURE:
			f->contrib = f->psi_resource == PSI_IO ? w->top_cpu : f->psi_resource == PSI_CPU ? w->top_runq
												: w->top_faults;
			f->ncontrib = f->psi_resource == PSI_IO ? w->ntop_cpu : f->psi_resource == PSI_CPU ? w->ntop_runq
												  : w->ntop_faults;
			snprintf(f->sentence, sizeof(f->sentence), "%s pressure: tasks stalled %.1f%% of the last 10 s%s%s",
				 psi_name(f->psi_resource), f->psi, f->ncontrib ? "; busiest: " : "",
				 f->ncontrib ? f->contrib[0].comm : "");
			break;
		}
	}
}
