/* The address the HTTP server listens on (http.listen).
 *
 * "ADDR:PORT" with a numeric port: "127.0.0.1:7777", "[::1]:7777",
 * "localhost:7777", or "*:7777" / ":7777" for every IPv4 address.  Only
 * loopback addresses may be served without a token (server.h says why);
 * this file answers which ones are.
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

#endif
