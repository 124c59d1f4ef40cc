/* TCP sockets per state -> tcp_stats: how many IPv4 + IPv6 TCP sockets are
 * established, listening, in TIME_WAIT... one row per tick.
 *
 * On the live system the counts come from a NETLINK_SOCK_DIAG dump (what
 * ss(8) uses): the kernel sends a fixed binary record per socket, asked for
 * no extensions, instead of formatting a text line per socket as
 * /proc/net/tcp does; with 100k sockets that is several times cheaper (see
 * bench/tcp_states.sh).  The dump is the compat TCPDIAG_GETSOCK request,
 * which asks for both families at once: the kernel walks its TCP hash
 * tables (sized by RAM, not by the sockets in them: the cost with a handful
 * of sockets) once instead of once per family.  A kernel that refuses it
 * gets one SOCK_DIAG_BY_FAMILY dump per family instead.  The scraper runs
 * every scrapers.net_tcp.interval (10 s by default), not every tick: each
 * row is a census at its timestamp.  When a root prefix is set (fixtures), or the dump
 * fails (no sock_diag in this kernel), /proc/net/tcp and /proc/net/tcp6 are
 * parsed instead, a line at a time in bounded memory; the row's `source`
 * says which was used.  A missing tcp6 file means IPv6 is off: 0 sockets.
 *
 * Both views show the agent's network namespace and count the same sockets:
 * listeners, established and closing ones, request sockets (as SYN_RECV) and
 * time-wait sockets (as TIME_WAIT or FIN_WAIT2, their substate).  Sockets
 * that are only bound (Linux 6.5's TCP_BOUND_INACTIVE) appear in neither.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../store/batch.h"
#include "procfs.h"
#include "scraper.h"
#include "sock_diag.h"

/* Kernel TCP states (include/net/tcp_states.h); 12 is a request socket. */
enum { S_ESTABLISHED = 1, S_SYN_RECV = 3, S_CLOSING = 11, S_NEW_SYN_RECV = 12, NSTATES = SOCK_DIAG_NSTATES };
#define STATES_MASK (((1u << NSTATES) - 1) & ~1u)   /* 1..12, not BOUND_INACTIVE */
#define RX_SIZE (32 * 1024)                         /* the kernel's dump chunk */

struct net_tcp_priv {
	int nl;                  /* sock_diag socket, when nl_open */
	bool nl_open;
	bool nl_failed;          /* sock_diag refused once: use /proc from now on */
	bool compat_failed;      /* TCPDIAG_GETSOCK refused: one dump per family */
	uint32_t seq;
	char *rx;
};

/* Sends one dump request of len bytes and adds the replies to counts. */
static int diag_dump(struct net_tcp_priv *p, const void *msg, size_t len, uint64_t counts[NSTATES])
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	if (sendto(p->nl, msg, len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		struct sockaddr_nl from = { 0 };
		socklen_t fromlen = sizeof(from);
		ssize_t got = recvfrom(p->nl, p->rx, RX_SIZE, 0, (struct sockaddr *)&from, &fromlen);
		int rc;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EIO;
		/* Only the kernel (port 0) answers: a process allowed to send
		 * to this socket (CAP_NET_ADMIN) could queue made-up counts. */
		if (fromlen < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue;
		if ((rc = sock_diag_count(p->rx, (size_t)got, p->seq, counts)) <= 0)
			return rc;
	}
}

/* Both families in one walk: the compat request's family is AF_UNSPEC in
 * the kernel (inet_diag_dump_compat), so IPv4 and IPv6 sockets come back. */
static int dump_compat(struct net_tcp_priv *p, uint64_t counts[NSTATES])
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = TCPDIAG_GETSOCK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = ++p->seq,
		},
		.req = {
			.idiag_family = AF_INET,
			.idiag_states = STATES_MASK,
		},
	};

	return diag_dump(p, &msg, sizeof(msg), counts);
}

/* One family's TCP sockets (the v2 request). */
static int dump_family(struct net_tcp_priv *p, int family, uint64_t counts[NSTATES])
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = ++p->seq,
		},
		.req = {
			.sdiag_family = (uint8_t)family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = STATES_MASK,
		},
	};

	return diag_dump(p, &msg, sizeof(msg), counts);
}

static int count_diag(struct net_tcp_priv *p, uint64_t counts[NSTATES])
{
	int err;

	if (!p->nl_open) {
		if (!p->rx && !(p->rx = malloc(RX_SIZE)))
			return -ENOMEM;
		p->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		if (p->nl < 0)
			return -errno;
		p->nl_open = true;
	}
	if (!p->compat_failed) {
		if ((err = dump_compat(p, counts)) >= 0)
			return err;
		/* Refused (a kernel without the compat request): whatever
		 * it counted is dropped, and the v2 dumps are used from now on. */
		p->compat_failed = true;
		memset(counts, 0, NSTATES * sizeof(counts[0]));
		close(p->nl);
		if ((p->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) < 0) {
			p->nl_open = false;
			return -errno;
		}
	}
	if ((err = dump_family(p, AF_INET, counts)) < 0 || (err = dump_family(p, AF_INET6, counts)) < 0) {
		/* Part of a dump may still be queued: start afresh next time. */
		close(p->nl);
		p->nl_open = false;
	}
	return err;
}

struct proc_count {
	uint64_t *counts;
	bool header;             /* the next line is the column header */
};

/* "  12: 0100007F:1F90 00000000:0000 0A ..." -> counts[0x0A]++. */
static int count_line(char *line, size_t len, void *ctx)
{
	struct proc_count *c = ctx;
	unsigned long state;
	char *p = line, *end;

	if (c->header) {
		c->header = false;
		return strstr(line, "local_address") ? 0 : -EINVAL;
	}
	for (int field = 0; field < 3; field++) {  /* sl, local, remote */
		while (*p == ' ')
			p++;
		if (!*p)
			return -EINVAL;
		p += strcspn(p, " ");
	}
	state = strtoul(p, &end, 16);
	if (end == p || *end != ' ' || state == 0 || state >= NSTATES)
		return -EINVAL;
	c->counts[state]++;
	return 0;
}

static int count_proc(const char *root, uint64_t counts[NSTATES])
{
	struct proc_count c = { counts, true };
	int err = procfs_lines(root, "/proc/net/tcp", count_line, &c);

	if (err < 0 || c.header)
		return err < 0 ? err : -EINVAL;  /* an empty file is not /proc/net/tcp */
	c.header = true;
	err = procfs_lines(root, "/proc/net/tcp6", count_line, &c);
	if (err == -ENOENT)
		return 0;
	return err < 0 ? err : c.header ? -EINVAL : 0;
}

static int net_tcp_scrape(struct scraper *s, struct batch *b, int64_t now_ns)
{
	struct net_tcp_priv *p = s->priv;
	bool live = !s->root[0] || !strcmp(s->root, "/");
	uint64_t counts[NSTATES] = { 0 }, total = 0;
	const char *source = "sock_diag";
	int err = -1;

	if (live && !p->nl_failed) {
		if ((err = count_diag(p, counts)) < 0) {
			p->nl_failed = true;
			memset(counts, 0, sizeof(counts));
		}
	}
	if (err < 0) {
		source = "proc";
		if ((err = count_proc(s->root, counts)) < 0)
			return err;
	}
	counts[S_SYN_RECV] += counts[S_NEW_SYN_RECV];  /* request sockets are SYN_RECV */

	batch__row(b, T_TCP_STATS);
	batch__int(b, now_ns);
	for (int st = S_ESTABLISHED; st <= S_CLOSING; st++) {
		batch__int(b, (int64_t)counts[st]);
		total += counts[st];
	}
	batch__int(b, (int64_t)total);
	batch__text(b, source);
	batch__end(b);
	return 1;
}

static void net_tcp_destroy(struct scraper *s)
{
	struct net_tcp_priv *p = s->priv;

	if (p->nl_open)
		close(p->nl);
	free(p->rx);
}

const struct scraper_ops net_tcp_scraper = {
	.name = "net_tcp",
	.summary = "TCP sockets per state (sock_diag netlink, or /proc/net/tcp{,6}) -> tcp_stats",
	.priv_size = sizeof(struct net_tcp_priv),
	.scrape = net_tcp_scrape,
	.destroy = net_tcp_destroy,
	.interval_ns = 10 * 1000000000LL,
};
