/* The HTTP server (see server.h): listening socket and token rule,
 * libmicrohttpd set-up, per-thread database connections and response
 * cache, and the checks every request passes before its route runs. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../config/config.h"
#include "../lib/clock.h"
#include "../lib/dynload.h"
#include "../lib/log.h"
#include "../lib/prom.h"
#include "../store/store.h"
#include "assets.h"
#include "routes.h"
#include "snapshot.h"

#define TOKEN_MIN 16
#define TOKEN_MAX 512
#define REQUEST_BYTES_MAX (32 * 1024)
#define IDLE_TIMEOUT_S 10
#define PARAM_VALUE_MAX 256
#define PARAMS_MAX 16
#define CACHE_ENTRIES 16
#define CACHE_KEY_MAX 512

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
	};

	mhd_rc = dynload("libmicrohttpd.so.12", "libmicrohttpd12", syms, sizeof(syms) / sizeof(syms[0]), mhd_why,
			 sizeof(mhd_why));
}

/* Statuses counted per code in ksight_http_responses_total. */
static const int counted_codes[] = { 200, 400, 401, 404, 405, 413, 500, 503 };
#define NCODES (sizeof(counted_codes) / sizeof(counted_codes[0]))

struct http_server {
	const struct config *cfg;
	struct snapshots *snapshots;
	struct MHD_Daemon *daemon;
	int listen_fd;
	char address[80];
	char token[TOKEN_MAX + 1];
	size_t token_len;                  /* 0: no token */
	unsigned max_connections;
	/* atomics */
	uint64_t connections;
	uint64_t responses[NCODES + 1];    /* last: other codes */
	uint64_t cache_hits;
};

/* A response body shared by the cache and the responses in flight. */
struct shared_body {
	int refs;                          /* atomic */
	size_t len;
	char data[];
};

struct cache_entry {
	char key[CACHE_KEY_MAX];
	int64_t version;
	struct shared_body *body;
	uint64_t last_use;
};

/* What each serving thread owns. */
struct http_thread {
	struct store *store;
	struct cache_entry cache[CACHE_ENTRIES];
	uint64_t uses;
};

static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;

static void body_put(struct shared_body *b)
{
	if (b && !__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL))
		free(b);
}

static void thread_free(void *arg)
{
	struct http_thread *th = arg;

	for (int i = 0; i < CACHE_ENTRIES; i++)
		body_put(th->cache[i].body);
	store__close(th->store);
	free(th);
}

static void make_key(void) { pthread_key_create(&thread_key, thread_free); }

static struct http_thread *thread_state(void)
{
	struct http_thread *th;

	pthread_once(&thread_key_once, make_key);
	th = pthread_getspecific(thread_key);
	if (!th && (th = calloc(1, sizeof(*th))))
		pthread_setspecific(thread_key, th);
	return th;
}

/* ---- options: address and token ---- */

static int fail(char *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, HTTP_ERR_MAX, fmt, ap);
	va_end(ap);
	return code;
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* "host:port", "[v6]:port"; host may be empty or "*" for every address. */
static int resolve(const char *spec, struct addrinfo **ret, char *err)
{
	char host[256], port[8];
	const char *colon, *h = spec, *hend;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	size_t plen;
	int rc;

	if (spec[0] == '[') {
		hend = strchr(spec, ']');
		if (!hend || hend[1] != ':')
			goto bad;
		h = spec + 1;
		colon = hend + 1;
		hints.ai_family = AF_INET6;
	} else {
		colon = strrchr(spec, ':');
		if (!colon)
			goto bad;
		hend = colon;
	}
	plen = strlen(colon + 1);
	if ((size_t)(hend - h) >= sizeof(host) || plen == 0 || plen > 5 || strspn(colon + 1, "0123456789") != plen ||
	    atoi(colon + 1) > 65535)
		goto bad;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	memcpy(port, colon + 1, plen + 1);
	if (!host[0] || !strcmp(host, "*")) {
		hints.ai_flags |= AI_PASSIVE;
		hints.ai_family = AF_INET;
		rc = getaddrinfo(NULL, port, &hints, ret);
	} else {
		rc = getaddrinfo(host, port, &hints, ret);
	}
	if (rc)
		return fail(err, -EINVAL, "http.listen: cannot resolve '%s': %s", host, gai_strerror(rc));
	return 0;
bad:
	return fail(err, -EINVAL, "http.listen: '%s' is not ADDR:PORT (e.g. 127.0.0.1:7777, [::1]:7777, 0.0.0.0:7777)",
		    spec);
}

static int read_token(struct http_server *s, const char *path, char *err)
{
	char buf[TOKEN_MAX + 2];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail(err, -EINVAL, "http.token_file: cannot read %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return fail(err, -EINVAL, "http.token_file: cannot read %s: %s", path, strerror(errno));
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n > TOKEN_MAX)
		return fail(err, -EINVAL, "http.token_file: %s holds more than %d bytes; the token is one line", path,
			    TOKEN_MAX);
	for (ssize_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] <= ' ' || (unsigned char)buf[i] >= 0x7f)
			return fail(err, -EINVAL,
				    "http.token_file: %s must hold one line of printable characters without spaces", path);
	if (n < TOKEN_MIN)
		return fail(err, -EINVAL,
			    "http.token_file: the token in %s is %s (%zd characters; use %d or more, "
			    "e.g. head -c 32 /dev/urandom | base64 > %s)",
			    path, n ? "too short" : "empty", n, TOKEN_MIN, path);
	memcpy(s->token, buf, (size_t)n + 1);
	s->token_len = (size_t)n;
	return 0;
}

int http_server__open(const struct config *cfg, struct http_server **ret, char *err)
{
	struct http_server *s = calloc(1, sizeof(*s));
	struct addrinfo *ai = NULL;
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	char host[INET6_ADDRSTRLEN];
	int one = 1, rc;

	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (!s)
		return fail(err, -ENOMEM, "out of memory");
	pthread_once(&once, mhd_load_once);
	if (mhd_rc) {
		free(s);
		return fail(err, mhd_rc, "the HTTP server needs libmicrohttpd: %s", mhd_why);
	}
	s->cfg = cfg;
	s->listen_fd = -1;
	s->max_connections = (unsigned)cfg->http_max_connections;
	if ((rc = resolve(cfg->http_listen, &ai, err)))
		goto cleanup;
	if (cfg->http_token_file && cfg->http_token_file[0] && (rc = read_token(s, cfg->http_token_file, err)))
		goto cleanup;
	if (!is_loopback(ai->ai_addr) && !s->token_len) {
		rc = fail(err, -EINVAL,
			  "refusing to listen on %s: it is not a loopback address, so other hosts could read this "
			  "host's telemetry; give a token file (--token-file FILE or http.token_file) whose token "
			  "clients send as 'Authorization: Bearer TOKEN', or listen on 127.0.0.1",
			  cfg->http_listen);
		goto cleanup;
	}
	s->listen_fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0) {
		rc = fail(err, -errno, "cannot listen on %s: %s", cfg->http_listen, strerror(errno));
		goto cleanup;
	}
	setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->listen_fd, ai->ai_addr, ai->ai_addrlen) || listen(s->listen_fd, 256)) {
		rc = fail(err, -errno, "cannot listen on %s: %s (choose another with --listen ADDR:PORT, or --no-http)",
			  cfg->http_listen, strerror(errno));
		goto cleanup;
	}
	getsockname(s->listen_fd, (struct sockaddr *)&bound, &blen);
	if (bound.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&bound)->sin6_addr, host, sizeof(host));
		snprintf(s->address, sizeof(s->address), "[%s]:%u", host,
			 ntohs(((struct sockaddr_in6 *)&bound)->sin6_port));
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&bound)->sin_addr, host, sizeof(host));
		snprintf(s->address, sizeof(s->address), "%s:%u", host, ntohs(((struct sockaddr_in *)&bound)->sin_port));
	}
	freeaddrinfo(ai);
	*ret = s;
	return 0;
cleanup:
	if (ai)
		freeaddrinfo(ai);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	free(s);
	return rc;
}

const char *http_server__address(const struct http_server *s) { return s->address; }
bool http_server__has_token(const struct http_server *s) { return s->token_len > 0; }
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

/* ---- authentication ---- */

/* Compares in time that depends only on the length of the secret. */
static bool token_equal(const struct http_server *s, const char *given, size_t len)
{
	unsigned char diff = len != s->token_len;

	for (size_t i = 0; i < s->token_len; i++)
		diff |= (unsigned char)s->token[i] ^ (unsigned char)(i < len ? given[i] : 0);
	return diff == 0;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Decodes base64 into out (NUL-terminated); -1 when malformed or too long. */
static ssize_t b64_decode(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0;

	for (; *in && *in != '='; in++) {
		int v = b64_value(*in);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= cap)
				return -1;
			out[n++] = (char)(acc >> bits & 0xff);
		}
	}
	out[n] = '\0';
	return (ssize_t)n;
}

/* True when the request carries the token: "Bearer TOKEN", or HTTP Basic
 * with TOKEN as the password (any user name). */
static bool authorized(const struct http_server *s, struct MHD_Connection *conn)
{
	const char *h = M.lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	char decoded[TOKEN_MAX * 2], *colon;
	ssize_t n;

	if (!h)
		return false;
	if (!strncasecmp(h, "Bearer ", 7)) {
		for (h += 7; *h == ' '; h++)
			;
		return token_equal(s, h, strlen(h));
	}
	if (!strncasecmp(h, "Basic ", 6)) {
		for (h += 6; *h == ' '; h++)
			;
		n = b64_decode(h, decoded, sizeof(decoded));
		if (n < 0 || !(colon = memchr(decoded, ':', (size_t)n)))
			return false;
		return token_equal(s, colon + 1, (size_t)(decoded + n - colon - 1));
	}
	return false;
}

/* ---- helpers for handlers ---- */

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

const char *http_param(struct http_request *r, const char *name)
{
	return M.lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct store *http_store(struct http_request *r)
{
	struct http_thread *th = thread_state();
	char err[STORE_ERR_MAX];
	int rc;

	if (!th) {
		http_error(r, 503, NULL, "out of memory");
		return NULL;
	}
	if (!th->store && (rc = store__open(r->server->cfg->db_path, STORE_READ_ONLY, &th->store, err))) {
		http_error(r, 503, NULL, "the database cannot be read: %s", err);
		return NULL;
	}
	store__set_deadline(th->store, clock_mono_ns() + HTTP_QUERY_TIME_NS);
	return th->store;
}

int http_store_error(struct http_request *r, int err, const char *msg)
{
	if (err == -ETIMEDOUT)
		return http_error(r, 503, NULL, "the query needed more than %lld s of database time; ask for a shorter "
				  "time range", (long long)(HTTP_QUERY_TIME_NS / NSEC_PER_SEC));
	if (err == -EBUSY)
		return http_error(r, 503, NULL, "the database is busy: %s", msg);
	return http_error(r, 500, NULL, "database error: %s", msg);
}

/* ---- the request path ---- */

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

static void free_body(void *cls) { free(cls); }
static void put_snapshot(void *cls) { snapshot__put(cls); }
static void put_shared(void *cls) { body_put(cls); }

static enum MHD_Result respond(struct http_request *r, int status, struct shared_body *shared)
{
	struct MHD_Response *resp;
	const char *type = r->content_type ? r->content_type : "application/json";
	enum MHD_Result ok;

	if (shared) {
		__atomic_add_fetch(&shared->refs, 1, __ATOMIC_RELAXED);
		resp = M.create_response_from_buffer_with_free_callback_cls(shared->len, shared->data, put_shared,
									      shared);
		if (!resp)
			body_put(shared);
	} else if (r->data && r->data_owner) {
		resp = M.create_response_from_buffer_with_free_callback_cls(r->data_len, (void *)r->data,
									      put_snapshot, r->data_owner);
		if (resp)
			r->data_owner = NULL;   /* the response holds the reference now */
	} else if (r->data) {
		resp = M.create_response_from_buffer(r->data_len, (void *)r->data, MHD_RESPMEM_PERSISTENT);
	} else {
		size_t len = r->body.len;
		char *data = buf_detach(&r->body);

		resp = M.create_response_from_buffer_with_free_callback_cls(len, data, free_body, data);
		if (!resp)
			free(data);
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
		M.add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"ksight\"");
	}
	if (status == 405)
		M.add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (status == 503)
		M.add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	count_response(r->server, status);
	ok = M.queue_response(r->conn, (unsigned)status, resp);
	M.destroy_response(resp);
	return ok;
}

static struct cache_entry *cache_find(struct http_thread *th, const char *key)
{
	for (int i = 0; i < CACHE_ENTRIES; i++)
		if (th->cache[i].body && !strcmp(th->cache[i].key, key))
			return &th->cache[i];
	return NULL;
}

static void cache_put(struct http_thread *th, const char *key, int64_t version, struct http_request *r)
{
	struct cache_entry *e = cache_find(th, key);
	struct shared_body *b;

	if (!e) {
		e = &th->cache[0];
		for (int i = 1; i < CACHE_ENTRIES && e->body; i++)
			if (!th->cache[i].body || th->cache[i].last_use < e->last_use)
				e = &th->cache[i];
	}
	b = malloc(sizeof(*b) + r->body.len + 1);
	if (!b)
		return;
	b->refs = 1;
	b->len = r->body.len;
	memcpy(b->data, r->body.data, r->body.len + 1);
	body_put(e->body);
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->version = version;
	e->body = b;
	e->last_use = ++th->uses;
}

/* Runs the route; answers from this thread's cache when the route's
 * previous answer to the same parameters is still true (no commit since). */
static enum MHD_Result dispatch(struct http_request *r, const struct route *route, const char *key)
{
	struct http_thread *th = thread_state();
	bool reads_db = th && route->fn != route_asset && route->fn != route_metrics && strlen(key) < CACHE_KEY_MAX;
	struct cache_entry *e = reads_db ? cache_find(th, key) : NULL;
	int64_t version = -1;
	int status;

	/* The version is read before the query: a commit during it makes
	 * the stored answer look old, never a stale one look new. */
	if (reads_db && (th->store || (e && http_store(r)))) {
		store__set_deadline(th->store, 0);
		version = store__data_version(th->store);
	}
	if (e && version >= 0 && version == e->version) {
		e->last_use = ++th->uses;
		__atomic_add_fetch(&r->server->cache_hits, 1, __ATOMIC_RELAXED);
		r->content_type = "application/json";
		r->no_store = true;
		return respond(r, 200, e->body);
	}
	status = route->fn(r);
	if (th && th->store)
		store__set_deadline(th->store, 0);
	if (status == 200 && r->cacheable && !r->data && version >= 0 && reads_db)
		cache_put(th, key, version, r);
	return respond(r, status, NULL);
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
		if (!(length && strcmp(length, "0")) &&
		    !M.lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
			return MHD_YES;
	}
	*req_cls = &answered;
	*upload_data_size = 0;
	r.now_ns = clock_real_ns();
	if (s->token_len && !authorized(s, conn))
		status = http_error(&r, 401, NULL, "this server needs a token: send 'Authorization: Bearer TOKEN'");
	else if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		status = http_error(&r, 405, NULL, "method %s is not allowed: this server only reads (GET, HEAD)", method);
	else if ((length && strcmp(length, "0")) ||
		 M.lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		status = http_error(&r, 413, NULL, "requests carry no body here");
	else if (__atomic_load_n(&s->connections, __ATOMIC_RELAXED) > s->max_connections)
		status = http_error(&r, 503, NULL, "overloaded: more than %u connections are open; retry later",
				    s->max_connections);
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
		r.snap = snapshots__get(s->snapshots);
		ok = dispatch(&r, route, key.data);
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

	(void)conn;
	(void)socket_context;
	if (what == MHD_CONNECTION_NOTIFY_STARTED)
		__atomic_add_fetch(&s->connections, 1, __ATOMIC_RELAXED);
	else
		__atomic_sub_fetch(&s->connections, 1, __ATOMIC_RELAXED);
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
	prom_family(p, "ksight_http_cache_hits_total", PROM_COUNTER,
		    "API answers served from memory because the database had not changed.");
	prom_sample_u64(p, "", NULL, __atomic_load_n(&s->cache_hits, __ATOMIC_RELAXED));
}

struct snapshots *http_server__snapshots(struct http_server *s) { return s->snapshots; }

int http_server__start(struct http_server *s, struct snapshots *sn, char *err)
{
	unsigned threads = (unsigned)s->cfg->http_threads;

	s->snapshots = sn;
	s->daemon = M.start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
		MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
		MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0,
		/* Connections past the soft limit still get a 503; past this MHD closes them. */
		MHD_OPTION_CONNECTION_LIMIT, s->max_connections + 64,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)REQUEST_BYTES_MAX,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
		MHD_OPTION_END);
	if (!s->daemon)
		return fail(err, -EIO, "cannot start the HTTP server on %s", s->address);
	s->listen_fd = -1;     /* the daemon owns and closes it */
	snapshots__set_extra(sn, extra_metrics, s);
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
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	free(s);
	return NULL;
}
