/* The collector runtime (see collector.h). */
#include "collector.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../config/config.h"
#include "../lib/clock.h"
#include "../lib/log.h"
#include "../scrape/cgroup.h"
#include "../store/batch.h"
#include "../store/writer.h"
#include "../version.h"
#include "budget.h"

#define WATCH_MAX 8

struct watch {
	int fd;
	void (*fn)(void *ctx, int fd);
	void *ctx;
};

struct collector {
	const struct config *cfg;
	struct collector_opts opts;
	struct tracer tracers[TRACER_COUNT];
	struct scraper scrapers[SCRAPER_COUNT];
	bool tracer_selected[TRACER_COUNT];
	bool scraper_selected[SCRAPER_COUNT];
	struct ring_buffer *rb;
	/* The tracers' view; holds the batch being filled, the clock offset
	 * and the cgroup resolver for everyone. */
	struct tracer_sink sink;
	struct writer *writer;
	int64_t started_ns;
	int epfd, tickfd, deadlinefd, sigfd, stopfd;
	struct watch watches[WATCH_MAX];
	size_t nwatches;
	struct writer_stats last_writer;
	int64_t last_tick_mono;
	struct clock_steps clock;     /* wall-clock steps seen at ticks */
	const struct signalfd_siginfo *siginfo;   /* during on_signal */
	bool in_tick;                 /* tick() running: no early handover of the batch */
	bool boot_written;            /* the boots row went with the first tick */
	/* The overhead budget (budget.h). */
	struct budget budget;
	int64_t budget_mono;          /* the last measurement, CLOCK_MONOTONIC; 0: none yet */
	uint64_t budget_cpu_ns;       /* the agent's user + system time then */
	char shed_state[TRACER_COUNT][48];     /* the state in force, for collector_stats */
};

/* The tracer each shedding stage drives. */
static const enum tracer_id stage_tracer[BUDGET_STAGES] = {
	[BUDGET_PAGEFAULT] = TRACER_pagefault,
	[BUDGET_SYSCALL] = TRACER_syscall,
	[BUDGET_RSS] = TRACER_rss,
};

/* epoll tags: small integers; watches use WATCH_TAG + index. */
enum { TAG_RB = 1, TAG_TICK, TAG_DEADLINE, TAG_SIGNAL, TAG_STOP, TAG_WATCH = 100 };

static struct collector *of_sink(struct tracer_sink *s)
{
	return (struct collector *)((char *)s - offsetof(struct collector, sink));
}

static int sink_add_ringbuf(struct tracer_sink *s, int map_fd, sink_sample_fn fn, void *ctx)
{
	struct collector *c = of_sink(s);

	if (!c->rb) {
		c->rb = ring_buffer__new(map_fd, fn, ctx, NULL);
		return c->rb ? 0 : -errno;
	}
	return ring_buffer__add(c->rb, map_fd, fn, ctx);
}

static void sink_rows_added(struct tracer_sink *s)
{
	struct collector *c = of_sink(s);

	/* Within a tick everyone appends to the tick's batch: it is handed
	 * over at the end of the tick, never in the middle. */
	if (c->writer && !c->in_tick && s->batch->rows >= c->cfg->batch_rows)
		s->batch = writer__submit(c->writer, s->batch);
}

struct batch *collector__batch(struct collector *c) { return c->sink.batch; }
const struct cgroup_resolver *collector__cgroups(const struct collector *c) { return c->sink.cgroups; }
int64_t collector__started_ns(const struct collector *c) { return c->started_ns; }
const struct signalfd_siginfo *collector__siginfo(const struct collector *c) { return c->siginfo; }
const struct clock_steps *collector__clock_steps(const struct collector *c) { return &c->clock; }
const struct budget *collector__budget(const struct collector *c) { return &c->budget; }

struct batch *collector__commit(struct collector *c, int64_t timeout_ns, int *ret_rc)
{
	*ret_rc = -ENOTCONN;
	if (!c->writer)
		return c->sink.batch;
	c->sink.batch = writer__submit(c->writer, c->sink.batch);
	*ret_rc = writer__flush(c->writer, timeout_ns);
	return c->sink.batch;
}

struct tracer *collector__tracer(struct collector *c, enum tracer_id id) { return &c->tracers[id]; }
struct scraper *collector__scraper(struct collector *c, enum scraper_id id) { return &c->scrapers[id]; }

/* libbpf's warnings with -v, everything (verifier logs included) with -vv;
 * by default a tracer's one-line reason says what failed. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int want = level == LIBBPF_WARN ? LOG_DEBUG : LOG_TRACE;

	if ((int)log_get_level() < want)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* The programs time themselves on a sample while a budget is set
 * (ks_costs in common.bpf.h); without one they time nothing. */
static void budget_self_timing(struct collector *c)
{
	for (int i = 0; i < TRACER_COUNT; i++)
		if (c->tracers[i].enabled)
			tracer__self_timing(&c->tracers[i], c->budget.max_pct > 0 ? BUDGET_TIME_EVERY : 0);
}

/* The agent's user + system time so far (every thread), ns. */
static uint64_t agent_cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * NSEC_PER_SEC +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* Measures this interval's cost, writes the 'overhead' collector_stats row
 * and applies the budget's factors to the tracers for the next interval
 * (their rows of this tick, written before, show the factor in force
 * during it). */
static void budget_tick(struct collector *c, struct batch *b, int64_t now, int64_t mono)
{
	struct budget_sample s = { 0 };
	uint64_t run[TRACER_COUNT] = { 0 }, cpu = agent_cpu_ns();
	char state[TRACER_REASON_MAX * 2];
	bool primed = c->budget_mono != 0;

	if (c->budget.max_pct != c->cfg->max_overhead_pct) {
		log_info("overhead budget: %g%% of each CPU (was %g%%)", c->cfg->max_overhead_pct, c->budget.max_pct);
		budget__set(&c->budget, c->cfg->max_overhead_pct);
		budget_self_timing(c);
	}
	for (int i = 0; i < TRACER_COUNT; i++) {
		struct tracer *t = &c->tracers[i];

		if (!t->enabled)
			continue;
		run[i] = tracer__run_ns(t);
		if (run[i] < t->run_ns_total)
			t->run_ns_total = run[i];   /* estimates restarted */
		s.bpf_ns += run[i] - t->run_ns_total;
		for (int st = 0; st < BUDGET_STAGES; st++)
			if (stage_tracer[st] == (enum tracer_id)i) {
				s.stage_ns[st] = run[i] - t->run_ns_total;
				s.stage_events[st] = t->events;
				s.available[st] = t->ops->shed != NULL;
			}
		t->run_ns_total = run[i];
	}
	s.elapsed_ns = mono - c->budget_mono;
	s.ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	s.agent_ns = cpu - c->budget_cpu_ns;
	c->budget_mono = mono;
	c->budget_cpu_ns = cpu;
	if (!primed)
		return;       /* the first reading: only the start of an interval */
	if (budget__decide(&c->budget, &s))
		for (int st = 0; st < BUDGET_STAGES; st++) {
			struct tracer *t = &c->tracers[stage_tracer[st]];

			if (t->sample_factor != c->budget.factor[st] && tracer__shed(t, c->budget.factor[st]))
				log_debug("overhead budget: %s samples 1/%u (%.2f%% measured, budget %g%%)",
					  t->ops->name, c->budget.factor[st], c->budget.pct, c->budget.max_pct);
		}
	for (int st = 0; st < BUDGET_STAGES; st++)
		budget__state_text(&c->budget, st, c->shed_state[stage_tracer[st]],
				   sizeof(c->shed_state[stage_tracer[st]]));
	if (c->opts.quiet_stats)
		return;
	if (c->budget.max_pct <= 0)
		snprintf(state, sizeof(state), "no budget");
	else
		snprintf(state, sizeof(state), "%s: %.2f%% of a %g%% budget", c->budget.over ? "over budget" : "within budget",
			 c->budget.pct, c->budget.max_pct);
	batch__collector_stats(b, &(struct collector_stats_row){
		.timestamp = now, .collector = "overhead", .kind = "budget", .enabled = c->budget.max_pct > 0,
		.events = s.bpf_ns, .cost_ms = (double)s.agent_ns / 1e6, .state = state,
		.sample_factor = budget__max_factor(&c->budget), .has_overhead_pct = true,
		.overhead_pct = c->budget.pct });
}

int collector__open(const struct config *cfg, const struct collector_opts *opts, struct collector **ret)
{
	struct collector *c = calloc(1, sizeof(*c));
	sigset_t mask;

	if (!c)
		return -ENOMEM;
	c->cfg = cfg;
	if (opts)
		c->opts = *opts;
	c->epfd = c->tickfd = c->deadlinefd = c->sigfd = c->stopfd = -1;
	budget__init(&c->budget, cfg->max_overhead_pct);
	clock_steps__check(&c->clock);
	c->sink = (struct tracer_sink){ .offset_ns = c->clock.offset_ns, .cfg = cfg,
					.rows_added = sink_rows_added, .add_ringbuf = sink_add_ringbuf };
	c->started_ns = clock_real_ns();
	c->sink.batch = malloc(sizeof(*c->sink.batch));
	if (!c->sink.batch) {
		free(c);
		return -ENOMEM;
	}
	batch__init(c->sink.batch);

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	c->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (c->sigfd < 0) {
		int err = -errno;

		/* Without it nothing but SIGKILL would stop us. */
		pthread_sigmask(SIG_UNBLOCK, &mask, NULL);
		free(c->sink.batch);
		free(c);
		return err;
	}

	libbpf_set_print(libbpf_log);
	cgroup_resolver__new(cfg->root, &c->sink.cgroups);

	for (int i = 0; i < TRACER_COUNT; i++) {
		c->tracer_selected[i] = opts && opts->tracers ? opts->tracers[i] : cfg->tracers[i].enabled;
		if (!c->tracer_selected[i]) {
			memset(&c->tracers[i], 0, sizeof(c->tracers[i]));
			c->tracers[i].ops = tracer_table[i];
			c->tracers[i].id = i;
			c->tracers[i].state = SOURCE_OFF_CONFIG;
			snprintf(c->tracers[i].reason, sizeof(c->tracers[i].reason), "%s",
				 source_state_name(SOURCE_OFF_CONFIG));
			continue;
		}
		tracer__open(&c->tracers[i], i, &c->sink);
	}
	tracer_hooks_release();
	for (int i = 0; i < SCRAPER_COUNT; i++) {
		c->scraper_selected[i] = opts && opts->scrapers ? opts->scrapers[i] : cfg->scrapers[i].enabled;
		if (!c->scraper_selected[i]) {
			memset(&c->scrapers[i], 0, sizeof(c->scrapers[i]));
			c->scrapers[i].ops = scraper_table[i];
			c->scrapers[i].state = SOURCE_OFF_CONFIG;
			snprintf(c->scrapers[i].reason, sizeof(c->scrapers[i].reason), "%s",
				 source_state_name(SOURCE_OFF_CONFIG));
			continue;
		}
		scraper__open(&c->scrapers[i], i, cfg->root);
		/* scrapers.<name>.interval in whole ticks, at least one. */
		if (cfg->scrapers[i].interval_ns > cfg->interval_ns)
			c->scrapers[i].every_ticks =
				(uint32_t)((cfg->scrapers[i].interval_ns + cfg->interval_ns / 2) / cfg->interval_ns);
	}
	/* The budget needs the programs' run time. */
	budget_self_timing(c);
	/* Loading BPF objects parses the kernel's BTF (megabytes); give that
	 * memory back now that it is done. */
	malloc_trim(0);
	*ret = c;
	return 0;
}

static void add_stats_rows(struct collector *c, struct batch *b, int64_t now)
{
	struct writer_stats ws;

	for (int i = 0; i < TRACER_COUNT; i++) {
		struct tracer *t = &c->tracers[i];
		char reason[2 * TRACER_REASON_MAX];

		batch__collector_stats(b, &(struct collector_stats_row){
			.timestamp = now, .collector = t->ops->name, .kind = "tracer", .enabled = t->enabled,
			.reason = tracer__reason(t, reason, sizeof(reason)),
			.events = t->events, .drops = tracer__drops(t, false),
			.rate_limited = t->stats[KS_STAT_RATE_LIMITED],
			.events_total = t->events_total + t->events, .drops_total = tracer__drops(t, true),
			.cost_ms = t->cost_ms, .map_bytes = t->map_bytes,
			.state = t->enabled && t->ops->shed ? (c->shed_state[i][0] ? c->shed_state[i] : "full") : NULL,
			.sample_factor = t->enabled && t->ops->shed ? t->sample_factor : 0 });
	}
	for (int i = 0; i < SCRAPER_COUNT; i++) {
		struct scraper *s = &c->scrapers[i];

		batch__collector_stats(b, &(struct collector_stats_row){
			.timestamp = now, .collector = s->ops->name, .kind = "scraper", .enabled = s->enabled,
			.reason = s->reason, .events = s->rows, .drops = s->errors,
			.events_total = s->rows_total + s->rows, .drops_total = s->errors_total + s->errors,
			.cost_ms = s->cost_ms });
	}
	if (!c->writer)
		return;
	writer__stats(c->writer, &ws);
	batch__collector_stats(b, &(struct collector_stats_row){
		.timestamp = now, .collector = "store", .kind = "store", .enabled = true,
		.reason = ws.last_error ? ws.last_error_msg : NULL,
		.events = ws.rows_written - c->last_writer.rows_written,
		.drops = ws.rows_dropped - c->last_writer.rows_dropped,
		.events_total = ws.rows_written, .drops_total = ws.rows_dropped,
		.cost_ms = ws.write_ms_total - c->last_writer.write_ms_total });
	if (ws.retaining) {
		const struct retention_stats *rs = &ws.retention, *was = &c->last_writer.retention;

		batch__collector_stats(b, &(struct collector_stats_row){
			.timestamp = now, .collector = "retention", .kind = "store", .enabled = true,
			.reason = rs->last_error ? rs->last_error_msg : NULL,
			.events = rs->rows_pruned - was->rows_pruned, .events_total = rs->rows_pruned,
			.cost_ms = rs->ms - was->ms, .bytes_freed = rs->bytes_freed - was->bytes_freed });
	}
	c->last_writer = ws;
}

/* The boots row: which host and which boot the rows that follow come from
 * (ksight export --table needs it to label rows of many hosts).  Fields it
 * cannot read are NULL. */
static void add_boot_row(struct batch *b, int64_t opened, int64_t now)
{
	char id[64] = "";
	struct utsname u;
	struct timespec bt;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	bool have_u = uname(&u) == 0;

	if (f) {
		if (!fgets(id, sizeof(id), f))
			id[0] = 0;
		id[strcspn(id, "\n")] = 0;
		fclose(f);
	}
	batch__row(b, T_BOOTS);
	batch__int(b, opened);
	if (id[0])
		batch__text(b, id);
	else
		batch__null(b);
	if (have_u) {
		batch__text(b, u.nodename);
		batch__text(b, u.release);
	} else {
		batch__null(b);
		batch__null(b);
	}
	if (clock_gettime(CLOCK_BOOTTIME, &bt) == 0)
		batch__int(b, now - (bt.tv_sec * NSEC_PER_SEC + bt.tv_nsec));
	else
		batch__null(b);
	batch__text(b, KSIGHT_VERSION);
	batch__end(b);
}

void collector__drain(struct collector *c)
{
	if (c->rb)
		ring_buffer__consume(c->rb);
}

/* The wall clock moved by step_ns against the monotonic one (NTP, date -s):
 * said once, and a collector_stats row 'clock' records it.  Rows keep
 * wall-clock timestamps; intervals and rates come from the monotonic clock,
 * so they do not see the step. */
static void clock_stepped(struct collector *c, struct batch *b, int64_t now, int64_t step_ns)
{
	char what[TRACER_REASON_MAX];

	snprintf(what, sizeof(what), "the wall clock stepped %s%.3f s", step_ns > 0 ? "+" : "", (double)step_ns / 1e9);
	log_warn("%s (NTP or date -s?); timestamps follow it, intervals and rates do not (%llu step%s so far)",
		 what, (unsigned long long)c->clock.steps, c->clock.steps == 1 ? "" : "s");
	if (!c->opts.quiet_stats)
		batch__collector_stats(b, &(struct collector_stats_row){
			.timestamp = now, .collector = "clock", .kind = "clock", .enabled = true, .reason = what,
			.events = 1, .events_total = c->clock.steps });
}

static void tick(struct collector *c, const struct collector_hooks *hooks)
{
	int64_t step = clock_steps__check(&c->clock);
	int64_t now = clock_real_ns();
	int64_t mono = clock_mono_ns();
	struct batch *b;

	/* Follow wall-clock steps (NTP, settimeofday) for later records. */
	if (llabs(c->clock.offset_ns - c->sink.offset_ns) > NSEC_PER_MSEC)
		c->sink.offset_ns = c->clock.offset_ns;
	collector__drain(c);
	c->in_tick = true;
	b = c->sink.batch;
	if (step)
		clock_stepped(c, b, now, step);
	if (!c->boot_written) {
		add_boot_row(b, c->started_ns, now);
		c->boot_written = true;
	}
	for (int i = 0; i < TRACER_COUNT; i++)
		tracer__collect(&c->tracers[i], b, now);
	for (int i = 0; i < SCRAPER_COUNT; i++)
		scraper__run_at(&c->scrapers[i], b, now, mono);
	if (!c->opts.quiet_stats)
		add_stats_rows(c, b, now);
	budget_tick(c, b, now, mono);
	if (hooks && hooks->on_tick)
		hooks->on_tick(hooks->ctx, c, b, now);
	for (int i = 0; i < TRACER_COUNT; i++)
		tracer__end_interval(&c->tracers[i]);
	for (int i = 0; i < SCRAPER_COUNT; i++)
		scraper__end_interval(&c->scrapers[i]);
	c->in_tick = false;
	if (c->writer)
		c->sink.batch = writer__submit(c->writer, c->sink.batch);
}

static int epoll_add(int epfd, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int collector__watch_fd(struct collector *c, int fd, void (*fn)(void *ctx, int fd), void *ctx)
{
	if (c->nwatches == WATCH_MAX)
		return -E2BIG;
	c->watches[c->nwatches++] = (struct watch){ fd, fn, ctx };
	if (c->epfd >= 0)
		return epoll_add(c->epfd, fd, TAG_WATCH + c->nwatches - 1);
	return 0;
}

void collector__stop(struct collector *c)
{
	uint64_t one = 1;

	if (c->stopfd >= 0 && write(c->stopfd, &one, sizeof(one)) < 0)
		log_debug("stop: %s", strerror(errno));
}

static int setup_loop(struct collector *c, int64_t interval_ns, int64_t duration_ns)
{
	int64_t first = interval_ns / 4 > 50 * NSEC_PER_MSEC ? interval_ns / 4 : 50 * NSEC_PER_MSEC;
	struct itimerspec its = {
		.it_value = { first / NSEC_PER_SEC, first % NSEC_PER_SEC },
		.it_interval = { interval_ns / NSEC_PER_SEC, interval_ns % NSEC_PER_SEC },
	};
	int rc;

	if (c->epfd < 0) {
		c->epfd = epoll_create1(EPOLL_CLOEXEC);
		c->tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		c->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (c->epfd < 0 || c->tickfd < 0 || c->stopfd < 0)
			return -errno;
		if ((rc = epoll_add(c->epfd, c->tickfd, TAG_TICK)) ||
		    (rc = epoll_add(c->epfd, c->stopfd, TAG_STOP)) ||
		    (c->sigfd >= 0 && (rc = epoll_add(c->epfd, c->sigfd, TAG_SIGNAL))) ||
		    (c->rb && (rc = epoll_add(c->epfd, ring_buffer__epoll_fd(c->rb), TAG_RB))))
			return rc;
		for (size_t i = 0; i < c->nwatches; i++)
			if ((rc = epoll_add(c->epfd, c->watches[i].fd, TAG_WATCH + i)))
				return rc;
	}
	if (timerfd_settime(c->tickfd, 0, &its, NULL))
		return -errno;
	if (duration_ns > 0) {
		struct itimerspec dl = { .it_value = { duration_ns / NSEC_PER_SEC, duration_ns % NSEC_PER_SEC } };

		if (c->deadlinefd < 0) {
			c->deadlinefd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
			if (c->deadlinefd < 0 || (rc = epoll_add(c->epfd, c->deadlinefd, TAG_DEADLINE)))
				return c->deadlinefd < 0 ? -errno : rc;
		}
		if (timerfd_settime(c->deadlinefd, 0, &dl, NULL))
			return -errno;
	}
	return 0;
}

int collector__run(struct collector *c, struct writer *w, int64_t duration_ns,
		   const struct collector_hooks *hooks)
{
	bool stop = false;
	int rc;

	c->writer = w;
	if (w)
		c->sink.batch = writer__submit(w, c->sink.batch);   /* start from a writer-owned batch */
	if ((rc = setup_loop(c, c->cfg->interval_ns, duration_ns)))
		return rc;
	{
		uint64_t pending;     /* a stop request left over from an earlier run */

		if (read(c->stopfd, &pending, sizeof(pending)) < 0 && errno != EAGAIN)
			return -errno;
	}
	while (!stop) {
		struct epoll_event evs[16];
		int n = epoll_wait(c->epfd, evs, 16, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64, count;
			struct signalfd_siginfo si;

			switch (tag) {
			case TAG_RB:
				ring_buffer__consume(c->rb);
				break;
			case TAG_TICK:
				if (read(c->tickfd, &count, sizeof(count)) == sizeof(count))
					tick(c, hooks);
				break;
			case TAG_DEADLINE:
			case TAG_STOP:
				stop = true;
				break;
			case TAG_SIGNAL:
				while (read(c->sigfd, &si, sizeof(si)) == sizeof(si)) {
					if (hooks && hooks->on_signal) {
						c->siginfo = &si;
						stop |= hooks->on_signal(hooks->ctx, c, (int)si.ssi_signo);
						c->siginfo = NULL;
					} else
						stop |= si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM ||
							si.ssi_signo == SIGHUP;
				}
				break;
			default:
				if (tag >= TAG_WATCH && tag - TAG_WATCH < c->nwatches) {
					struct watch *wt = &c->watches[tag - TAG_WATCH];

					wt->fn(wt->ctx, wt->fd);
				}
				break;
			}
		}
	}
	/* The final partial interval still counts. */
	tick(c, hooks);
	return 0;
}

struct collector *collector__close(struct collector *c)
{
	if (!c)
		return NULL;
	for (int i = 0; i < TRACER_COUNT; i++)
		tracer__destroy(&c->tracers[i]);
	for (int i = 0; i < SCRAPER_COUNT; i++)
		scraper__destroy(&c->scrapers[i]);
	ring_buffer__free(c->rb);
	cgroup_resolver__free(c->sink.cgroups);
	if (c->sink.batch) {
		batch__free(c->sink.batch);
		free(c->sink.batch);
	}
	int fds[] = { c->epfd, c->tickfd, c->deadlinefd, c->sigfd, c->stopfd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(c);
	return NULL;
}
