/* Leak detection on real processes: the rss tracer and detector against
 * 23 growers running at once (t/helpers/grower), each knowing its truth:
 *  - the seed system's four leak patterns are found and classified, with
 *    the net rate within 5%: linear in a process that was flat for 28 s
 *    (settled: found while it grows), the others leaking from their start
 *    (suspects once their growth outlasted the 25 s warm-up horizon);
 *  - the non-leaks (a cache that fills and holds, a garbage collector's
 *    sawtooth, a spike that is freed, a large constant process, a warm-up
 *    of 60 MB over a process's first 6 s and one in mid-life) are never a
 *    suspect, however slowly a busy machine lets them allocate;
 *  - ten linear leaks at ten rates at once are all found, rates within 5%;
 *  - a leak inside a memory cgroup (v1, limit 48 MiB) that would reach its
 *    limit within the horizon is a suspect at once (urgency overrides
 *    patience), reported with that cgroup and limit, and its projected time
 *    to the limit is within 15% of when the kernel's OOM killer really
 *    stopped it;
 *  - the collector never reports its own process;
 *  - samples are coalesced (about one per second per process), exits are
 *    reported and every grower's state is gone, in the kernel and in user
 *    space, once it exited; nothing was dropped. */
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../src/bpf/rss.h"
#include "../../src/bpf/rss_tracer.h"
#include "../src/scrape/cgroup.h"
#include "../src/scrape/procfs.h"
#include "../lib/ktest.h"

#define MIB (1024 * 1024)
#define LIMIT (48LL * MIB)

struct grower {
	const char *name;
	const char *args;
	const char *want;             /* pattern, or NULL for a non-leak */
	long long pid, start_ns;
	double rate;                  /* truth: net bytes/s */
};

static struct grower growers[] = {
	{ "linear", "linear --rate 1M --delay 28 --duration 42", "linear" },
	{ "accelerating", "accelerating --rate 256K --duration 40", "accelerating" },
	{ "oscillating", "oscillating --rate 1M --on 5 --off 5 --duration 42", "oscillating" },
	{ "burst", "burst --size 30M --period 4 --duration 39", "burst" },
	{ "plateau", "plateau --size 64M --fill 1 --duration 36", NULL },
	{ "sawtooth", "sawtooth --size 40M --on 1.5 --period 2 --duration 36", NULL },
	{ "spike", "spike --size 200M --on 3 --off 3 --duration 36", NULL },
	{ "constant", "constant --size 256M --duration 36", NULL },
	{ "warmup", "plateau --size 60M --fill 6 --duration 36", NULL },
	{ "midlife-warmup", "plateau --size 60M --fill 6 --delay 30 --duration 42", NULL },
	{ "multi1", "linear --rate 512K --duration 36", "linear" },
	{ "multi2", "linear --rate 1M --duration 36", "linear" },
	{ "multi3", "linear --rate 1536K --duration 36", "linear" },
	{ "multi4", "linear --rate 2M --duration 36", "linear" },
	{ "multi5", "linear --rate 2560K --duration 36", "linear" },
	{ "multi6", "linear --rate 3M --duration 36", "linear" },
	{ "multi7", "linear --rate 3584K --duration 36", "linear" },
	{ "multi8", "linear --rate 4M --duration 36", "linear" },
	{ "multi9", "linear --rate 4608K --duration 36", "linear" },
	{ "multi10", "linear --rate 5M --duration 36", "linear" },
	{ "limited", "linear --rate 4M --duration 25", "linear" },   /* in the cgroup */
};

#define NGROWERS (sizeof(growers) / sizeof(growers[0]))
#define NONLEAKS 4          /* growers[NONLEAKS .. MULTI) are not leaks */
#define MULTI 10
#define LIMITED (NGROWERS - 1)

static void read_out(const char *dir, struct grower *g)
{
	char path[PATH_MAX], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.out", dir, g->name);
	f = fopen(path, "r");
	if (!f || !fgets(line, sizeof(line), f) ||
	    sscanf(line, "pid=%lld pattern=%*s start_ns=%lld rate=%lf", &g->pid, &g->start_ns, &g->rate) != 3)
		bail_out("a grower did not say what it does");
	fclose(f);
}

/* Exit status and CLOCK_REALTIME ns of a grower's end, as the driver saw it. */
static void read_status(const char *dir, const char *name, int *status, long long *end_ns)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.status", dir, name);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%d %lld", status, end_ns) != 2)
		bail_out("no status from the driver");
	fclose(f);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -1;
	rc = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) || rc ? -1 : 0;
}

/* A child of our own memory cgroup (v1), so the grower stays inside
 * whatever hierarchy runs this test.  Returns false, saying why, when this
 * machine has no v1 memory controller. */
static bool make_cgroup(char *dir, size_t size, char *procs, size_t psize, char *rel, size_t rsize)
{
	struct cgroup_resolver *r;
	char text[4096], file[PATH_MAX + 32], limit[64], *line, *save = NULL;
	const char *mount;
	ssize_t n;

	if (cgroup_resolver__new("", &r))
		bail_out("cgroup_resolver__new");
	mount = cgroup_resolver__memcg_mount(r);
	if (!mount[0]) {
		cgroup_resolver__free(r);
		diag("no cgroup v1 memory controller mounted: the limited cgroup is not tested");
		return false;
	}
	n = procfs_read("", "/proc/self/cgroup", text, sizeof(text));
	rel[0] = '\0';
	for (line = n > 0 ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		char *ctl = strchr(line, ':'), *path = ctl ? strchr(ctl + 1, ':') : NULL;

		if (path && !strncmp(ctl + 1, "memory:", 7))
			snprintf(rel, rsize, "%s/ksight-test-%d", strcmp(path + 1, "/") ? path + 1 : "", (int)getpid());
	}
	if (!rel[0]) {
		cgroup_resolver__free(r);
		diag("this process has no v1 memory cgroup: the limited cgroup is not tested");
		return false;
	}
	snprintf(dir, size, "%s%s", mount, rel);
	snprintf(procs, psize, "%s/cgroup.procs", dir);
	cgroup_resolver__free(r);
	if (mkdir(dir, 0755) && errno != EEXIST)
		bail_out("cannot create the test memory cgroup");
	snprintf(file, sizeof(file), "%s/memory.limit_in_bytes", dir);
	snprintf(limit, sizeof(limit), "%lld", LIMIT);
	if (write_file(file, limit))
		bail_out("cannot set memory.limit_in_bytes");
	return true;
}

int main(void)
{
	bool tracers[TRACER_COUNT] = { [TRACER_rss] = true };
	char cg_dir[PATH_MAX], cg_procs[PATH_MAX + 16], cg_rel[1024], script[8192], *grower;
	struct rss_tracer_counters cnt;
	struct tracer *t;
	struct ktest k;
	size_t len = 0;
	int status, lingering = 0, tracked = 0, map_fd;
	bool limited;
	long long end_ns;

	tap_require_bpf();
	ktest_init(&k);
	ktest_start(&k, tracers, NULL);
	k.grace_ns = 2 * NSEC_PER_SEC;
	limited = make_cgroup(cg_dir, sizeof(cg_dir), cg_procs, sizeof(cg_procs), cg_rel, sizeof(cg_rel));
	grower = ktest_helper("grower");

	/* The driver starts every grower at once and records how each ended. */
	len += (size_t)snprintf(script + len, sizeof(script) - len,
				"D=$1; G=$2\n"
				"run() { n=$1; shift; ( \"$G\" \"$@\" > \"$D/$n.out\"; "
				"echo \"$? $(date +%%s%%N)\" > \"$D/$n.status\" ) 2>\"$D/$n.err\" & }\n");
	for (size_t i = 0; i < NGROWERS; i++)
		len += (size_t)snprintf(script + len, sizeof(script) - len, "run %s %s%s%s\n", growers[i].name,
					growers[i].args, i == LIMITED && limited ? " --cgroup-procs " : "",
					i == LIMITED && limited ? cg_procs : "");
	snprintf(script + len, sizeof(script) - len, "wait\n");
	{
		char *argv[] = { "/bin/sh", "-c", script, "driver", k.dir, grower, NULL };

		is(ktest_workload(&k, argv, NULL, 120 * NSEC_PER_SEC), 0, "%zu growers ran at once", NGROWERS);
	}
	for (size_t i = 0; i < NGROWERS; i++)
		read_out(k.dir, &growers[i]);

	/* State is gone once a process exited: in the kernel and here. */
	t = collector__tracer(k.col, TRACER_rss);
	map_fd = bpf_map__fd(bpf_object__find_map_by_name(t->obj, "procs"));
	for (size_t i = 0; i < NGROWERS; i++) {
		struct rss_state st;
		__u32 key = (__u32)growers[i].pid;

		lingering += bpf_map_lookup_elem(map_fd, &key, &st) == 0;
		tracked += rss_tracer_tracks(t, key);
	}
	is(lingering, 0, "no grower left in the kernel's map after it exited");
	is(tracked, 0, "no grower left in the detector after it exited");
	rss_tracer_counters(t, &cnt);
	ok(cnt.jumps >= 3 * 4, "burst: jumps sent at once (%llu jump samples)", (unsigned long long)cnt.jumps);
	ok(cnt.exits >= NGROWERS - 1, "exit records received (%llu)", (unsigned long long)cnt.exits);
	ktest_finish(&k);

	/* The four seed patterns. */
	for (size_t i = 0; i < 4; i++) {
		struct grower *g = &growers[i];
		int64_t rows;

		rows = ktest_int(&k, "select count(*) from memory_growth_events where pid=%lld and status='suspect'", g->pid);
		ok(rows >= 1, "%s: found (%lld suspect rows)", g->name, (long long)rows);
		is(ktest_int(&k, "select count(*) from (select pattern from memory_growth_events where pid=%lld "
				 "order by timestamp desc limit 1) where pattern='%s'", g->pid, g->want), 1,
		   "%s: classified %s", g->name, g->want);
		ok(ktest_int(&k, "select min(timestamp) from memory_growth_events where pid=%lld", g->pid) > g->start_ns,
		   "%s: found after its growth began", g->name);
		if (i)
			ok(ktest_int(&k, "select min(timestamp) from memory_growth_events where pid=%lld and status='suspect'",
				     g->pid) > g->start_ns + 24 * NSEC_PER_SEC,
			   "%s: leaking from its start, a suspect only once its growth outlasted the horizon", g->name);
		if (strcmp(g->name, "accelerating"))
			within((double)ktest_int(&k, "select cast(growth_rate_bytes_per_s * 1000 as int) from memory_growth_events "
						     "where pid=%lld order by timestamp desc limit 1", g->pid) / 1000 / g->rate,
			       0.95, 1.05, "%s: rate within 5%% of %.0f B/s", g->name, g->rate);
		is(ktest_int(&k, "select count(*) from memory_growth_events where pid=%lld and status='exited'", g->pid), 1,
		   "%s: one 'exited' row when it ended", g->name);
	}

	/* Non-leaks: never a suspect (a slow allocation on a busy machine, a
	 * warm-up, may be watched; that row says so, at low confidence). */
	for (size_t i = NONLEAKS; i < MULTI; i++) {
		is(ktest_int(&k, "select count(*) from memory_growth_events where pid=%lld and status='suspect'",
			     growers[i].pid), 0, "%s: never a suspect", growers[i].name);
		is(ktest_int(&k, "select count(*) from memory_growth_events where pid=%lld and confidence >= 0.5",
			     growers[i].pid), 0, "%s: no row at confidence 0.5 or more", growers[i].name);
	}

	/* Ten at once. */
	{
		int found = 0, linear = 0, rate_ok = 0;

		for (size_t i = MULTI; i < MULTI + 10; i++) {
			struct grower *g = &growers[i];
			double rate = (double)ktest_int(&k, "select cast(growth_rate_bytes_per_s as int) from "
							   "memory_growth_events where pid=%lld order by timestamp desc limit 1",
							g->pid);

			found += ktest_int(&k, "select count(*) from memory_growth_events where pid=%lld and "
					       "status='suspect'", g->pid) > 0;
			linear += ktest_int(&k, "select count(*) from (select pattern from memory_growth_events where "
						"pid=%lld order by timestamp desc limit 1) where pattern='linear'", g->pid);
			if (fabs(rate / g->rate - 1) <= 0.05)
				rate_ok++;
			else
				diag("%s: rate %.0f, truth %.0f", g->name, rate, g->rate);
		}
		is(found, 10, "10 at once: all found");
		is(linear, 10, "10 at once: all linear");
		is(rate_ok, 10, "10 at once: all rates within 5%%");
	}

	/* Coalescing: about one sample per second per process, plus jumps
	 * (a grower the machine holds back catches up in one allocation). */
	{
		int64_t samples = ktest_int(&k, "select samples from memory_growth_events where pid=%lld and status='exited'",
					    growers[MULTI + 9].pid);

		within(samples, 29, 72, "5 MB/s for 36 s (46,080 page faults): %lld samples", (long long)samples);
	}

	/* The collector leaves itself out. */
	is(ktest_int(&k, "select count(*) from memory_growth_events where pid=%d", (int)getpid()), 0,
	   "no row about the collector's own process");

	/* Unlimited processes are projected against MemAvailable. */
	is(ktest_int(&k, "select count(*) from memory_growth_events where pid=%lld and status='suspect' and "
			 "limit_bytes is null and limit_source='memavailable' and headroom_bytes > 0 and time_to_limit_s > 0",
		     growers[0].pid),
	   ktest_int(&k, "select count(*) from memory_growth_events where pid=%lld and status='suspect'", growers[0].pid),
	   "unlimited: limit NULL, projected against MemAvailable");

	/* The limited cgroup. */
	if (!limited) {
		skip(4, "no cgroup v1 memory controller here");
	} else {
		struct grower *g = &growers[LIMITED];
		double ttl, truth;
		int64_t first;

		read_status(k.dir, g->name, &status, &end_ns);
		is(status, 128 + 9, "limited: the grower was killed (SIGKILL by the OOM killer)");
		is(ktest_int(&k, "select count(*) from memory_growth_events where pid=%lld and status='suspect' and "
				 "cgroup='%s' and limit_bytes=%lld and limit_source='cgroup'", g->pid, cg_rel, LIMIT),
		   ktest_int(&k, "select count(*) from memory_growth_events where pid=%lld and status='suspect'", g->pid),
		   "limited: rows carry its cgroup %s and the 48 MiB limit", cg_rel);
		first = ktest_int(&k, "select min(timestamp) from memory_growth_events where pid=%lld", g->pid);
		ttl = (double)ktest_int(&k, "select cast(time_to_limit_s * 1000 as int) from memory_growth_events "
					    "where pid=%lld and timestamp=%lld", g->pid, (long long)first) / 1000;
		truth = (double)(end_ns - first) / 1e9;
		within(ttl / truth, 0.85, 1.15, "limited: at detection %.2f s to the limit projected, %.2f s true", ttl, truth);
		ok(ktest_int(&k, "select count(*) from memory_growth_events where pid=%lld and status='suspect' and "
				 "headroom_bytes between 0 and %lld", g->pid, LIMIT) >= 1,
		   "limited: headroom within the limit");
	}

	is(ktest_int(&k, "select coalesce(sum(drops), 0) from collector_stats where collector='rss'"), 0,
	   "no drops recorded");
	is((int64_t)k.ws.rows_dropped, 0, "the writer dropped nothing");
	if (limited && rmdir(cg_dir))
		diag("cannot remove %s: %s", cg_dir, strerror(errno));
	ktest_cleanup(&k);
	return done_testing();
}
