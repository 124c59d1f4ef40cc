/* Fuzz target: the loadavg scraper (src/scrape/loadavg.c)
 * on /proc/loadavg, /proc/uptime and the cpu lines of /proc/stat.
 * Input: the files, cut at NUL bytes, for two ticks (t/lib/fuzz_scrape.h). */
#include "../lib/fuzz_scrape.h"

static const char *const files[] = { "/proc/loadavg", "/proc/uptime", "/proc/stat" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_scrape(SCRAPER_loadavg, files, sizeof(files) / sizeof(files[0]), data, size);
}
