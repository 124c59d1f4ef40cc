/* The PSI scraper (pressure_metrics): averages and totals per resource,
 * NULL for lines an older kernel does not print, stall shares per interval,
 * the scraper disabled when PSI is missing, errors on bad input, and a live
 * run cross-checked against /proc/pressure. */
#include "../lib/scrape.h"

#define T1 (1000 * NS)
#define T2 (T1 + 2 * NS)
#define T3 (T2 + 1 * NS)
#define PSI T_PRESSURE_METRICS

static int64_t cpu_some_total(void)
{
	char text[512];
	unsigned long long v;
	const char *p;

	if (procfs_read("", "/proc/pressure/cpu", text, sizeof(text)) < 0 || !(p = strstr(text, "total=")))
		return -1;
	return sscanf(p, "total=%llu", &v) == 1 ? (int64_t)v : -1;
}

int main(void)
{
	struct scraper s;
	int row;

	plan(29);

	ok(scraper__open(&s, SCRAPER_pressure, tap_src("t/fixtures/basic")) < 0 && !s.enabled,
	   "no /proc/pressure: the scraper is disabled");
	ok(strstr(s.reason, "CONFIG_PSI") != NULL, "and says why: %s", s.reason);
	is(scrape_tick(&s, tap_src("t/fixtures/basic"), T1), 0, "a disabled scraper adds nothing");
	scraper__destroy(&s);

	scraper__open(&s, SCRAPER_pressure, tap_src("t/fixtures/tick1"));
	is(scrape_tick(&s, tap_src("t/fixtures/tick1"), T1), 3, "first reading: cpu, memory, io (no irq file)");
	row = scrape_row(PSI, "resource", "cpu");
	is_real(PSI, row, "some_avg10", 1.5, "cpu some avg10");
	is_real(PSI, row, "some_avg60", 2.25, "cpu some avg60");
	is_real(PSI, row, "some_avg300", 3.0, "cpu some avg300");
	is(cell_int(PSI, row, "some_total_us"), 1000000, "cpu some total");
	ok(cell_null(PSI, row, "full_avg10") && cell_null(PSI, row, "full_total_us"),
	   "no 'full' line for cpu (kernel before 5.13): NULL");
	ok(cell_null(PSI, row, "some_stall_pct"), "first reading: no stall share");
	row = scrape_row(PSI, "resource", "io");
	is_real(PSI, row, "full_avg10", 8.0, "io full avg10");
	is(cell_int(PSI, row, "full_total_us"), 3000000, "io full total");

	is(scrape_tick(&s, tap_src("t/fixtures/tick2"), T2), 4, "second reading: irq appeared");
	row = scrape_row(PSI, "resource", "cpu");
	is(cell_int(PSI, row, "timestamp"), T2, "timestamp is the tick time");
	is_real(PSI, row, "some_stall_pct", 25.0, "cpu: 0.5 s stalled in 2 s");
	ok(cell_null(PSI, row, "full_stall_pct"), "cpu full: still NULL");
	row = scrape_row(PSI, "resource", "memory");
	is_real(PSI, row, "some_stall_pct", 10.0, "memory some: 0.2 s in 2 s");
	is_real(PSI, row, "full_stall_pct", 5.0, "memory full: 0.1 s in 2 s");
	row = scrape_row(PSI, "resource", "io");
	is_real(PSI, row, "some_stall_pct", 100.0, "io some: capped at 100%%");
	is_real(PSI, row, "full_stall_pct", 50.0, "io full: 1 s in 2 s");
	row = scrape_row(PSI, "resource", "irq");
	ok(row >= 0 && cell_null(PSI, row, "some_avg10") && cell_int(PSI, row, "full_total_us") == 12345,
	   "irq: only a 'full' line");

	is(scrape_tick(&s, tap_src("t/fixtures/tick3"), T3), 3, "third reading: irq gone again");
	ok(cell_null(PSI, scrape_row(PSI, "resource", "cpu"), "some_stall_pct"), "a total that went backwards: NULL");
	is_real(PSI, scrape_row(PSI, "resource", "memory"), "some_stall_pct", 0.0, "memory: no stall in the interval");
	is(scrape_tick(&s, tap_src("t/fixtures/malformed"), T3), -1, "a malformed pressure file is an error");
	is(scrape_rows(PSI), 0, "and adds no rows");
	scraper__destroy(&s);

	/* live */
	if (scraper__open(&s, SCRAPER_pressure, "") < 0) {
		skip(3, "this kernel has no PSI");
	} else {
		const char *res[] = { "cpu", "memory", "io", "irq" };
		char path[64], text[512];
		int64_t before, after, got;
		int files = 0;

		for (int i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "/proc/pressure/%s", res[i]);
			files += procfs_read("", path, text, sizeof(text)) >= 0;
		}
		before = cpu_some_total();
		is(scrape_tick(&s, "", T1), files, "live: one row per /proc/pressure file (%d)", files);
		after = cpu_some_total();
		got = cell_int(PSI, scrape_row(PSI, "resource", "cpu"), "some_total_us");
		ok(before <= got && got <= after, "live: cpu some total %lld within the file's [%lld, %lld]",
		   (long long)got, (long long)before, (long long)after);
		ok(!cell_null(PSI, scrape_row(PSI, "resource", "memory"), "full_total_us"),
		   "live: memory has a 'full' line on this kernel");
	}
	scraper__destroy(&s);

	batch__free(&scrape_batch);
	return done_testing();
}
