/* ksight report: a self-contained HTML report of a capture (see
 * src/analysis/report.h for what it shows). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../analysis/report.h"
#include "../lib/clock.h"
#include "cmd.h"
#include "session.h"

static void usage(void)
{
	printf("usage: ksight report [--db PATH | --config FILE] [--from T] [--to T | --last D]\n"
	       "                     --out DIR\n"
	       "\n"
	       "Writes DIR/index.html, one self-contained page (the chart library and the data\n"
	       "are inside it: it opens offline, from a file) with the views of a capture:\n"
	       "events per type over time, syscall rate, latency, distribution and the\n"
	       "slowest calls, page faults by type, I/O latency percentiles per disk,\n"
	       "run-queue latency, CPU, memory usage and available, load averages, pressure,\n"
	       "block and network throughput, TCP states and retransmits, process activity;\n"
	       "anomalies marked on the charts of their metric and listed with their\n"
	       "explanation, and leak suspects when memory_growth_events exists.\n"
	       "\n"
	       "Anomalies come from the anomalies table (the agent's); when the range has\n"
	       "none, the range is replayed through the same detectors and the page says so.\n"
	       "DIR is created if missing.\n"
	       "\n"
	       CLI_HELP_DB_ORDER
	       "\n"
	       "Options:\n"
	       CLI_HELP_DB
	       CLI_HELP_CONFIG
	       "  --from T, --to T  range ('2026-01-02 15:04:05', ISO 8601 or epoch; default all)\n"
	       "  --last D          the last D of the data (e.g. 1h)\n"
	       "  --out DIR         where index.html goes (required)\n"
	       "  -h, --help        this help\n"
	       "\n"
	       "Examples:\n"
	       "  ksight report --out report\n"
	       "  ksight report --db run.db --last 1h --out /tmp/r && xdg-open /tmp/r/index.html\n");
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTION_DB,
		CLI_OPTION_CONFIG,
		CLI_OPTIONS_RANGE,
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common common = { 0 };
	const char *out = NULL;
	char err[STORE_ERR_MAX];
	struct report_stats st;
	struct session s;
	int64_t from, to, t0;
	int opt, rc;

	while ((opt = cli_getopt("report", argc, argv, "ho:", opts)) != -1) {
		if (cli_common_opt(&common, opt, optarg))
			continue;
		switch (opt) {
		case 'o': out = optarg; break;
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("report", "unexpected argument '%s'", argv[optind]);
	if (!out)
		return cli_usage_error("report", "--out DIR is required");
	if ((rc = session__init(&s, "report", &common, SESSION_DB_ONLY)) ||
	    (rc = session__open_store(&s, STORE_READ_ONLY)) ||
	    (rc = cli_time_range("report", s.store, &common.range, &from, &to)))
		goto cleanup;
	if (mkdir(out, 0755) && errno != EEXIST) {
		rc = cli_fail("report", "cannot create %s: %s", out, strerror(errno));
		goto cleanup;
	}
	t0 = clock_mono_ns();
	if (report__write(s.store, from, to, out, &st, err)) {
		rc = cli_fail("report", "%s", err);
		goto cleanup;
	}
	printf("wrote %s/index.html (%.1f MB): %u charts, %llu points, %u tables, %llu anomalies%s, in %.2f s\n",
	       out, (double)st.bytes / 1e6, st.charts, (unsigned long long)st.points, st.tables,
	       (unsigned long long)st.anomalies, st.replayed ? " (replayed)" : "",
	       (double)(clock_mono_ns() - t0) / 1e9);
	rc = EXIT_OK;
cleanup:
	session__close(&s);
	return rc;
}
