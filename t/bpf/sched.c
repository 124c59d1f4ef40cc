/* Scheduler tracer: 4 spinning threads on 2 CPUs must wait on the run
 * queue -> non-zero run-queue latency, involuntary switches, and on-CPU
 * time within 10% of the CPU time the process measured itself. */
#include "../lib/ktest.h"

int main(void)
{
	bool tracers[TRACER_COUNT] = { [TRACER_sched] = true };
	char out[PATH_MAX];
	long pid = 0;
	long long cpu_ns = 0;
	struct ktest k;
	FILE *f;

	tap_require_bpf();
	plan(6);
	ktest_init(&k);
	snprintf(out, sizeof(out), "%s/spin.out", k.dir);
	ktest_start(&k, tracers, NULL);
	{
		char *argv[] = { ktest_helper("workload"), "spin", "4", "2", NULL };

		is(ktest_workload(&k, argv, out, 30 * NSEC_PER_SEC), 0, "4 threads spun for 2 s");
	}
	ktest_finish(&k);
	f = fopen(out, "r");
	if (!f || fscanf(f, "%ld %lld", &pid, &cpu_ns) != 2)
		bail_out("no output from the workload");
	fclose(f);
	diag("process CPU time: %.3f s", cpu_ns / 1e9);
	within(ktest_int(&k, "select sum(oncpu_ns) from process_cpu_stats where pid=%ld", pid),
	       cpu_ns * 0.9, cpu_ns * 1.1, "on-CPU time within 10%% of the process's own CPU clock");
	ok(ktest_int(&k, "select sum(runq_wait_ns) from process_cpu_stats where pid=%ld", pid) > 100000000,
	   "its threads waited on the run queue (> 100 ms in total)");
	ok(ktest_int(&k, "select sum(involuntary_switches) from process_cpu_stats where pid=%ld", pid) > 10,
	   "and were preempted");
	ok(ktest_int(&k, "select max(runq_p99_us) from sched_events") > 0, "sched_events shows run-queue latency");
	is(ktest_int(&k, "select count(*) from sched_events where runq_count > 0 and "
			 "(runq_p50_us > runq_p99_us or runq_p99_us > runq_max_us * 1.0001)"), 0,
	   "percentiles ordered");
	ktest_cleanup(&k);
	return done_testing();
}
