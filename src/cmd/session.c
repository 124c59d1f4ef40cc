/* One command's session: configuration, database, collectors and writer
 * (see session.h for the order in which the configuration and the
 * database are found). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../collect/collector.h"
#include "../lib/clock.h"
#include "../lib/log.h"
#include "../store/retention.h"
#include "session.h"

/* The configuration file to read, or NULL for none; *explicit_ says
 * whether the user named it (--config or $KSIGHT_CONFIG). */
static const char *config_file(const struct cli_common *opts, bool *explicit_)
{
	const char *env = getenv("KSIGHT_CONFIG");

	*explicit_ = true;
	if (opts && opts->config)
		return opts->config;
	if (env && env[0])
		return env;
	*explicit_ = false;
	return access(SESSION_SYSTEM_CONFIG, F_OK) == 0 ? SESSION_SYSTEM_CONFIG : NULL;
}

int session__init(struct session *s, const char *cmd, const struct cli_common *opts, enum session_config which)
{
	char err[CONFIG_ERR_MAX];
	const char *path = NULL;
	bool explicit_ = false;

	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	config__defaults(&s->cfg);
	if (which != SESSION_DEFAULTS)
		path = config_file(opts, &explicit_);
	/* A reader given --db needs no file, unless it was named on the
	 * command line. */
	if (which == SESSION_DB_ONLY && opts && opts->db && !opts->config)
		path = NULL;
	if (path && config__load(&s->cfg, path, err)) {
		fprintf(stderr, "ksight %s: bad configuration: %s%s\n", cmd, err,
			explicit_ ? "" : " (read because it exists; --config FILE or --db PATH chooses another)");
		return EXIT_USAGE;
	}
	if (opts && opts->db) {
		config__set_str(&s->cfg.db_path, opts->db);
		snprintf(s->db_origin, sizeof(s->db_origin), "--db");
	} else if (s->cfg.path) {
		snprintf(s->db_origin, sizeof(s->db_origin), "agent.db of %s", s->cfg.path);
	} else {
		snprintf(s->db_origin, sizeof(s->db_origin), "the default");
	}
	return EXIT_OK;
}

int session__open_store(struct session *s, enum store_mode mode)
{
	char err[STORE_ERR_MAX];

	s->store = store__close(s->store);
	if (store__open(s->cfg.db_path, mode, &s->store, err)) {
		if (s->cfg.path && strcmp(s->db_origin, "--db"))
			return cli_fail(s->cmd, "%s; that path is %s", err, s->db_origin);
		return cli_fail(s->cmd, "%s", err);
	}
	return EXIT_OK;
}

int session__start_collector(struct session *s, const struct collector_opts *opts)
{
	int err;

	assert(!s->col);
	s->started_ns = clock_mono_ns();
	if ((err = collector__open(&s->cfg, opts, &s->col)))
		return cli_fail(s->cmd, "cannot start the collectors: %s", strerror(-err));
	return EXIT_OK;
}

int session__start_retention(struct session *s)
{
	const struct config *cfg = &s->cfg;
	struct retention_config rcfg = { cfg->retention_raw_ns, cfg->retention_minute_ns, cfg->retention_hour_ns,
					 cfg->retention_max_bytes, NULL, NULL };
	struct retention_stats rs;
	char err[STORE_ERR_MAX];

	assert(s->store && !s->writer && !s->retention);
	if (!cfg->retention_enabled) {
		log_info("retention off (retention.enabled: false): every row is kept");
		return EXIT_OK;
	}
	if (retention__open(s->store, &rcfg, &s->retention, err))
		return cli_fail(s->cmd, "cannot start retention: %s", err);
	retention__stats(s->retention, &rs);
	if (rs.convert_ms > 0)
		log_info("the database gives pruned space back to the filesystem from now on "
			 "(incremental vacuum; converting it took %.1fs)", rs.convert_ms / 1e3);
	else if (rs.last_error_msg[0])
		log_warn("%s", rs.last_error_msg);
	log_info("retention: raw rows %gh, per-minute rollups %gd, per-hour %gd, under %.0f MiB%s",
		 (double)cfg->retention_raw_ns / 3.6e12, (double)cfg->retention_minute_ns / 8.64e13,
		 (double)cfg->retention_hour_ns / 8.64e13, (double)rs.cap_bytes / 1048576.0,
		 cfg->retention_max_bytes ? "" : " (2 GiB or 10% of the filesystem)");
	return EXIT_OK;
}

int session__start_writer(struct session *s)
{
	int err;

	assert(s->store && !s->writer);
	if ((err = writer__start(s->store, s->cfg.queue_bytes, &s->writer)))
		return cli_fail(s->cmd, "cannot start the writer: %s", strerror(-err));
	if (s->retention)
		writer__set_retention(s->writer, s->retention);
	return EXIT_OK;
}

int session__run(struct session *s, int64_t duration_ns, const struct collector_hooks *hooks)
{
	int err = collector__run(s->col, s->writer, duration_ns, hooks);

	return err ? cli_fail(s->cmd, "event loop failed: %s", strerror(-err)) : EXIT_OK;
}

void session__stop_writer(struct session *s, int64_t timeout_ns, struct writer_stats *ret_stats)
{
	if (ret_stats)
		memset(ret_stats, 0, sizeof(*ret_stats));
	s->writer = writer__stop(s->writer, timeout_ns, ret_stats);
}

void session__close(struct session *s)
{
	session__stop_writer(s, 10 * NSEC_PER_SEC, NULL);
	s->retention = retention__close(s->retention);
	s->col = collector__close(s->col);
	s->store = store__close(s->store);
	config__free(&s->cfg);
}
