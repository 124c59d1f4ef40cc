/* The /proc/diskstats scraper (block_stats): whole devices only, idle
 * devices skipped, exact rates over two fixture readings, resets and
 * 32-bit tick wraps, errors on bad input, and a live run cross-checked
 * against /sys/block/<dev>/stat and dev. */
#include <dirent.h>

#include "../lib/scrape.h"

#define T1 (1000 * NS)
#define T2 (T1 + 2 * NS)
#define T3 (T2 + 1 * NS)
#define BLK T_BLOCK_STATS

/* /sys/block/<dev>/stat field i (0 = reads completed), or -1. */
static int64_t sys_stat(const char *dev, int field)
{
	char path[128], text[512];
	const char *p = text;
	char *end;
	int64_t v = -1;

	snprintf(path, sizeof(path), "/sys/block/%s/stat", dev);
	if (procfs_read("", path, text, sizeof(text)) < 0)
		return -1;
	for (int i = 0; i <= field; i++) {
		v = strtoll(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
	}
	return v;
}

static bool sys_used(const char *dev)
{
	for (int i = 0; i < 11; i++)
		if (sys_stat(dev, i) > 0)
			return true;
	return false;
}

int main(void)
{
	struct scraper s;
	int row;

	plan(41);

	scrape_open(&s, SCRAPER_diskstats);
	is(scrape_tick(&s, tap_src("t/fixtures/tick1"), T1), 2, "first reading: sda and vda (loop0 never used, vda1 a partition)");
	ok(scrape_row(BLK, "device_name", "loop0") < 0, "an unused loop device has no row");
	ok(scrape_row(BLK, "device_name", "vda1") < 0, "a partition has no row");
	row = scrape_row(BLK, "device_name", "vda");
	is(cell_int(BLK, row, "major"), 254, "vda major");
	is(cell_int(BLK, row, "minor"), 0, "vda minor");
	is(cell_int(BLK, row, "read_sectors"), 80000, "read_sectors counter");
	is(cell_int(BLK, row, "flush_ios"), 100, "flush_ios counter (17-field kernel)");
	ok(cell_null(BLK, row, "read_iops") && cell_null(BLK, row, "util_pct"), "first reading: rates are NULL");
	row = scrape_row(BLK, "device_name", "sda");
	is(cell_int(BLK, row, "time_in_queue"), 100, "sda time_in_queue (11-field kernel)");
	ok(cell_null(BLK, row, "discard_ios") && cell_null(BLK, row, "flush_ticks"),
	   "fields an old kernel does not print are NULL");

	is(scrape_tick(&s, tap_src("t/fixtures/tick2"), T2), 3, "second reading: loop1 started doing I/O");
	row = scrape_row(BLK, "device_name", "vda");
	is(cell_int(BLK, row, "timestamp"), T2, "timestamp is the tick time");
	is_real(BLK, row, "read_iops", 100.0, "200 reads in 2 s");
	is_real(BLK, row, "write_iops", 50.0, "100 writes in 2 s");
	is_real(BLK, row, "read_bytes_per_sec", 40000.0 * 512 / 2, "40000 sectors read in 2 s");
	is_real(BLK, row, "write_bytes_per_sec", 8000.0 * 512 / 2, "8000 sectors written in 2 s");
	is_real(BLK, row, "read_await_ms", 5.0, "1000 ms over 200 reads");
	is_real(BLK, row, "write_await_ms", 3.0, "300 ms over 100 writes");
	is_real(BLK, row, "util_pct", 50.0, "1000 ms busy in 2000 ms");
	is(cell_int(BLK, row, "in_flight"), 2, "in_flight is a gauge");
	row = scrape_row(BLK, "device_name", "sda");
	is_real(BLK, row, "read_await_ms", 124.0, "read_ticks wrapped at 2^32: 496 ms over 4 reads");
	is_real(BLK, row, "util_pct", 100.0, "utilisation is capped at 100%%");
	ok(cell_null(BLK, row, "write_await_ms"), "await is NULL with no writes completed");
	is_real(BLK, row, "read_bytes_per_sec", 32.0 * 512 / 2, "sda read bytes/s");
	row = scrape_row(BLK, "device_name", "loop1");
	ok(row >= 0 && cell_null(BLK, row, "read_iops"), "a new device: counters, NULL rates");
	is(cell_int(BLK, row, "read_ios"), 5, "its counters are stored");

	is(scrape_tick(&s, tap_src("t/fixtures/tick3"), T3), 2, "third reading: loop1 removed");
	row = scrape_row(BLK, "device_name", "vda");
	ok(cell_null(BLK, row, "read_iops") && cell_null(BLK, row, "util_pct") && cell_null(BLK, row, "write_await_ms"),
	   "counters went backwards (device re-created): NULL rates, never negative");
	row = scrape_row(BLK, "device_name", "sda");
	is(cell_int(BLK, row, "minor"), 16, "sda is now 8:16");
	ok(cell_null(BLK, row, "read_iops"), "a new major:minor under the same name is a new device: NULL rates");
	scraper__destroy(&s);

	scrape_open(&s, SCRAPER_diskstats);
	is(scrape_tick(&s, tap_src("t/fixtures/nosys"), T1), 3, "without /sys/block every used device is kept");
	ok(scrape_row(BLK, "device_name", "vda1") >= 0, "partitions included then");
	is(scrape_tick(&s, tap_src("t/fixtures/malformed"), T1), -1, "a short diskstats line is an error");
	is(scrape_rows(BLK), 0, "and adds no rows");
	is(scrape_tick(&s, "/nonexistent", T1), -1, "a missing /proc/diskstats is an error");
	scraper__destroy(&s);

	/* live, against /sys/block */
	scrape_open(&s, SCRAPER_diskstats);
	{
		char names[64][64];
		int64_t before[64];
		int n = scrape_tick(&s, "", T1), expected = 0, dev_ok = 0, counters_ok = 0;
		DIR *d = opendir("/sys/block");
		struct dirent *de;
		int nnames = 0;

		ok(n >= 0, "live: scraped (%d devices)", n);
		while (d && (de = readdir(d)) && nnames < 64)
			if (de->d_name[0] != '.')
				snprintf(names[nnames++], sizeof(names[0]), "%.63s", de->d_name);
		if (d)
			closedir(d);
		for (int i = 0; i < nnames; i++)
			before[i] = sys_stat(names[i], 0);
		n = scrape_tick(&s, "", T2);
		for (int i = 0; i < nnames; i++) {
			int r = scrape_row(BLK, "device_name", names[i]);
			char path[128], text[64];
			unsigned major, minor;
			int64_t after = sys_stat(names[i], 0), got = cell_int(BLK, r, "read_ios");

			if (sys_used(names[i]))
				expected++;
			if (r < 0)
				continue;
			snprintf(path, sizeof(path), "/sys/block/%s/dev", names[i]);
			if (procfs_read("", path, text, sizeof(text)) > 0 && sscanf(text, "%u:%u", &major, &minor) == 2 &&
			    cell_int(BLK, r, "major") == major && cell_int(BLK, r, "minor") == minor)
				dev_ok++;
			if (before[i] <= got && got <= after)
				counters_ok++;
			else
				diag("%s: read_ios %lld not within [%lld, %lld]", names[i], (long long)got,
				     (long long)before[i], (long long)after);
		}
		is(n, expected, "live: one row per /sys/block device that has done I/O (%d)", expected);
		ok(n > 0, "live: this machine has at least one used disk");
		is(dev_ok, n, "live: every row's major:minor matches /sys/block/<dev>/dev");
		is(counters_ok, n, "live: every row's read_ios lies between /sys/block/<dev>/stat read before and after");
		ok(n == 0 || !cell_null(BLK, 0, "read_iops"), "live: second reading has rates");
	}
	scraper__destroy(&s);

	batch__free(&scrape_batch);
	return done_testing();
}
