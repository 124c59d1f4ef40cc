/* The remediation cycle (see engine.h).
 *
 * Phases of one cycle, all on in-memory state:
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
#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../collect/collector.h"
#include "../lib/clock.h"
#include "../scrape/pid.h"
#include "../scrape/procfs.h"
#include "../store/batch.h"
#include "act.h"
#include "outbound.h"
#include "world.h"

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

struct cooldown {
	const struct rule *rule;
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

static void say(struct engine *e, enum engine_say level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(struct engine *e, enum engine_say level, const char *fmt, ...)
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

static const char *trigger_name(enum trigger_kind k)
{
	return k == TRIGGER_LEAK ? "leak" : k == TRIGGER_ANOMALY ? "anomaly" : "pressure";
}

static const char *psi_name(int r)
{
	return r == PSI_CPU ? "cpu" : r == PSI_MEMORY ? "memory" : "io";
}

static void human_bytes(double v, char *out, size_t size)
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

/* ---------- memory of a cgroup, for VERIFY ---------- */

static double cgroup_usage(const struct engine *e, const char *cgroup)
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

/* ---------- status for the HTTP side ---------- */

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

/* ---------- agent_actions rows ---------- */

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

static void action_row(struct engine *e, struct batch *b, int64_t now, uint64_t id, const char *status,
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

/* ---------- OBSERVE ---------- */

static void observe(struct engine *e)
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

/* ---------- EXPLAIN ---------- */

static bool has(const char *s, const char *part) { return s && strstr(s, part); }

static void explain(struct engine *e)
{
	struct world *w = &e->world;

	for (size_t i = 0; i < e->nfindings; i++) {
		struct finding *f = &e->findings[i];
		char rate[32], rss[32], limit[32], limit_text[64] = ", no cgroup limit";

		switch (f->kind) {
		case TRIGGER_LEAK: {
			const struct suspect *s = f->suspect;

			human_bytes(s->rate, rate, sizeof(rate));
			human_bytes((double)s->rss_bytes, rss, sizeof(rss));
			if (s->limit_bytes > 0) {
				human_bytes((double)s->limit_bytes, limit, sizeof(limit));
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

/* ---------- SIMULATE ---------- */

/* Least-squares slope of y over t (per second); NaN with fewer than 3 points. */
static double slope(const int64_t *t, const double *y, int n)
{
	double st = 0, sy = 0, stt = 0, sty = 0;

	if (n < 3)
		return NAN;
	for (int i = 0; i < n; i++) {
		double x = (double)(t[i] - t[0]) / 1e9;

		st += x;
		sy += y[i];
		stt += x * x;
		sty += x * y[i];
	}
	if (n * stt - st * st == 0)
		return NAN;
	return (n * sty - st * sy) / (n * stt - st * st);
}

/* Filesystems that fill up: free space sampled every cycle. */
static void simulate_filesystems(struct engine *e, int64_t now)
{
	char text[65536], *save = NULL, best[256] = "";
	double best_ttl = INFINITY;

	if (procfs_read(e->env.root, "/proc/self/mounts", text, sizeof(text)) < 0)
		return;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char dev[256], mnt[256], type[32];
		struct statvfs st;
		struct fs_track *fs = NULL;

		if (sscanf(line, "%255s %255s %31s", dev, mnt, type) != 3 || dev[0] != '/' ||
		    !(strstr(type, "ext") || !strcmp(type, "xfs") || !strcmp(type, "btrfs")))
			continue;
		if (statvfs(mnt, &st))
			continue;
		for (size_t i = 0; i < e->nfs; i++)
			if (!strcmp(e->fs[i].mount, mnt))
				fs = &e->fs[i];
		if (!fs) {
			if (e->nfs == FS_MAX)
				continue;
			fs = &e->fs[e->nfs++];
			memset(fs, 0, sizeof(*fs));
			snprintf(fs->mount, sizeof(fs->mount), "%s", mnt);
		}
		if (fs->n == FS_HISTORY) {
			memmove(&fs->t[0], &fs->t[1], (FS_HISTORY - 1) * sizeof(fs->t[0]));
			memmove(&fs->avail[0], &fs->avail[1], (FS_HISTORY - 1) * sizeof(fs->avail[0]));
			fs->n--;
		}
		fs->t[fs->n] = now;
		fs->avail[fs->n++] = (double)st.f_bavail * (double)st.f_frsize;
		fs->size = (double)st.f_blocks * (double)st.f_frsize;
		{
			double rate = -slope(fs->t, fs->avail, fs->n);   /* bytes/s consumed */
			double ttl = rate > 0 ? fs->avail[fs->n - 1] / rate : INFINITY;

			if (ttl < best_ttl) {
				best_ttl = ttl;
				snprintf(best, sizeof(best), "%s", mnt);
			}
		}
	}
	pthread_mutex_lock(&e->lock);
	if (isfinite(best_ttl))
		snprintf(e->fs_projection, sizeof(e->fs_projection), "%s full in %.0f s at the current rate", best,
			 best_ttl);
	else
		snprintf(e->fs_projection, sizeof(e->fs_projection), "no filesystem is filling up");
	pthread_mutex_unlock(&e->lock);
}

static void simulate_io(struct engine *e)
{
	const struct world *w = &e->world;
	char out[256] = "";
	size_t len = 0;

	for (size_t d = 0; d < w->ndisks; d++) {
		const struct disk_trend *dk = &w->disks[d];
		int64_t t[WORLD_HISTORY];
		double s, first, last;

		if (dk->n < 10)
			continue;
		for (int i = 0; i < dk->n; i++)
			t[i] = (int64_t)i * NSEC_PER_SEC;
		s = slope(t, dk->p95_us, dk->n);
		first = dk->p95_us[0];
		last = dk->p95_us[dk->n - 1];
		if (isnan(s) || first <= 0)
			continue;
		if (s * 60 > first * 0.5 && last > first)
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s p95 rising %.0f µs/min", len ? "; " : "",
						dk->device, s * 60);
		if (len >= sizeof(out))
			break;
	}
	pthread_mutex_lock(&e->lock);
	snprintf(e->io_trend, sizeof(e->io_trend), "%s", len ? out : "no disk latency trending up");
	pthread_mutex_unlock(&e->lock);
}

static void simulate(struct engine *e, int64_t now)
{
	for (size_t i = 0; i < e->nfindings; i++) {
		struct finding *f = &e->findings[i];

		f->ttl_s = f->ttl_lo_s = f->ttl_hi_s = NAN;
		if (f->kind == TRIGGER_LEAK) {
			const struct suspect *s = f->suspect;
			/* The rate is known to within its confidence: widen the band
			 * as confidence drops (10% at 1.0, 60% at 0.5). */
			double u = 0.1 + (1.0 - s->confidence);

			f->ttl_s = s->time_to_limit_s;
			if (!isnan(f->ttl_s)) {
				f->ttl_lo_s = f->ttl_s / (1 + u);
				f->ttl_hi_s = u < 1 ? f->ttl_s / (1 - u) : INFINITY;
				snprintf(f->projection, sizeof(f->projection),
					 "reaches its %s in %.0f s (%.0f..%.0f s) without action",
					 s->limit_bytes > 0 ? "cgroup limit" : "share of available memory", f->ttl_s,
					 f->ttl_lo_s, f->ttl_hi_s);
			} else {
				snprintf(f->projection, sizeof(f->projection), "not growing right now");
			}
		} else if (f->kind == TRIGGER_ANOMALY) {
			snprintf(f->projection, sizeof(f->projection), "score %.2f; expected %g..%g", f->anomaly->score,
				 f->anomaly->low, f->anomaly->high);
		} else {
			snprintf(f->projection, sizeof(f->projection), "%s stall %.1f%% (avg10)", psi_name(f->psi_resource),
				 f->psi);
		}
	}
	simulate_filesystems(e, now);
	simulate_io(e);
}

/* What an action is expected to do to a finding. */
static void expected_effect(const struct rule *r, const struct finding *f, const struct pid_info *target,
			    char *out, size_t size)
{
	char rss[32];

	human_bytes(target ? (double)target->rss_bytes : 0, rss, sizeof(rss));
	switch (r->action) {
	case ACTION_TERMINATE:
		snprintf(out, size, "ends %s: about %s comes back%s", target ? target->comm : "the process", rss,
			 f->kind == TRIGGER_LEAK ? " and the growth stops" : "");
		break;
	case ACTION_MEMORY_HIGH:
		snprintf(out, size, "reclaim throttles the cgroup above its limit: growth slows to what reclaim allows");
		break;
	case ACTION_RENICE:
		snprintf(out, size, "nice %d: a smaller CPU share, less run-queue pressure on others", r->nice);
		break;
	case ACTION_IONICE:
		snprintf(out, size, "I/O class %s: its I/O waits behind everyone else's",
			 r->ioprio_class == 3 ? "idle" : "best-effort");
		break;
	case ACTION_CPU_WEIGHT:
		snprintf(out, size, "cgroup CPU weight %llu: a smaller share under contention",
			 (unsigned long long)r->cpu_weight);
		break;
	case ACTION_DROP_CACHES:
		snprintf(out, size, "clean page cache freed at once (refilled from disk later)");
		break;
	default:
		snprintf(out, size, "no change on the host: an operator is told");
		break;
	}
}

/* ---------- DECIDE ---------- */

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

static struct cooldown *cooldown_of(struct engine *e, const struct rule *r, pid_t pid)
{
	for (size_t i = 0; i < e->ncooldowns; i++)
		if (e->cooldowns[i].rule == r && e->cooldowns[i].pid == pid)
			return &e->cooldowns[i];
	return NULL;
}

static bool cooling(struct engine *e, const struct rule *r, pid_t pid, int64_t now)
{
	struct cooldown *c = cooldown_of(e, r, pid);

	return c && c->until_ns > now;
}

static void start_cooldown(struct engine *e, const struct rule *r, pid_t pid, int64_t now)
{
	struct cooldown *c = cooldown_of(e, r, pid);

	if (!c) {
		/* An expired slot, else a new one, else the one that expires
		 * first (the table is large; that one is nearly done). */
		size_t slot = COOLDOWNS_MAX;

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
	*c = (struct cooldown){ r, pid, now + r->cooldown_ns };
}

static size_t executed_last_hour(struct engine *e, int64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nexecuted; i++)
		n += e->executed_at[(e->executed_head + i) % BUDGET_MAX] > now - 3600 * NSEC_PER_SEC;
	return n;
}

static void count_execution(struct engine *e, int64_t now)
{
	if (e->nexecuted == BUDGET_MAX) {
		e->executed_head = (e->executed_head + 1) % BUDGET_MAX;
		e->nexecuted--;
	}
	e->executed_at[(e->executed_head + e->nexecuted++) % BUDGET_MAX] = now;
}

static void evidence_json(struct engine *e, const struct finding *f, const struct rule *r, pid_t pid,
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

static int webhook(struct engine *e, const char *status, const char *rule, const char *action, pid_t pid,
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
	action_row(e, *b, now, d->id, "executing", r, d->f->kind, d->pid, d->comm, d->cgroup, d->f->sentence,
		   d->projection, d->evidence.data, NULL, NULL);
	if (c) {
		*b = collector__commit(c, 2 * NSEC_PER_SEC, &crc);
		if (crc && crc != -ENOTCONN) {
			/* No action without its audit record. */
			snprintf(result, sizeof(result), "not executed: the audit record is not durable (%s)",
				 strerror(-crc));
			action_row(e, *b, now, d->id, "failed", r, d->f->kind, d->pid, d->comm, d->cgroup, NULL, NULL,
				   NULL, result, NULL);
			say(e, ENGINE_SAY_WARN, "[%s]: %s", r->name, result);
			return;
		}
	}
	/* What VERIFY compares against, read before the action: a process
	 * that dies at SIGTERM gives its memory back at once. */
	if (d->f->kind == TRIGGER_LEAK) {
		before = cgroup_usage(e, d->cgroup);
		if (isnan(before))
			before = (double)e->world.mem_available_kb * -1024.0;   /* minus: more available is better */
	} else {
		before = d->f->kind == TRIGGER_ANOMALY ? d->f->anomaly->score : d->f->psi;
	}
	rc = act__execute(&e->env, r, d->pid, d->pidfd, &undo, result);
	if (r->action == ACTION_NOTIFY) {
		say(e, ENGINE_SAY_WARN, "[%s]: %s", r->name, d->f->sentence);
		webhook(e, "notify", r->name, "notify", d->pid, d->f->sentence);
	}
	if (r->action != ACTION_NOTIFY)
		count_execution(e, now);
	action_row(e, *b, now, d->id, rc ? "failed" : "done", r, d->f->kind, d->pid, d->comm, d->cgroup, NULL, NULL,
		   NULL, result, NULL);
	if (rc) {
		say(e, ENGINE_SAY_WARN, "[%s]: %s %d failed: %s", r->name, action_name(r->action), (int)d->pid, result);
		return;          /* failed: the cooldown holds it back, no retry loop */
	}
	say(e, ENGINE_SAY_INFO, "[%s]: %s", r->name, result);
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
	expected_effect(r, f, d->pid > 0 ? info : NULL, d->effect, sizeof(d->effect));
	snprintf(d->projection, sizeof(d->projection), "%s; %s: %s", f->projection, action_name(r->action), d->effect);
	evidence_json(e, f, r, d->pid, d->effect, &d->evidence);
	if (e->mode == MODE_ACT && budgeted && executed_last_hour(e, now) >= e->p->max_actions_per_hour) {
		action_row(e, *b, now, d->id, "recommended", r, f->kind, d->pid, d->comm, d->cgroup, f->sentence,
			   d->projection, d->evidence.data, "not executed: max_actions_per_hour reached", NULL);
	} else if (e->mode == MODE_ACT) {
		int64_t t0 = clock_mono_ns();

		execute(e, c, b, now, d);
		*execute_ns += clock_mono_ns() - t0;
	} else {
		char result[160];
		bool rec = e->mode == MODE_RECOMMEND;

		snprintf(result, sizeof(result), "not executed: mode %s", mode_name(e->mode));
		action_row(e, *b, now, d->id, rec ? "recommended" : "observed", r, f->kind, d->pid, d->comm, d->cgroup,
			   f->sentence, d->projection, d->evidence.data, result, NULL);
		if (rec) {
			say(e, ENGINE_SAY_WARN, "[%s] recommends %s on %s%d (%s): %s", r->name, action_name(r->action),
				 d->pid > 0 ? "" : "the host, pid ", (int)d->pid, d->pid > 0 ? d->comm : "-", f->sentence);
			webhook(e, "recommended", r->name, action_name(r->action), d->pid, f->sentence);
		}
	}
	outbound__explain(e->out, d->id, d->evidence.data);   /* a full queue is counted in its stats */
	buf_free(&d->evidence);
}

/* Decides for every rule and finding; executes in act mode.  Returns the
 * number of decisions.  A host-wide action (notify, drop_caches) is one
 * decision per finding; with a `match` it needs a matching process among
 * the finding's. */
static int decide(struct engine *e, struct collector *c, struct batch **b, int64_t now, int64_t *execute_ns)
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

				if (!target_ok(e, r, f, &d, &info) || cooling(e, r, d.pid, now))
					continue;
				/* Hold the process from here on: a pid reused later is
				 * never signalled or renicenced by mistake. */
				if (e->mode == MODE_ACT && (d.pidfd = act__pidfd(d.pid)) < 0)
					continue;
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

/* ---------- VERIFY ---------- */

static double current_of(struct engine *e, const struct pending *pd)
{
	if (pd->trigger == TRIGGER_LEAK) {
		double u = cgroup_usage(e, pd->cgroup);

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
		human_bytes(fabs(pd->before), before_s, sizeof(before_s));
		human_bytes(fabs(after), after_s, sizeof(after_s));
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
	action_row(e, b, now, pd->id, status, pd->rule, pd->trigger, pd->pid, pd->comm, pd->cgroup, NULL, NULL, NULL,
		   result, NULL);
	say(e, ENGINE_SAY_INFO, "[%s]: %s %s: %s", pd->rule->name, action_name(pd->rule->action), status, result);
	if (worse && pd->undo.valid) {
		char undone[ACT_TEXT_MAX];
		int rc = act__undo(&pd->undo, pd->pidfd, undone);

		action_row(e, b, now, pd->id, rc ? "failed" : "undone", pd->rule, pd->trigger, pd->pid, pd->comm,
			   pd->cgroup, NULL, NULL, NULL, undone, NULL);
	}
}

/* Moves pending actions along: SIGKILL after a terminate's grace, VERIFY
 * after settle.  Returns the time spent verifying. */
static int64_t advance_pending(struct engine *e, struct batch *b, int64_t now)
{
	int64_t t0 = clock_mono_ns();

	for (size_t i = 0; i < e->npending;) {
		struct pending *pd = &e->pending[i];
		char result[ACT_TEXT_MAX];

		if (pd->kill_at_ns && now >= pd->kill_at_ns) {
			pd->kill_at_ns = 0;
			if (act__alive(pd->pidfd)) {
				int rc = act__kill(pd->pidfd, pd->pid, result);

				action_row(e, b, now, pd->id, rc ? "failed" : "done", pd->rule, pd->trigger, pd->pid, pd->comm,
					   pd->cgroup, NULL, NULL, NULL, result, NULL);
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

/* ---------- the cycle ---------- */

static void cycle_row(struct engine *e, struct batch *b, int64_t now, const char *trigger, int decisions,
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

void engine__cycle(struct engine *e, struct collector *c, struct batch *b, int64_t now_ns, const char *trigger)
{
	int64_t t[6], us[6], execute_ns = 0;
	int decisions;

	e->cycle++;
	e->last_cycle_ns = now_ns;
	t[0] = clock_mono_ns();
	observe(e);
	t[1] = clock_mono_ns();
	explain(e);
	t[2] = clock_mono_ns();
	simulate(e, now_ns);
	t[3] = clock_mono_ns();
	decisions = decide(e, c, &b, now_ns, &execute_ns);
	t[4] = clock_mono_ns();
	us[5] = advance_pending(e, b, now_ns) / 1000;
	t[5] = clock_mono_ns();
	us[0] = (t[1] - t[0]) / 1000;
	us[1] = (t[2] - t[1]) / 1000;
	us[2] = (t[3] - t[2]) / 1000;
	us[3] = (t[4] - t[3] - execute_ns) / 1000;
	us[4] = execute_ns / 1000;
	(void)t[5];
	world__mark_seen(&e->world);
	cycle_row(e, b, now_ns, trigger, decisions, us);
}

static void take_explanations(struct engine *e, struct batch *b, int64_t now)
{
	struct outbound_result res[8];
	size_t n = outbound__take(e->out, res, 8);

	for (size_t i = 0; i < n; i++) {
		char result[96];

		snprintf(result, sizeof(result), "explainer answered in %.1f s", res[i].seconds);
		action_row(e, b, now, res[i].action_id, "explained", NULL, TRIGGER_LEAK, 0, NULL, NULL, NULL, NULL,
			   NULL, res[i].status ? res[i].text : result, res[i].status ? NULL : res[i].text);
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
		advance_pending(e, c ? collector__batch(c) : b, now_ns);
}

/* ---------- status ---------- */

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

struct world *engine__world(struct engine *e) { return &e->world; }

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
