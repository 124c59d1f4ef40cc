/* Who holds the HTTP server's connections, and for how long they may make
 * it wait for a request.
 *
 * A client is a local user on loopback (the uid that owns the other end of
 * the connection, asked of the kernel with one NETLINK_SOCK_DIAG lookup),
 * else the remote address.  Every local user shares 127.0.0.1, so counting
 * by address would let one of them lock the others (Prometheus, the
 * dashboard) out; counting by uid does not.  A client may hold
 * http.max_client_connections connections; past that a new one is shut at
 * once.
 *
 * A request's headers must be complete within HTTP_HEADERS_TIMEOUT_S of
 * the connection's start or of the previous answer on it: a client that
 * sends a byte every few seconds (slowloris) never trips an idle timeout,
 * but trips this one.  A thread checks twice a second and shuts such
 * connections down; libmicrohttpd then closes them.
 *
 * Serving threads are shared by every client, and a thread answers its
 * ready requests one after another: a client that sends fifty requests
 * for 10,000 rows at once would make /metrics wait behind all of them.  So
 * each client has a budget of serving time: HTTP_CLIENT_SHARE_PCT percent
 * of one thread, with a burst of HTTP_CLIENT_BURST_MS, spent by answers of
 * HTTP_CLIENT_CHARGED_BYTES or more (a dashboard's many small answers are
 * free); a request for rows from a client past it gets a quick 503
 * (Retry-After) and costs nothing.
 *
 * Called from libmicrohttpd's threads; everything here is locked.
 */
#ifndef KS_HTTP_CLIENTS_H
#define KS_HTTP_CLIENTS_H

#include <stdbool.h>
#include <stdint.h>

#define HTTP_HEADERS_TIMEOUT_S 5
#define HTTP_CLIENT_SHARE_PCT 25           /* of one thread's time, per client */
#define HTTP_CLIENT_BURST_MS 100           /* spent at once before the share applies */
#define HTTP_CLIENT_CHARGED_BYTES (256 << 10)  /* answers at least this large are charged */

struct http_clients;
struct http_conn;

struct http_clients_stats {
	uint64_t refused;                  /* connections shut: their client held its maximum */
	uint64_t timed_out;                /* connections shut: headers too slow */
	uint64_t over_budget;              /* requests refused: their client used its time */
	uint64_t clients;                  /* clients with a connection now */
};

/* Starts the deadline thread; max_per_client >= 1.  Returns 0 with *ret,
 * or a negative errno. */
int http_clients__new(unsigned max_per_client, struct http_clients **ret);

/* Stops the thread and frees c (every connection must be removed);
 * NULL is fine. */
void http_clients__free(struct http_clients *c);

/* A connection on socket fd has started.  Returns its record (pass it to
 * the calls below, then to http_clients__remove()), with *refused set when
 * its client already holds its maximum: the socket has then been shut
 * down, and libmicrohttpd will close it.  NULL when out of memory (the
 * connection is served, uncounted). */
struct http_conn *http_clients__add(struct http_clients *c, int fd, bool *refused);

/* The connection has closed (before its socket is); NULL is fine. */
void http_clients__remove(struct http_clients *c, struct http_conn *conn);

/* A request's headers are in: no deadline while it is answered. */
void http_conn__busy(struct http_clients *c, struct http_conn *conn);

/* Its answer is done: the next request's headers have a deadline again. */
void http_conn__idle(struct http_clients *c, struct http_conn *conn);

/* Whether conn's client has used its serving time (the request should
 * get a 503 without touching the database).  NULL: never. */
bool http_conn__over_budget(struct http_clients *c, struct http_conn *conn);

/* Charges ns of serving time to conn's client; NULL is fine. */
void http_conn__charge(struct http_clients *c, struct http_conn *conn, int64_t ns);

/* Counters for /metrics. */
void http_clients__stats(struct http_clients *c, struct http_clients_stats *ret);

#endif
