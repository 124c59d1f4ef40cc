/* Syscall tracer against workloads that know what they did:
 *  - 20 nanosleeps of 20 ms: 20 slow-call rows with the right pid and
 *    latencies in [20, 40] ms; the interval histogram's percentiles within
 *    10% of the exact percentiles of those latencies;
 *  - 100,000 getppid calls: counted exactly, no errors. */
#include "../lib/ktest.h"

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

struct lat {
	int64_t v[64];
	int n;
};

static int grab(void *ctx, int ncols, const struct batch_value *v)
{
	struct lat *l = ctx;

	if (ncols == 1 && v[0].tag == V_INT && l->n < 64)
		l->v[l->n++] = v[0].i;
	return 0;
}

/* Exact q-quantile (nearest rank) of sorted values. */
static double exact(const struct lat *l, double q)
{
	int rank = (int)(q * l->n + 0.999999);

	return (double)l->v[(rank < 1 ? 1 : rank) - 1];
}

int main(void)
{
	bool tracers[TRACER_COUNT] = { [TRACER_syscall] = true };
	struct store_query_cb cb;
	struct lat lat = { .n = 0 };
	char err[STORE_ERR_MAX], out[PATH_MAX];
	struct ktest k;
	pid_t pid;

	tap_require_bpf();
	plan(14);

	/* 1. slow calls */
	ktest_init(&k);
	snprintf(out, sizeof(out), "%s/sleep.out", k.dir);
	{
		char *argv[] = { ktest_helper("workload"), "sleep", "20", "20", NULL };

		pid = ktest_spawn(&k, argv, out);
	}
	k.cfg.syscall_pid = (uint64_t)pid;
	/* One interval holds all 20 sleeps (the first tick comes after a
	 * quarter of it, long after they end), so the histogram's percentiles
	 * compare with the exact ones of the same calls. */
	k.cfg.interval_ns = 60 * NSEC_PER_SEC;
	k.grace_ns = 0;
	ktest_start(&k, tracers, NULL);
	is(ktest_workload(&k, NULL, NULL, 30 * NSEC_PER_SEC), 0, "sleep workload ran");
	ktest_finish(&k);
	is(ktest_int(&k, "select count(*) from syscall_events where pid=%d and syscall_name like '%%nanosleep'", pid), 20,
	   "20 slow-call rows for the 20 sleeps");
	is(ktest_int(&k, "select count(*) from syscall_events where pid=%d and syscall_name like '%%nanosleep' "
			 "and latency_ns between 20e6 and 40e6 and ret = 0 and tid = pid", pid), 20,
	   "each with latency in [20, 40] ms, ret 0, the right pid and tid");
	is(ktest_int(&k, "select count(*) from syscall_events where pid != %d", pid), 0,
	   "nothing from other processes (pid filter)");
	is(ktest_int(&k, "select sum(count) from syscall_stats where syscall_name like '%%nanosleep'"), 20,
	   "the histogram counted the 20 sleeps");
	cb = (struct store_query_cb){ NULL, grab, &lat };
	store__query(k.reader, "select latency_ns from syscall_events where syscall_name like '%nanosleep'", &cb, err);
	qsort(lat.v, (size_t)lat.n, sizeof(lat.v[0]), cmp);
	{
		int64_t n = ktest_int(&k, "select max(count) from syscall_stats where syscall_name like '%%nanosleep'");
		int64_t p50 = ktest_int(&k, "select p50_ns from syscall_stats where syscall_name like '%%nanosleep' order by count desc limit 1");
		int64_t p99 = ktest_int(&k, "select p99_ns from syscall_stats where syscall_name like '%%nanosleep' order by count desc limit 1");
		int64_t max = ktest_int(&k, "select max_ns from syscall_stats where syscall_name like '%%nanosleep' order by count desc limit 1");

		diag("one interval: %lld sleeps, p50 %lld p99 %lld max %lld; exact median %g, p99 %g",
		     (long long)n, (long long)p50, (long long)p99, (long long)max, exact(&lat, 0.5), exact(&lat, 0.99));
		is(n, 20, "one interval holds the 20 sleeps");
		within(p50, exact(&lat, 0.5) * 0.9, exact(&lat, 0.5) * 1.1, "p50 within 10%% of the exact median");
		within(p99, exact(&lat, 0.99) * 0.9, exact(&lat, 1.0) * 1.1, "p99 within 10%% of the exact tail");
		ok(max >= lat.v[0] && max <= lat.v[lat.n - 1], "max_ns is one of the real latencies' range");
	}
	ktest_cleanup(&k);

	/* 2. exact counting */
	ktest_init(&k);
	{
		char *argv[] = { ktest_helper("sysloop"), "100000", NULL };

		pid = ktest_spawn(&k, argv, "/dev/null");
	}
	k.cfg.syscall_pid = (uint64_t)pid;
	k.cfg.syscall_slow_ns = 1000000000;
	ktest_start(&k, tracers, NULL);
	is(ktest_workload(&k, NULL, NULL, 30 * NSEC_PER_SEC), 0, "getppid loop ran");
	ktest_finish(&k);
	is(ktest_int(&k, "select sum(count) from syscall_stats where syscall_name='getppid'"), 100000,
	   "exactly 100,000 getppid calls counted");
	is(ktest_int(&k, "select sum(errors) from syscall_stats where syscall_name='getppid'"), 0, "no errors");
	ok(ktest_int(&k, "select max(p50_ns) from syscall_stats where syscall_name='getppid'") < 100000,
	   "getppid median below 100 µs");
	is(ktest_int(&k, "select coalesce(sum(drops),0) from collector_stats where collector='syscall'"), 0, "no drops");
	ktest_cleanup(&k);
	return done_testing();
}
