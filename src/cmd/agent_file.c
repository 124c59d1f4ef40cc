/* The running agent's file (see agent_file.h). */
#include "agent_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../version.h"

struct agent_file {
	int fd;
	char path[PATH_MAX];
	struct agent_info info;
};

static int file_path(const char *db_path, char *out, size_t size)
{
	return snprintf(out, size, "%s" AGENT_FILE_SUFFIX, db_path) >= (int)size ? -ENAMETOOLONG : 0;
}

static int write_info(struct agent_file *f)
{
	char text[sizeof(f->info) + 128];
	int n = snprintf(text, sizeof(text), "pid=%d\nstarted=%lld\nurl=%s\nversion=%s\ndb=%s\n", (int)f->info.pid,
			 (long long)f->info.started_ns, f->info.url, f->info.version, f->info.db);

	if (ftruncate(f->fd, 0) || pwrite(f->fd, text, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

static void parse_info(const char *text, struct agent_info *ret)
{
	char line[4200];
	const char *p = text;

	memset(ret, 0, sizeof(*ret));
	while (*p) {
		size_t n = strcspn(p, "\n");
		char *eq;

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		if (!(eq = strchr(line, '=')))
			continue;
		*eq++ = '\0';
		if (!strcmp(line, "pid"))
			ret->pid = (pid_t)atoi(eq);
		else if (!strcmp(line, "started"))
			ret->started_ns = strtoll(eq, NULL, 10);
		else if (!strcmp(line, "url"))
			snprintf(ret->url, sizeof(ret->url), "%s", eq);
		else if (!strcmp(line, "version"))
			snprintf(ret->version, sizeof(ret->version), "%s", eq);
		else if (!strcmp(line, "db"))
			snprintf(ret->db, sizeof(ret->db), "%s", eq);
	}
}

static int read_info(int fd, struct agent_info *ret)
{
	char text[sizeof(*ret) + 256];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	if (n < 0)
		return -errno;
	text[n] = '\0';
	parse_info(text, ret);
	return 0;
}

int agent_file__claim(const char *db_path, int64_t started_ns, struct agent_file **ret,
		      struct agent_info *ret_other)
{
	struct agent_file *f = calloc(1, sizeof(*f));
	char abs[PATH_MAX];
	int rc;

	if (!f)
		return -ENOMEM;
	if ((rc = file_path(db_path, f->path, sizeof(f->path))))
		goto fail;
	f->fd = open(f->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (f->fd < 0) {
		rc = -errno;
		goto fail;
	}
	if (flock(f->fd, LOCK_EX | LOCK_NB)) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (rc == -EBUSY && ret_other)
			read_info(f->fd, ret_other);
		close(f->fd);
		goto fail;
	}
	f->info.pid = getpid();
	f->info.started_ns = started_ns;
	snprintf(f->info.version, sizeof(f->info.version), "%s", KSIGHT_VERSION);
	snprintf(f->info.db, sizeof(f->info.db), "%s", realpath(db_path, abs) ? abs : db_path);
	if ((rc = write_info(f))) {
		unlink(f->path);
		close(f->fd);
		goto fail;
	}
	*ret = f;
	return 0;
fail:
	free(f);
	return rc;
}

int agent_file__set_url(struct agent_file *f, const char *url)
{
	snprintf(f->info.url, sizeof(f->info.url), "%s", url ? url : "");
	return write_info(f);
}

struct agent_file *agent_file__release(struct agent_file *f)
{
	if (!f)
		return NULL;
	/* Unlinked while still locked: a newer agent's file is never removed. */
	unlink(f->path);
	close(f->fd);
	free(f);
	return NULL;
}

int agent_file__probe(const char *db_path, struct agent_info *ret)
{
	char path[PATH_MAX];
	int fd, rc;

	if ((rc = file_path(db_path, path, sizeof(path))))
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!flock(fd, LOCK_SH | LOCK_NB)) {
		close(fd);               /* nobody holds it: left by an agent that died */
		return 0;
	}
	rc = errno == EWOULDBLOCK ? read_info(fd, ret) : -errno;
	close(fd);
	return rc ? rc : 1;
}

const char *agent_state_dir(const char *db_path, char *buf, size_t size)
{
	const char *env = getenv("STATE_DIRECTORY");
	const char *slash;

	if (env && env[0]) {
		/* StateDirectory= with several entries: colon-separated. */
		snprintf(buf, size, "%.*s", (int)strcspn(env, ":"), env);
		return buf;
	}
	slash = strrchr(db_path, '/');
	if (!slash)
		snprintf(buf, size, ".");
	else if (slash == db_path)
		snprintf(buf, size, "/");
	else
		snprintf(buf, size, "%.*s", (int)(slash - db_path), db_path);
	return buf;
}
