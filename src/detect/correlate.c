/* Host-level correlation (see correlate.h). */
#include "correlate.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

void correlator__init(struct correlator *c, int64_t window_ns, uint32_t min_groups)
{
	memset(c, 0, sizeof(*c));
	c->window_ns = window_ns;
	c->min_groups = min_groups ? min_groups : 1;
}

int correlator__add(struct correlator *c, const struct detection *d)
{
	if (c->n == CORRELATE_MAX) {
		c->dropped++;
		return -ENOSPC;
	}
	/* Kept in time order: detections arrive tick by tick. */
	assert(c->n == 0 || c->held[c->n - 1].ts <= d->ts);
	c->held[c->n] = *d;
	c->released[c->n] = false;
	c->n++;
	return 0;
}

static void judge(const struct correlator *c, uint32_t self, struct correlated *r)
{
	const struct detection *d = &c->held[self];
	uint32_t groups[CORRELATE_MAX];
	double best[CORRELATE_MAX], none = 1;
	uint32_t ngroups = 0;

	memset(r, 0, sizeof(*r));
	r->self = d;
	for (uint32_t i = 0; i < c->n; i++) {
		const struct detection *o = &c->held[i];
		int64_t gap = o->ts > d->ts ? o->ts - d->ts : d->ts - o->ts;
		uint32_t g, k;

		if (gap > c->window_ns)
			continue;
		if (i != self && o->metric == d->metric)
			continue;       /* the same metric again is not new evidence */
		if (i != self) {
			/* Insert by score into the bounded list. */
			k = r->nothers < CORRELATE_MAX_OTHERS ? r->nothers : CORRELATE_MAX_OTHERS - 1;
			if (r->nothers < CORRELATE_MAX_OTHERS || o->score > r->others[k]->score) {
				while (k > 0 && r->others[k - 1]->score < o->score) {
					r->others[k] = r->others[k - 1];
					k--;
				}
				r->others[k] = o;
			}
			r->nothers++;
		}
		for (g = 0; g < ngroups && groups[g] != o->group; g++)
			;
		if (g == ngroups) {
			groups[ngroups] = o->group;
			best[ngroups++] = o->score;
		} else if (o->score > best[g]) {
			best[g] = o->score;
		}
	}
	for (uint32_t g = 0; g < ngroups; g++)
		none *= 1 - (best[g] > 1 ? 1 : best[g]);
	r->groups = ngroups;
	r->confidence = (1 - none) * (ngroups >= c->min_groups ? 1.0 : (double)ngroups / c->min_groups);
	r->alert = ngroups >= c->min_groups && r->confidence >= 0.5;
}

uint32_t correlator__release(struct correlator *c, int64_t now_ns, bool flush_all,
			     void (*fn)(void *ctx, const struct correlated *r), void *ctx)
{
	struct correlated r;
	uint32_t released = 0, keep = 0;
	int64_t oldest_pending = INT64_MAX;

	for (uint32_t i = 0; i < c->n; i++) {
		if (c->released[i])
			continue;
		if (!flush_all && now_ns - c->held[i].ts < c->window_ns) {
			if (c->held[i].ts < oldest_pending)
				oldest_pending = c->held[i].ts;
			continue;
		}
		judge(c, i, &r);
		fn(ctx, &r);
		c->released[i] = true;
		released++;
	}
	/* Forget released detections no pending one can reach. */
	for (uint32_t i = 0; i < c->n; i++) {
		if (c->released[i] && (oldest_pending == INT64_MAX ||
				       oldest_pending - c->held[i].ts > c->window_ns))
			continue;
		c->held[keep] = c->held[i];
		c->released[keep] = c->released[i];
		keep++;
	}
	c->n = keep;
	return released;
}
