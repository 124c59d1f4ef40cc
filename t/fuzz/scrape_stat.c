/* Fuzz target: the stat scraper (src/scrape/stat.c) on /proc/stat.
 * Input: the files, cut at NUL bytes, for two ticks (t/lib/fuzz_scrape.h). */
#include "../lib/fuzz_scrape.h"

static const char *const files[] = { "/proc/stat" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_scrape(SCRAPER_stat, files, sizeof(files) / sizeof(files[0]), data, size);
}
