/* /proc/stat -> cpu_metrics: where CPU time went in each interval, for every
 * CPU and in total, as top(1) and mpstat(1) show it.
 *
 * The kernel exports cumulative USER_HZ ticks per CPU; a percentage is a
 * field's delta over the sum of the eight fields' deltas (guest and
 * guest_nice are already counted in user and nice, so they are not added
 * again).  Rates and percentages need two readings, so the first rows come
 * one tick after start, and a CPU that comes online gets its first row one
 * tick later.  A field that went backwards counts as 0: the kernel documents
 * that per-CPU iowait can decrease, and top(1) does the same.  So does one
 * that jumped by more than INT64_MAX / 8 ticks (not a reading).
 *
 * ctxt/s, forks/s and procs_running/blocked are system-wide and filled on
 * the 'cpu' row only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "counter.h"
#include "procfs.h"
#include "scraper.h"

enum { F_USER, F_NICE, F_SYSTEM, F_IDLE, F_IOWAIT, F_IRQ, F_SOFTIRQ, F_STEAL, NFIELDS };

struct cpu_times {
	uint64_t ticks[NFIELDS];
	uint64_t seen;           /* tick number of this reading, 0 = never */
};

struct cpu_line {
	int slot;                /* 0 = "cpu", N + 1 = "cpuN" */
	uint64_t ticks[NFIELDS];
};

struct stat_priv {
	struct buf text;
	struct cpu_times *slots; /* previous reading per slot */
	size_t nslots;
	struct cpu_line *lines;  /* this reading */
	size_t nlines, lines_cap;
	uint64_t tick;
	int64_t last_ns;
	int64_t ctxt, forks;     /* previous reading (valid with slots[0]) */
};

/* "cpuN a b c ..." -> line; -EINVAL when malformed. */
static int parse_cpu(const char *p, struct cpu_line *line)
{
	char *end;

	p += 3;
	if (*p == ' ') {
		line->slot = 0;
	} else {
		unsigned long n = strtoul(p, &end, 10);

		if (end == p || *end != ' ' || n > 1u << 20)
			return -EINVAL;
		line->slot = (int)n + 1;
		p = end;
	}
	for (int f = 0; f < NFIELDS; f++) {
		while (*p == ' ')
			p++;
		line->ticks[f] = strtoull(p, &end, 10);
		if (end == p)
			return -EINVAL;
		p = end;
	}
	return 0;
}

static int grow_slots(struct stat_priv *p, size_t want)
{
	struct cpu_times *n;

	if (want <= p->nslots)
		return 0;
	n = realloc(p->slots, want * sizeof(*n));
	if (!n)
		return -ENOMEM;
	memset(n + p->nslots, 0, (want - p->nslots) * sizeof(*n));
	p->slots = n;
	p->nslots = want;
	return 0;
}

/* Parses the cpu lines into p->lines and makes room for their slots. */
static int read_lines(struct stat_priv *p)
{
	int max_slot = 0;

	p->nlines = 0;
	for (const char *line = p->text.data; *line; line = procfs_next_line(line)) {
		if (strncmp(line, "cpu", 3))
			continue;
		if (p->nlines == p->lines_cap) {
			size_t cap = p->lines_cap ? p->lines_cap * 2 : 16;
			struct cpu_line *n = realloc(p->lines, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			p->lines = n;
			p->lines_cap = cap;
		}
		if (parse_cpu(line, &p->lines[p->nlines]) < 0)
			return -EINVAL;
		if (p->lines[p->nlines].slot > max_slot)
			max_slot = p->lines[p->nlines].slot;
		p->nlines++;
	}
	if (p->nlines == 0 || p->lines[0].slot != 0)
		return -EINVAL;  /* the total line comes first */
	return grow_slots(p, (size_t)max_slot + 1);
}

static void put_row(struct batch *b, int64_t now_ns, const struct cpu_line *line,
		    const struct cpu_times *prev)
{
	int64_t delta[NFIELDS], total = 0;
	char label[24];

	for (int f = 0; f < NFIELDS; f++) {
		delta[f] = counter_delta(line->ticks[f], prev->ticks[f]);
		/* Backwards, or a jump no interval can hold (the sum of the
		 * fields would overflow): counts as 0. */
		if (delta[f] < 0 || delta[f] > INT64_MAX / NFIELDS)
			delta[f] = 0;
		total += delta[f];
	}
	if (line->slot)
		snprintf(label, sizeof(label), "cpu%d", line->slot - 1);
	else
		snprintf(label, sizeof(label), "cpu");
	batch__row(b, T_CPU_METRICS);
	batch__int(b, now_ns);
	batch__text(b, label);
	for (int f = 0; f < NFIELDS; f++)
		put_ratio(b, delta[f], total, 100.0);
}

static int stat_scrape(struct scraper *s, struct batch *b, int64_t now_ns)
{
	struct stat_priv *p = s->priv;
	ssize_t n = procfs_read_buf(s->root, "/proc/stat", &p->text);
	int64_t ctxt, forks, running, blocked, interval_ns;
	int rows = 0, err;

	if (n < 0)
		return (int)n;
	if ((err = read_lines(p)) < 0)
		return err;
	ctxt = procfs_field(p->text.data, "ctxt");
	forks = procfs_field(p->text.data, "processes");
	if (ctxt < 0 || forks < 0)
		return -EINVAL;
	running = procfs_field(p->text.data, "procs_running");
	blocked = procfs_field(p->text.data, "procs_blocked");

	interval_ns = s->mono_ns - p->last_ns;
	p->tick++;
	for (size_t i = 0; i < p->nlines; i++) {
		const struct cpu_line *line = &p->lines[i];
		struct cpu_times *prev = &p->slots[line->slot];

		if (prev->seen && prev->seen == p->tick - 1) {
			put_row(b, now_ns, line, prev);
			if (line->slot == 0) {
				put_rate(b, counter_delta((uint64_t)ctxt, (uint64_t)p->ctxt), interval_ns);
				put_rate(b, counter_delta((uint64_t)forks, (uint64_t)p->forks), interval_ns);
				put_int(b, running);
				put_int(b, blocked);
			} else {
				for (int c = 0; c < 4; c++)
					batch__null(b);
			}
			batch__end(b);
			rows++;
		}
		memcpy(prev->ticks, line->ticks, sizeof(prev->ticks));
		prev->seen = p->tick;
	}
	p->ctxt = ctxt;
	p->forks = forks;
	p->last_ns = s->mono_ns;
	return rows;
}

static void stat_destroy(struct scraper *s)
{
	struct stat_priv *p = s->priv;

	buf_free(&p->text);
	free(p->slots);
	free(p->lines);
}

const struct scraper_ops stat_scraper = {
	.name = "stat",
	.summary = "CPU time per CPU, context switches, forks (/proc/stat) -> cpu_metrics",
	.priv_size = sizeof(struct stat_priv),
	.scrape = stat_scrape,
	.destroy = stat_destroy,
};
