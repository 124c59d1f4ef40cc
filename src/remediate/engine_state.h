/* The remediation engine's state and what its files share (private to
 * src/remediate: everything else uses engine.h).
 *
 * One struct engine lives in the collector's thread; each phase of a cycle
 * is a file of its own that reads and writes it:
 *   observe.c    OBSERVE, EXPLAIN: the world model -> findings with sentences
 *   simulate.c   SIMULATE: projections without action, each action's effect
 *   decide.c     DECIDE, EXECUTE: rules, cooldowns, the budget, acting
 *   verify.c     VERIFY: pending actions checked after `settle`, undone if worse
 *   audit.c      agent_actions and agent_cycles rows, the recent history
 *   engine_json.c  the evidence of a decision, the webhook, /api/agent/status
 *   engine.c     the cycle and the tick that runs it, lifecycle
 * Fields under "read by other threads" are touched only under e->lock.
 */
#ifndef KS_ENGINE_STATE_H
#define KS_ENGINE_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../lib/buf.h"
#include "act.h"
#include "engine.h"
#include "policy.h"
#include "world.h"

struct outbound;
struct pid_info;

#define FINDINGS_MAX 64
#define PENDING_MAX 64
#define COOLDOWNS_MAX 256
#define BUDGET_MAX 3600
#define RECENT_CYCLES 16
#define RECENT_ACTIONS 32
#define FS_MAX 16
#define FS_HISTORY 30
#define PRESSURE_FLOOR 10.0       /* PSI some avg10 (%) worth a finding without a rule asking for less */

struct finding {
	enum trigger_kind kind;
	const struct suspect *suspect;          /* leak */
	const struct anomaly_seen *anomaly;     /* anomaly */
	int psi_resource;                       /* pressure: PSI_* */
	double psi;
	const struct proc_load *contrib;        /* processes responsible, most first */
	size_t ncontrib;
	char sentence[512];
	/* SIMULATE */
	double ttl_s, ttl_lo_s, ttl_hi_s;       /* leak: time to limit; NaN when not growing */
	char projection[400];
};

struct pending {
	uint64_t id;
	const struct rule *rule;
	pid_t pid;
	char comm[17];
	char cgroup[256];
	char metric[128];
	enum trigger_kind trigger;
	int64_t kill_at_ns;            /* terminate: SIGKILL then if still alive; 0: none */
	int64_t verify_at_ns;
	double before;                 /* what VERIFY compares against (see before_of) */
	double rss_before;
	int pidfd;                     /* the process acted on, -1 for host-wide actions */
	struct act_undo undo;
};

/* Keyed by the rule's name, not its address: a reloaded policy (SIGHUP) and
 * a restart (engine__restore) find the cooldowns of the rules they keep. */
struct cooldown {
	char rule[64];
	pid_t pid;
	int64_t until_ns;
};

struct fs_track {
	char mount[256];
	int64_t t[FS_HISTORY];
	double avail[FS_HISTORY];
	int n;
	double size;
};

struct cycle_summary {
	uint64_t cycle;
	int64_t time_ns;
	char trigger[16];
	int findings, decisions;
	int64_t us[6];
};

struct action_summary {
	uint64_t id;
	int64_t time_ns;
	char rule[64], action[16], status[16], target[64], result[200];
};

struct engine {
	const struct policy *p;
	enum agent_mode mode;
	struct act_env env;
	char root[256], cg2[256], memcg[256], cpucg[256];
	void (*say)(void *ctx, enum engine_say level, const char *line);
	void *say_ctx;
	struct world world;
	struct outbound *out;
	uint64_t cycle, next_id;
	int64_t last_cycle_ns;
	struct finding findings[FINDINGS_MAX];
	size_t nfindings;
	struct pending pending[PENDING_MAX];
	size_t npending;
	struct cooldown cooldowns[COOLDOWNS_MAX];
	size_t ncooldowns;
	int64_t executed_at[BUDGET_MAX];     /* ring of execution times for the hourly budget */
	size_t nexecuted, executed_head;
	struct fs_track fs[FS_MAX];
	size_t nfs;
	/* for engine__status_json, read by other threads */
	pthread_mutex_t lock;
	size_t npending_shown;         /* npending, copied under lock */
	struct cycle_summary cycles[RECENT_CYCLES];
	size_t ncycles;
	struct action_summary actions[RECENT_ACTIONS];
	size_t nactions;
	char fs_projection[256], io_trend[256];
};

static inline const char *trigger_name(enum trigger_kind k)
{
	return k == TRIGGER_LEAK ? "leak" : k == TRIGGER_ANOMALY ? "anomaly" : "pressure";
}

static inline const char *psi_name(int r)
{
	return r == PSI_CPU ? "cpu" : r == PSI_MEMORY ? "memory" : "io";
}

/* ---- decide.c ---- */

/* Starts (or restarts) the cooldown of rule `rule` for pid (0: host-wide)
 * until until_ns. */
void engine_cooldown_set(struct engine *e, const char *rule, pid_t pid, int64_t until_ns);

/* Counts an action executed at `at` in the hourly budget. */
void engine_budget_count(struct engine *e, int64_t at);

/* ---- engine.c ---- */

/* Tells the user one line through env.say (nothing when it is NULL). */
void engine_say(struct engine *e, enum engine_say level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "1.5 MiB": v bytes in the largest binary unit below it, into out. */
void engine_human_bytes(double v, char *out, size_t size);

/* ---- the phases, in cycle order ---- */

/* OBSERVE (observe.c): replaces e->findings with what the world shows now:
 * leak suspects of confidence >= 0.5, the newest recent anomaly of each
 * metric, and PSI pressure above PRESSURE_FLOOR or a lower rule threshold.
 * The findings point into e->world, valid until its next feed. */
void engine_observe(struct engine *e);

/* EXPLAIN (observe.c): gives every finding its sentence and the processes
 * responsible (pointers into e->world). */
void engine_explain(struct engine *e);

/* SIMULATE (simulate.c): every finding's projection without action (time
 * to the limit with a band for leaks), and, under e->lock, the filesystem
 * and disk-latency projections.  Reads the mounts under e->env.root. */
void engine_simulate(struct engine *e, int64_t now);

/* What rule r's action is expected to do to finding f (target: the
 * process it acts on, NULL for host-wide actions), one sentence into out
 * (simulate.c). */
void engine_expected_effect(const struct rule *r, const struct finding *f, const struct pid_info *target,
			    char *out, size_t size);

/* DECIDE and EXECUTE (decide.c): every rule against every finding; each
 * decision gets its agent_actions rows in *b and, in act mode, is executed
 * and becomes pending.  With c, a decision's row is committed before its
 * action runs, which may replace *b with the collector's next batch.  Adds
 * the time spent executing to *execute_ns; returns the number of
 * decisions. */
int engine_decide(struct engine *e, struct collector *c, struct batch **b, int64_t now, int64_t *execute_ns);

/* VERIFY (verify.c): SIGKILL for a terminate whose grace ran out, then
 * verification (and undo when worse) of every pending action whose settle
 * time has come; rows go into b.  Returns the time spent (ns). */
int64_t engine_advance_pending(struct engine *e, struct batch *b, int64_t now);

/* The memory a cgroup uses now (cgroup v2 memory.current, else v1
 * memory.usage_in_bytes), NaN when unknown or for the root (verify.c). */
double engine_cgroup_usage(const struct engine *e, const char *cgroup);

/* ---- audit.c ---- */

/* Appends one agent_actions row for action id to b and updates the recent
 * actions /api/agent/status shows.  r NULL: a row about no rule (the
 * explainer's answer); pid <= 0: host-wide.  Every string may be NULL. */
void engine_action_row(struct engine *e, struct batch *b, int64_t now, uint64_t id, const char *status,
		       const struct rule *r, enum trigger_kind trig, pid_t pid, const char *comm, const char *cgroup,
		       const char *explanation, const char *projection, const char *evidence, const char *result,
		       const char *llm);

/* Appends the agent_cycles row of the cycle that just ran (us: the six
 * phases' durations) to b and remembers it for the status. */
void engine_cycle_row(struct engine *e, struct batch *b, int64_t now, const char *trigger, int decisions,
		      const int64_t us[6]);

/* ---- engine_json.c ---- */

/* Writes the evidence of rule r deciding on finding f (pid: its target, 0
 * host-wide) as one JSON object into out: what agent_actions.evidence and
 * the explainer get. */
void engine_evidence_json(struct engine *e, const struct finding *f, const struct rule *r, pid_t pid,
			  const char *effect, struct buf *out);

/* Queues a JSON notice for the policy's webhook (0 and nothing without
 * one); a negative errno when the queue is full. */
int engine_webhook(struct engine *e, const char *status, const char *rule, const char *action, pid_t pid,
		   const char *sentence);

#endif
