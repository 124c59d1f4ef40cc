/* /proc/vmstat -> vmstat_metrics: the memory-management events worth a
 * glance every tick (faults, swapping, paging, reclaim, OOM kills, stalls),
 * counted per interval.
 *
 * /proc/vmstat holds ~200 cumulative counters; one row per tick keeps the
 * eleven that tell whether memory is a problem.  Reclaim is summed over its
 * two main actors (pgscan/pgsteal _kswapd + _direct); allocstall is the sum
 * of the per-zone allocstall_* lines (one "allocstall" line before 4.10).
 * A counter this kernel does not have (thp_fault_alloc without THP) is
 * NULL, and so is one that went backwards.  Counts need two readings, so
 * the first row comes one tick after start.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "counter.h"
#include "procfs.h"
#include "scraper.h"

/* Column order after interval_ms. */
enum {
	V_PGFAULT, V_PGMAJFAULT, V_PSWPIN, V_PSWPOUT, V_PGPGIN, V_PGPGOUT, V_PGSCAN, V_PGSTEAL,
	V_OOM_KILL, V_ALLOCSTALL, V_THP_FAULT_ALLOC, NV
};

/* Each /proc/vmstat line that feeds a column (a column may have several). */
static const struct {
	const char *name;
	int column;
} lines[] = {
	{ "pgfault", V_PGFAULT },
	{ "pgmajfault", V_PGMAJFAULT },
	{ "pswpin", V_PSWPIN },
	{ "pswpout", V_PSWPOUT },
	{ "pgpgin", V_PGPGIN },
	{ "pgpgout", V_PGPGOUT },
	{ "pgscan_kswapd", V_PGSCAN },
	{ "pgscan_direct", V_PGSCAN },
	{ "pgsteal_kswapd", V_PGSTEAL },
	{ "pgsteal_direct", V_PGSTEAL },
	{ "oom_kill", V_OOM_KILL },
	{ "allocstall", V_ALLOCSTALL },
	{ "allocstall_dma", V_ALLOCSTALL },
	{ "allocstall_dma32", V_ALLOCSTALL },
	{ "allocstall_normal", V_ALLOCSTALL },
	{ "allocstall_movable", V_ALLOCSTALL },
	{ "allocstall_device", V_ALLOCSTALL },
	{ "thp_fault_alloc", V_THP_FAULT_ALLOC },
};

struct vmstat_priv {
	struct buf text;
	int64_t prev[NV];        /* -1: not in this kernel */
	int64_t last_ns;
	bool have_prev;
};

/* Sums the lines of interest into v[] (-1 for columns with no line). */
static int parse(const char *text, int64_t v[NV])
{
	for (int i = 0; i < NV; i++)
		v[i] = -1;
	for (const char *line = text; *line; line = procfs_next_line(line)) {
		size_t len = strcspn(line, " ");
		char *end;
		unsigned long long n;

		for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
			if (strlen(lines[k].name) != len || strncmp(line, lines[k].name, len))
				continue;
			n = strtoull(line + len, &end, 10);
			if (end == line + len || (*end && *end != '\n'))
				return -EINVAL;
			/* A counter or sum past int64 is not a reading. */
			if (n > INT64_MAX || __builtin_add_overflow(v[lines[k].column] < 0 ? 0 : v[lines[k].column],
								     (int64_t)n, &v[lines[k].column]))
				return -EINVAL;
			break;
		}
	}
	return v[V_PGFAULT] < 0 ? -EINVAL : 0;
}

static int vmstat_scrape(struct scraper *s, struct batch *b, int64_t now_ns)
{
	struct vmstat_priv *p = s->priv;
	ssize_t n = procfs_read_buf(s->root, "/proc/vmstat", &p->text);
	int64_t v[NV];
	int err, rows = 0;

	if (n < 0)
		return (int)n;
	if ((err = parse(p->text.data, v)) < 0)
		return err;
	if (p->have_prev) {
		batch__row(b, T_VMSTAT_METRICS);
		batch__int(b, now_ns);
		batch__real(b, (double)(s->mono_ns - p->last_ns) / 1e6);
		for (int i = 0; i < NV; i++)
			put_int(b, v[i] < 0 || p->prev[i] < 0 ? -1 : counter_delta((uint64_t)v[i], (uint64_t)p->prev[i]));
		batch__end(b);
		rows = 1;
	}
	memcpy(p->prev, v, sizeof(v));
	p->last_ns = s->mono_ns;
	p->have_prev = true;
	return rows;
}

static void vmstat_destroy(struct scraper *s)
{
	struct vmstat_priv *p = s->priv;

	buf_free(&p->text);
}

const struct scraper_ops vmstat_scraper = {
	.name = "vmstat",
	.summary = "faults, swapping, reclaim, OOM kills per interval (/proc/vmstat) -> vmstat_metrics",
	.priv_size = sizeof(struct vmstat_priv),
	.scrape = vmstat_scrape,
	.destroy = vmstat_destroy,
};
