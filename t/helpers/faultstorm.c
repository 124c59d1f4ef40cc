/* faultstorm ROUNDS [--wait]: a page-fault storm of known size, for the
 * overhead budget's test.  Each round maps 256 fresh anonymous pages (no
 * huge pages), writes one byte to each (one minor fault per page, from user
 * mode) and unmaps them.  With --wait it first prints its pid and waits for
 * a line on stdin, so a tracer can be ready before the storm starts.
 * Prints "pages faults": the pages it touched (each one fault the tracer
 * sees) and every fault the kernel counted for it (getrusage: also the
 * faults of loading and of the kernel's own accesses). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define PAGES 256

int main(int argc, char **argv)
{
	long rounds, page = sysconf(_SC_PAGESIZE), touched = 0;
	struct rusage ru;
	char line[16];

	if (argc < 2 || (rounds = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: faultstorm ROUNDS [--wait]\n");
		return 2;
	}
	if (argc > 2 && !strcmp(argv[2], "--wait")) {
		printf("%d\n", getpid());
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			return 1;
	}
	for (long r = 0; r < rounds; r++) {
		char *p = mmap(NULL, (size_t)(PAGES * page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		madvise(p, (size_t)(PAGES * page), MADV_NOHUGEPAGE);
		for (long i = 0; i < PAGES; i++)
			p[i * page] = 1;
		touched += PAGES;
		munmap(p, (size_t)(PAGES * page));
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("%ld %ld\n", touched, ru.ru_minflt + ru.ru_majflt);
	return 0;
}
