/* sock_diag dump replies -> TCP sockets per state (see sock_diag.h). */
#include "sock_diag.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <string.h>

int sock_diag_count(const void *chunk, size_t len, uint32_t seq, uint64_t counts[SOCK_DIAG_NSTATES])
{
	const char *base = chunk;
	struct nlmsghdr h;

	/* Messages are read by copy: a length that claims more than is left
	 * ends the chunk, and nothing is read past len. */
	for (size_t off = 0, next; off + sizeof(h) <= len; off = next) {
		const char *data = base + off + NLMSG_HDRLEN;
		struct inet_diag_msg m;

		memcpy(&h, base + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
			break;
		next = off + NLMSG_ALIGN(h.nlmsg_len);
		if (h.nlmsg_seq != seq)
			continue;
		if (h.nlmsg_type == NLMSG_DONE) {
			int err = 0;

			if (h.nlmsg_len >= NLMSG_LENGTH(sizeof(err)))
				memcpy(&err, data, sizeof(err));
			return err < 0 ? (err > -4096 ? err : -EIO) : 0;
		}
		if (h.nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr e;

			if (h.nlmsg_len < NLMSG_LENGTH(sizeof(e)))
				return -EIO;
			memcpy(&e, data, sizeof(e));
			/* errno values are small: anything else is not one. */
			return e.error < 0 && e.error > -4096 ? e.error : -EIO;
		}
		/* SOCK_DIAG_BY_FAMILY answers a v2 request, TCPDIAG_GETSOCK the
		 * compat one: the same record either way. */
		if ((h.nlmsg_type != SOCK_DIAG_BY_FAMILY && h.nlmsg_type != TCPDIAG_GETSOCK) ||
		    h.nlmsg_len < NLMSG_LENGTH(sizeof(m)))
			return -EBADMSG;
		memcpy(&m, data, sizeof(m));
		if (m.idiag_state < SOCK_DIAG_NSTATES)
			counts[m.idiag_state]++;
	}
	return 1;
}
