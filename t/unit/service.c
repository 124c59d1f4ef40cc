/* What running as a service rests on, without systemd or a clock change:
 *   - lib/notify: READY=1 reaches a datagram socket named by NOTIFY_SOCKET,
 *     as a path and as an abstract name ('@'); no socket, no error;
 *     WATCHDOG_USEC (and WATCHDOG_PID) give the watchdog period;
 *   - lib/clock: a step of the wall clock (the test clock file moved an
 *     hour back, then forward) is seen once, with its size and sign, while
 *     the clock only running is no step; and the wall clock read follows
 *     the file while the monotonic one does not.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../../src/lib/clock.h"
#include "../../src/lib/notify.h"
#include "../lib/tap.h"

/* A datagram socket bound at name ('@': abstract), for NOTIFY_SOCKET. */
static int listen_at(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '/'))))
		bail_out("cannot bind a datagram socket");
	return fd;
}

static void got(int fd, const char *want, const char *what)
{
	char msg[256];
	ssize_t n = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);

	msg[n > 0 ? n : 0] = '\0';
	is_str(msg, want, "%s", what);
}

static void write_shift(const char *path, const char *seconds)
{
	FILE *f = fopen(path, "w");

	if (!f)
		bail_out("cannot write the test clock file");
	fprintf(f, "%s\n", seconds);
	fclose(f);
}

int main(void)
{
	char dir[] = "/tmp/ksight-service.XXXXXX", path[128], abstract[64], clockf[160];
	struct clock_steps cs = { 0 };
	int64_t step, real0, mono0;
	int fd;

	plan(17);
	if (!mkdtemp(dir))
		bail_out("mkdtemp");

	unsetenv("NOTIFY_SOCKET");
	is(notify__send("READY=1"), 0, "no NOTIFY_SOCKET: nothing sent, no error");
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listen_at(path);
	setenv("NOTIFY_SOCKET", path, 1);
	is(notify__send("READY=1\nSTATUS=collecting"), 1, "a path socket: sent");
	got(fd, "READY=1\nSTATUS=collecting", "and received as sent");
	is(notify__sendf("WATCHDOG=%d", 1), 1, "printf form: sent");
	got(fd, "WATCHDOG=1", "and received");
	close(fd);
	unlink(path);
	snprintf(abstract, sizeof(abstract), "@ksight-test-%d", (int)getpid());
	fd = listen_at(abstract);
	setenv("NOTIFY_SOCKET", abstract, 1);
	is(notify__send("STOPPING=1"), 1, "an abstract socket ('@'): sent");
	got(fd, "STOPPING=1", "and received");
	close(fd);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	is(notify__send("READY=1"), -EINVAL, "a name neither absolute nor abstract: -EINVAL");
	unsetenv("NOTIFY_SOCKET");

	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "30000000", 1);
	is(notify__watchdog_ns(), 30 * NSEC_PER_SEC, "WATCHDOG_USEC=30000000: a 30 s watchdog");
	setenv("WATCHDOG_PID", "1", 1);
	is(notify__watchdog_ns(), 0, "WATCHDOG_PID of another process: none for us");
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");

	snprintf(clockf, sizeof(clockf), "%s/clock", dir);
	write_shift(clockf, "0");
	setenv("KSIGHT_TEST_CLOCK_FILE", clockf, 1);
	is(clock_steps__check(&cs), 0, "the first check is no step");
	usleep(20000);
	is(clock_steps__check(&cs), 0, "nor is the clock running for 20 ms");
	real0 = clock_real_ns();
	mono0 = clock_mono_ns();
	write_shift(clockf, "-3600");
	step = clock_steps__check(&cs);
	within((double)step / 1e9, -3600.05, -3599.95, "an hour back is a step of -3600 s (%.3f)", (double)step / 1e9);
	within((double)(clock_real_ns() - real0) / 1e9, -3600.5, -3599.5, "the wall clock read follows it");
	ok(clock_mono_ns() >= mono0, "the monotonic clock does not");
	write_shift(clockf, "0");
	step = clock_steps__check(&cs);
	ok(step > 3599 * NSEC_PER_SEC && clock_steps__check(&cs) == 0, "forward again: +3600 s, once");
	is(cs.steps, 2, "two steps counted");
	unsetenv("KSIGHT_TEST_CLOCK_FILE");
	unlink(clockf);
	rmdir(dir);
	return done_testing();
}
