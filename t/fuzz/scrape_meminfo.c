/* Fuzz target: the meminfo scraper (src/scrape/meminfo.c) on /proc/meminfo.
 * Input: the files, cut at NUL bytes, for two ticks (t/lib/fuzz_scrape.h). */
#include "../lib/fuzz_scrape.h"

static const char *const files[] = { "/proc/meminfo" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_scrape(SCRAPER_meminfo, files, sizeof(files) / sizeof(files[0]), data, size);
}
