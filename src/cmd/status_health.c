/* GET /api/health for ksight status (see status_health.h): a plain HTTP/1.0
 * request on a socket (the agent answers from memory, so a short timeout
 * is enough), the body parsed with jansson. */
#include "status_health.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* The whole answer into a malloc'd string (*ret); 0 or a negative errno. */
static int get(const char *url, const char *path, const char *token, int timeout_s, char **ret)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	struct timeval tv = { timeout_s, 0 };
	const char *hp = url + 7, *colon;
	char host[128], port[16], req[512];
	char *text = NULL;
	size_t len = 0, cap = 0;
	int fd = -1, rc = 0;
	ssize_t n;

	*ret = NULL;
	if (strncmp(url, "http://", 7) || !(colon = strrchr(hp, ':')))
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - hp), hp);
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (host[0] == '[') {        /* [::1] */
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	if (getaddrinfo(host, port, &hints, &ai))
		return -EHOSTUNREACH;
	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0)) < 0) {
		rc = -errno;
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		rc = -errno;
		goto out;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n%s%s%sConnection: close\r\n\r\n", path, hp,
		     token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
	if (write(fd, req, (size_t)n) != n) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		if (cap - len < 4097) {
			char *more = realloc(text, cap = cap ? 2 * cap : 16384);

			if (!more) {
				rc = -ENOMEM;
				goto out;
			}
			text = more;
		}
		if ((n = read(fd, text + len, cap - len - 1)) <= 0)
			break;
		len += (size_t)n;
		if (len > (1u << 22)) {
			rc = -EFBIG;
			goto out;
		}
	}
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	text[len] = '\0';
	*ret = text;
	text = NULL;
out:
	free(text);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

/* obj's integer key, or -1. */
static int64_t num(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static void memory_of(json_t *doc, struct health *ret)
{
	json_t *m = json_object_get(doc, "memory"), *sql, *cache, *det;

	if (!json_is_object(m))
		return;
	ret->has_memory = true;
	ret->rss = num(m, "rss_bytes");
	ret->peak_rss = num(m, "peak_rss_bytes");
	ret->heap_used = num(json_object_get(m, "heap"), "in_use_bytes");
	ret->heap_free = num(json_object_get(m, "heap"), "free_bytes");
	sql = json_object_get(m, "sqlite");
	ret->sqlite_used = num(sql, "used_bytes");
	ret->sqlite_cap = num(sql, "page_cache_cap_bytes");
	ret->sqlite_connections = num(sql, "connections");
	cache = json_object_get(m, "http_cache");
	ret->http_cache_used = num(cache, "used_bytes");
	ret->http_cache_cap = num(cache, "cap_bytes");
	det = json_object_get(m, "detect");
	if ((ret->has_detect = json_is_object(det))) {
		ret->metrics = num(det, "metrics");
		ret->max_metrics = num(det, "max_metrics");
		ret->detect_used = num(det, "used_bytes");
		ret->detect_cap = num(det, "cap_bytes");
	}
}

void health_fetch(const char *url, const char *token, int timeout_s, struct health *ret)
{
	char *answer = NULL, *body;
	json_t *doc, *problems, *db;
	int status;

	memset(ret, 0, sizeof(*ret));
	ret->cap_bytes = -1;
	if ((ret->http_status = get(url, "/api/health", token, timeout_s, &answer)))
		return;
	if (sscanf(answer, "HTTP/%*s %d", &status) != 1) {
		ret->http_status = -EPROTO;
		goto out;
	}
	ret->http_status = status;
	body = strstr(answer, "\r\n\r\n");
	if (status != 200 || !body || !(doc = json_loads(body + 4, 0, NULL)))
		goto out;
	snprintf(ret->status, sizeof(ret->status), "%s",
		 json_string_value(json_object_get(doc, "status")) ? json_string_value(json_object_get(doc, "status")) : "");
	problems = json_object_get(doc, "problems");
	for (size_t i = 0; i < json_array_size(problems) && ret->nproblems < HEALTH_PROBLEMS_MAX; i++)
		if (json_string_value(json_array_get(problems, i)))
			snprintf(ret->problems[ret->nproblems++], sizeof(ret->problems[0]), "%s",
				 json_string_value(json_array_get(problems, i)));
	db = json_object_get(doc, "database");
	if (json_is_integer(json_object_get(db, "cap_bytes")) && json_integer_value(json_object_get(db, "cap_bytes")) > 0)
		ret->cap_bytes = json_integer_value(json_object_get(db, "cap_bytes"));
	if (json_string_value(json_object_get(json_object_get(doc, "learning"), "text")))
		snprintf(ret->learning, sizeof(ret->learning), "%s",
			 json_string_value(json_object_get(json_object_get(doc, "learning"), "text")));
	memory_of(doc, ret);
	ret->body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
out:
	free(answer);
}
