/* Built-in load generators (see load.h). */
#include "load.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool have(const char *prog)
{
	char path[256];
	const char *dirs[] = { "/usr/bin", "/usr/sbin", "/bin", "/usr/local/bin" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], prog);
		if (access(path, X_OK) == 0)
			return true;
	}
	return false;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* --- CPU: more busy processes than CPUs, so tasks wait on run queues --- */
static void cpu_load(int64_t deadline)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int n = (int)(ncpu > 0 ? ncpu : 1) * 2;

	for (int i = 0; i < n; i++) {
		if (fork() == 0) {
			volatile unsigned long x = 0;

			while (now_ns() < deadline)
				for (int k = 0; k < 100000; k++)
					x += (unsigned long)k;
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
}

/* --- memory: anonymous pages touched and freed (minor faults), and a file
 * evicted from the page cache then read through mmap (major faults) --- */
static void memory_load(const char *dir, int64_t deadline)
{
	size_t anon = 128u << 20, file_size = 32u << 20, page = 4096;
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/ksight-stress-mmap", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		char block[65536];

		memset(block, 0x5a, sizeof(block));
		for (size_t off = 0; off < file_size; off += sizeof(block))
			if (write(fd, block, sizeof(block)) < 0)
				break;
		fsync(fd);
		unlink(path);
	}
	while (now_ns() < deadline) {
		char *p = mmap(NULL, anon, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED) {
			for (size_t i = 0; i < anon; i += page)
				p[i] = 1;
			munmap(p, anon);
		}
		if (fd >= 0) {
			volatile char sum = 0;
			char *m;

			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
			m = mmap(NULL, file_size, PROT_READ, MAP_SHARED, fd, 0);
			if (m != MAP_FAILED) {
				for (size_t i = 0; i < file_size; i += page)
					sum += m[i];
				munmap(m, file_size);
			}
		}
		sleep_ms(200);
	}
	if (fd >= 0)
		close(fd);
}

/* --- disk: O_DIRECT 4 KiB writes and reads, with fsync --- */
static void disk_load(const char *dir, int64_t deadline)
{
	char path[512];
	void *buf;
	int fd;
	off_t span = 64 << 20;

	snprintf(path, sizeof(path), "%s/ksight-stress-direct", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0600);
	if (fd < 0 || posix_memalign(&buf, 4096, 65536))
		return;
	unlink(path);
	memset(buf, 0xa5, 65536);
	for (off_t off = 0; off < span; off += 65536)
		if (pwrite(fd, buf, 65536, off) < 0)
			break;
	srand(42);
	while (now_ns() < deadline) {
		for (int i = 0; i < 64; i++) {
			off_t off = (off_t)(rand() % (int)(span / 4096)) * 4096;

			if (i % 2)
				(void)!pread(fd, buf, 4096, off);
			else
				(void)!pwrite(fd, buf, 4096, off);
		}
		fdatasync(fd);
		sleep_ms(20);
	}
	close(fd);
}

/* --- files: a syscall storm on many small files --- */
static void files_load(const char *dir, int64_t deadline)
{
	char path[512], buf[4096];
	struct stat st;

	memset(buf, 'f', sizeof(buf));
	while (now_ns() < deadline) {
		for (int i = 0; i < 200; i++) {
			int fd;

			snprintf(path, sizeof(path), "%s/ksight-stress-f%d", dir, i);
			fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
			if (fd < 0)
				continue;
			(void)!write(fd, buf, sizeof(buf));
			lseek(fd, 0, SEEK_SET);
			(void)!read(fd, buf, sizeof(buf));
			close(fd);
			stat(path, &st);
			open("/nonexistent/ksight", O_RDONLY);   /* an error path too */
		}
		for (int i = 0; i < 200; i++) {
			snprintf(path, sizeof(path), "%s/ksight-stress-f%d", dir, i);
			unlink(path);
		}
		sleep_ms(10);
	}
}

/* --- tcp: an HTTP-like server that sometimes thinks for 15 ms, and a
 * client opening a connection per request --- */
static int listen_loopback(int *ret_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		return -1;
	*ret_port = ntohs(a.sin_port);
	return fd;
}

static void tcp_load(int64_t deadline)
{
	int port, lfd = listen_loopback(&port);
	pid_t server;

	if (lfd < 0)
		return;
	server = fork();
	if (server == 0) {
		unsigned n = 0;

		for (;;) {
			char req[512];
			int c = accept(lfd, NULL, NULL);

			if (c < 0)
				continue;
			if (read(c, req, sizeof(req)) > 0) {
				static const char resp[] = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";

				if (++n % 4 == 0)
					sleep_ms(15);
				(void)!write(c, resp, sizeof(resp) - 1);
			}
			close(c);
		}
	}
	close(lfd);
	while (now_ns() < deadline) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		char resp[256];

		if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			static const char req[] = "GET /stress HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";

			(void)!write(fd, req, sizeof(req) - 1);
			while (read(fd, resp, sizeof(resp)) > 0)
				;
		}
		if (fd >= 0)
			close(fd);
		sleep_ms(5);
	}
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
}

/* --- retransmits: a private network namespace whose loopback goes down
 * for a second every few seconds while a flow is in flight (there is no
 * netem here) --- */
static int set_lo(bool up)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (!rc) {
		ifr.ifr_flags = (short)(up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP);
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return rc ? -errno : 0;
}

static void retransmit_load(int64_t deadline)
{
	int port, lfd, cfd, sfd;
	char chunk[16384];
	pid_t reader, toggler;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	if (unshare(CLONE_NEWNET) || set_lo(true))
		return;
	lfd = listen_loopback(&port);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = htons((unsigned short)port);
	if (lfd < 0 || cfd < 0 || connect(cfd, (struct sockaddr *)&a, sizeof(a)))
		return;
	sfd = accept(lfd, NULL, NULL);
	reader = fork();
	if (reader == 0) {
		while (read(sfd, chunk, sizeof(chunk)) > 0)
			;
		_exit(0);
	}
	toggler = fork();
	if (toggler == 0) {
		while (now_ns() < deadline - 2000000000LL) {
			sleep_ms(3000);
			set_lo(false);
			sleep_ms(1000);
			set_lo(true);
		}
		_exit(0);
	}
	memset(chunk, 'r', sizeof(chunk));
	fcntl(cfd, F_SETFL, O_NONBLOCK);
	while (now_ns() < deadline) {
		(void)!write(cfd, chunk, sizeof(chunk));
		sleep_ms(2);
	}
	set_lo(true);
	kill(reader, SIGKILL);
	kill(toggler, SIGKILL);
	waitpid(reader, NULL, 0);
	waitpid(toggler, NULL, 0);
}

static void describe(struct load *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void describe(struct load *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->what, sizeof(l->what), fmt, ap);
	va_end(ap);
}

int load_spawn(enum load_kind kind, const char *dir, int64_t duration_ns, struct load *ret)
{
	int64_t deadline = now_ns() + duration_ns;
	long secs = (long)(duration_ns / 1000000000LL) > 0 ? (long)(duration_ns / 1000000000LL) : 1;
	char timeout[32], filename[512];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	bool external = false;
	pid_t pid;

	memset(ret, 0, sizeof(*ret));
	ret->kind = kind;
	snprintf(timeout, sizeof(timeout), "%lds", secs);
	switch (kind) {
	case LOAD_CPU:
		external = have("stress-ng");
		describe(ret, external ? "CPU: stress-ng --cpu %ld (twice the CPUs)" : "CPU: %ld busy processes (twice the CPUs)",
			 (ncpu > 0 ? ncpu : 1) * 2);
		break;
	case LOAD_MEMORY:
		external = have("stress-ng");
		describe(ret, external ? "memory: stress-ng --vm 2 --vm-bytes 128M, plus major faults from an evicted file"
				       : "memory: 128 MiB touched and freed, plus major faults from an evicted file");
		external = false;   /* the major-fault part is built in */
		break;
	case LOAD_DISK:
		external = have("fio");
		describe(ret, external ? "disk: fio random 4 KiB read/write, O_DIRECT, in %s"
				       : "disk: random 4 KiB O_DIRECT reads and writes with fdatasync, in %s", dir);
		break;
	case LOAD_FILES:
		describe(ret, "files: create/write/read/stat/unlink storm on 200 small files");
		break;
	case LOAD_TCP:
		describe(ret, "network: HTTP-like requests over new loopback TCP connections");
		break;
	case LOAD_RETRANSMIT:
		describe(ret, "retransmits: a TCP flow in a private network namespace, loopback down 1 s in every 4");
		break;
	default:
		return -EINVAL;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigset_t none;

		static const char *const names[LOAD_COUNT] = {
			"ks-load-cpu", "ks-load-memory", "ks-load-disk", "ks-load-files", "ks-load-tcp",
			"ks-load-retrans",
		};

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		prctl(PR_SET_NAME, names[kind]);
		if (external && kind == LOAD_CPU) {
			char n[24];

			snprintf(n, sizeof(n), "%ld", (ncpu > 0 ? ncpu : 1) * 2);
			execlp("stress-ng", "stress-ng", "--cpu", n, "--timeout", timeout, "--quiet", (char *)NULL);
		} else if (external && kind == LOAD_DISK) {
			snprintf(filename, sizeof(filename), "--filename=%s/ksight-stress-fio", dir);
			execlp("fio", "fio", "--name=ksight-stress", filename, "--rw=randrw", "--bs=4k", "--direct=1",
			       "--size=64m", "--time_based", "--runtime", timeout, "--fsync=16", "--output=/dev/null",
			       "--unlink=1", (char *)NULL);
		}
		if (kind == LOAD_MEMORY && have("stress-ng") && fork() == 0) {
			execlp("stress-ng", "stress-ng", "--vm", "2", "--vm-bytes", "128M", "--timeout", timeout,
			       "--quiet", (char *)NULL);
			_exit(127);
		}
		switch (kind) {
		case LOAD_CPU: cpu_load(deadline); break;
		case LOAD_MEMORY: memory_load(dir, deadline); break;
		case LOAD_DISK: disk_load(dir, deadline); break;
		case LOAD_FILES: files_load(dir, deadline); break;
		case LOAD_TCP: tcp_load(deadline); break;
		case LOAD_RETRANSMIT: retransmit_load(deadline); break;
		default: break;
		}
		while (wait(NULL) > 0)
			;
		_exit(0);
	}
	setpgid(pid, pid);
	ret->pid = pid;
	return 0;
}

void load_stop_all(struct load *loads, int n)
{
	for (int i = 0; i < n; i++)
		if (loads[i].pid > 0)
			kill(-loads[i].pid, SIGTERM);
	for (int i = 0; i < n; i++) {
		if (loads[i].pid > 0)
			waitpid(loads[i].pid, NULL, 0);
		loads[i].pid = 0;
	}
}
