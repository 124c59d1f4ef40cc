/* ksight stress: the end-to-end self test.  Runs every collector into a
 * fresh database while built-in (or stress-ng/fio) workloads load the
 * machine, then shows what was captured for each of the seed system's ten
 * event types and gives a verdict. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../collect/collector.h"
#include "../config/config.h"
#include "../lib/clock.h"
#include "../lib/parse.h"
#include "../load/load.h"
#include "../store/store.h"
#include "../store/writer.h"
#include "cmd.h"
#include "session.h"

#define TYPES 10

/* The seed system's ten event types and the collector that fills each. */
static const struct {
	const char *table;
	const char *collector;
	bool tracer;
	const char *label;
} types[TYPES] = {
	{ "syscall_events", "syscall", true, "eBPF syscall tracer" },
	{ "page_fault_events", "pagefault", true, "eBPF page fault tracer" },
	{ "io_latency_stats", "blockio", true, "eBPF block I/O tracer" },
	{ "sched_events", "sched", true, "eBPF scheduler tracer" },
	{ "memory_metrics", "meminfo", false, "scraper /proc/meminfo" },
	{ "load_metrics", "loadavg", false, "scraper /proc/loadavg" },
	{ "block_stats", "diskstats", false, "scraper /proc/diskstats" },
	{ "network_interface_stats", "net_dev", false, "scraper /proc/net/dev" },
	{ "tcp_stats", "net_tcp", false, "scraper sock_diag" },
	{ "tcp_retransmit_stats", "net_snmp", false, "scraper /proc/net/snmp" },
};

static const char *const extra_tables[] = {
	"process_events", "syscall_stats", "process_cpu_stats", "sched_latency_events", "page_fault_stats",
	"tcp_retransmit_events", "cpu_metrics", "pressure_metrics", "vmstat_metrics",
};

struct progress {
	int64_t start_ns, duration_ns;
	bool tty;
	int last_printed;
};

static const char *green, *red, *bold, *reset;

static void on_tick(void *ctx, struct collector *c, struct batch *b, int64_t now_ns)
{
	struct progress *p = ctx;
	int64_t elapsed = clock_mono_ns() - p->start_ns;
	int total = (int)(p->duration_ns / NSEC_PER_SEC), done = (int)(elapsed / NSEC_PER_SEC), width = 50, fill;

	(void)c;
	(void)b;
	(void)now_ns;
	if (done > total)
		done = total;
	fill = total ? done * width / total : width;
	if (p->tty) {
		printf("\r  Progress: [%.*s%*s] %d/%ds", fill,
		       "==================================================", width - fill, "", done, total);
	} else if (done - p->last_printed >= 10 || done == total) {
		printf("  Progress: %d/%ds\n", done, total);
		p->last_printed = done;
	}
	fflush(stdout);
}

static bool on_signal(void *ctx, struct collector *c, int signo)
{
	(void)ctx;
	(void)c;
	return signo == SIGINT || signo == SIGTERM;
}

static int64_t count_rows(struct store *s, const char *table)
{
	char sql[128];
	int64_t n = -1;

	snprintf(sql, sizeof(sql), "select count(*) from %s", table);
	store__query_int(s, sql, &n, NULL);
	return n;
}

struct print_ctx {
	int rows;
};

static int print_slow(void *ctx, int ncols, const struct batch_value *v)
{
	struct print_ctx *p = ctx;

	(void)ncols;
	printf("  %-15.*s | %-16.*s | %8.2f ms\n", (int)v[0].len, v[0].s, (int)v[1].len, v[1].s,
	       v[2].tag == V_REAL ? v[2].r : (double)v[2].i);
	p->rows++;
	return 0;
}

static int print_faults(void *ctx, int ncols, const struct batch_value *v)
{
	struct print_ctx *p = ctx;

	(void)ncols;
	if (v[2].tag == V_NULL)
		printf("  %-6.*s faults: %10lld (latency unknown here)\n", (int)v[0].len, v[0].s, (long long)v[1].i);
	else
		printf("  %-6.*s faults: %10lld (avg: %.2f µs)\n", (int)v[0].len, v[0].s, (long long)v[1].i,
		       v[2].tag == V_REAL ? v[2].r : (double)v[2].i);
	p->rows++;
	return 0;
}

static void usage(void)
{
	printf("usage: ksight stress [--duration TIME] [--db PATH] [--config FILE]\n"
	       "\n"
	       "The end-to-end self test: starts every collector into a fresh database,\n"
	       "loads the machine (CPU, memory, O_DIRECT disk I/O, a syscall storm, loopback\n"
	       "TCP with an HTTP-like exchange, TCP retransmits in a private network\n"
	       "namespace; stress-ng and fio are used when installed), then prints what was\n"
	       "captured for each of the ten event types and a verdict.  Needs root.\n"
	       "\n"
	       "Exit status: 0 when every type this kernel supports was captured without\n"
	       "parse or insert errors, 1 otherwise, 2 for usage errors.\n"
	       "\n"
	       "Options:\n"
	       "  --duration TIME   load duration (default 60s)\n"
	       "  --db PATH         database to create (default ksight-stress-<time>.db here;\n"
	       "                    never agent.db of the configuration)\n"
	       CLI_HELP_CONFIG
	       "                    (its tracers.* and scrapers.* settings apply)\n"
	       "  -h, --help        this help\n"
	       "\n"
	       "Examples:\n"
	       "  sudo ksight stress\n"
	       "  sudo ksight stress --duration 20s --db /tmp/stress.db\n"
	       "  ksight query --db /tmp/stress.db 'select comm, syscall_name, latency_ns/1e6 from syscall_events\n"
	       "                                    order by latency_ns desc limit 10'\n");
}

/* Colours for the report; none when stdout is not a terminal. */
static void set_colors(void)
{
	bool color = cli_color(STDOUT_FILENO);

	green = color ? "\033[32m" : "";
	red = color ? "\033[31m" : "";
	bold = color ? "\033[1m" : "";
	reset = color ? "\033[0m" : "";
}

/* [1/6]: root and BTF, or why not. */
static int check_prerequisites(void)
{
	printf("[1/6] Checking prerequisites\n");
	if (geteuid() != 0)
		return cli_fail("stress", "needs root for the eBPF tracers (run with sudo)");
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return cli_fail("stress", "no kernel BTF at /sys/kernel/btf/vmlinux: the tracers cannot load");
	printf("  %s✓%s root, kernel BTF\n", green, reset);
	printf("  stress-ng: %s, fio: %s\n", access("/usr/bin/stress-ng", X_OK) ? "not installed (built-in load)" : "found",
	       access("/usr/bin/fio", X_OK) ? "not installed (built-in load)" : "found");
	return EXIT_OK;
}

/* [2/6]: a new database, never one that exists; *dir is its directory
 * (where the disk workload writes). */
static int create_database(struct session *s, char dir[PATH_MAX])
{
	char *slash;
	int rc;

	printf("[2/6] Initializing database\n");
	if (!access(s->cfg.db_path, F_OK))
		return cli_fail("stress", "%s already exists; choose a new --db", s->cfg.db_path);
	if ((rc = session__open_store(s, STORE_READ_WRITE)))
		return rc;
	printf("  %s✓%s %s\n", green, reset, s->cfg.db_path);
	if (!realpath(s->cfg.db_path, dir))
		snprintf(dir, PATH_MAX, ".");
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	return EXIT_OK;
}

/* [3/6]: every collector, each shown on or off with its reason, and the
 * writer. */
static int start_collectors(struct session *s)
{
	int rc;

	printf("[3/6] Starting collectors\n");
	if ((rc = session__start_collector(s, NULL)))
		return rc;
	for (int i = 0; i < TRACER_COUNT; i++) {
		struct tracer *t = collector__tracer(s->col, i);

		printf("  %s%s%s tracer  %-10s %s\n", t->enabled ? green : red, t->enabled ? "✓" : "✗", reset,
		       t->ops->name, t->enabled ? (t->note[0] ? t->note : "") : t->reason);
	}
	for (int i = 0; i < SCRAPER_COUNT; i++) {
		struct scraper *sc = collector__scraper(s->col, i);

		printf("  %s%s%s scraper %-10s %s\n", sc->enabled ? green : red, sc->enabled ? "✓" : "✗", reset,
		       sc->ops->name, sc->enabled ? "" : sc->reason);
	}
	return session__start_writer(s);
}

/* [4/6] and [5/6]: the workloads, and the collectors' loop while they
 * run. */
static void generate_load(struct session *s, const char *dir, int64_t duration_ns)
{
	struct load loads[LOAD_COUNT];
	struct progress prog = { 0 };
	int nloads = 0;

	printf("[4/6] Starting workloads\n");
	for (int k = 0; k < LOAD_COUNT; k++) {
		if (load_spawn(k, dir, duration_ns, &loads[nloads]) == 0) {
			printf("  - %s\n", loads[nloads].what);
			nloads++;
		}
	}
	printf("[5/6] Generating load (%llds)\n", (long long)(duration_ns / NSEC_PER_SEC));
	fflush(stdout);
	prog.start_ns = clock_mono_ns();
	prog.duration_ns = duration_ns;
	prog.tty = isatty(STDOUT_FILENO);
	session__run(s, duration_ns, &(struct collector_hooks){ on_tick, on_signal, &prog });
	if (prog.tty)
		putchar('\n');
	load_stop_all(loads, nloads);
}

/* Why a type recorded nothing, and whether this kernel could have it:
 * a tracer whose hook is missing here is not a failure. */
static const char *why_empty(struct collector *col, int type, bool *ret_supported)
{
	struct tracer *t;
	struct scraper *sc;

	*ret_supported = true;
	if (!types[type].tracer) {
		sc = collector__scraper(col, scraper_find(types[type].collector));
		return sc->enabled ? NULL : sc->reason;
	}
	t = collector__tracer(col, tracer_find(types[type].collector));
	if (t->enabled)
		return NULL;
	*ret_supported = t->state != SOURCE_OFF_MISSING;
	return t->reason;
}

/* [6/6]: what the database holds, per type, and the verdict.  ws: the
 * writer's final figures. */
static int report(struct session *s, const struct writer_stats *ws)
{
	struct store *reader = s->store;
	int64_t total = 0, scrape_errors = 0, kernel_drops = 0;
	int captured = 0, missing_supported = 0;
	bool clean;

	store__query_int(reader, "select coalesce(sum(drops), 0) from collector_stats where kind='scraper'",
			 &scrape_errors, NULL);
	store__query_int(reader, "select coalesce(sum(drops), 0) from collector_stats where kind='tracer'",
			 &kernel_drops, NULL);

	printf("═══════════════════════════════════════════════════════════════\n");
	printf("                         TEST RESULTS\n");
	printf("═══════════════════════════════════════════════════════════════\n\n");
	for (int i = 0; i < T_COUNT; i++) {
		int64_t n = count_rows(reader, schema_tables[i].name);

		total += n > 0 ? n : 0;
	}
	printf("Total rows collected: %lld\n\nEvent types captured:\n\n", (long long)total);
	for (int i = 0; i < TYPES; i++) {
		int64_t n = count_rows(reader, types[i].table);
		bool supported;
		const char *why = why_empty(s->col, i, &supported);

		if (n > 0) {
			captured++;
			printf("  %s✓%s %-26s %9lld rows  (%s)\n", green, reset, types[i].table, (long long)n,
			       types[i].label);
		} else {
			missing_supported += supported;
			printf("  %s✗%s %-26s %9lld rows  (%s) <- %s\n", red, reset, types[i].table, 0LL, types[i].label,
			       why ? why : "enabled but nothing recorded");
		}
	}
	printf("\nAlso captured:\n");
	for (size_t i = 0; i < sizeof(extra_tables) / sizeof(extra_tables[0]); i++)
		printf("    %-26s %9lld rows\n", extra_tables[i], (long long)count_rows(reader, extra_tables[i]));

	printf("\n───────────────────────────────────────────────────────────────\n");
	printf("Captured: %d/%d event types\n", captured, TYPES);
	printf("Parse errors: %lld   insert errors: %llu   rows dropped by the store: %llu   kernel drops: %lld\n",
	       (long long)scrape_errors, (unsigned long long)ws->write_errors, (unsigned long long)ws->rows_dropped,
	       (long long)kernel_drops);
	clean = !scrape_errors && !ws->write_errors && !ws->rows_dropped;
	if (captured == TYPES && clean) {
		printf("\n%s%s✓ SUCCESS%s - all %d event types captured\n", bold, green, reset, TYPES);
		return EXIT_OK;
	}
	if (!missing_supported && clean) {
		printf("\n%s✓ SUCCESS for this kernel%s - %d/%d captured; the rest are not supported here (see above)\n",
		       green, reset, captured, TYPES);
		return EXIT_OK;
	}
	printf("\n%s%s✗ PARTIAL%s - %d/%d captured", bold, red, reset, captured, TYPES);
	if (missing_supported)
		printf("; %d supported type(s) recorded nothing", missing_supported);
	if (!clean)
		printf("; parse/insert errors or dropped rows");
	printf("\n");
	return EXIT_FAIL;
}

/* The samples after the verdict: the slowest syscalls and the page faults. */
static void print_samples(struct session *s)
{
	struct print_ctx pc = { 0 };

	printf("\nSample slow syscalls:\n");
	store__query(s->store, "select comm, syscall_name, latency_ns / 1e6 from syscall_events "
			       "order by latency_ns desc limit 5", &(struct store_query_cb){ NULL, print_slow, &pc },
		     NULL);
	if (!pc.rows)
		printf("  (none)\n");
	printf("\nPage fault summary:\n");
	/* Mean latency weighted by each interval's count. */
	store__query(s->store,
		     "select 'minor', sum(minor), sum(minor_avg_us * minor) / sum(case when minor_avg_us "
		     "is not null then minor end) from page_fault_stats "
		     "union all select 'major', sum(major), sum(major_avg_us * major) / sum(case when "
		     "major_avg_us is not null then major end) from page_fault_stats",
		     &(struct store_query_cb){ NULL, print_faults, &pc }, NULL);
	printf("\n═══════════════════════════════════════════════════════════════\n");
	printf("Database: %s\n", s->cfg.db_path);
	printf("Explore:  %s query --db %s \"select * from io_latency_stats order by timestamp desc limit 5\"\n",
	       program_invocation_name, s->cfg.db_path);
}

int cmd_stress(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "duration", required_argument, NULL, 't' },
		CLI_OPTION_DB,
		CLI_OPTION_CONFIG,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common common = { 0 };
	char dbbuf[PATH_MAX], dir[PATH_MAX];
	struct session s;
	struct writer_stats ws;
	int64_t duration_ns = 60 * NSEC_PER_SEC;
	int opt, rc;

	while ((opt = cli_getopt("stress", argc, argv, "h", opts)) != -1) {
		if (cli_common_opt(&common, opt, optarg))
			continue;
		switch (opt) {
		case 't':
			if (parse_duration_ns(optarg, &duration_ns) || duration_ns < NSEC_PER_SEC)
				return cli_usage_error("stress", "--duration: '%s' is not a duration of at least 1s", optarg);
			break;
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("stress", "unexpected argument '%s'", argv[optind]);
	set_colors();
	/* A fresh database each time, never the agent's. */
	if (!common.db) {
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		strftime(dbbuf, sizeof(dbbuf), "ksight-stress-%Y%m%d-%H%M%S.db", &tm);
		common.db = dbbuf;
	}
	if ((rc = session__init(&s, "stress", &common, SESSION_SETTINGS)))
		goto out;
	printf("%sKernelSight stress test%s: all collectors + generated load + validation\n\n", bold, reset);
	if ((rc = check_prerequisites()) || (rc = create_database(&s, dir)) || (rc = start_collectors(&s)))
		goto out;
	generate_load(&s, dir, duration_ns);
	printf("[6/6] Stopping collectors and analyzing results\n\n");
	session__stop_writer(&s, 30 * NSEC_PER_SEC, &ws);
	if ((rc = session__open_store(&s, STORE_READ_ONLY)))
		goto out;
	rc = report(&s, &ws);
	print_samples(&s);
out:
	session__close(&s);
	return rc;
}
