/* floor -- CMD [ARGS...]: runs CMD with empty programs attached to
 * raw_syscalls sys_enter/sys_exit (tp_btf), the floor any syscall tracer
 * pays.  Exits with CMD's status. */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "floor.skel.h"

int main(int argc, char **argv)
{
	struct floor_bpf *skel;
	int status = 1;
	pid_t pid;

	if (argc < 3 || strcmp(argv[1], "--")) {
		fprintf(stderr, "usage: floor -- CMD [ARGS...]\n");
		return 2;
	}
	skel = floor_bpf__open_and_load();
	if (!skel || floor_bpf__attach(skel)) {
		fprintf(stderr, "floor: cannot load or attach the empty programs\n");
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	floor_bpf__destroy(skel);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
