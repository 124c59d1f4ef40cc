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
 * success *ret owns the connection; release it with store__close(). */
int store__open(const char *path, enum store_mode mode, struct store **ret, char *err);

/* Writes every row of b in one transaction.  On failure nothing of b is
 * stored, b is unchanged, and the error is -ENOSPC for a full disk, -EIO
 * otherwise. */
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

/* Database file size in bytes (main file + WAL). */
int64_t store__size_bytes(const struct store *s);
const char *store__path(const struct store *s);
int store__schema_version(struct store *s);

/* Closes the connection; NULL is fine.  Returns NULL. */
struct store *store__close(struct store *s);

#endif
