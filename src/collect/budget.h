/* The overhead budget: how much of the host the agent may take, and what the
 * tracers shed to stay under it.
 *
 * Each tick the collector measures the agent's cost over the interval: the
 * run time of every BPF program of every tracer (estimated by the programs
 * themselves, timing about one run in BUDGET_TIME_EVERY) plus the agent's
 * own user and system time
 * (getrusage), as a share of (interval x online CPUs).  budget__decide() is
 * a pure function of that measurement and its own state: it says, per shed
 * stage, by which power-of-two factor the stage samples next.
 *
 * Shedding order (docs/budget.md), first shed first:
 *   1. pagefault: fault latency timed on 1 in N of the faults;
 *   2. syscall: latency timed on about 1 call in N, counts exact;
 *   3. rss: the per-process rss_stat interval N times longer (N <= 
 *      BUDGET_RSS_FACTOR_MAX, 1 for now: the leak detector needs it).
 * Over budget, the stages are raised in that order, skipping one whose own
 * BPF time is too small to matter, each by the power of two that brings its
 * share of the excess down (at most x8 per tick, up to BUDGET_FACTOR_MAX),
 * aiming at BUDGET_TARGET of the budget.  BUDGET_HOLD_TICKS ticks after the
 * last shed, the stages come back in the reverse order, each as far as its
 * projected cost (its cost times the factor ratio: an upper bound) fits
 * under BUDGET_TARGET, plus an allowance of budget / (2 x
 * BUDGET_SIGNIFICANT): a stage whose load is gone comes back even while
 * costs that no stage can shed keep the agent over budget, and one that
 * came back on the allowance is too cheap to be shed again (hysteresis).
 * The projection also counts what no factor removes (counting every event,
 * the programs' own dispatch), so a stage also comes back as its load
 * falls: its factor is scaled by its event rate now against the busiest
 * rate it was shed at, rounded up to a power of two.
 */
#ifndef KS_BUDGET_H
#define KS_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUDGET_FACTOR_MAX 256       /* the coarsest sampling: 1 in 256 */
#define BUDGET_RSS_FACTOR_MAX 1     /* rss: not sampled (see budget.c: the leak detector) */
#define BUDGET_STEP_MAX 8           /* at most this much coarser per tick */
#define BUDGET_TARGET 0.8           /* shedding aims at this share of the budget */
#define BUDGET_HOLD_TICKS 2         /* ticks after a shed before fidelity may come back */
#define BUDGET_TIME_EVERY 64        /* the programs time about 1 run in this many (tracer__self_timing) */
#define BUDGET_SIGNIFICANT 8        /* a stage whose cost is under budget/8 is not worth shedding */

/* In shedding order. */
enum budget_stage {
	BUDGET_PAGEFAULT,
	BUDGET_SYSCALL,
	BUDGET_RSS,
	BUDGET_STAGES
};

enum budget_state {
	BUDGET_FULL,                /* factor 1 */
	BUDGET_SHEDDING,            /* factor > 1, last raised (or held) over budget */
	BUDGET_RECOVERING,          /* factor > 1, last lowered */
};

/* One interval's measurement. */
struct budget_sample {
	int64_t elapsed_ns;         /* the interval, monotonic */
	int ncpus;                  /* online CPUs */
	uint64_t agent_ns;          /* the agent's user + system time in the interval */
	uint64_t bpf_ns;            /* run time of every BPF program in the interval */
	uint64_t stage_ns[BUDGET_STAGES];   /* run time of each stage's tracer (part of bpf_ns) */
	uint64_t stage_events[BUDGET_STAGES];   /* events each stage's tracer counted: its load */
	bool available[BUDGET_STAGES];      /* the stage's tracer runs and can shed */
};

struct budget {
	double max_pct;             /* the budget, % of each CPU; 0: none */
	uint32_t factor[BUDGET_STAGES];
	enum budget_state state[BUDGET_STAGES];
	unsigned calm_ticks;        /* ticks since the last shed */
	double load[BUDGET_STAGES]; /* events/s of the stage's busiest interval over budget while shed */
	double pct;                 /* the last measured share, % */
	bool over;                  /* the last measurement was over the budget */
};

/* Starts at full fidelity with budget max_pct (0: no budget). */
void budget__init(struct budget *b, double max_pct);

/* A new budget (SIGHUP); the factors stay and follow from the next tick. */
void budget__set(struct budget *b, double max_pct);

/* Measured share of s in %, (agent_ns + bpf_ns) / (elapsed_ns * ncpus). */
double budget_sample__pct(const struct budget_sample *s);

/* Decides the factors for the next interval from s (see the file comment)
 * and returns true when one of them changed.  With no budget every factor
 * goes back to 1.  A sample with no elapsed time or no CPU changes nothing. */
bool budget__decide(struct budget *b, const struct budget_sample *s);

/* The stage's state in words for collector_stats.state: "full",
 * "sampling 1/8: over budget" or "recovering: sampling 1/2"; written to buf. */
const char *budget__state_text(const struct budget *b, enum budget_stage st, char *buf, size_t size);

/* The coarsest factor of all stages (1 at full fidelity). */
uint32_t budget__max_factor(const struct budget *b);

/* The stage's name: the tracer that sheds ("pagefault", "syscall", "rss"). */
const char *budget_stage_name(enum budget_stage st);

#endif
