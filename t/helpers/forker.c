/* Workload with known process behaviour, for the process tracer tests.
 *
 *   forker exec N PROG TOKEN   N times: fork, exec "PROG i TOKEN", wait;
 *                              PROG is expected to exit with status i % 7
 *   forker storm N             fork N children that exit at once
 *
 * Prints its own pid on stdout first so tests can check ppid, and at the
 * end the CPU time its children used (getrusage RUSAGE_CHILDREN, ns).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n, failures = 0;

	if (argc < 3)
		return 2;
	n = atoi(argv[2]);
	printf("%d\n", getpid());
	fflush(stdout);
	if (!strcmp(argv[1], "exec") && argc == 5) {
		for (int i = 0; i < n; i++) {
			char num[16];
			int status;
			pid_t pid;

			snprintf(num, sizeof(num), "%d", i);
			pid = fork();
			if (pid == 0) {
				execl(argv[3], argv[3], num, argv[4], (char *)NULL);
				_exit(127);
			}
			if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
			    WEXITSTATUS(status) != i % 7)
				failures++;
		}
	} else if (!strcmp(argv[1], "storm")) {
		for (int i = 0; i < n; i++) {
			pid_t pid = fork();

			if (pid == 0)
				_exit(0);
			if (pid < 0)
				failures++;
		}
		while (wait(NULL) > 0)
			;
	} else {
		return 2;
	}
	{
		struct rusage ru;

		getrusage(RUSAGE_CHILDREN, &ru);
		printf("%lld\n", ((long long)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
				  ((long long)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL);
	}
	return failures ? 1 : 0;
}
