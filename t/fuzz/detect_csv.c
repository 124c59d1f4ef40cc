/* Fuzz target: the CSV and timestamp reader of `ksight detect`
 * (src/detect/csv.c, parse_time_ns in src/lib/parse.c), and the detector
 * it feeds (src/detect/anomaly.c) at the command's operating point, the
 * way score_line() in src/cmd/detect.c runs them: a row earlier than one
 * before it is scored at the latest time seen, and the first error stops.
 *
 * Input: the CSV file.  Each line is copied into a buffer of exactly its
 * size plus the NUL (as getline gives it) so ASan sees any read or write
 * past it.  A row's echoed text must lie inside the line, and a score
 * must be in [0, 1]. */
#include <math.h>

#include "../../src/detect/anomaly.h"
#include "../../src/detect/csv.h"
#include "../lib/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	int64_t latest_ts = INT64_MIN;
	struct anomaly_params params;
	struct csv_reader csv;
	struct anomaly *det;

	anomaly_params_series(&params);
	if (!(det = anomaly__new(&params)))
		fuzz_die("anomaly__new: %s", strerror(errno));
	csv_reader__init(&csv);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		char *line = fuzz_strndup(p, len), err[CSV_ERR_MAX];
		struct anomaly_result res;
		struct csv_row row;
		int r = csv_reader__line(&csv, line, len, &row, err);

		p += len;
		if (r > 0) {
			if (row.ts_text < csv.copy || row.ts_text + row.ts_len > csv.copy + csv.copy_cap ||
			    row.value_text < csv.copy || row.value_text + row.value_len > csv.copy + csv.copy_cap)
				fuzz_die("line %lu: a field's text is outside the line", csv.lineno);
			if (!row.ts_field || !*row.ts_field)
				fuzz_die("line %lu: a row without its timestamp field", csv.lineno);
			latest_ts = row.ts = row.ts < latest_ts ? latest_ts : row.ts;
			r = anomaly__update(det, row.ts, row.value, &res);
			if (!r && !(res.score >= 0 && res.score <= 1))
				fuzz_die("line %lu: score %g is outside [0, 1]", csv.lineno, res.score);
		} else if (r < 0 && (!err[0] || strlen(err) >= CSV_ERR_MAX)) {
			fuzz_die("line %lu: an error without a message", csv.lineno);
		}
		free(line);
		if (r < 0)
			break;          /* the command stops at the first error */
	}
	csv_reader__free(&csv);
	anomaly__free(det);
	return 0;
}
