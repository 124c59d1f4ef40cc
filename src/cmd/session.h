/* One command's session: its configuration, database, collectors and
 * writer, started in one place and stopped in one place.
 *
 * Every command that reads the configuration or opens the database goes
 * through here, so they all find them the same way:
 *
 *   configuration  --config FILE, else $KSIGHT_CONFIG, else
 *                  /etc/ksight/ksight.yaml when it exists, else the
 *                  built-in defaults;
 *   database       --db PATH, else agent.db of that configuration, else
 *                  kernelsight.db in the working directory.
 *
 * A command fills a struct cli_common from its flags (cmd.h), calls
 * session__init(), starts what it needs in order (store, collector,
 * writer), runs, and calls session__close() on every path out, which stops
 * and frees whatever was started, in the right order.
 *
 * Functions here print their own error ("ksight <cmd>: ...") and return an
 * exit code (EXIT_OK, EXIT_FAIL, EXIT_USAGE), never an errno, so a command's
 * `rc` only ever holds exit codes.
 */
#ifndef KS_CMD_SESSION_H
#define KS_CMD_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "../config/config.h"
#include "../store/store.h"
#include "../store/writer.h"
#include "cmd.h"

struct collector;
struct collector_hooks;
struct collector_opts;
struct retention;

/* The configuration read when neither --config nor $KSIGHT_CONFIG names
 * one (and it exists). */
#define SESSION_SYSTEM_CONFIG "/etc/ksight/ksight.yaml"

/* What the command wants from the configuration. */
enum session_config {
	/* Its settings (agent, stress, leaks --live): the file is read
	 * whenever one is found. */
	SESSION_SETTINGS,
	/* Only where the database is (query, report ...): with --db and no
	 * --config no file is read, so a broken or unreadable system file
	 * does not stand between the user and the database named. */
	SESSION_DB_ONLY,
	/* Built-in defaults only, no file (ksight run); --db still applies. */
	SESSION_DEFAULTS,
};

struct session {
	const char *cmd;             /* in messages: "ksight <cmd>: ..." */
	struct config cfg;           /* defaults, the file, then --db (owned) */
	char db_origin[160];         /* where cfg.db_path came from, for messages */
	struct store *store;         /* session__open_store() */
	struct collector *col;       /* session__start_collector() */
	struct retention *retention; /* session__start_retention() */
	struct writer *writer;       /* session__start_writer() */
	int64_t started_ns;          /* CLOCK_MONOTONIC when the collector started */
};

/* Sets s up for command cmd: built-in defaults, then the configuration file
 * as described above (per which), then opts->db over agent.db.  opts may be
 * NULL (no flags).  Returns EXIT_OK, or EXIT_USAGE after printing what is
 * wrong with the file (file:line).  Either way s must be released with
 * session__close(). */
int session__init(struct session *s, const char *cmd, const struct cli_common *opts, enum session_config which);

/* Opens the database s->cfg.db_path (closing any the session held).
 * Returns EXIT_OK, or EXIT_FAIL after printing the store's message and
 * where the path came from when not from --db. */
int session__open_store(struct session *s, enum store_mode mode);

/* Starts the collectors per s->cfg and opts (NULL: every source the
 * configuration enables; see collector__open()).  Sources that cannot start
 * are off with their reason; only a collector that cannot exist at all is
 * an error.  Returns EXIT_OK or EXIT_FAIL (printed). */
int session__start_collector(struct session *s, const struct collector_opts *opts);

/* Opens retention (the retention.* settings, store/retention.h) on the
 * open store, for the writer to run once session__start_writer() starts
 * it, and says what it keeps.  Nothing when retention.enabled is false.
 * Call it before the writer starts: it may rewrite an older file once
 * (VACUUM) so that pruned space goes back to the filesystem.  Returns
 * EXIT_OK or EXIT_FAIL (printed). */
int session__start_retention(struct session *s);

/* Starts the writer thread on the open store (agent.queue_bytes of memory
 * for rows the disk refuses), running the retention steps when
 * session__start_retention() opened one.  Returns EXIT_OK or EXIT_FAIL
 * (printed). */
int session__start_writer(struct session *s);

/* Runs the collector's event loop (collector__run) for duration_ns (0: until
 * a stopping signal or collector__stop), rows going to the writer when one
 * was started.  Returns EXIT_OK or EXIT_FAIL (printed). */
int session__run(struct session *s, int64_t duration_ns, const struct collector_hooks *hooks);

/* Stops the writer, waiting up to timeout_ns for the rows still queued,
 * and fills *ret_stats (may be NULL) with its final figures.  Nothing
 * happens without a writer (*ret_stats is zeroed). */
void session__stop_writer(struct session *s, int64_t timeout_ns, struct writer_stats *ret_stats);

/* Stops and frees everything the session started, in order: writer (rows
 * still queued get 10 s), retention, collector, store, configuration.  Safe on a
 * session that session__init() left half set up, and twice. */
void session__close(struct session *s);

#endif
