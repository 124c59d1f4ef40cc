/* Per-thread response cache of the HTTP server (see cache.h): lookup by
 * key, least-recently-used eviction, and the reference-counted bodies that
 * the cache and libmicrohttpd's responses share. */
#include "cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Body bytes held by every thread's cache (atomic). */
static size_t cached_bytes;

/* The cap on cached_bytes (atomic). */
static size_t cache_cap = HTTP_CACHE_BYTES_DEFAULT;

size_t http_cache__bytes(void) { return __atomic_load_n(&cached_bytes, __ATOMIC_RELAXED); }
void http_cache__set_cap(size_t bytes) { __atomic_store_n(&cache_cap, bytes, __ATOMIC_RELAXED); }
size_t http_cache__cap(void) { return __atomic_load_n(&cache_cap, __ATOMIC_RELAXED); }

/* Empties e (its body lives on while a response sends it). */
static void drop(struct http_cache_entry *e)
{
	if (!e->body)
		return;
	__atomic_sub_fetch(&cached_bytes, e->body->len, __ATOMIC_RELAXED);
	http_body__put(e->body);
	e->body = NULL;
}

/* This cache's least recently used entry, or NULL when it is empty. */
static struct http_cache_entry *oldest(struct http_cache *c)
{
	struct http_cache_entry *e = NULL;

	for (int i = 0; i < HTTP_CACHE_ENTRIES; i++)
		if (c->entries[i].body && (!e || c->entries[i].last_use < e->last_use))
			e = &c->entries[i];
	return e;
}

struct http_body *http_body__get(struct http_body *b)
{
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	return b;
}

void http_body__put(struct http_body *b)
{
	if (b && !__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL))
		free(b);
}

struct http_cache_entry *http_cache__find(struct http_cache *c, const char *key)
{
	for (int i = 0; i < HTTP_CACHE_ENTRIES; i++)
		if (c->entries[i].body && !strcmp(c->entries[i].key, key))
			return &c->entries[i];
	return NULL;
}

void http_cache__used(struct http_cache *c, struct http_cache_entry *e) { e->last_use = ++c->uses; }

void http_cache__put(struct http_cache *c, const char *key, int64_t version, const char *data, size_t len)
{
	struct http_cache_entry *e = http_cache__find(c, key), *old;
	struct http_body *b;
	size_t cap = http_cache__cap();

	if (e)
		drop(e);                 /* key's older answer never outlives this call */
	if (!cap || len > cap / 4)
		return;
	/* Room for len: this thread's oldest answers go first. */
	while (http_cache__bytes() + len > cap && (old = oldest(c)))
		drop(old);
	if (http_cache__bytes() + len > cap)
		return;
	if (!e) {
		e = &c->entries[0];
		for (int i = 1; i < HTTP_CACHE_ENTRIES && e->body; i++)
			if (!c->entries[i].body || c->entries[i].last_use < e->last_use)
				e = &c->entries[i];
	}
	b = malloc(sizeof(*b) + len + 1);
	if (!b)
		return;
	b->refs = 1;
	b->len = len;
	if (len)
		memcpy(b->data, data, len);
	b->data[len] = '\0';
	drop(e);
	__atomic_add_fetch(&cached_bytes, len, __ATOMIC_RELAXED);
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->version = version;
	e->body = b;
	http_cache__used(c, e);
}

void http_cache__clear(struct http_cache *c)
{
	for (int i = 0; i < HTTP_CACHE_ENTRIES; i++)
		drop(&c->entries[i]);
}
