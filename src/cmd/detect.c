/* ksight detect: runs the streaming anomaly detector (src/detect/anomaly.c)
 * over a timestamp,value CSV file and writes each row back with its anomaly
 * score, so the detector can be judged on outside data (bench/nab.sh runs
 * it on the Numenta Anomaly Benchmark). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../detect/anomaly.h"
#include "../detect/csv.h"
#include "../lib/parse.h"
#include "cmd.h"

static void usage(void)
{
	printf("usage: ksight detect [--threshold X] [--period D] [--explain] FILE.csv\n"
	       "\n"
	       "Scores every row of a timestamp,value CSV file with the streaming anomaly\n"
	       "detector the agent uses, one sample at a time in file order, and writes\n"
	       "\n"
	       "  timestamp,value,anomaly_score\n"
	       "\n"
	       "to stdout, the timestamp and value text as given.  anomaly_score is in [0, 1]\n"
	       "and a row is a detection exactly when its score is >= 0.5.  The first 150\n"
	       "rows (while the detector learns) score 0, and after a detection the rows of\n"
	       "the same incident score below 0.5 until 30 in a row have looked ordinary.\n"
	       "The operating point is the one for a series read by a person (more\n"
	       "sensitive than the agent's, which watches hundreds of metrics): see\n"
	       "src/detect/anomaly.h and docs/detection.md.\n"
	       "\n"
	       "The first line is a header (unless it reads as a row); the columns named\n"
	       "timestamp and value are used, else the first two; other columns are ignored.\n"
	       "Blank lines are skipped.  FILE '-' reads stdin.\n"
	       "\n"
	       "Timestamps: '2014-04-01 00:00:00' (as in NAB), ISO 8601 with an optional\n"
	       "fraction and zone (no zone means UTC), or epoch numbers, whose size gives the\n"
	       "unit: under 1e11 seconds (decimals allowed), under 1e14 ms, under 1e17 us,\n"
	       "else ns.  A clock that steps back (a daylight-saving change, an NTP\n"
	       "correction) is accepted: the first such line is named on stderr, once, and\n"
	       "every row is still scored in file order, as if its time were that of the\n"
	       "latest row before it.\n"
	       "\n"
	       "Options:\n"
	       "  --threshold X  detect where the detector's own score s reaches X instead of\n"
	       "                 0.45 (0 < X < 1; lower detects more).  The printed score is s\n"
	       "                 rescaled piecewise linearly so that X maps to 0.5: s < X\n"
	       "                 prints 0.5*s/X, s >= X prints 0.5 + 0.5*(s-X)/(1-X).\n"
	       "  --period D     seasonal period (default 1d, e.g. 1h, 7d); 0 turns the\n"
	       "                 time-of-period profile off\n"
	       "  --explain      add expected,low,high,kind columns: what the detector\n"
	       "                 expected, the range a single value could take without being\n"
	       "                 a spike or dip, and the evidence (high, low, pattern, none)\n"
	       "  -h, --help     this help\n"
	       "\n"
	       "Exit status: 0 ok, 1 unreadable or malformed input (the message names the\n"
	       "line), 2 usage error.\n"
	       "\n"
	       "Examples:\n"
	       "  ksight detect bench/nab/data/realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv\n"
	       "  ksight detect --threshold 0.4 cpu.csv | awk -F, '$3 >= 0.5'\n"
	       "  ksight query --csv \"select timestamp, available_kb from memory_metrics\" |\n"
	       "      ksight detect --explain -\n");
}

static const char *kind_name(enum anomaly_kind kind)
{
	switch (kind) {
	case ANOMALY_HIGH: return "high";
	case ANOMALY_LOW: return "low";
	case ANOMALY_PATTERN: return "pattern";
	default: return "none";
	}
}

/* The printed score: >= 0.5 exactly for detections, also after rounding. */
static double shown_score(const struct anomaly_result *r, double threshold)
{
	double s = r->score < threshold ? 0.5 * r->score / threshold
					 : 0.5 + 0.5 * (r->score - threshold) / (1 - threshold);

	if (!r->anomalous && s > 0.499999)
		s = 0.499999;
	return s;
}

int cmd_detect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threshold", required_argument, NULL, 't' },
		{ "period", required_argument, NULL, 'p' },
		{ "explain", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct anomaly_params params;
	struct anomaly *det = NULL;
	struct csv_reader csv;
	const char *path, *name;
	bool explain = false, header_printed = false;
	FILE *in = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long stepped_back = 0;
	int64_t latest_ts = INT64_MIN;
	int opt, rc = EXIT_FAIL;

	anomaly_params_series(&params);
	csv_reader__init(&csv);
	while ((opt = cli_getopt("detect", argc, argv, "h", opts)) != -1) {
		switch (opt) {
		case 't':
			if (parse_double(optarg, &params.threshold) || !(params.threshold > 0 && params.threshold < 1))
				return cli_usage_error("detect", "--threshold: '%s' is not a number between 0 and 1", optarg);
			break;
		case 'p':
			if (parse_duration_ns(optarg, &params.period_ns))
				return cli_usage_error("detect", "--period: '%s' is not a duration", optarg);
			break;
		case 'e': explain = true; break;
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("detect", optind == argc ? "missing FILE.csv (or - for stdin)"
							: "give one FILE.csv");
	path = argv[optind];
	name = strcmp(path, "-") ? path : "<stdin>";
	in = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!in)
		return cli_fail("detect", "cannot open %s: %s", path, strerror(errno));
	det = anomaly__new(&params);
	if (!det) {
		rc = cli_fail("detect", "cannot create the detector: %s", strerror(errno));
		goto cleanup;
	}

	while ((len = getline(&line, &cap, in)) >= 0) {
		char err[CSV_ERR_MAX];
		struct anomaly_result res;
		struct csv_row row;
		int r = csv_reader__line(&csv, line, (size_t)len, &row, err);

		if (csv.header_done && !header_printed) {
			printf("timestamp,value,anomaly_score%s\n", explain ? ",expected,low,high,kind" : "");
			header_printed = true;
		}
		if (r < 0) {
			cli_fail("detect", "%s:%lu: %s", name, csv.lineno, err);
			goto cleanup;
		}
		if (r == 0)
			continue;
		/* The detector wants time that never goes back; rows are kept in
		 * file order, each at the latest time seen so far. */
		if (row.ts < latest_ts) {
			if (!stepped_back++)
				fprintf(stderr, "ksight detect: warning: %s:%lu: timestamp '%s' is earlier than a row "
					"before it (the clock stepped back); scoring in file order\n",
					name, csv.lineno, row.ts_field);
			row.ts = latest_ts;
		}
		latest_ts = row.ts;
		r = anomaly__update(det, row.ts, row.value, &res);
		if (r) {
			cli_fail("detect", "%s:%lu: %s", name, csv.lineno, strerror(-r));
			goto cleanup;
		}
		printf("%.*s,%.*s,%.6f", (int)row.ts_len, row.ts_text, (int)row.value_len, row.value_text,
		       shown_score(&res, params.threshold));
		if (explain)
			printf(",%.6g,%.6g,%.6g,%s", res.expected, res.low, res.high, kind_name(res.kind));
		putchar('\n');
	}
	if (ferror(in)) {
		cli_fail("detect", "cannot read %s: %s", name, strerror(errno));
		goto cleanup;
	}
	if (!csv.header_done) {
		cli_fail("detect", "%s is empty: expected a header line and timestamp,value rows", name);
		goto cleanup;
	}
	if (fflush(stdout) || ferror(stdout)) {
		cli_fail("detect", "cannot write the output: %s", strerror(errno));
		goto cleanup;
	}
	rc = EXIT_OK;
cleanup:
	free(line);
	csv_reader__free(&csv);
	anomaly__free(det);
	if (in && in != stdin)
		fclose(in);
	return rc;
}
