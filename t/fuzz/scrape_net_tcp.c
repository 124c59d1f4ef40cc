/* Fuzz target: the net_tcp scraper (src/scrape/net_tcp.c) on /proc/net/tcp
 * and /proc/net/tcp6, which it parses (instead of asking sock_diag, fuzzed
 * in sock_diag.c) whenever a root prefix is set.
 * Input: the files, cut at NUL bytes, for two ticks (t/lib/fuzz_scrape.h). */
#include "../lib/fuzz_scrape.h"

static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_scrape(SCRAPER_net_tcp, files, sizeof(files) / sizeof(files[0]), data, size);
}
