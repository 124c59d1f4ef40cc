/* ksight run's outputs: the Parquet file, the SQLite rows, the summary on
 * stderr and the JSON summary (see run.h).
 *
 * Parquet timestamps: start_time and end_time are INT64 TIMESTAMP(NANOS)
 * with isAdjustedToUTC=false.  The values are UTC instants (ns since the
 * epoch), which the file metadata says; the flag is false because DuckDB,
 * the reader this file is for, has no nanosecond type with a time zone and
 * would read UTC-adjusted nanoseconds as TIMESTAMPTZ cut to microseconds,
 * while these read exactly, as TIMESTAMP_NS.
 */
#include "run.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/json.h"
#include "../store/batch.h"
#include "../store/parquet.h"
#include "../store/schema.h"
#include "cmd.h"

/* --- Parquet --- */

enum {
	C_RUN_ID, C_PID, C_PPID, C_COMM, C_FILENAME, C_CMDLINE, C_START, C_END, C_DURATION, C_EXIT_CODE,
	C_SIGNAL, C_CPU_USER, C_CPU_SYSTEM, C_PEAK_RSS, C_MINOR_FAULTS, C_MAJOR_FAULTS, NCOLUMNS
};

#define TS PARQUET_LOGICAL_TIMESTAMP_NS_LOCAL
#define STR PARQUET_LOGICAL_STRING
#define NONE PARQUET_LOGICAL_NONE

/* run_processes' columns after `timestamp` (checked in run_parquet__open). */
static const struct parquet_column columns[NCOLUMNS] = {
	[C_RUN_ID] = { "run_id", PARQUET_INT64, NONE, false },
	[C_PID] = { "pid", PARQUET_INT32, NONE, false },
	[C_PPID] = { "ppid", PARQUET_INT32, NONE, false },
	[C_COMM] = { "comm", PARQUET_BYTE_ARRAY, STR, false },
	[C_FILENAME] = { "filename", PARQUET_BYTE_ARRAY, STR, true },
	[C_CMDLINE] = { "cmdline", PARQUET_BYTE_ARRAY, STR, true },
	[C_START] = { "start_time", PARQUET_INT64, TS, true },
	[C_END] = { "end_time", PARQUET_INT64, TS, true },
	[C_DURATION] = { "duration_ns", PARQUET_INT64, NONE, true },
	[C_EXIT_CODE] = { "exit_code", PARQUET_INT32, NONE, true },
	[C_SIGNAL] = { "signal", PARQUET_INT32, NONE, true },
	[C_CPU_USER] = { "cpu_user_ns", PARQUET_INT64, NONE, true },
	[C_CPU_SYSTEM] = { "cpu_system_ns", PARQUET_INT64, NONE, true },
	[C_PEAK_RSS] = { "peak_rss_bytes", PARQUET_INT64, NONE, true },
	[C_MINOR_FAULTS] = { "minor_faults", PARQUET_INT64, NONE, true },
	[C_MAJOR_FAULTS] = { "major_faults", PARQUET_INT64, NONE, true },
};

int run_parquet__open(const char *path, struct parquet_writer **ret)
{
	const struct table *t = &schema_tables[T_RUN_PROCESSES];
	/* Statistics of every string kept whole (exact): cmdline is bounded. */
	struct parquet_opts opts = { .created_by = "ksight version " KSIGHT_VERSION,
				     .stats_max_bytes = sizeof(((struct proc_record *)0)->argv) };

	assert(t->ncolumns == NCOLUMNS + 1);
	for (size_t i = 0; i < NCOLUMNS; i++)
		assert(!strcmp(columns[i].name, t->columns[i + 1].name));
	return parquet_writer__open(path, columns, NCOLUMNS, &opts, ret);
}

/* RFC 3339 in UTC with nanoseconds. */
static const char *iso_time(int64_t ns, char *buf, size_t size)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;
	char tmp[32];

	gmtime_r(&s, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%09dZ", tmp, (int)(ns % 1000000000));
	return buf;
}

static int put_i64(struct parquet_writer *w, size_t col, bool known, int64_t v)
{
	return known ? parquet_writer__add_int64(w, col, v) : parquet_writer__add_null(w, col);
}

static int put_str(struct parquet_writer *w, size_t col, const char *s)
{
	return parquet_writer__add_string(w, col, s, s ? strlen(s) : 0);
}

static int write_row(struct parquet_writer *w, int64_t run_id, const struct run_proc *p)
{
	int rc = 0;

	rc = rc ?: parquet_writer__add_int64(w, C_RUN_ID, run_id);
	rc = rc ?: parquet_writer__add_int32(w, C_PID, (int32_t)p->pid);
	rc = rc ?: parquet_writer__add_int32(w, C_PPID, (int32_t)p->ppid);
	rc = rc ?: put_str(w, C_COMM, p->comm);
	rc = rc ?: put_str(w, C_FILENAME, p->filename);
	rc = rc ?: put_str(w, C_CMDLINE, p->cmdline);
	rc = rc ?: put_i64(w, C_START, p->start_ns != 0, p->start_ns);
	rc = rc ?: put_i64(w, C_END, p->ended, p->end_ns);
	rc = rc ?: put_i64(w, C_DURATION, p->ended && p->start_ns, p->end_ns - p->start_ns);
	if (p->ended && !p->signal)
		rc = rc ?: parquet_writer__add_int32(w, C_EXIT_CODE, p->exit_code);
	if (p->ended)
		rc = rc ?: parquet_writer__add_int32(w, C_SIGNAL, p->signal);
	rc = rc ?: put_i64(w, C_CPU_USER, p->ended, (int64_t)p->cpu_user_ns);
	rc = rc ?: put_i64(w, C_CPU_SYSTEM, p->ended, (int64_t)p->cpu_system_ns);
	rc = rc ?: put_i64(w, C_PEAK_RSS, p->ended, (int64_t)p->peak_rss_bytes);
	rc = rc ?: put_i64(w, C_MINOR_FAULTS, p->ended, (int64_t)p->minor_faults);
	rc = rc ?: put_i64(w, C_MAJOR_FAULTS, p->ended, (int64_t)p->major_faults);
	return rc ?: parquet_writer__end_row(w);
}

int run_parquet__write(const struct run *r, struct parquet_writer *w, const char *db_path)
{
	char buf[64];
	int rc = 0;

	for (size_t i = 0; i < r->nprocs && !rc; i++)
		if (!r->procs[i]->hidden)
			rc = write_row(w, r->run_id, r->procs[i]);
#define META(k, v) (rc = rc ?: parquet_writer__set_metadata(w, k, v))
	META("command", r->command);
	META("cwd", r->cwd);
	META("host", r->host);
	META("kernel", r->kernel);
	META("ksight_version", KSIGHT_VERSION);
	snprintf(buf, sizeof(buf), "%" PRId64, r->run_id);
	META("run_id", buf);
	META("start_time", iso_time(r->start_ns, buf, sizeof(buf)));
	META("end_time", iso_time(r->end_ns, buf, sizeof(buf)));
	META("timestamps", "start_time and end_time are UTC, ns since the Unix epoch");
	snprintf(buf, sizeof(buf), "%d", r->exit_status);
	META("exit_status", buf);
	snprintf(buf, sizeof(buf), "%zu", r->rows);
	META("processes", buf);
	snprintf(buf, sizeof(buf), "%zu", r->failed);
	META("failed", buf);
	snprintf(buf, sizeof(buf), "%zu", r->still_running);
	META("still_running", buf);
	snprintf(buf, sizeof(buf), "%" PRIu64, r->records_lost);
	META("records_lost", buf);
	META("timed_out", r->timed_out ? "true" : "false");
	META("interrupted", r->interrupted ? "true" : "false");
	if (db_path)
		META("db", db_path);
#undef META
	if (rc) {
		parquet_writer__abort(w);
		return rc;
	}
	return parquet_writer__close(w);
}

/* --- SQLite --- */

static void batch_opt(struct batch *b, bool known, int64_t v)
{
	if (known)
		batch__int(b, v);
	else
		batch__null(b);
}

void run__batch(const struct run *r, struct batch *b, const char *parquet_path)
{
	const struct run_proc *root = r->root;

	batch__row(b, T_RUNS);
	batch__int(b, r->start_ns);
	batch__int(b, r->run_id);
	batch__text(b, r->command);
	batch__text(b, r->cwd);
	batch__text(b, r->host);
	batch__text(b, r->kernel);
	batch__text(b, KSIGHT_VERSION);
	batch__int(b, r->start_ns);
	batch__int(b, r->end_ns);
	batch__int(b, r->end_ns - r->start_ns);
	batch__int(b, r->exit_status);
	batch_opt(b, root->ended && !root->signal, root->exit_code);
	batch_opt(b, root->ended, root->signal);
	batch__int(b, (int64_t)r->rows);
	batch__int(b, (int64_t)r->failed);
	batch__int(b, (int64_t)r->still_running);
	batch__int(b, (int64_t)r->exits_lost);
	batch__int(b, (int64_t)r->records_lost);
	batch__int(b, r->timed_out);
	batch__int(b, r->interrupted);
	batch__text(b, parquet_path);
	batch__end(b);

	for (size_t i = 0; i < r->nprocs; i++) {
		const struct run_proc *p = r->procs[i];

		if (p->hidden)
			continue;
		batch__row(b, T_RUN_PROCESSES);
		batch__int(b, p->start_ns ? p->start_ns : p->seen_ns);
		batch__int(b, r->run_id);
		batch__int(b, p->pid);
		batch__int(b, p->ppid);
		batch__text(b, p->comm);
		batch__text(b, p->filename);
		batch__text(b, p->cmdline);
		batch_opt(b, p->start_ns != 0, p->start_ns);
		batch_opt(b, p->ended, p->end_ns);
		batch_opt(b, p->ended && p->start_ns, p->end_ns - p->start_ns);
		batch_opt(b, p->ended && !p->signal, p->exit_code);
		batch_opt(b, p->ended, p->signal);
		batch_opt(b, p->ended, (int64_t)p->cpu_user_ns);
		batch_opt(b, p->ended, (int64_t)p->cpu_system_ns);
		batch_opt(b, p->ended, (int64_t)p->peak_rss_bytes);
		batch_opt(b, p->ended, (int64_t)p->minor_faults);
		batch_opt(b, p->ended, (int64_t)p->major_faults);
		batch__end(b);
	}
}

/* --- the summary for humans --- */

#define TREE_MAX_LINES 40    /* process lines in the tree before "... more" */
#define GROUP_MIN 6          /* same-named leaf siblings shown as one line (failures never) */
#define INDENT_MAX 10        /* tree levels shown by indentation */
#define LIST_MAX 5           /* slowest, failures, still running */

/* A tree line: pid, ' ', name, three ' '-led numbers, two spaces, status. */
#define W_PID 7
#define W_NUM 8
#define W_STATUS 9
#define FIXED_COLS (W_PID + 1 + 3 * W_NUM + 2 + W_STATUS)

struct style {
	bool color;
	unsigned width;
	FILE *f;
};

static const char *sgr(const struct style *s, const char *code)
{
	return s->color ? code : "";
}

#define BOLD "\033[1m"
#define RED "\033[31m"
#define YELLOW "\033[33m"
#define RESET "\033[0m"

static const char *fmt_ns(uint64_t ns, char *buf, size_t size)
{
	double s = (double)ns / 1e9;

	if (ns < 1000)
		snprintf(buf, size, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, size, "%.0fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, size, "%.1fms", (double)ns / 1e6);
	else if (s < 10)
		snprintf(buf, size, "%.2fs", s);
	else if (s < 60)
		snprintf(buf, size, "%.1fs", s);
	else if (s < 3600)
		snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)s % 60);
	else
		snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
	return buf;
}

static const char *fmt_bytes(uint64_t b, char *buf, size_t size)
{
	if (b < 1024)
		snprintf(buf, size, "%" PRIu64 "B", b);
	else if (b < 1024 * 1024)
		snprintf(buf, size, "%.0fK", (double)b / 1024);
	else if (b < 1024ULL * 1024 * 1024)
		snprintf(buf, size, "%.1fM", (double)b / (1024 * 1024));
	else
		snprintf(buf, size, "%.2fG", (double)b / (1024.0 * 1024 * 1024));
	return buf;
}

/* Appends s to out, at most width columns (UTF-8 code points), control
 * characters shown as '?', "..." marking a cut.  Returns the columns used. */
static unsigned fit(struct buf *out, const char *s, unsigned width)
{
	unsigned cols = 0, total = 0;
	size_t cut = 0, i;

	for (i = 0; s[i]; i++)
		total += ((unsigned char)s[i] & 0xc0) != 0x80;
	if (total <= width) {
		cut = i;
	} else {
		unsigned keep = width > 3 ? width - 3 : 0;

		for (i = 0; s[i]; i++) {
			if (((unsigned char)s[i] & 0xc0) != 0x80) {
				if (cols == keep)
					break;
				cols++;
			}
		}
		cut = i;
	}
	cols = 0;
	for (i = 0; i < cut; i++) {
		unsigned char c = (unsigned char)s[i];

		buf_addc(out, c < 0x20 || c == 0x7f ? '?' : (char)c);
		cols += (c & 0xc0) != 0x80;
	}
	if (cut < strlen(s)) {
		buf_adds(out, width >= 3 ? "..." : "");
		cols += width >= 3 ? 3 : 0;
	}
	return cols;
}

/* Prints one line of plain text (no colour), cut to the width. */
static void say(const struct style *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct style *st, const char *fmt, ...)
{
	struct buf text = BUF_INIT, line = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&text, fmt, ap);
	va_end(ap);
	fit(&line, text.data, st->width);
	fprintf(st->f, "%s\n", line.data);
	buf_free(&text);
	buf_free(&line);
}

static void pad(struct buf *out, unsigned n)
{
	while (n--)
		buf_addc(out, ' ');
}

/* What a process ran, shortly: its argv with the program's directory cut. */
static void display_name(const struct run_proc *p, struct buf *out)
{
	const char *s = p->cmdline, *space, *slash;

	/* Shown on a terminal: control characters escaped (cli_escape). */
	if (!s || !s[0]) {
		buf_addc(out, '[');
		cli_escape(out, p->comm, strlen(p->comm));
		buf_addc(out, ']');
		return;
	}
	space = strchr(s, ' ');
	slash = memrchr(s, '/', space ? (size_t)(space - s) : strlen(s));
	s = slash && slash[1] && slash[1] != ' ' ? slash + 1 : s;
	cli_escape(out, s, strlen(s));
}

static unsigned name_width(const struct style *st)
{
	return st->width - FIXED_COLS;
}

/* One line of the tree: pid, indented name, time, CPU, RSS, status. */
static void tree_line(const struct style *st, const char *pid, unsigned depth, const char *name,
		      const char *time, const char *cpu, const char *rss, const char *status, const char *color)
{
	struct buf line = BUF_INIT, shown = BUF_INIT;
	unsigned indent = (depth > INDENT_MAX ? INDENT_MAX : depth) * 2, w = name_width(st), used;

	/* Deeper than the indentation shows: the depth is written out. */
	if (depth > INDENT_MAX || indent + 8 > w) {
		indent = indent + 8 > w ? w - 8 : indent;
		buf_printf(&shown, "[%u] ", depth);
	}
	buf_adds(&shown, name);
	buf_printf(&line, "%*s ", W_PID, pid);
	pad(&line, indent);
	used = fit(&line, shown.data, w - indent);
	pad(&line, w - indent - used);
	buf_printf(&line, " %*s %*s %*s  %s%s%s", W_NUM - 1, time, W_NUM - 1, cpu, W_NUM - 1, rss, sgr(st, color),
		   status, color[0] ? sgr(st, RESET) : "");
	fprintf(st->f, "%s\n", line.data);
	buf_free(&line);
	buf_free(&shown);
}

static void proc_line(const struct style *st, const struct run_proc *p)
{
	char pid[16], t[16] = "", cpu[16] = "", rss[16] = "", status[32];
	struct buf name = BUF_INIT;
	const char *color = "";

	snprintf(pid, sizeof(pid), "%u", p->pid);
	display_name(p, &name);
	if (p->ended) {
		fmt_ns((uint64_t)(p->end_ns - p->start_ns), t, sizeof(t));
		fmt_ns(p->cpu_user_ns + p->cpu_system_ns, cpu, sizeof(cpu));
		fmt_bytes(p->peak_rss_bytes, rss, sizeof(rss));
	}
	run_proc_status(p, status, sizeof(status));
	if (run_proc_failed(p))
		color = RED;
	else if (!p->ended)
		color = YELLOW;
	tree_line(st, pid, p->depth, name.data, t, cpu, rss, status, color);
	buf_free(&name);
}

struct tree_state {
	const struct style *st;
	unsigned lines;
	size_t shown;            /* processes accounted for by printed lines */
	bool grouped;            /* a group line was printed */
};

/* A process that may be folded into an "N x name" line: no children, did
 * not fail. */
static bool groupable(const struct run_proc *p) { return !p->first_child && !run_proc_failed(p); }

static bool same_group(const struct run_proc *p, const char *comm)
{
	return groupable(p) && !strcmp(p->comm, comm);
}

static size_t group_size(const struct run_proc *first, const char *comm)
{
	size_t n = 0;

	for (const struct run_proc *c = first; c; c = c->next_sibling)
		n += same_group(c, comm);
	return n;
}

/* One line for the groupable children of one name: count, summed time and
 * CPU, largest peak RSS. */
static void group_line(struct tree_state *ts, const struct run_proc *first, const char *comm, unsigned depth)
{
	uint64_t time = 0, cpu = 0, rss = 0;
	size_t n = 0, open = 0;
	char t[16], c[16], r[16], status[32], name[64];

	for (const struct run_proc *p = first; p; p = p->next_sibling) {
		if (!same_group(p, comm))
			continue;
		n++;
		if (p->ended) {
			time += (uint64_t)(p->end_ns - p->start_ns);
			cpu += p->cpu_user_ns + p->cpu_system_ns;
			if (p->peak_rss_bytes > rss)
				rss = p->peak_rss_bytes;
		} else {
			open++;
		}
	}
	if (open)
		snprintf(status, sizeof(status), "%zu running", open);
	else
		snprintf(status, sizeof(status), "ok");
	{
		char shown[4 * 64];

		snprintf(name, sizeof(name), "%zu x %s", n, cli_escape_to(shown, sizeof(shown), comm, strlen(comm)));
	}
	tree_line(ts->st, "", depth, name, fmt_ns(time, t, sizeof(t)), fmt_ns(cpu, c, sizeof(c)),
		  fmt_bytes(rss, r, sizeof(r)), status, open ? YELLOW : "");
	ts->lines++;
	ts->shown += n;
	ts->grouped = true;
}

static void print_subtree(struct tree_state *ts, const struct run_proc *p)
{
	if (ts->lines >= TREE_MAX_LINES)
		return;
	proc_line(ts->st, p);
	ts->lines++;
	ts->shown++;
	for (const struct run_proc *c = p->first_child; c && ts->lines < TREE_MAX_LINES; c = c->next_sibling) {
		if (groupable(c) && group_size(p->first_child, c->comm) >= GROUP_MIN) {
			bool first = true;

			for (const struct run_proc *e = p->first_child; e != c; e = e->next_sibling)
				if (same_group(e, c->comm))
					first = false;
			if (first)
				group_line(ts, p->first_child, c->comm, c->depth);
			continue;
		}
		print_subtree(ts, c);
	}
}

static void print_tree(const struct run *r, const struct style *st)
{
	struct tree_state ts = { .st = st };

	fprintf(st->f, "%s%*s %-*s %*s %*s %*s  %s%s\n", sgr(st, BOLD), W_PID, "PID", name_width(st), "PROCESS",
		W_NUM - 1, "TIME", W_NUM - 1, "CPU", W_NUM - 1, "MAX RSS", "STATUS", sgr(st, RESET));
	for (size_t i = 0; i < r->nprocs && ts.lines < TREE_MAX_LINES; i++) {
		const struct run_proc *p = r->procs[i];

		if (!p->hidden && !p->parent)
			print_subtree(&ts, p);
	}
	if (ts.shown < r->rows)
		say(st, "%*s ... %zu more processes (all are in the outputs)", W_PID, "", r->rows - ts.shown);
	if (ts.grouped)
		say(st, "%*s (N x name: N processes, time and CPU summed, max RSS)", W_PID, "");
}

/* "   4242  1.23s     make -j2 ..." lines, fitted to the width. */
static void list_line(const struct style *st, const char *what, const struct run_proc *p, const char *color)
{
	struct buf line = BUF_INIT, name = BUF_INIT;

	buf_printf(&line, "%*u  %s%-*s%s  ", W_PID, p->pid, sgr(st, color), W_STATUS, what,
		   color[0] ? sgr(st, RESET) : "");
	display_name(p, &name);
	fit(&line, name.data, st->width - W_PID - W_STATUS - 4);
	fprintf(st->f, "%s\n", line.data);
	buf_free(&line);
	buf_free(&name);
}

static int by_duration_desc(const void *a, const void *b)
{
	const struct run_proc *p = *(const struct run_proc *const *)a, *q = *(const struct run_proc *const *)b;
	int64_t dp = p->end_ns - p->start_ns, dq = q->end_ns - q->start_ns;

	return dp < dq ? 1 : dp > dq ? -1 : 0;
}

static void print_slowest(const struct run *r, const struct style *st)
{
	const struct run_proc **v = calloc(r->nprocs + 1, sizeof(*v));
	size_t n = 0;
	char t[16];

	if (!v)
		abort();
	for (size_t i = 0; i < r->nprocs; i++)
		if (!r->procs[i]->hidden && !r->procs[i]->root && r->procs[i]->ended && r->procs[i]->start_ns)
			v[n++] = r->procs[i];
	if (n > 1) {
		qsort(v, n, sizeof(*v), by_duration_desc);
		fprintf(st->f, "\n%sSlowest%s (of %zu processes under the command):\n", sgr(st, BOLD), sgr(st, RESET),
			n);
		for (size_t i = 0; i < n && i < LIST_MAX; i++)
			list_line(st, fmt_ns((uint64_t)(v[i]->end_ns - v[i]->start_ns), t, sizeof(t)), v[i], "");
	}
	free(v);
}

static void print_list(const struct run *r, const struct style *st, const char *title, size_t total,
		       bool (*pick)(const struct run_proc *), const char *color)
{
	size_t shown = 0;
	char status[32];

	if (!total)
		return;
	fprintf(st->f, "\n%s%s (%zu):%s\n", sgr(st, BOLD), title, total, sgr(st, RESET));
	for (size_t i = 0; i < r->nprocs && shown < LIST_MAX; i++) {
		const struct run_proc *p = r->procs[i];

		if (p->hidden || !pick(p))
			continue;
		list_line(st, run_proc_status(p, status, sizeof(status)), p, color);
		shown++;
	}
	if (total > shown)
		say(st, "%*s  ... and %zu more", W_PID, "", total - shown);
}

static bool pick_failed(const struct run_proc *p) { return run_proc_failed(p); }
static bool pick_running(const struct run_proc *p) { return p->running; }
static bool pick_lost(const struct run_proc *p) { return p->exit_lost; }

static void print_outcome(const struct run *r, const struct style *st)
{
	const struct run_proc *root = r->root;
	struct buf line = BUF_INIT, cmd = BUF_INIT;
	char t[16], what[64];
	unsigned used;

	if (root->ended && root->signal)
		snprintf(what, sizeof(what), "was killed by SIG%s", sigabbrev_np(root->signal) ?: "?");
	else if (root->ended || r->root_reaped)
		snprintf(what, sizeof(what), "exited %d", r->exit_status);
	else
		snprintf(what, sizeof(what), "is still running");
	buf_printf(&line, "%sksight run:%s ", sgr(st, BOLD), sgr(st, RESET));
	used = 12;
	buf_printf(&cmd, " %s after %s", what, fmt_ns((uint64_t)(r->end_ns - r->start_ns), t, sizeof(t)));
	if (r->timed_out)
		buf_adds(&cmd, " (--timeout)");
	else if (r->interrupted)
		buf_adds(&cmd, " (interrupted)");
	fit(&line, r->command, st->width > used + cmd.len + 10 ? st->width - used - (unsigned)cmd.len : 10);
	buf_add(&line, cmd.data, cmd.len);
	fprintf(st->f, "%s\n", line.data);
	buf_free(&line);
	buf_free(&cmd);
}

void run__print_summary(const struct run *r, const struct run_outputs *out, FILE *f, bool color,
			unsigned width)
{
	struct style st = { color, width < 60 ? 60 : width, f };
	char a[16], b[16], c[16];

	fputc('\n', f);
	print_outcome(r, &st);
	fputc('\n', f);
	print_tree(r, &st);
	print_slowest(r, &st);
	print_list(r, &st, "Failures", r->failed, pick_failed, RED);
	print_list(r, &st, r->timed_out ? "Still running at --timeout, left running" :
		   "Still running when tracing ended, left running", r->still_running, pick_running, YELLOW);
	print_list(r, &st, "Ended without an exit record (records lost)", r->exits_lost, pick_lost, YELLOW);

	fprintf(f, "\n%sTotals:%s %zu processes, %zu failed, %zu still running", sgr(&st, BOLD), sgr(&st, RESET),
		r->rows, r->failed, r->still_running);
	if (r->exclude_shells)
		fprintf(f, " (shells excluded)");
	fprintf(f, "\n        CPU %s user + %s system, wall %s\n", fmt_ns(r->cpu_user_ns, a, sizeof(a)),
		fmt_ns(r->cpu_system_ns, b, sizeof(b)), fmt_ns((uint64_t)(r->end_ns - r->start_ns), c, sizeof(c)));
	if (r->peak_rss) {
		struct buf line = BUF_INIT;

		buf_printf(&line, "        largest peak RSS %s: pid %u ",
			   fmt_bytes(r->peak_rss->peak_rss_bytes, a, sizeof(a)), r->peak_rss->pid);
		cli_escape(&line, r->peak_rss->comm, strlen(r->peak_rss->comm));
		fprintf(f, "%s\n", line.data);
		buf_free(&line);
	}
	if (r->records_lost)
		fprintf(f, "        %s%" PRIu64 " tracer records lost: some rows are incomplete%s\n", sgr(&st, RED),
			r->records_lost, sgr(&st, RESET));
	if (out && (out->parquet || out->db)) {
		struct buf line = BUF_INIT;

		fprintf(f, "%sOutput:%s", sgr(&st, BOLD), sgr(&st, RESET));
		if (out->parquet) {
			buf_printf(&line, " (%" PRId64 " rows)", out->parquet_rows);
			fputc(' ', f);
			{
				struct buf path = BUF_INIT;

				fit(&path, out->parquet, st.width - 9 - (unsigned)line.len);
				fprintf(f, "%s%s\n", path.data, line.data);
				buf_free(&path);
			}
		}
		if (out->db) {
			struct buf path = BUF_INIT;

			buf_reset(&line);
			buf_printf(&line, " (run_id %" PRId64 ")", r->run_id);
			fit(&path, out->db, st.width - 9 - (unsigned)line.len);
			fprintf(f, "%s%s%s\n", out->parquet ? "        " : " ", path.data, line.data);
			buf_free(&path);
		}
		buf_free(&line);
	}
}

/* --- JSON --- */

static void json_proc(struct json *j, const struct run_proc *p)
{
	json_obj_begin(j);
	json_key(j, "pid");
	json_int(j, p->pid);
	json_key(j, "ppid");
	json_int(j, p->ppid);
	json_key(j, "comm");
	json_str(j, p->comm);
	json_key(j, "cmdline");
	if (p->cmdline)
		json_str(j, p->cmdline);
	else
		json_null(j);
	json_key(j, "start_time");
	json_int(j, p->start_ns);
	if (p->ended) {
		json_key(j, "duration_ns");
		json_int(j, p->end_ns - p->start_ns);
		json_key(j, "exit_code");
		if (p->signal)
			json_null(j);
		else
			json_int(j, p->exit_code);
		json_key(j, "signal");
		json_int(j, p->signal);
	}
	json_obj_end(j);
}

static void json_list(struct json *j, const char *key, const struct run *r, bool (*pick)(const struct run_proc *))
{
	json_key(j, key);
	json_arr_begin(j);
	for (size_t i = 0; i < r->nprocs; i++)
		if (!r->procs[i]->hidden && pick(r->procs[i]))
			json_proc(j, r->procs[i]);
	json_arr_end(j);
}

void run__json(const struct run *r, const struct run_outputs *out, struct buf *buf)
{
	const struct run_proc **v = calloc(r->nprocs + 1, sizeof(*v));
	struct json j;
	size_t n = 0;

	if (!v)
		abort();
	json_init(&j, buf);
	json_obj_begin(&j);
	json_key(&j, "command");
	json_arr_begin(&j);
	for (size_t i = 0; r->argv[i]; i++)
		json_str(&j, r->argv[i]);
	json_arr_end(&j);
	json_key(&j, "run_id");
	json_int(&j, r->run_id);
	json_key(&j, "host");
	json_str(&j, r->host);
	json_key(&j, "kernel");
	json_str(&j, r->kernel);
	json_key(&j, "ksight_version");
	json_str(&j, KSIGHT_VERSION);
	json_key(&j, "cwd");
	json_str(&j, r->cwd);
	json_key(&j, "start_time");
	json_int(&j, r->start_ns);
	json_key(&j, "end_time");
	json_int(&j, r->end_ns);
	json_key(&j, "duration_ns");
	json_int(&j, r->end_ns - r->start_ns);
	json_key(&j, "exit_status");
	json_int(&j, r->exit_status);
	json_key(&j, "exit_code");
	if (r->root->ended && !r->root->signal)
		json_int(&j, r->root->exit_code);
	else
		json_null(&j);
	json_key(&j, "signal");
	json_int(&j, r->root->ended ? r->root->signal : 0);
	json_key(&j, "timed_out");
	json_bool(&j, r->timed_out);
	json_key(&j, "interrupted");
	json_bool(&j, r->interrupted);
	json_key(&j, "processes");
	json_uint(&j, r->rows);
	json_key(&j, "failed");
	json_uint(&j, r->failed);
	json_key(&j, "still_running");
	json_uint(&j, r->still_running);
	json_key(&j, "exits_lost");
	json_uint(&j, r->exits_lost);
	json_key(&j, "records_lost");
	json_uint(&j, r->records_lost);
	json_key(&j, "cpu_user_ns");
	json_uint(&j, r->cpu_user_ns);
	json_key(&j, "cpu_system_ns");
	json_uint(&j, r->cpu_system_ns);
	json_key(&j, "peak_rss_bytes");
	json_uint(&j, r->peak_rss ? r->peak_rss->peak_rss_bytes : 0);
	json_key(&j, "ksight_cpu_ns");
	json_uint(&j, r->self_cpu_ns);
	json_key(&j, "ksight_peak_rss_bytes");
	json_uint(&j, r->self_peak_rss_bytes);
	json_key(&j, "parquet");
	if (out && out->parquet)
		json_str(&j, out->parquet);
	else
		json_null(&j);
	json_key(&j, "db");
	if (out && out->db)
		json_str(&j, out->db);
	else
		json_null(&j);

	for (size_t i = 0; i < r->nprocs; i++)
		if (!r->procs[i]->hidden && !r->procs[i]->root && r->procs[i]->ended && r->procs[i]->start_ns)
			v[n++] = r->procs[i];
	qsort(v, n, sizeof(*v), by_duration_desc);
	json_key(&j, "slowest");
	json_arr_begin(&j);
	for (size_t i = 0; i < n && i < LIST_MAX; i++)
		json_proc(&j, v[i]);
	json_arr_end(&j);
	json_list(&j, "failures", r, pick_failed);
	json_list(&j, "running", r, pick_running);
	json_obj_end(&j);
	free(v);
}
