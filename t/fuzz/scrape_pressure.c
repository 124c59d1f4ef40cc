/* Fuzz target: the pressure scraper (src/scrape/pressure.c) on /proc/pressure/{cpu,memory,io,irq}.
 * Input: the files, cut at NUL bytes, for two ticks (t/lib/fuzz_scrape.h). */
#include "../lib/fuzz_scrape.h"

static const char *const files[] = { "/proc/pressure/cpu", "/proc/pressure/memory", "/proc/pressure/io", "/proc/pressure/irq" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_scrape(SCRAPER_pressure, files, sizeof(files) / sizeof(files[0]), data, size);
}
