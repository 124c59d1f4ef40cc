/* ksight: one binary, a table of commands (see cmd/cmd.h). */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lib/log.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
#define X(name, summary) { #name, cmd_##name, summary },
	COMMANDS(X)
#undef X
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ksight [-v] <command> [options]\n"
		"\n"
		"KernelSight: Linux telemetry and diagnosis from eBPF and /proc, kept in SQLite.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Options:\n"
		"  -v, --verbose  more detail on stderr (twice: libbpf and verifier output)\n"
		"  -q, --quiet    errors only\n"
		"  --version      print the version\n"
		"  -h, --help     this help\n"
		"\n"
		"Examples:\n"
		"  sudo ksight agent                      collect into ./kernelsight.db until Ctrl-C\n"
		"  ksight query 'select * from load_metrics order by timestamp desc limit 5'\n"
		"  ksight agent --help                    options of one command\n"
		"\n"
		"Exit status: 0 ok, 1 runtime error, 2 usage or configuration error.\n");
}

int main(int argc, char **argv)
{
	int i = 1, verbose = 0;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose++;
		} else if (!strcmp(argv[i], "-vv")) {
			verbose += 2;
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			verbose = -1;
		} else if (!strcmp(argv[i], "--version")) {
			printf("ksight %s\n", KSIGHT_VERSION);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			fprintf(stderr, "ksight: unknown option '%s' (see 'ksight --help')\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	log_set_level(verbose < 0 ? LOG_WARN : verbose == 0 ? LOG_INFO : (verbose > 1 ? LOG_TRACE : LOG_DEBUG));
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].fn(argc - i, argv + i);
	fprintf(stderr, "ksight: unknown command '%s' (see 'ksight --help')\n", argv[i]);
	return EXIT_USAGE;
}
