/* Per-thread state of the HTTP server (see thread.h) and the handlers'
 * access to the database through it: http_store() and
 * http_store_error() (declared in routes.h). */
#include "thread.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "../config/config.h"
#include "../lib/clock.h"
#include "../store/store.h"
#include "routes.h"

static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;

static void thread_free(void *arg)
{
	struct http_thread *th = arg;

	http_cache__clear(&th->cache);
	store__close(th->store);
	free(th);
}

static void make_key(void) { pthread_key_create(&thread_key, thread_free); }

struct http_thread *http_thread__get(void)
{
	struct http_thread *th;

	pthread_once(&thread_key_once, make_key);
	th = pthread_getspecific(thread_key);
	if (!th && (th = calloc(1, sizeof(*th))))
		pthread_setspecific(thread_key, th);
	return th;
}

struct store *http_store(struct http_request *r)
{
	struct http_thread *th = http_thread__get();
	char err[STORE_ERR_MAX];
	int rc;

	if (!th) {
		http_error(r, 503, NULL, "out of memory");
		return NULL;
	}
	if (!th->store) {
		if ((rc = store__open(http_server__config(r->server)->db_path, STORE_READ_ONLY, &th->store, err))) {
			http_error(r, 503, NULL, "the database cannot be read: %s", err);
			return NULL;
		}
		/* http.db_cache: SQLite's default (2 MB) per thread is more
		 * than answers need; the kernel caches the file anyway. */
		store__set_cache_bytes(th->store, http_server__config(r->server)->http_db_cache_bytes);
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
