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
#include <stdint.h>

#include "../lib/buf.h"
#include "../version.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* X(name, summary) */
#define COMMANDS(X) \
	X(agent, "collect kernel telemetry into the database (the main job)") \
	X(query, "run SQL on the database, read-only") \
	X(stress, "self test: every collector under generated load, with a verdict") \
	X(detect, "score a timestamp,value CSV file with the anomaly detector") \
	X(schema, "list the tables and columns, with what each holds") \
	X(actions, "the remediation agent's audit trail") \
	X(baseline, "learn or show what is usual for every metric of this host") \
	X(export, "export a table as Hive-partitioned Parquet, or the per-metric features") \
	X(report, "write a self-contained HTML report of a capture") \
	X(leaks, "processes whose memory grows like a leak, and when they hit their limit") \
	X(status, "is an agent collecting into the database, and how is it doing") \
	X(run, "run a command and trace it and every process it starts") \
	X(top, "a live view of the processes a running agent sees, ranked by CPU, run-queue wait, RSS growth or slow calls")

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

/* --from, --to and --last as given (NULL when absent). */
struct cli_range {
	const char *from, *to, *last;
};

/* The options several commands share, as given (NULL when absent).  A
 * command lists the ones it takes in its struct option table with the
 * CLI_OPTION_* entries below and hands every option to cli_common_opt()
 * before its own switch. */
struct cli_common {
	const char *db;              /* --db PATH */
	const char *config;          /* --config FILE */
	struct cli_range range;      /* --from T, --to T, --last D */
};

/* Option codes of the shared options: above every character, so that they
 * never collide with a command's own short codes. */
enum {
	CLI_OPT_DB = 0x100,
	CLI_OPT_CONFIG,
	CLI_OPT_FROM,
	CLI_OPT_TO,
	CLI_OPT_LAST,
};

#define CLI_OPTION_DB { "db", required_argument, NULL, CLI_OPT_DB }
#define CLI_OPTION_CONFIG { "config", required_argument, NULL, CLI_OPT_CONFIG }
#define CLI_OPTIONS_RANGE \
	{ "from", required_argument, NULL, CLI_OPT_FROM }, \
	{ "to", required_argument, NULL, CLI_OPT_TO }, \
	{ "last", required_argument, NULL, CLI_OPT_LAST }

/* Records opt (with its value arg, getopt's optarg) in c when it is one of
 * the shared options.  Returns true when it was (the caller goes on to the
 * next option), false for the command's own options. */
bool cli_common_opt(struct cli_common *c, int opt, const char *arg);

/* The --help lines of --db and --config, and the paragraph on how every
 * command finds its database (session.h implements it). */
#define CLI_HELP_DB \
	"  --db PATH         database file (default: agent.db of the configuration,\n" \
	"                    else kernelsight.db)\n"
#define CLI_HELP_CONFIG \
	"  --config FILE     YAML configuration (default: $KSIGHT_CONFIG, else\n" \
	"                    /etc/ksight/ksight.yaml if present)\n"
#define CLI_HELP_DB_ORDER \
	"The database is --db PATH, else agent.db of the configuration (--config FILE,\n" \
	"else $KSIGHT_CONFIG, else /etc/ksight/ksight.yaml when it exists), else\n" \
	"kernelsight.db in this directory.\n"

struct store;

/* Resolves a time range against the data in s: --from/--to (dates or epoch
 * numbers, see parse_time_ns; either may be left out), or --last D (the
 * last D of the data, not of the clock).  Default: all the data.  Prints
 * the error and returns EXIT_USAGE (bad flags) or EXIT_FAIL (no data);
 * EXIT_OK with [*ret_from, *ret_to] set. */
int cli_time_range(const char *cmd, struct store *s, const struct cli_range *r, int64_t *ret_from,
		   int64_t *ret_to);

/* True when colour output is allowed on fd (a TTY and NO_COLOR unset). */
bool cli_color(int fd);

/* Appends s[len] to out with control characters escaped, for text shown on
 * a terminal: C0 and DEL as \n, \t, \r or \xNN, C1 (UTF-8 U+0080..U+009F)
 * as \u0080..\u009f; everything else (UTF-8 included) as is.  A process named
 * $'\e]0;x\a' would otherwise retitle (or worse) the admin's terminal.
 * --json and --csv output stays exact: only table output uses this. */
void cli_escape(struct buf *out, const char *s, size_t len);

/* cli_escape into out[size] (cut to fit); returns out. */
const char *cli_escape_to(char *out, size_t size, const char *s, size_t len);

#endif
