/* SQLite store (see store.h).
 *
 * Schema management is declarative: schema.c lists the tables and columns the
 * current binary writes, and migrate() creates what is missing (tables,
 * columns, timestamp indexes) in one transaction, then records
 * SCHEMA_VERSION in PRAGMA user_version.  PRAGMA application_id marks the
 * file as ours, so a foreign database is refused before anything is written.
 */
#include "store.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "histblob.h"
#include "rollup.h"

/* Rows per multi-row INSERT: fewer statement steps per row (PERFORMANCE.md). */
#define MULTI_ROWS 32

struct store_stmt {
	struct store *s;
	sqlite3_stmt *st;
	char *sql;
	bool busy;                  /* handed out, not yet done */
	uint64_t last_use;
};

struct store {
	sqlite3 *db;
	enum store_mode mode;
	char *path;
	sqlite3_stmt *insert[T_COUNT];          /* one row */
	sqlite3_stmt *insert_multi[T_COUNT];    /* MULTI_ROWS rows; NULL until a batch fills one */
	struct store_stmt cache[STORE_STMT_CACHE];
	uint64_t uses;
	int64_t deadline_ns;
};

static int fail(char *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err, STORE_ERR_MAX, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* The errno for a SQLite result: -ENOSPC for a full disk, -EINVAL for
 * what retrying cannot fix (a constraint, a type, a value too big), -EIO
 * for the rest (locked, busy, I/O: worth retrying). */
static int errno_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
	case SQLITE_RANGE: return -EINVAL;
	default: return -EIO;
	}
}

static int exec(struct store *s, const char *sql, char *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		int code = errno_of(rc);

		fail(err, code, "%s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return code;
	}
	return 0;
}

static int pragma_int(struct store *s, const char *sql, int64_t *ret, char *err)
{
	return store__query_int(s, sql, ret, err);
}

static const char *sql_type(enum col_type t)
{
	switch (t) {
	case COL_INT: return "INTEGER";
	case COL_REAL: return "REAL";
	case COL_BLOB: return "BLOB";
	default: return "TEXT";
	}
}

static bool has_column(struct store *s, const char *table, const char *column)
{
	sqlite3_stmt *st;
	bool found = false;
	char sql[256];

	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	while (!found && sqlite3_step(st) == SQLITE_ROW)
		found = !strcmp((const char *)sqlite3_column_text(st, 1), column);
	sqlite3_finalize(st);
	return found;
}

/* Creates tab if missing, with its timestamp index, and adds the columns
 * it lacks. */
static int migrate_table(struct store *s, const struct table *tab, struct buf *sql, char *err)
{
	int rc;

	buf_reset(sql);
	buf_printf(sql, "CREATE TABLE IF NOT EXISTS %s (", tab->name);
	for (unsigned c = 0; c < tab->ncolumns; c++)
		buf_printf(sql, "%s%s %s%s", c ? ", " : "", tab->columns[c].name, sql_type(tab->columns[c].type),
			   c == 0 ? " NOT NULL" : "");
	buf_printf(sql, ");\nCREATE INDEX IF NOT EXISTS %s_timestamp ON %s(timestamp);", tab->name, tab->name);
	rc = exec(s, sql->data, err);
	for (unsigned c = 1; c < tab->ncolumns && !rc; c++) {
		if (has_column(s, tab->name, tab->columns[c].name))
			continue;
		buf_reset(sql);
		buf_printf(sql, "ALTER TABLE %s ADD COLUMN %s %s", tab->name, tab->columns[c].name,
			   sql_type(tab->columns[c].type));
		rc = exec(s, sql->data, err);
	}
	return rc;
}

/* Brings the schema to SCHEMA_VERSION; caller holds a write transaction. */
static int migrate(struct store *s, char *err)
{
	struct buf sql = BUF_INIT;
	const struct table *const *rollups;
	size_t nrollups;
	int rc = 0;

	for (int t = 0; t < T_COUNT && !rc; t++)
		rc = migrate_table(s, &schema_tables[t], &sql, err);
	rollups = rollup__tables(&nrollups);
	for (size_t i = 0; i < nrollups && !rc; i++)
		rc = migrate_table(s, rollups[i], &sql, err);
	if (!rc)
		rc = exec(s, ROLLUP_MARKS_SQL, err);
	/* Version 4: the readers' extra indexes (on a large older file, as
	 * long as sorting its rows takes, once). */
	for (unsigned i = 0; i < schema_nindexes && !rc; i++) {
		buf_reset(&sql);
		buf_printf(&sql, "CREATE INDEX IF NOT EXISTS %s ON %s(%s)", schema_indexes[i].name,
			   schema_tables[schema_indexes[i].table].name, schema_indexes[i].columns);
		rc = exec(s, sql.data, err);
	}
	if (!rc) {
		buf_reset(&sql);
		buf_printf(&sql, "PRAGMA application_id = %d; PRAGMA user_version = %d;",
			   SCHEMA_APPLICATION_ID, SCHEMA_VERSION);
		rc = exec(s, sql.data, err);
	}
	buf_free(&sql);
	return rc;
}

/* Refuses files that are not ours or are newer; migrates older ones. */
static int check_and_migrate(struct store *s, char *err)
{
	int64_t app_id, version, objects;
	char inner[STORE_ERR_MAX];
	int rc;

	rc = pragma_int(s, "PRAGMA application_id", &app_id, inner);
	if (rc)
		return fail(err, -EINVAL, "%s is not a KernelSight database (%s); refusing to touch it",
			    s->path, inner);
	if ((rc = pragma_int(s, "PRAGMA user_version", &version, err)) ||
	    (rc = pragma_int(s, "SELECT count(*) FROM sqlite_master", &objects, err)))
		return rc;
	if (app_id != SCHEMA_APPLICATION_ID && !(app_id == 0 && version == 0 && objects == 0))
		return fail(err, -EINVAL,
			    "%s is a SQLite database but not a KernelSight one "
			    "(application_id %#llx, %lld schema objects); refusing to touch it",
			    s->path, (unsigned long long)app_id, (long long)objects);
	if (version > SCHEMA_VERSION)
		return fail(err, -EPROTONOSUPPORT,
			    "%s was written by a newer ksight (schema v%lld; this ksight knows up to v%d); "
			    "upgrade ksight or use another --db",
			    s->path, (long long)version, SCHEMA_VERSION);
	if (s->mode == STORE_READ_ONLY) {
		if (app_id != SCHEMA_APPLICATION_ID)
			return fail(err, -ENOENT, "%s is empty: no KernelSight data yet", s->path);
		return 0;
	}
	/* A new file gives pages back to the filesystem as retention prunes
	 * (retention.h); it can only be chosen before the first table. */
	if (objects == 0 && (rc = exec(s, "PRAGMA auto_vacuum = INCREMENTAL", err)))
		return rc;
	/* The writer appends; a small page cache is enough and keeps RSS low. */
	if ((rc = exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -1024;", err)))
		return rc;
	if (version == SCHEMA_VERSION && app_id == SCHEMA_APPLICATION_ID)
		return 0;
	if ((rc = exec(s, "BEGIN IMMEDIATE", err)))
		return rc;
	rc = migrate(s, err);
	if (!rc)
		rc = exec(s, "COMMIT", err);
	if (rc)
		exec(s, "ROLLBACK", NULL);
	return rc;
}

/* ---- SQL functions over histogram blobs (histblob.h) ---- */

struct hist_merge {
	uint64_t counts[HIST_BUCKETS];
	uint64_t total;
};

/* ks_hist_merge(blob): the sum of the histograms of a group; NULL and
 * malformed values are skipped; NULL when nothing was counted. */
static void hist_merge_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct hist_merge *m;

	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_BLOB)
		return;
	if (!(m = sqlite3_aggregate_context(ctx, sizeof(*m)))) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	histblob_add(sqlite3_value_blob(argv[0]), (size_t)sqlite3_value_bytes(argv[0]), m->counts, &m->total);
}

static void hist_merge_final(sqlite3_context *ctx)
{
	struct hist_merge *m = sqlite3_aggregate_context(ctx, 0);
	uint8_t blob[HISTBLOB_MAX];
	size_t len = m ? histblob_encode(m->counts, blob) : 0;

	if (len)
		sqlite3_result_blob(ctx, blob, (int)len, SQLITE_TRANSIENT);
	else
		sqlite3_result_null(ctx);
}

/* Decodes argv[0]; false (result NULL) when it is not a non-empty histogram. */
static bool hist_arg(sqlite3_context *ctx, sqlite3_value *v, uint64_t *counts, uint64_t *total)
{
	*total = 0;
	memset(counts, 0, sizeof(uint64_t) * HIST_BUCKETS);
	if (sqlite3_value_type(v) != SQLITE_BLOB ||
	    histblob_add(sqlite3_value_blob(v), (size_t)sqlite3_value_bytes(v), counts, total) || !*total) {
		sqlite3_result_null(ctx);
		return false;
	}
	return true;
}

/* ks_hist_quantile(blob, q, bound_ns): the q-quantile in ns, capped at
 * bound_ns when that is a positive number (the exact maximum), as the
 * tracers compute their percentiles. */
static void hist_quantile_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	uint64_t counts[HIST_BUCKETS], total;
	double q = sqlite3_value_double(argv[1]);
	double bound = argc > 2 && sqlite3_value_type(argv[2]) != SQLITE_NULL ? sqlite3_value_double(argv[2]) : 0;

	if (!(q > 0 && q <= 1)) {
		sqlite3_result_error(ctx, "ks_hist_quantile: q must be in (0, 1]", -1);
		return;
	}
	if (hist_arg(ctx, argv[0], counts, &total))
		sqlite3_result_double(ctx, histblob_quantile(counts, total, q, bound));
}

/* ks_hist_count(blob): values counted in the histogram (NULL: none). */
static void hist_count_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	uint64_t counts[HIST_BUCKETS], total;

	(void)argc;
	if (hist_arg(ctx, argv[0], counts, &total))
		sqlite3_result_int64(ctx, (sqlite3_int64)total);
}

static int register_functions(struct store *s, char *err)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

	if (sqlite3_create_function_v2(s->db, "ks_hist_merge", 1, flags, NULL, NULL, hist_merge_step,
				       hist_merge_final, NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(s->db, "ks_hist_quantile", 3, flags, NULL, hist_quantile_fn, NULL, NULL,
				       NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(s->db, "ks_hist_quantile", 2, flags, NULL, hist_quantile_fn, NULL, NULL,
				       NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(s->db, "ks_hist_count", 1, flags, NULL, hist_count_fn, NULL, NULL,
				       NULL) != SQLITE_OK)
		return fail(err, -EIO, "cannot register SQL functions: %s", sqlite3_errmsg(s->db));
	return 0;
}

static int prepare_insert(struct store *s, enum table_id t, unsigned rows, sqlite3_stmt **ret, char *err)
{
	const struct table *tab = &schema_tables[t];
	struct buf sql = BUF_INIT;
	int rc = 0;

	buf_printf(&sql, "INSERT INTO %s (", tab->name);
	for (unsigned c = 0; c < tab->ncolumns; c++)
		buf_printf(&sql, "%s%s", c ? "," : "", tab->columns[c].name);
	buf_adds(&sql, ") VALUES ");
	for (unsigned r = 0; r < rows; r++) {
		buf_adds(&sql, r ? ",(" : "(");
		for (unsigned c = 0; c < tab->ncolumns; c++)
			buf_adds(&sql, c ? ",?" : "?");
		buf_addc(&sql, ')');
	}
	if (sqlite3_prepare_v3(s->db, sql.data, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL) != SQLITE_OK)
		rc = fail(err, -EIO, "cannot prepare insert into %s: %s", tab->name, sqlite3_errmsg(s->db));
	buf_free(&sql);
	return rc;
}

static int prepare_inserts(struct store *s, char *err)
{
	int rc = 0;

	for (int t = 0; t < T_COUNT && !rc; t++)
		rc = prepare_insert(s, t, 1, &s->insert[t], err);
	return rc;
}

/* The database holds every command line on the host: it is created 0640
 * whatever the umask (SQLite gives its -wal and -shm the database's own
 * mode). */
static void create_private(const char *path)
{
	int fd;

	if (!strcmp(path, ":memory:") || !strncmp(path, "file:", 5) || !path[0])
		return;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd >= 0)
		close(fd);
}

/* A database left readable by everyone (by an older ksight) is closed to
 * others, with its -wal and -shm, once it is known to be ours.  By path,
 * never through an open() and close() of its own: closing any descriptor
 * of a file drops every POSIX lock this process holds on it, SQLite's
 * included (fchmodat's AT_SYMLINK_NOFOLLOW goes through an O_PATH
 * descriptor, whose close leaves locks alone). */
static void close_to_others(const char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char file[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if ((size_t)snprintf(file, sizeof(file), "%s%s", path, suffixes[i]) >= sizeof(file))
			continue;
		if (!fstatat(AT_FDCWD, file, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode) &&
		    st.st_uid == geteuid() && (st.st_mode & S_IRWXO))
			fchmodat(AT_FDCWD, file, st.st_mode & 07770, AT_SYMLINK_NOFOLLOW);
	}
}

/* The authorizer of a read-only connection (ksight query runs what the
 * user typed): the SQL may read this database and nothing else.  ATTACH
 * would read (or, with VACUUM INTO, write) another file, and turning
 * query_only or writable_schema back on would undo the read-only mode.
 * VACUUM has no action code of its own: VACUUM INTO attaches its target,
 * which the ATTACH rule refuses, and a plain VACUUM writes, which
 * query_only refuses. */
static int read_only_authorizer(void *ctx, int action, const char *a, const char *b, const char *db,
				const char *trigger)
{
	(void)ctx;
	(void)db;
	(void)trigger;
	if (action == SQLITE_ATTACH || action == SQLITE_DETACH)
		return SQLITE_DENY;
	if (action == SQLITE_PRAGMA && b && a &&
	    (!sqlite3_stricmp(a, "query_only") || !sqlite3_stricmp(a, "writable_schema") ||
	     !sqlite3_stricmp(a, "trusted_schema")))
		return SQLITE_DENY;
	return SQLITE_OK;
}

int store__set_cache_bytes(struct store *s, uint64_t bytes)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%llu", (unsigned long long)(bytes < (64 << 10) ? 64 : bytes >> 10));
	return exec(s, sql, NULL);
}

int64_t store__memory_used(void) { return sqlite3_memory_used(); }

int store__open(const char *path, enum store_mode mode, struct store **ret, char *err)
{
	struct store *s;
	struct stat st;
	int flags, rc;

	if (mode == STORE_READ_ONLY && strcmp(path, ":memory:") && stat(path, &st) < 0)
		return fail(err, -ENOENT, "no database at %s (start 'ksight agent' first, or pass --db)",
			    path);
	if (mode == STORE_READ_WRITE)
		create_private(path);
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(err, -ENOMEM, "out of memory");
	s->mode = mode;
	s->path = strdup(path);
	flags = SQLITE_OPEN_NOMUTEX |
		(mode == STORE_READ_ONLY ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		rc = fail(err, -EIO, "cannot open %s: %s", path,
			  s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto cleanup;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if ((rc = register_functions(s, err)) || (rc = check_and_migrate(s, err)))
		goto cleanup;
	if (mode == STORE_READ_ONLY) {
		rc = exec(s, "PRAGMA query_only = 1", err);
		if (!rc)
			sqlite3_set_authorizer(s->db, read_only_authorizer, NULL);
	} else {
		if (strcmp(path, ":memory:") && strncmp(path, "file:", 5))
			close_to_others(path);
		rc = prepare_inserts(s, err);
	}
	if (rc)
		goto cleanup;
	*ret = s;
	return 0;
cleanup:
	store__close(s);
	return rc;
}

/* Binds the next `rows` rows of table t, starting at *pos, to st. */
static int bind_rows(sqlite3_stmt *st, const struct batch *b, enum table_id t, size_t *pos, unsigned rows)
{
	unsigned ncols = schema_tables[t].ncolumns;
	struct batch_value v;
	int rc = SQLITE_OK;

	for (unsigned i = 1; i <= rows * ncols && rc == SQLITE_OK; i++) {
		batch__read(b, t, pos, &v);
		switch (v.tag) {
		case V_INT: rc = sqlite3_bind_int64(st, (int)i, v.i); break;
		case V_REAL: rc = sqlite3_bind_double(st, (int)i, v.r); break;
		case V_TEXT: rc = sqlite3_bind_text(st, (int)i, v.s, (int)v.len, SQLITE_STATIC); break;
		case V_BLOB: rc = sqlite3_bind_blob(st, (int)i, v.s, (int)v.len, SQLITE_STATIC); break;
		default: rc = sqlite3_bind_null(st, (int)i); break;
		}
	}
	return rc;
}

int store__write_batch(struct store *s, const struct batch *b, char *err)
{
	int rc;

	if (b->rows == 0)
		return 0;
	if ((rc = exec(s, "BEGIN IMMEDIATE", err)))
		return rc;
	for (int t = 0; t < T_COUNT && !rc; t++) {
		size_t pos = 0;

		for (uint32_t r = 0; r < b->tables[t].rows && !rc;) {
			unsigned n = b->tables[t].rows - r >= MULTI_ROWS ? MULTI_ROWS : 1;
			sqlite3_stmt *st;
			int src;

			/* The multi-row statement is 32 times the program: prepared
			 * for the tables that fill one, on first use. */
			if (n > 1 && !s->insert_multi[t] &&
			    (rc = prepare_insert(s, t, MULTI_ROWS, &s->insert_multi[t], err)))
				break;
			st = n > 1 ? s->insert_multi[t] : s->insert[t];
			src = bind_rows(st, b, t, &pos, n);

			if (src == SQLITE_OK)
				src = sqlite3_step(st);
			if (src != SQLITE_DONE)
				rc = fail(err, errno_of(src), "cannot insert into %s: %s", schema_tables[t].name,
					  sqlite3_errmsg(s->db));
			sqlite3_reset(st);
			r += n;
		}
	}
	if (!rc)
		rc = exec(s, "COMMIT", err);
	if (rc && !sqlite3_get_autocommit(s->db))
		exec(s, "ROLLBACK", NULL);
	return rc;
}

static void column_value(sqlite3_stmt *st, int c, struct batch_value *v)
{
	memset(v, 0, sizeof(*v));
	switch (sqlite3_column_type(st, c)) {
	case SQLITE_INTEGER: v->tag = V_INT; v->i = sqlite3_column_int64(st, c); break;
	case SQLITE_FLOAT: v->tag = V_REAL; v->r = sqlite3_column_double(st, c); break;
	case SQLITE_NULL: v->tag = V_NULL; break;
	case SQLITE_BLOB:
		v->tag = V_BLOB;
		v->s = sqlite3_column_blob(st, c);
		v->len = (uint32_t)sqlite3_column_bytes(st, c);
		break;
	default:
		v->tag = V_TEXT;
		v->s = (const char *)sqlite3_column_text(st, c);
		v->len = (uint32_t)sqlite3_column_bytes(st, c);
		break;
	}
}

int store__query(struct store *s, const char *sql, const struct store_query_cb *cb, char *err)
{
	const char *tail = sql;
	struct batch_value *values = NULL;
	const char **names = NULL;
	int rc = 0;

	while (!rc && tail && *tail) {
		sqlite3_stmt *st = NULL;
		int ncols, src;

		if (sqlite3_prepare_v2(s->db, tail, -1, &st, &tail) != SQLITE_OK) {
			rc = sqlite3_errcode(s->db) == SQLITE_AUTH
			     ? fail(err, -EPERM, "%s: a read-only query reads this database only (ATTACH, VACUUM INTO "
				    "and PRAGMA query_only/writable_schema are refused)", sqlite3_errmsg(s->db))
			     : fail(err, -EINVAL, "%s", sqlite3_errmsg(s->db));
			break;
		}
		if (!st)        /* whitespace or comment */
			continue;
		ncols = sqlite3_column_count(st);
		if (ncols > 0) {
			const char **more_names = realloc(names, sizeof(*names) * (size_t)ncols);
			struct batch_value *more_values;

			if (more_names)
				names = more_names;
			more_values = more_names ? realloc(values, sizeof(*values) * (size_t)ncols) : NULL;
			if (!more_values) {
				sqlite3_finalize(st);
				rc = fail(err, -ENOMEM, "out of memory");
				break;
			}
			values = more_values;
			for (int c = 0; c < ncols; c++)
				names[c] = sqlite3_column_name(st, c);
			if (cb && cb->on_columns)
				rc = cb->on_columns(cb->ctx, ncols, names);
		}
		while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
			for (int c = 0; c < ncols; c++)
				column_value(st, c, &values[c]);
			if (cb && cb->on_row)
				rc = cb->on_row(cb->ctx, ncols, values);
		}
		if (!rc && src != SQLITE_DONE)
			rc = fail(err, src == SQLITE_FULL ? -ENOSPC : -EINVAL, "%s", sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
	}
	free(names);
	free(values);
	return rc;
}

struct first_int {
	int64_t value;
	bool found;
};

static int first_int_row(void *ctx, int ncols, const struct batch_value *values)
{
	struct first_int *f = ctx;

	if (ncols > 0 && !f->found) {
		f->found = true;
		f->value = values[0].tag == V_INT ? values[0].i :
			   values[0].tag == V_REAL ? (int64_t)values[0].r : 0;
	}
	return 0;
}

int store__query_int(struct store *s, const char *sql, int64_t *ret, char *err)
{
	struct first_int f = { 0, false };
	struct store_query_cb cb = { NULL, first_int_row, &f };
	int rc = store__query(s, sql, &cb, err);

	if (rc)
		return rc;
	if (!f.found)
		return fail(err, -ENOENT, "no row");
	*ret = f.value;
	return 0;
}

int64_t store__file_bytes(const char *path)
{
	struct stat st;
	char wal[PATH_MAX];
	int64_t size = 0;

	if (stat(path, &st) == 0)
		size += st.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &st) == 0)
		size += st.st_size;
	return size;
}

const char *store__path(const struct store *s) { return s->path; }
int64_t store__total_changes(struct store *s) { return sqlite3_total_changes64(s->db); }

int store__schema_version(struct store *s)
{
	int64_t v = 0;

	store__query_int(s, "PRAGMA user_version", &v, NULL);
	return (int)v;
}

/* ---- prepared reads ---- */

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* SQLite calls this every few thousand VM steps; non-zero interrupts. */
static int past_deadline(void *ctx)
{
	struct store *s = ctx;

	return s->deadline_ns && mono_ns() > s->deadline_ns;
}

int store__read_begin(struct store *s, char *err)
{
	assert(sqlite3_get_autocommit(s->db));
	return exec(s, "BEGIN", err);
}

void store__read_end(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		exec(s, "COMMIT", NULL);
}

void store__set_deadline(struct store *s, int64_t deadline_ns)
{
	if (deadline_ns && !s->deadline_ns)
		sqlite3_progress_handler(s->db, 4000, past_deadline, s);
	else if (!deadline_ns && s->deadline_ns)
		sqlite3_progress_handler(s->db, 0, NULL, NULL);
	s->deadline_ns = deadline_ns;
}

int store__prepare(struct store *s, const char *sql, struct store_stmt **ret, char *err)
{
	struct store_stmt *hit = NULL, *empty = NULL, *lru = NULL, *slot;

	for (int i = 0; i < STORE_STMT_CACHE && !hit; i++) {
		struct store_stmt *c = &s->cache[i];

		if (c->sql && !strcmp(c->sql, sql))
			hit = c;
		else if (!c->sql && !empty)
			empty = c;
		else if (c->sql && !c->busy && (!lru || c->last_use < lru->last_use))
			lru = c;
	}
	if (hit && hit->busy)
		return fail(err, -EBUSY, "statement already in use: %s", sql);
	slot = hit ? hit : empty ? empty : lru;
	if (!slot)
		return fail(err, -EBUSY, "every cached statement is in use");
	if (!slot->sql || strcmp(slot->sql, sql)) {
		sqlite3_finalize(slot->st);
		free(slot->sql);
		slot->st = NULL;
		slot->sql = NULL;
		if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->st, NULL) != SQLITE_OK)
			return fail(err, -EINVAL, "%s", sqlite3_errmsg(s->db));
		slot->sql = strdup(sql);
		if (!slot->sql) {
			sqlite3_finalize(slot->st);
			slot->st = NULL;
			return fail(err, -ENOMEM, "out of memory");
		}
		slot->s = s;
	}
	slot->busy = true;
	slot->last_use = ++s->uses;
	*ret = slot;
	return 0;
}

void store_stmt__bind_int(struct store_stmt *st, int idx, int64_t v) { sqlite3_bind_int64(st->st, idx, v); }
void store_stmt__bind_double(struct store_stmt *st, int idx, double v) { sqlite3_bind_double(st->st, idx, v); }

void store_stmt__bind_text(struct store_stmt *st, int idx, const char *v)
{
	sqlite3_bind_text(st->st, idx, v, -1, SQLITE_TRANSIENT);
}

int store_stmt__step(struct store_stmt *st, char *err)
{
	int rc = sqlite3_step(st->st);

	switch (rc) {
	case SQLITE_ROW: return 1;
	case SQLITE_DONE: return 0;
	case SQLITE_INTERRUPT: return fail(err, -ETIMEDOUT, "the query ran past its time limit");
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return fail(err, -EBUSY, "the database is locked");
	default: return fail(err, -EIO, "%s", sqlite3_errmsg(st->s->db));
	}
}

int store_stmt__columns(const struct store_stmt *st) { return sqlite3_column_count(st->st); }
const char *store_stmt__column_name(const struct store_stmt *st, int col) { return sqlite3_column_name(st->st, col); }
void store_stmt__value(const struct store_stmt *st, int col, struct batch_value *ret) { column_value(st->st, col, ret); }
int64_t store_stmt__int(const struct store_stmt *st, int col) { return sqlite3_column_int64(st->st, col); }
double store_stmt__double(const struct store_stmt *st, int col) { return sqlite3_column_double(st->st, col); }
bool store_stmt__is_null(const struct store_stmt *st, int col) { return sqlite3_column_type(st->st, col) == SQLITE_NULL; }

void store_stmt__done(struct store_stmt *st)
{
	if (!st)
		return;
	sqlite3_reset(st->st);
	sqlite3_clear_bindings(st->st);
	st->busy = false;
}

int64_t store__data_version(struct store *s)
{
	struct store_stmt *st;
	int64_t v;
	int rc;

	if ((rc = store__prepare(s, "PRAGMA data_version", &st, NULL)))
		return rc;
	rc = store_stmt__step(st, NULL);
	v = rc == 1 ? store_stmt__int(st, 0) : (rc < 0 ? rc : -EIO);
	store_stmt__done(st);
	return v;
}

struct store *store__close(struct store *s)
{
	if (!s)
		return NULL;
	for (int i = 0; i < STORE_STMT_CACHE; i++) {
		sqlite3_finalize(s->cache[i].st);
		free(s->cache[i].sql);
	}
	for (int t = 0; t < T_COUNT; t++) {
		sqlite3_finalize(s->insert[t]);
		sqlite3_finalize(s->insert_multi[t]);
	}
	if (s->db)
		sqlite3_close(s->db);
	free(s->path);
	free(s);
	return NULL;
}
