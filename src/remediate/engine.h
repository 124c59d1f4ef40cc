/* The remediation agent: OBSERVE -> EXPLAIN -> SIMULATE -> DECIDE ->
 * EXECUTE -> VERIFY, inside `ksight agent`.
 *
 * The engine runs in the collector's thread from the on_tick hook: every
 * tick it takes in the batch (world.h), moves pending actions along
 * (terminate's grace period, verification after `settle`), and runs a
 * cycle every policy interval, or at once when a new leak suspect or
 * anomaly appears.  Everything it decides and does is written to
 * agent_actions (before and after an action runs) and agent_cycles.
 *
 * Modes: observe (default) explains and records what a rule would do;
 * recommend also says it on stderr and the webhook; act executes, within
 * the guard rails (act.h), cooldowns and the hourly budget.
 */
#ifndef KS_ENGINE_H
#define KS_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/json.h"
#include "policy.h"

struct batch;
struct collector;
struct engine;

enum engine_say { ENGINE_SAY_INFO, ENGINE_SAY_WARN };

struct engine_env {
	const char *root;             /* /proc and /sys prefix */
	const char *cgroup2_mount;
	const char *memcg_mount;
	const char *cpucg_mount;
	/* What the command tells the user: each action, recommendation and
	 * verification as one line (NULL: silent; the tables have it all). */
	void (*say)(void *ctx, enum engine_say level, const char *line);
	void *say_ctx;
};

/* Takes a copy of nothing: p must outlive the engine.  Starts the outbound
 * worker when the policy has a webhook or an LLM (err says why not). */
int engine__new(const struct policy *p, enum agent_mode mode, const struct engine_env *env,
		struct engine **ret, char *err, size_t errlen);

/* One tick: observe b, advance pending actions, maybe run a cycle; rows go
 * into b.  c (may be NULL in tests) is used to commit a decision row before
 * its action runs. */
void engine__tick(struct engine *e, struct collector *c, struct batch *b, int64_t now_ns);

/* Runs a cycle now whatever the interval (tests, benches). */
void engine__cycle(struct engine *e, struct collector *c, struct batch *b, int64_t now_ns, const char *trigger);

/* Mode, recent cycles with per-phase durations, pending and recent actions,
 * as one JSON object (thread-safe: the HTTP server calls it). */
void engine__status_json(struct engine *e, struct json *j);

struct world *engine__world(struct engine *e);

/* Runs with policy p (which must outlive its use, see engine__uses_policy)
 * and mode from now on: rules are looked up by name for cooldowns, actions
 * in progress finish under the rule they started with, and the webhook and
 * explainer worker is restarted when their settings changed.  On error
 * (act mode refused, the LLM key unreadable: err says why) nothing changes. */
int engine__set_policy(struct engine *e, const struct policy *p, enum agent_mode mode, char *err, size_t errlen);

/* True while e still refers to p: it is the policy in force, or an action
 * in progress was decided under one of its rules. */
bool engine__uses_policy(const struct engine *e, const struct policy *p);

/* The wall clock stepped by step_ns: shifts every absolute time the engine
 * keeps, so cooldowns, the hourly budget, grace and settle times keep
 * their length. */
void engine__clock_step(struct engine *e, int64_t step_ns);

/* Carries on from what an earlier agent recorded in store (read before the
 * writer starts): the cooldowns of the policy's rules still running, the
 * actions of the last hour against the hourly budget, the action ids (new
 * ones follow the last), and the leak suspects whose process still runs
 * (same pid and start time).  now_ns is the wall clock.  Fills *ret (may
 * be NULL) with what was restored; -errno with err on a failed query. */
struct store;
struct engine_restored {
	size_t cooldowns, budget_used, suspects;
	uint64_t last_id;
};
int engine__restore(struct engine *e, struct store *store, int64_t now_ns, struct engine_restored *ret, char *err);

/* Stops the outbound worker; NULL is fine; returns NULL. */
struct engine *engine__free(struct engine *e);

#endif
