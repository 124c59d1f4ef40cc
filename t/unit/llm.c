/* The LLM explainer against a loopback server that speaks the OpenAI chat
 * completions protocol (t/helpers/fake_llm.mjs): the evidence goes out with
 * the bearer key, the answer comes back; HTTP errors, malformed answers and
 * a slow server become clear failures within the timeout; after a failure
 * the explainer backs off instead of retrying; the key is never in what
 * ksight reports. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../src/remediate/outbound.h"
#include "../../src/lib/clock.h"
#include "../lib/tap.h"

static char dir[] = "/tmp/ksight-llm.XXXXXX";
static int port;

static struct outbound *start(const char *path, int64_t timeout_ns)
{
	struct policy p;
	struct outbound *o;
	char url[128], key[256], err[256];
	FILE *f;

	policy__defaults(&p);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", port, path);
	snprintf(key, sizeof(key), "%s/key", dir);
	f = fopen(key, "w");
	fputs("sk-test-SECRET-4242\n", f);
	fclose(f);
	chmod(key, 0600);
	p.llm.url = url;
	p.llm.model = "test-model";
	p.llm.key_file = key;
	p.llm.timeout_ns = timeout_ns;
	if (outbound__start(&p, &o, err, sizeof(err)))
		bail_out(err);
	return o;
}

/* Waits until the fake server accepts connections on the port (node can
 * take seconds to start on a busy machine); false after 60 s. */
static bool wait_listening(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 600; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		bool up = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

		if (fd >= 0)
			close(fd);
		if (up)
			return true;
		usleep(100000);
	}
	return false;
}

/* Waits up to 10 s for one result. */
static bool wait_result(struct outbound *o, struct outbound_result *r)
{
	for (int i = 0; i < 200; i++) {
		if (outbound__take(o, r, 1) == 1)
			return true;
		usleep(50000);
	}
	return false;
}

int main(void)
{
	struct outbound_result r;
	struct outbound *o;
	char log[128], line[8192];
	int64_t t0;
	pid_t server;
	FILE *f;

	plan(16);
	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	port = 20000 + getpid() % 20000;
	snprintf(log, sizeof(log), "%s/requests.log", dir);
	server = fork();
	if (server == 0) {
		char p[16];

		snprintf(p, sizeof(p), "%d", port);
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execlp("node", "node", tap_src("t/helpers/fake_llm.mjs"), p, log, (char *)NULL);
		_exit(127);
	}
	if (!wait_listening())
		bail_out("t/helpers/fake_llm.mjs did not listen on its port within 60 s");

	o = start("ok", 5 * NSEC_PER_SEC);
	ok(outbound__explain(o, 7, "{\"finding\":\"pid 42 (grower) grows 5.0 MiB/s\",\"rule\":\"stop\",\"action\":\"terminate\"}") == 0,
	   "a question is queued");
	ok(wait_result(o, &r), "an answer arrives");
	is(r.status, 0, "the explainer answered");
	is(r.action_id, 7, "for the decision that asked");
	ok(strstr(r.text, "pid 42 (grower) grows 5.0 MiB/s") && strstr(r.text, "chose terminate"),
	   "its narrative is kept as it came: %s", r.text);
	o = outbound__stop(o);
	f = fopen(log, "r");
	ok(f && fgets(line, sizeof(line), f) && strstr(line, "Bearer sk-test-SECRET-4242") &&
	   strstr(line, "\\\"model\\\":\\\"test-model\\\"") && strstr(line, "grows 5.0 MiB/s"),
	   "the request carried the key, the model and the evidence");
	if (f)
		fclose(f);

	o = start("error", 5 * NSEC_PER_SEC);
	outbound__explain(o, 8, "{}");
	ok(wait_result(o, &r) && r.status && strstr(r.text, "HTTP 500"), "HTTP 500 is a failure: %s", r.text);
	ok(!strstr(r.text, "SECRET"), "the key is not in the failure text");
	outbound__explain(o, 9, "{}");
	ok(wait_result(o, &r) && r.status == -EAGAIN && strstr(r.text, "backing off"),
	   "after a failure the next question is not sent (backoff): %s", r.text);
	o = outbound__stop(o);

	o = start("garbage", 5 * NSEC_PER_SEC);
	outbound__explain(o, 10, "{}");
	ok(wait_result(o, &r) && r.status && strstr(r.text, "no choices"), "a malformed answer is a failure: %s", r.text);
	o = outbound__stop(o);

	o = start("nochoices", 5 * NSEC_PER_SEC);
	outbound__explain(o, 11, "{}");
	ok(wait_result(o, &r) && r.status, "an answer without choices is a failure: %s", r.text);
	o = outbound__stop(o);

	o = start("slow", 1 * NSEC_PER_SEC);
	t0 = clock_mono_ns();
	outbound__explain(o, 12, "{}");
	ok(wait_result(o, &r) && r.status == -ETIMEDOUT, "a slow server times out: %s", r.text);
	within((double)(clock_mono_ns() - t0) / 1e9, 0.5, 3.0, "within the 1 s timeout (plus scheduling)");
	o = outbound__stop(o);

	{
		struct policy p;

		policy__defaults(&p);
		is(outbound__explain(NULL, 1, "{}"), -ENOTSUP, "without llm.url there is no explainer");
	}
	{
		/* A key others can read is refused, as ssh refuses such keys. */
		struct policy p;
		char key[256], err[256] = "";

		policy__defaults(&p);
		snprintf(key, sizeof(key), "%s/key", dir);
		chmod(key, 0644);
		p.llm.url = "http://127.0.0.1:1/";
		p.llm.model = "m";
		p.llm.key_file = key;
		o = NULL;
		is(outbound__start(&p, &o, err, sizeof(err)), -EINVAL, "a key file others can read: refused");
		ok(strstr(err, "open to other users (mode 0644)") && strstr(err, "chmod 600"),
		   "saying why and what to do: %s", err);
		outbound__stop(o);
	}
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			diag("cleanup");
	}
	return done_testing();
}
