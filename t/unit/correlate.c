/* The host-level correlator against hand-computed answers: a detection is
 * held for the window and released oldest first; evidence is other
 * metrics within the window, before or after, counted by group with the
 * best score of each; the same metric again is no new evidence; the
 * confidence formula and the alert rule of correlate.h; released
 * detections stay as evidence while a held one can still reach them; the
 * bounded list of others keeps the best; a full correlator drops and
 * counts. */
#include "../../src/detect/correlate.h"
#include "../lib/tap.h"

#define S 1000000000LL
#define T0 (1700000000LL * S)
#define WINDOW (10 * S)

enum { GROUP_A = 1, GROUP_B, GROUP_C };

struct seen {
	uint32_t metric;
	int64_t ts;
	uint32_t groups, nothers;
	uint32_t other_metrics[CORRELATE_MAX_OTHERS];
	double other_scores[CORRELATE_MAX_OTHERS];
	double confidence;
	bool alert;
};

static struct seen out[CORRELATE_MAX + 8];
static size_t nout;

static void collect(void *ctx, const struct correlated *r)
{
	struct seen *s = &out[nout++];

	(void)ctx;
	s->metric = r->self->metric;
	s->ts = r->self->ts;
	s->groups = r->groups;
	s->nothers = r->nothers;
	for (uint32_t i = 0; i < r->nothers && i < CORRELATE_MAX_OTHERS; i++) {
		s->other_metrics[i] = r->others[i]->metric;
		s->other_scores[i] = r->others[i]->score;
	}
	s->confidence = r->confidence;
	s->alert = r->alert;
}

static const struct seen *released(uint32_t metric, int64_t ts)
{
	for (size_t i = 0; i < nout; i++)
		if (out[i].metric == metric && out[i].ts == ts)
			return &out[i];
	return NULL;
}

static struct detection det(int64_t ts, uint32_t metric, uint32_t group, double score)
{
	return (struct detection){ .ts = ts, .metric = metric, .group = group, .score = score };
}

static int near(double a, double b) { return fabs(a - b) < 1e-12; }

int main(void)
{
	static struct correlator c;
	const struct seen *s;
	struct detection d;
	uint32_t n;
	bool order_ok, best_ok;

	plan(33);

	/* One detection alone: held for the window, then released with half
	 * of its score (one group of the two asked for), a notice. */
	correlator__init(&c, WINDOW, 2);
	d = det(T0, 1, GROUP_A, 0.9);
	is(correlator__add(&c, &d), 0, "a detection is held");
	nout = 0;
	is(correlator__release(&c, T0 + WINDOW - 1, false, collect, NULL), 0, "nothing is released inside its window");
	is(correlator__release(&c, T0 + WINDOW, false, collect, NULL), 1, "it is released once the window has passed");
	ok(nout == 1 && out[0].groups == 1 && out[0].nothers == 0, "alone: one group, no other metric");
	ok(near(out[0].confidence, 0.9 * 0.5), "alone: confidence 0.9 x 1/2 groups = 0.45 (got %g)", out[0].confidence);
	ok(!out[0].alert, "alone: a notice, not an alert");
	is(correlator__release(&c, T0 + 100 * S, false, collect, NULL), 0, "a released detection is not released again");

	/* An incident: metrics 1, 2 in group A and 3 in group B within the
	 * window, metric 1 again (a repeat), metric 5 in group C far later. */
	correlator__init(&c, WINDOW, 2);
	struct detection ds[] = {
		det(T0, 1, GROUP_A, 0.8), det(T0 + 1 * S, 2, GROUP_A, 0.6), det(T0 + 2 * S, 3, GROUP_B, 0.5),
		det(T0 + 3 * S, 1, GROUP_A, 0.99), det(T0 + 20 * S, 5, GROUP_C, 0.7),
	};
	for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++)
		correlator__add(&c, &ds[i]);
	nout = 0;
	n = correlator__release(&c, T0 + 12 * S, false, collect, NULL);
	is(n, 3, "at +12 s the three detections at least 10 s old are released");
	ok(nout == 3 && out[0].ts == T0 && out[1].ts == T0 + 1 * S && out[2].ts == T0 + 2 * S, "oldest first");

	s = released(1, T0);
	ok(s && s->groups == 2, "metric 1: two groups (A, B) within the window");
	ok(s && s->nothers == 2, "metric 1: its repeat at +3 s is not counted as another metric (%u others)",
	   s ? s->nothers : 0);
	ok(s && s->other_metrics[0] == 2 && s->other_metrics[1] == 3, "metric 1: others best score first (2, then 3)");
	/* Group A's best is metric 1's own 0.8 (the 0.99 repeat is not
	 * evidence): 1 - (1 - 0.8)(1 - 0.5) = 0.9. */
	ok(s && near(s->confidence, 0.9), "metric 1: confidence 1 - 0.2 x 0.5 = 0.9 (got %g)", s ? s->confidence : -1);
	ok(s && s->alert, "metric 1: two groups and confidence >= 0.5 make an alert");

	s = released(3, T0 + 2 * S);
	/* Metric 3 sees 1 (0.8 and its 0.99 repeat, 1 s later), 2 (0.6): group
	 * A's best is 0.99, group B's 0.5. */
	ok(s && s->nothers == 3, "metric 3: the other metrics' every detection within the window count (%u)",
	   s ? s->nothers : 0);
	ok(s && s->other_metrics[0] == 1 && near(s->other_scores[0], 0.99), "metric 3: the best other first (1 at 0.99)");
	ok(s && near(s->confidence, 1 - 0.01 * 0.5), "metric 3: confidence 1 - 0.01 x 0.5 (got %g)",
	   s ? s->confidence : -1);

	/* The repeat of metric 1 at +3 s is released later and still finds the
	 * detections released before it (kept because it could reach them);
	 * metric 5 at +20 s is 17 s away: not evidence. */
	nout = 0;
	is(correlator__release(&c, T0 + 13 * S, false, collect, NULL), 1, "at +13 s the repeat is released");
	s = released(1, T0 + 3 * S);
	ok(s && s->nothers == 2 && s->groups == 2, "the repeat: 2 and 3 are still evidence after their release");
	ok(s && near(s->confidence, 1 - 0.01 * 0.5), "the repeat: confidence 1 - 0.01 x 0.5 (got %g)",
	   s ? s->confidence : -1);

	nout = 0;
	is(correlator__release(&c, T0 + 13 * S, true, collect, NULL), 1, "flush_all releases what is still held");
	s = released(5, T0 + 20 * S);
	ok(s && s->groups == 1 && s->nothers == 0, "metric 5, 17 s after the rest, stands alone");
	ok(s && near(s->confidence, 0.7 * 0.5) && !s->alert, "metric 5: a notice at 0.7 x 1/2");

	/* min_groups 0 means 1; a score above 1 counts as 1. */
	correlator__init(&c, WINDOW, 0);
	d = det(T0, 9, GROUP_A, 1.5);
	correlator__add(&c, &d);
	nout = 0;
	correlator__release(&c, T0, true, collect, NULL);
	ok(nout == 1 && near(out[0].confidence, 1.0) && out[0].alert,
	   "min_groups 0 is 1: one group alone with a score above 1 is an alert at confidence 1");

	/* More other metrics than the list holds: all are counted, the best
	 * CORRELATE_MAX_OTHERS are listed, best first. */
	correlator__init(&c, WINDOW, 2);
	for (uint32_t i = 0; i < CORRELATE_MAX_OTHERS + 10; i++) {
		/* scores 0.01 .. 0.42, each once, shuffled (5 and 42 are coprime) */
		d = det(T0 + i, 100 + i, GROUP_B, 0.01 * (double)(1 + (i * 5) % (CORRELATE_MAX_OTHERS + 10)));
		correlator__add(&c, &d);
	}
	d = det(T0 + 100, 1, GROUP_A, 0.5);
	correlator__add(&c, &d);
	nout = 0;
	correlator__release(&c, T0 + 200, true, collect, NULL);
	s = released(1, T0 + 100);
	ok(s && s->nothers == CORRELATE_MAX_OTHERS + 10, "every other metric is counted (%u)", s ? s->nothers : 0);
	order_ok = s != NULL;
	best_ok = s != NULL;
	for (uint32_t i = 0; s && i < CORRELATE_MAX_OTHERS; i++) {
		if (i && s->other_scores[i - 1] < s->other_scores[i])
			order_ok = false;
		/* the best 32 of 0.01..0.42 are 0.42 down to 0.11 */
		if (!near(s->other_scores[i], 0.01 * (CORRELATE_MAX_OTHERS + 10 - i)))
			best_ok = false;
	}
	ok(order_ok, "the listed others are sorted by score, best first");
	ok(best_ok, "the listed others are the best %d", CORRELATE_MAX_OTHERS);
	ok(s && near(s->confidence, 1 - 0.5 * (1 - 0.42)), "groups count their best score only (got %g)",
	   s ? s->confidence : -1);

	/* Full: the next detection is dropped and counted. */
	correlator__init(&c, WINDOW, 2);
	for (uint32_t i = 0; i < CORRELATE_MAX; i++) {
		d = det(T0 + i, i, GROUP_A, 0.5);
		correlator__add(&c, &d);
	}
	d = det(T0 + CORRELATE_MAX, 9999, GROUP_B, 0.5);
	is(correlator__add(&c, &d), -ENOSPC, "a full correlator refuses with -ENOSPC");
	is((int64_t)c.dropped, 1, "and counts the drop");
	nout = 0;
	is(correlator__release(&c, T0, true, collect, NULL), CORRELATE_MAX, "what it held is all released");
	ok(released(9999, T0 + CORRELATE_MAX) == NULL, "the dropped detection never comes out");
	d = det(T0 + WINDOW * 5, 7, GROUP_A, 0.5);
	is(correlator__add(&c, &d), 0, "once released, there is room again");
	return done_testing();
}
