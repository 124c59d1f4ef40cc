/* sleepers N SECONDS: N processes that each wake up every second and touch
 * a page, so the agent tracks N live processes (per-process CPU, faults and
 * RSS rows every tick).  Exits after SECONDS; prints N. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100, secs = argc > 2 ? atoi(argv[2]) : 10;

	for (int i = 0; i < n; i++) {
		if (fork() == 0) {
			static char page[1 << 16];
			struct timespec ts = { 1, (long)(i % 1000) * 1000000L };

			for (int s = 0; s < secs; s++) {
				page[(s * 4096) % sizeof(page)]++;
				nanosleep(&ts, NULL);
			}
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	printf("%d\n", n);
	return 0;
}
