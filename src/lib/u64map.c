/* uint64_t -> pointer hash map (see u64map.h). */
#include "u64map.h"

#include <stdio.h>
#include <stdlib.h>

static size_t hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return (size_t)k;
}

void *u64map_get(const struct u64map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->slots[i].used)
			return NULL;
		if (m->slots[i].key == key)
			return m->slots[i].value;
	}
}

static void grow(struct u64map *m)
{
	struct u64map old = *m;

	m->cap = old.cap ? old.cap * 2 : 16;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (!m->slots) {
		fputs("ksight: out of memory\n", stderr);
		abort();
	}
	m->len = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].used)
			u64map_put(m, old.slots[i].key, old.slots[i].value);
	free(old.slots);
}

void *u64map_put(struct u64map *m, uint64_t key, void *value)
{
	size_t i;

	if ((m->len + 1) * 10 > m->cap * 7)
		grow(m);
	for (i = hash(key) & (m->cap - 1); m->slots[i].used; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].key == key) {
			void *prev = m->slots[i].value;

			m->slots[i].value = value;
			return prev;
		}
	}
	m->slots[i].used = true;
	m->slots[i].key = key;
	m->slots[i].value = value;
	m->len++;
	return NULL;
}

void *u64map_del(struct u64map *m, uint64_t key)
{
	size_t mask = m->cap - 1, i, j;
	void *value;

	if (!m->cap)
		return NULL;
	for (i = hash(key) & mask;; i = (i + 1) & mask) {
		if (!m->slots[i].used)
			return NULL;
		if (m->slots[i].key == key)
			break;
	}
	value = m->slots[i].value;
	/* Backward-shift deletion keeps every probe chain unbroken. */
	for (j = (i + 1) & mask; m->slots[j].used; j = (j + 1) & mask) {
		size_t home = hash(m->slots[j].key) & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].used = false;
	m->slots[i].value = NULL;
	m->len--;
	return value;
}

void u64map_free(struct u64map *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->len = 0;
}

bool u64map_next(const struct u64map *m, size_t *iter, uint64_t *ret_key, void **ret_value)
{
	for (; *iter < m->cap; (*iter)++) {
		if (m->slots[*iter].used) {
			if (ret_key)
				*ret_key = m->slots[*iter].key;
			if (ret_value)
				*ret_value = m->slots[*iter].value;
			(*iter)++;
			return true;
		}
	}
	return false;
}
