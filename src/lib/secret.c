/* Reading and creating files that hold secrets (see secret.h). */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

ssize_t secret_file__read(const char *path, char *out, size_t size, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n, got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st)) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = -EACCES;
		snprintf(err, errlen,
			 "%s is open to other users (mode %04o): refused, as ssh refuses such keys; "
			 "chmod 600 %s, and make a new secret if others may have read it",
			 path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	while (size > 1 && (size_t)got < size - 1 && (n = read(fd, out + got, size - 1 - (size_t)got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		got += n;
	}
	if (size)
		out[got] = '\0';
	rc = (int)got;
out:
	close(fd);
	return rc;
}

int secret_file__create(const char *path, const char *text, char *err, size_t errlen)
{
	char tmp[4096];
	size_t len = strlen(text);
	unsigned char r[4];
	int fd = -1, rc = 0;

	if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
		rc = -errno;
		snprintf(err, errlen, "cannot make a random name: %s", strerror(errno));
		return rc;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%02x%02x%02x%02x.tmp", path, r[0], r[1], r[2], r[3]) >=
	    sizeof(tmp)) {
		snprintf(err, errlen, "cannot create %.200s: the name is too long", path);
		return -ENAMETOOLONG;
	}
	/* O_EXCL never follows a symlink at tmp; the mode holds whatever the umask. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return rc;
	}
	errno = 0;
	if (fchmod(fd, 0600) || write(fd, text, len) != (ssize_t)len || fsync(fd)) {
		rc = errno ? -errno : -EIO;
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(-rc));
		goto out;
	}
	/* link() refuses an existing name, symlinks included: an agent that
	 * lost a race keeps the winner's secret. */
	if (link(tmp, path)) {
		rc = -errno;
		if (rc != -EEXIST)
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
	}
out:
	close(fd);
	unlink(tmp);
	return rc;
}
