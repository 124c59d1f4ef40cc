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
