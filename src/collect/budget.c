/* The overhead budget's controller (see budget.h): a pure function from one
 * interval's measured cost to the sampling factors of the next. */
#include "budget.h"

#include <assert.h>
#include <stdio.h>

static const char *const stage_names[BUDGET_STAGES] = {
	[BUDGET_PAGEFAULT] = "pagefault",
	[BUDGET_SYSCALL] = "syscall",
	[BUDGET_RSS] = "rss",
};

/* The coarsest factor of each stage.  rss feeds the leak detector: at 1/8
 * (8 s between a process's samples) t/e2e/leaks.t on a busy host missed a
 * grower's 'exited' row, so the stage keeps its place in the order but is
 * not sampled (BUDGET_RSS_FACTOR_MAX 1) until the detector copes. */
static const uint32_t stage_max[BUDGET_STAGES] = {
	[BUDGET_PAGEFAULT] = BUDGET_FACTOR_MAX,
	[BUDGET_SYSCALL] = BUDGET_FACTOR_MAX,
	[BUDGET_RSS] = BUDGET_RSS_FACTOR_MAX,
};

const char *budget_stage_name(enum budget_stage st)
{
	return st < BUDGET_STAGES ? stage_names[st] : "?";
}

void budget__init(struct budget *b, double max_pct)
{
	*b = (struct budget){ .max_pct = max_pct };
	for (int i = 0; i < BUDGET_STAGES; i++)
		b->factor[i] = 1;
}

void budget__set(struct budget *b, double max_pct)
{
	b->max_pct = max_pct;
	b->calm_ticks = 0;
}

double budget_sample__pct(const struct budget_sample *s)
{
	if (s->elapsed_ns <= 0 || s->ncpus <= 0)
		return 0;
	return (double)(s->agent_ns + s->bpf_ns) * 100.0 / ((double)s->elapsed_ns * s->ncpus);
}

/* The smallest power of two >= x, within [1, BUDGET_FACTOR_MAX]. */
static uint32_t pow2_at_least(double x)
{
	uint32_t f = 1;

	while (f < BUDGET_FACTOR_MAX && (double)f < x)
		f *= 2;
	return f;
}

/* The stage's load in s: events per second. */
static double rate(const struct budget_sample *s, int st)
{
	return (double)s->stage_events[st] * 1e9 / (double)s->elapsed_ns;
}

/* Over budget: raise the stages in order until the projected saving covers
 * the excess over the target. */
static bool shed(struct budget *b, const struct budget_sample *s, double budget_ns, double total_ns)
{
	double excess = total_ns - BUDGET_TARGET * budget_ns;
	bool changed = false;

	for (int st = 0; st < BUDGET_STAGES && excess > 0; st++) {
		double cost = (double)s->stage_ns[st], want, saving;
		uint32_t step, next;

		if (!s->available[st])
			continue;
		if (b->factor[st] > 1)
			b->state[st] = BUDGET_SHEDDING;   /* held or raised: over budget either way */
		if (rate(s, st) > b->load[st])
			b->load[st] = rate(s, st);
		if (b->factor[st] >= stage_max[st] || cost * BUDGET_SIGNIFICANT < budget_ns)
			continue;
		/* Its cost scales (at most) with 1/factor: keep `want` of it. */
		want = cost - excess;
		step = want * BUDGET_STEP_MAX <= cost ? BUDGET_STEP_MAX : pow2_at_least(cost / want);
		if (step < 2)
			step = 2;
		next = b->factor[st] * step;
		if (next > stage_max[st])
			next = stage_max[st];
		saving = cost - cost * b->factor[st] / next;
		excess -= saving;
		b->factor[st] = next;
		b->state[st] = BUDGET_SHEDDING;
		changed = true;
	}
	return changed;
}

/* After BUDGET_HOLD_TICKS ticks without shedding: lower the factors, last
 * stage first, as far as the projected cost (the stage's cost times the
 * factor ratio, an upper bound) fits in the room left under the target,
 * plus a small allowance, so that a stage whose load is gone comes back
 * even while costs it cannot shed keep the agent over budget. */
static bool recover(struct budget *b, const struct budget_sample *s, double budget_ns, double total_ns)
{
	double room = BUDGET_TARGET * budget_ns - total_ns;
	bool changed = false;

	if (room < 0)
		room = 0;
	room += budget_ns / (2 * BUDGET_SIGNIFICANT);
	for (int st = BUDGET_STAGES - 1; st >= 0; st--) {
		double cost = (double)s->stage_ns[st];
		uint32_t f = b->factor[st];

		if (f == 1)
			continue;
		/* At factor f/2 the stage costs at most twice as much. */
		while (f > 1 && cost * b->factor[st] / (f / 2) - cost <= room)
			f /= 2;
		/* Its load fell since it was shed: the factor follows. */
		if (b->load[st] > 0) {
			uint32_t by_load = pow2_at_least((double)b->factor[st] * rate(s, st) / b->load[st]);

			if (by_load < f)
				f = by_load;
		}
		if (f == 1)
			b->load[st] = 0;
		if (f != b->factor[st]) {
			room -= cost * b->factor[st] / f - cost;
			b->factor[st] = f;
			b->state[st] = f == 1 ? BUDGET_FULL : BUDGET_RECOVERING;
			changed = true;
		}
	}
	return changed;
}

bool budget__decide(struct budget *b, const struct budget_sample *s)
{
	double capacity_ns, budget_ns, total_ns;
	bool changed = false;

	if (s->elapsed_ns <= 0 || s->ncpus <= 0)
		return false;
	b->pct = budget_sample__pct(s);
	if (b->max_pct <= 0) {
		b->over = false;
		for (int st = 0; st < BUDGET_STAGES; st++) {
			changed |= b->factor[st] != 1;
			b->factor[st] = 1;
			b->state[st] = BUDGET_FULL;
		}
		return changed;
	}
	capacity_ns = (double)s->elapsed_ns * s->ncpus;
	budget_ns = capacity_ns * b->max_pct / 100.0;
	total_ns = (double)(s->agent_ns + s->bpf_ns);
	b->over = total_ns > budget_ns;
	if (b->over && shed(b, s, budget_ns, total_ns)) {
		b->calm_ticks = 0;
		changed = true;
	} else if (++b->calm_ticks >= BUDGET_HOLD_TICKS) {
		changed = recover(b, s, budget_ns, total_ns);
	}
	for (int st = 0; st < BUDGET_STAGES; st++)
		assert(b->factor[st] >= 1 && b->factor[st] <= BUDGET_FACTOR_MAX &&
		       !(b->factor[st] & (b->factor[st] - 1)));
	return changed;
}

const char *budget__state_text(const struct budget *b, enum budget_stage st, char *buf, size_t size)
{
	if (st >= BUDGET_STAGES || b->factor[st] == 1)
		snprintf(buf, size, "full");
	else if (b->state[st] == BUDGET_RECOVERING)
		snprintf(buf, size, "recovering: sampling 1/%u", b->factor[st]);
	else
		snprintf(buf, size, "sampling 1/%u: over budget", b->factor[st]);
	return buf;
}

uint32_t budget__max_factor(const struct budget *b)
{
	uint32_t max = 1;

	for (int st = 0; st < BUDGET_STAGES; st++)
		if (b->factor[st] > max)
			max = b->factor[st];
	return max;
}
