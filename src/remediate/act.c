/* EXECUTE: actions on processes and cgroups (see actions.h). */
#include "act.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../scrape/pid.h"
#include "../scrape/procfs.h"

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_PRIO_VALUE(class, data) (((class) << 13) | (data))

static int say(char *result, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(char *result, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(result, ACT_TEXT_MAX, fmt, ap);
	va_end(ap);
	return rc;
}

int act__allowed(const struct act_env *env, pid_t pid, char *why)
{
	struct pid_info info;

	if (pid <= 1)
		return say(why, -EPERM, "pid %d is init or invalid: never a target", (int)pid);
	if (pid == getpid() || pid == getppid())
		return say(why, -EPERM, "pid %d is ksight itself or its parent: never a target", (int)pid);
	if (pid_info_read(env->root, pid, &info))
		return say(why, -ESRCH, "pid %d is gone", (int)pid);
	if (info.kthread || info.ppid == 2)
		return say(why, -EPERM, "pid %d (%s) is a kernel thread: never a target", (int)pid, info.comm);
	return 0;
}

int act__pidfd(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd;
}

bool act__alive(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	/* A pidfd turns readable when its process exits. */
	return pidfd >= 0 && poll(&p, 1, 0) == 0;
}

static int signal_pidfd(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) ? -errno : 0;
}

/* The cgroup directory of file (its parent). */
static void cgroup_dir(const char *file, char *out, size_t size)
{
	char *slash;

	snprintf(out, size, "%s", file);
	slash = strrchr(out, '/');
	if (slash)
		*slash = '\0';
}

/* Checks every process listed in dir/cgroup.procs and in every cgroup
 * below dir (a limit on a cgroup applies to its children too), reading
 * each list whole.  depth bounds the recursion.  0, or -EPERM (or the
 * error) with why. */
static int cgroup_tree_allowed(const struct act_env *env, const struct rule *r, const char *dir, int depth,
			       char *why)
{
	char path[PATH_MAX];
	char *line = NULL;
	size_t cap = 0;
	struct dirent *d;
	DIR *sub;
	FILE *f;
	int rc = 0;

	if (depth > 64)
		return say(why, -ELOOP, "%s: cgroups nested too deep to check", dir);
	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= sizeof(path))
		return say(why, -ENAMETOOLONG, "%s: path too long to check", dir);
	f = fopen(path, "r");
	if (!f)
		return say(why, -errno, "cannot read %s: %s", path, strerror(errno));
	while (!rc && getline(&line, &cap, f) > 0) {
		pid_t other = (pid_t)atoi(line);
		struct pid_info info;

		if (other <= 0 || pid_info_read(env->root, other, &info))
			continue;
		if (other == 1 || other == getpid() || other == getppid() || info.kthread)
			rc = say(why, -EPERM, "%s also holds pid %d (%s), which is never a target", dir, (int)other,
				 info.comm);
		else if (!rule_matches(r, info.comm, pid_info_cgroup(&info), info.uid))
			rc = say(why, -EPERM, "%s also holds pid %d (%s), which the rule does not match", dir,
				 (int)other, info.comm);
	}
	free(line);
	fclose(f);
	if (rc || !(sub = opendir(dir)))
		return rc;
	while (!rc && (d = readdir(sub))) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, d->d_name) >= sizeof(path))
			rc = say(why, -ENAMETOOLONG, "%s/%s: path too long to check", dir, d->d_name);
		else
			rc = cgroup_tree_allowed(env, r, path, depth + 1, why);
	}
	closedir(sub);
	return rc;
}

/* A cgroup-wide action must not reach a process the rule may not touch:
 * not in the cgroup of file, nor in any cgroup below it. */
static int cgroup_allowed(const struct act_env *env, const struct rule *r, const char *file, char *why)
{
	char dir[PATH_MAX];

	cgroup_dir(file, dir, sizeof(dir));
	return cgroup_tree_allowed(env, r, dir, 0, why);
}

/* Whether file is the v1 cpu.shares (1024 per weight 100), by its name,
 * not by a search of the whole path (a cgroup may be named "cpu.shares"). */
static bool is_cpu_shares(const char *file)
{
	const char *slash = strrchr(file, '/');

	return !strcmp(slash ? slash + 1 : file, "cpu.shares");
}

/* The cgroup's memory in use: the default memory.high keeps it where it is. */
static uint64_t cgroup_memory(const char *file)
{
	char dir[512], path[600], text[64];
	FILE *f;

	cgroup_dir(file, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, strstr(file, "memory.high") ? "memory.current" : "memory.usage_in_bytes");
	f = fopen(path, "r");
	if (!f || !fgets(text, sizeof(text), f)) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	return strtoull(text, NULL, 10);
}

/* Calls fn(tid) for every thread of the process held by pidfd (pid is its
 * number); returns the first error.  The task directory is opened first
 * and the process checked alive after: a directory of a pid that was
 * reused meanwhile would list someone else's threads.  Each thread's
 * directory is held while fn runs, and a thread that has exited by then
 * is skipped (its tid could be reused; fn is never called on a number
 * the held process no longer owns when it was listed and opened). */
static int for_threads(const struct act_env *env, pid_t pid, int pidfd, int (*fn)(pid_t tid, void *ctx),
		       void *ctx)
{
	char path[128], full[512];
	struct dirent *d;
	DIR *dir;
	int rc = 0, n = 0, taskfd;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	procfs_path(env->root, path, full, sizeof(full));
	taskfd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (taskfd < 0)
		return -errno;
	if (pidfd >= 0 && !act__alive(pidfd)) {
		close(taskfd);
		return -ESRCH;
	}
	dir = fdopendir(taskfd);
	if (!dir) {
		rc = -errno;
		close(taskfd);
		return rc;
	}
	while ((d = readdir(dir))) {
		pid_t tid = (pid_t)atoi(d->d_name);
		int r, tfd;

		if (tid <= 0)
			continue;
		/* An open task directory answers ENOENT/ESRCH once its thread
		 * has exited: checked just before fn, the tid is still ours. */
		tfd = openat(taskfd, d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (tfd < 0)
			continue;
		if (faccessat(tfd, "stat", R_OK, 0)) {
			close(tfd);
			continue;
		}
		r = fn(tid, ctx);
		close(tfd);
		if (r && !rc && r != -ESRCH)
			rc = r;
		n++;
	}
	closedir(dir);
	return n ? rc : -ESRCH;
}

static int set_nice(pid_t tid, void *ctx)
{
	return setpriority(PRIO_PROCESS, (id_t)tid, *(int *)ctx) ? -errno : 0;
}

static int set_ioprio(pid_t tid, void *ctx)
{
	return syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, tid, *(int *)ctx) ? -errno : 0;
}

/* The cgroup directory of pid for a controller file: cgroup2 when the
 * process has a real v2 cgroup, else the v1 hierarchy given. */
static int cgroup_file(const struct act_env *env, const struct pid_info *info, const char *v2file,
		       const char *v1mount, const char *v1path, const char *v1file, char *out, size_t size)
{
	if (env->cgroup2_mount[0] && info->cgroup2[0] && strcmp(info->cgroup2, "/") &&
	    (size_t)snprintf(out, size, "%s%s/%s", env->cgroup2_mount, info->cgroup2, v2file) < size &&
	    access(out, W_OK) == 0)
		return 0;
	if (v1mount[0] && v1path[0] && strcmp(v1path, "/") &&
	    (size_t)snprintf(out, size, "%s%s/%s", v1mount, v1path, v1file) < size && access(out, W_OK) == 0)
		return 0;
	return -ENOENT;
}

static int read_small(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	if (!fgets(out, (int)size, f))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
	return 0;
}

static int write_small(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int act__execute(const struct act_env *env, const struct rule *r, pid_t pid, int pidfd, struct act_undo *undo,
		char *result)
{
	struct pid_info info;
	char value[64];
	int rc, prio;

	memset(undo, 0, sizeof(*undo));
	undo->kind = r->action;
	undo->pid = pid;
	if (r->action == ACTION_NOTIFY)
		return say(result, 0, "notified");
	if (r->action == ACTION_DROP_CACHES) {
		rc = write_small("/proc/sys/vm/drop_caches", "1");
		return rc ? say(result, rc, "drop_caches failed: %s", strerror(-rc)) : say(result, 0, "page cache dropped");
	}
	if ((rc = act__allowed(env, pid, result)))
		return rc;
	if ((rc = pid_info_read(env->root, pid, &info)) || !act__alive(pidfd))
		return say(result, rc ? rc : -ESRCH, "pid %d is gone", (int)pid);

	switch (r->action) {
	case ACTION_RENICE:
		errno = 0;
		undo->old_nice = getpriority(PRIO_PROCESS, (id_t)pid);
		if (errno)
			return say(result, -errno, "getpriority(%d): %s", (int)pid, strerror(errno));
		prio = r->nice;
		rc = for_threads(env, pid, pidfd, set_nice, &prio);
		if (rc)
			return say(result, rc, "renice %d failed: %s", (int)pid, strerror(-rc));
		undo->valid = true;
		return say(result, 0, "nice %d -> %d for every thread of %d (%s)", undo->old_nice, r->nice, (int)pid,
			   info.comm);
	case ACTION_IONICE:
		undo->old_ioprio = (int)syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, pid);
		if (undo->old_ioprio < 0)
			return say(result, -errno, "ioprio_get(%d): %s", (int)pid, strerror(errno));
		prio = IOPRIO_PRIO_VALUE(r->ioprio_class, r->ioprio_level);
		rc = for_threads(env, pid, pidfd, set_ioprio, &prio);
		if (rc)
			return say(result, rc, "ionice %d failed: %s", (int)pid, strerror(-rc));
		undo->valid = true;
		return say(result, 0, "I/O class %s for every thread of %d (%s)",
			   r->ioprio_class == 3 ? "idle" : "best-effort", (int)pid, info.comm);
	case ACTION_MEMORY_HIGH:
		/* v2 memory.high throttles; v1 has no such knob, the soft limit
		 * makes reclaim favour the group under pressure. */
		if (cgroup_file(env, &info, "memory.high", env->memcg_mount, info.memcg, "memory.soft_limit_in_bytes",
				undo->file, sizeof(undo->file)))
			return say(result, -ENOENT, "%d (%s) is in no memory cgroup ksight may limit", (int)pid, info.comm);
		if ((rc = cgroup_allowed(env, r, undo->file, result)))
			return rc;
		read_small(undo->file, undo->old_value, sizeof(undo->old_value));
		snprintf(value, sizeof(value), "%llu",
			 (unsigned long long)(r->memory_high_bytes ? r->memory_high_bytes : cgroup_memory(undo->file)));
		if ((rc = write_small(undo->file, value)))
			return say(result, rc, "writing %s: %s", undo->file, strerror(-rc));
		undo->valid = true;
		return say(result, 0, "%s = %s (was %s)", undo->file, value, undo->old_value);
	case ACTION_CPU_WEIGHT:
		if (cgroup_file(env, &info, "cpu.weight", env->cpucg_mount, info.cpucg, "cpu.shares", undo->file,
				sizeof(undo->file)))
			return say(result, -ENOENT, "%d (%s) is in no cpu cgroup ksight may weigh", (int)pid, info.comm);
		if ((rc = cgroup_allowed(env, r, undo->file, result)))
			return rc;
		read_small(undo->file, undo->old_value, sizeof(undo->old_value));
		/* cpu.shares is 1024 for weight 100 */
		snprintf(value, sizeof(value), "%llu",
			 (unsigned long long)(is_cpu_shares(undo->file) ? r->cpu_weight * 1024 / 100 : r->cpu_weight));
		if ((rc = write_small(undo->file, value)))
			return say(result, rc, "writing %s: %s", undo->file, strerror(-rc));
		undo->valid = true;
		return say(result, 0, "%s = %s (was %s)", undo->file, value, undo->old_value);
	case ACTION_TERMINATE:
		if ((rc = signal_pidfd(pidfd, SIGTERM)))
			return say(result, rc, "SIGTERM to %d: %s", (int)pid, strerror(-rc));
		return say(result, 0, "SIGTERM sent to %d (%s)", (int)pid, info.comm);
	default:
		return say(result, -EINVAL, "unknown action");
	}
}

int act__kill(int pidfd, pid_t pid, char *result)
{
	int rc = signal_pidfd(pidfd, SIGKILL);

	if (rc == -ESRCH)
		return say(result, 0, "%d had exited", (int)pid);
	if (rc)
		return say(result, rc, "SIGKILL to %d: %s", (int)pid, strerror(-rc));
	return say(result, 0, "SIGKILL sent to %d after the grace period", (int)pid);
}

int act__undo(const struct act_undo *undo, int pidfd, char *result)
{
	int rc, prio;
	struct act_env env = { "", "", "", "" };

	if (!undo->valid)
		return say(result, -EINVAL, "nothing to undo");
	if ((undo->kind == ACTION_RENICE || undo->kind == ACTION_IONICE) && !act__alive(pidfd))
		return say(result, -ESRCH, "%d has exited: nothing to undo", (int)undo->pid);
	switch (undo->kind) {
	case ACTION_RENICE:
		prio = undo->old_nice;
		rc = for_threads(&env, undo->pid, pidfd, set_nice, &prio);
		return rc ? say(result, rc, "restoring nice: %s", strerror(-rc))
			  : say(result, 0, "nice restored to %d", undo->old_nice);
	case ACTION_IONICE:
		prio = undo->old_ioprio;
		rc = for_threads(&env, undo->pid, pidfd, set_ioprio, &prio);
		return rc ? say(result, rc, "restoring I/O priority: %s", strerror(-rc))
			  : say(result, 0, "I/O priority restored");
	case ACTION_MEMORY_HIGH:
	case ACTION_CPU_WEIGHT:
		rc = write_small(undo->file, undo->old_value);
		return rc ? say(result, rc, "restoring %s: %s", undo->file, strerror(-rc))
			  : say(result, 0, "%s restored to %s", undo->file, undo->old_value);
	default:
		return say(result, -EINVAL, "%s cannot be undone", action_name(undo->kind));
	}
}
