/* Fuzz target: the net_snmp scraper (src/scrape/net_snmp.c) on /proc/net/snmp.
 * Input: the files, cut at NUL bytes, for two ticks (t/lib/fuzz_scrape.h). */
#include "../lib/fuzz_scrape.h"

static const char *const files[] = { "/proc/net/snmp" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_scrape(SCRAPER_net_snmp, files, sizeof(files) / sizeof(files[0]), data, size);
}
