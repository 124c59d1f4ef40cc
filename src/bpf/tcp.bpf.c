// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* TCP retransmit tracer (see tcp.h).
 *
 * Hooks: tp_btf tcp_retransmit_skb for the events; tp_btf
 * inet_sock_set_state to remember which process connected a socket.
 */
#include "common.bpf.h"
#include "tcp.h"

#define AF_INET 2
#define AF_INET6 10

/* Per-socket storage: freed with the socket, costs only what is used. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tcp_owner);
} owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 128 << 10);
} events SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int KS_PROG(inet_sock_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct tcp_owner *o;

	if (newstate != TCP_SYN_SENT || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	o = bpf_sk_storage_get(&owners, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o) {
		ks_count(KS_STAT_MAP_FULL);
		return 0;
	}
	o->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&o->comm, sizeof(o->comm));
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int KS_PROG(tcp_retransmit_skb, const struct sock *sk, const struct sk_buff *skb)
{
	struct tcp_event *e;
	struct tcp_owner *o;

	if (!ks_rate_ok())
		return 0;
	e = ks_reserve(&events, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (bpf_core_field_exists(sk->sk_cgrp_data.cgroup))
		e->cgroup_id = BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
	if (e->family == AF_INET) {
		bpf_core_read(e->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	o = bpf_sk_storage_get(&owners, (void *)sk, 0, 0);
	if (o) {
		e->pid = o->pid;
		__builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
	}
	ks_submit(&events, e);
	return 0;
}
