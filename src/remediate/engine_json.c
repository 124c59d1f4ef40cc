/* What the engine says in JSON: the evidence of each decision (stored in
 * agent_actions.evidence and sent to the explainer), the webhook's notice,
 * and the engine's status for /api/agent/status.
 */
#include <pthread.h>

#include "../lib/json.h"
#include "engine_state.h"
#include "outbound.h"

void engine_evidence_json(struct engine *e, const struct finding *f, const struct rule *r, pid_t pid,
			  const char *effect, struct buf *out)
{
	struct json j;

	json_init(&j, out);
	json_obj_begin(&j);
	json_key(&j, "trigger");
	json_str(&j, trigger_name(f->kind));
	json_key(&j, "finding");
	json_str(&j, f->sentence);
	if (f->kind == TRIGGER_LEAK) {
		const struct suspect *s = f->suspect;

		json_key(&j, "leak");
		json_obj_begin(&j);
		json_key(&j, "pid");
		json_uint(&j, s->pid);
		json_key(&j, "comm");
		json_str(&j, s->comm);
		json_key(&j, "cgroup");
		json_str(&j, s->cgroup);
		json_key(&j, "pattern");
		json_str(&j, s->pattern);
		json_key(&j, "growth_rate_bytes_per_s");
		json_double(&j, s->rate);
		json_key(&j, "confidence");
		json_double(&j, s->confidence);
		json_key(&j, "rss_bytes");
		json_int(&j, s->rss_bytes);
		json_key(&j, "limit_bytes");
		if (s->limit_bytes > 0)
			json_int(&j, s->limit_bytes);
		else
			json_null(&j);
		json_key(&j, "time_to_limit_s");
		json_double(&j, f->ttl_s);
		json_key(&j, "time_to_limit_range_s");
		json_arr_begin(&j);
		json_double(&j, f->ttl_lo_s);
		json_double(&j, f->ttl_hi_s);
		json_arr_end(&j);
		json_obj_end(&j);
	} else if (f->kind == TRIGGER_ANOMALY) {
		json_key(&j, "anomaly");
		json_obj_begin(&j);
		json_key(&j, "metric");
		json_str(&j, f->anomaly->metric);
		json_key(&j, "value");
		json_double(&j, f->anomaly->value);
		json_key(&j, "expected");
		json_arr_begin(&j);
		json_double(&j, f->anomaly->low);
		json_double(&j, f->anomaly->high);
		json_arr_end(&j);
		json_key(&j, "score");
		json_double(&j, f->anomaly->score);
		json_obj_end(&j);
	} else {
		json_key(&j, "pressure");
		json_obj_begin(&j);
		json_key(&j, "resource");
		json_str(&j, psi_name(f->psi_resource));
		json_key(&j, "some_avg10");
		json_double(&j, f->psi);
		json_obj_end(&j);
	}
	json_key(&j, "contributors");
	json_arr_begin(&j);
	for (size_t i = 0; i < f->ncontrib && i < 5; i++) {
		json_obj_begin(&j);
		json_key(&j, "pid");
		json_uint(&j, f->contrib[i].pid);
		json_key(&j, "comm");
		json_str(&j, f->contrib[i].comm);
		json_key(&j, "value");
		json_double(&j, f->contrib[i].value);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "projection");
	json_str(&j, f->projection);
	json_key(&j, "rule");
	json_str(&j, r->name);
	json_key(&j, "action");
	json_str(&j, action_name(r->action));
	json_key(&j, "target_pid");
	if (pid > 0)
		json_int(&j, pid);
	else
		json_null(&j);
	json_key(&j, "expected_effect");
	json_str(&j, effect);
	json_key(&j, "mode");
	json_str(&j, mode_name(e->mode));
	json_obj_end(&j);
}

int engine_webhook(struct engine *e, const char *status, const char *rule, const char *action, pid_t pid,
		   const char *sentence)
{
	struct buf body = BUF_INIT;
	struct json j;
	int rc;

	if (!e->p->webhook)
		return 0;
	json_init(&j, &body);
	json_obj_begin(&j);
	json_key(&j, "source");
	json_str(&j, "ksight");
	json_key(&j, "status");
	json_str(&j, status);
	json_key(&j, "rule");
	json_str(&j, rule);
	json_key(&j, "action");
	json_str(&j, action);
	json_key(&j, "pid");
	json_int(&j, pid);
	json_key(&j, "finding");
	json_str(&j, sentence);
	json_obj_end(&j);
	rc = outbound__notify(e->out, body.data);
	buf_free(&body);
	return rc;
}

void engine__status_json(struct engine *e, struct json *j)
{
	pthread_mutex_lock(&e->lock);
	json_obj_begin(j);
	json_key(j, "mode");
	json_str(j, mode_name(e->mode));
	json_key(j, "policy");
	json_str(j, e->p->path);
	json_key(j, "rules");
	json_uint(j, e->p->nrules);
	json_key(j, "interval_s");
	json_double(j, (double)e->p->interval_ns / 1e9);
	json_key(j, "max_actions_per_hour");
	json_uint(j, e->p->max_actions_per_hour);
	json_key(j, "projections");
	json_obj_begin(j);
	json_key(j, "filesystems");
	json_str(j, e->fs_projection);
	json_key(j, "io_latency");
	json_str(j, e->io_trend);
	json_obj_end(j);
	json_key(j, "cycles");
	json_arr_begin(j);
	for (size_t i = e->ncycles; i-- > 0;) {
		const struct cycle_summary *c = &e->cycles[i];
		static const char *const phase[6] = { "observe_us", "explain_us", "simulate_us", "decide_us",
						      "execute_us", "verify_us" };

		json_obj_begin(j);
		json_key(j, "cycle");
		json_uint(j, c->cycle);
		json_key(j, "timestamp");
		json_int(j, c->time_ns);
		json_key(j, "trigger");
		json_str(j, c->trigger);
		json_key(j, "findings");
		json_int(j, c->findings);
		json_key(j, "decisions");
		json_int(j, c->decisions);
		for (int k = 0; k < 6; k++) {
			json_key(j, phase[k]);
			json_int(j, c->us[k]);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "pending");
	json_uint(j, e->npending_shown);
	json_key(j, "actions");
	json_arr_begin(j);
	for (size_t i = e->nactions; i-- > 0;) {
		const struct action_summary *a = &e->actions[i];

		json_obj_begin(j);
		json_key(j, "action_id");
		json_uint(j, a->id);
		json_key(j, "timestamp");
		json_int(j, a->time_ns);
		json_key(j, "rule");
		json_str(j, a->rule);
		json_key(j, "action");
		json_str(j, a->action);
		json_key(j, "target");
		json_str(j, a->target);
		json_key(j, "status");
		json_str(j, a->status);
		json_key(j, "result");
		json_str(j, a->result);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	pthread_mutex_unlock(&e->lock);
}
