/* Fuzz target: the diskstats scraper (src/scrape/diskstats.c)
 * on /proc/diskstats and the names in /sys/block.
 * Input: the files, cut at NUL bytes, for two ticks (t/lib/fuzz_scrape.h). */
#include "../lib/fuzz_scrape.h"

static const char *const files[] = { "/proc/diskstats", "/sys/block/" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_scrape(SCRAPER_diskstats, files, sizeof(files) / sizeof(files[0]), data, size);
}
