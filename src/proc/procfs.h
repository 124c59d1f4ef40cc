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

/* Reads root/path into buf (NUL-terminated, at most size-1 bytes).
 * Returns the length or a negative errno. */
ssize_t procfs_read(const char *root, const char *path, char *buf, size_t size);

/* Joins root and path into out. */
void procfs_path(const char *root, const char *path, char *out, size_t size);

/* Parses "Key:   123 kB" style lines: the value after `key` in text, or -1. */
int64_t procfs_field(const char *text, const char *key);

#endif
