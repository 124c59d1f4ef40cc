/* Block I/O tracer: contract between blockio.bpf.c and blockio.c.
 *
 * Per whole disk and operation: count, bytes, summed latency, the interval
 * maximum and a log-linear latency histogram (issue -> complete), all in
 * per-CPU hash maps read every tick.
 */
#ifndef KS_BLOCKIO_H
#define KS_BLOCKIO_H

#include "common.h"
#include "hist.h"

enum blockio_op {
	BLOCKIO_READ,
	BLOCKIO_WRITE,
	BLOCKIO_FLUSH,
	BLOCKIO_DISCARD,
	BLOCKIO_OTHER,
	BLOCKIO_OPS,
};

#define BLOCKIO_DEVICES_MAX 256

struct blockio_key {
	__u32 dev;               /* major << 20 | minor of the disk (kernel dev_t) */
	__u32 op;                /* enum blockio_op */
};

struct blockio_stats {
	__u64 count;
	__u64 bytes;
	__u64 sum_ns;
	__u64 max_ns;
	__u64 max_epoch;
	__u64 buckets[HIST_BUCKETS];
};

#endif
