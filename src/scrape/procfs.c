/* Root-prefixed /proc and /sys reads (see procfs.h). */
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/buf.h"

void procfs_path(const char *root, const char *path, char *out, size_t size)
{
	if (!root || !*root || !strcmp(root, "/"))
		snprintf(out, size, "%s", path);
	else
		snprintf(out, size, "%s%s", root, path);
}

ssize_t procfs_read(const char *root, const char *path, char *buf, size_t size)
{
	char full[4096];
	size_t len = 0;
	int fd;

	procfs_path(root, path, full, sizeof(full));
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

int64_t procfs_field(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, klen) && (p[klen] == ':' || p[klen] == ' ' || p[klen] == '\t')) {
			const char *v = p + klen;
			char *end;
			long long n;

			while (*v == ':' || *v == ' ' || *v == '\t')
				v++;
			n = strtoll(v, &end, 10);
			return end == v ? -1 : n;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static int procfs_open(const char *root, const char *path)
{
	char full[4096];
	int fd;

	procfs_path(root, path, full, sizeof(full));
	fd = open(full, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

ssize_t procfs_read_buf(const char *root, const char *path, struct buf *b)
{
	int fd = procfs_open(root, path);

	if (fd < 0)
		return fd;
	buf_reset(b);
	for (;;) {
		ssize_t n;

		buf_grow(b, 4096);
		n = read(fd, b->data + b->len, b->cap - 1 - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
	}
	close(fd);
	b->data[b->len] = '\0';
	return (ssize_t)b->len;
}

int procfs_lines(const char *root, const char *path,
		 int (*fn)(char *line, size_t len, void *ctx), void *ctx)
{
	enum { CHUNK = 64 * 1024 };
	char *chunk;
	size_t have = 0;
	int fd, rc = 0;
	bool eof = false;

	if ((fd = procfs_open(root, path)) < 0)
		return fd;
	if (!(chunk = malloc(CHUNK + 1))) {
		close(fd);
		return -ENOMEM;
	}
	while (!rc && !(eof && have == 0)) {
		char *line = chunk, *nl;

		if (!eof) {
			ssize_t n = read(fd, chunk + have, CHUNK - have);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = -errno;
				break;
			}
			eof = n == 0;
			have += (size_t)n;
		}
		/* Hand out every complete line; at EOF the rest is one too. */
		while (!rc && (nl = memchr(line, '\n', have - (size_t)(line - chunk)))) {
			*nl = '\0';
			rc = fn(line, (size_t)(nl - line), ctx);
			line = nl + 1;
		}
		have -= (size_t)(line - chunk);
		if (rc)
			break;
		memmove(chunk, line, have);
		if (eof && have) {
			chunk[have] = '\0';
			rc = fn(chunk, have, ctx);
			have = 0;
		} else if (have == CHUNK) {
			rc = -E2BIG;
		}
	}
	free(chunk);
	close(fd);
	return rc;
}

int procfs_list(const char *root, const char *dir, int (*fn)(const char *name, void *ctx),
		void *ctx)
{
	char full[4096];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	procfs_path(root, dir, full, sizeof(full));
	if (!(d = opendir(full)))
		return -errno;
	while (!rc && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = fn(de->d_name, ctx);
	closedir(d);
	return rc;
}
