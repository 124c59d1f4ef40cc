/* Process lifecycle tracer against workloads that know what they did:
 *  - 200 fork+exec of a helper with known arguments and exit codes;
 *  - a storm of 2,000 short-lived processes: none missing, no drops. */
#include "../lib/ktest.h"

int main(void)
{
	bool tracers[TRACER_COUNT] = { [TRACER_proc] = true };
	char out[PATH_MAX], pidtext[32] = "";
	struct ktest k;
	int64_t forker_pid, storm_pid, threads_pid, children_cpu_ns;
	FILE *f;

	tap_require_bpf();
	plan(19);
	ktest_init(&k);
	ktest_start(&k, tracers, NULL);
	k.grace_ns = 0;

	/* 1. 200 exec + exit with known argv and exit codes */
	snprintf(out, sizeof(out), "%s/forker.out", k.dir);
	{
		char *argv[] = { ktest_helper("forker"), "exec", "200", ktest_helper("exit_with"), "tok3n", NULL };

		is(ktest_workload(&k, argv, out, 60 * NSEC_PER_SEC), 0, "forker saw all 200 children exit as expected");
	}
	f = fopen(out, "r");
	if (!f || !fgets(pidtext, sizeof(pidtext), f))
		bail_out("no pid from forker");
	forker_pid = atoll(pidtext);
	if (!fgets(pidtext, sizeof(pidtext), f))
		bail_out("no CPU total from forker");
	children_cpu_ns = atoll(pidtext);
	fclose(f);

	/* 2. storm */
	snprintf(out, sizeof(out), "%s/storm.out", k.dir);
	{
		char *argv[] = { ktest_helper("forker"), "storm", "2000", NULL };

		is(ktest_workload(&k, argv, out, 60 * NSEC_PER_SEC), 0, "storm workload ran");
	}
	f = fopen(out, "r");
	if (!f || !fgets(pidtext, sizeof(pidtext), f))
		bail_out("no pid from storm");
	fclose(f);
	storm_pid = atoll(pidtext);

	/* 3. processes that exit while their threads still run */
	snprintf(out, sizeof(out), "%s/threads.out", k.dir);
	{
		char *argv[] = { ktest_helper("workload"), "threads", "4", "50", NULL };

		ktest_workload(&k, argv, out, 60 * NSEC_PER_SEC);
	}
	f = fopen(out, "r");
	if (!f || !fgets(pidtext, sizeof(pidtext), f))
		bail_out("no pid from the threads workload");
	fclose(f);
	threads_pid = atoll(pidtext);
	ktest_finish(&k);

	is(ktest_int(&k, "select count(*) from process_events where event='exec' and ppid=%lld "
			 "and filename like '%%/exit_with' and argv like '%%/exit_with %% tok3n'", (long long)forker_pid),
	   200, "exactly 200 exec rows with the forker as parent and the right argv");
	is(ktest_int(&k, "select count(distinct argv) from process_events where event='exec' and ppid=%lld",
		     (long long)forker_pid), 200, "200 distinct argument vectors");
	is(ktest_int(&k, "select count(*) from process_events e where event='exec' and ppid=%lld and "
			 "argv = filename || ' ' || (select count(*) from process_events x where x.event='exec' "
			 "and x.ppid=e.ppid and x.timestamp < e.timestamp) || ' tok3n'", (long long)forker_pid),
	   200, "argv i matches the i-th exec in time order");
	is(ktest_int(&k, "select count(*) from process_events where event='exit' and ppid=%lld and comm='exit_with'",
		     (long long)forker_pid), 200, "exactly 200 exit rows");
	is(ktest_int(&k, "select count(*) from process_events x join process_events e on e.pid = x.pid "
			 "and e.event='exec' and x.event='exit' where e.ppid=%lld and "
			 "x.exit_code = cast(substr(e.argv, length(e.filename) + 2, "
			 "instr(substr(e.argv, length(e.filename) + 2), ' ') - 1) as integer) %% 7",
		     (long long)forker_pid), 200, "each exit code is i %% 7 as the workload chose");
	is(ktest_int(&k, "select count(*) from process_events where event='exit' and ppid=%lld and signal != 0",
		     (long long)forker_pid), 0, "no child reported as killed by a signal");
	is(ktest_int(&k, "select count(*) from process_events where event='fork' and ppid=%lld", (long long)forker_pid),
	   200, "200 fork rows from the forker");
	is(ktest_int(&k, "select count(*) from process_events where event='exit' and pid=%lld and exit_code=0",
		     (long long)forker_pid), 1, "the forker's own exit with status 0");
	ok(ktest_int(&k, "select count(*) from process_events where event='exit' and ppid=%lld and "
			 "(duration_ns <= 0 or duration_ns > 10e9 or minor_faults <= 0 or peak_rss_bytes < 4096)",
		     (long long)forker_pid) == 0, "exit rows have sane duration, faults and peak RSS");
	within(ktest_int(&k, "select sum(cpu_user_ns + cpu_system_ns) from process_events where event='exit' and ppid=%lld",
			 (long long)forker_pid), children_cpu_ns * 0.9, children_cpu_ns * 1.1,
	       "CPU of the 200 short children within 10%% of the kernel's RUSAGE_CHILDREN (%lld ns)",
	       (long long)children_cpu_ns);
	ok(ktest_int(&k, "select count(*) from process_events where cgroup is null and pid in "
			 "(select pid from process_events where ppid=%lld)", (long long)forker_pid) == 0,
	   "every row carries a cgroup path");

	is(ktest_int(&k, "select count(*) from process_events where event='fork' and ppid=%lld", (long long)storm_pid),
	   2000, "storm: 2,000 fork rows");
	is(ktest_int(&k, "select count(*) from process_events where event='exit' and ppid=%lld", (long long)storm_pid),
	   2000, "storm: 2,000 exit rows");
	is(ktest_int(&k, "select count(*) from process_events where event='exit' and ppid=%lld", (long long)threads_pid),
	   50, "50 processes exiting with 4 live threads each: exactly one exit row each");
	is(ktest_int(&k, "select count(*) from process_events where event='fork' and ppid=%lld", (long long)threads_pid),
	   50, "and one fork row each (threads are not processes)");
	is(ktest_int(&k, "select coalesce(sum(drops), 0) from collector_stats where collector='proc'"), 0,
	   "no ring buffer drops recorded");
	is((int64_t)k.ws.rows_dropped, 0, "the writer dropped nothing");
	ktest_cleanup(&k);
	return done_testing();
}
