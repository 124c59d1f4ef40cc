/* Parsing, resolving and printing the HTTP server's listening address (see
 * address.h): the text of http.listen in, a socket address and its
 * loopback verdict out, and the bound address back as text for the logs
 * and /api/diagnostics. */
#include "address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server.h"

bool http_address__is_loopback(const struct sockaddr *sa)
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
int http_address__resolve(const char *spec, struct addrinfo **ret, char *err)
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
		return http_fail(err, -EINVAL, "http.listen: cannot resolve '%s': %s", host, gai_strerror(rc));
	return 0;
bad:
	return http_fail(err, -EINVAL,
			 "http.listen: '%s' is not ADDR:PORT (e.g. 127.0.0.1:7777, [::1]:7777, 0.0.0.0:7777)", spec);
}

void http_address__of_socket(int fd, char *out, size_t size)
{
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	char host[INET6_ADDRSTRLEN];

	getsockname(fd, (struct sockaddr *)&bound, &blen);
	if (bound.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&bound)->sin6_addr, host, sizeof(host));
		snprintf(out, size, "[%s]:%u", host, ntohs(((struct sockaddr_in6 *)&bound)->sin6_port));
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&bound)->sin_addr, host, sizeof(host));
		snprintf(out, size, "%s:%u", host, ntohs(((struct sockaddr_in *)&bound)->sin_port));
	}
}

void http_hosts__init(struct http_hosts *h, int fd, const char *allowed)
{
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	char host[INET6_ADDRSTRLEN];

	memset(h, 0, sizeof(*h));
	h->allowed = allowed;
	if (getsockname(fd, (struct sockaddr *)&bound, &blen))
		return;
	if (bound.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&bound;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(h->listen, sizeof(h->listen), "[%s]", host);
		h->port = ntohs(a->sin6_port);
		h->any_address = IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr);
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&bound;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(h->listen, sizeof(h->listen), "%s", host);
		h->port = ntohs(a->sin_port);
		h->any_address = a->sin_addr.s_addr == htonl(INADDR_ANY);
	}
}

/* Splits "name:port", "[v6]:port", "name" into the name (brackets kept)
 * and the port (0 when absent); false when malformed. */
static bool split_host(const char *spec, size_t len, char *name, size_t size, unsigned *port)
{
	const char *end = spec + len, *colon;
	size_t nlen;

	if (len && spec[0] == '[') {
		const char *close = memchr(spec, ']', len);

		if (!close)
			return false;
		colon = close + 1 < end ? close + 1 : NULL;
		if (colon && *colon != ':')
			return false;
	} else {
		colon = memchr(spec, ':', len);
	}
	nlen = (size_t)((colon ? colon : end) - spec);
	if (!nlen || nlen >= size)
		return false;
	memcpy(name, spec, nlen);
	name[nlen] = '\0';
	*port = 0;
	if (colon) {
		unsigned long p = 0;
		const char *d = colon + 1;

		if (d == end || end - d > 5)
			return false;
		for (; d < end; d++) {
			if (*d < '0' || *d > '9')
				return false;
			p = p * 10 + (unsigned long)(*d - '0');
		}
		if (p == 0 || p > 65535)
			return false;
		*port = (unsigned)p;
	}
	return true;
}

static bool is_ip_literal(const char *name)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char v6[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(name);

	if (inet_pton(AF_INET, name, addr) == 1)
		return true;
	if (len < 3 || len - 2 >= sizeof(v6) || name[0] != '[' || name[len - 1] != ']')
		return false;
	memcpy(v6, name + 1, len - 2);
	v6[len - 2] = '\0';
	return inet_pton(AF_INET6, v6, addr) == 1;
}

bool http_hosts__allows(const struct http_hosts *h, const char *host)
{
	char name[256], want[256];
	unsigned port, want_port;
	const char *a, *comma;

	if (!host || !split_host(host, strlen(host), name, sizeof(name), &port))
		return false;
	if (!port)
		port = 80;
	if (port == h->port && (!strcasecmp(name, h->listen) || !strcasecmp(name, "localhost") ||
				(h->any_address && is_ip_literal(name))))
		return true;
	for (a = h->allowed; a && *a; a = comma ? comma + 1 : a + strlen(a)) {
		size_t len;

		while (*a == ' ')
			a++;
		comma = strchr(a, ',');
		len = comma ? (size_t)(comma - a) : strlen(a);
		while (len && a[len - 1] == ' ')
			len--;
		if (!len || !split_host(a, len, want, sizeof(want), &want_port))
			continue;
		/* "NAME" without a port allows the name on any port. */
		if (!strcasecmp(name, want) && (!want_port || want_port == port))
			return true;
	}
	return false;
}
