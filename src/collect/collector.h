/* The collector runtime: every enabled tracer and scraper, one event loop.
 *
 * collector__open() starts the tracers and scrapers the config enables
 * (a tracer that cannot start is disabled with its reason; the others run).
 * collector__run() is the event loop: one epoll over all ring buffers, a
 * timerfd tick, a deadline timer, a signalfd and any descriptors the
 * command adds.  Each tick drains the ring buffers, collects the in-kernel
 * aggregates and scrapes, adds a collector_stats row per source, calls the
 * command's on_tick hook, and hands the batch to the writer.
 *
 * Tracers see none of this: the collector hands them a sink (bpf/sink.h)
 * that it keeps current (batch, clock offset) and implements (early
 * handover of a big batch, ring buffer registration).
 *
 * collector__open() blocks SIGINT, SIGTERM, SIGHUP and SIGCHLD in the calling
 * thread (they arrive through the signalfd), so call it before starting
 * threads.  Without an on_signal hook SIGINT, SIGTERM and SIGHUP stop the
 * loop after a last tick, so that no signal loses the interval under way.
 *
 * Each tick also measures the agent's own cost (its BPF programs' run time
 * and its CPU time) against agent.max_overhead_pct and tells the tracers how
 * much to sample (budget.h): a collector_stats row 'overhead' and each
 * tracer row's state and sample_factor show it.
 *
 * Timestamps are wall clock; intervals and rates use CLOCK_MONOTONIC.  A
 * step of the wall clock (clock.h) is logged, counted and recorded as a
 * collector_stats row 'clock' at the tick that sees it.
 */
#ifndef KS_COLLECTOR_H
#define KS_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "../bpf/tracer.h"
#include "../scrape/scraper.h"

struct batch;
struct config;
struct writer;
struct collector;

struct collector_hooks {
	/* After collection, before the batch goes to the writer. */
	void (*on_tick)(void *ctx, struct collector *c, struct batch *b, int64_t now_ns);
	/* A blocked signal arrived; return true to stop the loop.  Without
	 * this hook SIGINT, SIGTERM and SIGHUP stop it.  collector__siginfo() tells
	 * who sent it. */
	bool (*on_signal)(void *ctx, struct collector *c, int signo);
	void *ctx;
};

/* Which sources to start: NULL means "all the config enables". */
struct collector_opts {
	const bool *tracers;        /* [TRACER_COUNT] or NULL */
	const bool *scrapers;       /* [SCRAPER_COUNT] or NULL */
	bool quiet_stats;           /* no collector_stats rows (ksight run) */
};

int collector__open(const struct config *cfg, const struct collector_opts *opts, struct collector **ret);

/* Runs until a stopping signal, collector__stop(), or duration_ns (0: no
 * limit).  Rows go to w.  Returns 0 or a negative errno. */
int collector__run(struct collector *c, struct writer *w, int64_t duration_ns,
		   const struct collector_hooks *hooks);

/* Asks collector__run to return after the current tick (thread-safe). */
void collector__stop(struct collector *c);

struct collector *collector__close(struct collector *c);

/* --- for commands --- */
/* The batch being filled; may change when it grows past batch_rows. */
struct batch *collector__batch(struct collector *c);
/* Hands the batch being filled to the writer now and waits (up to
 * timeout_ns) until it is committed: for rows that must be durable before
 * something happens (the remediation agent's "before" record).  Returns
 * the new batch to fill (the old pointer is no longer the caller's) and
 * sets *ret_rc to 0 or the writer's error. */
struct batch *collector__commit(struct collector *c, int64_t timeout_ns, int *ret_rc);
/* The cgroup mounts found at start (NULL when /proc/self/mountinfo was unreadable). */
const struct cgroup_resolver *collector__cgroups(const struct collector *c);
/* Watches fd for input; fn runs in the loop thread. */
int collector__watch_fd(struct collector *c, int fd, void (*fn)(void *ctx, int fd), void *ctx);
struct tracer *collector__tracer(struct collector *c, enum tracer_id id);
struct scraper *collector__scraper(struct collector *c, enum scraper_id id);
/* Drains ring buffers now (outside a tick). */
void collector__drain(struct collector *c);
int64_t collector__started_ns(const struct collector *c);
/* Inside on_signal: the signal being handled (sender, si_code), else NULL. */
struct signalfd_siginfo;
const struct signalfd_siginfo *collector__siginfo(const struct collector *c);
/* The overhead budget's controller: the share measured at the last tick
 * and the factors in force (budget.h).  Read in the loop's thread. */
struct budget;
const struct budget *collector__budget(const struct collector *c);
/* The wall-clock steps seen so far (clock.h). */
struct clock_steps;
const struct clock_steps *collector__clock_steps(const struct collector *c);

#endif
