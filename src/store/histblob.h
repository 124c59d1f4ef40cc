/* Latency histograms as the database keeps them: the log-linear buckets of
 * bpf/hist.h in a compact, sparse blob, so that any set of rows can be
 * merged again and its percentiles read from the merged buckets (never by
 * averaging percentiles).
 *
 * Layout: one byte HISTBLOB_FORMAT, then for every non-empty bucket in
 * increasing order two unsigned LEB128 varints: the gap since the previous
 * non-empty bucket (bucket - previous - 1; the first: the bucket itself)
 * and the count.  A second of syscalls with 20 occupied buckets takes
 * about 45 bytes.  An empty histogram is stored as SQL NULL, not a blob.
 *
 * The store registers SQL functions over these blobs on every connection
 * (see store.h): ks_hist_merge(blob) (aggregate), ks_hist_quantile(blob, q,
 * bound_ns) and ks_hist_count(blob).
 */
#ifndef KS_HISTBLOB_H
#define KS_HISTBLOB_H

#include <stddef.h>
#include <stdint.h>

#include "../bpf/hist.h"

#define HISTBLOB_FORMAT 1
/* Longest encoding: the header and two 10-byte varints per bucket. */
#define HISTBLOB_MAX (1 + HIST_BUCKETS * 20)

/* Encodes counts[HIST_BUCKETS] into out (HISTBLOB_MAX bytes).  Returns
 * the length, 0 when every count is 0 (store NULL then). */
size_t histblob_encode(const uint64_t *counts, uint8_t *out);

/* Adds the buckets of blob (len bytes) to counts[HIST_BUCKETS] and their
 * sum to *total.  Returns 0, or -EINVAL when blob is not a histogram of
 * this format (counts and *total are then unchanged). */
int histblob_add(const void *blob, size_t len, uint64_t *counts, uint64_t *total);

/* The q-quantile of counts (total n) exactly as the tracers compute their
 * per-interval percentiles (hist_percentiles in bpf/hist.h): interpolated
 * inside the bucket, then capped at bound_ns when bound_ns > 0. */
double histblob_quantile(const uint64_t *counts, uint64_t n, double q, double bound_ns);

#endif
