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
 * A batch owns its buffers; batch__clear() keeps them for reuse.  A batch is
 * used by one thread at a time: the collector fills it, then hands it to the
 * writer (writer.h).
 */
#ifndef KS_BATCH_H
#define KS_BATCH_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../lib/buf.h"
#include "schema.h"

enum value_tag { V_NULL, V_INT, V_REAL, V_TEXT };

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
void batch__clear(struct batch *b);   /* drops rows, keeps memory */
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

static inline void batch__textn(struct batch *b, const char *s, size_t len)
{
	struct buf *d = &b->tables[b->cur].data;
	uint32_t n = (uint32_t)len;

	buf_grow(d, 1 + sizeof(n) + len);
	d->data[d->len] = (char)V_TEXT;
	memcpy(d->data + d->len + 1, &n, sizeof(n));
	memcpy(d->data + d->len + 1 + sizeof(n), s, len);
	d->len += 1 + sizeof(n) + len;
	b->cur_columns++;
}

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
	const char *s;      /* not NUL-terminated */
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

#endif
