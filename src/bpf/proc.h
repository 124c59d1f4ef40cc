/* Process lifecycle tracer: contract between proc.bpf.c and proc.c.
 *
 * One ring buffer record per process fork, exec and exit (threads are
 * folded into their process: thread creation is ignored and only the exit
 * of the last thread counts).  Exec records carry the executed path and
 * the argument vector; exit records carry the kernel's own accounting for
 * the whole thread group.
 */
#ifndef KS_PROC_H
#define KS_PROC_H

#include "common.h"

#define PROC_FILENAME_LEN 256
#define PROC_ARGS_LEN 1024
#define FOLLOWED_MAX 65536      /* processes of one followed tree alive at once */

enum proc_kind {
	PROC_FORK = 1,
	PROC_EXEC = 2,
	PROC_EXIT = 3,
};

struct ks_proc_event {
	__u64 ts_ns;             /* CLOCK_MONOTONIC */
	__u64 cgroup_id;         /* cgroup v2 id */
	__u64 memcg_id;          /* v1 memory cgroup id (0: none) */
	__u32 kind;              /* enum proc_kind */
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	char comm[KS_COMM_LEN];
};

struct ks_proc_exit_event {
	struct ks_proc_event hdr;
	__u64 start_ns;          /* CLOCK_MONOTONIC start of the process */
	__u64 runtime_ns;        /* sum_exec_runtime of all threads */
	__u64 utime_ns;          /* tick-sampled user time, to split runtime */
	__u64 stime_ns;          /* tick-sampled system time */
	__u64 min_flt;
	__u64 maj_flt;
	__u64 maxrss_pages;
	__u32 exit_code;         /* raw wait status: (code << 8) | signal */
	__u32 page_size;
};

struct ks_proc_exec_event {
	struct ks_proc_event hdr;
	__u32 filename_len;      /* bytes in filename, without NUL */
	__u32 args_len;          /* bytes in args (NUL-separated) */
	__u32 args_size;         /* full size of the argument area */
	__u32 pad;
	char filename[PROC_FILENAME_LEN];
	char args[PROC_ARGS_LEN];
};

#ifndef __bpf__
/* User side only: a decoded record, for every consumer of the ring buffer
 * (the agent's process_events rows, ksight run's per-process table).  What
 * else the user side offers (following one process tree) is in
 * proc_tracer.h. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


struct proc_record {
	uint32_t kind;               /* enum proc_kind */
	int64_t time_ns;             /* ns since the epoch */
	uint32_t pid, ppid, uid;
	uint64_t cgroup_id, memcg_id;
	char comm[KS_COMM_LEN + 1];
	/* exec */
	char filename[PROC_FILENAME_LEN];
	char argv[PROC_ARGS_LEN + 4];   /* space-joined, "..." when truncated */
	bool argv_known;                /* false when the arguments could not be read */
	bool argv_truncated;
	/* exit */
	int64_t start_ns;            /* ns since the epoch */
	int64_t duration_ns;
	int exit_code;               /* -1 when killed by a signal */
	int signal;
	uint64_t cpu_user_ns, cpu_system_ns;
	uint64_t peak_rss_bytes;
	uint64_t minor_faults, major_faults;
};

/* Decodes one ring buffer record; offset_ns converts the BPF monotonic
 * clock to the wall clock. */
void proc_record_decode(const void *data, size_t size, int64_t offset_ns, struct proc_record *r);

#endif

#endif
