/* The /proc/stat scraper (cpu_metrics): exact percentages and rates from
 * two and three fixture readings, errors on bad input, and a live run
 * cross-checked against the CPUs the kernel lists. */
#include <time.h>

#include "../lib/scrape.h"

#define T1 (1000 * NS)
#define T2 (T1 + 2 * NS)
#define T3 (T2 + 1 * NS)
#define CPU T_CPU_METRICS

static int count_cpu_lines(void)
{
	char text[65536];
	int n = 0;

	if (procfs_read("", "/proc/stat", text, sizeof(text)) < 0)
		return -1;
	for (const char *p = text; *p; p = procfs_next_line(p))
		if (!strncmp(p, "cpu", 3) && p[3] >= '0' && p[3] <= '9')
			n++;
	return n;
}

int main(void)
{
	struct scraper s;
	int row, cpus;

	plan(36);

	scrape_open(&s, SCRAPER_stat);
	is(scrape_tick(&s, tap_src("t/fixtures/tick1"), T1), 0, "first reading: no rows (nothing to compare with)");
	is(scrape_tick(&s, tap_src("t/fixtures/tick2"), T2), 3, "second reading: total + 2 CPUs");

	row = scrape_row(CPU, "cpu", "cpu");
	is(row, 0, "the total comes first, labelled 'cpu'");
	is(cell_int(CPU, row, "timestamp"), T2, "timestamp is the tick time");
	/* deltas 300 0 90 490 50 10 25 25, sum 990 */
	is_real(CPU, row, "user_pct", 300.0 / 990 * 100, "total user %%");
	is_real(CPU, row, "nice_pct", 0.0, "total nice %%");
	is_real(CPU, row, "system_pct", 90.0 / 990 * 100, "total system %%");
	is_real(CPU, row, "idle_pct", 490.0 / 990 * 100, "total idle %%");
	is_real(CPU, row, "iowait_pct", 50.0 / 990 * 100, "total iowait %%");
	is_real(CPU, row, "irq_pct", 10.0 / 990 * 100, "total irq %%");
	is_real(CPU, row, "softirq_pct", 25.0 / 990 * 100, "total softirq %%");
	is_real(CPU, row, "steal_pct", 25.0 / 990 * 100, "total steal %% (guest not counted twice)");
	is_real(CPU, row, "ctxt_per_sec", 300.0, "600 context switches in 2 s");
	is_real(CPU, row, "forks_per_sec", 5.0, "10 forks in 2 s");
	is(cell_int(CPU, row, "procs_running"), 5, "procs_running");
	is(cell_int(CPU, row, "procs_blocked"), 0, "procs_blocked");

	row = scrape_row(CPU, "cpu", "cpu0");
	is_real(CPU, row, "user_pct", 40.0, "cpu0 user 200 of 500 ticks");
	is_real(CPU, row, "idle_pct", 38.0, "cpu0 idle");
	is_real(CPU, row, "iowait_pct", 12.0, "cpu0 iowait");
	ok(cell_null(CPU, row, "ctxt_per_sec") && cell_null(CPU, row, "procs_running"),
	   "system-wide columns are NULL on per-CPU rows");
	row = scrape_row(CPU, "cpu", "cpu1");
	is_real(CPU, row, "iowait_pct", 0.0, "cpu1 iowait went backwards: counted as 0, not negative");
	is_real(CPU, row, "idle_pct", 60.0, "cpu1 idle 300 of 500 ticks");
	is_real(CPU, row, "steal_pct", 5.0, "cpu1 steal");

	is(scrape_tick(&s, tap_src("t/fixtures/tick3"), T3), 2, "cpu1 offline, cpu2 new: rows for total and cpu0 only");
	ok(scrape_row(CPU, "cpu", "cpu2") < 0 && scrape_row(CPU, "cpu", "cpu1") < 0,
	   "a CPU that just came online waits one tick for its first row");
	is_real(CPU, scrape_row(CPU, "cpu", "cpu"), "ctxt_per_sec", 100.0, "rate over the 1 s interval");
	is_real(CPU, scrape_row(CPU, "cpu", "cpu0"), "user_pct", 100.0 / 210 * 100, "cpu0 over the third interval");
	scraper__destroy(&s);

	scrape_open(&s, SCRAPER_stat);
	is(scrape_tick(&s, tap_src("t/fixtures/malformed"), T1), -1, "a malformed cpu line is an error");
	is(scrape_rows(CPU), 0, "and adds no rows");
	is(scrape_tick(&s, tap_src("t/fixtures/broken"), T1), -1, "a missing /proc/stat is an error");
	ok(strstr(s.reason, "No such file") != NULL, "naming the cause: %s", s.reason);
	scraper__destroy(&s);

	/* live */
	scrape_open(&s, SCRAPER_stat);
	cpus = count_cpu_lines();
	is(scrape_tick(&s, "", T1), 0, "live: first reading, no rows");
	nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	is(scrape_tick(&s, "", T1 + NS / 10), cpus + 1, "live: one row per CPU in /proc/stat plus the total (%d CPUs)", cpus);
	is(cpus, sysconf(_SC_NPROCESSORS_ONLN), "as many CPUs as are online");
	{
		bool sums = true;

		for (int r = 0; r < scrape_rows(CPU); r++) {
			double sum = 0;
			const char *f[] = { "user_pct", "nice_pct", "system_pct", "idle_pct", "iowait_pct",
					    "irq_pct", "softirq_pct", "steal_pct" };

			for (int i = 0; i < 8; i++)
				sum += cell_real(CPU, r, f[i]);
			if (fabs(sum - 100.0) > 1e-6) {
				diag("row %d sums to %g", r, sum);
				sums = false;
			}
		}
		ok(sums, "live: every row's percentages add up to 100");
	}
	ok(cell_real(CPU, 0, "forks_per_sec") >= 0 && cell_int(CPU, 0, "procs_running") >= 1,
	   "live: forks/s present and at least this process running");
	scraper__destroy(&s);

	batch__free(&scrape_batch);
	return done_testing();
}
