/* Fuzz target: the HTTP server's request path (src/http/server.c: the
 * token, method, body and load checks, routing, query parameter checks,
 * the answer cache) and every route's handler with its parameter parsers
 * (src/http/routes.c and the route files), on a real database and a real
 * snapshot, with no socket.
 *
 * server.c is included here so that its request callback and the table of
 * libmicrohttpd functions it calls are in reach: the table is filled with
 * fakes that serve the request parsed from the input and take the answer.
 * libmicrohttpd itself (its HTTP parsing) is not what is fuzzed.
 *
 * Input: "METHOD URL" on the first line, then "Name: value" header lines.
 * The URL's path and query are split and percent-decoded as libmicrohttpd
 * does.  With its first byte '!' the server has the token
 * "fuzz-token-0123456789" (Bearer, or Basic with it as the password).
 *
 * Checks: every answer has a status the server counts, headers without CR
 * or LF, and a JSON body (API answers and errors) that parses; each
 * response is freed and the snapshot references balance.
 */
#include "../../src/http/server.c"

#include <ctype.h>
#include <math.h>
#include <signal.h>
#include <strings.h>

#include "../../src/collect/collector.h"
#include "../../src/store/schema.h"
#include "../lib/fuzz.h"

#define TOKEN "fuzz-token-0123456789"
#define PAIRS_MAX 64

struct pair {
	char *key, *value;             /* value NULL: a query key without '=' */
};

/* A request as libmicrohttpd would hand it over. */
struct fake_conn {
	struct pair headers[PAIRS_MAX], args[PAIRS_MAX];
	size_t nheaders, nargs;
	int answers;                   /* responses queued */
};

struct fake_response {
	const char *data;
	size_t len;
	MHD_ContentReaderFreeCallback free_cb;
	void *free_cls;
	char content_type[128];
};

/* ---- a strict JSON checker (RFC 8259, UTF-8 text) ---- */

struct jp {
	const unsigned char *p, *end;
	int depth;
};

static bool jp_value(struct jp *j);

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool jp_lit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n))
		return false;
	j->p += n;
	return true;
}

static bool jp_string(struct jp *j)
{
	if (j->p >= j->end || *j->p++ != '"')
		return false;
	while (j->p < j->end) {
		unsigned char c = *j->p++;
		int more = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;

		if (c == '"')
			return true;
		if (c < 0x20 || more < 0 || (c & 0xfe) == 0xc0)
			return false;
		for (int k = 0; k < more; k++)
			if (j->p >= j->end || (*j->p++ & 0xc0) != 0x80)
				return false;
		if (c == '\\') {
			if (j->p >= j->end)
				return false;
			c = *j->p++;
			if (c == 'u') {
				for (int k = 0; k < 4; k++)
					if (j->p >= j->end || !isxdigit(*j->p++))
						return false;
			} else if (!strchr("\"\\/bfnrt", c) || !c) {
				return false;
			}
		}
	}
	return false;
}

static bool jp_number(struct jp *j)
{
	const unsigned char *start = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || !isdigit(*j->p))
		return false;
	if (*j->p == '0' && j->p + 1 < j->end && isdigit(j->p[1]))
		return false;           /* no leading zeros */
	while (j->p < j->end && (isdigit(*j->p) || strchr(".eE+-", *j->p)))
		j->p++;
	return j->p > start;
}

static bool jp_value(struct jp *j)
{
	bool first = true;

	jp_ws(j);
	if (j->p >= j->end || ++j->depth > 64)
		return false;
	switch (*j->p) {
	case '{':
	case '[': {
		unsigned char close = *j->p == '{' ? '}' : ']';
		bool object = close == '}';

		j->p++;
		for (;;) {
			jp_ws(j);
			if (j->p < j->end && *j->p == close && first) {
				j->p++;
				break;
			}
			if (!first) {
				if (j->p < j->end && *j->p == close) {
					j->p++;
					break;
				}
				if (j->p >= j->end || *j->p++ != ',')
					return false;
				jp_ws(j);
			}
			if (object) {
				if (!jp_string(j))
					return false;
				jp_ws(j);
				if (j->p >= j->end || *j->p++ != ':')
					return false;
			}
			if (!jp_value(j))
				return false;
			first = false;
		}
		break;
	}
	case '"':
		if (!jp_string(j))
			return false;
		break;
	default:
		if (!jp_lit(j, "true") && !jp_lit(j, "false") && !jp_lit(j, "null") && !jp_number(j))
			return false;
	}
	j->depth--;
	return true;
}

/* True when data[len] is one JSON value and nothing else. */
static bool json_valid(const char *data, size_t len)
{
	struct jp j = { (const unsigned char *)data, (const unsigned char *)data + len, 0 };

	if (!jp_value(&j))
		return false;
	jp_ws(&j);
	return j.p == j.end;
}

/* ---- the fake libmicrohttpd ---- */

static struct http_server server;
static struct config cfg;
static struct snapshots *snaps;
static struct collector *collector;

static const char *fake_lookup(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key)
{
	struct fake_conn *f = (struct fake_conn *)c;

	if (kind == MHD_HEADER_KIND) {
		for (size_t i = 0; i < f->nheaders; i++)
			if (!strcasecmp(f->headers[i].key, key))
				return f->headers[i].value;
	} else if (kind == MHD_GET_ARGUMENT_KIND) {
		for (size_t i = 0; i < f->nargs; i++)
			if (!strcmp(f->args[i].key, key))
				return f->args[i].value;
	}
	return NULL;
}

static int fake_values(struct MHD_Connection *c, enum MHD_ValueKind kind, MHD_KeyValueIterator it, void *cls)
{
	struct fake_conn *f = (struct fake_conn *)c;
	struct pair *p = kind == MHD_HEADER_KIND ? f->headers : f->args;
	size_t n = kind == MHD_HEADER_KIND ? f->nheaders : kind == MHD_GET_ARGUMENT_KIND ? f->nargs : 0;
	int count = 0;

	for (size_t i = 0; i < n; i++) {
		count++;
		if (it && it(cls, kind, p[i].key, p[i].value) != MHD_YES)
			break;
	}
	return count;
}

static struct MHD_Response *fake_response(size_t size, const void *data, MHD_ContentReaderFreeCallback cb, void *cls)
{
	struct fake_response *r = calloc(1, sizeof(*r));

	if (!r)
		fuzz_die("out of memory");
	r->data = data;
	r->len = size;
	r->free_cb = cb;
	r->free_cls = cls;
	return (struct MHD_Response *)r;
}

static struct MHD_Response *fake_from_buffer(size_t size, void *data, enum MHD_ResponseMemoryMode mode)
{
	if (mode != MHD_RESPMEM_PERSISTENT)
		fuzz_die("the server hands over memory it does not keep (mode %d)", (int)mode);
	return fake_response(size, data, NULL, NULL);
}

static enum MHD_Result fake_header(struct MHD_Response *resp, const char *name, const char *value)
{
	struct fake_response *r = (struct fake_response *)resp;

	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		fuzz_die("header injection: '%s: %s'", name, value);
	if (!strcasecmp(name, MHD_HTTP_HEADER_CONTENT_TYPE))
		snprintf(r->content_type, sizeof(r->content_type), "%s", value);
	return MHD_YES;
}

static enum MHD_Result fake_queue(struct MHD_Connection *c, unsigned int status, struct MHD_Response *resp)
{
	struct fake_conn *f = (struct fake_conn *)c;
	struct fake_response *r = (struct fake_response *)resp;
	bool counted = false;

	for (size_t i = 0; i < NCODES; i++)
		counted |= counted_codes[i] == (int)status;
	if (!counted)
		fuzz_die("status %u is not one the server counts", status);
	if (f->answers++)
		fuzz_die("two answers to one request");
	if (!strncmp(r->content_type, "application/json", 16) && !json_valid(r->data, r->len))
		fuzz_die("status %u: the answer is not JSON: %.*s", status, (int)(r->len > 2000 ? 2000 : r->len), r->data);
#ifdef FUZZ_REPLAY
	printf("# %u %s, %zu bytes: %.*s\n", status, r->content_type, r->len,
		(int)(r->len > 100 ? 100 : r->len), !strncmp(r->content_type, "application/json", 16) ? r->data : "");
#endif
	return MHD_YES;
}

static void fake_destroy(struct MHD_Response *resp)
{
	struct fake_response *r = (struct fake_response *)resp;

	if (r->free_cb)
		r->free_cb(r->free_cls);
	free(r);
}

/* No socket behind a fake connection: no per-client record (the server
 * then counts nothing for it), no TLS session. */
static const union MHD_ConnectionInfo *fake_info(struct MHD_Connection *c, enum MHD_ConnectionInfoType type, ...)
{
	(void)c;
	(void)type;
	return NULL;
}

/* Percent-decodes s in place, as libmicrohttpd does ('+' is kept). */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char hex[3] = { s[1], s[2], 0 };

			*out++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

static void parse_query(struct fake_conn *f, char *q)
{
	char *save = NULL;

	for (char *kv = strtok_r(q, "&", &save); kv && f->nargs < PAIRS_MAX; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');

		if (eq)
			*eq++ = '\0';
		unescape(kv);
		if (eq)
			unescape(eq);
		f->args[f->nargs++] = (struct pair){ kv, eq };
	}
}

/* A database with a few rows in every table, some of them awkward (quotes,
 * control characters, NaN, extremes), written now so that relative times
 * (since=-5m) find them. */
static void make_database(const char *path)
{
	static const char *const texts[] = { "cpu", "\"q\" <b> \\ \x01\x1f\x7f \xc3\xa9 \xff\xc0\x80", "", "sda",
					     "io.read" };
	char err[STORE_ERR_MAX];
	struct store *s;
	struct batch b;
	int64_t now = clock_real_ns();

	if (store__open(path, STORE_READ_WRITE, &s, err))
		fuzz_die("cannot create the database: %s", err);
	batch__init(&b);
	for (int t = 0; t < T_COUNT; t++)
		for (int k = 0; k < 5; k++) {
			batch__row(&b, (enum table_id)t);
			batch__int(&b, now - (int64_t)k * 20 * NSEC_PER_SEC);
			for (unsigned c = 1; c < schema_tables[t].ncolumns; c++)
				switch (schema_tables[t].columns[c].type) {
				case COL_INT: batch__int(&b, k == 3 ? (int64_t)1 << 53 : (int64_t)k * 7 - 3); break;
				case COL_REAL: batch__real(&b, k == 2 ? NAN : k == 4 ? -1e308 : k * 1.5); break;
				default: batch__text(&b, k == 0 ? NULL : texts[k]); break;
				}
			batch__end(&b);
		}
	if (store__write_batch(s, &b, err))
		fuzz_die("cannot write the database: %s", err);
	batch__free(&b);
	store__close(s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static bool none[TRACER_COUNT + SCRAPER_COUNT];
	struct collector_opts opts = { none, none, true };
	char db[4200];
	sigset_t mask;

	(void)argc;
	(void)argv;
	config__defaults(&cfg);
	fuzz_path("http.db", db, sizeof(db));
	free(cfg.db_path);
	cfg.db_path = strdup(db);
	make_database(cfg.db_path);
	if (collector__open(&cfg, &opts, &collector))
		fuzz_die("collector__open failed");
	/* collector__open blocks these for its signalfd: libFuzzer wants them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &mask, NULL);
	if (snapshots__new(&cfg, NULL, &snaps))
		fuzz_die("snapshots__new failed");
	/* A /metrics request first, so that the snapshot carries the text
	 * (ticks render it only while scraped) and /metrics never waits. */
	snapshot__put(snapshots__get_metrics(snaps, 0));
	snapshots__publish(snaps, collector, NULL, clock_real_ns());

	M.lookup_connection_value = fake_lookup;
	M.get_connection_values = fake_values;
	M.create_response_from_buffer = fake_from_buffer;
	M.create_response_from_buffer_with_free_callback_cls = fake_response;
	M.add_response_header = fake_header;
	M.queue_response = fake_queue;
	M.destroy_response = fake_destroy;
	M.get_connection_info = fake_info;
	server.cfg = &cfg;
	server.snapshots = snaps;
	server.listen_fd = -1;
	server.max_connections = (unsigned)cfg.http_max_connections;
	snprintf(server.address, sizeof(server.address), "127.0.0.1:7777");
	/* What http_hosts__init reads from a bound socket: without it the
	 * Host check refuses every request before it reaches a route. */
	server.hosts.allowed = cfg.http_allowed_hosts;
	snprintf(server.hosts.listen, sizeof(server.hosts.listen), "127.0.0.1");
	server.hosts.port = 7777;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *line, *save = NULL, *method, *url, *query;
	struct fake_conn conn = { 0 };
	size_t upload = 0;
	void *req_cls = NULL;
	struct snapshot *before;
	int refs;

	if (!snaps)
		LLVMFuzzerInitialize(NULL, NULL);
	text = fuzz_strndup(data, size);
	server.token.len = 0;
	if (text[0] == '!') {
		snprintf(server.token.text, sizeof(server.token.text), TOKEN);
		server.token.len = strlen(TOKEN);
	}
	line = strtok_r(text + (text[0] == '!'), "\r\n", &save);
	method = line ? strtok(line, " ") : NULL;
	url = method ? strtok(NULL, " ") : NULL;
	if (!url) {
		free(text);
		return 0;
	}
	while ((line = strtok_r(NULL, "\r\n", &save)) && conn.nheaders < PAIRS_MAX) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon++ = '\0';
		conn.headers[conn.nheaders++] = (struct pair){ line, colon + strspn(colon, " ") };
	}
	if ((query = strchr(url, '?'))) {
		*query++ = '\0';
		parse_query(&conn, query);
	}
	unescape(url);

	before = snapshots__get(snaps);
	refs = __atomic_load_n(&before->refs, __ATOMIC_RELAXED);
	/* As libmicrohttpd calls it: once when the headers are in, once at
	 * the end (more only with a body, which is refused). */
	for (int call = 0; call < 3 && !conn.answers; call++)
		on_request(&server, (struct MHD_Connection *)&conn, url, method, "HTTP/1.1", NULL, &upload, &req_cls);
	if (conn.answers != 1)
		fuzz_die("%d answers to one request", conn.answers);
	if (__atomic_load_n(&before->refs, __ATOMIC_RELAXED) != refs)
		fuzz_die("the request kept a snapshot reference");
	snapshot__put(before);
	free(text);
	return 0;
}
