/* GET /api/signals?type=T[&since=][&until=][&limit=][&before=TS,ROWID]
 *
 * Rows of one table, newest first, always bounded (limit 1..10000, default
 * 100).  `type` must name a table of the schema, and only the schema's
 * names reach the SQL text.  Pages are keyset pages: "next" is the
 * (timestamp, rowid) of the last row, which the next request passes as
 * before=, so page N costs what page 1 costs (the timestamp index already
 * orders by rowid within one timestamp).  An answer stops at
 * HTTP_BODY_MAX bytes ("truncated": true, "next" where it stopped), so
 * 10,000 rows of long command lines cannot make one answer tens of MiB.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../lib/buf.h"
#include "../store/schema.h"
#include "../store/store.h"
#include "routes.h"

static int unknown_type(struct http_request *r, const char *type)
{
	struct buf names = BUF_INIT;
	int status;

	for (int t = 0; t < T_COUNT; t++)
		buf_printf(&names, "%s%s", t ? ", " : "", schema_tables[t].name);
	status = http_error(r, 400, "type", type ? "unknown type '%s' (one of: %s)" : "parameter 'type' is missing%s (one of: %s)",
			    type ? type : "", names.data);
	buf_free(&names);
	return status;
}

static int parse_cursor(const char *v, int64_t *ts, int64_t *rowid)
{
	char tail;

	return sscanf(v, "%" SCNd64 ",%" SCNd64 "%c", ts, rowid, &tail) == 2 && *rowid > 0 ? 0 : -EINVAL;
}

int route_signals(struct http_request *r)
{
	const char *type = http_param(r, "type"), *before = http_param(r, "before");
	const struct table *t = type ? schema_find(type) : NULL;
	int64_t since, until, limit, cursor_ts = INT64_MAX, cursor_rowid = INT64_MAX, n = 0, last_ts = 0, last_rowid = 0;
	bool relative = false, truncated = false;
	struct store_stmt *st;
	struct store *store;
	struct buf sql = BUF_INIT;
	char err[STORE_ERR_MAX];
	struct json j;
	int rc, status;

	if (!t)
		return unknown_type(r, type);
	if ((status = http_param_time(r, "since", INT64_MIN, &since, &relative)) ||
	    (status = http_param_time(r, "until", INT64_MAX, &until, &relative)) ||
	    (status = http_param_int(r, "limit", 1, HTTP_MAX_LIMIT, 100, &limit)))
		return status;
	if (before && parse_cursor(before, &cursor_ts, &cursor_rowid))
		return http_error(r, 400, "before", "bad parameter 'before': '%s' is not a cursor TIMESTAMP,ROWID "
				  "(take it from \"next\")", before);
	if (since > until)
		return http_error(r, 400, "since", "bad parameter 'since': it is after 'until'");
	if (!(store = http_store(r)))
		return 503;

	/* The cursor tightens the upper end of the index range, so the scan
	 * starts where the previous page stopped. */
	buf_adds(&sql, "SELECT rowid");
	for (unsigned c = 0; c < t->ncolumns; c++)
		buf_printf(&sql, ", %s", t->columns[c].name);
	buf_printf(&sql, " FROM %s WHERE timestamp >= ?1 AND timestamp <= ?2 AND (timestamp < ?3 OR rowid < ?4) "
		   "ORDER BY timestamp DESC, rowid DESC LIMIT ?5", t->name);
	rc = store__prepare(store, sql.data, &st, err);
	buf_free(&sql);
	if (rc)
		return http_store_error(r, rc, err);
	store_stmt__bind_int(st, 1, since);
	store_stmt__bind_int(st, 2, until < cursor_ts ? until : cursor_ts);
	store_stmt__bind_int(st, 3, cursor_ts);
	store_stmt__bind_int(st, 4, cursor_rowid);
	store_stmt__bind_int(st, 5, limit);

	http_json(r, &j);
	json_obj_begin(&j);
	json_key(&j, "type");
	json_str(&j, t->name);
	json_key(&j, "rows");
	json_arr_begin(&j);
	while ((rc = store_stmt__step(st, err)) == 1) {
		struct batch_value v;

		json_obj_begin(&j);
		for (unsigned c = 0; c < t->ncolumns; c++) {
			store_stmt__value(st, (int)c + 1, &v);
			json_key(&j, t->columns[c].name);
			http_json_value(&j, &v);
		}
		json_obj_end(&j);
		last_rowid = store_stmt__int(st, 0);
		last_ts = store_stmt__int(st, 1);
		n++;
		if (r->body.len >= HTTP_BODY_MAX && n < limit) {
			truncated = true;
			break;
		}
	}
	store_stmt__done(st);
	if (rc < 0)
		return http_store_error(r, rc, err);
	json_arr_end(&j);
	json_key(&j, "count");
	json_int(&j, n);
	json_key(&j, "limit");
	json_int(&j, limit);
	json_key(&j, "truncated");
	json_bool(&j, truncated);
	json_key(&j, "next");
	if (n == limit || truncated) {
		char cursor[48];

		snprintf(cursor, sizeof(cursor), "%" PRId64 ",%" PRId64, last_ts, last_rowid);
		json_str(&j, cursor);
	} else {
		json_null(&j);
	}
	json_obj_end(&j);
	r->cacheable = !relative;
	return 200;
}
