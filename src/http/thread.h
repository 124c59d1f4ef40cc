/* What each of the HTTP server's threads owns: its read-only database
 * connection and its response cache (cache.h).
 *
 * libmicrohttpd runs requests on a pool of threads (http.threads).  SQLite
 * connections must not be shared between threads without locks, so each
 * thread opens its own on its first database request and keeps it for its
 * life; the cache lives beside it because its versions are that
 * connection's data_version.  Both are freed when the thread exits.
 */
#ifndef KS_HTTP_THREAD_H
#define KS_HTTP_THREAD_H

#include <stdint.h>

#include "cache.h"

struct store;

struct http_thread {
	struct store *store;               /* NULL until a request needs it */
	struct http_cache cache;
};

/* The calling thread's state, made on first use; NULL when out of memory
 * (the request is then served without a cache). */
struct http_thread *http_thread__get(void);

#endif
