/* DECIDE and EXECUTE: which rule acts on which process, and acting.
 *
 * Rules are tried in policy order against every finding.  A rule whose
 * trigger holds acts on the finding's processes that its `match` names
 * (host-wide actions once per finding), never on a process the guard rails
 * protect (act.h), never twice within its cooldown for the same process,
 * and in act mode within the hourly budget.  Every decision is recorded in
 * every mode; in act mode its 'executing' row is made durable before the
 * action runs, and the action then waits in e->pending for VERIFY.
 */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../collect/collector.h"
#include "../lib/clock.h"
#include "../scrape/pid.h"
#include "engine_state.h"
#include "outbound.h"

struct decision {
	uint64_t id;
	const struct rule *rule;
	const struct finding *f;
	pid_t pid;                     /* 0: host-wide */
	int pidfd;                     /* holds pid from the decision on; -1 host-wide */
	char comm[17];
	char cgroup[256];
	char effect[200];
	char projection[640];          /* without action (the finding's), then the action's effect */
	struct buf evidence;
};

static bool trigger_holds(const struct rule *r, const struct finding *f)
{
	if (r->trigger != f->kind)
		return false;
	switch (f->kind) {
	case TRIGGER_LEAK:
		return f->suspect->confidence >= r->min_confidence &&
		       (r->max_time_to_limit_s <= 0 ||
			(!isnan(f->ttl_s) && f->ttl_s <= r->max_time_to_limit_s));
	case TRIGGER_ANOMALY:
		return f->anomaly->score >= r->min_score &&
		       (!r->metric_glob || !fnmatch(r->metric_glob, f->anomaly->metric, 0));
	default:
		return !strcmp(r->resource, psi_name(f->psi_resource)) && f->psi >= r->min_some_avg10;
	}
}

static struct cooldown *cooldown_of(struct engine *e, const char *rule, pid_t pid)
{
	for (size_t i = 0; i < e->ncooldowns; i++)
		if (e->cooldowns[i].pid == pid && !strcmp(e->cooldowns[i].rule, rule))
			return &e->cooldowns[i];
	return NULL;
}

static bool cooling(struct engine *e, const struct rule *r, pid_t pid, int64_t now)
{
	struct cooldown *c = cooldown_of(e, r->name, pid);

	return c && c->until_ns > now;
}

void engine_cooldown_set(struct engine *e, const char *rule, pid_t pid, int64_t until_ns)
{
	struct cooldown *c = cooldown_of(e, rule, pid);

	if (!c) {
		/* An expired slot, else a new one, else the one that expires
		 * first (the table is large; that one is nearly done). */
		size_t slot = COOLDOWNS_MAX;
		int64_t now = e->world.now_ns;

		for (size_t i = 0; i < e->ncooldowns && slot == COOLDOWNS_MAX; i++)
			if (e->cooldowns[i].until_ns <= now)
				slot = i;
		if (slot == COOLDOWNS_MAX && e->ncooldowns < COOLDOWNS_MAX)
			slot = e->ncooldowns++;
		if (slot == COOLDOWNS_MAX) {
			slot = 0;
			for (size_t i = 1; i < e->ncooldowns; i++)
				if (e->cooldowns[i].until_ns < e->cooldowns[slot].until_ns)
					slot = i;
		}
		c = &e->cooldowns[slot];
	}
	snprintf(c->rule, sizeof(c->rule), "%s", rule);
	c->pid = pid;
	c->until_ns = until_ns;
}

static void start_cooldown(struct engine *e, const struct rule *r, pid_t pid, int64_t now)
{
	engine_cooldown_set(e, r->name, pid, now + r->cooldown_ns);
}

static size_t executed_last_hour(struct engine *e, int64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nexecuted; i++)
		n += e->executed_at[(e->executed_head + i) % BUDGET_MAX] > now - 3600 * NSEC_PER_SEC;
	return n;
}

void engine_budget_count(struct engine *e, int64_t now)
{
	if (e->nexecuted == BUDGET_MAX) {
		e->executed_head = (e->executed_head + 1) % BUDGET_MAX;
		e->nexecuted--;
	}
	e->executed_at[(e->executed_head + e->nexecuted++) % BUDGET_MAX] = now;
}

/* The processes a finding points at, for a rule that acts on processes. */
static size_t targets_of(const struct finding *f, pid_t *out, size_t max)
{
	size_t n = 0;

	if (f->kind == TRIGGER_LEAK) {
		out[n++] = (pid_t)f->suspect->pid;
		return n;
	}
	for (size_t i = 0; i < f->ncontrib && n < max && n < 3; i++)
		out[n++] = (pid_t)f->contrib[i].pid;
	return n;
}

/* Records a decision in every mode; executes it in act mode. */
static void execute(struct engine *e, struct collector *c, struct batch **b, int64_t now, struct decision *d)
{
	const struct rule *r = d->rule;
	char result[ACT_TEXT_MAX];
	struct pending *pd;
	struct act_undo undo;
	double before;
	int rc, crc;

	/* The 'executing' row is committed before the action runs, so a crash
	 * in between still leaves the intent in the audit trail. */
	engine_action_row(e, *b, now, d->id, "executing", r, d->f->kind, d->pid, d->comm, d->cgroup, d->f->sentence,
			  d->projection, d->evidence.data, NULL, NULL);
	if (c) {
		*b = collector__commit(c, 2 * NSEC_PER_SEC, &crc);
		if (crc && crc != -ENOTCONN) {
			/* No action without its audit record. */
			snprintf(result, sizeof(result), "not executed: the audit record is not durable (%s)",
				 strerror(-crc));
			engine_action_row(e, *b, now, d->id, "failed", r, d->f->kind, d->pid, d->comm, d->cgroup, NULL,
					  NULL, NULL, result, NULL);
			engine_say(e, ENGINE_SAY_WARN, "[%s]: %s", r->name, result);
			return;
		}
	}
	/* What VERIFY compares against, read before the action: a process
	 * that dies at SIGTERM gives its memory back at once. */
	if (d->f->kind == TRIGGER_LEAK) {
		before = engine_cgroup_usage(e, d->cgroup);
		if (isnan(before))
			before = (double)e->world.mem_available_kb * -1024.0;   /* minus: more available is better */
	} else {
		before = d->f->kind == TRIGGER_ANOMALY ? d->f->anomaly->score : d->f->psi;
	}
	rc = act__execute(&e->env, r, d->pid, d->pidfd, &undo, result);
	if (r->action == ACTION_NOTIFY) {
		engine_say(e, ENGINE_SAY_WARN, "[%s]: %s", r->name, d->f->sentence);
		engine_webhook(e, "notify", r->name, "notify", d->pid, d->f->sentence);
	}
	if (r->action != ACTION_NOTIFY)
		engine_budget_count(e, now);
	engine_action_row(e, *b, now, d->id, rc ? "failed" : "done", r, d->f->kind, d->pid, d->comm, d->cgroup, NULL,
			  NULL, NULL, result, NULL);
	if (rc) {
		engine_say(e, ENGINE_SAY_WARN, "[%s]: %s %d failed: %s", r->name, action_name(r->action), (int)d->pid,
			   result);
		return;          /* failed: the cooldown holds it back, no retry loop */
	}
	engine_say(e, ENGINE_SAY_INFO, "[%s]: %s", r->name, result);
	if (r->action == ACTION_NOTIFY || e->npending == PENDING_MAX)
		return;
	pd = &e->pending[e->npending++];
	memset(pd, 0, sizeof(*pd));
	pd->pidfd = d->pidfd;
	d->pidfd = -1;                 /* the pending entry owns it now */
	pd->id = d->id;
	pd->rule = r;
	pd->pid = d->pid;
	pd->trigger = d->f->kind;
	snprintf(pd->comm, sizeof(pd->comm), "%s", d->comm);
	snprintf(pd->cgroup, sizeof(pd->cgroup), "%s", d->cgroup);
	pd->undo = undo;
	pd->verify_at_ns = now + e->p->settle_ns;
	if (r->action == ACTION_TERMINATE) {
		pd->kill_at_ns = now + r->grace_ns;
		if (pd->verify_at_ns < pd->kill_at_ns + NSEC_PER_SEC)
			pd->verify_at_ns = pd->kill_at_ns + NSEC_PER_SEC;
	}
	pd->before = before;
	if (d->f->kind == TRIGGER_LEAK) {
		pd->rss_before = (double)d->f->suspect->rss_bytes;
	} else if (d->f->kind == TRIGGER_ANOMALY) {
		snprintf(pd->metric, sizeof(pd->metric), "%s", d->f->anomaly->metric);
	} else {
		pd->metric[0] = (char)d->f->psi_resource;
	}
}

/* Whether target pid of finding f may be decided on by rule r: alive, the
 * same process the finding is about, matched by the rule, inside the guard
 * rails.  Fills d's comm and cgroup. */
static bool target_ok(struct engine *e, const struct rule *r, const struct finding *f, struct decision *d,
		      struct pid_info *info)
{
	char why[ACT_TEXT_MAX];

	if (pid_info_read(e->env.root, d->pid, info))
		return false;                   /* gone already */
	/* A leak suspect is one process: a reused pid is someone else. */
	if (f->kind == TRIGGER_LEAK && f->suspect->process_start > 0 &&
	    llabs(info->start_ns - f->suspect->process_start) > NSEC_PER_SEC)
		return false;
	if (!rule_matches(r, info->comm, pid_info_cgroup(info), info->uid))
		return false;                   /* not this rule's to touch */
	if (act__allowed(&e->env, d->pid, why))
		return false;                   /* guard rails */
	snprintf(d->comm, sizeof(d->comm), "%s", info->comm);
	snprintf(d->cgroup, sizeof(d->cgroup), "%s",
		 f->kind == TRIGGER_LEAK && f->suspect->cgroup[0] ? f->suspect->cgroup : pid_info_cgroup(info));
	return true;
}

/* Records (and in act mode executes) decision d. */
static void decision(struct engine *e, struct collector *c, struct batch **b, int64_t now, struct decision *d,
		     const struct pid_info *info, int64_t *execute_ns)
{
	const struct rule *r = d->rule;
	const struct finding *f = d->f;
	bool budgeted = r->action != ACTION_NOTIFY;

	d->id = ++e->next_id;
	engine_expected_effect(r, f, d->pid > 0 ? info : NULL, d->effect, sizeof(d->effect));
	snprintf(d->projection, sizeof(d->projection), "%s; %s: %s", f->projection, action_name(r->action), d->effect);
	engine_evidence_json(e, f, r, d->pid, d->effect, &d->evidence);
	if (e->mode == MODE_ACT && budgeted && executed_last_hour(e, now) >= e->p->max_actions_per_hour) {
		engine_action_row(e, *b, now, d->id, "recommended", r, f->kind, d->pid, d->comm, d->cgroup, f->sentence,
				  d->projection, d->evidence.data, "not executed: max_actions_per_hour reached", NULL);
	} else if (e->mode == MODE_ACT) {
		int64_t t0 = clock_mono_ns();

		execute(e, c, b, now, d);
		*execute_ns += clock_mono_ns() - t0;
	} else {
		char result[160];
		bool rec = e->mode == MODE_RECOMMEND;

		snprintf(result, sizeof(result), "not executed: mode %s", mode_name(e->mode));
		engine_action_row(e, *b, now, d->id, rec ? "recommended" : "observed", r, f->kind, d->pid, d->comm,
				  d->cgroup, f->sentence, d->projection, d->evidence.data, result, NULL);
		if (rec) {
			engine_say(e, ENGINE_SAY_WARN, "[%s] recommends %s on %s%d (%s): %s", r->name,
				   action_name(r->action), d->pid > 0 ? "" : "the host, pid ", (int)d->pid,
				   d->pid > 0 ? d->comm : "-", f->sentence);
			engine_webhook(e, "recommended", r->name, action_name(r->action), d->pid, f->sentence);
		}
	}
	outbound__explain(e->out, d->id, d->evidence.data);   /* a full queue is counted in its stats */
	buf_free(&d->evidence);
}

/* Decides for every rule and finding; executes in act mode.  Returns the
 * number of decisions.  A host-wide action (notify, drop_caches) is one
 * decision per finding; with a `match` it needs a matching process among
 * the finding's. */
int engine_decide(struct engine *e, struct collector *c, struct batch **b, int64_t now, int64_t *execute_ns)
{
	int decisions = 0;

	for (size_t ri = 0; ri < e->p->nrules; ri++) {
		const struct rule *r = &e->p->rules[ri];
		bool host_wide = r->action == ACTION_NOTIFY || r->action == ACTION_DROP_CACHES;
		bool scoped = r->ncomm || r->ncgroup || r->nuser;

		for (size_t fi = 0; fi < e->nfindings; fi++) {
			const struct finding *f = &e->findings[fi];
			pid_t targets[4];
			size_t ntargets;

			if (!trigger_holds(r, f))
				continue;
			ntargets = targets_of(f, targets, 4);
			if (host_wide) {
				struct decision d = { .rule = r, .f = f, .pid = 0, .pidfd = -1 };
				struct pid_info info = { 0 };
				bool matched = !scoped;

				for (size_t ti = 0; ti < ntargets && !matched; ti++) {
					struct decision probe = { .rule = r, .f = f, .pid = targets[ti] };

					matched = target_ok(e, r, f, &probe, &info);
				}
				if (!matched || cooling(e, r, 0, now))
					continue;
				start_cooldown(e, r, 0, now);
				decisions++;
				decision(e, c, b, now, &d, &info, execute_ns);
				continue;
			}
			for (size_t ti = 0; ti < ntargets; ti++) {
				struct decision d = { .rule = r, .f = f, .pid = targets[ti], .pidfd = -1 };
				struct pid_info info = { 0 };

				/* Hold the process first, then read /proc, then check it
				 * is still alive: what was read is then the held
				 * process's, never a successor's that took its pid
				 * between the read and the open (issue 13). */
				if (e->mode == MODE_ACT && (d.pidfd = act__pidfd(d.pid)) < 0)
					continue;
				if (!target_ok(e, r, f, &d, &info) || (d.pidfd >= 0 && !act__alive(d.pidfd)) ||
				    cooling(e, r, d.pid, now)) {
					if (d.pidfd >= 0)
						close(d.pidfd);
					continue;
				}
				start_cooldown(e, r, d.pid, now);
				decisions++;
				decision(e, c, b, now, &d, &info, execute_ns);
				if (d.pidfd >= 0)
					close(d.pidfd);
			}
		}
	}
	return decisions;
}
