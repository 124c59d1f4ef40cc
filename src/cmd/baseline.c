/* ksight baseline: learn what is usual for every metric from a stored
 * capture, or show the baselines the database holds (learnt here, or by
 * the agent online). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../analysis/baseline_db.h"
#include "../analysis/history.h"
#include "../detect/watch.h"
#include "../lib/clock.h"
#include "../lib/json.h"
#include "cmd.h"
#include "session.h"

static void usage(void)
{
	printf("usage: ksight baseline learn [--db PATH | --config FILE] [--from T] [--to T | --last D]\n"
	       "       ksight baseline show [--db PATH | --config FILE] [--json]\n"
	       "\n"
	       "learn  computes, for every metric the agent judges (the same samples: see\n"
	       "       docs/detection.md), exact statistics over a stored capture: mean, sd,\n"
	       "       median, MAD, 5th and 95th percentiles, extremes, and a time-of-day\n"
	       "       profile (median and p95 per local hour) when at least 3 hours have\n"
	       "       5 minutes of data each.  They are appended to the `baselines` table;\n"
	       "       the newest row of a metric is its baseline.  A running agent keeps\n"
	       "       learning online (with decay) from the baselines it loaded at start;\n"
	       "       a learnt baseline takes effect when the agent next starts.\n"
	       "show   prints the current baseline of every metric.\n"
	       "\n"
	       CLI_HELP_DB_ORDER
	       "\n"
	       "Options:\n"
	       CLI_HELP_DB
	       CLI_HELP_CONFIG
	       "  --from T          start of the range: '2026-01-02 15:04:05', ISO 8601 or epoch\n"
	       "  --to T            end of the range (default: the end of the data)\n"
	       "  --last D          the last D of the data (e.g. 30m): the quiet end of a test\n"
	       "  --json            show: one JSON array of objects\n"
	       "  -h, --help        this help\n"
	       "\n"
	       "Examples:\n"
	       "  ksight baseline learn --last 30m\n"
	       "  ksight baseline learn --db run.db --from '2026-03-01 02:00' --to '2026-03-01 06:00'\n"
	       "  ksight baseline show\n"
	       "  ksight baseline show --json | jq '.[] | select(.metric | startswith(\"io.\"))'\n");
}

static int32_t utc_offset(void)
{
	time_t now = time(NULL);
	struct tm tm;

	return localtime_r(&now, &tm) ? (int32_t)tm.tm_gmtoff : 0;
}

static int learn(struct session *ses, const struct cli_range *range)
{
	const char *db = ses->cfg.db_path;
	struct history set = { 0 };
	char err[STORE_ERR_MAX];
	struct store *s;
	struct batch b;
	int64_t from, to, now = clock_real_ns();
	int32_t off = utc_offset();
	int rc, profiles = 0;

	batch__init(&b);
	if ((rc = session__open_store(ses, STORE_READ_WRITE)))
		goto cleanup;
	s = ses->store;
	if ((rc = cli_time_range("baseline", s, range, &from, &to)))
		goto cleanup;
	if (history__load(&set, s, from, to, err)) {
		rc = cli_fail("baseline", "cannot read %s: %s", db, err);
		goto cleanup;
	}
	if (!set.n) {
		rc = cli_fail("baseline", "no metric has samples between the given times in %s", db);
		goto cleanup;
	}
	for (size_t i = 0; i < set.n; i++) {
		struct series *m = set.list[i];
		struct baseline bl;

		baseline__from_values(&bl, m->v, m->ts, m->n, off);
		profiles += baseline__has_profile(&bl);
		watch_baseline_row(&b, now, m->name, "learn", m->unit, &bl);
	}
	if (store__write_batch(s, &b, err)) {
		rc = cli_fail("baseline", "cannot store the baselines: %s", err);
		goto cleanup;
	}
	printf("learnt baselines of %zu metrics from %llu ticks (%.0f s of data); %d with a time-of-day profile\n",
	       set.n, (unsigned long long)set.ticks, (double)(to - from) / 1e9, profiles);
	printf("see them with: ksight baseline show --db %s\n", db);
	rc = EXIT_OK;
cleanup:
	history__free(&set);
	batch__free(&b);
	return rc;
}

struct show {
	bool json;
	struct json j;
	struct buf out;
	int rows;
};

static void json_num(struct json *j, const char *key, double v)
{
	json_key(j, key);
	json_double(j, v);
}

static int show_row(void *ctx, const struct baseline_row *r)
{
	struct show *sh = ctx;
	const struct baseline *b = &r->bl;
	char med[32], mad[32], p05[32], p95[32];

	sh->rows++;
	if (sh->json) {
		struct json *j = &sh->j;

		json_obj_begin(j);
		json_key(j, "metric"); json_str(j, r->metric);
		json_key(j, "source"); json_str(j, r->source);
		json_key(j, "unit"); json_str(j, r->unit ? r->unit : "");
		json_key(j, "saved"); json_int(j, r->saved_ns);
		json_key(j, "from_ts"); json_int(j, b->from_ns);
		json_key(j, "to_ts"); json_int(j, b->to_ns);
		json_num(j, "samples", b->n);
		json_num(j, "mean", b->mean);
		json_num(j, "sd", sqrt(b->var));
		json_num(j, "median", b->median);
		json_num(j, "mad", b->mad);
		json_num(j, "p05", b->p05);
		json_num(j, "p95", b->p95);
		json_num(j, "min", b->min);
		json_num(j, "max", b->max);
		json_key(j, "profile");
		if (r->profile) {
			json_arr_begin(j);
			for (int h = 0; h < 24; h++) {
				if (b->hours[h].n < 1)
					continue;
				json_obj_begin(j);
				json_key(j, "hour"); json_int(j, h);
				json_num(j, "samples", b->hours[h].n);
				json_num(j, "median", b->hours[h].median);
				json_num(j, "p95", b->hours[h].p95);
				json_obj_end(j);
			}
			json_arr_end(j);
		} else {
			json_null(j);
		}
		json_obj_end(j);
		return 0;
	}
	watch_format_value(b->median, r->unit ? r->unit : "", med, sizeof(med));
	watch_format_value(b->mad, r->unit ? r->unit : "", mad, sizeof(mad));
	watch_format_value(b->p05, r->unit ? r->unit : "", p05, sizeof(p05));
	watch_format_value(b->p95, r->unit ? r->unit : "", p95, sizeof(p95));
	if (sh->rows == 1)
		printf("%-40s %-6s %9s %12s %12s %12s %12s %s\n", "metric", "source", "samples", "median", "MAD",
		       "p05", "p95", "profile");
	printf("%-40s %-6s %9.0f %12s %12s %12s %12s %s\n", r->metric, r->source ? r->source : "", b->n, med, mad,
	       p05, p95, r->profile ? "hourly" : "-");
	return 0;
}

static int show(struct session *ses, bool json)
{
	const char *db = ses->cfg.db_path;
	struct show sh = { .json = json, .out = BUF_INIT };
	char err[STORE_ERR_MAX];
	int rc;

	if ((rc = session__open_store(ses, STORE_READ_ONLY)))
		return rc;
	json_init(&sh.j, &sh.out);
	if (json)
		json_arr_begin(&sh.j);
	rc = baseline_db__latest(ses->store, show_row, &sh, err);
	if (rc) {
		buf_free(&sh.out);
		return cli_fail("baseline", "cannot read the baselines of %s: %s", db, err);
	}
	if (json) {
		json_arr_end(&sh.j);
		printf("%s\n", sh.out.data);
	} else if (!sh.rows) {
		printf("no baselines in %s yet: run 'ksight baseline learn' or let the agent run a while\n", db);
	}
	buf_free(&sh.out);
	return EXIT_OK;
}

int cmd_baseline(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTION_DB,
		CLI_OPTION_CONFIG,
		CLI_OPTIONS_RANGE,
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common common = { 0 };
	const struct cli_range *range = &common.range;
	const char *action;
	struct session s;
	bool json = false;
	int opt, rc;

	while ((opt = cli_getopt("baseline", argc, argv, "h", opts)) != -1) {
		if (cli_common_opt(&common, opt, optarg))
			continue;
		switch (opt) {
		case 'j': json = true; break;
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("baseline", "say 'learn' or 'show'");
	action = argv[optind];
	if (optind + 1 < argc)
		return cli_usage_error("baseline", "unexpected argument '%s'", argv[optind + 1]);
	if (strcmp(action, "learn") && strcmp(action, "show"))
		return cli_usage_error("baseline", "unknown action '%s' (learn or show)", action);
	if (!strcmp(action, "learn") && json)
		return cli_usage_error("baseline", "--json goes with 'show'");
	if (!strcmp(action, "show") && (range->from || range->to || range->last))
		return cli_usage_error("baseline", "--from, --to and --last go with 'learn'");
	if (!(rc = session__init(&s, "baseline", &common, SESSION_DB_ONLY)))
		rc = !strcmp(action, "learn") ? learn(&s, range) : show(&s, json);
	session__close(&s);
	return rc;
}
