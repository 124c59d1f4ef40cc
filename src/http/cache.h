/* Answers the HTTP server keeps for the next request that asks the same.
 *
 * An API answer depends only on its parameters and the database; SQLite's
 * data_version (store__data_version()) tells whether any connection
 * committed since.  So each serving thread keeps its last CACHE_ENTRIES
 * answers by key (path and parameters) with the version they were computed
 * at, and serves one again while the version has not moved.  Bodies are
 * reference-counted so that a cached body can be sent while the cache
 * replaces it.
 *
 * A cache belongs to one thread (thread.h); bodies may be dropped from any.
 */
#ifndef KS_HTTP_CACHE_H
#define KS_HTTP_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_CACHE_ENTRIES 16
#define HTTP_CACHE_KEY_MAX 512
/* Bytes of bodies kept by all threads' caches together (http.cache_bytes,
 * set with http_cache__set_cap): varying since= makes every request a new
 * entry, so entries alone bound nothing. */
#define HTTP_CACHE_BYTES_DEFAULT (2 << 20)

/* A response body shared by the cache and the responses in flight. */
struct http_body {
	int refs;                          /* atomic */
	size_t len;
	char data[];                       /* len bytes, then a NUL */
};

struct http_cache_entry {
	char key[HTTP_CACHE_KEY_MAX];
	int64_t version;                   /* the data version it was computed at */
	struct http_body *body;            /* NULL: the slot is free */
	uint64_t last_use;
};

struct http_cache {
	struct http_cache_entry entries[HTTP_CACHE_ENTRIES];
	uint64_t uses;                     /* clock for last_use */
};

/* Takes one more reference to b (a response that sends it); returns b. */
struct http_body *http_body__get(struct http_body *b);

/* Drops one reference to b and frees it with the last; NULL is fine.  Any
 * thread. */
void http_body__put(struct http_body *b);

/* The entry for key, or NULL.  The caller compares its version with the
 * database's before serving its body, and marks a hit with
 * http_cache__used(). */
struct http_cache_entry *http_cache__find(struct http_cache *c, const char *key);

/* Records that e was served now (it is evicted last). */
void http_cache__used(struct http_cache *c, struct http_cache_entry *e);

/* Keeps a copy of data[len] as key's answer at version, in key's entry, a
 * free one, or the least recently used.  key must be shorter than
 * HTTP_CACHE_KEY_MAX.  Keeps nothing when out of memory or when the bytes
 * kept by every cache would pass the cap (http_cache__cap) even after this
 * one dropped its older entries (the cache is only a shortcut). */
void http_cache__put(struct http_cache *c, const char *key, int64_t version, const char *data, size_t len);

/* Drops every body (responses in flight keep theirs). */
void http_cache__clear(struct http_cache *c);

/* Bytes the caches of every thread hold now. */
size_t http_cache__bytes(void);

/* Sets the cap on the bytes of every thread's cache together (0: keep
 * nothing); answers over a quarter of it are never kept.  Takes effect for
 * later puts. */
void http_cache__set_cap(size_t bytes);

/* The cap in force. */
size_t http_cache__cap(void);

#endif
