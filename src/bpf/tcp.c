/* TCP retransmit tracer, user side: records -> tcp_retransmit_events. */
#include "tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "../config/config.h"
#include "../lib/prom.h"
#include "../store/batch.h"
#include "tcp.skel.h"
#include "tracer.h"

struct tcp_priv {
	struct tcp_bpf *skel;
};

static const char *const hooks[] = { "tcp_retransmit_skb", "inet_sock_set_state", NULL };

static const char *state_name(unsigned state)
{
	static const char *const names[] = {
		[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV", [4] = "FIN_WAIT1",
		[5] = "FIN_WAIT2", [6] = "TIME_WAIT", [7] = "CLOSE", [8] = "CLOSE_WAIT",
		[9] = "LAST_ACK", [10] = "LISTEN", [11] = "CLOSING", [12] = "NEW_SYN_RECV",
	};

	return state < sizeof(names) / sizeof(names[0]) && names[state] ? names[state] : "UNKNOWN";
}

static int on_event(struct tracer *t, const void *data, size_t size)
{
	const struct tcp_event *e = data;
	struct tracer_sink *sink = t->sink;
	struct batch *b = sink__batch(sink);
	char saddr[INET6_ADDRSTRLEN], daddr[INET6_ADDRSTRLEN], comm[KS_COMM_LEN + 1];
	int af = e->family == AF_INET6 ? AF_INET6 : AF_INET;
	const char *cgroup;
	uint64_t cgid;

	if (size < sizeof(*e))
		return 0;
	t->events++;
	inet_ntop(af, e->saddr, saddr, sizeof(saddr));
	inet_ntop(af, e->daddr, daddr, sizeof(daddr));
	memcpy(comm, e->comm, KS_COMM_LEN);
	comm[KS_COMM_LEN] = '\0';
	cgroup = sink__cgroup(sink, e->cgroup_id, 0, &cgid);
	batch__row(b, T_TCP_RETRANSMIT_EVENTS);
	batch__int(b, sink__to_real(sink, e->ts_ns));
	if (e->pid) {
		batch__int(b, e->pid);
		batch__text(b, comm);
	} else {
		batch__null(b);
		batch__null(b);
	}
	batch__int(b, af == AF_INET6 ? 6 : 4);
	batch__text(b, saddr);
	batch__int(b, e->sport);
	batch__text(b, daddr);
	batch__int(b, e->dport);
	batch__text(b, state_name(e->state));
	batch__int(b, e->netns);
	batch__int(b, (int64_t)cgid);
	batch__text(b, cgroup);
	batch__end(b);
	sink__rows_added(sink);
	return 0;
}

/* /metrics: retransmitted segments seen since start (each one a record). */
static void tcp_metrics(struct tracer *t, struct prom *p)
{
	prom_family(p, "ksight_tcp_retransmits_total", PROM_COUNTER,
		    "TCP segments retransmitted (tcp:tcp_retransmit_skb), every network namespace.");
	prom_sample_u64(p, "", NULL, t->events_total + t->events);
}

static int tcp_open(struct tracer *t, const struct config *cfg)
{
	struct tcp_priv *p = t->priv;

	p->skel = tcp_bpf__open();
	if (!p->skel)
		return -errno;
	p->skel->rodata->ks_rate_cap = tracer_rate_cap_per_cpu(cfg->tracers[TRACER_tcp].rate_cap);
	p->skel->rodata->ks_wakeup_bytes = cfg->ringbuf_wakeup_bytes;
	t->skeleton = p->skel->skeleton;
	return 0;
}

static int tcp_start(struct tracer *t)
{
	struct tcp_priv *p = t->priv;

	return tracer__add_ringbuf(t, p->skel->maps.events, on_event);
}

static void tcp_destroy(struct tracer *t)
{
	struct tcp_priv *p = t->priv;

	tcp_bpf__destroy(p->skel);
}

const struct tracer_ops tcp_tracer = {
	.name = "tcp",
	.summary = "TCP retransmits with addresses, ports, state, owner -> tcp_retransmit_events",
	.hooks = hooks,
	.priv_size = sizeof(struct tcp_priv),
	.open = tcp_open,
	.start = tcp_start,
	.metrics = tcp_metrics,
	.destroy = tcp_destroy,
};
