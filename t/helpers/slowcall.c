/* Slow syscalls whose time is known to go to one place, for the syscall
 * tracer's latency split.  Each call is measured by the process itself:
 *
 *   slowcall direct DEV N KB   N O_DIRECT reads of KB KiB from DEV (a
 *                              block device): blocked uninterruptibly (D)
 *   slowcall zero N MB CPU     N reads of MB MiB from /dev/zero into a
 *                              prefaulted buffer, pinned to CPU: on the CPU,
 *                              and waiting for it when hogs share the CPU
 *   slowcall pipe MS           one read on a pipe that a child writes to
 *                              after MS ms: sleeping by choice (S)
 *
 * Prints its pid, then one line per call: "wall_ns cpu_ns runq_ns", where
 * cpu_ns is this thread's CPU time (CLOCK_THREAD_CPUTIME_ID) and runq_ns
 * the time it waited on a run queue (run_delay in
 * /proc/thread-self/schedstat), both taken just before and after the call;
 * the rest of wall_ns is time spent blocked or asleep.  The calls measured
 * are all readv() with one buffer; nothing else here (the measuring uses
 * pread64 and clock_gettime, the dynamic loader read) makes that call, so a
 * tracer's readv rows are exactly these calls.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct mark {
	long long wall, cpu, runq;
};

static long long clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long run_delay(void)
{
	static int fd = -1;
	unsigned long long exec_ns = 0, delay_ns = 0;
	char buf[128];
	ssize_t n;

	if (fd < 0)
		fd = open("/proc/thread-self/schedstat", O_RDONLY);
	n = fd < 0 ? -1 : pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0 || (buf[n] = '\0', sscanf(buf, "%llu %llu", &exec_ns, &delay_ns) != 2)) {
		perror("/proc/thread-self/schedstat");
		exit(1);
	}
	return (long long)delay_ns;
}

/* Outermost first on the way in, last on the way out, so the window holds
 * the other two readings and the call. */
static void mark_begin(struct mark *m)
{
	m->wall = clock_ns(CLOCK_MONOTONIC);
	m->runq = run_delay();
	m->cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static void mark_end(const struct mark *m)
{
	long long cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID), runq = run_delay(), wall = clock_ns(CLOCK_MONOTONIC);

	printf("%lld %lld %lld\n", wall - m->wall, cpu - m->cpu, runq - m->runq);
}

/* The call measured: a read of size bytes into buf. */
static ssize_t read_one(int fd, void *buf, size_t size)
{
	struct iovec iov = { buf, size };

	return readv(fd, &iov, 1);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("sched_setaffinity");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct mark m;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && !strcmp(argv[1], "direct")) {
		int n = atoi(argv[3]), fd = open(argv[2], O_RDONLY | O_DIRECT);
		size_t size = (size_t)atoi(argv[4]) * 1024;
		void *buf;

		if (fd < 0 || posix_memalign(&buf, 4096, size)) {
			perror(argv[2]);
			return 1;
		}
		memset(buf, 0, size);
		run_delay();
		printf("%d\n", getpid());
		for (int i = 0; i < n; i++) {
			mark_begin(&m);
			if (read_one(fd, buf, size) != (ssize_t)size) {
				perror("read");
				return 1;
			}
			mark_end(&m);
		}
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "zero")) {
		int n = atoi(argv[2]), fd = open("/dev/zero", O_RDONLY);
		size_t size = (size_t)atoi(argv[3]) << 20;
		char *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

		if (fd < 0 || buf == MAP_FAILED) {
			perror("/dev/zero");
			return 1;
		}
		pin(atoi(argv[4]));
		run_delay();
		printf("%d\n", getpid());
		for (int i = 0; i < n; i++) {
			mark_begin(&m);
			if (read_one(fd, buf, size) != (ssize_t)size) {
				perror("read");
				return 1;
			}
			mark_end(&m);
		}
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "pipe")) {
		struct timespec ts = { atoi(argv[2]) / 1000, (long)(atoi(argv[2]) % 1000) * 1000000L };
		int fds[2];
		pid_t child;
		char c;

		if (pipe(fds))
			return 1;
		run_delay();
		printf("%d\n", getpid());
		child = fork();
		if (child == 0) {
			nanosleep(&ts, NULL);
			_exit(write(fds[1], "x", 1) == 1 ? 0 : 1);
		}
		mark_begin(&m);
		if (read_one(fds[0], &c, 1) != 1) {
			perror("read");
			return 1;
		}
		mark_end(&m);
		waitpid(child, NULL, 0);
		return 0;
	}
	fprintf(stderr, "usage: slowcall direct DEV N KB | zero N MB CPU | pipe MS\n");
	return 2;
}
