/* ksight leaks: processes suspected of leaking memory.
 *
 * From the database (default): one line per process the leak detector ever
 * suspected or watches now, current suspects first, from its
 * memory_growth_events rows (a process only ever watched and no longer is
 * was a warm-up: left out).
 * With --live: runs the rss tracer alone (no database) and prints each row
 * as the detector writes it, until Ctrl-C or --duration.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../collect/collector.h"
#include "../lib/buf.h"
#include "../lib/json.h"
#include "../lib/parse.h"
#include "../store/batch.h"
#include "../scrape/procfs.h"
#include "../store/store.h"
#include "cmd.h"
#include "session.h"

static void usage(void)
{
	printf("usage: ksight leaks [--db PATH | --config FILE] [--json]\n"
	       "       ksight leaks --live [--duration TIME] [--json] [--config FILE]\n"
	       "\n"
	       "Lists processes whose memory grows like a leak: the growth pattern (linear,\n"
	       "accelerating, oscillating, burst), its rate, the detector's confidence, the\n"
	       "memory cgroup limit that applies and when the process will reach it at this\n"
	       "rate (or use up MemAvailable when it has no limit).  Current suspects come\n"
	       "first; watching: growth that may still be a warm-up (low confidence, not a\n"
	       "suspect yet); resolved ones stopped growing or freed the memory, exited ones\n"
	       "ended (gone: ended while no agent was watching).\n"
	       "\n"
	       "The agent finds them (rss tracer, table memory_growth_events).  --live runs\n"
	       "only that tracer, without a database, and prints suspects as they are found\n"
	       "(needs root, or CAP_BPF + CAP_PERFMON).\n"
	       "\n"
	       CLI_HELP_DB_ORDER
	       "\n"
	       "Options:\n"
	       CLI_HELP_DB
	       CLI_HELP_CONFIG
	       "                    (with --live: its tracers.rss.* settings)\n"
	       "  --json            JSON: an array (database), one object per line (--live)\n"
	       "  --live            trace now instead of reading the database\n"
	       "  --duration TIME   with --live: stop after TIME (e.g. 30, 30s, 5m)\n"
	       "  -h, --help        this help\n"
	       "\n"
	       "Examples:\n"
	       "  ksight leaks\n"
	       "  ksight leaks --db /var/lib/ksight/host.db --json\n"
	       "  sudo ksight leaks --live --duration 60\n"
	       "  ksight query \"select datetime(timestamp/1e9, 'unixepoch') t, pid, comm, status, pattern,\n"
	       "                growth_rate_bytes_per_s, time_to_limit_s from memory_growth_events\"\n");
}

/* ---- human units ---- */

static void human_bytes(char *out, size_t size, double v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (fabs(v) >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void human_seconds(char *out, size_t size, double s)
{
	if (s < 0 || isnan(s))
		snprintf(out, size, "-");
	else if (s < 100)
		snprintf(out, size, "%.1fs", s);
	else if (s < 3600)
		snprintf(out, size, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
	else if (s < 86400 * 2)
		snprintf(out, size, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
	else
		snprintf(out, size, "%.1fd", s / 86400);
}

static void human_time(char *out, size_t size, int64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000LL);
	struct tm tm;

	if (!localtime_r(&sec, &tm) || !strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(out, size, "?");
}

/* ---- one suspect, from a row ---- */

struct suspect {
	int64_t timestamp, pid, process_start, first_ns, rows;
	char comm[64], status[16], pattern[16], cgroup[256], limit_source[16];
	double rate, confidence, ttl;
	int64_t rss, limit, headroom;
	bool has_limit, has_ttl, has_headroom;
};

static const char *text_of(const struct batch_value *v, char *out, size_t size)
{
	if (v->tag != V_TEXT) {
		snprintf(out, size, "%s", v->tag == V_NULL ? "" : "?");
		return out;
	}
	snprintf(out, size, "%.*s", (int)v->len, v->s);
	return out;
}

static double real_of(const struct batch_value *v)
{
	return v->tag == V_REAL ? v->r : v->tag == V_INT ? (double)v->i : NAN;
}

static void print_header(void)
{
	printf("%-7s  %-15s  %-8s  %-12s  %11s  %10s  %4s  %-22s  %9s  %-19s  %s\n", "PID", "COMM", "STATUS",
	       "PATTERN", "RATE", "RSS", "CONF", "LIMIT", "FULL IN", "FIRST SEEN", "CGROUP");
}

static void print_line(const struct suspect *s)
{
	char rate[32], rss[32], limit[48], ttl[32], first[32], lim[32], comm[4 * 64], cgroup[4 * 256];

	human_bytes(rate, sizeof(rate) - 2, s->rate);
	strcat(rate, "/s");
	human_bytes(rss, sizeof(rss), (double)s->rss);
	if (s->has_limit) {
		human_bytes(lim, sizeof(lim), (double)s->limit);
		snprintf(limit, sizeof(limit), "%s (cgroup)", lim);
	} else if (s->has_headroom) {
		human_bytes(lim, sizeof(lim), (double)s->headroom);
		snprintf(limit, sizeof(limit), "none (%s free)", lim);
	} else {
		snprintf(limit, sizeof(limit), "none");
	}
	human_seconds(ttl, sizeof(ttl), s->has_ttl ? s->ttl : -1);
	human_time(first, sizeof(first), s->first_ns);
	/* comm and cgroup come from the processes themselves: escaped. */
	cli_escape_to(comm, sizeof(comm), s->comm, strlen(s->comm));
	cli_escape_to(cgroup, sizeof(cgroup), s->cgroup, strlen(s->cgroup));
	printf("%-7" PRId64 "  %-15s  %-8s  %-12s  %11s  %10s  %4.2f  %-22s  %9s  %-19s  %s\n", s->pid, comm,
	       s->status, s->pattern, rate, rss, s->confidence, limit, ttl, first, cgroup[0] ? cgroup : "-");
}

static void json_suspect(struct json *j, const struct suspect *s)
{
	json_obj_begin(j);
	json_key(j, "pid"); json_int(j, s->pid);
	json_key(j, "comm"); json_str(j, s->comm);
	json_key(j, "process_start"); json_int(j, s->process_start);
	json_key(j, "status"); json_str(j, s->status);
	json_key(j, "pattern"); json_str(j, s->pattern);
	json_key(j, "growth_rate_bytes_per_s"); json_double(j, s->rate);
	json_key(j, "rss_bytes"); json_int(j, s->rss);
	json_key(j, "confidence"); json_double(j, s->confidence);
	json_key(j, "limit_bytes");
	if (s->has_limit)
		json_int(j, s->limit);
	else
		json_null(j);
	json_key(j, "limit_source");
	if (s->limit_source[0])
		json_str(j, s->limit_source);
	else
		json_null(j);
	json_key(j, "headroom_bytes");
	if (s->has_headroom)
		json_int(j, s->headroom);
	else
		json_null(j);
	json_key(j, "time_to_limit_s");
	if (s->has_ttl)
		json_double(j, s->ttl);
	else
		json_null(j);
	json_key(j, "cgroup");
	if (s->cgroup[0])
		json_str(j, s->cgroup);
	else
		json_null(j);
	json_key(j, "first_seen"); json_int(j, s->first_ns);
	json_key(j, "last_update"); json_int(j, s->timestamp);
	json_key(j, "rows"); json_int(j, s->rows);
	json_obj_end(j);
}

/* ---- from the database ---- */

/* True when the process pid that started at start_ns (epoch) still runs
 * here: /proc/<pid>/stat's start time (clock ticks after boot) plus the
 * boot time matches within two seconds (btime has a one-second grain). */
static bool still_running(int64_t pid, int64_t start_ns)
{
	char path[64], text[4096];
	long long btime = -1, start_ticks = -1;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
	if (procfs_read("", path, text, sizeof(text)) < 0 || !(p = strrchr(text, ')')))
		return false;
	/* ")" ends field 2 (comm); each space starts the next: starttime is 22 */
	for (int field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (sscanf(p, "%lld", &start_ticks) != 1 || procfs_read("", "/proc/stat", text, sizeof(text)) < 0 ||
	    !(p = strstr(text, "\nbtime ")) || sscanf(p, "\nbtime %lld", &btime) != 1)
		return false;
	return llabs(btime * 1000000000LL + start_ticks * (1000000000LL / sysconf(_SC_CLK_TCK)) - start_ns) <
	       2000000000LL;
}

static const char *const list_sql =
	"SELECT m.timestamp, m.pid, m.comm, m.process_start, m.status, m.pattern, m.growth_rate_bytes_per_s,"
	"       m.rss_bytes, m.confidence, m.limit_bytes, m.limit_source, m.headroom_bytes, m.time_to_limit_s,"
	"       m.cgroup, f.first_ts, f.nrows"
	"  FROM memory_growth_events m"
	"  JOIN (SELECT pid, process_start, min(timestamp) AS first_ts, max(timestamp) AS last_ts,"
	"               count(*) AS nrows, max(status = 'suspect') AS suspected"
	"          FROM memory_growth_events GROUP BY pid, process_start) f"
	"    ON f.pid = m.pid AND f.process_start = m.process_start AND f.last_ts = m.timestamp"
	" WHERE f.suspected OR m.status = 'watching'"
	" ORDER BY m.status = 'suspect' DESC, m.status = 'watching' DESC, m.timestamp DESC";

/* A suspect from the values of one memory_growth_events row, in the
 * column order of the queries and of live_row(): timestamp, pid, comm,
 * process_start, status, pattern, rate, rss, confidence, limit,
 * limit_source, headroom, time_to_limit, cgroup, first seen. */
static void suspect_of(const struct batch_value *v, struct suspect *ret)
{
	struct suspect s = { 0 };

	s.timestamp = v[0].i;
	s.pid = v[1].i;
	text_of(&v[2], s.comm, sizeof(s.comm));
	s.process_start = v[3].i;
	text_of(&v[4], s.status, sizeof(s.status));
	text_of(&v[5], s.pattern, sizeof(s.pattern));
	s.rate = real_of(&v[6]);
	s.rss = v[7].i;
	s.confidence = real_of(&v[8]);
	s.has_limit = v[9].tag == V_INT;
	s.limit = v[9].i;
	text_of(&v[10], s.limit_source, sizeof(s.limit_source));
	s.has_headroom = v[11].tag == V_INT;
	s.headroom = v[11].i;
	s.has_ttl = v[12].tag != V_NULL;
	s.ttl = real_of(&v[12]);
	text_of(&v[13], s.cgroup, sizeof(s.cgroup));
	s.first_ns = v[14].i;
	*ret = s;
}

struct lister {
	bool json;
	size_t n;
	struct json j;
	struct buf out;
};

static int on_row(void *ctx, int ncols, const struct batch_value *v)
{
	struct lister *l = ctx;
	struct suspect s = { 0 };

	if (ncols < 16)
		return 0;
	suspect_of(v, &s);
	s.rows = v[15].i;
	/* A suspect (or watched process) that ended while no agent watched. */
	if ((!strcmp(s.status, "suspect") || !strcmp(s.status, "watching")) && !still_running(s.pid, s.process_start))
		snprintf(s.status, sizeof(s.status), "gone");
	if (l->json) {
		json_suspect(&l->j, &s);
	} else {
		if (!l->n)
			print_header();
		print_line(&s);
	}
	l->n++;
	return 0;
}

static int list(struct session *s, bool json)
{
	const char *db = s->cfg.db_path;
	struct store *store;
	char err[STORE_ERR_MAX];
	struct lister l = { .json = json };
	struct store_query_cb cb = { NULL, on_row, &l };
	int64_t has_table = 0;
	int rc;

	if ((rc = session__open_store(s, STORE_READ_ONLY)))
		return rc;
	store = s->store;
	if (store__query_int(store, "SELECT count(*) FROM sqlite_master WHERE name = 'memory_growth_events'",
			     &has_table, err) || !has_table)
		return cli_fail("leaks", "%s has no memory_growth_events table: it was written by an older ksight; "
				"run 'ksight agent --db %s' to add it", db, db);
	json_init(&l.j, &l.out);
	if (json)
		json_arr_begin(&l.j);
	rc = store__query(store, list_sql, &cb, err);
	if (json) {
		json_arr_end(&l.j);
		fwrite(l.out.data, 1, l.out.len, stdout);
		putchar('\n');
	} else if (!rc && !l.n) {
		printf("no leak suspects in %s\n", db);
	}
	buf_free(&l.out);
	if (rc)
		return cli_fail("leaks", "%s", err);
	return EXIT_OK;
}

/* ---- live ---- */

struct live {
	bool json;
	size_t rows;
	struct buf out;
};

static void live_row(struct live *lv, const struct batch *b, uint32_t row)
{
	static const char *const cols[] = {
		"timestamp", "pid", "comm", "process_start", "status", "pattern", "growth_rate_bytes_per_s",
		"rss_bytes", "confidence", "limit_bytes", "limit_source", "headroom_bytes", "time_to_limit_s",
		"cgroup", "timestamp",
	};
	struct batch_value v[15];
	struct suspect s = { 0 };
	struct json j;

	for (int c = 0; c < 15; c++)
		if (!batch__value(b, T_MEMORY_GROWTH_EVENTS, row, cols[c], &v[c]))
			v[c].tag = V_NULL;
	suspect_of(v, &s);
	s.rows = 1;
	if (lv->json) {
		buf_reset(&lv->out);
		json_init(&j, &lv->out);
		json_suspect(&j, &s);
		fwrite(lv->out.data, 1, lv->out.len, stdout);
		putchar('\n');
	} else {
		if (!lv->rows)
			print_header();
		print_line(&s);
	}
	lv->rows++;
}

static void live_tick(void *ctx, struct collector *c, struct batch *b, int64_t now_ns)
{
	struct live *lv = ctx;

	(void)c;
	(void)now_ns;
	for (uint32_t row = 0; row < b->tables[T_MEMORY_GROWTH_EVENTS].rows; row++)
		live_row(lv, b, row);
	fflush(stdout);
	batch__clear(b);        /* no database: nothing else wants the rows */
}

/* --live: the rss tracer alone, no database; s holds the configuration. */
static int live(struct session *s, int64_t duration_ns, bool json)
{
	bool tracers[TRACER_COUNT] = { [TRACER_rss] = true };
	bool scrapers[SCRAPER_COUNT] = { 0 };
	struct collector_opts opts = { tracers, scrapers, true };
	struct live lv = { .json = json };
	struct collector_hooks hooks = { .on_tick = live_tick, .ctx = &lv };
	struct tracer *t;
	int rc;

	if ((rc = session__start_collector(s, &opts)))
		goto cleanup;
	t = collector__tracer(s->col, TRACER_rss);
	if (!t->enabled) {
		rc = cli_fail("leaks", "cannot trace RSS: %s%s", t->reason,
			      t->state == SOURCE_OFF_DENIED ? " (run as root, or with CAP_BPF and CAP_PERFMON)" : "");
		goto cleanup;
	}
	if (!json)
		fprintf(stderr, "ksight leaks: watching every process's memory%s (Ctrl-C stops)\n",
			duration_ns ? " for the given duration" : "");
	if ((rc = session__run(s, duration_ns, &hooks)))
		goto cleanup;
	if (!json)
		fprintf(stderr, "ksight leaks: %zu row%s\n", lv.rows, lv.rows == 1 ? "" : "s");
	rc = EXIT_OK;
cleanup:
	buf_free(&lv.out);
	return rc;
}

int cmd_leaks(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTION_DB,
		CLI_OPTION_CONFIG,
		{ "json", no_argument, NULL, 'j' },
		{ "live", no_argument, NULL, 'l' },
		{ "duration", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common common = { 0 };
	bool json = false, is_live = false;
	int64_t duration_ns = 0;
	struct session s;
	int opt, rc;

	while ((opt = cli_getopt("leaks", argc, argv, "h", opts)) != -1) {
		if (cli_common_opt(&common, opt, optarg))
			continue;
		switch (opt) {
		case 'j': json = true; break;
		case 'l': is_live = true; break;
		case 't':
			if (parse_duration_ns(optarg, &duration_ns) || duration_ns <= 0)
				return cli_usage_error("leaks", "--duration: '%s' is not a duration (e.g. 30, 30s, 5m)",
						       optarg);
			break;
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("leaks", "unexpected argument '%s'", argv[optind]);
	if (is_live && common.db)
		return cli_usage_error("leaks", "--live does not read a database; drop --db");
	if (!is_live && duration_ns)
		return cli_usage_error("leaks", "--duration only applies with --live");
	if (!(rc = session__init(&s, "leaks", &common, is_live ? SESSION_SETTINGS : SESSION_DB_ONLY)))
		rc = is_live ? live(&s, duration_ns, json) : list(&s, json);
	session__close(&s);
	return rc;
}
