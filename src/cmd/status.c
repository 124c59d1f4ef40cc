/* ksight status: is an agent collecting into this database, and how is it
 * doing?  One line per fact, from three places:
 *
 *   <db>.agent     whether an agent holds it locked (agent_file.h): running
 *                  or not, its pid, since when, where its HTTP API is;
 *   /api/health    (when it answers) the agent's own verdict and problems;
 *   the database   the last tick, each collector on or off and why (its
 *                  latest collector_stats rows), wall-clock steps, the last
 *                  anomaly and the last remediation action, its size.
 *
 * Exit status 0 when an agent runs, 3 when none does (as LSB init scripts'
 * status), 1 when the database cannot be read, 2 for bad usage.
 */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/clock.h"
#include "../lib/json.h"
#include "../store/store.h"
#include "agent_file.h"
#include "cmd.h"
#include "session.h"
#include "status_health.h"

#define EXIT_NOT_RUNNING 3
#define HEALTH_TIMEOUT_S 2

static void usage(void)
{
	printf("usage: ksight status [--db PATH | --config FILE] [--json]\n"
	       "\n"
	       "Says whether an agent is collecting into the database, since when, which\n"
	       "collectors are on or off and why, the database's size against its cap\n"
	       "(retention.max_bytes), the last tick, wall-clock steps, the last anomaly and\n"
	       "the last remediation action.  It reads the database, the agent's lock file\n"
	       "(<db>.agent) and the agent's /api/health.\n"
	       "\n"
	       CLI_HELP_DB_ORDER
	       "\n"
	       "Exit status: 0 an agent runs, 3 no agent runs, 1 the database cannot be read.\n"
	       "\n"
	       "Options:\n"
	       CLI_HELP_DB
	       CLI_HELP_CONFIG
	       "  --json            one JSON object instead of lines\n"
	       "  -h, --help        this help\n"
	       "\n"
	       "Examples:\n"
	       "  ksight status\n"
	       "  ksight status --db /var/lib/ksight/kernelsight.db --json | jq .agent\n"
	       "  ksight status >/dev/null || systemctl start ksight\n");
}

/* One line of the report: a key, a value, and under --json a field. */
struct report {
	bool json;
	struct buf out;
	struct json j;
};

static void line(struct report *r, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void line(struct report *r, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (r->json)
		return;
	printf("%-13s ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void when(int64_t ns, char *out, size_t size)
{
	time_t secs = (time_t)(ns / NSEC_PER_SEC);
	struct tm tm;

	if (!ns || !localtime_r(&secs, &tm))
		snprintf(out, size, "-");
	else
		strftime(out, size, "%Y-%m-%d %H:%M:%S %z", &tm);
}

static void ago(int64_t ns, char *out, size_t size)
{
	double s = (double)(clock_real_ns() - ns) / 1e9;

	if (s < 0)
		snprintf(out, size, "in the future by %.0f s", -s);
	else if (s < 120)
		snprintf(out, size, "%.0f s ago", s);
	else if (s < 7200)
		snprintf(out, size, "%.0f min ago", s / 60);
	else if (s < 172800)
		snprintf(out, size, "%.1f h ago", s / 3600);
	else
		snprintf(out, size, "%.1f days ago", s / 86400);
}

static void human_bytes(double v, char *out, size_t size)
{
	const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* ---- /api/health (status_health.c) ---- */

/* The token in http.token_file when this user may read it, else NULL. */
static char *read_token(const struct config *cfg)
{
	char text[512];
	FILE *f;
	size_t n;

	if (!cfg->http_token_file[0] || !(f = fopen(cfg->http_token_file, "re")))
		return NULL;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	text[strcspn(text, "\r\n")] = '\0';
	return text[0] ? strdup(text) : NULL;
}

/* ---- the database ---- */

struct collector_line {
	char name[32], kind[16], reason[200], state[64];   /* state: the overhead budget's (schema 4) */
	bool enabled;
};

struct db_facts {
	int64_t last_tick_ns;
	char budget[96];            /* the overhead budget's state at the last tick, or "" */
	bool budget_known;          /* the file has the budget's columns */
	struct collector_line collectors[64];
	size_t ncollectors;
	int64_t clock_steps, last_step_ns;
	char last_step[200];
	int64_t anomaly_ns;
	char anomaly_metric[128], anomaly_text[400];
	int64_t action_ns, action_id, action_pid;
	char action_status[32], action_rule[64], action_action[32], action_comm[32], action_result[300];
};

static void text_of(const struct batch_value *v, char *out, size_t size)
{
	size_t n = v->tag == V_TEXT ? v->len : 0;

	if (n >= size)
		n = size - 1;
	memcpy(out, n ? v->s : "", n);
	out[n] = '\0';
}

static int on_collector(void *ctx, int ncols, const struct batch_value *v)
{
	struct db_facts *f = ctx;
	struct collector_line *c;

	(void)ncols;
	if (f->ncollectors == sizeof(f->collectors) / sizeof(f->collectors[0]))
		return 0;
	c = &f->collectors[f->ncollectors++];
	text_of(&v[0], c->name, sizeof(c->name));
	text_of(&v[1], c->kind, sizeof(c->kind));
	c->enabled = v[2].tag == V_INT && v[2].i;
	text_of(&v[3], c->reason, sizeof(c->reason));
	text_of(&v[4], c->state, sizeof(c->state));
	return 0;
}

static int on_budget(void *ctx, int ncols, const struct batch_value *v)
{
	struct db_facts *f = ctx;

	(void)ncols;
	text_of(&v[0], f->budget, sizeof(f->budget));
	return 0;
}

static int on_step(void *ctx, int ncols, const struct batch_value *v)
{
	struct db_facts *f = ctx;

	(void)ncols;
	f->clock_steps = v[0].tag == V_INT ? v[0].i : 0;
	f->last_step_ns = v[1].tag == V_INT ? v[1].i : 0;
	text_of(&v[2], f->last_step, sizeof(f->last_step));
	return 0;
}

static int on_anomaly(void *ctx, int ncols, const struct batch_value *v)
{
	struct db_facts *f = ctx;

	(void)ncols;
	f->anomaly_ns = v[0].i;
	text_of(&v[1], f->anomaly_metric, sizeof(f->anomaly_metric));
	text_of(&v[2], f->anomaly_text, sizeof(f->anomaly_text));
	return 0;
}

static int on_action(void *ctx, int ncols, const struct batch_value *v)
{
	struct db_facts *f = ctx;

	(void)ncols;
	f->action_ns = v[0].i;
	f->action_id = v[1].tag == V_INT ? v[1].i : 0;
	text_of(&v[2], f->action_status, sizeof(f->action_status));
	text_of(&v[3], f->action_rule, sizeof(f->action_rule));
	text_of(&v[4], f->action_action, sizeof(f->action_action));
	f->action_pid = v[5].tag == V_INT ? v[5].i : 0;
	text_of(&v[6], f->action_comm, sizeof(f->action_comm));
	text_of(&v[7], f->action_result, sizeof(f->action_result));
	return 0;
}

static bool has_table(struct store *s, const char *name)
{
	char sql[160], err[STORE_ERR_MAX];
	int64_t n = 0;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", name);
	return !store__query_int(s, sql, &n, err) && n > 0;
}

static bool has_state(struct store *s)
{
	char err[STORE_ERR_MAX];
	int64_t n = 0;

	return !store__query_int(s, "SELECT count(*) FROM pragma_table_info('collector_stats') WHERE name = 'state'", &n,
				 err) && n > 0;
}

static int read_db(struct store *s, struct db_facts *f, char *err)
{
	bool state;
	int rc;

	memset(f, 0, sizeof(*f));
	if (!has_table(s, "collector_stats"))
		return 0;
	state = f->budget_known = has_state(s);   /* a file older than the overhead budget has none */
	/* The latest row of each tracer and scraper: the last tick's, or the
	 * last one a source that stopped existing wrote. */
	if ((rc = store__query_int(s, "SELECT coalesce(max(timestamp), 0) FROM collector_stats", &f->last_tick_ns,
				   err)) ||
	    (rc = store__query(s,
			       state ? "SELECT collector, kind, enabled, reason, state FROM collector_stats c"
				       " WHERE kind IN ('tracer', 'scraper') AND timestamp ="
				       " (SELECT max(timestamp) FROM collector_stats WHERE kind IN ('tracer', 'scraper'))"
				       " ORDER BY kind DESC, rowid"
				     : "SELECT collector, kind, enabled, reason, NULL FROM collector_stats c"
			       " WHERE kind IN ('tracer', 'scraper') AND timestamp ="
			       " (SELECT max(timestamp) FROM collector_stats WHERE kind IN ('tracer', 'scraper'))"
			       " ORDER BY kind DESC, rowid",
			       &(struct store_query_cb){ NULL, on_collector, f }, err)) ||
	    (rc = store__query(s,
			       "SELECT count(*), max(timestamp), (SELECT reason FROM collector_stats WHERE kind = 'clock'"
			       " ORDER BY timestamp DESC LIMIT 1) FROM collector_stats WHERE kind = 'clock'",
			       &(struct store_query_cb){ NULL, on_step, f }, err)))
		return rc;
	if (state && (rc = store__query(s,
					"SELECT state FROM collector_stats WHERE kind = 'budget' AND timestamp ="
					" (SELECT max(timestamp) FROM collector_stats WHERE kind = 'budget')",
					&(struct store_query_cb){ NULL, on_budget, f }, err)))
		return rc;
	if (has_table(s, "anomalies") &&
	    (rc = store__query(s, "SELECT timestamp, metric, explanation FROM anomalies ORDER BY timestamp DESC LIMIT 1",
			       &(struct store_query_cb){ NULL, on_anomaly, f }, err)))
		return rc;
	if (has_table(s, "agent_actions") &&
	    (rc = store__query(s,
			       "SELECT timestamp, action_id, status, rule, action, target_pid, target_comm, result"
			       " FROM agent_actions WHERE rule IS NOT NULL ORDER BY timestamp DESC, rowid DESC LIMIT 1",
			       &(struct store_query_cb){ NULL, on_action, f }, err)))
		return rc;
	return 0;
}

/* retention.max_bytes of the configuration, when this build has that
 * setting (0: unset, which means retention's own default), else -1. */
struct cap_lookup {
	int64_t bytes;
};

static void find_cap(void *ctx, const char *key, const char *value)
{
	struct cap_lookup *c = ctx;

	if (!strcmp(key, "retention.max_bytes"))
		c->bytes = strtoll(value, NULL, 10);
}

/* ---- the report ---- */

/* "12.3 MiB", or "?" when the agent did not say (-1). */
static const char *hb(int64_t v, char *out, size_t size)
{
	if (v < 0)
		snprintf(out, size, "?");
	else
		human_bytes((double)v, out, size);
	return out;
}

/* What the agent holds against each of its memory caps (/api/health's
 * "memory"). */
static void report_memory(struct report *r, const struct health *h)
{
	char a[32], b[32], c[32], d[32];

	line(r, "memory", "RSS %s (peak %s); heap %s in use, %s free", hb(h->rss, a, sizeof(a)),
	     hb(h->peak_rss, b, sizeof(b)), hb(h->heap_used, c, sizeof(c)), hb(h->heap_free, d, sizeof(d)));
	line(r, "", "- SQLite: %s in use; page caches capped at %s over %lld connections "
	     "(agent.db_cache + http.threads x http.db_cache)", hb(h->sqlite_used, a, sizeof(a)),
	     hb(h->sqlite_cap, b, sizeof(b)), (long long)h->sqlite_connections);
	line(r, "", "- HTTP answer cache: %s of %s (http.cache_bytes)", hb(h->http_cache_used, a, sizeof(a)),
	     hb(h->http_cache_cap, b, sizeof(b)));
	if (h->has_detect)
		line(r, "", "- detector windows: %lld of %lld metrics, %s of %s (detect.max_metrics)",
		     (long long)h->metrics, (long long)h->max_metrics, hb(h->detect_used, a, sizeof(a)),
		     hb(h->detect_cap, b, sizeof(b)));
	else
		line(r, "", "- detector windows: none (detection is off)");
}

static void report_agent(struct report *r, int running, const struct agent_info *ai, const struct health *h)
{
	char t[64], a[64];

	if (running <= 0) {
		line(r, "agent", "not running%s", running < 0 ? " (its lock file cannot be read)" : "");
		if (r->json) {
			json_key(&r->j, "running");
			json_bool(&r->j, false);
		}
		return;
	}
	when(ai->started_ns, t, sizeof(t));
	ago(ai->started_ns, a, sizeof(a));
	line(r, "agent", "running, pid %d, since %s (%s), version %s", (int)ai->pid, t, a, ai->version);
	if (!ai->url[0])
		line(r, "health", "unknown: the agent serves no HTTP (--no-http)");
	else if (!strncmp(ai->url, "https://", 8))
		line(r, "health", "unknown: the agent serves HTTPS (http.tls), which ksight status does not speak: "
		     "curl %s/api/health", ai->url);
	else if (h->http_status < 0)
		line(r, "health", "unknown: %s/api/health does not answer (%s)", ai->url, strerror(-h->http_status));
	else if (h->http_status == 401)
		line(r, "health", "unknown: %s/api/health wants the token (http.token_file; run as a user who may "
		     "read it)", ai->url);
	else if (h->http_status != 200 || !h->body)
		line(r, "health", "unknown: %s/api/health answered %d", ai->url, h->http_status);
	else {
		line(r, "health", "%s (%s/api/health)%s", h->status[0] ? h->status : "?", ai->url,
		     h->nproblems ? ":" : "");
		for (int i = 0; i < h->nproblems; i++)
			line(r, "", "- %s", h->problems[i]);
		if (h->learning[0])
			line(r, "detection", "%s", h->learning);
		if (h->has_memory)
			report_memory(r, h);
	}
	if (r->json) {
		json_key(&r->j, "running");
		json_bool(&r->j, true);
		json_key(&r->j, "agent");
		json_obj_begin(&r->j);
		json_key(&r->j, "pid");
		json_int(&r->j, ai->pid);
		json_key(&r->j, "started_ns");
		json_int(&r->j, ai->started_ns);
		json_key(&r->j, "version");
		json_str(&r->j, ai->version);
		json_key(&r->j, "url");
		json_str(&r->j, ai->url[0] ? ai->url : NULL);
		json_obj_end(&r->j);
		json_key(&r->j, "health");
		if (h->body)
			json_raw(&r->j, h->body, strlen(h->body));
		else
			json_null(&r->j);
	}
}

static void report_db(struct report *r, const char *path, int64_t bytes, int64_t cap, const char *cap_from)
{
	char b[32], c[32];

	human_bytes((double)bytes, b, sizeof(b));
	if (cap > 0) {
		human_bytes((double)cap, c, sizeof(c));
		line(r, "database", "%s, %s of %s (%.0f%%, %s)", path, b, c, 100.0 * (double)bytes / (double)cap, cap_from);
	} else {
		line(r, "database", "%s, %s (%s)", path, b, cap_from);
	}
	if (r->json) {
		json_key(&r->j, "database");
		json_obj_begin(&r->j);
		json_key(&r->j, "path");
		json_str(&r->j, path);
		json_key(&r->j, "size_bytes");
		json_int(&r->j, bytes);
		json_key(&r->j, "cap_bytes");
		if (cap > 0)
			json_int(&r->j, cap);
		else
			json_null(&r->j);
		json_obj_end(&r->j);
	}
}

static void report_facts(struct report *r, const struct db_facts *f)
{
	char t[64], a[64];
	size_t on = 0;

	when(f->last_tick_ns, t, sizeof(t));
	ago(f->last_tick_ns, a, sizeof(a));
	if (f->last_tick_ns)
		line(r, "last tick", "%s (%s)", t, a);
	else
		line(r, "last tick", "none stored yet");
	for (size_t i = 0; i < f->ncollectors; i++)
		on += f->collectors[i].enabled;
	if (f->ncollectors)
		line(r, "collectors", "%zu on, %zu off (as of the last tick)", on, f->ncollectors - on);
	for (size_t i = 0; i < f->ncollectors; i++) {
		const struct collector_line *c = &f->collectors[i];

		bool shed = c->state[0] && strcmp(c->state, "full");

		line(r, "", "%-7s %-10s %s%s%s%s%s%s%s", c->kind, c->name, c->enabled ? "on" : "off",
		     c->reason[0] ? "  (" : "", c->reason, c->reason[0] ? ")" : "", shed ? "  [" : "", shed ? c->state : "",
		     shed ? "]" : "");
	}
	if (f->ncollectors && f->budget_known)
		line(r, "budget", "%s", f->budget[0] ? f->budget : "off (agent.max_overhead_pct: 0)");
	if (f->clock_steps) {
		when(f->last_step_ns, t, sizeof(t));
		line(r, "clock steps", "%lld, the last at %s: %s", (long long)f->clock_steps, t, f->last_step);
	} else {
		line(r, "clock steps", "none");
	}
	if (f->anomaly_ns) {
		when(f->anomaly_ns, t, sizeof(t));
		line(r, "last anomaly", "%s  %s: %s", t, f->anomaly_metric, f->anomaly_text);
	} else {
		line(r, "last anomaly", "none");
	}
	if (f->action_ns) {
		char target[64];

		when(f->action_ns, t, sizeof(t));
		if (f->action_pid)
			snprintf(target, sizeof(target), "pid %lld (%s)", (long long)f->action_pid, f->action_comm);
		else
			snprintf(target, sizeof(target), "the host");
		line(r, "last action", "%s  #%lld %s on %s [rule %s]: %s%s%s", t, (long long)f->action_id,
		     f->action_action, target, f->action_rule, f->action_status, f->action_result[0] ? ", " : "",
		     f->action_result);
	} else {
		line(r, "last action", "none");
	}
	if (!r->json)
		return;
	json_key(&r->j, "last_tick_ns");
	json_int(&r->j, f->last_tick_ns);
	json_key(&r->j, "collectors");
	json_arr_begin(&r->j);
	for (size_t i = 0; i < f->ncollectors; i++) {
		json_obj_begin(&r->j);
		json_key(&r->j, "name");
		json_str(&r->j, f->collectors[i].name);
		json_key(&r->j, "kind");
		json_str(&r->j, f->collectors[i].kind);
		json_key(&r->j, "enabled");
		json_bool(&r->j, f->collectors[i].enabled);
		json_key(&r->j, "reason");
		json_str(&r->j, f->collectors[i].reason[0] ? f->collectors[i].reason : NULL);
		json_key(&r->j, "state");
		json_str(&r->j, f->collectors[i].state[0] ? f->collectors[i].state : NULL);
		json_obj_end(&r->j);
	}
	json_arr_end(&r->j);
	json_key(&r->j, "budget");
	json_str(&r->j, f->budget[0] ? f->budget : NULL);
	json_key(&r->j, "clock_steps");
	json_int(&r->j, f->clock_steps);
	json_key(&r->j, "last_anomaly");
	if (f->anomaly_ns) {
		json_obj_begin(&r->j);
		json_key(&r->j, "timestamp");
		json_int(&r->j, f->anomaly_ns);
		json_key(&r->j, "metric");
		json_str(&r->j, f->anomaly_metric);
		json_key(&r->j, "explanation");
		json_str(&r->j, f->anomaly_text);
		json_obj_end(&r->j);
	} else {
		json_null(&r->j);
	}
	json_key(&r->j, "last_action");
	if (f->action_ns) {
		json_obj_begin(&r->j);
		json_key(&r->j, "timestamp");
		json_int(&r->j, f->action_ns);
		json_key(&r->j, "action_id");
		json_int(&r->j, f->action_id);
		json_key(&r->j, "status");
		json_str(&r->j, f->action_status);
		json_key(&r->j, "rule");
		json_str(&r->j, f->action_rule);
		json_key(&r->j, "action");
		json_str(&r->j, f->action_action);
		json_key(&r->j, "target_pid");
		if (f->action_pid)
			json_int(&r->j, f->action_pid);
		else
			json_null(&r->j);
		json_key(&r->j, "result");
		json_str(&r->j, f->action_result);
		json_obj_end(&r->j);
	} else {
		json_null(&r->j);
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTION_DB,
		CLI_OPTION_CONFIG,
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common common = { 0 };
	struct report r = { 0 };
	struct session s;
	struct agent_info ai = { 0 };
	struct health h = { .http_status = -ENOTCONN, .cap_bytes = -1 };
	struct db_facts *facts = NULL;
	struct cap_lookup cap = { -1 };
	char err[STORE_ERR_MAX], *token = NULL;
	const char *cap_from;
	int64_t cap_bytes = -1;
	int opt, rc, running;

	while ((opt = cli_getopt("status", argc, argv, "h", opts)) != -1) {
		if (cli_common_opt(&common, opt, optarg))
			continue;
		switch (opt) {
		case 'j': r.json = true; break;
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
	if ((rc = session__init(&s, "status", &common, SESSION_DB_ONLY)))
		goto out;

	running = agent_file__probe(s.cfg.db_path, &ai);
	if (running > 0 && ai.url[0]) {
		token = read_token(&s.cfg);
		health_fetch(ai.url, token, HEALTH_TIMEOUT_S, &h);
	}
	if (access(s.cfg.db_path, F_OK)) {
		rc = running > 0 ? EXIT_FAIL : EXIT_NOT_RUNNING;
		fprintf(stderr, "ksight status: no database at %s (%s)%s\n", s.cfg.db_path, s.db_origin,
			running > 0 ? "" : "; no agent runs on it");
		goto out;
	}
	if ((rc = session__open_store(&s, STORE_READ_ONLY)))
		goto out;
	if (!(facts = calloc(1, sizeof(*facts)))) {
		rc = cli_fail("status", "out of memory");
		goto out;
	}
	if (read_db(s.store, facts, err)) {
		rc = cli_fail("status", "cannot read %s: %s", s.cfg.db_path, err);
		goto out;
	}

	/* The cap: what the agent enforces (its health says), else the
	 * configuration's retention.max_bytes when this build has it. */
	config__each(&s.cfg, find_cap, &cap);
	if (h.cap_bytes > 0) {
		cap_bytes = h.cap_bytes;
		cap_from = "retention.max_bytes in force";
	} else if (cap.bytes > 0) {
		cap_bytes = cap.bytes;
		cap_from = "retention.max_bytes";
	} else if (cap.bytes == 0) {
		cap_from = "cap: retention's default, 2 GiB or 10% of the filesystem";
	} else {
		cap_from = "no cap: this build keeps every row";
	}

	if (r.json) {
		json_init(&r.j, &r.out);
		json_obj_begin(&r.j);
	}
	report_agent(&r, running, &ai, &h);
	report_db(&r, store__path(s.store), store__file_bytes(s.cfg.db_path), cap_bytes, cap_from);
	report_facts(&r, facts);
	if (r.json) {
		json_obj_end(&r.j);
		fwrite(r.out.data, 1, r.out.len, stdout);
		putchar('\n');
	}
	rc = running > 0 ? EXIT_OK : EXIT_NOT_RUNNING;
out:
	free(h.body);
	free(token);
	free(facts);
	buf_free(&r.out);
	session__close(&s);
	return rc;
}
