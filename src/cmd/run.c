/* ksight run -- CMD: run one command, trace it and every process it starts,
 * and report what each one cost.
 *
 * Order of events:
 *   1. fork the job; it waits on a pipe before exec'ing CMD, so its fork is
 *      ksight's and nothing of CMD runs untraced;
 *   2. open the outputs (a bad --parquet or --db fails before CMD runs);
 *   3. load the proc tracer following the job's pid (children are added in
 *      the kernel from the fork tracepoint, so unrelated processes cost one
 *      hash lookup and nothing here);
 *   4. release the job; a failed exec comes back through a close-on-exec
 *      pipe (127: not found, 126: not executable, as shells do);
 *   5. the collector loop feeds records to the model (run.h) until the job
 *      and every descendant have exited, --timeout passes, or a second
 *      interrupt;
 *   6. write Parquet and SQLite, print the summary, exit with CMD's status.
 *
 * Signals: the job stays in ksight's process group, so a Ctrl-C typed at the
 * terminal reaches it directly; SIGINT/SIGTERM sent to ksight alone (kill)
 * are forwarded to the job's processes in that group and to the job itself.
 * After an interrupt ksight waits for CMD, then stops at the next tick even
 * if descendants remain (they are reported as still running); a second
 * interrupt stops at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../bpf/proc_tracer.h"
#include "../collect/collector.h"
#include "../config/config.h"
#include "../lib/clock.h"
#include "../lib/json.h"
#include "../lib/parse.h"
#include "../store/batch.h"
#include "../store/parquet.h"
#include "../store/store.h"
#include "cmd.h"
#include "run.h"
#include "session.h"

#define TICK_NS (100 * NSEC_PER_MSEC)
#define SETTLE_TICKS 2          /* ticks to wait for exit records still on their way */
#define WAITING_NOTE_NS NSEC_PER_SEC

static void usage(void)
{
	printf("usage: ksight run [options] [--] CMD [ARGS...]\n"
	       "\n"
	       "Runs CMD, traces it and every process it starts (fork, exec, exit, from eBPF:\n"
	       "processes that live a millisecond are not missed), and reports, per process:\n"
	       "pid, parent, command line, start and end, exit status or signal, CPU user and\n"
	       "system time, peak RSS and page faults, from the kernel's own accounting.\n"
	       "Threads count in their process.  Exits with CMD's status (128+N when signal N\n"
	       "killed it).  Needs root (or CAP_BPF and CAP_PERFMON).\n"
	       "\n"
	       "ksight waits until CMD and every process it started have exited, daemons\n"
	       "included; --timeout bounds that wait.  Processes still running then are\n"
	       "reported (NULL end fields) and left running.\n"
	       "\n"
	       "Options:\n"
	       "  --parquet FILE     write one row per process to FILE (default:\n"
	       "                     ksight-run-<UTC time>.parquet in this directory)\n"
	       "  --no-parquet       do not write a Parquet file\n"
	       "  --db PATH          also append the run to this database (tables runs and\n"
	       "                     run_processes; no database without it)\n"
	       "  --json             print a JSON summary on stdout after the job's own output\n"
	       "  --exclude-shells   leave out sh, bash, dash and zsh processes (except CMD);\n"
	       "                     their children hang under their nearest other ancestor\n"
	       "  --timeout TIME     stop tracing after TIME (e.g. 30s, 5m); exit status 124\n"
	       "                     when CMD itself is still running then\n"
	       "  --quiet            no summary on stderr (errors only)\n"
	       "  -h, --help         this help\n"
	       "\n"
	       "Ctrl-C reaches the job as usual; ksight waits for CMD to exit and still writes\n"
	       "everything.  A second Ctrl-C stops waiting.\n"
	       "\n"
	       "Examples:\n"
	       "  sudo ksight run -- make -j2\n"
	       "  sudo ksight run --parquet build.parquet --exclude-shells -- ./ci/build.sh\n"
	       "  sudo ksight run --db kernelsight.db --no-parquet --json -- ./pipeline.sh > out\n"
	       "  sudo ksight run --timeout 30s -- ./start-daemon.sh\n"
	       "  node t/lib/duckdb.mjs --csv \"select cmdline, count(*), sum(duration_ns)/1e9 s\n"
	       "      from 'build.parquet' group by cmdline order by s desc limit 10\"\n");
}

struct job {
	pid_t pid;
	int go_fd;                   /* write one byte: exec now */
	int err_fd;                  /* errno of a failed exec, EOF on success */
};

/* Forks the job, which waits for job_release() before exec'ing argv with
 * the signal mask ksight was started with. */
static int job_spawn(struct job *j, char *const argv[], const sigset_t *mask)
{
	int go[2], err[2];

	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(err, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		return -errno;
	}
	j->pid = fork();
	if (j->pid < 0) {
		int rc = -errno;

		close(go[0]);
		close(go[1]);
		close(err[0]);
		close(err[1]);
		return rc;
	}
	if (j->pid == 0) {
		char c;
		int e;

		close(go[1]);
		close(err[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);       /* ksight gave up before starting us */
		sigprocmask(SIG_SETMASK, mask, NULL);
		execvp(argv[0], argv);
		e = errno;
		if (write(err[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(e == ENOENT ? 127 : 126);
	}
	close(go[0]);
	close(err[1]);
	j->go_fd = go[1];
	j->err_fd = err[0];
	return 0;
}

/* Lets the job exec; returns 0 once it did, or the errno of its failure. */
static int job_release(struct job *j)
{
	ssize_t n;
	int e = 0;

	if (write(j->go_fd, "x", 1) != 1)
		e = errno;
	close(j->go_fd);
	j->go_fd = -1;
	while ((n = read(j->err_fd, &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(j->err_fd);
	j->err_fd = -1;
	return n == sizeof(e) ? e : 0;
}

/* Kills a job that never exec'd and reaps it. */
static void job_abandon(struct job *j)
{
	if (j->go_fd >= 0)
		close(j->go_fd);
	if (j->err_fd >= 0)
		close(j->err_fd);
	kill(j->pid, SIGKILL);
	while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
		;
}

struct run_state {
	struct run run;
	struct collector *col;
	struct tracer *tracer;
	bool quiet;
	unsigned interrupts;
	int64_t root_exit_mono;      /* when CMD was reaped (CLOCK_MONOTONIC) */
	bool waiting_noted;
	unsigned settle_ticks;       /* ticks spent waiting for exit records */
	unsigned interrupt_ticks;    /* ticks since CMD exited after an interrupt */
	bool done;                   /* the hooks stopped the loop */
};

static void on_record(void *ctx, const struct proc_record *rec)
{
	struct run_state *s = ctx;

	run__apply(&s->run, rec);
}

static void reap_root(struct run_state *s)
{
	int status;

	if (s->run.root_reaped)
		return;
	if (waitpid((pid_t)s->run.root->pid, &status, WNOHANG) == (pid_t)s->run.root->pid) {
		s->run.root_reaped = true;
		s->run.root_status = status;
		s->root_exit_mono = clock_mono_ns();
	}
}

/* Tells the user once why ksight keeps running after CMD exited. */
static void note_waiting(struct run_state *s, int alive)
{
	uint32_t pids[4];
	int n;

	if (s->waiting_noted || s->quiet || clock_mono_ns() - s->root_exit_mono < WAITING_NOTE_NS)
		return;
	s->waiting_noted = true;
	n = proc_tracer_followed(s->tracer, pids, 4);
	fprintf(stderr, "ksight run: %s exited; still tracking %d process%s it started:", s->run.root->comm, alive,
		alive == 1 ? "" : "es");
	for (int i = 0; i < n && i < 4; i++) {
		struct run_proc *p = u64map_get(&s->run.by_pid, pids[i]);

		fprintf(stderr, " %u%s%s%s", pids[i], p ? " (" : "", p ? p->comm : "", p ? ")" : "");
	}
	fprintf(stderr, "%s; Ctrl-C or --timeout stops waiting\n", n > 4 ? " ..." : "");
}

static bool followed_only_root(struct run_state *s)
{
	uint32_t pid;

	return proc_tracer_followed(s->tracer, &pid, 1) == 1 && pid == s->run.root->pid;
}

/* True when the run is over: CMD reaped, the kernel tracks no process of
 * the job, and every exit record has arrived (or SETTLE_TICKS passed). */
static bool check_done(struct run_state *s, bool tick)
{
	int alive;

	if (!s->run.root_reaped)
		return false;
	alive = proc_tracer_followed(s->tracer, NULL, 0);
	/* CMD itself, reaped, but its exit record is sent at its last
	 * context switch, microseconds later: worth a short wait rather
	 * than a tick. */
	for (int i = 0; alive == 1 && i < 20 && followed_only_root(s); i++) {
		usleep(500);
		alive = proc_tracer_followed(s->tracer, NULL, 0);
	}
	if (alive > 0) {
		if (s->interrupts && tick && ++s->interrupt_ticks > SETTLE_TICKS)
			return true;
		note_waiting(s, alive);
		return false;
	}
	collector__drain(s->col);
	if (run__open_rows(&s->run) == 0)
		return true;
	return tick && ++s->settle_ticks > SETTLE_TICKS;
}

/* Sends signo to the job as a terminal would: to CMD, and to every process
 * of the job in ksight's process group. */
static void forward(struct run_state *s, int signo)
{
	uint32_t pids[1024];
	int n = proc_tracer_followed(s->tracer, pids, 1024);
	pid_t group = getpgrp();

	if (!s->run.root_reaped)
		kill((pid_t)s->run.root->pid, signo);
	for (int i = 0; i < n && i < 1024; i++)
		if (pids[i] != s->run.root->pid && getpgid((pid_t)pids[i]) == group)
			kill((pid_t)pids[i], signo);
}

static bool on_signal(void *ctx, struct collector *c, int signo)
{
	struct run_state *s = ctx;
	const struct signalfd_siginfo *si = collector__siginfo(c);

	if (signo == SIGCHLD) {
		reap_root(s);
		return s->done = check_done(s, false);
	}
	if (signo != SIGINT && signo != SIGTERM)
		return false;
	s->run.interrupted = true;
	if (!s->run.interrupt_signal)
		s->run.interrupt_signal = signo;
	if (++s->interrupts > 1) {
		if (!s->quiet)
			fprintf(stderr, "ksight run: second interrupt: stopping now\n");
		return s->done = true;
	}
	/* A terminal's signal went to the whole foreground group, the job
	 * included (SI_KERNEL); one sent to ksight alone is passed on. */
	if (!si || si->ssi_code != SI_KERNEL)
		forward(s, signo);
	if (!s->quiet && !s->run.root_reaped)
		fprintf(stderr, "ksight run: %s: waiting for %s to exit (again to stop now)\n", strsignal(signo),
			s->run.root->comm);
	return false;
}

static void on_tick(void *ctx, struct collector *c, struct batch *b, int64_t now_ns)
{
	struct run_state *s = ctx;

	(void)b;
	(void)now_ns;
	reap_root(s);
	if (!s->done && check_done(s, true)) {
		s->done = true;
		collector__stop(c);
	}
}

/* ksight-run-20250114T103012Z.parquet, or -2, -3... when taken. */
static char *default_parquet_path(int64_t now_ns)
{
	time_t t = (time_t)(now_ns / NSEC_PER_SEC);
	char stamp[32], *path = NULL;
	struct tm tm;
	struct stat st;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int i = 1; i < 1000; i++) {
		free(path);
		if ((i == 1 ? asprintf(&path, "ksight-run-%s.parquet", stamp) :
			      asprintf(&path, "ksight-run-%s-%d.parquet", stamp, i)) < 0)
			abort();
		if (stat(path, &st) < 0 && errno == ENOENT)
			break;
	}
	return path;
}

static unsigned summary_width(void)
{
	struct winsize ws;

	if (isatty(STDERR_FILENO) && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 60)
		return ws.ws_col > 120 ? 120 : ws.ws_col;
	return 80;
}

/* Start times of still-running processes whose fork was not seen, from
 * /proc/PID/stat (clock ticks after boot). */
static void fill_unknown_starts(struct run *r)
{
	struct timespec real, boot;
	long hz = sysconf(_SC_CLK_TCK);

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	for (size_t i = 0; i < r->nprocs; i++) {
		struct run_proc *p = r->procs[i];
		char path[64], line[1024], *end;
		unsigned long long ticks;
		FILE *f;

		if (p->ended || p->start_ns)
			continue;
		snprintf(path, sizeof(path), "/proc/%u/stat", p->pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		/* Field 22 is starttime; comm (field 2) may hold spaces. */
		if (fgets(line, sizeof(line), f) && (end = strrchr(line, ')')) &&
		    sscanf(end + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			   &ticks) == 1 && hz > 0) {
			int64_t boot_ns = (int64_t)real.tv_sec * NSEC_PER_SEC + real.tv_nsec -
					  ((int64_t)boot.tv_sec * NSEC_PER_SEC + boot.tv_nsec);

			p->start_ns = boot_ns + (int64_t)(ticks * (NSEC_PER_SEC / hz));
		}
		fclose(f);
	}
}

/* Appends the run to the session's database; EXIT_OK or EXIT_FAIL (printed). */
static int write_db(struct session *ses, const struct run *r, const char *parquet)
{
	struct batch b;
	char err[STORE_ERR_MAX];
	int e;

	batch__init(&b);
	run__batch(r, &b, parquet);
	e = store__write_batch(ses->store, &b, err);
	batch__free(&b);
	if (e)
		return cli_fail("run", "cannot write the run to %s: %s", ses->cfg.db_path, err);
	return EXIT_OK;
}

/* The flags of ksight run. */
struct run_flags {
	struct cli_common common;    /* --db */
	const char *parquet;         /* --parquet FILE, or NULL */
	bool no_parquet, json, exclude_shells, quiet;
	int64_t timeout_ns;          /* 0: no --timeout */
};

/* One ksight run, from the fork of the job to the last output line. */
struct run_cmd {
	struct run_flags f;
	char **argv;                 /* CMD [ARGS...] */
	struct session ses;
	struct job job;
	bool spawned;                /* the job is forked but not exec'd yet */
	char *parquet_path;          /* NULL with --no-parquet */
	struct parquet_writer *pw;
	struct run_state s;
};

/* Steps 1 and 2: the job, first (its copy of ksight is as small as it
 * gets), then the outputs, so that a bad --parquet or --db fails before
 * CMD runs. */
static int start_job(struct run_cmd *c)
{
	sigset_t orig_mask;
	int err;

	pthread_sigmask(SIG_SETMASK, NULL, &orig_mask);
	if ((err = job_spawn(&c->job, c->argv, &orig_mask)))
		return cli_fail("run", "cannot fork: %s", strerror(-err));
	c->spawned = true;
	signal(SIGPIPE, SIG_IGN);
	/* The terminal hanging up should not cost the job its record. */
	signal(SIGHUP, SIG_IGN);
	if (!c->f.no_parquet) {
		c->parquet_path = c->f.parquet ? strdup(c->f.parquet) : default_parquet_path(clock_real_ns());
		if (!c->parquet_path)
			abort();
		if ((err = run_parquet__open(c->parquet_path, &c->pw)))
			return cli_fail("run", "cannot write %s: %s", c->parquet_path, strerror(-err));
	}
	return c->f.common.db ? session__open_store(&c->ses, STORE_READ_WRITE) : EXIT_OK;
}

/* Step 3: the proc tracer, following the job. */
static int start_tracer(struct run_cmd *c)
{
	bool tracers[TRACER_COUNT] = { [TRACER_proc] = true };
	bool scrapers[SCRAPER_COUNT] = { false };
	struct run_state *s = &c->s;
	int rc;

	proc_tracer_follow(&(struct proc_follow_opts){ .root_pid = (uint32_t)c->job.pid,
						       .exclude_shells = c->f.exclude_shells });
	if ((rc = session__start_collector(&c->ses, &(struct collector_opts){ tracers, scrapers, true })))
		return rc;
	s->col = c->ses.col;
	s->tracer = collector__tracer(s->col, TRACER_proc);
	if (!s->tracer->enabled)
		return cli_fail("run", "cannot trace processes: %s%s", s->tracer->reason,
				geteuid() ? " (ksight run needs root, or CAP_BPF and CAP_PERFMON)" : "");
	s->quiet = c->f.quiet;
	run__init(&s->run, (uint32_t)c->job.pid, (uint32_t)getpid(), c->argv, clock_real_ns());
	s->run.exclude_shells = c->f.exclude_shells;
	proc_tracer_set_consumer(s->tracer, on_record, s);
	return EXIT_OK;
}

/* Step 4: lets the job exec; a failure is CMD's exit status, as a shell's
 * (127: not found, 126: not executable). */
static int release_job(struct run_cmd *c)
{
	int exec_errno = job_release(&c->job);
	const char *cmd = c->argv[0];

	if (!exec_errno) {
		c->spawned = false;          /* CMD runs: from now on it is the user's */
		return EXIT_OK;
	}
	waitpid(c->job.pid, NULL, 0);
	c->spawned = false;
	if (exec_errno == ENOENT && !strchr(cmd, '/'))
		cli_fail("run", "cannot run '%s': command not found in PATH", cmd);
	else
		cli_fail("run", "cannot run '%s': %s", cmd, strerror(exec_errno));
	return exec_errno == ENOENT ? 127 : 126;
}

/* Step 5: traces until the job is over, then ends the model with what the
 * kernel still tracks and what ksight itself used. */
static int trace(struct run_cmd *c)
{
	struct run_state *s = &c->s;
	struct collector_hooks hooks = { .on_tick = on_tick, .on_signal = on_signal, .ctx = s };
	struct rusage ru;
	uint32_t *alive;
	int rc, nalive;

	if ((rc = session__run(&c->ses, c->f.timeout_ns, &hooks)))
		return rc;
	reap_root(s);
	s->run.timed_out = !s->done && c->f.timeout_ns > 0;
	collector__drain(s->col);
	if (!(alive = calloc(FOLLOWED_MAX, sizeof(*alive))))
		abort();
	nalive = proc_tracer_followed(s->tracer, alive, FOLLOWED_MAX);
	s->run.records_lost = tracer__lost(s->tracer, true) + s->tracer->stats_total[KS_STAT_RATE_LIMITED];
	fill_unknown_starts(&s->run);
	run__finish(&s->run, alive, nalive > 0 ? (size_t)nalive : 0, clock_real_ns());
	free(alive);
	s->col = c->ses.col = collector__close(c->ses.col);
	getrusage(RUSAGE_SELF, &ru);
	s->run.self_cpu_ns = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * NSEC_PER_SEC +
			     (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * NSEC_PER_USEC;
	s->run.self_peak_rss_bytes = (uint64_t)ru.ru_maxrss * 1024;
	return EXIT_OK;
}

/* Step 6: Parquet, the database, the summary and the JSON.  Returns CMD's
 * exit status; an output failure alone is a runtime error. */
static int write_outputs(struct run_cmd *c)
{
	struct run *r = &c->s.run;
	struct run_outputs out = { 0 };
	bool failed = false;
	int err;

	if (c->pw) {
		err = run_parquet__write(r, c->pw, c->f.common.db);
		c->pw = NULL;
		if (err) {
			cli_fail("run", "cannot write %s: %s; no file was left there", c->parquet_path, strerror(-err));
			failed = true;
		} else {
			out.parquet = c->parquet_path;
			out.parquet_rows = (int64_t)r->rows;
		}
	}
	if (c->ses.store) {
		if (write_db(&c->ses, r, out.parquet))
			failed = true;
		else
			out.db = c->ses.cfg.db_path;
	}
	if (!c->f.quiet)
		run__print_summary(r, &out, stderr, cli_color(STDERR_FILENO), summary_width());
	if (c->f.json) {
		struct buf j = BUF_INIT;

		run__json(r, &out, &j);
		fflush(stdout);
		printf("%s\n", j.data);
		buf_free(&j);
	}
	return failed && r->exit_status == 0 ? EXIT_FAIL : r->exit_status;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "parquet", required_argument, NULL, 'p' },
		{ "no-parquet", no_argument, NULL, 'P' },
		CLI_OPTION_DB,
		{ "json", no_argument, NULL, 'j' },
		{ "exclude-shells", no_argument, NULL, 'x' },
		{ "timeout", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_cmd c = { .job = { .go_fd = -1, .err_fd = -1 } };
	struct run_flags *f = &c.f;
	int opt, rc;

	while ((opt = cli_getopt("run", argc, argv, "+h", opts)) != -1) {
		if (cli_common_opt(&f->common, opt, optarg))
			continue;
		switch (opt) {
		case 'p': f->parquet = optarg; break;
		case 'P': f->no_parquet = true; break;
		case 'j': f->json = true; break;
		case 'x': f->exclude_shells = true; break;
		case 'q': f->quiet = true; break;
		case 't':
			if (parse_duration_ns(optarg, &f->timeout_ns) || f->timeout_ns <= 0)
				return cli_usage_error("run", "--timeout: '%s' is not a duration (e.g. 30, 30s, 5m)",
						       optarg);
			break;
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind == argc)
		return cli_usage_error("run", "missing the command to run: ksight run [options] -- CMD [ARGS...]");
	if (f->parquet && f->no_parquet)
		return cli_usage_error("run", "--parquet and --no-parquet contradict each other");
	if (f->parquet && !f->parquet[0])
		return cli_usage_error("run", "--parquet needs a file name");
	c.argv = argv + optind;
	/* The built-in settings, not a configuration file's: what a run
	 * records does not depend on the host's agent. */
	session__init(&c.ses, "run", &f->common, SESSION_DEFAULTS);
	c.ses.cfg.interval_ns = TICK_NS;
	c.ses.cfg.tracers[TRACER_proc].rate_cap = 0;   /* a run must not drop processes on purpose */

	if (!(rc = start_job(&c)) && !(rc = start_tracer(&c)) && !(rc = release_job(&c)) && !(rc = trace(&c)))
		rc = write_outputs(&c);
	if (c.spawned)
		job_abandon(&c.job);
	parquet_writer__abort(c.pw);
	session__close(&c.ses);
	if (c.s.run.argv)
		run__free(&c.s.run);
	free(c.parquet_path);
	return rc;
}
