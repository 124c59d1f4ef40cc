/* The leak detector on synthetic footprints with known truth (sim/leaksim.h
 * samples them the way the rss tracer does): the seed system's four leak
 * patterns are found and classified with the right rate in a long-running
 * process, the non-leaks are never flagged, other rates, noise and step
 * periods generalise, the suspicion ends when growth stops, time-to-limit
 * projections hold, and the warm-up rule: growth near a process's start or
 * a step that stops is at most watched, a program that leaks from its
 * start is a suspect once its growth outlasts the horizon, an accelerating
 * leak stays accelerating however long it runs. */
#include "../../sim/leaksim.h"
#include "../lib/tap.h"

static struct leak_params P;

/* Unless a test says otherwise, a process the tracer meets long after it
 * started (settled: the warm-up rule does not hold it back). */
#define BORN_OLD (-3600.0)
static double born = BORN_OLD;

static void show(const char *name, const struct sim_result *r)
{
	diag("%-34s flagged=%d first=%.1fs pattern=%s rate=%.0f conf=%.2f (end: leak=%d %s %.0f B/s conf %.2f) "
	     "suspicions=%d pushes=%u flushes=%u",
	     name, r->ever_flagged, r->first_ns, leak_pattern_name(r->first.pattern), r->first.rate,
	     r->first.confidence, r->last.leak, leak_pattern_name(r->last.pattern), r->last.rate,
	     r->last.confidence, r->suspicions, r->pushes, r->flushes);
}

static void run(const struct shape *sh, double duration, struct sim_result *r, const char *name)
{
	struct sim_opts o;

	(void)name;
	sim_defaults(&o, duration);
	o.born = born;
	leaksim_run(sh, &P, &o, r);
}

/* A leak: flagged, still flagged at the end with pattern want and the net
 * rate within tol of the truth; returns the first-detection time. */
static double leak_case(const char *name, struct shape sh, double duration, enum leak_pattern want, double tol)
{
	struct sim_result r;
	double truth;

	int failures = tap_failures;

	run(&sh, duration, &r, name);
	truth = shape_true_rate(&sh, duration);
	ok(r.ever_flagged && r.last.leak, "%s: flagged as a leak", name);
	is_str(leak_pattern_name(r.last.pattern), leak_pattern_name(want), "%s: pattern", name);
	within(r.last.rate / truth, 1 - tol, 1 + tol, "%s: rate %.0f B/s within %.0f%% of %.0f", name, r.last.rate,
	       tol * 100, truth);
	if (tap_failures > failures)
		show(name, &r);
	return r.first_ns - sh.delay;
}

static void clean_case(const char *name, struct shape sh, double duration)
{
	struct sim_result r;

	run(&sh, duration, &r, name);
	if (!ok(!r.ever_flagged, "%s: never flagged", name))
		show(name, &r);
}

static void on_tick_transitions(void *ctx, double t, double value, const struct leak_verdict *v)
{
	struct { double flagged, cleared; } *when = ctx;

	(void)value;
	if (v->leak && when->flagged < 0)
		when->flagged = t;
	if (!v->leak && when->flagged >= 0 && when->cleared < 0)
		when->cleared = t;
}

struct conf_check {
	int ticks, bad_range, bad_threshold;
};

static void on_tick_conf(void *ctx, double t, double value, const struct leak_verdict *v)
{
	struct conf_check *cc = ctx;

	(void)t;
	(void)value;
	cc->ticks++;
	cc->bad_range += v->confidence < 0 || v->confidence > 1;
	cc->bad_threshold += (v->confidence >= 0.5) != v->leak;
}

/* What a run went through: the first tick watched and the first a suspect
 * (-1: never), whether a verdict was ever both or had a watch's confidence
 * out of its range, and the pattern when first a suspect. */
struct course {
	double watched, suspect;
	int bad;
	struct leak_verdict first;
};

static void on_tick_course(void *ctx, double t, double value, const struct leak_verdict *v)
{
	struct course *c = ctx;

	(void)value;
	if (v->watching && c->watched < 0)
		c->watched = t;
	if (v->leak && c->suspect < 0) {
		c->suspect = t;
		c->first = *v;
	}
	c->bad += (v->leak && v->watching) || (v->watching && (v->confidence >= 0.5 || v->evidence < 0.5 ||
								v->patience_end_ns <= 0));
}

/* Runs sh as a process born when the series starts (or bornat seconds),
 * with params p; fills *c and *r. */
static void run_course(const struct leak_params *p, const struct shape *sh, double duration, double bornat,
		       struct course *c, struct sim_result *r)
{
	struct sim_opts o;

	*c = (struct course){ .watched = -1, .suspect = -1 };
	sim_defaults(&o, duration);
	o.born = bornat;
	o.ctx = c;
	o.on_tick = on_tick_course;
	leaksim_run(sh, p, &o, r);
}

struct at_time {
	double t, when, value;
	struct leak_verdict v;
};

static void on_tick_at(void *ctx, double t, double value, const struct leak_verdict *v)
{
	struct at_time *at = ctx;

	if (t >= at->t && at->when == 0) {
		at->when = t;
		at->value = value;
		at->v = *v;
	}
}

int main(void)
{
	struct sim_result r;
	double lat;

	leak_params_default(&P);

	/* 1. The seed system's patterns. */
	lat = leak_case("linear 1 MB/s", (struct shape){ SH_LINEAR, 2 * MIB, 1 * MIB }, 30, LEAK_LINEAR, 0.05);
	within(lat, 0, 5, "linear 1 MB/s: detected %.1f s after growth began (<= 5 s)", lat);
	leak_case("accelerating i MB at second i", (struct shape){ SH_ACCEL, 2 * MIB, 1 * MIB }, 30,
		  LEAK_ACCELERATING, 0.10);
	leak_case("oscillating 1 MB/s 5 s on 5 s off", (struct shape){ SH_OSC, 2 * MIB, 1 * MIB, .on = 5, .off = 5 },
		  40, LEAK_OSCILLATING, 0.05);
	lat = leak_case("burst 50 MB every 20 s", (struct shape){ SH_BURST, 2 * MIB, .size = 50 * MIB, .period = 20 },
			65, LEAK_BURST, 0.05);
	within(lat, 40, 46, "burst: found after the third jump (%.1f s)", lat);

	/* 2. Non-leaks. */
	clean_case("plateau: 64 MB cache filled in 1 s", (struct shape){ SH_PLATEAU, 2 * MIB, .size = 64 * MIB, .on = 1 }, 60);
	clean_case("plateau: 256 MB filled, tau 1 s", (struct shape){ SH_PLATEAU_EXP, 2 * MIB, .size = 256 * MIB, .on = 1 }, 60);
	clean_case("sawtooth: 40 MB in 1.5 s, period 2 s",
		   (struct shape){ SH_SAWTOOTH, 20 * MIB, .size = 40 * MIB, .period = 2, .on = 1.5 }, 60);
	clean_case("sawtooth: 100 MB in 1 s, period 5 s",
		   (struct shape){ SH_SAWTOOTH, 20 * MIB, .size = 100 * MIB, .period = 5, .on = 1 }, 60);
	{
		/* The first rise of a long sawtooth cannot be told from a leak;
		 * the drop ends it and the next rises, back to the same peak,
		 * are not counted again. */
		struct shape sh = { SH_SAWTOOTH, 20 * MIB, .size = 60 * MIB, .period = 6, .on = 4 };

		run(&sh, 120, &r, "sawtooth: 60 MB over 4 s, period 6 s");
		ok(r.suspicions <= 1 && !r.last.leak, "long sawtooth: at most the first rise suspected, then resolved for good");
	}
	clean_case("spike: 200 MB for 5 s", (struct shape){ SH_SPIKE, 2 * MIB, .size = 200 * MIB, .on = 5, .off = 5 }, 40);
	clean_case("spike: 1 GB for 20 s", (struct shape){ SH_SPIKE, 2 * MIB, .size = 1024 * MIB, .on = 3, .off = 20 }, 60);
	clean_case("constant: 500 MB", (struct shape){ SH_CONSTANT, 2 * MIB, .size = 500 * MIB }, 60);
	{
		int flagged = 0;

		/* Independent noise of +-4 MB every half second is the hardest
		 * case: three rising samples right after a process starts look
		 * like the start of a leak.  At most 3% of such runs. */
		for (int seed = 1; seed <= 100; seed++) {
			struct shape sh = { SH_NOISY_CONSTANT, 50 * MIB, .size = 4 * MIB, .seed = (uint64_t)seed };
			struct sim_opts o;

			sim_defaults(&o, 120);
			o.born = born;
			o.born = born;
			leaksim_run(&sh, &P, &o, &r);
			flagged += r.ever_flagged;
		}
		ok(flagged <= 3, "noisy constant (+-4 MB, 100 seeds, 120 s each): %d flagged", flagged);
	}

	/* 3. Rates, noise and periods it was not tuned on. */
	leak_case("linear 256 KB/s", (struct shape){ SH_LINEAR, 2 * MIB, 256 * 1024 }, 60, LEAK_LINEAR, 0.05);
	/* Fast growth from a settled footprint is more often a fill that
	 * stops: it waits the horizon (urgency is the caller's exception). */
	lat = leak_case("linear 20 MB/s", (struct shape){ SH_LINEAR, 2 * MIB, 20 * MIB }, 40, LEAK_LINEAR, 0.05);
	within(lat, 24, 29, "linear 20 MB/s: detected after %.1f s (the horizon)", lat);
	leak_case("linear 32 KB/s (10 min)", (struct shape){ SH_LINEAR, 2 * MIB, 32 * 1024 }, 600, LEAK_LINEAR, 0.10);
	lat = leak_case("linear 1 MB/s after 30 s flat", (struct shape){ SH_DELAYED_LINEAR, 40 * MIB, 1 * MIB, .delay = 30 },
			60, LEAK_LINEAR, 0.05);
	within(lat, 0, 5, "delayed linear: detected %.1f s after growth began", lat);
	{
		int found = 0, linear = 0, rate_ok = 0;

		for (int seed = 1; seed <= 10; seed++) {
			struct shape sh = { SH_NOISY_LINEAR, 50 * MIB, 1 * MIB, .size = 1 * MIB, .seed = (uint64_t)seed };
			struct sim_opts o;

			sim_defaults(&o, 60);
			o.born = born;
			o.born = born;
			leaksim_run(&sh, &P, &o, &r);
			found += r.ever_flagged && r.last.leak;
			linear += r.last.pattern == LEAK_LINEAR;
			rate_ok += fabs(r.last.rate / MIB - 1) <= 0.05;
			if (!r.last.leak || r.last.pattern != LEAK_LINEAR)
				show("noisy linear", &r);
		}
		is(found, 10, "noisy linear (1 MB/s +- 1 MB, 10 seeds): all flagged");
		is(linear, 10, "noisy linear: all linear");
		is(rate_ok, 10, "noisy linear: all rates within 5%%");
	}
	leak_case("oscillating 2 MB/s 2 s on 2 s off", (struct shape){ SH_OSC, 2 * MIB, 2 * MIB, .on = 2, .off = 2 },
		  40, LEAK_OSCILLATING, 0.05);
	leak_case("oscillating 2 MB/s 3 s on 7 s off", (struct shape){ SH_OSC, 2 * MIB, 2 * MIB, .on = 3, .off = 7 },
		  60, LEAK_OSCILLATING, 0.05);
	leak_case("oscillating 4 MB/s 10 s on 10 s off", (struct shape){ SH_OSC, 2 * MIB, 4 * MIB, .on = 10, .off = 10 },
		  70, LEAK_OSCILLATING, 0.05);
	leak_case("burst 20 MB every 5 s", (struct shape){ SH_BURST, 2 * MIB, .size = 20 * MIB, .period = 5 }, 40,
		  LEAK_BURST, 0.05);
	leak_case("burst 100 MB every 30 s", (struct shape){ SH_BURST, 2 * MIB, .size = 100 * MIB, .period = 30 }, 150,
		  LEAK_BURST, 0.05);
	leak_case("2 MB steps every 2 s (THP)", (struct shape){ SH_STEPS, 2 * MIB, .size = 2 * MIB, .period = 2 }, 30,
		  LEAK_LINEAR, 0.05);
	leak_case("sawtooth on a 1 MB/s leak",
		  (struct shape){ SH_SAW_LEAK, 20 * MIB, 1 * MIB, .size = 30 * MIB, .period = 3, .on = 1.5 }, 120,
		  LEAK_LINEAR, 0.10);
	leak_case("accelerating 256 KB units", (struct shape){ SH_ACCEL, 2 * MIB, 256 * 1024 }, 40, LEAK_ACCELERATING,
		  0.10);

	{
		struct leak_params p5 = P;
		struct shape sh = { SH_LINEAR, 2 * MIB, 1 * MIB };
		struct sim_opts o;

		p5.resolution_ns = 5 * 1000000000LL;
		sim_defaults(&o, 120);
		o.born = born;
		o.interval = 5;
		o.tick_phase = 1.3;
		leaksim_run(&sh, &p5, &o, &r);
		ok(r.ever_flagged && r.last.leak && r.last.pattern == LEAK_LINEAR, "5 s interval: linear leak found");
		within(r.first_ns, 0, 25, "5 s interval: within five intervals (%.1f s)", r.first_ns);
		within(r.last.rate / MIB, 0.95, 1.05, "5 s interval: rate %.3f MB/s", r.last.rate / MIB);
	}
	clean_case("jitter: +-256 KB around 300 MB", (struct shape){ SH_NOISY_CONSTANT, 300 * MIB, .size = 256 * 1024, .seed = 7 },
		   300);

	/* 4. A suspicion ends when growth stops or memory is freed. */
	{
		struct shape sh = { SH_PLATEAU, 2 * MIB, .size = 20 * MIB, .on = 20 };
		struct sim_opts o;
		struct { double flagged, cleared; } when = { -1, -1 };

		sim_defaults(&o, 80);
		o.born = born;
		o.ctx = &when;
		o.on_tick = on_tick_transitions;
		leaksim_run(&sh, &P, &o, &r);
		ok(when.flagged > 0 && when.flagged < 6, "slow fill: looks like a leak while it grows (%.1f s)", when.flagged);
		ok(!r.last.leak, "slow fill: suspicion resolved once it stopped");
		within(when.cleared, 20 + 30, 20 + 30 + 3, "slow fill: resolved %.1f s in (growth stopped at 20 s, quiet 30 s)",
		       when.cleared);
		is_str(leak_pattern_name(r.last.pattern), "linear", "resolved verdict keeps the last pattern");
	}
	{
		struct shape sh = { SH_SPIKE, 2 * MIB, .size = 200 * MIB, .on = 1, .off = 0 };
		struct sim_opts o;
		struct { double flagged, cleared; } when = { -1, -1 };

		/* a 1 MB/s leak for 10 s whose memory is then freed */
		sh = (struct shape){ SH_SAWTOOTH, 2 * MIB, .size = 10 * MIB, .period = 1000, .on = 10 };
		sim_defaults(&o, 30);
		o.born = born;
		o.ctx = &when;
		o.on_tick = on_tick_transitions;
		leaksim_run(&sh, &P, &o, &r);
		ok(when.flagged > 0 && when.cleared > 0 && when.cleared <= 12,
		   "leak freed at 10 s: suspicion resolved at once (%.1f s)", when.cleared);
	}

	/* 5. Confidence. */
	{
		struct shape sh = { SH_LINEAR, 2 * MIB, 1 * MIB };
		struct sim_opts o;
		struct conf_check cc = { 0 };

		sim_defaults(&o, 60);
		o.born = born;
		o.ctx = &cc;
		o.on_tick = on_tick_conf;
		leaksim_run(&sh, &P, &o, &r);
		sh = (struct shape){ SH_OSC, 2 * MIB, 1 * MIB, .on = 5, .off = 5 };
		leaksim_run(&sh, &P, &o, &r);
		sh = (struct shape){ SH_SAWTOOTH, 20 * MIB, .size = 40 * MIB, .period = 2, .on = 1.5 };
		leaksim_run(&sh, &P, &o, &r);
		is(cc.bad_range, 0, "confidence always within [0, 1] (%d ticks)", cc.ticks);
		is(cc.bad_threshold, 0, "confidence >= 0.5 exactly when a leak is reported");
		sh = (struct shape){ SH_LINEAR, 2 * MIB, 1 * MIB };
		sim_defaults(&o, 60);
		o.born = born;
		leaksim_run(&sh, &P, &o, &r);
		ok(r.last.confidence > r.first.confidence, "confidence grows with evidence (%.2f at detection, %.2f after 60 s)",
		   r.first.confidence, r.last.confidence);
	}

	/* 6. Time to the limit. */
	{
		struct shape sh = { SH_LINEAR, 10 * MIB, 1 * MIB };
		double limit = 60 * MIB, truth, pred;

		run(&sh, 12, &r, "linear 1 MB/s towards 60 MB");
		pred = leak_time_to_limit(&r.first, (double)r.first.bytes, limit);
		truth = (limit - sh.base) / sh.rate - r.first_ns;
		within(pred / truth, 0.85, 1.15, "linear: at detection %.1f s to the limit predicted, %.1f s true", pred, truth);
	}
	{
		struct shape sh = { SH_ACCEL, 2 * MIB, 1 * MIB };
		struct sim_opts o;
		struct at_time at = { .t = 15 };
		double limit = 300 * MIB, truth, pred, t;

		sim_defaults(&o, 16);
		o.born = born;
		o.ctx = &at;
		o.on_tick = on_tick_at;
		leaksim_run(&sh, &P, &o, &r);
		pred = leak_time_to_limit(&at.v, at.value, limit);
		for (t = at.when; shape_at(&sh, t) < limit; t += 0.01)
			;
		truth = t - at.when;
		ok(at.v.pattern == LEAK_ACCELERATING, "accelerating at 15 s");
		within(pred / truth, 0.85, 1.15, "accelerating: %.1f s to the limit predicted, %.1f s true", pred, truth);
	}
	{
		struct leak_verdict v = { .leak = true, .pattern = LEAK_LINEAR, .rate = 1 * MIB };

		within(leak_time_to_limit(&v, 10 * MIB, 20 * MIB), 9.999, 10.001, "10 MB to go at 1 MB/s: 10 s");
		is(leak_time_to_limit(&v, 30 * MIB, 20 * MIB), 0, "already over the limit: 0");
		v.rate = 0;
		ok(leak_time_to_limit(&v, 10 * MIB, 20 * MIB) < 0, "not growing: negative (no projection)");
		v = (struct leak_verdict){ .leak = true, .pattern = LEAK_ACCELERATING, .rate = 1 * MIB, .accel = 2 * MIB };
		within(leak_time_to_limit(&v, 0, 2 * MIB), 0.999, 1.001, "accelerating: r t + a t^2 / 2 reaches 2 MB at 1 s");
	}

	/* 7. The warm-up rule: growth near a process's start, or a step that
	 * stops, is at most watched; a leak is a suspect once it outlasts
	 * its patience. */
	{
		struct course c;

		/* the held-out case of issue 15: 60 MB over the first 6 s, then held */
		run_course(&P, &(struct shape){ SH_PLATEAU, 20 * MIB, .size = 60 * MIB, .on = 6 }, 60, 0, &c, &r);
		ok(c.suspect < 0, "warm-up of 60 MB over a process's first 6 s: never a suspect");
		ok(c.watched >= 0 && c.watched < 8, "... watched while it grew (from %.1f s)", c.watched);
		ok(!r.last.leak && !r.last.watching, "... and no longer watched once it stopped");
		is(c.bad, 0, "a watch is never a leak, its confidence under 0.5, its evidence and patience end set");

		run_course(&P, &(struct shape){ SH_PLATEAU_EXP, 20 * MIB, .size = 200 * MIB, .on = 3, .startup = 2 * MIB },
			   60, 0, &c, &r);
		ok(c.suspect < 0, "a 200 MB cache filling over the first 10 s: never a suspect");

		/* the same warm-up late in a long life, and two close together */
		run_course(&P, &(struct shape){ SH_CONSTANT, 20 * MIB, .warm = { { 60 * MIB, 6, 70 } } }, 120, 0, &c, &r);
		ok(c.suspect < 0, "60 MB over 6 s at 70 s of a process's life (10 MB/s: the whole horizon): never a suspect");
		run_course(&P, &(struct shape){ SH_CONSTANT, 20 * MIB, .warm = { { 30 * MIB, 4, 2 }, { 40 * MIB, 5, 16 } } },
			   90, 0, &c, &r);
		ok(c.suspect < 0, "two warm-ups 14 s apart: never a suspect");
		run_course(&P, &(struct shape){ SH_CONSTANT, 20 * MIB, .warm = { { 40 * MIB, 5, 45 }, { 30 * MIB, 6, 60 } } },
			   120, 0, &c, &r);
		ok(c.suspect < 0, "two steps 10 s apart in mid-life: never a suspect");

		/* what it cannot tell: a slow step from a settled footprint */
		run_course(&P, &(struct shape){ SH_CONSTANT, 20 * MIB, .warm = { { 10 * MIB, 10, 60 } } }, 120, 0, &c, &r);
		ok(c.suspect > 60 && !r.last.leak,
		   "known limit: 10 MB over 10 s (1 MB/s) in mid-life is a suspect while it grows (%.1f s), resolved after",
		   c.suspect);
	}
	for (double rate = 1 * MIB; rate <= 8 * MIB; rate *= 2) {
		struct shape sh = { SH_LINEAR, 100 * 1024, rate, .startup = 1.7 * MIB };
		struct course c;

		run_course(&P, &sh, 40, 0, &c, &r);
		ok(c.watched >= 0 && c.watched < 5, "a program leaking %.0f MB/s from its start: watched at once (%.1f s)",
		   rate / MIB, c.watched);
		within(c.suspect, 25, 30, "... a suspect once its growth outlasted the 25 s horizon (%.1f s)", c.suspect);
		within(c.first.rate / rate, 0.95, 1.05, "... at %.2f MB/s", c.first.rate / MIB);
	}
	{
		struct course c;

		run_course(&P, &(struct shape){ SH_OSC, 100 * 1024, 1 * MIB, .on = 5, .off = 5, .startup = 1.7 * MIB }, 45,
			   0, &c, &r);
		within(c.suspect, 25, 37, "oscillating from a program's start: a suspect after the horizon (%.1f s)", c.suspect);
		is_str(leak_pattern_name(r.last.pattern), "oscillating", "... oscillating");
		run_course(&P, &(struct shape){ SH_DELAYED_LINEAR, 20 * MIB, 1 * MIB, .delay = 10,
						.warm = { { 40 * MIB, 4, 1 } } }, 60, 0, &c, &r);
		within(c.suspect, 35, 41, "a leak from 10 s after a warm-up: a suspect 25 s after it began (%.1f s)", c.suspect);
		within(r.last.rate / MIB, 0.95, 1.05, "... at %.2f MB/s", r.last.rate / MIB);
	}
	{
		/* A process first seen long after its start that starts growing
		 * is settled: found as fast as before. */
		struct course c;

		run_course(&P, &(struct shape){ SH_LINEAR, 40 * MIB, 1 * MIB }, 30, -3600, &c, &r);
		within(c.suspect, 0, 5, "1 MB/s in a process first seen an hour after it started: a suspect after %.1f s",
		       c.suspect);
	}
	{
		/* tracers.rss.warmup: 0 turns the rule off */
		struct leak_params p0 = P;
		struct course c;

		p0.warmup_ns = 0;
		run_course(&p0, &(struct shape){ SH_LINEAR, 100 * 1024, 2 * MIB, .startup = 1.7 * MIB }, 30, 0, &c, &r);
		within(c.suspect, 0, 5, "without a horizon a program leaking 2 MB/s from its start is a suspect after %.1f s",
		       c.suspect);
	}

	/* 8. Accelerating stays accelerating: the rate grows 256 KiB/s every
	 * second for two minutes (issue 15 saw one called linear), from a
	 * program's start and in mid-life; and jumps that straddle bins are
	 * bursts. */
	{
		struct course c;

		for (double unit = 64 * 1024; unit <= 1 * MIB; unit *= 4) {
			run_course(&P, &(struct shape){ SH_ACCEL, 20 * MIB, unit }, 120, 0, &c, &r);
			ok(c.suspect > 0 && r.last.leak && r.last.pattern == LEAK_ACCELERATING,
			   "accelerating by %.0f KiB/s every second from a program's start: accelerating after 120 s (%s)",
			   unit / 1024, leak_pattern_name(r.last.pattern));
			run_course(&P, &(struct shape){ SH_ACCEL, 20 * MIB, unit, .delay = 40 }, 160, 0, &c, &r);
			ok(c.suspect > 40 && r.last.leak && r.last.pattern == LEAK_ACCELERATING,
			   "... from 40 s into its life: accelerating after 120 s (%s)", leak_pattern_name(r.last.pattern));
		}
		run_course(&P, &(struct shape){ SH_ACCEL, 20 * MIB, 256 * 1024 }, 40, -3600, &c, &r);
		within(r.last.rate / (256 * 1024 * 39.0), 0.85, 1.15, "accelerating: current rate %.1f MB/s at 40 s (truth %.1f)",
		       r.last.rate / MIB, 256 * 1024 * 39.0 / MIB);
		for (double jump = 0.1; jump <= 0.7; jump += 0.3) {
			run_course(&P, &(struct shape){ SH_BURST, 20 * MIB, .size = 30 * MIB, .period = 4, .jump = jump, .delay = 30 },
				   80, 0, &c, &r);
			is_str(leak_pattern_name(r.last.pattern), "burst", "30 MB every 4 s, each taking %.0f ms: burst", jump * 1000);
		}
	}

	/* 9. The small print. */
	is_str(leak_pattern_name(LEAK_OSCILLATING), "oscillating", "pattern names");
	is_str(leak_pattern_name((enum leak_pattern)99), "none", "unknown pattern reads as none");
	ok(LEAK_SERIES_BYTES <= 4096, "a series is %zu bytes, fixed", LEAK_SERIES_BYTES);
	{
		struct leak_series *s = leak_series__new(&P, 0, 0, 1000);
		struct leak_verdict v;

		for (int i = 1; i <= 100000; i++)
			leak_series__add(s, (int64_t)i * 10000000, 1000 + (i % 2) * 4096);
		leak_series__verdict(s, &v);
		is(v.samples, 100000, "100,000 samples counted, memory unchanged");
		ok(!v.leak, "a flat series with page-sized jitter is no leak");
		leak_series__add(s, 5, 1 << 30);          /* far in the past: ignored */
		leak_series__verdict(s, &v);
		is(v.bytes, 1000 + 4096 * 0, "a sample older than the window is ignored");
		leak_series__free(s);
		ok(leak_series__free(NULL) == NULL, "free(NULL) is fine");
	}

	done_testing();
	return 0;
}
