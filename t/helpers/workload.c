/* Workloads with known behaviour for the tracer tests.  Each prints what it
 * did, measured by itself, on stdout.
 *
 *   workload sleep N MS        N nanosleeps of MS ms; prints the pid
 *   workload touch PAGES       touches PAGES fresh anonymous pages; prints
 *                              "pid minflt majflt" from getrusage (whole life)
 *   workload spin THREADS S    THREADS busy threads for S seconds; prints
 *                              "pid cpu_ns" (CLOCK_PROCESS_CPUTIME_ID)
 *   workload direct FILE N     N O_DIRECT 4 KiB writes to FILE (a block
 *                              device or a file), fsync; prints N
 *   workload threads N R       R times: fork a child that starts N busy
 *                              threads and exits (exit_group) while they
 *                              run; prints its pid
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int stop;

static void *spin(void *arg)
{
	volatile unsigned long n = 0;

	(void)arg;
	while (!stop)
		n++;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "sleep")) {
		int n = atoi(argv[2]), ms = atoi(argv[3]);
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

		for (int i = 0; i < n; i++)
			nanosleep(&ts, NULL);
		printf("%d\n", getpid());
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "touch")) {
		long pages = atol(argv[2]);
		long page = sysconf(_SC_PAGESIZE);
		struct rusage ru;
		char *p = mmap(NULL, (size_t)(pages * page), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return 1;
		for (long i = 0; i < pages; i++)
			p[i * page] = 1;
		getrusage(RUSAGE_SELF, &ru);
		printf("%d %ld %ld\n", getpid(), ru.ru_minflt, ru.ru_majflt);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "spin")) {
		int n = atoi(argv[2]);
		pthread_t th[64];
		struct timespec ts;

		if (n > 64)
			n = 64;
		for (int i = 0; i < n; i++)
			pthread_create(&th[i], NULL, spin, NULL);
		sleep((unsigned)atoi(argv[3]));
		stop = 1;
		for (int i = 0; i < n; i++)
			pthread_join(th[i], NULL);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		printf("%d %lld\n", getpid(), (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "direct")) {
		int n = atoi(argv[3]), fd = open(argv[2], O_WRONLY | O_DIRECT);
		void *buf;

		if (fd < 0 || posix_memalign(&buf, 4096, 4096))
			return 1;
		memset(buf, 0xab, 4096);
		for (int i = 0; i < n; i++)
			if (pwrite(fd, buf, 4096, (off_t)i * 4096) != 4096)
				return 1;
		fsync(fd);
		close(fd);
		printf("%d\n", n);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "threads")) {
		int n = atoi(argv[2]), rounds = atoi(argv[3]);

		for (int r = 0; r < rounds; r++) {
			pid_t pid = fork();

			if (pid == 0) {
				pthread_t th;
				struct timespec ts = { 0, 2000000 };

				for (int i = 0; i < n && i < 64; i++)
					pthread_create(&th, NULL, spin, NULL);
				nanosleep(&ts, NULL);
				exit(0);    /* every thread still running */
			}
			waitpid(pid, NULL, 0);
		}
		printf("%d\n", getpid());
		return 0;
	}
	fprintf(stderr, "usage: workload sleep N MS | touch PAGES | spin THREADS S | direct FILE N | threads N R\n");
	return 2;
}
