/* Every metric's series over a stored time range (see history.h). */
#include "history.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

struct loader {
	struct history *set;
	struct extract x;
	int error;
};

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct series *history__find(const struct history *set, const char *name)
{
	struct series *m;

	for (uint64_t h = hash_name(name); (m = u64map_get(&set->by_name, h)); h++)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

static struct series *add(struct history *set, const struct metric_sample *s)
{
	struct series *m = calloc(1, sizeof(*m));
	uint64_t h;

	if (!m)
		return NULL;
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		struct series **list = realloc(set->list, cap * sizeof(*list));

		if (!list) {
			free(m);
			return NULL;
		}
		set->list = list;
		set->cap = cap;
	}
	snprintf(m->name, sizeof(m->name), "%s", s->name);
	snprintf(m->unit, sizeof(m->unit), "%s", s->unit);
	snprintf(m->what, sizeof(m->what), "%s", s->what);
	for (h = hash_name(s->name); u64map_get(&set->by_name, h); h++)
		;
	u64map_put(&set->by_name, h, m);
	set->list[set->n++] = m;
	return m;
}

static void on_sample(void *ctx, const struct metric_sample *s)
{
	struct loader *l = ctx;
	struct series *m = history__find(l->set, s->name);

	if (!m && !(m = add(l->set, s))) {
		l->error = -ENOMEM;
		return;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		int64_t *ts = realloc(m->ts, cap * sizeof(*ts));
		double *v = ts ? realloc(m->v, cap * sizeof(*v)) : NULL;

		if (ts)
			m->ts = ts;
		if (!ts || !v) {
			l->error = -ENOMEM;
			return;
		}
		m->v = v;
		m->cap = cap;
	}
	m->ts[m->n] = s->ts;
	m->v[m->n++] = s->value;
}

static void on_row(void *ctx, enum table_id t, const struct batch_value *v)
{
	struct loader *l = ctx;

	extract__row(&l->x, t, v);
}

static void on_tick(void *ctx, int64_t ts)
{
	struct loader *l = ctx;

	extract__end_tick(&l->x, ts);
	l->set->ticks++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct series *const *)a)->name, (*(struct series *const *)b)->name);
}

int history__load(struct history *set, struct store *s, int64_t from_ns, int64_t to_ns, char *err)
{
	struct loader l = { .set = set };
	struct replay_cb cb = { on_row, on_tick, &l };
	int rc;

	extract__init(&l.x, on_sample, &l);
	set->tier = TIER_RAW;
	rc = set->tiered ? replay__run_tiered(s, from_ns, to_ns, &cb, &set->tier, err)
			 : replay__run(s, from_ns, to_ns, &cb, err);
	if (!rc && l.error) {
		snprintf(err, STORE_ERR_MAX, "out of memory while loading the series");
		rc = l.error;
	}
	if (set->n)
		qsort(set->list, set->n, sizeof(*set->list), by_name);
	return rc;
}

void history__free(struct history *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->list[i]->ts);
		free(set->list[i]->v);
		free(set->list[i]);
	}
	free(set->list);
	u64map_free(&set->by_name);
	memset(set, 0, sizeof(*set));
}
