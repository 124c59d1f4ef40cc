/* The --from/--to/--last time range shared by baseline, export and report
 * (see cmd.h). */
#include <stdint.h>

#include "../analysis/replay.h"
#include "../lib/parse.h"
#include "cmd.h"

int cli_time_range(const char *cmd, struct store *s, const struct cli_range *r, int64_t *ret_from,
		   int64_t *ret_to)
{
	char err[STORE_ERR_MAX];
	int64_t first, last, from, to, span;

	if (r->last && (r->from || r->to))
		return cli_usage_error(cmd, "--last cannot be combined with --from or --to");
	if (r->last && (parse_duration_ns(r->last, &span) || span <= 0))
		return cli_usage_error(cmd, "--last: '%s' is not a duration (e.g. 30m, 2h)", r->last);
	if (r->from && parse_time_ns(r->from, &from))
		return cli_usage_error(cmd, "--from: '%s' is not a date-time or epoch number", r->from);
	if (r->to && parse_time_ns(r->to, &to))
		return cli_usage_error(cmd, "--to: '%s' is not a date-time or epoch number", r->to);
	if (replay__span(s, &first, &last, err))
		return cli_fail(cmd, "%s: %s", store__path(s), err);
	if (!r->from)
		from = r->last ? last - span : first;
	if (!r->to)
		to = last;
	if (from > to)
		return cli_usage_error(cmd, "the range is empty (--from is after --to)");
	*ret_from = from;
	*ret_to = to;
	return EXIT_OK;
}
