/* RSS tracer: contract between rss.bpf.c and rss.c.
 *
 * The kernel side keeps one struct rss_state per process (thread group,
 * found through mm->owner) in the `procs` hash, updated on every
 * kmem:rss_stat event, and pushes a struct ks_rss_event to user space:
 *  - RSS_SAMPLE at most once per interval slot (slots are interval_ns long
 *    and start at the process's origin: first seen or last exec): at the
 *    first change after a slot ended, the state the slot ended with (the
 *    footprint before that change, stamped with the time of the change
 *    before it);
 *  - RSS_JUMP at once when the footprint moved by jump_pages since the last
 *    push;
 *  - RSS_EXIT when a process that was pushed at least once exits (its
 *    state is deleted at sched_process_exit either way).
 * A change after the last push of a slot is not pushed when nothing follows
 * it: user space reads the hash every tick and picks such changes up
 * (seq != the seq of the last record it saw, and the slot is over).
 */
#ifndef KS_RSS_H
#define KS_RSS_H

#include "common.h"

/* Counter indexes, the kernel's MM_* order. */
enum rss_member {
	RSS_FILE,
	RSS_ANON,
	RSS_SWAP,
	RSS_SHMEM,
	RSS_MEMBERS,
};

enum rss_kind {
	RSS_SAMPLE = 1,
	RSS_JUMP = 2,
	RSS_EXIT = 3,
};

/* Value of the `procs` hash, key: tgid (__u32). */
struct rss_state {
	__u64 mm;                /* the mm_struct counted (exec replaces it) */
	__u64 origin_ns;         /* CLOCK_MONOTONIC: first seen or exec; slots start here */
	__u64 start_ns;          /* CLOCK_MONOTONIC start of the process (pid reuse check) */
	__u64 next_due_ns;       /* start of the next slot that may push a sample */
	__u64 last_ns;           /* time of the latest change */
	__u64 base_pages;        /* footprint (rss + swap) at origin */
	__u64 push_pages;        /* footprint at the latest push */
	__u64 pages[RSS_MEMBERS];
	__u32 seq;               /* changes counted since origin */
	__u32 pushed;            /* records pushed since origin */
};

/* Value of the per-CPU array `recent` (one slot): the mm this CPU wrote to
 * the hash last, and the changes to it since that were not written
 * (coalesced; their time is kept in jiffies, so last_ns is within a jiffy).  When mm and tgid match a hash entry and last_ns is later
 * than its, pages and last_ns are newer than the entry's and seq is behind
 * by `skipped`. */
struct rss_recent {
	__u64 mm;                /* 0: nothing pending */
	__u64 written_ns;        /* when the hash was last written from this CPU ... */
	__u64 written_jiffies;   /* ... in jiffies */
	__u64 due_jiffies;       /* coalesce only before this (the process's next slot) */
	__u64 fp_pages;          /* footprint written to the hash */
	__u64 last_ns;           /* time of the latest change seen */
	__u64 pages[RSS_MEMBERS];
	__u32 tgid;
	__u32 skipped;           /* changes since, not in the hash's seq */
};

struct ks_rss_event {
	__u64 ts_ns;             /* CLOCK_MONOTONIC of the change reported */
	__u64 origin_ns;
	__u64 start_ns;
	__u64 base_pages;
	__u64 cgroup_id;         /* cgroup v2 id of the mm owner */
	__u64 memcg_id;          /* its v1 memory cgroup id (0: none) */
	__u64 pages[RSS_MEMBERS];
	__u32 kind;              /* enum rss_kind */
	__u32 pid;               /* tgid */
	__u32 seq;
	__u32 pad;
	char comm[KS_COMM_LEN];
};

#endif
