/* The HTTP server of `ksight agent`: JSON API, /metrics, the dashboard.
 *
 * libmicrohttpd with a small pool of threads (http.threads), each polling
 * its share of the connections with epoll and owning one read-only database
 * connection.  Nothing it serves writes.
 *
 * Safety rules, enforced here:
 *  - it listens on loopback unless a bearer token is configured; with a
 *    token every request (assets included) must carry it, as
 *    "Authorization: Bearer TOKEN" or as the password of HTTP Basic (so a
 *    browser can open the dashboard), compared in constant time;
 *  - GET and HEAD only, no request body, headers and URL within 32 KiB,
 *    idle connections closed after 10 s, at most http.max_connections
 *    served at once (503 beyond), 2 s of database time per request (503
 *    beyond), every query parameter known and validated (400 naming it).
 *
 * Two steps so a bad address fails before the tracers load, and the
 * threads start only after the collector has blocked its signals:
 * http_server__open() checks the options and binds, http_server__start()
 * starts serving.
 */
#ifndef KS_HTTP_SERVER_H
#define KS_HTTP_SERVER_H

#include <stdbool.h>

#define HTTP_ERR_MAX 512

struct config;
struct snapshots;
struct http_server;

/* Parses cfg->http_listen, reads cfg->http_token_file, enforces the
 * loopback rule and binds the listening socket.  Returns 0 with *ret, or:
 * -EINVAL for options the user must change (bad address, non-loopback
 * without a token, unusable token file), another negative errno when the
 * socket cannot be bound; err says what and what to do.  cfg must outlive
 * the server. */
int http_server__open(const struct config *cfg, struct http_server **ret, char *err);

/* Starts the threads; requests are answered from sn's snapshots and
 * read-only connections to cfg->db_path. */
int http_server__start(struct http_server *s, struct snapshots *sn, char *err);

/* The snapshots the server answers from (NULL before start). */
struct snapshots *http_server__snapshots(struct http_server *s);

/* "127.0.0.1:7777": where it listens (the real port when 0 was asked). */
const char *http_server__address(const struct http_server *s);

/* The token the agent made itself (for the address it prints once:
 * http://ADDRESS/?token=TOKEN), or NULL when the token came from
 * http.token_file (the user has it).  Valid while s is. */
const char *http_server__own_token(const struct http_server *s);

/* The file the token is kept in ("" when only in memory). */
const char *http_server__token_path(const struct http_server *s);

/* Stops serving (waits for requests in progress), closes every connection
 * and frees s; NULL is fine.  Returns NULL. */
struct http_server *http_server__stop(struct http_server *s);

/* True when the server speaks HTTPS (http.tls.cert). */
bool http_server__tls(const struct http_server *s);

/* Re-reads http.tls.cert, .key and .client_ca from cfg (SIGHUP: certificates
 * rotate) and moves to a new daemon on the same socket; the old one stops
 * taking connections and finishes the ones it has.  On any error (a file
 * missing or too open, a key that does not fit) the server keeps what it
 * had and err says why.  0 when nothing changes (no TLS before or now). */
int http_server__reload_tls(struct http_server *s, const struct config *cfg, char *err);

/* For the server's own files (address.c, auth.c): writes the message into
 * err (HTTP_ERR_MAX bytes) and returns code. */
int http_fail(char *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
