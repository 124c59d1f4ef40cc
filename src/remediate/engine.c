/* The remediation engine (see engine.h): its lifecycle, the tick that
 * feeds the world model and starts cycles, and the cycle that runs the
 * phases in order and times them.
 *
 * Phases of one cycle, all on in-memory state (the file of each is listed
 * in engine_state.h):
 *  OBSERVE   findings from the world model: leak suspects, recent anomalies,
 *            pressure above what a rule watches;
 *  EXPLAIN   for each finding, the processes responsible and one sentence;
 *  SIMULATE  time to the memory limit with an uncertainty band, filesystems
 *            filling up, I/O latency trends, and each candidate action's
 *            expected effect;
 *  DECIDE    rules in policy order: a rule whose trigger holds acts on the
 *            finding's processes its `match` names, within guard rails,
 *            per-(rule, process) cooldowns and the hourly budget;
 *  EXECUTE   (act mode) record 'executing' durably, act, record the result;
 *  VERIFY    after `settle`, look again: effective or not; undo reversible
 *            actions that made things worse.
 */
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../collect/collector.h"
#include "../lib/clock.h"
#include "engine_state.h"
#include "outbound.h"

void engine_say(struct engine *e, enum engine_say level, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	if (!e->say)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	e->say(e->say_ctx, level, line);
}

void engine_human_bytes(double v, char *out, size_t size)
{
	const char *unit = "B";

	if (fabs(v) >= 1073741824.0) {
		v /= 1073741824.0;
		unit = "GiB";
	} else if (fabs(v) >= 1048576.0) {
		v /= 1048576.0;
		unit = "MiB";
	} else if (fabs(v) >= 1024.0) {
		v /= 1024.0;
		unit = "KiB";
	}
	snprintf(out, size, "%.1f %s", v, unit);
}

void engine__cycle(struct engine *e, struct collector *c, struct batch *b, int64_t now_ns, const char *trigger)
{
	int64_t t[6], us[6], execute_ns = 0;
	int decisions;

	e->cycle++;
	e->last_cycle_ns = now_ns;
	t[0] = clock_mono_ns();
	engine_observe(e);
	t[1] = clock_mono_ns();
	engine_explain(e);
	t[2] = clock_mono_ns();
	engine_simulate(e, now_ns);
	t[3] = clock_mono_ns();
	decisions = engine_decide(e, c, &b, now_ns, &execute_ns);
	t[4] = clock_mono_ns();
	us[5] = engine_advance_pending(e, b, now_ns) / 1000;
	t[5] = clock_mono_ns();
	us[0] = (t[1] - t[0]) / 1000;
	us[1] = (t[2] - t[1]) / 1000;
	us[2] = (t[3] - t[2]) / 1000;
	us[3] = (t[4] - t[3] - execute_ns) / 1000;
	us[4] = execute_ns / 1000;
	(void)t[5];
	world__mark_seen(&e->world);
	engine_cycle_row(e, b, now_ns, trigger, decisions, us);
}

static void take_explanations(struct engine *e, struct batch *b, int64_t now)
{
	struct outbound_result res[8];
	size_t n = outbound__take(e->out, res, 8);

	for (size_t i = 0; i < n; i++) {
		char result[96];

		snprintf(result, sizeof(result), "explainer answered in %.1f s", res[i].seconds);
		engine_action_row(e, b, now, res[i].action_id, "explained", NULL, TRIGGER_LEAK, 0, NULL, NULL, NULL,
				  NULL, NULL, res[i].status ? res[i].text : result, res[i].status ? NULL : res[i].text);
	}
}

void engine__tick(struct engine *e, struct collector *c, struct batch *b, int64_t now_ns)
{
	const char *trigger = NULL;

	world__feed(&e->world, b, now_ns);
	take_explanations(e, b, now_ns);
	if (e->world.new_finding) {
		for (size_t i = 0; i < e->world.nsuspects; i++)
			if (e->world.suspects[i].fresh)
				trigger = "leak";
		if (!trigger)
			trigger = "anomaly";
	} else if (now_ns - e->last_cycle_ns >= e->p->interval_ns) {
		trigger = "interval";
	}
	if (trigger)
		engine__cycle(e, c, b, now_ns, trigger);
	else if (e->npending)
		engine_advance_pending(e, c ? collector__batch(c) : b, now_ns);
}

struct world *engine__world(struct engine *e) { return &e->world; }

/* The initial pid namespace's inode (PROC_PID_INIT_INO, fixed by the kernel). */
#define PID_NS_INIT_INO 0xEFFFFFFCu

/* 0 when this process and the /proc it reads are in the initial pid
 * namespace, else -EPERM with err saying why act mode is refused: the
 * tracers report the kernel's (initial namespace's) pids, and acting on
 * those numbers inside another namespace would hit other processes. */
static int initial_pid_namespace(char *err, size_t errlen)
{
	struct stat st;
	char self[32];
	ssize_t n;

	if (stat("/proc/self/ns/pid", &st)) {
		snprintf(err, errlen, "act mode is refused: cannot tell which pid namespace this is (/proc/self/ns/pid: "
			 "%s)", strerror(errno));
		return -EPERM;
	}
	if (st.st_ino != PID_NS_INIT_INO) {
		snprintf(err, errlen, "act mode is refused in a pid namespace other than the host's (a container): "
			 "the tracers see host pids, so an action could hit another process; run the agent on the host "
			 "(or with --pid=host), or use --mode recommend");
		return -EPERM;
	}
	n = readlink("/proc/self", self, sizeof(self) - 1);
	if (n <= 0 || (self[n] = '\0', atoi(self) != (int)getpid())) {
		snprintf(err, errlen, "act mode is refused: /proc is not this pid namespace's (/proc/self is not pid "
			 "%d), so the checks would read other processes than the actions change", (int)getpid());
		return -EPERM;
	}
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int engine__set_policy(struct engine *e, const struct policy *p, enum agent_mode mode, char *err, size_t errlen)
{
	struct outbound *out = e->out;
	int rc;

	if (mode == MODE_ACT && e->root[0] && strcmp(e->root, "/")) {
		snprintf(err, errlen, "act mode with agent.root '%s' is refused", e->root);
		return -EINVAL;
	}
	if (mode == MODE_ACT && (rc = initial_pid_namespace(err, errlen)))
		return rc;
	/* A new webhook or explainer needs a new worker; the old one finishes
	 * its request in progress first (outbound__stop). */
	if (!same_str(p->webhook, e->p->webhook) || !same_str(p->llm.url, e->p->llm.url) ||
	    !same_str(p->llm.model, e->p->llm.model) || !same_str(p->llm.key_file, e->p->llm.key_file) ||
	    p->llm.timeout_ns != e->p->llm.timeout_ns) {
		out = NULL;
		if ((p->webhook || p->llm.url) && (rc = outbound__start(p, &out, err, errlen)))
			return rc;
		outbound__stop(e->out);
	}
	pthread_mutex_lock(&e->lock);   /* engine__status_json reads e->p */
	e->p = p;
	e->mode = mode;
	e->out = out;
	pthread_mutex_unlock(&e->lock);
	return 0;
}

bool engine__uses_policy(const struct engine *e, const struct policy *p)
{
	if (e->p == p)
		return true;
	for (size_t i = 0; i < e->npending; i++)
		if (e->pending[i].rule >= p->rules && e->pending[i].rule < p->rules + p->nrules)
			return true;
	return false;
}

void engine__clock_step(struct engine *e, int64_t step_ns)
{
	/* Every absolute time the engine keeps moves with the clock, so what
	 * it measures from them (cooldowns, the budget's hour, grace and
	 * settle times) keeps its length. */
	for (size_t i = 0; i < e->ncooldowns; i++)
		e->cooldowns[i].until_ns += step_ns;
	for (size_t i = 0; i < e->nexecuted; i++)
		e->executed_at[(e->executed_head + i) % BUDGET_MAX] += step_ns;
	for (size_t i = 0; i < e->npending; i++) {
		if (e->pending[i].kill_at_ns)
			e->pending[i].kill_at_ns += step_ns;
		e->pending[i].verify_at_ns += step_ns;
	}
	if (e->last_cycle_ns)
		e->last_cycle_ns += step_ns;
	world__clock_step(&e->world, step_ns);
}

int engine__new(const struct policy *p, enum agent_mode mode, const struct engine_env *env, struct engine **ret,
		char *err, size_t errlen)
{
	struct engine *e = calloc(1, sizeof(*e));
	int rc;

	if (!e)
		return -ENOMEM;
	if (mode == MODE_ACT && env->root && env->root[0] && strcmp(env->root, "/")) {
		/* The guard rails would read the fixture, the actions hit real pids. */
		snprintf(err, errlen, "act mode with agent.root '%s' is refused: the checks would read one system "
			 "and the actions change another", env->root);
		free(e);
		return -EINVAL;
	}
	if (mode == MODE_ACT && (rc = initial_pid_namespace(err, errlen))) {
		free(e);
		return rc;
	}
	e->p = p;
	e->mode = mode;
	snprintf(e->root, sizeof(e->root), "%s", env->root ? env->root : "");
	snprintf(e->cg2, sizeof(e->cg2), "%s", env->cgroup2_mount ? env->cgroup2_mount : "");
	snprintf(e->memcg, sizeof(e->memcg), "%s", env->memcg_mount ? env->memcg_mount : "");
	snprintf(e->cpucg, sizeof(e->cpucg), "%s", env->cpucg_mount ? env->cpucg_mount : "");
	e->env = (struct act_env){ e->root, e->cg2, e->memcg, e->cpucg };
	e->say = env->say;
	e->say_ctx = env->say_ctx;
	world__init(&e->world);
	pthread_mutex_init(&e->lock, NULL);
	snprintf(e->fs_projection, sizeof(e->fs_projection), "not measured yet");
	snprintf(e->io_trend, sizeof(e->io_trend), "not measured yet");
	if ((p->webhook || p->llm.url) && (rc = outbound__start(p, &e->out, err, errlen))) {
		free(e);
		return rc;
	}
	*ret = e;
	return 0;
}

struct engine *engine__free(struct engine *e)
{
	if (!e)
		return NULL;
	outbound__stop(e->out);
	for (size_t i = 0; i < e->npending; i++)
		if (e->pending[i].pidfd >= 0)
			close(e->pending[i].pidfd);
	pthread_mutex_destroy(&e->lock);
	free(e);
	return NULL;
}
