/* Baselines in the database (see baseline_db.h). */
#include "baseline_db.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct latest {
	int (*fn)(void *ctx, const struct baseline_row *row);
	void *ctx;
};

static double real(const struct batch_value *v)
{
	return v->tag == V_REAL ? v->r : v->tag == V_INT ? (double)v->i : NAN;
}

static char *text(const struct batch_value *v)
{
	return v->tag == V_TEXT ? strndup(v->s, v->len) : NULL;
}

static int on_row(void *ctx, int ncols, const struct batch_value *v)
{
	struct latest *l = ctx;
	struct baseline_row row = { 0 };
	double sd;
	int rc;

	(void)ncols;
	row.saved_ns = v[0].i;
	row.metric = text(&v[1]);
	row.source = text(&v[2]);
	row.unit = text(&v[3]);
	row.bl.from_ns = v[4].tag == V_INT ? v[4].i : 0;
	row.bl.to_ns = v[5].tag == V_INT ? v[5].i : 0;
	row.bl.n = real(&v[6]);
	row.bl.half_life_s = isnan(real(&v[7])) ? 0 : real(&v[7]);
	row.bl.mean = real(&v[8]);
	sd = real(&v[9]);
	row.bl.var = sd * sd;
	row.bl.median = real(&v[10]);
	row.bl.mad = real(&v[11]);
	row.bl.p05 = real(&v[12]);
	row.bl.p95 = real(&v[13]);
	row.bl.min = real(&v[14]);
	row.bl.max = real(&v[15]);
	row.profile = text(&v[16]);
	row.bl.nexact = BASELINE_EXACT;
	if (isnan(row.bl.n))
		row.bl.n = 0;
	baseline__profile_parse(&row.bl, row.profile);
	rc = row.metric ? l->fn(l->ctx, &row) : 0;
	free((char *)row.metric);
	free((char *)row.source);
	free((char *)row.unit);
	free((char *)row.profile);
	return rc;
}

int baseline_db__latest(struct store *s, int (*fn)(void *ctx, const struct baseline_row *row), void *ctx,
			char *err)
{
	struct latest l = { fn, ctx };
	struct store_query_cb cb = { NULL, on_row, &l };
	int64_t exists = 0;
	int rc;

	rc = store__query_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'baselines'",
			      &exists, err);
	if (rc || !exists)
		return rc;
	return store__query(s,
			    "SELECT timestamp, metric, source, unit, from_ts, to_ts, samples, half_life_s, mean, sd,"
			    " median, mad, p05, p95, min, max, profile FROM baselines"
			    " JOIN (SELECT metric AS m, max(timestamp) AS t FROM baselines GROUP BY metric)"
			    " ON metric = m AND timestamp = t ORDER BY metric",
			    &cb, err);
}
