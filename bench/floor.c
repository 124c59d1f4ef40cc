/* floor [--clock] -- CMD [ARGS...]: runs CMD with floor programs attached
 * to raw_syscalls sys_enter/sys_exit (tp_btf): empty ones by default, or
 * with --clock the least a latency tracer does (task-storage timestamp at
 * entry, clock read at exit).  Exits with CMD's status. */
#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "floor.skel.h"

int main(int argc, char **argv)
{
	struct floor_bpf *skel;
	bool clock = argc > 1 && !strcmp(argv[1], "--clock");
	int status = 1, i = clock ? 2 : 1;
	pid_t pid;

	if (argc < i + 2 || strcmp(argv[i], "--")) {
		fprintf(stderr, "usage: floor [--clock] -- CMD [ARGS...]\n");
		return 2;
	}
	skel = floor_bpf__open();
	if (!skel)
		return 1;
	bpf_program__set_autoload(skel->progs.floor_enter, !clock);
	bpf_program__set_autoload(skel->progs.floor_exit, !clock);
	bpf_program__set_autoload(skel->progs.clock_enter, clock);
	bpf_program__set_autoload(skel->progs.clock_exit, clock);
	if (floor_bpf__load(skel) || floor_bpf__attach(skel)) {
		fprintf(stderr, "floor: cannot load or attach the programs\n");
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		execvp(argv[i + 1], argv + i + 1);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	floor_bpf__destroy(skel);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
