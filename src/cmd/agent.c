/* ksight agent: run every collector into the database until stopped. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../collector.h"
#include "../config.h"
#include "../http/server.h"
#include "../http/snapshot.h"
#include "../lib/clock.h"
#include "../lib/log.h"
#include "../lib/parse.h"
#include "../store/store.h"
#include "../store/writer.h"
#include "cmd.h"

static void usage(void)
{
	printf("usage: ksight agent [--db PATH] [--duration TIME] [--config FILE] [--interval TIME]\n"
	       "                    [--listen ADDR:PORT] [--token-file FILE] [--no-http]\n"
	       "\n"
	       "Collects kernel telemetry (eBPF tracers and /proc scrapers) into a SQLite\n"
	       "database, one transaction per tick, until Ctrl-C, SIGTERM or --duration.\n"
	       "Needs root (or CAP_BPF + CAP_PERFMON) for the tracers; without them only the\n"
	       "scrapers run.  It serves a live dashboard (/), a JSON API (/api/...) and\n"
	       "Prometheus metrics (/metrics) on http://127.0.0.1:7777/ unless --no-http.\n"
	       "\n"
	       "Options:\n"
	       "  --db PATH         database file (default: kernelsight.db in this directory)\n"
	       "  --duration TIME   stop after TIME (e.g. 30, 30s, 5m; default: run until stopped)\n"
	       "  --config FILE     YAML configuration (see config/ksight.example.yaml)\n"
	       "  --interval TIME   tick length (default 1s)\n"
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
	struct snapshots *snapshots;       /* NULL without HTTP */
	bool failing;
	uint64_t dropped;
};

static void on_tick(void *ctx, struct collector *c, struct batch *b, int64_t now_ns)
{
	struct agent_state *a = ctx;
	struct writer_stats ws;

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
		{ "help-config", no_argument, NULL, 'K' },
		{ "listen", required_argument, NULL, 'l' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "no-http", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *config_path = NULL, *interval = NULL, *listen = NULL, *token_file = NULL;
	char err[CONFIG_ERR_MAX], serr[STORE_ERR_MAX], herr[HTTP_ERR_MAX];
	struct http_server *http = NULL;
	struct snapshots *snapshots = NULL;
	bool no_http = false;
	struct store *store = NULL;
	struct collector *col = NULL;
	struct writer *writer = NULL;
	struct writer_stats ws;
	struct config cfg;
	int64_t duration_ns = 0, started;
	int opt, rc = EXIT_FAIL;

	while ((opt = cli_getopt("agent", argc, argv, "h", opts)) != -1) {
		switch (opt) {
		case 'd': db = optarg; break;
		case 'c': config_path = optarg; break;
		case 'i': interval = optarg; break;
		case 'l': listen = optarg; break;
		case 'T': token_file = optarg; break;
		case 'N': no_http = true; break;
		case 't':
			if (parse_duration_ns(optarg, &duration_ns) || duration_ns <= 0)
				return cli_usage_error("agent", "--duration: '%s' is not a duration (e.g. 30, 30s, 5m)",
						       optarg);
			break;
		case 'K': config_print_keys(); return EXIT_OK;
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("agent", "unexpected argument '%s'", argv[optind]);

	config_defaults(&cfg);
	if (config_path && config_load(&cfg, config_path, err)) {
		fprintf(stderr, "ksight agent: bad configuration: %s\n", err);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	if (db)
		config_set_str(&cfg.db_path, db);
	if (interval) {
		int64_t ns;

		if (parse_duration_ns(interval, &ns) || ns < 100 * NSEC_PER_MSEC) {
			config_free(&cfg);
			return cli_usage_error("agent", "--interval: '%s' is not a duration of at least 100ms",
					       interval);
		}
		cfg.interval_ns = ns;
	}
	if (listen)
		config_set_str(&cfg.http_listen, listen);
	if (token_file)
		config_set_str(&cfg.http_token_file, token_file);
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
			config_free(&cfg);
			return rc == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
		}
	}
	rc = EXIT_FAIL;

	if (store__open(cfg.db_path, STORE_READ_WRITE, &store, serr)) {
		cli_fail("agent", "%s", serr);
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
	log_info("look at the data with: ksight query --db %s \"select event, count(*) from process_events group by event\"",
		 cfg.db_path);
	if ((rc = writer__start(store, cfg.queue_bytes, &writer))) {
		cli_fail("agent", "cannot start the writer: %s", strerror(-rc));
		rc = EXIT_FAIL;
		goto cleanup;
	}
	if (http) {
		/* The first snapshot (no tick yet) lets requests start now. */
		if ((rc = snapshots__new(&cfg, writer, &snapshots))) {
			cli_fail("agent", "cannot start the HTTP server: %s", strerror(-rc));
			rc = EXIT_FAIL;
			goto cleanup;
		}
		snapshots__publish(snapshots, col, NULL, clock_real_ns());
		if ((rc = http_server__start(http, snapshots, herr))) {
			cli_fail("agent", "%s", herr);
			rc = EXIT_FAIL;
			goto cleanup;
		}
		log_info("dashboard on http://%s/ (API: /api/health, Prometheus: /metrics)", http_server__address(http));
	}
	struct agent_state state = { .writer = writer, .snapshots = snapshots };
	struct collector_hooks hooks = { .on_tick = on_tick, .ctx = &state };

	rc = collector__run(col, writer, duration_ns, &hooks);
	if (rc)
		cli_fail("agent", "event loop failed: %s", strerror(-rc));
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
	collector__close(col);
	store__close(store);
	config_free(&cfg);
	return rc;
}
