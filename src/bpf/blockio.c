/* Block I/O tracer, user side: per disk and interval -> io_latency_stats
 * (count, bytes and p50/p95/p99/max latency for read, write, flush and
 * discard), the seed system's wide layout so `read_p95_us` and
 * `write_p95_us` keep working.  Devices are named from /sys/dev/block. */
#include "blockio.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../lib/prom.h"
#include "../lib/u64map.h"
#include "../scrape/procfs.h"
#include "../store/batch.h"
#include "blockio.skel.h"
#include "tracer.h"

/* Cumulative sums over CPUs for one (disk, op). */
struct io_sum {
	uint64_t count, bytes, sum_ns;
	uint64_t buckets[HIST_BUCKETS];
};

/* The interval's figures for one op of one disk. */
struct io_delta {
	uint64_t count, bytes, max_ns;
	uint64_t buckets[HIST_BUCKETS];
};

#define DEVICES_PER_TICK BLOCKIO_DEVICES_MAX   /* every disk the kernel map can hold */

struct blockio_priv {
	struct blockio_bpf *skel;
	struct io_delta (*delta)[BLOCKIO_OPS];   /* [DEVICES_PER_TICK] */
	int ncpus;
	int64_t last_tick_ns;
	const char *root;
	struct u64map prev;          /* dev << 3 | op -> struct io_sum * */
	struct u64map names;         /* dev -> char * */
	struct blockio_stats *values;   /* ncpus */
};

static const char *const hooks[] = { "block_rq_issue", "block_rq_complete", NULL };

static const char *device_name(struct blockio_priv *p, uint32_t dev)
{
	char *name = u64map_get(&p->names, dev), path[96], text[512], *line;

	if (name)
		return name;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", dev >> 20, dev & 0xfffff);
	if (procfs_read(p->root, path, text, sizeof(text)) > 0 && (line = strstr(text, "DEVNAME="))) {
		line += 8;
		line[strcspn(line, "\n")] = '\0';
		name = strdup(line);
	} else {
		snprintf(text, sizeof(text), "%u:%u", dev >> 20, dev & 0xfffff);
		name = strdup(text);
	}
	u64map_put(&p->names, dev, name);
	return name;
}

static void put_op(struct batch *b, const struct io_delta *d)
{
	batch__int(b, (int64_t)d->count);
	batch__int(b, (int64_t)d->bytes);
	if (!d->count) {
		for (int i = 0; i < 5; i++)
			batch__null(b);
		return;
	}
	double pct[3];

	hist_percentiles(d->buckets, d->count, d->max_ns, pct);
	for (int q = 0; q < 3; q++)
		batch__real(b, pct[q] / 1e3);
	batch__real(b, (double)d->max_ns / 1e3);
	batch__hist(b, d->buckets);     /* rollups merge these (store/rollup.h) */
}

static int blockio_collect(struct tracer *t, struct batch *b, int64_t now_ns)
{
	struct blockio_priv *p = t->priv;
	int fd = bpf_map__fd(p->skel->maps.stats);
	uint64_t epoch = p->skel->bss->max_epoch;
	struct io_delta (*delta)[BLOCKIO_OPS] = p->delta;
	uint32_t devs[DEVICES_PER_TICK];
	size_t ndevs = 0;
	struct blockio_key key, next, *prevkey = NULL;
	int64_t interval = p->last_tick_ns ? t->mono_ns - p->last_tick_ns : 0;

	p->skel->bss->max_epoch = epoch + 1;
	p->last_tick_ns = t->mono_ns;
	while (bpf_map_get_next_key(fd, prevkey, &next) == 0) {
		struct io_sum cur = { 0 }, *prev;
		uint64_t id = (uint64_t)next.dev << 3 | next.op, max = 0;
		size_t d;

		key = next;
		prevkey = &key;
		if (key.op >= BLOCKIO_OPS || bpf_map_lookup_elem(fd, &key, p->values))
			continue;
		for (int c = 0; c < p->ncpus; c++) {
			const struct blockio_stats *v = &p->values[c];

			cur.count += v->count;
			cur.bytes += v->bytes;
			cur.sum_ns += v->sum_ns;
			for (int k = 0; k < HIST_BUCKETS; k++)
				cur.buckets[k] += v->buckets[k];
			if (v->max_epoch == epoch && v->max_ns > max)
				max = v->max_ns;
		}
		prev = u64map_get(&p->prev, id);
		if (!prev) {
			if (!(prev = calloc(1, sizeof(*prev))))
				return -ENOMEM;
			u64map_put(&p->prev, id, prev);
		}
		if (cur.count == prev->count)
			continue;
		for (d = 0; d < ndevs && devs[d] != key.dev; d++)
			;
		if (d == ndevs) {
			if (ndevs == DEVICES_PER_TICK)
				continue;     /* counted next tick */
			memset(delta[ndevs], 0, sizeof(delta[ndevs]));
			devs[ndevs++] = key.dev;
		}
		delta[d][key.op].count = cur.count - prev->count;
		delta[d][key.op].bytes = cur.bytes - prev->bytes;
		delta[d][key.op].max_ns = max;
		for (int k = 0; k < HIST_BUCKETS; k++)
			delta[d][key.op].buckets[k] = cur.buckets[k] - prev->buckets[k];
		t->events += cur.count - prev->count;
		*prev = cur;
	}
	for (size_t d = 0; d < ndevs; d++) {
		batch__row(b, T_IO_LATENCY_STATS);
		batch__int(b, now_ns);
		batch__int(b, interval);
		batch__text(b, device_name(p, devs[d]));
		batch__int(b, devs[d] >> 20);
		batch__int(b, devs[d] & 0xfffff);
		for (int op = 0; op < BLOCKIO_OPS; op++)
			if (op != BLOCKIO_OTHER)
				put_op(b, &delta[d][op]);
		batch__int(b, (int64_t)delta[d][BLOCKIO_OTHER].count);
		batch__end(b);
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* /metrics: per disk and op (at most BLOCKIO_DEVICES_MAX disks x 5 ops),
 * latency at powers of two and bytes, from the cumulative sums collect
 * keeps; sorted by device number so the text is stable. */
static void blockio_metrics(struct tracer *t, struct prom *p)
{
	static const char *const ops[BLOCKIO_OPS] = { "read", "write", "flush", "discard", "other" };
	struct blockio_priv *bp = t->priv;
	uint64_t ids[BLOCKIO_DEVICES_MAX * BLOCKIO_OPS], id;
	size_t n = 0;
	struct prom_labels l;
	struct io_sum *sum;
	void *v;

	for (size_t i = 0; n < sizeof(ids) / sizeof(ids[0]) && u64map_next(&bp->prev, &i, &id, &v);)
		ids[n++] = id;
	if (n > 1)
		qsort(ids, n, sizeof(ids[0]), cmp_u64);
	prom_family(p, "ksight_block_io_latency_seconds", PROM_HISTOGRAM,
		    "Block I/O latency, issue to completion, per disk and operation.");
	for (size_t i = 0; i < n; i++) {
		sum = u64map_get(&bp->prev, ids[i]);
		prom_labels_init(&l);
		prom_label(&l, "device", device_name(bp, (uint32_t)(ids[i] >> 3)));
		prom_label(&l, "op", ops[ids[i] & 7]);
		tracer_metrics_hist(p, &l, sum->buckets, (double)sum->sum_ns, HIST_POW2_FROM_1US);
	}
	prom_family(p, "ksight_block_io_bytes_total", PROM_COUNTER, "Bytes of completed block I/O per disk and operation.");
	for (size_t i = 0; i < n; i++) {
		sum = u64map_get(&bp->prev, ids[i]);
		prom_labels_init(&l);
		prom_label(&l, "device", device_name(bp, (uint32_t)(ids[i] >> 3)));
		prom_label(&l, "op", ops[ids[i] & 7]);
		prom_sample_u64(p, "", &l, sum->bytes);
	}
}

static int blockio_open(struct tracer *t, const struct config *cfg)
{
	struct blockio_priv *p = t->priv;

	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0)
		return -EINVAL;
	p->root = cfg->root;
	p->values = calloc((size_t)p->ncpus, sizeof(*p->values));
	p->delta = calloc(DEVICES_PER_TICK, sizeof(*p->delta));
	if (!p->values || !p->delta)
		return -ENOMEM;
	p->skel = blockio_bpf__open();
	if (!p->skel)
		return -errno;
	t->skeleton = p->skel->skeleton;
	return 0;
}

static void blockio_destroy(struct tracer *t)
{
	struct blockio_priv *p = t->priv;
	void *v;

	blockio_bpf__destroy(p->skel);
	for (size_t i = 0; u64map_next(&p->prev, &i, NULL, &v);)
		free(v);
	for (size_t i = 0; u64map_next(&p->names, &i, NULL, &v);)
		free(v);
	u64map_free(&p->prev);
	u64map_free(&p->names);
	free(p->values);
	free(p->delta);
}

const struct tracer_ops blockio_tracer = {
	.name = "blockio",
	.summary = "block I/O latency per disk and op -> io_latency_stats",
	.hooks = hooks,
	.priv_size = sizeof(struct blockio_priv),
	.open = blockio_open,
	.collect = blockio_collect,
	.metrics = blockio_metrics,
	.destroy = blockio_destroy,
};
