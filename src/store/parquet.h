/* A streaming Parquet writer, written from the Apache Parquet format
 * specification (parquet-format: parquet.thrift, Encodings.md,
 * Compression.md).  No C Parquet library is packaged for Debian, and
 * KernelSight only needs flat tables of a few primitive types.
 *
 * What it writes: a flat schema of INT32, INT64, DOUBLE and BYTE_ARRAY
 * columns, each required or optional (definition levels, RLE/bit-packed
 * hybrid); string columns may carry the STRING logical type and int64 columns
 * TIMESTAMP(NANOS).  Rows are buffered into row groups; each column
 * chunk is one or more version-1 data pages, PLAIN encoded, except strings,
 * which are dictionary encoded (RLE_DICTIONARY) until the dictionary grows
 * past opts.dictionary_bytes and PLAIN after that.  Pages are compressed with
 * zstd.  Every column chunk has statistics (min_value, max_value, null_count,
 * and nan_count for doubles) in the order the spec's TYPE_ORDER defines:
 * signed for the integer types and timestamps, numeric for doubles (NaN left
 * out, zero written as -0.0 in min and +0.0 in max), unsigned byte-wise for
 * strings.  The footer carries the schema, key/value metadata and created_by.
 *
 * Crash safety: the file is written under a temporary name in the target's
 * directory (".<name>.XXXXXX.tmp") and renamed to its real name only by a
 * successful parquet_writer__close(), after fsync.  Any error removes the
 * temporary file, so a reader never finds a partial file at path.
 *
 * Memory: one row group of encoded, compressed pages plus one uncompressed
 * page and dictionary per column.  A row group is flushed when it reaches
 * opts.row_group_rows rows or about opts.row_group_bytes buffered bytes.
 *
 * Errors are negative errno values and are sticky: after a failed write every
 * call returns the same error and parquet_writer__close() removes the
 * temporary file.  Allocation failure aborts, as struct buf does.  A writer is
 * used by one thread at a time.
 */
#ifndef KS_PARQUET_H
#define KS_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum parquet_type {
	PARQUET_INT32,
	PARQUET_INT64,
	PARQUET_DOUBLE,
	PARQUET_BYTE_ARRAY,
};

enum parquet_logical {
	PARQUET_LOGICAL_NONE,
	PARQUET_LOGICAL_STRING,         /* BYTE_ARRAY holding UTF-8 */
	PARQUET_LOGICAL_TIMESTAMP_NS,   /* INT64, ns since the Unix epoch, UTC (isAdjustedToUTC) */
	/* INT64 ns, isAdjustedToUTC=false ("local" semantics).  DuckDB (1.5) has
	 * no nanosecond type with a time zone, so it reads TIMESTAMP_NS columns
	 * as TIMESTAMPTZ truncated to microseconds; this one reads exactly, as
	 * TIMESTAMP_NS. */
	PARQUET_LOGICAL_TIMESTAMP_NS_LOCAL,
};

struct parquet_column {
	const char *name;
	enum parquet_type type;
	enum parquet_logical logical;
	bool optional;                  /* false: every row must have a value */
};

struct parquet_kv {
	const char *key;
	const char *value;              /* NULL: key without a value */
};

/* Zero means "the default" for every numeric field. */
struct parquet_opts {
	size_t row_group_rows;          /* default 131072 */
	size_t row_group_bytes;         /* buffered bytes that flush a group early; default 128 MiB */
	size_t page_bytes;              /* uncompressed bytes per data page; default 1 MiB */
	size_t dictionary_bytes;        /* dictionary size before falling back to PLAIN; default 1 MiB */
	size_t stats_max_bytes;         /* longer string min/max are truncated (inexact); default 256 */
	int zstd_level;                 /* default 3 */
	const char *created_by;         /* default "ksight"; the spec suggests "<app> version <x.y.z>" */
	const struct parquet_kv *metadata;  /* file key/value metadata, copied */
	size_t nmetadata;
};

struct parquet_writer;

/* Creates the temporary file next to path and prepares to write the given
 * columns (names and metadata are copied; opts may be NULL).  Returns
 * -EINVAL for a schema the writer cannot express (no columns, an empty or
 * duplicate name, a logical type that does not fit the physical type) and
 * the errno of open() otherwise (-ENOENT for a missing directory).  On
 * success *ret owns the writer; finish it with parquet_writer__close() or
 * parquet_writer__abort(). */
int parquet_writer__open(const char *path, const struct parquet_column *columns, size_t ncolumns,
			 const struct parquet_opts *opts, struct parquet_writer **ret);

/* Sets column col of the current row.  The type must be the column's
 * (asserted); each column gets at most one value per row.  add_string() with
 * s == NULL and add_null() store NULL, which only an optional column accepts
 * (-EINVAL otherwise, with the writer left usable, as for a string longer
 * than 2 GiB).  add_string() copies s.  Returns 0 or the writer's sticky
 * error. */
int parquet_writer__add_int32(struct parquet_writer *w, size_t col, int32_t v);
int parquet_writer__add_int64(struct parquet_writer *w, size_t col, int64_t v);
int parquet_writer__add_double(struct parquet_writer *w, size_t col, double v);
int parquet_writer__add_string(struct parquet_writer *w, size_t col, const char *s, size_t len);
int parquet_writer__add_null(struct parquet_writer *w, size_t col);

/* Ends the current row.  Optional columns that got no value are NULL; a
 * required column without a value is -EINVAL and fails the writer (the row
 * cannot be taken back).  May write a row group to disk, and so return
 * -ENOSPC, -EIO, -EFBIG...: that error is sticky. */
int parquet_writer__end_row(struct parquet_writer *w);

/* Adds or replaces one key/value pair of the file metadata (both copied),
 * for values only known at the end, such as an end time. */
int parquet_writer__set_metadata(struct parquet_writer *w, const char *key, const char *value);

/* Rows ended so far (written or buffered). */
int64_t parquet_writer__rows(const struct parquet_writer *w);

/* Writes the buffered rows and the footer, fsyncs, and renames the
 * temporary file to path.  A row that was started but not ended is ended
 * first, as by parquet_writer__end_row().  Returns 0, or a negative errno (the sticky error, or -ENOSPC, -EIO... from
 * the final writes) after removing the temporary file.  Frees w either way;
 * NULL is fine (returns 0). */
int parquet_writer__close(struct parquet_writer *w);

/* Removes the temporary file and frees w, leaving path untouched; NULL is
 * fine.  Returns NULL. */
struct parquet_writer *parquet_writer__abort(struct parquet_writer *w);

#endif
