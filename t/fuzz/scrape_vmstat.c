/* Fuzz target: the vmstat scraper (src/scrape/vmstat.c) on /proc/vmstat.
 * Input: the files, cut at NUL bytes, for two ticks (t/lib/fuzz_scrape.h). */
#include "../lib/fuzz_scrape.h"

static const char *const files[] = { "/proc/vmstat" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_scrape(SCRAPER_vmstat, files, sizeof(files) / sizeof(files[0]), data, size);
}
