/* ksight actions: the remediation agent's audit trail from the database:
 * every decision with the steps it went through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/json.h"
#include "../store/store.h"
#include "cmd.h"
#include "session.h"

struct printer {
	bool json;
	struct json j;
	struct buf out;
	uint64_t last_id;
	int rows;
};

static int on_row(void *ctx, int ncols, const struct batch_value *v)
{
	static const char *const names[] = { "timestamp", "action_id", "cycle", "status", "mode", "rule", "action",
		"trigger", "target_pid", "target_comm", "target_cgroup", "explanation", "projection", "evidence",
		"result", "llm_narrative" };
	struct printer *p = ctx;
	struct batch_value shown[16] = { 0 };
	struct buf esc[16] = { 0 };
	char when[32];
	time_t secs;
	struct tm tm;

	p->rows++;
	if (p->json) {
		json_obj_begin(&p->j);
		for (int c = 0; c < ncols && c < (int)(sizeof(names) / sizeof(names[0])); c++) {
			json_key(&p->j, names[c]);
			if (v[c].tag == V_INT)
				json_int(&p->j, v[c].i);
			else if (v[c].tag == V_TEXT && c == 13 && v[c].len)
				json_raw(&p->j, v[c].s, v[c].len);   /* evidence is JSON already */
			else if (v[c].tag == V_TEXT)
				json_strn(&p->j, v[c].s, v[c].len);
			else
				json_null(&p->j);
		}
		json_obj_end(&p->j);
		fwrite(p->out.data, 1, p->out.len, stdout);
		buf_reset(&p->out);
		return 0;
	}
	/* Table output: names, paths and LLM text with control characters
	 * escaped (they come from processes and a remote model). */
	for (int c = 0; c < ncols && c < 16; c++) {
		shown[c] = v[c];
		if (v[c].tag == V_TEXT) {
			cli_escape(&esc[c], v[c].s, v[c].len);
			shown[c].s = esc[c].data ? esc[c].data : "";
			shown[c].len = esc[c].len;
		}
	}
	v = shown;
	secs = (time_t)(v[0].i / 1000000000LL);
	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	if ((uint64_t)v[1].i != p->last_id) {
		printf("\n#%lld  %.*s %.*s on %s%.*s%s  [rule %.*s, %.*s mode]\n", (long long)v[1].i, (int)v[6].len, v[6].s,
		       (int)v[7].len, v[7].s, v[8].tag == V_INT ? "" : "the host",
		       v[9].tag == V_TEXT ? (int)v[9].len : 0, v[9].tag == V_TEXT ? v[9].s : "",
		       v[8].tag == V_INT ? "" : "", (int)v[5].len, v[5].s, (int)v[4].len, v[4].s);
		if (v[8].tag == V_INT)
			printf("    target:     pid %lld (%.*s) in %.*s\n", (long long)v[8].i, (int)v[9].len, v[9].s,
			       v[10].tag == V_TEXT ? (int)v[10].len : 1, v[10].tag == V_TEXT ? v[10].s : "/");
		if (v[11].tag == V_TEXT)
			printf("    why:        %.*s\n", (int)v[11].len, v[11].s);
		if (v[12].tag == V_TEXT)
			printf("    projection: %.*s\n", (int)v[12].len, v[12].s);
		p->last_id = (uint64_t)v[1].i;
	}
	printf("    %s  %-11.*s %.*s\n", when, (int)v[3].len, v[3].s, v[14].tag == V_TEXT ? (int)v[14].len : 0,
	       v[14].tag == V_TEXT ? v[14].s : "");
	if (v[15].tag == V_TEXT)
		printf("                         LLM (advisory): %.*s\n", (int)v[15].len, v[15].s);
	for (int c = 0; c < 16; c++)
		buf_free(&esc[c]);
	return 0;
}

static void usage(void)
{
	printf("usage: ksight actions [--db PATH | --config FILE] [--json] [--last N]\n"
	       "\n"
	       "The remediation agent's audit trail: every decision (what was found, what\n"
	       "the rule would or did do, the projected effect) and each step it went\n"
	       "through (observed, recommended, executing, done or failed, effective or\n"
	       "ineffective, undone, explained).\n"
	       "\n"
	       CLI_HELP_DB_ORDER
	       "\n"
	       "Options:\n"
	       CLI_HELP_DB
	       CLI_HELP_CONFIG
	       "  --json            every row as JSON, oldest first\n"
	       "  --last N          only the last N decisions (default 20)\n"
	       "  -h, --help        this help\n"
	       "\n"
	       "Examples:\n"
	       "  ksight actions\n"
	       "  ksight actions --json --last 5 | jq '.[] | select(.status==\"done\")'\n");
}

int cmd_actions(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTION_DB,
		CLI_OPTION_CONFIG,
		{ "json", no_argument, NULL, 'j' },
		{ "last", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common common = { 0 };
	struct printer p = { 0 };
	struct session s;
	char err[STORE_ERR_MAX], sql[512];
	long last = 20;
	int opt, rc;

	while ((opt = cli_getopt("actions", argc, argv, "h", opts)) != -1) {
		if (cli_common_opt(&common, opt, optarg))
			continue;
		switch (opt) {
		case 'j': p.json = true; break;
		case 'n': {
			char *end;

			last = strtol(optarg, &end, 10);
			if (*end || last <= 0)
				return cli_usage_error("actions", "--last: '%s' is not a positive number", optarg);
			break;
		}
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("actions", "unexpected argument '%s'", argv[optind]);
	if ((rc = session__init(&s, "actions", &common, SESSION_DB_ONLY)) ||
	    (rc = session__open_store(&s, STORE_READ_ONLY)))
		goto out;
	snprintf(sql, sizeof(sql),
		 "select timestamp, action_id, cycle, status, mode, rule, action, trigger, target_pid, target_comm, "
		 "target_cgroup, explanation, projection, evidence, result, llm_narrative from agent_actions "
		 "where action_id in (select distinct action_id from agent_actions order by action_id desc limit %ld) "
		 "order by action_id, rowid", last);
	json_init(&p.j, &p.out);
	if (p.json)
		putchar('[');
	rc = store__query(s.store, sql, &(struct store_query_cb){ NULL, on_row, &p }, err) ?
		     cli_fail("actions", "%s", err) : EXIT_OK;
	if (p.json)
		puts("]");
	else if (!rc && !p.rows)
		printf("no remediation decisions recorded in %s\n", s.cfg.db_path);
	else if (!rc)
		putchar('\n');
out:
	buf_free(&p.out);
	session__close(&s);
	return rc;
}
