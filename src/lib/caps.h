/* Dropping the capabilities the agent no longer needs once it has started.
 *
 * `ksight agent` starts as root: loading the BPF programs needs CAP_BPF,
 * CAP_PERFMON and CAP_SYS_ADMIN, binding a port below 1024 needs
 * CAP_NET_BIND_SERVICE.  Once the programs are attached and the files
 * opened, it keeps only what its mode needs (docs/security.md):
 *
 *   observe, recommend:  CAP_DAC_READ_SEARCH (read /proc/PID files that are
 *                        0400 to their owner: io, fd, smaps), CAP_SYS_PTRACE
 *                        (/proc/PID under hidepid=, and files checked with
 *                        ptrace access: io, fd, smaps_rollup)
 *   act:                 + CAP_KILL when a rule terminates, + CAP_SYS_NICE
 *                        when a rule renices or ionices
 *
 * The rest leaves the effective, permitted, inheritable, ambient and
 * bounding sets, so neither this process nor anything it executes gets it
 * back, and no_new_privs is set.  Capabilities are per thread: call this
 * before the agent starts any thread.  Raw capget/capset/prctl calls, no
 * libcap.
 */
#ifndef KS_CAPS_H
#define KS_CAPS_H

#include <stddef.h>
#include <stdint.h>

/* Bit n: capability n (linux/capability.h numbers). */
#define CAPS_BIT(cap) (1ull << (cap))

/* Keeps only the capabilities in keep (and only those the process has).
 * Returns 0, or a negative errno with err (errlen bytes) saying which
 * call failed.  A process without CAP_SETPCAP (not root) only narrows its
 * effective and permitted sets. */
int caps__keep_only(uint64_t keep, char *err, size_t errlen);

/* The effective set of the calling thread (bits as CAPS_BIT), or 0 when
 * it cannot be read. */
uint64_t caps__effective(void);

/* Writes the names of the capabilities in set ("cap_kill,cap_sys_nice";
 * "none" for none) into out (size bytes). */
void caps__names(uint64_t set, char *out, size_t size);

#endif
