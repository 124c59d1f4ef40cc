/* Fuzz target: the net_dev scraper (src/scrape/net_dev.c) on /proc/net/dev.
 * Input: the files, cut at NUL bytes, for two ticks (t/lib/fuzz_scrape.h). */
#include "../lib/fuzz_scrape.h"

static const char *const files[] = { "/proc/net/dev" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_scrape(SCRAPER_net_dev, files, sizeof(files) / sizeof(files[0]), data, size);
}
