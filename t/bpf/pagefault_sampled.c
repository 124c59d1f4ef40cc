/* Page fault tracer, latency sampled: a process touching 20,000 fresh
 * pages with tracers.pagefault.time_every at 16.  Its faults are all
 * counted (the counts match getrusage, which the kernel keeps on the same
 * accounting path), about one in 16 is timed, and every row says how many
 * of its faults its means are over (minor_timed), never more than it
 * counted. */
#include "../lib/ktest.h"

int main(void)
{
	bool tracers[TRACER_COUNT] = { [TRACER_pagefault] = true };
	long pid = 0, minflt = 0, majflt = 0;
	int64_t minor, major, timed;
	struct ktest k;

	tap_require_bpf();
	plan(7);
	ktest_init(&k);
	k.cfg.pagefault_time_every = 16;
	ktest_start(&k, tracers, NULL);
	ktest_touch_pages(&k, &pid, &minflt, &majflt);
	minor = ktest_int(&k, "select sum(minor) from page_fault_stats where pid=%ld", pid);
	major = ktest_int(&k, "select sum(major) from page_fault_stats where pid=%ld", pid);
	timed = ktest_int(&k, "select sum(minor_timed) from page_fault_stats where pid=%ld", pid);
	diag("getrusage: %ld minor, %ld major; recorded %lld minor, %lld major, %lld timed", minflt, majflt,
	     (long long)minor, (long long)major, (long long)timed);
	/* getrusage counts from the fork; the tracer too, once the workload is
	 * running: a handful of faults between fork and the first tick may
	 * differ, not a sampling factor */
	within(minor + major, minflt + majflt - 50, minflt + majflt + 50,
	       "every fault counted: minor + major within 50 of getrusage (%ld)", minflt + majflt);
	ok(ktest_int(&k, "select sum(writes) from page_fault_stats where pid=%ld", pid) >= 20000,
	   "at least 20,000 write faults counted");
	within(timed, minor / 16 / 2, minor / 16 * 2, "about one fault in 16 timed (%lld of %lld)", (long long)timed,
	       (long long)minor);
	is(ktest_int(&k, "select count(*) from page_fault_stats where pid=%ld and minor > 0 "
			 "and (minor_timed is null or minor_timed > minor)", pid),
	   0, "every row says how many of its faults were timed, at most all");
	ok(ktest_int(&k, "select count(*) from page_fault_stats where pid=%ld and minor_timed > 0 "
			 "and minor_avg_us > 0", pid) > 0,
	   "rows with timed faults have a mean latency");
	is(ktest_int(&k, "select count(*) from page_fault_stats where minor_timed = 0 and minor_avg_us is not null"), 0,
	   "no mean without a timed fault");
	ktest_cleanup(&k);
	return done_testing();
}
