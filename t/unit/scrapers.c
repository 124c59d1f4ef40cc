/* Scrapers on fixtures (exact values) and on the live system (cross-checked
 * against the file they read). */
#include "../src/scrape/procfs.h"
#include "../src/scrape/scraper.h"
#include "../../src/store/batch.h"
#include "../lib/tap.h"

static struct batch b;

static int64_t col_int(enum table_id t, const char *name)
{
	struct batch_value v;

	if (!batch__value(&b, t, b.tables[t].rows - 1, name, &v))
		return -999;
	return v.tag == V_INT ? v.i : v.tag == V_NULL ? -1 : -998;
}

static double col_real(enum table_id t, const char *name)
{
	struct batch_value v;

	if (!batch__value(&b, t, b.tables[t].rows - 1, name, &v) || v.tag != V_REAL)
		return -999;
	return v.r;
}

static int scrape(enum scraper_id id, const char *root)
{
	struct scraper s;

	scraper__open(&s, id, root);
	scraper__run(&s, &b, 42);
	scraper__destroy(&s);
	return (int)s.rows - (int)s.errors;
}

int main(void)
{
	const char *fixture = tap_src("t/fixtures/basic");
	const char *broken = tap_src("t/fixtures/broken");
	char text[8192];

	plan(23);
	batch__init(&b);

	/* meminfo on the fixture */
	is(scrape(SCRAPER_meminfo, fixture), 1, "meminfo: one row from the fixture");
	is(col_int(T_MEMORY_METRICS, "timestamp"), 42, "timestamp is the tick time");
	is(col_int(T_MEMORY_METRICS, "total_kb"), 16384000, "total_kb");
	is(col_int(T_MEMORY_METRICS, "available_kb"), 12000000, "available_kb");
	is(col_int(T_MEMORY_METRICS, "cache_kb"), 6000000 + 400000, "cache = Cached + SReclaimable (free(1))");
	is(col_int(T_MEMORY_METRICS, "used_kb"), 16384000 - 4096000 - 200000 - 6400000,
	   "used = total - free - buffers - cache (free(1))");
	is(col_int(T_MEMORY_METRICS, "shared_kb"), 300000, "shared = Shmem");
	is(col_int(T_MEMORY_METRICS, "swap_used_kb"), 2097148 - 1048574, "swap used");
	is(col_int(T_MEMORY_METRICS, "hugepages_free"), 3, "hugepages_free");

	/* loadavg on the fixture */
	is(scrape(SCRAPER_loadavg, fixture), 1, "loadavg: one row from the fixture");
	ok(col_real(T_LOAD_METRICS, "load1") == 0.52 && col_real(T_LOAD_METRICS, "load15") == 2.5, "load averages");
	is(col_int(T_LOAD_METRICS, "runnable"), 3, "runnable entities");
	is(col_int(T_LOAD_METRICS, "threads"), 812, "threads");
	is(col_int(T_LOAD_METRICS, "last_pid"), 45678, "last pid");
	ok(col_real(T_LOAD_METRICS, "uptime_s") == 12345.67, "uptime from /proc/uptime");
	is(col_int(T_LOAD_METRICS, "cpus"), 4, "cpus counted from /proc/stat");

	/* malformed and missing sources are errors, not rows */
	is(scrape(SCRAPER_loadavg, broken), -1, "a malformed /proc/loadavg is an error");
	is(scrape(SCRAPER_meminfo, broken), -1, "a meminfo without MemTotal is an error");
	is(scrape(SCRAPER_meminfo, "/nonexistent"), -1, "a missing file is an error");

	/* live system, cross-checked with the file itself */
	is(scrape(SCRAPER_meminfo, ""), 1, "live meminfo scraped");
	procfs_read("", "/proc/meminfo", text, sizeof(text));
	is(col_int(T_MEMORY_METRICS, "total_kb"), procfs_field(text, "MemTotal"), "live MemTotal matches /proc/meminfo");
	is(scrape(SCRAPER_loadavg, ""), 1, "live loadavg scraped");

	/* every_ticks: a row on the first call and then one call in three */
	{
		struct scraper s;
		int rows[7];

		scraper__open(&s, SCRAPER_loadavg, fixture);
		s.every_ticks = 3;
		for (int i = 0; i < 7; i++) {
			uint64_t before = s.rows;

			scraper__run(&s, &b, 42 + i);
			rows[i] = (int)(s.rows - before);
		}
		scraper__destroy(&s);
		ok(rows[0] == 1 && rows[1] == 0 && rows[2] == 0 && rows[3] == 1 && rows[4] == 0 && rows[5] == 0 &&
		   rows[6] == 1, "every_ticks 3: rows on calls 1, 4 and 7 only (%d%d%d%d%d%d%d)",
		   rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], rows[6]);
	}

	batch__free(&b);
	return done_testing();
}
