/* ksight agent: run every collector into the database until stopped. */
#include <errno.h>
#include <malloc.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../remediate/engine.h"
#include "../remediate/policy.h"
#include "../collect/collector.h"
#include "../analysis/baseline_db.h"
#include "../config/config.h"
#include "../detect/watch.h"
#include "../http/server.h"
#include "../http/snapshot.h"
#include "../lib/clock.h"
#include "../lib/log.h"
#include "../lib/parse.h"
#include "../scrape/cgroup.h"
#include "../store/store.h"
#include "../store/writer.h"
#include "cmd.h"

static void usage(void)
{
	printf("usage: ksight agent [--db PATH] [--duration TIME] [--config FILE] [--interval TIME]\n"
	       "                    [--policy FILE] [--mode observe|recommend|act]\n"
	       "                    [--listen ADDR:PORT] [--token-file FILE] [--no-http]\n"
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
	       "Options:\n"
	       "  --db PATH         database file (default: kernelsight.db in this directory)\n"
	       "  --duration TIME   stop after TIME (e.g. 30, 30s, 5m; default: run until stopped)\n"
	       "  --config FILE     YAML configuration (see config/ksight.example.yaml)\n"
	       "  --interval TIME   tick length (default 1s)\n"
	       "  --policy FILE     remediation policy (YAML; see config/policy.example.yaml)\n"
	       "  --mode MODE       remediation mode: observe (default: explain and record),\n"
	       "                    recommend (also say what it would do), act (do it)\n"
	       "  --listen ADDR:PORT  serve HTTP there (default 127.0.0.1:7777; port 0 picks one);\n"
	       "                    an address other than loopback needs --token-file\n"
	       "  --token-file FILE every request must carry the token in FILE (Authorization:\n"
	       "                    Bearer TOKEN, or as the password of HTTP Basic in a browser)\n"
	       "  --no-http         no HTTP server\n"
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

static void print_sources(struct collector *c)
{
	for (int i = 0; i < TRACER_COUNT; i++) {
		struct tracer *t = collector__tracer(c, i);

		if (t->enabled)
			log_info("  tracer  %-10s on   %s", t->ops->name, t->ops->summary);
		else if (!strcmp(t->reason, "disabled by configuration"))
			log_info("  tracer  %-10s off  (disabled by configuration)", t->ops->name);
		else
			log_warn("tracer %s disabled: %s", t->ops->name, t->reason);
	}
	for (int i = 0; i < SCRAPER_COUNT; i++) {
		struct scraper *s = collector__scraper(c, i);

		if (s->enabled)
			log_info("  scraper %-10s on   %s", s->ops->name, s->ops->summary);
		else if (!strcmp(s->reason, "disabled by configuration"))
			log_info("  scraper %-10s off  (disabled by configuration)", s->ops->name);
		else
			log_warn("scraper %s disabled: %s", s->ops->name, s->reason);
	}
}

/* Tells the user when the database starts refusing writes and when it
 * recovers; rows wait in memory meanwhile (see writer.h). */
struct agent_state {
	struct writer *writer;
	struct engine *engine;             /* remediation */
	struct snapshots *snapshots;       /* NULL without HTTP */
	bool failing;
	uint64_t dropped;
	struct watch *watch;            /* NULL when detect.enabled is false */
	uint64_t watch_drops;
};

/* One collector_stats row for the detectors: samples judged and the time
 * it took this tick (detection runs in the event loop, so it is measured
 * like a tracer's collect). */
static void watch_stats_row(struct agent_state *a, struct batch *b, int64_t now_ns, double cost_ms)
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

static void on_tick(void *ctx, struct collector *c, struct batch *b, int64_t now_ns)
{
	struct agent_state *a = ctx;
	struct writer_stats ws;

	if (a->watch) {
		int64_t t0 = clock_mono_ns();

		watch__tick(a->watch, b, b, now_ns);
		watch_stats_row(a, b, now_ns, (double)(clock_mono_ns() - t0) / 1e6);
	}
	if (a->snapshots)
		snapshots__publish(a->snapshots, c, b, now_ns);
	writer__stats(a->writer, &ws);
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

/* The detectors, started from the baselines saved in the database. */
static int start_watch(const struct config *cfg, struct store *store, struct watch **ret)
{
	struct watch_params p;
	struct watch_stats st;
	char err[STORE_ERR_MAX];
	time_t now = time(NULL);
	struct tm tm;
	struct watch *w;
	int rc;

	watch_params_default(&p);
	p.anomaly.period_ns = cfg->detect_period_ns;
	p.anomaly.probation = (uint32_t)cfg->detect_probation;
	p.window_ns = cfg->detect_window_ns;
	p.save_every_ns = cfg->detect_save_every_ns;
	p.half_life_s = (double)cfg->detect_half_life_ns / 1e9;
	p.utc_offset_s = localtime_r(&now, &tm) ? (int32_t)tm.tm_gmtoff : 0;
	if (!(w = watch__new(&p)))
		return -errno;
	if ((rc = baseline_db__latest(store, load_baseline, w, err))) {
		log_warn("cannot load the saved baselines (%s); learning from scratch", err);
		watch__free(w);
		w = watch__new(&p);
		if (!w)
			return -errno;
	}
	watch__stats(w, &st);
	if (st.metrics)
		log_info("detection on: %u metric baselines loaded from the database", st.metrics);
	else
		log_info("detection on: no saved baselines yet, learning them as data comes");
	*ret = w;
	return 0;
}

/* Opens retention on store (run by the writer thread once started) and
 * says what it keeps; a failure is reported here. */
static int start_retention(const struct config *cfg, struct store *store, struct retention **ret)
{
	struct retention_config rcfg = { cfg->retention_raw_ns, cfg->retention_minute_ns, cfg->retention_hour_ns,
					 cfg->retention_max_bytes, NULL, NULL };
	struct retention_stats rs;
	char err[STORE_ERR_MAX];
	int rc;

	if ((rc = retention__open(store, &rcfg, ret, err))) {
		cli_fail("agent", "cannot start retention: %s", err);
		return rc;
	}
	retention__stats(*ret, &rs);
	if (rs.convert_ms > 0)
		log_info("the database gives pruned space back to the filesystem from now on "
			 "(incremental vacuum; converting it took %.1fs)", rs.convert_ms / 1e3);
	else if (rs.last_error_msg[0])
		log_warn("%s", rs.last_error_msg);
	log_info("retention: raw rows %gh, per-minute rollups %gd, per-hour %gd, under %.0f MiB%s",
		 (double)cfg->retention_raw_ns / 3.6e12, (double)cfg->retention_minute_ns / 8.64e13,
		 (double)cfg->retention_hour_ns / 8.64e13, (double)rs.cap_bytes / 1048576.0,
		 cfg->retention_max_bytes ? "" : " (2 GiB or 10% of the filesystem)");
	return 0;
}

/* True when no configured tracer started and we lack root: the usual
 * reason, worth one hint (a verifier rejection also says EACCES, so the
 * errno alone does not tell). */
static bool tracers_need_root(struct collector *c)
{
	int wanted = 0, running = 0;

	for (int i = 0; i < TRACER_COUNT; i++) {
		struct tracer *t = collector__tracer(c, i);

		wanted += strcmp(t->reason, "disabled by configuration") != 0;
		running += t->enabled;
	}
	return geteuid() != 0 && wanted > 0 && running == 0;
}

int cmd_agent(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "duration", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'c' },
		{ "interval", required_argument, NULL, 'i' },
		{ "policy", required_argument, NULL, 'P' },
		{ "mode", required_argument, NULL, 'M' },
		{ "help-config", no_argument, NULL, 'K' },
		{ "listen", required_argument, NULL, 'l' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "no-http", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *config_path = NULL, *interval = NULL, *listen = NULL, *token_file = NULL;
	const char *policy_path = NULL, *mode = NULL;
	char err[CONFIG_ERR_MAX], serr[STORE_ERR_MAX], herr[HTTP_ERR_MAX];
	struct policy policy;
	struct engine *engine = NULL;
	enum agent_mode agent_mode;
	struct http_server *http = NULL;
	struct snapshots *snapshots = NULL;
	bool no_http = false;
	struct store *store = NULL;
	struct retention *retention = NULL;
	struct collector *col = NULL;
	struct writer *writer = NULL;
	struct watch *watch = NULL;
	struct writer_stats ws;
	struct config cfg;
	int64_t duration_ns = 0, started;
	int opt, rc = EXIT_FAIL;

	while ((opt = cli_getopt("agent", argc, argv, "h", opts)) != -1) {
		switch (opt) {
		case 'd': db = optarg; break;
		case 'c': config_path = optarg; break;
		case 'i': interval = optarg; break;
		case 'P': policy_path = optarg; break;
		case 'M':
			if (mode_parse(optarg, &agent_mode))
				return cli_usage_error("agent", "--mode: '%s' is not observe, recommend or act", optarg);
			mode = optarg;
			break;
		case 'l': listen = optarg; break;
		case 'T': token_file = optarg; break;
		case 'N': no_http = true; break;
		case 't':
			if (parse_duration_ns(optarg, &duration_ns) || duration_ns <= 0)
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

	config__defaults(&cfg);
	policy__defaults(&policy);
	if (config_path && config__load(&cfg, config_path, err)) {
		fprintf(stderr, "ksight agent: bad configuration: %s\n", err);
		config__free(&cfg);
		return EXIT_USAGE;
	}
	if (policy_path)
		config__set_str(&cfg.policy_path, policy_path);
	if (mode)
		config__set_str(&cfg.agent_mode, mode);
	if (cfg.policy_path[0] && policy__load(&policy, cfg.policy_path, err)) {
		fprintf(stderr, "ksight agent: bad policy: %s\n", err);
		config__free(&cfg);
		policy__free(&policy);
		return EXIT_USAGE;
	}
	agent_mode = policy.mode;
	if (cfg.agent_mode[0] && mode_parse(cfg.agent_mode, &agent_mode)) {
		fprintf(stderr, "ksight agent: bad configuration: remediation.mode '%s' is not observe, recommend or act\n",
			cfg.agent_mode);
		config__free(&cfg);
		policy__free(&policy);
		return EXIT_USAGE;
	}
	if (db)
		config__set_str(&cfg.db_path, db);
	if (interval) {
		int64_t ns;

		if (parse_duration_ns(interval, &ns) || ns < 100 * NSEC_PER_MSEC) {
			config__free(&cfg);
			return cli_usage_error("agent", "--interval: '%s' is not a duration of at least 100ms",
					       interval);
		}
		cfg.interval_ns = ns;
	}
	if (listen)
		config__set_str(&cfg.http_listen, listen);
	if (token_file)
		config__set_str(&cfg.http_token_file, token_file);
	if (no_http)
		cfg.http_enabled = false;
	/* Before anything is created: a bad address or a missing token is the
	 * user's to fix. */
	if (cfg.http_enabled && (rc = http_server__open(&cfg, &http, herr))) {
		/* The default port taken (another agent, say) costs the dashboard,
		 * not the collection; an address the user chose is a promise. */
		if (rc != -EINVAL && !listen && !strcmp(cfg.http_listen, HTTP_DEFAULT_LISTEN)) {
			log_warn("%s; the agent runs without HTTP", herr);
		} else {
			fprintf(stderr, "ksight agent: %s\n", herr);
			config__free(&cfg);
			return rc == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
		}
	}
	rc = EXIT_FAIL;

	if (store__open(cfg.db_path, STORE_READ_WRITE, &store, serr)) {
		cli_fail("agent", "%s", serr);
		goto cleanup;
	}
	if (cfg.detect_enabled && (rc = start_watch(&cfg, store, &watch))) {
		cli_fail("agent", "cannot start the detectors: %s", strerror(-rc));
		rc = EXIT_FAIL;
		goto cleanup;
	}
	if (cfg.retention_enabled && (rc = start_retention(&cfg, store, &retention))) {
		rc = EXIT_FAIL;
		goto cleanup;
	}
	started = clock_mono_ns();
	if ((rc = collector__open(&cfg, NULL, &col))) {
		cli_fail("agent", "cannot start collectors: %s", strerror(-rc));
		rc = EXIT_FAIL;
		goto cleanup;
	}
	{
		char abs[PATH_MAX];

		log_info("collecting into %s every %gs (Ctrl-C stops)",
			 realpath(cfg.db_path, abs) ? abs : cfg.db_path, (double)cfg.interval_ns / 1e9);
	}
	print_sources(col);
	if (tracers_need_root(col))
		log_warn("no tracer could load: run as root (or with CAP_BPF and CAP_PERFMON)");
	log_info("look at the data with: %s query --db %s \"select event, count(*) from process_events group by event\"",
		 program_invocation_name, cfg.db_path);
	{
		const struct cgroup_resolver *cg = collector__cgroups(col);
		struct engine_env env = { cfg.root, cg ? cgroup_resolver__v2_mount(cg) : "",
					  cg ? cgroup_resolver__memcg_mount(cg) : "",
					  cg ? cgroup_resolver__cpucg_mount(cg) : "", remediation_say, NULL };

		if ((rc = engine__new(&policy, agent_mode, &env, &engine, err, sizeof(err)))) {
			cli_fail("agent", "cannot start the remediation agent: %s", err);
			rc = EXIT_FAIL;
			goto cleanup;
		}
		log_info("remediation: mode %s, %zu rule(s)%s%s", mode_name(agent_mode), policy.nrules,
			 policy.path ? " from " : "", policy.path ? policy.path : "");
	}
	if ((rc = writer__start(store, cfg.queue_bytes, &writer))) {
		cli_fail("agent", "cannot start the writer: %s", strerror(-rc));
		rc = EXIT_FAIL;
		goto cleanup;
	}
	if (retention)
		writer__set_retention(writer, retention);
	if (http) {
		/* The first snapshot (no tick yet) lets requests start now. */
		if ((rc = snapshots__new(&cfg, writer, &snapshots))) {
			cli_fail("agent", "cannot start the HTTP server: %s", strerror(-rc));
			rc = EXIT_FAIL;
			goto cleanup;
		}
		snapshots__set_remediation(snapshots, remediation_status, engine);
		snapshots__publish(snapshots, col, NULL, clock_real_ns());
		if ((rc = http_server__start(http, snapshots, herr))) {
			cli_fail("agent", "%s", herr);
			rc = EXIT_FAIL;
			goto cleanup;
		}
		log_info("dashboard on http://%s/ (API: /api/health, Prometheus: /metrics)", http_server__address(http));
	}
	struct agent_state state = { .writer = writer, .snapshots = snapshots, .watch = watch, .engine = engine };
	struct collector_hooks hooks = { .on_tick = on_tick, .ctx = &state };

	/* Loading the tracers parsed the kernel's BTF (~20 MB, freed since):
	 * give the freed heap back rather than carry it for the agent's life. */
	malloc_trim(0);
	rc = collector__run(col, writer, duration_ns, &hooks);
	if (rc)
		cli_fail("agent", "event loop failed: %s", strerror(-rc));
	if (watch) {
		/* Anomalies still inside their correlation window, and what was
		 * learnt, so the next start resumes from it. */
		struct batch *last = writer__submit(writer, NULL), *spare;

		watch__finish(watch, clock_real_ns(), last);
		spare = writer__submit(writer, last);
		batch__free(spare);
		free(spare);
	}
	http = http_server__stop(http);
	writer = writer__stop(writer, 10 * NSEC_PER_SEC, &ws);
	log_info("stopped after %.1fs: %llu rows stored, %llu lost%s%s", (double)(clock_mono_ns() - started) / 1e9,
		 (unsigned long long)ws.rows_written, (unsigned long long)ws.rows_dropped,
		 ws.last_error ? "; last write error: " : "", ws.last_error ? ws.last_error_msg : "");
	rc = rc || ws.rows_dropped || ws.last_error ? EXIT_FAIL : EXIT_OK;
cleanup:
	http_server__stop(http);
	snapshots__free(snapshots);
	writer__stop(writer, 10 * NSEC_PER_SEC, NULL);
	retention__close(retention);
	engine__free(engine);
	collector__close(col);
	policy__free(&policy);
	watch__free(watch);
	store__close(store);
	config__free(&cfg);
	return rc;
}
