/* Connections per client and the deadline for a request's headers (see
 * clients.h). */
#include "clients.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../lib/clock.h"
#include "address.h"

#define NSLOTS 1024                    /* clients counted at once; past that, unlimited */

struct http_conn {
	struct http_conn *prev, *next;
	int fd;
	uint64_t client;                   /* its key; 0: not counted */
	int64_t waiting_since_ns;          /* monotonic; 0: answering, or shut already */
};

struct slot {
	uint64_t key;                      /* 0: free */
	unsigned n;
	int64_t debt_ns, debt_at_ns;       /* serving time owed, as of debt_at_ns (monotonic) */
};

struct http_clients {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool stopping;
	unsigned max_per_client;
	struct http_conn *conns;
	struct slot slots[NSLOTS];
	uint64_t refused, timed_out, over_budget, nclients;
};

/* The uid owning the other end of a loopback TCP connection: the socket
 * whose local address is fd's peer and whose peer is fd's local address. */
static int peer_uid(const struct sockaddr_storage *local, const struct sockaddr_storage *peer, uint64_t *uid)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof(msg), .nlmsg_type = SOCK_DIAG_BY_FAMILY, .nlmsg_flags = NLM_F_REQUEST,
			 .nlmsg_seq = 1 },
		.req = { .sdiag_protocol = IPPROTO_TCP, .idiag_states = ~0u,
			 .id = { .idiag_cookie = { INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE } } },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK }, from;
	socklen_t fromlen = sizeof(from);
	union {
		struct nlmsghdr h;
		char bytes[1024];
	} reply;
	const struct inet_diag_msg *m;
	ssize_t got;
	int nl, rc = -ENOENT;

	if (peer->ss_family == AF_INET) {
		const struct sockaddr_in *p = (const void *)peer, *l = (const void *)local;

		msg.req.sdiag_family = AF_INET;
		msg.req.id.idiag_src[0] = p->sin_addr.s_addr;
		msg.req.id.idiag_sport = p->sin_port;
		msg.req.id.idiag_dst[0] = l->sin_addr.s_addr;
		msg.req.id.idiag_dport = l->sin_port;
	} else {
		const struct sockaddr_in6 *p = (const void *)peer, *l = (const void *)local;

		if (IN6_IS_ADDR_V4MAPPED(&p->sin6_addr)) {
			/* An IPv4 client of a dual-stack socket: its own socket is IPv4. */
			msg.req.sdiag_family = AF_INET;
			memcpy(&msg.req.id.idiag_src[0], &p->sin6_addr.s6_addr[12], 4);
			memcpy(&msg.req.id.idiag_dst[0], &l->sin6_addr.s6_addr[12], 4);
		} else {
			msg.req.sdiag_family = AF_INET6;
			memcpy(msg.req.id.idiag_src, &p->sin6_addr, 16);
			memcpy(msg.req.id.idiag_dst, &l->sin6_addr, 16);
		}
		msg.req.id.idiag_sport = p->sin6_port;
		msg.req.id.idiag_dport = l->sin6_port;
	}
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -errno;
	if (sendto(nl, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		rc = -errno;
		goto out;
	}
	got = recvfrom(nl, &reply, sizeof(reply), 0, (struct sockaddr *)&from, &fromlen);
	/* Only the kernel (port 0) answers for sockets. */
	if (got < (ssize_t)NLMSG_LENGTH(sizeof(*m)) || from.nl_pid != 0 ||
	    reply.h.nlmsg_type != SOCK_DIAG_BY_FAMILY || reply.h.nlmsg_len > (size_t)got)
		goto out;
	m = NLMSG_DATA(&reply.h);
	*uid = m->idiag_uid;
	rc = 0;
out:
	close(nl);
	return rc;
}

/* FNV-1a over an address: the key of a remote client. */
static uint64_t address_key(const struct sockaddr_storage *peer)
{
	const unsigned char *b;
	size_t len;
	uint64_t h = 0xcbf29ce484222325ull;

	if (peer->ss_family == AF_INET6) {
		b = (const unsigned char *)&((const struct sockaddr_in6 *)peer)->sin6_addr;
		len = 16;
	} else {
		b = (const unsigned char *)&((const struct sockaddr_in *)peer)->sin_addr;
		len = 4;
	}
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return (h & ~(1ull << 63)) | 1;
}

/* The client behind fd: 1<<63 | uid for a local user, else its address. */
static uint64_t client_of(int fd)
{
	struct sockaddr_storage local, peer;
	socklen_t llen = sizeof(local), plen = sizeof(peer);
	uint64_t uid = 0;

	if (getsockname(fd, (struct sockaddr *)&local, &llen) || getpeername(fd, (struct sockaddr *)&peer, &plen) ||
	    (peer.ss_family != AF_INET && peer.ss_family != AF_INET6))
		return 0;
	if (http_address__is_loopback((struct sockaddr *)&peer) && !peer_uid(&local, &peer, &uid))
		return 1ull << 63 | uid;
	return address_key(&peer);
}

/* key's slot (made when missing and make is set), or NULL.  A plain scan:
 * it runs once per connection, and the table is small.  Under lock. */
static struct slot *slot_of(struct http_clients *c, uint64_t key, bool make)
{
	struct slot *free_slot = NULL;

	for (size_t i = 0; i < NSLOTS; i++) {
		if (c->slots[i].key == key)
			return &c->slots[i];
		if (!c->slots[i].key && !free_slot)
			free_slot = &c->slots[i];
	}
	if (!make || !free_slot)
		return NULL;
	free_slot->key = key;
	free_slot->n = 0;
	free_slot->debt_ns = 0;
	free_slot->debt_at_ns = 0;
	return free_slot;
}

static void *deadlines(void *arg)
{
	struct http_clients *c = arg;
	struct timespec until;

	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		int64_t cut = clock_mono_ns() - HTTP_HEADERS_TIMEOUT_S * NSEC_PER_SEC;

		for (struct http_conn *k = c->conns; k; k = k->next)
			if (k->waiting_since_ns && k->waiting_since_ns < cut) {
				/* The descriptor stays open until libmicrohttpd has told
				 * us the connection closed (which takes this lock). */
				shutdown(k->fd, SHUT_RDWR);
				k->waiting_since_ns = 0;
				c->timed_out++;
			}
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += 500000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&c->wake, &c->lock, &until);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int http_clients__new(unsigned max_per_client, struct http_clients **ret)
{
	struct http_clients *c = calloc(1, sizeof(*c));
	pthread_condattr_t attr;
	sigset_t all, old;
	int rc;

	if (!c)
		return -ENOMEM;
	c->max_per_client = max_per_client ? max_per_client : 1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->wake, &attr);
	pthread_condattr_destroy(&attr);
	/* Signals belong to the collector's signalfd, not to this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&c->thread, NULL, deadlines, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return -rc;
	}
	*ret = c;
	return 0;
}

void http_clients__free(struct http_clients *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	while (c->conns) {
		struct http_conn *k = c->conns;

		c->conns = k->next;
		free(k);
	}
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

struct http_conn *http_clients__add(struct http_clients *c, int fd, bool *refused)
{
	uint64_t key = client_of(fd);        /* outside the lock: a netlink round trip */
	struct http_conn *k = calloc(1, sizeof(*k));
	struct slot *s;

	*refused = false;
	if (!k)
		return NULL;
	k->fd = fd;
	k->waiting_since_ns = clock_mono_ns();
	pthread_mutex_lock(&c->lock);
	s = key ? slot_of(c, key, true) : NULL;
	if (s && s->n >= c->max_per_client) {
		*refused = true;
		c->refused++;
		k->waiting_since_ns = 0;
		shutdown(fd, SHUT_RDWR);
	} else if (s) {
		k->client = key;
		c->nclients += s->n++ == 0;
	}
	k->next = c->conns;
	if (c->conns)
		c->conns->prev = k;
	c->conns = k;
	pthread_mutex_unlock(&c->lock);
	return k;
}

void http_clients__remove(struct http_clients *c, struct http_conn *k)
{
	struct slot *s;

	if (!k)
		return;
	pthread_mutex_lock(&c->lock);
	if (k->client && (s = slot_of(c, k->client, false)) && s->n && --s->n == 0) {
		s->key = 0;
		c->nclients--;
	}
	if (k->prev)
		k->prev->next = k->next;
	else
		c->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	pthread_mutex_unlock(&c->lock);
	free(k);
}

void http_conn__busy(struct http_clients *c, struct http_conn *k)
{
	if (!k)
		return;
	pthread_mutex_lock(&c->lock);
	k->waiting_since_ns = 0;
	pthread_mutex_unlock(&c->lock);
}

void http_conn__idle(struct http_clients *c, struct http_conn *k)
{
	if (!k)
		return;
	pthread_mutex_lock(&c->lock);
	k->waiting_since_ns = clock_mono_ns();
	pthread_mutex_unlock(&c->lock);
}

/* s's debt now: it is paid back at HTTP_CLIENT_SHARE_PCT of real time.
 * Under lock. */
static int64_t debt_now(struct slot *s, int64_t now)
{
	int64_t paid = (now - s->debt_at_ns) / 100 * HTTP_CLIENT_SHARE_PCT;

	s->debt_ns = s->debt_ns > paid ? s->debt_ns - paid : 0;
	s->debt_at_ns = now;
	return s->debt_ns;
}

bool http_conn__over_budget(struct http_clients *c, struct http_conn *k)
{
	struct slot *s;
	bool over = false;

	if (!k || !k->client)
		return false;
	pthread_mutex_lock(&c->lock);
	if ((s = slot_of(c, k->client, false)) && debt_now(s, clock_mono_ns()) > HTTP_CLIENT_BURST_MS * 1000000LL) {
		over = true;
		c->over_budget++;
	}
	pthread_mutex_unlock(&c->lock);
	return over;
}

void http_conn__charge(struct http_clients *c, struct http_conn *k, int64_t ns)
{
	struct slot *s;

	if (!k || !k->client || ns <= 0)
		return;
	pthread_mutex_lock(&c->lock);
	if ((s = slot_of(c, k->client, false))) {
		debt_now(s, clock_mono_ns());
		s->debt_ns += ns;
	}
	pthread_mutex_unlock(&c->lock);
}

void http_clients__stats(struct http_clients *c, struct http_clients_stats *ret)
{
	pthread_mutex_lock(&c->lock);
	ret->over_budget = c->over_budget;
	ret->refused = c->refused;
	ret->timed_out = c->timed_out;
	ret->clients = c->nclients;
	pthread_mutex_unlock(&c->lock);
}
