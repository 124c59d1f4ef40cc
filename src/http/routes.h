/* The routes table and what every handler shares.
 *
 * A route is a path, the query parameters it accepts and a handler.  The
 * server (server.c) checks the method, the token, the load and the
 * parameters (unknown or repeated ones are a 400 naming them) before a
 * handler runs; the handler reads parameters with the http_param_*
 * helpers, which answer 400 naming the parameter themselves, writes its
 * answer into r->body and returns the HTTP status.
 *
 * Handlers only read: the snapshot (r->snap) and this thread's read-only
 * database connection (http_store()).  SQL comes from constants and schema
 * names; every value from the request is bound.
 */
#ifndef KS_HTTP_ROUTES_H
#define KS_HTTP_ROUTES_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/buf.h"
#include "../lib/json.h"

struct MHD_Connection;
struct snapshot;
struct snapshots;
struct store;
struct http_server;

#define HTTP_MAX_LIMIT 10000           /* rows per /api/signals page */
#define HTTP_COOKIE_MAX 640
#define HTTP_BODY_MAX (2 << 20)        /* an answer of rows stops past this many bytes (truncated) */
#define HTTP_QUERY_TIME_NS 2000000000LL   /* a request's database time budget */

struct http_request {
	struct MHD_Connection *conn;
	const char *path;
	struct http_server *server;
	struct snapshot *snap;          /* held for the request */
	int64_t now_ns;                 /* wall clock when the request arrived */
	/* the answer */
	struct buf body;
	const char *content_type;       /* default application/json */
	const void *data;               /* instead of body: bytes owned elsewhere ... */
	size_t data_len;
	size_t answer_bytes;            /* set by the server: the body it sent (the client's time budget) */
	struct snapshot *data_owner;    /* ... kept alive by this reference, or static when NULL */
	bool cacheable;                 /* the body depends only on the parameters and the data */
	bool no_store;                  /* Cache-Control: no-store (default for the API) */
	const char *location;           /* Location header (a redirect), or NULL */
	char set_cookie[HTTP_COOKIE_MAX];  /* Set-Cookie header, "" for none */
};

typedef int (*http_handler)(struct http_request *r);

struct route {
	const char *path;
	http_handler fn;
	const char *const *params;      /* accepted query parameters, NULL-terminated */
	const char *summary;
	bool open;                      /* aggregates only: no token needed when the agent made its own */
};

/* The route for path, or NULL (static assets are looked up separately). */
const struct route *route_find(const char *path);
extern const struct route routes[];
extern const unsigned nroutes;

/* ---- handler helpers ---- */

/* The value of query parameter name, or NULL. */
const char *http_param(struct http_request *r, const char *name);

/* Writes {"status":N,"error":"...","parameter":...} into r->body and returns
 * status.  param may be NULL. */
int http_error(struct http_request *r, int status, const char *param, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Parameter parsers: 0 and *ret set (def when absent), or the 400 status
 * with the error written (return it from the handler). */
int http_param_int(struct http_request *r, const char *name, int64_t min, int64_t max, int64_t def,
		   int64_t *ret);
/* A time: ns since the epoch, an epoch in s/ms/us/ns (by magnitude), ISO
 * 8601, or "-5m" (that long before now).  *relative says whether it was
 * relative to now (such answers are not cacheable). */
int http_param_time(struct http_request *r, const char *name, int64_t def, int64_t *ret, bool *relative);
int http_param_duration(struct http_request *r, const char *name, int64_t min, int64_t max, int64_t def,
			int64_t *ret);

/* This thread's read-only database connection (thread.c) with the
 * request's time budget set; NULL with a 503 answer written when it cannot
 * be opened. */
struct store *http_store(struct http_request *r);

/* Answers a failed store call: 503 for -ETIMEDOUT / -EBUSY, else 500. */
int http_store_error(struct http_request *r, int err, const char *msg);

/* Starts a JSON answer in r->body. */
void http_json(struct http_request *r, struct json *j);

/* The agent's identity and clock, from r->snap (which must be set), as keys
 * of the object open in j: version, started_at_ns, uptime_s, last_tick_ns,
 * ticks.  /api/health and /api/agent/status show the same. */
void http_json_agent(struct json *j, const struct http_request *r);

/* The database as keys of the object open in j, from r->snap (which must
 * be set) and the configuration: path, size_bytes, rows_written,
 * rows_dropped, rows_queued.  /api/health and /api/diagnostics show the
 * same, each with its own keys after them. */
void http_json_database(struct json *j, const struct http_request *r);

struct batch_value;
void http_json_value(struct json *j, const struct batch_value *v);

/* ---- handlers (one file per concern) ---- */
int route_health(struct http_request *r);          /* health.c */
int route_signals(struct http_request *r);         /* signals.c */
int route_stats(struct http_request *r);           /* stats.c */
int route_agent_status(struct http_request *r);    /* status.c */
int route_diagnostics(struct http_request *r);     /* status.c */
int route_series(struct http_request *r);          /* series.c */
int route_processes(struct http_request *r);       /* processes.c */
int route_process(struct http_request *r);         /* process.c: one process's timeline */
int route_metrics(struct http_request *r);         /* routes.c */
int route_asset(struct http_request *r);           /* routes.c: the dashboard */

/* ---- what handlers ask the server (server.c) ---- */
const char *http_server__address(const struct http_server *s);
bool http_server__has_token(const struct http_server *s);
/* How requests are authenticated, in words (for /api/diagnostics). */
const char *http_server__auth(const struct http_server *s);
const struct config *http_server__config(const struct http_server *s);
struct http_counters {
	uint64_t requests;              /* answered */
	uint64_t unauthorized;          /* 401 */
	uint64_t rejected;              /* 503 for load */
	uint64_t errors;                /* other 4xx/5xx */
	uint64_t connections;           /* open now */
	uint64_t cache_hits;
};
void http_server__counters(const struct http_server *s, struct http_counters *ret);

#endif
