/* Configuration: defaults, the shipped example, and errors with file:line. */
#include "../../src/config/config.h"
#include "../lib/tap.h"

static char dir[] = "/tmp/ksight-cfg.XXXXXX";

/* Writes text to a file and loads it; returns the error (or "") in err. */
static int load_text(struct config *cfg, const char *text, char *err)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	return config__load(cfg, path, err);
}

int main(void)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];

	plan(31);
	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	config__defaults(&cfg);
	is_str(cfg.db_path, "kernelsight.db", "default database");
	is(cfg.interval_ns, 1000000000, "default tick is 1 s");
	ok(cfg.tracers[TRACER_proc].enabled && cfg.scrapers[SCRAPER_meminfo].enabled, "collectors on by default");

	ok(config__load(&cfg, tap_src("config/ksight.example.yaml"), err) == 0, "the shipped example loads: %s", err);
	is(cfg.interval_ns, 1000000000, "and keeps the defaults it documents");

	ok(load_text(&cfg, "agent:\n  interval: 250ms\n  db: /tmp/x.db\ntracers:\n  proc:\n    enabled: false\n"
			   "    rate_cap: 5000\n", err) == 0, "a valid file loads");
	is(cfg.interval_ns, 250000000, "interval 250ms");
	is_str(cfg.db_path, "/tmp/x.db", "db path");
	ok(!cfg.tracers[TRACER_proc].enabled && cfg.tracers[TRACER_proc].rate_cap == 5000, "tracer settings");

	ok(load_text(&cfg, "agent:\n  interval: 1s\n  intervall: 2s\n", err) < 0 && strstr(err, "c.yaml:3: unknown key 'agent.intervall'"),
	   "unknown key names file and line: %s", err);
	ok(load_text(&cfg, "agent:\n  interval: soon\n", err) < 0 && strstr(err, ":2: agent.interval: 'soon' is not a duration"),
	   "bad value names the key and line: %s", err);
	ok(load_text(&cfg, "agent:\n  interval: 1ms\n", err) < 0 && strstr(err, "out of range"),
	   "out of range value: %s", err);
	ok(load_text(&cfg, "tracers:\n  nosuch:\n    enabled: true\n", err) < 0 && strstr(err, "unknown section 'tracers.nosuch'"),
	   "unknown tracer: %s", err);
	ok(load_text(&cfg, "tracers:\n  proc:\n    enabled: maybe\n", err) < 0 && strstr(err, ":3: tracers.proc.enabled: 'maybe' is not true or false"),
	   "bad boolean: %s", err);
	ok(load_text(&cfg, "agent:\n  interval: [1, 2\n", err) < 0 && strstr(err, "c.yaml:"),
	   "malformed YAML: %s", err);
	ok(load_text(&cfg, "- just\n- a list\n", err) < 0 && strstr(err, "expected a mapping"),
	   "a list at the top: %s", err);
	/* The overhead budget: a percentage, fractions allowed, % optional. */
	config__defaults(&cfg);
	within(cfg.max_overhead_pct, 1, 1, "default overhead budget 1%%");
	ok(load_text(&cfg, "agent:\n  max_overhead_pct: 0.5%\n", err) == 0 && cfg.max_overhead_pct == 0.5,
	   "max_overhead_pct 0.5%% loads: %s", err);
	ok(load_text(&cfg, "agent:\n  max_overhead_pct: lots\n", err) < 0 && strstr(err, "is not a percentage"),
	   "a bad percentage: %s", err);
	ok(load_text(&cfg, "agent:\n  max_overhead_pct: 101\n", err) < 0 && strstr(err, "out of range"),
	   "over 100%%: %s", err);
	ok(config__load(&cfg, "/nonexistent.yaml", err) < 0 && strstr(err, "No such file"), "missing file: %s", err);
	/* Which of two values would win is a guess: refused (issue 13). */
	ok(load_text(&cfg, "agent:\n  interval: 1s\n  db: a.db\n  interval: 2s\n", err) < 0 &&
	   strstr(err, "c.yaml:4: 'interval' is given twice (first on line 2)"), "a duplicate key names both lines: %s", err);
	ok(load_text(&cfg, "agent: {interval: 1s}\ntracers: {}\nagent: {db: x}\n", err) < 0 &&
	   strstr(err, "c.yaml:3: 'agent' is given twice (first on line 1)"), "a duplicate section too: %s", err);

	config__free(&cfg);
	config__defaults(&cfg);
	ok(cfg.rss_interval_ns == 1000000000 && cfg.rss_jump_bytes == 8 << 20 && cfg.rss_max_processes == 16384 &&
	   cfg.leak_min_growth_bytes == 1 << 20 && cfg.leak_quiet_ns == 30000000000LL &&
	   cfg.leak_warmup_ns == 25000000000LL, "rss tracer defaults");
	ok(load_text(&cfg, "tracers:\n  rss:\n    enabled: true\n    interval: 500ms\n    jump: 16M\n"
			   "    max_processes: 1000\n    min_growth: 4M\n    quiet: 1m\n    warmup: 0\n", err) == 0,
	   "rss keys load: %s", err);
	ok(cfg.rss_interval_ns == 500000000 && cfg.rss_jump_bytes == 16 << 20 && cfg.rss_max_processes == 1000 &&
	   cfg.leak_min_growth_bytes == 4 << 20 && cfg.leak_quiet_ns == 60000000000LL && cfg.leak_warmup_ns == 0,
	   "rss keys applied");
	ok(load_text(&cfg, "tracers:\n  rss:\n    interval: 10ms\n", err) < 0 && strstr(err, ":3: tracers.rss.interval") &&
	   strstr(err, "out of range"), "rss interval below 100ms refused: %s", err);
	ok(load_text(&cfg, "tracers:\n  rss:\n    jump: lots\n", err) < 0 && strstr(err, "'lots' is not a size"),
	   "bad rss jump refused: %s", err);

	config__free(&cfg);
	config__defaults(&cfg);
	ok(cfg.scrapers[SCRAPER_net_tcp].interval_ns == 10000000000LL && cfg.scrapers[SCRAPER_meminfo].interval_ns == 0,
	   "net_tcp runs every 10 s by default, meminfo every tick");
	ok(load_text(&cfg, "scrapers:\n  net_tcp:\n    interval: 0\n  vmstat:\n    interval: 5s\n", err) == 0 &&
	   cfg.scrapers[SCRAPER_net_tcp].interval_ns == 0 && cfg.scrapers[SCRAPER_vmstat].interval_ns == 5000000000LL,
	   "scrapers.<name>.interval loads: %s", err);
	ok(load_text(&cfg, "scrapers:\n  net_tcp:\n    interval: 2h\n", err) < 0 && strstr(err, ":3: scrapers.net_tcp.interval") &&
	   strstr(err, "out of range"), "a scraper interval over 1h is refused: %s", err);

	config__free(&cfg);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			diag("cleanup");
	}
	return done_testing();
}
