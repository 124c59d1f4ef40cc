/* Root-prefixed /proc and /sys reads (see procfs.h). */
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
