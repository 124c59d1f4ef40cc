/* ksight run: tracer records -> one row per process (see run.h). */
#include "run.h"

#include <assert.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

static void set_str(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

static char *join_argv(char *const argv[])
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; argv[i]; i++) {
		if (i)
			buf_addc(&b, ' ');
		buf_adds(&b, argv[i]);
	}
	return buf_detach(&b);
}

static struct run_proc *add_row(struct run *r, uint32_t pid, uint32_t ppid, int64_t seen_ns)
{
	struct run_proc *p = calloc(1, sizeof(*p));

	if (!p)
		abort();
	if (r->nprocs == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->procs = realloc(r->procs, r->cap * sizeof(*r->procs));
		if (!r->procs)
			abort();
	}
	r->procs[r->nprocs++] = p;
	p->pid = pid;
	p->ppid = ppid;
	p->seen_ns = seen_ns;
	u64map_put(&r->by_pid, pid, p);
	return p;
}

void run__init(struct run *r, uint32_t root_pid, uint32_t ppid, char *const argv[], int64_t start_ns)
{
	struct utsname u;
	size_t n = 0;
	char *cwd;
	const char *base;

	memset(r, 0, sizeof(*r));
	while (argv[n])
		n++;
	r->argv = calloc(n + 1, sizeof(*r->argv));
	if (!r->argv)
		abort();
	for (size_t i = 0; i < n; i++)
		r->argv[i] = xstrdup(argv[i]);
	r->command = join_argv(argv);
	cwd = getcwd(NULL, 0);
	r->cwd = cwd ? cwd : xstrdup("?");
	if (uname(&u) == 0) {
		size_t len = strlen(u.release) + strlen(u.version) + 2;

		r->host = xstrdup(u.nodename);
		r->kernel = malloc(len);
		if (!r->kernel)
			abort();
		snprintf(r->kernel, len, "%s %s", u.release, u.version);
	} else {
		r->host = xstrdup("?");
		r->kernel = xstrdup("?");
	}
	r->run_id = start_ns;
	r->start_ns = start_ns;
	r->root = add_row(r, root_pid, ppid, start_ns);
	r->root->root = true;
	base = strrchr(argv[0], '/');
	snprintf(r->root->comm, sizeof(r->root->comm), "%.*s", KS_COMM_LEN - 1, base ? base + 1 : argv[0]);
}

/* The row a record about pid belongs to: its live row, or a new one when
 * there is none (first record about it) or the previous one ended (the pid
 * was reused). */
static struct run_proc *row_for(struct run *r, const struct proc_record *rec, bool *created)
{
	struct run_proc *p = u64map_get(&r->by_pid, rec->pid);

	*created = false;
	if (p && !p->ended && !p->exit_lost)
		return p;
	*created = true;
	p = add_row(r, rec->pid, rec->ppid, rec->time_ns);
	snprintf(p->comm, sizeof(p->comm), "%s", rec->comm);
	return p;
}

void run__apply(struct run *r, const struct proc_record *rec)
{
	struct run_proc *p, *parent;
	bool created;

	switch (rec->kind) {
	case PROC_FORK:
		p = u64map_get(&r->by_pid, rec->pid);
		if (p && !p->ended && !p->exit_lost) {
			/* A new process with the pid of a row whose exit we never
			 * saw: that one is gone. */
			p->exit_lost = true;
		}
		p = row_for(r, rec, &created);
		p->fork_seen = true;
		p->start_ns = rec->time_ns;
		parent = u64map_get(&r->by_pid, rec->ppid);
		if (parent && !parent->ended) {
			set_str(&p->filename, parent->filename);
			set_str(&p->cmdline, parent->cmdline);
		}
		break;
	case PROC_EXEC:
		p = row_for(r, rec, &created);
		snprintf(p->comm, sizeof(p->comm), "%s", rec->comm);
		set_str(&p->filename, rec->filename[0] ? rec->filename : NULL);
		set_str(&p->cmdline, rec->argv_known ? rec->argv : NULL);
		if (p->root && !p->exec_seen)
			p->start_ns = rec->time_ns;
		p->exec_seen = true;
		break;
	case PROC_EXIT:
		p = row_for(r, rec, &created);
		/* The exit record's comm is the last thread's, which may be a
		 * thread name: keep the process's own when known. */
		if (!p->comm[0])
			snprintf(p->comm, sizeof(p->comm), "%s", rec->comm);
		if (!p->root || !p->start_ns)
			p->start_ns = rec->start_ns;
		p->ended = true;
		p->end_ns = rec->time_ns;
		p->exit_code = rec->exit_code;
		p->signal = rec->signal;
		p->cpu_user_ns = rec->cpu_user_ns;
		p->cpu_system_ns = rec->cpu_system_ns;
		p->peak_rss_bytes = rec->peak_rss_bytes;
		p->minor_faults = rec->minor_faults;
		p->major_faults = rec->major_faults;
		break;
	default:
		break;
	}
}

size_t run__open_rows(const struct run *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nprocs; i++)
		n += !r->procs[i]->ended && !r->procs[i]->exit_lost;
	return n;
}

bool run_proc_failed(const struct run_proc *p)
{
	return p->ended && (p->signal != 0 || p->exit_code != 0);
}

const char *run_proc_status(const struct run_proc *p, char *buf, size_t size)
{
	if (p->running)
		snprintf(buf, size, "running");
	else if (!p->ended)
		snprintf(buf, size, "no exit");
	else if (p->signal) {
		const char *name = sigabbrev_np(p->signal);

		if (name)
			snprintf(buf, size, "SIG%s", name);
		else
			snprintf(buf, size, "signal %d", p->signal);
	} else if (p->exit_code)
		snprintf(buf, size, "exit %d", p->exit_code);
	else
		snprintf(buf, size, "ok");
	return buf;
}

static int by_start(const void *a, const void *b)
{
	const struct run_proc *p = *(const struct run_proc *const *)a, *q = *(const struct run_proc *const *)b;
	int64_t ps = p->start_ns ? p->start_ns : p->seen_ns, qs = q->start_ns ? q->start_ns : q->seen_ns;

	/* The root first: its start is its exec, after its children's parent
	 * (ksight) forked it. */
	if (p->root != q->root)
		return p->root ? -1 : 1;
	if (ps != qs)
		return ps < qs ? -1 : 1;
	return p->pid < q->pid ? -1 : p->pid > q->pid;
}

static bool pid_in(uint32_t pid, const uint32_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* Links each row under the row of its ppid that was alive when it started
 * (rows are in start order, so that is the latest one seen so far). */
static void build_tree(struct run *r)
{
	struct u64map latest = U64MAP_INIT;

	for (size_t i = 0; i < r->nprocs; i++) {
		struct run_proc *p = r->procs[i], *parent;

		if (p->hidden)
			continue;
		parent = p->root ? NULL : u64map_get(&latest, p->ppid);
		if (parent) {
			p->parent = parent;
			p->depth = parent->depth + 1;
			if (parent->last_child)
				parent->last_child->next_sibling = p;
			else
				parent->first_child = p;
			parent->last_child = p;
			for (struct run_proc *a = parent; a; a = a->parent)
				a->descendants++;
		}
		u64map_put(&latest, p->pid, p);
	}
	u64map_free(&latest);
}

void run__finish(struct run *r, const uint32_t *alive, size_t nalive, int64_t end_ns)
{
	struct run_proc *root = r->root;

	r->end_ns = end_ns;
	for (size_t i = 0; i < r->nprocs; i++) {
		struct run_proc *p = r->procs[i];

		if (p->ended)
			continue;
		if (!p->exit_lost && pid_in(p->pid, alive, nalive))
			p->running = true;
		else if (r->exclude_shells && !r->records_lost && !p->root)
			p->hidden = true;     /* it became a shell, whose records are dropped */
		else
			p->exit_lost = true;
	}
	/* The root's exec record can only be missing when records were lost:
	 * what ksight itself executed is known. */
	if (!root->exec_seen) {
		if (!root->filename)
			set_str(&root->filename, r->argv[0]);
		if (!root->cmdline)
			root->cmdline = join_argv(r->argv);
		if (!root->start_ns)
			root->start_ns = r->start_ns;
	}
	qsort(r->procs, r->nprocs, sizeof(*r->procs), by_start);
	build_tree(r);

	r->rows = r->failed = r->still_running = r->exits_lost = r->hidden = 0;
	r->cpu_user_ns = r->cpu_system_ns = 0;
	r->peak_rss = NULL;
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct run_proc *p = r->procs[i];

		if (p->hidden) {
			r->hidden++;
			continue;
		}
		r->rows++;
		r->failed += run_proc_failed(p);
		r->still_running += p->running;
		r->exits_lost += p->exit_lost;
		r->cpu_user_ns += p->cpu_user_ns;
		r->cpu_system_ns += p->cpu_system_ns;
		if (p->ended && (!r->peak_rss || p->peak_rss_bytes > r->peak_rss->peak_rss_bytes))
			r->peak_rss = p;
	}

	if (r->root_reaped && WIFEXITED(r->root_status))
		r->exit_status = WEXITSTATUS(r->root_status);
	else if (r->root_reaped && WIFSIGNALED(r->root_status))
		r->exit_status = 128 + WTERMSIG(r->root_status);
	else if (root->ended)
		r->exit_status = root->signal ? 128 + root->signal : root->exit_code;
	else if (r->interrupt_signal)
		r->exit_status = 128 + r->interrupt_signal;
	else
		r->exit_status = RUN_EXIT_STILL_RUNNING;
}

void run__free(struct run *r)
{
	for (size_t i = 0; i < r->nprocs; i++) {
		free(r->procs[i]->filename);
		free(r->procs[i]->cmdline);
		free(r->procs[i]);
	}
	free(r->procs);
	u64map_free(&r->by_pid);
	for (size_t i = 0; r->argv && r->argv[i]; i++)
		free(r->argv[i]);
	free(r->argv);
	free(r->command);
	free(r->cwd);
	free(r->host);
	free(r->kernel);
	memset(r, 0, sizeof(*r));
}
