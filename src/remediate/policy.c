/* Remediation policy reader (see policy.h). */
#include "policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/parse.h"
#include "../lib/ytree.h"

static const char *const action_names[ACTION_COUNT] = {
	"notify", "renice", "ionice", "memory_high", "cpu_weight", "terminate", "drop_caches",
};

const char *action_name(enum action_kind a) { return a < ACTION_COUNT ? action_names[a] : "?"; }

const char *mode_name(enum agent_mode m)
{
	return m == MODE_ACT ? "act" : m == MODE_RECOMMEND ? "recommend" : "observe";
}

int mode_parse(const char *s, enum agent_mode *ret)
{
	if (!strcmp(s, "observe"))
		*ret = MODE_OBSERVE;
	else if (!strcmp(s, "recommend"))
		*ret = MODE_RECOMMEND;
	else if (!strcmp(s, "act"))
		*ret = MODE_ACT;
	else
		return -EINVAL;
	return 0;
}

void policy__defaults(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->mode = MODE_OBSERVE;
	p->interval_ns = 10 * 1000000000LL;
	p->settle_ns = 10 * 1000000000LL;
	p->max_actions_per_hour = 6;
	p->llm.timeout_ns = 15 * 1000000000LL;
}

static void free_rule(struct rule *r)
{
	free(r->name);
	free(r->metric_glob);
	free(r->resource);
	for (size_t i = 0; i < r->ncomm; i++)
		free(r->comm[i]);
	for (size_t i = 0; i < r->ncgroup; i++)
		free(r->cgroup[i]);
}

void policy__free(struct policy *p)
{
	for (size_t i = 0; i < p->nrules; i++)
		free_rule(&p->rules[i]);
	free(p->rules);
	free(p->path);
	free(p->webhook);
	free(p->llm.url);
	free(p->llm.model);
	free(p->llm.key_file);
	memset(p, 0, sizeof(*p));
}

struct reader {
	char *err;
	size_t errlen;
	int rc;
};

static int bad(struct reader *rd, const struct ynode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct reader *rd, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;
	int off;

	if (rd->rc)
		return rd->rc;
	off = snprintf(rd->err, rd->errlen, "%d: ", n ? n->line : 0);
	va_start(ap, fmt);
	vsnprintf(rd->err + off, rd->errlen - (size_t)off, fmt, ap);
	va_end(ap);
	rd->rc = -EINVAL;
	return rd->rc;
}

static const char *scalar(struct reader *rd, const struct ynode *n, const char *key)
{
	if (n->kind != Y_SCALAR) {
		bad(rd, n, "%s: expected a single value", key);
		return NULL;
	}
	return n->value;
}

#define SECOND 1000000000LL
#define MINUTE (60 * SECOND)
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)

/* Upper bounds of the durations: far above any sensible value, and low
 * enough that the times the engine adds them to (now + cooldown, ...)
 * never overflow. */
#define INTERVAL_MAX DAY
#define SETTLE_MAX HOUR
#define GRACE_MAX HOUR
#define COOLDOWN_MAX (30 * DAY)
#define TIME_TO_LIMIT_MAX (365 * DAY)
#define LLM_TIMEOUT_MAX (10 * MINUTE)

/* A duration up to max ("30d"-style, as parse_duration_ns reads). */
static void get_duration(struct reader *rd, const struct ynode *n, const char *key, int64_t max, int64_t *out)
{
	const char *v = scalar(rd, n, key);
	int64_t ns;

	if (!v)
		return;
	if (parse_duration_ns(v, &ns))
		bad(rd, n, "%s: '%s' is not a duration (e.g. 30s, 5m)", key, v);
	else if (ns > max)
		bad(rd, n, "%s: '%s' is more than %lld%s, the most it may be", key, v,
		    (long long)(max % DAY == 0 ? max / DAY : max % HOUR == 0 ? max / HOUR : max / MINUTE),
		    max % DAY == 0 ? "d" : max % HOUR == 0 ? "h" : "m");
	else
		*out = ns;
}

static void get_double(struct reader *rd, const struct ynode *n, const char *key, double lo, double hi, double *out)
{
	const char *v = scalar(rd, n, key);

	if (v && (parse_double(v, out) || *out < lo || *out > hi))
		bad(rd, n, "%s: '%s' is not a number in [%g, %g]", key, v, lo, hi);
}

static void get_int(struct reader *rd, const struct ynode *n, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
	const char *v = scalar(rd, n, key);

	if (v && (parse_i64(v, out) || *out < lo || *out > hi))
		bad(rd, n, "%s: '%s' is not a whole number in [%lld, %lld]", key, v, (long long)lo, (long long)hi);
}

static void get_string(struct reader *rd, const struct ynode *n, const char *key, char **out)
{
	const char *v = scalar(rd, n, key);

	if (v) {
		free(*out);
		*out = strdup(v);
	}
}

/* A scalar or a sequence of scalars into list (strings). */
static void get_list(struct reader *rd, const struct ynode *n, const char *key, char **list, size_t *len)
{
	const struct ynode *items = n;
	size_t count = 1;

	if (n->kind == Y_SEQ)
		count = n->n;
	else if (n->kind != Y_SCALAR) {
		bad(rd, n, "%s: expected a name or a list of names", key);
		return;
	}
	if (count > POLICY_LIST_MAX - *len) {
		bad(rd, n, "%s: at most %d entries", key, POLICY_LIST_MAX);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		const struct ynode *item = n->kind == Y_SEQ ? items->items[i] : n;

		if (item->kind != Y_SCALAR) {
			bad(rd, item, "%s: entries must be plain names", key);
			return;
		}
		list[(*len)++] = strdup(item->value);
	}
}

static void read_when(struct reader *rd, const struct ynode *when, struct rule *r)
{
	const struct ynode *trig, *v;
	bool seen = false;

	if (when->kind != Y_MAP || when->n != 2) {
		bad(rd, when, "when: expected exactly one of leak, anomaly, pressure");
		return;
	}
	trig = when->items[1];
	seen = true;
	if (!strcmp(when->items[0]->value, "leak")) {
		r->trigger = TRIGGER_LEAK;
		r->min_confidence = 0.5;
		for (size_t i = 0; trig->kind == Y_MAP && i + 1 < trig->n; i += 2) {
			const char *k = trig->items[i]->value;

			v = trig->items[i + 1];
			if (!strcmp(k, "min_confidence"))
				get_double(rd, v, "when.leak.min_confidence", 0, 1, &r->min_confidence);
			else if (!strcmp(k, "max_time_to_limit")) {
				int64_t ns = 0;

				get_duration(rd, v, "when.leak.max_time_to_limit", TIME_TO_LIMIT_MAX, &ns);
				r->max_time_to_limit_s = (double)ns / 1e9;
			} else
				bad(rd, trig->items[i], "unknown key 'when.leak.%s' (min_confidence, max_time_to_limit)", k);
		}
	} else if (!strcmp(when->items[0]->value, "anomaly")) {
		r->trigger = TRIGGER_ANOMALY;
		r->min_score = 0.5;
		for (size_t i = 0; trig->kind == Y_MAP && i + 1 < trig->n; i += 2) {
			const char *k = trig->items[i]->value;

			v = trig->items[i + 1];
			if (!strcmp(k, "metric"))
				get_string(rd, v, "when.anomaly.metric", &r->metric_glob);
			else if (!strcmp(k, "min_score"))
				get_double(rd, v, "when.anomaly.min_score", 0, 1, &r->min_score);
			else
				bad(rd, trig->items[i], "unknown key 'when.anomaly.%s' (metric, min_score)", k);
		}
	} else if (!strcmp(when->items[0]->value, "pressure")) {
		r->trigger = TRIGGER_PRESSURE;
		for (size_t i = 0; trig->kind == Y_MAP && i + 1 < trig->n; i += 2) {
			const char *k = trig->items[i]->value;

			v = trig->items[i + 1];
			if (!strcmp(k, "resource")) {
				get_string(rd, v, "when.pressure.resource", &r->resource);
				if (r->resource && strcmp(r->resource, "cpu") && strcmp(r->resource, "memory") &&
				    strcmp(r->resource, "io"))
					bad(rd, v, "when.pressure.resource: '%s' is not cpu, memory or io", r->resource);
			} else if (!strcmp(k, "min_some_avg10"))
				get_double(rd, v, "when.pressure.min_some_avg10", 0, 100, &r->min_some_avg10);
			else
				bad(rd, trig->items[i], "unknown key 'when.pressure.%s' (resource, min_some_avg10)", k);
		}
		if (!rd->rc && !r->resource)
			bad(rd, when, "when.pressure needs a resource (cpu, memory or io)");
	} else {
		seen = false;
	}
	if (!seen)
		bad(rd, when->items[0], "when: '%s' is not leak, anomaly or pressure", when->items[0]->value);
}

static void read_rule(struct reader *rd, const struct ynode *n, struct rule *r)
{
	bool has_action = false, has_when = false;

	memset(r, 0, sizeof(*r));
	r->line = n->line;
	r->cooldown_ns = 300 * 1000000000LL;
	r->grace_ns = 5 * 1000000000LL;
	r->nice = 10;
	r->ioprio_class = 3;
	r->cpu_weight = 10;
	if (n->kind != Y_MAP) {
		bad(rd, n, "rules: each rule is a mapping (name, when, match, action ...)");
		return;
	}
	for (size_t i = 0; i + 1 < n->n && !rd->rc; i += 2) {
		const char *k = n->items[i]->value;
		const struct ynode *v = n->items[i + 1];
		int64_t num;

		if (!strcmp(k, "name")) {
			get_string(rd, v, "name", &r->name);
		} else if (!strcmp(k, "when")) {
			read_when(rd, v, r);
			has_when = true;
		} else if (!strcmp(k, "match")) {
			for (size_t j = 0; v->kind == Y_MAP && j + 1 < v->n && !rd->rc; j += 2) {
				const char *mk = v->items[j]->value;
				const struct ynode *mv = v->items[j + 1];

				if (!strcmp(mk, "comm"))
					get_list(rd, mv, "match.comm", r->comm, &r->ncomm);
				else if (!strcmp(mk, "cgroup"))
					get_list(rd, mv, "match.cgroup", r->cgroup, &r->ncgroup);
				else if (!strcmp(mk, "user")) {
					/* Counted from r->nuser, so get_list bounds the
					 * total, not just this list. */
					char *users[POLICY_LIST_MAX];
					size_t nusers = r->nuser;

					get_list(rd, mv, "match.user", users, &nusers);
					for (size_t u = r->nuser; u < nusers; u++) {
						if (!rd->rc && parse_i64(users[u], &r->user[r->nuser++]))
							bad(rd, mv, "match.user: '%s' is not a numeric uid", users[u]);
						free(users[u]);
					}
				} else
					bad(rd, v->items[j], "unknown key 'match.%s' (comm, cgroup, user)", mk);
			}
			if (!rd->rc && v->kind != Y_MAP)
				bad(rd, v, "match: expected comm, cgroup and/or user");
		} else if (!strcmp(k, "action")) {
			const char *a = scalar(rd, v, "action");
			int found = -1;

			for (int j = 0; a && j < ACTION_COUNT; j++)
				if (!strcmp(a, action_names[j]))
					found = j;
			if (a && found < 0)
				bad(rd, v, "action: '%s' is not one of notify, renice, ionice, memory_high, cpu_weight, "
					   "terminate, drop_caches", a);
			r->action = found < 0 ? ACTION_NOTIFY : (enum action_kind)found;
			has_action = true;
		} else if (!strcmp(k, "nice")) {
			get_int(rd, v, "nice", -20, 19, &num);
			r->nice = (int)num;
		} else if (!strcmp(k, "class")) {
			const char *c = scalar(rd, v, "class");

			if (c && !strcmp(c, "idle"))
				r->ioprio_class = 3;
			else if (c && !strcmp(c, "best-effort"))
				r->ioprio_class = 2;
			else if (c)
				bad(rd, v, "class: '%s' is not idle or best-effort", c);
		} else if (!strcmp(k, "level")) {
			get_int(rd, v, "level", 0, 7, &num);
			r->ioprio_level = (int)num;
		} else if (!strcmp(k, "memory_high")) {
			const char *s = scalar(rd, v, "memory_high");

			if (s && parse_size(s, &r->memory_high_bytes))
				bad(rd, v, "memory_high: '%s' is not a size (e.g. 512M)", s);
		} else if (!strcmp(k, "weight")) {
			get_int(rd, v, "weight", 1, 10000, &num);
			r->cpu_weight = (uint64_t)num;
		} else if (!strcmp(k, "grace")) {
			get_duration(rd, v, "grace", GRACE_MAX, &r->grace_ns);
		} else if (!strcmp(k, "cooldown")) {
			get_duration(rd, v, "cooldown", COOLDOWN_MAX, &r->cooldown_ns);
		} else {
			bad(rd, n->items[i], "unknown rule key '%s' (name, when, match, action, nice, class, level, "
					     "memory_high, weight, grace, cooldown)", k);
		}
	}
	if (rd->rc)
		return;
	if (!r->name)
		bad(rd, n, "a rule needs a name");
	else if (!has_when)
		bad(rd, n, "rule '%s' needs a 'when'", r->name);
	else if (!has_action)
		bad(rd, n, "rule '%s' needs an 'action'", r->name);
	else if (r->action != ACTION_NOTIFY && r->action != ACTION_DROP_CACHES && !r->ncomm && !r->ncgroup && !r->nuser)
		bad(rd, n, "rule '%s' acts on processes: it needs a 'match' (comm, cgroup or user) to say which", r->name);
}

static void read_llm(struct reader *rd, const struct ynode *n, struct llm_config *llm)
{
	for (size_t i = 0; n->kind == Y_MAP && i + 1 < n->n && !rd->rc; i += 2) {
		const char *k = n->items[i]->value;
		const struct ynode *v = n->items[i + 1];

		if (!strcmp(k, "url"))
			get_string(rd, v, "llm.url", &llm->url);
		else if (!strcmp(k, "model"))
			get_string(rd, v, "llm.model", &llm->model);
		else if (!strcmp(k, "key_file"))
			get_string(rd, v, "llm.key_file", &llm->key_file);
		else if (!strcmp(k, "timeout"))
			get_duration(rd, v, "llm.timeout", LLM_TIMEOUT_MAX, &llm->timeout_ns);
		else
			bad(rd, n->items[i], "unknown key 'llm.%s' (url, model, key_file, timeout)", k);
	}
	if (!rd->rc && llm->url && strncmp(llm->url, "http://", 7) && strncmp(llm->url, "https://", 8))
		bad(rd, n, "llm.url: '%s' is not an http:// or https:// URL", llm->url);
	/* The key travels with every request: in clear text only to this host. */
	if (!rd->rc && llm->url && llm->key_file && !strncmp(llm->url, "http://", 7) &&
	    strncmp(llm->url + 7, "127.0.0.1", 9) && strncmp(llm->url + 7, "localhost", 9) &&
	    strncmp(llm->url + 7, "[::1]", 5))
		bad(rd, n, "llm.url: plain http would send the key in clear text to another host; use https://");
	if (!rd->rc && llm->url && !llm->model)
		bad(rd, n, "llm needs a model");
}

int policy__load(struct policy *p, const char *path, char *err)
{
	char inner[POLICY_ERR_MAX - 64] = "";
	struct reader rd = { inner, sizeof(inner), 0 };
	struct ynode *root = NULL;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, POLICY_ERR_MAX, "%s: %s", path, strerror(errno));
		return -errno;
	}
	rd.rc = ytree_parse(f, &root, inner, sizeof(inner));
	fclose(f);
	if (!rd.rc && root && root->kind != Y_MAP)
		bad(&rd, root, "expected a mapping (mode, interval, rules ...)");
	for (size_t i = 0; !rd.rc && root && i + 1 < root->n; i += 2) {
		const char *k = root->items[i]->value;
		const struct ynode *v = root->items[i + 1];
		int64_t num;

		if (!strcmp(k, "mode")) {
			const char *m = scalar(&rd, v, "mode");

			if (m && mode_parse(m, &p->mode))
				bad(&rd, v, "mode: '%s' is not observe, recommend or act", m);
		} else if (!strcmp(k, "interval")) {
			get_duration(&rd, v, "interval", INTERVAL_MAX, &p->interval_ns);
			if (!rd.rc && p->interval_ns < 1000000000LL)
				bad(&rd, v, "interval: at least 1s");
		} else if (!strcmp(k, "settle")) {
			get_duration(&rd, v, "settle", SETTLE_MAX, &p->settle_ns);
		} else if (!strcmp(k, "max_actions_per_hour")) {
			get_int(&rd, v, "max_actions_per_hour", 0, 3600, &num);
			p->max_actions_per_hour = (uint32_t)num;
		} else if (!strcmp(k, "allow_drop_caches")) {
			const char *b = scalar(&rd, v, "allow_drop_caches");

			if (b && parse_bool(b, &p->allow_drop_caches))
				bad(&rd, v, "allow_drop_caches: '%s' is not true or false", b);
		} else if (!strcmp(k, "webhook")) {
			get_string(&rd, v, "webhook", &p->webhook);
		} else if (!strcmp(k, "llm")) {
			read_llm(&rd, v, &p->llm);
		} else if (!strcmp(k, "rules")) {
			if (v->kind != Y_SEQ && !ytree_is_null(v)) {
				bad(&rd, v, "rules: expected a list of rules");
				break;
			}
			for (size_t j = 0; v->kind == Y_SEQ && j < v->n && !rd.rc; j++) {
				p->rules = realloc(p->rules, (p->nrules + 1) * sizeof(*p->rules));
				if (!p->rules)
					abort();
				read_rule(&rd, v->items[j], &p->rules[p->nrules++]);
			}
		} else {
			bad(&rd, root->items[i], "unknown key '%s' (mode, interval, settle, max_actions_per_hour, "
						 "allow_drop_caches, webhook, llm, rules)", k);
		}
	}
	for (size_t i = 0; !rd.rc && i < p->nrules; i++)
		if (p->rules[i].action == ACTION_DROP_CACHES && !p->allow_drop_caches) {
			struct ynode at = { .line = p->rules[i].line };

			bad(&rd, &at, "rule '%s' drops caches but allow_drop_caches is false", p->rules[i].name);
		}
	ytree_free(root);
	if (rd.rc) {
		snprintf(err, POLICY_ERR_MAX, "%s:%s", path, inner);
		return rd.rc;
	}
	free(p->path);
	p->path = strdup(path);
	return 0;
}

static bool glob_any(char *const *globs, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!fnmatch(globs[i], s, 0))
			return true;
	return false;
}

bool rule_matches(const struct rule *r, const char *comm, const char *cgroup, int64_t uid)
{
	bool user_ok = !r->nuser;

	for (size_t i = 0; i < r->nuser; i++)
		user_ok |= r->user[i] == uid;
	/* Every list given must match: comm AND cgroup AND user. */
	return (!r->ncomm || glob_any(r->comm, r->ncomm, comm)) &&
	       (!r->ncgroup || glob_any(r->cgroup, r->ncgroup, cgroup)) && user_ok &&
	       (r->ncomm || r->ncgroup || r->nuser);
}
