/* Snapshots of the agent for the HTTP threads (see snapshot.h). */
#include "snapshot.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../collect/collector.h"
#include "../config/config.h"
#include "../lib/clock.h"
#include "../lib/prom.h"
#include "../store/store.h"
#include "metrics.h"

struct snapshots {
	pthread_mutex_t lock;
	pthread_cond_t published;          /* a snapshot with metrics text came */
	struct snapshot *cur;              /* under lock */
	int64_t metrics_wanted_ns;         /* under lock: last /metrics request (monotonic) */
	const struct config *cfg;
	struct writer *writer;
	/* collector thread only */
	uint64_t ticks;
	double cost_total[SNAPSHOT_COLLECTORS];
	struct metrics_state metrics;      /* carried from tick to tick */
	snapshot_extra_fn extra;
	void *extra_ctx;
	struct snapshot_learning learning;
	/* set once before the server starts, then read-only */
	snapshot_status_fn remediation;
	void *remediation_ctx;
};

int snapshots__new(const struct config *cfg, struct writer *w, struct snapshots **ret)
{
	struct snapshots *sn = calloc(1, sizeof(*sn));
	pthread_condattr_t ca;

	if (!sn)
		return -ENOMEM;
	pthread_mutex_init(&sn->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sn->published, &ca);
	pthread_condattr_destroy(&ca);
	sn->cfg = cfg;
	sn->writer = w;
	*ret = sn;
	return 0;
}

void snapshots__set_extra(struct snapshots *sn, snapshot_extra_fn fn, void *ctx)
{
	sn->extra = fn;
	sn->extra_ctx = ctx;
}

const struct config *snapshots__config(const struct snapshots *sn) { return sn->cfg; }

void snapshots__set_remediation(struct snapshots *sn, snapshot_status_fn fn, void *ctx)
{
	sn->remediation = fn;
	sn->remediation_ctx = ctx;
}

bool snapshots__remediation(struct snapshots *sn, struct json *j)
{
	if (!sn->remediation)
		return false;
	sn->remediation(sn->remediation_ctx, j);
	return true;
}

static void fill_collectors(struct snapshots *sn, struct snapshot *s, struct collector *c, bool tick)
{
	for (int i = 0; i < TRACER_COUNT; i++) {
		struct snapshot_collector *o = &s->collectors[s->ncollectors];
		struct tracer *t = collector__tracer(c, i);

		if (tick)
			sn->cost_total[s->ncollectors] += t->cost_ms / 1e3;
		o->name = tracer_table[i]->name;
		o->kind = "tracer";
		o->configured = sn->cfg->tracers[i].enabled;
		o->enabled = t->enabled;
		snprintf(o->reason, sizeof(o->reason), "%s", t->enabled ? "" : t->reason);
		if (t->enabled)
			tracer__reason(t, o->note, sizeof(o->note));
		else
			o->note[0] = '\0';
		o->events_total = t->events_total + t->events;
		o->drops_total = tracer__drops(t, true);
		o->rate_limited_total = t->stats_total[KS_STAT_RATE_LIMITED];
		o->events_last = t->events;
		o->drops_last = tracer__drops(t, false);
		o->cost_seconds_total = sn->cost_total[s->ncollectors];
		o->map_bytes = t->map_bytes;
		s->ncollectors++;
	}
	for (int i = 0; i < SCRAPER_COUNT; i++) {
		struct snapshot_collector *o = &s->collectors[s->ncollectors];
		struct scraper *sc = collector__scraper(c, i);

		if (tick)
			sn->cost_total[s->ncollectors] += sc->cost_ms / 1e3;
		o->name = scraper_table[i]->name;
		o->kind = "scraper";
		o->configured = sn->cfg->scrapers[i].enabled;
		o->enabled = sc->enabled;
		snprintf(o->reason, sizeof(o->reason), "%s", sc->reason);
		o->events_total = sc->rows_total + sc->rows;
		o->drops_total = sc->errors_total + sc->errors;
		o->events_last = sc->rows;
		o->drops_last = sc->errors;
		o->cost_seconds_total = sn->cost_total[s->ncollectors];
		s->ncollectors++;
	}
}

void snapshots__publish(struct snapshots *sn, struct collector *c, const struct batch *b, int64_t now_ns)
{
	struct snapshot *s = calloc(1, sizeof(*s)), *old;
	struct buf text = BUF_INIT;
	int64_t t0 = clock_mono_ns(), wanted;
	struct prom p;
	bool render;

	pthread_mutex_lock(&sn->lock);
	wanted = sn->metrics_wanted_ns;
	pthread_mutex_unlock(&sn->lock);
	render = wanted && t0 - wanted < SNAPSHOT_METRICS_IDLE_S * 1000000000LL;
	if (!s) {
		metrics_scraped(NULL, b, &sn->metrics);   /* the tick still counts */
		return;      /* the previous snapshot stays: stale beats absent */
	}
	__atomic_store_n(&s->refs, 1, __ATOMIC_RELAXED);
	if (b)
		sn->ticks++;
	s->generation = sn->ticks;
	s->time_ns = now_ns;
	s->started_ns = collector__started_ns(c);
	s->interval_ns = sn->cfg->interval_ns;
	fill_collectors(sn, s, c, b != NULL);
	s->learning = sn->learning;
	if (sn->writer)
		writer__stats(sn->writer, &s->store);
	s->db_bytes = store__file_bytes(sn->cfg->db_path);

	if (render) {
		prom_init(&p, &text);
		metrics_render(&p, c, b, s, &sn->metrics);
		if (sn->extra)
			sn->extra(sn->extra_ctx, &p);
		s->metrics_len = text.len;
		s->metrics = buf_detach(&text);
	} else {
		metrics_scraped(NULL, b, &sn->metrics);   /* the counters' running sums */
	}
	s->render_ms = (double)(clock_mono_ns() - t0) / 1e6;

	pthread_mutex_lock(&sn->lock);
	old = sn->cur;
	sn->cur = s;
	if (render)
		pthread_cond_broadcast(&sn->published);
	pthread_mutex_unlock(&sn->lock);
	snapshot__put(old);
}

void snapshots__set_learning(struct snapshots *sn, const struct snapshot_learning *l)
{
	sn->learning = *l;
}

double snapshot_learning_left_s(const struct snapshot_learning *l, int64_t interval_ns)
{
	if (!l->enabled || l->samples >= l->needed)
		return 0;
	return (double)(l->needed - l->samples) * (double)interval_ns / 1e9;
}

char *snapshot_learning_text(const struct snapshot_learning *l, int64_t interval_ns, char *buf, size_t size)
{
	double left = snapshot_learning_left_s(l, interval_ns);
	char when[64] = "";
	size_t len;

	if (!l->enabled) {
		snprintf(buf, size, "detection is off");
		return buf;
	}
	if (l->samples < l->needed) {
		if (left >= 90)
			snprintf(when, sizeof(when), "about %.0f minutes left", ceil(left / 60));
		else
			snprintf(when, sizeof(when), "%s", left >= 1 ? "about a minute left" : "under a second left");
		snprintf(buf, size, "learning: %llu of %llu samples (%s)", (unsigned long long)l->samples,
			 (unsigned long long)l->needed, when);
		return buf;
	}
	if (l->seeded_from_ns) {
		time_t t = (time_t)(l->seeded_from_ns / 1000000000);
		struct tm tm;

		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
		snprintf(buf, size, "ready (seeded from the stored baseline of %s)", when);
	} else {
		snprintf(buf, size, "ready");
	}
	len = strlen(buf);
	if (l->metrics_learning && len < size)
		snprintf(buf + len, size - len, "; %u metric%s still learning", l->metrics_learning,
			 l->metrics_learning == 1 ? "" : "s");
	return buf;
}

struct snapshot *snapshots__get(struct snapshots *sn)
{
	struct snapshot *s;

	pthread_mutex_lock(&sn->lock);
	s = sn->cur;
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&sn->lock);
	return s;
}

struct snapshot *snapshots__get_metrics(struct snapshots *sn, int64_t timeout_ns)
{
	int64_t now = clock_mono_ns(), deadline = now + timeout_ns;
	struct timespec ts = { .tv_sec = deadline / 1000000000, .tv_nsec = deadline % 1000000000 };
	struct snapshot *s = NULL;

	pthread_mutex_lock(&sn->lock);
	sn->metrics_wanted_ns = now;
	while (!(sn->cur && sn->cur->metrics) &&
	       pthread_cond_timedwait(&sn->published, &sn->lock, &ts) != ETIMEDOUT)
		;
	if (sn->cur && sn->cur->metrics) {
		s = sn->cur;
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&sn->lock);
	return s;
}

void snapshot__put(struct snapshot *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL))
		return;
	free(s->metrics);
	free(s);
}

struct snapshots *snapshots__free(struct snapshots *sn)
{
	if (!sn)
		return NULL;
	snapshot__put(sn->cur);
	metrics_state__free(&sn->metrics);
	pthread_cond_destroy(&sn->published);
	pthread_mutex_destroy(&sn->lock);
	free(sn);
	return NULL;
}
