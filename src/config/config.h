/* Configuration: defaults, the YAML file (--config) and its validation.
 *
 * Every setting is declared once in config.c's key table with its type,
 * limits and documentation; the example in config/ksight.example.yaml is
 * checked against that table by the tests.  Unknown keys and bad values are
 * errors that name the file and line.
 */
#ifndef KS_CONFIG_H
#define KS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "../bpf/tracer.h"
#include "../scrape/scraper.h"

#define CONFIG_ERR_MAX 512

/* http.listen when the file does not say (the HTTP server reads it from
 * struct config): outside 9100-9999 (Prometheus exporters), 9090, 19999. */
#define HTTP_DEFAULT_LISTEN "127.0.0.1:7777"

struct source_config {
	bool enabled;
	uint64_t rate_cap;          /* events per second, 0 = no cap (tracers) */
	int64_t interval_ns;        /* run every this long, in whole ticks; 0 = every tick (scrapers) */
};

struct config {
	char *path;                 /* the file read, NULL for built-in defaults */
	/* agent */
	char *db_path;
	char *root;                 /* prefix for /proc and /sys; "" = live system */
	int64_t interval_ns;        /* tick */
	uint64_t batch_rows;        /* commit early when a tick collects this many rows */
	uint64_t queue_bytes;       /* rows held in memory while the disk refuses writes */
	/* collectors */
	struct source_config tracers[TRACER_COUNT];
	struct source_config scrapers[SCRAPER_COUNT];
	uint64_t ringbuf_bytes;      /* largest ring buffer per tracer (power of two) */
	uint64_t max_processes;      /* processes tracked per interval by per-process maps */
	uint64_t ringbuf_wakeup_bytes;
	/* retention (store/retention.h) */
	bool retention_enabled;
	int64_t retention_raw_ns, retention_minute_ns, retention_hour_ns;
	uint64_t retention_max_bytes;   /* 0: min(2 GiB, 10% of the filesystem) */
	char *policy_path;           /* remediation policy (YAML), NULL: observe with no rules */
	char *agent_mode;            /* observe | recommend | act ("" = the policy's) */
	/* tracer settings */
	bool proc_exact_cpu;         /* exit rows sent at the last context switch (exact CPU) */
	int64_t syscall_slow_ns;     /* slow-call events above this latency */
	uint64_t syscall_pid;        /* trace only this process (0: all) */
	int64_t sched_slow_ns;       /* sched_latency_events above this run-queue wait */
	uint64_t pagefault_sample_every;  /* one page_fault_events row per this many faults */
	bool pagefault_completion;   /* attach perf software events for type and latency */
	/* detection (src/detect/watch.h) */
	bool detect_enabled;
	uint64_t detect_probation;   /* samples before a metric's detector may flag */
	int64_t detect_period_ns;    /* seasonal period of the detectors; 0: none */
	int64_t detect_window_ns;    /* correlation window */
	int64_t detect_save_every_ns;  /* baseline snapshots; 0: only at stop */
	int64_t detect_half_life_ns; /* decay of the online baselines */
	/* rss tracer and leak detector */
	int64_t rss_interval_ns;    /* at most one sample per process per interval */
	uint64_t rss_jump_bytes;    /* ... plus one at once when the footprint moves this much */
	uint64_t rss_max_processes; /* processes tracked at once (kernel map size) */
	uint64_t leak_min_growth_bytes;
	int64_t leak_quiet_ns;
	int64_t leak_warmup_ns;     /* warm-up horizon (detect/leak.h) */
	/* HTTP API, /metrics, dashboard */
	bool http_enabled;
	char *http_listen;           /* ADDR:PORT */
	char *http_token_file;       /* "" = no token (loopback only) */
	char *http_allowed_hosts;    /* Host names accepted besides the listen address, comma-separated */
	char *http_tls_cert;         /* PEM certificate; "" = no TLS */
	char *http_tls_key;          /* PEM private key (mode 0600) */
	char *http_tls_client_ca;    /* PEM CA of client certificates; "" = none asked for */
	uint64_t http_max_connections;
	uint64_t http_max_client_connections;  /* per local uid on loopback, else per address */
	uint64_t http_threads;
};

/* Fills cfg with the built-in defaults. */
void config__defaults(struct config *cfg);

/* Reads path on top of the current values of cfg.  On error returns a
 * negative errno and writes "file:line: what is wrong" into err. */
int config__load(struct config *cfg, const char *path, char *err);

void config__free(struct config *cfg);

/* Replaces a string setting (owned by cfg). */
void config__set_str(char **field, const char *value);

/* Prints every key with its default and documentation (for --help and the
 * docs test). */
void config__print_keys(void);

/* Calls fn with every key and its current value in cfg, as the YAML file
 * would spell it ("1s", "true", "512K" as bytes ...), in key order. */
void config__each(const struct config *cfg, void (*fn)(void *ctx, const char *key, const char *value), void *ctx);

#endif
