/* Synthetic memory footprints with known truth, sampled the way the rss
 * tracer samples them, for the leak detector's unit tests and benchmark.
 *
 * A shape is a function of time (bytes at t seconds).  leaksim_run() walks
 * it in 10 ms steps with the kernel's view of the counter (the per-CPU
 * batch makes RSS move in 128 KiB steps), pushes samples like rss.bpf.c
 * (at most one per interval slot: at the first change after a slot ended,
 * the state it ended with; plus one whenever the footprint moved by the
 * jump threshold), delivers them once
 * per tick like the collector, flushes a change that no push reported like
 * rss.c, advances every series to the tick, and records what the detector
 * said and when.
 *
 * It lives in sim/, not t/lib/ or src/: the unit tests (t/unit/leak.c) and
 * the benchmark (bench/leak.c) both run it, and it is part of neither the
 * binary nor the test harness.  sim/ holds models with known truth that
 * tests and benchmarks share; both include from it, it includes only src/.
 */
#ifndef KS_LEAKSIM_H
#define KS_LEAKSIM_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../src/detect/leak.h"

#define MIB (1024.0 * 1024.0)

enum shape_kind {
	SH_LINEAR, SH_ACCEL, SH_OSC, SH_BURST, SH_PLATEAU, SH_PLATEAU_EXP, SH_SAWTOOTH, SH_SPIKE,
	SH_CONSTANT, SH_NOISY_LINEAR, SH_NOISY_CONSTANT, SH_STEPS, SH_DELAYED_LINEAR, SH_SAW_LEAK,
};

struct shape {
	enum shape_kind kind;
	double base;         /* bytes before anything happens */
	double rate;         /* bytes/s (linear, oscillating on-phase, accelerating unit) */
	double size;         /* burst, plateau, spike, constant, sawtooth amplitude, step size, noise */
	double period;       /* s: burst/step period, sawtooth period */
	double on, off;      /* oscillating phases (s); sawtooth rise = on; spike start = on, hold = off */
	double delay;        /* s before growth starts */
	uint64_t seed;
	double startup;      /* bytes mapped right after t = 0 (an exec'd program's loader) */
	double jump;         /* s a burst's allocation takes (0: 20 ms) */
	struct warmup {      /* on top of the shape: size bytes filled over fill s from at s, then held */
		double size, fill, at;
		bool exp;    /* filled with time constant fill / 3 instead of evenly */
	} warm[2];
};

static inline double sim_noise(uint64_t seed, int64_t k)
{
	uint64_t x = (seed << 32) + (uint64_t)k * 0x9E3779B97F4A7C15ULL;   /* splitmix64 */

	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	x ^= x >> 31;
	return (double)(x >> 11) / (double)(1ULL << 53) * 2 - 1;    /* [-1, 1) */
}

static inline double shape_growth(const struct shape *s, double t);

static inline double warmup_at(const struct warmup *w, double t)
{
	double g = t - w->at;

	if (w->size <= 0 || g <= 0)
		return 0;
	if (w->exp)
		return w->size * (1 - exp(-3 * g / w->fill));
	return w->size * (g < w->fill ? g / w->fill : 1);
}

/* Footprint at t seconds. */
static inline double shape_at(const struct shape *s, double t)
{
	return shape_growth(s, t) + (t > 0 ? s->startup : 0) + warmup_at(&s->warm[0], t) + warmup_at(&s->warm[1], t);
}

static inline double shape_growth(const struct shape *s, double t)
{
	double g = t - s->delay;

	if (g < 0)
		return s->base;
	switch (s->kind) {
	case SH_LINEAR:
	case SH_DELAYED_LINEAR:
		return s->base + s->rate * g;
	case SH_ACCEL: {      /* i*rate during second i (the seed's "i MB at second i") */
		double i = floor(g);

		return s->base + s->rate * (i * (i - 1) / 2 + i * (g - i));
	}
	case SH_OSC: {
		double cycle = s->on + s->off, n = floor(g / cycle), c = g - n * cycle;

		return s->base + s->rate * (n * s->on + (c < s->on ? c : s->on));
	}
	case SH_BURST: {      /* size at 0, period, 2 period ...; each takes `jump` (20 ms) to touch */
		double n = floor(g / s->period), c = g - n * s->period, j = s->jump > 0 ? s->jump : 0.02;

		return s->base + s->size * (n + (c < j ? c / j : 1));
	}
	case SH_STEPS: {      /* size every period, touched at once */
		double n = floor(g / s->period);

		return s->base + s->size * (n + 1);
	}
	case SH_PLATEAU:      /* fills in `on` seconds, then holds */
		return s->base + s->size * (g < s->on ? g / s->on : 1);
	case SH_PLATEAU_EXP:  /* fills with time constant `on` */
		return s->base + s->size * (1 - exp(-g / s->on));
	case SH_SAWTOOTH: {   /* rises by size over `on` seconds, freed, every period */
		double c = fmod(g, s->period);

		return s->base + (c < s->on ? s->size * c / s->on : 0);
	}
	case SH_SAW_LEAK: {   /* sawtooth on top of a linear leak */
		double c = fmod(g, s->period);

		return s->base + s->rate * g + (c < s->on ? s->size * c / s->on : 0);
	}
	case SH_SPIKE:
		return s->base + (g >= s->on && g < s->on + s->off ? s->size : 0);
	case SH_CONSTANT:
		return s->base + s->size * (g < 0.2 ? g / 0.2 : 1);
	case SH_NOISY_LINEAR:
		return s->base + s->rate * g + s->size * sim_noise(s->seed, (int64_t)(g * 2));
	case SH_NOISY_CONSTANT:
		return s->base + s->size + s->size * sim_noise(s->seed, (int64_t)(g * 2));
	}
	return s->base;
}

/* The true net growth rate (bytes/s) once the pattern is established. */
static inline double shape_true_rate(const struct shape *s, double t)
{
	switch (s->kind) {
	case SH_LINEAR: case SH_DELAYED_LINEAR: case SH_NOISY_LINEAR: case SH_SAW_LEAK:
		return s->rate;
	case SH_ACCEL:
		return s->rate * floor(t - s->delay);
	case SH_OSC:
		return s->rate * s->on / (s->on + s->off);
	case SH_BURST: case SH_STEPS:
		return s->size / s->period;
	default:
		return 0;
	}
}

struct sim_result {
	bool ever_flagged;            /* a suspect (leak) at some tick */
	bool ever_watched;            /* watched (or a suspect) at some tick */
	double first_ns;              /* series time of the first suspicion, s */
	struct leak_verdict first;    /* verdict at the first suspicion */
	struct leak_verdict last;     /* verdict at the end */
	int suspicions;               /* how many times a suspicion opened */
	uint32_t pushes, flushes;
};

struct sim_opts {
	double duration;              /* s */
	double interval;              /* s: push interval, tick and detector resolution */
	double tick_phase;            /* s: ticks at phase + k * interval */
	double jump;                  /* bytes */
	double quantum;               /* counter granularity, bytes */
	double born;                  /* s: when the process was born (0: at the series' start) */
	/* stop at the first suspicion (latency runs) */
	bool stop_at_first;
	/* called at each tick with the current verdict */
	void (*on_tick)(void *ctx, double t, double value, const struct leak_verdict *v);
	void *ctx;
};

static inline void sim_defaults(struct sim_opts *o, double duration)
{
	memset(o, 0, sizeof(*o));
	o->duration = duration;
	o->interval = 1.0;
	o->tick_phase = 0.37;
	o->jump = 8 * MIB;
	o->quantum = 128 * 1024;
}

#define SIM_QUEUE 4096

/* Runs shape through the tracer model and detector p; fills *r. */
static inline void leaksim_run(const struct shape *sh, const struct leak_params *p, const struct sim_opts *o,
			       struct sim_result *r)
{
	const double dt = 0.01;
	double q_prev, last_push_v, next_due = o->interval, next_tick = o->tick_phase, last_change_t = 0;
	double qt[SIM_QUEUE], qv[SIM_QUEUE];
	uint32_t seq = 0, fed_seq = 0;
	int queued = 0;
	struct leak_series *s;
	struct leak_verdict v;
	bool was = false;

	memset(r, 0, sizeof(*r));
	q_prev = floor(shape_at(sh, 0) / o->quantum) * o->quantum;
	last_push_v = q_prev;
	s = leak_series__new(p, 0, (int64_t)(o->born * 1e9), (int64_t)q_prev);
	for (double t = dt; t <= o->duration + 1e-9; t += dt) {
		double q = floor(shape_at(sh, t) / o->quantum) * o->quantum;

		if (q != q_prev) {
			if (t >= next_due) {
				/* how the slot ended: the state before this change */
				next_due = (floor(t / o->interval) + 1) * o->interval;
				if (queued < SIM_QUEUE) {
					qt[queued] = last_change_t;
					qv[queued++] = q_prev;
				}
				last_push_v = q_prev;
				fed_seq = seq;
				r->pushes++;
			}
			seq++;
			last_change_t = t;
			q_prev = q;
			if (fabs(q - last_push_v) >= o->jump) {
				if (queued < SIM_QUEUE) {
					qt[queued] = t;
					qv[queued++] = q;
				}
				last_push_v = q;
				fed_seq = seq;
				r->pushes++;
			}
		}
		if (t + 1e-9 >= next_tick) {
			for (int i = 0; i < queued; i++)
				leak_series__add(s, (int64_t)(qt[i] * 1e9), (int64_t)qv[i]);
			queued = 0;
			if (seq != fed_seq && t >= next_due - 1e-9) {
				leak_series__add(s, (int64_t)(last_change_t * 1e9), (int64_t)q_prev);
				fed_seq = seq;
				r->flushes++;
			}
			leak_series__advance(s, (int64_t)(t * 1e9));
			leak_series__verdict(s, &v);
			r->ever_watched |= v.leak || v.watching;
			if (v.leak && !was) {
				r->suspicions++;
				if (!r->ever_flagged) {
					r->ever_flagged = true;
					r->first_ns = t;
					r->first = v;
				}
			}
			was = v.leak;
			if (o->on_tick)
				o->on_tick(o->ctx, t, q_prev, &v);
			if (o->stop_at_first && v.leak)
				break;
			next_tick += o->interval;
		}
	}
	leak_series__verdict(s, &r->last);
	leak_series__free(s);
}

#endif
