/* TCP retransmit tracer: contract between tcp.bpf.c and tcp.c.
 *
 * One ring buffer record per retransmitted segment.  Retransmits mostly
 * happen in timer or softirq context, where the current task is unrelated,
 * so the owning process is remembered when it connects (the SYN_SENT state
 * change runs in the connecting task) and reported when known.
 */
#ifndef KS_TCP_H
#define KS_TCP_H

#include "common.h"

struct tcp_event {
	__u64 ts_ns;
	__u64 cgroup_id;          /* cgroup of the socket */
	__u32 netns;
	__u32 pid;                /* 0: unknown */
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;              /* host order */
	__u16 dport;              /* host order */
	__u16 family;             /* AF_INET or AF_INET6 */
	__u8 state;
	__u8 pad;
	char comm[KS_COMM_LEN];
};

struct tcp_owner {
	__u32 pid;
	char comm[KS_COMM_LEN];
};

#endif
