/* Fuzz target: the sock_diag reply parser (src/scrape/sock_diag.c) that
 * counts TCP sockets per state from a NETLINK_SOCK_DIAG dump.
 *
 * Input: the first 4 bytes are the dump's sequence number (little endian),
 * the rest one reply chunk as recv() would return it.  The chunk is copied
 * to a buffer of exactly its size, as aligned as the agent's receive
 * buffer, so ASan sees any read past what the kernel sent. */
#include "../../src/scrape/sock_diag.h"
#include "../lib/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_reader r = { data, size };
	uint64_t counts[SOCK_DIAG_NSTATES] = { 0 }, total = 0;
	uint32_t seq = (uint32_t)fuzz_u64(&r, 4);
	void *chunk = malloc(r.left ? r.left : 1);
	int rc;

	if (!chunk)
		fuzz_die("out of memory");
	memcpy(chunk, r.p, r.left);
	rc = sock_diag_count(chunk, r.left, seq, counts);
	if (rc > 1 || rc <= -4096)
		fuzz_die("sock_diag_count returned %d", rc);
	for (int s = 0; s < SOCK_DIAG_NSTATES; s++)
		total += counts[s];
	/* Each socket is one message of at least a header and a record. */
	if (total > r.left / 16)
		fuzz_die("%llu sockets counted from %zu bytes", (unsigned long long)total, r.left);
	free(chunk);
	return 0;
}
