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

/* Reading one CSV file: where we are in it and what came before. */
struct scorer {
	const char *name;            /* the file, or "<stdin>", for messages */
	struct anomaly *det;
	double threshold;
	bool explain, header_printed;
	struct csv_reader csv;       /* lines -> rows (src/detect/csv.c) */
	unsigned long stepped_back;
	int64_t latest_ts;
};

/* Scores one line as getline() read it (len bytes, its end of line
 * included or not, modified in place): prints the header before the first,
 * then one output row per data row.  Returns EXIT_OK, or EXIT_FAIL after
 * naming the line. */
static int score_line(struct scorer *sc, char *line, size_t len)
{
	char err[CSV_ERR_MAX];
	struct anomaly_result res;
	struct csv_row row;
	int r = csv_reader__line(&sc->csv, line, len, &row, err);

	if (sc->csv.header_done && !sc->header_printed) {
		printf("timestamp,value,anomaly_score%s\n", sc->explain ? ",expected,low,high,kind" : "");
		sc->header_printed = true;
	}
	if (r < 0)
		return cli_fail("detect", "%s:%lu: %s", sc->name, sc->csv.lineno, err);
	if (r == 0)
		return EXIT_OK;
	/* The detector wants time that never goes back; rows are kept in
	 * file order, each at the latest time seen so far. */
	if (row.ts < sc->latest_ts) {
		if (!sc->stepped_back++)
			fprintf(stderr, "ksight detect: warning: %s:%lu: timestamp '%s' is earlier than a row "
				"before it (the clock stepped back); scoring in file order\n",
				sc->name, sc->csv.lineno, row.ts_field);
		row.ts = sc->latest_ts;
	}
	sc->latest_ts = row.ts;
	if ((r = anomaly__update(sc->det, row.ts, row.value, &res)))
		return cli_fail("detect", "%s:%lu: %s", sc->name, sc->csv.lineno, strerror(-r));
	printf("%.*s,%.*s,%.6f", (int)row.ts_len, row.ts_text, (int)row.value_len, row.value_text,
	       shown_score(&res, sc->threshold));
	if (sc->explain)
		printf(",%.6g,%.6g,%.6g,%s", res.expected, res.low, res.high, kind_name(res.kind));
	putchar('\n');
	return EXIT_OK;
}

/* Scores every line of in; EXIT_OK or EXIT_FAIL (printed). */
static int score_file(struct scorer *sc, FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = EXIT_OK;

	while (rc == EXIT_OK && (len = getline(&line, &cap, in)) >= 0)
		rc = score_line(sc, line, (size_t)len);
	free(line);
	if (rc)
		return rc;
	if (ferror(in))
		return cli_fail("detect", "cannot read %s: %s", sc->name, strerror(errno));
	if (!sc->csv.header_done)
		return cli_fail("detect", "%s is empty: expected a header line and timestamp,value rows", sc->name);
	if (fflush(stdout) || ferror(stdout))
		return cli_fail("detect", "cannot write the output: %s", strerror(errno));
	return EXIT_OK;
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
	struct scorer sc = { .latest_ts = INT64_MIN };
	struct anomaly_params params;
	const char *path;
	FILE *in;
	int opt, rc;

	anomaly_params_series(&params);
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
		case 'e': sc.explain = true; break;
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("detect", optind == argc ? "missing FILE.csv (or - for stdin)"
							: "give one FILE.csv");
	path = argv[optind];
	sc.name = strcmp(path, "-") ? path : "<stdin>";
	sc.threshold = params.threshold;
	if (!(in = strcmp(path, "-") ? fopen(path, "r") : stdin))
		return cli_fail("detect", "cannot open %s: %s", path, strerror(errno));
	csv_reader__init(&sc.csv);
	if (!(sc.det = anomaly__new(&params)))
		rc = cli_fail("detect", "cannot create the detector: %s", strerror(errno));
	else
		rc = score_file(&sc, in);
	csv_reader__free(&sc.csv);
	anomaly__free(sc.det);
	if (in != stdin)
		fclose(in);
	return rc;
}
