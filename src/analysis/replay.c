/* Replays stored rows in tick order (see replay.h). */
#include "replay.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "../detect/extract.h"
#include "../lib/buf.h"
#include "../store/rollup.h"

struct replay {
	const struct replay_cb *cb;
	int64_t cur;                    /* timestamp of the current tick */
	bool open;                      /* a tick is in progress */
};

/* True when the database has column c of table t: one written by an older
 * ksight (opened read-only, so not migrated) lacks the newer ones, which
 * replay as NULL. */
static bool has_column(struct store *s, const struct table *t, const char *c)
{
	char sql[256];
	int64_t n = 1;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'", t->name, c);
	store__query_int(s, sql, &n, NULL);
	return n > 0;
}

static int on_row(void *ctx, int ncols, const struct batch_value *v)
{
	struct replay *r = ctx;
	enum table_id t = (enum table_id)extract_tables[v[0].i];
	int64_t ts = v[1].i;

	(void)ncols;
	if (extract_is_event_table(t)) {
		/* Sorted after the tick rows of their time: an event later
		 * than the open tick belongs to the next one. */
		if (r->open && ts > r->cur) {
			r->cb->on_tick(r->cb->ctx, r->cur);
			r->open = false;
		}
	} else if (!r->open || ts != r->cur) {
		if (r->open)
			r->cb->on_tick(r->cb->ctx, r->cur);
		r->cur = ts;
		r->open = true;
	}
	r->cb->on_row(r->cb->ctx, t, v + 2);
	return 0;
}

/* The SELECT of one extractor table k: raw, or (plan given) the hour,
 * minute and raw rows of its tiers as rollup__from() presents them, with
 * NULL for the columns its rollups lack. */
static void select_table(struct store *s, struct buf *sql, unsigned k, unsigned width, int64_t from_ns,
			 int64_t to_ns, const struct tier_plan *plan)
{
	enum table_id t = (enum table_id)extract_tables[k];
	const struct table *tab = &schema_tables[t];
	bool tiered = plan && plan->tier != TIER_RAW && rollup__class(t) == ROLLUP_METRICS;

	buf_printf(sql, "%sSELECT %u, timestamp", k ? " UNION ALL " : "", k);
	for (unsigned c = 0; c < width; c++) {
		const char *name = c < tab->ncolumns ? tab->columns[c].name : NULL;

		/* Raw rows: columns an older database lacks read as NULL. */
		buf_printf(sql, ", %s", name && (tiered ? rollup__has_column(t, name) : has_column(s, tab, name)) ? name : "NULL");
	}
	if (!tiered) {
		buf_printf(sql, " FROM %s WHERE timestamp BETWEEN %lld AND %lld", tab->name, (long long)from_ns,
			   (long long)to_ns);
		return;
	}
	{
		const char *cols[64];
		char since[24], until[24], hour[24], minute[24];
		unsigned n = 0;

		for (unsigned c = 1; c < tab->ncolumns && n + 1 < sizeof(cols) / sizeof(cols[0]); c++)
			if (rollup__has_column(t, tab->columns[c].name))
				cols[n++] = tab->columns[c].name;
		cols[n] = NULL;
		snprintf(since, sizeof(since), "%lld", (long long)from_ns);
		snprintf(until, sizeof(until), "%lld", (long long)to_ns + 1);
		snprintf(hour, sizeof(hour), "%lld", (long long)plan->hour_until);
		snprintf(minute, sizeof(minute), "%lld", (long long)plan->minute_until);
		buf_adds(sql, " FROM ");
		rollup__from(sql, t, cols, since, until, hour, minute);
	}
}

static int run(struct store *s, int64_t from_ns, int64_t to_ns, const struct tier_plan *plan,
	       const struct replay_cb *cb, char *err)
{
	struct replay r = { .cb = cb };
	struct store_query_cb qcb = { NULL, on_row, &r };
	struct buf sql = BUF_INIT;
	unsigned width = 0;
	int rc;

	for (unsigned k = 0; k < extract_ntables; k++)
		if (schema_tables[extract_tables[k]].ncolumns > width)
			width = schema_tables[extract_tables[k]].ncolumns;
	for (unsigned k = 0; k < extract_ntables; k++)
		select_table(s, &sql, k, width, from_ns, to_ns, plan);
	buf_adds(&sql, " ORDER BY 2, 1");
	rc = store__query(s, sql.data, &qcb, err);
	if (!rc && r.open)
		cb->on_tick(cb->ctx, r.cur);
	buf_free(&sql);
	return rc;
}

int replay__run(struct store *s, int64_t from_ns, int64_t to_ns, const struct replay_cb *cb, char *err)
{
	return run(s, from_ns, to_ns, NULL, cb, err);
}

int replay__run_tiered(struct store *s, int64_t from_ns, int64_t to_ns, const struct replay_cb *cb,
		       enum tier *ret_tier, char *err)
{
	struct tier_plan plan;
	int rc;

	/* Raw where raw rows remain, minute rollups where they are gone,
	 * hour rollups before those: one plan (memory_metrics') for every
	 * table, so the tiers' ticks line up. */
	if ((rc = rollup__plan(s, T_MEMORY_METRICS, from_ns, to_ns + 1, 1, &plan, err)))
		return rc;
	if (plan.hour_until > from_ns)
		*ret_tier = TIER_HOUR;
	else if (plan.minute_until > from_ns)
		*ret_tier = TIER_MINUTE;
	else
		*ret_tier = TIER_RAW;
	plan.tier = *ret_tier;
	return run(s, from_ns, to_ns, &plan, cb, err);
}

int replay__span(struct store *s, int64_t *ret_first, int64_t *ret_last, char *err)
{
	int64_t first, last;
	int rc;

	rc = store__query_int(s, "SELECT min(t) FROM (SELECT min(timestamp) t FROM memory_metrics UNION ALL "
			      "SELECT min(timestamp) FROM load_metrics UNION ALL SELECT min(timestamp) FROM cpu_metrics)",
			      &first, err);
	if (!rc)
		rc = store__query_int(s, "SELECT max(t) FROM (SELECT max(timestamp) t FROM memory_metrics UNION ALL "
				      "SELECT max(timestamp) FROM load_metrics UNION ALL SELECT max(timestamp) FROM cpu_metrics)",
				      &last, err);
	if (rc)
		return rc;
	if (first == 0 && last == 0) {
		snprintf(err, STORE_ERR_MAX, "no data: memory_metrics, load_metrics and cpu_metrics are empty");
		return -ENOENT;
	}
	*ret_first = first;
	*ret_last = last;
	return 0;
}
