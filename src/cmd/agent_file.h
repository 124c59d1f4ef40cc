/* The running agent's file: how `ksight status` (and a second agent) know
 * that an agent writes to a database, since when, and where its HTTP API
 * is.
 *
 * The file is the database's path plus ".agent" (next to the database, so
 * whoever can name the database finds it; under systemd that is in the
 * state directory).  The agent holds an exclusive flock(2) on it for its
 * whole life: the lock, not the file's presence, says that it runs, so a
 * file left by a crash (or kill -9) reads as "not running".  Its text is
 * "key=value" lines: pid, started (ns since the epoch), url (the HTTP API,
 * empty without one), version, db (absolute path).  Mode 0644: none of it
 * is secret, and status runs as any user.
 */
#ifndef KS_CMD_AGENT_FILE_H
#define KS_CMD_AGENT_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define AGENT_FILE_SUFFIX ".agent"

struct agent_info {
	pid_t pid;
	int64_t started_ns;
	char url[128];               /* "http://127.0.0.1:7777", or "" */
	char version[32];
	char db[4096];
};

struct agent_file;

/* Claims db_path's agent file for this process (pid, started_ns, no url
 * yet).  -EBUSY when another live agent holds it (*ret_other says who, when
 * ret_other is not NULL); another negative errno when the file cannot be
 * created (the directory is read-only, say). */
int agent_file__claim(const char *db_path, int64_t started_ns, struct agent_file **ret,
		      struct agent_info *ret_other);

/* Records the HTTP API's URL ("" for none) in the file. */
int agent_file__set_url(struct agent_file *f, const char *url);

/* Removes the file and drops the lock; NULL is fine; returns NULL. */
struct agent_file *agent_file__release(struct agent_file *f);

/* Whether an agent runs on db_path: 1 and *ret filled when one holds the
 * file's lock, 0 when none does (no file, or a stale one), a negative
 * errno when the file exists but cannot be read. */
int agent_file__probe(const char *db_path, struct agent_info *ret);

/* The state directory, for files the agent keeps beside its data (the
 * HTTP token, say): $STATE_DIRECTORY when systemd sets it (its first
 * entry), else the database's directory.  Into buf, which it returns. */
const char *agent_state_dir(const char *db_path, char *buf, size_t size);

#endif
