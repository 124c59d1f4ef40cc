/* /proc/meminfo -> memory_metrics, one row per tick.
 *
 * Values stay in kB as the kernel reports them.  used/cache/shared follow
 * free(1) (procps 4): cache = Cached + SReclaimable, used = total - free -
 * buffers - cache.  A field the kernel does not report is stored as NULL.
 */
#include <errno.h>

#include "../store/batch.h"
#include "procfs.h"
#include "scraper.h"

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
	total = procfs_field(text, "MemTotal");
	free = procfs_field(text, "MemFree");
	if (total < 0 || free < 0)
		return -EINVAL;
	avail = procfs_field(text, "MemAvailable");
	buffers = procfs_field(text, "Buffers");
	cached = procfs_field(text, "Cached");
	srecl = procfs_field(text, "SReclaimable");
	cache = (cached < 0 ? 0 : cached) + (srecl < 0 ? 0 : srecl);
	swap_total = procfs_field(text, "SwapTotal");
	swap_free = procfs_field(text, "SwapFree");

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
	put(b, procfs_field(text, "Shmem"));
	put(b, srecl);
	put(b, procfs_field(text, "Slab"));
	put(b, procfs_field(text, "Active"));
	put(b, procfs_field(text, "Inactive"));
	put(b, procfs_field(text, "AnonPages"));
	put(b, procfs_field(text, "Mapped"));
	put(b, procfs_field(text, "Dirty"));
	put(b, procfs_field(text, "Writeback"));
	put(b, procfs_field(text, "Committed_AS"));
	put(b, procfs_field(text, "CommitLimit"));
	put(b, swap_total);
	put(b, swap_free);
	put(b, swap_total >= 0 && swap_free >= 0 ? swap_total - swap_free : -1);
	put(b, procfs_field(text, "HugePages_Total"));
	put(b, procfs_field(text, "HugePages_Free"));
	batch__end(b);
	return 1;
}

const struct scraper_ops meminfo_scraper = {
	.name = "meminfo",
	.summary = "memory (/proc/meminfo) -> memory_metrics",
	.scrape = meminfo_scrape,
};
