/* faultloop PAGES ROUNDS: a page-fault storm of known size, for the fault
 * benches (faultloop.h).  Prints "faults cpu_ns_per_fault wall_ns_per_fault":
 * faults counted by the kernel (getrusage), and this thread's CPU time (the
 * BPF programs run in its context, and time spent waiting for a CPU on a
 * busy machine is left out) and wall time, both per fault, unmapping
 * included. */
#include <stdlib.h>

#include "faultloop.h"

int main(int argc, char **argv)
{
	long pages, rounds, faults;
	long long cpu, wall;

	if (argc != 3 || (pages = atol(argv[1])) <= 0 || (rounds = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: faultloop PAGES ROUNDS\n");
		return 2;
	}
	if (faultloop_run(pages, rounds, &faults, &cpu, &wall))
		return 1;
	printf("%ld %.1f %.1f\n", faults, (double)cpu / (double)faults, (double)wall / (double)faults);
	return 0;
}
