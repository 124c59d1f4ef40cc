/* The address the HTTP server listens on (http.listen).
 *
 * "ADDR:PORT" with a numeric port: "127.0.0.1:7777", "[::1]:7777",
 * "localhost:7777", or "*:7777" / ":7777" for every IPv4 address.  Only
 * loopback addresses may be served without a token (server.h says why);
 * this file answers which ones are, and which Host headers name the server.
 *
 * The Host check defends against DNS rebinding: a web page on
 * evil.example can re-resolve its own name to 127.0.0.1 and then read the
 * API "same-origin", but its requests still say "Host: evil.example".  A
 * name the server was not told about is refused before any route runs.
 */
#ifndef KS_HTTP_ADDRESS_H
#define KS_HTTP_ADDRESS_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Resolves spec into *ret (the caller frees it with freeaddrinfo()).
 * Returns 0, or -EINVAL with err (HTTP_ERR_MAX bytes) naming the setting
 * and a valid example when spec is malformed or cannot be resolved. */
int http_address__resolve(const char *spec, struct addrinfo **ret, char *err);

/* True for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8. */
bool http_address__is_loopback(const struct sockaddr *sa);

/* Writes where the bound socket fd listens into out ("127.0.0.1:7777",
 * "[::1]:7777"): the real port when port 0 was asked. */
void http_address__of_socket(int fd, char *out, size_t size);

/* Which Host headers a server accepts: the address it listens on with its
 * port ("127.0.0.1:7777", "[::1]:7777"), "localhost" with that port, any
 * IP literal with that port when it listens on every address (a rebinding
 * page always sends a name, never an address), and the names in
 * http.allowed_hosts ("NAME" matches any port, "NAME:PORT" that one).
 * Without a port a Host means port 80.  Names compare case-insensitively. */
struct http_hosts {
	char listen[64];                   /* "127.0.0.1", "[::1]": the bound address as a client writes it */
	unsigned port;                     /* the bound port */
	bool any_address;                  /* bound to 0.0.0.0 or :: */
	const char *allowed;               /* http.allowed_hosts (comma-separated), or NULL; not owned */
};

/* Fills *h from the bound socket fd and allowed (kept by reference: it
 * must outlive h). */
void http_hosts__init(struct http_hosts *h, int fd, const char *allowed);

/* True when host (a request's Host header; NULL when it had none) names
 * this server per the rules above. */
bool http_hosts__allows(const struct http_hosts *h, const char *host);

#endif
