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
