/* floor [--ktime | --clock | --slot | --faults] -- CMD [ARGS...]: runs CMD
 * with floor programs attached (see floor.bpf.c) and exits with CMD's status:
 *   (default)  empty programs on raw_syscalls sys_enter/sys_exit (tp_btf);
 *   --ktime    one clock read at entry and one at exit;
 *   --clock    a task-storage timestamp at entry, the latency at exit;
 *   --slot     a per-CPU slot timestamp, moved to task storage at a switch
 *              inside the call (sys_enter, sys_exit, sched_switch);
 *   --faults   empty programs on page_fault_user, rss_stat and the perf
 *              software events page-faults-min/-maj on every CPU;
 *   --agent    empty programs on every hook the default agent attaches, as
 *              many on each as it has (the syscall and fault ones above
 *              too): the floor of the whole agent on any workload. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "floor.skel.h"

#define PERF_MAX 1024

static struct bpf_link *perf_links[PERF_MAX];
static int nperf;

/* Attaches prog to a software counter `config` sampling every event on
 * every CPU, as the page-fault tracer does. */
static int attach_perf(struct bpf_program *prog, unsigned long long config)
{
	int ncpus = libbpf_num_possible_cpus();

	for (int cpu = 0; cpu < ncpus && nperf < PERF_MAX; cpu++) {
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
		if (!(perf_links[nperf] = bpf_program__attach_perf_event(prog, fd)))
			return -errno;
		nperf++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const modes[] = { "", "--ktime", "--clock", "--slot", "--faults", "--agent" };
	enum { EMPTY, KTIME, CLOCK, SLOT, FAULTS, AGENT } mode = EMPTY;
	struct bpf_program *prog;
	struct floor_bpf *skel;
	int status = 1, i = 1;
	pid_t pid;

	for (int m = 1; m < 6; m++)
		if (argc > 1 && !strcmp(argv[1], modes[m]))
			mode = m, i = 2;
	if (argc < i + 2 || strcmp(argv[i], "--")) {
		fprintf(stderr, "usage: floor [--ktime | --clock | --slot | --faults | --agent] -- CMD [ARGS...]\n");
		return 2;
	}
	skel = floor_bpf__open();
	if (!skel)
		return 1;
	/* the agent_* ones: --agent only */
	for (prog = bpf_object__next_program(skel->obj, NULL); prog; prog = bpf_object__next_program(skel->obj, prog))
		bpf_program__set_autoload(prog, mode == AGENT);
	bpf_program__set_autoload(skel->progs.floor_enter, mode == EMPTY || mode == AGENT);
	bpf_program__set_autoload(skel->progs.floor_exit, mode == EMPTY || mode == AGENT);
	bpf_program__set_autoload(skel->progs.ktime_enter, mode == KTIME);
	bpf_program__set_autoload(skel->progs.ktime_exit, mode == KTIME);
	bpf_program__set_autoload(skel->progs.clock_enter, mode == CLOCK);
	bpf_program__set_autoload(skel->progs.clock_exit, mode == CLOCK);
	bpf_program__set_autoload(skel->progs.slot_enter, mode == SLOT);
	bpf_program__set_autoload(skel->progs.slot_exit, mode == SLOT);
	bpf_program__set_autoload(skel->progs.slot_switch, mode == SLOT);
	bpf_program__set_autoload(skel->progs.fault_start, mode == FAULTS || mode == AGENT);
	bpf_program__set_autoload(skel->progs.fault_rss, mode == FAULTS || mode == AGENT);
	bpf_program__set_autoload(skel->progs.fault_done, mode == FAULTS || mode == AGENT);
	if (floor_bpf__load(skel) || floor_bpf__attach(skel)) {
		fprintf(stderr, "floor: cannot load or attach the programs\n");
		return 1;
	}
	if ((mode == FAULTS || mode == AGENT) && (attach_perf(skel->progs.fault_done, PERF_COUNT_SW_PAGE_FAULTS_MIN) ||
			       attach_perf(skel->progs.fault_done, PERF_COUNT_SW_PAGE_FAULTS_MAJ))) {
		fprintf(stderr, "floor: cannot attach to the page-fault perf events: %s\n", strerror(errno));
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		execvp(argv[i + 1], argv + i + 1);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	for (int k = 0; k < nperf; k++)
		bpf_link__destroy(perf_links[k]);
	floor_bpf__destroy(skel);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
