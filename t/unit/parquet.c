/* The Parquet writer against a real reader.  Files with known contents are
 * read back by DuckDB (t/lib/duckdb.mjs, npm @duckdb/node-api from
 * `make deps`), which checks every value, the schema, row groups, column
 * statistics (and that DuckDB's row-group pruning on them gives the right
 * answers) and the key/value metadata.  Failed writes — a missing directory,
 * a missing required value, the file size limit hit mid-write or at close,
 * and (as root) a full tmpfs — must leave nothing at the target path and no
 * temporary file behind, and must not touch an older file at that path.
 */
#include <assert.h>
#include <dirent.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include "../../src/lib/buf.h"
#include "../../src/store/parquet.h"
#include "../lib/tap.h"

static char dir[] = "/tmp/ksight-parquet.XXXXXX";

static const char *path_in(const char *name)
{
	static char p[4][512];
	static int next;
	char *s = p[next++ % 4];

	snprintf(s, 512, "%s/%s", dir, name);
	return s;
}

/* ---- DuckDB ---------------------------------------------------------------- */

/* Runs the SQL statements in one DuckDB process and returns the parsed JSON
 * (an array of {columns, types, rows}); NULL on failure (DuckDB's message
 * went to stderr).  duckdb("SELECT 1", "SELECT 2") */
#define duckdb(...) duckdb_run((const char *[]){ __VA_ARGS__ }, \
			       sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *))

static json_t *duckdb_run(const char *const *sql, size_t n)
{
	const char *argv[24] = { "node", tap_src("t/lib/duckdb.mjs"), "--json" };
	int argc = 3, fds[2], status;
	struct buf out = BUF_INIT;
	char chunk[65536];
	json_error_t jerr;
	json_t *j = NULL;
	ssize_t len;
	pid_t pid;

	assert(n < 20);
	for (size_t i = 0; i < n; i++)
		argv[argc++] = sql[i];
	argv[argc] = NULL;
	if (pipe(fds) < 0)
		bail_out("pipe");
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvp("node", (char **)argv);
		_exit(127);
	}
	close(fds[1]);
	while ((len = read(fds[0], chunk, sizeof(chunk))) > 0)
		buf_add(&out, chunk, (size_t)len);
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		j = json_loadb(out.data ? out.data : "", out.len, 0, &jerr);
	else
		diag("duckdb failed (exit %d): %s", WEXITSTATUS(status), sql[0]);
	buf_free(&out);
	return j;
}

/* Rows of the i-th statement's result (an array of arrays), never NULL. */
static json_t *rows_of(json_t *results, size_t i)
{
	static json_t *empty;
	json_t *r = json_object_get(json_array_get(results, i), "rows");

	if (!empty)
		empty = json_array();
	return r ? r : empty;
}

/* Cell as text; NULL for SQL NULL.  Queries cast what they check to VARCHAR. */
static const char *cell(json_t *rows, size_t row, size_t col)
{
	return json_string_value(json_array_get(json_array_get(rows, row), col));
}

/* ---- the data: row r of every test file ------------------------------------ */

enum { C_ID, C_I64, C_I32, C_D, C_S, C_REQ_S, C_TS, C_TSL, C_RAW, NCOLS };

static const struct parquet_column columns[NCOLS] = {
	[C_ID] = { "id", PARQUET_INT64, PARQUET_LOGICAL_NONE, false },
	[C_I64] = { "i64", PARQUET_INT64, PARQUET_LOGICAL_NONE, true },
	[C_I32] = { "i32", PARQUET_INT32, PARQUET_LOGICAL_NONE, true },
	[C_D] = { "d", PARQUET_DOUBLE, PARQUET_LOGICAL_NONE, true },
	[C_S] = { "s", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING, true },
	[C_REQ_S] = { "req_s", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING, false },
	[C_TS] = { "ts", PARQUET_INT64, PARQUET_LOGICAL_TIMESTAMP_NS, true },
	[C_TSL] = { "tsl", PARQUET_INT64, PARQUET_LOGICAL_TIMESTAMP_NS_LOCAL, false },
	[C_RAW] = { "raw", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_NONE, true },
};

#define TS_BASE 1700000000123456789LL
#define UTF8_TEXT "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x99\x82"
#define LONG_LEN 3000

struct row {
	bool i64_null, i32_null, d_null, ts_null, raw_null;
	int64_t i64, ts, tsl;
	int32_t i32;
	double d;
	const char *s;            /* NULL: NULL */
	size_t s_len;
	char s_buf[LONG_LEN + 32];
	char req_s[64];
	uint8_t raw[4];
};

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Extremes, zeros, NaN, empty/UTF-8/long/CSV-hostile strings, isolated NULLs
 * and a run of 100 NULLs (both halves of the RLE/bit-packed hybrid). */
static void gen(int64_t r, struct row *x)
{
	uint64_t h = mix((uint64_t)r);
	bool null_run = r >= 1000 && r < 1100;

	x->i64_null = r % 7 == 3 || null_run;
	switch (r % 11) {
	case 0: x->i64 = INT64_MIN; break;
	case 1: x->i64 = INT64_MAX; break;
	case 2: x->i64 = -1; break;
	case 3: x->i64 = 0; break;
	default: x->i64 = (int64_t)h;
	}
	x->i32_null = r % 5 == 0;
	x->i32 = r % 13 == 1 ? INT32_MIN : r % 13 == 2 ? INT32_MAX : (int32_t)(h >> 16);
	x->d_null = r % 9 == 4;
	switch (r % 17) {
	case 0: x->d = -0.0; break;
	case 1: x->d = 0.0; break;
	case 2: x->d = NAN; break;
	case 3: x->d = 1e300; break;
	case 4: x->d = -1e-300; break;
	default: x->d = ((double)(h >> 11) / 9007199254740992.0 - 0.5) * 1e6;
	}
	if (r % 6 == 5 || null_run) {
		x->s = NULL;
		x->s_len = 0;
	} else if (r % 101 == 0) {
		x->s = "";
		x->s_len = 0;
	} else if (r % 103 == 0) {
		x->s = UTF8_TEXT;
		x->s_len = strlen(UTF8_TEXT);
	} else if (r % 107 == 0) {
		/* '~' first: the column maximum, longer than the stats limit */
		for (int i = 0; i < LONG_LEN; i++)
			x->s_buf[i] = (char)('~' - i % 60);
		x->s_len = LONG_LEN + (size_t)snprintf(x->s_buf + LONG_LEN, 32, "#%lld", (long long)r);
		x->s = x->s_buf;
	} else if (r % 109 == 0) {
		x->s = "comma, \"quote\"\nnew line";
		x->s_len = strlen(x->s);
	} else {
		x->s_len = (size_t)snprintf(x->s_buf, sizeof(x->s_buf), "cmd-%d", (int)(h % 50));
		x->s = x->s_buf;
	}
	snprintf(x->req_s, sizeof(x->req_s), "row-%lld-%016llx", (long long)r, (unsigned long long)h);
	x->ts_null = r % 8 == 7;
	x->ts = TS_BASE + r * 1000003;
	x->tsl = TS_BASE + r * 7;
	x->raw_null = r % 10 == 9;
	x->raw[0] = 0;
	x->raw[1] = (uint8_t)r;
	x->raw[2] = 0xff;
	x->raw[3] = (uint8_t)(r >> 8);
}

static int write_rows(struct parquet_writer *w, int64_t nrows)
{
	struct row x;
	int r = 0;

	for (int64_t i = 0; i < nrows && !r; i++) {
		gen(i, &x);
		parquet_writer__add_int64(w, C_ID, i);
		if (!x.i64_null)
			parquet_writer__add_int64(w, C_I64, x.i64);
		if (x.i32_null)
			parquet_writer__add_null(w, C_I32);
		else
			parquet_writer__add_int32(w, C_I32, x.i32);
		if (!x.d_null)
			parquet_writer__add_double(w, C_D, x.d);
		parquet_writer__add_string(w, C_S, x.s, x.s_len);   /* NULL s: NULL */
		parquet_writer__add_string(w, C_REQ_S, x.req_s, strlen(x.req_s));
		if (!x.ts_null)
			parquet_writer__add_int64(w, C_TS, x.ts);
		parquet_writer__add_int64(w, C_TSL, x.tsl);
		if (!x.raw_null)
			parquet_writer__add_string(w, C_RAW, (const char *)x.raw, sizeof(x.raw));
		r = parquet_writer__end_row(w);
	}
	return r;
}

/* ---- checks ---------------------------------------------------------------- */

static int64_t floor_us(int64_t ns) { return ns - ns % 1000; }   /* ns > 0 */

static bool same_double(double got, double want)
{
	return isnan(want) ? isnan(got) : !memcmp(&got, &want, sizeof(got));
}

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	return r ? r : (alen > blen) - (alen < blen);
}

static void check_values(const char *file, int64_t nrows)
{
	char sql[1024];
	json_t *j, *rows;
	int64_t bad[NCOLS] = { 0 };
	struct row x;

	snprintf(sql, sizeof(sql),
		 "SELECT id::VARCHAR, i64::VARCHAR, i32::VARCHAR, d::VARCHAR, s, req_s, epoch_ns(ts)::VARCHAR,"
		 " epoch_ns(tsl)::VARCHAR, hex(raw) FROM '%s'", file);
	j = duckdb(sql);
	rows = rows_of(j, 0);
	is(json_array_size(rows), nrows, "%s: DuckDB reads %lld rows", file, (long long)nrows);
	for (int64_t i = 0; i < nrows && i < (int64_t)json_array_size(rows); i++) {
		char want[64];
		const char *got;

		gen(i, &x);
#define MISMATCH(col, ...) do {                                                          \
		if (!bad[col]++)                                                         \
			diag("row %lld %s: got '%s', want " __VA_ARGS__);                \
	} while (0)
		got = cell(rows, i, C_ID);
		if (!got || strtoll(got, NULL, 10) != i)
			MISMATCH(C_ID, "%lld", (long long)i, "id", got, (long long)i);
		got = cell(rows, i, C_I64);
		snprintf(want, sizeof(want), "%lld", (long long)x.i64);
		if (x.i64_null ? got != NULL : !got || strcmp(got, want))
			MISMATCH(C_I64, "'%s'", (long long)i, "i64", got, x.i64_null ? "NULL" : want);
		got = cell(rows, i, C_I32);
		snprintf(want, sizeof(want), "%d", x.i32);
		if (x.i32_null ? got != NULL : !got || strcmp(got, want))
			MISMATCH(C_I32, "'%s'", (long long)i, "i32", got, x.i32_null ? "NULL" : want);
		got = cell(rows, i, C_D);
		if (x.d_null ? got != NULL : !got || !same_double(strtod(got, NULL), x.d))
			MISMATCH(C_D, "%g", (long long)i, "d", got, x.d);
		got = cell(rows, i, C_S);
		if (!x.s ? got != NULL : !got || strlen(got) != x.s_len || memcmp(got, x.s, x.s_len))
			MISMATCH(C_S, "'%.40s' (%zu bytes)", (long long)i, "s", got, x.s ? x.s : "NULL", x.s_len);
		got = cell(rows, i, C_REQ_S);
		if (!got || strcmp(got, x.req_s))
			MISMATCH(C_REQ_S, "'%s'", (long long)i, "req_s", got, x.req_s);
		/* DuckDB has no nanosecond TIMESTAMPTZ: it truncates to µs. */
		got = cell(rows, i, C_TS);
		snprintf(want, sizeof(want), "%lld", (long long)floor_us(x.ts));
		if (x.ts_null ? got != NULL : !got || strcmp(got, want))
			MISMATCH(C_TS, "'%s'", (long long)i, "ts", got, x.ts_null ? "NULL" : want);
		got = cell(rows, i, C_TSL);
		snprintf(want, sizeof(want), "%lld", (long long)x.tsl);
		if (!got || strcmp(got, want))
			MISMATCH(C_TSL, "'%s'", (long long)i, "tsl", got, want);
		got = cell(rows, i, C_RAW);
		snprintf(want, sizeof(want), "%02X%02X%02X%02X", x.raw[0], x.raw[1], x.raw[2], x.raw[3]);
		if (x.raw_null ? got != NULL : !got || strcmp(got, want))
			MISMATCH(C_RAW, "'%s'", (long long)i, "raw", got, x.raw_null ? "NULL" : want);
#undef MISMATCH
	}
	for (int c = 0; c < NCOLS; c++)
		is(bad[c], 0, "%s: every value of %s matches (incl. NULLs)", file, columns[c].name);
	json_decref(j);
}

static void check_schema(const char *file)
{
	static const char *const want[NCOLS] = {
		"id|INT64|REQUIRED|||BIGINT",
		"i64|INT64|OPTIONAL|||BIGINT",
		"i32|INT32|OPTIONAL|||INTEGER",
		"d|DOUBLE|OPTIONAL|||DOUBLE",
		"s|BYTE_ARRAY|OPTIONAL|UTF8|StringType()|VARCHAR",
		"req_s|BYTE_ARRAY|REQUIRED|UTF8|StringType()|VARCHAR",
		"ts|INT64|OPTIONAL||TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=<null>, "
		"NANOS=NanoSeconds()))|TIMESTAMP WITH TIME ZONE",
		"tsl|INT64|REQUIRED||TimestampType(isAdjustedToUTC=0, unit=TimeUnit(MILLIS=<null>, MICROS=<null>, "
		"NANOS=NanoSeconds()))|TIMESTAMP_NS",
		"raw|BYTE_ARRAY|OPTIONAL|||BLOB",
	};
	static const char *const want_describe[NCOLS] = {
		"BIGINT", "BIGINT", "INTEGER", "DOUBLE", "VARCHAR", "VARCHAR",
		"TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "BLOB",
	};
	char q1[512], q2[512];
	json_t *j, *rows;

	snprintf(q1, sizeof(q1),
		 "SELECT concat_ws('|', name, coalesce(type, ''), coalesce(repetition_type, ''),"
		 " coalesce(converted_type, ''), coalesce(logical_type::VARCHAR, ''), coalesce(duckdb_type, ''))"
		 " FROM parquet_schema('%s') WHERE num_children IS NULL ORDER BY column_id", file);
	snprintf(q2, sizeof(q2), "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '%s')", file);
	j = duckdb(q1, q2);
	rows = rows_of(j, 0);
	is(json_array_size(rows), NCOLS, "%s: %d leaf columns in parquet_schema()", file, NCOLS);
	for (int c = 0; c < NCOLS; c++)
		is_str(cell(rows, c, 0), want[c], "%s: schema of %s (type, repetition, logical type)", file,
		       columns[c].name);
	rows = rows_of(j, 1);
	for (int c = 0; c < NCOLS; c++) {
		char got[128], exp[128];

		snprintf(got, sizeof(got), "%s %s", cell(rows, c, 0), cell(rows, c, 1));
		snprintf(exp, sizeof(exp), "%s %s", columns[c].name, want_describe[c]);
		is_str(got, exp, "%s: DESCRIBE %s", file, columns[c].name);
	}
	json_decref(j);
}

struct expect {
	int64_t nulls;
	bool any;                 /* has a min/max */
	int64_t min_i, max_i;
	double min_d, max_d;
	const char *min_s, *max_s;
	size_t min_len, max_len;
	char min_buf[LONG_LEN + 32], max_buf[LONG_LEN + 32];
};

static void expect_string(struct expect *e, const char *s, size_t len)
{
	if (!e->any || bytes_cmp(s, len, e->min_buf, e->min_len) < 0) {
		memcpy(e->min_buf, s, len);
		e->min_len = len;
	}
	if (!e->any || bytes_cmp(s, len, e->max_buf, e->max_len) > 0) {
		memcpy(e->max_buf, s, len);
		e->max_len = len;
	}
	e->any = true;
}

static void expect_int(struct expect *e, int64_t v)
{
	if (!e->any || v < e->min_i)
		e->min_i = v;
	if (!e->any || v > e->max_i)
		e->max_i = v;
	e->any = true;
}

/* Expected statistics of rows [lo, hi) */
static void expected_stats(int64_t lo, int64_t hi, struct expect *e)
{
	struct row x;

	memset(e, 0, NCOLS * sizeof(*e));
	for (int64_t i = lo; i < hi; i++) {
		gen(i, &x);
		expect_int(&e[C_ID], i);
		if (x.i64_null)
			e[C_I64].nulls++;
		else
			expect_int(&e[C_I64], x.i64);
		if (x.i32_null)
			e[C_I32].nulls++;
		else
			expect_int(&e[C_I32], x.i32);
		if (x.d_null) {
			e[C_D].nulls++;
		} else if (!isnan(x.d)) {
			if (!e[C_D].any || x.d < e[C_D].min_d)
				e[C_D].min_d = x.d;
			if (!e[C_D].any || x.d > e[C_D].max_d)
				e[C_D].max_d = x.d;
			e[C_D].any = true;
		}
		if (!x.s)
			e[C_S].nulls++;
		else
			expect_string(&e[C_S], x.s, x.s_len);
		expect_string(&e[C_REQ_S], x.req_s, strlen(x.req_s));
		if (x.ts_null)
			e[C_TS].nulls++;
		else
			expect_int(&e[C_TS], x.ts);
		expect_int(&e[C_TSL], x.tsl);
		if (x.raw_null)
			e[C_RAW].nulls++;
	}
	/* The spec's rule for a zero bound: -0.0 as min, +0.0 as max. */
	if (e[C_D].min_d == 0)
		e[C_D].min_d = -0.0;
	if (e[C_D].max_d == 0)
		e[C_D].max_d = +0.0;
}

/* Row groups, statistics per row group and column, and encodings. */
static void check_metadata(const char *file, int64_t nrows, int64_t group_rows, bool dict_fallback)
{
	int64_t ngroups = (nrows + group_rows - 1) / group_rows;
	char q1[512], q2[1024], n[32];
	static struct expect e[NCOLS];
	int64_t bad_nulls = 0, bad_minmax = 0, bad_rows = 0;
	bool truncated_max_seen = false;
	json_t *j, *rows;

	snprintf(q1, sizeof(q1),
		 "SELECT num_rows::VARCHAR, num_row_groups::VARCHAR, created_by FROM parquet_file_metadata('%s')", file);
	snprintf(q2, sizeof(q2),
		 "SELECT row_group_id::VARCHAR, row_group_num_rows::VARCHAR, path_in_schema, stats_null_count::VARCHAR,"
		 " CASE path_in_schema WHEN 'ts' THEN epoch_ns(stats_min_value::TIMESTAMPTZ)::VARCHAR"
		 "  WHEN 'tsl' THEN epoch_ns(stats_min_value::TIMESTAMP_NS)::VARCHAR ELSE stats_min_value END,"
		 " CASE path_in_schema WHEN 'ts' THEN epoch_ns(stats_max_value::TIMESTAMPTZ)::VARCHAR"
		 "  WHEN 'tsl' THEN epoch_ns(stats_max_value::TIMESTAMP_NS)::VARCHAR ELSE stats_max_value END,"
		 " min_is_exact::VARCHAR, max_is_exact::VARCHAR, encodings, compression"
		 " FROM parquet_metadata('%s') ORDER BY row_group_id, column_id", file);
	j = duckdb(q1, q2);
	rows = rows_of(j, 0);
	snprintf(n, sizeof(n), "%lld", (long long)nrows);
	is_str(cell(rows, 0, 0), n, "%s: num_rows", file);
	is(strtoll(cell(rows, 0, 1) ? cell(rows, 0, 1) : "-1", NULL, 10), ngroups, "%s: %lld row groups", file,
	   (long long)ngroups);
	is_str(cell(rows, 0, 2), "ksight test", "%s: created_by", file);

	rows = rows_of(j, 1);
	is(json_array_size(rows), ngroups * NCOLS, "%s: a column chunk per column per row group", file);
	for (int64_t g = 0; g < ngroups; g++) {
		int64_t lo = g * group_rows, hi = lo + group_rows < nrows ? lo + group_rows : nrows;

		expected_stats(lo, hi, e);
		for (int c = 0; c < NCOLS; c++) {
			size_t r = (size_t)(g * NCOLS + c);
			const char *nulls = cell(rows, r, 3), *min = cell(rows, r, 4), *max = cell(rows, r, 5);
			bool ok_minmax = true;

			if (strtoll(cell(rows, r, 1) ? cell(rows, r, 1) : "-1", NULL, 10) != hi - lo)
				bad_rows++;
			if (!nulls || strtoll(nulls, NULL, 10) != e[c].nulls) {
				if (!bad_nulls++)
					diag("group %lld %s: null_count %s, want %lld", (long long)g, columns[c].name,
					     nulls, (long long)e[c].nulls);
			}
			switch (c) {
			case C_ID: case C_I64: case C_I32: case C_TSL:
				ok_minmax = min && max && strtoll(min, NULL, 10) == e[c].min_i &&
					    strtoll(max, NULL, 10) == e[c].max_i;
				break;
			case C_TS:
				ok_minmax = min && max && strtoll(min, NULL, 10) == floor_us(e[c].min_i) &&
					    strtoll(max, NULL, 10) == floor_us(e[c].max_i);
				break;
			case C_D:
				ok_minmax = min && max && same_double(strtod(min, NULL), e[c].min_d) &&
					    same_double(strtod(max, NULL), e[c].max_d);
				break;
			case C_S: case C_REQ_S:
				ok_minmax = min && max && strlen(min) == e[c].min_len &&
					    !memcmp(min, e[c].min_buf, e[c].min_len) &&
					    !strcmp(cell(rows, r, 6), "true");
				if (e[c].max_len <= 256) {
					ok_minmax = ok_minmax && strlen(max) == e[c].max_len &&
						    !memcmp(max, e[c].max_buf, e[c].max_len) &&
						    !strcmp(cell(rows, r, 7), "true");
				} else {
					/* truncated: still an upper bound, marked inexact */
					truncated_max_seen = true;
					ok_minmax = ok_minmax && strlen(max) <= 256 &&
						    bytes_cmp(max, strlen(max), e[c].max_buf, e[c].max_len) > 0 &&
						    !strcmp(cell(rows, r, 7), "false");
				}
				break;
			case C_RAW:
				break;
			}
			if (!ok_minmax && !bad_minmax++)
				diag("group %lld %s: min '%.60s' max '%.60s'", (long long)g, columns[c].name, min, max);
		}
	}
	is(bad_rows, 0, "%s: row_group_num_rows of every row group", file);
	is(bad_nulls, 0, "%s: null_count of every column chunk", file);
	is(bad_minmax, 0, "%s: min/max of every column chunk (signed ints, doubles with -0/+0, bytes, UTF-8)", file);
	ok(truncated_max_seen, "%s: a string max longer than 256 bytes is truncated, inexact and still an upper bound",
	   file);

	{
		bool zstd = true, dict_s = false, plain_and_dict_req_s = false;

		for (size_t r = 0; r < json_array_size(rows); r++) {
			const char *col = cell(rows, r, 2), *enc = cell(rows, r, 8);

			zstd = zstd && cell(rows, r, 9) && !strcmp(cell(rows, r, 9), "ZSTD");
			if (!strcmp(col, "s") && strstr(enc, "RLE_DICTIONARY"))
				dict_s = true;
			if (!strcmp(col, "req_s") && strstr(enc, "RLE_DICTIONARY") && strstr(enc, "PLAIN"))
				plain_and_dict_req_s = true;
		}
		ok(zstd, "%s: every chunk is zstd-compressed", file);
		ok(dict_s, "%s: a low-cardinality string column is dictionary encoded", file);
		if (dict_fallback)
			ok(plain_and_dict_req_s, "%s: a full dictionary falls back to PLAIN within the chunk", file);
	}
	json_decref(j);
}

/* DuckDB skips row groups whose statistics exclude a predicate, so wrong
 * min/max give wrong counts here. */
static void check_pruning(const char *file, int64_t nrows)
{
	static const char *const where[] = {
		"i64 = 9223372036854775807", "i64 = -9223372036854775808", "i64 < -4611686018427387904",
		"i32 = -2147483648", "d > 1e299", "d = 0", "s = 'cmd-7'", "s = ''", "s >= '~'",
		"tsl BETWEEN '2023-11-14 22:13:20.123460'::TIMESTAMP_NS AND '2023-11-14 22:13:20.123470'::TIMESTAMP_NS",
		"id >= 4000 AND id < 4003",
	};
	enum { N = sizeof(where) / sizeof(where[0]) };
	char q[N][512];
	int64_t want[N] = { 0 };
	struct row x;
	json_t *j;

	for (int k = 0; k < N; k++)
		snprintf(q[k], sizeof(q[k]), "SELECT count(*)::VARCHAR FROM '%s' WHERE %s", file, where[k]);
	for (int64_t i = 0; i < nrows; i++) {
		gen(i, &x);
		want[0] += !x.i64_null && x.i64 == INT64_MAX;
		want[1] += !x.i64_null && x.i64 == INT64_MIN;
		want[2] += !x.i64_null && x.i64 < INT64_MIN / 2;
		want[3] += !x.i32_null && x.i32 == INT32_MIN;
		want[4] += !x.d_null && (x.d > 1e299 || isnan(x.d));   /* DuckDB: NaN above all */
		want[5] += !x.d_null && x.d == 0;
		want[6] += x.s && !strcmp(x.s, "cmd-7");
		want[7] += x.s && x.s_len == 0;
		want[8] += x.s && bytes_cmp(x.s, x.s_len, "~", 1) >= 0;
		want[9] += x.tsl >= TS_BASE - 123456789 + 123460000 && x.tsl <= TS_BASE - 123456789 + 123470000;
		want[10] += i >= 4000 && i < 4003;
	}
	j = duckdb(q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9], q[10]);
	for (int k = 0; k < N; k++) {
		const char *got = cell(rows_of(j, k), 0, 0);

		is(got ? strtoll(got, NULL, 10) : -1, want[k], "%s: count where %s", file, where[k]);
	}
	json_decref(j);
}

/* Double statistics at the edges: a zero min is written -0.0 and a zero max
 * +0.0 (the spec's TYPE_ORDER rule), NaN never becomes a bound, and a
 * chunk of only NaN and NULL has no min/max. */
static void check_double_edges(void)
{
	static const struct parquet_column dcol[] = { { "d", PARQUET_DOUBLE, PARQUET_LOGICAL_NONE, true } };
	static const double v[] = { 0.0, 1.5, 2.5, -1.5, -0.0, -3, NAN, NAN, 0, NAN, 5, NAN };
	struct parquet_opts opts = { .row_group_rows = 3 };
	const char *file = path_in("edges.parquet");
	struct parquet_writer *w;
	char q[256];
	json_t *j, *rows;

	parquet_writer__open(file, dcol, 1, &opts, &w);
	for (int i = 0; i < 12; i++) {
		if (i == 8)
			parquet_writer__add_null(w, 0);
		else
			parquet_writer__add_double(w, 0, v[i]);
		parquet_writer__end_row(w);
	}
	is(parquet_writer__close(w), 0, "edges.parquet: written");
	snprintf(q, sizeof(q),
		 "SELECT coalesce(stats_min_value, '-') || ' ' || coalesce(stats_max_value, '-') || ' ' || stats_null_count"
		 " FROM parquet_metadata('%s') ORDER BY row_group_id", file);
	j = duckdb(q);
	rows = rows_of(j, 0);
	is_str(cell(rows, 0, 0), "-0.0 2.5 0", "doubles: a zero min is -0.0");
	is_str(cell(rows, 1, 0), "-3.0 0.0 0", "doubles: a zero max is +0.0");
	is_str(cell(rows, 2, 0), "- - 1", "doubles: only NaN and NULL: no min/max");
	is_str(cell(rows, 3, 0), "5.0 5.0 0", "doubles: NaN is not a bound");
	json_decref(j);
	unlink(file);
}

/* ---- failures ---------------------------------------------------------------- */

static int count_entries(const char *d)
{
	DIR *dp = opendir(d);
	struct dirent *e;
	int n = 0;

	if (!dp)
		return -1;
	while ((e = readdir(dp)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(dp);
	return n;
}

static const struct parquet_column two_ints[] = {
	{ "id", PARQUET_INT64, PARQUET_LOGICAL_NONE, false },
	{ "v", PARQUET_INT64, PARQUET_LOGICAL_NONE, false },
};

/* In a child (limits and mounts stay there): writes up to nrows rows of
 * incompressible int64s into <d>/out.parquet; reports the first end_row
 * error, the row it happened at, close()'s result, what is left in d, and
 * whether the filesystem got its space back. */
struct failure {
	int end_row_err, close_err, leftover;
	long long at_row;
	int space_back;
};

static void failing_write(const char *d, int64_t nrows, struct failure *f)
{
	struct parquet_opts opts = { .row_group_rows = 1000 };
	struct parquet_writer *w;
	char path[512];
	int64_t i;

	snprintf(path, sizeof(path), "%s/out.parquet", d);
	memset(f, 0, sizeof(*f));
	f->at_row = -1;
	if (parquet_writer__open(path, two_ints, 2, &opts, &w)) {
		f->close_err = 1;
		return;
	}
	for (i = 0; i < nrows; i++) {
		parquet_writer__add_int64(w, 0, i);
		parquet_writer__add_int64(w, 1, (int64_t)mix((uint64_t)i));
		f->end_row_err = parquet_writer__end_row(w);
		if (f->end_row_err) {
			f->at_row = i;
			break;
		}
	}
	f->close_err = parquet_writer__close(w);
	f->leftover = count_entries(d);
}

static pid_t run_child(int fds[2])
{
	pid_t pid;

	fflush(stdout);
	if (pipe(fds) < 0)
		bail_out("pipe");
	pid = fork();
	if (pid == 0)
		close(fds[0]);
	else
		close(fds[1]);
	return pid;
}

static int child_result(pid_t pid, int fd, struct failure *f)
{
	int status;
	ssize_t n = read(fd, f, sizeof(*f));

	close(fd);
	waitpid(pid, &status, 0);
	return n == (ssize_t)sizeof(*f) && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void check_size_limit(void)
{
	struct failure f;
	int fds[2];
	pid_t pid;
	char d1[512], d2[512];

	snprintf(d1, sizeof(d1), "%s/fsize-mid", dir);
	snprintf(d2, sizeof(d2), "%s/fsize-close", dir);
	mkdir(d1, 0755);
	mkdir(d2, 0755);

	/* RLIMIT_FSIZE makes write() fail with EFBIG: a full disk without root. */
	pid = run_child(fds);
	if (pid == 0) {
		struct rlimit rl = { 64 << 10, 64 << 10 };

		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		failing_write(d1, 100000, &f);
		_exit(write(fds[1], &f, sizeof(f)) == sizeof(f) ? 0 : 1);
	}
	ok(!child_result(pid, fds[0], &f), "size-limited writer ran");
	is(f.end_row_err, -EFBIG, "a write failing mid-file: end_row returns -EFBIG (at row %lld)", f.at_row);
	ok(f.at_row > 1000, "the failure came from a row-group flush after some groups were written");
	is(f.close_err, -EFBIG, "close returns the same error");
	is(f.leftover, 0, "nothing is left in the directory (no file, no temporary)");

	pid = run_child(fds);
	if (pid == 0) {
		struct rlimit rl = { 100, 100 };

		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		failing_write(d2, 50, &f);
		_exit(write(fds[1], &f, sizeof(f)) == sizeof(f) ? 0 : 1);
	}
	ok(!child_result(pid, fds[0], &f), "size-limited writer ran");
	is(f.end_row_err, 0, "50 rows stay buffered");
	is(f.close_err, -EFBIG, "a write failing in close: close returns -EFBIG");
	is(f.leftover, 0, "nothing is left in the directory");
}

/* A real full filesystem: tmpfs of 64 KiB, mounted in a private mount
 * namespace of a child so it cannot outlive the test. */
static void check_full_tmpfs(void)
{
	struct failure f;
	int fds[2];
	pid_t pid;
	char d[512];

	if (geteuid() != 0) {
		skip(5, "needs root to mount a small tmpfs");
		return;
	}
	snprintf(d, sizeof(d), "%s/full", dir);
	mkdir(d, 0755);
	pid = run_child(fds);
	if (pid == 0) {
		struct statvfs sv;

		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", d, "tmpfs", 0, "size=64k"))
			_exit(2);
		failing_write(d, 200000, &f);
		f.space_back = !statvfs(d, &sv) && sv.f_bfree == sv.f_blocks;
		_exit(write(fds[1], &f, sizeof(f)) == sizeof(f) ? 0 : 1);
	}
	if (child_result(pid, fds[0], &f)) {
		skip(5, "cannot mount a tmpfs here");
		return;
	}
	is(f.end_row_err, -ENOSPC, "full tmpfs: end_row returns -ENOSPC (at row %lld)", f.at_row);
	ok(f.at_row > 0, "rows were accepted before the disk filled");
	is(f.close_err, -ENOSPC, "close returns -ENOSPC");
	is(f.leftover, 0, "nothing is left on the full filesystem");
	ok(f.space_back, "the temporary file's space is given back");
}

static void check_failures(void)
{
	struct parquet_writer *w = NULL;
	struct parquet_column bad[2];
	struct stat before, after;
	const char *keep = path_in("keep.parquet");
	char sub[512];
	int r;

	r = parquet_writer__open("/nonexistent-ksight-dir/x.parquet", two_ints, 2, NULL, &w);
	is(r, -ENOENT, "a path in a directory that does not exist: -ENOENT");
	ok(access("/nonexistent-ksight-dir/x.parquet", F_OK) < 0, "and no file");

	is(parquet_writer__open(path_in("x.parquet"), two_ints, 0, NULL, &w), -EINVAL, "no columns: -EINVAL");
	bad[0] = two_ints[0];
	bad[1] = two_ints[0];
	is(parquet_writer__open(path_in("x.parquet"), bad, 2, NULL, &w), -EINVAL, "duplicate column name: -EINVAL");
	bad[1] = (struct parquet_column){ "t", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_TIMESTAMP_NS, false };
	is(parquet_writer__open(path_in("x.parquet"), bad, 2, NULL, &w), -EINVAL,
	   "TIMESTAMP on a BYTE_ARRAY column: -EINVAL");
	bad[1] = (struct parquet_column){ "t", PARQUET_INT64, PARQUET_LOGICAL_STRING, false };
	is(parquet_writer__open(path_in("x.parquet"), bad, 2, NULL, &w), -EINVAL, "STRING on an INT64 column: -EINVAL");
	ok(access(path_in("x.parquet"), F_OK) < 0, "refused schemas create nothing");

	/* An older complete file at the path survives failed writes. */
	r = parquet_writer__open(keep, two_ints, 2, NULL, &w);
	parquet_writer__add_int64(w, 0, 1);
	parquet_writer__add_int64(w, 1, 1);
	parquet_writer__end_row(w);
	ok(access(keep, F_OK) < 0, "while a writer is open, nothing is at its path");
	snprintf(sub, sizeof(sub), "%s", dir);
	is(count_entries(sub), 1, "only its temporary file is in the directory");
	is(parquet_writer__close(w), 0, "close succeeds");
	stat(keep, &before);

	parquet_writer__open(keep, two_ints, 2, NULL, &w);
	parquet_writer__add_int64(w, 0, 2);
	parquet_writer__add_int64(w, 1, 2);
	parquet_writer__end_row(w);
	parquet_writer__abort(w);
	stat(keep, &after);
	ok(before.st_ino == after.st_ino && before.st_size == after.st_size, "abort leaves the older file in place");

	parquet_writer__open(keep, two_ints, 2, NULL, &w);
	is(parquet_writer__add_null(w, 1), -EINVAL, "NULL in a required column: -EINVAL");
	is(parquet_writer__add_int64(w, 0, 3), 0, "the writer is still usable");
	is(parquet_writer__end_row(w), -EINVAL, "a row missing a required value: end_row -EINVAL");
	is(parquet_writer__add_int64(w, 0, 4), -EINVAL, "the error is sticky");
	is(parquet_writer__close(w), -EINVAL, "close returns it");
	stat(keep, &after);
	ok(before.st_ino == after.st_ino && before.st_size == after.st_size, "a failed close leaves the older file");
	is(count_entries(sub), 1, "and removes its temporary file");

	parquet_writer__open(keep, two_ints, 2, NULL, &w);
	for (int i = 0; i < 2; i++) {
		parquet_writer__add_int64(w, 0, 10 + i);
		parquet_writer__add_int64(w, 1, 20 + i);
		parquet_writer__end_row(w);
	}
	parquet_writer__add_int64(w, 0, 12);   /* started, not ended: close ends it */
	parquet_writer__add_int64(w, 1, 22);
	is(parquet_writer__close(w), 0, "a successful close replaces the older file");

	{
		char q[256];
		json_t *j;

		snprintf(q, sizeof(q), "SELECT string_agg(id || ':' || v, ' ' ORDER BY id) FROM '%s'", keep);
		j = duckdb(q);
		is_str(cell(rows_of(j, 0), 0, 0), "10:20 11:21 12:22", "the new file has the new rows, the last one ended by close");
		json_decref(j);
	}
	unlink(keep);
	check_size_limit();
	check_full_tmpfs();
}

/* ---- files ------------------------------------------------------------------- */

static void write_file(const char *file, const struct parquet_opts *opts, int64_t nrows)
{
	struct parquet_writer *w;
	int r;

	r = parquet_writer__open(file, columns, NCOLS, opts, &w);
	is(r, 0, "%s: open", file);
	if (r)
		bail_out("cannot open a parquet writer");
	is(write_rows(w, nrows), 0, "%s: %lld rows appended", file, (long long)nrows);
	is(parquet_writer__rows(w), nrows, "%s: the writer counts them", file);
	parquet_writer__set_metadata(w, "command", "replaced at the end");
	parquet_writer__set_metadata(w, "novalue", NULL);
	is(parquet_writer__close(w), 0, "%s: close", file);
}

static void check_kv(const char *file)
{
	char q[256];
	json_t *j, *rows;

	snprintf(q, sizeof(q),
		 "SELECT decode(key), decode(value) FROM parquet_kv_metadata('%s') ORDER BY 1", file);
	j = duckdb(q);
	rows = rows_of(j, 0);
	is(json_array_size(rows), 4, "%s: 4 key/value pairs", file);
	is_str(cell(rows, 0, 0), "command", "%s: key command", file);
	is_str(cell(rows, 0, 1), "replaced at the end", "%s: set_metadata replaced its value", file);
	is_str(cell(rows, 1, 1), "", "%s: an empty value", file);
	is_str(cell(rows, 2, 1), "h\xc3\xa9llo-host \xe2\x9c\x93", "%s: a UTF-8 value", file);
	is_str(cell(rows, 3, 0), "novalue", "%s: a key added at the end", file);
	is_str(cell(rows, 3, 1), "", "%s: without a value (DuckDB shows it empty)", file);
	json_decref(j);
}

int main(void)
{
	static const struct parquet_kv kv[] = {
		{ "command", "make -j2 test" },
		{ "empty", "" },
		{ "host", "h\xc3\xa9llo-host \xe2\x9c\x93" },
	};
	struct parquet_opts small = {
		.row_group_rows = 1024, .page_bytes = 2048, .dictionary_bytes = 4096,
		.created_by = "ksight test", .metadata = kv, .nmetadata = 3,
	};
	struct parquet_opts defaults = { .created_by = "ksight test", .metadata = kv, .nmetadata = 3 };
	const int64_t nrows = 5000;
	json_t *probe;

	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	probe = duckdb("SELECT 1");
	if (!probe)
		bail_out("DuckDB is not usable: run `make deps` (npm @duckdb/node-api)");
	json_decref(probe);

	/* Small row groups, pages and dictionaries: 5 row groups, many pages
	 * per chunk, dictionaries that fill up. */
	write_file(path_in("small.parquet"), &small, nrows);
	check_values(path_in("small.parquet"), nrows);
	check_schema(path_in("small.parquet"));
	check_metadata(path_in("small.parquet"), nrows, 1024, true);
	check_pruning(path_in("small.parquet"), nrows);
	check_kv(path_in("small.parquet"));

	/* Defaults: one row group, one page per column. */
	write_file(path_in("default.parquet"), &defaults, nrows);
	check_values(path_in("default.parquet"), nrows);
	check_metadata(path_in("default.parquet"), nrows, 131072, false);

	/* No rows at all is still a valid file. */
	write_file(path_in("empty.parquet"), &defaults, 0);
	{
		char q1[256], q2[256];
		json_t *j;

		snprintf(q1, sizeof(q1), "SELECT count(*)::VARCHAR FROM '%s'", path_in("empty.parquet"));
		snprintf(q2, sizeof(q2), "SELECT count(*)::VARCHAR FROM (DESCRIBE SELECT * FROM '%s')",
			 path_in("empty.parquet"));
		j = duckdb(q1, q2);
		is_str(cell(rows_of(j, 0), 0, 0), "0", "empty file: 0 rows");
		is_str(cell(rows_of(j, 1), 0, 0), "9", "empty file: 9 columns");
		json_decref(j);
	}
	unlink(path_in("small.parquet"));
	unlink(path_in("default.parquet"));
	unlink(path_in("empty.parquet"));

	check_double_edges();
	check_failures();

	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			diag("could not remove %s", dir);
	}
	return done_testing();
}
