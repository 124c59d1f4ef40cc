/* Batch lifecycle (see batch.h). */
#include "batch.h"

void batch__init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
}

void batch__clear(struct batch *b)
{
	for (int t = 0; t < T_COUNT; t++) {
		b->tables[t].data.len = 0;
		b->tables[t].rows = 0;
	}
	b->rows = 0;
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
