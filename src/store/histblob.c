/* Sparse histogram blobs (see histblob.h). */
#include "histblob.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static size_t put_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/* Reads a varint at *pos of p[len]; false when it runs off the end or is
 * longer than 64 bits. */
static bool get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64 && *pos < len; shift += 7) {
		uint8_t byte = p[(*pos)++];

		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80)) {
			*ret = v;
			return true;
		}
	}
	return false;
}

size_t histblob_encode(const uint64_t *counts, uint8_t *out)
{
	size_t n = 1;
	int prev = -1;

	out[0] = HISTBLOB_FORMAT;
	for (int b = 0; b < HIST_BUCKETS; b++) {
		if (!counts[b])
			continue;
		n += put_varint(out + n, (uint64_t)(b - prev - 1));
		n += put_varint(out + n, counts[b]);
		prev = b;
	}
	return prev < 0 ? 0 : n;
}

int histblob_add(const void *blob, size_t len, uint64_t *counts, uint64_t *total)
{
	const uint8_t *p = blob;
	uint64_t add[HIST_BUCKETS] = { 0 }, sum = 0;
	size_t pos = 1;
	int64_t bucket = -1;

	if (!p || len < 1 || p[0] != HISTBLOB_FORMAT)
		return -EINVAL;
	while (pos < len) {
		uint64_t gap, count;

		if (!get_varint(p, len, &pos, &gap) || !get_varint(p, len, &pos, &count) ||
		    gap >= HIST_BUCKETS || bucket + 1 + (int64_t)gap >= HIST_BUCKETS)
			return -EINVAL;
		bucket += 1 + (int64_t)gap;
		add[bucket] += count;
		sum += count;
	}
	for (int b = 0; b < HIST_BUCKETS; b++)
		counts[b] += add[b];
	*total += sum;
	return 0;
}

double histblob_quantile(const uint64_t *counts, uint64_t n, double q, double bound_ns)
{
	double v = hist_quantile(counts, n, q);

	return bound_ns > 0 && v > bound_ns ? bound_ns : v;
}
