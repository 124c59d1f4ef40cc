/* The overhead budget's controller (collect/budget.h): its decisions on
 * synthetic measurements.  A 1 s interval on 2 CPUs gives 2e9 ns of
 * capacity, so a 1% budget is 20 ms of agent + BPF time per interval. */
#include <string.h>

#include "../../src/collect/budget.h"
#include "../lib/tap.h"

#define MS 1000000ULL

/* One interval: the agent's own time, and each stage's BPF time (the
 * total BPF time is their sum plus `other_ms`). */
static struct budget_sample sample(uint64_t agent_ms, uint64_t pf_ms, uint64_t sys_ms, uint64_t rss_ms,
				   uint64_t other_ms)
{
	struct budget_sample s = { .elapsed_ns = 1000000000, .ncpus = 2, .agent_ns = agent_ms * MS };

	s.stage_ns[BUDGET_PAGEFAULT] = pf_ms * MS;
	s.stage_ns[BUDGET_SYSCALL] = sys_ms * MS;
	s.stage_ns[BUDGET_RSS] = rss_ms * MS;
	s.bpf_ns = (pf_ms + sys_ms + rss_ms + other_ms) * MS;
	for (int i = 0; i < BUDGET_STAGES; i++)
		s.available[i] = true;
	return s;
}

/* Cost of a stage at factor f when it costs full_ms at factor 1 and
 * fixed_ms of that does not scale (counting every event). */
static uint64_t at(uint64_t full_ms, uint64_t fixed_ms, uint32_t f)
{
	return fixed_ms + (full_ms - fixed_ms) / f;
}

int main(void)
{
	struct budget b;
	struct budget_sample s;
	char text[64];
	int ticks;
	bool pow2 = true;

	plan(32);

	budget__init(&b, 1);
	s = sample(2, 1, 2, 0, 1);
	ok(!budget__decide(&b, &s), "under budget at full fidelity: nothing changes");
	is(budget__max_factor(&b), 1, "factor 1");
	within(b.pct, 0.2999, 0.3001, "measured share: (2 + 4 ms) / (1 s x 2 CPUs) = 0.3%%");
	is_str(budget__state_text(&b, BUDGET_SYSCALL, text, sizeof(text)), "full", "state 'full'");

	/* A syscall storm: 60 ms of syscall BPF time, 10 ms of it the exact
	 * counting that no factor removes. */
	ticks = 0;
	do {
		s = sample(4, 1, at(60, 10, b.factor[BUDGET_SYSCALL]), 0, 1);
		budget__decide(&b, &s);
		ticks++;
		for (int i = 0; i < BUDGET_STAGES; i++)
			pow2 &= (b.factor[i] & (b.factor[i] - 1)) == 0;
	} while (b.over && ticks < 20);
	ok(ticks <= 3, "syscall storm: under budget after %d ticks (at most 3)", ticks);
	is(b.factor[BUDGET_PAGEFAULT], 1, "pagefault, too cheap to matter, is not shed");
	ok(b.factor[BUDGET_SYSCALL] >= 8, "syscall sampled 1/%u", b.factor[BUDGET_SYSCALL]);
	is(b.factor[BUDGET_RSS], 1, "rss untouched: the syscall stage was enough");
	ok(pow2, "every factor a power of two");
	is_str(budget__state_text(&b, BUDGET_SYSCALL, text, sizeof(text)),
	       b.factor[BUDGET_SYSCALL] == 8 ? "sampling 1/8: over budget" : text, "state names the factor");
	ok(strstr(text, "over budget") != NULL, "state says why: '%s'", text);
	ok(b.pct <= 1.0, "settled at %.2f%%, within the 1%% budget", b.pct);

	/* Held: between the thresholds nothing moves. */
	{
		uint32_t f = b.factor[BUDGET_SYSCALL];

		for (int i = 0; i < 5; i++) {
			s = sample(4, 1, at(60, 10, b.factor[BUDGET_SYSCALL]), 0, 1);
			budget__decide(&b, &s);
		}
		is(b.factor[BUDGET_SYSCALL], f, "steady load: the factor holds (hysteresis)");
	}

	/* The storm ends: back to full fidelity after the hold. */
	ticks = 0;
	do {
		s = sample(2, 0, 1, 0, 1);
		budget__decide(&b, &s);
		ticks++;
	} while (budget__max_factor(&b) > 1 && ticks < 20);
	is(budget__max_factor(&b), 1, "load gone: full fidelity");
	ok(ticks <= BUDGET_HOLD_TICKS + 1, "back in %d ticks (hold %d)", ticks, BUDGET_HOLD_TICKS);
	is_str(budget__state_text(&b, BUDGET_SYSCALL, text, sizeof(text)), "full", "state 'full' again");

	/* Shedding order: with every stage expensive, pagefault goes first. */
	budget__init(&b, 1);
	s = sample(2, 30, 30, 30, 0);
	budget__decide(&b, &s);
	ok(b.factor[BUDGET_PAGEFAULT] > 1, "order: pagefault shed first (1/%u)", b.factor[BUDGET_PAGEFAULT]);
	ok(b.factor[BUDGET_SYSCALL] > 1, "then syscall, the excess being larger than pagefault's whole cost");
	/* Recovery in reverse order: rss first, pagefault last. */
	b.factor[BUDGET_RSS] = 4;
	b.factor[BUDGET_SYSCALL] = 4;
	b.factor[BUDGET_PAGEFAULT] = 4;
	s = sample(2, 4, 4, 4, 0);     /* 14 ms: 0.7%, rss would cost up to 4 ms more at 1/2 */
	budget__decide(&b, &s);
	budget__decide(&b, &s);
	budget__decide(&b, &s);
	is(b.factor[BUDGET_RSS], 4, "no room under the target for what rss would cost: it stays sampled");
	b.calm_ticks = 0;              /* as if it had just shed */
	s = sample(1, 1, 1, 1, 0);     /* 4 ms: 0.2% */
	budget__decide(&b, &s);
	is(b.factor[BUDGET_RSS], 4, "one tick after a shed is not enough (hold)");
	s = sample(1, 1, 1, 2, 0);
	budget__decide(&b, &s);
	ok(b.factor[BUDGET_RSS] < 4, "rss recovers first (1/%u)", b.factor[BUDGET_RSS]);
	ok(b.factor[BUDGET_PAGEFAULT] >= b.factor[BUDGET_RSS],
	   "rss claims the room first: pagefault 1/%u, rss 1/%u", b.factor[BUDGET_PAGEFAULT], b.factor[BUDGET_RSS]);
	is_str(budget__state_text(&b, BUDGET_RSS, text, sizeof(text)), b.factor[BUDGET_RSS] == 1 ? "full" : text,
	       "rss state");

	/* A stage that cannot shed (tracer off) is skipped. */
	budget__init(&b, 1);
	s = sample(2, 30, 30, 0, 0);
	s.available[BUDGET_PAGEFAULT] = false;
	budget__decide(&b, &s);
	is(b.factor[BUDGET_PAGEFAULT], 1, "an unavailable stage keeps factor 1");
	ok(b.factor[BUDGET_SYSCALL] > 1, "the next one sheds instead");

	/* Over budget from costs no stage sheds (the agent itself): a stage
	 * whose load is gone still comes back. */
	budget__init(&b, 1);
	b.factor[BUDGET_SYSCALL] = 256;
	b.state[BUDGET_SYSCALL] = BUDGET_SHEDDING;
	for (int i = 0; i < 4; i++) {
		s = sample(40, 0, 0, 0, 0);
		budget__decide(&b, &s);
	}
	is(b.factor[BUDGET_SYSCALL], 1, "over budget with nothing to shed: an idle stage is back to full");

	/* A storm whose counting floor stays over budget: when its load goes
	 * (events/s), the stage comes back although its fixed cost does not. */
	budget__init(&b, 1);
	for (int i = 0; i < 6; i++) {
		s = sample(4, 0, at(60, 30, b.factor[BUDGET_SYSCALL]), 0, 0);
		s.stage_events[BUDGET_SYSCALL] = 1000000;
		budget__decide(&b, &s);
	}
	ok(b.factor[BUDGET_SYSCALL] > 1, "storm with a 30 ms floor: syscall sampled 1/%u", b.factor[BUDGET_SYSCALL]);
	s = sample(4, 0, 30, 0, 0);    /* the floor of everyone else's calls stays */
	s.stage_events[BUDGET_SYSCALL] = 1000;
	budget__decide(&b, &s);
	is(b.factor[BUDGET_SYSCALL], 1, "its load gone (1000 events/s against 1000000): full fidelity");

	/* No budget: everything back to 1 at once. */
	b.factor[BUDGET_PAGEFAULT] = 64;
	budget__set(&b, 0);
	s = sample(50, 30, 30, 30, 0);
	ok(budget__decide(&b, &s) && budget__max_factor(&b) == 1, "budget 0: full fidelity, whatever the cost");

	/* Nothing measured: nothing decided. */
	budget__set(&b, 1);
	s = sample(50, 30, 30, 30, 0);
	s.elapsed_ns = 0;
	ok(!budget__decide(&b, &s), "an empty interval changes nothing");
	/* The cap. */
	budget__init(&b, 0.01);
	for (int i = 0; i < 20; i++) {
		s = sample(0, 0, 500, 0, 0);
		budget__decide(&b, &s);
	}
	is(b.factor[BUDGET_SYSCALL], BUDGET_FACTOR_MAX, "never past BUDGET_FACTOR_MAX");
	for (int i = 0; i < 20; i++) {
		s = sample(0, 0, 0, 500, 0);
		budget__decide(&b, &s);
	}
	is(b.factor[BUDGET_RSS], BUDGET_RSS_FACTOR_MAX, "rss never past 1/%d (the leak detector)", BUDGET_RSS_FACTOR_MAX);
	return done_testing();
}
