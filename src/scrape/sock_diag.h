/* Counting TCP sockets per state from NETLINK_SOCK_DIAG dump replies.
 *
 * net_tcp.c asks the kernel for an inet_diag dump of every TCP socket (both
 * families in one compat TCPDIAG_GETSOCK dump, or one family per
 * SOCK_DIAG_BY_FAMILY dump) and reads the replies in chunks of up to 32 KiB, each holding
 * one or more netlink messages.  This is the parser of one such chunk,
 * apart from the socket so that it can be tested and fuzzed on bytes
 * alone: it never reads past len, whatever the message lengths claim.
 */
#ifndef KS_SOCK_DIAG_H
#define KS_SOCK_DIAG_H

#include <stddef.h>
#include <stdint.h>

/* Kernel TCP states (include/net/tcp_states.h): counts[] has this many
 * slots, [0] unused; 12 is a request socket (NEW_SYN_RECV). */
#define SOCK_DIAG_NSTATES 13

/* Adds the sockets in the len bytes of one reply chunk to counts[state],
 * skipping messages whose sequence number is not seq (left over from an
 * earlier, abandoned dump).  Returns 1 when the dump goes on in the next
 * chunk, 0 at its end (NLMSG_DONE), or a negative errno: the error the
 * kernel reported (NLMSG_ERROR, or a negative NLMSG_DONE status), -EIO for
 * an error message without a code, -EBADMSG for a message that is not an
 * inet_diag record (SOCK_DIAG_BY_FAMILY or TCPDIAG_GETSOCK) or is too short
 * for one. */
int sock_diag_count(const void *chunk, size_t len, uint32_t seq, uint64_t counts[SOCK_DIAG_NSTATES]);

#endif
