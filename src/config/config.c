/* Configuration keys, defaults and the YAML reader (see config.h).
 *
 * The YAML file is read into a small tree (libyaml events -> nodes with
 * line numbers), then every leaf is matched against the key table.  Keys
 * of the form tracers.<name>.enabled / .rate_cap and scrapers.<name>.enabled
 * exist for every row of the tracer and scraper tables.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/parse.h"
#include "../lib/ytree.h"

enum key_type { K_BOOL, K_U64, K_DURATION, K_SIZE, K_STRING, K_PERCENT };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	uint64_t min, max;
	const char *def;
	const char *doc;
};

#define OFF(field) offsetof(struct config, field)

static const struct key keys[] = {
	{ "agent.db", K_STRING, OFF(db_path), 0, 0, "kernelsight.db",
	  "SQLite database file (created if missing)" },
	{ "agent.root", K_STRING, OFF(root), 0, 0, "",
	  "prefix for /proc and /sys reads (tests point it at fixtures)" },
	{ "agent.interval", K_DURATION, OFF(interval_ns), 100000000ULL, 3600000000000ULL, "1s",
	  "tick: how often collectors are read and a batch is committed" },
	{ "agent.batch_rows", K_U64, OFF(batch_rows), 100, 100000000, "200000",
	  "commit before the tick when this many rows are waiting" },
	{ "agent.queue_bytes", K_SIZE, OFF(queue_bytes), 1 << 20, 1ULL << 40, "256M",
	  "rows held in memory while the database refuses writes (disk full); "
	  "beyond this the oldest are dropped and counted" },
	{ "agent.db_cache", K_SIZE, OFF(db_cache_bytes), 64 << 10, 1ULL << 30, "1M",
	  "SQLite page cache of the agent's writing connection (it appends: a small cache is enough)" },
	{ "agent.max_processes", K_U64, OFF(max_processes), 64, 1048576, "8192",
	  "processes the per-process kernel maps track per interval (more are counted as drops)" },
	{ "agent.ringbuf_bytes", K_SIZE, OFF(ringbuf_bytes), 65536, 1ULL << 30, "512K",
	  "ring buffer size per busy tracer (a power of two; rarer tracers use less)" },
	{ "agent.ringbuf_wakeup_bytes", K_SIZE, OFF(ringbuf_wakeup_bytes), 1, 1ULL << 30, "64k",
	  "wake the agent when this much ring buffer data waits (else it drains every tick)" },
	{ "agent.max_overhead_pct", K_PERCENT, OFF(max_overhead_pct), 0, 100, "1",
	  "overhead budget: the share of each CPU (percent, e.g. 1 or 0.5) the agent may take, its BPF programs' "
	  "run time plus its own user and system time; over it the tracers sample (docs/budget.md); 0: no budget" },
	{ "retention.enabled", K_BOOL, OFF(retention_enabled), 0, 0, "true",
	  "roll old rows up and prune them (false: keep every row forever)" },
	{ "retention.raw", K_DURATION, OFF(retention_raw_ns), 60000000000ULL, 3650 * 86400000000000ULL, "48h",
	  "keep rows as collected for this long (then only their rollups)" },
	{ "retention.minute", K_DURATION, OFF(retention_minute_ns), 3600000000000ULL, 3650 * 86400000000000ULL, "30d",
	  "keep the per-minute rollups (<table>_1m) for this long" },
	{ "retention.hour", K_DURATION, OFF(retention_hour_ns), 3600000000000ULL, 3650 * 86400000000000ULL, "730d",
	  "keep the per-hour rollups (<table>_1h), anomalies and the remediation audit trail for this long" },
	{ "retention.max_bytes", K_SIZE, OFF(retention_max_bytes), 0, 1ULL << 50, "0",
	  "cap on the database file and its WAL: over it the oldest raw rows go first, then the oldest rollups "
	  "(0: 2G or 10% of the filesystem, whichever is smaller; at least 1M otherwise)" },
	{ "remediation.policy", K_STRING, OFF(policy_path), 0, 0, "",
	  "remediation policy file (YAML, see config/policy.example.yaml); empty: observe only, no rules" },
	{ "remediation.mode", K_STRING, OFF(agent_mode), 0, 0, "",
	  "observe, recommend or act; empty: the policy's mode (observe when there is none)" },
	{ "tracers.proc.exact_cpu", K_BOOL, OFF(proc_exact_cpu), 0, 0, "true",
	  "send exit rows at the process's last context switch, when its CPU time is final "
	  "(costs a comparison per context switch; off: short processes show a fraction of their CPU)" },
	{ "tracers.syscall.slow_threshold", K_DURATION, OFF(syscall_slow_ns), 0, 3600000000000ULL, "10ms",
	  "a syscall_events row for every call slower than this" },
	{ "tracers.syscall.pid", K_U64, OFF(syscall_pid), 0, 4194304, "0",
	  "trace only this process id (0: every process)" },
	{ "tracers.sched.slow_threshold", K_DURATION, OFF(sched_slow_ns), 0, 3600000000000ULL, "10ms",
	  "a sched_latency_events row for every run-queue wait longer than this" },
	{ "tracers.pagefault.sample_every", K_U64, OFF(pagefault_sample_every), 1, 1000000000, "1000",
	  "one page_fault_events row per this many faults (page_fault_stats counts all)" },
	{ "tracers.pagefault.time_every", K_U64, OFF(pagefault_time_every), 1, 1000000, "16",
	  "time the latency of one fault in this many on each CPU (counts stay exact; "
	  "page_fault_stats says how many were timed)" },
	{ "tracers.pagefault.completion", K_BOOL, OFF(pagefault_completion), 0, 0, "true",
	  "use perf software events page-faults-min/-maj for minor/major and latency" },
	{ "detect.enabled", K_BOOL, OFF(detect_enabled), 0, 0, "true",
	  "judge every metric every tick and write anomalies and baselines" },
	{ "detect.probation", K_U64, OFF(detect_probation), 16, 1000000, "512",
	  "samples a metric's detector learns before it may flag anything" },
	{ "detect.period", K_DURATION, OFF(detect_period_ns), 0, 30 * 86400000000000ULL, "1d",
	  "seasonal period the detectors model (0: none)" },
	{ "detect.window", K_DURATION, OFF(detect_window_ns), 1000000000ULL, 600000000000ULL, "10s",
	  "metrics abnormal within this time of each other are one incident (correlation)" },
	{ "detect.save_every", K_DURATION, OFF(detect_save_every_ns), 0, 86400000000000ULL, "10m",
	  "how often the learnt baselines are saved (0: only when the agent stops)" },
	{ "detect.half_life", K_DURATION, OFF(detect_half_life_ns), 60000000000ULL, 365 * 86400000000000ULL, "3d",
	  "how fast the online baselines forget: a sample's weight halves after this long" },
	{ "detect.max_metrics", K_U64, OFF(detect_max_metrics), 16, 65536, "512",
	  "metrics judged at most, each with ~35 KiB of windows (samples of more are counted as drops): "
	  "caps the detectors' memory" },
	{ "tracers.rss.interval", K_DURATION, OFF(rss_interval_ns), 100000000ULL, 3600000000000ULL, "1s",
	  "rss tracer: at most one RSS sample per process per interval (also the leak detector's resolution)" },
	{ "tracers.rss.jump", K_SIZE, OFF(rss_jump_bytes), 4096, 1ULL << 40, "8M",
	  "rss tracer: a footprint change this large is sent at once, between intervals" },
	{ "tracers.rss.max_processes", K_U64, OFF(rss_max_processes), 16, 1 << 22, "16384",
	  "rss tracer: processes tracked at once; beyond this they are counted as drops" },
	{ "tracers.rss.min_growth", K_SIZE, OFF(leak_min_growth_bytes), 4096, 1ULL << 40, "1M",
	  "leak detector: retained growth needed before a process is a leak suspect" },
	{ "tracers.rss.quiet", K_DURATION, OFF(leak_quiet_ns), 1000000000ULL, 86400000000000ULL, "30s",
	  "leak detector: a suspect that stops growing this long (or 2.5x its longest pause) is resolved" },
	{ "tracers.rss.warmup", K_DURATION, OFF(leak_warmup_ns), 0, 86400000000000ULL, "25s",
	  "leak detector: growth in a process's first WARMUP, or soon after earlier growth, is only watched "
	  "until it outlasts WARMUP (0: no warm-up rule)" },
	{ "http.enabled", K_BOOL, OFF(http_enabled), 0, 0, "true",
	  "serve the JSON API, /metrics and the dashboard" },
	{ "http.listen", K_STRING, OFF(http_listen), 0, 0, HTTP_DEFAULT_LISTEN,
	  "ADDR:PORT to listen on; an address other than loopback needs http.token_file" },
	{ "http.token_file", K_STRING, OFF(http_token_file), 0, 0, "",
	  "file holding the bearer token every request must carry (16 characters or more)" },
	{ "http.allowed_hosts", K_STRING, OFF(http_allowed_hosts), 0, 0, "",
	  "comma-separated names (NAME or NAME:PORT) the Host header may carry besides the listen address and "
	  "localhost: a reverse proxy's or this host's DNS name; anything else gets 421 (DNS rebinding)" },
	{ "http.tls.cert", K_STRING, OFF(http_tls_cert), 0, 0, "",
	  "PEM certificate (chain) to serve HTTPS with; needs http.tls.key; re-read on SIGHUP" },
	{ "http.tls.key", K_STRING, OFF(http_tls_key), 0, 0, "",
	  "PEM private key of http.tls.cert; refused when group or others can read it" },
	{ "http.tls.client_ca", K_STRING, OFF(http_tls_client_ca), 0, 0, "",
	  "PEM CA: when set, every request needs a client certificate it signed (mutual TLS)" },
	{ "http.max_connections", K_U64, OFF(http_max_connections), 1, 10000, "128",
	  "open connections served at once; requests on more get 503" },
	{ "http.max_client_connections", K_U64, OFF(http_max_client_connections), 1, 10000, "64",
	  "connections one client may hold (a local user on loopback, else an address); more are shut at once" },
	{ "http.threads", K_U64, OFF(http_threads), 1, 64, "2",
	  "threads serving requests, each with its own read-only database connection" },
	{ "http.db_cache", K_SIZE, OFF(http_db_cache_bytes), 64 << 10, 1ULL << 30, "256K",
	  "SQLite page cache of each serving thread's read-only connection (the kernel caches the file too)" },
	{ "http.cache_bytes", K_SIZE, OFF(http_cache_bytes), 0, 1ULL << 30, "2M",
	  "API answers kept for reuse while the database has not changed, all threads together (0: none)" },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void config__set_str(char **field, const char *value)
{
	free(*field);
	*field = strdup(value ? value : "");
	if (!*field)
		abort();
}

static const char *type_hint(enum key_type t)
{
	switch (t) {
	case K_BOOL: return "true or false";
	case K_U64: return "a whole number";
	case K_DURATION: return "a duration such as 500ms, 10s, 5m";
	case K_SIZE: return "a size such as 4096, 64k, 16M";
	case K_PERCENT: return "a percentage such as 1, 0.5 or 2%";
	default: return "a string";
	}
}

/* Parses value into the field of k; writes the reason into err on failure. */
static int set_value(struct config *cfg, const struct key *k, const char *name, const char *value,
		     char *err, size_t errlen)
{
	char *field = (char *)cfg + k->offset;
	uint64_t u;
	int64_t d;
	bool b;
	int rc = 0;

	switch (k->type) {
	case K_BOOL:
		if (!(rc = parse_bool(value, &b)))
			*(bool *)field = b;
		break;
	case K_U64:
	case K_SIZE:
		rc = k->type == K_U64 ? parse_u64(value, &u) : parse_size(value, &u);
		if (!rc && (u < k->min || u > k->max)) {
			snprintf(err, errlen, "%s: %s is out of range [%llu, %llu]", name, value,
				 (unsigned long long)k->min, (unsigned long long)k->max);
			return -ERANGE;
		}
		if (!rc && k->offset == OFF(retention_max_bytes) && u && u < (1 << 20)) {
			snprintf(err, errlen, "%s: %s is below 1M (an empty database takes about 1 MB); 0 picks the default",
				 name, value);
			return -ERANGE;
		}
		if (!rc && k->offset == OFF(ringbuf_bytes) && (u & (u - 1))) {
			snprintf(err, errlen, "%s: %s is not a power of two", name, value);
			return -EINVAL;
		}
		if (!rc)
			*(uint64_t *)field = u;
		break;
	case K_DURATION:
		rc = parse_duration_ns(value, &d);
		if (!rc && ((uint64_t)d < k->min || (uint64_t)d > k->max)) {
			snprintf(err, errlen, "%s: %s is out of range [%gs, %gs]", name, value,
				 (double)k->min / 1e9, (double)k->max / 1e9);
			return -ERANGE;
		}
		if (!rc)
			*(int64_t *)field = d;
		break;
	case K_STRING:
		config__set_str((char **)field, value);
		break;
	case K_PERCENT: {
		char *end = NULL;
		double pct;

		errno = 0;
		pct = strtod(value, &end);
		if (end && *end == '%')
			end++;
		if (errno || end == value || !end || *end || pct != pct) {
			rc = -EINVAL;
			break;
		}
		if (pct < (double)k->min || pct > (double)k->max) {
			snprintf(err, errlen, "%s: %s is out of range [%llu, %llu]", name, value,
				 (unsigned long long)k->min, (unsigned long long)k->max);
			return -ERANGE;
		}
		*(double *)field = pct;
		break;
	}
	}
	if (rc)
		snprintf(err, errlen, "%s: '%s' is not %s", name, value, type_hint(k->type));
	return rc;
}

/* Resolves tracers.<t>.enabled|rate_cap and scrapers.<s>.enabled into a
 * synthetic key description; returns false when name is not one. */
static bool source_key(const char *name, struct key *ret, char *err, size_t errlen)
{
	char kind[16], source[64], field[32];
	int id;

	if (sscanf(name, "%15[^.].%63[^.].%31s", kind, source, field) != 3)
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->name = name;
	if (!strcmp(kind, "tracers")) {
		if ((id = tracer_find(source)) < 0) {
			snprintf(err, errlen, "unknown tracer '%s'", source);
			return false;
		}
		ret->offset = OFF(tracers) + (size_t)id * sizeof(struct source_config);
	} else if (!strcmp(kind, "scrapers")) {
		if ((id = scraper_find(source)) < 0) {
			snprintf(err, errlen, "unknown scraper '%s'", source);
			return false;
		}
		ret->offset = OFF(scrapers) + (size_t)id * sizeof(struct source_config);
	} else {
		return false;
	}
	if (!strcmp(field, "enabled")) {
		ret->type = K_BOOL;
		ret->offset += offsetof(struct source_config, enabled);
	} else if (!strcmp(field, "interval") && !strcmp(kind, "scrapers")) {
		ret->type = K_DURATION;
		ret->max = 3600000000000ULL;
		ret->offset += offsetof(struct source_config, interval_ns);
	} else if (!strcmp(field, "rate_cap") && !strcmp(kind, "tracers")) {
		ret->type = K_U64;
		ret->max = 100000000;
		ret->offset += offsetof(struct source_config, rate_cap);
	} else {
		return false;
	}
	return true;
}

void config__defaults(struct config *cfg)
{
	char err[CONFIG_ERR_MAX];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++)
		set_value(cfg, &keys[i], keys[i].name, keys[i].def, err, sizeof(err));
	for (int i = 0; i < TRACER_COUNT; i++)
		cfg->tracers[i].enabled = true;
	for (int i = 0; i < SCRAPER_COUNT; i++) {
		cfg->scrapers[i].enabled = true;
		cfg->scrapers[i].interval_ns = scraper_table[i]->interval_ns;
	}
}

void config__free(struct config *cfg)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type == K_STRING) {
			char **field = (char **)((char *)cfg + keys[i].offset);

			free(*field);
			*field = NULL;
		}
	free(cfg->path);
	cfg->path = NULL;
}

void config__print_keys(void)
{
	for (size_t i = 0; i < NKEYS; i++)
		printf("  %-28s %s (default: %s)\n", keys[i].name, keys[i].doc,
		       keys[i].def[0] ? keys[i].def : "\"\"");
	printf("  %-28s run this tracer (default: true); one of:", "tracers.<name>.enabled");
	for (int i = 0; i < TRACER_COUNT; i++)
		printf(" %s", tracer_table[i]->name);
	printf("\n  %-28s events per second kept at most, the rest dropped and counted (0: no cap)\n",
	       "tracers.<name>.rate_cap");
	printf("  %-28s run this scraper (default: true); one of:", "scrapers.<name>.enabled");
	for (int i = 0; i < SCRAPER_COUNT; i++)
		printf(" %s", scraper_table[i]->name);
	printf("\n  %-28s run this scraper every this long, in whole ticks (default: 0, every tick;", "scrapers.<name>.interval");
	for (int i = 0; i < SCRAPER_COUNT; i++)
		if (scraper_table[i]->interval_ns)
			printf(" %s: %gs", scraper_table[i]->name, (double)scraper_table[i]->interval_ns / 1e9);
	printf(")\n");
}

void config__each(const struct config *cfg, void (*fn)(void *ctx, const char *key, const char *value), void *ctx)
{
	char value[64], key[96];

	for (size_t i = 0; i < NKEYS; i++) {
		const char *field = (const char *)cfg + keys[i].offset;

		switch (keys[i].type) {
		case K_BOOL:
			fn(ctx, keys[i].name, *(const bool *)field ? "true" : "false");
			continue;
		case K_U64:
		case K_SIZE:
			snprintf(value, sizeof(value), "%llu", (unsigned long long)*(const uint64_t *)field);
			break;
		case K_DURATION:
			snprintf(value, sizeof(value), "%gs", (double)*(const int64_t *)field / 1e9);
			break;
		case K_PERCENT:
			snprintf(value, sizeof(value), "%g", *(const double *)field);
			break;
		case K_STRING:
			fn(ctx, keys[i].name, *(char *const *)field ? *(char *const *)field : "");
			continue;
		}
		fn(ctx, keys[i].name, value);
	}
	for (int i = 0; i < TRACER_COUNT; i++) {
		snprintf(key, sizeof(key), "tracers.%s.enabled", tracer_table[i]->name);
		fn(ctx, key, cfg->tracers[i].enabled ? "true" : "false");
		snprintf(key, sizeof(key), "tracers.%s.rate_cap", tracer_table[i]->name);
		snprintf(value, sizeof(value), "%llu", (unsigned long long)cfg->tracers[i].rate_cap);
		fn(ctx, key, value);
	}
	for (int i = 0; i < SCRAPER_COUNT; i++) {
		snprintf(key, sizeof(key), "scrapers.%s.enabled", scraper_table[i]->name);
		fn(ctx, key, cfg->scrapers[i].enabled ? "true" : "false");
		snprintf(key, sizeof(key), "scrapers.%s.interval", scraper_table[i]->name);
		snprintf(value, sizeof(value), "%gs", (double)cfg->scrapers[i].interval_ns / 1e9);
		fn(ctx, key, value);
	}
}

/* True when some key starts with prefix + "." (so prefix is a section). */
static bool is_section(const char *prefix)
{
	size_t len = strlen(prefix);
	char kind[16], rest[64];

	for (size_t i = 0; i < NKEYS; i++)
		if (!strncmp(keys[i].name, prefix, len) && keys[i].name[len] == '.')
			return true;
	if (!strcmp(prefix, "tracers") || !strcmp(prefix, "scrapers"))
		return true;
	if (sscanf(prefix, "%15[^.].%63s", kind, rest) == 2 && !strchr(rest, '.'))
		return (!strcmp(kind, "tracers") && tracer_find(rest) >= 0) ||
		       (!strcmp(kind, "scrapers") && scraper_find(rest) >= 0);
	return false;
}

static int apply(struct config *cfg, const struct ynode *map, const char *prefix, char *err, size_t errlen)
{
	if (ytree_is_null(map))
		return 0;     /* an empty section */
	if (map->kind != Y_MAP) {
		snprintf(err, errlen, "%d: %s%sexpected a mapping of keys", map->line,
			 prefix, prefix[0] ? ": " : "");
		return -EINVAL;
	}
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		char name[256], why[CONFIG_ERR_MAX] = "";
		const struct key *key = NULL;
		struct key synthetic;
		int rc;

		if (k->kind != Y_SCALAR) {
			snprintf(err, errlen, "%d: keys must be plain names", k->line);
			return -EINVAL;
		}
		snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", k->value);
		if (v->kind == Y_MAP || is_section(name)) {
			if (!is_section(name)) {
				snprintf(err, errlen, "%d: unknown section '%s'", k->line, name);
				return -EINVAL;
			}
			if ((rc = apply(cfg, v, name, err, errlen)))
				return rc;
			continue;
		}
		for (size_t j = 0; j < NKEYS && !key; j++)
			if (!strcmp(keys[j].name, name))
				key = &keys[j];
		if (!key && source_key(name, &synthetic, why, sizeof(why)))
			key = &synthetic;
		if (!key) {
			snprintf(err, errlen, "%d: unknown key '%s'%s%s (see 'ksight agent --help-config')",
				 k->line, name, why[0] ? ": " : "", why);
			return -EINVAL;
		}
		if (v->kind != Y_SCALAR) {
			snprintf(err, errlen, "%d: %s: expected %s", v->line, name, type_hint(key->type));
			return -EINVAL;
		}
		if ((rc = set_value(cfg, key, name, v->value, why, sizeof(why)))) {
			snprintf(err, errlen, "%d: %s", v->line, why);
			return rc;
		}
	}
	return 0;
}

int config__load(struct config *cfg, const char *path, char *err)
{
	char inner[CONFIG_ERR_MAX - 64] = "";
	struct ynode *root = NULL;
	FILE *f = fopen(path, "r");
	int rc;

	if (!f) {
		snprintf(err, CONFIG_ERR_MAX, "%s: %s", path, strerror(errno));
		return -errno;
	}
	rc = ytree_parse(f, &root, inner, sizeof(inner));
	fclose(f);
	if (!rc && root)
		rc = apply(cfg, root, "", inner, sizeof(inner));
	ytree_free(root);
	if (rc) {
		snprintf(err, CONFIG_ERR_MAX, "%s:%s", path, inner);
		return rc;
	}
	config__set_str(&cfg->path, path);
	return 0;
}
