/* ksight agent: run every collector into the database until stopped. */
#include <errno.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <signal.h>
#include <malloc.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/caps.h"
#include "../remediate/engine.h"
#include "../remediate/policy.h"
#include "../collect/collector.h"
#include "../analysis/baseline_db.h"
#include "../config/config.h"
#include "../detect/watch.h"
#include "../http/server.h"
#include "../http/snapshot.h"
#include "../lib/clock.h"
#include "../lib/notify.h"
#include "../lib/log.h"
#include "../lib/parse.h"
#include "../scrape/cgroup.h"
#include "../store/store.h"
#include "../store/writer.h"
#include "agent_file.h"
#include "cmd.h"
#include "session.h"

static void usage(void)
{
	printf("usage: ksight agent [--db PATH] [--duration TIME] [--config FILE] [--interval TIME]\n"
	       "                    [--policy FILE] [--mode observe|recommend|act]\n"
	       "                    [--listen ADDR:PORT] [--token-file FILE] [--no-http]\n"
	       "                    [--ready-fd N]\n"
	       "\n"
	       "Collects kernel telemetry (eBPF tracers and /proc scrapers) into a SQLite\n"
	       "database, one transaction per tick, until Ctrl-C, SIGTERM or --duration.\n"
	       "Needs root (or CAP_BPF + CAP_PERFMON) for the tracers; without them only the\n"
	       "scrapers run.  Every tick it also judges every metric (anomalies table, with\n"
	       "explanations) and learns baselines, saved and reloaded across restarts\n"
	       "(detect.* settings; docs/detection.md).  It serves a live dashboard (/), a\n"
	       "JSON API (/api/...) and Prometheus metrics (/metrics) on\n"
	       "http://127.0.0.1:7777/ unless --no-http.  Its remediation agent explains what\n"
	       "it finds and, per the policy's rules and mode, recommends or acts\n"
	       "(agent_actions table, `ksight actions`).\n"
	       "\n"
	       "SIGHUP reloads the configuration and the policy (an invalid file keeps the\n"
	       "ones in use, and the error names its line); SIGINT and SIGTERM stop it after\n"
	       "storing the tick under way.  Under systemd (Type=notify) it says READY=1 once\n"
	       "the tracers are loaded and the first tick is stored, and pings the watchdog\n"
	       "from its tick loop.  `ksight status` tells whether it runs.\n"
	       "\n"
	       CLI_HELP_DB_ORDER
	       "\n"
	       "Options:\n"
	       CLI_HELP_DB
	       "  --duration TIME   stop after TIME (e.g. 30, 30s, 5m; default: run until stopped)\n"
	       CLI_HELP_CONFIG
	       "                    (every key: --help-config, config/ksight.example.yaml)\n"
	       "  --interval TIME   tick length (default 1s)\n"
	       "  --policy FILE     remediation policy (YAML; see config/policy.example.yaml)\n"
	       "  --mode MODE       remediation mode: observe (default: explain and record),\n"
	       "                    recommend (also say what it would do), act (do it)\n"
	       "  --listen ADDR:PORT  serve HTTP there (default 127.0.0.1:7777; port 0 picks one);\n"
	       "                    an address other than loopback needs --token-file\n"
	       "  --token-file FILE every request must carry the token in FILE (Authorization:\n"
	       "                    Bearer TOKEN, or as the password of HTTP Basic in a browser)\n"
	       "  --no-http         no HTTP server\n"
	       "  --ready-fd N      write \"ready\" and a newline to file descriptor N (then\n"
	       "                    close it) once the tracers are loaded and the first tick\n"
	       "                    is stored: scripts and tests wait on it, not on a sleep\n"
	       "  --help-config     list every configuration key with its default\n"
	       "  -h, --help        this help\n"
	       "\n"
	       "Examples:\n"
	       "  sudo ksight agent\n"
	       "  sudo ksight agent --db /var/lib/ksight/host.db --duration 10m\n"
	       "  sudo ksight agent --config config/ksight.example.yaml\n"
	       "  sudo ksight agent --policy config/policy.example.yaml --mode recommend\n"
	       "  sudo ksight agent --listen 0.0.0.0:7777 --token-file /etc/ksight/token\n"
	       "  curl -s http://127.0.0.1:7777/api/health\n"
	       "  ksight query 'select event, count(*) from process_events group by event'\n");
}

/* The agent's pieces around its session, released by agent_free(). */
struct agent {
	struct session s;
	struct policy *policy;             /* in force (the engine's) */
	enum agent_mode mode;
	struct http_server *http;          /* NULL with --no-http */
	struct snapshots *snapshots;       /* NULL without HTTP */
	struct engine *engine;             /* remediation */
	struct watch *watch;               /* NULL when detect.enabled is false */
	/* what on_tick told the user about the database, to say only changes */
	bool failing;
	uint64_t dropped;
	uint64_t watch_drops;
	/* lifecycle */
	const struct agent_flags *flags;   /* re-applied over the file at each reload */
	struct agent_file *file;           /* <db>.agent, locked while we run */
	struct policy *retired[8];         /* replaced by a reload, still used by actions in progress */
	size_t nretired;
	uint64_t ticks;                    /* ticks handed to the writer */
	uint64_t clock_steps;              /* wall-clock steps passed on to the detectors */
	int ready_fd;                      /* --ready-fd, -1 once told (or never asked) */
	bool ready;
	int64_t watchdog_ns;               /* $WATCHDOG_USEC, 0: no watchdog */
	int64_t watchdog_last;             /* CLOCK_MONOTONIC of the last ping */
	int64_t status_last;               /* ... of the last STATUS= line */
};

/* The flags, before the configuration is read. */
struct agent_flags {
	struct cli_common common;
	const char *listen, *token_file, *policy, *mode;
	int64_t interval_ns;               /* 0: the configuration's */
	int64_t duration_ns;               /* 0: until stopped */
	int ready_fd;                      /* --ready-fd, -1: none */
	bool no_http;
};

static void print_sources(struct collector *c)
{
	for (int i = 0; i < TRACER_COUNT; i++) {
		struct tracer *t = collector__tracer(c, i);

		if (t->enabled)
			log_info("  tracer  %-10s on   %s", t->ops->name, t->ops->summary);
		else if (t->state == SOURCE_OFF_CONFIG)
			log_info("  tracer  %-10s off  (%s)", t->ops->name, source_state_name(t->state));
		else
			log_warn("tracer %s disabled: %s", t->ops->name, t->reason);
	}
	for (int i = 0; i < SCRAPER_COUNT; i++) {
		struct scraper *s = collector__scraper(c, i);

		if (s->enabled)
			log_info("  scraper %-10s on   %s", s->ops->name, s->ops->summary);
		else if (s->state == SOURCE_OFF_CONFIG)
			log_info("  scraper %-10s off  (%s)", s->ops->name, source_state_name(s->state));
		else
			log_warn("scraper %s disabled: %s", s->ops->name, s->reason);
	}
}

/* True when no configured tracer started and we lack root: the usual
 * reason, worth one hint (a verifier rejection also says EACCES, so the
 * errno alone does not tell). */
static bool tracers_need_root(struct collector *c)
{
	int wanted = 0, running = 0;

	for (int i = 0; i < TRACER_COUNT; i++) {
		struct tracer *t = collector__tracer(c, i);

		wanted += t->state != SOURCE_OFF_CONFIG;
		running += t->enabled;
	}
	return geteuid() != 0 && wanted > 0 && running == 0;
}

/* One collector_stats row for the detectors: samples judged and the time
 * it took this tick (detection runs in the event loop, so it is measured
 * like a tracer's collect). */
static void watch_stats_row(struct agent *a, struct batch *b, int64_t now_ns, double cost_ms)
{
	struct watch_stats st;
	uint64_t drops;

	watch__stats(a->watch, &st);
	drops = st.metrics_dropped + st.labels_dropped + st.held_dropped;
	batch__collector_stats(b, &(struct collector_stats_row){
		.timestamp = now_ns, .collector = "detect", .kind = "detector", .enabled = true,
		.events = st.tick_samples, .drops = drops - a->watch_drops,
		.events_total = st.samples, .drops_total = drops, .cost_ms = cost_ms });
	a->watch_drops = drops;
}

/* The detectors' learning progress, for /api/health and /metrics. */
static void publish_learning(struct agent *a)
{
	struct watch_learning w;

	if (!a->watch)
		return;
	watch__learning(a->watch, &w);
	snapshots__set_learning(a->snapshots, &(struct snapshot_learning){
		.enabled = true, .samples = w.samples, .needed = w.needed, .metrics_learning = w.metrics_learning,
		.metrics_ready = w.metrics_ready, .metrics_seeded = w.metrics_seeded,
		.seeded_from_ns = w.seeded_from_ns, .metric_bytes = watch_metric_bytes() });
}

/* Every tick: judge the batch, publish it to HTTP, tell the user when the
 * database starts refusing writes and when it recovers (rows wait in
 * memory meanwhile, see writer.h), and let remediation look. */
/* Steps of the wall clock the collector saw (it logged them): the
 * detectors and the remediation engine keep measuring durations across. */
static void follow_clock(struct agent *a, struct collector *c)
{
	const struct clock_steps *cs = collector__clock_steps(c);

	if (cs->steps == a->clock_steps)
		return;
	a->clock_steps = cs->steps;
	if (a->watch)
		watch__clock_step(a->watch, cs->last_step_ns);
	if (a->engine)
		engine__clock_step(a->engine, cs->last_step_ns);
}

/* Once: the tracers are loaded and this first tick is stored (committed
 * now rather than at the end of the tick), so whoever waits for the agent
 * finds data.  Then systemd's READY=1 and the --ready-fd line. */
static void say_ready(struct agent *a, struct collector *c)
{
	int rc;

	collector__commit(c, 10 * NSEC_PER_SEC, &rc);
	if (rc && rc != -ENOTCONN)
		log_warn("the first tick is not stored yet (%s); saying ready all the same", strerror(-rc));
	a->ready = true;
	notify__sendf("READY=1\nSTATUS=collecting into %s", a->s.cfg.db_path);
	if (a->ready_fd >= 0) {
		if (write(a->ready_fd, "ready\n", 6) != 6)
			log_warn("--ready-fd %d: %s", a->ready_fd, strerror(errno));
		close(a->ready_fd);
		a->ready_fd = -1;
	}
	log_info("ready: tracers loaded, first tick stored");
}

/* systemd's watchdog, from the loop that must keep running: a stuck tick
 * (a hung scrape, a deadlock) stops the pings and systemd restarts us. */
static void keep_alive(struct agent *a)
{
	int64_t mono = clock_mono_ns();

	if (a->watchdog_ns && mono - a->watchdog_last >= a->watchdog_ns / 2) {
		notify__send("WATCHDOG=1");
		a->watchdog_last = mono;
	}
	if (mono - a->status_last >= 60 * NSEC_PER_SEC) {
		struct writer_stats ws;

		writer__stats(a->s.writer, &ws);
		notify__sendf("STATUS=%llu ticks, %llu rows stored, %llu lost", (unsigned long long)a->ticks,
			      (unsigned long long)ws.rows_written, (unsigned long long)ws.rows_dropped);
		a->status_last = mono;
	}
}

#define TRIM_TICKS 30
/* Allocations above this are mmapped and given back when freed (glibc's
 * initial default, kept fixed: see main). */
#define MMAP_THRESHOLD (128 << 10)

static void on_tick(void *ctx, struct collector *c, struct batch *b, int64_t now_ns)
{
	struct agent *a = ctx;
	struct writer_stats ws;

	follow_clock(a, c);
	if (a->watch) {
		int64_t t0 = clock_mono_ns();

		watch__tick(a->watch, b, b, now_ns);
		watch_stats_row(a, b, now_ns, (double)(clock_mono_ns() - t0) / 1e6);
	}
	if (a->snapshots) {
		publish_learning(a);
		snapshots__publish(a->snapshots, c, b, now_ns);
	}
	writer__stats(a->s.writer, &ws);
	if (ws.last_error && !a->failing)
		log_error("cannot write to the database: %s; keeping rows in memory and retrying every second",
			  ws.last_error_msg);
	else if (!ws.last_error && a->failing)
		log_info("database writes resumed; rows held meanwhile are stored");
	if (ws.rows_dropped > a->dropped)
		log_error("%llu rows dropped: the database kept refusing writes and memory is capped by "
			  "agent.queue_bytes", (unsigned long long)(ws.rows_dropped - a->dropped));
	a->failing = ws.last_error != 0;
	a->dropped = ws.rows_dropped;
	if (a->engine)
		engine__tick(a->engine, c, b, now_ns);
	a->ticks++;
	/* Heap freed since (a busy tick's batches, the retention pass, an
	 * HTTP answer) stays in the process until trimmed: give back what is
	 * free at the top and in whole free pages, every TRIM_TICKS ticks. */
	if (a->ticks % TRIM_TICKS == 0)
		malloc_trim(0);
	if (!a->ready)
		say_ready(a, c);
	keep_alive(a);
}

static void remediation_say(void *ctx, enum engine_say level, const char *line)
{
	(void)ctx;
	if (level == ENGINE_SAY_WARN)
		log_warn("remediation %s", line);
	else
		log_info("remediation %s", line);
}

static void remediation_status(void *ctx, struct json *j)
{
	engine__status_json(ctx, j);
}

static int load_baseline(void *ctx, const struct baseline_row *row)
{
	int rc = watch__set_baseline(ctx, row->metric, row->unit, &row->bl);

	return rc == -E2BIG ? 0 : rc;  /* past the metric cap: not loaded, not fatal */
}

/* The flags over the configuration read from the file (at start and at
 * each reload). */
static void apply_flags(const struct agent_flags *f, struct config *cfg)
{
	if (f->policy)
		config__set_str(&cfg->policy_path, f->policy);
	if (f->mode)
		config__set_str(&cfg->agent_mode, f->mode);
	if (f->interval_ns)
		cfg->interval_ns = f->interval_ns;
	if (f->listen)
		config__set_str(&cfg->http_listen, f->listen);
	if (f->token_file)
		config__set_str(&cfg->http_token_file, f->token_file);
	if (f->no_http)
		cfg->http_enabled = false;
	if (f->common.db)
		config__set_str(&cfg->db_path, f->common.db);
}

/* The policy cfg names (the built-in one when none) and the mode: the
 * configuration's remediation.mode, else the policy's.  On error returns
 * a negative errno with "file:line: what" in err; *ret is the caller's to
 * free with policy_free() either way. */
static int load_policy(const struct config *cfg, struct policy **ret, enum agent_mode *ret_mode, char *err)
{
	struct policy *p = calloc(1, sizeof(*p));
	int rc;

	*ret = p;
	if (!p)
		return -ENOMEM;
	policy__defaults(p);
	if (cfg->policy_path[0] && (rc = policy__load(p, cfg->policy_path, err)))
		return rc;
	*ret_mode = p->mode;
	if (cfg->agent_mode[0] && mode_parse(cfg->agent_mode, ret_mode)) {
		snprintf(err, CONFIG_ERR_MAX, "remediation.mode '%s' is not observe, recommend or act",
			 cfg->agent_mode);
		return -EINVAL;
	}
	return 0;
}

static struct policy *policy_free(struct policy *p)
{
	if (p) {
		policy__free(p);
		free(p);
	}
	return NULL;
}

/* The configuration file, then the flags over it, then the policy. */
static int configure(struct agent *a, const struct agent_flags *f)
{
	char err[CONFIG_ERR_MAX];
	int rc;

	if ((rc = session__init(&a->s, "agent", &f->common, SESSION_SETTINGS)))
		return rc;
	apply_flags(f, &a->s.cfg);
	if ((rc = load_policy(&a->s.cfg, &a->policy, &a->mode, err))) {
		fprintf(stderr, "ksight agent: bad %s: %s\n", rc == -EINVAL && !strncmp(err, "remediation.mode", 16) ?
			"configuration" : "policy", err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

struct setting {
	char *key, *value;
};

struct settings {
	struct setting *v;
	size_t n, cap;
};

static void setting_add(void *ctx, const char *key, const char *value)
{
	struct settings *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct setting *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].key = strdup(key);
	l->v[l->n].value = strdup(value);
	l->n++;
}

static void settings_free(struct settings *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
}

/* Says which settings changed that only a restart applies (everything but
 * remediation.*, http.tls.* and agent.max_overhead_pct: the collectors, the store and the HTTP server were set
 * up from them), and takes the new remediation values into the running
 * configuration. */
static void settings_changed(struct agent *a, const struct config *fresh)
{
	struct settings old = { 0 }, now = { 0 };
	int later = 0;

	config__each(&a->s.cfg, setting_add, &old);
	config__each(fresh, setting_add, &now);
	for (size_t i = 0; i < old.n && i < now.n; i++) {
		if (!old.v[i].key || !now.v[i].key || !strcmp(old.v[i].value ? old.v[i].value : "",
								 now.v[i].value ? now.v[i].value : ""))
			continue;
		if (!strncmp(now.v[i].key, "remediation.", 12) || !strncmp(now.v[i].key, "http.tls.", 9) ||
		    !strcmp(now.v[i].key, "agent.max_overhead_pct"))
			continue;
		log_warn("reload: %s changed from '%s' to '%s': that takes a restart (systemctl restart ksight)",
			 now.v[i].key, old.v[i].value, now.v[i].value);
		later++;
	}
	settings_free(&old);
	settings_free(&now);
	config__set_str(&a->s.cfg.policy_path, fresh->policy_path);
	config__set_str(&a->s.cfg.agent_mode, fresh->agent_mode);
	config__set_str(&a->s.cfg.http_tls_cert, fresh->http_tls_cert);
	config__set_str(&a->s.cfg.http_tls_key, fresh->http_tls_key);
	config__set_str(&a->s.cfg.http_tls_client_ca, fresh->http_tls_client_ca);
	/* The collector reads it at its next tick (collect/budget.h). */
	a->s.cfg.max_overhead_pct = fresh->max_overhead_pct;
	(void)later;
}

/* Frees the policies a reload replaced once no action in progress uses
 * them; with force, all of them (at exit). */
static void retire_policies(struct agent *a, bool force)
{
	size_t kept = 0;

	for (size_t i = 0; i < a->nretired; i++) {
		if (!force && a->engine && engine__uses_policy(a->engine, a->retired[i]))
			a->retired[kept++] = a->retired[i];
		else
			policy_free(a->retired[i]);
	}
	a->nretired = kept;
}

/* SIGHUP: the configuration file and the policy are read again.  The
 * policy and the remediation mode take effect at once; other settings
 * changed are named as needing a restart.  Any error (with its file and
 * line) keeps everything in use.  Runs between two ticks in the loop's
 * thread, so no row waits or is lost. */
static void reload(struct agent *a)
{
	struct config fresh;
	struct policy *pol = NULL;
	enum agent_mode mode = MODE_OBSERVE;
	char err[CONFIG_ERR_MAX];
	const char *path = a->s.cfg.path;
	int rc;

	notify__sendf("RELOADING=1\nMONOTONIC_USEC=%lld", (long long)(clock_mono_ns() / 1000));
	log_info("SIGHUP: reloading %s%s", path ? path : "(no configuration file)",
		 a->s.cfg.policy_path[0] ? " and the policy" : "");
	config__defaults(&fresh);
	if (path && (rc = config__load(&fresh, path, err))) {
		log_error("reload failed: %s; the configuration and policy in use stay", err);
		goto out;
	}
	apply_flags(a->flags, &fresh);
	if ((rc = load_policy(&fresh, &pol, &mode, err))) {
		log_error("reload failed: %s; the configuration and policy in use stay", err);
		goto out;
	}
	if (a->engine && (rc = engine__set_policy(a->engine, pol, mode, err, sizeof(err)))) {
		log_error("reload failed: %s; the configuration and policy in use stay", err);
		goto out;
	}
	settings_changed(a, &fresh);
	retire_policies(a, false);
	if (a->nretired == sizeof(a->retired) / sizeof(a->retired[0]))
		retire_policies(a, true);   /* not reached with fewer than 8 actions in progress */
	a->retired[a->nretired++] = a->policy;
	a->policy = pol;
	a->mode = mode;
	pol = NULL;
	log_info("reloaded: remediation mode %s, %zu rule(s)%s%s", mode_name(a->mode), a->policy->nrules,
		 a->policy->path ? " from " : "", a->policy->path ? a->policy->path : "");
	if (a->http) {
		char herr[HTTP_ERR_MAX];

		/* Certificates rotate: the new files, or the old ones when they fail. */
		if (http_server__reload_tls(a->http, &fresh, herr))
			log_error("reload failed: %s; the TLS certificate and key in use stay", herr);
		else if (http_server__tls(a->http))
			log_info("reloaded the TLS certificate %s", fresh.http_tls_cert);
	}
out:
	policy_free(pol);
	config__free(&fresh);
	notify__sendf("READY=1\nSTATUS=collecting into %s", a->s.cfg.db_path);
}

/* SIGHUP reloads; SIGINT and SIGTERM stop after a last tick (the collector
 * runs it), so the interval under way is stored too. */
static bool on_signal(void *ctx, struct collector *c, int signo)
{
	struct agent *a = ctx;

	(void)c;
	if (signo == SIGHUP) {
		reload(a);
		return false;
	}
	if (signo != SIGINT && signo != SIGTERM)
		return false;
	log_info("%s: stopping after this tick", signo == SIGINT ? "SIGINT" : "SIGTERM");
	notify__send("STOPPING=1");
	return true;
}

/* Takes the database's agent file (agent_file.h): one agent per database,
 * and `ksight status` finds it. */
static int claim(struct agent *a)
{
	struct agent_info other = { 0 };
	int e;

	if (!strcmp(a->s.cfg.db_path, ":memory:"))
		return EXIT_OK;
	e = agent_file__claim(a->s.cfg.db_path, clock_real_ns(), &a->file, &other);
	if (e == -EBUSY)
		return cli_fail("agent", "another agent (pid %d) is already collecting into %s; stop it first, or "
				"give this one another --db", (int)other.pid, a->s.cfg.db_path);
	if (e)
		return cli_fail("agent", "cannot create %s" AGENT_FILE_SUFFIX " (%s): it tells `ksight status` that "
				"an agent runs", a->s.cfg.db_path, strerror(-e));
	return EXIT_OK;
}

/* Binds the HTTP address, before anything else is created: a bad address or
 * a missing token is the user's to fix. */
static int open_http(struct agent *a, bool listen_given)
{
	const struct config *cfg = &a->s.cfg;
	char err[HTTP_ERR_MAX];
	int e;

	if (!cfg->http_enabled || !(e = http_server__open(cfg, &a->http, err)))
		return EXIT_OK;
	/* The default port taken (another agent, say) costs the dashboard,
	 * not the collection; an address the user chose is a promise. */
	if (e != -EINVAL && !listen_given && !strcmp(cfg->http_listen, HTTP_DEFAULT_LISTEN)) {
		log_warn("%s; the agent runs without HTTP", err);
		return EXIT_OK;
	}
	fprintf(stderr, "ksight agent: %s\n", err);
	return e == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
}

/* agent.db_cache: the writing connection's SQLite page cache. */
static int cap_store_cache(struct agent *a)
{
	int rc = store__set_cache_bytes(a->s.store, a->s.cfg.db_cache_bytes);

	return rc ? cli_fail("agent", "cannot set agent.db_cache: %s", strerror(-rc)) : EXIT_OK;
}

/* The detectors, started from the baselines saved in the database. */
static int start_watch(struct agent *a)
{
	const struct config *cfg = &a->s.cfg;
	struct watch_params p;
	struct watch_stats st;
	char err[STORE_ERR_MAX];
	time_t now = time(NULL);
	struct tm tm;

	watch_params_default(&p);
	p.anomaly.period_ns = cfg->detect_period_ns;
	p.anomaly.probation = (uint32_t)cfg->detect_probation;
	p.window_ns = cfg->detect_window_ns;
	p.save_every_ns = cfg->detect_save_every_ns;
	p.half_life_s = (double)cfg->detect_half_life_ns / 1e9;
	p.syscall_slow_ns = (int64_t)cfg->syscall_slow_ns;
	p.max_metrics = (uint32_t)cfg->detect_max_metrics;
	p.utc_offset_s = localtime_r(&now, &tm) ? (int32_t)tm.tm_gmtoff : 0;
	if (!(a->watch = watch__new(&p)))
		return cli_fail("agent", "cannot start the detectors: %s", strerror(errno));
	if (baseline_db__latest(a->s.store, load_baseline, a->watch, err)) {
		log_warn("cannot load the saved baselines (%s); learning from scratch", err);
		watch__free(a->watch);
		if (!(a->watch = watch__new(&p)))
			return cli_fail("agent", "cannot start the detectors: %s", strerror(errno));
	}
	watch__stats(a->watch, &st);
	if (st.metrics)
		log_info("detection on: %u metric baselines loaded from the database", st.metrics);
	else
		log_info("detection on: no saved baselines yet, learning them as data comes");
	return EXIT_OK;
}

/* What runs and where the data goes. */
static void announce(struct agent *a)
{
	const struct config *cfg = &a->s.cfg;
	char abs[PATH_MAX];

	log_info("collecting into %s every %gs (Ctrl-C stops)", realpath(cfg->db_path, abs) ? abs : cfg->db_path,
		 (double)cfg->interval_ns / 1e9);
	print_sources(a->s.col);
	if (tracers_need_root(a->s.col))
		log_warn("no tracer could load: run as root (or with CAP_BPF and CAP_PERFMON)");
	log_info("look at the data with: %s query --db %s \"select event, count(*) from process_events group by event\"",
		 program_invocation_name, cfg->db_path);
}

/* The capabilities the mode needs from here on (lib/caps.h): BPF is
 * loaded and attached, the port bound, the files open. */
static int drop_capabilities(struct agent *a)
{
	uint64_t keep = CAPS_BIT(CAP_DAC_READ_SEARCH) | CAPS_BIT(CAP_SYS_PTRACE);
	char err[160], names[160];

	for (size_t i = 0; a->mode == MODE_ACT && i < a->policy->nrules; i++) {
		enum action_kind k = a->policy->rules[i].action;

		if (k == ACTION_TERMINATE)
			keep |= CAPS_BIT(CAP_KILL);
		else if (k == ACTION_RENICE || k == ACTION_IONICE)
			keep |= CAPS_BIT(CAP_SYS_NICE);
	}
	if (caps__keep_only(keep, err, sizeof(err)))
		return cli_fail("agent", "cannot drop capabilities: %s", err);
	caps__names(caps__effective(), names, sizeof(names));
	log_info("capabilities kept for mode %s: %s", mode_name(a->mode), names);
	return EXIT_OK;
}

static int start_remediation(struct agent *a)
{
	const struct cgroup_resolver *cg = collector__cgroups(a->s.col);
	struct engine_env env = { a->s.cfg.root, cg ? cgroup_resolver__v2_mount(cg) : "",
				  cg ? cgroup_resolver__memcg_mount(cg) : "",
				  cg ? cgroup_resolver__cpucg_mount(cg) : "", remediation_say, NULL };
	char err[CONFIG_ERR_MAX];

	struct engine_restored got;
	char serr[STORE_ERR_MAX];

	if (engine__new(a->policy, a->mode, &env, &a->engine, err, sizeof(err)))
		return cli_fail("agent", "cannot start the remediation agent: %s", err);
	log_info("remediation: mode %s, %zu rule(s)%s%s", mode_name(a->mode), a->policy->nrules,
		 a->policy->path ? " from " : "", a->policy->path ? a->policy->path : "");
	/* A restart carries on where the last agent on this database stopped. */
	if (engine__restore(a->engine, a->s.store, clock_real_ns(), &got, serr))
		log_warn("cannot read what the last agent decided (%s): cooldowns and the hourly budget start afresh",
			 serr);
	else if (got.cooldowns || got.budget_used || got.suspects)
		log_info("remediation carries on: %zu cooldown(s) still running, %zu action(s) in the last hour, "
			 "%zu leak suspect(s) still alive", got.cooldowns, got.budget_used, got.suspects);
	return EXIT_OK;
}

/* Serves what the ticks publish; the first snapshot (no tick yet) lets
 * requests start now. */
static int start_http(struct agent *a)
{
	char err[HTTP_ERR_MAX];
	int e;

	if (!a->http)
		return EXIT_OK;
	if ((e = snapshots__new(&a->s.cfg, a->s.writer, &a->snapshots)))
		return cli_fail("agent", "cannot start the HTTP server: %s", strerror(-e));
	snapshots__set_remediation(a->snapshots, remediation_status, a->engine);
	publish_learning(a);
	snapshots__publish(a->snapshots, a->s.col, NULL, clock_real_ns());
	if (http_server__start(a->http, a->snapshots, err))
		return cli_fail("agent", "%s", err);
	/* The one place the agent's own token is shown: whoever reads the log
	 * (root, the journal's readers) may open the dashboard. */
	if (http_server__own_token(a->http))
		log_info("dashboard on %s://%s/?token=%s (API: /api/health, Prometheus: /metrics; the token, also in "
			 "%s, opens per-process data)", http_server__tls(a->http) ? "https" : "http",
			 http_server__address(a->http), http_server__own_token(a->http),
			 http_server__token_path(a->http)[0] ? http_server__token_path(a->http) : "memory only");
	else
		log_info("dashboard on %s://%s/ (API: /api/health, Prometheus: /metrics)",
			 http_server__tls(a->http) ? "https" : "http", http_server__address(a->http));
	if (a->file) {
		char url[160];

		snprintf(url, sizeof(url), "%s://%s", http_server__tls(a->http) ? "https" : "http",
			 http_server__address(a->http));
		agent_file__set_url(a->file, url);
	}
	return EXIT_OK;
}

/* After the loop: what the detectors still hold, then every queued row.
 * EXIT_FAIL when a row was lost or the last write failed. */
static int finish(struct agent *a)
{
	struct writer_stats ws;

	if (a->watch) {
		/* Anomalies still inside their correlation window, and what was
		 * learnt, so the next start resumes from it. */
		struct batch *last = writer__submit(a->s.writer, NULL), *spare;

		watch__finish(a->watch, clock_real_ns(), last);
		spare = writer__submit(a->s.writer, last);
		batch__free(spare);
		free(spare);
	}
	a->http = http_server__stop(a->http);
	session__stop_writer(&a->s, 10 * NSEC_PER_SEC, &ws);
	log_info("stopped after %.1fs: %llu ticks, %llu rows stored, %llu lost%s%s",
		 (double)(clock_mono_ns() - a->s.started_ns) / 1e9, (unsigned long long)a->ticks,
		 (unsigned long long)ws.rows_written,
		 (unsigned long long)ws.rows_dropped, ws.last_error ? "; last write error: " : "",
		 ws.last_error ? ws.last_error_msg : "");
	return ws.rows_dropped || ws.last_error ? EXIT_FAIL : EXIT_OK;
}

static void agent_free(struct agent *a)
{
	http_server__stop(a->http);
	snapshots__free(a->snapshots);
	engine__free(a->engine);
	watch__free(a->watch);
	retire_policies(a, true);
	policy_free(a->policy);
	agent_file__release(a->file);
	if (a->ready_fd >= 0)
		close(a->ready_fd);
	session__close(&a->s);
}

int cmd_agent(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTION_DB,
		CLI_OPTION_CONFIG,
		{ "duration", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "policy", required_argument, NULL, 'P' },
		{ "mode", required_argument, NULL, 'M' },
		{ "help-config", no_argument, NULL, 'K' },
		{ "listen", required_argument, NULL, 'l' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "no-http", no_argument, NULL, 'N' },
		{ "ready-fd", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_flags f = { .ready_fd = -1 };
	struct agent a = { .ready_fd = -1, .flags = &f };
	enum agent_mode mode;
	uint64_t u;
	int opt, rc, run_rc;

	while ((opt = cli_getopt("agent", argc, argv, "h", opts)) != -1) {
		if (cli_common_opt(&f.common, opt, optarg))
			continue;
		switch (opt) {
		case 'i':
			if (parse_duration_ns(optarg, &f.interval_ns) || f.interval_ns < 100 * NSEC_PER_MSEC)
				return cli_usage_error("agent", "--interval: '%s' is not a duration of at least 100ms",
						       optarg);
			break;
		case 'P': f.policy = optarg; break;
		case 'M':
			if (mode_parse(optarg, &mode))
				return cli_usage_error("agent", "--mode: '%s' is not observe, recommend or act", optarg);
			f.mode = optarg;
			break;
		case 'l': f.listen = optarg; break;
		case 'T': f.token_file = optarg; break;
		case 'N': f.no_http = true; break;
		case 'R':
			if (parse_u64(optarg, &u) || u > INT_MAX || fcntl((int)u, F_GETFD) < 0)
				return cli_usage_error("agent", "--ready-fd: '%s' is not an open file descriptor", optarg);
			f.ready_fd = (int)u;
			break;
		case 't':
			if (parse_duration_ns(optarg, &f.duration_ns) || f.duration_ns <= 0)
				return cli_usage_error("agent", "--duration: '%s' is not a duration (e.g. 30, 30s, 5m)",
						       optarg);
			break;
		case 'K': config__print_keys(); return EXIT_OK;
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("agent", "unexpected argument '%s'", argv[optind]);

	/* Everything the agent creates (database, its -wal and -shm, the
	 * token) is for root and its group only: the rows hold every argv. */
	umask(027);
	/* Two malloc arenas, not glibc's 8 per core: the threads (writer,
	 * HTTP, remediation) allocate little, and every arena keeps its own
	 * free memory. */
	mallopt(M_ARENA_MAX, 2);
	/* Fixed thresholds, not glibc's sliding ones: every mmapped chunk
	 * freed (the kernel's BTF at load, a burst's batch) raises the mmap
	 * threshold to its size and the trim threshold to twice that, after
	 * which the writer's arena keeps a burst's megabytes for the agent's
	 * life (a 90 s fork storm left RSS +2.7 MiB; +0.2 MiB with these). */
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD);
	if (f.ready_fd >= 0) {
		/* Ours alone: not inherited by what the agent runs. */
		fcntl(f.ready_fd, F_SETFD, FD_CLOEXEC);
		a.ready_fd = f.ready_fd;
	}
	if ((rc = configure(&a, &f)) || (rc = open_http(&a, f.listen != NULL)) ||
	    (rc = session__open_store(&a.s, STORE_READ_WRITE)) || (rc = cap_store_cache(&a)) || (rc = claim(&a)) || (rc = session__start_retention(&a.s)) ||
	    (a.s.cfg.detect_enabled && (rc = start_watch(&a))) || (rc = session__start_collector(&a.s, NULL)))
		goto out;
	announce(&a);
	/* Before any thread starts: capabilities are per thread. */
	if ((rc = drop_capabilities(&a)) || (rc = start_remediation(&a)) || (rc = session__start_writer(&a.s)) || (rc = start_http(&a)))
		goto out;
	/* Loading the tracers parsed the kernel's BTF (~20 MB, freed since):
	 * give the freed heap back rather than carry it for the agent's life. */
	malloc_trim(0);
	if ((a.watchdog_ns = notify__watchdog_ns()) && a.watchdog_ns / 2 <= a.s.cfg.interval_ns)
		log_warn("the watchdog period (%gs) is not more than twice agent.interval (%gs): systemd may "
			 "restart a healthy agent; raise WatchdogSec=", (double)a.watchdog_ns / 1e9,
			 (double)a.s.cfg.interval_ns / 1e9);
	run_rc = session__run(&a.s, f.duration_ns, &(struct collector_hooks){ .on_tick = on_tick,
			      .on_signal = on_signal, .ctx = &a });
	rc = finish(&a);
	if (run_rc)
		rc = run_rc;
out:
	agent_free(&a);
	return rc;
}
