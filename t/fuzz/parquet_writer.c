/* Fuzz target: the Parquet writer (src/store/parquet.c) on random schemas,
 * options and column data.
 *
 * Input, read front to back (t/lib/fuzz.h's reader: zeros past the end):
 *   1 byte   columns (1-8)
 *   1 byte   per column: type (bits 0-1), logical type (bits 2-3; one that
 *            does not fit the type makes open fail with -EINVAL, as it
 *            must), optional (bit 4)
 *   5 bytes  options, small so that rows cross pages, dictionaries fill and
 *            row groups flush: rows per group, page bytes, dictionary
 *            bytes, statistics bytes, and a metadata value
 *   then rows until the input ends, each column's value led by a control
 *            byte: NULL, unset (optional: NULL; required: the row fails the
 *            writer), an interesting value (extremes, NaN, -0.0, the
 *            string before) or raw bytes.  STRING columns get ASCII.
 *
 * Checks: a required column left unset fails the writer for good (-EINVAL,
 * sticky), and nothing else does; a closed file starts and ends with
 * "PAR1" and its footer fits; a failed one leaves nothing behind.  The
 * replay (make test) also reads every file back with DuckDB
 * (t/lib/duckdb.mjs) and compares each value with what was written.
 */
#include <dirent.h>
#include <math.h>
#include <sys/wait.h>

#include "../../src/store/parquet.h"
#include "../lib/fuzz.h"

#define COLS_MAX 8
#define ROWS_MAX 3000

enum { CELL_VALUE, CELL_NULL, CELL_UNSET };

struct cell {
	int kind;
	int64_t i;                     /* INT32, INT64 */
	double d;
	char *s;                       /* BYTE_ARRAY (owned) */
	size_t len;
};

struct table {
	struct parquet_column cols[COLS_MAX];
	char names[COLS_MAX][24];
	size_t ncols;
	struct parquet_opts opts;
	char meta[16];
	struct cell *cells;            /* rows * ncols */
	size_t rows;
	bool fails;                    /* a required column is left unset */
};

static const int64_t interesting_i64[] = {
	0, 1, -1, INT64_MAX, INT64_MIN, INT32_MAX, INT32_MIN, 1700000000000000000LL, -1700000000000000000LL,
	(int64_t)1 << 53, 255, 256, -129, 1000000007, 86400000000000LL, 42,
};

static double interesting_double(uint8_t k)
{
	static const double v[] = { 0.0, 1.0, -1.0, 0.5, 1e308, -1e308, 4.9e-324, 2.2250738585072014e-308, 1e-300,
				    3.141592653589793, 1e15 + 0.3, -123456.789 };

	switch (k % 16) {
	case 12: return NAN;
	case 13: return -0.0;
	case 14: return INFINITY;
	case 15: return -INFINITY;
	default: return v[k % 12];
	}
}

static void decode(const uint8_t *data, size_t size, struct table *t)
{
	struct fuzz_reader r = { data, size };
	char *prev[COLS_MAX] = { 0 };
	size_t prev_len[COLS_MAX] = { 0 };

	memset(t, 0, sizeof(*t));
	t->ncols = 1 + fuzz_u8(&r) % COLS_MAX;
	for (size_t c = 0; c < t->ncols; c++) {
		uint8_t b = fuzz_u8(&r);

		snprintf(t->names[c], sizeof(t->names[c]), "c%zu", c);
		t->cols[c] = (struct parquet_column){ t->names[c], (enum parquet_type)(b & 3),
						      (enum parquet_logical)((b >> 2) & 3), (b >> 4) & 1 };
	}
	t->opts.row_group_rows = 1 + fuzz_u8(&r) * 4;
	t->opts.page_bytes = 16 + (size_t)fuzz_u8(&r) * 32;
	t->opts.dictionary_bytes = 1 + (size_t)fuzz_u8(&r) * 8;
	t->opts.stats_max_bytes = 1 + fuzz_u8(&r) % 64;
	t->opts.zstd_level = 1;
	snprintf(t->meta, sizeof(t->meta), "v%u", fuzz_u8(&r));
	while (r.left && t->rows < ROWS_MAX) {
		if (t->rows % 64 == 0) {
			t->cells = realloc(t->cells, (t->rows + 64) * t->ncols * sizeof(*t->cells));
			if (!t->cells)
				fuzz_die("out of memory");
			memset(t->cells + t->rows * t->ncols, 0, 64 * t->ncols * sizeof(*t->cells));
		}
		for (size_t c = 0; c < t->ncols; c++) {
			struct cell *x = &t->cells[t->rows * t->ncols + c];
			const struct parquet_column *col = &t->cols[c];
			uint8_t ctl = fuzz_u8(&r);

			if (ctl == 0xff) {
				x->kind = CELL_UNSET;
				t->fails |= !col->optional;
				continue;
			}
			if (col->optional && ctl % 8 == 0) {
				x->kind = CELL_NULL;
				continue;
			}
			x->kind = CELL_VALUE;
			switch (col->type) {
			case PARQUET_INT32:
				x->i = ctl & 8 ? (int32_t)interesting_i64[ctl >> 4] : (int32_t)fuzz_u64(&r, 4);
				break;
			case PARQUET_INT64:
				x->i = ctl & 8 ? interesting_i64[ctl >> 4] : (int64_t)fuzz_u64(&r, 8);
				break;
			case PARQUET_DOUBLE:
				if (ctl & 8) {
					x->d = interesting_double(ctl >> 4);
				} else {
					uint64_t bits = fuzz_u64(&r, 8);

					memcpy(&x->d, &bits, sizeof(x->d));
				}
				break;
			case PARQUET_BYTE_ARRAY:
				if (ctl & 8 && prev[c]) {
					x->s = fuzz_strndup(prev[c], prev_len[c]);
					x->len = prev_len[c];
				} else {
					const uint8_t *b = fuzz_bytes(&r, 255, &x->len);

					x->s = fuzz_strndup(b, x->len);
					if (col->logical == PARQUET_LOGICAL_STRING)
						for (size_t k = 0; k < x->len; k++)
							x->s[k] = (char)(' ' + (uint8_t)x->s[k] % 95);
				}
				prev[c] = x->s;
				prev_len[c] = x->len;
				break;
			}
		}
		t->rows++;
	}
}

static void table_free(struct table *t)
{
	for (size_t k = 0; k < t->rows * t->ncols; k++)
		free(t->cells[k].s);
	free(t->cells);
}

static int add(struct parquet_writer *w, const struct table *t, size_t c, const struct cell *x)
{
	if (x->kind == CELL_NULL)
		return t->cols[c].type == PARQUET_BYTE_ARRAY && c % 2 ? parquet_writer__add_string(w, c, NULL, 0)
								     : parquet_writer__add_null(w, c);
	switch (t->cols[c].type) {
	case PARQUET_INT32: return parquet_writer__add_int32(w, c, (int32_t)x->i);
	case PARQUET_INT64: return parquet_writer__add_int64(w, c, x->i);
	case PARQUET_DOUBLE: return parquet_writer__add_double(w, c, x->d);
	default: return parquet_writer__add_string(w, c, x->s, x->len);
	}
}

/* Nothing but the finished file, if any, may be left in the directory. */
static void check_no_temp(void)
{
	DIR *d = opendir(fuzz_dir());
	struct dirent *de;

	if (!d)
		fuzz_die("opendir: %s", strerror(errno));
	while ((de = readdir(d)))
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			fuzz_die("a temporary file was left behind: %s", de->d_name);
	closedir(d);
}

static void check_file(const char *path)
{
	unsigned char head[4], tail[8];
	uint32_t footer;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		fuzz_die("the closed file is not there: %s", strerror(errno));
	if (st.st_size < 12 || pread(fd, head, 4, 0) != 4 || pread(fd, tail, 8, st.st_size - 8) != 8 ||
	    memcmp(head, "PAR1", 4) || memcmp(tail + 4, "PAR1", 4))
		fuzz_die("the file does not start and end with PAR1");
	memcpy(&footer, tail, 4);
	if (footer == 0 || (off_t)footer > st.st_size - 12)
		fuzz_die("footer length %u does not fit in %lld bytes", footer, (long long)st.st_size);
	close(fd);
}

#ifdef FUZZ_REPLAY
#include <jansson.h>

#include "../../src/lib/buf.h"
#include "../lib/tap.h"

/* The value as the DuckDB query below prints it. */
static void expected(const struct table *t, size_t c, const struct cell *x, char *out, size_t size)
{
	switch (t->cols[c].type) {
	case PARQUET_INT32:
	case PARQUET_INT64:
		/* DuckDB reads TIMESTAMP_NS (UTC) as TIMESTAMPTZ, in us,
		 * truncated toward zero. */
		if (t->cols[c].logical == PARQUET_LOGICAL_TIMESTAMP_NS)
			snprintf(out, size, "%lld", (long long)(x->i / 1000));
		else
			snprintf(out, size, "%lld", (long long)x->i);
		break;
	case PARQUET_DOUBLE:
		snprintf(out, size, "%a", x->d);
		break;
	default:
		out[0] = '\0';
		for (size_t k = 0; k < x->len && 2 * k + 3 < size; k++)
			snprintf(out + 2 * k, 3, "%02X", (unsigned char)x->s[k]);
	}
}

/* Reads path back with DuckDB and compares every value. */
static void check_with_duckdb(const struct table *t, const char *path)
{
	char sql[4096], chunk[65536];
	size_t len = 0;
	struct buf out = BUF_INIT;
	json_error_t jerr;
	json_t *j, *rows;
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	len = (size_t)snprintf(sql, sizeof(sql), "SELECT ");
	for (size_t c = 0; c < t->ncols; c++) {
		const char *expr = "CAST(%s AS VARCHAR)";

		if (t->cols[c].type == PARQUET_BYTE_ARRAY)
			expr = "hex(%s)";
		else if (t->cols[c].type == PARQUET_DOUBLE)
			expr = "CAST(CAST(%s AS DOUBLE) AS VARCHAR)";    /* bits compared below */
		else if (t->cols[c].logical == PARQUET_LOGICAL_TIMESTAMP_NS)
			expr = "CAST(epoch_us(%s) AS VARCHAR)";
		else if (t->cols[c].logical == PARQUET_LOGICAL_TIMESTAMP_NS_LOCAL)
			expr = "CAST(epoch_ns(%s) AS VARCHAR)";
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, c ? ", " : "");
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, expr, t->names[c]);
	}
	snprintf(sql + len, sizeof(sql) - len, " FROM read_parquet('%s')", path);

	if (pipe(fds))
		fuzz_die("pipe: %s", strerror(errno));
	if (!(pid = fork())) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execlp("node", "node", tap_src("t/lib/duckdb.mjs"), "--json", sql, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
		buf_add(&out, chunk, (size_t)n);
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fuzz_die("DuckDB cannot read the file (exit %d): %s", WEXITSTATUS(status), sql);
	if (!(j = json_loadb(out.data ? out.data : "", out.len, 0, &jerr)))
		fuzz_die("DuckDB's answer is not JSON: %s", jerr.text);
	rows = json_object_get(json_array_get(j, 0), "rows");
	if (json_array_size(rows) != t->rows)
		fuzz_die("DuckDB read %zu rows, %zu were written", json_array_size(rows), t->rows);
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			const struct cell *x = &t->cells[r * t->ncols + c];
			json_t *v = json_array_get(json_array_get(rows, r), c);
			char want[1024], got[1024];

			if (x->kind != CELL_VALUE) {
				if (!json_is_null(v))
					fuzz_die("row %zu column %zu: NULL was written, DuckDB read %s", r, c,
						 json_string_value(v));
				continue;
			}
			/* DuckDB keeps the extremes of its timestamps for
			 * +-infinity, whose epoch is NULL. */
			if (json_is_null(v) && t->cols[c].logical != PARQUET_LOGICAL_NONE &&
			    t->cols[c].type == PARQUET_INT64 && (x->i >= INT64_MAX - 1 || x->i <= -INT64_MAX))
				continue;
			if (!json_is_string(v))
				fuzz_die("row %zu column %zu: a value was written (%lld, %g), DuckDB read NULL", r, c, (long long)x->i, x->d);
			expected(t, c, x, want, sizeof(want));
			snprintf(got, sizeof(got), "%s", json_string_value(v));
			if (t->cols[c].type == PARQUET_DOUBLE) {
				double d = strtod(got, NULL);

				/* DuckDB prints NaN without its sign or payload. */
				if (isnan(d) && isnan(x->d))
					continue;
				snprintf(got, sizeof(got), "%a", d);
			}
			if (strcmp(want, got))
				fuzz_die("row %zu column %zu (%s): wrote %s, DuckDB read %s", r, c, sql, want, got);
		}
	json_decref(j);
	buf_free(&out);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[4200];
	struct parquet_writer *w = NULL;
	struct table t;
	int rc, first_err = 0;

	decode(data, size, &t);
	fuzz_path("out.parquet", path, sizeof(path));
	rc = parquet_writer__open(path, t.cols, t.ncols, &t.opts, &w);
	if (rc) {
		if (rc != -EINVAL)
			fuzz_die("open: %s", strerror(-rc));
		table_free(&t);
		return 0;
	}
	parquet_writer__set_metadata(w, "fuzz", t.meta);
	for (size_t r = 0; r < t.rows; r++) {
		for (size_t c = 0; c < t.ncols; c++) {
			const struct cell *x = &t.cells[r * t.ncols + c];

			if (x->kind != CELL_UNSET && (rc = add(w, &t, c, x)) && !first_err)
				fuzz_die("row %zu column %zu: %s before any error", r, c, strerror(-rc));
		}
		rc = parquet_writer__end_row(w);
		if (rc && rc != -EINVAL)
			fuzz_die("end_row: %s", strerror(-rc));
		if (rc && !first_err)
			first_err = rc;
		if (!rc && first_err)
			fuzz_die("the writer's error did not stick");
	}
	if (!first_err != !t.fails)
		fuzz_die("the writer %s but a required value %s missing", first_err ? "failed" : "did not fail",
			 t.fails ? "was" : "was not");
	if (!first_err && parquet_writer__rows(w) != (int64_t)t.rows)
		fuzz_die("the writer counted %lld rows, not %zu", (long long)parquet_writer__rows(w), t.rows);
	rc = parquet_writer__close(w);
	if (rc && !first_err)
		fuzz_die("close: %s", strerror(-rc));
#ifdef FUZZ_REPLAY
	printf("# %zu columns, %zu rows: %s\n", t.ncols, t.rows,
		rc ? "refused (a required value is missing)" : "written, read back by DuckDB");
#endif
	check_no_temp();
	if (!rc) {
		check_file(path);
#ifdef FUZZ_REPLAY
		check_with_duckdb(&t, path);
#endif
		unlink(path);
	} else if (!access(path, F_OK)) {
		fuzz_die("a failed file was left at its path");
	}
	table_free(&t);
	return 0;
}
