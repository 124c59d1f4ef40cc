/* The agent's online detection (see watch.h). */
#include "watch.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/u64map.h"
#include "correlate.h"
#include "explain.h"
#include "extract.h"

#define MAX_GROUPS 256
#define UNIT_MAX 8
#define WHAT_MAX 64

struct wmetric {
	char name[EXTRACT_NAME_MAX];
	char unit[UNIT_MAX];
	char what[WHAT_MAX];
	uint32_t id, group;
	struct anomaly *det;            /* NULL until its first sample */
	struct baseline bl;
	int64_t last_ts;                /* its latest sample judged... */
	double last_value, last_low, last_high;  /* ...and the detector's range for it */
	const char *numerator;          /* a ratio: the metric of its numerator, else NULL */
	bool stored;                    /* bl came from the database (watch__set_baseline) */
	bool seeded;                    /* det started from it */
};

/* Ratios of two counts, by their numerator.  When one moves only because
 * its denominator did (a CPU hog makes many successful syscalls and the
 * error rate falls; a lull in traffic and the same few retransmits become a
 * high rate) the ratio tells nothing the denominator does not: such a
 * detection is dropped, and counted in stats.ratios_discounted.  extract.c
 * emits each numerator before its ratio in a tick. */
static const struct {
	const char *ratio, *numerator;
} ratios[] = {
	{ "syscall.error_pct", "syscall.errors_per_s" },
	{ "tcp.retransmit_pct", "tcp.retrans_per_s" },
};

struct watch {
	struct watch_params params;
	struct extract x;
	struct correlator corr;
	struct u64map by_name;          /* hash of name -> metric (chained by +1 on collision) */
	struct wmetric **metrics;
	uint32_t nmetrics;
	char *groups[MAX_GROUPS];
	uint32_t ngroups;
	int64_t last_save;
	struct batch *out;              /* during release */
	struct watch_stats stats;
	uint64_t tick_start_samples;
	int64_t seeded_from_ns;         /* newest stored baseline a detector started from */
	uint64_t *scratch;              /* max_metrics entries, for watch__learning */
};

void watch_params_default(struct watch_params *p)
{
	memset(p, 0, sizeof(*p));
	anomaly_params_default(&p->anomaly);
	p->window_ns = 10LL * 1000000000;
	p->min_groups = 2;
	p->half_life_s = BASELINE_HALF_LIFE_S;
	p->save_every_ns = 600LL * 1000000000;
	p->max_metrics = 512;
	p->syscall_slow_ns = EXTRACT_SYSCALL_SLOW_NS;
}

static void on_sample(void *ctx, const struct metric_sample *s);

size_t watch_metric_bytes(void) { return sizeof(struct wmetric) + anomaly_bytes(); }

struct watch *watch__new(const struct watch_params *params)
{
	struct watch_params defaults;
	struct anomaly *probe;
	struct watch *w;

	if (!params) {
		watch_params_default(&defaults);
		params = &defaults;
	}
	if (params->window_ns <= 0 || params->half_life_s <= 0 || params->max_metrics == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (!(probe = anomaly__new(&params->anomaly)))
		return NULL;            /* errno says why */
	anomaly__free(probe);
	w = calloc(1, sizeof(*w));
	if (!w || !(w->metrics = calloc(params->max_metrics, sizeof(*w->metrics))) ||
	    !(w->scratch = calloc(params->max_metrics, sizeof(*w->scratch)))) {
		if (w)
			free(w->metrics);
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	w->params = *params;
	extract__init(&w->x, on_sample, w);
	if (params->syscall_slow_ns >= 0)
		w->x.syscall_slow_ns = params->syscall_slow_ns;
	correlator__init(&w->corr, params->window_ns, params->min_groups);
	return w;
}

struct watch *watch__free(struct watch *w)
{
	if (!w)
		return NULL;
	for (uint32_t i = 0; i < w->nmetrics; i++) {
		anomaly__free(w->metrics[i]->det);
		free(w->metrics[i]);
	}
	for (uint32_t i = 0; i < w->ngroups; i++)
		free(w->groups[i]);
	free(w->metrics);
	free(w->scratch);
	u64map_free(&w->by_name);
	free(w);
	return NULL;
}

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL;    /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct wmetric *find(const struct watch *w, const char *name)
{
	struct wmetric *m;

	for (uint64_t h = hash_name(name); (m = u64map_get(&w->by_name, h)); h++)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

static uint32_t group_id(struct watch *w, const char *group)
{
	for (uint32_t i = 0; i < w->ngroups; i++)
		if (!strcmp(w->groups[i], group))
			return i;
	if (w->ngroups == MAX_GROUPS)
		return MAX_GROUPS;      /* shared overflow group */
	w->groups[w->ngroups] = strdup(group);
	return w->groups[w->ngroups] ? w->ngroups++ : MAX_GROUPS;
}

/* The group of a name: its family plus its label ("io{device=vda}"). */
static void group_of(const char *name, char *buf, size_t size)
{
	const char *dot = strchr(name, '.'), *brace = strchr(name, '{');
	size_t fam = dot ? (size_t)(dot - name) : strlen(name);

	snprintf(buf, size, "%.*s%s", (int)fam, name, brace ? brace : "");
}

static struct wmetric *add(struct watch *w, const char *name, const char *unit, const char *what)
{
	struct wmetric *m;
	char group[EXTRACT_NAME_MAX];
	uint64_t h;

	if (w->nmetrics == w->params.max_metrics)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->unit, sizeof(m->unit), "%s", unit ? unit : "");
	snprintf(m->what, sizeof(m->what), "%s", what ? what : name);
	group_of(name, group, sizeof(group));
	m->group = group_id(w, group);
	for (size_t i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++)
		if (!strcmp(name, ratios[i].ratio))
			m->numerator = ratios[i].numerator;
	m->id = w->nmetrics;
	baseline__init(&m->bl, w->params.half_life_s, w->params.utc_offset_s);
	for (h = hash_name(name); u64map_get(&w->by_name, h); h++)
		;
	u64map_put(&w->by_name, h, m);
	w->metrics[w->nmetrics++] = m;
	return m;
}

int watch__set_baseline(struct watch *w, const char *name, const char *unit, const struct baseline *b)
{
	struct wmetric *m = find(w, name);

	if (!m && !(m = add(w, name, unit, NULL)))
		return w->nmetrics == w->params.max_metrics ? -E2BIG : -ENOMEM;
	m->bl = *b;
	m->bl.half_life_s = w->params.half_life_s;
	m->bl.utc_offset_s = w->params.utc_offset_s;
	m->bl.nexact = BASELINE_EXACT;          /* estimators continue from it */
	m->stored = true;
	return 0;
}

const struct baseline *watch__baseline(const struct watch *w, const char *name)
{
	const struct wmetric *m = find(w, name);

	return m ? &m->bl : NULL;
}

/* True when ratio metric m's detection d (at sample s) is backed by its
 * numerator: at the same tick, beyond the numerator's own range in the same
 * direction. */
static bool numerator_moved(const struct watch *w, const struct wmetric *m, const struct metric_sample *s,
			    const struct anomaly_result *r)
{
	const struct wmetric *n = find(w, m->numerator);
	bool up = r->kind == ANOMALY_HIGH || (r->kind != ANOMALY_LOW && s->value >= r->expected);

	if (!n || n->last_ts != s->ts)
		return false;
	return up ? n->last_value > n->last_high : n->last_value < n->last_low;
}

/* Starts m's fresh detector from its stored baseline, when that one is
 * ready: enough values for the whole probation (and the window). */
static void seed(struct watch *w, struct wmetric *m)
{
	size_t n = w->params.anomaly.probation > 512 ? w->params.anomaly.probation : 512;
	double *v = malloc(n * sizeof(*v));

	if (v && baseline__seed_values(&m->bl, v, n) > 0 && !anomaly__seed(m->det, v, n)) {
		m->seeded = true;
		if (m->bl.to_ns > w->seeded_from_ns)
			w->seeded_from_ns = m->bl.to_ns;
	}
	free(v);
}

static void on_sample(void *ctx, const struct metric_sample *s)
{
	struct watch *w = ctx;
	struct wmetric *m = find(w, s->name);
	struct anomaly_result r;

	if (!m && !(m = add(w, s->name, s->unit, s->what))) {
		w->stats.metrics_dropped++;
		return;
	}
	if (!m->det) {
		/* Loaded from the database: name and unit only until now. */
		snprintf(m->what, sizeof(m->what), "%s", s->what);
		if (!(m->det = anomaly__new(&w->params.anomaly))) {
			w->stats.metrics_dropped++;
			return;
		}
		if (m->stored)
			seed(w, m);
	}
	if (anomaly__update(m->det, s->ts, s->value, &r))
		return;
	w->stats.samples++;
	m->last_ts = s->ts;
	m->last_value = s->value;
	m->last_low = r.low;
	m->last_high = r.high;
	if (r.anomalous && m->numerator && !numerator_moved(w, m, s, &r)) {
		w->stats.ratios_discounted++;
	} else if (r.anomalous) {
		struct detection d = {
			.ts = s->ts, .metric = m->id, .group = m->group, .score = r.score,
			.value = s->value, .expected = r.expected, .low = r.low, .high = r.high,
			.kind = r.kind,
		};

		d.usual = baseline__usual(&m->bl, s->ts, &d.hourly);
		w->stats.detections++;
		if (correlator__add(&w->corr, &d))
			w->stats.held_dropped++;
	}
	baseline__update(&m->bl, s->ts, s->value);
}

void watch_format_value(double value, const char *unit, char *buf, size_t size)
{
	explain_format_value(value, unit, buf, size);
}

static const char *kind_name(int kind)
{
	switch (kind) {
	case ANOMALY_HIGH: return "high";
	case ANOMALY_LOW: return "low";
	case ANOMALY_PATTERN: return "pattern";
	default: return "none";
	}
}

static void explain(const struct wmetric *m, const struct detection *d, const struct correlated *r,
		    struct watch *w, char *buf, size_t size)
{
	struct explain_input in = {
		.what = m->what, .unit = m->unit, .value = d->value, .usual = d->usual, .hourly = d->hourly,
		.expected = d->expected, .low = d->low, .high = d->high, .kind = d->kind,
	};
	size_t len;

	explain_detection(&in, buf, size);
	len = strlen(buf);
	if (r->nothers) {
		snprintf(buf + len, size - len, "; together with %s", w->metrics[r->others[0]->metric]->name);
		for (uint32_t i = 1; i < r->nothers && i < 3; i++) {
			len = strlen(buf);
			snprintf(buf + len, size - len, ", %s", w->metrics[r->others[i]->metric]->name);
		}
		len = strlen(buf);
		if (r->nothers > 3)
			snprintf(buf + len, size - len, " and %u more", r->nothers - 3);
	}
}

static void put_real(struct batch *b, double v)
{
	if (isfinite(v))
		batch__real(b, v);
	else
		batch__null(b);
}

static void on_release(void *ctx, const struct correlated *r)
{
	struct watch *w = ctx;
	const struct detection *d = r->self;
	const struct wmetric *m = w->metrics[d->metric];
	struct batch *b = w->out;
	char text[512];
	struct buf others = BUF_INIT;

	for (uint32_t i = 0; i < r->nothers && i < CORRELATE_MAX_OTHERS; i++)
		buf_printf(&others, "%s%s", i ? "," : "", w->metrics[r->others[i]->metric]->name);
	explain(m, d, r, w, text, sizeof(text));
	if (r->alert)
		w->stats.alerts++;
	else
		w->stats.notices++;
	batch__row(b, T_ANOMALIES);
	batch__int(b, d->ts + w->x.ts_shift);      /* back on the wall clock */
	batch__text(b, m->name);
	put_real(b, d->value);
	put_real(b, d->expected);
	put_real(b, d->low);
	put_real(b, d->high);
	put_real(b, d->usual);
	batch__real(b, d->score);
	batch__real(b, r->confidence);
	batch__text(b, r->alert ? "alert" : "notice");
	batch__text(b, kind_name(d->kind));
	batch__int(b, r->nothers);
	batch__text(b, others.len ? others.data : NULL);
	batch__text(b, text);
	batch__end(b);
	buf_free(&others);
}

void watch_baseline_row(struct batch *b, int64_t ts_ns, const char *metric, const char *source,
			const char *unit, const struct baseline *bl)
{
	char profile[24 * 64 + 8];

	batch__row(b, T_BASELINES);
	batch__int(b, ts_ns);
	batch__text(b, metric);
	batch__text(b, source);
	batch__text(b, unit);
	batch__int(b, bl->from_ns);
	batch__int(b, bl->to_ns);
	batch__real(b, bl->n);
	if (bl->half_life_s > 0)
		batch__real(b, bl->half_life_s);
	else
		batch__null(b);
	put_real(b, bl->mean);
	put_real(b, sqrt(bl->var));
	put_real(b, bl->median);
	put_real(b, bl->mad);
	put_real(b, bl->p05);
	put_real(b, bl->p95);
	put_real(b, bl->min);
	put_real(b, bl->max);
	batch__text(b, baseline__profile_json(bl, profile, sizeof(profile)) > 0 ? profile : NULL);
	batch__end(b);
}

static void snapshot(struct watch *w, int64_t now_ns, struct batch *b)
{
	for (uint32_t i = 0; i < w->nmetrics; i++) {
		const struct wmetric *m = w->metrics[i];

		/* Nothing worth keeping before the estimators start. */
		if (m->bl.n >= 1 && m->bl.nexact >= BASELINE_EXACT)
			watch_baseline_row(b, now_ns + w->x.ts_shift, m->name, "agent", m->unit, &m->bl);
	}
	w->stats.snapshots++;
	w->last_save = now_ns;
}

void watch__row(struct watch *w, enum table_id t, const struct batch_value *v)
{
	extract__row(&w->x, t, v);
}

/* Judges what the tick brought: releases the detections whose window has
 * passed and takes a baseline snapshot when one is due. */
static void close_tick(struct watch *w, int64_t now_ns, struct batch *out)
{
	w->stats.tick_samples = w->stats.samples - w->tick_start_samples;
	w->tick_start_samples = w->stats.samples;
	w->out = out;
	correlator__release(&w->corr, now_ns, false, on_release, w);
	w->out = NULL;
	if (!w->last_save)
		w->last_save = now_ns;
	else if (w->params.save_every_ns && now_ns - w->last_save >= w->params.save_every_ns)
		snapshot(w, now_ns, out);
}

void watch__clock_step(struct watch *w, int64_t step_ns)
{
	w->x.ts_shift += step_ns;
}

void watch__end_tick(struct watch *w, int64_t now_ns, struct batch *out)
{
	now_ns -= w->x.ts_shift;
	extract__end_tick(&w->x, now_ns);
	close_tick(w, now_ns, out);
}

void watch__tick(struct watch *w, const struct batch *in, struct batch *out, int64_t now_ns)
{
	now_ns -= w->x.ts_shift;
	extract__batch(&w->x, in, now_ns);      /* ends the extractor's tick */
	close_tick(w, now_ns, out);
}

void watch__finish(struct watch *w, int64_t now_ns, struct batch *out)
{
	now_ns -= w->x.ts_shift;
	w->out = out;
	correlator__release(&w->corr, now_ns, true, on_release, w);
	w->out = NULL;
	snapshot(w, now_ns, out);
}

void watch__stats(const struct watch *w, struct watch_stats *ret)
{
	*ret = w->stats;
	ret->metrics = w->nmetrics;
	ret->labels_dropped = w->x.labels_dropped;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void watch__learning(const struct watch *w, struct watch_learning *ret)
{
	uint64_t needed = w->params.anomaly.probation;
	uint32_t n = 0;

	memset(ret, 0, sizeof(*ret));
	ret->needed = needed;
	ret->seeded_from_ns = w->seeded_from_ns;
	for (uint32_t i = 0; i < w->nmetrics; i++) {
		const struct wmetric *m = w->metrics[i];
		uint64_t got;

		if (!m->det)
			continue;       /* a stored baseline, no sample yet */
		got = anomaly__samples(m->det);
		got = got < needed ? got : needed;
		w->scratch[n++] = got;
		if (got < needed)
			ret->metrics_learning++;
		else
			ret->metrics_ready++;
		ret->metrics_seeded += m->seeded;
	}
	if (!n)
		return;
	if (!ret->metrics_learning) {
		ret->samples = needed;
		return;
	}
	qsort(w->scratch, n, sizeof(*w->scratch), cmp_u64);
	ret->samples = w->scratch[(n - 1) / 2];        /* the lower median */
}
