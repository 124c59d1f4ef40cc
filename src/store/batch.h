/* A batch: the rows collected in one tick, for one store transaction.
 *
 * Rows are encoded per table as a compact run of tagged values in the
 * table's column order (schema.h), so collectors append without allocating
 * per row and the store binds values straight out of the buffer.
 *
 *   batch__row(b, T_LOAD_METRICS);
 *   batch__int(b, ts); batch__real(b, load1); ...;
 *   batch__end(b);                 -- asserts the column count
 *
 * A batch owns its buffers; batch__clear() keeps them for reuse (except a
 * table's buffer over 64 KiB that held under a quarter of it: a burst's,
 * given back).  A batch is
 * used by one thread at a time: the collector fills it, then hands it to the
 * writer (writer.h).
 */
#ifndef KS_BATCH_H
#define KS_BATCH_H

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../lib/buf.h"
#include "schema.h"

enum value_tag { V_NULL, V_INT, V_REAL, V_TEXT, V_BLOB };

struct batch_table {
	struct buf data;
	uint32_t rows;
};

struct batch {
	struct batch_table tables[T_COUNT];
	size_t rows;                 /* over all tables */
	enum table_id cur;           /* table of the row being built */
	unsigned cur_columns;        /* values appended to it so far */
};

void batch__init(struct batch *b);
void batch__clear(struct batch *b);   /* drops rows, keeps memory (but a burst's) */
/* Frees the buffers over keep bytes of the tables that hold no row (a
 * spare batch need not carry a burst's memory). */
void batch__shrink(struct batch *b, size_t keep);
void batch__free(struct batch *b);
size_t batch__bytes(const struct batch *b);

static inline void batch__row(struct batch *b, enum table_id t)
{
	b->cur = t;
	b->cur_columns = 0;
}

static inline void batch__tag(struct batch *b, enum value_tag tag, const void *data, size_t len)
{
	struct buf *d = &b->tables[b->cur].data;

	buf_grow(d, 1 + len);
	d->data[d->len] = (char)tag;
	if (len)             /* NULL with a NULL value: memcpy may not be given it */
		memcpy(d->data + d->len + 1, data, len);
	d->len += 1 + len;
	b->cur_columns++;
}

static inline void batch__int(struct batch *b, int64_t v) { batch__tag(b, V_INT, &v, sizeof(v)); }
static inline void batch__real(struct batch *b, double v) { batch__tag(b, V_REAL, &v, sizeof(v)); }
static inline void batch__null(struct batch *b) { batch__tag(b, V_NULL, NULL, 0); }

static inline void batch__bytes_tagged(struct batch *b, enum value_tag tag, const void *s, size_t len)
{
	struct buf *d = &b->tables[b->cur].data;
	uint32_t n = (uint32_t)len;

	buf_grow(d, 1 + sizeof(n) + len);
	d->data[d->len] = (char)tag;
	memcpy(d->data + d->len + 1, &n, sizeof(n));
	memcpy(d->data + d->len + 1 + sizeof(n), s, len);
	d->len += 1 + sizeof(n) + len;
	b->cur_columns++;
}

static inline void batch__textn(struct batch *b, const char *s, size_t len)
{
	batch__bytes_tagged(b, V_TEXT, s, len);
}

/* A BLOB value of len bytes (copied). */
static inline void batch__blob(struct batch *b, const void *data, size_t len)
{
	batch__bytes_tagged(b, V_BLOB, data, len);
}

/* A latency histogram column: counts[HIST_BUCKETS] of bpf/hist.h's
 * log-linear buckets, stored compactly (store/histblob.h) so that rows can
 * be merged again; all zero stores NULL. */
void batch__hist(struct batch *b, const uint64_t *counts);

/* NULL s stores SQL NULL. */
static inline void batch__text(struct batch *b, const char *s)
{
	if (s)
		batch__textn(b, s, strlen(s));
	else
		batch__null(b);
}

static inline void batch__end(struct batch *b)
{
	assert(b->cur_columns == schema_tables[b->cur].ncolumns);
	b->tables[b->cur].rows++;
	b->rows++;
}

/* Reading a batch back (the store and tests). */
struct batch_value {
	enum value_tag tag;
	int64_t i;
	double r;
	const char *s;      /* text or blob bytes, not NUL-terminated */
	uint32_t len;
};

/* Decodes the value at *pos of table t and advances *pos. */
static inline void batch__read(const struct batch *b, enum table_id t, size_t *pos,
			       struct batch_value *v)
{
	const char *p = b->tables[t].data.data + *pos;

	v->tag = (enum value_tag)p[0];
	switch (v->tag) {
	case V_INT: memcpy(&v->i, p + 1, 8); *pos += 9; break;
	case V_REAL: memcpy(&v->r, p + 1, 8); *pos += 9; break;
	case V_TEXT:
	case V_BLOB:
		memcpy(&v->len, p + 1, 4);
		v->s = p + 5;
		*pos += 5 + v->len;
		break;
	default: *pos += 1; break;
	}
}

/* Decodes the row at *pos of table t into values[ncolumns] and advances
 * *pos: to walk every row, start at pos 0 and call it b->tables[t].rows
 * times. */
static inline void batch__read_row(const struct batch *b, enum table_id t, size_t *pos, struct batch_value *values)
{
	for (unsigned c = 0; c < schema_tables[t].ncolumns; c++)
		batch__read(b, t, pos, &values[c]);
}

/* Finds the value of `column` in row `row` of table t (linear: for tests
 * and occasional lookups, not hot paths).  Returns false when absent. */
bool batch__value(const struct batch *b, enum table_id t, uint32_t row, const char *column,
		  struct batch_value *ret);

/* --- Reading rows by column name ---
 *
 * Readers name the columns they want once; the names are resolved to
 * schema positions when the column set is built (a name the schema lacks
 * is a programming error: asserted), and values are then read by the
 * caller's position k in that list, usually an enum next to the names:
 *
 *   enum { PID, COMM };
 *   static const char *const names[] = { [PID] = "pid", [COMM] = "comm", NULL };
 *   struct batch_cursor cur;
 *
 *   batch_cursor__init(&cur, b, T_PROCESS_EVENTS, names);
 *   while (batch_cursor__next(&cur))
 *           use(batch_row__int(&cur.row, PID, 0), ...);
 *
 * A row that comes from elsewhere (a stored query in schema order, see
 * analysis/replay.h) is read the same way through a struct batch_row
 * pointing at its values.
 */

#define BATCH_COLS_MAX 24        /* columns one reader may name */
#define BATCH_COLUMNS_MAX 48     /* columns of the widest table (asserted) */

/* Columns of one table looked up by name: at[k] is the schema position of
 * the k-th name. */
struct batch_cols {
	enum table_id table;
	unsigned n;
	uint8_t at[BATCH_COLS_MAX];
};

/* Resolves names (NULL-terminated, at most BATCH_COLS_MAX) in table t.
 * Asserts that every name is a column of t. */
void batch_cols__init(struct batch_cols *c, enum table_id t, const char *const *names);

/* One row: every value of it in schema order, read through a column set. */
struct batch_row {
	const struct batch_cols *cols;
	const struct batch_value *values;
};

static inline const struct batch_value *batch_row__value(const struct batch_row *r, unsigned k)
{
	assert(k < r->cols->n);
	return &r->values[r->cols->at[k]];
}

/* Column 0, the timestamp of every table (schema.h). */
static inline int64_t batch_row__timestamp(const struct batch_row *r)
{
	return r->values[0].i;
}

static inline bool batch_row__is_null(const struct batch_row *r, unsigned k)
{
	return batch_row__value(r, k)->tag == V_NULL;
}

/* Column k as a number (an integer converted): NAN when NULL or text. */
static inline double batch_row__real(const struct batch_row *r, unsigned k)
{
	const struct batch_value *v = batch_row__value(r, k);

	return v->tag == V_INT ? (double)v->i : v->tag == V_REAL ? v->r : NAN;
}

/* Column k as an integer (a real truncated): `missing` when NULL or text. */
static inline int64_t batch_row__int(const struct batch_row *r, unsigned k, int64_t missing)
{
	const struct batch_value *v = batch_row__value(r, k);

	return v->tag == V_INT ? v->i : v->tag == V_REAL ? (int64_t)v->r : missing;
}

/* Copies text column k into out (NUL-terminated, cut to size - 1 bytes);
 * out is "" when the value is not text.  Returns true when it is text. */
static inline bool batch_row__text(const struct batch_row *r, unsigned k, char *out, size_t size)
{
	const struct batch_value *v = batch_row__value(r, k);
	size_t len = v->tag == V_TEXT ? (v->len < size - 1 ? v->len : size - 1) : 0;

	assert(size > 0);
	if (len)
		memcpy(out, v->s, len);
	out[len] = '\0';
	return v->tag == V_TEXT;
}

/* True when column k is the text s. */
static inline bool batch_row__text_is(const struct batch_row *r, unsigned k, const char *s)
{
	const struct batch_value *v = batch_row__value(r, k);

	return v->tag == V_TEXT && v->len == strlen(s) && !memcmp(v->s, s, v->len);
}

/* Walks the rows of one table of a batch, decoding each whole.  c->row
 * points into the cursor: do not copy one. */
struct batch_cursor {
	const struct batch *b;
	struct batch_cols cols;
	struct batch_row row;        /* the current row, after batch_cursor__next() */
	uint32_t next;               /* rows read so far */
	size_t pos;
	struct batch_value values[BATCH_COLUMNS_MAX];
};

/* Sets c up to walk the rows of table t in b (NULL: none) from the first,
 * reading the columns `names` (see batch_cols__init). */
void batch_cursor__init(struct batch_cursor *c, const struct batch *b, enum table_id t, const char *const *names);

/* Decodes the next row into c->row; false when there is none left. */
bool batch_cursor__next(struct batch_cursor *c);

/* Rows of the table in all (read or not). */
static inline uint32_t batch_cursor__rows(const struct batch_cursor *c)
{
	return c->b ? c->b->tables[c->cols.table].rows : 0;
}

/* --- Typed row writers --- */

/* One collector_stats row: NULL or "" reason, 0 map_bytes and 0
 * bytes_freed, NULL state, 0 sample_factor and overhead_pct without has_overhead_pct
 * are stored as NULL. */
struct collector_stats_row {
	int64_t timestamp;
	const char *collector;       /* tracer, scraper or store name */
	const char *kind;            /* "tracer", "scraper", "store" or "detector" */
	bool enabled;
	const char *reason;
	uint64_t events, drops, rate_limited;
	uint64_t events_total, drops_total;
	double cost_ms;
	uint64_t map_bytes;
	uint64_t bytes_freed;        /* retention: bytes given back to the filesystem */
	const char *state;           /* overhead budget state (NULL: none) */
	uint32_t sample_factor;      /* 0: NULL */
	bool has_overhead_pct;       /* false: overhead_pct is NULL */
	double overhead_pct;
};

/* Appends r to b's collector_stats table. */
void batch__collector_stats(struct batch *b, const struct collector_stats_row *r);

#endif
