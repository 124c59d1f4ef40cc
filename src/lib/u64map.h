/* Open-addressing hash map from uint64_t keys to pointer values.
 *
 * Keys are any 64-bit value; values are owned by the caller (the map never
 * frees them).  Lookups and inserts are O(1) expected; the table doubles at
 * 70% load and deletion uses backward-shift, so there are no tombstones.
 */
#ifndef KS_U64MAP_H
#define KS_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map_slot {
	uint64_t key;
	void *value;
	bool used;
};

struct u64map {
	struct u64map_slot *slots;
	size_t cap;        /* power of two, or 0 */
	size_t len;
};

#define U64MAP_INIT { NULL, 0, 0 }

void *u64map_get(const struct u64map *m, uint64_t key);
/* Inserts or replaces; returns the previous value or NULL. */
void *u64map_put(struct u64map *m, uint64_t key, void *value);
/* Removes key; returns its value or NULL. */
void *u64map_del(struct u64map *m, uint64_t key);
void u64map_free(struct u64map *m);   /* frees the table, not the values */

/* Iteration: for (size_t i = 0; u64map_next(m, &i, &k, &v); ) ... ;
 * the map must not change during the loop (u64map_del of the current key
 * is the exception only if the loop restarts at the same i). */
bool u64map_next(const struct u64map *m, size_t *iter, uint64_t *ret_key, void **ret_value);

#endif
