/* ksight top: the processes a running agent sees, ranked, refreshed live.
 *
 * Reads GET /api/processes of the agent's HTTP API (default
 * http://127.0.0.1:7777) every --interval: CPU time, run-queue wait, RSS
 * growth (the leak detector's rate) and slow-call time per process over the
 * last --window.  Live on a terminal: one key switches the ranking (c, r, m,
 * s), q quits; the terminal is put in raw mode and restored on exit, on q,
 * and on SIGINT / SIGTERM.  --once prints one table (--json: the API's
 * answer as is, for scripts).  Colour only when stdout is a terminal and
 * NO_COLOR is not set; output that is not a terminal has no escape codes.
 * libcurl is loaded at run time (lib/dynload.h), as the webhooks do.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/curl.h"
#include "../lib/parse.h"
#include "cmd.h"

#define DEFAULT_URL "http://127.0.0.1:7777"
#define TOKEN_MAX 512
#define BODY_MAX (4 << 20)

static void usage(void)
{
	printf("usage: ksight top [--url URL] [--sort cpu|runq|rss|slow] [--interval T] [--window T]\n"
	       "                  [--limit N] [--token-file FILE] [--cacert FILE [--cert FILE --key FILE]]\n"
	       "                  [--once [--json]]\n"
	       "\n"
	       "The processes a running agent sees, ranked, refreshed every --interval:\n"
	       "CPU time and share of one CPU, run-queue wait, RSS growth (the leak\n"
	       "detector's rate, for processes it watches or suspects) and the time spent\n"
	       "in slow syscalls, over the last --window.  Read from the agent's HTTP API\n"
	       "(GET /api/processes), so the agent must run with HTTP on (the default).\n"
	       "\n"
	       "Keys (live view):  c CPU   r run-queue wait   m RSS growth   s slow calls\n"
	       "                   q quit (so do Ctrl-C and SIGTERM)\n"
	       "\n"
	       "Options:\n"
	       "  --url URL          the agent (default " DEFAULT_URL ")\n"
	       "  --sort KEY         first ranking: cpu (default), runq, rss, slow\n"
	       "  --interval T       refresh every T (default 2s, at least 100ms)\n"
	       "  --window T         what each line sums up: the last T (default 10s)\n"
	       "  --limit N          at most N processes (default: what fits the terminal, or 20)\n"
	       "  --token-file FILE  the agent's token (agents listening beyond loopback need one)\n"
	       "  --cacert FILE      https: trust the agent's certificate if FILE (PEM) signed it\n"
	       "                     (an agent with its own CA, http.tls.*), not the system's CAs\n"
	       "  --cert FILE        https: this client certificate (PEM), for an agent with\n"
	       "  --key FILE         http.tls.client_ca, and its key\n"
	       "  --once             print one table and exit\n"
	       "  --json             with --once: the API's JSON answer as is\n"
	       "  -h, --help         this help\n"
	       "\n"
	       "Colour only on a terminal, never when NO_COLOR is set.\n"
	       "\n"
	       "Examples:\n"
	       "  ksight top\n"
	       "  ksight top --sort rss --window 1m\n"
	       "  ksight top --once --json | jq -r '.processes[0] | \"\\(.pid) \\(.comm) \\(.cpu_percent)\"'\n"
	       "  ksight top --url http://host:7777 --token-file ~/.ksight.token\n"
	       "  ksight top --url https://host:7777 --cacert ca.pem --token-file ~/.ksight.token\n");
}

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;

	if (b->len + size * n > BODY_MAX)
		return 0;
	buf_add(b, data, size * n);
	return size * n;
}

struct top {
	const char *url;
	const char *sort;
	int64_t interval_ns, window_ns;
	long limit;                     /* 0: fit the terminal */
	char token[TOKEN_MAX];
	const char *cacert, *cert, *key;    /* PEM files for https, or NULL */
	bool once, json, color, live_tty, raw;
	struct termios saved;
	CURL *curl;
};

/* GETs /api/processes into body; 0, or -EIO with the reason in err (an
 * unreachable agent, or the API's own error message). */
static int fetch(struct top *t, long limit, struct buf *body, char *err, size_t errlen)
{
	struct curl_slist *headers = NULL;
	char url[768], auth[TOKEN_MAX + 32], window[32];
	long status = 0;
	CURLcode rc;

	snprintf(window, sizeof(window), "%lldms", (long long)(t->window_ns / 1000000));
	snprintf(url, sizeof(url), "%s/api/processes?sort=%s&window=%s&limit=%ld", t->url, t->sort, window, limit);
	buf_reset(body);
	curl_api.easy_setopt(t->curl, CURLOPT_URL, url);
	curl_api.easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_api.easy_setopt(t->curl, CURLOPT_WRITEDATA, body);
	curl_api.easy_setopt(t->curl, CURLOPT_TIMEOUT_MS, 5000L);
	curl_api.easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
	if (t->cacert)
		curl_api.easy_setopt(t->curl, CURLOPT_CAINFO, t->cacert);
	if (t->cert) {
		curl_api.easy_setopt(t->curl, CURLOPT_SSLCERT, t->cert);
		curl_api.easy_setopt(t->curl, CURLOPT_SSLKEY, t->key);
	}
	if (t->token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", t->token);
		headers = curl_api.slist_append(NULL, auth);
	}
	curl_api.easy_setopt(t->curl, CURLOPT_HTTPHEADER, headers);
	rc = curl_api.easy_perform(t->curl);
	curl_api.slist_free_all(headers);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "cannot reach the agent at %s: %s (%s)", t->url, curl_api.easy_strerror(rc),
			 rc == CURLE_PEER_FAILED_VERIFICATION ? "an agent with its own CA: --cacert FILE"
							       : "is `ksight agent` running? see --url");
		return -EIO;
	}
	curl_api.easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		json_t *root = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
		const char *msg = json_string_value(json_object_get(root, "error"));

		snprintf(err, errlen, "%s answered %ld: %s", url, status,
			 msg ? msg : status == 404 ? "no /api/processes (an older agent?)" : "no explanation");
		json_decref(root);
		return -EIO;
	}
	return 0;
}

/* ---- the table ---- */

static const struct key {
	char key;
	const char *sort;
	const char *title;
} keys[] = {
	{ 'c', "cpu", "CPU" },
	{ 'r', "runq", "run-queue wait" },
	{ 'm', "rss", "RSS growth" },
	{ 's', "slow", "slow-call time" },
};

static double num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void bytes(char *out, size_t size, double v, const char *suffix)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	if (isnan(v)) {
		snprintf(out, size, "-");
		return;
	}
	while (fabs(v) >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, size, u ? "%.1f %s%s" : "%.0f %s%s", v, units[u], suffix);
}

static void seconds(char *out, size_t size, double s)
{
	if (isnan(s))
		snprintf(out, size, "-");
	else if (s < 1)
		snprintf(out, size, "%.1fms", s * 1e3);
	else
		snprintf(out, size, "%.2fs", s);
}

/* Prints one table of the API's answer in body; 0, or -EINVAL when it is
 * not what /api/processes answers. */
static int print_table(const struct top *t, const struct buf *body, char *err, size_t errlen)
{
	const char *bold = t->color ? "\033[1m" : "", *inv = t->color ? "\033[7m" : "", *off = t->color ? "\033[0m" : "";
	json_t *root = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
	json_t *procs = json_object_get(root, "processes"), *p;
	const char *title = t->sort;
	char when[32];
	time_t now = time(NULL);
	size_t i;

	if (!json_is_array(procs)) {
		snprintf(err, errlen, "the agent's answer has no 'processes' array");
		json_decref(root);
		return -EINVAL;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].sort, t->sort))
			title = keys[i].title;
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	printf("%sksight top%s  %s  %s  by %s over the last %.0fs  (%zu processes)\n", bold, off, when, t->url, title,
	       num(json_object_get(root, "window"), "seconds"), json_array_size(procs));
	if (t->live_tty)
		printf("keys: c CPU  r run-queue wait  m RSS growth  s slow calls  q quit\n");
	printf("%s%7s  %-16s %6s %9s %9s %7s %9s %10s %12s %-8s %9s%s\n", inv, "PID", "COMM", "CPU%", "CPU",
	       "RUNQ", "SLOW", "SLOW-TIME", "RSS", "GROWTH", "LEAK", "FAULTS", off);
	json_array_foreach(procs, i, p) {
		char cpu[24], runq[24], slow[24], rss[24], growth[24];
		const char *comm = json_string_value(json_object_get(p, "comm"));
		const char *leak = json_string_value(json_object_get(p, "leak_status"));

		seconds(cpu, sizeof(cpu), num(p, "cpu_seconds"));
		seconds(runq, sizeof(runq), num(p, "runq_wait_seconds"));
		seconds(slow, sizeof(slow), num(p, "slow_call_seconds"));
		bytes(rss, sizeof(rss), num(p, "rss_bytes"), "");
		bytes(growth, sizeof(growth), num(p, "rss_growth_bytes_per_s"), "/s");
		printf("%7.0f  %-16.16s %6.1f %9s %9s %7.0f %9s %10s %12s %-8s %9.0f\n", num(p, "pid"),
		       comm ? comm : "?", num(p, "cpu_percent"), cpu, runq, num(p, "slow_calls"), slow, rss, growth,
		       leak ? leak : "-", num(p, "minor_faults") + num(p, "major_faults"));
	}
	json_decref(root);
	return 0;
}

/* ---- the terminal ---- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void raw_on(struct top *t)
{
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &t->saved))
		return;
	raw = t->saved;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (!tcsetattr(STDIN_FILENO, TCSANOW, &raw))
		t->raw = true;
}

static void raw_off(struct top *t)
{
	if (t->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
	t->raw = false;
}

static long fit_terminal(void)
{
	struct winsize ws;

	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row > 6)
		return ws.ws_row - 4;
	return 20;
}

/* Waits up to the interval for a key; false when it is time to stop. */
static bool wait_key(struct top *t)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	int ms = (int)(t->interval_ns / 1000000);
	char c;

	if (!t->raw) {
		struct timespec ts = { t->interval_ns / 1000000000, t->interval_ns % 1000000000 };

		nanosleep(&ts, NULL);  /* EINTR on a signal: stop is set */
		return !stop;
	}
	if (poll(&pfd, 1, ms) <= 0 || read(STDIN_FILENO, &c, 1) != 1)
		return !stop;
	if (c == 'q' || c == 'Q')
		return false;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].key == c)
			t->sort = keys[i].sort;
	return !stop;
}

static int read_token(struct top *t, const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return cli_usage_error("top", "--token-file: cannot read %s: %s", path, strerror(errno));
	n = fread(t->token, 1, sizeof(t->token) - 1, f);
	fclose(f);
	t->token[n] = '\0';
	while (n > 0 && strchr(" \t\r\n", t->token[n - 1]))
		t->token[--n] = '\0';
	if (!n)
		return cli_usage_error("top", "--token-file: %s is empty", path);
	return 0;
}

int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "sort", required_argument, NULL, 'S' },
		{ "interval", required_argument, NULL, 'i' },
		{ "window", required_argument, NULL, 'w' },
		{ "limit", required_argument, NULL, 'n' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "once", no_argument, NULL, '1' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct top t = { .url = DEFAULT_URL, .sort = "cpu", .interval_ns = 2000000000LL, .window_ns = 10000000000LL };
	struct sigaction sa = { .sa_handler = on_signal };
	struct buf body = BUF_INIT;
	char err[1536], url[520];
	int c, rc = EXIT_OK;
	uint64_t n;
	bool sorted = false;

	while ((c = cli_getopt("top", argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'u': t.url = optarg; break;
		case 'S':
			sorted = false;
			for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
				if (!strcmp(optarg, keys[i].sort))
					t.sort = keys[i].sort, sorted = true;
			if (!sorted)
				return cli_usage_error("top", "--sort: '%s' is not one of cpu, runq, rss, slow", optarg);
			break;
		case 'i':
			if (parse_duration_ns(optarg, &t.interval_ns) || t.interval_ns < 100000000LL)
				return cli_usage_error("top", "--interval: '%s' is not a duration of 100ms or more", optarg);
			break;
		case 'w':
			if (parse_duration_ns(optarg, &t.window_ns) || t.window_ns < 1000000000LL ||
			    t.window_ns > 86400000000000LL)
				return cli_usage_error("top", "--window: '%s' is not a duration from 1s to 24h", optarg);
			break;
		case 'n':
			if (parse_u64(optarg, &n) || n < 1 || n > 1000)
				return cli_usage_error("top", "--limit: '%s' is not a number from 1 to 1000", optarg);
			t.limit = (long)n;
			break;
		case 'T':
			if ((rc = read_token(&t, optarg)))
				return rc;
			break;
		case 'C':
		case 'c':
		case 'k':
			/* Checked here so that a typo is not reported as a TLS failure. */
			if (access(optarg, R_OK))
				return cli_usage_error("top", "--%s: cannot read %s: %s",
						       c == 'C' ? "cacert" : c == 'c' ? "cert" : "key", optarg, strerror(errno));
			*(c == 'C' ? &t.cacert : c == 'c' ? &t.cert : &t.key) = optarg;
			break;
		case '1': t.once = true; break;
		case 'j': t.json = true; break;
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("top", "unexpected argument '%s'", argv[optind]);
	if (t.json && !t.once)
		return cli_usage_error("top", "--json needs --once (a live view is not JSON)");
	if (strncmp(t.url, "http://", 7) && strncmp(t.url, "https://", 8))
		return cli_usage_error("top", "--url: '%s' is not an http:// or https:// URL", t.url);
	if ((t.cacert || t.cert || t.key) && strncmp(t.url, "https://", 8))
		return cli_usage_error("top", "--cacert, --cert and --key are for an https:// --url");
	if (!t.cert != !t.key)
		return cli_usage_error("top", "--cert and --key go together (a client certificate and its key)");
	if (strlen(t.url) > 512)
		return cli_usage_error("top", "--url: longer than 512 characters");
	snprintf(url, sizeof(url), "%s", t.url);
	for (size_t n = strlen(url); n > 8 && url[n - 1] == '/'; n--)
		url[n - 1] = '\0';      /* http://host:7777/ works too */
	t.url = url;
	if (curl_api__load(err, sizeof(err)))
		return cli_fail("top", "%s", err);
	if (!(t.curl = curl_api.easy_init()))
		return cli_fail("top", "cannot start libcurl");
	t.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	t.live_tty = !t.once && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);

	if (t.once) {
		if (fetch(&t, t.limit ? t.limit : 20, &body, err, sizeof(err)))
			rc = cli_fail("top", "%s", err);
		else if (t.json)
			printf("%.*s\n", (int)body.len, body.data);
		else if (print_table(&t, &body, err, sizeof(err)))
			rc = cli_fail("top", "%s", err);
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (t.live_tty)
		raw_on(&t);
	do {
		bool tty = isatty(STDOUT_FILENO);

		if (fetch(&t, t.limit ? t.limit : tty ? fit_terminal() : 20, &body, err, sizeof(err))) {
			/* a live view keeps trying: the agent may be restarting */
			if (tty)
				printf("\033[H\033[2J");
			printf("ksight top: %s\n", err);
		} else {
			if (tty)
				printf("\033[H\033[2J");
			if (print_table(&t, &body, err, sizeof(err)))
				printf("ksight top: %s\n", err);
		}
		if (!tty)
			printf("\n");
		fflush(stdout);
	} while (!stop && wait_key(&t));
	raw_off(&t);
out:
	curl_api.easy_cleanup(t.curl);
	buf_free(&body);
	return rc;
}
