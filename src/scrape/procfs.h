/* Reading /proc and /sys files under a root prefix.
 *
 * Every scraper reads through these helpers so tests can point the root at
 * a fixture directory (t/fixtures/...) and run without root or a live
 * kernel.  The root "" or "/" means the real filesystem.
 */
#ifndef KS_PROCFS_H
#define KS_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf;

/* Reads root/path into buf (NUL-terminated, at most size-1 bytes).
 * Returns the length or a negative errno. */
ssize_t procfs_read(const char *root, const char *path, char *buf, size_t size);

/* Joins root and path into out. */
void procfs_path(const char *root, const char *path, char *out, size_t size);

/* Parses "Key:   123 kB" style lines: the value after `key` in text, or -1. */
int64_t procfs_field(const char *text, const char *key);

/* The start of the line after the one p is in (the final NUL at the end). */
static inline const char *procfs_next_line(const char *p)
{
	while (*p && *p != '\n')
		p++;
	return *p ? p + 1 : p;
}

/* Reads all of root/path into b, replacing its contents (NUL-terminated),
 * growing b as needed: for files whose size depends on the machine
 * (/proc/stat on many CPUs, /proc/diskstats, /proc/net/dev).  b keeps its
 * allocation for the next tick.  Returns the length or a negative errno. */
ssize_t procfs_read_buf(const char *root, const char *path, struct buf *b);

/* Calls fn for each line of root/path, '\n' replaced by NUL (line is
 * writable, len excludes the NUL), reading in 64 KiB chunks so a file of
 * any size (/proc/net/tcp with 100k sockets) costs bounded memory.  A line
 * longer than the chunk is an error (-E2BIG).  Stops at the first non-zero
 * return of fn and returns it; otherwise returns 0, or a negative errno
 * when the file cannot be read. */
int procfs_lines(const char *root, const char *path,
		 int (*fn)(char *line, size_t len, void *ctx), void *ctx);

/* Calls fn with the name of each entry of the directory root/dir (without
 * "." and ".."), stopping at fn's first non-zero return, which is returned.
 * Returns 0 or a negative errno when the directory cannot be opened. */
int procfs_list(const char *root, const char *dir, int (*fn)(const char *name, void *ctx),
		void *ctx);

#endif
