/* The /proc/vmstat scraper (vmstat_metrics): exact per-interval counts,
 * summed reclaim and stall counters, NULL for what the kernel lacks or
 * reset, errors on bad input, and a live run that faults in known pages. */
#include <sys/mman.h>

#include "../lib/scrape.h"

#define T1 (1000 * NS)
#define T2 (T1 + 2 * NS)
#define T3 (T2 + 1 * NS)
#define VM T_VMSTAT_METRICS

int main(void)
{
	struct scraper s;
	enum { PAGES = 2000 };

	plan(22);

	scrape_open(&s, SCRAPER_vmstat);
	is(scrape_tick(&s, tap_src("t/fixtures/tick1"), T1), 0, "first reading: no row (nothing to count yet)");
	is(scrape_tick(&s, tap_src("t/fixtures/tick2"), T2), 1, "second reading: one row");
	is(cell_int(VM, 0, "timestamp"), T2, "timestamp is the tick time");
	is_real(VM, 0, "interval_ms", 2000.0, "interval 2 s");
	is(cell_int(VM, 0, "pgfault"), 2000, "pgfault in the interval");
	is(cell_int(VM, 0, "pgmajfault"), 5, "pgmajfault");
	is(cell_int(VM, 0, "pswpin"), 4, "pswpin");
	is(cell_int(VM, 0, "pswpout"), 8, "pswpout");
	is(cell_int(VM, 0, "pgpgin"), 200, "pgpgin");
	is(cell_int(VM, 0, "pgpgout"), 400, "pgpgout");
	is(cell_int(VM, 0, "pgscan"), 75, "pgscan = kswapd 50 + direct 25 (khugepaged and direct_throttle ignored)");
	is(cell_int(VM, 0, "pgsteal"), 60, "pgsteal = kswapd 40 + direct 20");
	is(cell_int(VM, 0, "oom_kill"), 1, "oom_kill");
	is(cell_int(VM, 0, "allocstall"), 3, "allocstall summed over zones");
	ok(cell_null(VM, 0, "thp_fault_alloc"), "no thp_fault_alloc line: NULL");

	is(scrape_tick(&s, tap_src("t/fixtures/tick3"), T3), 1, "third reading");
	ok(cell_null(VM, 0, "pgfault"), "pgfault went backwards: NULL, never negative");
	is(cell_int(VM, 0, "pgmajfault"), 0, "the others still count: 0");
	scraper__destroy(&s);

	scrape_open(&s, SCRAPER_vmstat);
	is(scrape_tick(&s, tap_src("t/fixtures/malformed"), T1), -1, "a malformed counter is an error");
	is(scrape_tick(&s, tap_src("t/fixtures/basic"), T1), -1, "a missing /proc/vmstat is an error");
	scraper__destroy(&s);

	/* live: touch PAGES fresh pages between two readings */
	scrape_open(&s, SCRAPER_vmstat);
	{
		long page = sysconf(_SC_PAGESIZE);
		char *mem, text[16384];

		scrape_tick(&s, "", T1);
		mem = mmap(NULL, (size_t)(PAGES * page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (long i = 0; i < PAGES; i++)
			mem[i * page] = 1;
		scrape_tick(&s, "", T2);
		munmap(mem, (size_t)(PAGES * page));
		ok(cell_int(VM, 0, "pgfault") >= PAGES, "live: pgfault counted at least the %d pages touched (%lld)",
		   PAGES, (long long)cell_int(VM, 0, "pgfault"));
		procfs_read("", "/proc/vmstat", text, sizeof(text));
		is(cell_null(VM, 0, "thp_fault_alloc"), procfs_field(text, "thp_fault_alloc") < 0,
		   "live: thp_fault_alloc NULL exactly when the kernel lacks it");
	}
	scraper__destroy(&s);

	batch__free(&scrape_batch);
	return done_testing();
}
