/* Page fault tracer: a process touching 20,000 fresh pages -> its minor
 * faults within 5% of what getrusage says, writes counted, latency sampled. */
#include "../lib/ktest.h"

int main(void)
{
	bool tracers[TRACER_COUNT] = { [TRACER_pagefault] = true };
	long pid = 0, minflt = 0, majflt = 0;
	struct ktest k;

	tap_require_bpf();
	plan(6);
	ktest_init(&k);
	k.cfg.pagefault_sample_every = 100;
	ktest_start(&k, tracers, NULL);
	ktest_touch_pages(&k, &pid, &minflt, &majflt);
	diag("getrusage: %ld minor, %ld major faults", minflt, majflt);
	within(ktest_int(&k, "select sum(minor) from page_fault_stats where pid=%ld", pid), minflt * 0.95, minflt * 1.05,
	       "minor faults within 5%% of getrusage (%ld)", minflt);
	ok(ktest_int(&k, "select sum(writes) from page_fault_stats where pid=%ld", pid) >= 20000,
	   "at least 20,000 write faults");
	ok(ktest_int(&k, "select count(*) from page_fault_events where pid=%ld and fault_type='minor' "
			 "and access='write' and latency_ns > 0", pid) >= 100,
	   "sampled events: minor write faults with a latency");
	ok(ktest_int(&k, "select count(*) from page_fault_events where latency_ns > 1e9") == 0,
	   "no fault latency above 1 s");
	is(ktest_int(&k, "select count(*) from collector_stats where collector='pagefault' and reason is not null"), 0,
	   "perf software events attached (no degraded note)");
	ktest_cleanup(&k);
	return done_testing();
}
