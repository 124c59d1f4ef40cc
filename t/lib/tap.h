/* A tiny TAP producer for C tests, run by prove.
 *
 *   plan(3);  ok(x > 0, "x is positive");  is(n, 200, "200 rows");
 *   is_str(s, "exec", "event name");  return done_testing();
 *
 * tap_require_bpf() skips the whole file when not root (a user's run), but
 * fails it when REQUIRE_BPF=1 (CI), so a BPF test can never skip silently.
 */
#ifndef KS_TAP_H
#define KS_TAP_H

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tap_count, tap_failures, tap_planned = -1;

static inline void plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("# ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static inline int tap_vok(int pass, const char *file, int line, const char *fmt, va_list ap)
{
	tap_count++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	if (!pass) {
		tap_failures++;
		diag("  failed at %s:%d", file, line);
	}
	return pass;
}

static inline int tap_ok(int pass, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static inline int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	return r;
}

static inline int tap_is(int64_t got, int64_t want, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline int tap_is(int64_t got, int64_t want, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(got == want, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		diag("       got: %" PRId64 "\n#   expected: %" PRId64, got, want);
	return r;
}

static inline int tap_is_str(const char *got, const char *want, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline int tap_is_str(const char *got, const char *want, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int pass = (got && want) ? !strcmp(got, want) : got == want;
	int r;

	va_start(ap, fmt);
	r = tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		diag("       got: '%s'\n#   expected: '%s'", got ? got : "(null)", want ? want : "(null)");
	return r;
}

/* got within [lo, hi] */
static inline int tap_within(double got, double lo, double hi, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static inline int tap_within(double got, double lo, double hi, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(got >= lo && got <= hi, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		diag("       got: %g\n#   expected within [%g, %g]", got, lo, hi);
	return r;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is(got, want, ...) tap_is((int64_t)(got), (int64_t)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define within(got, lo, hi, ...) tap_within((double)(got), (double)(lo), (double)(hi), __FILE__, __LINE__, __VA_ARGS__)

static inline void skip(int n, const char *reason)
{
	for (int i = 0; i < n; i++) {
		tap_count++;
		printf("ok %d # SKIP %s\n", tap_count, reason);
	}
	fflush(stdout);
}

static inline void skip_all(const char *reason)
{
	printf("1..0 # SKIP %s\n", reason);
	exit(0);
}

static inline void bail_out(const char *reason)
{
	printf("Bail out! %s\n", reason);
	exit(255);
}

static inline int done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_count);
	else if (tap_planned != tap_count)
		diag("planned %d tests but ran %d", tap_planned, tap_count);
	return tap_failures || (tap_planned >= 0 && tap_planned != tap_count) ? 1 : 0;
}

/* Path of a file in the source tree, from the test binary's location
 * (.output/t/<kind>/x.t), so tests run from any directory. */
static inline const char *tap_src(const char *rel)
{
	static char path[8][4096];
	static int next;
	char self[3000];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *p = path[next++ % 8];

	self[n > 0 ? n : 0] = '\0';
	for (int up = 0; up < 4 && strrchr(self, '/'); up++)
		*strrchr(self, '/') = '\0';
	snprintf(p, 4096, "%s/%s", self, rel);
	return p;
}

/* Skips (user) or fails (REQUIRE_BPF=1) unless running as root. */
static inline void tap_require_bpf(void)
{
	const char *req = getenv("REQUIRE_BPF");

	if (geteuid() == 0)
		return;
	if (req && !strcmp(req, "1")) {
		printf("1..1\nnot ok 1 - BPF tests need root, and REQUIRE_BPF=1 forbids skipping\n");
		exit(1);
	}
	skip_all("needs root for BPF (set REQUIRE_BPF=1 to make this a failure)");
}

#endif
