/* Block I/O tracer: O_DIRECT writes of a known number of blocks to a loop
 * device (only this test's I/O reaches it) -> that many writes and bytes on
 * that device, with sane latencies. */
#include "../lib/ktest.h"

int main(void)
{
	bool tracers[TRACER_COUNT] = { [TRACER_blockio] = true };
	char img[256], cmd[600], dev[64] = "", *name;
	struct ktest k;
	FILE *f;
	int rc;

	tap_require_bpf();
	plan(7);
	ktest_init(&k);
	snprintf(img, sizeof(img), "%s/disk.img", k.dir);
	snprintf(cmd, sizeof(cmd), "truncate -s 16M %s && losetup -f --show %s", img, img);
	f = popen(cmd, "r");
	if (!f || !fgets(dev, sizeof(dev), f) || pclose(f))
		bail_out("cannot set up a loop device (losetup)");
	dev[strcspn(dev, "\n")] = '\0';
	name = strrchr(dev, '/') + 1;
	ktest_start(&k, tracers, NULL);
	{
		char *argv[] = { ktest_helper("workload"), "direct", dev, "300", NULL };

		rc = ktest_workload(&k, argv, "/dev/null", 30 * NSEC_PER_SEC);
	}
	ktest_finish(&k);
	snprintf(cmd, sizeof(cmd), "losetup -d %s", dev);
	if (system(cmd))
		diag("losetup -d failed");
	is(rc, 0, "300 O_DIRECT writes to %s", dev);
	is(ktest_int(&k, "select sum(write_count) from io_latency_stats where device='%s'", name), 300,
	   "exactly 300 writes recorded on %s", name);
	is(ktest_int(&k, "select sum(write_bytes) from io_latency_stats where device='%s'", name), 300 * 4096,
	   "300 x 4 KiB written");
	is(ktest_int(&k, "select count(*) from io_latency_stats where device='%s' and dev_major=7", name), 
	   ktest_int(&k, "select count(*) from io_latency_stats where device='%s'", name), "loop devices are major 7");
	ok(ktest_int(&k, "select count(*) from io_latency_stats where device='%s' and write_count > 0 and "
			 "(write_p50_us <= 0 or write_p50_us > write_p99_us or write_p99_us > write_max_us * 1.0001 "
			 "or write_max_us > 10e6)", name) == 0, "percentiles ordered, positive, below 10 s");
	is(ktest_int(&k, "select coalesce(sum(read_count), 0) from io_latency_stats where device='%s'", name), 0,
	   "no reads");
	is(ktest_int(&k, "select coalesce(sum(drops),0) from collector_stats where collector='blockio'"), 0, "no drops");
	ktest_cleanup(&k);
	return done_testing();
}
