/* Leak detector benchmarks on synthetic footprints (sim/leaksim.h).
 *
 *   leak cpu     cost of the pure detector for 1,000 processes sampled once a
 *                second: CPU per sample, share of one CPU, memory per
 *                process, and the process's RSS after one and after sixty
 *                simulated minutes (it must not grow);
 *   leak synth   accuracy on a grid of shapes, rates, periods and noise the
 *                detector was not tuned on, as markdown tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../sim/leaksim.h"

#define NPROC 1000

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* ---- cpu ---- */

struct proc_sim {
	struct shape sh;
	struct leak_series *s;
	double phase;
};

/* Runs every process for [from, to) seconds, one sample per second each
 * (the tracer sends at most that), then advance + verdict as rss.c does
 * every tick.  Returns CPU seconds spent in the detector. */
static double drive(struct proc_sim *ps, int n, int from, int to, int *suspects)
{
	double spent = 0;

	*suspects = 0;
	for (int sec = from; sec < to; sec++) {
		double t0 = cpu_seconds();

		for (int i = 0; i < n; i++) {
			double t = sec + ps[i].phase;
			struct leak_verdict v;

			leak_series__add(ps[i].s, (int64_t)(t * 1e9), (int64_t)(floor(shape_at(&ps[i].sh, t) / 131072) * 131072));
			leak_series__advance(ps[i].s, (int64_t)((sec + 1) * 1e9));
			leak_series__verdict(ps[i].s, &v);
			if (sec == to - 1)
				*suspects += v.leak;
		}
		spent += cpu_seconds() - t0;
	}
	return spent;
}

static void setup(struct proc_sim *ps, const struct leak_params *p, bool all_leak)
{
	for (int i = 0; i < NPROC; i++) {
		struct shape *sh = &ps[i].sh;
		int kind = all_leak ? 0 : i % 20;

		ps[i].phase = (double)(i % 97) / 97;
		if (kind == 0)          /* 5%: leaks from 64 KiB/s to 10 MiB/s */
			*sh = (struct shape){ SH_NOISY_LINEAR, 20 * MIB, 65536.0 * pow(160, (double)(i % 50) / 49),
					      .size = 32 * 1024, .seed = (uint64_t)i };
		else if (kind == 1)     /* 5%: garbage-collected sawtooth */
			*sh = (struct shape){ SH_SAWTOOTH, 50 * MIB, .size = 20 * MIB, .period = 2, .on = 1.5 };
		else                    /* 90%: steady processes with some jitter */
			*sh = (struct shape){ SH_NOISY_CONSTANT, 10 * MIB + i * 65536.0, .size = 256 * 1024,
					      .seed = (uint64_t)i };
		ps[i].s = leak_series__new(p, 0, (int64_t)shape_at(sh, 0));
		if (!ps[i].s)
			abort();
	}
}

static void bench_cpu(void)
{
	static struct proc_sim ps[NPROC];
	struct leak_params p;
	long rss0, rss1, rss60;
	int suspects;

	leak_params_default(&p);
	printf("### Leak detector cost, %d processes sampled once a second\n\n", NPROC);
	printf("| processes | workload | simulated | detector CPU | per sample | share of one CPU | suspects at end |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (int all = 1; all >= 0; all--) {
		double spent;

		rss0 = rss_kb();
		setup(ps, &p, all);
		spent = drive(ps, NPROC, 0, 60, &suspects);
		rss1 = rss_kb();
		spent += drive(ps, NPROC, 60, 600, &suspects);
		printf("| %d | %s | 10 min | %.2f s | %.2f us | %.3f%% | %d |\n", NPROC,
		       all ? "all leaking (worst case: every series fully analysed)" : "5% leaking, 5% sawtooth, 90% steady",
		       spent, spent / (NPROC * 600.0) * 1e6, spent / 600 * 100, suspects);
		if (!all) {
			drive(ps, NPROC, 600, 3600, &suspects);
			rss60 = rss_kb();
			printf("\nMemory: %zu bytes per series (fixed); process RSS %ld kB before, %ld kB after 1 min, "
			       "%ld kB after 60 min of samples for %d processes (growth %+ld kB).\n",
			       LEAK_SERIES_BYTES, rss0, rss1, rss60, NPROC, rss60 - rss1);
		}
		for (int i = 0; i < NPROC; i++)
			ps[i].s = leak_series__free(ps[i].s);
	}
}

/* ---- synth ---- */

struct tally {
	int n, found, right_pattern, rate_ok;
	double rate_err_max, latency_max;
};

static void synth_case(struct tally *t, const char *label, struct shape sh, double duration, enum leak_pattern want,
		       bool verbose)
{
	struct leak_params p;
	struct sim_opts o;
	struct sim_result r;
	double truth, err;

	leak_params_default(&p);
	sim_defaults(&o, duration);
	leaksim_run(&sh, &p, &o, &r);
	t->n++;
	if (want == LEAK_NONE) {
		t->found += r.ever_flagged;
		if (verbose && r.ever_flagged)
			printf("<!-- flagged: %s at %.1f s -->\n", label, r.first_ns);
		return;
	}
	t->found += r.ever_flagged;
	t->right_pattern += r.last.pattern == want;
	truth = shape_true_rate(&sh, duration);
	err = fabs(r.last.rate / truth - 1);
	t->rate_ok += err <= 0.05;
	if (err > t->rate_err_max)
		t->rate_err_max = err;
	if (r.ever_flagged && r.first_ns - sh.delay > t->latency_max)
		t->latency_max = r.first_ns - sh.delay;
	if (verbose && (!r.ever_flagged || r.last.pattern != want || err > 0.05))
		printf("<!-- %s: flagged %d, pattern %s, rate error %.1f%% -->\n", label, r.ever_flagged,
		       leak_pattern_name(r.last.pattern), err * 100);
}

static void row_leak(const char *name, const struct tally *t)
{
	printf("| %s | %d | %d (%.0f%%) | %.0f%% | %.0f%% | %.1f%% | %.1f s |\n", name, t->n, t->found,
	       100.0 * t->found / t->n, 100.0 * t->right_pattern / t->n, 100.0 * t->rate_ok / t->n,
	       t->rate_err_max * 100, t->latency_max);
}

static void bench_synth(bool verbose)
{
	struct tally lin = { 0 }, acc = { 0 }, osc = { 0 }, bur = { 0 }, all = { 0 }, clean = { 0 }, limits = { 0 };
	char label[128];
	int cases = 0;

	/* leaks */
	for (double rate = 64 * 1024; rate <= 100 * MIB; rate *= 4)
		for (int noisy = 0; noisy <= 1; noisy++)
			for (int start = 0; start <= 1; start++) {
				struct shape sh = { noisy ? SH_NOISY_LINEAR : SH_LINEAR, 3 * MIB, rate,
						    .size = noisy ? 0.5 * rate : 0, .seed = (uint64_t)++cases,
						    .startup = start ? 2 * MIB : 0 };

				snprintf(label, sizeof(label), "linear %.0f KB/s noisy %d start-up %d", rate / 1024, noisy,
					 start);
				synth_case(&lin, label, sh, rate < 200 * 1024 ? 300 : 60, LEAK_LINEAR, verbose);
			}
	for (double unit = 128 * 1024; unit <= 4 * MIB; unit *= 2) {
		snprintf(label, sizeof(label), "accelerating %.0f KB units", unit / 1024);
		synth_case(&acc, label, (struct shape){ SH_ACCEL, 3 * MIB, unit, .startup = 1.5 * MIB }, 40,
			   LEAK_ACCELERATING, verbose);
	}
	{
		static const double phases[][2] = { { 2, 2 }, { 3, 7 }, { 5, 5 }, { 10, 10 }, { 4, 12 }, { 2, 6 }, { 8, 4 } };

		for (double rate = 1 * MIB; rate <= 4 * MIB; rate *= 2)
			for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
				snprintf(label, sizeof(label), "oscillating %.0f MB/s %.0f/%.0f", rate / MIB, phases[i][0],
					 phases[i][1]);
				synth_case(&osc, label, (struct shape){ SH_OSC, 3 * MIB, rate, .on = phases[i][0],
									 .off = phases[i][1], .startup = 1.5 * MIB },
					   8 * (phases[i][0] + phases[i][1]), LEAK_OSCILLATING, verbose);
			}
	}
	{
		static const double periods[] = { 5, 8, 15, 20, 30, 45 };
		static const double sizes[] = { 10 * MIB, 50 * MIB, 200 * MIB };

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			for (size_t j = 0; j < sizeof(periods) / sizeof(periods[0]); j++) {
				snprintf(label, sizeof(label), "burst %.0f MB every %.0f s", sizes[i] / MIB, periods[j]);
				synth_case(&bur, label, (struct shape){ SH_BURST, 3 * MIB, .size = sizes[i], .period = periods[j] },
					   4 * periods[j] + 10, LEAK_BURST, verbose);
			}
	}

	/* not leaks */
	for (double size = 16 * MIB; size <= 2048 * MIB; size *= 4)
		for (double fill = 0.25; fill <= 2; fill *= 2) {
			synth_case(&clean, "plateau", (struct shape){ SH_PLATEAU, 3 * MIB, .size = size, .on = fill }, 120,
				   LEAK_NONE, verbose);
			synth_case(&clean, "plateau exp", (struct shape){ SH_PLATEAU_EXP, 3 * MIB, .size = size, .on = fill },
				   120, LEAK_NONE, verbose);
		}
	{
		static const double saw[][2] = { { 0.5, 1 }, { 1, 2 }, { 1.5, 2 }, { 1, 5 }, { 1.5, 10 }, { 0.3, 3 } };

		for (double size = 10 * MIB; size <= 1000 * MIB; size *= 10)
			for (size_t i = 0; i < sizeof(saw) / sizeof(saw[0]); i++)
				synth_case(&clean, "sawtooth", (struct shape){ SH_SAWTOOTH, 30 * MIB, .size = size,
									      .on = saw[i][0], .period = saw[i][1] },
					   120, LEAK_NONE, verbose);
	}
	for (double size = 100 * MIB; size <= 2000 * MIB; size *= 4)
		for (double hold = 2; hold <= 40; hold *= 3)
			synth_case(&clean, "spike", (struct shape){ SH_SPIKE, 30 * MIB, .size = size, .on = 5, .off = hold },
				   120, LEAK_NONE, verbose);
	for (double size = 1 * MIB; size <= 4096 * MIB; size *= 8)
		synth_case(&clean, "constant", (struct shape){ SH_CONSTANT, 3 * MIB, .size = size }, 120, LEAK_NONE,
			   verbose);
	for (double amp = 128 * 1024; amp <= 8 * MIB; amp *= 4)
		for (int seed = 1; seed <= 10; seed++)
			synth_case(&clean, "noisy constant", (struct shape){ SH_NOISY_CONSTANT, 50 * MIB, .size = amp,
									    .seed = (uint64_t)(seed * 1000 + amp) },
				   120, LEAK_NONE, verbose);

	/* beyond the evidence window: growth that lasts longer than ~3 s
	 * before it stops or is freed */
	synth_case(&limits, "plateau filled over 10 s", (struct shape){ SH_PLATEAU, 3 * MIB, .size = 100 * MIB, .on = 10 },
		   120, LEAK_NONE, false);
	synth_case(&limits, "sawtooth rising over 5 s", (struct shape){ SH_SAWTOOTH, 30 * MIB, .size = 100 * MIB, .on = 5,
									 .period = 8 },
		   120, LEAK_NONE, false);

	all.n = lin.n + acc.n + osc.n + bur.n;
	all.found = lin.found + acc.found + osc.found + bur.found;
	all.right_pattern = lin.right_pattern + acc.right_pattern + osc.right_pattern + bur.right_pattern;
	all.rate_ok = lin.rate_ok + osc.rate_ok + bur.rate_ok + acc.rate_ok;
	all.rate_err_max = fmax(fmax(lin.rate_err_max, acc.rate_err_max), fmax(osc.rate_err_max, bur.rate_err_max));
	all.latency_max = fmax(fmax(lin.latency_max, acc.latency_max), fmax(osc.latency_max, bur.latency_max));
	printf("### Leak detector on synthetic footprints it was not tuned on\n\n");
	printf("Sampled like the tracer (1 s slots, 8 MiB jumps, 128 KiB counter steps, ticks at +0.37 s).\n\n");
	printf("| leaks | cases | found (TPR) | pattern right | rate within 5%% | worst rate error | worst latency |\n");
	printf("|---|---|---|---|---|---|---|\n");
	row_leak("linear 64 KiB/s - 64 MiB/s, +-noise, +-start-up", &lin);
	row_leak("accelerating, 128 KiB - 4 MiB units", &acc);
	row_leak("oscillating, 7 on/off periods x 3 rates", &osc);
	row_leak("burst, 10-200 MB every 5-45 s", &bur);
	row_leak("all leaks", &all);
	printf("\n| not leaks | cases | flagged (FPR) |\n|---|---|---|\n");
	printf("| plateau, sawtooth (rise <= 1.5 s), spike, constant, noisy constant | %d | %d (%.1f%%) |\n", clean.n,
	       clean.found, 100.0 * clean.found / clean.n);
	printf("| known limit: growth lasting > 3 s, then stopped or freed | %d | %d |\n", limits.n, limits.found);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "cpu"))
		bench_cpu();
	else if (argc >= 2 && !strcmp(argv[1], "synth"))
		bench_synth(argc == 3 && !strcmp(argv[2], "-v"));
	else {
		fprintf(stderr, "usage: leak cpu | leak synth [-v]\n");
		return 2;
	}
	return 0;
}
