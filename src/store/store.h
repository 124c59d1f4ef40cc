/* The SQLite store: the only module that includes sqlite3.h.
 *
 * A store is one open database connection, either read-write (the writer:
 * creates and migrates the schema, inserts batches) or read-only (every
 * reader: `ksight query`, the HTTP API, reports).  A connection is used by
 * one thread at a time.
 *
 * Errors are returned as negative errno values with a one-line explanation in
 * the caller's err buffer (STORE_ERR_MAX bytes); the caller decides what the
 * user sees.
 */
#ifndef KS_STORE_H
#define KS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"

#define STORE_ERR_MAX 256

struct store;

enum store_mode {
	STORE_READ_WRITE,    /* create if missing, migrate, allow writes */
	STORE_READ_ONLY,     /* must exist and be ours; SQL cannot write */
};

/* Opens path (":memory:" works for tests).  Refuses, touching nothing, a
 * file that is not SQLite, a SQLite database that is not KernelSight's, and
 * a KernelSight database with a newer schema than this binary knows.  On
 * success *ret owns the connection; release it with store__close().
 * STORE_READ_WRITE creates a missing file 0640 and takes others' access
 * away from an existing one it owns (and its -wal and -shm): the rows
 * carry every command line on the host. */
int store__open(const char *path, enum store_mode mode, struct store **ret, char *err);

/* Caps s's SQLite page cache at bytes (PRAGMA cache_size = -KiB, at least
 * 64 KiB).  Returns 0 or a negative errno. */
int store__set_cache_bytes(struct store *s, uint64_t bytes);

/* Heap bytes SQLite holds now for every connection of the process (page
 * caches, schemas, statements): sqlite3_memory_used().  Any thread. */
int64_t store__memory_used(void);

/* Writes every row of b in one transaction.  On failure nothing of b is
 * stored, b is unchanged, and the error is -ENOSPC for a full disk, -EINVAL
 * when b itself cannot be stored (retrying will not help), -EIO otherwise. */
int store__write_batch(struct store *s, const struct batch *b, char *err);

/* Runs sql (one or more statements).  For each statement that returns rows,
 * on_columns is called once, then on_row per row; a non-zero return from
 * either stops the query and is returned.  Values are valid only during the
 * callback.  A malformed statement returns -EINVAL with SQLite's message. */
struct store_query_cb {
	int (*on_columns)(void *ctx, int ncols, const char *const *names);
	int (*on_row)(void *ctx, int ncols, const struct batch_value *values);
	void *ctx;
};
int store__query(struct store *s, const char *sql, const struct store_query_cb *cb, char *err);

/* Convenience for single-value queries: the first column of the first row
 * as an integer; -ENOENT when there is no row. */
int store__query_int(struct store *s, const char *sql, int64_t *ret, char *err);

/* ---- Prepared reads: the HTTP API's queries ----
 *
 * store__prepare() returns the statement for sql, compiled once per
 * connection and cached (up to STORE_STMT_CACHE statements; past that the
 * least recently used idle one is finalized).  The statement belongs to s;
 * the caller binds parameters (1-based), steps, reads columns, and hands it
 * back with store_stmt__done(), which resets it and clears the bindings.
 * Build sql only from constants and schema names, never from request text:
 * values go through the bind calls. */
#define STORE_STMT_CACHE 160

struct store_stmt;

int store__prepare(struct store *s, const char *sql, struct store_stmt **ret, char *err);
void store_stmt__bind_int(struct store_stmt *st, int idx, int64_t v);
void store_stmt__bind_double(struct store_stmt *st, int idx, double v);
void store_stmt__bind_text(struct store_stmt *st, int idx, const char *v);   /* copied */
/* 1: a row is ready (its values are valid until the next step or done),
 * 0: no more rows, else a negative errno with the reason in err: -ETIMEDOUT
 * past the deadline (store__set_deadline), -EBUSY when the database stayed
 * locked, -EIO otherwise. */
int store_stmt__step(struct store_stmt *st, char *err);
int store_stmt__columns(const struct store_stmt *st);
const char *store_stmt__column_name(const struct store_stmt *st, int col);
void store_stmt__value(const struct store_stmt *st, int col, struct batch_value *ret);
int64_t store_stmt__int(const struct store_stmt *st, int col);
double store_stmt__double(const struct store_stmt *st, int col);
bool store_stmt__is_null(const struct store_stmt *st, int col);
void store_stmt__done(struct store_stmt *st);   /* NULL is fine */

/* Makes the reads on s until store__read_end() one read transaction: they
 * see one snapshot of the database, and take its locks once instead of
 * once per statement.  The caller must end it (it holds back the WAL's
 * checkpoint while it lasts) and must not nest it.  Returns 0 or a
 * negative errno (err filled). */
int store__read_begin(struct store *s, char *err);
/* Ends the read transaction of store__read_begin(), if one is still open
 * (an interrupted statement ends it already). */
void store__read_end(struct store *s);

/* Statements of s abandon their work (their step returns -ETIMEDOUT) once
 * CLOCK_MONOTONIC passes deadline_ns; 0 removes the limit. */
void store__set_deadline(struct store *s, int64_t deadline_ns);

/* A number that changes whenever another connection commits to the
 * database (PRAGMA data_version): equal values mean that every query on s
 * would return what it returned before.  Negative errno on failure. */
int64_t store__data_version(struct store *s);

/* Bytes the database at path takes on disk: the main file plus its WAL
 * (what does not exist, such as ":memory:", counts 0).  Needs no
 * connection, so any thread may ask (the HTTP snapshot does, each tick). */
int64_t store__file_bytes(const char *path);
const char *store__path(const struct store *s);
/* Rows inserted, updated or deleted through s since it was opened. */
int64_t store__total_changes(struct store *s);
int store__schema_version(struct store *s);

/* Closes the connection; NULL is fine.  Returns NULL. */
struct store *store__close(struct store *s);

#endif
