/* /proc/meminfo -> memory_metrics, one row per tick.
 *
 * Values stay in kB as the kernel reports them.  used/cache/shared follow
 * free(1) (procps 4): cache = Cached + SReclaimable, used = total - free -
 * buffers - cache.  A field the kernel does not report is stored as NULL,
 * and so is one over KB_MAX, which no machine has: sums and differences of
 * fields then stay far from overflowing.
 */
#include <errno.h>

#include "../store/batch.h"
#include "procfs.h"
#include "scraper.h"

#define KB_MAX (1LL << 50)   /* 1 EiB */

/* The field's value in kB, or -1 when absent, negative or over KB_MAX. */
static int64_t kb(const char *text, const char *key)
{
	int64_t v = procfs_field(text, key);

	return v > KB_MAX ? -1 : v;
}

static void put(struct batch *b, int64_t v)
{
	if (v < 0)
		batch__null(b);
	else
		batch__int(b, v);
}

static int meminfo_scrape(struct scraper *s, struct batch *b, int64_t now_ns)
{
	char text[8192];
	ssize_t n = procfs_read(s->root, "/proc/meminfo", text, sizeof(text));
	int64_t total, free, avail, buffers, cached, srecl, cache, swap_total, swap_free;

	if (n < 0)
		return (int)n;
	total = kb(text, "MemTotal");
	free = kb(text, "MemFree");
	if (total < 0 || free < 0)
		return -EINVAL;
	avail = kb(text, "MemAvailable");
	buffers = kb(text, "Buffers");
	cached = kb(text, "Cached");
	srecl = kb(text, "SReclaimable");
	cache = (cached < 0 ? 0 : cached) + (srecl < 0 ? 0 : srecl);
	swap_total = kb(text, "SwapTotal");
	swap_free = kb(text, "SwapFree");

	batch__row(b, T_MEMORY_METRICS);
	batch__int(b, now_ns);
	batch__int(b, total);
	batch__int(b, free);
	put(b, avail);
	{
		int64_t used = total - free - (buffers < 0 ? 0 : buffers) - cache;

		batch__int(b, used < 0 ? total - free : used);
	}
	put(b, buffers);
	put(b, cached);
	batch__int(b, cache);
	put(b, kb(text, "Shmem"));
	put(b, srecl);
	put(b, kb(text, "Slab"));
	put(b, kb(text, "Active"));
	put(b, kb(text, "Inactive"));
	put(b, kb(text, "AnonPages"));
	put(b, kb(text, "Mapped"));
	put(b, kb(text, "Dirty"));
	put(b, kb(text, "Writeback"));
	put(b, kb(text, "Committed_AS"));
	put(b, kb(text, "CommitLimit"));
	put(b, swap_total);
	put(b, swap_free);
	put(b, swap_total >= 0 && swap_free >= 0 ? swap_total - swap_free : -1);
	put(b, kb(text, "HugePages_Total"));
	put(b, kb(text, "HugePages_Free"));
	batch__end(b);
	return 1;
}

const struct scraper_ops meminfo_scraper = {
	.name = "meminfo",
	.summary = "memory (/proc/meminfo) -> memory_metrics",
	.scrape = meminfo_scrape,
};
