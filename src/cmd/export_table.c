/* ksight export --table: a table as Hive-partitioned Parquet (see
 * export_table.h for the layout, the files' columns and --since-last). */
#include "export_table.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../lib/clock.h"
#include "../store/parquet.h"

#define NAME_MAX_LEN 64
#define MAX_COLS 128

struct col {
	char name[NAME_MAX_LEN];
	enum parquet_type type;
	enum parquet_logical logical;
};

struct boot {
	int64_t ts;
	char *id;       /* NULL when the agent could not read it */
};

struct exporter {
	const struct export_table_opts *o;
	char host[256];
	struct col cols[MAX_COLS + 2];
	int ntable_cols;                /* the table's own columns */
	int ncols;                      /* + host and boot_id when the table lacks them */
	int ts_col, host_col, boot_col;
	struct boot *boots;
	size_t nboots, boot_i;
	/* the file being written */
	struct parquet_writer *pq;
	char path[PATH_MAX];
	char day[16];
	int64_t file_rows;
	/* totals */
	int64_t rows, files, skipped, last_ts;
	char err[PATH_MAX + 256];
};

/* Table, column and host names go into SQL text and paths: plain names only. */
static bool plain_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_'))
			return false;
	return true;
}

/* A host name as a path component: letters, digits, '.', '-' and '_' kept,
 * anything else '_'; never starting with '.'. */
static void host_component(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in && n + 1 < size; in++, n++)
		out[n] = (*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') || (*in >= '0' && *in <= '9') ||
			 *in == '-' || *in == '_' || (*in == '.' && n > 0) ? *in : '_';
	out[n] = 0;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, 0755) && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* ---- reading what the database holds ---- */

struct text_ctx {
	char *out;
	size_t size;
	bool found;
};

static int first_text(void *ctx, int ncols, const struct batch_value *v)
{
	struct text_ctx *t = ctx;

	if (ncols >= 1 && v[0].tag == V_TEXT) {
		snprintf(t->out, t->size, "%.*s", (int)v[0].len, v[0].s);
		t->found = true;
	}
	return 1;
}

static int column_row(void *ctx, int ncols, const struct batch_value *v)
{
	struct exporter *e = ctx;
	struct col *c;
	char type[32] = "";

	if (ncols < 2 || v[0].tag != V_TEXT)
		return 0;
	if (e->ntable_cols == MAX_COLS) {
		snprintf(e->err, sizeof(e->err), "more than %d columns", MAX_COLS);
		return -E2BIG;
	}
	c = &e->cols[e->ntable_cols];
	snprintf(c->name, sizeof(c->name), "%.*s", (int)v[0].len, v[0].s);
	if (v[1].tag == V_TEXT)
		snprintf(type, sizeof(type), "%.*s", (int)v[1].len, v[1].s);
	/* SQLite's affinity rules, by the declared type's name. */
	if (strcasestr(type, "INT"))
		c->type = PARQUET_INT64;
	else if (strcasestr(type, "CHAR") || strcasestr(type, "TEXT") || strcasestr(type, "CLOB"))
		c->type = PARQUET_BYTE_ARRAY, c->logical = PARQUET_LOGICAL_STRING;
	else if (strcasestr(type, "BLOB"))
		c->type = PARQUET_BYTE_ARRAY;
	else if (strcasestr(type, "REAL") || strcasestr(type, "FLOA") || strcasestr(type, "DOUB"))
		c->type = PARQUET_DOUBLE;
	else {
		snprintf(e->err, sizeof(e->err), "column '%s' has no declared type (%s): cannot choose its Parquet type",
			 c->name, type[0] ? type : "none");
		return -EINVAL;
	}
	if (!strcmp(c->name, "timestamp") && c->type == PARQUET_INT64)
		c->logical = PARQUET_LOGICAL_TIMESTAMP_NS_LOCAL;
	e->ntable_cols++;
	return 0;
}

static int boot_row(void *ctx, int ncols, const struct batch_value *v)
{
	struct exporter *e = ctx;
	struct boot *nb;

	if (ncols < 2 || v[0].tag != V_INT)
		return 0;
	if (!(nb = realloc(e->boots, (e->nboots + 1) * sizeof(*nb))))
		return -ENOMEM;
	e->boots = nb;
	nb[e->nboots].ts = v[0].i;
	nb[e->nboots].id = v[1].tag == V_TEXT ? strndup(v[1].s, v[1].len) : NULL;
	e->nboots++;
	return 0;
}

/* ---- --since-last state ---- */

static void state_path(const struct exporter *e, char *out, size_t size)
{
	snprintf(out, size, "%s/.ksight-export/%s/%s", e->o->out_dir, e->o->table, e->host);
}

/* The newest timestamp exported before; -ENOENT when none was. */
static int state_read(const struct exporter *e, int64_t *ret)
{
	char path[PATH_MAX];
	long long v;
	FILE *f;
	int n;

	state_path(e, path, sizeof(path));
	if (!(f = fopen(path, "re")))
		return errno == ENOENT ? -ENOENT : -errno;
	n = fscanf(f, "last_timestamp %lld", &v);
	fclose(f);
	if (n != 1)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int state_write(const struct exporter *e, int64_t last_ts)
{
	char path[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX + 16];
	int fd, rc = 0;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/.ksight-export/%s", e->o->out_dir, e->o->table);
	if ((rc = mkdir_p(dir)))
		return rc;
	state_path(e, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0)
		return -errno;
	if (!(f = fdopen(fd, "w"))) {
		rc = -errno;
		close(fd);
		unlink(tmp);
		return rc;
	}
	fprintf(f, "last_timestamp %lld\n", (long long)last_ts);
	if (fflush(f) || fsync(fileno(f)))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

/* ---- writing ---- */

static int file_close(struct exporter *e)
{
	int rc;

	if (!e->pq)
		return 0;
	rc = parquet_writer__close(e->pq);
	e->pq = NULL;
	if (rc) {
		snprintf(e->err, sizeof(e->err), "cannot write %s: %s", e->path, strerror(-rc));
		return rc;
	}
	e->files++;
	if (!e->o->quiet)
		fprintf(stderr, "ksight export: %s: %lld rows\n", e->path, (long long)e->file_rows);
	return 0;
}

static int file_open(struct exporter *e, const char *day, int64_t first_ts)
{
	char dir[PATH_MAX];
	struct parquet_column pc[MAX_COLS + 2];
	struct parquet_kv kv[] = {
		{ "ksight.table", e->o->table },
		{ "ksight.host", e->host },
	};
	struct parquet_opts popts = { .created_by = "ksight version " KSIGHT_VERSION, .metadata = kv,
				      .nmetadata = sizeof(kv) / sizeof(kv[0]) };
	int rc;

	snprintf(dir, sizeof(dir), "%s/table=%s/host=%s/date=%s", e->o->out_dir, e->o->table, e->host, day);
	if ((rc = mkdir_p(dir))) {
		snprintf(e->err, sizeof(e->err), "cannot create %s: %s", dir, strerror(-rc));
		return rc;
	}
	if ((size_t)snprintf(e->path, sizeof(e->path), "%s/part-%lld.parquet", dir, (long long)first_ts) >=
	    sizeof(e->path)) {
		snprintf(e->err, sizeof(e->err), "path too long under %s", dir);
		return -ENAMETOOLONG;
	}
	for (int i = 0; i < e->ncols; i++)
		pc[i] = (struct parquet_column){ e->cols[i].name, e->cols[i].type, e->cols[i].logical, true };
	if ((rc = parquet_writer__open(e->path, pc, (size_t)e->ncols, &popts, &e->pq))) {
		snprintf(e->err, sizeof(e->err), "cannot write %s: %s", e->path, strerror(-rc));
		return rc;
	}
	snprintf(e->day, sizeof(e->day), "%s", day);
	e->file_rows = 0;
	return 0;
}

static int add_value(struct exporter *e, int c, const struct batch_value *v)
{
	switch (v->tag) {
	case V_NULL:
		return parquet_writer__add_null(e->pq, (size_t)c);
	case V_INT:
		if (e->cols[c].type == PARQUET_INT64)
			return parquet_writer__add_int64(e->pq, (size_t)c, v->i);
		if (e->cols[c].type == PARQUET_DOUBLE)
			return parquet_writer__add_double(e->pq, (size_t)c, (double)v->i);
		{
			char s[32];
			int n = snprintf(s, sizeof(s), "%lld", (long long)v->i);

			return parquet_writer__add_string(e->pq, (size_t)c, s, (size_t)n);
		}
	case V_REAL:
		if (e->cols[c].type == PARQUET_DOUBLE)
			return parquet_writer__add_double(e->pq, (size_t)c, v->r);
		if (e->cols[c].type == PARQUET_INT64)
			return parquet_writer__add_int64(e->pq, (size_t)c, (int64_t)v->r);
		{
			char s[40];
			int n = snprintf(s, sizeof(s), "%.17g", v->r);

			return parquet_writer__add_string(e->pq, (size_t)c, s, (size_t)n);
		}
	default:
		if (e->cols[c].type == PARQUET_BYTE_ARRAY)
			return parquet_writer__add_string(e->pq, (size_t)c, v->s, v->len);
		/* Text in a numeric column (SQLite's typing allows it): NULL. */
		return parquet_writer__add_null(e->pq, (size_t)c);
	}
}

static int export_row(void *ctx, int ncols, const struct batch_value *v)
{
	struct exporter *e = ctx;
	int64_t ts;
	time_t secs;
	struct tm tm;
	char day[16];
	int rc = 0;

	if (ncols != e->ntable_cols || v[e->ts_col].tag != V_INT) {
		e->skipped++;
		return 0;
	}
	ts = v[e->ts_col].i;
	secs = (time_t)(ts / NSEC_PER_SEC - (ts % NSEC_PER_SEC < 0));
	if (!gmtime_r(&secs, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
		e->skipped++;
		return 0;
	}
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	if (!e->pq || strcmp(day, e->day)) {
		if ((rc = file_close(e)) || (rc = file_open(e, day, ts)))
			return rc;
	}
	for (int c = 0; c < ncols && !rc; c++)
		rc = add_value(e, c, &v[c]);
	if (!rc && e->host_col >= e->ntable_cols)
		rc = parquet_writer__add_string(e->pq, (size_t)e->host_col, e->host, strlen(e->host));
	if (!rc && e->boot_col >= e->ntable_cols) {
		while (e->boot_i + 1 < e->nboots && e->boots[e->boot_i + 1].ts <= ts)
			e->boot_i++;
		if (e->nboots && e->boots[e->boot_i].ts <= ts && e->boots[e->boot_i].id)
			rc = parquet_writer__add_string(e->pq, (size_t)e->boot_col, e->boots[e->boot_i].id,
							strlen(e->boots[e->boot_i].id));
		else
			rc = parquet_writer__add_null(e->pq, (size_t)e->boot_col);
	}
	if (!rc)
		rc = parquet_writer__end_row(e->pq);
	if (rc) {
		snprintf(e->err, sizeof(e->err), "cannot write %s: %s", e->path, strerror(-rc));
		return rc;
	}
	e->file_rows++;
	e->rows++;
	if (ts > e->last_ts)
		e->last_ts = ts;
	return 0;
}

static int find_col(const struct exporter *e, const char *name)
{
	for (int i = 0; i < e->ntable_cols; i++)
		if (!strcmp(e->cols[i].name, name))
			return i;
	return -1;
}

/* The columns of the table, then host and boot_id unless it has them. */
static int read_columns(struct exporter *e, struct store *s)
{
	char sql[256], err[STORE_ERR_MAX];
	struct store_query_cb cb = { NULL, column_row, e };
	int rc;

	snprintf(sql, sizeof(sql), "SELECT name, type FROM pragma_table_info('%s')", e->o->table);
	if ((rc = store__query(s, sql, &cb, err))) {
		if (!e->err[0])
			snprintf(e->err, sizeof(e->err), "%s", err);
		return rc;
	}
	if ((e->ts_col = find_col(e, "timestamp")) < 0 || e->cols[e->ts_col].type != PARQUET_INT64) {
		snprintf(e->err, sizeof(e->err), "table '%s' has no integer timestamp column to partition by date",
			 e->o->table);
		return -EINVAL;
	}
	e->ncols = e->ntable_cols;
	if ((e->host_col = find_col(e, "host")) < 0) {
		e->host_col = e->ncols;
		e->cols[e->ncols++] = (struct col){ "host", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING };
	}
	if ((e->boot_col = find_col(e, "boot_id")) < 0) {
		e->boot_col = e->ncols;
		e->cols[e->ncols++] = (struct col){ "boot_id", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING };
	}
	return 0;
}

static void free_boots(struct exporter *e)
{
	for (size_t i = 0; i < e->nboots; i++)
		free(e->boots[i].id);
	free(e->boots);
}

int export_table__run(struct session *ses, const struct export_table_opts *o)
{
	struct exporter e = { .o = o, .last_ts = INT64_MIN };
	char sql[512], err[STORE_ERR_MAX], kind[16] = "", newest_host[256] = "";
	int64_t from = INT64_MIN, to = INT64_MAX, last = 0;
	struct store *s;
	int rc;

	if (!plain_name(o->table))
		return cli_usage_error("export", "--table: '%s' is not a table name", o->table);
	if ((rc = session__open_store(ses, STORE_READ_ONLY)))
		return rc;
	s = ses->store;
	{
		struct text_ctx t = { kind, sizeof(kind), false };
		struct store_query_cb cb = { NULL, first_text, &t };

		snprintf(sql, sizeof(sql),
			 "SELECT type FROM sqlite_master WHERE name = '%s' AND type IN ('table', 'view')", o->table);
		if ((rc = store__query(s, sql, &cb, err)) < 0)
			return cli_fail("export", "cannot read %s: %s", ses->cfg.db_path, err);
		if (!t.found)
			return cli_usage_error("export", "--table: %s has no table or view '%s' (ksight schema lists them)",
					       ses->cfg.db_path, o->table);
	}
	{
		struct text_ctx t = { newest_host, sizeof(newest_host), false };
		struct store_query_cb cb = { NULL, first_text, &t };
		struct store_query_cb bcb = { NULL, boot_row, &e };

		/* Databases from before the boots table have neither. */
		if (store__query(s, "SELECT host FROM boots WHERE host IS NOT NULL ORDER BY timestamp DESC LIMIT 1", &cb,
				 err) < 0)
			newest_host[0] = 0;
		if (store__query(s, "SELECT timestamp, boot_id FROM boots ORDER BY timestamp", &bcb, err) < 0)
			e.nboots = 0;
	}
	if (o->host)
		host_component(o->host, e.host, sizeof(e.host));
	else if (newest_host[0])
		host_component(newest_host, e.host, sizeof(e.host));
	else {
		struct utsname u;

		host_component(uname(&u) == 0 ? u.nodename : "unknown", e.host, sizeof(e.host));
	}
	if (!e.host[0]) {
		rc = cli_usage_error("export", "--host: '%s' leaves no usable name", o->host ? o->host : "");
		goto out;
	}
	if (read_columns(&e, s)) {
		rc = cli_fail("export", "cannot export %s: %s", o->table, e.err);
		goto out;
	}
	if (o->range->from || o->range->to || o->range->last) {
		if ((rc = cli_time_range("export", s, o->range, &from, &to)))
			goto out;
	}
	if (o->since_last) {
		int64_t settle_to = clock_real_ns() - EXPORT_SETTLE_NS;

		if ((rc = state_read(&e, &last)) == 0) {
			if (last >= from)
				from = last + 1;
		} else if (rc != -ENOENT) {
			char path[PATH_MAX];

			state_path(&e, path, sizeof(path));
			rc = cli_fail("export", "cannot read %s: %s (remove it to export everything again)", path,
				      strerror(-rc));
			goto out;
		}
		if (to > settle_to)
			to = settle_to;
	}
	if ((rc = mkdir_p(o->out_dir))) {
		rc = cli_fail("export", "cannot create %s: %s", o->out_dir, strerror(-rc));
		goto out;
	}
	{
		struct store_query_cb cb = { NULL, export_row, &e };
		char *cols = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&cols, &len);

		for (int i = 0; m && i < e.ntable_cols; i++)
			fprintf(m, "%s\"%s\"", i ? ", " : "", e.cols[i].name);
		if (!m || fclose(m)) {
			rc = cli_fail("export", "out of memory");
			goto out;
		}
		{
			size_t qn = len + 256 + strlen(o->table);
			char *q = malloc(qn);

			if (!q) {
				free(cols);
				rc = cli_fail("export", "out of memory");
				goto out;
			}
			snprintf(q, qn, "SELECT %s FROM \"%s\" WHERE timestamp BETWEEN %lld AND %lld ORDER BY timestamp", cols,
				 o->table, (long long)from, (long long)to);
			rc = store__query(s, q, &cb, err);
			free(q);
			free(cols);
		}
		if (rc) {
			parquet_writer__abort(e.pq);
			e.pq = NULL;
			rc = cli_fail("export", "%s", e.err[0] ? e.err : err);
			goto out;
		}
	}
	if (file_close(&e)) {
		rc = cli_fail("export", "%s", e.err);
		goto out;
	}
	if (o->since_last && e.rows && (rc = state_write(&e, e.last_ts))) {
		rc = cli_fail("export", "the files are written, but not where this export ended (%s): the next "
			      "--since-last export repeats these rows into the same part files", strerror(-rc));
		goto out;
	}
	fprintf(stderr, "ksight export: %lld rows of %s from host %s in %lld files -> %s/table=%s/host=%s%s\n",
		(long long)e.rows, o->table, e.host, (long long)e.files, o->out_dir, o->table, e.host,
		e.rows ? "" : " (nothing new)");
	if (e.skipped)
		fprintf(stderr, "ksight export: %lld rows left out: their timestamp is not an integer date\n",
			(long long)e.skipped);
	rc = EXIT_OK;
out:
	free_boots(&e);
	return rc;
}
