/* The HTTP server (see server.h): the listening socket and the token
 * rule, libmicrohttpd (loaded at run time) and its set-up, the checks
 * every request passes before its route runs, dispatch to the route or
 * this thread's cache, and the server's own counters.
 *
 * The pieces it is made of have files of their own: address.c (http.listen),
 * auth.c (the token), cache.c (answers kept per thread), thread.c (each
 * thread's database connection); routes.c has the routes table. */
#include "server.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../config/config.h"
#include "../lib/clock.h"
#include "../lib/dynload.h"
#include "../lib/log.h"
#include "../lib/prom.h"
#include "../store/store.h"
#include "address.h"
#include "assets.h"
#include "auth.h"
#include "cache.h"
#include "clients.h"
#include "routes.h"
#include "snapshot.h"
#include "thread.h"
#include "tls.h"

#define REQUEST_BYTES_MAX (32 * 1024)
/* Bytes of answers made but not yet sent, all clients together: past it,
 * requests for rows wait (503) rather than pile more up behind clients
 * that do not read. */
#define INFLIGHT_BYTES_MAX (16 << 20)
#define IDLE_TIMEOUT_S 10
#define PARAM_VALUE_MAX 256
#define PARAMS_MAX 16

/* libmicrohttpd, loaded when the server is turned on (see lib/dynload.h). */
static struct {
	struct MHD_Daemon *(*start_daemon)(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
					   void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...);
	void (*stop_daemon)(struct MHD_Daemon *daemon);
	const char *(*lookup_connection_value)(struct MHD_Connection *conn, enum MHD_ValueKind kind, const char *key);
	int (*get_connection_values)(struct MHD_Connection *conn, enum MHD_ValueKind kind,
				     MHD_KeyValueIterator iterator, void *iterator_cls);
	struct MHD_Response *(*create_response_from_buffer)(size_t size, void *buffer, enum MHD_ResponseMemoryMode mode);
	struct MHD_Response *(*create_response_from_buffer_with_free_callback_cls)(size_t size, const void *buffer,
										    MHD_ContentReaderFreeCallback crfc,
										    void *crfc_cls);
	enum MHD_Result (*add_response_header)(struct MHD_Response *resp, const char *header, const char *content);
	enum MHD_Result (*queue_response)(struct MHD_Connection *conn, unsigned int status, struct MHD_Response *resp);
	void (*destroy_response)(struct MHD_Response *resp);
	const union MHD_ConnectionInfo *(*get_connection_info)(struct MHD_Connection *conn,
								enum MHD_ConnectionInfoType type, ...);
	MHD_socket (*quiesce_daemon)(struct MHD_Daemon *daemon);
	enum MHD_Result (*is_feature_supported)(enum MHD_FEATURE feature);
} M;
static char mhd_why[256];
static int mhd_rc;

static void mhd_load_once(void)
{
	const struct dynsym syms[] = {
		{ "MHD_start_daemon", (void **)&M.start_daemon },
		{ "MHD_stop_daemon", (void **)&M.stop_daemon },
		{ "MHD_lookup_connection_value", (void **)&M.lookup_connection_value },
		{ "MHD_get_connection_values", (void **)&M.get_connection_values },
		{ "MHD_create_response_from_buffer", (void **)&M.create_response_from_buffer },
		{ "MHD_create_response_from_buffer_with_free_callback_cls",
		  (void **)&M.create_response_from_buffer_with_free_callback_cls },
		{ "MHD_add_response_header", (void **)&M.add_response_header },
		{ "MHD_queue_response", (void **)&M.queue_response },
		{ "MHD_destroy_response", (void **)&M.destroy_response },
		{ "MHD_get_connection_info", (void **)&M.get_connection_info },
		{ "MHD_quiesce_daemon", (void **)&M.quiesce_daemon },
		{ "MHD_is_feature_supported", (void **)&M.is_feature_supported },
	};

	mhd_rc = dynload("libmicrohttpd.so.12", "libmicrohttpd12", syms, sizeof(syms) / sizeof(syms[0]), mhd_why,
			 sizeof(mhd_why));
}

/* Statuses counted per code in ksight_http_responses_total. */
static const int counted_codes[] = { 200, 303, 400, 401, 403, 404, 405, 413, 421, 500, 503 };
#define NCODES (sizeof(counted_codes) / sizeof(counted_codes[0]))

struct http_server {
	const struct config *cfg;
	struct snapshots *snapshots;
	struct MHD_Daemon *daemon;
	int listen_fd;
	char address[80];
	struct http_hosts hosts;           /* the Host headers that name this server */
	struct http_token token;           /* len 0: no token */
	bool token_everywhere;             /* from http.token_file: every request needs it */
	char token_path[PATH_MAX];         /* where it is kept ("": in memory only) */
	char cookie_name[32];              /* "ksight_token_PORT": one per agent on this host */
	struct http_tls tls;               /* cert NULL: plain HTTP */
	pthread_mutex_t tls_lock;          /* tls, against a reload */
	unsigned max_connections;
	struct http_clients *clients;      /* connections per client, header deadlines */
	/* atomics */
	uint64_t connections;
	uint64_t inflight_bytes;           /* answer bodies made, not yet freed by libmicrohttpd */
	uint64_t responses[NCODES + 1];    /* last: other codes */
	uint64_t cache_hits;
};

/* ---- opening: address and token ---- */

int http_fail(char *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, HTTP_ERR_MAX, fmt, ap);
	va_end(ap);
	return code;
}

/* Where the agent keeps the token it makes: the state directory systemd
 * gives (StateDirectory=), else the database's directory; "" for a
 * database in memory. */
static void own_token_path(const struct config *cfg, char *out, size_t size)
{
	const char *state = getenv("STATE_DIRECTORY"), *db = cfg->db_path, *slash;

	out[0] = '\0';
	if (state && state[0] == '/') {
		/* Several directories are separated by ':'; the first is ours. */
		snprintf(out, size, "%.*s/http.token", (int)strcspn(state, ":"), state);
		return;
	}
	if (!db || !db[0] || !strcmp(db, ":memory:") || !strncmp(db, "file:", 5))
		return;
	slash = strrchr(db, '/');
	if (!slash)
		snprintf(out, size, "http.token");
	else
		snprintf(out, size, "%.*s/http.token", slash == db ? 1 : (int)(slash - db), db);
}

/* The token of an agent that was given none: kept in own_token_path(),
 * or only in memory. */
static int own_token(struct http_server *s, const struct config *cfg, char *err)
{
	unsigned char random[HTTP_TOKEN_GENERATED / 2];

	own_token_path(cfg, s->token_path, sizeof(s->token_path));
	if (s->token_path[0])
		return http_token__load_or_create(&s->token, s->token_path, err);
	if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random))
		return http_fail(err, -EIO, "cannot make a token: getrandom: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(random); i++)
		snprintf(s->token.text + 2 * i, 3, "%02x", random[i]);
	s->token.len = 2 * sizeof(random);
	return 0;
}

int http_server__open(const struct config *cfg, struct http_server **ret, char *err)
{
	struct http_server *s = calloc(1, sizeof(*s));
	struct addrinfo *ai = NULL;
	int one = 1, rc;

	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (!s)
		return http_fail(err, -ENOMEM, "out of memory");
	pthread_once(&once, mhd_load_once);
	if (mhd_rc) {
		free(s);
		return http_fail(err, mhd_rc, "the HTTP server needs libmicrohttpd: %s", mhd_why);
	}
	s->cfg = cfg;
	s->listen_fd = -1;
	s->max_connections = (unsigned)cfg->http_max_connections;
	if ((rc = http_address__resolve(cfg->http_listen, &ai, err)))
		goto cleanup;
	if (cfg->http_token_file && cfg->http_token_file[0]) {
		if ((rc = http_token__read(&s->token, cfg->http_token_file, err))) {
			rc = -EINVAL;       /* the user's file to fix */
			goto cleanup;
		}
		s->token_everywhere = true;
		snprintf(s->token_path, sizeof(s->token_path), "%s", cfg->http_token_file);
	}
	pthread_mutex_init(&s->tls_lock, NULL);
	if (http_tls__wanted(cfg)) {
		if (M.is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			rc = http_fail(err, -ENOTSUP, "http.tls: this libmicrohttpd was built without TLS (GnuTLS)");
			goto cleanup;
		}
		if ((rc = http_tls__load(&s->tls, cfg, err)))
			goto cleanup;
	}
	if (!http_address__is_loopback(ai->ai_addr) && !s->token.len) {
		rc = http_fail(err, -EINVAL,
			       "refusing to listen on %s: it is not a loopback address, so other hosts could read this "
			       "host's telemetry; give a token file (--token-file FILE or http.token_file) whose token "
			       "clients send as 'Authorization: Bearer TOKEN', or listen on 127.0.0.1",
			       cfg->http_listen);
		goto cleanup;
	}
	s->listen_fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0) {
		rc = http_fail(err, -errno, "cannot listen on %s: %s", cfg->http_listen, strerror(errno));
		goto cleanup;
	}
	setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->listen_fd, ai->ai_addr, ai->ai_addrlen) || listen(s->listen_fd, 256)) {
		rc = http_fail(err, -errno,
			       "cannot listen on %s: %s (choose another with --listen ADDR:PORT, or --no-http)",
			       cfg->http_listen, strerror(errno));
		goto cleanup;
	}
	http_address__of_socket(s->listen_fd, s->address, sizeof(s->address));
	http_hosts__init(&s->hosts, s->listen_fd, cfg->http_allowed_hosts);
	snprintf(s->cookie_name, sizeof(s->cookie_name), "ksight_token_%u", s->hosts.port);
	if (!s->token.len && (rc = own_token(s, cfg, err)))
		goto cleanup;
	freeaddrinfo(ai);
	*ret = s;
	return 0;
cleanup:
	if (ai)
		freeaddrinfo(ai);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	http_tls__free(&s->tls);
	free(s);
	return rc;
}

const char *http_server__address(const struct http_server *s) { return s->address; }
bool http_server__has_token(const struct http_server *s) { return s->token.len > 0; }

const char *http_server__auth(const struct http_server *s)
{
	return s->token_everywhere ? "bearer token (http.token_file) on every request"
				   : "token for per-process data (made by the agent); /metrics and /api/health open";
}

const char *http_server__own_token(const struct http_server *s)
{
	return s->token_everywhere ? NULL : s->token.text;
}

const char *http_server__token_path(const struct http_server *s) { return s->token_path; }
const struct config *http_server__config(const struct http_server *s) { return s->cfg; }

void http_server__counters(const struct http_server *s, struct http_counters *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i <= NCODES; i++) {
		uint64_t n = __atomic_load_n(&s->responses[i], __ATOMIC_RELAXED);

		ret->requests += n;
		if (i < NCODES && counted_codes[i] == 401)
			ret->unauthorized += n;
		else if (i < NCODES && counted_codes[i] == 503)
			ret->rejected += n;
		else if (i == NCODES || counted_codes[i] >= 400)
			ret->errors += n;
	}
	ret->connections = __atomic_load_n(&s->connections, __ATOMIC_RELAXED);
	ret->cache_hits = __atomic_load_n(&s->cache_hits, __ATOMIC_RELAXED);
}

/* ---- the request path ---- */

const char *http_param(struct http_request *r, const char *name)
{
	return M.lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct param_check {
	const struct route *route;
	const char *bad;                  /* first offending parameter */
	const char *why;
	const char *seen[PARAMS_MAX];
	size_t nseen;
	struct buf *key;
};

static enum MHD_Result check_param(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct param_check *pc = cls;
	bool known = false;

	(void)kind;
	for (const char *const *p = pc->route->params; p && *p && !known; p++)
		known = !strcmp(*p, key);
	if (!known)
		pc->why = "unknown parameter";
	else if (!value || !value[0])
		pc->why = "has no value";
	else if (strlen(value) > PARAM_VALUE_MAX)
		pc->why = "is too long";
	for (size_t i = 0; i < pc->nseen && !pc->why; i++)
		if (!strcmp(pc->seen[i], key))
			pc->why = "is given twice";
	if (!pc->why && pc->nseen == PARAMS_MAX)
		pc->why = "is one parameter too many";
	if (pc->why) {
		pc->bad = key;
		return MHD_NO;
	}
	pc->seen[pc->nseen++] = key;
	buf_printf(pc->key, "&%s=%s", key, value);
	return MHD_YES;
}

static void count_response(struct http_server *s, int status)
{
	size_t i = 0;

	while (i < NCODES && counted_codes[i] != status)
		i++;
	__atomic_add_fetch(&s->responses[i], 1, __ATOMIC_RELAXED);
}

/* An answer body the response owns, counted in inflight_bytes until
 * libmicrohttpd is done with it. */
struct owned_body {
	struct http_server *server;
	size_t len;
	char data[];
};

static void free_body(void *cls)
{
	struct owned_body *b = cls;

	__atomic_sub_fetch(&b->server->inflight_bytes, b->len, __ATOMIC_RELAXED);
	free(b);
}
static void put_snapshot(void *cls) { snapshot__put(cls); }
static void put_shared(void *cls) { http_body__put(cls); }

static enum MHD_Result respond(struct http_request *r, int status, struct http_body *shared)
{
	struct MHD_Response *resp;
	const char *type = r->content_type ? r->content_type : "application/json";
	enum MHD_Result ok;

	if (shared) {
		http_body__get(shared);
		resp = M.create_response_from_buffer_with_free_callback_cls(shared->len, shared->data, put_shared,
									      shared);
		if (!resp)
			http_body__put(shared);
	} else if (r->data && r->data_owner) {
		resp = M.create_response_from_buffer_with_free_callback_cls(r->data_len, (void *)r->data,
									      put_snapshot, r->data_owner);
		if (resp)
			r->data_owner = NULL;   /* the response holds the reference now */
	} else if (r->data) {
		resp = M.create_response_from_buffer(r->data_len, (void *)r->data, MHD_RESPMEM_PERSISTENT);
	} else {
		size_t len = r->body.len;
		struct owned_body *b = malloc(sizeof(*b) + len);

		r->answer_bytes = len;

		if (!b)
			return MHD_NO;
		b->server = r->server;
		b->len = len;
		if (len)
			memcpy(b->data, r->body.data, len);
		buf_free(&r->body);
		__atomic_add_fetch(&r->server->inflight_bytes, len, __ATOMIC_RELAXED);
		resp = M.create_response_from_buffer_with_free_callback_cls(len, b->data, free_body, b);
		if (!resp)
			free_body(b);
	}
	if (!resp)
		return MHD_NO;
	M.add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	M.add_response_header(resp, "X-Content-Type-Options", "nosniff");
	M.add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->no_store ? "no-store" : "no-cache");
	if (!strncmp(type, "text/html", 9)) {
		M.add_response_header(resp, "Content-Security-Policy",
					"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
		M.add_response_header(resp, "Referrer-Policy", "no-referrer");
	}
	if (status == 401) {
		M.add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"ksight\"");
		/* A Basic challenge makes a browser ask for the password: right
		 * when every request needs the token, a pop-up over the
		 * dashboard's own data requests otherwise. */
		if (r->server->token_everywhere)
			M.add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"ksight\"");
	}
	if (status == 405)
		M.add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (r->location)
		M.add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (r->set_cookie[0])
		M.add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
	if (status == 503)
		M.add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	count_response(r->server, status);
	ok = M.queue_response(r->conn, (unsigned)status, resp);
	M.destroy_response(resp);
	return ok;
}

/* Runs the route; answers from this thread's cache when the route's
 * previous answer to the same parameters is still true (no commit since). */
static enum MHD_Result dispatch(struct http_request *r, const struct route *route, const char *key)
{
	struct http_thread *th = http_thread__get();
	bool reads_db = th && route->fn != route_asset && route->fn != route_metrics && strlen(key) < HTTP_CACHE_KEY_MAX;
	struct http_cache_entry *e = reads_db ? http_cache__find(&th->cache, key) : NULL;
	int64_t version = -1;
	int status;

	/* The version is read before the query: a commit during it makes
	 * the stored answer look old, never a stale one look new. */
	if (reads_db && (th->store || (e && http_store(r)))) {
		store__set_deadline(th->store, 0);
		version = store__data_version(th->store);
	}
	if (e && version >= 0 && version == e->version) {
		http_cache__used(&th->cache, e);
		__atomic_add_fetch(&r->server->cache_hits, 1, __ATOMIC_RELAXED);
		r->content_type = "application/json";
		r->no_store = true;
		return respond(r, 200, e->body);
	}
	status = route->fn(r);
	if (th && th->store)
		store__set_deadline(th->store, 0);
	if (status == 200 && r->cacheable && !r->data && version >= 0 && reads_db)
		http_cache__put(&th->cache, key, version, r->body.data, r->body.len);
	return respond(r, status, NULL);
}

/* Whether the request proves it has the token: Authorization (Bearer, or
 * Basic with the token as password) or the dashboard's cookie. */
static bool authorized(struct http_server *s, struct MHD_Connection *conn)
{
	return http_token__accepts(&s->token, M.lookup_connection_value(conn, MHD_HEADER_KIND,
									MHD_HTTP_HEADER_AUTHORIZATION)) ||
	       http_token__cookie_accepts(&s->token, M.lookup_connection_value(conn, MHD_HEADER_KIND,
										MHD_HTTP_HEADER_COOKIE),
					  s->cookie_name);
}

/* Whether url needs the token: every one with http.token_file; with the
 * agent's own token, all but the aggregates (/metrics, /api/health), the
 * dashboard's files and unknown paths (a 404 carries no data). */
static bool needs_token(const struct http_server *s, const char *url)
{
	const struct route *route = route_find(url);

	return s->token_everywhere || (route && !route->open);
}

/* GET /?token=TOKEN: the dashboard's way in.  The token becomes an
 * HttpOnly, SameSite=Strict cookie (script cannot read it, no other site
 * can send it) and the browser is sent on to "/", so the token leaves the
 * address bar and the history. */
static int trade_token(struct http_server *s, struct http_request *r, const char *given)
{
	struct json j;

	if (!http_token__equals(&s->token, given))
		return http_error(r, 401, "token",
				  "the token in this address is not this agent's: open the address the agent printed at "
				  "start%s%s", s->token_path[0] ? ", or take the token from " : "", s->token_path);
	snprintf(r->set_cookie, sizeof(r->set_cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict", s->cookie_name,
		 s->token.text);
	r->location = "/";
	http_json(r, &j);
	json_obj_begin(&j);
	json_key(&j, "status");
	json_int(&j, 303);
	json_key(&j, "location");
	json_str(&j, "/");
	json_obj_end(&j);
	return 303;
}

/* The connection's record in s->clients (NULL when uncounted). */
static struct http_conn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info = M.get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

static bool client_verified(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = M.get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);

	return ci && http_tls__client_verified(ci->tls_session);
}

/* Markers for req_cls: where a request is. */
static char headers_seen, answered;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct http_server *s = cls;
	struct http_request r = { .conn = conn, .path = url, .server = s, .no_store = true };
	struct buf key = BUF_INIT;
	struct param_check pc = { .key = &key };
	const struct route *route = NULL;
	const char *length = M.lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *host, *given;
	enum MHD_Result ok;
	int status = 0;

	(void)version;
	(void)upload_data;
	/* libmicrohttpd calls once when the headers are in, again for each piece
	 * of body, and once more at the end; an answer queued at the first call
	 * would close the connection (it cannot know the body), so it is queued
	 * at the last one, except for requests that carry a body. */
	if (*req_cls == &answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!*req_cls) {
		*req_cls = &headers_seen;
		http_conn__busy(s->clients, conn_of(conn));
		if (!(length && strcmp(length, "0")) &&
		    !M.lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
			return MHD_YES;
	}
	*req_cls = &answered;
	*upload_data_size = 0;
	r.now_ns = clock_real_ns();
	host = M.lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	if (s->tls.client_ca && !client_verified(conn))
		status = http_error(&r, 403, NULL, "this server needs a client certificate signed by its http.tls.client_ca");
	else if (!http_hosts__allows(&s->hosts, host))
		status = http_error(&r, 421, NULL,
				    "Host '%.100s' does not name this server: use http://%s/, http://localhost:%u/, or add "
				    "the name to http.allowed_hosts (refused so that a web page cannot reach the agent "
				    "through a DNS name of its own)", host ? host : "", s->address, s->hosts.port);
	else if ((!strcmp(url, "/") || !strcmp(url, "/index.html")) &&
		 (given = M.lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "token")))
		status = trade_token(s, &r, given);
	else if (needs_token(s, url) && !authorized(s, conn))
		status = s->token_everywhere
			 ? http_error(&r, 401, NULL, "this server needs a token: send 'Authorization: Bearer TOKEN'")
			 : http_error(&r, 401, NULL,
				      "%s serves per-process data and needs the agent's token: open the address the "
				      "agent printed at start (http://%s/?token=...), or send 'Authorization: Bearer "
				      "TOKEN'%s%s", url, s->address, s->token_path[0] ? " with the token in " : "",
				      s->token_path);
	else if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		status = http_error(&r, 405, NULL, "method %s is not allowed: this server only reads (GET, HEAD)", method);
	else if ((length && strcmp(length, "0")) ||
		 M.lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		status = http_error(&r, 413, NULL, "requests carry no body here");
	else if (needs_token(s, url) && __atomic_load_n(&s->connections, __ATOMIC_RELAXED) > s->max_connections)
		/* /metrics and /api/health are answered from memory: never refused for load. */
		status = http_error(&r, 503, NULL, "overloaded: more than %u connections are open; retry later",
				    s->max_connections);
	else if (needs_token(s, url) && __atomic_load_n(&s->inflight_bytes, __ATOMIC_RELAXED) > INFLIGHT_BYTES_MAX)
		status = http_error(&r, 503, NULL,
				    "overloaded: %zu MiB of answers wait for clients that do not read them; retry later",
				    (size_t)(__atomic_load_n(&s->inflight_bytes, __ATOMIC_RELAXED) >> 20));
	else if (needs_token(s, url) && http_conn__over_budget(s->clients, conn_of(conn)))
		status = http_error(&r, 503, NULL,
				    "this client has used its share of the server (%d%% of a thread); retry in a second",
				    HTTP_CLIENT_SHARE_PCT);
	else if (!(route = route_find(url)) && !asset_find(!strcmp(url, "/") ? "/index.html" : url))
		status = http_error(&r, 404, NULL, "no such endpoint: %s (see /api/health, /metrics, /)", url);
	if (status) {
		ok = respond(&r, status, NULL);
		buf_free(&r.body);
		return ok;
	}
	if (!route) {
		static const char *const none[] = { NULL };
		static const struct route asset = { "/", route_asset, none, "the dashboard" };

		route = &asset;
	}
	buf_adds(&key, url);
	pc.route = route;
	M.get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_param, &pc);
	if (pc.why) {
		status = strcmp(pc.why, "unknown parameter")
			 ? http_error(&r, 400, pc.bad, "parameter '%s' %s", pc.bad, pc.why)
			 : http_error(&r, 400, pc.bad, "unknown parameter '%s' for %s", pc.bad, route->path);
		ok = respond(&r, status, NULL);
	} else {
		int64_t t0 = clock_mono_ns();

		r.snap = snapshots__get(s->snapshots);
		ok = dispatch(&r, route, key.data);
		/* Only large answers count against the client's share: a
		 * dashboard's many small ones never hit it, fifty requests for
		 * 10,000 rows do. */
		if (route->fn != route_metrics && route->fn != route_asset && r.answer_bytes >= HTTP_CLIENT_CHARGED_BYTES)
			http_conn__charge(s->clients, conn_of(conn), clock_mono_ns() - t0);
		snapshot__put(r.snap);
		snapshot__put(r.data_owner);
	}
	buf_free(&r.body);
	buf_free(&key);
	return ok;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode what)
{
	struct http_server *s = cls;

	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info = M.get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		bool refused;

		__atomic_add_fetch(&s->connections, 1, __ATOMIC_RELAXED);
		*socket_context = info ? http_clients__add(s->clients, info->connect_fd, &refused) : NULL;
	} else {
		__atomic_sub_fetch(&s->connections, 1, __ATOMIC_RELAXED);
		http_clients__remove(s->clients, *socket_context);
		*socket_context = NULL;
	}
}

/* An answer is sent (or the request abandoned): the connection waits for
 * the next request, whose headers have a deadline. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode why)
{
	struct http_server *s = cls;

	(void)req_cls;
	(void)why;
	http_conn__idle(s->clients, conn_of(conn));
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("http: %s", line);
}

/* The server's own families in every /metrics snapshot. */
static void extra_metrics(void *ctx, struct prom *p)
{
	struct http_server *s = ctx;
	struct http_clients_stats cs;
	struct prom_labels l;
	char code[8];

	prom_family(p, "ksight_http_responses_total", PROM_COUNTER, "HTTP responses by status code (other: any other).");
	for (size_t i = 0; i <= NCODES; i++) {
		if (i < NCODES)
			snprintf(code, sizeof(code), "%d", counted_codes[i]);
		prom_labels_init(&l);
		prom_label(&l, "code", i < NCODES ? code : "other");
		prom_sample_u64(p, "", &l, __atomic_load_n(&s->responses[i], __ATOMIC_RELAXED));
	}
	prom_family(p, "ksight_http_connections", PROM_GAUGE, "HTTP connections open now.");
	prom_sample_u64(p, "", NULL, __atomic_load_n(&s->connections, __ATOMIC_RELAXED));
	http_clients__stats(s->clients, &cs);
	prom_family(p, "ksight_http_connections_shut_total", PROM_COUNTER,
		    "HTTP connections shut by the server: client_limit (the client held http.max_client_connections), "
		    "headers_timeout (a request's headers took longer than "
		    "the limit).");
	prom_labels_init(&l);
	prom_label(&l, "reason", "client_limit");
	prom_sample_u64(p, "", &l, cs.refused);
	prom_labels_init(&l);
	prom_label(&l, "reason", "headers_timeout");
	prom_sample_u64(p, "", &l, cs.timed_out);
	prom_family(p, "ksight_http_over_budget_total", PROM_COUNTER,
		    "Requests for rows answered 503 because their client had used its share of serving time.");
	prom_sample_u64(p, "", NULL, cs.over_budget);
	prom_family(p, "ksight_http_inflight_bytes", PROM_GAUGE, "Bytes of HTTP answers made and not yet sent.");
	prom_sample_u64(p, "", NULL, __atomic_load_n(&s->inflight_bytes, __ATOMIC_RELAXED));
	prom_family(p, "ksight_http_cache_bytes", PROM_GAUGE, "Bytes of API answers kept for reuse, all threads.");
	prom_sample_u64(p, "", NULL, http_cache__bytes());
	prom_family(p, "ksight_http_cache_hits_total", PROM_COUNTER,
		    "API answers served from memory because the database had not changed.");
	prom_sample_u64(p, "", NULL, __atomic_load_n(&s->cache_hits, __ATOMIC_RELAXED));
}

struct snapshots *http_server__snapshots(struct http_server *s) { return s->snapshots; }

/* A daemon on a duplicate of the listening socket (s keeps its own, so a
 * reload can start the next daemon before the last one stops), with TLS
 * when t has a certificate. */
static struct MHD_Daemon *daemon_start(struct http_server *s, const struct http_tls *t, char *err)
{
	unsigned threads = (unsigned)s->cfg->http_threads;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC | (t->cert ? MHD_USE_TLS : 0);
	int fd = fcntl(s->listen_fd, F_DUPFD_CLOEXEC, 0);
	struct MHD_Daemon *d;

	if (fd < 0) {
		http_fail(err, -errno, "cannot start the HTTP server on %s: %s", s->address, strerror(errno));
		return NULL;
	}
	/* Options past MHD_OPTION_END are not read: the TLS ones go last. */
	d = M.start_daemon(
		flags, 0, NULL, NULL, on_request, s,
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0,
		/* Connections past the soft limit still get a 503; past this MHD closes them. */
		MHD_OPTION_CONNECTION_LIMIT, s->max_connections + 64,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)REQUEST_BYTES_MAX,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
		t->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, t->cert,
		MHD_OPTION_HTTPS_MEM_KEY, t->key,
		t->client_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, t->client_ca,
		MHD_OPTION_END);
	if (!d) {
		close(fd);
		http_fail(err, -EIO, "cannot start the HTTP%s server on %s%s", t->cert ? "S" : "", s->address,
			  t->cert ? " (is http.tls.key the key of http.tls.cert, both PEM?)" : "");
	}
	return d;
}

int http_server__start(struct http_server *s, struct snapshots *sn, char *err)
{
	int rc;

	s->snapshots = sn;
	http_cache__set_cap((size_t)s->cfg->http_cache_bytes);
	if ((rc = http_clients__new((unsigned)s->cfg->http_max_client_connections, &s->clients)))
		return http_fail(err, rc, "cannot start the HTTP server: %s", strerror(-rc));
	if (!(s->daemon = daemon_start(s, &s->tls, err))) {
		http_clients__free(s->clients);
		s->clients = NULL;
		return -EIO;
	}
	snapshots__set_extra(sn, extra_metrics, s);
	return 0;
}

bool http_server__tls(const struct http_server *s) { return s->tls.cert != NULL; }

int http_server__reload_tls(struct http_server *s, const struct config *cfg, char *err)
{
	struct http_tls next = { 0 }, old;
	struct MHD_Daemon *d, *last;
	MHD_socket q;
	int rc;

	if (!s->daemon || (!s->tls.cert && !http_tls__wanted(cfg)))
		return 0;
	if (!http_tls__wanted(cfg)) {
		snprintf(err, HTTP_ERR_MAX, "http.tls: turning TLS off needs a restart; keeping the certificate");
		return -EINVAL;
	}
	if ((rc = http_tls__load(&next, cfg, err)))
		return rc;
	if (!(d = daemon_start(s, &next, err))) {
		http_tls__free(&next);
		return -EIO;
	}
	/* The next daemon accepts from now on; the last one stops taking
	 * connections, finishes, and gives its duplicate socket back. */
	pthread_mutex_lock(&s->tls_lock);
	last = s->daemon;
	old = s->tls;
	s->tls = next;
	__atomic_store_n(&s->daemon, d, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->tls_lock);
	if ((q = M.quiesce_daemon(last)) != MHD_INVALID_SOCKET)
		close(q);
	M.stop_daemon(last);
	http_tls__free(&old);
	return 0;
}

struct http_server *http_server__stop(struct http_server *s)
{
	if (!s)
		return NULL;
	if (s->daemon) {
		snapshots__set_extra(s->snapshots, NULL, NULL);
		M.stop_daemon(s->daemon);
	}
	http_clients__free(s->clients);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	http_tls__free(&s->tls);
	pthread_mutex_destroy(&s->tls_lock);
	free(s);
	return NULL;
}
