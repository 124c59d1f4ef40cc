/* Shared command-line helpers (see cmd.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ksight %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'ksight %s --help')\n", cmd);
	return EXIT_USAGE;
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ksight %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	char spec[128];
	int opt;

	/* A leading ':' makes getopt tell a missing value (':') from an
	 * unknown option ('?'); a '+' must come before it. */
	if (shortopts[0] == '+')
		snprintf(spec, sizeof(spec), "+:%s", shortopts + 1);
	else
		snprintf(spec, sizeof(spec), ":%s", shortopts);
	opterr = 0;
	opt = getopt_long(argc, argv, spec, longopts, NULL);
	if (opt == ':') {
		if (optopt && !(argv[optind - 1][0] == '-' && argv[optind - 1][1] == '-'))
			cli_usage_error(cmd, "option '-%c' needs a value", optopt);
		else
			cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		return '?';
	}
	if (opt == '?') {
		if (optopt)
			cli_usage_error(cmd, "unknown option '-%c'", optopt);
		else
			cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		return '?';
	}
	return opt;
}

bool cli_common_opt(struct cli_common *c, int opt, const char *arg)
{
	switch (opt) {
	case CLI_OPT_DB: c->db = arg; return true;
	case CLI_OPT_CONFIG: c->config = arg; return true;
	case CLI_OPT_FROM: c->range.from = arg; return true;
	case CLI_OPT_TO: c->range.to = arg; return true;
	case CLI_OPT_LAST: c->range.last = arg; return true;
	default: return false;
	}
}

bool cli_color(int fd)
{
	const char *no = getenv("NO_COLOR");

	return isatty(fd) && !(no && no[0]);
}

void cli_escape(struct buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			buf_adds(out, "\\n");
		else if (c == '\t')
			buf_adds(out, "\\t");
		else if (c == '\r')
			buf_adds(out, "\\r");
		else if (c < 0x20 || c == 0x7f)
			buf_printf(out, "\\x%02x", c);
		else if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f)
			buf_printf(out, "\\u%04x", (unsigned char)s[++i]);
		else
			buf_addc(out, (char)c);
	}
}

const char *cli_escape_to(char *out, size_t size, const char *s, size_t len)
{
	struct buf b = BUF_INIT;

	cli_escape(&b, s, len);
	snprintf(out, size, "%.*s", (int)b.len, b.data ? b.data : "");
	buf_free(&b);
	return out;
}
