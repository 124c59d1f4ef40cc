/* The routes table, the helpers every handler uses (JSON answers and
 * errors, parameter parsers, the agent's and the database's common keys),
 * and the two routes that serve bytes already in memory: /metrics (the
 * snapshot's text) and the dashboard (files built into the binary). */
#include "routes.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../lib/clock.h"
#include "../lib/parse.h"
#include "../store/batch.h"
#include "../version.h"
#include "assets.h"
#include "server.h"
#include "snapshot.h"

static const char *const no_params[] = { NULL };
static const char *const signals_params[] = { "type", "since", "until", "limit", "before", NULL };
static const char *const window_params[] = { "window", "since", "until", NULL };
static const char *const series_params[] = { "since", "until", "step", NULL };
static const char *const processes_params[] = { "window", "sort", "limit", NULL };
static const char *const process_params[] = { "pid", "start", "limit", NULL };

const struct route routes[] = {
	{ "/api/health", route_health, no_params,
	  "status, version, uptime, kernel, every collector (enabled or why not, events, drops), database size", true },
	{ "/api/signals", route_signals, signals_params,
	  "rows of one table (type=), newest first, limit <= 10000, keyset pagination with before=" },
	{ "/api/stats", route_stats, window_params,
	  "over a window: rows and rates per table, slow syscalls, I/O latency per disk, faults, run queue, TCP" },
	{ "/api/agent/status", route_agent_status, no_params,
	  "the agent and its detectors now: leak suspects, latest anomalies" },
	{ "/api/diagnostics", route_diagnostics, no_params,
	  "recent warnings, collector errors, store health, the configuration in use" },
	{ "/api/series", route_series, series_params, "the dashboard's time series, averaged per step" },
	{ "/api/processes", route_processes, processes_params,
	  "the processes that ran over a window (default 10s), ranked by sort=cpu|runq|rss|slow, limit <= 1000, "
	  "with cgroup and start_ns" },
	{ "/api/process", route_process, process_params,
	  "one process's timeline (pid=, start= from /api/processes): exec/exit, slow calls, leak and remediation "
	  "rows (limit <= 1000), CPU, fault and RSS series" },
	{ "/metrics", route_metrics, no_params, "Prometheus text format, refreshed every tick while scraped", true },
};

const unsigned nroutes = sizeof(routes) / sizeof(routes[0]);

const struct route *route_find(const char *path)
{
	for (unsigned i = 0; i < nroutes; i++)
		if (!strcmp(routes[i].path, path))
			return &routes[i];
	return NULL;
}

void http_json(struct http_request *r, struct json *j)
{
	buf_reset(&r->body);
	json_init(j, &r->body);
	r->content_type = "application/json";
}

int http_error(struct http_request *r, int status, const char *param, const char *fmt, ...)
{
	char msg[512];
	struct json j;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_json(r, &j);
	json_obj_begin(&j);
	json_key(&j, "status");
	json_int(&j, status);
	json_key(&j, "error");
	json_str(&j, msg);
	if (param) {
		json_key(&j, "parameter");
		json_str(&j, param);
	}
	json_obj_end(&j);
	r->data = NULL;
	r->cacheable = false;
	return status;
}

int http_param_int(struct http_request *r, const char *name, int64_t min, int64_t max, int64_t def, int64_t *ret)
{
	const char *v = http_param(r, name);
	int64_t x;

	if (!v) {
		*ret = def;
		return 0;
	}
	if (parse_i64(v, &x))
		return http_error(r, 400, name, "bad parameter '%s': '%s' is not a whole number", name, v);
	if (x < min || x > max)
		return http_error(r, 400, name, "bad parameter '%s': %" PRId64 " is outside [%" PRId64 ", %" PRId64 "]",
				  name, x, min, max);
	*ret = x;
	return 0;
}

int http_param_time(struct http_request *r, const char *name, int64_t def, int64_t *ret, bool *relative)
{
	const char *v = http_param(r, name);
	int64_t x;

	if (!v) {
		*ret = def;
		return 0;
	}
	if (v[0] == '-') {
		if (parse_duration_ns(v + 1, &x) || x < 0 || x > r->now_ns)
			return http_error(r, 400, name, "bad parameter '%s': '%s' is not a duration before now (e.g. -5m)",
					  name, v);
		*ret = r->now_ns - x;
		*relative = true;
		return 0;
	}
	if (parse_time_ns(v, &x))
		return http_error(r, 400, name,
				  "bad parameter '%s': '%s' is not a time (ns since the epoch, ISO 8601, or -5m for "
				  "five minutes ago)", name, v);
	/* Times are bounded (epoch .. a day from now) so that differences and
	 * loops over them never overflow. */
	if (x < 0 || x > r->now_ns + 86400 * NSEC_PER_SEC)
		return http_error(r, 400, name, "bad parameter '%s': %s is before 1970 or more than a day ahead",
				  name, v);
	*ret = x;
	return 0;
}

int http_param_duration(struct http_request *r, const char *name, int64_t min, int64_t max, int64_t def,
			int64_t *ret)
{
	const char *v = http_param(r, name);
	int64_t x;

	if (!v) {
		*ret = def;
		return 0;
	}
	if (parse_duration_ns(v, &x))
		return http_error(r, 400, name, "bad parameter '%s': '%s' is not a duration (e.g. 30s, 5m, 1h)", name, v);
	if (x < min || x > max)
		return http_error(r, 400, name, "bad parameter '%s': %s is outside [%gs, %gs]", name, v,
				  (double)min / 1e9, (double)max / 1e9);
	*ret = x;
	return 0;
}

void http_json_value(struct json *j, const struct batch_value *v)
{
	switch (v->tag) {
	case V_INT: json_int(j, v->i); break;
	case V_REAL: json_double(j, v->r); break;
	case V_TEXT: json_strn(j, v->s, v->len); break;
	case V_BLOB: {
		/* Histograms (store/histblob.h): hex, as SQLite's hex() spells it. */
		static const char digits[] = "0123456789ABCDEF";
		char hex[2 * 512 + 1];
		uint32_t n = v->len < 512 ? v->len : 512;

		for (uint32_t i = 0; i < n; i++) {
			hex[2 * i] = digits[(unsigned char)v->s[i] >> 4];
			hex[2 * i + 1] = digits[(unsigned char)v->s[i] & 15];
		}
		json_strn(j, hex, 2 * n);
		break;
	}
	default: json_null(j); break;
	}
}

void http_json_agent(struct json *j, const struct http_request *r)
{
	const struct snapshot *s = r->snap;

	json_key(j, "version");
	json_str(j, KSIGHT_VERSION);
	json_key(j, "started_at_ns");
	json_int(j, s->started_ns);
	json_key(j, "uptime_s");
	json_double(j, (double)(r->now_ns - s->started_ns) / 1e9);
	json_key(j, "last_tick_ns");
	json_int(j, s->time_ns);
	json_key(j, "ticks");
	json_uint(j, s->generation);
}

void http_json_database(struct json *j, const struct http_request *r)
{
	const struct snapshot *s = r->snap;

	json_key(j, "path");
	json_str(j, http_server__config(r->server)->db_path);
	json_key(j, "size_bytes");
	json_int(j, s->db_bytes);
	json_key(j, "rows_written");
	json_uint(j, s->store.rows_written);
	json_key(j, "rows_dropped");
	json_uint(j, s->store.rows_dropped);
	json_key(j, "rows_queued");
	json_uint(j, s->store.rows_queued);
	json_key(j, "retention");
	if (!s->store.retaining) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_key(j, "cap_bytes");
	json_int(j, s->store.retention.cap_bytes);
	json_key(j, "rows_pruned");
	json_uint(j, s->store.retention.rows_pruned);
	json_key(j, "bytes_freed");
	json_uint(j, s->store.retention.bytes_freed);
	json_key(j, "rolled_up_until_ns");
	json_obj_begin(j);
	json_key(j, "minute");
	json_int(j, s->store.retention.minute_mark);
	json_key(j, "hour");
	json_int(j, s->store.retention.hour_mark);
	json_obj_end(j);
	json_key(j, "last_error");
	json_str(j, s->store.retention.last_error ? s->store.retention.last_error_msg : NULL);
	json_obj_end(j);
}

int route_metrics(struct http_request *r)
{
	struct snapshot *s;
	int64_t wait_ns;

	if (!r->snap)
		return http_error(r, 503, NULL, "the agent is starting: no tick yet");
	/* Ticks render the text only while someone scrapes: after a quiet
	 * spell this request waits for the next one. */
	wait_ns = 2 * r->snap->interval_ns + 2000000000LL;
	if (!(s = snapshots__get_metrics(http_server__snapshots(r->server), wait_ns)))
		return http_error(r, 503, NULL, "no tick within %.0f s to render the metrics", (double)wait_ns / 1e9);
	snapshot__put(r->snap);
	r->snap = s;
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
	r->data = r->snap->metrics;
	r->data_len = r->snap->metrics_len;
	/* The response keeps the snapshot alive until it is sent. */
	__atomic_add_fetch(&r->snap->refs, 1, __ATOMIC_RELAXED);
	r->data_owner = r->snap;
	return 200;
}

int route_asset(struct http_request *r)
{
	const struct asset *a = asset_find(!strcmp(r->path, "/") ? "/index.html" : r->path);

	if (!a)
		return http_error(r, 404, NULL, "no such file: %s", r->path);
	r->content_type = a->type;
	r->data = a->data;
	r->data_len = a->len;
	r->no_store = false;
	return 200;
}
