/* ksight run's model: the processes of one traced job and what is made of
 * them.
 *
 * run.c (the command) starts the job and feeds every record of the proc
 * tracer to run__apply(); run_procs.c turns those records into one row per
 * process; run_output.c writes the rows to Parquet and SQLite and prints the
 * summary.  The model knows nothing of BPF or signals, so the unit tests
 * drive it with synthetic records.
 *
 * How rows are made (also in README.md):
 *  - a fork record starts a row (start = the fork, refined by the kernel's
 *    start time at exit); the child inherits its parent's filename and
 *    cmdline until it execs, as ps shows it;
 *  - an exec record sets comm, filename and cmdline (the last exec wins); a
 *    process first seen at its exec (its fork record was filtered) gets its
 *    row there;
 *  - an exit record ends the row with the kernel's accounting;
 *  - the job's own process (the root) was forked by ksight before tracing
 *    started: its row exists from the start, and its start_time is its exec
 *    of the command, so its duration does not include ksight's setup;
 *  - ppid is the process that forked it and is kept when it is reparented.
 */
#ifndef KS_CMD_RUN_H
#define KS_CMD_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../bpf/proc.h"
#include "../lib/buf.h"
#include "../lib/u64map.h"

struct batch;
struct parquet_writer;

struct run_proc {
	uint32_t pid, ppid;
	char comm[KS_COMM_LEN + 1];
	char *filename;              /* owned; NULL: unknown */
	char *cmdline;               /* owned; NULL: unknown */
	int64_t start_ns;            /* ns since the epoch; 0: unknown */
	int64_t seen_ns;             /* first record about it */
	int64_t end_ns;              /* valid when ended */
	int exit_code;               /* -1 when killed by a signal */
	int signal;
	uint64_t cpu_user_ns, cpu_system_ns;
	uint64_t peak_rss_bytes;
	uint64_t minor_faults, major_faults;
	bool root;                   /* the job's own process */
	bool fork_seen, exec_seen;
	bool ended;                  /* its exit record arrived */
	bool running;                /* alive when tracing ended (run__finish) */
	bool exit_lost;              /* gone, but its exit record never came */
	bool hidden;                 /* left out of every output (a filtered shell) */
	/* the tree, built by run__finish() */
	struct run_proc *parent, *first_child, *next_sibling, *last_child;
	unsigned depth;
	size_t descendants;
};

struct run {
	/* what was run: set by the caller before run__init() returns, owned */
	char *command;               /* argv joined by spaces */
	char **argv;
	char *cwd, *host, *kernel;
	int64_t run_id;
	int64_t start_ns, end_ns;    /* of the run */
	bool exclude_shells;

	/* the processes, in the order they appeared; sorted by start time by
	 * run__finish() */
	struct run_proc **procs;
	size_t nprocs, cap;
	struct u64map by_pid;        /* pid -> its latest row */
	struct run_proc *root;

	/* outcome, set by the command */
	bool root_reaped;
	int root_status;             /* wait status when root_reaped */
	bool timed_out, interrupted;
	int interrupt_signal;        /* the first SIGINT/SIGTERM ksight got */
	uint64_t records_lost;       /* tracer drops: the rows may be incomplete */

	/* counts, set by run__finish() */
	size_t rows;                 /* processes in the outputs */
	size_t failed, still_running, exits_lost, hidden;
	uint64_t cpu_user_ns, cpu_system_ns;
	const struct run_proc *peak_rss;   /* the process with the largest peak RSS */
	int exit_status;             /* ksight run's own exit status */

	/* what ksight itself used, set by the command */
	uint64_t self_cpu_ns, self_peak_rss_bytes;
};

/* Exit status when the command was still running as the run ended after
 * --timeout (an interrupt gives 128 + its signal). */
#define RUN_EXIT_STILL_RUNNING 124

/* Prepares r for the job root_pid (forked by ppid, not yet exec'd) running
 * argv (copied).  host, kernel and cwd are filled from this system. */
void run__init(struct run *r, uint32_t root_pid, uint32_t ppid, char *const argv[], int64_t start_ns);

/* Applies one tracer record (the proc tracer's consumer). */
void run__apply(struct run *r, const struct proc_record *rec);

/* Rows not ended yet that are not known to be gone: the ones whose exit
 * records may still be on their way. */
size_t run__open_rows(const struct run *r);

/* Ends the model at end_ns.  alive lists the pids the kernel still tracks
 * (proc_tracer_followed()); rows not ended are "still running" when alive,
 * else hidden (with exclude_shells and no records lost: a process that
 * became a filtered shell) or "exit lost".  Sorts rows by start time, builds
 * the tree and the counts, and sets exit_status. */
void run__finish(struct run *r, const uint32_t *alive, size_t nalive, int64_t end_ns);

/* Frees everything r owns. */
void run__free(struct run *r);

/* What a row looks like to a human: "exit 3", "SIGKILL", "running"... */
const char *run_proc_status(const struct run_proc *p, char *buf, size_t size);
bool run_proc_failed(const struct run_proc *p);

/* --- outputs (run_output.c) --- */

/* Opens the Parquet writer for r's columns; see parquet_writer__open(). */
int run_parquet__open(const char *path, struct parquet_writer **ret);

/* Writes every row and the file metadata, then closes (renames) the file.
 * Returns 0 or a negative errno; the writer is freed either way. */
int run_parquet__write(const struct run *r, struct parquet_writer *w, const char *db_path);

/* Appends the runs row and the run_processes rows of r to b. */
void run__batch(const struct run *r, struct batch *b, const char *parquet_path);

struct run_outputs {
	const char *parquet;         /* written, or NULL */
	int64_t parquet_rows;
	const char *db;              /* written, or NULL */
};

/* The summary for humans, at most width columns (60 at least): tree, slowest,
 * failures, totals.  color: ANSI colours. */
void run__print_summary(const struct run *r, const struct run_outputs *out, FILE *f, bool color,
			unsigned width);

/* The summary as one JSON object, appended to out. */
void run__json(const struct run *r, const struct run_outputs *out, struct buf *json);

#endif
