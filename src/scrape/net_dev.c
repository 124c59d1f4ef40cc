/* /proc/net/dev -> network_interface_stats: per interface, the byte, packet,
 * error and drop counters and their per-second rates.
 *
 * /proc/net/dev shows the network namespace of the reading process, so the
 * rows describe the agent's namespace (the host's, when it runs there).
 * Every interface gets a row every tick, idle ones included: which
 * interfaces exist is itself worth recording.
 *
 * Rates need two readings: an interface's first row, and the row after any
 * of its counters went backwards (the interface was re-created, or a driver
 * with 32-bit counters wrapped), have NULL rates.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "counter.h"
#include "procfs.h"
#include "scraper.h"

/* The columns of /proc/net/dev, in its order. */
enum {
	N_RX_BYTES, N_RX_PACKETS, N_RX_ERRS, N_RX_DROP, N_RX_FIFO, N_RX_FRAME, N_RX_COMPRESSED,
	N_RX_MULTICAST,
	N_TX_BYTES, N_TX_PACKETS, N_TX_ERRS, N_TX_DROP, N_TX_FIFO, N_TX_COLLS, N_TX_CARRIER,
	N_TX_COMPRESSED,
	N_NFIELDS
};

/* What is stored, in column order: counters, then their rates. */
static const int stored[] = { N_RX_BYTES, N_RX_PACKETS, N_RX_ERRS, N_RX_DROP,
			      N_TX_BYTES, N_TX_PACKETS, N_TX_ERRS, N_TX_DROP };
static const int rated[] = { N_RX_BYTES, N_RX_PACKETS, N_TX_BYTES, N_TX_PACKETS,
			     N_RX_ERRS, N_RX_DROP, N_TX_ERRS, N_TX_DROP };
#define NSTORED (sizeof(stored) / sizeof(stored[0]))
#define NRATED (sizeof(rated) / sizeof(rated[0]))

struct iface {
	char name[32];           /* IFNAMSIZ is 16 */
	uint64_t f[N_NFIELDS];
};

struct net_dev_priv {
	struct buf text;
	struct readings ifaces;  /* struct iface: last tick's and this tick's */
};

/* readings_prev() finds an interface by the name it begins with. */
_Static_assert(offsetof(struct iface, name) == 0, "struct iface begins with its name");

/* "  eth0: 1 2 3 ..." -> i; -EINVAL when malformed. */
static int parse_line(const char *line, struct iface *i)
{
	const char *colon = strchr(line, ':');
	const char *p = line;
	char *end;
	size_t len;

	while (*p == ' ')
		p++;
	if (!colon || colon == p || (len = (size_t)(colon - p)) >= sizeof(i->name))
		return -EINVAL;
	memcpy(i->name, p, len);
	i->name[len] = '\0';
	p = colon + 1;
	for (int f = 0; f < N_NFIELDS; f++) {
		while (*p == ' ')
			p++;
		i->f[f] = strtoull(p, &end, 10);
		if (end == p)
			return -EINVAL;
		p = end;
	}
	return 0;
}

static void put_iface(struct batch *b, int64_t now_ns, const struct iface *i, const struct iface *prev,
		      int64_t interval_ns)
{
	bool known = prev != NULL;

	for (size_t k = 0; known && k < NRATED; k++)
		if (i->f[rated[k]] < prev->f[rated[k]])
			known = false;
	batch__row(b, T_NETWORK_INTERFACE_STATS);
	batch__int(b, now_ns);
	batch__text(b, i->name);
	for (size_t k = 0; k < NSTORED; k++)
		batch__int(b, (int64_t)i->f[stored[k]]);
	for (size_t k = 0; k < NRATED; k++)
		put_rate(b, known ? counter_delta(i->f[rated[k]], prev->f[rated[k]]) : -1, interval_ns);
	batch__end(b);
}

static int net_dev_scrape(struct scraper *s, struct batch *b, int64_t now_ns)
{
	struct net_dev_priv *p = s->priv;
	ssize_t n = procfs_read_buf(s->root, "/proc/net/dev", &p->text);
	const char *line;

	if (n < 0)
		return (int)n;
	/* Two header lines ("Inter-|   Receive ...", " face |bytes ..."). */
	line = p->text.data;
	if (strncmp(line, "Inter-|", 7))
		return -EINVAL;
	line = procfs_next_line(procfs_next_line(line));
	readings_begin(&p->ifaces);
	for (; *line; line = procfs_next_line(line)) {
		struct iface *i = readings_add(&p->ifaces, sizeof(*i));

		if (!i)
			return -ENOMEM;
		if (parse_line(line, i) < 0)
			return -EINVAL;
	}
	for (size_t k = 0; k < p->ifaces.ncur; k++) {
		const struct iface *i = readings_cur(&p->ifaces, sizeof(*i), k);

		put_iface(b, now_ns, i, readings_prev(&p->ifaces, sizeof(*i), i->name, k), s->mono_ns - p->ifaces.last_ns);
	}
	readings_end(&p->ifaces, s->mono_ns);
	return (int)p->ifaces.nprev;
}

static void net_dev_destroy(struct scraper *s)
{
	struct net_dev_priv *p = s->priv;

	buf_free(&p->text);
	readings_free(&p->ifaces);
}

const struct scraper_ops net_dev_scraper = {
	.name = "net_dev",
	.summary = "network interfaces (/proc/net/dev) -> network_interface_stats",
	.priv_size = sizeof(struct net_dev_priv),
	.scrape = net_dev_scrape,
	.destroy = net_dev_destroy,
};
