/* Batch lifecycle (see batch.h). */
#include "batch.h"

#include "histblob.h"

void batch__init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
}

/* A table's buffer above this, four times what it held, grew for a burst
 * that is over: it is freed rather than kept for the agent's life (a build
 * left the agent's RSS megabytes higher otherwise). */
#define KEEP_BYTES (64 << 10)

void batch__clear(struct batch *b)
{
	for (int t = 0; t < T_COUNT; t++) {
		struct buf *d = &b->tables[t].data;

		if (d->cap > KEEP_BYTES && d->len < d->cap / 4)
			buf_free(d);
		d->len = 0;
		b->tables[t].rows = 0;
	}
	b->rows = 0;
}

void batch__shrink(struct batch *b, size_t keep)
{
	for (int t = 0; t < T_COUNT; t++)
		if (b->tables[t].data.cap > keep && !b->tables[t].rows)
			buf_free(&b->tables[t].data);
}

void batch__free(struct batch *b)
{
	for (int t = 0; t < T_COUNT; t++)
		buf_free(&b->tables[t].data);
	b->rows = 0;
}

size_t batch__bytes(const struct batch *b)
{
	size_t n = 0;

	for (int t = 0; t < T_COUNT; t++)
		n += b->tables[t].data.len;
	return n;
}

bool batch__value(const struct batch *b, enum table_id t, uint32_t row, const char *column,
		  struct batch_value *ret)
{
	const struct table *tab = &schema_tables[t];
	size_t pos = 0;
	unsigned col;

	for (col = 0; col < tab->ncolumns; col++)
		if (!strcmp(tab->columns[col].name, column))
			break;
	if (col == tab->ncolumns || row >= b->tables[t].rows)
		return false;
	for (uint32_t r = 0; r <= row; r++)
		for (unsigned c = 0; c < tab->ncolumns; c++) {
			batch__read(b, t, &pos, ret);
			if (r == row && c == col)
				return true;
		}
	return false;
}

void batch_cols__init(struct batch_cols *c, enum table_id t, const char *const *names)
{
	const struct table *tab = &schema_tables[t];

	assert(tab->ncolumns <= BATCH_COLUMNS_MAX);
	c->table = t;
	for (c->n = 0; names[c->n]; c->n++) {
		int at = schema_column(tab, names[c->n]);

		assert(c->n < BATCH_COLS_MAX);
		assert(at >= 0 && "no such column in this table");
		c->at[c->n] = (uint8_t)at;
	}
}

void batch_cursor__init(struct batch_cursor *c, const struct batch *b, enum table_id t, const char *const *names)
{
	c->b = b;
	batch_cols__init(&c->cols, t, names);
	c->row = (struct batch_row){ &c->cols, c->values };
	c->next = 0;
	c->pos = 0;
}

bool batch_cursor__next(struct batch_cursor *c)
{
	if (c->next >= batch_cursor__rows(c))
		return false;
	batch__read_row(c->b, c->cols.table, &c->pos, c->values);
	c->next++;
	return true;
}

void batch__collector_stats(struct batch *b, const struct collector_stats_row *r)
{
	batch__row(b, T_COLLECTOR_STATS);
	batch__int(b, r->timestamp);
	batch__text(b, r->collector);
	batch__text(b, r->kind);
	batch__int(b, r->enabled);
	batch__text(b, r->reason && r->reason[0] ? r->reason : NULL);
	batch__int(b, (int64_t)r->events);
	batch__int(b, (int64_t)r->drops);
	batch__int(b, (int64_t)r->rate_limited);
	batch__int(b, (int64_t)r->events_total);
	batch__int(b, (int64_t)r->drops_total);
	batch__real(b, r->cost_ms);
	if (r->map_bytes)
		batch__int(b, (int64_t)r->map_bytes);
	else
		batch__null(b);
	if (r->bytes_freed)
		batch__int(b, (int64_t)r->bytes_freed);
	else
		batch__null(b);
	batch__text(b, r->state && r->state[0] ? r->state : NULL);
	if (r->sample_factor)
		batch__int(b, r->sample_factor);
	else
		batch__null(b);
	if (r->has_overhead_pct)
		batch__real(b, r->overhead_pct);
	else
		batch__null(b);
	batch__end(b);
}

void batch__hist(struct batch *b, const uint64_t *counts)
{
	uint8_t blob[HISTBLOB_MAX];
	size_t len = histblob_encode(counts, blob);

	if (len)
		batch__blob(b, blob, len);
	else
		batch__null(b);
}
