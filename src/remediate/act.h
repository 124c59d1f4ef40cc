/* EXECUTE: the actions the remediation agent can take on a process or its
 * cgroup, and how to undo the reversible ones.
 *
 * Every function checks the guard rails first (act__allowed) and returns a
 * negative errno with a one-line result text; nothing here decides *whether*
 * to act, only does it.  A process is held by a pidfd from the decision on,
 * so a pid reused meanwhile is never signalled.  Terminate is two-step:
 * act__execute sends SIGTERM and the engine calls act__kill after the grace
 * period if the process is still there.  Actions on a cgroup (memory_high,
 * cpu_weight) are refused when the group holds a process the rule may not
 * touch (PID 1, ksight, or one outside the rule's match).
 */
#ifndef KS_ACT_H
#define KS_ACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

#define ACT_TEXT_MAX 256

/* What an action changed, to undo it. */
struct act_undo {
	bool valid;
	enum action_kind kind;
	pid_t pid;
	int old_nice;
	int old_ioprio;
	char file[512];          /* cgroup file written (memory.high, cpu.weight ...) */
	char old_value[64];
};

/* Root prefix for /proc and /sys (tests) and cgroup mount points. */
struct act_env {
	const char *root;
	const char *cgroup2_mount;    /* e.g. /sys/fs/cgroup/unified or /sys/fs/cgroup */
	const char *memcg_mount;      /* v1 memory hierarchy, "" if none */
	const char *cpucg_mount;      /* v1 cpu hierarchy, "" if none */
};

/* Guard rails: never PID 1, a kernel thread, ksight itself or its parent.
 * Returns 0 or -EPERM with the reason in why. */
int act__allowed(const struct act_env *env, pid_t pid, char *why);

/* A pidfd for pid (the caller closes it), or a negative errno. */
int act__pidfd(pid_t pid);

/* Runs r's action on the process held by pidfd (pid is its number, for
 * /proc and cgroups; -1/0 for host-wide actions). */
int act__execute(const struct act_env *env, const struct rule *r, pid_t pid, int pidfd, struct act_undo *undo,
		char *result);
/* SIGKILL for a terminate whose grace ran out; 0 when it was already gone. */
int act__kill(int pidfd, pid_t pid, char *result);
/* Puts back what undo recorded, if the process held by pidfd still runs. */
int act__undo(const struct act_undo *undo, int pidfd, char *result);
/* True while the process held by pidfd has not exited. */
bool act__alive(int pidfd);

#endif
