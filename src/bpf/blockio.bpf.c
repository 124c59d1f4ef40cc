// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Block I/O tracer: latency from issue to completion, per disk and op.
 *
 * Hooks: tp_btf block_rq_issue / block_rq_complete.  The issue time of each
 * request in flight is kept in a hash keyed by the request pointer; a
 * request completed in several parts is counted once, at its first
 * completion, as biolatency does.
 */
#include "common.bpf.h"
#include "blockio.h"

__u64 max_epoch = 0;       /* bumped by user space every tick */

struct issue {
	__u64 ts;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u64);               /* struct request * */
	__type(value, struct issue);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BLOCKIO_DEVICES_MAX * BLOCKIO_OPS);
	__type(key, struct blockio_key);
	__type(value, struct blockio_stats);
} stats SEC(".maps");

static const struct blockio_stats zero_stats;

static __always_inline __u32 op_of(struct request *rq)
{
	__u32 op = BPF_CORE_READ(rq, cmd_flags) & 0xff;   /* REQ_OP_MASK */

	switch (op) {
	case 0: return BLOCKIO_READ;
	case 1: return BLOCKIO_WRITE;
	case 2: return BLOCKIO_FLUSH;
	case 3: return BLOCKIO_DISCARD;
	default: return BLOCKIO_OTHER;
	}
}

SEC("tp_btf/block_rq_issue")
int KS_PROG(block_rq_issue, struct request *rq)
{
	__u64 key = (__u64)rq;
	struct issue is = { bpf_ktime_get_ns(), BPF_CORE_READ(rq, __data_len) };

	if (bpf_map_update_elem(&inflight, &key, &is, BPF_ANY))
		ks_count(KS_STAT_MAP_FULL);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int KS_PROG(block_rq_complete, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	__u64 key = (__u64)rq, now = bpf_ktime_get_ns(), lat;
	struct blockio_key k = {};
	struct blockio_stats *s;
	struct gendisk *disk;
	struct issue *issued;
	__u64 bytes;
	__u32 b;

	issued = bpf_map_lookup_elem(&inflight, &key);
	if (!issued)
		return 0;      /* issued before we attached */
	lat = now - issued->ts;
	bytes = issued->bytes;
	bpf_map_delete_elem(&inflight, &key);

	disk = BPF_CORE_READ(rq, q, disk);
	k.dev = ((__u32)BPF_CORE_READ(disk, major) << 20) | (__u32)BPF_CORE_READ(disk, first_minor);
	k.op = op_of(rq);
	s = ks_lookup_or_init(&stats, &k, &zero_stats);
	if (!s)
		return 0;
	s->count++;
	s->bytes += bytes;
	s->sum_ns += lat;
	b = hist_bucket(lat);
	if (b < HIST_BUCKETS)
		s->buckets[b]++;
	if (s->max_epoch != max_epoch) {
		s->max_epoch = max_epoch;
		s->max_ns = lat;
	} else if (lat > s->max_ns) {
		s->max_ns = lat;
	}
	return 0;
}
