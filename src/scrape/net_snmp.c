/* /proc/net/snmp -> tcp_retransmit_stats: the kernel's TCP MIB counters
 * (RFC 4022 names) every tick, with the segments sent and retransmitted in
 * the interval and their ratio, the figure to watch for a lossy path.
 *
 * The counters are the agent's network namespace's, like everything under
 * /proc/net.  Deltas need two readings: the first row has NULL deltas, and
 * so has a row after a counter went backwards.  Per-retransmit detail
 * (addresses, ports, state) comes from the tcp:tcp_retransmit_skb tracer,
 * not from here.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "counter.h"
#include "procfs.h"
#include "scraper.h"

/* The MIB names stored, in column order. */
static const char *const mib[] = {
	"RetransSegs", "OutSegs", "InSegs", "ActiveOpens", "PassiveOpens", "AttemptFails",
	"EstabResets", "CurrEstab", "InErrs", "OutRsts",
};
enum { M_RETRANS, M_OUT, NMIB = sizeof(mib) / sizeof(mib[0]) };

struct net_snmp_priv {
	struct buf text;
	int64_t prev[NMIB];
	int64_t last_ns;
	bool have_prev;
};

/* Finds the "Tcp:" name line and its value line and fills values[] (-1 for
 * names the kernel does not have).  Returns -EINVAL when malformed. */
static int parse_tcp(char *text, int64_t values[NMIB])
{
	char *names = NULL, *nums = NULL, *save_n, *save_v, *name, *num;

	for (char *line = text; *line; line = (char *)procfs_next_line(line))
		if (!strncmp(line, "Tcp:", 4)) {
			names = line;
			nums = (char *)procfs_next_line(line);
			break;
		}
	if (!names || strncmp(nums, "Tcp:", 4))
		return -EINVAL;
	names[strcspn(names, "\n")] = '\0';
	nums[strcspn(nums, "\n")] = '\0';
	for (int i = 0; i < NMIB; i++)
		values[i] = -1;
	name = strtok_r(names + 4, " ", &save_n);
	num = strtok_r(nums + 4, " ", &save_v);
	for (; name && num; name = strtok_r(NULL, " ", &save_n), num = strtok_r(NULL, " ", &save_v)) {
		char *end;
		long long v = strtoll(num, &end, 10);

		if (end == num || *end)
			return -EINVAL;
		for (int i = 0; i < NMIB; i++)
			if (!strcmp(name, mib[i]))
				values[i] = v;
	}
	if (name || num)
		return -EINVAL;  /* as many names as values */
	return values[M_RETRANS] < 0 || values[M_OUT] < 0 ? -EINVAL : 0;
}

static int net_snmp_scrape(struct scraper *s, struct batch *b, int64_t now_ns)
{
	struct net_snmp_priv *p = s->priv;
	ssize_t n = procfs_read_buf(s->root, "/proc/net/snmp", &p->text);
	int64_t v[NMIB], retrans = -1, out = -1;
	int err;

	if (n < 0)
		return (int)n;
	if ((err = parse_tcp(p->text.data, v)) < 0)
		return err;
	if (p->have_prev) {
		retrans = counter_delta((uint64_t)v[M_RETRANS], (uint64_t)p->prev[M_RETRANS]);
		out = counter_delta((uint64_t)v[M_OUT], (uint64_t)p->prev[M_OUT]);
		if (retrans < 0 || out < 0)
			retrans = out = -1;  /* a reset: both or neither */
	}

	batch__row(b, T_TCP_RETRANSMIT_STATS);
	batch__int(b, now_ns);
	for (int i = 0; i < NMIB; i++)
		put_int(b, v[i]);
	if (p->have_prev)
		batch__real(b, (double)(s->mono_ns - p->last_ns) / 1e6);
	else
		batch__null(b);
	put_int(b, retrans);
	put_int(b, out);
	put_ratio(b, retrans, out, 1.0);
	batch__end(b);

	memcpy(p->prev, v, sizeof(v));
	p->last_ns = s->mono_ns;
	p->have_prev = true;
	return 1;
}

static void net_snmp_destroy(struct scraper *s)
{
	struct net_snmp_priv *p = s->priv;

	buf_free(&p->text);
}

const struct scraper_ops net_snmp_scraper = {
	.name = "net_snmp",
	.summary = "TCP segments and retransmits (/proc/net/snmp) -> tcp_retransmit_stats",
	.priv_size = sizeof(struct net_snmp_priv),
	.scrape = net_snmp_scrape,
	.destroy = net_snmp_destroy,
};
