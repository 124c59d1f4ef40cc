/* /proc/loadavg and /proc/uptime -> load_metrics, one row per tick: what
 * uptime(1) shows, plus the CPU count to read the load against. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "../store/batch.h"
#include "procfs.h"
#include "scraper.h"

/* Counts "cpuN" lines in /proc/stat: online CPUs as the kernel sees them. */
static int count_cpus(const char *root)
{
	char text[65536];
	int n = 0;

	if (procfs_read(root, "/proc/stat", text, sizeof(text)) < 0)
		return -1;
	for (const char *p = text; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (p[0] == 'c' && p[1] == 'p' && p[2] == 'u' && p[3] >= '0' && p[3] <= '9')
			n++;
	}
	return n;
}

static int loadavg_scrape(struct scraper *s, struct batch *b, int64_t now_ns)
{
	char text[256], up[256];
	double l1, l5, l15, uptime = -1, idle = -1;
	long runnable, threads, last_pid;
	ssize_t n = procfs_read(s->root, "/proc/loadavg", text, sizeof(text));
	int cpus;

	if (n < 0)
		return (int)n;
	if (sscanf(text, "%lf %lf %lf %ld/%ld %ld", &l1, &l5, &l15, &runnable, &threads, &last_pid) != 6)
		return -EINVAL;
	if (procfs_read(s->root, "/proc/uptime", up, sizeof(up)) > 0 &&
	    sscanf(up, "%lf %lf", &uptime, &idle) != 2)
		uptime = idle = -1;
	cpus = count_cpus(s->root);

	batch__row(b, T_LOAD_METRICS);
	batch__int(b, now_ns);
	batch__real(b, l1);
	batch__real(b, l5);
	batch__real(b, l15);
	batch__int(b, runnable);
	batch__int(b, threads);
	batch__int(b, last_pid);
	if (uptime >= 0) {
		batch__real(b, uptime);
		batch__real(b, idle);
	} else {
		batch__null(b);
		batch__null(b);
	}
	if (cpus > 0)
		batch__int(b, cpus);
	else
		batch__null(b);
	batch__end(b);
	return 1;
}

const struct scraper_ops loadavg_scraper = {
	.name = "loadavg",
	.summary = "load averages and uptime (/proc/loadavg, /proc/uptime) -> load_metrics",
	.scrape = loadavg_scrape,
};
