/* The command table and what commands share.
 *
 * Each command is one file, src/cmd/<name>.c, defining
 * int cmd_<name>(int argc, char **argv), plus one row in COMMANDS() below.
 * Exit codes: 0 ok, 1 runtime error, 2 usage or configuration error.
 */
#ifndef KS_CMD_H
#define KS_CMD_H

#include <getopt.h>
#include <stdbool.h>

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

#define KSIGHT_VERSION "0.1.0"

/* X(name, summary) */
#define COMMANDS(X) \
	X(agent, "collect kernel telemetry into the database (the main job)") \
	X(query, "run SQL on the database, read-only") \
	X(run, "run a command and trace it and every process it starts")

#define X(name, summary) int cmd_##name(int argc, char **argv);
COMMANDS(X)
#undef X

/* getopt_long that reports bad input itself, naming the flag:
 *   "ksight agent: unknown option '--fo'" / "... option '--db' needs a value".
 * Returns the option, -1 at the end, or '?' after printing the error (the
 * caller returns EXIT_USAGE).  A leading '+' in shortopts stops at the first
 * argument that is not an option (for commands that take a command line). */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);

/* Prints "ksight <cmd>: <message>" and the --help hint; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "ksight <cmd>: <message>"; returns EXIT_FAIL. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when colour output is allowed on fd (a TTY and NO_COLOR unset). */
bool cli_color(int fd);

#endif
