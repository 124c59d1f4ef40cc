/* Parquet writer throughput on the `ksight run` per-process row shape.
 *
 *   .output/bench/parquet [-n ROWS] [-r RUNS] [-l COPY.parquet] OUT.parquet
 *
 * Generates ROWS (default 1,000,000) realistic process rows in memory first
 * (a few hundred distinct commands with a skewed mix, compiler-like command
 * lines, increasing pids and start times, log-spread durations, CPU and RSS
 * consistent with them, ~5% of cmdlines unknown, a few failures and kills),
 * then writes them RUNS times (default 3) and prints one line per run:
 *
 *   rows=1000000 seconds=0.612 rows_per_s=1633987 bytes=23456789
 *
 * Only parquet_writer__open .. __close is timed, fsync included.  -l also
 * writes (untimed) a copy whose start_time/end_time say isAdjustedToUTC=false,
 * which DuckDB reads at full nanosecond precision: the input for a size
 * comparison on identical values.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../src/store/parquet.h"

enum {
	C_PID, C_PPID, C_COMM, C_FILENAME, C_CMDLINE, C_START, C_END, C_DURATION, C_EXIT, C_SIGNAL,
	C_CPU_USER, C_CPU_SYSTEM, C_PEAK_RSS, C_MINFLT, C_MAJFLT, NCOLS
};

static struct parquet_column columns[NCOLS] = {
	[C_PID] = { "pid", PARQUET_INT64, PARQUET_LOGICAL_NONE, false },
	[C_PPID] = { "ppid", PARQUET_INT64, PARQUET_LOGICAL_NONE, false },
	[C_COMM] = { "comm", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING, false },
	[C_FILENAME] = { "filename", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING, false },
	[C_CMDLINE] = { "cmdline", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING, true },
	[C_START] = { "start_time", PARQUET_INT64, PARQUET_LOGICAL_TIMESTAMP_NS, false },
	[C_END] = { "end_time", PARQUET_INT64, PARQUET_LOGICAL_TIMESTAMP_NS, false },
	[C_DURATION] = { "duration_ns", PARQUET_INT64, PARQUET_LOGICAL_NONE, false },
	[C_EXIT] = { "exit_code", PARQUET_INT64, PARQUET_LOGICAL_NONE, true },
	[C_SIGNAL] = { "signal", PARQUET_INT64, PARQUET_LOGICAL_NONE, false },
	[C_CPU_USER] = { "cpu_user_ns", PARQUET_INT64, PARQUET_LOGICAL_NONE, false },
	[C_CPU_SYSTEM] = { "cpu_system_ns", PARQUET_INT64, PARQUET_LOGICAL_NONE, false },
	[C_PEAK_RSS] = { "peak_rss_bytes", PARQUET_INT64, PARQUET_LOGICAL_NONE, false },
	[C_MINFLT] = { "minor_faults", PARQUET_INT64, PARQUET_LOGICAL_NONE, false },
	[C_MAJFLT] = { "major_faults", PARQUET_INT64, PARQUET_LOGICAL_NONE, false },
};

struct proc_row {
	int64_t pid, ppid, start, end, duration, exit_code, signal;
	int64_t cpu_user, cpu_system, peak_rss, minflt, majflt;
	const char *comm, *filename, *cmdline;    /* cmdline NULL: unknown */
	uint32_t comm_len, filename_len, cmdline_len;
};

static const char *const base_names[] = {
	"sh", "bash", "make", "gcc", "cc1", "as", "ld", "collect2", "git", "python3", "node", "npm",
	"grep", "sed", "awk", "cat", "cp", "mv", "rm", "mkdir", "ln", "chmod", "find", "xargs", "sort",
	"uniq", "tr", "cut", "head", "tail", "wc", "tar", "gzip", "zstd", "curl", "ls", "env", "uname",
	"date", "touch", "install", "pkg-config", "clang", "llvm-strip", "bpftool", "cargo", "rustc",
	"go", "java", "perl",
};

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state += 0x9e3779b97f4a7c15ull;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static double unit(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		perror("vasprintf");
		exit(1);
	}
	va_end(ap);
	return s;
}

#define NCOMMANDS 300

static struct proc_row *generate(size_t n)
{
	size_t nbase = sizeof(base_names) / sizeof(base_names[0]);
	static char *comm[NCOMMANDS], *filename[NCOMMANDS];
	struct proc_row *rows = calloc(n, sizeof(*rows));
	int64_t pid = 4000, t = 1700000000000000000LL + 123456789;
	char *arena, *p;

	arena = malloc(n * 96);
	if (!rows || !arena) {
		perror("malloc");
		exit(1);
	}
	for (int i = 0; i < NCOMMANDS; i++) {
		const char *b = base_names[i % nbase];

		comm[i] = i < (int)nbase ? xasprintf("%s", b) : xasprintf("%s-%d", b, i / (int)nbase);
		filename[i] = !strcmp(b, "cc1") || !strcmp(b, "collect2") ?
			xasprintf("/usr/lib/gcc/x86_64-linux-gnu/12/%s", comm[i]) :
			xasprintf("/usr/bin/%s", comm[i]);
	}
	p = arena;
	for (size_t i = 0; i < n; i++) {
		struct proc_row *r = &rows[i];
		/* skewed: a few commands (sh, make, gcc, cc1...) are most rows */
		int c = (int)(NCOMMANDS * unit() * unit() * unit());
		double u = unit();

		pid += 1 + (int64_t)(rnd() % 3);
		r->pid = pid;
		r->ppid = i > 8 && rnd() % 4 ? rows[i - 1 - rnd() % 8].pid : 3990 + (int64_t)(rnd() % 4);
		t += 20000 + (int64_t)(rnd() % 60000);
		r->start = t;
		r->duration = (int64_t)(200000.0 * exp(u * 10.0));   /* 0.2 ms .. 4 s */
		r->end = r->start + r->duration;
		r->cpu_user = (int64_t)((double)r->duration * (0.05 + 0.8 * unit()));
		r->cpu_system = (int64_t)((double)r->duration * 0.15 * unit());
		r->peak_rss = 4096 * (int64_t)(300 + rnd() % 40000);
		r->minflt = 80 + (int64_t)(rnd() % 20000);
		r->majflt = rnd() % 100 < 3 ? (int64_t)(1 + rnd() % 5) : 0;
		if (rnd() % 1000 < 5) {
			r->exit_code = -1;                  /* killed: exit_code NULL */
			r->signal = rnd() % 2 ? 9 : 15;
		} else {
			r->exit_code = rnd() % 100 < 2 ? 1 + (int64_t)(rnd() % 3) : 0;
			r->signal = 0;
		}
		r->comm = comm[c];
		r->comm_len = (uint32_t)strlen(comm[c]);
		r->filename = filename[c];
		r->filename_len = (uint32_t)strlen(filename[c]);
		if (rnd() % 100 < 5) {
			r->cmdline = NULL;
		} else {
			int len = snprintf(p, 96, "%s -O2 -g -Wall -c src/mod%u/file_%u.c -o .output/file_%u.o",
					   comm[c], (unsigned)(rnd() % 40), (unsigned)(rnd() % 3000),
					   (unsigned)(rnd() % 3000));

			if (len > 95)
				len = 95;
			r->cmdline = p;
			r->cmdline_len = (uint32_t)len;
			p += len + 1;
		}
	}
	return rows;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_file(const char *path, const struct proc_row *rows, size_t n)
{
	static const struct parquet_kv kv[] = {
		{ "ksight.command", "make -j2 all" },
		{ "ksight.host", "bench" },
	};
	struct parquet_opts opts = { .created_by = "ksight bench", .metadata = kv, .nmetadata = 2 };
	struct parquet_writer *w;
	int r;

	r = parquet_writer__open(path, columns, NCOLS, &opts, &w);
	if (r)
		return r;
	for (size_t i = 0; i < n && !r; i++) {
		const struct proc_row *p = &rows[i];

		parquet_writer__add_int64(w, C_PID, p->pid);
		parquet_writer__add_int64(w, C_PPID, p->ppid);
		parquet_writer__add_string(w, C_COMM, p->comm, p->comm_len);
		parquet_writer__add_string(w, C_FILENAME, p->filename, p->filename_len);
		parquet_writer__add_string(w, C_CMDLINE, p->cmdline, p->cmdline_len);
		parquet_writer__add_int64(w, C_START, p->start);
		parquet_writer__add_int64(w, C_END, p->end);
		parquet_writer__add_int64(w, C_DURATION, p->duration);
		if (p->exit_code >= 0)
			parquet_writer__add_int64(w, C_EXIT, p->exit_code);
		parquet_writer__add_int64(w, C_SIGNAL, p->signal);
		parquet_writer__add_int64(w, C_CPU_USER, p->cpu_user);
		parquet_writer__add_int64(w, C_CPU_SYSTEM, p->cpu_system);
		parquet_writer__add_int64(w, C_PEAK_RSS, p->peak_rss);
		parquet_writer__add_int64(w, C_MINFLT, p->minflt);
		parquet_writer__add_int64(w, C_MAJFLT, p->majflt);
		r = parquet_writer__end_row(w);
	}
	if (r) {
		parquet_writer__abort(w);
		return r;
	}
	return parquet_writer__close(w);
}

int main(int argc, char **argv)
{
	const char *copy = NULL;
	size_t n = 1000000;
	int runs = 3, opt;
	struct proc_row *rows;

	while ((opt = getopt(argc, argv, "n:r:l:")) != -1) {
		switch (opt) {
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'r': runs = atoi(optarg); break;
		case 'l': copy = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-n ROWS] [-r RUNS] [-l COPY.parquet] OUT.parquet\n", argv[0]);
			return 2;
		}
	}
	if (optind != argc - 1 || !n || runs < 1) {
		fprintf(stderr, "usage: %s [-n ROWS] [-r RUNS] [-l COPY.parquet] OUT.parquet\n", argv[0]);
		return 2;
	}
	rows = generate(n);
	for (int i = 0; i < runs; i++) {
		double t0 = now(), dt;
		struct stat st;
		int r = write_file(argv[optind], rows, n);

		dt = now() - t0;
		if (r) {
			fprintf(stderr, "parquet: cannot write %s: %s\n", argv[optind], strerror(-r));
			return 1;
		}
		stat(argv[optind], &st);
		printf("rows=%zu seconds=%.3f rows_per_s=%.0f bytes=%lld\n", n, dt, (double)n / dt,
		       (long long)st.st_size);
	}
	if (copy) {
		int r;

		columns[C_START].logical = PARQUET_LOGICAL_TIMESTAMP_NS_LOCAL;
		columns[C_END].logical = PARQUET_LOGICAL_TIMESTAMP_NS_LOCAL;
		r = write_file(copy, rows, n);
		if (r) {
			fprintf(stderr, "parquet: cannot write %s: %s\n", copy, strerror(-r));
			return 1;
		}
	}
	return 0;
}
