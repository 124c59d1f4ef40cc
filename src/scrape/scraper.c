/* Scraper table and lifecycle (see scraper.h). */
#include "scraper.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/clock.h"

#define X(name) extern const struct scraper_ops name##_scraper;
SCRAPERS(X)
#undef X

const struct scraper_ops *const scraper_table[SCRAPER_COUNT] = {
#define X(name) [SCRAPER_##name] = &name##_scraper,
	SCRAPERS(X)
#undef X
};

int scraper_find(const char *name)
{
	for (int i = 0; i < SCRAPER_COUNT; i++)
		if (!strcmp(scraper_table[i]->name, name))
			return i;
	return -1;
}

int scraper__open(struct scraper *s, enum scraper_id id, const char *root)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->ops = scraper_table[id];
	s->root = root ? root : "";
	if (s->ops->priv_size && !(s->priv = calloc(1, s->ops->priv_size))) {
		snprintf(s->reason, sizeof(s->reason), "out of memory");
		s->state = SOURCE_OFF_FAILED;
		return -ENOMEM;
	}
	if (s->ops->probe && (err = s->ops->probe(s)) < 0) {
		if (!s->reason[0])
			snprintf(s->reason, sizeof(s->reason), "%s", strerror(-err));
		s->state = SOURCE_OFF_MISSING;
		return err;
	}
	s->enabled = true;
	s->state = SOURCE_ON;
	return 0;
}

void scraper__run(struct scraper *s, struct batch *b, int64_t now_ns)
{
	scraper__run_at(s, b, now_ns, now_ns);
}

void scraper__run_at(struct scraper *s, struct batch *b, int64_t now_ns, int64_t mono_ns)
{
	int64_t t0 = clock_mono_ns();
	int n;

	if (!s->enabled)
		return;
	if (s->ticks_left) {
		s->ticks_left--;
		return;
	}
	s->ticks_left = s->every_ticks > 1 ? s->every_ticks - 1 : 0;
	s->mono_ns = mono_ns;
	n = s->ops->scrape(s, b, now_ns);
	if (n < 0) {
		s->errors++;
		snprintf(s->reason, sizeof(s->reason), "last read failed: %s", strerror(-n));
	} else {
		s->rows += (uint64_t)n;
		s->reason[0] = '\0';
	}
	s->cost_ms += (double)(clock_mono_ns() - t0) / 1e6;
}

void scraper__end_interval(struct scraper *s)
{
	s->rows_total += s->rows;
	s->errors_total += s->errors;
	s->rows = s->errors = 0;
	s->cost_ms = 0;
}

void scraper__destroy(struct scraper *s)
{
	/* A scraper disabled by configuration never got its private state. */
	if (s->ops && s->ops->destroy && (s->priv || !s->ops->priv_size))
		s->ops->destroy(s);
	free(s->priv);
	s->priv = NULL;
}
