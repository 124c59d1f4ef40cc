/* Harness for BPF tests: the real collector, the real store, a workload.
 *
 * ktest_init() prepares a config and a temporary directory;
 * ktest_spawn() may start the workload paused first (to point a tracer at
 * its pid through k->cfg); ktest_start() opens the database and starts the
 * selected tracers and scrapers; ktest_workload() runs (or releases) the
 * workload while the collector loop runs and stops the loop when it exits;
 * ktest_int() then asks the database what was recorded.
 */
#ifndef KS_KTEST_H
#define KS_KTEST_H

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>

#include "../../src/collect/collector.h"
#include "../../src/config/config.h"
#include "../../src/lib/clock.h"
#include "../../src/store/store.h"
#include "../../src/store/writer.h"
#include "tap.h"

struct ktest {
	struct config cfg;
	char dir[64];
	char db[PATH_MAX];
	struct store *store;          /* writer's connection */
	struct store *reader;         /* read-only, opened after the run */
	struct collector *col;
	struct writer *writer;
	struct writer_stats ws;
	pid_t child;
	int child_go;                 /* write end of the paused child's pipe, or -1 */
	int child_status;
	bool child_done;
	int64_t grace_ns;             /* keep collecting this long after the child exits */
	int64_t stop_at;
};

/* Path of a built helper program, in one of 8 static buffers used in turn
 * (so that sanitized test builds see no leak). */
static inline char *ktest_helper(const char *name)
{
	static char paths[8][PATH_MAX];
	static int next;
	char *path = paths[next++ % 8];
	char self[PATH_MAX - 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	/* .output/t/bpf/x.t -> .output/t/helpers/name */
	self[n > 0 ? n : 0] = '\0';
	*strrchr(self, '/') = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(path, PATH_MAX, "%s/helpers/%s", self, name);
	return path;
}

static inline void ktest_init(struct ktest *k)
{
	memset(k, 0, sizeof(*k));
	k->child_go = -1;
	config__defaults(&k->cfg);
	/* These tests check what the tracers record at full fidelity; the
	 * overhead budget, which samples on a busy machine, has its own
	 * (t/unit/budget.c, t/e2e/budget.t). */
	k->cfg.max_overhead_pct = 0;
	snprintf(k->dir, sizeof(k->dir), "/tmp/ksight-bpf.XXXXXX");
	if (!mkdtemp(k->dir))
		bail_out("mkdtemp failed");
	snprintf(k->db, sizeof(k->db), "%s/test.db", k->dir);
}

/* Forks argv paused (it execs when ktest_workload releases it); stdout goes
 * to out_path when given.  Returns its pid. */
static inline pid_t ktest_spawn(struct ktest *k, char *const argv[], const char *out_path)
{
	int go[2];
	sigset_t none;
	char c;

	if (pipe(go))
		bail_out("pipe");
	k->child_done = false;
	k->child = fork();
	if (k->child == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(125);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (out_path && !freopen(out_path, "w", stdout))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(go[0]);
	k->child_go = go[1];
	return k->child;
}

/* tracers/scrapers: which to run (NULL: none of that kind). */
static inline void ktest_start(struct ktest *k, const bool *tracers, const bool *scrapers)
{
	static const bool none_t[TRACER_COUNT], none_s[SCRAPER_COUNT];
	struct collector_opts opts = { tracers ? tracers : none_t, scrapers ? scrapers : none_s, false };
	char err[STORE_ERR_MAX];

	if (store__open(k->db, STORE_READ_WRITE, &k->store, err))
		bail_out(err);
	if (collector__open(&k->cfg, &opts, &k->col))
		bail_out("collector__open failed");
	for (int i = 0; i < TRACER_COUNT; i++)
		if (tracers && tracers[i] && !collector__tracer(k->col, i)->enabled) {
			printf("Bail out! tracer %s did not start: %s\n", tracer_table[i]->name,
			       collector__tracer(k->col, i)->reason);
			exit(255);
		}
	if (writer__start(k->store, 1 << 28, &k->writer))
		bail_out("writer__start failed");
}

static inline bool ktest_on_signal(void *ctx, struct collector *c, int signo)
{
	struct ktest *k = ctx;

	(void)c;
	if (signo == SIGCHLD && !k->child_done && waitpid(k->child, &k->child_status, WNOHANG) == k->child) {
		k->child_done = true;
		k->stop_at = clock_mono_ns() + k->grace_ns;
		return k->grace_ns == 0;
	}
	return false;
}

static inline void ktest_on_tick(void *ctx, struct collector *c, struct batch *b, int64_t now)
{
	struct ktest *k = ctx;

	(void)b;
	(void)now;
	if (k->child_done && clock_mono_ns() >= k->stop_at)
		collector__stop(c);
}

/* Runs argv (or, with argv NULL, releases the child ktest_spawn started)
 * while collecting; returns the child's exit status (or -1).  stdout of the
 * child goes to out_path when given. */
static inline int ktest_workload(struct ktest *k, char *const argv[], const char *out_path, int64_t timeout_ns)
{
	struct collector_hooks hooks = { ktest_on_tick, ktest_on_signal, k };

	if (argv)
		ktest_spawn(k, argv, out_path);
	if (write(k->child_go, "g", 1) != 1)
		bail_out("cannot release the workload");
	close(k->child_go);
	k->child_go = -1;
	collector__run(k->col, k->writer, timeout_ns, &hooks);
	if (!k->child_done) {
		kill(k->child, SIGKILL);
		waitpid(k->child, &k->child_status, 0);
		diag("workload %s timed out", argv[0]);
		return -1;
	}
	return WIFEXITED(k->child_status) ? WEXITSTATUS(k->child_status) : -1;
}

/* Stops the collector and writer; afterwards query with ktest_int(). */
static inline void ktest_finish(struct ktest *k)
{
	char err[STORE_ERR_MAX];

	k->writer = writer__stop(k->writer, 30 * NSEC_PER_SEC, &k->ws);
	k->col = collector__close(k->col);
	k->store = store__close(k->store);
	if (store__open(k->db, STORE_READ_ONLY, &k->reader, err))
		bail_out(err);
}

/* Runs t/helpers/workload touching 20,000 fresh pages under the started
 * tracers (one test: it exited 0), stops them, and reads the workload's
 * pid and getrusage's minor and major faults. */
static inline void ktest_touch_pages(struct ktest *k, long *pid, long *minflt, long *majflt)
{
	char out[PATH_MAX], *argv[] = { ktest_helper("workload"), "touch", "20000", NULL };
	FILE *f;

	snprintf(out, sizeof(out), "%s/touch.out", k->dir);
	is(ktest_workload(k, argv, out, 30 * NSEC_PER_SEC), 0, "touched 20,000 pages");
	ktest_finish(k);
	f = fopen(out, "r");
	if (!f || fscanf(f, "%ld %ld %ld", pid, minflt, majflt) != 3)
		bail_out("no output from the workload");
	fclose(f);
}

static inline int64_t ktest_int(struct ktest *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int64_t ktest_int(struct ktest *k, const char *fmt, ...)
{
	char sql[4096], err[STORE_ERR_MAX];
	int64_t v = -1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (store__query_int(k->reader, sql, &v, err)) {
		diag("query failed: %s: %s", sql, err);
		return -1;
	}
	return v;
}

static inline void ktest_cleanup(struct ktest *k)
{
	char cmd[256];

	k->reader = store__close(k->reader);
	config__free(&k->cfg);
	if (!getenv("KTEST_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", k->dir);
		if (system(cmd))
			diag("cannot remove %s", k->dir);
	} else {
		diag("kept %s", k->db);
	}
}

#endif
