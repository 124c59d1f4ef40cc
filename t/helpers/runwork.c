/* Workload pieces for the ksight run tests: each does one known thing and
 * appends what it did, as measured by itself, to LOG as one line
 * "<what> <pid> <ppid> [values...]" (one write, O_APPEND: lines from many
 * processes never mix).
 *
 *   runwork leaf LOG            records itself and exits 0
 *   runwork cpu MS LOG          two threads burn MS ms of CPU in all; records
 *                               "cpu PID PPID total_ns user_ns system_ns" from
 *                               CLOCK_PROCESS_CPUTIME_ID and getrusage()
 *   runwork mem MIB LOG         allocates and touches MIB MiB; records
 *                               "mem PID PPID vmhwm_bytes" (/proc/self/status)
 *   runwork exit N LOG          records, exits N
 *   runwork selfkill LOG        records, kills itself with SIGKILL
 *   runwork short N LOG         records "shorts PID PPID", then N times: fork,
 *                               exec "runwork quick", wait; records
 *                               "short PID PPID lifetime_ns status" per child
 *                               (lifetime: fork to reaped, an upper bound), and
 *                               at the end "shorts-cpu PID PPID ns": the CPU
 *                               time of all its children (RUSAGE_CHILDREN)
 *   runwork quick               exits 0 at once
 *   runwork sleep MS LOG        records, sleeps MS ms, records "woke PID"
 *   runwork daemon MS LOG       records "daemon-caller PID PPID", double-forks
 *                               a daemon (setsid, stdio closed) that records
 *                               "daemon PID PPID", sleeps MS ms, records
 *                               "daemon-exit PID"; the first child records
 *                               "daemon-parent PID PPID"; the caller exits 0
 *                               once the first child has
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *log_path;

static void record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void record(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, (size_t)n) != n) {
		perror(log_path);
		exit(100);
	}
	close(fd);
}

static int64_t ns_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t burn_until_ns;

static void *burn(void *arg)
{
	volatile uint64_t x = 0;

	(void)arg;
	while (ns_of(CLOCK_PROCESS_CPUTIME_ID) < burn_until_ns)
		for (int i = 0; i < 10000; i++)
			x += (uint64_t)i * i;
	return NULL;
}

static void cpu(long ms)
{
	struct rusage ru;
	pthread_t t;
	int64_t total;

	burn_until_ns = ns_of(CLOCK_PROCESS_CPUTIME_ID) + ms * 1000000;
	pthread_create(&t, NULL, burn, NULL);
	burn(NULL);
	pthread_join(t, NULL);
	getrusage(RUSAGE_SELF, &ru);
	total = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	record("cpu %d %d %lld %lld %lld", getpid(), getppid(), (long long)total,
	       (long long)ru.ru_utime.tv_sec * 1000000000 + ru.ru_utime.tv_usec * 1000,
	       (long long)ru.ru_stime.tv_sec * 1000000000 + ru.ru_stime.tv_usec * 1000);
}

static void mem(long mib)
{
	size_t size = (size_t)mib << 20;
	char *p = malloc(size), line[256];
	long long hwm_kb = -1;
	FILE *f;

	if (!p)
		exit(101);
	for (size_t i = 0; i < size; i += 4096)
		p[i] = (char)i;
	f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "VmHWM: %lld kB", &hwm_kb);
	if (f)
		fclose(f);
	record("mem %d %d %lld", getpid(), getppid(), hwm_kb * 1024);
	free(p);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void shorts(long n, const char *self)
{
	struct rusage ru;

	for (long i = 0; i < n; i++) {
		int64_t t0 = ns_of(CLOCK_MONOTONIC);
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			execl(self, self, "quick", (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			exit(102);
		record("short %d %d %lld %d", pid, getpid(), (long long)(ns_of(CLOCK_MONOTONIC) - t0), status);
	}
	getrusage(RUSAGE_CHILDREN, &ru);
	record("shorts-cpu %d %d %lld", getpid(), getppid(),
	       (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       (long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000);
}

static void daemonize(long ms)
{
	pid_t pid;

	record("daemon-caller %d %d", getpid(), getppid());
	pid = fork();

	if (pid < 0)
		exit(103);
	if (pid > 0) {
		waitpid(pid, NULL, 0);
		return;
	}
	setsid();
	pid = fork();
	if (pid < 0)
		_exit(103);
	if (pid > 0) {
		record("daemon-parent %d %d", getpid(), getppid());
		_exit(0);
	}
	record("daemon %d %d", getpid(), getppid());
	close(0);
	close(1);
	close(2);
	sleep_ms(ms);
	record("daemon-exit %d", getpid());
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	long n = argc > 2 ? atol(argv[2]) : 0;

	if (!strcmp(what, "quick"))
		return 0;
	log_path = argv[argc - 1];
	if (argc < 3) {
		fprintf(stderr, "usage: runwork WHAT [N] LOG (see the source)\n");
		return 2;
	}
	if (!strcmp(what, "leaf")) {
		record("leaf %d %d", getpid(), getppid());
	} else if (!strcmp(what, "cpu") && argc == 4) {
		cpu(n);
	} else if (!strcmp(what, "mem") && argc == 4) {
		mem(n);
	} else if (!strcmp(what, "exit") && argc == 4) {
		record("exit %d %d %ld", getpid(), getppid(), n);
		return (int)n;
	} else if (!strcmp(what, "selfkill")) {
		record("selfkill %d %d", getpid(), getppid());
		raise(SIGKILL);
	} else if (!strcmp(what, "short") && argc == 4) {
		record("shorts %d %d", getpid(), getppid());
		shorts(n, argv[0]);
	} else if (!strcmp(what, "sleep") && argc == 4) {
		record("sleep %d %d", getpid(), getppid());
		sleep_ms(n);
		record("woke %d", getpid());
	} else if (!strcmp(what, "daemon") && argc == 4) {
		daemonize(n);
	} else {
		fprintf(stderr, "runwork: unknown '%s' (see the source)\n", what);
		return 2;
	}
	return 0;
}
