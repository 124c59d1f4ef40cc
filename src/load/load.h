/* Built-in load generators for `ksight stress`.
 *
 * Each generator runs in its own child process until a deadline and makes
 * the kernel produce the events the tracers and scrapers record: CPU
 * contention, page faults (minor and major), O_DIRECT block I/O, a
 * file-system syscall storm, TCP connections with an HTTP-like exchange on
 * loopback, and TCP retransmits in a private network namespace.  When
 * stress-ng or fio are installed, the CPU/memory and disk generators run
 * them instead (load_spawn says which).
 */
#ifndef KS_LOAD_H
#define KS_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum load_kind {
	LOAD_CPU,
	LOAD_MEMORY,
	LOAD_DISK,
	LOAD_FILES,
	LOAD_TCP,
	LOAD_RETRANSMIT,
	LOAD_COUNT,
};

struct load {
	enum load_kind kind;
	pid_t pid;
	char what[160];            /* one line for the user: what runs */
};

/* Starts generator kind for duration_ns, working in dir (a writable
 * directory on the disk to exercise).  Fills *ret and returns 0, or a
 * negative errno.  The child exits by itself at the deadline. */
int load_spawn(enum load_kind kind, const char *dir, int64_t duration_ns, struct load *ret);

/* Asks every started generator to stop (SIGTERM) and reaps them. */
void load_stop_all(struct load *loads, int n);

#endif
