/* /proc/pressure/{cpu,memory,io,irq} -> pressure_metrics: pressure stall
 * information (PSI), one row per resource per tick.
 *
 * Each file has a "some" line (at least one task stalled on the resource)
 * and a "full" line (all non-idle tasks stalled at once); cpu has no "full"
 * line before Linux 5.13 and irq (CONFIG_IRQ_TIME_ACCOUNTING) has only
 * "full".  A line the kernel does not print is stored as NULL, and irq is
 * skipped where the file does not exist.  Besides the kernel's running
 * averages, the share of this very interval spent stalled is derived from
 * the total counters (NULL on the first tick and after a reset).
 *
 * Without /proc/pressure (kernel built without CONFIG_PSI, or booted with
 * psi=0) the scraper is disabled at start with that reason.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "counter.h"
#include "procfs.h"
#include "scraper.h"

static const char *const resources[] = { "cpu", "memory", "io", "irq" };
enum { NRES = sizeof(resources) / sizeof(resources[0]) };

struct psi_line {
	bool present;
	double avg10, avg60, avg300;
	uint64_t total_us;
};

struct psi {
	bool present;            /* the file exists */
	struct psi_line some, full;
};

struct pressure_priv {
	struct psi prev[NRES];
	int64_t last_ns;
	bool have_prev;
};

/* Parses one "some|full avg10=.. avg60=.. avg300=.. total=.." line. */
static int parse_line(const char *line, struct psi *r)
{
	struct psi_line l = { .present = true };
	char kind[8];

	if (sscanf(line, "%7s avg10=%lf avg60=%lf avg300=%lf total=%" SCNu64, kind, &l.avg10, &l.avg60,
		   &l.avg300, &l.total_us) != 5)
		return -EINVAL;
	if (!strcmp(kind, "some"))
		r->some = l;
	else if (!strcmp(kind, "full"))
		r->full = l;
	else
		return -EINVAL;
	return 0;
}

/* Reads /proc/pressure/<name> into r; a missing file leaves r absent. */
static int read_resource(const char *root, const char *name, struct psi *r)
{
	char path[64], text[512];
	ssize_t n;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "/proc/pressure/%s", name);
	if ((n = procfs_read(root, path, text, sizeof(text))) == -ENOENT)
		return 0;
	if (n < 0)
		return (int)n;
	r->present = true;
	for (const char *line = text; *line; line = procfs_next_line(line))
		if (parse_line(line, r) < 0)
			return -EINVAL;
	return r->some.present || r->full.present ? 0 : -EINVAL;
}

static void put_avgs(struct batch *b, const struct psi_line *l)
{
	if (l->present) {
		batch__real(b, l->avg10);
		batch__real(b, l->avg60);
		batch__real(b, l->avg300);
		batch__int(b, (int64_t)l->total_us);
	} else {
		for (int i = 0; i < 4; i++)
			batch__null(b);
	}
}

static void put_stall(struct batch *b, const struct psi_line *now, const struct psi_line *prev,
		      int64_t interval_ns)
{
	int64_t delta = now->present && prev && prev->present ? counter_delta(now->total_us, prev->total_us) : -1;

	if (delta < 0 || interval_ns <= 0) {
		batch__null(b);
	} else {
		double pct = (double)delta * 1e3 / (double)interval_ns * 100.0;

		batch__real(b, pct > 100.0 ? 100.0 : pct);
	}
}

static int pressure_scrape(struct scraper *s, struct batch *b, int64_t now_ns)
{
	struct pressure_priv *p = s->priv;
	struct psi cur[NRES];
	int rows = 0, err;

	for (int i = 0; i < NRES; i++)
		if ((err = read_resource(s->root, resources[i], &cur[i])) < 0)
			return err;
	if (!cur[0].present)
		return -ENOENT;  /* /proc/pressure vanished: not a state to hide */
	for (int i = 0; i < NRES; i++) {
		const struct psi *prev = p->have_prev && p->prev[i].present ? &p->prev[i] : NULL;

		if (!cur[i].present)
			continue;
		batch__row(b, T_PRESSURE_METRICS);
		batch__int(b, now_ns);
		batch__text(b, resources[i]);
		put_avgs(b, &cur[i].some);
		put_avgs(b, &cur[i].full);
		put_stall(b, &cur[i].some, prev ? &prev->some : NULL, s->mono_ns - p->last_ns);
		put_stall(b, &cur[i].full, prev ? &prev->full : NULL, s->mono_ns - p->last_ns);
		batch__end(b);
		rows++;
	}
	memcpy(p->prev, cur, sizeof(cur));
	p->last_ns = s->mono_ns;
	p->have_prev = true;
	return rows;
}

static int pressure_probe(struct scraper *s)
{
	char text[512];
	ssize_t n = procfs_read(s->root, "/proc/pressure/cpu", text, sizeof(text));

	if (n == -ENOENT)
		snprintf(s->reason, sizeof(s->reason),
			 "no /proc/pressure (kernel built without CONFIG_PSI, or booted with psi=0)");
	else if (n < 0)
		snprintf(s->reason, sizeof(s->reason), "cannot read /proc/pressure/cpu: %s", strerror((int)-n));
	return n < 0 ? (int)n : 0;
}

const struct scraper_ops pressure_scraper = {
	.name = "pressure",
	.summary = "pressure stall information (/proc/pressure/*) -> pressure_metrics",
	.priv_size = sizeof(struct pressure_priv),
	.scrape = pressure_scrape,
	.probe = pressure_probe,
};
