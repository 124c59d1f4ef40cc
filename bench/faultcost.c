/* faultcost PAGES LOOPS ROUNDS: what the page-fault path costs per fault
 * with each set of programs attached, in one process that attaches and
 * detaches them between short fault storms (faultloop.h), so every
 * measurement is paired with a bare storm run just before it, a few tens of
 * milliseconds apart: on a shared, noisy machine the pairs move together.
 *
 * Sets: "floor" (bench/floor.bpf.c's empty programs on page_fault_user,
 * rss_stat and the perf software events page-faults-min/-maj), "pagefault"
 * (the ksight pagefault tracer's programs, as its skeleton loads them at
 * their defaults), "rss" (the rss tracer's), "both".  User space is left
 * out: the agent reads the tracers' maps once a tick, not per fault.  The
 * ring buffers are drained between storms.
 *
 * Prints one line per pair: "SET BARE_NS WITH_NS", each the storm's CPU
 * time per fault (run pinned: taskset).
 *
 * With STATS_ROUNDS, then measures the programs themselves: with the
 * kernel's run-time statistics on (BPF_ENABLE_STATS, only for that pass:
 * they add two clock reads to every program run on the machine), each set
 * attached in turn for one storm, and prints "body SET NS": the mean run
 * time per run of each of the set's programs that runs on every fault,
 * summed (a fault runs each such hook once; the runs include other
 * processes' faults meanwhile; rss's exit program is left out).  The
 * floor's is what an empty program costs inside that accounting; the
 * difference to it is what the programs do, free of the storm's noise. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "faultloop.h"
#include "floor.skel.h"
#include "pagefault.skel.h"
#include "rss.skel.h"

#define LINKS_MAX 1024

struct set {
	struct bpf_link *links[LINKS_MAX];
	int n;
};

static int attach_perf(struct set *s, struct bpf_program *prog, unsigned long long config)
{
	int ncpus = libbpf_num_possible_cpus();

	for (int cpu = 0; cpu < ncpus && s->n < LINKS_MAX; cpu++) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.size = sizeof(attr),
			.config = config,
			.sample_period = 1,
		};
		int fd = (int)syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0) {
			if (errno == ENODEV)
				continue;
			return -errno;
		}
		if (!(s->links[s->n] = bpf_program__attach_perf_event(prog, fd)))
			return -errno;
		s->n++;
	}
	return 0;
}

static int attach(struct set *s, struct bpf_program *prog)
{
	if (s->n == LINKS_MAX || !(s->links[s->n] = bpf_program__attach(prog)))
		return -1;
	s->n++;
	return 0;
}

static void detach(struct set *s)
{
	for (int i = 0; i < s->n; i++)
		bpf_link__destroy(s->links[i]);
	s->n = 0;
}

/* Run time and run count so far of each program of the set (once each:
 * one perf-event program has a link per CPU); returns how many. */
static int run_stats(const struct set *s, unsigned long long *ns, unsigned long long *cnt)
{
	__u32 seen[LINKS_MAX];
	int nseen = 0;

	for (int i = 0; i < s->n; i++) {
		struct bpf_link_info li;
		struct bpf_prog_info pi;
		__u32 len = sizeof(li);
		int fd, dup = 0;

		memset(&li, 0, sizeof(li));
		if (bpf_obj_get_info_by_fd(bpf_link__fd(s->links[i]), &li, &len))
			continue;
		for (int j = 0; j < nseen; j++)
			dup |= seen[j] == li.prog_id;
		if (dup)
			continue;
		fd = bpf_prog_get_fd_by_id(li.prog_id);
		if (fd < 0)
			continue;
		memset(&pi, 0, sizeof(pi));
		len = sizeof(pi);
		if (!bpf_obj_get_info_by_fd(fd, &pi, &len)) {
			ns[nseen] = pi.run_time_ns;
			cnt[nseen] = pi.run_cnt;
			seen[nseen++] = li.prog_id;
		}
		close(fd);
	}
	return nseen;
}

static int ignore(void *ctx, void *data, size_t size)
{
	return 0;
}

/* Attaches set k (0 floor, 1 pagefault, 2 rss, 3 both); 0 or nonzero. */
static int attach_set(struct set *s, int k, struct floor_bpf *fl, struct pagefault_bpf *pf, struct rss_bpf *rs)
{
	int err = 0;

	if (k == 0)
		err = attach(s, fl->progs.fault_start) || attach(s, fl->progs.fault_rss) ||
		      attach_perf(s, fl->progs.fault_done, PERF_COUNT_SW_PAGE_FAULTS_MIN) ||
		      attach_perf(s, fl->progs.fault_done, PERF_COUNT_SW_PAGE_FAULTS_MAJ);
	if (k == 1 || k == 3)
		err = attach(s, pf->progs.page_fault_user) ||
		      attach_perf(s, pf->progs.on_minor_fault, PERF_COUNT_SW_PAGE_FAULTS_MIN) ||
		      attach_perf(s, pf->progs.on_major_fault, PERF_COUNT_SW_PAGE_FAULTS_MAJ);
	if (!err && (k == 2 || k == 3))
		err = attach(s, rs->progs.handle_rss) || attach(s, rs->progs.handle_exit);
	return err;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "floor", "pagefault", "rss", "both" };
	struct floor_bpf *fl;
	struct pagefault_bpf *pf;
	struct rss_bpf *rs;
	struct ring_buffer *rb;
	long pages, loops, rounds, stats_rounds = 0;
	static struct set s;

	if ((argc != 4 && argc != 5) || (pages = atol(argv[1])) <= 0 || (loops = atol(argv[2])) <= 0 ||
	    (rounds = atol(argv[3])) <= 0 || (argc == 5 && (stats_rounds = atol(argv[4])) < 0)) {
		fprintf(stderr, "usage: faultcost PAGES LOOPS ROUNDS [STATS_ROUNDS]\n");
		return 2;
	}
	fl = floor_bpf__open();
	pf = pagefault_bpf__open();
	rs = rss_bpf__open();
	if (!fl || !pf || !rs || floor_bpf__load(fl) || pagefault_bpf__load(pf) || rss_bpf__load(rs)) {
		fprintf(stderr, "faultcost: cannot load the programs: %s\n", strerror(errno));
		return 1;
	}
	pf->bss->completion_hooks = true;
	rb = ring_buffer__new(bpf_map__fd(pf->maps.events), ignore, NULL, NULL);
	if (!rb || ring_buffer__add(rb, bpf_map__fd(rs->maps.events), ignore, NULL)) {
		fprintf(stderr, "faultcost: no ring buffer reader\n");
		return 1;
	}
	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < 4; i++) {
			int k = (int)((i + r) % 4), err = 0;
			long f0, f1;
			long long c0, c1, w;

			if (faultloop_run(pages, loops, &f0, &c0, &w))
				return 1;
			err = attach_set(&s, k, fl, pf, rs);
			if (err) {
				fprintf(stderr, "faultcost: cannot attach %s: %s\n", names[k], strerror(errno));
				return 1;
			}
			if (faultloop_run(pages, loops, &f1, &c1, &w))
				return 1;
			detach(&s);
			ring_buffer__consume(rb);
			printf("%s %.1f %.1f\n", names[k], (double)c0 / (double)f0, (double)c1 / (double)f1);
			fflush(stdout);
		}
	}
	if (stats_rounds) {
		int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

		if (fd < 0) {
			fprintf(stderr, "faultcost: no BPF run-time statistics: %s\n", strerror(errno));
			return 1;
		}
		for (long r = 0; r < stats_rounds; r++) {
			for (int k = 0; k < 4; k++) {
				unsigned long long ns0[LINKS_MAX], n0[LINKS_MAX], ns1[LINKS_MAX], n1[LINKS_MAX];
				double body = 0;
				long f;
				long long c, w;
				int np;

				if (attach_set(&s, k, fl, pf, rs)) {
					fprintf(stderr, "faultcost: cannot attach %s: %s\n", names[k], strerror(errno));
					return 1;
				}
				np = run_stats(&s, ns0, n0);
				if (faultloop_run(pages, loops, &f, &c, &w))
					return 1;
				if (run_stats(&s, ns1, n1) != np)
					return 1;
				for (int i = 0; i < np; i++)
					if (n1[i] - n0[i] >= (unsigned long long)f / 2)    /* on the fault path */
						body += (double)(ns1[i] - ns0[i]) / (double)(n1[i] - n0[i]);
				printf("body %s %.1f\n", names[k], body);
				detach(&s);
				ring_buffer__consume(rb);
			}
		}
		close(fd);
	}
	ring_buffer__free(rb);
	rss_bpf__destroy(rs);
	pagefault_bpf__destroy(pf);
	floor_bpf__destroy(fl);
	return 0;
}
