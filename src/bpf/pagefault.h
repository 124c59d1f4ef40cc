/* Page fault tracer: contract between pagefault.bpf.c and pagefault.c.
 *
 * exceptions:page_fault_user marks the start of a user fault and tells the
 * access type (x86 error code).  The kernel's page-fault accounting
 * (mm_account_fault) fires the perf software events page-faults-min/-maj
 * once the fault is handled; a BPF program on those events classifies the
 * fault and measures entry-to-completion latency.  Without perf events the
 * type and latency stay unknown (NULL), never guessed.
 */
#ifndef KS_PAGEFAULT_H
#define KS_PAGEFAULT_H

#include "common.h"


/* x86 page fault error code bits */
#define PF_ERR_WRITE 0x2
#define PF_ERR_INSTR 0x10

enum pf_type { PF_UNKNOWN, PF_MINOR, PF_MAJOR };

/* Counters first, comm last: the layout tracer__drain_procs() reads. */
#define PF_COUNTERS 9
struct pf_proc {
	__u64 minor;
	__u64 major;
	__u64 reads;
	__u64 writes;
	__u64 execs;
	__u64 minor_lat_ns;      /* summed over faults whose start was seen */
	__u64 minor_timed;
	__u64 major_lat_ns;
	__u64 major_timed;
	char comm[KS_COMM_LEN];
};

/* Value of the per-CPU array `cpu_acc` (key: the half, 0 or 1): the counts
 * of process `tgid` on one CPU not yet folded into that half's hash
 * (n.comm[0] == 0: empty), which user space adds to the hash's rows, and
 * the CPU's countdowns (kept in the same slot: one lookup per event), which
 * user space keeps when it empties the slot. */
struct pf_acc {
	__u32 tgid;
	__u32 until_timed;       /* faults until the next timed one */
	__u32 since_event;       /* completed faults since the last event */
	__u32 pad;
	struct pf_proc n;
};

struct pf_event {
	__u64 ts_ns;
	__u64 address;
	__u64 latency_ns;        /* 0: unknown */
	__u32 type;              /* enum pf_type */
	__u32 error_code;
	struct ks_task task;
};

#endif
