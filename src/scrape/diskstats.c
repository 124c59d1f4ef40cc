/* /proc/diskstats -> block_stats: per whole block device, the kernel's I/O
 * counters and what iostat(1) derives from them (IOPS, bytes/s, await,
 * utilisation).
 *
 * One read of /proc/diskstats serves every device (the same numbers as
 * /sys/block/<dev>/stat, which would cost an open per device).  Whole devices
 * are the names listed in /sys/block; partitions are left out because their
 * I/O is already counted in their disk.  Without a readable /sys/block (a
 * container without sysfs) every line is kept, partitions included.
 *
 * Devices that have done no I/O since they appeared (the unused loop, ram
 * and zram devices every distribution creates) are left out to keep rows
 * down; a device gets rows from its first I/O on.
 *
 * Rates need two readings: a device's first row, and any row after its
 * counters went backwards or its major:minor changed (the device was
 * re-created), has NULL rates.  The *_ticks, io_ticks and time_in_queue
 * fields are 32-bit in the kernel and wrap after 49.7 days of busy time;
 * their deltas are taken modulo 2^32.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "counter.h"
#include "procfs.h"
#include "scraper.h"

enum {
	D_READ_IOS, D_READ_MERGES, D_READ_SECTORS, D_READ_TICKS,
	D_WRITE_IOS, D_WRITE_MERGES, D_WRITE_SECTORS, D_WRITE_TICKS,
	D_IN_FLIGHT, D_IO_TICKS, D_TIME_IN_QUEUE,
	D_DISCARD_IOS, D_DISCARD_MERGES, D_DISCARD_SECTORS, D_DISCARD_TICKS,
	D_FLUSH_IOS, D_FLUSH_TICKS,
	D_NFIELDS
};

struct disk {
	char name[64];
	unsigned major, minor;
	int nfields;             /* 11, 15 or 17 depending on the kernel */
	uint64_t f[D_NFIELDS];
};

struct diskstats_priv {
	struct buf text;
	struct readings disks;   /* struct disk: last tick's devices and this tick's */
	struct buf whole;        /* NUL-separated names from /sys/block */
	char **names;            /* sorted pointers into whole */
	size_t nnames, names_cap;
};

/* readings_prev() finds a disk by the name it begins with. */
_Static_assert(offsetof(struct disk, name) == 0, "struct disk begins with its name");

static int add_name(const char *name, void *ctx)
{
	struct buf *whole = ctx;

	buf_add(whole, name, strlen(name) + 1);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists /sys/block into p->names; returns false when it cannot be read. */
static bool list_whole_devices(struct scraper *s, struct diskstats_priv *p)
{
	buf_reset(&p->whole);
	p->nnames = 0;
	if (procfs_list(s->root, "/sys/block", add_name, &p->whole) < 0)
		return false;
	for (size_t off = 0; off < p->whole.len; off += strlen(p->whole.data + off) + 1) {
		if (p->nnames == p->names_cap) {
			size_t cap = p->names_cap ? p->names_cap * 2 : 32;
			char **n = realloc(p->names, cap * sizeof(*n));

			if (!n)
				return false;
			p->names = n;
			p->names_cap = cap;
		}
		p->names[p->nnames++] = p->whole.data + off;
	}
	if (p->nnames)       /* qsort and bsearch may not be given NULL, even for 0 */
		qsort(p->names, p->nnames, sizeof(*p->names), cmp_name);
	return true;
}

/* sysfs spells the '/' of names like cciss/c0d0 as '!'. */
static bool is_whole(const struct diskstats_priv *p, const char *name)
{
	char key[64], *k = key;

	if (!p->nnames)
		return false;
	snprintf(key, sizeof(key), "%s", name);
	for (char *c = key; *c; c++)
		if (*c == '/')
			*c = '!';
	return bsearch(&k, p->names, p->nnames, sizeof(*p->names), cmp_name) != NULL;
}

/* "   8       0 sda 1 2 3 ..." -> d; -EINVAL when malformed. */
static int parse_line(const char *line, struct disk *d)
{
	const char *p = line;
	char *end;
	int len;

	memset(d, 0, sizeof(*d));
	if (sscanf(p, "%u %u %63s%n", &d->major, &d->minor, d->name, &len) != 3)
		return -EINVAL;
	p += len;
	while (d->nfields < D_NFIELDS) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			break;
		d->f[d->nfields] = strtoull(p, &end, 10);
		if (end == p)
			return -EINVAL;
		p = end;
		d->nfields++;
	}
	return d->nfields >= 11 ? 0 : -EINVAL;
}

static bool never_used(const struct disk *d)
{
	for (int i = 0; i < d->nfields; i++)
		if (d->f[i])
			return false;
	return true;
}

static int64_t delta32(uint64_t now, uint64_t before)
{
	return (int64_t)((uint32_t)now - (uint32_t)before);
}

/* A delta of 512-byte sectors in bytes; -1 (unknown) when unknown or too
 * big to be one interval's I/O (it would overflow). */
static int64_t sectors_to_bytes(int64_t sectors)
{
	return sectors < 0 || sectors > INT64_MAX / 512 ? -1 : sectors * 512;
}

static void put_disk(struct batch *b, int64_t now_ns, const struct disk *d, const struct disk *prev,
		     int64_t interval_ns)
{
	static const int counters[] = { D_READ_IOS, D_READ_MERGES, D_READ_SECTORS, D_WRITE_IOS,
					D_WRITE_MERGES, D_WRITE_SECTORS, D_DISCARD_IOS,
					D_DISCARD_MERGES, D_DISCARD_SECTORS, D_FLUSH_IOS };
	int64_t dt[D_NFIELDS];
	bool known = prev && prev->major == d->major && prev->minor == d->minor &&
		     prev->nfields == d->nfields;

	for (size_t i = 0; known && i < sizeof(counters) / sizeof(counters[0]); i++)
		if (d->f[counters[i]] < prev->f[counters[i]])
			known = false;
	for (int i = 0; i < D_NFIELDS; i++)
		dt[i] = -1;
	if (known) {
		for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
			dt[counters[i]] = counter_delta(d->f[counters[i]], prev->f[counters[i]]);
		dt[D_READ_TICKS] = delta32(d->f[D_READ_TICKS], prev->f[D_READ_TICKS]);
		dt[D_WRITE_TICKS] = delta32(d->f[D_WRITE_TICKS], prev->f[D_WRITE_TICKS]);
		dt[D_IO_TICKS] = delta32(d->f[D_IO_TICKS], prev->f[D_IO_TICKS]);
	}

	batch__row(b, T_BLOCK_STATS);
	batch__int(b, now_ns);
	batch__text(b, d->name);
	batch__int(b, d->major);
	batch__int(b, d->minor);
	for (int i = 0; i < D_NFIELDS; i++)
		put_int(b, i < d->nfields ? (int64_t)d->f[i] : -1);
	put_rate(b, dt[D_READ_IOS], interval_ns);
	put_rate(b, dt[D_WRITE_IOS], interval_ns);
	put_rate(b, sectors_to_bytes(dt[D_READ_SECTORS]), interval_ns);
	put_rate(b, sectors_to_bytes(dt[D_WRITE_SECTORS]), interval_ns);
	put_ratio(b, dt[D_READ_TICKS], dt[D_READ_IOS], 1.0);
	put_ratio(b, dt[D_WRITE_TICKS], dt[D_WRITE_IOS], 1.0);
	if (dt[D_IO_TICKS] < 0 || interval_ns <= 0) {
		batch__null(b);
	} else {
		double util = (double)dt[D_IO_TICKS] * 1e6 / (double)interval_ns * 100.0;

		batch__real(b, util > 100.0 ? 100.0 : util);
	}
	batch__end(b);
}

static int diskstats_scrape(struct scraper *s, struct batch *b, int64_t now_ns)
{
	struct diskstats_priv *p = s->priv;
	ssize_t n = procfs_read_buf(s->root, "/proc/diskstats", &p->text);
	bool have_sys;
	int rows = 0;

	if (n < 0)
		return (int)n;
	have_sys = list_whole_devices(s, p);
	readings_begin(&p->disks);
	for (const char *line = p->text.data; *line; line = procfs_next_line(line)) {
		struct disk d, *slot;

		if (*line == '\n')
			continue;
		if (parse_line(line, &d) < 0)
			return -EINVAL;
		if (have_sys && !is_whole(p, d.name))
			continue;
		if (!(slot = readings_add(&p->disks, sizeof(d))))
			return -ENOMEM;
		*slot = d;
	}
	for (size_t i = 0; i < p->disks.ncur; i++) {
		const struct disk *d = readings_cur(&p->disks, sizeof(*d), i);

		if (never_used(d))
			continue;
		put_disk(b, now_ns, d, readings_prev(&p->disks, sizeof(*d), d->name, i), s->mono_ns - p->disks.last_ns);
		rows++;
	}
	readings_end(&p->disks, s->mono_ns);
	return rows;
}

static void diskstats_destroy(struct scraper *s)
{
	struct diskstats_priv *p = s->priv;

	buf_free(&p->text);
	buf_free(&p->whole);
	readings_free(&p->disks);
	free(p->names);
}

const struct scraper_ops diskstats_scraper = {
	.name = "diskstats",
	.summary = "block devices (/proc/diskstats, /sys/block) -> block_stats",
	.priv_size = sizeof(struct diskstats_priv),
	.scrape = diskstats_scrape,
	.destroy = diskstats_destroy,
};
