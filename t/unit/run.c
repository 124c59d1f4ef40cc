/* ksight run's model and summaries, fed synthetic tracer records (no BPF):
 * how fork/exec/exit records become rows (inheritance, last exec, records
 * that arrive without a fork, pid reuse), how rows end (running, hidden
 * shells, lost exits), the tree, the exit status, the SQLite rows, and the
 * summaries (80 columns, colour only when asked, valid UTF-8, JSON). */
#include <jansson.h>
#include <signal.h>
#include <sys/wait.h>

#include "../../src/cmd/run.h"
#include "../../src/store/batch.h"
#include "../lib/tap.h"

#define T0 1700000000000000000LL
#define MS 1000000LL

static struct proc_record rec(uint32_t kind, int64_t t, uint32_t pid, uint32_t ppid, const char *comm)
{
	struct proc_record r = { .kind = kind, .time_ns = t, .pid = pid, .ppid = ppid };

	snprintf(r.comm, sizeof(r.comm), "%s", comm);
	return r;
}

static void fork_(struct run *run, int64_t t, uint32_t pid, uint32_t ppid, const char *comm)
{
	struct proc_record r = rec(PROC_FORK, t, pid, ppid, comm);

	run__apply(run, &r);
}

static void exec_(struct run *run, int64_t t, uint32_t pid, uint32_t ppid, const char *comm, const char *file,
		  const char *argv)
{
	struct proc_record r = rec(PROC_EXEC, t, pid, ppid, comm);

	snprintf(r.filename, sizeof(r.filename), "%s", file);
	if (argv) {
		snprintf(r.argv, sizeof(r.argv), "%s", argv);
		r.argv_known = true;
	}
	run__apply(run, &r);
}

static void exit_(struct run *run, int64_t t, uint32_t pid, uint32_t ppid, const char *comm, int64_t start,
		  int code, int sig, uint64_t cpu_ms, uint64_t rss)
{
	struct proc_record r = rec(PROC_EXIT, t, pid, ppid, comm);

	r.start_ns = start;
	r.duration_ns = t - start;
	r.exit_code = sig ? -1 : code;
	r.signal = sig;
	r.cpu_user_ns = cpu_ms * MS;
	r.cpu_system_ns = cpu_ms * MS / 10;
	r.peak_rss_bytes = rss;
	r.minor_faults = 100;
	run__apply(run, &r);
}

static struct run_proc *find(struct run *r, uint32_t pid)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i]->pid == pid)
			return r->procs[i];
	return NULL;
}

/* Every line at most width code points, no ESC unless color, valid UTF-8. */
static void check_text(const char *text, unsigned width, bool color, const char *what)
{
	unsigned widest = 0, cols = 0;
	bool esc = false, utf8 = true;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '\n') {
			widest = cols > widest ? cols : widest;
			cols = 0;
			continue;
		}
		if (*p == 033) {
			esc = true;
			while (*p && *p != 'm')
				p++;
			continue;
		}
		if (*p >= 0x80) {
			int n = *p >= 0xf0 ? 3 : *p >= 0xe0 ? 2 : *p >= 0xc0 ? 1 : -1;

			if (n < 0)
				utf8 = false;
			for (int i = 0; i < n; i++)
				if ((p[1] & 0xc0) != 0x80)
					utf8 = false;
				else
					p++;
		}
		cols++;
	}
	ok(widest <= width, "%s: no line wider than %u columns (widest %u)", what, width, widest);
	ok(esc == color, "%s: colour %s", what, color ? "when asked" : "never when not asked");
	ok(utf8, "%s: valid UTF-8 after cutting long names", what);
}

static char *summary(const struct run *r, bool color, unsigned width)
{
	struct run_outputs out = { "/some/where/ksight-run-20250101T000000Z.parquet", (int64_t)r->rows, "x.db" };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	run__print_summary(r, &out, f, color, width);
	fclose(f);
	return text;
}

int main(void)
{
	char *argv[] = { "/bin/sh", "job.sh", "--long-option-\xc3\xa9t\xc3\xa9-\001-and-more-and-more", NULL };
	char *text, status[32];
	struct run r;
	struct run_proc *p;
	uint32_t alive[] = { 150, 151 };
	struct buf jbuf = BUF_INIT;
	json_t *j;

	plan(80);

	/* 100: the root (sh job.sh), forked by ksight (pid 99) before tracing */
	run__init(&r, 100, 99, argv, T0);
	is(r.nprocs, 1, "the root has its row before any record");
	is_str(r.root->comm, "sh", "named after argv[0] until it execs");
	exec_(&r, T0 + 1 * MS, 100, 99, "sh", "/bin/sh", "/bin/sh job.sh");
	is(r.root->start_ns, T0 + 1 * MS, "the root starts at its exec of the command, not at ksight's fork");

	/* 101: a fork of the root that never execs (a subshell) */
	fork_(&r, T0 + 2 * MS, 101, 100, "sh");
	p = find(&r, 101);
	is_str(p->cmdline, "/bin/sh job.sh", "a child inherits its parent's command line until it execs");
	is_str(p->filename, "/bin/sh", "and its filename");
	is(p->start_ns, T0 + 2 * MS, "it starts at its fork");
	exit_(&r, T0 + 4 * MS, 101, 100, "sh", T0 + 2 * MS - 1000, 3, 0, 1, 4096);
	is(p->start_ns, T0 + 2 * MS - 1000, "the exit record's kernel start time replaces the fork record's");
	is(p->exit_code, 3, "exit code 3");

	/* 102: forked, execs twice (env -> make), exit record from a thread */
	fork_(&r, T0 + 5 * MS, 102, 100, "sh");
	exec_(&r, T0 + 6 * MS, 102, 100, "env", "/usr/bin/env", "env make -j2");
	exec_(&r, T0 + 7 * MS, 102, 100, "make", "/usr/bin/make", "make -j2");
	exit_(&r, T0 + 900 * MS, 102, 100, "worker-3", T0 + 5 * MS, 0, 0, 500, 64 << 20);
	p = find(&r, 102);
	is_str(p->cmdline, "make -j2", "the last exec's command line wins");
	is_str(p->comm, "make", "and its comm; a thread's name at exit does not replace it");

	/* 103..122: 20 short children of make, one killed */
	for (uint32_t i = 0; i < 20; i++) {
		uint32_t pid = 103 + i;
		int64_t t = T0 + (10 + i) * MS;

		fork_(&r, t, pid, 102, "make");
		exec_(&r, t + 100000, pid, 102, "cc1", "/usr/lib/gcc/cc1", "/usr/lib/gcc/cc1 -quiet x.c");
		exit_(&r, t + 2 * MS, pid, 102, "cc1", t, 0, i == 7 ? SIGKILL : 0, 1, 2 << 20);
	}
	is(find(&r, 110)->signal, SIGKILL, "killed by SIGKILL");
	is(find(&r, 110)->exit_code, -1, "no exit code");

	/* 130: first seen at its exec (its fork record was filtered) */
	exec_(&r, T0 + 50 * MS, 130, 100, "grep", "/bin/grep", "grep -q x");
	p = find(&r, 130);
	ok(p && !p->fork_seen && p->ppid == 100, "a process first seen at its exec gets a row with the record's ppid");
	exit_(&r, T0 + 60 * MS, 130, 100, "grep", T0 + 49 * MS, 1, 0, 1, 1 << 20);
	is(p->start_ns, T0 + 49 * MS, "its start comes from its exit record");

	/* 131: first seen at its exit */
	exit_(&r, T0 + 70 * MS, 131, 100, "true", T0 + 69 * MS, 0, 0, 0, 1 << 20);
	p = find(&r, 131);
	ok(p && p->ended && p->start_ns == T0 + 69 * MS && !p->cmdline, "a process seen only at its exit has a row, no command line");

	/* 140: pid reused within the run */
	fork_(&r, T0 + 80 * MS, 140, 100, "sh");
	exit_(&r, T0 + 81 * MS, 140, 100, "sh", T0 + 80 * MS, 0, 0, 0, 1 << 20);
	fork_(&r, T0 + 82 * MS, 140, 102, "make");
	exit_(&r, T0 + 83 * MS, 140, 102, "make", T0 + 82 * MS, 2, 0, 0, 1 << 20);
	{
		size_t n = 0;

		for (size_t i = 0; i < r.nprocs; i++)
			n += r.procs[i]->pid == 140;
		is(n, 2, "a reused pid gives two rows");
	}

	/* 141: a fork for a pid whose row is still open: that one's exit was lost */
	fork_(&r, T0 + 84 * MS, 141, 100, "sh");
	fork_(&r, T0 + 85 * MS, 141, 102, "make");
	exit_(&r, T0 + 86 * MS, 141, 102, "make", T0 + 85 * MS, 0, 0, 0, 1 << 20);

	/* 150: still running at the end; 151: a daemon still running, seen
	 * only at exec; 160: gone without an exit record */
	fork_(&r, T0 + 90 * MS, 150, 102, "make");
	exec_(&r, T0 + 91 * MS, 151, 1, "mydaemon", "/usr/sbin/mydaemon", "mydaemon --foreground");
	fork_(&r, T0 + 92 * MS, 160, 100, "sh");
	is(run__open_rows(&r), 4, "four rows are still open before the end (the root too)");

	/* a chain deeper than the indentation shows */
	for (uint32_t i = 0; i < 14; i++) {
		fork_(&r, T0 + (95 + i) * MS, 170 + i, i ? 169 + i : 100, "sh");
		exit_(&r, T0 + 500 * MS - i * MS, 170 + i, i ? 169 + i : 100, "sh", T0 + (95 + i) * MS, 0, 0, 0, 1 << 20);
	}

	exit_(&r, T0 + 1000 * MS, 100, 99, "sh", T0, 0, 0, 10, 3 << 20);
	r.root_reaped = true;
	r.root_status = 7 << 8;
	run__finish(&r, alive, 2, T0 + 1100 * MS);

	is(find(&r, 150)->running, true, "an alive process is still running");
	is(find(&r, 151)->running, true, "the daemon too");
	is(find(&r, 160)->exit_lost, true, "a gone process without an exit record: exit lost");
	is(r.still_running, 2, "2 still running");
	is(r.exits_lost, 2, "2 exits lost (160 and the first 141)");
	is(r.hidden, 0, "nothing hidden without --exclude-shells");
	is(r.rows, r.nprocs, "every row is in the outputs");
	is(r.exit_status, 7, "exit status from the root's wait status");
	is(r.failed, 4, "failed: exit 3, SIGKILL, grep's 1, make's 2");
	is(r.peak_rss->pid, 102, "the largest peak RSS is make's");
	is(r.cpu_user_ns, (10 + 1 + 500 + 20 + 1) * MS, "user CPU summed over the rows");

	/* tree */
	is(r.procs[0]->pid, 100, "rows are sorted with the root first");
	is(find(&r, 103)->parent->pid, 102, "cc1 hangs under make");
	is(find(&r, 103)->depth, 2, "at depth 2");
	is(r.root->descendants, r.rows - 2, "every row but the root and the daemon (ppid 1) descends from the root");
	ok(!find(&r, 151)->parent, "the daemon whose parent is not in the job is shown at the top level");
	{
		struct run_proc *second = NULL;

		for (size_t i = 0; i < r.nprocs; i++)
			if (r.procs[i]->pid == 140 && r.procs[i]->ppid == 102)
				second = r.procs[i];
		ok(second && second->parent && second->parent->pid == 102, "the reused pid's second row hangs under its own parent");
	}
	is_str(run_proc_status(find(&r, 110), status, sizeof(status)), "SIGKILL", "status text of a SIGKILL");
	is_str(run_proc_status(find(&r, 101), status, sizeof(status)), "exit 3", "status text of exit 3");
	is_str(run_proc_status(find(&r, 150), status, sizeof(status)), "running", "status text of a running process");

	/* the SQLite rows */
	{
		struct batch b;
		struct batch_value v;
		uint32_t row = 0;

		batch__init(&b);
		run__batch(&r, &b, "out.parquet");
		is(b.tables[T_RUNS].rows, 1, "one runs row");
		is(b.tables[T_RUN_PROCESSES].rows, r.rows, "one run_processes row per process");
		ok(batch__value(&b, T_RUNS, 0, "exit_status", &v) && v.i == 7, "runs.exit_status");
		ok(batch__value(&b, T_RUNS, 0, "parquet", &v) && v.tag == V_TEXT && v.len == 11, "runs.parquet");
		for (row = 0; row < b.tables[T_RUN_PROCESSES].rows; row++)
			if (batch__value(&b, T_RUN_PROCESSES, row, "pid", &v) && v.i == 110)
				break;
		ok(batch__value(&b, T_RUN_PROCESSES, row, "exit_code", &v) && v.tag == V_NULL, "killed: exit_code NULL");
		ok(batch__value(&b, T_RUN_PROCESSES, row, "signal", &v) && v.i == SIGKILL, "killed: signal 9");
		for (row = 0; row < b.tables[T_RUN_PROCESSES].rows; row++)
			if (batch__value(&b, T_RUN_PROCESSES, row, "pid", &v) && v.i == 150)
				break;
		ok(batch__value(&b, T_RUN_PROCESSES, row, "end_time", &v) && v.tag == V_NULL, "running: end_time NULL");
		ok(batch__value(&b, T_RUN_PROCESSES, row, "signal", &v) && v.tag == V_NULL, "running: signal NULL");
		ok(batch__value(&b, T_RUN_PROCESSES, row, "start_time", &v) && v.i == T0 + 90 * MS, "running: start known");
		ok(batch__value(&b, T_RUN_PROCESSES, row, "run_id", &v) && v.i == T0, "run_id is the run's start");
		batch__free(&b);
	}

	/* the summary */
	text = summary(&r, false, 80);
	check_text(text, 80, false, "80 columns");
	ok(strstr(text, "ksight run: /bin/sh job.sh --long-option-"), "the outcome line names the command");
	ok(strstr(text, " exited 7 after 1.10s"), "and how it ended (the run lasted 1.1 s)");
	ok(strstr(text, "19 x cc1"), "19 cc1 that succeeded are one line");
	ok(strstr(text, "    110  SIGKILL    cc1 -quiet x.c"), "the killed one is listed with its status");
	ok(strstr(text, "Failures (4):"), "the failures are counted");
	ok(strstr(text, "Still running when tracing ended, left running (2):"), "still running processes");
	ok(strstr(text, "Ended without an exit record (records lost) (2):"), "lost exits");
	ok(strstr(text, "Totals: 46 processes, 4 failed, 2 still running"), "totals");
	ok(strstr(text, "largest peak RSS 64.0M: pid 102 make"), "the largest peak RSS");
	ok(strstr(text, "    183                     [14] [sh]"), "a process deeper than the indentation shows says its depth");
	free(text);
	text = summary(&r, true, 80);
	check_text(text, 80, true, "colour");
	ok(strstr(text, "\033[31mSIGKILL"), "failures are red");
	free(text);
	text = summary(&r, false, 60);
	check_text(text, 60, false, "60 columns");
	free(text);

	/* JSON */
	run__json(&r, NULL, &jbuf);
	j = json_loads(jbuf.data, 0, NULL);
	ok(j != NULL, "--json is valid JSON");
	is(json_integer_value(json_object_get(j, "exit_status")), 7, "json: exit_status");
	is(json_integer_value(json_object_get(j, "processes")), (int64_t)r.rows, "json: processes");
	is(json_array_size(json_object_get(j, "failures")), 4, "json: every failure");
	is(json_array_size(json_object_get(j, "running")), 2, "json: every running process");
	is_str(json_string_value(json_array_get(json_object_get(j, "command"), 1)), "job.sh", "json: argv");
	json_decref(j);
	buf_free(&jbuf);
	run__free(&r);

	/* --exclude-shells: an open row that is gone became a shell */
	run__init(&r, 200, 99, argv, T0);
	r.exclude_shells = true;
	exec_(&r, T0 + 1, 200, 99, "sh", "/bin/sh", "sh job.sh");
	fork_(&r, T0 + 2, 201, 200, "make");   /* then exec'd sh: records dropped */
	exit_(&r, T0 + 3 * MS, 200, 99, "sh", T0, 0, 0, 1, 1 << 20);
	r.root_reaped = true;
	r.root_status = 0;
	run__finish(&r, NULL, 0, T0 + 4 * MS);
	is(r.hidden, 1, "--exclude-shells: a row that ended unseen is a hidden shell");
	is(r.rows, 1, "and it is left out");
	run__free(&r);

	/* ... unless records were lost: then its exit was */
	run__init(&r, 200, 99, argv, T0);
	r.exclude_shells = true;
	r.records_lost = 3;
	fork_(&r, T0 + 2, 201, 200, "make");
	run__finish(&r, NULL, 0, T0 + 4 * MS);
	is(r.exits_lost, 2, "with records lost, unseen ends are lost exits (root and child)");
	is(r.exit_status, RUN_EXIT_STILL_RUNNING, "a root neither reaped nor ended: 124");
	run__free(&r);

	/* interrupted with the root still running: 128 + the signal */
	run__init(&r, 300, 99, argv, T0);
	r.interrupted = true;
	r.interrupt_signal = SIGINT;
	run__finish(&r, (uint32_t[]){ 300 }, 1, T0 + MS);
	is(r.exit_status, 130, "interrupted while the root runs: 130");
	run__free(&r);

	/* killed root */
	run__init(&r, 300, 99, argv, T0);
	r.root_reaped = true;
	r.root_status = SIGTERM;
	run__finish(&r, NULL, 0, T0 + MS);
	is(r.exit_status, 143, "a root killed by SIGTERM: 143");
	ok(WIFSIGNALED(r.root_status), "(a signalled wait status)");
	run__free(&r);
	return done_testing();
}
