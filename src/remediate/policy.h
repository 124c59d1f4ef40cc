/* Remediation policy: rules that map findings to actions, with guard rails.
 *
 * A policy is YAML (see config/policy.example.yaml):
 *
 *   mode: observe            # observe | recommend | act
 *   interval: 10s            # cycle period; a new leak or anomaly triggers one at once
 *   settle: 10s              # VERIFY looks again this long after an action
 *   max_actions_per_hour: 6
 *   allow_drop_caches: false
 *   webhook: http://127.0.0.1:8080/ksight   # notify also POSTs here
 *   rules:
 *     - name: stop-leaking-workers
 *       when: {leak: {min_confidence: 0.8, max_time_to_limit: 120s}}
 *       match: {comm: [worker*], user: [1000]}   # also cgroup: [globs]
 *       action: terminate       # notify renice ionice memory_high cpu_weight terminate drop_caches
 *       grace: 5s               # terminate: SIGTERM, then SIGKILL
 *       cooldown: 60s
 *   llm: {url: ..., model: ..., key_file: ..., timeout: 15s}
 *
 * A rule acts only on processes its `match` names (comm/cgroup globs, uids);
 * PID 1, kernel threads and ksight itself are never targets whatever a rule
 * says.
 */
#ifndef KS_POLICY_H
#define KS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_ERR_MAX 512
#define POLICY_LIST_MAX 16

enum agent_mode { MODE_OBSERVE, MODE_RECOMMEND, MODE_ACT };

enum action_kind {
	ACTION_NOTIFY,
	ACTION_RENICE,
	ACTION_IONICE,
	ACTION_MEMORY_HIGH,
	ACTION_CPU_WEIGHT,
	ACTION_TERMINATE,
	ACTION_DROP_CACHES,
	ACTION_COUNT,
};

enum trigger_kind { TRIGGER_LEAK, TRIGGER_ANOMALY, TRIGGER_PRESSURE };

struct rule {
	char *name;
	int line;                         /* in the policy file */
	enum trigger_kind trigger;
	/* when: leak */
	double min_confidence;
	double max_time_to_limit_s;       /* 0: any */
	/* when: anomaly */
	char *metric_glob;                /* NULL: any metric */
	double min_score;
	/* when: pressure */
	char *resource;                   /* "cpu", "memory", "io" */
	double min_some_avg10;
	/* match */
	char *comm[POLICY_LIST_MAX];
	size_t ncomm;
	char *cgroup[POLICY_LIST_MAX];
	size_t ncgroup;
	int64_t user[POLICY_LIST_MAX];
	size_t nuser;
	/* action */
	enum action_kind action;
	int nice;                         /* renice: target nice value */
	int ioprio_class;                 /* ionice: 1 rt, 2 best-effort, 3 idle */
	int ioprio_level;
	uint64_t memory_high_bytes;       /* memory_high: 0 = current usage */
	uint64_t cpu_weight;              /* cpu_weight: cgroup v2 weight (1-10000) */
	int64_t grace_ns;                 /* terminate */
	int64_t cooldown_ns;
};

struct llm_config {
	char *url;                        /* OpenAI-compatible chat completions endpoint */
	char *model;
	char *key_file;                   /* bearer key, read at start, never logged */
	int64_t timeout_ns;
};

struct policy {
	char *path;
	enum agent_mode mode;
	int64_t interval_ns;
	int64_t settle_ns;
	uint32_t max_actions_per_hour;
	bool allow_drop_caches;
	char *webhook;
	struct rule *rules;
	size_t nrules;
	struct llm_config llm;            /* url NULL: no explainer */
};

/* Built-in defaults: observe, 10 s, no rules. */
void policy__defaults(struct policy *p);

/* Reads path over the defaults.  On error returns a negative errno and
 * writes "file:line: what is wrong" into err (POLICY_ERR_MAX). */
int policy__load(struct policy *p, const char *path, char *err);

void policy__free(struct policy *p);

const char *action_name(enum action_kind a);
const char *mode_name(enum agent_mode m);
int mode_parse(const char *s, enum agent_mode *ret);

/* True when the process (comm, cgroup path, uid) is one the rule may act on. */
bool rule_matches(const struct rule *r, const char *comm, const char *cgroup, int64_t uid);

#endif
