/* The fault storm of bench/faultloop and bench/faultcost: ROUNDS times,
 * map PAGES fresh anonymous pages (no huge pages), write one byte to each
 * (one minor fault and one rss_stat event per page) and unmap them. */
#ifndef KS_BENCH_FAULTLOOP_H
#define KS_BENCH_FAULTLOOP_H

#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static inline long long faultloop_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Faults of this thread so far, as the kernel counts them. */
static inline long faultloop_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

/* Runs the storm; sets *faults and *cpu_ns (this thread's CPU time, in
 * whose context the BPF programs run) and *wall_ns.  0, or -1 when a
 * mapping failed. */
static inline int faultloop_run(long pages, long rounds, long *faults, long long *cpu_ns, long long *wall_ns)
{
	long page = sysconf(_SC_PAGESIZE), f0 = faultloop_faults();
	long long c0 = faultloop_clock_ns(CLOCK_THREAD_CPUTIME_ID), w0 = faultloop_clock_ns(CLOCK_MONOTONIC);

	for (long r = 0; r < rounds; r++) {
		char *p = mmap(NULL, (size_t)(pages * page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("mmap");
			return -1;
		}
		madvise(p, (size_t)(pages * page), MADV_NOHUGEPAGE);
		for (long i = 0; i < pages; i++)
			p[i * page] = 1;
		munmap(p, (size_t)(pages * page));
	}
	*faults = faultloop_faults() - f0;
	*cpu_ns = faultloop_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	*wall_ns = faultloop_clock_ns(CLOCK_MONOTONIC) - w0;
	return 0;
}

#endif
