/* The proc tracer's user-side API, for ksight run: follow one process
 * tree instead of the whole host, take the decoded records instead of
 * process_events rows, and ask which followed processes are still alive.
 * (proc.h is the contract with the kernel side; this is not part of it.)
 */
#ifndef KS_PROC_TRACER_H
#define KS_PROC_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc.h"

struct tracer;

struct proc_follow_opts {
	/* Followed with all its descendants; 0: all.  Following also makes
	 * exit records exact: they are sent at the task's last context
	 * switch, with its CPU time complete. */
	uint32_t root_pid;
	/* Drop sh/bash/dash/zsh records in the kernel, except root_pid's; the
	 * ppid of every record is then its nearest ancestor that is not a
	 * dropped shell. */
	bool exclude_shells;
};

/* Options for the next tracer__open of the proc tracer (ksight run): follow
 * one process tree only.  Process-wide; call before collector__open. */
void proc_tracer_follow(const struct proc_follow_opts *opts);

/* Sends decoded records to fn instead of storing process_events rows.
 * Call after collector__open, before the loop runs. */
void proc_tracer_set_consumer(struct tracer *t, void (*fn)(void *ctx, const struct proc_record *r),
			      void *ctx);

/* The followed processes still alive, as the kernel side tracks them: every
 * descendant of root_pid whose exit has not happened yet, including those
 * whose records were dropped or filtered (exclude_shells).  Writes up to max
 * pids into pids (NULL with max 0 only counts) and returns the number alive,
 * or a negative errno.  Only meaningful with a root_pid. */
int proc_tracer_followed(struct tracer *t, uint32_t *pids, size_t max);

#endif
